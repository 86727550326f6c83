"""A disabled user's tokens stop working at once: after the admin's
PATCH /api/v1/users/{id} {"active": false} has been answered, every
request with any of that user's tokens is 401 unauthorized, on the
keep-alive connection it was using, on new connections (every worker
thread), for reads and for writes, which then change nothing. Checked
for each role, and with a client hammering the server while the
admin disables it: nothing sent after the answer gets through. A role
or region change applies at once too."""
import threading
import time

import harness
from orders_fixture import Shop, check, pickup


class Disabled(harness.ServerTest):
    threads = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s = Shop(cls.srv)
        cls.p = cls.s.product(1500, 100000, name="贞丰李子")
        cls.n = 0

    def uid(self, username):
        for u in self.srv.get("/api/v1/users?limit=200",
                                                token=self.s.admin).json["items"]:
            if u["username"] == username:
                return u["id"]
        raise AssertionError("no user " + username)

    def disable(self, username):
        r = self.srv.patch("/api/v1/users/%d" % self.uid(username), {"active": False},
                           token=self.s.admin)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["active"], False)

    def next_id(self):
        Disabled.n += 1
        return Disabled.n

    # A typical write of each role: (request args, how to tell it was stored).
    def write_for(self, role, token):
        s, i = self.s, self.next_id()
        if role == "buyer":
            body = {"lines": [{"product_id": self.p, "quantity": 1}],
                    "fulfillment": pickup(s.day)}
            return ("POST", "/api/v1/orders", body, {"Idempotency-Key": "dis-%d" % i},
                    lambda: any(o["note"] == "dis-%d" % i for o in s.orders()), i)
        if role == "operator":
            sid = "dis-sale-%04d" % i
            body = {"id": sid, "stall_id": self.op_stall, "recorded_at": "2026-05-01T03:00:00Z",
                    "payment": "cash", "lines": [{"product_id": self.p, "quantity": 1}]}
            return ("POST", "/api/v1/sales", body, None,
                    lambda: self.srv.get("/api/v1/sales/" + sid,
                                         token=s.admin).status == 200, i)
        if role in ("coordinator", "scoped"):
            name = "禁用测试 %d" % i
            body = {"name": name, "category": "fruit", "unit": "kg", "price_fen": 100,
                    "stock": 1, "producer_id": s.producers["zhenfeng"]}
            return ("POST", "/api/v1/products", body, None,
                    lambda: any(p["name"] == name for p in self.srv.get(
                        "/api/v1/products?limit=200&active=all&q=" +
                        "%E7%A6%81%E7%94%A8").json["items"]), i)
        code = "disabled%d" % i
        body = {"code": code, "name": code, "name_en": code, "province": "p",
                "partnership": "other"}
        return ("POST", "/api/v1/regions", body, None,
                lambda: self.srv.get("/api/v1/regions/" + code).status == 200, i)

    def send_write(self, role, token, conn=None):
        method, path, body, headers, stored, i = self.write_for(role, token)
        if role == "buyer":
            body["note"] = "dis-%d" % i
        r = self.srv.request(method, path, body=body, token=token, headers=headers, conn=conn)
        return r, stored

    def test_each_role(self):
        for role, name, region in (("buyer", "dis_buyer", None),
                                   ("operator", "dis_op", None),
                                   ("coordinator", "dis_coord", None),
                                   ("scoped", "dis_scoped", "zhenfeng"),
                                   ("admin", "dis_admin", None)):
            with self.subTest(role=role):
                real = "coordinator" if role == "scoped" else role
                self.srv.add_user(name, real, region=region)
                token = self.srv.login(name)
                other = self.srv.login(name)  # a second session of the same user
                if role == "operator":
                    self.op_stall = check(self.srv.post("/api/v1/market-days/%d/stalls" % self.s.day, {
                        "operator_id": self.uid(name), "producer_id":
                        self.s.producers["zhenfeng"], "label": "D-" + name},
                        token=self.s.admin))["id"]
                conn = self.srv.connect()
                try:
                    self.assertEqual(self.srv.get("/api/v1/me", token=token, conn=conn)
                                     .status, 200)
                    r, stored = self.send_write(role, token, conn)
                    self.assertIn(r.status, (200, 201), r)
                    self.assertTrue(stored())
                    self.disable(name)
                    # The same keep-alive connection, at once.
                    self.assertProblem(self.srv.get("/api/v1/me", token=token, conn=conn),
                                       401, "unauthorized")
                    r, stored = self.send_write(role, token, conn)
                    self.assertProblem(r, 401, "unauthorized")
                    self.assertFalse(stored())
                finally:
                    conn.close()
                # New connections (spread over the worker threads), both tokens.
                for _ in range(8):
                    c = self.srv.connect()
                    try:
                        for t in (token, other):
                            self.assertProblem(self.srv.get("/api/v1/me", token=t, conn=c),
                                               401, "unauthorized")
                    finally:
                        c.close()
                r, stored = self.send_write(role, other)
                self.assertProblem(r, 401, "unauthorized")
                self.assertFalse(stored())
                self.assertProblem(self.srv.post("/api/v1/auth/logout", token=other),
                                   401, "unauthorized")
                r = self.srv.post("/api/v1/auth/login",
                                  {"username": name, "password": "password123"})
                self.assertProblem(r, 401, "invalid_credentials")

    def test_nothing_gets_through_after_the_answer(self):
        """Four clients post sales and read as an operator while the admin
        disables it: every request sent after the PATCH was answered is
        401, and no sale sent after it is stored."""
        s = self.s
        self.srv.add_user("dis_busy", "operator")
        token = self.srv.login("dis_busy")
        stall = check(self.srv.post("/api/v1/market-days/%d/stalls" % s.day, {
            "operator_id": self.uid("dis_busy"), "producer_id": s.producers["zhenfeng"],
            "label": "BUSY"}, token=s.admin))["id"]
        log = []   # (sent at, status, sale id or None)
        lock = threading.Lock()
        stop = threading.Event()

        def client(k):
            c = self.srv.connect()
            n = 0
            try:
                while not stop.is_set():
                    n += 1
                    sid = "busy-%d-%05d" % (k, n) if n % 2 else None
                    sent = time.monotonic()
                    if sid:
                        r = self.srv.post("/api/v1/sales", {
                            "id": sid, "stall_id": stall,
                            "recorded_at": "2026-05-01T03:00:00Z", "payment": "cash",
                            "lines": [{"product_id": self.p, "quantity": 1}]},
                            token=token, conn=c)
                    else:
                        r = self.srv.get("/api/v1/stalls/mine", token=token, conn=c)
                    with lock:
                        log.append((sent, r.status, sid))
            finally:
                c.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        self.disable("dis_busy")
        answered = time.monotonic()
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
        before = [x for x in log if x[0] < answered]
        after = [x for x in log if x[0] > answered]
        self.assertTrue(any(st in (200, 201) for _, st, _ in before), "the load never ran")
        self.assertGreater(len(after), 10)
        self.assertEqual({st for _, st, _ in after}, {401})
        stored = {x["id"] for x in s_sales(self.srv, s.admin, "&stall_id=%d" % stall)}
        self.assertEqual(stored & {sid for _, _, sid in after if sid}, set())
        self.assertEqual(stored, {sid for _, st, sid in before if sid and st == 201})

    def test_role_and_region_changes_apply_at_once(self):
        s = self.s
        self.srv.add_user("dis_move", "coordinator", region="zhenfeng")
        token = self.srv.login("dis_move")
        qy_product = s.product(900, 5, region="qingyuan")
        path = "/api/v1/products/%d" % qy_product
        self.assertProblem(self.srv.patch(path, {"price_fen": 800}, token=token),
                           403, "forbidden")
        r = self.srv.patch("/api/v1/users/%d" % self.uid("dis_move"),
                           {"region_code": "qingyuan"}, token=s.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.srv.patch(path, {"price_fen": 800}, token=token).status, 200)
        zf_path = "/api/v1/products/%d" % self.p
        self.assertProblem(self.srv.patch(zf_path, {"price_fen": 1400}, token=token),
                           403, "forbidden")
        r = self.srv.patch("/api/v1/users/%d" % self.uid("dis_move"), {"role": "buyer",
                                                                      "region_code": None},
                           token=s.admin)
        self.assertEqual(r.status, 200, r)
        self.assertProblem(self.srv.patch(path, {"price_fen": 700}, token=token),
                           403, "forbidden")
        self.assertEqual(s.stock(qy_product), 5)
        self.assertEqual(check(self.srv.get(path), 200)["price_fen"], 800)


def s_sales(srv, token, query):
    out, cursor = [], None
    while True:
        page = check(srv.get("/api/v1/sales?limit=200" + query +
                             ("&cursor=" + cursor if cursor else ""), token=token), 200)
        out += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


if __name__ == "__main__":
    harness.main()
