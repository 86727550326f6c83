"""The report's rollups never disagree with the raw rows, and when they
are made to, marketctl check says so.

A product moved to a producer of another region, and a producer moved
to another region, take their counted sales and orders along (a line
counts for its product's producer as the catalog stands), and check
still holds. A rollup row changed or deleted behind the server's back
(with SQL on its database) fails marketctl check, naming the table; check
--repair-rollups rebuilds the rollups from the sales and orders and the
report is right again.
"""
import datetime
import hashlib
import hmac
import json

import harness

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


class ReportCheck(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        cls.admin = srv.user("admin", "admin")
        buyer = srv.user("buyer1", "buyer")
        op = check(srv.get("/api/v1/me", token=srv.user("op1", "operator")), 200)["id"]
        for code in ("qingyuan", "zhenfeng"):
            check(srv.post("/api/v1/regions", {
                "code": code, "name": code, "name_en": code, "province": "p",
                "partnership": "other"}, token=cls.admin))

        def producer(region, hh, poor):
            return check(srv.post("/api/v1/producers", {
                "name": "p-" + region, "region_code": region, "kind": "household",
                "households": hh, "poor_households": poor}, token=cls.admin))["id"]
        cls.zf = producer("zhenfeng", 10, 4)
        cls.qy = producer("qingyuan", 6, 3)

        def product(producer_id, price):
            return check(srv.post("/api/v1/products", {
                "name": "x", "category": "other", "unit": "kg", "price_fen": price,
                "stock": 100, "producer_id": producer_id}, token=cls.admin))["id"]
        cls.pz = product(cls.zf, 1000)
        cls.pq = product(cls.qy, 300)
        cls.today = datetime.datetime.now(SHANGHAI).date()
        venue = check(srv.post("/api/v1/venues", {
            "name": "v", "kind": "counter", "subdistrict": "s"}, token=cls.admin))["id"]
        day = check(srv.post("/api/v1/market-days", {
            "venue_id": venue, "date": cls.today.isoformat(), "opens_at": "09:00",
            "closes_at": "17:00", "channel": "counter"}, token=cls.admin))["id"]
        stall = check(srv.post("/api/v1/market-days/%d/stalls" % day, {
            "operator_id": op, "producer_id": cls.zf, "label": "A"},
            token=cls.admin))["id"]
        now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
        at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        for sid, lines in (("check-s1", [(cls.pz, 2), (cls.pq, 1)]),
                           ("check-s2", [(cls.pz, 1)])):
            check(srv.post("/api/v1/sales", {
                "id": sid, "stall_id": stall, "recorded_at": at, "payment": "cash",
                "lines": [{"product_id": p, "quantity": q} for p, q in lines]},
                token=cls.admin))
        o = check(srv.post("/api/v1/orders", {
            "lines": [{"product_id": cls.pq, "quantity": 1},
                      {"product_id": cls.pz, "quantity": 1}],
            "fulfillment": {"type": "delivery", "address": {
                "name": "n", "phone": "138-0000", "line1": "l", "city": "c"}}},
            token=buyer))
        raw = json.dumps({"order_id": o["id"], "amount_fen": o["total_fen"],
                          "provider": "wechat", "transaction_id": "t-1"}).encode()
        sig = hmac.new(harness.PAYMENT_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        check(srv.request("POST", "/api/v1/payments/callback", raw=raw,
                          headers={"X-Signature": sig}), 200)
        # Days are Shanghai days: the sales and the order are today.
        assert datetime.datetime.strptime(
            o["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).astimezone(SHANGHAI).date() == cls.today

    def report(self):
        # The month rollup serves whole months, the day rollup the rest:
        # a range of whole months and one of days.
        first = self.today.replace(day=1)
        nxt = (first + datetime.timedelta(days=31)).replace(day=1)
        out = []
        for frm, to in ((first, nxt - datetime.timedelta(days=1)),
                        (self.today, self.today)):
            r = self.srv.get("/api/v1/reports/impact?from=%s&to=%s" % (frm, to),
                             token=self.admin)
            self.assertEqual(r.status, 200, r)
            out.append({g["region_code"]: (g["sales_fen"], g["units"], g["stall_sales"],
                                           g["orders"], g["producers_with_sales"],
                                           g["households"])
                        for g in r.json["regions"]})
        self.assertEqual(out[0], out[1])
        return out[0]

    def ctl_check(self):
        p = self.srv.ctl("check", check=False)
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    def test_1_moves_keep_rollups_right(self):
        # S1: 2000 + 300, S2: 1000, order: 300 + 1000.
        self.assertEqual(self.report(), {"zhenfeng": (4000, 4, 2, 1, 1, 10),
                                         "qingyuan": (600, 2, 1, 1, 1, 6)})
        self.assertEqual(self.ctl_check()[0], 0)
        # Mushrooms now come from the Zhenfeng producer.
        check(self.srv.patch("/api/v1/products/%d" % self.pq,
                             {"producer_id": self.zf}, token=self.admin), 200)
        self.assertEqual(self.report(), {"zhenfeng": (4600, 6, 2, 1, 1, 10),
                                         "qingyuan": (0, 0, 0, 0, 0, 0)})
        rc, out = self.ctl_check()
        self.assertEqual(rc, 0, out)
        # The Zhenfeng producer moves to Qingyuan, with everything it sold.
        check(self.srv.patch("/api/v1/producers/%d" % self.zf,
                             {"region_code": "qingyuan"}, token=self.admin), 200)
        self.assertEqual(self.report(), {"zhenfeng": (0, 0, 0, 0, 0, 0),
                                         "qingyuan": (4600, 6, 2, 1, 1, 10)})
        self.assertEqual(self.ctl_check()[0], 0)
        # And back; mushrooms back to their own producer.
        check(self.srv.patch("/api/v1/producers/%d" % self.zf,
                             {"region_code": "zhenfeng"}, token=self.admin), 200)
        check(self.srv.patch("/api/v1/products/%d" % self.pq,
                             {"producer_id": self.qy}, token=self.admin), 200)
        self.assertEqual(self.report(), {"zhenfeng": (4000, 4, 2, 1, 1, 10),
                                         "qingyuan": (600, 2, 1, 1, 1, 6)})
        rc, out = self.ctl_check()
        self.assertEqual(rc, 0, out)

    def corrupt(self, sql):
        with self.srv.sql() as db:
            changed = db.execute(sql)
        self.assertGreater(changed, 0, sql)

    def test_2_corrupted_rollups_fail_check_and_are_repaired(self):
        right = self.report()
        for table, sql in (
                ("report_product_month",
                 "UPDATE report_product_month SET counter_fen = counter_fen + 1 "
                 "WHERE product_id = %d" % self.pz),
                ("report_product_day",
                 "UPDATE report_product_day SET units = units + 5 "
                 "WHERE product_id = %d" % self.pq),
                ("report_region_day",
                 "DELETE FROM report_region_day WHERE region_code = 'qingyuan'"),
                ("report_day", "UPDATE report_day SET orders = orders + 1"),
                ("report_market_day",
                 "UPDATE report_market_day SET total_fen = total_fen + 1")):
            with self.subTest(table=table):
                self.corrupt(sql)
                rc, out = self.ctl_check()
                self.assertEqual(rc, 1, out)
                self.assertIn(table + " ", out)
                self.assertIn("check failed", out)
                p = self.srv.ctl("check", "--repair-rollups", check=False)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertEqual(self.ctl_check()[0], 0)
                self.assertEqual(self.report(), right)


if __name__ == "__main__":
    harness.main()
