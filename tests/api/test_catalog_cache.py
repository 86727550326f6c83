"""The response cache of the product list and product by id: a repeated
GET is answered from memory, and every write that changes what it shows
(a product's fields, its producer, its stock through a sale) is visible
to the very next GET on every worker thread."""
import gzip
import json
import os
import sqlite3
import threading

import harness
from sales_fixture import Market, check


class CatalogCache(harness.ServerTest):
    threads = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = Market(cls.srv)
        cls.p = cls.m.product(500, 40, name="贞丰李子 cache")

    def get_everywhere(self, path):
        """GETs path on several fresh connections, so both worker threads
        answer (and cache) it; returns the bodies."""
        out = []
        for _ in range(6):
            c = self.srv.connect()
            r = self.srv.request("GET", path, conn=c)
            self.assertEqual(r.status, 200, r)
            out.append(r)
            c.close()
        return out

    def test_repeat_is_identical_with_etag(self):
        a = self.srv.get("/api/v1/products/%d" % self.p)
        b = self.srv.get("/api/v1/products/%d" % self.p)
        self.assertEqual(a.status, 200)
        self.assertEqual(a.body, b.body)
        self.assertTrue(a.header("ETag"))
        self.assertEqual(a.header("ETag"), b.header("ETag"))
        r = self.srv.get("/api/v1/products/%d" % self.p,
                         headers={"If-None-Match": a.header("ETag")})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")

    def test_patch_is_seen_at_once(self):
        path = "/api/v1/products?producer=%d&limit=200" % self.m.producer
        before = self.get_everywhere(path)
        check(self.srv.patch("/api/v1/products/%d" % self.p,
                             {"name": "贞丰李子 renamed"}, token=self.m.admin), 200)
        for r in self.get_everywhere(path):
            names = [i["name"] for i in r.json["items"]]
            self.assertIn("贞丰李子 renamed", names)
            self.assertNotEqual(r.header("ETag"), before[0].header("ETag"))
        for r in self.get_everywhere("/api/v1/products/%d" % self.p):
            self.assertEqual(r.json["name"], "贞丰李子 renamed")

    def test_sale_stock_is_seen_at_once(self):
        p = self.m.product(100, 10)
        self.get_everywhere("/api/v1/products/%d" % p)
        check(self.srv.post("/api/v1/sales", {
            "id": "cache-sale-0001", "stall_id": self.m.stall,
            "recorded_at": "2026-05-01T02:00:00Z", "payment": "cash",
            "lines": [{"product_id": p, "quantity": 3}]}, token=self.m.op))
        for r in self.get_everywhere("/api/v1/products/%d" % p):
            self.assertEqual(r.json["stock"], 7)

    def test_producer_rename_is_seen(self):
        path = "/api/v1/products/%d" % self.p
        self.get_everywhere(path)
        check(self.srv.patch("/api/v1/producers/%d" % self.m.producer,
                             {"name": "贞丰李子合作社 二"}, token=self.m.admin), 200)
        for r in self.get_everywhere(path):
            self.assertEqual(r.json["producer_name"], "贞丰李子合作社 二")

    def test_concurrent_readers_and_writer_agree(self):
        """While stock changes, readers never see a stock older than one
        they saw before on the same connection... and the last read after
        the writes equals the final stock."""
        p = self.m.product(100, 1000)
        path = "/api/v1/products/%d" % p
        errors = []

        def reader():
            c = self.srv.connect()
            last = None
            for _ in range(60):
                s = self.srv.request("GET", path, conn=c).json["stock"]
                if last is not None and s > last:
                    errors.append((last, s))
                last = s

        ts = [threading.Thread(target=reader) for _ in range(3)]
        for t in ts:
            t.start()
        for i in range(20):
            check(self.srv.post("/api/v1/sales", {
                "id": "cache-conc-%04d" % i, "stall_id": self.m.stall,
                "recorded_at": "2026-05-01T02:00:00Z", "payment": "cash",
                "lines": [{"product_id": p, "quantity": 1}]}, token=self.m.op))
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        for r in self.get_everywhere(path):
            self.assertEqual(r.json["stock"], 980)

    @harness.sqlite_only("the cache's reading of SQLite's WAL index")
    def test_other_processes_may_open_the_database(self):
        """The cache reads the WAL index's header. Doing so must leave
        SQLite's locks alone: a process that opens and closes the database
        meanwhile (marketctl, a read-only report script) must not find it
        unused and reset the index under the server (which killed it with
        SIGBUS once)."""
        p = self.m.product(100, 100)
        self.get_everywhere("/api/v1/products/%d" % p)
        # SQLite keeps a shared lock on the index's "DMS" byte (128) while
        # a connection is open: that is how another process knows the
        # index is in use. It must still be there after cached reads.
        ino = os.stat(self.srv.db + "-shm").st_ino
        held = []
        with open("/proc/locks") as f:
            for line in f:
                parts = line.split()
                dev_ino = parts[5] if parts[1] != "->" else parts[6]
                if int(dev_ino.split(":")[2]) == ino and \
                        int(parts[4 if parts[1] != "->" else 5]) == self.srv.proc.pid:
                    held.append(line.strip())
        self.assertTrue(any(" 128 128" in h for h in held), held)
        for i in range(4):
            self.get_everywhere("/api/v1/products/%d" % p)
            con = sqlite3.connect("file:%s?mode=ro" % self.srv.db, uri=True)
            self.assertGreaterEqual(con.execute("SELECT count(*) FROM products").fetchone()[0], 1)
            con.close()
            self.assertEqual(self.srv.ctl("check").returncode, 0)
            check(self.srv.post("/api/v1/sales", {
                "id": "other-proc-%04d" % i, "stall_id": self.m.stall,
                "recorded_at": "2026-05-01T02:00:00Z", "payment": "cash",
                "lines": [{"product_id": p, "quantity": 1}]}, token=self.m.op))
            for r in self.get_everywhere("/api/v1/products/%d" % p):
                self.assertEqual(r.json["stock"], 99 - i)
        self.assertIsNone(self.srv.proc.poll())


