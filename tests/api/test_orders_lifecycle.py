"""An order's life: placed → paid → ready → fulfilled, and cancelled from
placed, paid or ready, each by the roles the contract names. Cancelling
puts the stock back exactly once and refunds a paid order. Every
transition the contract does not allow is 409 invalid_state (one test
each, generated below) and changes nothing."""
import harness
from orders_fixture import Shop, check, delivery, pickup


class Lifecycle(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s = Shop(cls.srv)
        cls.plums = cls.s.product(1500, 100000, name="贞丰李子")

    def make(self, status, fulfillment=None, quantity=2, token=None):
        """An order brought to status by the legal path; returns it."""
        s = self.s
        o = s.placed([(self.plums, quantity)], fulfillment=fulfillment, token=token)
        path = {"placed": [], "paid": ["pay"], "ready": ["pay", "ready"],
                "fulfilled": ["pay", "ready", "fulfil"], "cancelled": ["cancel"]}[status]
        for step in path:
            if step == "pay":
                o = s.paid(o)
            else:
                o = check(s.act(o["id"], step, s.coord), 200)
        self.assertEqual(o["status"], status)
        return o

    def assertUnchanged(self, before):
        after = check(self.s.get(before["id"]), 200)
        self.assertEqual(after, before)

    # --- the legal transitions -----------------------------------------
    def test_placed_paid_ready_fulfilled(self):
        s = self.s
        o = s.placed([(self.plums, 3)])
        self.assertEqual(o["status"], "placed")
        o = s.paid(o)
        self.assertEqual((o["status"], o["refund_fen"]), ("paid", 0))
        o = check(s.act(o["id"], "ready", s.op), 200)
        self.assertEqual(o["status"], "ready")
        o = check(s.act(o["id"], "fulfil", s.op), 200)
        self.assertEqual((o["status"], o["refund_fen"]), ("fulfilled", 0))
        self.assertEqual(o["total_fen"], 4500)
        s.check_ledger()

    def test_buyer_cancels_placed_order_stock_back_once(self):
        s = self.s
        p = s.product(1000, 10)
        o = s.placed([(p, 3)])
        self.assertEqual(s.stock(p), 7)
        c = check(s.act(o["id"], "cancel", s.buyer), 200)
        self.assertEqual((c["status"], c["refund_fen"]), ("cancelled", 0))
        self.assertEqual(s.stock(p), 10)
        # Cancelling again is refused and puts nothing back.
        self.assertProblem(s.act(o["id"], "cancel", s.buyer), 409, "invalid_state")
        self.assertProblem(s.act(o["id"], "cancel", s.admin), 409, "invalid_state")
        self.assertEqual(s.stock(p), 10)
        s.check_ledger()

    def test_buyer_cancels_paid_order_with_refund(self):
        s = self.s
        p = s.product(1000, 10)
        q = s.product(250, 10)
        o = s.paid(s.placed([(p, 2), (q, 4)]))
        c = check(s.act(o["id"], "cancel", s.buyer), 200)
        self.assertEqual((c["status"], c["total_fen"], c["refund_fen"]),
                         ("cancelled", 3000, 3000))
        self.assertEqual((s.stock(p), s.stock(q)), (10, 10))
        s.check_ledger()

    def test_staff_cancel_ready_order_with_refund(self):
        s = self.s
        for token in (s.coord, s.admin):
            p = s.product(700, 5)
            o = s.paid(s.placed([(p, 5)]))
            o = check(s.act(o["id"], "ready", s.op), 200)
            self.assertEqual(s.stock(p), 0)
            c = check(s.act(o["id"], "cancel", token), 200)
            self.assertEqual((c["status"], c["refund_fen"]), ("cancelled", 3500))
            self.assertEqual(s.stock(p), 5)
        s.check_ledger()

    def test_staff_cancel_placed_order(self):
        s = self.s
        o = s.placed([(self.plums, 1)])
        c = check(s.act(o["id"], "cancel", s.admin), 200)
        self.assertEqual((c["status"], c["refund_fen"]), ("cancelled", 0))

    def test_deliveries_are_made_ready_by_staff_not_operators(self):
        s = self.s
        o = s.paid(s.placed([(self.plums, 1)], fulfillment=delivery()))
        for op in (s.op, s.op2):
            self.assertProblem(s.act(o["id"], "ready", op), 404, "not_found")
        self.assertUnchanged(o)
        o = check(s.act(o["id"], "ready", s.coord), 200)
        self.assertEqual(o["status"], "ready")
        self.assertProblem(s.act(o["id"], "fulfil", s.op), 404, "not_found")
        o = check(s.act(o["id"], "fulfil", s.admin), 200)
        self.assertEqual(o["status"], "fulfilled")

    def test_operator_only_at_its_market_days(self):
        s = self.s
        o = s.paid(s.placed([(self.plums, 1)], fulfillment=pickup(s.day2)))
        self.assertProblem(s.act(o["id"], "ready", s.op), 404, "not_found")
        self.assertUnchanged(o)
        o = check(s.act(o["id"], "ready", s.op2), 200)
        self.assertProblem(s.act(o["id"], "fulfil", s.op), 404, "not_found")
        self.assertUnchanged(o)
        o = check(s.act(o["id"], "fulfil", s.op2), 200)
        self.assertEqual(o["status"], "fulfilled")

    def test_who_may_not(self):
        s = self.s
        o = s.paid(s.placed([(self.plums, 1)]))
        # Roles the route does not allow: 403 before anything is looked up.
        self.assertProblem(s.act(o["id"], "cancel", s.op), 403, "forbidden")
        for action in ("ready", "fulfil"):
            self.assertProblem(s.act(o["id"], action, s.buyer), 403, "forbidden")
        # Another buyer, a coordinator of another region: 404.
        self.assertProblem(s.act(o["id"], "cancel", s.buyer2), 404, "not_found")
        qy = s.product(3200, 10, region="qingyuan")
        other = s.paid(s.placed([(qy, 1)]))
        for action in ("cancel", "ready", "fulfil"):
            self.assertProblem(s.act(other["id"], action, s.scoped), 404, "not_found")
        self.assertUnchanged(o)
        self.assertUnchanged(other)
        # The scoped coordinator may act on its region's orders.
        self.assertEqual(check(s.act(o["id"], "ready", s.scoped), 200)["status"], "ready")
        for action in ("cancel", "ready", "fulfil"):
            self.assertProblem(s.act(999999, action, s.admin), 404, "not_found")
            self.assertProblem(self.srv.post("/api/v1/orders/x/%s" % action,
                                             token=s.admin), 404, "not_found")
            self.assertProblem(self.srv.post("/api/v1/orders/%d/%s" % (o["id"], action)),
                               401, "unauthorized")


# Every transition the contract does not allow, one test each: (status,
# action, who). "pay" is a payment callback with a new transaction id.
ILLEGAL = [
    ("paid", "pay", "provider"), ("ready", "pay", "provider"),
    ("fulfilled", "pay", "provider"), ("cancelled", "pay", "provider"),
    ("placed", "ready", "coord"), ("ready", "ready", "coord"),
    ("fulfilled", "ready", "coord"), ("cancelled", "ready", "coord"),
    ("placed", "ready", "op"), ("fulfilled", "ready", "op"),
    ("placed", "fulfil", "coord"), ("paid", "fulfil", "coord"),
    ("fulfilled", "fulfil", "coord"), ("cancelled", "fulfil", "coord"),
    ("paid", "fulfil", "op"), ("cancelled", "fulfil", "op"),
    ("fulfilled", "cancel", "coord"), ("cancelled", "cancel", "coord"),
    ("fulfilled", "cancel", "admin"), ("cancelled", "cancel", "admin"),
    ("ready", "cancel", "buyer"), ("fulfilled", "cancel", "buyer"),
    ("cancelled", "cancel", "buyer"),
]


def _illegal(status, action, who):
    def test(self):
        s = self.s
        o = self.make(status)
        stock = s.stock(self.plums)
        if action == "pay":
            r = s.pay(o["id"], o["total_fen"], "txn-illegal-%d" % o["id"])
        else:
            r = s.act(o["id"], action, getattr(s, who))
        self.assertProblem(r, 409, "invalid_state")
        self.assertUnchanged(o)
        self.assertEqual(s.stock(self.plums), stock)
        s.check_ledger()
    test.__doc__ = "%s order: %s by %s is 409 invalid_state" % (status, action, who)
    return test


for _status, _action, _who in ILLEGAL:
    setattr(Lifecycle, "test_illegal_%s_%s_by_%s" % (_action, _status, _who),
            _illegal(_status, _action, _who))


if __name__ == "__main__":
    harness.main()
