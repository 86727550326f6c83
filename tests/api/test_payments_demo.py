"""The demo payment step, POST /api/v1/demo/payments/{id}: only a server
started with --demo has it. There a buyer pays its own placed order (the
server signs the provider's callback with its demo secret and applies
it), paying again changes nothing, and every refusal changes nothing.
Without --demo the path does not exist: a 404 problem for every method
and caller, and the order stays placed."""
import unittest

import harness
from orders_fixture import Shop, check

DEMO = "/api/v1/demo/payments/%d"


class DemoPayments(harness.ServerTest):
    server_args = ("--demo",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = Shop(cls.srv)

    def pay(self, order_id, token):
        return self.srv.post(DEMO % order_id, token=token)

    def test_buyer_pays_its_order(self):
        p = self.shop.product(1250, 10)
        o = self.shop.placed([(p, 3)])
        r = self.pay(o["id"], self.shop.buyer)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["id"], o["id"])
        self.assertEqual(r.json["status"], "paid")
        self.assertEqual(r.json["total_fen"], 3750)
        self.assertEqual(self.shop.status(o["id"]), "paid")
        # Again: the same demo transaction, 200 and nothing changes.
        before = check(self.shop.get(o["id"]), 200)
        r = self.pay(o["id"], self.shop.buyer)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "paid")
        self.assertEqual(check(self.shop.get(o["id"]), 200), before)
        # The provider's real callback for another transaction: already paid.
        self.assertProblem(self.shop.pay(o["id"], 3750, "wx-after-demo"), 409,
                           "invalid_state")
        self.shop.check_ledger()

    def test_paid_order_goes_on_as_any_paid_order(self):
        p = self.shop.product(800, 5)
        o = self.shop.placed([(p, 1)])
        check(self.pay(o["id"], self.shop.buyer), 200)
        r = self.shop.act(o["id"], "cancel", self.shop.buyer)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["refund_fen"], 800)

    def test_another_buyers_order_is_not_found(self):
        p = self.shop.product(500, 5)
        o = self.shop.placed([(p, 1)])
        self.assertProblem(self.pay(o["id"], self.shop.buyer2), 404, "not_found")
        self.assertEqual(self.shop.status(o["id"]), "placed")

    def test_unknown_order_is_not_found(self):
        self.assertProblem(self.pay(999999, self.shop.buyer), 404, "not_found")
        self.assertProblem(self.srv.post("/api/v1/demo/payments/abc",
                                         token=self.shop.buyer), 404, "not_found")

    def test_cancelled_order_cannot_be_paid(self):
        p = self.shop.product(500, 5)
        o = self.shop.placed([(p, 1)])
        check(self.shop.act(o["id"], "cancel", self.shop.buyer), 200)
        self.assertProblem(self.pay(o["id"], self.shop.buyer), 409, "invalid_state")
        self.assertEqual(self.shop.status(o["id"]), "cancelled")

    def test_only_buyers(self):
        p = self.shop.product(500, 5)
        o = self.shop.placed([(p, 1)])
        self.assertProblem(self.pay(o["id"], None), 401, "unauthorized")
        for token in (self.shop.op, self.shop.coord, self.shop.admin):
            self.assertProblem(self.pay(o["id"], token), 403, "forbidden")
        self.assertEqual(self.shop.status(o["id"]), "placed")

    def test_get_is_not_allowed(self):
        r = self.srv.get(DEMO % 1, token=self.shop.buyer)
        self.assertProblem(r, 405, "method_not_allowed")

    def test_chinese_detail(self):
        r = self.srv.post(DEMO % 999999, token=self.shop.buyer,
                          headers={"Accept-Language": "zh-CN"})
        self.assertProblem(r, 404, "not_found")
        self.assertEqual(r.json["detail"], "没有订单 999999")


class DemoWithoutSecret(unittest.TestCase):
    """--demo allows a missing payment secret; the demo step then has
    nothing to sign with and says so."""

    def test_no_secret(self):
        srv = harness.Server(args=["--demo"])
        del srv.env["MARKETD_PAYMENT_SECRET"]
        srv.start()
        self.addCleanup(srv.cleanup)
        self.addCleanup(srv.stop)
        shop = Shop(srv)
        p = shop.product(500, 5)
        o = shop.placed([(p, 1)])
        r = srv.post(DEMO % o["id"], token=shop.buyer)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["code"], "invalid_state")
        self.assertEqual(shop.status(o["id"]), "placed")


class NoDemo(harness.ServerTest):
    """Without --demo the route does not exist."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = Shop(cls.srv)

    def test_not_found(self):
        p = self.shop.product(500, 5)
        o = self.shop.placed([(p, 1)])
        for token in (None, self.shop.buyer, self.shop.admin):
            for method in ("POST", "GET"):
                with self.subTest(method=method, token=bool(token)):
                    r = self.srv.request(method, DEMO % o["id"], token=token)
                    self.assertProblem(r, 404, "not_found")
        self.assertEqual(self.shop.status(o["id"]), "placed")
        # The provider's callback is the only way to pay.
        check(self.shop.pay(o["id"], o["total_fen"], "wx-1"), 200)
        self.assertEqual(self.shop.status(o["id"]), "paid")


if __name__ == "__main__":
    harness.main()
