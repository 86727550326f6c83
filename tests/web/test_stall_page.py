"""The stall operators' page in a real browser: offline sales, sync,
lost replies, refused sales, prices changed while offline, two tabs,
pickups and the close-out (the scenarios are in stall.test.mjs)."""
import web_fixture as wf
from web_fixture import check, today


class StallPage(wf.BrowserTest):
    script = "stall.test.mjs"

    def test_stall_page(self):
        srv = self.srv
        admin = srv.user("admin", "admin")
        coord = srv.user("coord", "coordinator")
        srv.add_user("op1", "operator", password="op1-password")
        op = srv.login("op1", "op1-password")
        buyer = srv.user("buyer1", "buyer")
        op_id = check(srv.get("/api/v1/me", token=op), 200)["id"]
        for code, name in (("zhenfeng", "贞丰县"), ("xinjiang", "新疆")):
            check(srv.post("/api/v1/regions", {
                "code": code, "name": name, "name_en": code, "province": "p",
                "partnership": "east_west"}, token=admin))
        pa = check(srv.post("/api/v1/producers", {
            "name": "贞丰李子合作社", "region_code": "zhenfeng", "kind": "cooperative",
            "households": 120, "poor_households": 30}, token=admin))["id"]
        pb = check(srv.post("/api/v1/producers", {
            "name": "和田红枣协会", "region_code": "xinjiang", "kind": "association",
            "households": 80, "poor_households": 12}, token=admin))["id"]

        def product(name, price, producer, unit="500g 袋"):
            return check(srv.post("/api/v1/products", {
                "name": name, "category": "fruit", "unit": unit, "price_fen": price,
                "stock": 500, "producer_id": producer}, token=admin))["id"]
        p_jujube = product("新疆灰枣", 3900, pb)
        p_plum = product("贞丰李子", 1500, pa)
        p_tea = product("贞丰古树茶", 16800, pa, unit="250g 罐")
        # A catalog longer than the page draws at once (40) and than one
        # page of the API (200): the grid fills page by page, shows more
        # on request, and its search finds the last one.
        walnuts = [product("和田核桃 %d号" % i, 2000 + i, pb) for i in range(1, 231)]

        def venue(name):
            return check(srv.post("/api/v1/venues", {
                "name": name, "kind": "street_market", "subdistrict": "鼓楼街道"},
                token=admin))["id"]

        def market_day(v):
            return check(srv.post("/api/v1/market-days", {
                "venue_id": v, "date": today(), "opens_at": "00:00", "closes_at": "23:59",
                "channel": "holiday_market"}, token=admin))["id"]
        day1 = market_day(venue("鼓楼步行街"))
        day2 = market_day(venue("白云庄社区"))
        check(srv.patch("/api/v1/market-days/%d" % day1, {"status": "open"}, token=admin), 200)

        def stall(day, label, producer):
            return check(srv.post("/api/v1/market-days/%d/stalls" % day, {
                "operator_id": op_id, "producer_id": producer, "label": label},
                token=admin))["id"]
        s1 = stall(day1, "A03", pa)
        s2 = stall(day2, "B01", pa)

        orders = []
        for pid, qty in ((p_plum, 2), (p_tea, 1)):
            o = check(srv.post("/api/v1/orders", {
                "lines": [{"product_id": pid, "quantity": qty}],
                "fulfillment": {"type": "pickup", "market_day_id": day1}}, token=buyer))
            wf.pay(srv, o["id"], o["total_fen"])
            orders.append(o["id"])

        self.run_script({
            "admin": admin, "coord": coord, "operator": {"username": "op1", "password": "op1-password", "id": op_id},
            "products": {"jujube": p_jujube, "plum": p_plum, "tea": p_tea, "last_walnut": walnuts[-1]},
            "catalog_size": 3 + len(walnuts),
            "stalls": {"main": s1, "cancelled": s2}, "days": {"main": day1, "cancelled": day2},
            "orders": orders,
        })


if __name__ == "__main__":
    wf.harness.main()
