"""marketctl against a live server's database: user add, backup while
marketd runs, and check catching a stock that disagrees with its ledger
and movements that someone tries to rewrite."""
import os
import sqlite3
import subprocess

import harness


class Marketctl(harness.ServerTest):

    def test_user_add_rules(self):
        srv = self.srv
        p = srv.ctl("user", "add", "--username", "ctl_admin", "--role", "admin",
                    input="long enough password\n")
        self.assertIn(b"created admin user ctl_admin", p.stdout)
        self.assertEqual(srv.login("ctl_admin", "long enough password") != "", True)
        # The same name again, a bad role, a short password, a region on a buyer.
        cases = [
            (["--username", "ctl_admin", "--role", "admin"], "password123\n", 1, "taken"),
            (["--username", "xx1", "--role", "root"], "password123\n", 2, "role"),
            (["--username", "xx2", "--role", "buyer"], "short\n", 2, "8 to 128"),
            (["--username", "xx3", "--role", "buyer", "--region", "zhenfeng"],
             "password123\n", 2, "region"),
            (["--username", "xx4", "--role", "coordinator", "--region", "nowhere"],
             "password123\n", 1, "region"),
            (["--username", "xx5", "--role", "buyer"], "", 2, "standard input"),
            (["--username", "xx Bad Name", "--role", "buyer"], "password123\n", 2, "a-z"),
        ]
        for args, stdin, rc, words in cases:
            with self.subTest(args=args):
                p = srv.ctl("user", "add", *args, input=stdin, check=False)
                self.assertEqual(p.returncode, rc, p.stderr)
                self.assertIn(words, p.stderr.decode())
        with srv.sql() as db:
            n = db.value("SELECT count(*) FROM users WHERE username LIKE 'x%'")
        self.assertEqual(n, 0)

    def test_an_older_schema_is_migrated_only_when_asked(self):
        """A newer marketctl must not change the schema of a database an
        older marketd is using: it refuses (exit 2) until `migrate`."""
        old = os.path.join(self.srv.dir, "old.db")
        migrations = sorted(f for f in os.listdir(os.path.join(harness.SOURCE, "schema"))
                            if f.endswith(".sql"))
        self.assertGreater(len(migrations), 1)
        have = int(migrations[-2].split("_")[0])
        con = sqlite3.connect(old)
        for name in migrations[:-1]:
            with open(os.path.join(harness.SOURCE, "schema", name)) as f:
                con.executescript(f.read())
        con.execute("PRAGMA user_version = %d" % have)
        con.commit()
        con.close()

        def version():
            c = sqlite3.connect(old)
            try:
                return c.execute("PRAGMA user_version").fetchone()[0]
            finally:
                c.close()

        for args, stdin in ((["check"], None), (["report", "--from", "2026-01-01",
                                                  "--to", "2026-01-31"], None),
                            (["user", "add", "--username", "late", "--role", "admin"],
                             "password123\n")):
            with self.subTest(args=args):
                p = subprocess.run([harness.MARKETCTL, "--db", old] + args,
                                   input=stdin and stdin.encode(), capture_output=True)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(b"older", p.stderr)
                self.assertIn(b"marketctl --db FILE migrate", p.stderr)
                self.assertEqual(version(), have)
        p = subprocess.run([harness.MARKETCTL, "--db", old, "migrate"], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        latest = int(migrations[-1].split("_")[0])
        self.assertIn(("migrated from schema version %d to %d" % (have, latest)).encode(),
                      p.stdout)
        self.assertEqual(version(), latest)
        p = subprocess.run([harness.MARKETCTL, "--db", old, "migrate"], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"up to date", p.stdout)
        p = subprocess.run([harness.MARKETCTL, "--db", old, "check"], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        # A new file is still made whole by any command that writes.
        new = os.path.join(self.srv.dir, "new.db")
        p = subprocess.run([harness.MARKETCTL, "--db", new, "user", "add", "--username",
                            "first", "--role", "admin"], input=b"password123\n",
                           capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_usage(self):
        p = subprocess.run([harness.MARKETCTL], capture_output=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"usage:", p.stderr)
        p = self.srv.ctl("frobnicate", check=False)
        self.assertEqual(p.returncode, 2)

    def test_reading_commands_need_an_existing_database(self):
        missing = os.path.join(self.srv.dir, "typo.db")
        for args in (["check"], ["backup", os.path.join(self.srv.dir, "copy.db")],
                     ["report", "--from", "2026-01-01", "--to", "2026-01-31"]):
            with self.subTest(args=args):
                p = subprocess.run([harness.MARKETCTL, "--db", missing] + args,
                                   capture_output=True)
                self.assertEqual(p.returncode, 1)
                self.assertIn(b"no database at", p.stderr)
                self.assertFalse(os.path.exists(missing))
                self.assertFalse(os.path.exists(os.path.join(self.srv.dir, "copy.db")))

    def test_a_database_it_creates_is_private(self):
        path = os.path.join(self.srv.dir, "fresh.db")
        old = os.umask(0o022)
        try:
            p = subprocess.run([harness.MARKETCTL, "--db", path, "user", "add",
                                "--username", "first_admin", "--role", "admin"],
                               input=b"password123\n", capture_output=True)
        finally:
            os.umask(old)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)

    def test_backup_while_serving_and_check(self):
        srv = self.srv
        admin = srv.user("bk_admin", "admin")
        r = srv.post("/api/v1/regions", {"code": "zhenfeng", "name": "贞丰县",
                                         "name_en": "Zhenfeng", "province": "贵州省",
                                         "partnership": "east_west"}, token=admin)
        self.assertEqual(r.status, 201, r)
        if harness.PG:
            # backup refuses a PostgreSQL URI (pg.test_migrate_to); a copy
            # taken while serving is migrate-to's, into a new database.
            dest = harness.pg_database()
            p = srv.ctl("migrate-to", dest)
        else:
            dest = os.path.join(srv.dir, "backup.db")
            p = srv.ctl("backup", dest)
            self.assertIn(b"backed up", p.stdout)
            self.assertFalse(os.path.exists(dest + ".tmp"))
        with harness.Db(dest) as db:
            self.assertEqual(db.value("SELECT name FROM regions WHERE code='zhenfeng'"),
                             "贞丰县")
        p = subprocess.run([harness.MARKETCTL, "--db", dest, "check"], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # The server goes on serving after the backup.
        self.assertEqual(srv.get("/api/v1/regions/zhenfeng").status, 200)

    def test_check_catches_a_stock_off_its_ledger(self):
        srv = self.srv
        admin = srv.user("ck_admin", "admin")
        srv.post("/api/v1/regions", {"code": "xinjiang", "name": "新疆", "name_en": "Xinjiang",
                                     "province": "新疆", "partnership": "other"}, token=admin)
        prod = srv.post("/api/v1/producers", {"name": "灰枣企业", "region_code": "xinjiang",
                                              "kind": "enterprise", "households": 5,
                                              "poor_households": 1}, token=admin)
        self.assertEqual(prod.status, 201, prod)
        p = srv.post("/api/v1/products", {"name": "新疆灰枣", "category": "dried_fruit",
                                          "unit": "1kg", "price_fen": 3600, "stock": 10,
                                          "producer_id": prod.json["id"]}, token=admin)
        self.assertEqual(p.status, 201, p)
        pid = p.json["id"]
        self.assertEqual(srv.ctl("check").returncode, 0)
        # A stock changed behind the ledger's back is found.
        copy = srv.copy("tampered")
        with harness.Db(copy) as db:
            self.assertEqual(db.execute(("UPDATE products SET stock = stock + 1 WHERE id = ?",
                                         (pid,))), 1)
            # Movements cannot be rewritten or deleted.
            for sql in ("UPDATE stock_movements SET delta = 11",
                        "DELETE FROM stock_movements"):
                with self.subTest(sql=sql):
                    with self.assertRaisesRegex(harness.DbError,
                                                "stock movements are append-only"):
                        db.execute(sql)
            self.assertEqual(db.value("SELECT sum(delta) FROM stock_movements "
                                      "WHERE product_id = ?", (pid,)), 10)
        r = subprocess.run([harness.MARKETCTL, "--db", copy, "check"], capture_output=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(("product %d: stock 11 but its movements add up to 10" % pid).encode(),
                      r.stdout)

    def test_demo_refuses_a_database_with_data(self):
        srv = self.srv
        admin = srv.user("dm_admin", "admin")
        srv.post("/api/v1/regions", {"code": "zhenfeng", "name": "贞丰县", "name_en": "Z",
                                     "province": "贵州省", "partnership": "east_west"},
                 token=admin)
        p = srv.ctl("demo", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"already holds data", p.stderr)


if __name__ == "__main__":
    harness.main()
