"""marketctl and the money identities: `marketctl report procurement`
and `marketctl report payouts` give the API's reports (the same CSV
bytes), `marketctl check` passes on a database with sales, voids,
orders, cancels and payouts, and fails, naming the producer and the
region, when a rollup is changed behind the server's back so that a
statement no longer matches the raw lines (the statement identity and
the impact identity both break)."""
import json
import uuid

import harness
from orders_fixture import Shop, check, day
from test_payouts import now_utc


class PayoutsCheck(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.s = Shop(cls.srv)
        srv = cls.srv
        cls.prod = s.product(1200, 500, name="贞丰李子")
        sales = [check(srv.post("/api/v1/sales", {
            "id": str(uuid.uuid4()), "stall_id": s.stall, "recorded_at": now_utc(),
            "payment": "cash", "lines": [{"product_id": cls.prod, "quantity": q}]},
            token=s.op)) for q in (1, 2, 3)]
        check(srv.post("/api/v1/sales/%s/void" % sales[0]["id"], {"reason": "x"},
                       token=s.op), 200)
        o = s.paid(s.placed([(cls.prod, 4)]))
        s.paid(s.placed([(cls.prod, 5)]))
        check(s.act(o["id"], "cancel", s.admin), 200)
        zf = s.producers["zhenfeng"]
        check(srv.post("/api/v1/producers/%d/payouts" % zf, {
            "amount_fen": 5000, "paid_on": day(0), "reference": "B-1"}, token=s.coord))
        check(srv.post("/api/v1/producers/%d/payouts" % zf, {
            "amount_fen": -300, "paid_on": day(0), "reference": "B-2", "note": "更正"},
            token=s.coord))
        inst = check(srv.post("/api/v1/institutions", {
            "name": "海曙区第一医院", "kind": "hospital", "subdistrict": "鼓楼街道"},
            token=s.coord))["id"]
        check(srv.request("PUT", "/api/v1/institutions/%d/plans/2026" % inst,
                          body={"food_budget_fen": 1_000_000}, token=s.coord), 200)

    def test_reports_are_the_apis(self):
        s = self.s
        frm, to = day(-10), day(10)
        for args, path in (
                (["report", "payouts", "--from", frm, "--to", to],
                 "/api/v1/reports/payouts?from=%s&to=%s" % (frm, to)),
                (["report", "payouts", "--from", frm, "--to", to, "--region", "zhenfeng"],
                 "/api/v1/reports/payouts?from=%s&to=%s&region=zhenfeng" % (frm, to)),
                (["report", "procurement", "--year", "2026", "--as-of", "2026-06-30"],
                 "/api/v1/reports/procurement?year=2026&as_of=2026-06-30"),
                (["report", "procurement", "--year", "2026", "--kind", "school",
                  "--as-of", "2026-06-30"],
                 "/api/v1/reports/procurement?year=2026&kind=school&as_of=2026-06-30")):
            with self.subTest(args=args):
                p = self.srv.ctl(*args)
                self.assertEqual(json.loads(p.stdout), check(self.srv.get(path,
                                                                          token=s.admin), 200))
                p = self.srv.ctl(*(args + ["--csv"]))
                r = self.srv.get(path + "&format=csv", token=s.admin)
                self.assertEqual(p.stdout, r.body)
        rep = json.loads(self.srv.ctl("report", "payouts", "--from", frm, "--to", to).stdout)
        zf = [p for p in rep["producers"] if p["region_code"] == "zhenfeng"][0]
        # 2 + 3 at the stall, 5 online, at 12.00; paid 50.00 - 3.00.
        self.assertEqual((zf["earned_fen"], zf["paid_out_fen"], zf["closing_balance_fen"]),
                         (12000, 4700, 7300))
        # Refusals: exit 2 with a line.
        for args in (["report", "payouts", "--from", frm],
                     ["report", "payouts", "--from", to, "--to", frm],
                     ["report", "payouts", "--from", frm, "--to", to, "--region", "nowhere"],
                     ["report", "procurement", "--year", "1999"],
                     ["report", "procurement", "--as-of", "2026-02-30"]):
            with self.subTest(args=args):
                p = self.srv.ctl(*args, check=False)
                self.assertEqual(p.returncode, 2, p)
                self.assertTrue(p.stderr)
        # The impact report still answers as before, with "impact" or without.
        a = self.srv.ctl("report", "--from", frm, "--to", to).stdout
        b = self.srv.ctl("report", "impact", "--from", frm, "--to", to).stdout
        self.assertEqual(a, b)

    def test_z_check_passes_then_catches_a_broken_identity(self):
        p = self.srv.ctl("check", check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(b"statements and payouts add up", p.stdout)
        with self.srv.sql() as db:
            # The month rollup only: the days still add up, the months not.
            self.assertGreater(db.execute(
                ("UPDATE report_product_month SET counter_fen = counter_fen + 7 "
                 "WHERE product_id = ?", (self.prod,))), 0)
        p = self.srv.ctl("check", check=False)
        self.assertEqual(p.returncode, 1, p)
        out = p.stdout.decode()
        zf = self.s.producers["zhenfeng"]
        self.assertIn("earned_fen of producer %d: the statements give 12007, the sales, "
                      "orders and payouts 12000" % zf, out)
        self.assertIn("closing_balance_fen of producer %d" % zf, out)
        self.assertIn("sales_fen of region zhenfeng: the statements give 12007", out)
        p = self.srv.ctl("check", "--repair-rollups", check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
