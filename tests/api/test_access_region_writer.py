"""A scoped coordinator's region checks for producer and stall writes run
in the writer's transaction, the one that then writes: a producer moved
to another region after the request arrived cannot be written to through
a check that read the old region.

The race is set up so that the answer is certain with the rule in place:
this test holds the database's write lock (SQLite's, or on PostgreSQL
the advisory lock every marketd writer takes, as a second node would)
and moves the producer (not yet committed) while the coordinator's
request arrives; the writer can act
only after that move commits, so it must see the new region and answer
403. (Before the rule, the router's check read the old region on the
worker thread and the write went through. Whether the request had reached
that check before the move commits is not observable from outside, so
before the fix this test failed only when it had; after, it cannot fail.)"""
import threading
import time

import harness
from orders_fixture import Shop, check

HOLD = 1.0  # seconds the move stays uncommitted: well below the busy timeout


class RegionChecksInTheWriter(harness.ServerTest):
    threads = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = Shop(cls.srv)

    def raced(self, producer, send):
        """send() runs while another connection holds the write lock with
        producer moved to qingyuan; returns send's response."""
        with self.srv.sql() as db, db.hold_write_lock(
                ("UPDATE producers SET region_code = 'qingyuan' WHERE id = ?", (producer,))):
            out = {}
            t = threading.Thread(target=lambda: out.update(r=send()))
            t.start()
            t.join(HOLD)
            # Still waiting for the writer, which waits for this lock.
            self.assertTrue(t.is_alive(), out)
        t.join(60)
        self.assertFalse(t.is_alive())
        return out["r"]

    def new_producer(self):
        return check(self.srv.post("/api/v1/producers", {
            "name": "贞丰合作社 %f" % time.time(), "region_code": "zhenfeng",
            "kind": "cooperative", "households": 10, "poor_households": 2},
            token=self.shop.admin))["id"]

    def test_producer_patch_checks_the_region_it_writes(self):
        p = self.new_producer()
        r = self.raced(p, lambda: self.srv.request(
            "PATCH", "/api/v1/producers/%d" % p, {"households": 99},
            token=self.shop.scoped, conn=self.srv.connect()))
        self.assertProblem(r, 403, "forbidden")
        got = check(self.srv.get("/api/v1/producers/%d" % p), 200)
        self.assertEqual((got["region_code"], got["households"]), ("qingyuan", 10))

    def test_stall_create_checks_the_region_it_writes(self):
        p = self.new_producer()
        day = self.shop.day
        r = self.raced(p, lambda: self.srv.request(
            "POST", "/api/v1/market-days/%d/stalls" % day,
            {"operator_id": self.shop.op_id, "producer_id": p, "label": "race-1"},
            token=self.shop.scoped, conn=self.srv.connect()))
        self.assertProblem(r, 403, "forbidden", None)
        labels = [s["label"] for s in check(self.srv.get(
            "/api/v1/market-days/%d/stalls?limit=200" % day), 200)["items"]]
        self.assertNotIn("race-1", labels)

    def test_the_rule_still_holds_without_a_race(self):
        p = self.new_producer()
        r = self.srv.patch("/api/v1/producers/%d" % p, {"households": 11},
                           token=self.shop.scoped)
        self.assertEqual(r.status, 200, r)
        other = self.shop.producers["qingyuan"]
        r = self.srv.patch("/api/v1/producers/%d" % other, {"households": 11},
                           token=self.shop.scoped)
        self.assertProblem(r, 403, "forbidden")
        r = self.srv.post("/api/v1/market-days/%d/stalls" % self.shop.day,
                          {"operator_id": self.shop.op_id, "producer_id": other,
                           "label": "other-1"}, token=self.shop.scoped)
        self.assertProblem(r, 403, "forbidden")


if __name__ == "__main__":
    harness.main()
