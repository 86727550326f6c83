"""Placing online orders: prices from the catalog, stock reserved for all
lines or none, pickups only at market days still to come, deliveries
with an address; every refusal stores nothing and moves no stock. Who
sees which orders, the list's filters and pages."""
import re

import harness
from orders_fixture import ADDRESS, Shop, check, day, delivery, pickup

RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


class PlacingOrders(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s = Shop(cls.srv)

    def count(self):
        return len(self.s.orders())

    # --- placing ------------------------------------------------------
    def test_pickup_order(self):
        s = self.s
        plums = s.product(1500, 100, name="贞丰李子")
        tea = s.product(8800, 5, name="贞丰绿茶")
        r = s.order([(plums, 3), (tea, 2)], pickup(s.day), note="周六上午来取")
        self.assertEqual(r.status, 201, r)
        o = r.json
        self.assertEqual(set(o), {"id", "buyer_id", "status", "channel", "total_fen",
                                  "refund_fen", "created_at", "updated_at",
                                  "fulfillment", "note", "lines",
                                  "buyer_display_name", "institution_id"})
        # The name the stall operator hands the order over to (the
        # username when the buyer gave no display name).
        self.assertEqual(o["buyer_display_name"], "buyer1")
        self.assertIsInstance(o["id"], int)
        self.assertEqual(o["buyer_id"], s.buyer_id)
        self.assertEqual(o["status"], "placed")
        self.assertEqual(o["channel"], "online")
        self.assertEqual(o["total_fen"], 3 * 1500 + 2 * 8800)
        self.assertEqual(o["refund_fen"], 0)
        self.assertRegex(o["created_at"], RFC3339)
        self.assertEqual(o["updated_at"], o["created_at"])
        self.assertEqual(o["fulfillment"], {"type": "pickup", "market_day_id": s.day})
        self.assertEqual(o["note"], "周六上午来取")
        self.assertEqual(o["lines"], [
            {"product_id": plums, "name": "贞丰李子", "quantity": 3,
             "unit_price_fen": 1500, "amount_fen": 4500, "lots": []},
            {"product_id": tea, "name": "贞丰绿茶", "quantity": 2,
             "unit_price_fen": 8800, "amount_fen": 17600, "lots": []}])
        self.assertEqual((s.stock(plums), s.stock(tea)), (97, 3))
        got = s.get(o["id"], token=s.buyer)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json, o)
        s.check_ledger()

    def test_delivery_order_and_no_note(self):
        s = self.s
        p = s.product(3600, 10)
        o = check(s.order([(p, 1)], delivery()))
        self.assertEqual(o["fulfillment"], {"type": "delivery", "address": ADDRESS})
        self.assertIsNone(o["note"])
        o2 = check(s.order([(p, 1)], delivery(), note=None))
        self.assertIsNone(o2["note"])
        self.assertEqual(s.stock(p), 8)

    def test_prices_come_from_the_catalog(self):
        s = self.s
        p = s.product(1200, 10)
        o = check(s.order([{"product_id": p, "quantity": 2, "unit_price_fen": 1,
                            "amount_fen": 2}]))
        self.assertEqual(o["lines"][0]["unit_price_fen"], 1200)
        self.assertEqual(o["total_fen"], 2400)
        # A later price change does not touch the order.
        check(self.srv.patch("/api/v1/products/%d" % p, {"price_fen": 999},
                             token=s.admin), 200)
        again = check(s.get(o["id"]), 200)
        self.assertEqual(again["total_fen"], 2400)
        self.assertEqual(again["lines"][0]["unit_price_fen"], 1200)

    def test_pickup_today_and_open_day(self):
        s = self.s
        today = s.market_day(day(0))
        s.set_day_status(today, "open")
        p = s.product(100, 10)
        self.assertEqual(s.order([(p, 1)], pickup(today)).status, 201)

    # --- refusals -----------------------------------------------------
    def test_validation(self):
        s = self.s
        p = s.product(1000, 50)
        q = s.product(500, 50)
        inactive = s.product(700, 50)
        check(self.srv.patch("/api/v1/products/%d" % inactive, {"active": False},
                             token=s.admin), 200)
        past = s.market_day(day(-1))
        closed = s.market_day(day(3))
        s.set_day_status(closed, "closed")
        cancelled = s.market_day(day(4))
        s.set_day_status(cancelled, "cancelled")
        line = {"product_id": p, "quantity": 1}
        before = self.count()

        def body(**kw):
            b = {"lines": [line], "fulfillment": pickup(s.day)}
            b.update(kw)
            return {k: v for k, v in b.items() if v is not None}

        def addr(**kw):
            a = dict(ADDRESS)
            a.update(kw)
            return delivery({k: v for k, v in a.items() if v is not None})

        cases = [
            (body(lines=None), "lines"),
            (body(lines=[]), "lines"),
            (body(lines={"product_id": p}), "lines"),
            (body(lines=[line] * 101), "lines"),
            (body(lines=[5]), "lines[0]"),
            (body(lines=[line, {"quantity": 1}]), "lines[1].product_id"),
            (body(lines=[line, {"product_id": "1", "quantity": 1}]), "lines[1].product_id"),
            (body(lines=[line, {"product_id": 999999, "quantity": 1}]), "lines[1].product_id"),
            (body(lines=[line, {"product_id": inactive, "quantity": 1}]),
             "lines[1].product_id"),
            (body(lines=[line, {"product_id": q, "quantity": 1},
                         {"product_id": p, "quantity": 2}]), "lines[2].product_id"),
            (body(lines=[{"product_id": p}]), "lines[0].quantity"),
            (body(lines=[{"product_id": p, "quantity": 0}]), "lines[0].quantity"),
            (body(lines=[{"product_id": p, "quantity": -3}]), "lines[0].quantity"),
            (body(lines=[{"product_id": p, "quantity": 1.5}]), "lines[0].quantity"),
            (body(lines=[{"product_id": p, "quantity": 2 ** 64}]), "lines[0].quantity"),
            (body(fulfillment=None), "fulfillment"),
            (body(fulfillment="pickup"), "fulfillment"),
            (body(fulfillment={"market_day_id": s.day}), "fulfillment.type"),
            (body(fulfillment={"type": "drone"}), "fulfillment.type"),
            (body(fulfillment={"type": "pickup"}), "fulfillment.market_day_id"),
            (body(fulfillment=pickup(999999)), "fulfillment.market_day_id"),
            (body(fulfillment=pickup(past)), "fulfillment.market_day_id"),
            (body(fulfillment=pickup(closed)), "fulfillment.market_day_id"),
            (body(fulfillment=pickup(cancelled)), "fulfillment.market_day_id"),
            (body(fulfillment={"type": "delivery"}), "fulfillment.address"),
            (body(fulfillment=addr(name=None)), "fulfillment.address.name"),
            (body(fulfillment=addr(phone=None)), "fulfillment.address.phone"),
            (body(fulfillment=addr(phone="call me")), "fulfillment.address.phone"),
            (body(fulfillment=addr(line1="")), "fulfillment.address.line1"),
            (body(fulfillment=addr(city=None)), "fulfillment.address.city"),
            (body(note=5), "note"),
            (body(note="x" * 501), "note"),
        ]
        for b, field in cases:
            with self.subTest(field=field, body=b):
                r = self.srv.post("/api/v1/orders", b, token=s.buyer)
                self.assertProblem(r, 400, "validation_failed", field)
        self.assertEqual(self.count(), before)
        self.assertEqual((s.stock(p), s.stock(q), s.stock(inactive)), (50, 50, 50))
        s.check_ledger()

    def test_amount_overflow(self):
        s = self.s
        # A price is at most 10^11 fen and a line at most 10^6 units, so a
        # line (10^17) fits in 64 bits; 93 such lines do not.
        r = s.srv.post("/api/v1/products", {
            "name": "too dear", "category": "fruit", "unit": "kg", "price_fen": 2 ** 62,
            "stock": 10, "producer_id": s.producers["zhenfeng"]}, token=s.admin)
        self.assertProblem(r, 400, "validation_failed", "price_fen")
        big = [s.product(10 ** 11, 10 ** 6) for _ in range(93)]
        before = self.count()
        self.assertProblem(s.order([(p, 10 ** 6) for p in big]), 400, "validation_failed",
                           "lines")
        self.assertEqual(self.count(), before)
        self.assertEqual({s.stock(p) for p in big}, {10 ** 6})

    def test_out_of_stock_changes_nothing(self):
        s = self.s
        p = s.product(1000, 5)
        q = s.product(2000, 3)
        before = self.count()
        # The first line fits, the second does not: neither is taken.
        r = s.order([(p, 2), (q, 4)])
        self.assertProblem(r, 409, "out_of_stock", "lines[1].quantity")
        self.assertEqual(r.json["detail"], "product %d has 3 left" % q)
        self.assertEqual((s.stock(p), s.stock(q)), (5, 3))
        self.assertEqual(self.count(), before)
        # Exactly what is left is fine, and then nothing is left.
        check(s.order([(p, 2), (q, 3)]))
        r = s.order([(q, 1)])
        self.assertProblem(r, 409, "out_of_stock", "lines[0].quantity")
        self.assertEqual(r.json["detail"], "product %d has 0 left" % q)
        self.assertEqual((s.stock(p), s.stock(q)), (3, 0))
        s.check_ledger()

    def test_stock_below_zero_after_stall_sales_is_out_of_stock(self):
        s = self.s
        p = s.product(1000, 1)
        check(self.srv.post("/api/v1/sales", {
            "id": "oversold-0001", "stall_id": s.stall, "payment": "cash",
            "recorded_at": "2026-05-01T03:00:00Z",
            "lines": [{"product_id": p, "quantity": 3}]}, token=s.op))
        self.assertEqual(s.stock(p), -2)
        r = s.order([(p, 1)])
        self.assertProblem(r, 409, "out_of_stock", "lines[0].quantity")
        self.assertEqual(r.json["detail"], "product %d has 0 left" % p)
        self.assertEqual(s.stock(p), -2)

    def test_only_buyers_place_orders(self):
        s = self.s
        p = s.product(100, 10)
        for tok in (s.op, s.coord, s.admin):
            self.assertProblem(s.order([(p, 1)], token=tok), 403, "forbidden")
        r = self.srv.post("/api/v1/orders", {"lines": [{"product_id": p, "quantity": 1}],
                                             "fulfillment": pickup(s.day)})
        self.assertProblem(r, 401, "unauthorized")
        self.assertEqual(s.stock(p), 10)

    # --- who sees what -------------------------------------------------
    def test_who_sees_which_orders(self):
        s = self.s
        zf = s.product(1500, 100)
        qy = s.product(3200, 100, region="qingyuan")
        at_day = s.placed([(zf, 1)], fulfillment=pickup(s.day))
        at_day2 = s.placed([(qy, 1)], fulfillment=pickup(s.day2), token=s.buyer2)
        home = s.placed([(zf, 1), (qy, 1)], fulfillment=delivery())
        home_qy = s.placed([(qy, 2)], fulfillment=delivery(), token=s.buyer2)
        ids = {at_day["id"], at_day2["id"], home["id"], home_qy["id"]}

        def seen(token):
            return {o["id"] for o in s.orders(token)} & ids

        self.assertEqual(seen(s.buyer), {at_day["id"], home["id"]})
        self.assertEqual(seen(s.buyer2), {at_day2["id"], home_qy["id"]})
        self.assertEqual(seen(s.op), {at_day["id"]})
        self.assertEqual(seen(s.op2), {at_day2["id"]})
        self.assertEqual(seen(s.scoped), {at_day["id"], home["id"]})
        self.assertEqual(seen(s.coord), ids)
        self.assertEqual(seen(s.admin), ids)

        def get(order, token):
            return s.get(order["id"], token=token)

        for order, token in ((at_day2, s.buyer), (home_qy, s.buyer), (at_day, s.buyer2),
                             (at_day2, s.op), (home, s.op), (at_day, s.op2),
                             (home_qy, s.scoped), (at_day2, s.scoped)):
            with self.subTest(order=order["id"]):
                self.assertProblem(get(order, token), 404, "not_found")
        for order, token in ((at_day, s.buyer), (at_day, s.op), (home, s.scoped),
                             (home_qy, s.coord), (at_day2, s.admin)):
            with self.subTest(order=order["id"]):
                self.assertEqual(get(order, token).status, 200)
        self.assertProblem(s.get(999999), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/orders/abc", token=s.admin), 404,
                           "not_found")
        self.assertProblem(self.srv.get("/api/v1/orders/%d" % at_day["id"]), 401,
                           "unauthorized")

    def test_delivery_phone_only_for_owner_and_staff(self):
        s = self.s
        p = s.product(100, 10)
        o = s.placed([(p, 1)], fulfillment=delivery())
        for token in (s.buyer, s.coord, s.admin):
            got = check(s.get(o["id"], token=token), 200)
            self.assertEqual(got["fulfillment"]["address"]["phone"], ADDRESS["phone"])

    def test_list_status_filter_and_pages(self):
        s = self.s
        buyer = self.srv.user("pager", "buyer")
        p = s.product(100, 100)
        made = [s.placed([(p, 1)], token=buyer)["id"] for _ in range(5)]
        paid = s.paid(check(s.get(made[1]), 200))
        self.assertEqual(paid["status"], "paid")
        page = check(self.srv.get("/api/v1/orders?limit=2", token=buyer), 200)
        self.assertEqual([o["id"] for o in page["items"]], made[:2])
        self.assertIsNotNone(page["next_cursor"])
        got = [o["id"] for o in s.orders(buyer)]
        self.assertEqual(got, made)
        walked, cursor = [], None
        while True:
            q = "/api/v1/orders?limit=2" + ("&cursor=" + cursor if cursor else "")
            page = check(self.srv.get(q, token=buyer), 200)
            walked += [o["id"] for o in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(walked, made)
        self.assertEqual([o["id"] for o in s.orders(buyer, "&status=paid")], [made[1]])
        self.assertEqual([o["id"] for o in s.orders(buyer, "&status=placed")],
                         made[:1] + made[2:])
        self.assertEqual(s.orders(buyer, "&status=cancelled"), [])
        for bad in ("&status=shipped", "&status=PAID"):
            r = self.srv.get("/api/v1/orders?limit=2" + bad, token=buyer)
            self.assertProblem(r, 400, "validation_failed", "status")
        for bad in ("?limit=0", "?limit=201", "?cursor=nonsense"):
            r = self.srv.get("/api/v1/orders" + bad, token=buyer)
            self.assertProblem(r, 400, "validation_failed")

    def test_list_market_day_filter(self):
        # The pickups of one market day, as the coordinators' orders page
        # and an operator preparing the day ask for them: other days'
        # pickups and deliveries are left out, status and pages combine.
        s = self.s
        buyer = self.srv.user("dayfilter", "buyer")
        p = s.product(100, 100)
        one, other = s.market_day(day(5)), s.market_day(day(6))
        at_one = [s.placed([(p, 1)], fulfillment=pickup(one), token=buyer)["id"]
                  for _ in range(3)]
        s.placed([(p, 1)], fulfillment=pickup(other), token=buyer)
        s.placed([(p, 1)], fulfillment=delivery(), token=buyer)
        for token in (buyer, s.coord, s.admin):
            got = [o["id"] for o in s.orders(token, "&market_day_id=%d" % one)]
            self.assertEqual(got, at_one)
        s.paid(check(s.get(at_one[1]), 200))
        self.assertEqual([o["id"] for o in s.orders(
            s.coord, "&market_day_id=%d&status=paid" % one)], [at_one[1]])
        page = check(self.srv.get("/api/v1/orders?limit=2&market_day_id=%d" % one,
                                  token=s.admin), 200)
        self.assertEqual([o["id"] for o in page["items"]], at_one[:2])
        page = check(self.srv.get("/api/v1/orders?limit=2&market_day_id=%d&cursor=%s" % (
            one, page["next_cursor"]), token=s.admin), 200)
        self.assertEqual([o["id"] for o in page["items"]], at_one[2:])
        self.assertIsNone(page["next_cursor"])
        self.assertEqual(s.orders(s.admin, "&market_day_id=999999"), [])
        for bad in ("0", "-1", "x", "1.5"):
            r = self.srv.get("/api/v1/orders?market_day_id=" + bad, token=s.admin)
            self.assertProblem(r, 400, "validation_failed", "market_day_id")

    def test_created_at_is_now(self):
        s = self.s
        p = s.product(100, 10)
        o = s.placed([(p, 1)])
        self.assertTrue(re.match(RFC3339, o["created_at"]))
        import datetime
        t = datetime.datetime.strptime(o["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        delta = abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
        self.assertLess(delta, 120)


if __name__ == "__main__":
    harness.main()
