"""A lost batch: when the writer's commit fails, every request of the
batch is refused with a 503 problem, also those that only read (an
Idempotency-Key replay, a repeated payment callback), and nothing of the
batch is stored. The commit is made to fail by the test-only hook
MARKETD_TEST_FAIL_COMMIT: while the file it names exists, every batch is
rolled back at its commit as on a failing disk."""
import os

import harness
from orders_fixture import Shop, check


class LostBatch(harness.ServerTest):
    threads = 2

    @classmethod
    def setUpClass(cls):
        cls.flag = None
        srv = harness.Server(threads=cls.threads)
        cls.flag = os.path.join(srv.dir, "fail-commit")
        srv.env["MARKETD_TEST_FAIL_COMMIT"] = cls.flag
        cls.srv = srv.start()
        cls.addClassCleanup(cls._kill_leftover, cls.srv)
        cls.shop = Shop(cls.srv)

    def fail_commits(self, on):
        if on:
            open(self.flag, "w").close()
        elif os.path.exists(self.flag):
            os.unlink(self.flag)

    def tearDown(self):
        self.fail_commits(False)

    def test_every_request_of_a_lost_batch_is_refused(self):
        shop = self.shop
        p = shop.product(1200, 50)
        order = check(shop.order([(p, 2)], key="lost-batch-1"))
        check(shop.pay(order["id"], order["total_fen"], "txn-lost-1"), 200)
        orders_before = len(shop.orders())

        self.fail_commits(True)
        # Reads of what is stored, answered on the writer: refused too.
        r = shop.order([(p, 2)], key="lost-batch-1")
        self.assertProblem(r, 503, "unavailable")
        r = shop.pay(order["id"], order["total_fen"], "txn-lost-1")
        self.assertProblem(r, 503, "unavailable")
        # A new order: refused and not stored.
        r = shop.order([(p, 1)], key="lost-batch-2")
        self.assertProblem(r, 503, "unavailable")
        self.fail_commits(False)

        # Reads go on, and nothing of the lost batches is there.
        self.assertEqual(len(shop.orders()), orders_before)
        self.assertEqual(shop.stock(p), 48)
        # Once commits work again, the replay answers the same order.
        r = shop.order([(p, 2)], key="lost-batch-1")
        self.assertIn(r.status, (200, 201), r)
        self.assertEqual(r.json["id"], order["id"])
        self.assertEqual(check(shop.get(order["id"]), 200)["status"], "paid")
        shop.check_ledger()


if __name__ == "__main__":
    harness.main()
