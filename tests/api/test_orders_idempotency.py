"""Idempotency-Key on POST /api/v1/orders: a buyer whose response was lost
retries with the same key and gets the first response again (201,
Idempotent-Replayed: true), never a second order; the same key with
another body is 409 idempotency_mismatch; keys are per buyer, only an
order placed stores its key, malformed keys are refused, identical
requests arriving together make one order, and keys live at least 24
hours (older than 48 are forgotten)."""
import json
import threading
import time

import harness
from orders_fixture import Shop, check, pickup


class IdempotencyKeys(harness.ServerTest):
    threads = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s = Shop(cls.srv)

    def count(self):
        return len(self.s.orders())

    def test_retry_gets_the_first_response(self):
        s = self.s
        p = s.product(1500, 20)
        first = s.order([(p, 2)], key="retry-1", note="第一次")
        self.assertEqual(first.status, 201, first)
        self.assertIsNone(first.header("Idempotent-Replayed"))
        before = self.count()
        for _ in range(3):
            again = s.order([(p, 2)], key="retry-1", note="第一次")
            self.assertEqual(again.status, 201, again)
            self.assertEqual(again.header("Idempotent-Replayed"), "true")
            self.assertEqual(again.json, first.json)
        self.assertEqual(self.count(), before)
        self.assertEqual(s.stock(p), 18)
        # The same order written with its keys in another order and other
        # spacing is the same body.
        body = {"note": "第一次", "fulfillment": {"market_day_id": s.day, "type": "pickup"},
                "lines": [{"quantity": 2, "product_id": p}]}
        r = self.srv.request("POST", "/api/v1/orders", token=s.buyer,
                             raw=json.dumps(body, indent=3).encode(),
                             headers={"Idempotency-Key": "retry-1"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("Idempotent-Replayed"), "true")
        self.assertEqual(r.json, first.json)
        # Still the first response after the order was paid.
        s.paid(first.json)
        again = s.order([(p, 2)], key="retry-1", note="第一次")
        self.assertEqual(again.json, first.json)
        self.assertEqual(again.json["status"], "placed")
        self.assertEqual(s.status(first.json["id"]), "paid")
        self.assertEqual(self.count(), before)
        s.check_ledger()

    def test_same_key_other_body(self):
        s = self.s
        p = s.product(1000, 20)
        q = s.product(1000, 20)
        first = check(s.order([(p, 1)], key="mismatch-1"))
        before = self.count()
        for lines, kw in (([(p, 2)], {}), ([(q, 1)], {}), ([(p, 1)], {"note": "x"}),
                          ([(p, 1)], {"fulfillment": pickup(s.day2)})):
            r = s.order(lines, key="mismatch-1", **kw)
            self.assertProblem(r, 409, "idempotency_mismatch", "Idempotency-Key")
        self.assertEqual(self.count(), before)
        self.assertEqual((s.stock(p), s.stock(q)), (19, 20))
        self.assertEqual(check(s.get(first["id"]), 200)["lines"][0]["quantity"], 1)

    def test_keys_are_per_buyer(self):
        s = self.s
        p = s.product(1000, 20)
        a = check(s.order([(p, 1)], key="shared-key"))
        r = s.order([(p, 1)], key="shared-key", token=s.buyer2)
        self.assertEqual(r.status, 201, r)
        self.assertIsNone(r.header("Idempotent-Replayed"))
        self.assertNotEqual(r.json["id"], a["id"])
        self.assertEqual(r.json["buyer_id"], s.buyer2_id)
        self.assertEqual(s.stock(p), 18)

    def test_malformed_keys(self):
        s = self.s
        p = s.product(1000, 20)
        before = self.count()
        for key in ("", "k" * 65, "tab\there", "caf\u00e9", "del\x7f"):
            with self.subTest(key=key):
                r = s.order([(p, 1)], key=key)
                self.assertProblem(r, 400, "validation_failed", "Idempotency-Key")
        self.assertEqual(self.count(), before)
        self.assertEqual(s.stock(p), 20)
        for key in ("k" * 64, "a", "with space", "~!@#$%^&*()_+{}|:<>?"):
            with self.subTest(key=key):
                r = s.order([(p, 1)], key=key)
                self.assertEqual(r.status, 201, r)
                self.assertIsNone(r.header("Idempotent-Replayed"))

    def test_only_a_placed_order_stores_its_key(self):
        s = self.s
        p = s.product(1000, 1)
        r = s.order([(p, 2)], key="failed-first")
        self.assertProblem(r, 409, "out_of_stock", "lines[0].quantity")
        r = s.order([(p, 0)], key="failed-first")
        self.assertProblem(r, 400, "validation_failed", "lines[0].quantity")
        # The key is free: another body may use it, and places an order.
        r = s.order([(p, 1)], key="failed-first")
        self.assertEqual(r.status, 201, r)
        self.assertIsNone(r.header("Idempotent-Replayed"))
        self.assertEqual(s.stock(p), 0)
        # A retry of the refused body now meets the stored key.
        r = s.order([(p, 2)], key="failed-first")
        self.assertProblem(r, 409, "idempotency_mismatch", "Idempotency-Key")

    def test_identical_requests_at_the_same_moment(self):
        s = self.s
        p = s.product(1200, 100)
        n = 20
        conns = [self.srv.connect() for _ in range(n)]
        for c in conns:
            self.srv.get("/healthz", conn=c)
        start = threading.Barrier(n)
        results = [None] * n

        def go(i):
            start.wait()
            results[i] = s.order([(p, 3)], key="together", conn=conns[i])

        threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c in conns:
            c.close()
        for r in results:
            self.assertEqual(r.status, 201, r)
        self.assertEqual(len({r.json["id"] for r in results}), 1)
        self.assertEqual(sum(r.header("Idempotent-Replayed") is None for r in results), 1)
        self.assertEqual(s.stock(p), 97)
        mine = [o for o in s.orders() if o["lines"][0]["product_id"] == p]
        self.assertEqual(len(mine), 1)
        s.check_ledger()

    def test_keys_live_at_least_a_day(self):
        s = self.s
        p = s.product(100, 100)
        day_old = check(s.order([(p, 1)], key="a-day-old"))
        stale = check(s.order([(p, 1)], key="two-days-old"))
        now = int(time.time())
        # Age the stored keys as if time had passed (the server has no
        # clock to wind; its database can be edited alongside it).
        with self.srv.sql() as db:
            for key, age in (("a-day-old", 25 * 3600), ("two-days-old", 49 * 3600)):
                self.assertEqual(db.execute(
                    ("UPDATE idempotency_keys SET created_at = ? WHERE key = ?",
                     (now - age, key))), 1, key)
        # Storing another key forgets keys older than 48 hours.
        check(s.order([(p, 1)], key="fresh"))
        r = s.order([(p, 1)], key="a-day-old")
        self.assertEqual(r.header("Idempotent-Replayed"), "true")
        self.assertEqual(r.json["id"], day_old["id"])
        r = s.order([(p, 1)], key="two-days-old")
        self.assertEqual(r.status, 201, r)
        self.assertIsNone(r.header("Idempotent-Replayed"))
        self.assertNotEqual(r.json["id"], stale["id"])


if __name__ == "__main__":
    harness.main()
