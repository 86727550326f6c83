"""Fault injection, as SQLite's own tests do it: marketd runs on the
test-only fault VFS (server/db/faultvfs.h, MARKETD_TEST_FAULT names its
control file) under a mixed write load (stall sales, sale batches, orders
with an Idempotency-Key, signed payment callbacks) from several
connections, and the test makes SQLite's writes, syncs or allocations
fail: every sync with an I/O error, every write with a full disk, every
allocation of the writer, and a power loss at a sync (everything written
since each file's last sync is discarded; then kill -9 and a restart
without faults on the same files).

While the faults last:
  * every refused request gets a 5xx problem (application/problem+json);
  * reads are served: the product list answers 200 throughout.
When they stop, without a restart (I/O error, full disk, out of memory):
  * writes succeed again on every connection;
  * every refused request, sent again, is stored then, once: a refused
    write left nothing behind (a re-sent sale is "created", not a
    "duplicate"; a re-sent order is new, not a replay).
And in the end, after the power loss too:
  * the database holds exactly what clients were told is stored: no 2xx
    for a write that is missing, and no write nobody was told of (requests
    cut by the kill are re-sent, as the stall page and the shop do);
  * each product's stock is its initial stock minus exactly those sales
    and orders;
  * marketctl check passes.

Waits are on conditions (the shim's state file, counts of answers); the
deadlines are failure bounds only."""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import sqlite3
import sys
import threading
import time

import harness

CLIENTS = 3
INITIAL_STOCK = 1000000
PRODUCTS = 4
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
DEADLINE = 60  # seconds; a failure bound, never a pace


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


def wait_for(cond, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.01)


class Refused(Exception):
    pass


