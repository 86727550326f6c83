"""schema/pg gives PostgreSQL the schema SQLite has after every migration
(issue 13), checked against a database the built marketctl migrates.

The structure, table by table: the tables; each one's columns in order,
with their types (INTEGER as bigint, TEXT as text in the "C" collation,
BLOB as bytea, audit_log's typeless object_id as jsonb), NOT NULL,
defaults and identity (SQLite's INTEGER PRIMARY KEY); the primary and
unique keys; the foreign keys with their ON DELETE rules; the named
indexes (unique, partial, key columns); the triggers' names and events;
the schema version. Then the behaviour: the same writes on both engines
give the same report_region_day rows when products and producers move
(one row and several at once), equal to a recount from the raw rows;
the same CHECK, NOT NULL, UNIQUE, foreign-key and append-only violations
fail on both; ids are never given twice.

A throwaway cluster (pgcluster.py) holds schema/pg, the baseline and
the migrations after it as marketctl migrate applies them, in a template
database; each behaviour test gets a fresh copy (CREATE DATABASE ...
TEMPLATE) and a fresh copy of the SQLite file.
"""
import glob
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402
import pgcluster  # noqa: E402

SCHEMA = os.path.join(harness.SOURCE, "schema")
# PostgreSQL's record of PRAGMA user_version, not one of SQLite's tables.
PG_ONLY_TABLES = {"schema_version"}
PG_ONLY_INDEXES = {"schema_version_one_row"}
# Where the key columns differ on purpose: SQLite ends every index of a
# rowid table with the rowid (id) implicitly; PostgreSQL names it.
INDEX_COLUMNS_PG = {"price_history_product_from": ("product_id", "from_at", "id")}
# SQLite's declared type -> the PostgreSQL type it is written as.
TYPES = {"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea",
         "": "jsonb"}  # "": audit_log.object_id, declared without a type
ON_DELETE_PG = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
                "d": "SET DEFAULT"}


# --- the two engines ------------------------------------------------
class Lite:
    """The SQLite side: a database file made by `marketctl migrate`."""

    def __init__(self, path):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")  # as marketd has them

    def close(self):
        self.db.close()

    def rows(self, sql):
        return [[_text(v) for v in r] for r in self.db.execute(sql).fetchall()]

    def script(self, sql):
        self.db.executescript("BEGIN;\n%s\nCOMMIT;" % sql)

    def refuses(self, sql):
        """The error when sql is refused as a constraint violation (the
        statement's changes undone), else None."""
        self.db.execute("SAVEPOINT probe")
        try:
            self.db.execute(sql)
        except sqlite3.IntegrityError as e:
            return "IntegrityError: %s" % e
        finally:
            self.db.execute("ROLLBACK TO probe")
            self.db.execute("RELEASE probe")
        return None


