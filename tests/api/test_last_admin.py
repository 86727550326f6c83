"""The last active admin cannot be deactivated or demoted: nobody could
manage users any more. With a second admin, either may go."""
import harness


class LastAdmin(harness.ServerTest):

    def test_last_admin_stays(self):
        srv = self.srv
        admin = srv.user("admin", "admin")
        me = srv.get("/api/v1/me", token=admin).json
        path = "/api/v1/users/%d" % me["id"]

        self.assertProblem(srv.patch(path, {"active": False}, token=admin),
                           409, "invalid_state", "active")
        self.assertProblem(srv.patch(path, {"role": "buyer"}, token=admin),
                           409, "invalid_state", "role")
        # Nothing changed: still an active admin, and the token still works.
        r = srv.get("/api/v1/me", token=admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["role"], r.json["active"]), ("admin", True))
        # Other changes to the last admin are fine.
        r = srv.patch(path, {"display_name": "系统管理员"}, token=admin)
        self.assertEqual(r.status, 200, r)

        # With a second admin, the first may be deactivated...
        r = srv.post("/api/v1/users", {"username": "admin2", "password": "password123",
                                       "role": "admin"}, token=admin)
        self.assertEqual(r.status, 201, r)
        admin2 = srv.login("admin2")
        r = srv.patch(path, {"active": False}, token=admin2)
        self.assertEqual(r.status, 200, r)
        self.assertProblem(srv.get("/api/v1/me", token=admin), 401, "unauthorized")
        # ...and then the second is the last one.
        me2 = srv.get("/api/v1/me", token=admin2).json
        self.assertProblem(srv.patch("/api/v1/users/%d" % me2["id"], {"active": False},
                                     token=admin2), 409, "invalid_state", "active")


if __name__ == "__main__":
    harness.main()
