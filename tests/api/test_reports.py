"""The impact report and the close-out, computed by hand.

Three regions (庆元县, 义龙 with a name that needs CSV quoting, 贞丰县);
producers with known household counts, one of them
`Zhenfeng "Green", Ltd`; stall sales on all four channels, one voided,
one at 23:30 Shanghai time on the last day of last month (15:30Z, still
that day), one at 00:00 on the first of this month (16:00Z the day
before), one the day before last month began (outside the range); orders
in every status, one of them cancelled after it was paid. Orders are
created today, so the scenario's dates are last month and this month.

Every number of the JSON is asserted; the CSV is parsed back with the
csv module and compared with the JSON; so is the monthly split, the
scope of a region-scoped coordinator, every error, the close-out of two
market days for each kind of caller, and marketctl report.
"""
import csv
import datetime
import hashlib
import hmac
import io
import json

import harness

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
CHANNELS = ("holiday_market", "caravan", "counter", "five_into", "online")
SCALARS = ("sales_fen", "stall_sales_fen", "online_sales_fen") + tuple(
    "by_channel." + c for c in CHANNELS) + (
    "orders", "stall_sales", "units", "producers_with_sales", "households",
    "poor_households", "sales_per_poor_household_fen")
YILONG = '义龙 "Yilong", 新区'


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


