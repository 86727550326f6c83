"""500 internal: what a client sees when the database fails under a
request. The failure is made by a trigger that names a table that does
not exist, added behind the server's back; the answer must be a problem
object whose detail leaks no SQL, path or table name, nothing must be
stored, and the server must go on serving."""
import sqlite3

import harness


class InternalError(harness.ServerTest):
    threads = 1  # one database connection, whose statements are cached

    def test_database_failure_is_a_clean_500(self):
        srv = self.srv
        admin = srv.user("admin", "admin")
        venue = {"name": "白云庄社区", "kind": "community", "subdistrict": "白云街道"}
        r = srv.post("/api/v1/venues", venue, token=admin)
        self.assertEqual(r.status, 201, r)

        con = sqlite3.connect(srv.db)
        con.execute("CREATE TRIGGER boom BEFORE INSERT ON venues "
                    "BEGIN SELECT secret_column FROM secret_table_xyz; END")
        con.commit()
        con.close()

        r = srv.post("/api/v1/venues", dict(venue, name="安丰社区"), token=admin)
        self.assertProblem(r, 500, "internal")
        text = r.body.decode()
        for leak in ("secret", "SELECT", "sqlite", "venues", srv.dir, "trigger"):
            self.assertNotIn(leak, text)

        # Nothing stored, and the server still answers.
        self.assertEqual(srv.get("/healthz").status, 200)
        names = [v["name"] for v in srv.get("/api/v1/venues").json["items"]]
        self.assertEqual(names, ["白云庄社区"])


# The routes MARKETD_TEST_FAIL_REPLY (a test-only hook) turns into a 500
# after their handler has written: what the handler wrote must be undone.
FAILING = ("POST /api/v1/producers", "POST /api/v1/users", "POST /api/v1/venues",
           "POST /api/v1/regions")


class FiveHundredLeavesNothing(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        srv = harness.Server(threads=2, env={"MARKETD_TEST_FAIL_REPLY": ",".join(FAILING)})
        cls.srv = srv.start()
        cls.addClassCleanup(cls._kill_leftover, cls.srv)

    def count(self, table):
        con = sqlite3.connect(self.srv.db)
        try:
            return con.execute("SELECT count(*) FROM %s" % table).fetchone()[0]
        finally:
            con.close()

    def test_a_500_after_a_write_leaves_no_row(self):
        srv = self.srv
        admin = srv.user("admin", "admin")
        # The region the producer names is made behind the server's back
        # (creating one through the API answers 500 here).
        con = sqlite3.connect(srv.db)
        con.execute("INSERT INTO regions (code, name, name_en, province, partnership)"
                    " VALUES ('zhenfeng', '贞丰县', 'Zhenfeng', 'p', 'east_west')")
        con.commit()
        con.close()
        tables = ("regions", "producers", "users", "venues", "audit_log")
        before = {t: self.count(t) for t in tables}
        cases = [
            ("/api/v1/regions", {"code": "qingyuan", "name": "庆元县", "name_en": "Qingyuan",
                                 "province": "p", "partnership": "east_west"}),
            ("/api/v1/producers", {"name": "贞丰李子种植协会", "region_code": "zhenfeng",
                                   "kind": "cooperative", "households": 100,
                                   "poor_households": 20}),
            ("/api/v1/users", {"username": "newop", "password": "password123",
                               "role": "operator"}),
            ("/api/v1/venues", {"name": "白云庄社区", "kind": "community",
                                "subdistrict": "白云街道"}),
        ]
        for path, body in cases:
            r = srv.post(path, body, token=admin)
            self.assertProblem(r, 500, "internal")
        self.assertEqual({t: self.count(t) for t in tables}, before)
        # Routes the hook does not name still write.
        r = srv.post("/api/v1/products", {
            "name": "贞丰李子", "category": "fruit", "unit": "500g bag",
            "price_fen": 1200, "stock": 5, "producer_id": 1}, token=admin)
        self.assertProblem(r, 400, "validation_failed", "producer_id")
        self.assertEqual(srv.get("/healthz").status, 200)


if __name__ == "__main__":
    harness.main()
