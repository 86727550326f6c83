"""marketctl migrate-to copies a deployment between engines (issue 13).

The demo data plus a generated year go from SQLite to PostgreSQL and
back to a new SQLite file: every table of the schema is copied, every
row of the round trip is byte for byte the original (audit_log's object
ids keep integer and text apart, tokens keep their bytes), `check`
passes on all three, and the reports (impact, procurement, payouts)
answer the same on each. On PostgreSQL the identities move past the ids
copied: the next user gets the next id. A destination that holds rows is
refused, and nothing is written to it.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402
import pgcluster  # noqa: E402


def ctl(db, *args, input=None, check=True):
    p = subprocess.run([harness.MARKETCTL, "--db", db] + list(args), capture_output=True,
                       input=(input or "").encode())
    if check and p.returncode != 0:
        raise AssertionError("marketctl %s: %s%s" % (" ".join(args), p.stdout.decode(),
                                                     p.stderr.decode()))
    return p


def tables(path):
    con = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in con.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%'"))
    finally:
        con.close()


def rows(path, table):
    """Every row with each value's SQLite type, sorted."""
    con = sqlite3.connect(path)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(%s)" % table)]
        sel = ", ".join("%s, typeof(%s)" % (c, c) for c in cols)
        return sorted(con.execute("SELECT %s FROM %s" % (sel, table)).fetchall(),
                      key=repr)
    finally:
        con.close()


REPORTS = (("report", "--from", "2025-01-01", "--to", "2026-12-31"),
           ("report", "--from", "2025-01-01", "--to", "2026-12-31", "--csv", "--group-by",
            "month"),
           ("report", "procurement", "--csv"),
           ("report", "payouts", "--from", "2025-01-01", "--to", "2026-12-31", "--csv"))


