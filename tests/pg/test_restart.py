"""PostgreSQL goes away under a mixed write load (issue 13).

Two marketd nodes serve one database while client threads record stall
sales (each with its own id), place orders (each with its own
Idempotency-Key) and read products, spread over both nodes. Then:

  1. PostgreSQL is restarted as `pg_ctl restart -m immediate` does (a
     crash as far as the data goes: recovery from the WAL at start);
  2. PostgreSQL and node A are killed with SIGKILL together (every
     PostgreSQL process, as a power cut would end them), then started
     again.

Meanwhile every answer a client gets is a success or a 503 problem
("unavailable", with Retry-After): never a 500, never a refusal. A
client whose request got a 503 or no answer at all (node A was killed)
sends the same request again, to either node, as the stall page and the
shop do, until it is answered. The nodes reconnect by themselves: each
client is answered again after each fault without anyone restarting
node B. Afterwards the database holds exactly what the clients were told
was stored (every acknowledged sale and order, each once, and nothing
else), stock is the initial stock less exactly those quantities, and
marketctl check passes.
"""
import http.client
import os
import random
import ssl
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402
import orders_fixture  # noqa: E402
import pgcluster  # noqa: E402

CLIENTS = 6
STOCK = 1000000
AFTER = 5          # answers each client must get after a fault
DEADLINE = 240     # seconds: a failure bound, not a timing


class Client(threading.Thread):
    """Sends sales, orders and reads in a loop; re-sends until answered."""

    def __init__(self, test, n, phase):
        super().__init__(daemon=True)
        self.phase = phase
        self.t, self.n = test, n
        self.rng = random.Random(n)
        self.sales = {}      # id -> {product: quantity}
        self.orders = {}     # key -> (order id, {product: quantity})
        self.answers = 0     # successful answers so far
        self.unavailable = 0  # 503 problems seen
        self.no_answer = 0   # connections that died without an answer
        self.bad = []        # anything else: the test fails
        self.stop = threading.Event()
        self.seq = 0

    def send(self, method, path, body, token, headers=None):
        """Sends until a final answer: returns it (2xx or a 4xx)."""
        tries = 0
        while not self.stop.is_set() or tries == 0 or self.pending:
            tries += 1
            srv = self.t.nodes[(self.n + tries) % len(self.t.nodes)]
            try:
                c = srv.connect()
                try:
                    r = srv.request(method, path, body, token=token, headers=headers, conn=c)
                finally:
                    c.close()
            except (OSError, http.client.HTTPException, ssl.SSLError):
                self.no_answer += 1
                time.sleep(0.05)
                continue
            if r.status == 503:
                ok = r.header("content-type", ).startswith("application/problem+json") \
                    and r.json.get("code") == "unavailable"
                if not ok:
                    self.bad.append(("503 not a problem", method, path, r))
                self.unavailable += 1
                time.sleep(0.05)
                continue
            return r
        return None

    def run(self):
        s = self.t.shop
        try:
            while not self.stop.is_set():
                self.seq += 1
                what = self.rng.random()
                p = self.rng.choice(self.t.products)
                q = self.rng.randint(1, 3)
                if what < 0.45:
                    sid = "restart-%d-%d-%06d" % (self.phase, self.n, self.seq)
                    self.pending = True
                    r = self.send("POST", "/api/v1/sales", {
                        "id": sid, "stall_id": s.stall, "payment": "cash",
                        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "lines": [{"product_id": p, "quantity": q}]}, s.op)
                    self.pending = False
                    if r.status in (200, 201):
                        self.sales[sid] = {p: q}
                    else:
                        self.bad.append(("sale", sid, r))
                        continue
                elif what < 0.8:
                    key = "restart-%d-%d-%06d" % (self.phase, self.n, self.seq)
                    self.pending = True
                    r = self.send("POST", "/api/v1/orders", {
                        "lines": [{"product_id": p, "quantity": q}],
                        "fulfillment": orders_fixture.pickup(s.day)}, s.buyer,
                        headers={"Idempotency-Key": key})
                    self.pending = False
                    if r.status in (200, 201):
                        self.orders[key] = (r.json["id"], {p: q})
                    else:
                        self.bad.append(("order", key, r))
                        continue
                else:
                    self.pending = False
                    r = self.send("GET", "/api/v1/products/%d" % p, None, None)
                    if r is None:
                        continue
                    if r.status != 200:
                        self.bad.append(("read", p, r))
                        continue
                self.answers += 1
        except Exception as e:  # noqa: BLE001 (reported by the test)
            self.bad.append(("exception", repr(e)))


