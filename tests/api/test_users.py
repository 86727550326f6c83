"""User management by admins: create users of every role, list them page
by page, change and deactivate them; nobody else may."""
import harness

USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"


class T(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.user("admin", "admin")
        r = cls.srv.post("/api/v1/regions", {
            "code": "zhenfeng", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "贵州", "partnership": "east_west"}, token=cls.admin)
        assert r.status == 201, r

    def all_users(self):
        r = self.srv.get(USERS + "?limit=200", token=self.admin)
        self.assertEqual(r.status, 200, r)
        return r.json["items"]

    def by_name(self, username):
        return [u for u in self.all_users() if u["username"] == username]

    def create(self, **body):
        body.setdefault("password", "password123")
        return self.srv.post(USERS, body, token=self.admin)

    def login(self, username, password="password123"):
        return self.srv.post(LOGIN, {"username": username, "password": password})

    def test_create_each_role(self):
        for role in ("buyer", "operator", "coordinator", "admin"):
            with self.subTest(role=role):
                r = self.create(username="new_" + role, role=role,
                                display_name="新 " + role)
                self.assertEqual(r.status, 201, r)
                u = r.json
                self.assertEqual(u, {"id": u["id"], "username": "new_" + role,
                                     "display_name": "新 " + role, "role": role,
                                     "region_code": None, "active": True,
                                     "institution_id": None})
                self.assertNotIn("password", r.body.decode())
                login = self.login("new_" + role)
                self.assertEqual(login.status, 200, login)
                self.assertEqual(login.json["user"], u)

    def test_create_scoped_coordinator(self):
        r = self.create(username="zf_coord", role="coordinator", region_code="zhenfeng")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["region_code"], "zhenfeng")
        self.assertEqual(r.json["display_name"], "zf_coord")
        self.assertEqual(self.by_name("zf_coord")[0], r.json)
        token = self.login("zf_coord").json["token"]
        self.assertEqual(self.srv.get("/api/v1/me", token=token).json["region_code"],
                         "zhenfeng")
        # region_code null is the same as none.
        r = self.create(username="all_coord", role="coordinator", region_code=None)
        self.assertEqual(r.status, 201, r)
        self.assertIsNone(r.json["region_code"])

    def test_create_validation(self):
        before = len(self.all_users())
        ok = {"username": "valid_user", "password": "password123", "role": "operator"}
        cases = [
            ("role", {"role": "superuser"}),
            ("role", {"role": None}),
            ("role", {"role": 3}),
            ("region_code", {"region_code": "zhenfeng"}),            # an operator
            ("region_code", {"role": "admin", "region_code": "zhenfeng"}),
            ("region_code", {"role": "coordinator", "region_code": "atlantis"}),
            ("region_code", {"role": "coordinator", "region_code": 5}),
            ("username", {"username": "No"}),
            ("username", {"username": "bad/name"}),
            ("password", {"password": "seven77"}),
            ("display_name", {"display_name": "x" * 101}),
        ]
        for field, change in cases:
            with self.subTest(change=change):
                r = self.srv.post(USERS, dict(ok, **change), token=self.admin)
                self.assertProblem(r, 400, "validation_failed", field)
        for missing in ("username", "password", "role"):
            with self.subTest(missing=missing):
                body = {k: v for k, v in ok.items() if k != missing}
                r = self.srv.post(USERS, body, token=self.admin)
                self.assertProblem(r, 400, "validation_failed", missing)
        self.assertEqual(len(self.all_users()), before)

    def test_create_taken(self):
        self.assertEqual(self.create(username="twice", role="buyer").status, 201)
        before = self.all_users()
        r = self.create(username="twice", role="admin", password="another-pw")
        self.assertProblem(r, 409, "conflict", "username")
        self.assertEqual(self.all_users(), before)
        self.assertEqual(self.by_name("twice")[0]["role"], "buyer")

    def test_list_pagination(self):
        for i in range(5):
            self.assertEqual(self.create(username="page%d" % i, role="buyer").status, 201)
        everyone = self.all_users()
        self.assertGreaterEqual(len(everyone), 6)
        self.assertEqual([u["id"] for u in everyone], sorted(u["id"] for u in everyone))
        seen, cursor, pages = [], None, 0
        while True:
            path = USERS + "?limit=2" + ("&cursor=" + cursor if cursor else "")
            r = self.srv.get(path, token=self.admin)
            self.assertEqual(r.status, 200, r)
            self.assertLessEqual(len(r.json["items"]), 2)
            seen += r.json["items"]
            pages += 1
            cursor = r.json["next_cursor"]
            if cursor is None:
                break
            self.assertLess(pages, 100)
        ids = [u["id"] for u in seen]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(seen, everyone)
        for u in seen:
            self.assertEqual(set(u), {"id", "username", "display_name", "role",
                                      "region_code", "active", "institution_id"})
        self.assertNotIn("scrypt", r.body.decode())
        for bad in ("?limit=0", "?limit=201", "?limit=x"):
            self.assertProblem(self.srv.get(USERS + bad, token=self.admin), 400,
                               "validation_failed", "limit")
        self.assertProblem(self.srv.get(USERS + "?cursor=garbage", token=self.admin),
                           400, "validation_failed", "cursor")

    def test_patch(self):
        uid = self.create(username="patchme", role="operator").json["id"]
        r = self.srv.patch("%s/%d" % (USERS, uid), {"display_name": "王芳"},
                           token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"id": uid, "username": "patchme", "display_name": "王芳",
                                  "role": "operator", "region_code": None,
                                  "active": True, "institution_id": None})
        # To a scoped coordinator in one request.
        r = self.srv.patch("%s/%d" % (USERS, uid),
                           {"role": "coordinator", "region_code": "zhenfeng"},
                           token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["role"], r.json["region_code"], r.json["display_name"]),
                         ("coordinator", "zhenfeng", "王芳"))
        # Another change keeps the region.
        r = self.srv.patch("%s/%d" % (USERS, uid), {"display_name": "W"}, token=self.admin)
        self.assertEqual(r.json["region_code"], "zhenfeng")
        # region_code null unscopes.
        r = self.srv.patch("%s/%d" % (USERS, uid), {"region_code": None}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json["region_code"])
        self.assertEqual(r.json["role"], "coordinator")
        # Moving away from coordinator clears the region.
        self.srv.patch("%s/%d" % (USERS, uid), {"region_code": "zhenfeng"}, token=self.admin)
        r = self.srv.patch("%s/%d" % (USERS, uid), {"role": "buyer"}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["role"], r.json["region_code"]), ("buyer", None))
        self.assertEqual(self.by_name("patchme")[0], r.json)
        # An empty body changes nothing.
        r2 = self.srv.patch("%s/%d" % (USERS, uid), {}, token=self.admin)
        self.assertEqual(r2.json, r.json)

    def test_patch_role_applies_at_once(self):
        self.create(username="promoted", role="buyer")
        token = self.login("promoted").json["token"]
        self.assertProblem(self.srv.get(USERS, token=token), 403, "forbidden")
        uid = self.by_name("promoted")[0]["id"]
        self.srv.patch("%s/%d" % (USERS, uid), {"role": "admin"}, token=self.admin)
        self.assertEqual(self.srv.get(USERS, token=token).status, 200)

    def test_patch_validation(self):
        uid = self.create(username="steady", role="operator").json["id"]
        before = self.by_name("steady")[0]
        path = "%s/%d" % (USERS, uid)
        cases = [
            ("region_code", {"region_code": "zhenfeng"}),               # an operator
            ("region_code", {"role": "buyer", "region_code": "zhenfeng"}),
            ("region_code", {"role": "coordinator", "region_code": "atlantis"}),
            ("role", {"role": "root"}),
            ("active", {"active": "no"}),
            ("active", {"active": 0}),
            ("active", {"active": None}),
            ("display_name", {"display_name": ""}),
            ("display_name", {"display_name": None}),
        ]
        for field, body in cases:
            with self.subTest(body=body):
                r = self.srv.patch(path, body, token=self.admin)
                self.assertProblem(r, 400, "validation_failed", field)
        self.assertEqual(self.by_name("steady")[0], before)
        for bad in ("999999", "0", "-1", "abc"):
            with self.subTest(id=bad):
                r = self.srv.patch(USERS + "/" + bad, {"display_name": "x"},
                                   token=self.admin)
                self.assertProblem(r, 404, "not_found")

    def test_deactivate(self):
        self.create(username="leaver", role="operator", password="leaver-pw")
        token = self.login("leaver", "leaver-pw").json["token"]
        self.assertEqual(self.srv.get("/api/v1/me", token=token).status, 200)
        uid = self.by_name("leaver")[0]["id"]
        r = self.srv.patch("%s/%d" % (USERS, uid), {"active": False}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["active"], False)
        self.assertProblem(self.srv.get("/api/v1/me", token=token), 401, "unauthorized")
        self.assertProblem(self.login("leaver", "leaver-pw"), 401, "invalid_credentials")
        # Made active again: it can log in, but the old token stays dead.
        r = self.srv.patch("%s/%d" % (USERS, uid), {"active": True}, token=self.admin)
        self.assertIs(r.json["active"], True)
        self.assertProblem(self.srv.get("/api/v1/me", token=token), 401, "unauthorized")
        fresh = self.login("leaver", "leaver-pw")
        self.assertEqual(fresh.status, 200, fresh)
        self.assertEqual(self.srv.get("/api/v1/me", token=fresh.json["token"]).status, 200)

    def test_only_admins(self):
        tokens = {role: self.srv.user("only_" + role, role)
                  for role in ("buyer", "operator", "coordinator")}
        tokens["scoped"] = self.srv.user("only_scoped", "coordinator", region="zhenfeng")
        uid = self.by_name("only_buyer")[0]["id"]
        before = self.all_users()
        requests = [("GET", USERS, None),
                    ("POST", USERS, {"username": "intruder", "password": "password123",
                                     "role": "admin"}),
                    ("PATCH", "%s/%d" % (USERS, uid), {"role": "admin"})]
        for method, path, body in requests:
            for who, token in tokens.items():
                with self.subTest(method=method, who=who):
                    r = self.srv.request(method, path, body=body, token=token)
                    self.assertProblem(r, 403, "forbidden")
            with self.subTest(method=method, who="anonymous"):
                r = self.srv.request(method, path, body=body)
                self.assertProblem(r, 401, "unauthorized")
        self.assertEqual(self.all_users(), before)


if __name__ == "__main__":
    harness.main()
