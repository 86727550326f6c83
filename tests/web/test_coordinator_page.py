"""The coordinators' pages at /coordinator/ in a real browser: impact
figures and charts equal to the API's, the CSV download, a region-scoped
coordinator, the market-day calendar (a day, a caravan route, open, close,
cancel, a stall), the catalog (price and stock, a CSV import with a bad
row), orders (filter, cancel with its refund), the admin's users (a
buyer's institution) and audit log, institutions with their plans and
procurement progress, producer payouts and statements, and a product's
lots with a lot's trace (the scenarios are in coordinator.test.mjs)."""
import datetime
import uuid

import web_fixture as wf
from web_fixture import check, pay, today


class CoordinatorPage(wf.BrowserTest):
    script = "coordinator.test.mjs"

    def test_coordinator_page(self):
        srv = self.srv
        admin = srv.user("admin", "admin")
        srv.add_user("coord1", "coordinator", password="coord1-password")
        srv.add_user("buyer1", "buyer", password="buyer1-password")
        buyer = srv.login("buyer1", "buyer1-password")
        operator = srv.user("op1", "operator")
        operator_id = check(srv.get("/api/v1/me", token=operator), 200)["id"]
        for code, name, en in (("xinjiang", "新疆", "Xinjiang"), ("zhenfeng", "贞丰县", "Zhenfeng")):
            check(srv.post("/api/v1/regions", {
                "code": code, "name": name, "name_en": en, "province": "p",
                "partnership": "east_west"}, token=admin))
        srv.add_user("coordzf", "coordinator", password="coordzf-password", region="zhenfeng")
        pa = check(srv.post("/api/v1/producers", {
            "name": "贞丰李子合作社", "region_code": "zhenfeng", "kind": "cooperative",
            "households": 120, "poor_households": 30}, token=admin))["id"]
        pb = check(srv.post("/api/v1/producers", {
            "name": "和田红枣协会", "region_code": "xinjiang", "kind": "association",
            "households": 80, "poor_households": 7}, token=admin))["id"]

        def product(name, price, producer, stock, category="fruit"):
            return check(srv.post("/api/v1/products", {
                "name": name, "category": category, "unit": "500g 袋", "price_fen": price,
                "stock": stock, "producer_id": producer}, token=admin))["id"]
        plum = product("贞丰李子", 1550, pa, 500)
        tea = product("贞丰古树茶", 16801, pa, 100, category="tea")
        jujube = product("新疆灰枣", 3999, pb, 200, category="dried_fruit")

        # A lot of the tea before the sales: the stall sale draws from it.
        tea_lot = check(srv.post("/api/v1/products/%d/lots" % tea, {
            "code": "ZF-2026-01", "quantity": 20, "packed_on": today(-3), "origin": "贞丰县者相镇"},
            token=admin))["id"]

        venue = check(srv.post("/api/v1/venues", {
            "name": "鼓楼步行街", "kind": "street_market", "subdistrict": "鼓楼街道"},
            token=admin))["id"]
        stops = [check(srv.post("/api/v1/venues", {
            "name": "社区%d" % i, "kind": "community", "subdistrict": "白云街道"},
            token=admin))["id"] for i in range(1, 6)]
        # A day today (stall sales count on it) and one to come (pickups).
        day_today = check(srv.post("/api/v1/market-days", {
            "venue_id": venue, "date": today(0), "opens_at": "00:00", "closes_at": "23:59",
            "channel": "holiday_market", "title": "扶贫集市"}, token=admin))["id"]
        day_next = check(srv.post("/api/v1/market-days", {
            "venue_id": venue, "date": today(7), "opens_at": "09:00", "closes_at": "17:00",
            "channel": "holiday_market"}, token=admin))["id"]
        stall = check(srv.post("/api/v1/market-days/%d/stalls" % day_today, {
            "operator_id": operator_id, "producer_id": pa, "label": "A01"}, token=admin))["id"]
        stall_b = check(srv.post("/api/v1/market-days/%d/stalls" % day_today, {
            "operator_id": operator_id, "producer_id": pb, "label": "B01"}, token=admin))["id"]
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for st, lines in ((stall, [{"product_id": plum, "quantity": 3}, {"product_id": tea, "quantity": 1}]),
                          (stall_b, [{"product_id": jujube, "quantity": 2, "unit_price_fen": 3333}])):
            check(srv.post("/api/v1/sales", {
                "id": str(uuid.uuid4()), "stall_id": st, "recorded_at": now, "payment": "wechat", "lines": lines},
                token=operator))

        def order(lines, paid=True):
            o = check(srv.post("/api/v1/orders", {
                "lines": lines, "fulfillment": {"type": "pickup", "market_day_id": day_next}},
                token=buyer))
            if paid:
                pay(srv, o["id"], o["total_fen"])
            return o["id"]
        paid_order = order([{"product_id": plum, "quantity": 2}, {"product_id": jujube, "quantity": 1}])
        placed_order = order([{"product_id": tea, "quantity": 1}], paid=False)
        ready_order = order([{"product_id": plum, "quantity": 1}])
        srv.add_user("staff1", "operator", password="staff1-password")

        # Institutions: a hospital with a large plan and nothing bought, a
        # school whose canteen buyer has one paid order (that plan is small).
        hospital = check(srv.post("/api/v1/institutions", {
            "name": "海曙区第一医院", "kind": "hospital", "subdistrict": "鼓楼街道"}, token=admin))["id"]
        school = check(srv.post("/api/v1/institutions", {
            "name": "白云小学", "kind": "school", "subdistrict": "白云街道"}, token=admin))["id"]
        year = int(today(0)[:4])
        check(srv.request("PUT", "/api/v1/institutions/%d/plans/%d" % (hospital, year),
                          body={"food_budget_fen": 123456789, "reserved_share_bp": 1500}, token=admin), 200)
        check(srv.request("PUT", "/api/v1/institutions/%d/plans/%d" % (school, year),
                          body={"food_budget_fen": 20001}, token=admin), 200)
        srv.add_user("canteen1", "buyer", password="canteen1-password")
        canteen_id = check(srv.get("/api/v1/me", token=srv.login("canteen1", "canteen1-password")), 200)["id"]
        check(srv.patch("/api/v1/users/%d" % canteen_id, {"institution_id": school}, token=admin), 200)
        canteen = srv.login("canteen1", "canteen1-password")
        canteen_order = check(srv.post("/api/v1/orders", {
            "lines": [{"product_id": jujube, "quantity": 1}],
            "fulfillment": {"type": "pickup", "market_day_id": day_next}}, token=canteen))
        pay(srv, canteen_order["id"], canteen_order["total_fen"])

        self.run_script({
            "admin": {"username": "admin", "password": "password123"},
            "coord": {"username": "coord1", "password": "coord1-password"},
            "scoped": {"username": "coordzf", "password": "coordzf-password"},
            "operator_id": operator_id,
            "producers": {"zhenfeng": pa, "xinjiang": pb},
            "products": {"plum": plum, "tea": tea, "jujube": jujube},
            "venue": venue, "stops": stops,
            "days": {"today": day_today, "next": day_next},
            "orders": {"paid": paid_order, "placed": placed_order, "ready": ready_order,
                       "canteen": canteen_order["id"]},
            "today": today(0),
            "institutions": {"hospital": hospital, "school": school},
            "tea_lot": tea_lot,
        })


if __name__ == "__main__":
    wf.harness.main()