@unittest.skipUnless(pgcluster.available(), "PostgreSQL is not installed")
class PostgresGoesAway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster, cls.uri = pgcluster.for_class(cls)
        cls.nodes = [harness.node_for(cls, cls.uri), harness.node_for(cls, cls.uri)]
        cls.shop = orders_fixture.Shop(cls.nodes[0])
        cls.products = [cls.shop.product(100 + i, STOCK) for i in range(4)]

    def wait_for(self, clients, what, f):
        deadline = time.monotonic() + DEADLINE
        while not f():
            bad = [b for c in clients for b in c.bad]
            self.assertEqual(bad, [], what)
            if time.monotonic() > deadline:
                self.fail("%s: not within %d s\n%s" % (
                    what, DEADLINE, "".join(self.nodes[-1].log[-30:])))
            time.sleep(0.05)

    def run_with_fault(self, phase, fault):
        clients = [Client(self, i, phase) for i in range(CLIENTS)]
        for c in clients:
            c.start()
        self.wait_for(clients, "answers before the fault",
                      lambda: all(c.answers >= 3 for c in clients))
        before = [c.answers for c in clients]
        fault()
        self.wait_for(clients, "answers after the fault", lambda: all(
            c.answers >= b + AFTER for c, b in zip(clients, before)))
        for c in clients:
            c.stop.set()
        for c in clients:
            c.join(DEADLINE)
            self.assertFalse(c.is_alive())
        self.assertEqual([b for c in clients for b in c.bad], [])
        print("\n  %d sales, %d orders acknowledged; %d answers were 503, "
              "%d requests got no answer" % (
                  sum(len(c.sales) for c in clients), sum(len(c.orders) for c in clients),
                  sum(c.unavailable for c in clients), sum(c.no_answer for c in clients)),
              file=sys.stderr)
        # The fault was seen under load: some requests found PostgreSQL gone.
        self.assertGreater(sum(c.unavailable + c.no_answer for c in clients), 0)
        self.check_database(clients)
        for n in self.nodes:
            self.assertEqual(n.get("/healthz").status, 200)
        return clients

    def check_database(self, clients):
        with harness.Db(self.uri) as db:
            told = {sid for c in clients for sid in c.sales}
            stored = {sid for (sid,) in db.query(
                "SELECT id FROM sales WHERE id LIKE 'restart-%'")}
            self.assertEqual(sorted(told - stored), [], "acknowledged sales missing")
            self.assertEqual(sorted(stored - told - self.earlier_sales), [],
                             "sales stored but never acknowledged")
            keys = dict(db.query("SELECT key, order_id FROM idempotency_keys "
                                 "WHERE key LIKE 'restart-%'"))
            told_orders = {k: o for c in clients for k, (o, _) in c.orders.items()}
            for k, o in told_orders.items():
                self.assertEqual(keys.get(k), o, "order of key %s" % k)
            self.assertEqual(sorted(set(keys) - set(told_orders) - self.earlier_keys), [],
                             "orders stored but never acknowledged")
            self.assertEqual(db.value("SELECT count(*) FROM orders"),
                             len(told_orders) + len(self.earlier_keys))
            self.earlier_sales |= told
            self.earlier_keys |= set(told_orders)
            for c in clients:
                for lines in list(c.sales.values()) + [l for _, l in c.orders.values()]:
                    for p, q in lines.items():
                        self.sold[p] += q
            for p in self.products:
                self.assertEqual(db.value("SELECT stock FROM products WHERE id = ?", (p,)),
                                 STOCK - self.sold[p], "product %d" % p)
        p = self.nodes[0].ctl("check", check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())

    def test_restart_then_kill_9(self):
        self.__class__.earlier_sales = set()
        self.__class__.earlier_keys = set()
        self.__class__.sold = {p: 0 for p in self.products}
        self.run_with_fault(1, lambda: self.cluster.restart("immediate"))

        def kill_all():
            a = self.nodes[0]
            a.proc.kill()
            a.proc.wait()
            a.proc = None
            self.cluster.kill9()
            # Node A comes back on the same database (a new port: the
            # clients take the node list as it is when they send).
            self.nodes[0] = harness.Server(db=self.uri).start()
            self.addCleanup(harness.stop_node, self.nodes[0])
            a.cleanup()
        self.run_with_fault(2, kill_all)


if __name__ == "__main__":
    unittest.main(verbosity=2)
