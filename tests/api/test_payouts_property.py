"""The money identities hold for random data sent through the API.

Random producers in three regions, products at random prices; a few
hundred random stall sales (through /api/v1/sales/batch, at random
instants over ten weeks, some at a discount, some voided afterwards),
random orders walked to every status (some cancelled before paying,
some cancelled after, refunded), random payouts (some corrections with
a note) dated over the same weeks, interleaved with voids and cancels
after payouts. Then, for the whole period and for random sub-ranges:

- every producer's statement: opening + earned - paid out = closing; its
  earned_fen equals what this test adds up itself from the sales and
  orders it sent (voids and cancels taken out), its payouts are the ones
  it sent, its opening balance is what was earned and paid before;
- the payouts report agrees with each statement, and its totals add up;
- the impact identity: each region's impact sales_fen equals the sum of
  its producers' earned_fen over the same range.

marketctl check holds at the end. REPORT_SEED changes the data.
"""
import collections
import datetime
import hashlib
import hmac
import json
import os
import random

import harness

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
SEED = int(os.environ.get("REPORT_SEED", "20261202"))
REGIONS = ("qingyuan", "yilong", "zhenfeng")


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


def local_date(instant):
    t = datetime.datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ")
    return t.replace(tzinfo=datetime.timezone.utc).astimezone(SHANGHAI).date()


