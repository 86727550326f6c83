"""Secrets never reach a log or the audit table: users with known
passwords log in (and fail to), use their tokens for audited writes, an
admin creates a user with a password, a buyer registers, orders and pays
through a callback signed with the configured payment secret; then the
server's whole standard error (every log and access-log line, read after
it stopped and flushed) and every row of audit_log are searched for the
passwords, the tokens and the secret, and none is found. The database
file itself holds none of them in clear either (on PostgreSQL: a
pg_dump of the whole database, and, when the cluster's data folder is on
this machine, the database's files and the write-ahead log)."""
import glob
import hashlib
import hmac
import json
import os
import subprocess
import time
import urllib.parse

import harness

SECRET = "pay-secret-NEVER-LOGGED-7f3a9c1e5b2d4068"
PASSWORDS = {
    "admin": "admin-PW-qx81vz-never",
    "coord": "coord-PW-mw27kd-never",
    "op1": "op1-PW-ht54rs-never",
    "buyer1": "buyer1-PW-lg90ce-never",
}
CREATED_PASSWORD = "created-PW-zb63ny-never"
REGISTERED_PASSWORD = "registered-PW-ka18pu-never"
WRONG_PASSWORD = "wrong-PW-vd45jt-never"


def database_files(db, pg_files):
    """{name: bytes} of everything the database keeps. SQLite: the file
    and its -wal and -shm. PostgreSQL (pg_files: the cluster's data
    folder and the database's oid): a pg_dump of the database and, when
    the data folder is on this machine (tests/pg's own cluster), the
    database's files under base/ and the write-ahead log, where a row is
    in clear before any checkpoint."""
    files = {}
    if not pg_files:
        for path in glob.glob(db + "*"):
            with open(path, "rb") as f:
                files[os.path.basename(path)] = f.read()
        return files
    p = subprocess.run(["pg_dump", "--no-owner", "-d", db], capture_output=True)
    if p.returncode != 0:
        raise AssertionError("pg_dump: " + p.stderr.decode("utf-8", "replace"))
    files["pg_dump"] = p.stdout
    data, oid = pg_files
    for folder in (os.path.join(data, "base", str(oid)), os.path.join(data, "pg_wal")):
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    files[os.path.relpath(path, data)] = f.read()
    return files


