"""Crash safety: a mixed write load (stall sales, sale batches, voids,
orders with an Idempotency-Key, signed payment callbacks, cancels) from
several connections while the server is killed with SIGKILL at random
moments and restarted on the same database, again and again.

Each client re-sends a request that got no answer (the connection died)
after the restart, as a stall app or a shop would, until it gets one.
Afterwards:
  * every request answered 2xx is in the database, and nothing else is
    (the sales, orders, payments and idempotency keys in the file are
    exactly the ones the clients were told were stored);
  * no half-written sale or order exists: every sale has its lines and
    one stock movement a line (and a void's movements when voided); every
    order has its lines, an unbroken chain of status events, its stock
    movements (and the cancel's), and a payment when it was paid;
  * PRAGMA integrity_check is ok (SQLite) and marketctl check passes;
  * re-sending never counted twice: each product's stock is its initial
    stock minus exactly the quantities of the stored, unvoided sales and
    the stored, uncancelled orders.

CI mode kills 20 times. MARKET_CRASH_ROUNDS=200 runs a longer mode;
MARKET_CRASH_THREADS (default 6) sets the number of clients and
MARKET_CRASH_SEED makes a run repeatable (the seed is printed)."""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time

import harness

ROUNDS = int(os.environ.get("MARKET_CRASH_ROUNDS", "20"))
THREADS = int(os.environ.get("MARKET_CRASH_THREADS", "6"))
SEED = int(os.environ.get("MARKET_CRASH_SEED", str(random.randrange(1 << 30))))
INITIAL_STOCK = 1000000
PRODUCTS = 5
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


def has_orders():
    """Orders and payments are in this build (they came after sales)."""
    p = subprocess.run([harness.MARKETCTL, "routes"], capture_output=True, check=True)
    routes = p.stdout.decode()
    return "POST /api/v1/orders " in routes and "POST /api/v1/payments/callback " in routes


class Crasher:
    """Kills and restarts the server; clients wait while it is down."""

    def __init__(self, srv):
        self.srv = srv
        self.up = threading.Event()
        self.up.set()
        self.kills = 0

    def kill_and_restart(self):
        self.up.clear()
        self.srv.proc.kill()
        self.srv.proc.wait()
        self.srv.proc = None
        self.kills += 1
        self.srv.start()
        self.up.set()


