"""The impact report agrees with the API's own lists, for random data.

Three thousand random stall sales (through /api/v1/sales/batch, at random
instants over four months, on every channel, some at a discount, some
voided) and a couple of hundred random orders in every status. The
report's figures, per region and in total, for the whole period, for
random sub-ranges (partial months at either end) and per month, must
equal what this test adds up itself from GET /api/v1/sales,
GET /api/v1/orders, the catalog and the market days. marketctl check
holds at the end.
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
CHANNELS = ("holiday_market", "caravan", "counter", "five_into")
PAYMENTS = ("cash", "wechat", "alipay", "card", "other")
SEED = int(os.environ.get("REPORT_SEED", "20201231"))


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


def local_date(instant):
    t = datetime.datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ")
    return t.replace(tzinfo=datetime.timezone.utc).astimezone(SHANGHAI).date()


class Figures:
    def __init__(self):
        self.fen = collections.Counter()   # by channel
        self.units = 0
        self.sales = set()
        self.orders = set()
        self.producers = set()
        self.products = collections.Counter()  # sales_fen
        self.product_units = collections.Counter()


class ReportProperty(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        rnd = cls.rnd = random.Random(SEED)
        cls.admin = srv.user("admin", "admin")
        cls.buyer = srv.user("buyer1", "buyer")
        op = check(srv.get("/api/v1/me", token=srv.user("op1", "operator")), 200)["id"]
        cls.regions = ["anlong", "qingyuan", "zhenfeng"]
        for code in cls.regions:
            check(srv.post("/api/v1/regions", {
                "code": code, "name": code.title() + "县", "name_en": code,
                "province": "p", "partnership": "other"}, token=cls.admin))
        producers = []
        for i in range(8):
            hh = rnd.randint(0, 500)
            producers.append(check(srv.post("/api/v1/producers", {
                "name": "合作社 %d" % i, "region_code": cls.regions[i % 3],
                "kind": "cooperative", "households": hh,
                "poor_households": rnd.randint(0, hh)}, token=cls.admin))["id"])
        cls.products = []
        for i in range(20):
            cls.products.append(check(srv.post("/api/v1/products", {
                "name": "产品 %d" % i, "category": "other", "unit": "kg",
                "price_fen": rnd.randint(1, 20000), "stock": 1000000,
                "producer_id": producers[rnd.randrange(len(producers))]},
                token=cls.admin))["id"])
        cls.today = datetime.datetime.now(SHANGHAI).date()
        stalls = []
        for i, channel in enumerate(CHANNELS * 2):
            venue = check(srv.post("/api/v1/venues", {
                "name": "场地 %d" % i, "kind": "community", "subdistrict": "s"},
                token=cls.admin))["id"]
            day = check(srv.post("/api/v1/market-days", {
                "venue_id": venue, "date": cls.today.isoformat(), "opens_at": "09:00",
                "closes_at": "17:00", "channel": channel}, token=cls.admin))["id"]
            stalls.append(check(srv.post("/api/v1/market-days/%d/stalls" % day, {
                "operator_id": op, "producer_id": producers[0], "label": "S"},
                token=cls.admin))["id"])

        # Stall sales over the last 120 days, in batches of 500.
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        sales = []
        for i in range(3000):
            at = now - datetime.timedelta(seconds=rnd.randint(60, 120 * 86400))
            lines = []
            for product in rnd.sample(cls.products, rnd.randint(1, 4)):
                line = {"product_id": product, "quantity": rnd.randint(1, 20)}
                if rnd.random() < 0.2:
                    line["unit_price_fen"] = rnd.randint(0, 1)  # a free or 1-fen item
                lines.append(line)
            sales.append({"id": "prop-sale-%05d" % i, "stall_id": rnd.choice(stalls),
                          "recorded_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "payment": rnd.choice(PAYMENTS), "lines": lines})
        for i in range(0, len(sales), 500):
            res = check(srv.post("/api/v1/sales/batch", {"sales": sales[i:i + 500]},
                                 token=cls.admin), 200)
            assert all(x["status"] == "created" for x in res["results"]), res
        for s in rnd.sample(sales, 150):
            check(srv.post("/api/v1/sales/%s/void" % s["id"], {"reason": "test"},
                           token=cls.admin), 200)

        # Orders in every status.
        for i in range(200):
            lines = [{"product_id": p, "quantity": rnd.randint(1, 5)}
                     for p in rnd.sample(cls.products, rnd.randint(1, 3))]
            o = check(srv.post("/api/v1/orders", {"lines": lines, "fulfillment": {
                "type": "delivery", "address": {"name": "n", "phone": "138-0000",
                                                "line1": "l", "city": "c"}}},
                token=cls.buyer))
            fate = rnd.choice(["placed", "paid", "ready", "fulfilled", "cancelled",
                               "paid-cancelled", "ready-cancelled"])
            if fate == "placed":
                continue
            if fate == "cancelled":
                check(srv.post("/api/v1/orders/%d/cancel" % o["id"], token=cls.buyer), 200)
                continue
            raw = json.dumps({"order_id": o["id"], "amount_fen": o["total_fen"],
                              "provider": "wechat",
                              "transaction_id": "t-%d" % o["id"]}).encode()
            sig = hmac.new(harness.PAYMENT_SECRET.encode(), raw,
                           hashlib.sha256).hexdigest()
            check(srv.request("POST", "/api/v1/payments/callback", raw=raw,
                              headers={"X-Signature": sig}), 200)
            steps = {"paid": [], "ready": ["ready"], "fulfilled": ["ready", "fulfil"],
                     "paid-cancelled": ["cancel"],
                     "ready-cancelled": ["ready", "cancel"]}[fate]
            for step in steps:
                check(srv.post("/api/v1/orders/%d/%s" % (o["id"], step),
                               token=cls.admin), 200)

        cls.first = (now - datetime.timedelta(days=121)).astimezone(SHANGHAI).date()
        cls.load_lists()

    @classmethod
    def walk(cls, path):
        out, cursor = [], None
        while True:
            page = check(cls.srv.get(path + ("&cursor=" + cursor if cursor else ""),
                                     token=cls.admin), 200)
            out += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return out

    @classmethod
    def load_lists(cls):
        """What the API lists say, independently of the report."""
        cls.sale_list = cls.walk("/api/v1/sales?limit=200")
        cls.order_list = cls.walk("/api/v1/orders?limit=200")
        products = cls.walk("/api/v1/products?limit=200&active=all")
        producers = {p["id"]: p for p in cls.walk("/api/v1/producers?limit=200")}
        cls.product = {p["id"]: (p["producer_id"], p["region_code"]) for p in products}
        cls.producer = producers
        days = {d["id"]: d["channel"] for d in cls.walk("/api/v1/market-days?limit=200")}
        cls.channel = days
        assert len(cls.sale_list) == 3000 and len(cls.order_list) == 200

    def expected(self, frm, to):
        """{region: Figures} and the distinct totals for days frm..to."""
        fig = {code: Figures() for code in self.regions}
        total_sales, total_orders = set(), set()
        items = []
        for s in self.sale_list:
            if not s["voided"]:
                items.append(("sale", s["id"], local_date(s["recorded_at"]),
                              self.channel[s["market_day_id"]], s["lines"]))
        for o in self.order_list:
            if o["status"] in ("paid", "ready", "fulfilled"):
                items.append(("order", o["id"], local_date(o["created_at"]), "online",
                              o["lines"]))
        for kind, ident, day, channel, lines in items:
            if not frm <= day <= to:
                continue
            (total_sales if kind == "sale" else total_orders).add(ident)
            for line in lines:
                producer, region = self.product[line["product_id"]]
                f = fig[region]
                f.fen[channel] += line["amount_fen"]
                f.units += line["quantity"]
                (f.sales if kind == "sale" else f.orders).add(ident)
                f.producers.add(producer)
                f.products[line["product_id"]] += line["amount_fen"]
                f.product_units[line["product_id"]] += line["quantity"]
        return fig, total_sales, total_orders

    def assertReport(self, frm, to):
        r = self.srv.get("/api/v1/reports/impact?from=%s&to=%s" % (frm, to),
                         token=self.admin)
        self.assertEqual(r.status, 200, r)
        fig, total_sales, total_orders = self.expected(frm, to)
        got = {g["region_code"]: g for g in r.json["regions"]}
        self.assertEqual(sorted(got), self.regions)
        sums = collections.Counter()
        for code, f in fig.items():
            g = got[code]
            hh = sum(self.producer[p]["households"] for p in f.producers)
            poor = sum(self.producer[p]["poor_households"] for p in f.producers)
            stall = sum(f.fen[c] for c in CHANNELS)
            want = {"sales_fen": stall + f.fen["online"], "stall_sales_fen": stall,
                    "online_sales_fen": f.fen["online"],
                    "by_channel": {c: f.fen[c] for c in CHANNELS + ("online",)},
                    "orders": len(f.orders), "stall_sales": len(f.sales),
                    "units": f.units, "producers_with_sales": len(f.producers),
                    "households": hh, "poor_households": poor,
                    "sales_per_poor_household_fen":
                        (stall + f.fen["online"]) // poor if poor else 0}
            self.assertEqual({k: g[k] for k in want}, want, (code, frm, to))
            ranked = sorted(f.products, key=lambda p: (-f.products[p], p))[:5]
            self.assertEqual([(t["product_id"], t["units"], t["sales_fen"])
                              for t in g["top_products"]],
                             [(p, f.product_units[p], f.products[p]) for p in ranked])
            for k in ("sales_fen", "units", "households", "poor_households"):
                sums[k] += want[k]
        t = r.json["totals"]
        for k, v in sums.items():
            self.assertEqual(t[k], v, k)
        self.assertEqual(t["stall_sales"], len(total_sales))
        self.assertEqual(t["orders"], len(total_orders))
        return r.json

    def test_whole_period(self):
        rep = self.assertReport(self.first, self.today)
        # The data really is there: most sales and some orders count.
        self.assertGreater(rep["totals"]["stall_sales"], 2500)
        self.assertGreater(rep["totals"]["orders"], 50)

    def test_shapes_of_range(self):
        # A partial month is read as its days, or as its month less the
        # days outside the range: ranges that take each way at each end.
        t, day = self.today, datetime.timedelta(days=1)
        mid = (self.first.replace(day=1) + 62 * day).replace(day=1)  # a whole month
        end = (mid + 32 * day).replace(day=1) - day
        shapes = [
            (t - 364 * day, t),                 # the last twelve months
            (t.replace(day=1), t),              # this month so far
            (mid, end),                         # one whole month
            (mid + day, end - day),             # one month less its ends
            (mid + 12 * day, mid + 14 * day),   # a few days inside a month
            (mid - day, end + day),             # a month and a day each side
            (mid - 27 * day, end + 27 * day),   # most of the months around it
            (mid + 20 * day, mid + 20 * day),   # one day
            (end, end + day),                   # across a month's end
        ]
        for a, b in shapes:
            with self.subTest(frm=a, to=b):
                self.assertReport(max(a, self.first), min(b, t))

    def test_random_ranges(self):
        rnd = random.Random(SEED + 1)
        span = (self.today - self.first).days
        for _ in range(30):
            a = self.first + datetime.timedelta(days=rnd.randint(0, span))
            b = a + datetime.timedelta(days=rnd.randint(0, span))
            with self.subTest(frm=a, to=b):
                self.assertReport(a, min(b, self.today))

    def test_months_add_up(self):
        frm, to = self.first, self.today
        r = self.srv.get("/api/v1/reports/impact?from=%s&to=%s&group_by=month" % (frm, to),
                         token=self.admin)
        self.assertEqual(r.status, 200, r)
        for g in r.json["regions"]:
            months = g["months"]
            self.assertEqual(months[0]["month"], frm.strftime("%Y-%m"))
            self.assertEqual(months[-1]["month"], to.strftime("%Y-%m"))
            for m in months:
                # Each month equals the report for its days in the range.
                y, mo = map(int, m["month"].split("-"))
                first = max(frm, datetime.date(y, mo, 1))
                nxt = datetime.date(y + mo // 12, mo % 12 + 1, 1)
                last = min(to, nxt - datetime.timedelta(days=1))
                fig, _, _ = self.expected(first, last)
                f = fig[g["region_code"]]
                self.assertEqual(m["sales_fen"], sum(f.fen.values()), m["month"])
                self.assertEqual(m["units"], f.units)
                self.assertEqual(m["stall_sales"], len(f.sales))
                self.assertEqual(m["orders"], len(f.orders))
                self.assertEqual(m["producers_with_sales"], len(f.producers))
            for k in ("sales_fen", "units", "stall_sales", "orders"):
                self.assertEqual(g[k], sum(m[k] for m in months), k)

    def test_marketctl_check_holds(self):
        p = self.srv.ctl("check", check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(b"report rollups agree", p.stdout)


if __name__ == "__main__":
    harness.main()