class Client(threading.Thread):
    """A stall operator and a buyer on one connection, writing in a random
    mix. Remembers what it was told is stored, and the requests that were
    refused (or cut by a kill) to send again later."""

    def __init__(self, test, k, op, stall, buyer, buyer_id):
        super().__init__(daemon=True)
        self.t, self.srv, self.k = test, test.srv, k
        self.op, self.stall, self.buyer, self.buyer_id = op, stall, buyer, buyer_id
        self.rng = random.Random(k)
        self.conn = None
        self.n = 0
        self.sales = {}     # sale id -> {product: quantity}
        self.orders = {}    # order id -> {"lines", "total", "paid"}
        self.keys = {}      # idempotency key -> order id
        self.payments = {}  # transaction id -> order id
        self.pending = []   # (kind, payload) refused or unanswered: send again
        self.acked = 0      # writes answered 2xx
        self.refused = 0    # writes answered 5xx
        self.failures = []
        self.stop = threading.Event()

    def send(self, method, path, body=None, raw=None, token=None, headers=None):
        """One request; None when the connection died (a kill)."""
        try:
            if self.conn is None:
                self.conn = self.srv.connect()
            r = self.srv.request(method, path, body=body, raw=raw, token=token,
                                 headers=headers, conn=self.conn)
            if (r.header("connection") or "").lower() == "close":
                self.conn.close()
                self.conn = None
            return r
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            return None

    def refused_ok(self, what, r):
        """A refusal must be a 5xx problem object."""
        if r.status < 500 or not (r.header("content-type") or "").startswith(
                "application/problem+json") or r.json.get("status") != r.status:
            self.failures.append("%s: refused without a 5xx problem: %r" % (what, r))
        self.refused += 1

    # --- the operations: each returns True when stored, False when refused
    # or unanswered; resent says whether it may have been stored before.
    def new_sale(self):
        self.n += 1
        lines = [{"product_id": p, "quantity": self.rng.randint(1, 5)}
                 for p in self.rng.sample(self.t.products, self.rng.randint(1, 3))]
        at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
            seconds=self.rng.randint(0, 3600))
        return {"id": "fault-%d-%d-%08x" % (self.k, self.n, self.rng.getrandbits(32)),
                "stall_id": self.stall, "recorded_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "payment": self.rng.choice(["cash", "wechat", "alipay"]), "lines": lines}

    def sale(self, s, resent):
        r = self.send("POST", "/api/v1/sales", s, token=self.op)
        if r is None:
            return False
        if r.status >= 500:
            self.refused_ok("sale", r)
            return False
        if r.status == 201 or (r.status == 200 and resent == "maybe"):
            self.sales[s["id"]] = {l["product_id"]: l["quantity"] for l in s["lines"]}
            return True
        self.failures.append("sale %s (resent: %s): %r" % (s["id"], resent, r))
        return True

    def batch(self, sales, resent):
        r = self.send("POST", "/api/v1/sales/batch", {"sales": sales}, token=self.op)
        if r is None:
            return False
        if r.status >= 500:
            self.refused_ok("batch", r)
            return False
        if r.status != 200 or len(r.json.get("results", [])) != len(sales):
            self.failures.append("batch (resent: %s): %r" % (resent, r))
            return True
        for s, res in zip(sales, r.json["results"]):
            if res["id"] == s["id"] and (res["status"] == "created" or (
                    res["status"] == "duplicate" and resent == "maybe")):
                self.sales[s["id"]] = {l["product_id"]: l["quantity"] for l in s["lines"]}
            else:
                self.failures.append("batch sale %s (resent: %s): %r" % (s["id"], resent, res))
        return True

    def order(self, o, resent):
        key, body = o
        r = self.send("POST", "/api/v1/orders", body, token=self.buyer,
                      headers={"Idempotency-Key": key})
        if r is None:
            return False
        if r.status >= 500:
            self.refused_ok("order", r)
            return False
        replayed = r.header("idempotent-replayed") == "true"
        if r.status != 201 or (replayed and resent != "maybe") or r.json["status"] != "placed":
            self.failures.append("order %s (resent: %s): %r" % (key, resent, r))
            return True
        self.keys[key] = r.json["id"]
        self.orders[r.json["id"]] = {
            "lines": {l["product_id"]: l["quantity"] for l in body["lines"]},
            "total": r.json["total_fen"], "paid": False}
        return True

    def new_order(self):
        self.n += 1
        lines = [{"product_id": p, "quantity": self.rng.randint(1, 4)}
                 for p in self.rng.sample(self.t.products, self.rng.randint(1, 2))]
        key = "fault-%d-%d-%08x" % (self.k, self.n, self.rng.getrandbits(32))
        return key, {"lines": lines, "fulfillment": {"type": "pickup",
                                                     "market_day_id": self.t.day}}

    def pay(self, oid, resent):
        txn = "txn-fault-%d-%d" % (self.k, oid)
        raw = json.dumps({"order_id": oid, "amount_fen": self.orders[oid]["total"],
                          "provider": "wechat", "transaction_id": txn}).encode()
        sig = hmac.new(self.t.secret, raw, hashlib.sha256).hexdigest()
        r = self.send("POST", "/api/v1/payments/callback", raw=raw,
                      headers={"X-Signature": sig})
        if r is None:
            return False
        if r.status >= 500:
            self.refused_ok("payment", r)
            return False
        if r.status == 200 and r.json["id"] == oid and r.json["status"] == "paid":
            self.orders[oid]["paid"] = True
            self.payments[txn] = oid
        else:
            self.failures.append("payment %s (resent: %s): %r" % (txn, resent, r))
        return True

    def one(self, kind, payload, resent):
        stored = getattr(self, kind)(payload, resent)
        if stored:
            self.acked += 1
        return stored

    def run(self):
        try:
            while not self.stop.is_set() and len(self.failures) < 10:
                x = self.rng.random()
                unpaid = [i for i, o in self.orders.items() if not o["paid"] and
                          not any(k == "pay" and p == i for k, p in self.pending)]
                if x < 0.35:
                    job = ("sale", self.new_sale())
                elif x < 0.55:
                    job = ("batch", [self.new_sale() for _ in range(self.rng.randint(2, 4))])
                elif x < 0.8 or not unpaid:
                    job = ("order", self.new_order())
                else:
                    job = ("pay", self.rng.choice(sorted(unpaid)))
                if not self.one(job[0], job[1], "no"):
                    self.pending.append(job)
        except Exception as e:  # a bug in the test, or an unreadable answer
            self.failures.append("client %d: %r" % (self.k, e))

    def resend_pending(self, resent):
        """Sends every refused request again until it is stored."""
        for kind, payload in self.pending:
            end = time.monotonic() + DEADLINE
            while not self.one(kind, payload, resent):
                if time.monotonic() > end:
                    self.failures.append("%s never stored after the faults" % kind)
                    break
        self.pending = []
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class FaultTest(harness.ServerTest):
    """One scenario per subclass: fault is the line armed, strict whether a
    refused write must have left nothing (no restart)."""
    fault = None
    strict = True

    @classmethod
    def setUpClass(cls):
        cls.dir = __import__("tempfile").mkdtemp(prefix="market-fault-")
        cls.control = os.path.join(cls.dir, "fault")
        cls.seq = 0
        cls.srv = harness.Server(threads=cls.threads,
                                 env={"MARKETD_TEST_FAULT": cls.control}).start()
        cls.addClassCleanup(cls._kill_leftover, cls.srv)
        srv = cls.srv
        cls.secret = srv.env["MARKETD_PAYMENT_SECRET"].encode()
        cls.admin = srv.user("admin", "admin")
        check(srv.post("/api/v1/regions", {
            "code": "zhenfeng", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "贵州", "partnership": "east_west"}, token=cls.admin))
        producer = check(srv.post("/api/v1/producers", {
            "name": "贞丰李子合作社", "region_code": "zhenfeng", "kind": "cooperative",
            "households": 120, "poor_households": 30}, token=cls.admin))["id"]
        venue = check(srv.post("/api/v1/venues", {
            "name": "鼓楼步行街", "kind": "street_market", "subdistrict": "鼓楼街道"},
            token=cls.admin))["id"]
        date = (datetime.datetime.now(SHANGHAI).date() + datetime.timedelta(days=7)).isoformat()
        cls.day = check(srv.post("/api/v1/market-days", {
            "venue_id": venue, "date": date, "opens_at": "09:00", "closes_at": "17:00",
            "channel": "holiday_market"}, token=cls.admin))["id"]
        cls.products = [check(srv.post("/api/v1/products", {
            "name": "贞丰李子 %d" % i, "category": "fruit", "unit": "500g bag",
            "price_fen": 100 * (i + 1) + 7, "stock": INITIAL_STOCK,
            "producer_id": producer}, token=cls.admin))["id"] for i in range(PRODUCTS)]
        cls.people = []
        for k in range(CLIENTS):
            op = srv.user("fault_op%d" % k, "operator")
            op_id = check(srv.get("/api/v1/me", token=op), 200)["id"]
            stall = check(srv.post("/api/v1/market-days/%d/stalls" % cls.day, {
                "operator_id": op_id, "producer_id": producer, "label": "S%d" % k},
                token=cls.admin))["id"]
            buyer = srv.user("fault_buyer%d" % k, "buyer")
            buyer_id = check(srv.get("/api/v1/me", token=buyer), 200)["id"]
            cls.people.append((op, stall, buyer, buyer_id))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        __import__("shutil").rmtree(cls.dir, ignore_errors=True)

    # --- the control file ------------------------------------------------
    def arm(self, line):
        """Arms the shim; returns the line's seq."""
        self.__class__.seq += 1
        tmp = self.control + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %s\n" % (self.seq, line))
        os.rename(tmp, self.control)
        return self.seq

    def state(self):
        """(seq, fired, dead) from the shim's state file."""
        try:
            with open(self.control + ".state") as f:
                seq, fired, dead = (int(x) for x in f.read().split())
            return seq, fired, dead == 1
        except (OSError, ValueError):
            return -1, 0, False

    # --- the scenario ------------------------------------------------------
    def test_faults_under_write_load(self):
        srv = self.srv
        clients = [Client(self, k, *p) for k, p in enumerate(self.people)]
        reads = {"ok": 0, "bad": []}
        reading = threading.Event()
        reader_stop = threading.Event()

        def reader():
            c = srv.connect()
            try:
                while not reader_stop.is_set():
                    r = srv.get("/api/v1/products?limit=50", conn=c)
                    if r.status == 200 and len(r.json["items"]) == PRODUCTS:
                        if reading.is_set():
                            reads["ok"] += 1
                    else:
                        reads["bad"].append(r)
            except (OSError, http.client.HTTPException) as e:
                if not reader_stop.is_set():
                    reads["bad"].append(repr(e))
            finally:
                c.close()

        for c in clients:
            c.start()
        reader_thread = threading.Thread(target=reader, daemon=True)
        reader_thread.start()
        wait_for(lambda: all(c.acked >= 5 for c in clients) or
                 any(c.failures for c in clients), "writes before the faults")

        seq = self.arm(self.fault)
        if self.fault.split()[2] == "powerloss":
            # Once the machine is dead nothing it says counts: reads are
            # checked up to the power loss only.
            wait_for(lambda: self.state()[0] == seq and self.state()[2], "the power loss")
            # The dead machine refuses writes (with a 5xx problem).
            refused0 = sum(c.refused for c in clients)
            wait_for(lambda: sum(c.refused for c in clients) > refused0 or
                     any(c.failures for c in clients), "a write refused after the power loss")
            reader_stop.set()
            reader_thread.join(DEADLINE)
            self.recover_from_power_loss(clients)
        else:
            wait_for(lambda: self.state()[0] == seq and self.state()[1] >= 1,
                     "the first fault")
            reading.set()
            refused0 = sum(c.refused for c in clients)
            # Faults keep firing, writes are refused, reads are served.
            wait_for(lambda: sum(c.refused for c in clients) >= refused0 + 5 and
                     reads["ok"] >= 3 or any(c.failures for c in clients) or
                     not all(c.is_alive() for c in clients), "refusals and reads under faults")
            self.assertFalse(self.state()[2])
            self.arm("off")
            wait_for(lambda: self.state()[0] == self.seq, "the shim turned off")
            # Without a restart, writes succeed again on every connection.
            acked = [c.acked for c in clients]
            wait_for(lambda: all(c.acked >= a + 3 for c, a in zip(clients, acked)) or
                     any(c.failures for c in clients), "writes after the faults")
            for c in clients:
                c.stop.set()
            for c in clients:
                c.join(DEADLINE)
                self.assertFalse(c.is_alive(), "client %d hangs" % c.k)
            self.assertGreaterEqual(reads["ok"], 3)
        reader_stop.set()
        reader_thread.join(DEADLINE)
        self.assertEqual(reads["bad"], [])
        self.assertEqual([f for c in clients for f in c.failures], [])
        self.assertGreater(sum(c.refused for c in clients), 0)
        print("%s: %d writes stored, %d refused, %d reads under faults, shim %r" % (
            self.fault, sum(c.acked for c in clients), sum(c.refused for c in clients),
            reads["ok"], self.state()), file=sys.stderr)
        for c in clients:
            c.resend_pending("no" if self.strict else "maybe")
        self.assertEqual([f for c in clients for f in c.failures], [])
        self.check_stored(clients)

    def recover_from_power_loss(self, clients):
        """The machine is dead: stop the clients, kill -9, start again on
        the same files without faults."""
        for c in clients:
            c.stop.set()
        srv = self.srv
        srv.proc.kill()
        srv.proc.wait()
        srv.proc = None
        for c in clients:
            c.join(DEADLINE)
            self.assertFalse(c.is_alive(), "client %d hangs" % c.k)
        srv.env.pop("MARKETD_TEST_FAULT")
        srv.start()

    def rows(self, sql):
        con = sqlite3.connect(self.srv.db)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def check_stored(self, clients):
        """The file holds exactly what the clients were told is stored."""
        sales = {sid for (sid,) in self.rows("SELECT id FROM sales")}
        told = {sid for c in clients for sid in c.sales}
        self.assertEqual(sorted(told - sales), [], "acknowledged sales missing")
        self.assertEqual(sorted(sales - told), [], "sales nobody was told of")
        orders = {oid for (oid,) in self.rows("SELECT id FROM orders")}
        told = {oid for c in clients for oid in c.orders}
        self.assertEqual(sorted(told - orders), [], "acknowledged orders missing")
        self.assertEqual(sorted(orders - told), [], "orders nobody was told of")
        keys = {(b, k): o for b, k, o in self.rows(
            "SELECT buyer_id, key, order_id FROM idempotency_keys")}
        self.assertEqual(keys, {(c.buyer_id, k): o for c in clients for k, o in c.keys.items()})
        payments = dict(self.rows("SELECT transaction_id, order_id FROM payments"))
        self.assertEqual(payments, {t: o for c in clients for t, o in c.payments.items()})
        want = {p: INITIAL_STOCK for p in self.products}
        for c in clients:
            for lines in list(c.sales.values()) + [o["lines"] for o in c.orders.values()]:
                for p, q in lines.items():
                    want[p] -= q
        got = {p: check(self.srv.get("/api/v1/products/%d" % p), 200)["stock"]
               for p in self.products}
        self.assertEqual(got, want)
        self.assertEqual(self.rows("PRAGMA integrity_check"), [("ok",)])
        p = self.srv.ctl("check", check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())


class SyncIOError(FaultTest):
    fault = "sync 1 ioerr 0"


class WriteDiskFull(FaultTest):
    fault = "write 1 full 0"


class WriterOutOfMemory(FaultTest):
    fault = "alloc 1 nomem 0"


class PowerLoss(FaultTest):
    fault = "sync 3 powerloss"
    strict = False


del FaultTest  # the base is no scenario itself

if __name__ == "__main__":
    harness.main()