class Client(threading.Thread):
    """One stall operator and one buyer on one connection, writing in a
    random mix; remembers what it was told."""

    def __init__(self, test, k, op_token, stall, buyer_token, buyer_id):
        super().__init__(daemon=True)
        self.t = test
        self.srv = test.srv
        self.k = k
        self.op = op_token
        self.stall = stall
        self.buyer = buyer_token
        self.buyer_id = buyer_id
        self.rng = random.Random(SEED * 1000 + k)
        self.conn = None
        self.n = 0
        # What the server said is stored.
        self.sales = {}     # sale id -> {"lines": {product: qty}, "voided": bool}
        self.orders = {}    # order id -> {"key", "lines", "total", "status", "txn"}
        self.keys = {}      # idempotency key -> order id
        self.payments = {}  # transaction id -> order id
        self.failures = []
        self.unanswered = 0  # requests whose connection died before an answer
        self.replays = 0     # ... that turned out to have been stored
        self.stop = threading.Event()

    # --- the wire ---------------------------------------------------------
    def send(self, method, path, body=None, raw=None, token=None, headers=None):
        """Sends until the server answers; returns (response, resent)."""
        resent = False
        while True:
            self.t.crasher.up.wait()
            try:
                if self.conn is None:
                    self.conn = self.srv.connect()
                r = self.srv.request(method, path, body=body, raw=raw, token=token,
                                     headers=headers, conn=self.conn)
                if (r.header("connection") or "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r, resent
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
                if not resent:
                    self.unanswered += 1
                resent = True
                time.sleep(0.01)

    def fail(self, what, r):
        self.failures.append("%s: %r" % (what, r))

    # --- the operations -----------------------------------------------------
    def new_sale(self):
        self.n += 1
        products = self.rng.sample(self.t.products, self.rng.randint(1, 3))
        lines = [{"product_id": p, "quantity": self.rng.randint(1, 5)} for p in products]
        at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
            seconds=self.rng.randint(0, 3600))
        return {"id": "crash-%d-%d-%08x" % (self.k, self.n, self.rng.getrandbits(32)),
                "stall_id": self.stall, "recorded_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "payment": self.rng.choice(["cash", "wechat", "alipay", "card", "other"]),
                "lines": lines}

    def stored_sale(self, s):
        self.sales[s["id"]] = {"lines": {l["product_id"]: l["quantity"] for l in s["lines"]},
                               "voided": False}

    def sale(self):
        s = self.new_sale()
        r, resent = self.send("POST", "/api/v1/sales", s, token=self.op)
        if r.status == 201 or (r.status == 200 and resent):
            if r.json["id"] != s["id"] or r.json["voided"]:
                return self.fail("sale %s" % s["id"], r)
            self.replays += r.status == 200
            self.stored_sale(s)
        else:
            self.fail("sale %s (resent %s)" % (s["id"], resent), r)

    def batch(self):
        sales = [self.new_sale() for _ in range(self.rng.randint(2, 6))]
        r, resent = self.send("POST", "/api/v1/sales/batch", {"sales": sales}, token=self.op)
        if r.status != 200 or len(r.json.get("results", [])) != len(sales):
            return self.fail("batch (resent %s)" % resent, r)
        for s, res in zip(sales, r.json["results"]):
            if res["id"] == s["id"] and (res["status"] == "created" or
                                         (res["status"] == "duplicate" and resent)):
                self.replays += res["status"] == "duplicate"
                self.stored_sale(s)
            else:
                self.fail("batch sale %s (resent %s): %r" % (s["id"], resent, res), r)

    def void(self):
        live = sorted(i for i, s in self.sales.items() if not s["voided"])
        if not live:
            return self.sale()
        sid = self.rng.choice(live)
        r, resent = self.send("POST", "/api/v1/sales/%s/void" % sid,
                              {"reason": "crash test"}, token=self.op)
        # A void that was stored before the crash is refused when re-sent.
        if (r.status == 200 and r.json["voided"]) or \
                (resent and r.status == 409 and r.json.get("code") == "invalid_state"):
            self.replays += r.status == 409
            self.sales[sid]["voided"] = True
        else:
            self.fail("void %s (resent %s)" % (sid, resent), r)

    def order(self):
        self.n += 1
        products = self.rng.sample(self.t.products, self.rng.randint(1, 3))
        lines = [{"product_id": p, "quantity": self.rng.randint(1, 4)} for p in products]
        if self.rng.random() < 0.5:
            fulfillment = {"type": "pickup", "market_day_id": self.t.day}
        else:
            fulfillment = {"type": "delivery", "address": {
                "name": "王女士", "phone": "138 0000 %04d" % self.k,
                "line1": "中山西路 %d 号" % self.n, "city": "宁波"}}
        key = "crash-%d-%d-%08x" % (self.k, self.n, self.rng.getrandbits(32))
        body = {"lines": lines, "fulfillment": fulfillment}
        r, resent = self.send("POST", "/api/v1/orders", body, token=self.buyer,
                              headers={"Idempotency-Key": key})
        replayed = r.header("idempotent-replayed") == "true"
        if r.status != 201 or (replayed and not resent) or \
                r.json["status"] != "placed" or r.json["buyer_id"] != self.buyer_id:
            return self.fail("order %s (resent %s)" % (key, resent), r)
        self.replays += replayed
        oid = r.json["id"]
        if oid in self.orders:
            return self.fail("order %s answered with the id of another order" % key, r)
        self.keys[key] = oid
        self.orders[oid] = {"key": key, "total": r.json["total_fen"], "status": "placed",
                            "lines": {l["product_id"]: l["quantity"] for l in lines},
                            "txn": None}

    def pay(self):
        placed = sorted(i for i, o in self.orders.items() if o["status"] == "placed")
        if not placed:
            return self.order()
        oid = self.rng.choice(placed)
        txn = "txn-crash-%d-%d" % (self.k, oid)
        raw = json.dumps({"order_id": oid, "amount_fen": self.orders[oid]["total"],
                          "provider": "wechat", "transaction_id": txn}).encode()
        sig = hmac.new(self.t.secret, raw, hashlib.sha256).hexdigest()
        r, resent = self.send("POST", "/api/v1/payments/callback", raw=raw,
                              headers={"X-Signature": sig})
        if r.status == 200 and r.json["id"] == oid and r.json["status"] == "paid":
            self.orders[oid]["status"] = "paid"
            self.orders[oid]["txn"] = txn
            self.payments[txn] = oid
        else:
            self.fail("payment %s (resent %s)" % (txn, resent), r)

    def cancel(self):
        live = sorted(i for i, o in self.orders.items() if o["status"] in ("placed", "paid"))
        if not live:
            return self.order()
        oid = self.rng.choice(live)
        r, resent = self.send("POST", "/api/v1/orders/%d/cancel" % oid, token=self.buyer)
        if (r.status == 200 and r.json["status"] == "cancelled") or \
                (resent and r.status == 409 and r.json.get("code") == "invalid_state"):
            self.replays += r.status == 409
            self.orders[oid]["status"] = "cancelled"
        else:
            self.fail("cancel %d (resent %s)" % (oid, resent), r)

    def run(self):
        ops = [(self.sale, 30), (self.batch, 12), (self.void, 8)]
        if self.t.orders:
            ops += [(self.order, 25), (self.pay, 15), (self.cancel, 10)]
        funcs = [f for f, _ in ops]
        weights = [w for _, w in ops]
        try:
            while not self.stop.is_set() and len(self.failures) < 10:
                self.rng.choices(funcs, weights)[0]()
        except Exception as e:  # a bug in the test, or an unreadable answer
            self.failures.append("client %d: %r" % (self.k, e))
        finally:
            if self.conn is not None:
                self.conn.close()


