"""The demo database's online orders (marketctl demo): orders in every
status, a paid order cancelled with its refund, pickups at the coming
market days for the operator's list, deliveries, and a ledger that
agrees."""
import datetime
import subprocess

import harness
from orders_fixture import SHANGHAI

STATUSES = ("placed", "paid", "ready", "fulfilled", "cancelled")


def walk(srv, path, token):
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        r = srv.get(path + sep + "limit=200" + ("&cursor=" + cursor if cursor else ""),
                    token=token)
        assert r.status == 200, r
        items += r.json["items"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return items


class DemoOrders(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server()
        p = subprocess.run([harness.MARKETCTL, "--db", cls.srv.db, "demo"],
                           capture_output=True, check=True)
        cls.users = {}
        for line in p.stdout.decode().splitlines():
            name, password = line.split()[:2]
            cls.users[name] = password
        cls.srv.start()
        cls.addClassCleanup(cls._kill_leftover, cls.srv)
        cls.tokens = {name: cls.srv.login(name, pw) for name, pw in cls.users.items()}
        cls.orders = walk(cls.srv, "/api/v1/orders", cls.tokens["admin"])

    def test_every_status(self):
        by_status = {s: [o for o in self.orders if o["status"] == s] for s in STATUSES}
        for s in STATUSES:
            self.assertTrue(by_status[s], s)
        self.assertGreaterEqual(len(by_status["fulfilled"]), 20)
        for o in self.orders:
            self.assertEqual(o["total_fen"], sum(l["amount_fen"] for l in o["lines"]))
            self.assertEqual(o["channel"], "online")
        refunded = [o for o in by_status["cancelled"] if o["refund_fen"] > 0]
        self.assertTrue(refunded)
        for o in refunded:
            self.assertEqual(o["refund_fen"], o["total_fen"])
        self.assertTrue([o for o in by_status["cancelled"] if o["refund_fen"] == 0])
        for s in ("placed", "paid", "ready", "fulfilled"):
            for o in by_status[s]:
                self.assertEqual(o["refund_fen"], 0)
        # A year of them: placed in several months.
        self.assertGreaterEqual(len({o["created_at"][:7] for o in self.orders}), 6)

    def test_pickups_at_coming_market_days_and_deliveries(self):
        today = datetime.datetime.now(SHANGHAI).date().isoformat()
        open_orders = [o for o in self.orders if o["status"] in ("placed", "paid", "ready")]
        kinds = {o["fulfillment"]["type"] for o in open_orders}
        self.assertEqual(kinds, {"pickup", "delivery"})
        for o in open_orders:
            if o["fulfillment"]["type"] != "pickup":
                self.assertEqual(set(o["fulfillment"]["address"]),
                                 {"name", "phone", "line1", "city"})
                continue
            day = self.srv.get("/api/v1/market-days/%d" % o["fulfillment"]["market_day_id"])
            self.assertEqual(day.status, 200, day)
            self.assertGreaterEqual(day.json["date"], today)
            self.assertIn(day.json["status"], ("scheduled", "open"))
        # The operator's list: the pickups at its market days, among them
        # some still to prepare or hand over.
        op = walk(self.srv, "/api/v1/orders", self.tokens["operator"])
        self.assertTrue(op)
        self.assertTrue({o["fulfillment"]["type"] for o in op} == {"pickup"})
        self.assertTrue([o for o in op if o["status"] in ("paid", "ready")])
        # The demo buyer sees the ones it placed: all but those of the
        # institutions' canteen buyers.
        mine = walk(self.srv, "/api/v1/orders", self.tokens["buyer"])
        buyer_id = self.srv.get("/api/v1/me", token=self.tokens["buyer"]).json["id"]
        self.assertEqual(len(mine), len([o for o in self.orders if o["buyer_id"] == buyer_id]))
        self.assertTrue(len(mine) < len(self.orders))

    def test_the_ledger_agrees(self):
        p = self.srv.ctl("check", check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
