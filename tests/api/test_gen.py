"""marketctl gen: a generated dataset that the server serves as its own.
The database passes marketctl check (ledger and report rollups agree),
holds exactly the asked-for numbers of products, buyers, sale lines and
orders, orders in every status with the rows their history leaves
(events, payments, refunds), and every buyer token written to --tokens
logs that buyer in without a password, so a load test can use them. A
second gen on the same database, and bad options, are refused."""
import os
import sqlite3
import subprocess
import tempfile
import unittest

import harness

SIZE = {"products": 60, "buyers": 8, "sale_lines": 4000, "orders": 600, "days": 14}


def gen(db, *extra):
    return subprocess.run([harness.MARKETCTL, "--db", db, "gen"] + list(extra),
                          capture_output=True, text=True)


class GenTest(unittest.TestCase):
    """A generated database in cls.dir, served by cls.srv (None when gen
    failed): both are cleaned up after the class."""
    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            rc = cls.srv.stop()
            cls.srv.cleanup()
            if rc != 0:
                raise AssertionError("marketd exited with %s:\n%s" % (rc, "".join(cls.srv.log)))
        subprocess.run(["rm", "-rf", cls.dir])


class T(GenTest):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="market-gen-")
        cls.db = os.path.join(cls.dir, "market.db")
        cls.tokens = os.path.join(cls.dir, "tokens")
        cls.gen = gen(cls.db, "--products", str(SIZE["products"]), "--buyers",
                      str(SIZE["buyers"]), "--sale-lines", str(SIZE["sale_lines"]),
                      "--orders", str(SIZE["orders"]), "--days", str(SIZE["days"]),
                      "--seed", "7", "--tokens", cls.tokens)
        cls.srv = None
        if cls.gen.returncode == 0:
            cls.srv = harness.Server(db=cls.db).start()


    def sql(self, q, *args):
        c = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return c.execute(q, args).fetchall()
        finally:
            c.close()

    def test_generated_as_asked(self):
        self.assertEqual(self.gen.returncode, 0, self.gen.stderr)
        self.assertEqual(self.sql("SELECT count(*) FROM products")[0][0], SIZE["products"])
        self.assertEqual(self.sql("SELECT count(*) FROM users WHERE role = 'buyer'")[0][0],
                         SIZE["buyers"])
        self.assertEqual(self.sql("SELECT count(*) FROM sale_lines")[0][0], SIZE["sale_lines"])
        self.assertEqual(self.sql("SELECT count(*) FROM orders")[0][0], SIZE["orders"])
        # Sales of 1..5 lines, some voided, on every channel's market days.
        self.assertEqual(self.sql("SELECT min(n), max(n) FROM (SELECT count(*) AS n "
                                  "FROM sale_lines GROUP BY sale_seq)")[0], (1, 5))
        self.assertGreater(self.sql("SELECT count(*) FROM sales WHERE voided = 1")[0][0], 0)
        self.assertEqual({r[0] for r in self.sql(
            "SELECT DISTINCT d.channel FROM sales s JOIN market_days d ON d.id = s.market_day_id")},
            {"holiday_market", "caravan", "counter", "five_into"})
        self.assertEqual(self.sql("SELECT count(*) FROM sales s JOIN market_days d "
                                  "ON d.id = s.market_day_id WHERE d.status = 'cancelled'")[0][0], 0)
        self.assertEqual(len(self.sql("SELECT DISTINCT region_code FROM producers")), 4)

    def test_check_passes(self):
        p = subprocess.run([harness.MARKETCTL, "--db", self.db, "check"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok", p.stdout)

    def test_orders_in_every_status_with_their_history(self):
        statuses = dict(self.sql("SELECT status, count(*) FROM orders GROUP BY status"))
        self.assertEqual(set(statuses), {"placed", "paid", "ready", "fulfilled", "cancelled"})
        # Every order starts with a 'placed' event; its last event is its status.
        self.assertEqual(self.sql(
            "SELECT count(*) FROM orders o WHERE (SELECT to_status FROM order_events "
            "WHERE order_id = o.id ORDER BY id LIMIT 1) <> 'placed' OR (SELECT to_status "
            "FROM order_events WHERE order_id = o.id ORDER BY id DESC LIMIT 1) <> o.status")[0][0], 0)
        # A payment for every order that was paid, for its total.
        self.assertEqual(self.sql(
            "SELECT count(*) FROM orders o WHERE EXISTS (SELECT 1 FROM order_events "
            "WHERE order_id = o.id AND to_status = 'paid') <> EXISTS (SELECT 1 FROM "
            "payments p WHERE p.order_id = o.id AND p.amount_fen = o.total_fen)")[0][0], 0)
        # Refunds exactly for the orders cancelled after payment.
        self.assertEqual(self.sql(
            "SELECT count(*) FROM orders o WHERE o.refund_fen <> CASE WHEN o.status = "
            "'cancelled' AND EXISTS (SELECT 1 FROM payments WHERE order_id = o.id) "
            "THEN o.total_fen ELSE 0 END")[0][0], 0)
        self.assertGreater(self.sql("SELECT count(*) FROM orders WHERE refund_fen > 0")[0][0], 0)
        # The totals are the lines' sums.
        self.assertEqual(self.sql(
            "SELECT count(*) FROM orders o WHERE total_fen <> (SELECT sum(amount_fen) "
            "FROM order_lines WHERE order_id = o.id)")[0][0], 0)

    def test_tokens_log_buyers_in(self):
        with open(self.tokens) as f:
            tokens = f.read().split()
        self.assertEqual(len(tokens), SIZE["buyers"])
        ids = set()
        for t in tokens:
            r = self.srv.get("/api/v1/me", token=t)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["role"], "buyer")
            ids.add(r.json["id"])
        self.assertEqual(len(ids), SIZE["buyers"])
        # A buyer sees its generated orders, and can place a new one.
        mine = self.srv.get("/api/v1/orders?limit=200", token=tokens[0])
        self.assertEqual(mine.status, 200, mine)
        self.assertTrue(mine.json["items"])
        self.assertTrue(all(o["buyer_id"] == mine.json["items"][0]["buyer_id"]
                            for o in mine.json["items"]))
        product = self.sql("SELECT id FROM products WHERE active = 1 LIMIT 1")[0][0]
        r = self.srv.post("/api/v1/orders", {
            "lines": [{"product_id": product, "quantity": 1}],
            "fulfillment": {"type": "delivery", "address": {
                "name": "王女士", "phone": "13800000000", "line1": "中山西路1号",
                "city": "宁波"}}}, token=tokens[0])
        self.assertEqual(r.status, 201, r)

    def test_report_counts_the_generated_sales(self):
        admin = self.srv.login("admin", "market-gen-password")
        first, last = self.sql("SELECT min(recorded_date), max(recorded_date) FROM sales")[0]
        r = self.srv.get("/api/v1/reports/impact?from=%s&to=%s" % (first, last), token=admin)
        self.assertEqual(r.status, 200, r)
        sales = self.sql("SELECT count(*) FROM sales WHERE voided = 0")[0][0]
        self.assertEqual(r.json["totals"]["stall_sales"], sales)
        stall_fen = self.sql("SELECT sum(total_fen) FROM sales WHERE voided = 0")[0][0]
        self.assertEqual(sum(x["stall_sales_fen"] for x in r.json["regions"]), stall_fen)

    def test_refused_twice_and_bad_options(self):
        p = gen(self.db, "--products", "20", "--buyers", "1", "--sale-lines", "0",
                "--orders", "0")
        self.assertEqual(p.returncode, 1)
        self.assertIn("already holds data", p.stderr)
        other = os.path.join(self.dir, "other.db")
        for bad in (["--products", "20"],                          # missing counts
                    ["--products", "5", "--buyers", "1", "--sale-lines", "0", "--orders", "0"],
                    ["--products", "20", "--buyers", "x", "--sale-lines", "0", "--orders", "0"],
                    ["--products", "20", "--buyers", "1", "--sale-lines", "0", "--orders", "0",
                     "--colour", "red"]):
            p = gen(other, *bad)
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
            self.assertIn("usage", p.stderr)
        self.assertEqual(self.sql("SELECT count(*) FROM products")[0][0], SIZE["products"])


class Institutions(GenTest):
    """--institutions N --institution-orders N: N institutions of every
    kind, one member buyer each, a plan for every year the data touches,
    orders placed by the members that the procurement report counts (as
    the raw rows add up), and payouts that the statements and marketctl
    check agree with, one of them a correction with a note."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="market-gen-inst-")
        cls.db = os.path.join(cls.dir, "market.db")
        cls.gen = gen(cls.db, "--products", "60", "--buyers", "4", "--sale-lines", "3000",
                      "--orders", "100", "--days", "400", "--institutions", "25",
                      "--institution-orders", "400", "--seed", "3")
        cls.srv = harness.Server(db=cls.db).start() if cls.gen.returncode == 0 else None


    sql = T.sql

    def test_institutions_plans_and_orders(self):
        self.assertEqual(self.gen.returncode, 0, self.gen.stderr)
        self.assertEqual(self.sql("SELECT count(*) FROM institutions")[0][0], 25)
        self.assertEqual({r[0] for r in self.sql("SELECT DISTINCT kind FROM institutions")},
                         {"agency", "enterprise", "school", "hospital", "community"})
        self.assertEqual(self.sql("SELECT count(*) FROM users WHERE institution_id IS NOT NULL "
                                  "AND role = 'buyer'")[0][0], 25)
        self.assertEqual(self.sql("SELECT count(*) FROM orders")[0][0], 500)
        self.assertEqual(self.sql("SELECT count(*) FROM orders o JOIN users u ON "
                                  "u.id = o.buyer_id WHERE o.institution_id IS NOT NULL "
                                  "AND u.institution_id = o.institution_id")[0][0], 400)
        # 400 days touch two or three calendar years: a plan for each.
        years = [r[0] for r in self.sql("SELECT DISTINCT year FROM institution_plans "
                                        "ORDER BY year")]
        self.assertIn(len(years), (2, 3))
        self.assertEqual(years, list(range(years[0], years[0] + len(years))))
        self.assertEqual(self.sql("SELECT count(*) FROM institution_plans")[0][0],
                         25 * len(years))
        admin = self.srv.login("admin", "market-gen-password")
        track = set()
        for year in years:
            r = self.srv.get("/api/v1/reports/procurement?year=%d" % year, token=admin)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["totals"]["institutions"], 25)
            want = self.sql("SELECT coalesce(sum(total_fen), 0) FROM orders WHERE "
                            "institution_id IS NOT NULL AND status IN ('paid', 'ready', "
                            "'fulfilled') AND substr(created_date, 1, 4) = ?", str(year))[0][0]
            self.assertEqual(r.json["totals"]["purchased_fen"], want)
            track |= {i["on_track"] for i in r.json["institutions"]}
        # Some ahead of their share, some behind.
        self.assertEqual(track, {True, False})

    def test_payouts_and_statements_add_up(self):
        self.assertEqual(self.gen.returncode, 0, self.gen.stderr)
        self.assertGreater(self.sql("SELECT count(DISTINCT producer_id) FROM payouts")[0][0], 1)
        self.assertGreater(self.sql("SELECT count(*) FROM payouts WHERE amount_fen < 0 "
                                    "AND length(note) > 0")[0][0], 0)
        p = subprocess.run([harness.MARKETCTL, "--db", self.db, "check"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        admin = self.srv.login("admin", "market-gen-password")
        producer = self.sql("SELECT producer_id FROM payouts GROUP BY producer_id "
                            "ORDER BY count(*) DESC LIMIT 1")[0][0]
        first, last = self.sql("SELECT min(recorded_date), max(recorded_date) FROM sales")[0]
        r = self.srv.get("/api/v1/producers/%d/statement?from=%s&to=%s" % (producer, first, last),
                         token=admin)
        self.assertEqual(r.status, 200, r)
        s = r.json
        self.assertEqual(s["paid_out_fen"], sum(x["amount_fen"] for x in s["payouts"]))
        self.assertEqual(s["paid_out_fen"], self.sql(
            "SELECT sum(amount_fen) FROM payouts WHERE producer_id = ? AND paid_on "
            "BETWEEN ? AND ?", producer, first, last)[0][0])
        self.assertEqual(s["closing_balance_fen"],
                         s["opening_balance_fen"] + s["earned_fen"] - s["paid_out_fen"])
        # Paid on the 10th what the month before earned: what is owed at
        # the end is at most the last two months' earnings.
        self.assertGreaterEqual(s["closing_balance_fen"], 0)


class SoldOut(unittest.TestCase):
    """Stall sales may take a product below zero, but an order never
    takes more than there is: with 3,000 sale lines a product, orders
    find products that the stalls have emptied, and gen counts new goods
    in first (a correction movement, ref "restock") instead of giving up
    on the dataset. (It did give up on 10 M lines: "an order would
    oversell".)"""

    def test_orders_after_the_stalls_emptied_a_product(self):
        with tempfile.TemporaryDirectory(prefix="market-gen-soldout-") as d:
            db = os.path.join(d, "market.db")
            p = gen(db, "--products", "20", "--buyers", "4", "--sale-lines", "60000",
                    "--orders", "400", "--days", "30", "--seed", "1")
            self.assertEqual(p.returncode, 0, p.stderr)
            c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
            try:
                restocks = c.execute(
                    "SELECT count(*), min(delta) FROM stock_movements "
                    "WHERE ref = 'restock' AND reason = 'correction'").fetchone()
                oversold = c.execute(
                    "SELECT count(*) FROM stock_movements "
                    "WHERE reason = 'order' AND stock_after < 0").fetchone()[0]
                orders = c.execute("SELECT count(*) FROM orders").fetchone()[0]
                below = c.execute(
                    "SELECT count(*) FROM stock_movements "
                    "WHERE reason = 'sale' AND stock_after < 0").fetchone()[0]
            finally:
                c.close()
            self.assertGreater(below, 0)  # the stalls did empty products
            self.assertGreater(restocks[0], 0)
            self.assertGreater(restocks[1], 0)
            self.assertEqual(oversold, 0)
            self.assertEqual(orders, 400)
            p = subprocess.run([harness.MARKETCTL, "--db", db, "check"],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