class PayoutsProperty(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        rnd = cls.rnd = random.Random(SEED)
        admin = cls.admin = srv.user("admin", "admin")
        op = srv.user("op1", "operator")
        op_id = check(srv.get("/api/v1/me", token=op), 200)["id"]
        buyer = srv.user("buyer", "buyer")
        for code in REGIONS:
            check(srv.post("/api/v1/regions", {"code": code, "name": code, "name_en": code,
                                               "province": "p", "partnership": "other"},
                           token=admin))
        cls.producer_region = {}
        for i in range(7):
            region = REGIONS[i % 3]
            pid = check(srv.post("/api/v1/producers", {
                "name": "生产者 %d" % i, "region_code": region, "kind": "household",
                "households": 5, "poor_households": 1}, token=admin))["id"]
            cls.producer_region[pid] = region
        producers = sorted(cls.producer_region)
        cls.product_producer, prices = {}, {}
        for i in range(12):
            pid = producers[i % len(producers)]
            price = rnd.randint(1, 50000)
            x = check(srv.post("/api/v1/products", {
                "name": "商品 %d" % i, "category": "other", "unit": "kg", "price_fen": price,
                "stock": 1000000, "producer_id": pid}, token=admin))["id"]
            cls.product_producer[x] = pid
            prices[x] = price
        products = sorted(cls.product_producer)
        venue = check(srv.post("/api/v1/venues", {"name": "v", "kind": "counter",
                                                  "subdistrict": "s"}, token=admin))["id"]
        today = datetime.datetime.now(SHANGHAI).date()
        cls.today = today
        cls.first = today - datetime.timedelta(days=70)
        day = check(srv.post("/api/v1/market-days", {
            "venue_id": venue, "date": today.isoformat(), "opens_at": "00:00",
            "closes_at": "23:59", "channel": "counter"}, token=admin))["id"]
        stall = check(srv.post("/api/v1/market-days/%d/stalls" % day, {
            "operator_id": op_id, "producer_id": producers[0], "label": "A"},
            token=admin))["id"]

        # earned[(producer, date)] and paid[(producer, date)] as this test
        # counts them.
        cls.earned = collections.Counter()
        cls.paid = collections.Counter()
        now = datetime.datetime.now(datetime.timezone.utc)
        sales = []
        for batch in range(4):
            items = []
            for k in range(60):
                at = now - datetime.timedelta(seconds=rnd.randint(0, 70 * 86400))
                lines = []
                for x in rnd.sample(products, rnd.randint(1, 3)):
                    line = {"product_id": x, "quantity": rnd.randint(1, 9)}
                    if rnd.random() < 0.2:
                        line["unit_price_fen"] = rnd.randint(0, prices[x])
                    lines.append(line)
                items.append({"id": "sale-%d-%d-%d" % (SEED, batch, k), "stall_id": stall,
                              "recorded_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "payment": "cash", "lines": lines})
            res = check(srv.post("/api/v1/sales/batch", {"sales": items}, token=op), 200)
            for r in res["results"]:
                assert r["status"] == "created", r
                sales.append(r["sale"])
        for s in sales:
            d = local_date(s["recorded_at"])
            for l in s["lines"]:
                cls.earned[(cls.product_producer[l["product_id"]], d)] += l["amount_fen"]

        def pay(order):
            body = json.dumps({"order_id": order["id"], "amount_fen": order["total_fen"],
                               "provider": "wechat",
                               "transaction_id": "t-%d" % order["id"]}).encode()
            sig = hmac.new(harness.PAYMENT_SECRET.encode(), body, hashlib.sha256).hexdigest()
            check(srv.request("POST", "/api/v1/payments/callback", raw=body,
                              headers={"X-Signature": sig}), 200)

        def counted(order, sign):
            for l in order["lines"]:
                cls.earned[(cls.product_producer[l["product_id"]], today)] += \
                    sign * l["amount_fen"]

        def payout():
            pid = rnd.choice(producers)
            d = cls.first + datetime.timedelta(days=rnd.randint(0, 75))
            amount = rnd.randint(1, 300000)
            body = {"amount_fen": amount, "paid_on": d.isoformat(), "reference": "R"}
            if rnd.random() < 0.25:
                body["amount_fen"] = -amount
                body["note"] = "更正"
            check(srv.post("/api/v1/producers/%d/payouts" % pid, body, token=admin))
            cls.paid[(pid, d)] += body["amount_fen"]

        live_orders = []
        for k in range(40):
            lines = [{"product_id": x, "quantity": rnd.randint(1, 5)}
                     for x in rnd.sample(products, rnd.randint(1, 3))]
            o = check(srv.post("/api/v1/orders", {"lines": lines, "fulfillment": {
                "type": "delivery", "address": {"name": "n", "phone": "138-0000-0000", "line1": "l",
                                                "city": "c"}}}, token=buyer))
            fate = rnd.random()
            if fate < 0.15:
                check(srv.post("/api/v1/orders/%d/cancel" % o["id"], token=buyer), 200)
                continue
            if fate < 0.25:
                continue  # placed: not earned
            pay(o)
            counted(o, +1)
            live_orders.append(o)
            if rnd.random() < 0.5:
                check(srv.post("/api/v1/orders/%d/ready" % o["id"], token=admin), 200)
                if rnd.random() < 0.5:
                    check(srv.post("/api/v1/orders/%d/fulfil" % o["id"], token=admin), 200)
                    live_orders.pop()
            if rnd.random() < 0.5:
                payout()
        # Payouts, then voids and cancels after them.
        for k in range(25):
            payout()
        for s in rnd.sample(sales, 40):
            check(srv.post("/api/v1/sales/%s/void" % s["id"], {"reason": "x"}, token=op), 200)
            d = local_date(s["recorded_at"])
            for l in s["lines"]:
                cls.earned[(cls.product_producer[l["product_id"]], d)] -= l["amount_fen"]
        for o in rnd.sample(live_orders, len(live_orders) // 2):
            check(srv.post("/api/v1/orders/%d/cancel" % o["id"], token=admin), 200)
            counted(o, -1)
        for k in range(10):
            payout()

    def expected(self, pid, frm, to):
        e = lambda cond: sum(v for (p, d), v in self.earned.items() if p == pid and cond(d))
        p = lambda cond: sum(v for (q, d), v in self.paid.items() if q == pid and cond(d))
        opening = e(lambda d: d < frm) - p(lambda d: d < frm)
        earned = e(lambda d: frm <= d <= to)
        paid = p(lambda d: frm <= d <= to)
        return opening, earned, paid, opening + earned - paid

    def ranges(self):
        rnd = random.Random(SEED + 1)
        yield self.first - datetime.timedelta(days=10), self.today + datetime.timedelta(days=10)
        yield self.today, self.today
        for _ in range(6):
            a = self.first + datetime.timedelta(days=rnd.randint(-5, 75))
            b = a + datetime.timedelta(days=rnd.randint(0, 40))
            yield a, b

    def test_identities(self):
        srv = self.srv
        for frm, to in self.ranges():
            q = "from=%s&to=%s" % (frm.isoformat(), to.isoformat())
            with self.subTest(range=q):
                rep = check(srv.get("/api/v1/reports/payouts?" + q, token=self.admin), 200)
                by_id = {p["producer_id"]: p for p in rep["producers"]}
                self.assertEqual(sorted(by_id), sorted(self.producer_region))
                for pid in self.producer_region:
                    st = check(srv.get("/api/v1/producers/%d/statement?%s" % (pid, q),
                                       token=self.admin), 200)
                    got = (st["opening_balance_fen"], st["earned_fen"], st["paid_out_fen"],
                           st["closing_balance_fen"])
                    self.assertEqual(got[0] + got[1] - got[2], got[3], st)
                    self.assertEqual(got, self.expected(pid, frm, to), pid)
                    self.assertEqual(sum(d["earned_fen"] for d in st["days"]), got[1])
                    days = {d["date"]: d["earned_fen"] for d in st["days"]}
                    for (p, d), v in self.earned.items():
                        if p == pid and frm <= d <= to and v != 0:
                            self.assertEqual(days.get(d.isoformat()), v, (pid, d))
                    self.assertEqual(sum(x["amount_fen"] for x in st["payouts"]), got[2])
                    row = by_id[pid]
                    self.assertEqual((row["opening_balance_fen"], row["earned_fen"],
                                      row["paid_out_fen"], row["closing_balance_fen"]), got)
                for k in ("opening_balance_fen", "earned_fen", "paid_out_fen",
                          "closing_balance_fen"):
                    self.assertEqual(rep["totals"][k], sum(p[k] for p in rep["producers"]))
                impact = check(srv.get("/api/v1/reports/impact?" + q, token=self.admin), 200)
                for region in impact["regions"]:
                    self.assertEqual(region["sales_fen"], sum(
                        p["earned_fen"] for p in rep["producers"]
                        if p["region_code"] == region["region_code"]), region["region_code"])
        # The data exercised what it should.
        self.assertTrue(any(v < 0 for v in self.paid.values()))
        self.assertGreater(len(self.paid), 20)

    def test_z_check_holds(self):
        p = self.srv.ctl("check", check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        self.assertIn(b"statements and payouts add up", p.stdout)


if __name__ == "__main__":
    harness.main()
