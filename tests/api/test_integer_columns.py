"""Money and stock stay 64-bit integers (issue 16, schema 0007).

Prices are at most 10^11 fen and a stock set through the API at most
10^9 units (400 validation_failed naming the field). A sum that would
leave 64 bits inside SQL (SQLite would store it as an approximate REAL)
fails loudly instead: a rollup upsert past 2^63 - 1 answers 500 and leaves
nothing behind. The migration that makes the columns integer-only keeps
every row of a database made at schema 0006."""
import glob
import os
import sqlite3
import subprocess
import tempfile
import unittest

import harness
from sales_fixture import Market, sale

PRICE_MAX = 10 ** 11
STOCK_MAX = 10 ** 9
INT64_MAX = 2 ** 63 - 1


class Bounds(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = Market(cls.srv)

    def body(self, **kw):
        b = {"name": "贞丰李子", "category": "fruit", "unit": "500g bag",
             "price_fen": 100, "stock": 10, "producer_id": self.m.producer}
        b.update(kw)
        return b

    def test_price_and_stock_bounds(self):
        for kw, field in ((dict(price_fen=PRICE_MAX + 1), "price_fen"),
                          (dict(price_fen=INT64_MAX), "price_fen"),
                          (dict(stock=STOCK_MAX + 1), "stock"),
                          (dict(stock=INT64_MAX), "stock")):
            r = self.srv.post("/api/v1/products", self.body(**kw), token=self.m.admin)
            self.assertProblem(r, 400, "validation_failed", field)
        ok = self.srv.post("/api/v1/products", self.body(price_fen=PRICE_MAX, stock=STOCK_MAX),
                           token=self.m.admin)
        self.assertEqual(ok.status, 201, ok)
        pid = ok.json["id"]
        for kw, field in ((dict(price_fen=PRICE_MAX + 1), "price_fen"),
                          (dict(stock=STOCK_MAX + 1), "stock")):
            r = self.srv.patch("/api/v1/products/%d" % pid, kw, token=self.m.admin)
            self.assertProblem(r, 400, "validation_failed", field)
        got = self.srv.get("/api/v1/products/%d" % pid).json
        self.assertEqual((got["price_fen"], got["stock"]), (PRICE_MAX, STOCK_MAX))

    def test_rollup_overflow_fails_loudly(self):
        # Each sale: 10^6 units at 10^11 fen = 10^17 fen on one product and
        # day. 92 of them make 9.2 * 10^18 < 2^63 - 1; the 93rd would take
        # the day's rollup past 64 bits.
        pid = self.m.product(PRICE_MAX, STOCK_MAX)
        line = [{"product_id": pid, "quantity": 10 ** 6}]
        for i in range(92):
            r = self.srv.post("/api/v1/sales", sale("big-%04d" % i, self.m.stall, line),
                              token=self.m.op)
            self.assertEqual(r.status, 201, r)
        before = self.m.stock(pid)
        r = self.srv.post("/api/v1/sales", sale("big-overflow", self.m.stall, line),
                          token=self.m.op)
        self.assertProblem(r, 500, "internal")
        # Nothing of it is left: no sale, no stock change, the rollups as
        # they were (marketctl check recomputes them from the raw rows).
        self.assertEqual(self.srv.get("/api/v1/sales/big-overflow", token=self.m.admin).status, 404)
        self.assertEqual(self.m.stock(pid), before)
        p = self.srv.ctl("check", check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        # The report still adds up (a sum beyond 64 bits is its own error).
        db = sqlite3.connect(self.srv.db)
        try:
            kinds = db.execute("SELECT DISTINCT typeof(holiday_market_fen), typeof(units) "
                               "FROM report_product_day").fetchall()
        finally:
            db.close()
        self.assertEqual(kinds, [("integer", "integer")])
        # And the server goes on taking sales.
        small = [{"product_id": self.m.product(100, 10), "quantity": 1}]
        r = self.srv.post("/api/v1/sales", sale("small-after", self.m.stall, small), token=self.m.op)
        self.assertEqual(r.status, 201, r)


def schema_0006(path):
    """A database made by migrations 0001..0006 alone, as a marketd of
    before 0007 left it."""
    db = sqlite3.connect(path)
    for f in sorted(glob.glob(os.path.join(harness.SOURCE, "schema", "*.sql"))):
        n = int(os.path.basename(f)[:4])
        if n <= 6:
            with open(f, encoding="utf-8") as sql:
                db.executescript("BEGIN;\n" + sql.read() + "\nCOMMIT;")
    db.execute("PRAGMA user_version = 6")
    db.commit()
    return db


TABLES = ["regions", "users", "producers", "products", "stock_movements", "price_history",
          "venues", "market_days", "stalls", "sales", "sale_lines", "orders", "order_lines",
          "order_events", "payments", "report_day", "report_product_day",
          "report_product_month", "report_region_day", "audit_log"]


def columns(db, t):
    return [r[1] for r in db.execute("PRAGMA table_info(%s)" % t)]


def snapshot(db, cols):
    """The rows of the 0006 tables, in the 0006 columns (later migrations
    may add columns and tables), and the indexes and triggers."""
    out = {}
    for t in TABLES:
        order = ", ".join(str(i + 1) for i in range(len(cols[t])))
        out[t] = db.execute("SELECT %s FROM %s ORDER BY %s"
                            % (", ".join(cols[t]), t, order)).fetchall()
    out["schema"] = db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name").fetchall()
    return out


class Migration(unittest.TestCase):

    def test_0006_data_survives(self):
        d = tempfile.mkdtemp(prefix="market-test-0007-")
        path = os.path.join(d, "market.db")
        db = schema_0006(path)
        # Data made at 0006 by a server of then: the demo database made by
        # this marketctl, copied row by row into the 0006 schema.
        demo = os.path.join(d, "demo.db")
        subprocess.run([harness.MARKETCTL, "--db", demo, "demo"], check=True,
                       capture_output=True)
        db.execute("ATTACH ? AS demo", (demo,))
        db.execute("PRAGMA foreign_keys = OFF")
        cols = {t: columns(db, t) for t in TABLES}
        for (t,) in db.execute("SELECT name FROM main.sqlite_master WHERE type = 'table' "
                               "AND name NOT LIKE 'sqlite_%'").fetchall():
            # Only what the 0006 schema has: the demo of this marketctl
            # also fills tables and columns of later migrations.
            c = ", ".join(columns(db, t))
            db.execute("INSERT INTO main.%s (%s) SELECT %s FROM demo.%s" % (t, c, c, t))
        db.commit()
        db.execute("DETACH demo")
        before = snapshot(db, cols)
        self.assertGreater(len(before["sales"]), 100)
        db.close()

        srv = harness.Server(db=path).start()
        try:
            self.assertEqual(srv.get("/api/v1/regions").status, 200)
        finally:
            rc = srv.stop()
            log = "".join(srv.log)
        self.assertEqual(rc, 0, log)
        self.assertIn("database migrated to 0007_integer_columns.sql", log)
        db = sqlite3.connect(path)
        try:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0] >= 7, True)
            after = snapshot(db, cols)
            self.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(), [])
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            # The new CHECKs are there and refuse a REAL.
            with self.assertRaises(sqlite3.IntegrityError):
                db.execute("UPDATE products SET stock = stock + 9223372036854775807 "
                           "WHERE id = (SELECT min(id) FROM products)")
        finally:
            db.close()
        for t in TABLES:
            self.assertEqual(before[t], after[t], t)
        # Every index and trigger of 0006 is still there as it was (later
        # migrations may add more).
        for entry in before["schema"]:
            self.assertIn(entry, after["schema"])
        p = subprocess.run([harness.MARKETCTL, "--db", path, "check"], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        srv.cleanup()


if __name__ == "__main__":
    harness.main()
