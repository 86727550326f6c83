"""Accounts of one's own: register, login (with its rate limit), tokens,
logout and /me."""
import datetime
import os
import threading
import time

import harness

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


class T(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.user("admin", "admin")

    def user_count(self):
        r = self.srv.get("/api/v1/users?limit=200", token=self.admin)
        self.assertEqual(r.status, 200, r)
        return len(r.json["items"])

    def usernames(self):
        r = self.srv.get("/api/v1/users?limit=200", token=self.admin)
        return [u["username"] for u in r.json["items"]]

    def stop_clean(self, srv):
        """Stops a server this test started: exit 0, no sanitizer report."""
        rc = srv.stop()
        if rc is None:
            return
        time.sleep(0.1)
        log = "".join(srv.log)
        self.assertEqual(rc, 0, log)
        for bad in ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(bad, log)

    def login(self, username, password):
        return self.srv.post(LOGIN, {"username": username, "password": password})

    # --- register -------------------------------------------------------
    def test_register(self):
        r = self.srv.post(REGISTER, {"username": "li.wei-01_x", "password": "correct horse",
                                     "display_name": "李伟"})
        self.assertEqual(r.status, 201, r)
        u = r.json
        self.assertIsInstance(u["id"], int)
        self.assertEqual(u, {"id": u["id"], "username": "li.wei-01_x",
                             "display_name": "李伟", "role": "buyer",
                             "region_code": None, "active": True,
                             "institution_id": None})
        self.assertNotIn("password", r.body.decode())
        self.assertNotIn("scrypt", r.body.decode())
        # The new buyer can log in and sees itself.
        r = self.login("li.wei-01_x", "correct horse")
        self.assertEqual(r.status, 200, r)
        me = self.srv.get("/api/v1/me", token=r.json["token"])
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json, u)

    def test_register_display_name_defaults_to_username(self):
        r = self.srv.post(REGISTER, {"username": "plain", "password": "password123"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["display_name"], "plain")
        self.assertEqual(r.json["role"], "buyer")

    def test_register_ignores_role_in_body(self):
        r = self.srv.post(REGISTER, {"username": "sneaky", "password": "password123",
                                     "role": "admin", "region_code": "x"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["role"], "buyer")
        self.assertIsNone(r.json["region_code"])

    def test_register_sql_text_stored_verbatim(self):
        name = "x'); DROP TABLE users;--"
        r = self.srv.post(REGISTER, {"username": "bobby", "password": "password123",
                                     "display_name": name})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["display_name"], name)
        token = self.login("bobby", "password123").json["token"]
        self.assertEqual(self.srv.get("/api/v1/me", token=token).json["display_name"], name)
        self.assertIn("bobby", self.usernames())

    def test_register_validation(self):
        ok = {"username": "valid_name", "password": "password123", "display_name": "V"}
        cases = [
            ("username", {"username": "ab"}),
            ("username", {"username": "a" * 33}),
            ("username", {"username": "Upper"}),
            ("username", {"username": "has space"}),
            ("username", {"username": "semi;colon"}),
            ("username", {"username": "李子李子"}),
            ("username", {"username": 12345}),
            ("username", {"username": None}),
            ("password", {"password": "short12"}),
            ("password", {"password": "p" * 129}),
            ("password", {"password": 12345678}),
            ("password", {"password": ["password123"]}),
            ("display_name", {"display_name": ""}),
            ("display_name", {"display_name": "d" * 101}),
            ("display_name", {"display_name": 7}),
        ]
        before = self.user_count()
        for field, change in cases:
            with self.subTest(change=change):
                body = dict(ok, **change)
                r = self.srv.post(REGISTER, body)
                self.assertProblem(r, 400, "validation_failed", field)
        for missing in ("username", "password"):
            with self.subTest(missing=missing):
                body = {k: v for k, v in ok.items() if k != missing}
                self.assertProblem(self.srv.post(REGISTER, body), 400,
                                   "validation_failed", missing)
        self.assertEqual(self.user_count(), before)
        # The limits themselves are fine: 3 and 32, 8 and 128, 100.
        for i, (u, p, d) in enumerate([("abc", "p" * 8, "d" * 100),
                                       ("b" * 32, "p" * 128, "d")]):
            r = self.srv.post(REGISTER, {"username": u, "password": p, "display_name": d})
            self.assertEqual(r.status, 201, r)
        # 128 characters, not bytes: Chinese passwords count characters.
        r = self.srv.post(REGISTER, {"username": "zh_pw", "password": "李" * 128})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.login("zh_pw", "李" * 128).status, 200)

    def test_register_taken(self):
        body = {"username": "taken", "password": "password123"}
        self.assertEqual(self.srv.post(REGISTER, body).status, 201)
        before = self.user_count()
        r = self.srv.post(REGISTER, dict(body, password="otherpassword", display_name="X"))
        self.assertProblem(r, 409, "conflict", "username")
        self.assertEqual(self.user_count(), before)
        # The first account keeps its password.
        self.assertEqual(self.login("taken", "password123").status, 200)
        self.assertProblem(self.login("taken", "otherpassword"), 401, "invalid_credentials")

    # --- login ----------------------------------------------------------
    def test_login(self):
        self.srv.add_user("carol", "operator", password="carol-pass")
        t0 = datetime.datetime.now(datetime.timezone.utc)
        r = self.login("carol", "carol-pass")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("cache-control"), "no-store")
        self.assertEqual(set(r.json), {"token", "expires_at", "user"})
        self.assertRegex(r.json["token"], r"^[A-Za-z0-9_-]{43}$")
        expires = parse_time(r.json["expires_at"])
        # The default lifetime is 12 hours.
        self.assertGreater(expires, t0 + datetime.timedelta(hours=11))
        self.assertLess(expires, t0 + datetime.timedelta(hours=13))
        self.assertEqual(r.json["user"]["username"], "carol")
        self.assertEqual(r.json["user"]["role"], "operator")
        me = self.srv.get("/api/v1/me", token=r.json["token"])
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json, r.json["user"])
        self.assertEqual(me.header("cache-control"), "no-store")
        # Each login is a new token.
        r2 = self.login("carol", "carol-pass")
        self.assertNotEqual(r2.json["token"], r.json["token"])
        # Neither passwords nor tokens reach the server's log (waiting
        # until the access log has the last login's line).
        self.login("carol", "carol-wrong-pass")
        deadline = time.monotonic() + 60
        while (" /api/v1/auth/login 401 " not in "".join(self.srv.log) and
               time.monotonic() < deadline):
            time.sleep(0.1)
        log = "".join(self.srv.log)
        self.assertIn(" /api/v1/auth/login 401 ", log)
        for secret in ("carol-pass", "carol-wrong-pass", r.json["token"], r2.json["token"]):
            self.assertNotIn(secret, log)

    def test_login_wrong(self):
        self.srv.add_user("dave", "buyer", password="dave-pass")
        wrong = self.login("dave", "not-dave-pass")
        self.assertProblem(wrong, 401, "invalid_credentials")
        unknown = self.login("nobody-here", "dave-pass")
        self.assertProblem(unknown, 401, "invalid_credentials")
        # The same answer for both.
        self.assertEqual(wrong.json, unknown.json)
        self.assertIsNone(wrong.header("retry-after"))

    def test_login_validation(self):
        for field, body in [("username", {"password": "x"}),
                            ("password", {"username": "x"}),
                            ("username", {"username": 1, "password": "x"}),
                            ("password", {"username": "x", "password": None})]:
            with self.subTest(body=body):
                self.assertProblem(self.srv.post(LOGIN, body), 400,
                                   "validation_failed", field)

    def test_rate_limit(self):
        self.srv.add_user("erin", "buyer", password="erin-pass")
        self.srv.add_user("frank", "buyer", password="frank-pass")
        first = time.monotonic()  # before the first failure is recorded
        for i in range(5):
            self.assertProblem(self.login("erin", "guess%d" % i), 401,
                               "invalid_credentials")
        # The sixth attempt is refused even with the right password.
        r = self.login("erin", "erin-pass")
        self.assertProblem(r, 429, "rate_limited")
        retry = int(r.header("retry-after"))
        # The window runs from the first failure: what is left of it is
        # judged from the time these steps took (long on a busy machine;
        # whole seconds in the database: a second of slack).
        elapsed = time.monotonic() - first
        self.assertTrue(900 - elapsed - 1 <= retry <= 900, (retry, elapsed))
        self.assertProblem(self.login("erin", "wrong"), 429, "rate_limited")
        # Other usernames are not affected.
        self.assertEqual(self.login("frank", "frank-pass").status, 200)
        # Unknown usernames are limited the same way (no hint of existence).
        for i in range(5):
            self.assertProblem(self.login("ghost", "x%d" % i), 401, "invalid_credentials")
        self.assertProblem(self.login("ghost", "x"), 429, "rate_limited")

    def test_rate_limit_window_passes(self):
        """With a short window: failures, 429, then login works once the
        window has passed; the failures survive a restart of the server.
        On a busy machine the steps may take long: what the server must
        answer is judged from the time measured, never asserted on it."""
        window = 20
        srv = harness.Server(args=["--login-window", str(window)]).start()
        srv2 = None
        try:
            srv.add_user("gina", "buyer", password="gina-pass")
            first = time.monotonic()  # before the first failure is recorded
            for i in range(4):
                self.assertProblem(srv.post(LOGIN, {"username": "gina", "password": "no"}),
                                   401, "invalid_credentials")
            # A success in between does not erase the failures.
            self.assertEqual(srv.post(LOGIN, {"username": "gina",
                                              "password": "gina-pass"}).status, 200)
            self.assertProblem(srv.post(LOGIN, {"username": "gina", "password": "no"}),
                               401, "invalid_credentials")
            last = time.monotonic()  # after the fifth failure is recorded
            self.stop_clean(srv)
            srv2 = harness.Server(args=["--login-window", str(window)], db=srv.db).start()
            asked = time.monotonic()
            r = srv2.post(LOGIN, {"username": "gina", "password": "gina-pass"})
            # Times are whole seconds in the database: a second of slack.
            if asked < first + window - 1:
                self.assertProblem(r, 429, "rate_limited")
                retry = int(r.header("retry-after"))
                self.assertTrue(1 <= retry <= window, retry)
            elif asked > last + window + 1:
                self.assertEqual(r.status, 200, r)  # the window has passed
            # Wait for the window to pass: refused until then, then served.
            deadline = time.monotonic() + window + 60
            while r.status == 429 and time.monotonic() < deadline:
                self.assertProblem(r, 429, "rate_limited")
                time.sleep(min(max(int(r.header("retry-after")), 1), 5))
                r = srv2.post(LOGIN, {"username": "gina", "password": "gina-pass"})
            self.assertEqual(r.status, 200, r)
            self.assertGreater(time.monotonic(), first + window - 1)
            self.stop_clean(srv2)
        finally:
            srv.stop()
            if srv2 is not None:
                srv2.stop()
            srv.cleanup()

    def test_rate_limit_concurrent(self):
        """Parallel wrong guesses cannot get past the limit."""
        self.srv.add_user("hank", "buyer", password="hank-pass")
        results = []

        def guess(i):
            r = self.srv.post(LOGIN, {"username": "hank", "password": "bad%d" % i})
            results.append(r.status)
        threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [401] * 5 + [429] * 5)

    # --- tokens ---------------------------------------------------------
    def test_login_forgets_long_expired_tokens(self):
        self.srv.user("pruned", "buyer")
        db = self.srv.sql()
        try:
            uid = db.value("SELECT id FROM users WHERE username = 'pruned'")
            # A token that expired two days ago, and one that expired just now.
            now = int(time.time())
            insert = ("INSERT INTO tokens (hash, user_id, created_at, expires_at) "
                      "VALUES (?, ?, 0, ?)")
            db.execute((insert, (os.urandom(32), uid, now - 172800)),
                       (insert, (os.urandom(32), uid, now - 60)))
            self.assertEqual(self.login("pruned", "password123").status, 200)
            now = int(time.time())
            expired = db.value("SELECT count(*) FROM tokens WHERE user_id = ? AND "
                               "expires_at < ?", (uid, now))
            live = db.value("SELECT count(*) FROM tokens WHERE user_id = ? AND "
                            "expires_at >= ?", (uid, now))
        finally:
            db.close()
        self.assertEqual(expired, 1)   # the long-dead one is gone
        self.assertEqual(live, 2)      # srv.user's login and this one

    def test_logout(self):
        self.srv.add_user("ivan", "coordinator", password="ivan-pass")
        t1 = self.login("ivan", "ivan-pass").json["token"]
        t2 = self.login("ivan", "ivan-pass").json["token"]
        r = self.srv.post("/api/v1/auth/logout", token=t1)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertProblem(self.srv.get("/api/v1/me", token=t1), 401, "unauthorized")
        self.assertProblem(self.srv.post("/api/v1/auth/logout", token=t1), 401,
                           "unauthorized")
        # Only that token: the other session goes on.
        self.assertEqual(self.srv.get("/api/v1/me", token=t2).status, 200)

    def test_bad_tokens(self):
        for header in ["Bearer x", "Basic abc", "Bearer ", "bearer",
                       "Bearer " + "A" * 43]:
            with self.subTest(header=header):
                r = self.srv.get("/api/v1/me", headers={"Authorization": header})
                self.assertProblem(r, 401, "unauthorized")
        self.assertProblem(self.srv.get("/api/v1/me"), 401, "unauthorized")
        self.assertProblem(self.srv.post("/api/v1/auth/logout"), 401, "unauthorized")

    def test_expired_token(self):
        # A short lifetime; whether the token must still work right
        # after the login is judged from the time measured, so a busy
        # machine (or a sanitizer build) cannot make the test fail.
        ttl = 5
        srv = harness.Server(args=["--token-ttl", str(ttl)]).start()
        try:
            srv.add_user("june", "buyer")
            sent = time.monotonic()
            r = srv.post(LOGIN, {"username": "june", "password": "password123"})
            self.assertEqual(r.status, 200, r)
            token = r.json["token"]
            left = (parse_time(r.json["expires_at"]) -
                    datetime.datetime.now(datetime.timezone.utc)).total_seconds()
            self.assertTrue(left <= ttl, left)
            me = srv.get("/api/v1/me", token=token)
            if time.monotonic() < sent + ttl - 1:
                self.assertEqual(me.status, 200, me)
            # It stops working once expired: wait for that, within bounds.
            deadline = time.monotonic() + ttl + 60
            while me.status == 200 and time.monotonic() < deadline:
                time.sleep(0.5)
                me = srv.get("/api/v1/me", token=token)
            self.assertProblem(me, 401, "unauthorized")
            self.assertGreater(time.monotonic(), sent + ttl - 1)
            self.stop_clean(srv)
        finally:
            srv.stop()
            srv.cleanup()

if __name__ == "__main__":
    harness.main()
