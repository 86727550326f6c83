"""Two marketd nodes over one PostgreSQL database (issue 13).

Races across the nodes: 100 buyers spread over both race for the last
10 units and exactly 10 are sold; a sale id or an Idempotency-Key sent
again to the other node is stored once; a payment callback on one node
and a cancel on the other end in one of the two legal histories.

A throwaway cluster (api/pgcluster.py) holds the database; two marketd
processes serve it, each with its own response cache. What one node
changes, the other serves at once: a product changed through node A is
shown by node B (whose cache held the old bytes) as soon as the change's
notification arrives, and B then never answers 304 to the old ETag. A
row locked by another session (psql, in an open transaction) holds up
no read on either node: PostgreSQL's readers do not wait for writers.
"""
import concurrent.futures
import hashlib
import hmac
import os
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402
import orders_fixture  # noqa: E402
import pgcluster  # noqa: E402


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


def cache_hits(srv):
    for line in srv.get("/metrics").body.decode().splitlines():
        if line.startswith("marketd_response_cache_hits_total "):
            return int(line.split()[1])
    raise AssertionError("no marketd_response_cache_hits_total in /metrics")


@unittest.skipUnless(pgcluster.available(), "PostgreSQL is not installed")
class TwoNodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster, cls.uri = pgcluster.for_class(cls)
        cls.a = harness.node_for(cls, cls.uri)
        cls.b = harness.node_for(cls, cls.uri)
        cls.admin = cls.a.user("admin", "admin")
        check(cls.a.post("/api/v1/regions", {
            "code": "zhenfeng", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "贵州", "partnership": "east_west"}, token=cls.admin))
        cls.producer = check(cls.a.post("/api/v1/producers", {
            "name": "贞丰李子合作社", "region_code": "zhenfeng", "kind": "cooperative",
            "households": 120, "poor_households": 30}, token=cls.admin))["id"]

    def product(self, name, price):
        return check(self.a.post("/api/v1/products", {
            "name": name, "category": "fruit", "unit": "500g 袋", "price_fen": price,
            "stock": 100, "producer_id": self.producer}, token=self.admin))["id"]

    def until(self, what, f, seconds=30):
        """Polls f until it is true (a bound for a failure, not a timing
        the test relies on); the seconds it took."""
        start = time.monotonic()
        while not f():
            if time.monotonic() - start > seconds:
                self.fail("timed out waiting for " + what)
            time.sleep(0.02)
        return time.monotonic() - start

    def test_a_change_on_one_node_shows_on_the_other(self):
        pid = self.product("贞丰李子", 1500)
        path = "/api/v1/products/%d" % pid
        # B reads it twice: the second answer is its cache's.
        first = self.b.get(path)
        self.assertEqual(first.status, 200)
        etag = first.header("ETag")
        # B answers from its cache on PostgreSQL too (once its listener
        # is connected), so a stale cache would show below.
        def cached():
            hits = cache_hits(self.b)
            self.assertEqual(self.b.get(path).header("ETag"), etag)
            return cache_hits(self.b) > hits
        self.until("node B to cache the product", cached)
        self.assertEqual(self.b.get(path, headers={"If-None-Match": etag}).status, 304)

        r = self.a.patch(path, {"price_fen": 1200}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        # A, which made the change, serves it at once.
        self.assertEqual(self.a.get(path).json["price_fen"], 1200)
        took = self.until("node B to serve the new price",
                          lambda: self.b.get(path).json["price_fen"] == 1200)
        print("\n  node B served the change %.0f ms after node A's reply" % (took * 1000))
        # B no longer takes the old ETag for current.
        r = self.b.get(path, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 200)
        self.assertNotEqual(r.header("ETag"), etag)
        self.assertEqual(r.json["price_fen"], 1200)

    def test_the_list_follows_a_new_product_on_the_other_node(self):
        before = self.b.get("/api/v1/products?limit=200").json["items"]
        self.b.get("/api/v1/products?limit=200")  # cached now
        pid = self.product("新疆灰枣", 3900)
        self.until("node B's list to hold the new product", lambda: any(
            p["id"] == pid for p in self.b.get("/api/v1/products?limit=200").json["items"]))
        after = self.b.get("/api/v1/products?limit=200").json["items"]
        self.assertEqual(len(after), len(before) + 1)

    def test_a_row_locked_from_psql_does_not_stop_reads(self):
        pid = self.product("贞丰古树茶", 16800)
        # A session holds the product's row locked in an open transaction
        # until told to let go.
        locker = subprocess.Popen(
            self.cluster._psql_cmd("market"),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        locker.stdin.write(("BEGIN; SELECT id FROM products WHERE id = %d FOR UPDATE;\n"
                            % pid).encode())
        locker.stdin.flush()
        self.until("psql to hold the row lock", lambda: self.cluster.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'market' "
            "AND state = 'idle in transaction' AND query LIKE '%FOR UPDATE%'",
            db="market") == [["1"]])
        try:
            done = []

            def read():
                for srv in (self.a, self.b):
                    c = srv.connect()
                    r = srv.request("GET", "/api/v1/products/%d" % pid, conn=c)
                    c.close()
                    done.append(r.status)
            t = threading.Thread(target=read)
            t.start()
            t.join(60)  # a failure bound: reads that waited for the lock never end
            self.assertFalse(t.is_alive(), "a read waited for a row lock")
            self.assertEqual(done, [200, 200])
        finally:
            locker.stdin.write(b"ROLLBACK;\n")
            locker.stdin.close()
            locker.wait(60)


    def test_a_read_waiting_on_a_lock_holds_up_nothing_else(self):
        """A query that waits on a lock (a table locked ACCESS EXCLUSIVE
        from psql) holds up its own database thread, not the event loop:
        a node with one worker thread goes on answering other requests."""
        pid = self.product("和田核桃", 2600)
        one = harness.Server(db=self.uri, threads=1).start()
        self.addCleanup(one.stop)
        locker = subprocess.Popen(
            self.cluster._psql_cmd("market"),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        locker.stdin.write(b"BEGIN; LOCK TABLE products IN ACCESS EXCLUSIVE MODE;\n")
        locker.stdin.flush()
        self.until("psql to hold the table lock", lambda: self.cluster.query(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'products' AND l.mode = 'AccessExclusiveLock' "
            "AND l.granted", db="market") == [["1"]])
        got = []

        def read():
            c = one.connect()
            got.append(one.request("GET", "/api/v1/products/%d" % pid, conn=c).status)
            c.close()
        t = threading.Thread(target=read)
        try:
            t.start()
            self.until("the product read to wait on the lock", lambda: self.cluster.query(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'products' AND NOT l.granted", db="market") != [["0"]])
            # Meanwhile the same worker answers requests that need no
            # products.
            for path in ("/healthz", "/api/v1/me"):
                c = one.connect()
                r = one.request("GET", path, token=self.admin, conn=c)
                self.assertEqual(r.status, 200, r)
                c.close()
            self.assertEqual(got, [])  # still waiting
        finally:
            locker.stdin.write(b"ROLLBACK;\n")
            locker.stdin.close()
            locker.wait(60)
        t.join(60)
        self.assertEqual(got, [200])


@unittest.skipUnless(pgcluster.available(), "PostgreSQL is not installed")
class RacesAcrossNodes(unittest.TestCase):
    BUYERS = 100

    @classmethod
    def setUpClass(cls):
        cls.cluster, uri = pgcluster.for_class(cls)
        # Making 100 buyers takes a while: keep-alive connections wait.
        cls.a = harness.node_for(cls, uri, ("--timeout", "300"))
        cls.b = harness.node_for(cls, uri, ("--timeout", "300"))
        cls.shop = orders_fixture.Shop(cls.a)

    def node(self, i):
        return self.a if i % 2 == 0 else self.b

    def test_100_buyers_over_both_nodes_for_the_last_10_units(self):
        s = self.shop

        def buyer(i):
            srv = self.node(i)
            name = "racer%03d" % i
            check(srv.post("/api/v1/auth/register", {"username": name, "password": "password123"}))
            return srv.login(name)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            tokens = list(pool.map(buyer, range(self.BUYERS)))
        plums = s.product(1500, 10, name="贞丰李子")
        conns = [self.node(i).connect() for i in range(self.BUYERS)]
        for i, c in enumerate(conns):
            self.assertEqual(self.node(i).get("/healthz", conn=c).status, 200)
        start = threading.Barrier(self.BUYERS)
        results = [None] * self.BUYERS

        def go(i):
            start.wait()
            results[i] = self.node(i).post("/api/v1/orders", {
                "lines": [{"product_id": plums, "quantity": 1}],
                "fulfillment": orders_fixture.pickup(s.day)}, token=tokens[i], conn=conns[i])
        threads = [threading.Thread(target=go, args=(i,)) for i in range(self.BUYERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c in conns:
            c.close()
        statuses = [r.status for r in results]
        self.assertEqual(statuses.count(201), 10, statuses)
        self.assertEqual(statuses.count(409), 90, statuses)
        print("\n  units sold through node A: %d, through node B: %d" % (
            sum(results[i].status == 201 for i in range(0, self.BUYERS, 2)),
            sum(results[i].status == 201 for i in range(1, self.BUYERS, 2))))
        self.assertEqual(s.stock(plums), 0)
        self.assertEqual(self.b.get("/api/v1/products/%d" % plums).json["stock"], 0)
        s.check_ledger()

    def test_a_sale_resent_to_the_other_node_is_stored_once(self):
        s = self.shop
        p = s.product(1000, 100)
        sale = {"id": "resent-to-b-0001", "stall_id": s.stall,
                "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "payment": "cash", "lines": [{"product_id": p, "quantity": 3}]}
        self.assertEqual(self.a.post("/api/v1/sales", sale, token=s.op).status, 201)
        r = self.b.post("/api/v1/sales", sale, token=s.op)
        self.assertEqual(r.status, 200, r)
        r = self.b.post("/api/v1/sales/batch", {"sales": [sale]}, token=s.op)
        self.assertEqual(r.json["results"][0]["status"], "duplicate", r)
        stored = [x for x in self.b.get("/api/v1/sales?limit=200", token=s.admin).json["items"]
                  if x["id"] == sale["id"]]
        self.assertEqual(len(stored), 1)
        self.assertEqual(s.stock(p), 97)

    def test_an_idempotency_key_sent_again_to_the_other_node(self):
        s = self.shop
        p = s.product(1000, 100)
        body = {"lines": [{"product_id": p, "quantity": 2}],
                "fulfillment": orders_fixture.pickup(s.day)}
        key = {"Idempotency-Key": "across-nodes-1"}
        first = self.a.post("/api/v1/orders", body, token=s.buyer, headers=key)
        self.assertEqual(first.status, 201, first)
        again = self.b.post("/api/v1/orders", body, token=s.buyer, headers=key)
        self.assertEqual(again.status, 201, again)
        self.assertEqual(again.header("Idempotent-Replayed"), "true")
        self.assertEqual(again.json["id"], first.json["id"])
        self.assertEqual(s.stock(p), 98)

    def test_a_payment_and_a_cancel_race_on_different_nodes(self):
        s = self.shop
        p = s.product(1000, 1000)
        outcomes = set()
        for k in range(10):
            order = check(s.order([(p, 1)]))
            oid, total = order["id"], order["total_fen"]
            raw = ('{"order_id": %d, "amount_fen": %d, "provider": "wechat", '
                   '"transaction_id": "race-%d"}' % (oid, total, oid)).encode()
            sig = hmac.new(harness.PAYMENT_SECRET.encode(), raw, hashlib.sha256).hexdigest()
            start = threading.Barrier(2)
            got = {}

            def pay():
                start.wait()
                got["pay"] = self.a.request("POST", "/api/v1/payments/callback", raw=raw,
                                            headers={"X-Signature": sig}).status

            def cancel():
                start.wait()
                got["cancel"] = self.b.post("/api/v1/orders/%d/cancel" % oid,
                                            token=s.buyer).status
            ts = [threading.Thread(target=pay), threading.Thread(target=cancel)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            final = check(s.get(oid), 200)
            # Paid then cancelled (refunded), or cancelled then the
            # payment refused: nothing else.
            if got["pay"] == 200:
                self.assertEqual((got["cancel"], final["status"]), (200, "cancelled"), got)
                self.assertEqual(final.get("refund_fen"), total)
                outcomes.add("paid first")
            else:
                self.assertEqual((got["pay"], got["cancel"], final["status"]),
                                 (409, 200, "cancelled"), got)
                outcomes.add("cancelled first")
        self.assertEqual(s.stock(p), 1000)
        s.check_ledger()
        print("\n  outcomes seen: %s" % ", ".join(sorted(outcomes)))


if __name__ == "__main__":
    harness.main()