class Secrets(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(threads=2, env={"MARKETD_PAYMENT_SECRET": SECRET}).start()
        cls.addClassCleanup(cls._kill_leftover, cls.srv)

    @classmethod
    def tearDownClass(cls):
        # The test stops the server itself, to read its flushed log.
        if cls.srv.proc is not None:
            cls.srv.stop()
        cls.srv.cleanup()

    def ok(self, r, status=201):
        self.assertEqual(r.status, status, r)
        return r.json if r.body else None

    def test_no_secret_in_logs_or_audit(self):
        srv = self.srv
        roles = {"admin": "admin", "coord": "coordinator", "op1": "operator",
                 "buyer1": "buyer"}
        tokens = {}
        for name, role in roles.items():
            srv.add_user(name, role, password=PASSWORDS[name])
            tokens[name] = srv.login(name, PASSWORDS[name])
        tokens["admin2"] = srv.login("admin", PASSWORDS["admin"])
        # A failed login, and a login for nobody, each with a password.
        self.assertEqual(srv.post("/api/v1/auth/login", {
            "username": "coord", "password": WRONG_PASSWORD}).status, 401)
        self.assertEqual(srv.post("/api/v1/auth/login", {
            "username": "nobody", "password": WRONG_PASSWORD}).status, 401)
        admin, coord, op, buyer = (tokens[n] for n in ("admin", "coord", "op1", "buyer1"))

        # Audited writes with those tokens.
        self.ok(srv.post("/api/v1/regions", {
            "code": "zhenfeng", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "贵州", "partnership": "east_west"}, token=admin))
        created = self.ok(srv.post("/api/v1/users", {
            "username": "made_by_admin", "password": CREATED_PASSWORD,
            "role": "operator"}, token=admin))
        self.assertEqual(srv.post("/api/v1/users", {
            "username": "x", "password": CREATED_PASSWORD, "role": "operator"},
            token=admin).status, 400)
        tokens["made_by_admin"] = srv.login("made_by_admin", CREATED_PASSWORD)
        producer = self.ok(srv.post("/api/v1/producers", {
            "name": "贞丰李子合作社", "region_code": "zhenfeng", "kind": "cooperative",
            "households": 10, "poor_households": 3}, token=coord))["id"]
        product = self.ok(srv.post("/api/v1/products", {
            "name": "贞丰李子", "category": "fruit", "unit": "500g bag",
            "price_fen": 1200, "stock": 50, "producer_id": producer}, token=coord))["id"]
        venue = self.ok(srv.post("/api/v1/venues", {
            "name": "鼓楼步行街", "kind": "street_market", "subdistrict": "鼓楼"},
            token=coord))["id"]
        day = self.ok(srv.post("/api/v1/market-days", {
            "venue_id": venue, "date": "2026-05-01", "opens_at": "09:00",
            "closes_at": "17:00", "channel": "holiday_market"}, token=coord))["id"]
        op_id = self.ok(srv.get("/api/v1/me", token=op), 200)["id"]
        stall = self.ok(srv.post("/api/v1/market-days/%d/stalls" % day, {
            "operator_id": op_id, "producer_id": producer, "label": "A1"},
            token=coord))["id"]
        self.ok(srv.post("/api/v1/sales", {
            "id": "secret-test-sale-1", "stall_id": stall,
            "recorded_at": "2026-05-01T03:00:00Z", "payment": "cash",
            "lines": [{"product_id": product, "quantity": 1}]}, token=op))
        self.ok(srv.patch("/api/v1/users/%d" % created["id"], {"active": False},
                          token=admin), 200)
        # A token in a query string is not logged either.
        srv.get("/api/v1/products?q=" + urllib.parse.quote(coord))

        # A buyer registers, orders and pays through a signed callback.
        self.ok(srv.post("/api/v1/auth/register", {
            "username": "reg_buyer", "password": REGISTERED_PASSWORD}))
        tokens["reg_buyer"] = srv.login("reg_buyer", REGISTERED_PASSWORD)
        order = self.ok(srv.post("/api/v1/orders", {
            "lines": [{"product_id": product, "quantity": 2}],
            "fulfillment": {"type": "delivery", "address": {
                "name": "张三", "phone": "13800000000", "line1": "1 Road",
                "city": "上海"}}}, token=buyer))
        body = json.dumps({"order_id": order["id"], "amount_fen": order["total_fen"],
                           "provider": "wechat", "transaction_id": "tx-1"}).encode()
        sig = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        r = srv.request("POST", "/api/v1/payments/callback", raw=body,
                        headers={"X-Signature": sig})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "paid")
        # A wrong signature, refused.
        r = srv.request("POST", "/api/v1/payments/callback", raw=body,
                        headers={"X-Signature": "00" * 32})
        self.assertEqual(r.status, 401, r)
        for name in ("coord", "admin2"):
            self.assertEqual(srv.post("/api/v1/auth/logout", token=tokens[name]).status, 204)

        # The audit table, read while the server runs.
        db = srv.sql()
        try:
            rows = db.query("SELECT * FROM audit_log")
            pg_files = db.pg and db.query(
                "SELECT current_setting('data_directory'), oid FROM pg_database "
                "WHERE datname = current_database()")[0]
        finally:
            db.close()

        rc = srv.stop()
        n = -1
        while n != len(srv.log):  # the harness reads the rest of the output
            n = len(srv.log)
            time.sleep(0.3)
        log = "".join(srv.log)
        self.assertEqual(rc, 0, log)
        for bad in ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(bad, log)

        secrets = dict(("password of " + k, v) for k, v in PASSWORDS.items())
        secrets.update({"created password": CREATED_PASSWORD,
                        "registered password": REGISTERED_PASSWORD,
                        "wrong password": WRONG_PASSWORD,
                        "payment secret": SECRET})
        secrets.update(("token of " + k, v) for k, v in tokens.items())
        for v in list(secrets.values()):
            self.assertGreaterEqual(len(v), 16)

        # Not vacuous: the log has the access lines and the table the writes.
        self.assertIn("POST /api/v1/auth/login 200", log)
        self.assertIn("POST /api/v1/payments/callback 200", log)
        self.assertGreaterEqual(len(rows), 10)
        audit_text = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
        self.assertIn("POST /api/v1/users", audit_text)

        files = database_files(srv.db, pg_files)
        if pg_files:
            self.assertIn("pg_dump", files)
        else:
            self.assertIn(os.path.basename(srv.db), files)
        # Not vacuous: what is searched holds what the writes stored.
        stored = b"".join(files.values())
        for plain in ("made_by_admin", "reg_buyer", "贞丰李子合作社"):
            self.assertIn(plain.encode(), stored)
        for what, secret in sorted(secrets.items()):
            with self.subTest(secret=what):
                self.assertNotIn(secret, log)
                self.assertNotIn(secret, audit_text)
                for name, data in files.items():
                    self.assertFalse(secret.encode() in data, "%s holds it" % name)


if __name__ == "__main__":
    harness.main()
