"""Institutions and their reserved procurement shares (API.md 1.1):
institutions of every kind, yearly plans (reserved_fen = ceil(budget *
share / 10000) in 64-bit integers, an 85-million-yuan budget and the
largest one without overflow), members (institution_id only on buyers;
a member sees its own institution only; its orders carry it), and the
progress report: purchased_fen of paid, ready and fulfilled orders,
completion_bp floored, expected_fen prorated by day in Asia/Shanghai
(leap years, 1 January, 31 December), on_track, five-into stall sales at
the institution's venue, the order of rows, totals, CSV, every error,
and the audit log."""
import datetime
import itertools
import json
import uuid

import harness
from orders_fixture import SHANGHAI, Shop, check, day

INT64_MAX = 2 ** 63 - 1
_n = itertools.count(1)


def today():
    return datetime.datetime.now(SHANGHAI).date()


class Institutions(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = Shop(cls.srv)
        cls.admin = cls.shop.admin
        cls.coord = cls.shop.coord
        cls.canteen = check(cls.srv.post("/api/v1/venues", {
            "name": "区政府食堂", "kind": "institution", "subdistrict": "鼓楼街道"},
            token=cls.admin))["id"]

    def put(self, path, body, token=None):
        return self.srv.request("PUT", path, body=body, token=token or self.admin)

    def institution(self, kind="agency", venue=None, name=None):
        body = {"name": name or "海曙区机关 %d" % next(_n), "kind": kind,
                "subdistrict": "鼓楼街道"}
        if venue is not None:
            body["venue_id"] = venue
        return check(self.srv.post("/api/v1/institutions", body, token=self.coord))

    def plan(self, inst, year, budget, bp=None):
        body = {"food_budget_fen": budget}
        if bp is not None:
            body["reserved_share_bp"] = bp
        return check(self.put("/api/v1/institutions/%d/plans/%d" % (inst, year), body), 200)

    def report(self, query="", token=None):
        return check(self.srv.get("/api/v1/reports/procurement" + query,
                                  token=token or self.coord), 200)

    def member(self, inst):
        name = "member%d" % next(_n)
        tok = self.srv.user(name, "buyer")
        uid = self.shop.me(tok)
        check(self.srv.patch("/api/v1/users/%d" % uid, {"institution_id": inst},
                             token=self.admin), 200)
        return tok, uid

    # --- institutions ---------------------------------------------------
    def test_every_kind_round_trips(self):
        for kind in ("agency", "enterprise", "school", "hospital", "community"):
            i = self.institution(kind, name="海曙区第一医院 " + kind)
            self.assertEqual(i["kind"], kind)
            self.assertEqual(i["name"], "海曙区第一医院 " + kind)
            self.assertIsNone(i["venue_id"])
            self.assertEqual(check(self.srv.get("/api/v1/institutions/%d" % i["id"],
                                                token=self.admin), 200), i)
        schools = check(self.srv.get("/api/v1/institutions?kind=school&limit=200",
                                     token=self.coord), 200)["items"]
        self.assertTrue(schools)
        self.assertEqual({s["kind"] for s in schools}, {"school"})

    def test_create_and_patch_rules(self):
        post = lambda body: self.srv.post("/api/v1/institutions", body, token=self.coord)
        good = {"name": "学校", "kind": "school", "subdistrict": "白云街道"}
        self.assertProblem(post({**good, "kind": "bank"}), 400, "validation_failed", "kind")
        self.assertProblem(post({**good, "name": ""}), 400, "validation_failed", "name")
        self.assertProblem(post({k: v for k, v in good.items() if k != "subdistrict"}),
                           400, "validation_failed", "subdistrict")
        self.assertProblem(post({**good, "venue_id": self.shop.venue}), 400,
                           "validation_failed", "venue_id")  # a street market
        self.assertProblem(post({**good, "venue_id": 999999}), 400,
                           "validation_failed", "venue_id")
        self.assertProblem(post({**good, "venue_id": "1"}), 400, "validation_failed",
                           "venue_id")
        i = check(post({**good, "venue_id": self.canteen}))
        self.assertEqual(i["venue_id"], self.canteen)
        r = self.srv.patch("/api/v1/institutions/%d" % i["id"],
                           {"name": "海曙中学", "venue_id": None}, token=self.coord)
        self.assertEqual(check(r, 200), {**i, "name": "海曙中学", "venue_id": None})
        self.assertProblem(self.srv.patch("/api/v1/institutions/%d" % i["id"],
                                          {"kind": "x"}, token=self.coord),
                           400, "validation_failed", "kind")
        self.assertProblem(self.srv.patch("/api/v1/institutions/999999", {"name": "x"},
                                          token=self.coord), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/institutions/999999", token=self.coord),
                           404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/institutions?kind=bank",
                                        token=self.coord), 400, "validation_failed", "kind")
        # Unchanged by the refused patch.
        self.assertEqual(check(self.srv.get("/api/v1/institutions/%d" % i["id"],
                                            token=self.coord), 200)["kind"], "school")

    def test_http_errors(self):
        self.assertProblem(self.srv.request("DELETE", "/api/v1/institutions/1",
                                            token=self.admin), 405, "method_not_allowed")
        self.assertProblem(self.srv.request("POST", "/api/v1/institutions", raw=b"{}",
                                            token=self.admin,
                                            headers={"Content-Type": "text/plain"}),
                           415, "unsupported_media_type")
        self.assertProblem(self.srv.request("POST", "/api/v1/institutions", raw=b"{",
                                            token=self.admin), 400, "bad_json")
        self.assertProblem(self.srv.get("/api/v1/institutions"), 401, "unauthorized")
        self.assertProblem(self.srv.get("/api/v1/institutions", token=self.shop.op),
                           403, "forbidden")
        self.assertProblem(self.srv.get("/api/v1/reports/procurement",
                                        token=self.shop.buyer), 403, "forbidden")
        self.assertProblem(self.put("/api/v1/institutions/1/plans/2026",
                                    {"food_budget_fen": 1}, token=self.shop.op),
                           403, "forbidden")

    # --- plans ----------------------------------------------------------
    def test_plan_reserved_fen_is_ceil_in_64_bits(self):
        i = self.institution("hospital")["id"]
        p = self.plan(i, 2026, 12345)  # the default share, 10 %
        self.assertEqual(p, {"institution_id": i, "year": 2026, "food_budget_fen": 12345,
                             "reserved_share_bp": 1000, "reserved_fen": 1235})
        self.assertEqual(self.plan(i, 2026, 12340)["reserved_fen"], 1234)  # exact
        self.assertEqual(self.plan(i, 2026, 1, 1)["reserved_fen"], 1)      # ceil
        self.assertEqual(self.plan(i, 2026, 0, 1500)["reserved_fen"], 0)
        # 85 million yuan at 15 %.
        p = self.plan(i, 2026, 8_500_000_000, 1500)
        self.assertEqual(p["reserved_fen"], 1_275_000_000)
        # The largest budget: no overflow, exact.
        self.assertEqual(self.plan(i, 2026, INT64_MAX, 10000)["reserved_fen"], INT64_MAX)
        self.assertEqual(self.plan(i, 2026, INT64_MAX, 1)["reserved_fen"],
                         -(-INT64_MAX // 10000))
        self.assertEqual(self.plan(i, 2026, INT64_MAX, 9999)["reserved_fen"],
                         -(-INT64_MAX * 9999 // 10000))
        # Replaced, not added: one plan a year, listed by year.
        self.plan(i, 2027, 500)
        self.plan(i, 2025, 700, 2000)
        plans = check(self.srv.get("/api/v1/institutions/%d/plans" % i,
                                   token=self.coord), 200)
        self.assertEqual([p["year"] for p in plans["items"]], [2025, 2026, 2027])
        self.assertEqual(plans["items"][0]["reserved_fen"], 140)
        page = check(self.srv.get("/api/v1/institutions/%d/plans?limit=2" % i,
                                  token=self.coord), 200)
        self.assertEqual(len(page["items"]), 2)
        rest = check(self.srv.get("/api/v1/institutions/%d/plans?cursor=%s" % (
            i, page["next_cursor"]), token=self.coord), 200)
        self.assertEqual([p["year"] for p in rest["items"]], [2027])

    def test_plan_errors_change_nothing(self):
        i = self.institution()["id"]
        self.plan(i, 2026, 1000, 1000)
        path = "/api/v1/institutions/%d/plans/" % i
        for year, body, field in (
                ("1999", {"food_budget_fen": 1}, "year"),
                ("2101", {"food_budget_fen": 1}, "year"),
                ("abc", {"food_budget_fen": 1}, "year"),
                ("2026", {}, "food_budget_fen"),
                ("2026", {"food_budget_fen": -1}, "food_budget_fen"),
                ("2026", {"food_budget_fen": 1.5}, "food_budget_fen"),
                ("2026", {"food_budget_fen": 2 ** 64}, "food_budget_fen"),
                ("2026", {"food_budget_fen": "100"}, "food_budget_fen"),
                ("2026", {"food_budget_fen": 1, "reserved_share_bp": 0}, "reserved_share_bp"),
                ("2026", {"food_budget_fen": 1, "reserved_share_bp": 10001},
                 "reserved_share_bp")):
            with self.subTest(year=year, body=body):
                self.assertProblem(self.put(path + year, body), 400, "validation_failed",
                                   field)
        self.assertProblem(self.put("/api/v1/institutions/999999/plans/2026",
                                    {"food_budget_fen": 1}), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/institutions/999999/plans",
                                        token=self.coord), 404, "not_found")
        plans = check(self.srv.get("/api/v1/institutions/%d/plans" % i,
                                   token=self.coord), 200)["items"]
        self.assertEqual(plans, [{"institution_id": i, "year": 2026, "food_budget_fen": 1000,
                                  "reserved_share_bp": 1000, "reserved_fen": 100}])

    # --- members ----------------------------------------------------------
    def test_members(self):
        mine = self.institution("school")["id"]
        other = self.institution("school")["id"]
        self.plan(mine, 2026, 100)
        tok, uid = self.member(mine)
        me = check(self.srv.get("/api/v1/me", token=tok), 200)
        self.assertEqual(me["institution_id"], mine)
        # A member sees its own institution and plans only.
        self.assertEqual(check(self.srv.get("/api/v1/institutions/%d" % mine, token=tok),
                               200)["id"], mine)
        self.assertEqual(len(check(self.srv.get("/api/v1/institutions/%d/plans" % mine,
                                                token=tok), 200)["items"]), 1)
        self.assertProblem(self.srv.get("/api/v1/institutions/%d" % other, token=tok),
                           404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/institutions/%d/plans" % other,
                                        token=tok), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/institutions/%d" % mine,
                                        token=self.shop.buyer2), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/institutions", token=tok), 403,
                           "forbidden")
        # Only a buyer may be a member.
        op_id = self.shop.op_id
        self.assertProblem(self.srv.patch("/api/v1/users/%d" % op_id,
                                          {"institution_id": mine}, token=self.admin),
                           400, "validation_failed", "institution_id")
        self.assertProblem(self.srv.patch("/api/v1/users/%d" % uid, {"role": "operator"},
                                          token=self.admin),
                           400, "validation_failed", "institution_id")
        self.assertProblem(self.srv.patch("/api/v1/users/%d" % uid,
                                          {"institution_id": 999999}, token=self.admin),
                           400, "validation_failed", "institution_id")
        self.assertProblem(self.srv.patch("/api/v1/users/%d" % uid,
                                          {"institution_id": "x"}, token=self.admin),
                           400, "validation_failed", "institution_id")
        self.assertEqual(check(self.srv.get("/api/v1/me", token=tok), 200)["role"], "buyer")
        # Its orders carry the institution; others' carry null.
        product = self.shop.product(1000, 50)
        o = self.shop.placed([(product, 1)], token=tok)
        self.assertEqual(o["institution_id"], mine)
        self.assertEqual(check(self.shop.get(o["id"]), 200)["institution_id"], mine)
        o2 = self.shop.placed([(product, 1)])
        self.assertIsNone(o2["institution_id"])
        # Leaving the institution: its later orders are its own again.
        u = check(self.srv.patch("/api/v1/users/%d" % uid, {"institution_id": None},
                                 token=self.admin), 200)
        self.assertIsNone(u["institution_id"])
        self.assertIsNone(self.shop.placed([(product, 1)], token=tok)["institution_id"])
        self.assertEqual(check(self.shop.get(o["id"]), 200)["institution_id"], mine)

    # --- the progress report --------------------------------------------
    def test_progress(self):
        year = today().year
        behind = self.institution("hospital")["id"]
        ahead = self.institution("enterprise", venue=self.canteen)["id"]
        nothing = self.institution("community")["id"]
        unplanned = self.institution("agency")["id"]
        self.plan(behind, year, 1_000_000)          # reserved 100,000
        self.plan(ahead, year, 30_001, 1500)        # reserved ceil(4500.15) = 4501
        self.plan(nothing, year, 0)                 # reserved 0: complete
        tb, _ = self.member(behind)
        ta, _ = self.member(ahead)
        tu, _ = self.member(unplanned)
        product = self.shop.product(1500, 1000)
        # behind: one paid (3 x 15.00), one fulfilled-track ready, one
        # placed (not counted), one cancelled after paying (not counted).
        p1 = self.shop.paid(self.shop.placed([(product, 3)], token=tb))
        p2 = self.shop.paid(self.shop.placed([(product, 2)], token=tb))
        check(self.shop.act(p2["id"], "ready", self.admin), 200)
        self.shop.placed([(product, 7)], token=tb)
        p4 = self.shop.paid(self.shop.placed([(product, 5)], token=tb))
        check(self.shop.act(p4["id"], "cancel", self.admin), 200)
        # ahead: 4 x 15.00 = 6000 >= 4501.
        self.shop.paid(self.shop.placed([(product, 4)], token=ta))
        self.shop.paid(self.shop.placed([(product, 9)], token=tu))
        # A five-into day at ahead's canteen: one sale counted, one voided.
        md = check(self.srv.post("/api/v1/market-days", {
            "venue_id": self.canteen, "date": day(0), "opens_at": "00:00",
            "closes_at": "23:59", "channel": "five_into"}, token=self.admin))["id"]
        stall = self.shop.add_stall(md, self.shop.op_id, "F1")
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        sales = []
        for q in (2, 3):
            sales.append(check(self.srv.post("/api/v1/sales", {
                "id": str(uuid.uuid4()), "stall_id": stall, "recorded_at": now,
                "payment": "cash", "lines": [{"product_id": product, "quantity": q}]},
                token=self.shop.op)))
        check(self.srv.post("/api/v1/sales/%s/void" % sales[1]["id"], {"reason": "错"},
                            token=self.shop.op), 200)

        rep = self.report("?as_of=%d-12-31" % year)
        self.assertEqual(rep["year"], year)
        self.assertEqual(rep["as_of"], "%d-12-31" % year)
        rows = {r["institution_id"]: r for r in rep["institutions"]}
        self.assertNotIn(unplanned, rows)
        b = rows[behind]
        self.assertEqual(b["purchased_fen"], 7500)
        self.assertEqual(b["orders"], 2)
        self.assertEqual(b["reserved_fen"], 100_000)
        self.assertEqual(b["completion_bp"], 750)          # floor(7500 * 10000 / 100000)
        self.assertEqual(b["expected_fen"], 100_000)       # 31 December: the whole year
        self.assertFalse(b["on_track"])
        self.assertEqual(b["five_into_sales_fen"], 0)
        self.assertEqual(b["kind"], "hospital")
        a = rows[ahead]
        self.assertEqual(a["reserved_fen"], 4501)
        self.assertEqual(a["purchased_fen"], 6000)
        self.assertEqual(a["completion_bp"], 6000 * 10000 // 4501)  # 13330, floored
        self.assertTrue(a["on_track"])
        self.assertEqual(a["five_into_sales_fen"], 3000)   # the voided sale is out
        n = rows[nothing]
        self.assertEqual((n["reserved_fen"], n["completion_bp"], n["expected_fen"],
                          n["on_track"]), (0, 10000, 0, True))
        # Furthest behind first, then by id.
        keys = [(r["completion_bp"], r["institution_id"]) for r in rep["institutions"]]
        self.assertEqual(keys, sorted(keys))
        t = rep["totals"]
        self.assertEqual(t["institutions"], len(rep["institutions"]))
        self.assertEqual(t["on_track"], sum(r["on_track"] for r in rep["institutions"]))
        self.assertEqual(t["reserved_fen"], sum(r["reserved_fen"] for r in rep["institutions"]))
        self.assertEqual(t["purchased_fen"],
                         sum(r["purchased_fen"] for r in rep["institutions"]))
        # 1 January counts one day of the year.
        days = 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365
        rep = self.report("?as_of=%d-01-01" % year)
        b = {r["institution_id"]: r for r in rep["institutions"]}[behind]
        self.assertEqual(b["expected_fen"], 100_000 // days)
        self.assertTrue(b["on_track"])  # 7500 >= 273
        # Today by default.
        rep = self.report()
        self.assertEqual(rep["as_of"], today().isoformat())
        elapsed = (today() - datetime.date(year, 1, 1)).days + 1
        b = {r["institution_id"]: r for r in rep["institutions"]}[behind]
        self.assertEqual(b["expected_fen"], 100_000 * elapsed // days)
        # kind filters.
        rep = self.report("?kind=enterprise&as_of=%d-06-30" % year)
        self.assertEqual({r["kind"] for r in rep["institutions"]}, {"enterprise"})
        self.assertIn(ahead, [r["institution_id"] for r in rep["institutions"]])

    def test_prorated_in_leap_and_common_years(self):
        i = self.institution("school")["id"]
        self.plan(i, 2024, 3_660_000)  # reserved 366,000: 1,000 a day in 2024
        self.plan(i, 2025, 3_650_000)  # reserved 365,000: 1,000 a day in 2025
        self.plan(i, 2026, 8_500_000_000, 1500)  # 85 million yuan, 15 %

        def row(year, as_of):
            rep = self.report("?year=%d&as_of=%s" % (year, as_of))
            return {r["institution_id"]: r for r in rep["institutions"]}[i]

        self.assertEqual(row(2024, "2024-01-01")["expected_fen"], 1000)
        self.assertEqual(row(2024, "2024-02-29")["expected_fen"], 60_000)
        self.assertEqual(row(2024, "2024-03-01")["expected_fen"], 61_000)
        self.assertEqual(row(2024, "2024-12-30")["expected_fen"], 365_000)
        self.assertEqual(row(2024, "2024-12-31")["expected_fen"], 366_000)
        self.assertEqual(row(2025, "2025-03-01")["expected_fen"], 60_000)
        self.assertEqual(row(2025, "2025-12-31")["expected_fen"], 365_000)
        # A past year expects all of it, a future year nothing.
        self.assertEqual(row(2024, "2025-06-01")["expected_fen"], 366_000)
        self.assertFalse(row(2024, "2025-06-01")["on_track"])
        self.assertEqual(row(2025, "2024-06-01")["expected_fen"], 0)
        self.assertTrue(row(2025, "2024-06-01")["on_track"])
        # 85 million yuan: reserved 1,275,000,000 fen, prorated exactly.
        r = row(2026, "2026-07-02")
        self.assertEqual(r["reserved_fen"], 1_275_000_000)
        self.assertEqual(r["expected_fen"], 1_275_000_000 * 183 // 365)
        self.assertEqual(r["completion_bp"], 0)

    def test_report_errors_and_csv(self):
        for query, field in (("?year=1999", "year"), ("?year=x", "year"),
                             ("?as_of=2026-02-30", "as_of"), ("?kind=bank", "kind"),
                             ("?format=xml", "format")):
            with self.subTest(query=query):
                self.assertProblem(self.srv.get("/api/v1/reports/procurement" + query,
                                                token=self.coord),
                                   400, "validation_failed", field)
        i = self.institution("agency", name='海曙区"机关", 一号')["id"]
        self.plan(i, 2030, 1000)
        r = self.srv.get("/api/v1/reports/procurement?year=2030&format=csv",
                         token=self.coord)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/csv"))
        self.assertIn("attachment", r.header("content-disposition"))
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))
        lines = r.body[3:].decode().split("\r\n")
        self.assertEqual(lines[0], "institution_id,name,kind,food_budget_fen,"
                         "reserved_share_bp,reserved_fen,purchased_fen,completion_bp,"
                         "expected_fen,on_track,orders,five_into_sales_fen")
        self.assertEqual(lines[1], '%d,"海曙区""机关"", 一号",agency,1000,1000,100,0,0,0,'
                         'true,0,0' % i)
        self.assertEqual(lines[2:], [""])
        r = self.srv.get("/api/v1/reports/procurement?year=2030",
                         token=self.coord, headers={"Accept": "text/csv"})
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))
        # The JSON is written as text, not through jansson: quotes and
        # backslashes in a name are escaped, Chinese stays as it is, and
        # it says what marketctl's report (built with jansson) says.
        j = self.institution("school", name='鄞州"实验"\\小学 ①')["id"]
        self.plan(j, 2030, 2000)
        r = self.srv.get("/api/v1/reports/procurement?year=2030&as_of=2030-07-01",
                         token=self.coord)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json; charset=utf-8")
        self.assertIn('"name":"鄞州\\"实验\\"\\\\小学 ①"'.encode(), r.body)
        names = {x["institution_id"]: x["name"] for x in r.json["institutions"]}
        self.assertEqual(names[j], '鄞州"实验"\\小学 ①')
        p = self.srv.ctl("report", "procurement", "--year", "2030", "--as-of", "2030-07-01")
        self.assertEqual(json.loads(p.stdout), r.json)

    def test_writes_are_audited(self):
        i = self.institution("hospital")["id"]
        check(self.srv.patch("/api/v1/institutions/%d" % i, {"name": "海曙区中医院"},
                             token=self.coord), 200)
        self.plan(i, 2026, 100)
        log = check(self.srv.get("/api/v1/audit?limit=200", token=self.admin), 200)["items"]
        got = {(e["action"], e["object_type"], str(e["object_id"])) for e in log}
        self.assertIn(("POST /api/v1/institutions", "institution", str(i)), got)
        self.assertIn(("PATCH /api/v1/institutions/{id}", "institution", str(i)), got)
        self.assertIn(("PUT /api/v1/institutions/{id}/plans/{year}", "plan",
                       "%d/2026" % i), got)

    def test_zz_check_passes(self):
        self.shop.check_ledger()

    def test_zz_rollup_corrupted_fails_check_and_is_repaired(self):
        # The report reads the procurement rollup: a row changed or
        # deleted behind the server's back fails marketctl check, naming
        # the table, and --repair-rollups brings the right figures back.
        year = today().year
        i = self.institution("school")["id"]
        self.plan(i, year, 100_000)
        token, _ = self.member(i)
        product = self.shop.product(250, 100)
        self.shop.paid(self.shop.placed([(product, 4)], token=token))
        right = self.report("?as_of=%d-12-31" % year)
        mine = {r["institution_id"]: r for r in right["institutions"]}[i]
        self.assertEqual((mine["orders"], mine["purchased_fen"]), (1, 1000))
        for sql in ("UPDATE report_institution_year SET purchased_fen = purchased_fen + 1 "
                    "WHERE institution_id = %d" % i,
                    "DELETE FROM report_institution_year WHERE institution_id = %d" % i):
            with self.subTest(sql=sql):
                db = self.srv.sql()
                try:
                    self.assertEqual(db.execute(sql), 1)
                finally:
                    db.close()
                p = self.srv.ctl("check", check=False)
                out = p.stdout.decode() + p.stderr.decode()
                self.assertEqual(p.returncode, 1, out)
                self.assertIn("report_institution_year %d %d" % (i, year), out)
                p = self.srv.ctl("check", "--repair-rollups", check=False)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertEqual(self.srv.ctl("check", check=False).returncode, 0)
                self.assertEqual(self.report("?as_of=%d-12-31" % year), right)


if __name__ == "__main__":
    harness.main()