class CatalogGzip(harness.ServerTest):
    """A client that accepts gzip gets the catalog's answers gzipped (the
    stall page fetches the whole catalog over a phone's connection), with
    an ETag of their own; every other client gets the same bytes as
    before. Hit or miss, the answer is the same."""
    threads = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = Market(cls.srv)
        for i in range(30):
            cls.m.product(100 + i, 10, name="贞丰绿茶 %02d 罐装礼盒" % i)
        cls.path = "/api/v1/products?producer=%d&limit=200" % cls.m.producer

    def fetch(self, path, **headers):
        """path on a fresh connection, so each worker thread answers
        (a miss first, then hits)."""
        c = self.srv.connect()
        try:
            return self.srv.request("GET", path, conn=c, headers=headers)
        finally:
            c.close()

    def test_gzip_is_the_same_document(self):
        plain = self.fetch(self.path)
        self.assertEqual(plain.status, 200)
        self.assertIsNone(plain.header("Content-Encoding"))
        self.assertIn("Accept-Encoding", plain.header("Vary"))
        self.assertGreater(len(plain.body), 1024)
        for _ in range(6):  # misses and hits on both threads
            z = self.fetch(self.path, **{"Accept-Encoding": "gzip, deflate, br"})
            self.assertEqual(z.status, 200)
            self.assertEqual(z.header("Content-Encoding"), "gzip")
            self.assertIn("Accept-Encoding", z.header("Vary"))
            self.assertEqual(int(z.header("Content-Length")), len(z.body))
            self.assertLess(len(z.body), len(plain.body) // 2)
            self.assertEqual(gzip.decompress(z.body), plain.body)
            self.assertEqual(json.loads(gzip.decompress(z.body)), plain.json)
            # Strong tags, one for each representation.
            self.assertTrue(z.header("ETag").startswith('"'))
            self.assertNotEqual(z.header("ETag"), plain.header("ETag"))

    def test_refused_gzip_is_plain(self):
        plain = self.fetch(self.path)
        for ae in ("gzip;q=0", "identity", "br", "*;q=0"):
            for _ in range(3):
                r = self.fetch(self.path, **{"Accept-Encoding": ae})
                self.assertEqual(r.status, 200, ae)
                self.assertIsNone(r.header("Content-Encoding"), ae)
                self.assertEqual(r.body, plain.body, ae)
                self.assertEqual(r.header("ETag"), plain.header("ETag"), ae)

    def test_either_tag_revalidates(self):
        plain = self.fetch(self.path)
        z = self.fetch(self.path, **{"Accept-Encoding": "gzip"})
        for _ in range(4):
            for tag in (plain.header("ETag"), z.header("ETag")):
                r = self.fetch(self.path, **{"Accept-Encoding": "gzip",
                                             "If-None-Match": tag})
                self.assertEqual(r.status, 304, tag)
                self.assertEqual(r.body, b"")
                self.assertEqual(r.header("ETag"), tag)
            # The gzip tag names bytes a plain client never got.
            r = self.fetch(self.path, **{"If-None-Match": z.header("ETag")})
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, plain.body)

    def test_either_tag_revalidates_on_a_miss(self):
        """A commit that does not touch the list empties every cache; the
        next request for it is a miss, answered as a hit is: a client
        holding the gzip tag still gets 304 (it got a 200 with the whole
        body, its copy being current), and a gzip client gets gzip."""
        plain = self.fetch(self.path)
        z = self.fetch(self.path, **{"Accept-Encoding": "gzip"})
        for i in range(4):
            for tag in (plain.header("ETag"), z.header("ETag"), None):
                check(self.srv.post("/api/v1/venues", {
                    "name": "鼓楼 %s %d" % (tag, i), "kind": "street_market",
                    "subdistrict": "鼓楼街道"},
                    token=self.m.admin))
                r = self.fetch(self.path, **{"Accept-Encoding": "gzip",
                                             "If-None-Match": tag})
                if tag is None:
                    self.assertEqual(r.status, 200)
                    self.assertEqual(r.header("Content-Encoding"), "gzip")
                    self.assertEqual(r.header("ETag"), z.header("ETag"))
                    self.assertEqual(r.body, z.body)
                else:
                    self.assertEqual(r.status, 304, tag)
                    self.assertEqual(r.body, b"")
                    self.assertEqual(r.header("ETag"), tag)

    def test_change_is_seen_gzipped(self):
        p = self.m.product(990, 5, name="贞丰李子 gzip")
        before = self.fetch(self.path, **{"Accept-Encoding": "gzip"})
        check(self.srv.patch("/api/v1/products/%d" % p,
                             {"name": "贞丰李子 gzip 改"}, token=self.m.admin), 200)
        for _ in range(4):
            r = self.fetch(self.path, **{"Accept-Encoding": "gzip",
                                         "If-None-Match": before.header("ETag")})
            self.assertEqual(r.status, 200)
            names = [i["name"] for i in json.loads(gzip.decompress(r.body))["items"]]
            self.assertIn("贞丰李子 gzip 改", names)

    def test_small_answers_stay_plain(self):
        p = self.m.product(300, 5, name="枣")
        path = "/api/v1/products/%d" % p
        for _ in range(4):
            r = self.fetch(path, **{"Accept-Encoding": "gzip"})
            self.assertEqual(r.status, 200)
            self.assertLess(len(r.body), 1024)
            self.assertIsNone(r.header("Content-Encoding"))
            self.assertEqual(r.json["id"], p)

    def test_head_says_what_get_sends(self):
        z = self.fetch(self.path, **{"Accept-Encoding": "gzip"})
        for _ in range(3):
            c = self.srv.connect()
            r = self.srv.request("HEAD", self.path, conn=c,
                                 headers={"Accept-Encoding": "gzip"})
            c.close()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, b"")
            self.assertEqual(r.header("Content-Encoding"), "gzip")
            self.assertEqual(r.header("ETag"), z.header("ETag"))
            self.assertEqual(int(r.header("Content-Length")), len(z.body))


if __name__ == "__main__":
    harness.main()
