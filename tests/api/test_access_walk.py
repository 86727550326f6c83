"""Ids cannot be walked. A buyer counting through every order id sees
its own orders and, for every other one, the very 404 a missing id gets
(the answer does not tell another buyer's order from none); acting on
them (cancel, ready, fulfil) is the same 404 and changes nothing. An
operator counting through the orders sees only the pickups at its own
market days. An operator trying another operator's sales gets 403
(the contract's answer for sales) without any of the sale's content,
and can neither void them, list them, nor record at that stall; its
lists and close-out reports hold its own stalls only."""
import re

import harness
from orders_fixture import Shop, check, delivery, pickup

ACTIONS = ("cancel", "ready", "fulfil")


def sale(sid, stall, product, quantity=1):
    return {"id": sid, "stall_id": stall, "recorded_at": "2026-05-01T03:00:00Z",
            "payment": "wechat", "lines": [{"product_id": product, "quantity": quantity}]}


class Walk(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.s = Shop(cls.srv)
        cls.p = s.product(1500, 10000, name="贞丰李子")
        # buyer1: a pickup at op1's day (paid), one at op2's day (paid), a
        # delivery; buyer2: a pickup at op1's day and a delivery.
        cls.b1 = [s.paid(s.placed([(cls.p, 1)], fulfillment=pickup(s.day)))["id"],
                  s.paid(s.placed([(cls.p, 2)], fulfillment=pickup(s.day2)))["id"],
                  s.placed([(cls.p, 3)], fulfillment=delivery())["id"]]
        cls.b2 = [s.placed([(cls.p, 4)], fulfillment=pickup(s.day), token=s.buyer2)["id"],
                  s.placed([(cls.p, 5)], fulfillment=delivery(), token=s.buyer2)["id"]]
        cls.top = max(cls.b1 + cls.b2)
        # Sales: op1 at its stall (s.stall, day), op2 at its stall (day2).
        cls.op1_sales = ["walk-op1-%04d" % i for i in range(3)]
        cls.op2_sales = ["walk-op2-%04d" % i for i in range(2)]
        for sid in cls.op1_sales:
            check(cls.srv.post("/api/v1/sales", sale(sid, s.stall, cls.p), token=s.op))
        for sid in cls.op2_sales:
            check(cls.srv.post("/api/v1/sales", sale(sid, s.stall2, cls.p), token=s.op2))

    def snapshot(self):
        """Every order as the admin sees it, and the stock."""
        return ({i: check(self.s.get(i), 200) for i in self.b1 + self.b2},
                self.s.stock(self.p))

    @staticmethod
    def shape(r, oid):
        """The problem with the id taken out: what a walker can compare."""
        j = dict(r.json)
        j["detail"] = re.sub(r"\b%d\b" % oid, "N", j.get("detail", ""))
        return r.status, j, r.header("content-type")

    def walk(self, token, mine, what):
        missing = self.shape(self.s.get(self.top + 1000, token=token), self.top + 1000)
        self.assertEqual(missing[0], 404, missing)
        for oid in range(1, self.top + 4):
            with self.subTest(who=what, order=oid):
                r = self.s.get(oid, token=token)
                if oid in mine:
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.json["id"], oid)
                else:
                    self.assertEqual(self.shape(r, oid), missing)

    def test_buyer_walks_orders(self):
        before = self.snapshot()
        self.walk(self.s.buyer2, set(self.b2), "buyer2")
        self.walk(self.s.buyer, set(self.b1), "buyer1")
        # Acting on another buyer's order: the same 404 as no order.
        missing = self.shape(self.s.act(self.top + 1000, "cancel", self.s.buyer2),
                             self.top + 1000)
        for oid in self.b1:
            r = self.s.act(oid, "cancel", self.s.buyer2)
            self.assertEqual(self.shape(r, oid), missing)
        self.assertEqual(self.snapshot(), before)
        # Lists: only one's own, whatever the filter.
        for query in ("", "&status=placed", "&status=paid"):
            self.assertTrue({o["id"] for o in self.s.orders(self.s.buyer2, query)}
                            <= set(self.b2), query)
            self.assertTrue({o["buyer_id"] for o in self.s.orders(self.s.buyer2, query)}
                            <= {self.s.buyer2_id}, query)
        self.assertEqual({o["id"] for o in self.s.orders(self.s.buyer2)}, set(self.b2))

    def test_operator_walks_orders(self):
        s = self.s
        before = self.snapshot()
        # op2 has a stall at day2 only: buyer1's second order.
        self.walk(s.op2, {self.b1[1]}, "op2")
        self.walk(s.op, {self.b1[0], self.b2[0]}, "op1")
        for oid in (self.b1[0], self.b1[2], self.b2[0], self.b2[1]):
            for action in ("ready", "fulfil"):
                with self.subTest(order=oid, action=action):
                    self.assertProblem(s.act(oid, action, s.op2), 404, "not_found")
        self.assertEqual(self.snapshot(), before)
        self.assertEqual({o["id"] for o in s.orders(s.op2)}, {self.b1[1]})
        # Operators may not cancel at all.
        self.assertProblem(s.act(self.b1[1], "cancel", s.op2), 403, "forbidden")

    def test_operator_tries_another_operators_sales(self):
        s, srv = self.s, self.srv
        stock = s.stock(self.p)
        for sid in self.op1_sales + ["walk-none-0001"]:
            with self.subTest(sale=sid):
                r = srv.get("/api/v1/sales/" + sid, token=s.op2)
                if sid.startswith("walk-none"):
                    self.assertProblem(r, 404, "not_found")
                    continue
                self.assertProblem(r, 403, "forbidden")
                self.assertNotIn(b"lines", r.body)
                self.assertNotIn(b"total_fen", r.body)
                r = srv.post("/api/v1/sales/%s/void" % sid, {"reason": "mine now"},
                             token=s.op2)
                self.assertProblem(r, 403, "forbidden")
                self.assertIs(check(srv.get("/api/v1/sales/" + sid, token=s.op), 200)
                              ["voided"], False)
        # Lists: its own stalls only, however asked.
        r = srv.get("/api/v1/sales?stall_id=%d" % s.stall, token=s.op2)
        self.assertProblem(r, 403, "forbidden", "stall_id")
        for query, want in (("", self.op2_sales), ("&market_day_id=%d" % s.day, []),
                            ("&market_day_id=%d" % s.day2, self.op2_sales)):
            seen = {x["id"] for x in s_sales(srv, s.op2, query)}
            self.assertEqual(seen, set(want), query)
        # Recording at the other's stall, alone or in a batch: 403, nothing stored.
        r = srv.post("/api/v1/sales", sale("walk-steal-01", s.stall, self.p), token=s.op2)
        self.assertProblem(r, 403, "forbidden", "stall_id")
        r = srv.post("/api/v1/sales/batch", {"sales": [sale("walk-steal-02", s.stall, self.p)]},
                     token=s.op2)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["results"][0]["status"],
                          r.json["results"][0]["error"]["status"]), ("error", 403))
        for sid in ("walk-steal-01", "walk-steal-02"):
            self.assertProblem(srv.get("/api/v1/sales/" + sid, token=s.admin), 404, "not_found")
        self.assertEqual(s.stock(self.p), stock)
        # Stalls and close-out reports: its own only.
        mine = check(srv.get("/api/v1/stalls/mine", token=s.op2), 200)["items"]
        self.assertEqual({x["id"] for x in mine}, {s.stall2})
        self.assertProblem(srv.get("/api/v1/reports/market-days/%d" % s.day, token=s.op2),
                           403, "forbidden")
        r = check(srv.get("/api/v1/reports/market-days/%d" % s.day2, token=s.op2), 200)
        self.assertEqual([x["stall_id"] for x in r["stalls"]], [s.stall2])


def s_sales(srv, token, query):
    out, cursor = [], None
    while True:
        page = check(srv.get("/api/v1/sales?limit=200" + query +
                             ("&cursor=" + cursor if cursor else ""), token=token), 200)
        out += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


if __name__ == "__main__":
    harness.main()
