"""The audit log: every write by an operator, coordinator or admin leaves
exactly one entry (who, what, when, from where, which object), in the same
transaction as the write; buyers' and failed writes leave none; admins read
it at GET /api/v1/audit, newest first, filtered by from, to and user."""
import datetime
import time

import harness
from sales_fixture import Market, check, sale

AUDIT = "/api/v1/audit"


class Audit(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = Market(cls.srv)
        srv = cls.srv
        cls.coord_id = check(srv.get("/api/v1/me", token=cls.m.coord), 200)["id"]
        cls.admin_id = check(srv.get("/api/v1/me", token=cls.m.admin), 200)["id"]
        cls.buyer_id = check(srv.get("/api/v1/me", token=cls.m.buyer), 200)["id"]
        cls.product = cls.m.product(500, 100)

    # --- helpers ---------------------------------------------------------
    def entries(self, query="", token=None):
        """Every entry of GET /audit?query, walking the cursor."""
        out, cursor = [], None
        while True:
            path = AUDIT + "?limit=200" + query
            if cursor:
                path += "&cursor=" + cursor
            r = self.srv.get(path, token=token or self.m.admin)
            self.assertEqual(r.status, 200, r)
            out += r.json["items"]
            cursor = r.json["next_cursor"]
            if cursor is None:
                return out

    def last_id(self):
        items = self.srv.get(AUDIT + "?limit=1", token=self.m.admin).json["items"]
        return items[0]["id"] if items else 0

    def new_entries(self, since):
        return [e for e in self.entries() if e["id"] > since]

    def assertOneEntry(self, since, action, object_type, object_id, user_id, username):
        new = self.new_entries(since)
        self.assertEqual(len(new), 1, new)
        e = new[0]
        self.assertEqual(e["action"], action)
        self.assertEqual(e["object_type"], object_type)
        self.assertEqual(e["object_id"], object_id)
        self.assertEqual(e["user_id"], user_id)
        self.assertEqual(e["username"], username)
        self.assertEqual(e["remote_addr"], "127.0.0.1")
        at = datetime.datetime.strptime(e["at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        self.assertLess(abs(at - time.time()), 120, e)
        self.assertEqual(sorted(e), sorted(["id", "at", "user_id", "username", "action",
                                            "object_type", "object_id", "remote_addr"]))
        return e

    # --- writes that leave one entry -----------------------------------
    def test_product_create_and_patch(self):
        since = self.last_id()
        p = check(self.srv.post("/api/v1/products", {
            "name": "贞丰李子 audit", "category": "fruit", "unit": "500g bag",
            "price_fen": 800, "stock": 10, "producer_id": self.m.producer},
            token=self.m.coord))
        self.assertOneEntry(since, "POST /api/v1/products", "product", p["id"],
                            self.coord_id, "coord")
        since = self.last_id()
        check(self.srv.patch("/api/v1/products/%d" % p["id"], {"price_fen": 700},
                             token=self.m.coord), 200)
        self.assertOneEntry(since, "PATCH /api/v1/products/{id}", "product", p["id"],
                            self.coord_id, "coord")

    def test_stall_sale_resend_and_void(self):
        since = self.last_id()
        s = sale("audit-sale-0001", self.m.stall, [{"product_id": self.product, "quantity": 2}])
        check(self.srv.post("/api/v1/sales", s, token=self.m.op))
        self.assertOneEntry(since, "POST /api/v1/sales", "sale", "audit-sale-0001",
                            self.m.op_id, "op1")
        # A re-send stores nothing, and logs nothing.
        since = self.last_id()
        check(self.srv.post("/api/v1/sales", s, token=self.m.op), 200)
        self.assertEqual(self.new_entries(since), [])
        check(self.srv.post("/api/v1/sales/audit-sale-0001/void", {"reason": "typo"},
                            token=self.m.op), 200)
        self.assertOneEntry(since, "POST /api/v1/sales/{id}/void", "sale",
                            "audit-sale-0001", self.m.op_id, "op1")
        # An all-digit sale id stays a string.
        since = self.last_id()
        check(self.srv.post("/api/v1/sales", sale("12345678", self.m.stall, [
            {"product_id": self.product, "quantity": 1}]), token=self.m.op))
        self.assertOneEntry(since, "POST /api/v1/sales", "sale", "12345678",
                            self.m.op_id, "op1")

    def test_sales_batch_one_entry_per_stored_sale(self):
        check(self.srv.post("/api/v1/sales", sale("audit-batch-0", self.m.stall, [
            {"product_id": self.product, "quantity": 1}]), token=self.m.op))
        since = self.last_id()
        r = check(self.srv.post("/api/v1/sales/batch", {"sales": [
            sale("audit-batch-1", self.m.stall, [{"product_id": self.product, "quantity": 1}]),
            sale("audit-batch-0", self.m.stall, [{"product_id": self.product, "quantity": 1}]),
            sale("audit-batch-2", self.m.stall, [{"product_id": 999999, "quantity": 1}]),
            sale("audit-batch-3", self.m.stall, [{"product_id": self.product, "quantity": 3}]),
        ]}, token=self.m.op), 200)
        self.assertEqual([x["status"] for x in r["results"]],
                         ["created", "duplicate", "error", "created"])
        new = self.new_entries(since)
        self.assertEqual(sorted(e["object_id"] for e in new),
                         ["audit-batch-1", "audit-batch-3"])
        for e in new:
            self.assertEqual((e["action"], e["object_type"], e["user_id"]),
                             ("POST /api/v1/sales/batch", "sale", self.m.op_id))

    def test_market_day_stall_and_batch(self):
        since = self.last_id()
        d = check(self.srv.post("/api/v1/market-days", {
            "venue_id": self.m.venue, "date": "2026-06-01", "opens_at": "09:00",
            "closes_at": "17:00", "channel": "caravan"}, token=self.m.coord))
        self.assertOneEntry(since, "POST /api/v1/market-days", "market_day", d["id"],
                            self.coord_id, "coord")
        since = self.last_id()
        st = check(self.srv.post("/api/v1/market-days/%d/stalls" % d["id"], {
            "operator_id": self.m.op_id, "producer_id": self.m.producer, "label": "B1"},
            token=self.m.coord))
        self.assertOneEntry(since, "POST /api/v1/market-days/{id}/stalls", "stall",
                            st["id"], self.coord_id, "coord")
        since = self.last_id()
        b = check(self.srv.post("/api/v1/market-days/batch", {"items": [
            {"venue_id": self.m.venue, "date": "2026-06-0%d" % i, "opens_at": "09:00",
             "closes_at": "17:00", "channel": "caravan"} for i in (2, 3)]},
            token=self.m.admin))
        new = self.new_entries(since)
        self.assertEqual(sorted(e["object_id"] for e in new),
                         sorted(x["id"] for x in b["items"]))
        self.assertEqual({(e["action"], e["object_type"], e["username"]) for e in new},
                         {("POST /api/v1/market-days/batch", "market_day", "admin")})

    def test_admin_writes(self):
        since = self.last_id()
        check(self.srv.post("/api/v1/regions", {
            "code": "qingyuan", "name": "庆元县", "name_en": "Qingyuan",
            "province": "浙江", "partnership": "mountain_sea"}, token=self.m.admin))
        self.assertOneEntry(since, "POST /api/v1/regions", "region", "qingyuan",
                            self.admin_id, "admin")
        since = self.last_id()
        u = check(self.srv.post("/api/v1/users", {
            "username": "audited_op", "password": "a long password", "role": "operator"},
            token=self.m.admin))
        self.assertOneEntry(since, "POST /api/v1/users", "user", u["id"],
                            self.admin_id, "admin")
        since = self.last_id()
        check(self.srv.patch("/api/v1/users/%d" % u["id"], {"display_name": "x"},
                             token=self.m.admin), 200)
        self.assertOneEntry(since, "PATCH /api/v1/users/{id}", "user", u["id"],
                            self.admin_id, "admin")

    # --- writes that leave none ----------------------------------------
    def test_buyer_and_anonymous_writes_leave_none(self):
        since = self.last_id()
        r = self.srv.post("/api/v1/auth/register", {"username": "new_buyer",
                                                    "password": "buyer password"})
        self.assertEqual(r.status, 201, r)
        tok = self.srv.login("new_buyer", "buyer password")
        r = self.srv.post("/api/v1/orders", {
            "lines": [{"product_id": self.product, "quantity": 1}],
            "fulfillment": {"type": "delivery", "address": {
                "name": "张三", "phone": "13800000000", "line1": "1 Road", "city": "上海"}}},
            token=tok)
        self.assertEqual(r.status, 201, r)
        r = self.srv.post("/api/v1/auth/logout", token=tok)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.new_entries(since), [])

    def test_order_status_by_staff(self):
        order = check(self.srv.post("/api/v1/orders", {
            "lines": [{"product_id": self.product, "quantity": 1}],
            "fulfillment": {"type": "delivery", "address": {
                "name": "李四", "phone": "13900000000", "line1": "2 Road", "city": "宁波"}}},
            token=self.m.buyer))
        since = self.last_id()
        check(self.srv.post("/api/v1/orders/%d/cancel" % order["id"], token=self.m.coord), 200)
        self.assertOneEntry(since, "POST /api/v1/orders/{id}/cancel", "order", order["id"],
                            self.coord_id, "coord")
        # Cancelling again is refused, and leaves nothing.
        since = self.last_id()
        r = self.srv.post("/api/v1/orders/%d/cancel" % order["id"], token=self.m.coord)
        self.assertProblem(r, 409, "invalid_state")
        self.assertEqual(self.new_entries(since), [])

    def test_failed_writes_leave_none(self):
        since = self.last_id()
        # 400: a bad body.
        r = self.srv.post("/api/v1/products", {"name": "x"}, token=self.m.coord)
        self.assertProblem(r, 400, "validation_failed")
        # 409: a second market day at one venue on one date.
        r = self.srv.post("/api/v1/market-days", {
            "venue_id": self.m.venue, "date": "2026-05-01", "opens_at": "09:00",
            "closes_at": "17:00", "channel": "caravan"}, token=self.m.coord)
        self.assertProblem(r, 409, "conflict")
        # 403: another operator's stall.
        r = self.srv.post("/api/v1/sales", sale("audit-not-mine", self.m.stall2, [
            {"product_id": self.product, "quantity": 1}]), token=self.m.op)
        self.assertProblem(r, 403, "forbidden")
        # 404: voiding a sale that does not exist.
        r = self.srv.post("/api/v1/sales/no-such-sale/void", {"reason": "x"}, token=self.m.op)
        self.assertProblem(r, 404, "not_found")
        self.assertEqual(self.new_entries(since), [])

    # --- reading -------------------------------------------------------
    def test_who_may_read(self):
        self.assertProblem(self.srv.get(AUDIT), 401, "unauthorized")
        for tok in (self.m.buyer, self.m.op, self.m.coord):
            self.assertProblem(self.srv.get(AUDIT, token=tok), 403, "forbidden")
        self.assertEqual(self.srv.get(AUDIT, token=self.m.admin).status, 200)

    def test_newest_first_and_pages(self):
        for i in range(3):
            check(self.srv.post("/api/v1/venues", {"name": "v%d" % i, "kind": "community",
                                                   "subdistrict": "s"}, token=self.m.coord))
        everything = self.entries()
        ids = [e["id"] for e in everything]
        self.assertEqual(ids, sorted(ids, reverse=True))
        self.assertGreaterEqual(len(ids), 10)
        # Pages of 3 give the same entries in the same order.
        walked, cursor = [], None
        while True:
            path = AUDIT + "?limit=3" + ("&cursor=" + cursor if cursor else "")
            r = self.srv.get(path, token=self.m.admin)
            self.assertEqual(r.status, 200, r)
            self.assertLessEqual(len(r.json["items"]), 3)
            walked += r.json["items"]
            cursor = r.json["next_cursor"]
            if cursor is None:
                break
        self.assertEqual([e["id"] for e in walked if e["id"] <= ids[0]], ids)
        self.assertProblem(self.srv.get(AUDIT + "?cursor=garbage", token=self.m.admin),
                           400, "validation_failed", "cursor")
        self.assertProblem(self.srv.get(AUDIT + "?limit=0", token=self.m.admin),
                           400, "validation_failed", "limit")

    def test_filter_by_user(self):
        check(self.srv.post("/api/v1/venues", {"name": "by coord", "kind": "counter",
                                               "subdistrict": "s"}, token=self.m.coord))
        mine = self.entries("&user=%d" % self.coord_id)
        self.assertTrue(mine)
        self.assertTrue(all(e["user_id"] == self.coord_id for e in mine))
        self.assertEqual(mine, [e for e in self.entries() if e["user_id"] == self.coord_id])
        self.assertEqual(self.entries("&user=%d" % self.buyer_id), [])
        for bad in ("abc", "0", "-1", "1.5", "99999999999999999999"):
            self.assertProblem(self.srv.get(AUDIT + "?user=" + bad, token=self.m.admin),
                               400, "validation_failed", "user")

    def test_filter_by_time(self):
        everything = self.entries()
        now = datetime.datetime.now(datetime.timezone.utc)
        def iso(t):
            return t.strftime("%Y-%m-%dT%H:%M:%SZ")
        hour = datetime.timedelta(hours=1)
        self.assertEqual(self.entries("&from=" + iso(now - hour)), everything)
        self.assertEqual(self.entries("&from=" + iso(now + hour)), [])
        self.assertEqual(self.entries("&to=" + iso(now - hour)), [])
        self.assertEqual(self.entries("&from=%s&to=%s" % (iso(now - hour), iso(now + hour))),
                         everything)
        # An instant with an offset, the same moment.
        self.assertEqual(self.entries("&to=" + (now - hour).astimezone(
            datetime.timezone(datetime.timedelta(hours=8))).strftime(
            "%Y-%m-%dT%H:%M:%S%%2B08:00")), [])
        # Dates are days in Asia/Shanghai; "to" takes in its whole day.
        today = (now + datetime.timedelta(hours=8)).strftime("%Y-%m-%d")
        yesterday = (now + datetime.timedelta(hours=8) - 24 * hour).strftime("%Y-%m-%d")
        tomorrow = (now + datetime.timedelta(hours=8) + 24 * hour).strftime("%Y-%m-%d")
        self.assertEqual(self.entries("&from=%s&to=%s" % (today, today)), everything)
        self.assertEqual(self.entries("&to=" + yesterday), [])
        self.assertEqual(self.entries("&from=" + tomorrow), [])
        # One entry, exactly: its own second as from and to.
        e = everything[-1]
        got = self.entries("&from=%s&to=%s" % (e["at"], e["at"]))
        self.assertIn(e, got)
        self.assertTrue(all(x["at"] == e["at"] for x in got))
        for field in ("from", "to"):
            for bad in ("yesterday", "2026-13-01", "2026-02-30", "2026-1-1",
                        "2026-05-01T25:00:00Z", "2026-05-01%2010:00:00"):
                with self.subTest(field=field, value=bad):
                    self.assertProblem(self.srv.get(AUDIT + "?%s=%s" % (field, bad),
                                                    token=self.m.admin),
                                       400, "validation_failed", field)
        self.assertProblem(self.srv.get(AUDIT + "?from=2026-05-02&to=2026-05-01",
                                        token=self.m.admin), 400, "validation_failed", "to")

    def test_append_only(self):
        before = self.entries()
        self.assertTrue(before)  # rows for the row triggers to refuse
        statements = ["UPDATE audit_log SET username = 'someone'", "DELETE FROM audit_log"]
        db = self.srv.sql()
        try:
            if db.pg:  # TRUNCATE skips row triggers; PostgreSQL has it, SQLite not
                statements.append("TRUNCATE audit_log")
            for sql in statements:
                with self.subTest(sql=sql):
                    with self.assertRaises(harness.DbError) as cm:
                        db.execute(sql)
                    self.assertIn("append-only", str(cm.exception))
        finally:
            db.close()
        self.assertEqual(self.entries(), before)


if __name__ == "__main__":
    harness.main()
