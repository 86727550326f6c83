"""Producer payouts and statements (API.md 1.1): payouts are append-only
(no route changes or deletes one, and the table refuses it), a negative
payout is a correction that needs a note, every field's rule; a
producer's statement (opening + earned - paid out = closing, the opening
balance carried from before the range, days with earnings, the payouts in
the range, CSV one row per day); a void or a cancel after a payout moves
the balance and the statement shows it; the payouts report per producer;
the impact report's sales_fen for a region equals the sum of its
producers' earned_fen; scope (a Zhenfeng coordinator gets 403 for
Qingyuan's producer, statement, payouts and report); every error code;
the audit log."""
import datetime
import os
import uuid

import harness
from orders_fixture import SHANGHAI, Shop, check, day

INT64_MAX = 2 ** 63 - 1


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Payouts(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.shop = Shop(cls.srv)
        cls.zf = s.producers["zhenfeng"]
        cls.qy = s.producers["qingyuan"]
        cls.today = day(0)
        # A second Zhenfeng producer, for the region's sum.
        cls.zf2 = check(cls.srv.post("/api/v1/producers", {
            "name": "贞丰茶叶合作社", "region_code": "zhenfeng", "kind": "workshop",
            "households": 30, "poor_households": 5}, token=s.admin))["id"]

    def payout(self, producer, amount, paid_on=None, reference="BANK-1", note=None,
               token=None):
        body = {"amount_fen": amount, "paid_on": paid_on or self.today,
                "reference": reference}
        if note is not None:
            body["note"] = note
        return self.srv.post("/api/v1/producers/%d/payouts" % producer, body,
                             token=token or self.shop.coord)

    def statement(self, producer, frm=None, to=None, token=None, fmt=""):
        return self.srv.get("/api/v1/producers/%d/statement?from=%s&to=%s%s" % (
            producer, frm or self.today, to or self.today, fmt),
            token=token or self.shop.coord)

    def sale(self, product, quantity, stall=None):
        return check(self.srv.post("/api/v1/sales", {
            "id": str(uuid.uuid4()), "stall_id": stall or self.shop.stall,
            "recorded_at": now_utc(), "payment": "wechat",
            "lines": [{"product_id": product, "quantity": quantity}]}, token=self.shop.op))

    def assertIdentity(self, st):
        self.assertEqual(st["opening_balance_fen"] + st["earned_fen"] - st["paid_out_fen"],
                         st["closing_balance_fen"], st)
        self.assertEqual(sum(d["earned_fen"] for d in st["days"]), st["earned_fen"], st)
        self.assertEqual(sum(p["amount_fen"] for p in st["payouts"]), st["paid_out_fen"])
        for d in st["days"]:
            self.assertEqual(d["stall_sales_fen"] + d["online_sales_fen"], d["earned_fen"])

    def test_a_statement_payouts_void_and_cancel(self):
        s = self.shop
        product = s.product(1000, 500, name="贞丰李子 payouts")
        sale = self.sale(product, 3)                      # 3000 at a stall
        order = s.paid(s.placed([(product, 2)]))           # 2000 online
        s.placed([(product, 4)])                           # placed: not earned
        st = check(self.statement(self.zf), 200)
        self.assertEqual(st["producer_id"], self.zf)
        self.assertEqual(st["producer_name"], "贞丰李子种植协会")
        self.assertEqual((st["from"], st["to"]), (self.today, self.today))
        self.assertEqual(st["opening_balance_fen"], 0)
        self.assertEqual(st["earned_fen"], 5000)
        self.assertEqual(st["days"], [{"date": self.today, "stall_sales_fen": 3000,
                                       "online_sales_fen": 2000, "earned_fen": 5000}])
        self.assertEqual(st["payouts"], [])
        self.assertEqual(st["closing_balance_fen"], 5000)

        # Pay 4000, then correct it by -500 (a note says why).
        p1 = check(self.payout(self.zf, 4000, reference="ICBC-20261202-01"))
        self.assertEqual({k: p1[k] for k in ("producer_id", "amount_fen", "paid_on",
                                             "reference", "note", "created_by")},
                         {"producer_id": self.zf, "amount_fen": 4000, "paid_on": self.today,
                          "reference": "ICBC-20261202-01", "note": None,
                          "created_by": s.me(s.coord)})
        self.assertTrue(p1["created_at"].endswith("Z"))
        p2 = check(self.payout(self.zf, -500, reference="ICBC-20261202-02",
                               note="多付了 5 元"))
        self.assertEqual(p2["note"], "多付了 5 元")
        st = check(self.statement(self.zf), 200)
        self.assertEqual((st["paid_out_fen"], st["closing_balance_fen"]), (3500, 1500))
        self.assertEqual([p["id"] for p in st["payouts"]], [p1["id"], p2["id"]])
        self.assertIdentity(st)

        # A void after the payout: the balance drops by the sale, below zero.
        check(self.srv.post("/api/v1/sales/%s/void" % sale["id"], {"reason": "退货"},
                            token=s.op), 200)
        st = check(self.statement(self.zf), 200)
        self.assertEqual(st["earned_fen"], 2000)
        self.assertEqual(st["closing_balance_fen"], -1500)
        self.assertEqual(st["days"][0]["stall_sales_fen"], 0)
        self.assertIdentity(st)
        # A cancel after the payout (a refund): nothing earned that day now.
        check(s.act(order["id"], "cancel", s.admin), 200)
        st = check(self.statement(self.zf), 200)
        self.assertEqual((st["earned_fen"], st["days"], st["closing_balance_fen"]),
                         (0, [], -3500))
        self.assertIdentity(st)
        # The next day opens with what is owed (here: overpaid).
        tomorrow = day(1)
        nxt = check(self.statement(self.zf, tomorrow, day(30)), 200)
        self.assertEqual(nxt["opening_balance_fen"], -3500)
        self.assertEqual((nxt["earned_fen"], nxt["paid_out_fen"], nxt["payouts"]),
                         (0, 0, []))
        self.assertEqual(nxt["closing_balance_fen"], -3500)
        # A payout dated in the future counts from its day.
        check(self.payout(self.zf, 100, paid_on=day(10), reference="FUT"))
        nxt = check(self.statement(self.zf, tomorrow, day(30)), 200)
        self.assertEqual((nxt["paid_out_fen"], nxt["closing_balance_fen"]), (100, -3600))
        before = check(self.statement(self.zf, tomorrow, day(5)), 200)
        self.assertEqual(before["closing_balance_fen"], -3500)
        self.assertIdentity(nxt)

    def test_b_payout_rules(self):
        base = {"amount_fen": 100, "paid_on": self.today, "reference": "R1"}
        post = lambda body, producer=None: self.srv.post(
            "/api/v1/producers/%d/payouts" % (producer or self.zf2), body,
            token=self.shop.admin)
        for body, field in (
                ({**base, "amount_fen": 0}, "amount_fen"),
                ({**base, "amount_fen": 1.5}, "amount_fen"),
                ({**base, "amount_fen": "100"}, "amount_fen"),
                ({**base, "amount_fen": 2 ** 64}, "amount_fen"),
                ({k: v for k, v in base.items() if k != "amount_fen"}, "amount_fen"),
                ({**base, "amount_fen": -100}, "note"),
                ({**base, "amount_fen": -100, "note": None}, "note"),
                ({**base, "amount_fen": -100, "note": ""}, "note"),
                ({**base, "paid_on": "2026-02-30"}, "paid_on"),
                ({**base, "paid_on": "2026/01/01"}, "paid_on"),
                ({k: v for k, v in base.items() if k != "paid_on"}, "paid_on"),
                ({**base, "reference": ""}, "reference"),
                ({**base, "reference": "x" * 65}, "reference"),
                ({k: v for k, v in base.items() if k != "reference"}, "reference")):
            with self.subTest(body=body):
                self.assertProblem(post(body), 400, "validation_failed", field)
        self.assertProblem(post(base, producer=999999), 404, "not_found")
        self.assertProblem(self.srv.request("POST", "/api/v1/producers/%d/payouts" % self.zf2,
                                            raw=b"[1", token=self.shop.admin), 400,
                           "bad_json")
        self.assertProblem(self.srv.request("POST", "/api/v1/producers/%d/payouts" % self.zf2,
                                            raw=b"{}", token=self.shop.admin,
                                            headers={"Content-Type": "text/plain"}),
                           415, "unsupported_media_type")
        # Nothing was stored by any of them.
        self.assertEqual(check(self.srv.get("/api/v1/producers/%d/payouts" % self.zf2,
                                            token=self.shop.admin), 200)["items"], [])
        # The largest amount and a 64-character reference are fine.
        check(post({**base, "amount_fen": INT64_MAX, "reference": "x" * 64}))
        check(post({**base, "amount_fen": -INT64_MAX, "note": "撤销"}))

    def test_c_append_only(self):
        p = check(self.payout(self.qy, 700, reference="AO-1"))
        path = "/api/v1/producers/%d/payouts" % self.qy
        for method in ("DELETE", "PATCH", "PUT"):
            self.assertProblem(self.srv.request(method, path, body={} if method != "DELETE"
                                                else None, token=self.shop.admin),
                               405, "method_not_allowed")
        self.assertProblem(self.srv.request("DELETE", "/api/v1/payouts/%d" % p["id"],
                                            token=self.shop.admin), 404, "not_found")
        # The table itself refuses an update or a delete.
        db = self.srv.sql()
        try:
            for sql in ("UPDATE payouts SET amount_fen = 1 WHERE id = ?",
                        "DELETE FROM payouts WHERE id = ?"):
                with self.assertRaises(harness.DbError) as e:
                    db.execute((sql, (p["id"],)))
                self.assertIn("append-only", str(e.exception))
            # An amount that is not a whole number of fen: SQLite's typeof
            # CHECK refuses the real 1.5, PostgreSQL's bigint the '1.5'.
            with self.assertRaises(harness.DbError) as e:
                db.execute(("INSERT INTO payouts (producer_id, amount_fen, paid_on, "
                            "reference, created_at, created_by) VALUES (?, ?, ?, 'x', 0, 1)",
                            (self.qy, 1.5, self.today)))
            self.assertIn("bigint" if db.pg else "amount_fen", str(e.exception))
        finally:
            db.close()
        got = check(self.srv.get(path, token=self.shop.admin), 200)["items"]
        self.assertEqual([x for x in got if x["id"] == p["id"]], [p])

    def test_d_list_order_and_pages(self):
        prod = check(self.srv.post("/api/v1/producers", {
            "name": "庆元菌菇协会", "region_code": "qingyuan", "kind": "association",
            "households": 10, "poor_households": 1}, token=self.shop.admin))["id"]
        ids = {}
        for paid_on, ref in ((day(-3), "c"), (day(-10), "a"), (day(-3), "d"), (day(-5), "b")):
            ids[ref] = check(self.payout(prod, 100, paid_on=paid_on, reference=ref))["id"]
        path = "/api/v1/producers/%d/payouts" % prod
        got = check(self.srv.get(path, token=self.shop.coord), 200)
        self.assertEqual([p["reference"] for p in got["items"]], ["a", "b", "c", "d"])
        page = check(self.srv.get(path + "?limit=3", token=self.shop.coord), 200)
        rest = check(self.srv.get(path + "?limit=3&cursor=" + page["next_cursor"],
                                  token=self.shop.coord), 200)
        self.assertEqual([p["reference"] for p in page["items"] + rest["items"]],
                         ["a", "b", "c", "d"])
        self.assertIsNone(rest["next_cursor"])
        self.assertProblem(self.srv.get(path + "?cursor=bad", token=self.shop.coord),
                           400, "validation_failed", "cursor")
        self.assertProblem(self.srv.get("/api/v1/producers/999999/payouts",
                                        token=self.shop.coord), 404, "not_found")
        # The statement over them: opening from before, CSV one row per day.
        st = check(self.statement(prod, day(-5), day(-3)), 200)
        self.assertEqual((st["opening_balance_fen"], st["paid_out_fen"],
                          st["closing_balance_fen"]), (-100, 300, -400))
        r = self.statement(prod, day(-5), day(-3), fmt="&format=csv")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/csv"))
        self.assertIn("attachment", r.header("content-disposition"))
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))
        lines = r.body[3:].decode().split("\r\n")
        self.assertEqual(lines, [
            "date,stall_sales_fen,online_sales_fen,earned_fen,paid_out_fen,balance_fen",
            "%s,0,0,0,100,-200" % day(-5), "%s,0,0,0,200,-400" % day(-3), ""])

    def test_e_errors_and_scope(self):
        s = self.shop
        for query, field in (("", "from"), ("?from=2026-01-01", "to"),
                             ("?from=2026-02-30&to=2026-03-01", "from"),
                             ("?from=2026-03-01&to=2026-02-01", "from"),
                             ("?from=2020-01-01&to=2026-01-01", "to"),
                             ("?from=2026-01-01&to=2026-01-02&format=pdf", "format")):
            with self.subTest(query=query):
                self.assertProblem(self.srv.get("/api/v1/producers/%d/statement%s" % (
                    self.zf, query), token=s.coord), 400, "validation_failed", field)
                self.assertProblem(self.srv.get("/api/v1/reports/payouts%s" % query,
                                                token=s.coord), 400, "validation_failed",
                                   field)
        self.assertProblem(self.statement(999999), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/reports/payouts?from=%s&to=%s&region=nowhere"
                                        % (self.today, self.today), token=s.admin),
                           400, "validation_failed", "region")
        # Scope: Zhenfeng's coordinator, Qingyuan's producer.
        self.assertProblem(self.payout(self.qy, 100, token=s.scoped), 403, "forbidden")
        self.assertProblem(self.srv.get("/api/v1/producers/%d/payouts" % self.qy,
                                        token=s.scoped), 403, "forbidden")
        self.assertProblem(self.statement(self.qy, token=s.scoped), 403, "forbidden")
        self.assertProblem(self.srv.get("/api/v1/reports/payouts?from=%s&to=%s&region="
                                        "qingyuan" % (self.today, self.today),
                                        token=s.scoped), 403, "forbidden")
        # Its own region is fine, and its report is its region's only.
        check(self.payout(self.zf2, 100, token=s.scoped, reference="ZF-OWN"))
        check(self.statement(self.zf2, token=s.scoped), 200)
        rep = check(self.srv.get("/api/v1/reports/payouts?from=%s&to=%s" % (
            self.today, self.today), token=s.scoped), 200)
        self.assertEqual({p["region_code"] for p in rep["producers"]}, {"zhenfeng"})
        # Other roles.
        for tok, status, code in ((None, 401, "unauthorized"), (s.buyer, 403, "forbidden"),
                                  (s.op, 403, "forbidden")):
            self.assertProblem(self.statement(self.zf, token=tok) if tok else
                               self.srv.get("/api/v1/producers/%d/statement?from=%s&to=%s"
                                            % (self.zf, self.today, self.today)),
                               status, code)
            self.assertProblem(self.srv.get("/api/v1/reports/payouts", token=tok),
                               status, code)
            self.assertProblem(self.srv.get("/api/v1/producers/%d/payouts" % self.zf,
                                            token=tok), status, code)
            self.assertProblem(self.srv.post("/api/v1/producers/%d/payouts" % self.zf, {},
                                             token=tok), status, code)

    def test_f_report_and_the_impact_identity(self):
        s = self.shop
        p_zf = s.product(1234, 500, name="贞丰李子 identity")
        p_qy = s.product(777, 500, region="qingyuan", name="庆元香菇 identity")
        x = check(self.srv.post("/api/v1/products", {
            "name": "贞丰茶", "category": "tea", "unit": "250g", "price_fen": 3100,
            "stock": 100, "producer_id": self.zf2}, token=s.admin))["id"]
        self.sale(p_zf, 2)
        s.paid(s.placed([(p_qy, 3), (x, 1)]))
        frm, to = day(-30), day(30)
        rep = check(self.srv.get("/api/v1/reports/payouts?from=%s&to=%s" % (frm, to),
                                 token=s.coord), 200)
        self.assertEqual((rep["from"], rep["to"]), (frm, to))
        ids = [p["producer_id"] for p in rep["producers"]]
        self.assertEqual(ids, sorted(ids))
        self.assertIn(self.zf2, ids)
        for p in rep["producers"]:
            self.assertEqual(p["opening_balance_fen"] + p["earned_fen"] - p["paid_out_fen"],
                             p["closing_balance_fen"], p)
            st = check(self.statement(p["producer_id"], frm, to), 200)
            for k in ("opening_balance_fen", "earned_fen", "paid_out_fen",
                      "closing_balance_fen"):
                self.assertEqual(st[k], p[k], (p, k))
        for k in ("opening_balance_fen", "earned_fen", "paid_out_fen", "closing_balance_fen"):
            self.assertEqual(rep["totals"][k], sum(p[k] for p in rep["producers"]), k)
        impact = check(self.srv.get("/api/v1/reports/impact?from=%s&to=%s" % (frm, to),
                                    token=s.coord), 200)
        for region in impact["regions"]:
            earned = sum(p["earned_fen"] for p in rep["producers"]
                         if p["region_code"] == region["region_code"])
            self.assertEqual(region["sales_fen"], earned, region["region_code"])
        self.assertGreater(impact["totals"]["sales_fen"], 0)
        r = self.srv.get("/api/v1/reports/payouts?from=%s&to=%s&format=csv" % (frm, to),
                         token=s.coord)
        lines = r.body[3:].decode().split("\r\n")
        self.assertEqual(lines[0], "producer_id,producer_name,region_code,"
                         "opening_balance_fen,earned_fen,paid_out_fen,closing_balance_fen")
        self.assertEqual(len(lines), len(rep["producers"]) + 2)
        first = rep["producers"][0]
        self.assertEqual(lines[1], ",".join(str(first[k]) for k in (
            "producer_id", "producer_name", "region_code", "opening_balance_fen",
            "earned_fen", "paid_out_fen", "closing_balance_fen")))

    def test_g_audited(self):
        p = check(self.payout(self.zf2, 4321, reference="AUDIT-1"))
        log = check(self.srv.get("/api/v1/audit?limit=200", token=self.shop.admin),
                    200)["items"]
        self.assertIn(("POST /api/v1/producers/{id}/payouts", "payout", p["id"]),
                      [(e["action"], e["object_type"], e["object_id"]) for e in log])

    def test_z_check_passes(self):
        self.shop.check_ledger()


if __name__ == "__main__":
    harness.main()
