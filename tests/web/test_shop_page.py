"""The shop at / in a real browser: browse and search in Chinese, product
pages (with their lots), a cart that survives a reload, checkout for pickup or delivery, a
double tap and a lost reply placing one order, out_of_stock on its line,
the demo payment step and my orders (the scenarios are in shop.test.mjs).
The server runs with --demo, so the demo payment step exists."""
import web_fixture as wf
from web_fixture import check, today


class ShopPage(wf.BrowserTest):
    script = "shop.test.mjs"
    server_args = ("--demo",)

    def test_shop_page(self):
        srv = self.srv
        admin = srv.user("admin", "admin")
        srv.add_user("buyer1", "buyer", password="buyer1-password")
        for code, name, en in (("zhenfeng", "贞丰县", "Zhenfeng"), ("xinjiang", "新疆", "Xinjiang")):
            check(srv.post("/api/v1/regions", {
                "code": code, "name": name, "name_en": en, "province": "p",
                "partnership": "east_west"}, token=admin))
        pa = check(srv.post("/api/v1/producers", {
            "name": "贞丰李子合作社", "region_code": "zhenfeng", "kind": "cooperative",
            "households": 120, "poor_households": 30}, token=admin))["id"]
        pb = check(srv.post("/api/v1/producers", {
            "name": "和田红枣协会", "region_code": "xinjiang", "kind": "association",
            "households": 80, "poor_households": 12}, token=admin))["id"]

        def product(name, price, producer, stock, category="fruit", **kw):
            return check(srv.post("/api/v1/products", dict({
                "name": name, "category": category, "unit": "500g 袋", "price_fen": price,
                "stock": stock, "producer_id": producer}, **kw), token=admin))["id"]
        plum = product("贞丰李子", 1550, pa, 500, certified=True,
                       certificate_no="黔扶认 2020-0815", description="贞丰县的李子")
        tea = product("贞丰古树茶", 16800, pa, 3, category="tea")
        jujube = product("新疆灰枣", 3900, pb, 200, category="dried_fruit")
        # A lot of plums: the product page lists it (GET /products/{id}/lots).
        check(srv.post("/api/v1/products/%d/lots" % plum, {
            "code": "ZF-0501", "quantity": 40, "packed_on": "2026-05-01",
            "origin": "者相镇纳孔村"}, token=admin))

        venue = check(srv.post("/api/v1/venues", {
            "name": "鼓楼步行街", "kind": "street_market", "subdistrict": "鼓楼街道"},
            token=admin))["id"]
        days = [check(srv.post("/api/v1/market-days", {
            "venue_id": venue, "date": today(n), "opens_at": "09:00", "closes_at": "17:00",
            "channel": "holiday_market", "title": "扶贫集市"}, token=admin))["id"]
            for n in (3, 10)]

        self.run_script({
            "admin": admin,
            "buyer": {"username": "buyer1", "password": "buyer1-password"},
            "products": {"plum": plum, "tea": tea, "jujube": jujube},
            "days": days, "day_dates": [today(3), today(10)],
        })


if __name__ == "__main__":
    wf.harness.main()
