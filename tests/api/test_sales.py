"""Stall sales one at a time: recording, re-sending, every refusal (and
that a refused sale stores nothing and moves no stock), prices, stock
that goes below zero, late sales, ownership of stalls, voiding, lists."""
import datetime
import unittest

import harness
from sales_fixture import Market, check, sale


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return datetime.datetime.now(datetime.timezone.utc)


class StallSales(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = Market(cls.srv)

    def post_sale(self, body, token=None):
        return self.srv.post("/api/v1/sales", body, token=token or self.m.op)

    def assertNotStored(self, sid):
        r = self.srv.get("/api/v1/sales/" + sid, token=self.m.admin)
        self.assertProblem(r, 404, "not_found")

    # --- recording and re-sending ------------------------------------
    def test_created_then_resent(self):
        p = self.m.product(1500, 100)
        q = self.m.product(800, 10)
        body = sale("resend-0001", self.m.stall, [
            {"product_id": p, "quantity": 3},
            {"product_id": q, "quantity": 2, "unit_price_fen": 700}],
            payment="wechat")
        r = self.post_sale(body)
        self.assertEqual(r.status, 201, r)
        s = r.json
        self.assertEqual(s["id"], "resend-0001")
        self.assertEqual(s["stall_id"], self.m.stall)
        self.assertEqual(s["market_day_id"], self.m.day)
        self.assertEqual(s["operator_id"], self.m.op_id)
        self.assertEqual(s["recorded_at"], "2026-05-01T03:00:00Z")
        self.assertEqual(s["payment"], "wechat")
        self.assertIs(s["voided"], False)
        self.assertEqual(s["total_fen"], 3 * 1500 + 2 * 700)
        self.assertEqual(s["lines"], [
            {"product_id": p, "quantity": 3, "unit_price_fen": 1500, "amount_fen": 4500,
             "lots": []},
            {"product_id": q, "quantity": 2, "unit_price_fen": 700, "amount_fen": 1400,
             "lots": []}])
        self.assertRegex(s["received_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual((self.m.stock(p), self.m.stock(q)), (97, 8))

        # The same sale again: 200 with the stored sale, stock moved once.
        r = self.post_sale(body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, s)
        # The same instant written another way is the same sale.
        again = dict(body, recorded_at="2026-05-01T11:00:00.000+08:00")
        r = self.post_sale(again)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, s)
        # A coordinator re-sending it gets the same answer.
        r = self.post_sale(body, token=self.m.coord)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((self.m.stock(p), self.m.stock(q)), (97, 8))
        got = self.srv.get("/api/v1/sales/resend-0001", token=self.m.op)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json, s)

    def test_same_id_other_content(self):
        p = self.m.product(1500, 100)
        body = sale("clash-0001", self.m.stall, [{"product_id": p, "quantity": 1}])
        self.assertEqual(self.post_sale(body).status, 201)
        stored = self.srv.get("/api/v1/sales/clash-0001", token=self.m.op).json
        changes = [
            dict(body, lines=[{"product_id": p, "quantity": 2}]),
            dict(body, lines=[{"product_id": p, "quantity": 1, "unit_price_fen": 1500}]),
            dict(body, payment="alipay"),
            dict(body, recorded_at="2026-05-01T03:00:01Z"),
            dict(body, stall_id=self.m.stall2),
        ]
        for b in changes:
            token = self.m.admin if b["stall_id"] != self.m.stall else self.m.op
            r = self.post_sale(b, token=token)
            self.assertProblem(r, 409, "idempotency_mismatch", "id")
        self.assertEqual(self.m.stock(p), 99)
        after = self.srv.get("/api/v1/sales/clash-0001", token=self.m.op).json
        self.assertEqual(after, stored)

    # --- validation ---------------------------------------------------
    def test_validation(self):
        p = self.m.product(1000, 50)
        line = [{"product_id": p, "quantity": 1}]
        future = iso(now() + datetime.timedelta(minutes=11))

        def body(**kw):
            b = sale("valid-0001", self.m.stall, line)
            b.update(kw)
            return {k: v for k, v in b.items() if v is not None}

        cases = [
            (body(id=None), "id"),
            (body(id="short"), "id"),
            (body(id="has space 1"), "id"),
            (body(id="x" * 65), "id"),
            (body(id=12345678), "id"),
            (body(stall_id=None), "stall_id"),
            (body(stall_id="1"), "stall_id"),
            (body(stall_id=999999), "stall_id"),
            (body(recorded_at=None), "recorded_at"),
            (body(recorded_at="2026-05-01 03:00:00"), "recorded_at"),
            (body(recorded_at="2026-02-30T03:00:00Z"), "recorded_at"),
            (body(recorded_at=future), "recorded_at"),
            (body(payment=None), "payment"),
            (body(payment="bitcoin"), "payment"),
            (body(lines=None), "lines"),
            (body(lines=[]), "lines"),
            (body(lines=line * 101), "lines"),
            (body(lines={"product_id": p}), "lines"),
            (body(lines=[5]), "lines[0]"),
            (body(lines=[line[0], {"quantity": 1}]), "lines[1].product_id"),
            (body(lines=[{"product_id": 999999, "quantity": 1}]), "lines[0].product_id"),
            (body(lines=[{"product_id": p}]), "lines[0].quantity"),
            (body(lines=[{"product_id": p, "quantity": 0}]), "lines[0].quantity"),
            (body(lines=[{"product_id": p, "quantity": 1.5}]), "lines[0].quantity"),
            (body(lines=[{"product_id": p, "quantity": 1, "unit_price_fen": -1}]),
             "lines[0].unit_price_fen"),
            (body(lines=[line[0], {"product_id": p, "quantity": 1, "unit_price_fen": 1001}]),
             "lines[1].unit_price_fen"),
        ]
        for b, field in cases:
            with self.subTest(field=field, body=b):
                r = self.post_sale(b)
                self.assertProblem(r, 400, "validation_failed", field)
        self.assertNotStored("valid-0001")
        self.assertEqual(self.m.stock(p), 50)
        self.assertNotIn("valid-0001", [s["id"] for s in self.m.sales()])

    def test_amount_overflow(self):
        # A price is at most 10^11 fen and a line at most 10^6 units: a
        # line (10^17) fits in 64 bits, 93 of them do not.
        big = self.m.product(10 ** 11, 10)
        lines = [{"product_id": big, "quantity": 10 ** 6}] * 93
        r = self.post_sale(sale("overflow-2", self.m.stall, lines))
        self.assertProblem(r, 400, "validation_failed", "lines")
        self.assertNotStored("overflow-2")
        self.assertEqual(self.m.stock(big), 10)
        # One of them is fine.
        r = self.post_sale(sale("overflow-3", self.m.stall, [{"product_id": big,
                                                              "quantity": 10 ** 6}]))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["total_fen"], 10 ** 17)

    def test_recorded_at_window(self):
        p = self.m.product(500, 20)
        # Nine minutes ahead (a phone clock that runs fast) is accepted.
        soon = iso(now() + datetime.timedelta(minutes=9))
        r = self.post_sale(sale("clock-fast-1", self.m.stall, [{"product_id": p, "quantity": 1}],
                                recorded_at=soon))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["recorded_at"], soon)
        # Hours late, on another day than the market day's: accepted, and it
        # counts on the Shanghai day of recorded_at (00:30 on 3 May there).
        r = self.post_sale(sale("late-sync-1", self.m.stall, [{"product_id": p, "quantity": 2}],
                                recorded_at="2026-05-02T16:30:00Z"))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["recorded_date"], "2026-05-03")
        self.assertEqual(r.json["market_day_id"], self.m.day)
        r = self.post_sale(sale("late-sync-2", self.m.stall, [{"product_id": p, "quantity": 1}],
                                recorded_at="2026-05-01T09:00:00+08:00"))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["recorded_at"], "2026-05-01T01:00:00Z")
        self.assertEqual(r.json["recorded_date"], "2026-05-01")
        self.assertEqual(self.m.stock(p), 16)

    # --- prices and stock ----------------------------------------------
    def test_prices(self):
        p = self.m.product(1200, 30)
        r = self.post_sale(sale("price-0001", self.m.stall, [
            {"product_id": p, "quantity": 2},                          # catalog
            {"product_id": p, "quantity": 1, "unit_price_fen": 1200},  # equal
            {"product_id": p, "quantity": 3, "unit_price_fen": 999},   # discount
            {"product_id": p, "quantity": 1, "unit_price_fen": 0},     # free
            {"product_id": p, "quantity": 1, "unit_price_fen": None},  # null: catalog
        ]))
        self.assertEqual(r.status, 201, r)
        self.assertEqual([(x["unit_price_fen"], x["amount_fen"]) for x in r.json["lines"]],
                         [(1200, 2400), (1200, 1200), (999, 2997), (0, 0), (1200, 1200)])
        self.assertEqual(r.json["total_fen"], 2400 + 1200 + 2997 + 0 + 1200)
        # One product on several lines: each line moves stock.
        self.assertEqual(self.m.stock(p), 30 - 8)

    def test_stock_goes_below_zero(self):
        p = self.m.product(300, 2)
        r = self.post_sale(sale("short-0001", self.m.stall, [{"product_id": p, "quantity": 5}]))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.m.stock(p), -3)
        r = self.post_sale(sale("short-0002", self.m.stall, [{"product_id": p, "quantity": 1}]))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.m.stock(p), -4)
        self.assertEqual(self.srv.ctl("check").returncode, 0)

    def test_movements_of_a_product_sold_twice_in_a_sale(self):
        """Each stock movement records the stock right after its own
        line, also when a sale names a product twice, alone or in a batch."""
        for k, path in enumerate(("/api/v1/sales", "/api/v1/sales/batch")):
            p, q = self.m.product(300, 50), self.m.product(200, 20)
            body = sale("twice-%04d" % k, self.m.stall, [
                {"product_id": p, "quantity": 2}, {"product_id": q, "quantity": 1},
                {"product_id": p, "quantity": 5}, {"product_id": p, "quantity": 1}])
            if path.endswith("batch"):
                r = self.srv.post(path, {"sales": [body]}, token=self.m.op)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["results"][0]["status"], "created", r)
            else:
                self.assertEqual(self.post_sale(body).status, 201)
            self.assertEqual(self.m.stock(p), 42)
            self.assertEqual(self.m.stock(q), 19)
            with harness.Db(self.srv.db) as db:
                rows = db.query(
                    "SELECT product_id, delta, stock_after FROM stock_movements "
                    "WHERE ref = ? ORDER BY id", (body["id"],))
            self.assertEqual(rows, [(p, -2, 48), (q, -1, 19), (p, -5, 43), (p, -1, 42)])
        self.assertEqual(self.srv.ctl("check").returncode, 0)

    # --- who may record --------------------------------------------------
    def test_stall_ownership(self):
        p = self.m.product(1000, 40)
        body = sale("owner-0001", self.m.stall2, [{"product_id": p, "quantity": 1}])
        r = self.post_sale(body, token=self.m.op)
        self.assertProblem(r, 403, "forbidden")
        self.assertNotStored("owner-0001")
        self.assertEqual(self.m.stock(p), 40)
        # Not even a re-send of a sale stored there by someone allowed.
        r = self.post_sale(body, token=self.m.op2)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["operator_id"], self.m.op2_id)
        r = self.post_sale(body, token=self.m.op)
        self.assertProblem(r, 403, "forbidden")
        r = self.srv.get("/api/v1/sales/owner-0001", token=self.m.op)
        self.assertProblem(r, 403, "forbidden")
        # Staff record at any stall; the sale names the stall's operator.
        r = self.post_sale(sale("owner-0002", self.m.stall, [{"product_id": p, "quantity": 1}]),
                           token=self.m.coord)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["operator_id"], self.m.op_id)
        r = self.post_sale(sale("owner-0003", self.m.stall2, [{"product_id": p, "quantity": 1}]),
                           token=self.m.admin)
        self.assertEqual(r.status, 201, r)
        # Buyers and strangers may not.
        r = self.post_sale(sale("owner-0004", self.m.stall, [{"product_id": p, "quantity": 1}]),
                           token=self.m.buyer)
        self.assertProblem(r, 403, "forbidden")
        r = self.srv.post("/api/v1/sales", sale("owner-0005", self.m.stall,
                                                [{"product_id": p, "quantity": 1}]))
        self.assertProblem(r, 401, "unauthorized")
        self.assertNotStored("owner-0004")
        self.assertNotStored("owner-0005")
        self.assertEqual(self.m.stock(p), 37)

    def test_cancelled_market_day(self):
        p = self.m.product(1000, 40)
        day = self.m.market_day("2026-05-02")
        stall = self.m.add_stall(day, self.m.op_id, "B1")
        before = sale("cancel-0001", stall, [{"product_id": p, "quantity": 1}])
        self.assertEqual(self.post_sale(before).status, 201)
        check(self.srv.patch("/api/v1/market-days/%d" % day, {"status": "cancelled"},
                             token=self.m.admin), 200)
        r = self.post_sale(sale("cancel-0002", stall, [{"product_id": p, "quantity": 1}]))
        self.assertProblem(r, 409, "invalid_state")
        self.assertNotStored("cancel-0002")
        self.assertEqual(self.m.stock(p), 39)
        # A sale stored before the cancellation is still answered as stored.
        r = self.post_sale(before)
        self.assertEqual(r.status, 200, r)

    # --- voiding ---------------------------------------------------------
    def test_void(self):
        p = self.m.product(1000, 40)
        q = self.m.product(500, 5)
        r = self.post_sale(sale("void-00001", self.m.stall, [
            {"product_id": p, "quantity": 4}, {"product_id": q, "quantity": 7}]))
        self.assertEqual(r.status, 201, r)
        self.assertEqual((self.m.stock(p), self.m.stock(q)), (36, -2))

        path = "/api/v1/sales/void-00001/void"
        r = self.srv.post(path, {}, token=self.m.op)
        self.assertProblem(r, 400, "validation_failed", "reason")
        r = self.srv.post(path, {"reason": ""}, token=self.m.op)
        self.assertProblem(r, 400, "validation_failed", "reason")
        r = self.srv.post(path, {"reason": "x" * 501}, token=self.m.op)
        self.assertProblem(r, 400, "validation_failed", "reason")
        r = self.srv.post(path, {"reason": "not mine"}, token=self.m.op2)
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual((self.m.stock(p), self.m.stock(q)), (36, -2))
        self.assertIs(self.srv.get("/api/v1/sales/void-00001", token=self.m.op).json["voided"],
                      False)

        r = self.srv.post(path, {"reason": "售错了 wrong product"}, token=self.m.op)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["voided"], True)
        self.assertEqual(r.json["void_reason"], "售错了 wrong product")
        self.assertRegex(r.json["voided_at"], r"Z$")
        self.assertEqual(r.json["total_fen"], 4 * 1000 + 7 * 500)
        self.assertEqual((self.m.stock(p), self.m.stock(q)), (40, 5))

        r = self.srv.post(path, {"reason": "again"}, token=self.m.coord)
        self.assertProblem(r, 409, "invalid_state")
        self.assertEqual((self.m.stock(p), self.m.stock(q)), (40, 5))
        # Re-sending the voided sale does not record it again.
        r = self.post_sale(sale("void-00001", self.m.stall, [
            {"product_id": p, "quantity": 4}, {"product_id": q, "quantity": 7}]))
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["voided"], True)
        self.assertEqual((self.m.stock(p), self.m.stock(q)), (40, 5))

        r = self.srv.post("/api/v1/sales/no-such-sale/void", {"reason": "x"}, token=self.m.op)
        self.assertProblem(r, 404, "not_found")
        r = self.srv.post("/api/v1/sales/bad/void", {"reason": "x"}, token=self.m.op)
        self.assertProblem(r, 404, "not_found")
        # Staff void at any stall.
        r = self.post_sale(sale("void-00002", self.m.stall2, [{"product_id": p, "quantity": 1}]),
                           token=self.m.op2)
        self.assertEqual(r.status, 201, r)
        r = self.srv.post("/api/v1/sales/void-00002/void", {"reason": "test"}, token=self.m.coord)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.m.stock(p), 40)
        self.assertEqual(self.srv.ctl("check").returncode, 0)

    # --- lists -------------------------------------------------------------
    def test_lists(self):
        p = self.m.product(100, 100)
        day = self.m.market_day("2026-05-03")
        mine = self.m.add_stall(day, self.m.op_id, "C1")
        theirs = self.m.add_stall(day, self.m.op2_id, "C2")
        for i in range(5):
            self.assertEqual(self.post_sale(sale("list-mine-%d" % i, mine,
                                                 [{"product_id": p, "quantity": 1}])).status, 201)
        for i in range(3):
            self.assertEqual(self.post_sale(sale("list-theirs-%d" % i, theirs,
                                                 [{"product_id": p, "quantity": 1}]),
                                            token=self.m.op2).status, 201)
        q = "&market_day_id=%d" % day
        self.assertEqual([s["id"] for s in self.m.sales(query=q)],
                         ["list-mine-%d" % i for i in range(5)] +
                         ["list-theirs-%d" % i for i in range(3)])
        self.assertEqual([s["id"] for s in self.m.sales(token=self.m.op, query=q)],
                         ["list-mine-%d" % i for i in range(5)])
        self.assertEqual([s["id"] for s in self.m.sales(token=self.m.op2, query=q)],
                         ["list-theirs-%d" % i for i in range(3)])
        self.assertEqual(len(self.m.sales(token=self.m.coord, query="&stall_id=%d" % theirs)), 3)
        # Without filters an operator sees its own stalls' sales only.
        self.assertTrue(all(s["operator_id"] == self.m.op_id for s in self.m.sales(token=self.m.op)))
        r = self.srv.get("/api/v1/sales?stall_id=%d" % theirs, token=self.m.op)
        self.assertProblem(r, 403, "forbidden")
        r = self.srv.get("/api/v1/sales", token=self.m.buyer)
        self.assertProblem(r, 403, "forbidden")
        r = self.srv.get("/api/v1/sales?stall_id=abc", token=self.m.admin)
        self.assertProblem(r, 400, "validation_failed", "stall_id")
        r = self.srv.get("/api/v1/sales?cursor=garbage", token=self.m.admin)
        self.assertProblem(r, 400, "validation_failed", "cursor")
        # Pages of 2 walk the same list.
        ids, cursor = [], None
        while True:
            path = "/api/v1/sales?limit=2" + q + ("&cursor=" + cursor if cursor else "")
            page = check(self.srv.get(path, token=self.m.coord), 200)
            self.assertLessEqual(len(page["items"]), 2)
            ids += [s["id"] for s in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(len(ids), 8)
        self.assertEqual(ids, [s["id"] for s in self.m.sales(query=q)])


if __name__ == "__main__":
    harness.main()