class CrashSafety(harness.ServerTest):
    threads = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t0 = time.time()
        srv = cls.srv
        cls.orders = has_orders()
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
        for k in range(THREADS):
            op = srv.user("crash_op%d" % k, "operator")
            op_id = check(srv.get("/api/v1/me", token=op), 200)["id"]
            stall = check(srv.post("/api/v1/market-days/%d/stalls" % cls.day, {
                "operator_id": op_id, "producer_id": producer, "label": "S%d" % k},
                token=cls.admin))["id"]
            buyer = srv.user("crash_buyer%d" % k, "buyer")
            buyer_id = check(srv.get("/api/v1/me", token=buyer), 200)["id"]
            cls.people.append((op, stall, buyer, buyer_id))
        print("crash test: set up in %.1f s" % (time.time() - t0), file=sys.stderr)

    def test_kill_9_under_write_load(self):
        print("crash test: %d rounds, %d clients, seed %d, orders %s" % (
            ROUNDS, THREADS, SEED, "on" if self.orders else "off (not in this build)"),
            file=sys.stderr)
        rng = random.Random(SEED)
        self.crasher = Crasher(self.srv)
        clients = [Client(self, k, *p) for k, p in enumerate(self.people)]
        for c in clients:
            c.start()
        started = time.time()
        for _ in range(ROUNDS):
            # Mostly in the thick of the load; now and then right after the
            # start, while the clients reconnect and re-send.
            time.sleep(rng.choice([rng.uniform(0.0, 0.1), rng.uniform(0.1, 1.0),
                                   rng.uniform(0.1, 1.0)]))
            if any(c.failures for c in clients) or not all(c.is_alive() for c in clients):
                break
            self.crasher.kill_and_restart()
        # Let every client finish what it was re-sending, on a live server.
        time.sleep(0.5)
        for c in clients:
            c.stop.set()
        for c in clients:
            c.join(60)
            self.assertFalse(c.is_alive(), "client %d hangs" % c.k)
        failures = [f for c in clients for f in c.failures]
        self.assertEqual(failures, [])
        self.assertEqual(self.crasher.kills, ROUNDS)
        unanswered = sum(c.unanswered for c in clients)
        replays = sum(c.replays for c in clients)
        print("crash test: %.1f s, %d sales, %d orders, %d requests lost their answer "
              "to a kill, %d of them had been stored" % (
                  time.time() - started, sum(len(c.sales) for c in clients),
                  sum(len(c.orders) for c in clients), unanswered, replays),
              file=sys.stderr)
        # The kills hit requests in flight (the test is not idle).
        self.assertGreater(unanswered, 0)
        self.assertGreater(sum(len(c.sales) for c in clients), ROUNDS)

        checked = time.time()
        self.check_what_clients_were_told(clients)
        self.check_stock(clients)
        self.check_no_half_writes()
        with self.srv.sql() as db:
            if not db.pg:  # PostgreSQL checks its keys as it writes
                self.assertEqual(db.query("PRAGMA integrity_check"), [("ok",)])
                self.assertEqual(db.query("PRAGMA foreign_key_check"), [])
        p = self.srv.ctl("check", check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        print("crash test: checked in %.1f s" % (time.time() - checked), file=sys.stderr)

    def rows(self, sql, *args):
        with self.srv.sql() as db:
            return db.query(sql, args)

    def check_what_clients_were_told(self, clients):
        """The file holds exactly what the clients were told is stored."""
        sales = {c_id: bool(v) for c_id, v in self.rows("SELECT id, voided FROM sales")}
        told = {sid: s["voided"] for c in clients for sid, s in c.sales.items()}
        self.assertEqual(sorted(set(told) - set(sales)), [], "acknowledged sales missing")
        self.assertEqual(sorted(set(sales) - set(told)), [], "sales stored twice or unasked")
        self.assertEqual(sales, told, "voids")
        # Through the API too: a sample of sales, each as acknowledged.
        rng = random.Random(SEED)
        for sid in rng.sample(sorted(told), min(50, len(told))):
            r = self.srv.get("/api/v1/sales/%s" % sid, token=self.admin)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["voided"], told[sid], r)
        if not self.orders:
            return
        orders = {i: (b, st) for i, b, st in self.rows("SELECT id, buyer_id, status FROM orders")}
        told = {oid: (c.buyer_id, o["status"]) for c in clients for oid, o in c.orders.items()}
        self.assertEqual(sorted(set(told) - set(orders)), [], "acknowledged orders missing")
        self.assertEqual(sorted(set(orders) - set(told)), [],
                         "orders placed twice or never acknowledged")
        self.assertEqual(orders, told, "order status")
        keys = {(b, k): o for b, k, o in self.rows(
            "SELECT buyer_id, key, order_id FROM idempotency_keys")}
        self.assertEqual(keys, {(c.buyer_id, k): o for c in clients for k, o in c.keys.items()})
        payments = dict(self.rows("SELECT transaction_id, order_id FROM payments"))
        self.assertEqual(payments, {t: o for c in clients for t, o in c.payments.items()})
        for c in clients[:2]:
            for oid, o in sorted(c.orders.items())[:20]:
                r = self.srv.get("/api/v1/orders/%d" % oid, token=c.buyer)
                self.assertEqual(r.status, 200, r)
                self.assertEqual((r.json["status"], r.json["total_fen"]),
                                 (o["status"], o["total"]), r)

    def check_stock(self, clients):
        """Initial stock minus exactly what was acknowledged, once."""
        want = {p: INITIAL_STOCK for p in self.products}
        for c in clients:
            for s in c.sales.values():
                if not s["voided"]:
                    for p, q in s["lines"].items():
                        want[p] -= q
            for o in c.orders.values():
                if o["status"] != "cancelled":
                    for p, q in o["lines"].items():
                        want[p] -= q
        got = {p: check(self.srv.get("/api/v1/products/%d" % p), 200)["stock"]
               for p in self.products}
        self.assertEqual(got, want)
        self.assertEqual(dict(self.rows("SELECT id, stock FROM products")), want)

    def check_no_half_writes(self):
        q = self.rows
        # The stock ledger by (reason, ref, product): [count, sum of deltas].
        moves = {}
        for reason, ref, product, n, delta in q(
                "SELECT reason, ref, product_id, count(*), sum(delta) FROM stock_movements "
                "WHERE reason != 'initial' AND reason != 'correction' "
                "GROUP BY reason, ref, product_id"):
            moves[(reason, ref, product)] = (n, delta)
        seen = set()

        def movement(reason, ref, product, delta, want):
            """want movements of delta for this line (0 or 1)."""
            got = moves.get((reason, ref, product), (0, 0))
            self.assertEqual(got, (want, delta * want), (reason, ref, product))
            seen.add((reason, ref, product))

        # Sales: lines, a total that adds up, one movement a line, and the
        # void's movements exactly when voided.
        sales = {seq: (sid, total, voided, reason, at) for seq, sid, total, voided, reason, at
                 in q("SELECT seq, id, total_fen, voided, void_reason, voided_at FROM sales")}
        lines = {}
        for seq, product, quantity, amount in q(
                "SELECT sale_seq, product_id, quantity, amount_fen FROM sale_lines"):
            lines.setdefault(seq, []).append((product, quantity, amount))
        self.assertEqual(set(lines) - set(sales), set(), "lines without a sale")
        for seq, (sid, total, voided, reason, at) in sales.items():
            self.assertIn(seq, lines, "sale %s has no lines" % sid)
            self.assertEqual(sum(a for _, _, a in lines[seq]), total, sid)
            self.assertEqual(voided == 1, reason is not None and at is not None, sid)
            for product, quantity, _ in lines[seq]:
                movement("sale", sid, product, -quantity, 1)
                movement("sale_void", sid, product, quantity, voided)
        if self.orders:
            # Orders: lines, a total that adds up, the reserving movements
            # and, when cancelled, the returning ones.
            orders = {oid: (status, total, refund) for oid, status, total, refund in
                      q("SELECT id, status, total_fen, refund_fen FROM orders")}
            lines = {}
            for oid, product, quantity, amount in q(
                    "SELECT order_id, product_id, quantity, amount_fen FROM order_lines"):
                lines.setdefault(oid, []).append((product, quantity, amount))
            self.assertEqual(set(lines) - set(orders), set(), "lines without an order")
            events = {}
            for oid, frm, to in q("SELECT order_id, from_status, to_status FROM order_events "
                                  "ORDER BY order_id, id"):
                events.setdefault(oid, []).append((frm, to))
            self.assertEqual(set(events) - set(orders), set(), "events without an order")
            paid = {o: (n, amount) for o, n, amount in q(
                "SELECT order_id, count(*), sum(amount_fen) FROM payments GROUP BY order_id")}
            for oid, (status, total, refund) in orders.items():
                self.assertIn(oid, lines, "order %d has no lines" % oid)
                self.assertEqual(sum(a for _, _, a in lines[oid]), total, oid)
                for product, quantity, _ in lines[oid]:
                    movement("order", str(oid), product, -quantity, 1)
                    movement("order_cancel", str(oid), product, quantity,
                             int(status == "cancelled"))
                # Events run from placed to the status without a gap; a
                # paid order has its payment; a refund follows a payment.
                ev = events.get(oid, [])
                self.assertTrue(ev and ev[0] == (None, "placed"), (oid, ev))
                for (_, to), (frm, _) in zip(ev, ev[1:]):
                    self.assertEqual(to, frm, (oid, ev))
                self.assertEqual(ev[-1][1], status, (oid, ev))
                was_paid = any(to == "paid" for _, to in ev)
                self.assertEqual(paid.get(oid), (1, total) if was_paid else None, oid)
                self.assertEqual(refund, total if status == "cancelled" and was_paid else 0,
                                 oid)
        # No movement belongs to a sale or order that is not there.
        self.assertEqual(sorted(set(k for k, v in moves.items() if v[0]) - seen), [],
                         "stock movements of no stored sale or order")


if __name__ == "__main__":
    harness.main()