@unittest.skipUnless(pgcluster.available(), "PostgreSQL is not installed")
class MigrateTo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="market-migrate-to-")
        cls.cluster = pgcluster.Cluster().start()
        cls.addClassCleanup(cls.cluster.stop)
        cls.src = os.path.join(cls.dir, "src.db")
        ctl(cls.src, "demo")
        # Writes through the API: audit entries with integer and text
        # object ids, and login tokens (bytes).
        srv = harness.Server(db=cls.src).start()
        try:
            admin = srv.user("copy_admin", "admin")
            for code in ("copyland", "copyshire"):
                r = srv.post("/api/v1/regions", {
                    "code": code, "name": code, "name_en": code, "province": "p",
                    "partnership": "east_west"}, token=admin)
                assert r.status == 201, r
            r = srv.post("/api/v1/venues", {"name": "复制社区", "kind": "community",
                                            "subdistrict": "鼓楼街道"}, token=admin)
            assert r.status == 201, r
        finally:
            srv.stop()
        cls.cluster.create_database("copy")
        cls.pg = cls.cluster.uri("copy")
        cls.out_pg = ctl(cls.src, "migrate-to", cls.pg).stdout.decode()
        cls.back = os.path.join(cls.dir, "back.db")
        cls.out_back = ctl(cls.pg, "migrate-to", cls.back).stdout.decode()

    def test_every_table_is_copied(self):
        copied = sorted(line.split()[0] for line in self.out_pg.splitlines()
                        if line.endswith(" rows") and not line.startswith("copied"))
        self.assertEqual(copied, tables(self.src))
        self.assertIn("ok:", self.out_pg)
        self.assertIn("ok:", self.out_back)

    def test_the_round_trip_gives_every_row_back(self):
        for t in tables(self.src):
            with self.subTest(table=t):
                self.assertEqual(rows(self.back, t), rows(self.src, t))
        kinds = {r[-3] for r in rows(self.src, "audit_log")}  # typeof(object_id)
        self.assertTrue({"integer", "text"} <= kinds, kinds)
        self.assertGreater(len(rows(self.src, "tokens")), 0)
        self.assertGreater(len(rows(self.src, "sale_lines")), 0)

    def test_reports_answer_the_same_on_every_copy(self):
        for args in REPORTS:
            with self.subTest(report=" ".join(args)):
                want = ctl(self.src, *args).stdout
                self.assertGreater(len(want), 0)
                self.assertEqual(ctl(self.pg, *args).stdout, want)
                self.assertEqual(ctl(self.back, *args).stdout, want)
        for db in (self.src, self.pg, self.back):
            self.assertEqual(ctl(db, "check").returncode, 0)

    def test_ids_go_on_past_the_copied_ones(self):
        top = int(self.cluster.query("SELECT max(id) FROM users", db="copy")[0][0])
        ctl(self.pg, "user", "add", "--username", "after_copy", "--role", "buyer",
            input="password123\n")
        got = self.cluster.query("SELECT id FROM users WHERE username = 'after_copy'",
                                 db="copy")
        self.assertEqual(int(got[0][0]), top + 1)

    def test_a_destination_with_rows_is_refused(self):
        before = rows(self.back, "users")
        p = ctl(self.src, "migrate-to", self.back, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("is not empty", p.stderr.decode())
        self.assertEqual(rows(self.back, "users"), before)


    def test_gen_makes_the_same_dataset_on_either_engine(self):
        """marketctl gen on PostgreSQL: the same seed gives the same
        reports as on SQLite, and check passes."""
        args = ("gen", "--products", "40", "--buyers", "4", "--sale-lines", "400",
                "--orders", "40", "--days", "20", "--institutions", "3",
                "--institution-orders", "12", "--seed", "7")
        lite = os.path.join(self.dir, "gen.db")
        self.cluster.create_database("gen")
        pg = self.cluster.uri("gen")
        ctl(lite, *args)
        ctl(pg, *args)
        for report in REPORTS:
            with self.subTest(report=" ".join(report)):
                want = ctl(lite, *report).stdout
                self.assertGreater(len(want), 0)
                self.assertEqual(ctl(pg, *report).stdout, want)
        self.assertEqual(ctl(pg, "check").returncode, 0)
        self.assertEqual(self.cluster.query("SELECT count(*) FROM sale_lines", db="gen"),
                         [["400"]])

    def test_a_row_refused_midway_copies_nothing(self):
        """Rows go to PostgreSQL without waiting for each answer (a
        pipeline); one refused far into a table still undoes the whole
        copy, and says which table."""
        self.cluster.create_database("refuses")
        uri = self.cluster.uri("refuses")
        ctl(uri, "migrate")  # the schema, then a rule the source breaks
        ids = [int(r[0]) for r in self.cluster.query(
            "SELECT id FROM users ORDER BY id", db="copy")]
        self.assertGreater(len(ids), 3)
        self.cluster.psql("ALTER TABLE users ADD CONSTRAINT not_the_last CHECK (id <> %d)"
                          % ids[-1], db="refuses")
        p = ctl(self.src, "migrate-to", uri, check=False)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("a row of users was refused", p.stderr.decode())
        for t in ("regions", "users", "products"):
            self.assertEqual(self.cluster.query("SELECT count(*) FROM %s" % t,
                                                db="refuses"), [["0"]], t)

    def test_an_unreachable_destination_is_refused(self):
        p = ctl(self.src, "migrate-to", "postgresql://postgres@127.0.0.1:1/none", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot connect to PostgreSQL", p.stderr.decode())

    def test_backup_of_a_uri_points_to_pg_dump(self):
        p = ctl(self.pg, "backup", os.path.join(self.dir, "x.db"), check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("pg_dump", p.stderr.decode())
        self.assertFalse(os.path.exists(os.path.join(self.dir, "x.db")))

    def test_db_pool_out_of_range_stops_start_up(self):
        for bad in ("0", "257", "many"):
            p = subprocess.run([harness.MARKETD, "--db", self.pg, "--db-pool", bad,
                                "--listen", "127.0.0.1:0"], capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn("db-pool", p.stderr.decode())


if __name__ == "__main__":
    harness.main()
