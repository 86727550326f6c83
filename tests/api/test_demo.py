"""The demo database (marketctl demo, what tools/demo serves) shows the
whole system at once, as shared/DOMAIN.md describes it."""
import subprocess
import urllib.parse

import harness


def walk(srv, path, token=None):
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        r = srv.get(path + sep + "limit=200" + ("&cursor=" + cursor if cursor else ""),
                    token=token)
        assert r.status == 200, r
        items += r.json["items"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return items


class Demo(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server()
        p = subprocess.run([harness.MARKETCTL, "--db", cls.srv.db, "demo"],
                           capture_output=True, check=True)
        cls.users = {}
        for line in p.stdout.decode().splitlines():
            name, password, role = line.split()[:3]
            cls.users[name] = (password, role)
        cls.srv.start()

    def test_one_user_of_each_role_can_log_in(self):
        roles = sorted(role for name, (_, role) in self.users.items()
                       if not name.startswith("canteen_"))
        self.assertEqual(roles, ["admin", "buyer", "coordinator", "coordinator", "operator"])
        # The institutions' canteen buyers.
        self.assertEqual(sorted(role for name, (_, role) in self.users.items()
                                if name.startswith("canteen_")), ["buyer"] * 3)
        for name, (password, role) in self.users.items():
            r = self.srv.post("/api/v1/auth/login", {"username": name, "password": password})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["user"]["role"], role)
        me = self.srv.get("/api/v1/me", token=self.srv.login(
            "coord_zhenfeng", self.users["coord_zhenfeng"][0])).json
        self.assertEqual(me["region_code"], "zhenfeng")

    def test_regions_producers_products(self):
        regions = {r["code"]: r for r in walk(self.srv, "/api/v1/regions")}
        self.assertEqual(set(regions), {"zhenfeng", "yilong", "qingyuan", "xinjiang"})
        self.assertEqual(regions["zhenfeng"]["name"], "贞丰县")
        self.assertEqual(regions["qingyuan"]["partnership"], "mountain_sea")
        self.assertEqual(regions["xinjiang"]["partnership"], "other")
        kinds = {p["kind"] for p in walk(self.srv, "/api/v1/producers")}
        self.assertEqual(kinds, {"cooperative", "enterprise", "association", "household",
                                 "workshop"})
        names = {p["name"] for p in walk(self.srv, "/api/v1/products")}
        for want in ("贞丰李子", "新疆灰枣", "贵州大米", "贞丰绿茶"):
            self.assertIn(want, names)
        q = urllib.parse.quote("贞丰")
        found = walk(self.srv, "/api/v1/products?q=" + q)
        self.assertTrue(found)
        self.assertTrue(all("贞丰" in p["name"] for p in found))

    def test_a_year_of_market_days(self):
        days = walk(self.srv, "/api/v1/market-days?from=2026-01-01&to=2026-12-31")
        fair = [d for d in days if d["channel"] == "holiday_market"]
        caravan = [d for d in days if d["channel"] == "caravan"]
        self.assertEqual(len(fair), 64)
        self.assertEqual({d["venue_name"] for d in fair}, {"鼓楼步行街（鼓楼沿）"})
        self.assertEqual(len(caravan), 47)
        self.assertEqual(caravan[0]["venue_name"], "白云庄社区")
        venues = {v["id"]: v for v in walk(self.srv, "/api/v1/venues")}
        stops = {d["venue_id"] for d in caravan}
        self.assertEqual(len(stops), 47)
        self.assertEqual(len({venues[v]["subdistrict"] for v in stops}), 8)
        self.assertTrue({"counter", "five_into"} <= {d["channel"] for d in days})

    def test_institutions_payouts_and_pick_lists(self):
        import datetime
        admin = self.srv.login("admin", self.users["admin"][0])
        kinds = {i["kind"] for i in walk(self.srv, "/api/v1/institutions", token=admin)}
        self.assertEqual(kinds, {"agency", "enterprise", "school", "hospital", "community"})
        rep = self.srv.get("/api/v1/reports/procurement", token=admin).json
        rows = rep["institutions"]
        self.assertGreaterEqual(len(rows), 5)
        self.assertTrue(any(r["on_track"] for r in rows), rows)
        self.assertTrue(any(not r["on_track"] for r in rows), rows)
        self.assertTrue(any(r["orders"] > 0 for r in rows), rows)
        self.assertTrue(any(r["five_into_sales_fen"] > 0 for r in rows), rows)
        # The demo buyer is a member: it sees its institution.
        buyer = self.srv.login("buyer", self.users["buyer"][0])
        me = self.srv.get("/api/v1/me", token=buyer).json
        self.assertIsNotNone(me["institution_id"])
        self.assertEqual(self.srv.get("/api/v1/institutions/%d" % me["institution_id"],
                                      token=buyer).status, 200)
        # Payouts to several producers, one a correction.
        paid, corrections = 0, 0
        for p in walk(self.srv, "/api/v1/producers"):
            got = walk(self.srv, "/api/v1/producers/%d/payouts" % p["id"], token=admin)
            paid += bool(got)
            corrections += sum(1 for x in got if x["amount_fen"] < 0 and x["note"])
        self.assertGreaterEqual(paid, 3)
        self.assertEqual(corrections, 1)
        # Pick lists for the coming market days.
        today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
        days = walk(self.srv, "/api/v1/market-days?from=%s" % today.isoformat())
        orders = 0
        for d in days[:10]:
            r = self.srv.get("/api/v1/market-days/%d/picklist" % d["id"], token=admin)
            self.assertEqual(r.status, 200, r)
            orders += len(r.json["orders"])
        self.assertGreater(orders, 0)
        p = subprocess.run([harness.MARKETCTL, "--db", self.srv.db, "check"],
                           capture_output=True)
        self.assertEqual(p.returncode, 0, p.stdout)

    def test_sales_and_a_sound_ledger(self):
        op = self.srv.login("operator", self.users["operator"][0])
        sales = walk(self.srv, "/api/v1/sales", token=op)
        self.assertGreaterEqual(len(sales), 200)
        months = {s["recorded_at"][:7] for s in sales}
        self.assertGreaterEqual(len(months), 6)
        for s in sales:
            self.assertEqual(s["total_fen"], sum(l["amount_fen"] for l in s["lines"]))
        self.assertTrue(walk(self.srv, "/api/v1/stalls/mine", token=op))
        self.assertEqual(self.srv.ctl("check").returncode, 0)


if __name__ == "__main__":
    harness.main()
