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


if __name__ == "__main__":
    harness.main()