class Pg:
    """The PostgreSQL side: one database of the throwaway cluster."""

    def __init__(self, cluster, db):
        self.cluster = cluster
        self.name = db

    def rows(self, sql):
        return self.cluster.query(sql, db=self.name)

    def script(self, sql):
        self.cluster.psql(sql, db=self.name, single_transaction=True)

    def refuses(self, sql, classes=("23",)):
        """The error when sql fails with a SQLSTATE of one of classes
        (23: integrity constraint violation), else None. Nothing stays:
        the statement runs in a transaction that is rolled back."""
        p = subprocess.run(
            [pgcluster.tool("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
             "-v", "VERBOSITY=verbose", "-d", self.cluster.uri(self.name)],
            input=("BEGIN;\n%s;\nROLLBACK;\n" % sql).encode(), capture_output=True)
        err = p.stderr.decode("utf-8", "replace")
        m = re.search(r"ERROR:\s+([0-9A-Z]{5}):", err)
        if p.returncode != 0 and m and m.group(1)[:2] in classes:
            return err.strip().splitlines()[0]
        if p.returncode != 0:
            raise AssertionError("psql failed otherwise than refusing: %s\n%s" % (err, sql))
        return None

    def probe(self, cases):
        """For each case (statements separated by '; '), its SQLSTATE and
        message, or 'accepted'; nothing of any stays."""
        cases = [c.split("; ") for c in cases]
        rows = self.rows(PROBE % (_literal(json.dumps(cases)) + "::jsonb"))
        return [r[1] for r in rows]


# Runs each case (a list of statements) in a subtransaction that is
# always undone, and says how it ended: its SQLSTATE and message, or
# 'accepted'. One psql call for all of them (each psql costs a process
# and a connection: a tenth of a second on a busy machine).
PROBE = """
CREATE FUNCTION pg_temp.probe(cases jsonb) RETURNS TABLE (n int, result text)
LANGUAGE plpgsql AS $f$
DECLARE stmt text;
BEGIN
	FOR n IN 0 .. jsonb_array_length(cases) - 1 LOOP
		BEGIN
			FOR stmt IN SELECT jsonb_array_elements_text(cases -> n) LOOP
				EXECUTE stmt;
			END LOOP;
			result := 'accepted';
			RAISE EXCEPTION USING ERRCODE = 'P0099'; -- undo it
		EXCEPTION
			WHEN SQLSTATE 'P0099' THEN NULL;
			WHEN OTHERS THEN result := SQLSTATE || ' ' || SQLERRM;
		END;
		RETURN NEXT;
	END LOOP;
END;
$f$;
SELECT n, result FROM pg_temp.probe(%s) ORDER BY n;
"""


def _literal(text):
    return "'" + text.replace("'", "''") + "'"


def _text(v):
    """A SQLite value as psql -At prints it."""
    if v is None:
        return ""
    if isinstance(v, bytes):
        return "\\x" + v.hex()
    return str(v)


# One cluster and one migrated SQLite file for the whole file: the
# baseline is loaded into a template database, the SQLite file is the
# template of the SQLite copies.
CLUSTER = None
DIR = None
SQLITE_TEMPLATE = None


def setUpModule():
    global CLUSTER, DIR, SQLITE_TEMPLATE
    DIR = tempfile.mkdtemp(prefix="market-test-pg-")
    unittest.addModuleCleanup(shutil.rmtree, DIR, ignore_errors=True)
    SQLITE_TEMPLATE = os.path.join(DIR, "template.db")
    open(SQLITE_TEMPLATE, "w").close()
    p = subprocess.run([harness.MARKETCTL, "--db", SQLITE_TEMPLATE, "migrate"],
                       capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("marketctl migrate: %s" % p.stderr.decode())
    CLUSTER = pgcluster.Cluster()
    unittest.addModuleCleanup(CLUSTER.stop)
    CLUSTER.start()
    CLUSTER.create_database("baseline")
    # The baseline and every later migration of schema/pg, as marketd
    # applies them.
    p = subprocess.run([harness.MARKETCTL, "--db", CLUSTER.uri("baseline"), "migrate"],
                       capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("marketctl migrate (PostgreSQL): %s" % p.stderr.decode())


class Schema(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lite = Lite(SQLITE_TEMPLATE)
        cls.addClassCleanup(cls.lite.close)
        cls.pgs = Pg(CLUSTER, "baseline")

    # --- SQLite's schema ---------------------------------------------
    @classmethod
    def lite_tables(cls):
        return sorted(r[0] for r in cls.lite.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))

    def lite_columns(self, table):
        """[(name, type, notnull, default, identity)] in order."""
        sql = self.lite.db.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                                   (table,)).fetchone()[0]
        without_rowid = re.search(r"WITHOUT\s+ROWID\s*;?\s*$", sql, re.I) is not None
        info = self.lite.db.execute("PRAGMA table_info(%s)" % table).fetchall()
        pk = [c for c in info if c[5] > 0]
        out = []
        for cid, name, typ, notnull, dflt, pkn in info:
            # An INTEGER PRIMARY KEY is the rowid: never NULL, given
            # when none is sent. A WITHOUT ROWID table's key is NOT NULL.
            rowid = not without_rowid and len(pk) == 1 and pkn == 1 and typ.upper() == "INTEGER"
            if pkn and not rowid and not without_rowid:
                self.fail("%s.%s: a primary key SQLite lets be NULL" % (table, name))
            out.append((name, TYPES.get(typ.upper(), "?" + typ), bool(notnull or pkn),
                        dflt, rowid))
        return out

    # --- PostgreSQL's schema -----------------------------------------
    def pg_columns(self):
        """{table: [(name, type, notnull, default, identity)] in order}."""
        out = {}
        for table, name, typ, nullable, dflt, identity, collation in self.pgs.rows(
                "SELECT table_name, column_name, data_type, is_nullable, "
                "coalesce(column_default, ''), is_identity, coalesce(collation_name, '') "
                "FROM information_schema.columns WHERE table_schema = 'public' "
                "ORDER BY table_name, ordinal_position"):
            if typ == "text":
                self.assertEqual(collation, "C", "%s.%s: text not in the C collation "
                                 "(SQLite compares bytewise)" % (table, name))
            # "1", "'pending'::text" -> as SQLite writes them.
            dflt = re.sub(r"::[a-z ]+$", "", dflt) or None
            out.setdefault(table, []).append(
                (name, typ, nullable == "NO", dflt, identity == "YES"))
        return out

    def test_tables(self):
        pg = sorted(r[0] for r in self.pgs.rows(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"))
        self.assertEqual([t for t in pg if t not in PG_ONLY_TABLES], self.lite_tables())

    def test_columns(self):
        """Names in order, types, NOT NULL, defaults, identity."""
        pg = self.pg_columns()
        for t in self.lite_tables():
            with self.subTest(table=t):
                self.assertEqual(pg.get(t), self.lite_columns(t))

    def test_keys(self):
        """The primary key and the UNIQUE constraints of every table."""
        pg = {}
        for table, kind, cols in self.pgs.rows(
                "SELECT c.conrelid::regclass::text, c.contype, "
                "array_to_string(ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) "
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), ',') "
                "FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace "
                "WHERE s.nspname = 'public' AND c.contype IN ('p', 'u')"):
            pg.setdefault(table, set()).add((kind, cols))
        for t in self.lite_tables():
            lite = set()
            info = self.lite.db.execute("PRAGMA table_info(%s)" % t).fetchall()
            pk = [c[1] for c in sorted((c for c in info if c[5] > 0), key=lambda c: c[5])]
            if pk:
                lite.add(("p", ",".join(pk)))
            for _, name, unique, origin, _ in self.lite.db.execute(
                    "PRAGMA index_list(%s)" % t).fetchall():
                if origin == "u":
                    cols = [r[2] for r in self.lite.db.execute("PRAGMA index_info(%s)" % name)]
                    lite.add(("u", ",".join(cols)))
            with self.subTest(table=t):
                self.assertEqual(pg.get(t, set()), lite)

    def test_foreign_keys(self):
        """Each reference: columns, the table and columns it names, and
        what a delete does."""
        pg = {}
        for table, cols, ref, refcols, ondelete, onupdate in self.pgs.rows(
                "SELECT c.conrelid::regclass::text, "
                "array_to_string(ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) "
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), ','), "
                "c.confrelid::regclass::text, "
                "array_to_string(ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o) "
                "JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o), ','), "
                "c.confdeltype, c.confupdtype "
                "FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace "
                "WHERE s.nspname = 'public' AND c.contype = 'f'"):
            pg.setdefault(table, set()).add(
                (cols, ref, refcols, ON_DELETE_PG[ondelete], ON_DELETE_PG[onupdate]))
        for t in self.lite_tables():
            fks = {}
            for fid, seq, ref, frm, to, onupdate, ondelete, _ in self.lite.db.execute(
                    "PRAGMA foreign_key_list(%s)" % t).fetchall():
                fks.setdefault(fid, []).append((seq, ref, frm, to, ondelete, onupdate))
            lite = set()
            for parts in fks.values():
                parts.sort()
                lite.add((",".join(p[2] for p in parts), parts[0][1],
                          ",".join(p[3] for p in parts), parts[0][4], parts[0][5]))
            with self.subTest(table=t):
                self.assertEqual(pg.get(t, set()), lite)

    def test_indexes(self):
        """The named indexes (CREATE INDEX) of every table: the same
        names, uniqueness, partial or not, key columns (None for an
        expression)."""
        pg = {}
        for table, name, unique, partial, cols in self.pgs.rows(
                "SELECT t.relname, i.relname, x.indisunique, x.indpred IS NOT NULL, "
                "array_to_string(ARRAY(SELECT coalesce(a.attname, '(expr)') "
                "FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, o) "
                "LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n "
                "ORDER BY k.o), ',') "
                "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace "
                "WHERE s.nspname = 'public' "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"):
            if name in PG_ONLY_INDEXES:
                continue
            pg.setdefault(table, {})[name] = (unique == "t", partial == "t", tuple(cols.split(",")))
        for t in self.lite_tables():
            lite = {}
            for _, name, unique, origin, partial in self.lite.db.execute(
                    "PRAGMA index_list(%s)" % t).fetchall():
                if origin != "c":
                    continue
                cols = tuple(r[2] or "(expr)" for r in
                             self.lite.db.execute("PRAGMA index_info(%s)" % name))
                lite[name] = (bool(unique), bool(partial), INDEX_COLUMNS_PG.get(name, cols))
            with self.subTest(table=t):
                self.assertEqual(pg.get(t, {}), lite)

    def test_triggers(self):
        """The same triggers per table, by name and event; an append-only
        table also refuses TRUNCATE on PostgreSQL."""
        pg, truncate = {}, set()
        for table, name, tgtype in self.pgs.rows(
                "SELECT t.tgrelid::regclass::text, t.tgname, t.tgtype FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace s ON s.oid = c.relnamespace "
                "WHERE s.nspname = 'public' AND NOT t.tgisinternal"):
            tgtype = int(tgtype)
            if not tgtype & 1:  # a statement trigger: TRUNCATE guards only
                self.assertEqual(tgtype & 32, 32, name)
                truncate.add(table)
                continue
            events = [e for bit, e in ((4, "INSERT"), (8, "DELETE"), (16, "UPDATE")) if tgtype & bit]
            pg.setdefault(table, {})[name] = " ".join(events)
        lite = {}
        for table, name, sql in self.lite.db.execute(
                "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'"):
            m = re.search(r"\b(?:BEFORE|AFTER|INSTEAD\s+OF)\s+(INSERT|UPDATE|DELETE)\b", sql, re.I)
            lite.setdefault(table, {})[name] = m.group(1).upper()
        for t in self.lite_tables():
            with self.subTest(table=t):
                self.assertEqual(len(pg.get(t, {})), len(lite.get(t, {})))
                self.assertEqual(pg.get(t, {}), lite.get(t, {}))
                guarded = any(n.endswith("_no_delete") for n in lite.get(t, {}))
                self.assertEqual(t in truncate, guarded, "TRUNCATE guard of %s" % t)

    def test_version(self):
        """schema_version holds SQLite's user_version, the newest
        migration's number; each migration after the baseline has its
        PostgreSQL twin of the same number."""
        lite = self.lite.db.execute("PRAGMA user_version").fetchone()[0]
        self.assertEqual(self.pgs.rows("SELECT version FROM schema_version"), [[str(lite)]])
        numbers = sorted(int(os.path.basename(f)[:4]) for f in glob.glob(os.path.join(SCHEMA, "[0-9]*.sql")))
        self.assertEqual(lite, numbers[-1])
        pg = sorted(os.path.basename(f) for f in glob.glob(os.path.join(SCHEMA, "pg", "[0-9]*.sql")))
        self.assertEqual(pg[0], "0012_baseline.sql")
        later = [n for n in numbers if n > 12]
        self.assertEqual(sorted(int(f[:4]) for f in pg[1:]), later,
                         "every migration after 12 needs its schema/pg twin")


# --- behaviour: the same writes on both engines -------------------------
BASE = """
INSERT INTO regions (code, name, name_en, province, partnership) VALUES
  ('r1', 'R1', 'R1', 'P', 'east_west'), ('r2', 'R2', 'R2', 'P', 'mountain_sea'),
  ('r3', 'R3', 'R3', 'P', 'other');
INSERT INTO venues (id, name, kind, subdistrict) VALUES (1, 'Square', 'street_market', 'S');
INSERT INTO institutions (id, name, kind, subdistrict) VALUES (1, 'School', 'school', 'S');
INSERT INTO users (id, username, display_name, role, password_hash, created_at) VALUES
  (1, 'op', 'Op', 'operator', 'x', 1), (2, 'buyer', 'Buyer', 'buyer', 'x', 1),
  (3, 'admin', 'Admin', 'admin', 'x', 1);
INSERT INTO producers (id, name, region_code, kind, households, poor_households) VALUES
  (1, 'P1', 'r1', 'cooperative', 10, 2), (2, 'P2', 'r1', 'household', 1, 1),
  (3, 'P3', 'r2', 'enterprise', 5, 0);
INSERT INTO products (id, name, category, unit, price_fen, stock, producer_id, updated_at) VALUES
  (1, 'a', 'tea', 'kg', 100, 50, 1, 1), (2, 'b', 'fruit', 'kg', 200, 50, 1, 1),
  (3, 'c', 'grain', 'kg', 300, 50, 2, 1), (4, 'd', 'meat', 'kg', 400, 50, 3, 1);
INSERT INTO stock_movements (id, product_id, delta, stock_after, reason, at) VALUES
  (1, 1, 50, 50, 'initial', 1);
INSERT INTO price_history (id, product_id, price_fen, from_at, reason) VALUES
  (1, 1, 100, 1, 'initial');
INSERT INTO market_days (id, venue_id, date, opens_at, closes_at, channel, uid) VALUES
  (1, 1, '2026-05-01', '09:00', '12:00', 'holiday_market', 'md1@test');
INSERT INTO stalls (id, market_day_id, operator_id, producer_id, label) VALUES (1, 1, 1, 1, 'A1');
INSERT INTO sales (seq, id, stall_id, market_day_id, operator_id, recorded_at, recorded_date,
                   received_at, payment, total_fen, fingerprint, voided) VALUES
  (1, 's1', 1, 1, 1, 1, '2026-05-01', 1, 'cash', 300, 'f', 0),
  (2, 's2', 1, 1, 1, 1, '2026-05-01', 1, 'wechat', 400, 'f', 0),
  (3, 's3', 1, 1, 1, 1, '2026-05-02', 1, 'cash', 400, 'f', 0),
  (4, 's4', 1, 1, 1, 1, '2026-05-01', 1, 'cash', 100, 'f', 1),
  (5, 's5', 1, 1, 1, 1, '2026-05-02', 1, 'alipay', 700, 'f', 0);
INSERT INTO sale_lines (sale_seq, line_no, product_id, quantity, unit_price_fen, amount_fen) VALUES
  (1, 0, 1, 1, 100, 100), (1, 1, 2, 1, 200, 200),
  (2, 0, 1, 1, 100, 100), (2, 1, 3, 1, 300, 300),
  (3, 0, 4, 1, 400, 400),
  (4, 0, 1, 1, 100, 100),
  (5, 0, 3, 1, 300, 300), (5, 1, 4, 1, 400, 400);
INSERT INTO orders (id, buyer_id, status, total_fen, fulfillment, address, created_at,
                    created_date, updated_at, institution_id) VALUES
  (1, 2, 'paid', 500, 'delivery', '{}', 1, '2026-05-01', 1, 1),
  (2, 2, 'placed', 100, 'delivery', '{}', 1, '2026-05-01', 1, NULL),
  (3, 2, 'fulfilled', 200, 'delivery', '{}', 1, '2026-05-02', 1, NULL),
  (4, 2, 'cancelled', 300, 'delivery', '{}', 1, '2026-05-02', 1, NULL),
  (5, 2, 'ready', 600, 'delivery', '{}', 1, '2026-05-03', 1, NULL);
INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price_fen, amount_fen) VALUES
  (1, 0, 1, 1, 100, 100), (1, 1, 4, 1, 400, 400),
  (2, 0, 1, 1, 100, 100),
  (3, 0, 2, 1, 200, 200),
  (4, 0, 3, 1, 300, 300),
  (5, 0, 1, 2, 100, 200), (5, 1, 2, 2, 200, 400);
INSERT INTO order_events (id, order_id, from_status, to_status, user_id, at) VALUES
  (1, 1, NULL, 'placed', 2, 1);
INSERT INTO audit_log (id, at, user_id, username, action, object_type, remote_addr) VALUES
  (1, 1, 3, 'admin', 'POST /api/v1/products', 'product', '127.0.0.1');
INSERT INTO payouts (id, producer_id, amount_fen, paid_on, reference, created_at, created_by) VALUES
  (1, 1, 1000, '2026-05-03', 'ref-1', 1, 3);
INSERT INTO lots (id, product_id, code, quantity, remaining, packed_on, created_at) VALUES
  (1, 1, 'L1', 10, 9, '2026-04-30', 1);
INSERT INTO lot_draws (id, lot_id, sale_seq, line_no, quantity, drawn_at) VALUES
  (1, 1, 1, 0, 1, 1);
INSERT INTO webhook_endpoints (id, url, secret, events, event_mask, created_at) VALUES
  (1, 'https://example.test/h', 'whsec_0123456789012345678901234567890123456789abcd',
   '["order.paid"]', 2, 1);
"""

# The counted sales and orders per region and day, from the raw rows:
# what report_region_day must hold (zero rows aside). Both engines run it.
RECOUNT = """
SELECT region_code, date, sum(stall_sales), sum(orders) FROM (
  SELECT region_code, date, 1 AS stall_sales, 0 AS orders FROM (
    SELECT DISTINCT p.region_code AS region_code, s.recorded_date AS date, s.seq AS k
    FROM sales s JOIN sale_lines l ON l.sale_seq = s.seq
    JOIN products x ON x.id = l.product_id JOIN producers p ON p.id = x.producer_id
    WHERE s.voided = 0) AS counted_sales
  UNION ALL
  SELECT region_code, date, 0, 1 FROM (
    SELECT DISTINCT p.region_code AS region_code, o.created_date AS date, o.id AS k
    FROM orders o JOIN order_lines l ON l.order_id = o.id
    JOIN products x ON x.id = l.product_id JOIN producers p ON p.id = x.producer_id
    WHERE o.status IN ('paid', 'ready', 'fulfilled')) AS counted_orders
) AS u GROUP BY region_code, date ORDER BY region_code, date
"""
ROLLUP = ("SELECT region_code, date, stall_sales, orders FROM report_region_day "
          "ORDER BY region_code, date")

# Each step's writes, and what a rollup row then says. Several rows at
# once catch a trigger that sees the whole statement done (PostgreSQL's
# AFTER row triggers) instead of the rows so far (SQLite's).
MOVES = [
    ("two products of one sale move to another region in one UPDATE",
     "UPDATE products SET producer_id = 3 WHERE id IN (1, 2);"),
    ("a producer moves region", "UPDATE producers SET region_code = 'r3' WHERE id = 2;"),
    ("two producers move region in one UPDATE",
     "UPDATE producers SET region_code = 'r1' WHERE id IN (2, 3);"),
    ("a product moves to a producer of the same region (nothing moves)",
     "UPDATE products SET producer_id = 2 WHERE id = 4;"),
    ("producer_id set to itself, and another column changed (nothing moves)",
     "UPDATE products SET producer_id = producer_id, name = name || '!';"),
    ("a product moves back, one UPDATE of every product",
     "UPDATE products SET producer_id = CASE id WHEN 1 THEN 1 WHEN 2 THEN 3 ELSE producer_id END;"),
    ("every producer moves", "UPDATE producers SET region_code = CASE region_code "
     "WHEN 'r1' THEN 'r2' WHEN 'r2' THEN 'r3' ELSE 'r1' END;"),
]

# Statements both engines must refuse as constraint violations (SQLite:
# IntegrityError; PostgreSQL: SQLSTATE class 23, or 22 for the integer-only
# columns, whose SQLite CHECK (typeof(x) = 'integer') a bigint makes
# unneeded: PostgreSQL refuses such a value on input or on overflow).
REFUSED = [
    ("price below 1", "INSERT INTO products (name, category, unit, price_fen, stock, producer_id, "
     "updated_at) VALUES ('z', 'tea', 'kg', 0, 1, 1, 1)"),
    ("unknown category", "INSERT INTO products (name, category, unit, price_fen, stock, producer_id, "
     "updated_at) VALUES ('z', 'sweets', 'kg', 1, 1, 1, 1)"),
    ("product name NULL", "INSERT INTO products (name, category, unit, price_fen, stock, "
     "producer_id, updated_at) VALUES (NULL, 'tea', 'kg', 1, 1, 1, 1)"),
    ("producer that does not exist", "INSERT INTO products (name, category, unit, price_fen, "
     "stock, producer_id, updated_at) VALUES ('z', 'tea', 'kg', 1, 1, 99, 1)"),
    # (Both also refuse to move a product with counted sales to a
    # producer that does not exist, before the foreign key: the region
    # trigger writes a rollup row of region NULL.)
    ("product with sales moved to no producer", "UPDATE products SET producer_id = 99 WHERE id = 1"),
    ("certified not 0/1", "UPDATE products SET certified = 2 WHERE id = 1"),
    ("more poor households than households",
     "UPDATE producers SET poor_households = 11 WHERE id = 1"),
    ("region code empty", "INSERT INTO regions (code, name, name_en, province, partnership) "
     "VALUES ('', 'x', 'x', 'x', 'other')"),
    ("unknown partnership", "UPDATE regions SET partnership = 'north' WHERE code = 'r1'"),
    ("a buyer with a region", "UPDATE users SET region_code = 'r1' WHERE id = 2"),
    ("an operator in an institution", "UPDATE users SET institution_id = 1 WHERE id = 1"),
    ("duplicate username", "UPDATE users SET username = 'op' WHERE id = 2"),
    ("market day closing before it opens", "UPDATE market_days SET closes_at = '08:00' WHERE id = 1"),
    ("market day status unknown", "UPDATE market_days SET status = 'late' WHERE id = 1"),
    ("second market day of a venue on a date", "INSERT INTO market_days (venue_id, date, opens_at, "
     "closes_at, channel, uid) VALUES (1, '2026-05-01', '13:00', '14:00', 'caravan', 'md2@test')"),
    ("duplicate stall label", "INSERT INTO stalls (market_day_id, operator_id, producer_id, label) "
     "VALUES (1, 1, 1, 'A1')"),
    ("duplicate sale id", "UPDATE sales SET id = 's1' WHERE seq = 2"),
    ("unknown payment", "UPDATE sales SET payment = 'barter' WHERE seq = 1"),
    ("negative sale total", "UPDATE sales SET total_fen = -1 WHERE seq = 1"),
    ("sale line quantity 0", "UPDATE sale_lines SET quantity = 0 WHERE sale_seq = 1 AND line_no = 0"),
    ("refund above the total", "UPDATE orders SET refund_fen = 501 WHERE id = 1"),
    ("pickup without a market day", "UPDATE orders SET fulfillment = 'pickup' WHERE id = 1"),
    ("delivery without an address", "UPDATE orders SET address = NULL WHERE id = 1"),
    ("unknown order status", "UPDATE orders SET status = 'lost' WHERE id = 1"),
    ("a product twice in an order", "INSERT INTO order_lines (order_id, line_no, product_id, "
     "quantity, unit_price_fen, amount_fen) VALUES (1, 5, 4, 1, 1, 1)"),
    ("stock movement of 0", "INSERT INTO stock_movements (product_id, delta, stock_after, reason, at) "
     "VALUES (1, 0, 50, 'correction', 1)"),
    ("unknown stock movement reason", "INSERT INTO stock_movements (product_id, delta, stock_after, "
     "reason, at) VALUES (1, 1, 51, 'gift', 1)"),
    ("price history price 0", "INSERT INTO price_history (product_id, price_fen, from_at, reason) "
     "VALUES (1, 0, 2, 'change')"),
    ("plan year 1999", "INSERT INTO institution_plans (institution_id, year, food_budget_fen, "
     "reserved_share_bp, updated_at) VALUES (1, 1999, 1, 1, 1)"),
    ("reserved share above 100%", "INSERT INTO institution_plans (institution_id, year, "
     "food_budget_fen, reserved_share_bp, updated_at) VALUES (1, 2026, 1, 10001, 1)"),
    ("negative payout without a note", "INSERT INTO payouts (producer_id, amount_fen, paid_on, "
     "reference, created_at, created_by) VALUES (1, -5, '2026-05-03', 'ref-2', 1, 3)"),
    ("payout of 0", "INSERT INTO payouts (producer_id, amount_fen, paid_on, reference, created_at, "
     "created_by) VALUES (1, 0, '2026-05-03', 'ref-2', 1, 3)"),
    ("payout date not YYYY-MM-DD", "INSERT INTO payouts (producer_id, amount_fen, paid_on, "
     "reference, created_at, created_by) VALUES (1, 5, '2026-5-3', 'ref-2', 1, 3)"),
    ("lot with more left than packed", "INSERT INTO lots (product_id, code, quantity, remaining, "
     "packed_on, created_at) VALUES (1, 'L2', 5, 6, '2026-04-30', 1)"),
    ("duplicate lot code", "INSERT INTO lots (product_id, code, quantity, remaining, packed_on, "
     "created_at) VALUES (1, 'L1', 5, 5, '2026-04-30', 1)"),
    ("lot draw of a sale and an order", "INSERT INTO lot_draws (lot_id, sale_seq, order_id, "
     "line_no, quantity, drawn_at) VALUES (1, 1, 1, 0, 1, 1)"),
    ("webhook secret without whsec_", "UPDATE webhook_endpoints SET secret = "
     "'wxsec_0123456789012345678901234567890123456789abcd' WHERE id = 1"),
    ("webhook event type unknown", "INSERT INTO webhook_events (type, at, body) "
     "VALUES ('order.lost', 1, '{}')"),
    ("webhook delivery state unknown", "INSERT INTO webhook_deliveries (event_id, endpoint_id, "
     "state, due_ms) VALUES (99, 1, 'pending', 1)"),  # also: no such event
    # The append-only tables.
    ("stock movement changed", "UPDATE stock_movements SET ref = 'x'"),
    ("stock movement removed", "DELETE FROM stock_movements"),
    ("order event changed", "UPDATE order_events SET to_status = 'paid'"),
    ("order event removed", "DELETE FROM order_events"),
    ("audit row changed", "UPDATE audit_log SET username = 'x'"),
    ("audit row removed", "DELETE FROM audit_log"),
    ("price history changed", "UPDATE price_history SET price_fen = 5"),
    ("price history removed", "DELETE FROM price_history"),
    ("payout changed", "UPDATE payouts SET note = 'x'"),
    ("payout removed", "DELETE FROM payouts"),
    ("lot draw removed", "DELETE FROM lot_draws"),
    ("lot draw quantity changed", "UPDATE lot_draws SET quantity = 2, returned_at = 5"),
    ("lot draw changed without a return", "UPDATE lot_draws SET drawn_at = 2"),
]
# Integer-only columns (SQLite's CHECK (typeof(x) = 'integer')): refused
# on both, by SQLite's CHECK, by PostgreSQL's bigint (SQLSTATE 22P02,
# 22003).
REFUSED_INTEGER_ONLY = [
    ("a fractional price, as text", "UPDATE products SET price_fen = '1.5' WHERE id = 1"),
    ("a stock that is text", "UPDATE products SET stock = 'many' WHERE id = 1"),
    ("a stock past 2^63-1", "UPDATE products SET stock = 9223372036854775807 WHERE id = 1; "
     "UPDATE products SET stock = stock + 1 WHERE id = 1"),
    ("a rollup sum past 2^63-1", "INSERT INTO report_day (date, stall_sales, orders) "
     "VALUES ('2026-01-01', 9223372036854775807, 0); "
     "UPDATE report_day SET stall_sales = stall_sales + 1"),
]


# Moves every identity's sequence past the largest id of its table.
IDENTITIES_PAST_MAX = """
DO $$
DECLARE c record;
BEGIN
	FOR c IN SELECT table_name, column_name FROM information_schema.columns
	         WHERE table_schema = 'public' AND is_identity = 'YES' LOOP
		EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), '
		               'coalesce((SELECT max(%I) FROM %I), 0) + 1, false)',
		               c.table_name, c.column_name, c.column_name, c.table_name);
	END LOOP;
END;
$$;
"""


class Behaviour(unittest.TestCase):
    """The same writes on a fresh copy of each engine's database."""

    n = 0

    def engines(self):
        """A fresh SQLite file and a fresh PostgreSQL database, both with
        BASE written and report_region_day counted from it."""
        type(self).n += 1
        path = os.path.join(DIR, "t%d.db" % self.n)
        shutil.copyfile(SQLITE_TEMPLATE, path)
        lite = Lite(path)
        self.addCleanup(lite.close)
        pg = Pg(CLUSTER, CLUSTER.fresh_database(template="baseline"))
        seed = BASE + "INSERT INTO report_region_day (region_code, date, stall_sales, orders) " + \
            RECOUNT.strip() + ";"
        lite.script(seed)
        # BASE names its ids. SQLite gives max(id) + 1 next; an identity
        # goes on from its sequence, which rows sent with their ids do not
        # move: a copy into PostgreSQL (migrate-to) must move each past
        # the largest id, as here.
        pg.script(seed + IDENTITIES_PAST_MAX)
        return lite, pg

    def test_region_moves(self):
        lite, pg = self.engines()
        before = lite.rows(ROLLUP)
        self.assertEqual(pg.rows(ROLLUP), before)
        self.assertGreater(len(before), 3)
        for what, sql in MOVES:
            with self.subTest(what):
                lite.script(sql)
                pg.script(sql)
                got = lite.rows(ROLLUP)
                self.assertEqual(pg.rows(ROLLUP), got, "the engines disagree")
                nonzero = [r for r in got if r[2:] != ["0", "0"]]
                self.assertEqual(nonzero, lite.rows(RECOUNT), "SQLite's rollup is off")
        self.assertEqual(pg.rows("SELECT * FROM producers ORDER BY id"),
                         lite.rows("SELECT * FROM producers ORDER BY id"))

    def test_refused_on_both(self):
        lite, pg = self.engines()
        results = pg.probe([sql for _, sql in REFUSED + REFUSED_INTEGER_ONLY])
        for (what, sql), got in zip(REFUSED, results):
            with self.subTest(what):
                self.assertIsNotNone(lite.refuses(sql), "SQLite accepted: " + sql)
                self.assertTrue(got.startswith("23"), "PostgreSQL: %s: %s" % (got, sql))
        for (what, sql), got in zip(REFUSED_INTEGER_ONLY, results[len(REFUSED):]):
            with self.subTest(what):
                self.assertIsNotNone(self._lite_refuses_script(lite, sql),
                                     "SQLite accepted: " + sql)
                self.assertTrue(got.startswith(("22P02", "22003")), "PostgreSQL: %s: %s" % (got, sql))
        # Nothing refused stayed: the tables are as BASE left them.
        for t in ("products", "stock_movements", "lot_draws", "payouts", "audit_log"):
            self.assertEqual(pg.rows("SELECT * FROM %s ORDER BY 1" % t),
                             lite.rows("SELECT * FROM %s ORDER BY 1" % t), t)

    @staticmethod
    def _lite_refuses_script(lite, sql):
        lite.db.execute("SAVEPOINT probe")
        try:
            for stmt in sql.split("; "):
                lite.db.execute(stmt)
        except sqlite3.IntegrityError as e:
            return str(e)
        finally:
            lite.db.execute("ROLLBACK TO probe")
            lite.db.execute("RELEASE probe")
        return None

    def test_allowed_on_both(self):
        """What the guards let through: a lot draw put back once; a row
        of every other table changed."""
        lite, pg = self.engines()
        sql = """
UPDATE lot_draws SET returned_at = 7 WHERE id = 1;
UPDATE lots SET remaining = 10 WHERE id = 1;
UPDATE products SET stock = 49, price_fen = 150 WHERE id = 1;
UPDATE orders SET status = 'cancelled', refund_fen = 500 WHERE id = 1;
UPDATE sales SET voided = 1, void_reason = 'typo', voided_at = 2, voided_by = 1 WHERE seq = 2;
DELETE FROM webhook_endpoints WHERE id = 1;
"""
        lite.script(sql)
        pg.script(sql)
        for t in ("lot_draws", "lots", "products", "orders", "sales", "webhook_endpoints"):
            self.assertEqual(pg.rows("SELECT * FROM %s ORDER BY 1" % t),
                             lite.rows("SELECT * FROM %s ORDER BY 1" % t), t)
        self.assertIsNotNone(lite.refuses("UPDATE lot_draws SET returned_at = 8"))
        self.assertIsNotNone(pg.refuses("UPDATE lot_draws SET returned_at = 8"))

    def test_ids_never_given_twice(self):
        """webhook_events (AUTOINCREMENT): a deleted newest id is not
        given again; an id is given when none is sent (identity)."""
        lite, pg = self.engines()
        sql = """
INSERT INTO webhook_events (type, at, body) VALUES ('order.paid', 1, '{}');
INSERT INTO webhook_events (type, at, body) VALUES ('order.paid', 2, '{}');
DELETE FROM webhook_events WHERE id = (SELECT max(id) FROM webhook_events);
INSERT INTO webhook_events (type, at, body) VALUES ('order.ready', 3, '{}');
INSERT INTO venues (name, kind, subdistrict) VALUES ('Hall', 'community', 'S');
"""
        lite.script(sql)
        pg.script(sql)
        q = "SELECT id, type, at FROM webhook_events ORDER BY id"
        self.assertEqual(lite.rows(q), [["1", "order.paid", "1"], ["3", "order.ready", "3"]])
        self.assertEqual(pg.rows(q), lite.rows(q))
        self.assertEqual(pg.rows("SELECT max(id) FROM venues"), [["2"]])

    def test_audit_object_id_keeps_its_kind(self):
        """audit_log.object_id: an integer stays an integer, a text of
        digits stays text, on both (SQLite: no type; PostgreSQL: jsonb)."""
        lite, pg = self.engines()
        cols = "at, user_id, username, action, object_type, remote_addr, object_id"
        row = "1, 3, 'admin', 'POST /x', 'x', '127.0.0.1', "
        lite.script("INSERT INTO audit_log (%s) VALUES (%s12345678), (%s'12345678'), (%sNULL);"
                    % (cols, row, row, row))
        pg.script("INSERT INTO audit_log (%s) VALUES (%s'12345678'), (%s'\"12345678\"'), (%sNULL);"
                  % (cols, row, row, row))
        self.assertEqual(lite.rows("SELECT typeof(object_id), object_id FROM audit_log "
                                   "WHERE id > 1 ORDER BY id"),
                         [["integer", "12345678"], ["text", "12345678"], ["null", ""]])
        self.assertEqual(pg.rows("SELECT coalesce(jsonb_typeof(object_id), 'null'), "
                                 "coalesce(object_id #>> '{}', '') FROM audit_log "
                                 "WHERE id > 1 ORDER BY id"),
                         [["number", "12345678"], ["string", "12345678"], ["null", ""]])
        self.assertIsNotNone(pg.refuses(
            "INSERT INTO audit_log (%s) VALUES (%s'1.5')" % (cols, row)))
        self.assertIsNotNone(pg.refuses(
            "INSERT INTO audit_log (%s) VALUES (%s'[1]')" % (cols, row)))


if __name__ == "__main__":
    harness.main()