def figures(hm=0, cv=0, ct=0, fi=0, online=0, orders=0, stall_sales=0, units=0,
            producers=0, households=0, poor=0):
    stall = hm + cv + ct + fi
    return {"sales_fen": stall + online, "stall_sales_fen": stall,
            "online_sales_fen": online,
            "by_channel": {"holiday_market": hm, "caravan": cv, "counter": ct,
                           "five_into": fi, "online": online},
            "orders": orders, "stall_sales": stall_sales, "units": units,
            "producers_with_sales": producers, "households": households,
            "poor_households": poor,
            "sales_per_poor_household_fen": (stall + online) // poor if poor else 0}


def flat(fig):
    """The scalar figures as the CSV has them, as strings."""
    out = {}
    for k in SCALARS:
        if k.startswith("by_channel."):
            v = fig["by_channel"][k[len("by_channel."):]]
        else:
            v = fig[k]
        out[k] = str(v)
    return out


class Reports(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        cls.admin = srv.user("admin", "admin")
        cls.coord = srv.user("coord", "coordinator")
        cls.op1 = srv.user("op1", "operator")
        cls.op2 = srv.user("op2", "operator")
        cls.op3 = srv.user("op3", "operator")
        cls.buyer = srv.user("buyer1", "buyer")
        ids = {t: check(srv.get("/api/v1/me", token=getattr(cls, t)), 200)["id"]
               for t in ("op1", "op2", "op3")}
        for code, name in (("qingyuan", "庆元县"), ("yilong", YILONG),
                           ("zhenfeng", "贞丰县")):
            check(srv.post("/api/v1/regions", {
                "code": code, "name": name, "name_en": code, "province": "贵州",
                "partnership": "east_west"}, token=cls.admin))
        cls.scoped = srv.user("coord_zf", "coordinator", region="zhenfeng")

        def producer(name, region, hh, poor):
            return check(srv.post("/api/v1/producers", {
                "name": name, "region_code": region, "kind": "cooperative",
                "households": hh, "poor_households": poor}, token=cls.admin))["id"]
        z1 = producer('Zhenfeng "Green", Ltd', "zhenfeng", 100, 40)
        z2 = producer("贞丰茶叶合作社", "zhenfeng", 50, 11)
        z3 = producer("贞丰蜂蜜作坊", "zhenfeng", 7, 7)
        q1 = producer("庆元香菇合作社", "qingyuan", 30, 5)
        y1 = producer("义龙薏仁米合作社", "yilong", 20, 3)

        def product(name, producer_id, price):
            return check(srv.post("/api/v1/products", {
                "name": name, "category": "other", "unit": "500g",
                "price_fen": price, "stock": 10000, "producer_id": producer_id},
                token=cls.admin))["id"]
        p = cls.p = {}
        p["A"] = product("贞丰李子", z1, 1000)
        p["B"] = product("贞丰白茶", z2, 2500)
        p["B2"] = product("贞丰红茶", z2, 1500)
        p["A2"] = product("贞丰李干", z1, 150)
        p["B3"] = product("贞丰茶包", z2, 700)
        p["B4"] = product("贞丰茶饼", z2, 700)
        p["C"] = product("贞丰蜂蜜", z3, 300)
        p["Q"] = product("庆元香菇", q1, 800)
        product("义龙薏仁米", y1, 600)

        # The days: T today, M the first of this month, P1 and P_last the
        # first and last of last month, B_last the day before P1.
        today = datetime.datetime.now(SHANGHAI).date()
        cls.T = today
        cls.M = today.replace(day=1)
        cls.P_last = cls.M - datetime.timedelta(days=1)
        cls.P1 = cls.P_last.replace(day=1)
        cls.B_last = cls.P1 - datetime.timedelta(days=1)

        def market_day(date, channel, n):
            venue = check(srv.post("/api/v1/venues", {
                "name": "场地 %d" % n, "kind": "community", "subdistrict": "鼓楼街道"},
                token=cls.admin))["id"]
            return check(srv.post("/api/v1/market-days", {
                "venue_id": venue, "date": date.isoformat(), "opens_at": "09:00",
                "closes_at": "17:00", "channel": channel}, token=cls.admin))["id"]
        cls.d_hm = market_day(cls.P_last, "holiday_market", 1)
        cls.d_cv = market_day(cls.M, "caravan", 2)
        cls.d_ct = market_day(cls.P1 + datetime.timedelta(days=9), "counter", 3)
        cls.d_fi = market_day(cls.T, "five_into", 4)

        def stall(day, op, producer_id, label):
            return check(srv.post("/api/v1/market-days/%d/stalls" % day, {
                "operator_id": ids[op], "producer_id": producer_id, "label": label},
                token=cls.admin))["id"]
        cls.a1 = stall(cls.d_hm, "op1", z1, "A1")
        cls.a2 = stall(cls.d_hm, "op2", q1, "A2")
        c1 = stall(cls.d_cv, "op1", z1, "C1")
        k1 = stall(cls.d_ct, "op1", z2, "K1")
        cls.f1 = stall(cls.d_fi, "op1", q1, "F1")
        cls.f2 = stall(cls.d_fi, "op2", z2, "F2")
        # A day with a Qingyuan stall only.
        cls.d_q = market_day(cls.P1 + datetime.timedelta(days=14), "holiday_market", 5)
        stall(cls.d_q, "op2", q1, "Q1")

        # Orders, all created now (today).
        def order(lines, pickup=True):
            f = ({"type": "pickup", "market_day_id": cls.d_fi} if pickup else
                 {"type": "delivery", "address": {"name": "王女士", "phone": "138",
                                                   "line1": "中山西路 1 号", "city": "宁波"}})
            return check(srv.post("/api/v1/orders", {
                "lines": [{"product_id": p[k], "quantity": q} for k, q in lines],
                "fulfillment": f}, token=cls.buyer))

        def pay(o):
            raw = json.dumps({"order_id": o["id"], "amount_fen": o["total_fen"],
                              "provider": "wechat",
                              "transaction_id": "txn-%d" % o["id"]}).encode()
            sig = hmac.new(harness.PAYMENT_SECRET.encode(), raw,
                           hashlib.sha256).hexdigest()
            check(srv.request("POST", "/api/v1/payments/callback", raw=raw,
                              headers={"X-Signature": sig}), 200)

        def act(o, action, token):
            check(srv.post("/api/v1/orders/%d/%s" % (o["id"], action), token=token), 200)

        o1 = order([("A", 1)])                       # stays placed
        o2 = order([("A", 2), ("Q", 1)], pickup=False)
        pay(o2)                                      # paid
        o3 = order([("B", 1)])
        pay(o3)
        act(o3, "ready", cls.admin)                  # ready
        o4 = order([("Q", 3)])
        pay(o4)
        act(o4, "ready", cls.admin)
        act(o4, "fulfil", cls.admin)                 # fulfilled
        o5 = order([("C", 1)], pickup=False)
        act(o5, "cancel", cls.buyer)                 # cancelled while placed
        o6 = order([("C", 2), ("B", 1)])
        pay(o6)
        act(o6, "cancel", cls.buyer)                 # cancelled after payment
        for o in (o1, o2, o3, o4, o5, o6):
            created = datetime.datetime.strptime(o["created_at"], "%Y-%m-%dT%H:%M:%SZ")
            day = created.replace(tzinfo=datetime.timezone.utc).astimezone(SHANGHAI).date()
            if day != today:
                raise AssertionError("the scenario ran across midnight in Shanghai")
        now = o1["created_at"]

        def at(date, clock):
            return "%sT%sZ" % (date.isoformat(), clock)

        def sale(sid, stall_id, recorded_at, payment, lines):
            return {"id": sid, "stall_id": stall_id, "recorded_at": recorded_at,
                    "payment": payment,
                    "lines": [dict({"product_id": p[k], "quantity": q},
                                   **({"unit_price_fen": price} if price is not None else {}))
                              for k, q, price in lines]}
        sales = [
            sale("sale-s1-boundary", cls.a1, at(cls.P_last, "15:30:00"), "cash",
                 [("A", 3, None), ("Q", 2, None)]),
            sale("sale-s2-midnight", c1, at(cls.P_last, "16:00:00"), "wechat",
                 [("A", 1, 900), ("B", 2, None)]),
            sale("sale-s3-counter", k1, at(cls.P1 + datetime.timedelta(days=4), "02:00:00"),
                 "alipay", [("B", 1, None), ("A2", 10, None)]),
            sale("sale-s4-today", cls.f1, now, "card", [("Q", 5, None), ("B2", 1, None)]),
            sale("sale-s5-voided", cls.a1, at(cls.P_last, "03:00:00"), "cash",
                 [("C", 4, None), ("A", 2, None)]),
            sale("sale-s6-free-item", cls.a2, at(cls.P_last, "05:00:00"), "other",
                 [("B3", 2, 0), ("B4", 1, None)]),
            sale("sale-s7-before", cls.a1, at(cls.B_last, "15:30:00"), "cash",
                 [("A", 7, None)]),
        ]
        res = check(srv.post("/api/v1/sales/batch", {"sales": sales}, token=cls.admin), 200)
        assert [x["status"] for x in res["results"]] == ["created"] * 7, res
        check(srv.post("/api/v1/sales/sale-s5-voided/void", {"reason": "wrong stall"},
                       token=cls.admin), 200)

        # What the hand computation gives for P1..T.
        cls.zhenfeng = dict(figures(hm=3700, cv=5900, ct=4000, fi=1500, online=4500,
                                    orders=2, stall_sales=5, units=24, producers=2,
                                    households=150, poor=51),
                            region_code="zhenfeng", region_name="贞丰县",
                            top_products=[
                                {"product_id": p["B"], "name": "贞丰白茶", "units": 4,
                                 "sales_fen": 10000},
                                {"product_id": p["A"], "name": "贞丰李子", "units": 6,
                                 "sales_fen": 5900},
                                {"product_id": p["B2"], "name": "贞丰红茶", "units": 1,
                                 "sales_fen": 1500},
                                {"product_id": p["A2"], "name": "贞丰李干", "units": 10,
                                 "sales_fen": 1500},
                                {"product_id": p["B4"], "name": "贞丰茶饼", "units": 1,
                                 "sales_fen": 700}])
        cls.qingyuan = dict(figures(hm=1600, fi=4000, online=3200, orders=2,
                                    stall_sales=2, units=11, producers=1,
                                    households=30, poor=5),
                            region_code="qingyuan", region_name="庆元县",
                            top_products=[{"product_id": p["Q"], "name": "庆元香菇",
                                           "units": 11, "sales_fen": 8800}])
        cls.yilong = dict(figures(), region_code="yilong", region_name=YILONG,
                          top_products=[])
        cls.totals = figures(hm=5300, cv=5900, ct=4000, fi=5500, online=7700,
                             orders=3, stall_sales=5, units=35, producers=3,
                             households=180, poor=56)
        cls.months = {
            "zhenfeng": [figures(hm=3700, ct=4000, stall_sales=3, units=17,
                                 producers=2, households=150, poor=51),
                         figures(cv=5900, fi=1500, online=4500, orders=2,
                                 stall_sales=2, units=7, producers=2,
                                 households=150, poor=51)],
            "qingyuan": [figures(hm=1600, stall_sales=1, units=2, producers=1,
                                 households=30, poor=5),
                         figures(fi=4000, online=3200, orders=2, stall_sales=1,
                                 units=9, producers=1, households=30, poor=5)],
            "yilong": [figures(), figures()],
        }

    def range(self, frm, to, token=None, extra="", headers=None):
        return self.srv.get("/api/v1/reports/impact?from=%s&to=%s%s" % (frm, to, extra),
                            token=token or self.admin, headers=headers)

    def main_range(self, **kw):
        return self.range(self.P1.isoformat(), self.T.isoformat(), **kw)

    # --- The JSON report ---------------------------------------------

    def test_every_number_of_the_report(self):
        r = self.main_range()
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("application/json"))
        self.assertEqual(r.json, {"from": self.P1.isoformat(), "to": self.T.isoformat(),
                                  "regions": [self.qingyuan, self.yilong, self.zhenfeng],
                                  "totals": self.totals})

    def test_sums_hold(self):
        rep = self.main_range().json
        for reg in rep["regions"] + [rep["totals"]]:
            self.assertEqual(reg["sales_fen"],
                             reg["stall_sales_fen"] + reg["online_sales_fen"])
            self.assertEqual(reg["sales_fen"], sum(reg["by_channel"].values()))
        for k in ("sales_fen", "units", "households", "poor_households"):
            self.assertEqual(rep["totals"][k], sum(g[k] for g in rep["regions"]), k)
        # Sale 1 and order 2 have lines in two regions: once each in totals.
        self.assertEqual(sum(g["stall_sales"] for g in rep["regions"]), 7)
        self.assertEqual(rep["totals"]["stall_sales"], 5)
        self.assertEqual(sum(g["orders"] for g in rep["regions"]), 4)
        self.assertEqual(rep["totals"]["orders"], 3)

    def test_one_region(self):
        r = self.main_range(extra="&region=qingyuan")
        self.assertEqual(r.status, 200, r)
        totals = {k: v for k, v in self.qingyuan.items()
                  if k not in ("region_code", "region_name", "top_products")}
        self.assertEqual(r.json["regions"], [self.qingyuan])
        self.assertEqual(r.json["totals"], totals)

    def test_day_boundary(self):
        # The last day of last month: the sale at 15:30Z (23:30 there) is
        # in; the one at 16:00Z (the next day there) and the voided one are not.
        r = self.range(self.P_last, self.P_last)
        self.assertEqual(r.status, 200, r)
        zf = r.json["regions"][2]
        self.assertEqual({k: zf[k] for k in figures()},
                         figures(hm=3700, stall_sales=2, units=6, producers=2,
                                 households=150, poor=51))
        self.assertEqual([t["product_id"] for t in zf["top_products"]],
                         [self.p["A"], self.p["B4"], self.p["B3"]])
        self.assertEqual(r.json["regions"][0]["sales_fen"], 1600)
        self.assertEqual(r.json["totals"]["stall_sales"], 2)
        # The day before last month: only sale 7, outside the main range.
        r = self.range(self.B_last, self.B_last)
        zf = r.json["regions"][2]
        self.assertEqual({k: zf[k] for k in figures()},
                         figures(hm=7000, stall_sales=1, units=7, producers=1,
                                 households=100, poor=40))
        # A range starting on the day after sale 3's leaves it out.
        r = self.range(self.P1 + datetime.timedelta(days=5), self.T)
        zf = r.json["regions"][2]
        self.assertEqual({k: zf[k] for k in figures()},
                         figures(hm=3700, cv=5900, fi=1500, online=4500, orders=2,
                                 stall_sales=4, units=13, producers=2,
                                 households=150, poor=51))

    def test_months(self):
        r = self.main_range(extra="&group_by=month")
        self.assertEqual(r.status, 200, r)
        names = [self.P1.strftime("%Y-%m"), self.T.strftime("%Y-%m")]
        by_code = {g["region_code"]: g for g in r.json["regions"]}
        for code, want in self.months.items():
            self.assertEqual(by_code[code]["months"],
                             [dict(f, month=m) for f, m in zip(want, names)], code)
            # Without months the rest is the same report.
            rest = dict(by_code[code])
            del rest["months"]
            self.assertEqual(rest, getattr(self, code))
        self.assertEqual(r.json["totals"], self.totals)
        # Months add up to the region, except the producers, which count
        # once over the range.
        for g in r.json["regions"]:
            for k in ("sales_fen", "units", "orders", "stall_sales"):
                self.assertEqual(g[k], sum(m[k] for m in g["months"]), k)

    # --- CSV ---------------------------------------------------------

    def parse_csv(self, r):
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/csv"), r.headers)
        self.assertEqual(r.header("content-disposition"),
                         'attachment; filename="impact-%s-%s.csv"' % (
                             self.P1.isoformat(), self.T.isoformat()))
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))
        text = r.body.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text, newline="")))

    def test_csv_round_trip(self):
        as_json = self.main_range().json
        for r in (self.main_range(extra="&format=csv"),
                  self.main_range(headers={"Accept": "text/csv"})):
            rows = self.parse_csv(r)
            self.assertEqual(rows[0], ["region_code", "region_name"] + list(SCALARS))
            self.assertEqual(len(rows), 1 + len(as_json["regions"]))  # no totals row
            for row, reg in zip(rows[1:], as_json["regions"]):
                got = dict(zip(rows[0], row))
                self.assertEqual(got["region_code"], reg["region_code"])
                self.assertEqual(got["region_name"], reg["region_name"])
                self.assertEqual({k: got[k] for k in SCALARS}, flat(reg))
        # The quoted name survives byte for byte.
        self.assertIn(b'"\xe4\xb9\x89\xe9\xbe\x99 ""Yilong"", \xe6\x96\xb0\xe5\x8c\xba"',
                      r.body)
        # ?format=json wins over Accept.
        r = self.main_range(extra="&format=json", headers={"Accept": "text/csv"})
        self.assertEqual(r.json, as_json)

    def test_csv_by_month(self):
        rows = self.parse_csv(self.main_range(extra="&format=csv&group_by=month"))
        self.assertEqual(rows[0], ["region_code", "region_name", "month"] + list(SCALARS))
        names = [self.P1.strftime("%Y-%m"), self.T.strftime("%Y-%m")]
        want = [[code, name, m] + [flat(f)[k] for k in SCALARS]
                for code, name in (("qingyuan", "庆元县"), ("yilong", YILONG),
                                   ("zhenfeng", "贞丰县"))
                for f, m in zip(self.months[code], names)]
        self.assertEqual(rows[1:], want)

    # --- Scope -------------------------------------------------------

    def test_scoped_coordinator(self):
        r = self.main_range(token=self.scoped)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["regions"], [self.zhenfeng])
        self.assertEqual(r.json["totals"]["sales_fen"], 19600)
        self.assertEqual(r.json["totals"]["stall_sales"], 5)
        self.assertEqual(self.main_range(token=self.scoped, extra="&region=zhenfeng").json,
                         r.json)
        rows = self.parse_csv(self.main_range(token=self.scoped, extra="&format=csv"))
        self.assertEqual([row[0] for row in rows[1:]], ["zhenfeng"])
        for region in ("qingyuan", "yilong", "nowhere"):
            self.assertProblem(self.main_range(token=self.scoped,
                                               extra="&region=" + region),
                               403, "forbidden")
        # An unscoped coordinator sees every region.
        self.assertEqual(len(self.main_range(token=self.coord).json["regions"]), 3)

    def test_who_may_not(self):
        self.assertProblem(self.srv.get("/api/v1/reports/impact?from=2026-01-01&to=2026-01-31"),
                           401, "unauthorized")
        for tok in (self.buyer, self.op1):
            self.assertProblem(self.range("2026-01-01", "2026-01-31", token=tok),
                               403, "forbidden")

    # --- Errors ------------------------------------------------------

    def test_errors(self):
        get = self.srv.get
        cases = [
            ("", "from"),
            ("?to=2026-01-31", "from"),
            ("?from=2026-01-01", "to"),
            ("?from=2026-13-01&to=2026-12-31", "from"),
            ("?from=20260101&to=2026-12-31", "from"),
            ("?from=2026-01-01&to=2026-02-30", "to"),
            ("?from=2026-01-01&to=tomorrow", "to"),
            ("?from=2026-02-01&to=2026-01-31", "from"),
            ("?from=2020-01-01&to=2023-01-01", "to"),
            ("?from=2020-01-01&to=2026-01-01", "to"),
            ("?from=2026-01-01&to=2026-01-31&region=nowhere", "region"),
            ("?from=2026-01-01&to=2026-01-31&format=xml", "format"),
            ("?from=2026-01-01&to=2026-01-31&group_by=week", "group_by"),
        ]
        before = self.main_range().json
        for query, field in cases:
            with self.subTest(query=query):
                self.assertProblem(get("/api/v1/reports/impact" + query, token=self.admin),
                                   400, "validation_failed", field)
        # Exactly three years is allowed.
        r = self.range("2020-01-01", "2022-12-31")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["totals"]["sales_fen"], 0)
        # Nothing changed.
        self.assertEqual(self.main_range().json, before)
        self.assertEqual(self.srv.ctl("check").returncode, 0)

    # --- Close-out ---------------------------------------------------

    def closeout(self, day, token):
        return self.srv.get("/api/v1/reports/market-days/%s" % day, token=token)

    def stall_a1(self):
        return {"stall_id": self.a1, "label": "A1", "sales": 2, "total_fen": 11600,
                "by_payment": {"cash": 11600, "wechat": 0, "alipay": 0, "card": 0,
                               "other": 0},
                "products": [{"product_id": self.p["A"], "name": "贞丰李子",
                              "units": 10, "sales_fen": 10000},
                             {"product_id": self.p["Q"], "name": "庆元香菇",
                              "units": 2, "sales_fen": 1600}]}

    def stall_a2(self):
        return {"stall_id": self.a2, "label": "A2", "sales": 1, "total_fen": 700,
                "by_payment": {"cash": 0, "wechat": 0, "alipay": 0, "card": 0,
                               "other": 700},
                "products": [{"product_id": self.p["B3"], "name": "贞丰茶包",
                              "units": 2, "sales_fen": 0},
                             {"product_id": self.p["B4"], "name": "贞丰茶饼",
                              "units": 1, "sales_fen": 700}]}

    def stall_f2(self):
        return {"stall_id": self.f2, "label": "F2", "sales": 0, "total_fen": 0,
                "by_payment": {"cash": 0, "wechat": 0, "alipay": 0, "card": 0,
                               "other": 0}, "products": []}

    def test_closeout_staff(self):
        day = check(self.srv.get("/api/v1/market-days/%d" % self.d_hm), 200)
        for tok in (self.admin, self.coord):
            r = self.closeout(self.d_hm, tok)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, {"market_day": day,
                                      "stalls": [self.stall_a1(), self.stall_a2()],
                                      "pickups": {"total": 0, "fulfilled": 0,
                                                  "outstanding": 0}})
        r = self.closeout(self.d_fi, self.admin)
        self.assertEqual(r.json["stalls"], [
            {"stall_id": self.f1, "label": "F1", "sales": 1, "total_fen": 5500,
             "by_payment": {"cash": 0, "wechat": 0, "alipay": 0, "card": 5500,
                            "other": 0},
             "products": [{"product_id": self.p["B2"], "name": "贞丰红茶", "units": 1,
                           "sales_fen": 1500},
                          {"product_id": self.p["Q"], "name": "庆元香菇", "units": 5,
                           "sales_fen": 4000}]},
            self.stall_f2()])
        # Orders 1 (placed), 3 (ready), 4 (fulfilled); 6 is cancelled.
        self.assertEqual(r.json["pickups"], {"total": 3, "fulfilled": 1, "outstanding": 2})

    def test_closeout_operator_sees_own_stalls(self):
        r = self.closeout(self.d_hm, self.op1)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["stalls"], [self.stall_a1()])
        r = self.closeout(self.d_hm, self.op2)
        self.assertEqual(r.json["stalls"], [self.stall_a2()])
        r = self.closeout(self.d_fi, self.op2)
        self.assertEqual(r.json["stalls"], [self.stall_f2()])
        self.assertEqual(r.json["pickups"], {"total": 3, "fulfilled": 1, "outstanding": 2})
        # No stall that day.
        self.assertProblem(self.closeout(self.d_hm, self.op3), 403, "forbidden")
        self.assertProblem(self.closeout(self.d_ct, self.op2), 403, "forbidden")

    def test_closeout_scoped_coordinator(self):
        r = self.closeout(self.d_hm, self.scoped)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["stalls"], [self.stall_a1()])
        r = self.closeout(self.d_fi, self.scoped)
        self.assertEqual(r.json["stalls"], [self.stall_f2()])
        # Orders 1 and 3 have a Zhenfeng line; 4 has only mushrooms.
        self.assertEqual(r.json["pickups"], {"total": 2, "fulfilled": 0, "outstanding": 2})

    def test_closeout_errors(self):
        for day in ("999999", "0", "abc", "-1"):
            with self.subTest(day=day):
                self.assertProblem(self.closeout(day, self.admin), 404, "not_found")
                self.assertProblem(self.closeout(day, self.op1), 404, "not_found")
        self.assertProblem(self.closeout(self.d_hm, None), 401, "unauthorized")
        self.assertProblem(self.closeout(self.d_hm, self.buyer), 403, "forbidden")
        # A scoped coordinator with no stall of its region that day.
        self.assertProblem(self.closeout(self.d_q, self.scoped), 403, "forbidden")
        self.assertEqual(self.closeout(self.d_q, self.coord).status, 200)

    # --- marketctl report ------------------------------------------

    def test_marketctl_report_equals_the_api(self):
        frm, to = self.P1.isoformat(), self.T.isoformat()
        for extra, args in (("", []), ("&region=zhenfeng", ["--region", "zhenfeng"]),
                            ("&group_by=month", ["--group-by", "month"])):
            with self.subTest(args=args):
                p = self.srv.ctl("report", "--from", frm, "--to", to, *args)
                self.assertEqual(json.loads(p.stdout.decode()),
                                 self.range(frm, to, extra=extra).json)
                p = self.srv.ctl("report", "--from", frm, "--to", to, "--csv", *args)
                self.assertEqual(p.stdout,
                                 self.range(frm, to, extra=extra + "&format=csv").body)
        p = self.srv.ctl("report", "--from", to, "--to", frm, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--from", p.stderr)
        p = self.srv.ctl("report", "--from", frm, "--to", to, "--region", "nowhere",
                         check=False)
        self.assertEqual(p.returncode, 2)
        p = self.srv.ctl("report", "--from", frm, check=False)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    harness.main()
