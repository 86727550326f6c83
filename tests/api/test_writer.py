"""The write path: every writing request runs on the writer thread, many
share one transaction and one fsync (group commit), each stays atomic,
and a reply is sent only after its commit. Black-box: what a client and
the metrics show."""
import json
import re
import socket
import ssl
import threading
import time

import harness
from sales_fixture import Market, check


def sale(i, stall, product, qty=1, prefix="w"):
    return {"id": "%s-sale-%06d" % (prefix, i), "stall_id": stall,
            "recorded_at": "2026-05-01T02:00:00Z", "payment": "cash",
            "lines": [{"product_id": product, "quantity": qty}]}


def metric(text, name):
    m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


class Writer(harness.ServerTest):
    threads = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = Market(cls.srv)

    def test_concurrent_writes_all_land_and_share_commits(self):
        p = self.m.product(100, 100000)
        before = self.srv.get("/metrics").body.decode()
        n_before = metric(before, "marketd_db_commit_batch_size_sum")
        c_before = metric(before, "marketd_db_commit_batch_size_count")
        clients, per = 24, 15
        results = []

        def run(k):
            c = self.srv.connect()
            for j in range(per):
                r = self.srv.request("POST", "/api/v1/sales",
                                     sale(k * 1000 + j, self.m.stall, p, prefix="cc"),
                                     token=self.m.op, conn=c)
                results.append(r.status)
            c.close()

        ts = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(results, [201] * (clients * per))
        self.assertEqual(self.m.stock(p), 100000 - clients * per)
        after = self.srv.get("/metrics").body.decode()
        requests = metric(after, "marketd_db_commit_batch_size_sum") - n_before
        commits = metric(after, "marketd_db_commit_batch_size_count") - c_before
        # Every write request went through exactly one batch.
        self.assertEqual(requests, clients * per)
        self.assertGreaterEqual(commits, 1)
        self.assertLessEqual(commits, requests)
        print("\n  %d writes in %d commits (%.1f a commit)"
              % (requests, commits, requests / commits))

    def test_failed_request_is_undone_alone(self):
        """A batch of sales where every other one is refused (unknown
        product): the good ones land, the bad ones leave nothing."""
        p = self.m.product(100, 1000)
        statuses = {}

        def run(i):
            body = sale(i, self.m.stall, p if i % 2 == 0 else 999999, prefix="iso")
            c = self.srv.connect()
            statuses[i] = self.srv.request("POST", "/api/v1/sales", body,
                                           token=self.m.op, conn=c).status
            c.close()

        ts = [threading.Thread(target=run, args=(i,)) for i in range(20)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual({statuses[i] for i in range(0, 20, 2)}, {201})
        self.assertEqual({statuses[i] for i in range(1, 20, 2)}, {400})
        self.assertEqual(self.m.stock(p), 990)
        for i in range(20):
            r = self.srv.get("/api/v1/sales/iso-sale-%06d" % i, token=self.m.admin)
            self.assertEqual(r.status, 200 if i % 2 == 0 else 404)
        self.assertEqual(self.srv.ctl("check").returncode, 0)

    def test_client_gone_before_reply(self):
        """A client that sends a write and hangs up at once: the server
        carries on, and the write it received is either wholly stored
        or not at all."""
        p = self.m.product(100, 1000)
        ctx = ssl.create_default_context(cafile=self.srv.cafile)
        for i in range(30):
            raw = json.dumps(sale(i, self.m.stall, p, prefix="gone")).encode()
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.srv.port)),
                                server_hostname="localhost")
            s.sendall(("POST /api/v1/sales HTTP/1.1\r\nHost: localhost\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                       "Content-Length: %d\r\n\r\n" % (self.m.op, len(raw))).encode() + raw)
            s.close()
        time.sleep(0.5)
        self.assertEqual(self.srv.get("/healthz").status, 200)
        stored = sum(1 for i in range(30) if self.srv.get(
            "/api/v1/sales/gone-sale-%06d" % i, token=self.m.admin).status == 200)
        self.assertEqual(self.m.stock(p), 1000 - stored)
        self.assertEqual(self.srv.ctl("check").returncode, 0)


class ShutdownWithWritesInFlight(harness.ServerTest):
    def test_sigterm_during_writes(self):
        m = Market(self.srv)
        p = m.product(100, 100000)
        acked, stop = [], threading.Event()

        def run(k):
            c = self.srv.connect()
            j = 0
            while not stop.is_set():
                try:
                    r = self.srv.request("POST", "/api/v1/sales",
                                         sale(k * 100000 + j, m.stall, p, prefix="term"),
                                         token=m.op, conn=c)
                except Exception:  # the server went away: stop
                    c.close()
                    return
                if r.status == 201:
                    acked.append(k * 100000 + j)
                j += 1

        ts = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        time.sleep(1.0)
        rc = self.srv.stop()
        stop.set()
        for t in ts:
            t.join()
        self.assertEqual(rc, 0)
        self.assertGreater(len(acked), 0)
        self.srv.start()
        missing = [i for i in acked if self.srv.get(
            "/api/v1/sales/term-sale-%06d" % i, token=m.admin).status != 200]
        self.assertEqual(missing, [])
        self.assertEqual(self.srv.ctl("check").returncode, 0)


if __name__ == "__main__":
    harness.main()
