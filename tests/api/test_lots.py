"""Lots: receiving a lot (one transaction with its stock movement), the
allocation order of stall-sale and order lines, units from no lot, the
put-back of a void and a cancel, the trace as JSON and CSV, a product's
lots, roles and region scope, the audit, every error code of the routes,
and marketctl check catching tampered lot arithmetic."""
import csv
import io
import time

import harness
from orders_fixture import Shop, check, delivery, pickup

NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Lots(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s = Shop(cls.srv)
        cls.n = 0

    def receive(self, product, code, quantity, packed_on="2026-05-01",
                token=None, status=201, **extra):
        body = {"code": code, "quantity": quantity, "packed_on": packed_on}
        body.update(extra)
        r = self.srv.post("/api/v1/products/%d/lots" % product, body,
                          token=token or self.s.admin)
        self.assertEqual(r.status, status, r)
        return r.json

    def sale(self, stall, lines, token=None, status=201):
        Lots.n += 1
        r = self.srv.post("/api/v1/sales", {
            "id": "lot-sale-%04d" % Lots.n, "stall_id": stall,
            "recorded_at": NOW, "payment": "cash",
            "lines": [{"product_id": p, "quantity": q} for p, q in lines]},
            token=token or self.s.op)
        self.assertEqual(r.status, status, r)
        return r.json

    def lot(self, lot_id):
        return check(self.srv.get("/api/v1/lots/%d" % lot_id), 200)

    def trace(self, lot_id, token=None, query=""):
        return self.srv.get("/api/v1/lots/%d/trace%s" % (lot_id, query),
                            token=token or self.s.admin)

    def test_receive_raises_stock_in_the_ledger(self):
        p = self.s.product(1500, 10, name="贞丰李子 批次")
        lot = self.receive(p, "ZF-2026/05.01", 40, harvested_on="2026-04-29",
                           best_before="2026-05-20", origin="者相镇纳孔村")
        self.assertEqual(set(lot), {"id", "product_id", "code", "quantity",
                                    "remaining", "packed_on", "harvested_on",
                                    "best_before", "origin", "created_at"})
        self.assertEqual((lot["product_id"], lot["code"], lot["quantity"],
                          lot["remaining"], lot["packed_on"], lot["harvested_on"],
                          lot["best_before"], lot["origin"]),
                         (p, "ZF-2026/05.01", 40, 40, "2026-05-01", "2026-04-29",
                          "2026-05-20", "者相镇纳孔村"))
        self.assertRegex(lot["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(self.s.stock(p), 50)
        self.assertEqual(self.lot(lot["id"]), lot)
        # Optional fields absent are null.
        bare = self.receive(p, "ZF-2", 1)
        self.assertEqual((bare["harvested_on"], bare["best_before"], bare["origin"]),
                         (None, None, None))
        self.assertEqual(self.s.stock(p), 51)
        # The movement is in the ledger: marketctl check agrees.
        self.s.check_ledger()
        # Audited, as the lot.
        entries, cursor = [], None
        while True:
            page = check(self.srv.get("/api/v1/audit?limit=200" + (
                "&cursor=" + cursor if cursor else ""), token=self.s.admin), 200)
            entries += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        mine = [e for e in entries if e["action"] == "POST /api/v1/products/{id}/lots"
                and e["object_id"] == lot["id"]]
        self.assertEqual(len(mine), 1, entries[:5])
        self.assertEqual(mine[0]["object_type"], "lot")

    def test_product_lots_listed_by_id_to_anyone(self):
        p = self.s.product(800, 0)
        ids = [self.receive(p, "L%d" % i, 5, best_before="2026-06-0%d" % (9 - i))["id"]
               for i in range(5)]
        page = check(self.srv.get("/api/v1/products/%d/lots?limit=3" % p), 200)
        self.assertEqual([l["id"] for l in page["items"]], ids[:3])
        self.assertIsNotNone(page["next_cursor"])
        rest = check(self.srv.get("/api/v1/products/%d/lots?limit=3&cursor=%s"
                                  % (p, page["next_cursor"])), 200)
        self.assertEqual([l["id"] for l in rest["items"]], ids[3:])
        self.assertIsNone(rest["next_cursor"])
        # Origin and dates are shown to everyone; lot by id likewise.
        self.assertEqual(rest["items"][0]["best_before"], "2026-06-06")
        self.assertEqual(check(self.srv.get("/api/v1/lots/%d" % ids[0], token=self.s.buyer),
                               200)["code"], "L0")
        empty = check(self.srv.get("/api/v1/products/%d/lots" % self.s.product(1, 1)), 200)
        self.assertEqual(empty, {"items": [], "next_cursor": None})

    def test_allocation_order_and_units_from_no_lot(self):
        p = self.s.product(1000, 0)
        c = self.receive(p, "C-no-best-before", 3, packed_on="2026-04-01")["id"]
        a = self.receive(p, "A-later", 3, best_before="2026-07-01")["id"]
        b = self.receive(p, "B-packed-later", 3, packed_on="2026-05-02",
                         best_before="2026-06-01")["id"]
        d = self.receive(p, "D-packed-earlier", 3, packed_on="2026-05-01",
                         best_before="2026-06-01")["id"]
        self.assertEqual(self.s.stock(p), 12)
        # 4 units: all of D (earliest best-before, earliest packed), 1 of B.
        sale = self.sale(self.s.stall, [(p, 4)])
        self.assertEqual(sale["lines"][0]["lots"], [
            {"lot_id": d, "code": "D-packed-earlier", "quantity": 3},
            {"lot_id": b, "code": "B-packed-later", "quantity": 1}])
        self.assertEqual(check(self.srv.get("/api/v1/sales/" + sale["id"],
                                            token=self.s.admin), 200), sale)
        # An order: the rest of B, then A, then the lot without a best-before.
        order = self.s.placed([(p, 6)], fulfillment=delivery())
        self.assertEqual(order["lines"][0]["lots"], [
            {"lot_id": b, "code": "B-packed-later", "quantity": 2},
            {"lot_id": a, "code": "A-later", "quantity": 3},
            {"lot_id": c, "code": "C-no-best-before", "quantity": 1}])
        self.assertEqual(check(self.s.get(order["id"]), 200)["lines"], order["lines"])
        # 5 more at a stall: 2 left in C, 3 from no lot; never refused.
        sale2 = self.sale(self.s.stall2, [(p, 5)], token=self.s.op2)
        self.assertEqual(sale2["lines"][0]["lots"],
                         [{"lot_id": c, "code": "C-no-best-before", "quantity": 2}])
        self.assertEqual(self.s.stock(p), -3)
        self.assertEqual([self.lot(i)["remaining"] for i in (a, b, c, d)], [0, 0, 0, 0])
        # An order cannot take what is not in stock, lots or not.
        r = self.s.order([(p, 1)])
        self.assertProblem(r, 409, "out_of_stock", "lines[0].quantity")

        # The void puts the units back into the lots they came from, once.
        r = self.srv.post("/api/v1/sales/%s/void" % sale["id"], {"reason": "wrong"},
                          token=self.s.op)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["lines"][0]["lots"], sale["lines"][0]["lots"])
        self.assertEqual([self.lot(i)["remaining"] for i in (d, b)], [3, 1])
        r = self.srv.post("/api/v1/sales/%s/void" % sale["id"], {"reason": "again"},
                          token=self.s.op)
        self.assertProblem(r, 409, "invalid_state")
        self.assertEqual([self.lot(i)["remaining"] for i in (d, b)], [3, 1])
        # The cancel likewise.
        r = self.s.act(order["id"], "cancel", self.s.buyer)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([self.lot(i)["remaining"] for i in (a, b, c)], [3, 3, 1])
        r = self.s.act(order["id"], "cancel", self.s.admin)
        self.assertProblem(r, 409, "invalid_state")
        self.assertEqual([self.lot(i)["remaining"] for i in (a, b, c)], [3, 3, 1])
        self.s.check_ledger()

        # The trace of C: received, ordered, sold, returned, in time order.
        t = check(self.trace(c), 200)
        self.assertEqual([(e["kind"], e["quantity"]) for e in t["events"]],
                         [("received", 3), ("ordered", 1), ("sold", 2), ("returned", 1)])
        self.assertEqual([e["at"] for e in t["events"]], sorted(e["at"] for e in t["events"]))

    def test_trace_json_and_csv(self):
        p = self.s.product(1200, 0, name="贞丰李子, 特级")
        lot = self.receive(p, "T-1", 10, origin='者相镇 "纳孔村", 3 组')
        sale = self.sale(self.s.stall, [(p, 2)])
        pick = self.s.placed([(p, 3)], fulfillment=pickup(self.s.day))
        deliv = self.s.placed([(p, 1)], fulfillment=delivery())
        t = check(self.trace(lot["id"]), 200)
        self.assertEqual(t["lot"], self.lot(lot["id"]))
        self.assertEqual((t["product_id"], t["producer_id"], t["region_code"]),
                         (p, self.s.producers["zhenfeng"], "zhenfeng"))
        ev = t["events"]
        venue = check(self.srv.get("/api/v1/market-days/%d" % self.s.day), 200)["venue_name"]
        self.assertEqual([e["kind"] for e in ev], ["received", "sold", "ordered", "ordered"])
        self.assertEqual(ev[0]["place"], lot["origin"])
        self.assertEqual((ev[1]["sale_id"], ev[1]["market_day_id"], ev[1]["channel"],
                          ev[1]["place"], ev[1]["quantity"]),
                         (sale["id"], self.s.day, "holiday_market", venue, 2))
        self.assertNotIn("order_id", ev[1])
        self.assertEqual((ev[2]["order_id"], ev[2]["market_day_id"], ev[2]["channel"],
                          ev[2]["quantity"]), (pick["id"], self.s.day, "online", 3))
        self.assertEqual(ev[2]["place"], ev[1]["place"])  # the pickup's venue
        self.assertEqual((ev[3]["order_id"], ev[3]["channel"], ev[3]["place"]),
                         (deliv["id"], "online", "宁波"))  # a delivery's city
        self.assertNotIn("market_day_id", ev[3])

        for query, headers in (("?format=csv", None), ("", {"Accept": "text/csv"})):
            r = self.srv.get("/api/v1/lots/%d/trace%s" % (lot["id"], query),
                             token=self.s.admin, headers=headers)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("content-type"), "text/csv; charset=utf-8")
            self.assertIn("attachment", r.header("content-disposition"))
            self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"), r.body[:10])
            text = r.body[3:].decode("utf-8")
            self.assertTrue(text.endswith("\r\n"))
            rows = list(csv.reader(io.StringIO(text, newline="")))
            self.assertEqual(rows[0], ["at", "kind", "lot_code", "product", "quantity",
                                       "unit", "place", "reference"])
            self.assertEqual(len(rows), 1 + len(ev))
            self.assertEqual(rows[1], [ev[0]["at"], "received", "T-1", "贞丰李子, 特级",
                                       "10", "500g bag", '者相镇 "纳孔村", 3 组',
                                       "lot %d" % lot["id"]])
            self.assertEqual(rows[2][1:], ["sold", "T-1", "贞丰李子, 特级", "2", "500g bag",
                                           venue, "sale " + sale["id"]])
            self.assertEqual(rows[4][1:], ["ordered", "T-1", "贞丰李子, 特级", "1",
                                           "500g bag", "宁波", "order %d" % deliv["id"]])
        r = self.trace(lot["id"], query="?format=json")
        self.assertEqual(r.json, t)

    def test_roles_and_region_scope(self):
        zf = self.s.product(500, 0, region="zhenfeng")
        qy = self.s.product(500, 0, region="qingyuan")
        # A coordinator scoped to Zhenfeng receives and traces its own.
        mine = self.receive(zf, "S-1", 2, token=self.s.scoped)
        self.assertEqual(self.trace(mine["id"], token=self.s.scoped).status, 200)
        other = self.receive(qy, "S-2", 2, token=self.s.coord)
        r = self.srv.post("/api/v1/products/%d/lots" % qy,
                          {"code": "S-3", "quantity": 1, "packed_on": "2026-05-01"},
                          token=self.s.scoped)
        self.assertProblem(r, 403, "forbidden")
        self.assertProblem(self.trace(other["id"], token=self.s.scoped), 403, "forbidden")
        self.assertProblem(self.trace(other["id"], token=self.s.scoped, query="?format=csv"),
                           403, "forbidden")
        # Operators and buyers may not receive or trace; anonymous: 401.
        for token in (self.s.op, self.s.buyer):
            r = self.srv.post("/api/v1/products/%d/lots" % zf,
                              {"code": "S-4", "quantity": 1, "packed_on": "2026-05-01"},
                              token=token)
            self.assertProblem(r, 403, "forbidden")
            self.assertProblem(self.trace(mine["id"], token=token), 403, "forbidden")
        r = self.srv.post("/api/v1/products/%d/lots" % zf,
                          {"code": "S-4", "quantity": 1, "packed_on": "2026-05-01"})
        self.assertProblem(r, 401, "unauthorized")
        self.assertProblem(self.srv.get("/api/v1/lots/%d/trace" % mine["id"]),
                           401, "unauthorized")
        # Reading lots needs no account.
        self.assertEqual(self.srv.get("/api/v1/lots/%d" % other["id"]).status, 200)
        self.assertEqual(self.srv.get("/api/v1/products/%d/lots" % qy).status, 200)
        self.assertEqual(self.s.stock(qy), 2)

    def test_errors(self):
        p = self.s.product(500, 0)
        self.receive(p, "E-1", 1)
        bad = [
            ({"quantity": 1, "packed_on": "2026-05-01"}, "code"),
            ({"code": "", "quantity": 1, "packed_on": "2026-05-01"}, "code"),
            ({"code": "x" * 33, "quantity": 1, "packed_on": "2026-05-01"}, "code"),
            ({"code": "有 空格", "quantity": 1, "packed_on": "2026-05-01"}, "code"),
            ({"code": "a_b", "quantity": 1, "packed_on": "2026-05-01"}, "code"),
            ({"code": 7, "quantity": 1, "packed_on": "2026-05-01"}, "code"),
            ({"code": "E-2", "packed_on": "2026-05-01"}, "quantity"),
            ({"code": "E-2", "quantity": 0, "packed_on": "2026-05-01"}, "quantity"),
            ({"code": "E-2", "quantity": 1.5, "packed_on": "2026-05-01"}, "quantity"),
            ({"code": "E-2", "quantity": "3", "packed_on": "2026-05-01"}, "quantity"),
            ({"code": "E-2", "quantity": 2 ** 64, "packed_on": "2026-05-01"}, "quantity"),
            ({"code": "E-2", "quantity": 1}, "packed_on"),
            ({"code": "E-2", "quantity": 1, "packed_on": "2026-02-30"}, "packed_on"),
            ({"code": "E-2", "quantity": 1, "packed_on": "1 May"}, "packed_on"),
            ({"code": "E-2", "quantity": 1, "packed_on": "2026-05-01",
              "harvested_on": "2026-05-02"}, "harvested_on"),
            ({"code": "E-2", "quantity": 1, "packed_on": "2026-05-01",
              "harvested_on": "yesterday"}, "harvested_on"),
            ({"code": "E-2", "quantity": 1, "packed_on": "2026-05-01",
              "best_before": "2026-04-30"}, "best_before"),
            ({"code": "E-2", "quantity": 1, "packed_on": "2026-05-01",
              "origin": 12}, "origin"),
            ({"code": "E-2", "quantity": 1, "packed_on": "2026-05-01",
              "origin": "村" * 201}, "origin"),
        ]
        for body, field in bad:
            r = self.srv.post("/api/v1/products/%d/lots" % p, body, token=self.s.admin)
            self.assertProblem(r, 400, "validation_failed", field)
        self.assertEqual(self.s.stock(p), 1)
        # The same code twice for one product: 409; another product may.
        r = self.srv.post("/api/v1/products/%d/lots" % p,
                          {"code": "E-1", "quantity": 5, "packed_on": "2026-05-01"},
                          token=self.s.admin)
        self.assertProblem(r, 409, "conflict", "code")
        self.assertEqual(self.s.stock(p), 1)
        self.receive(self.s.product(500, 0), "E-1", 1)
        # Unknown ids in the path: 404.
        for path in ("/api/v1/products/999999/lots", "/api/v1/products/x/lots"):
            r = self.srv.post(path, {"code": "E-3", "quantity": 1, "packed_on": "2026-05-01"},
                              token=self.s.admin)
            self.assertProblem(r, 404, "not_found")
            self.assertProblem(self.srv.get(path), 404, "not_found")
        for path in ("/api/v1/lots/999999", "/api/v1/lots/0", "/api/v1/lots/abc"):
            self.assertProblem(self.srv.get(path), 404, "not_found")
            self.assertProblem(self.srv.get(path + "/trace", token=self.s.admin),
                               404, "not_found")
        # Body and method errors the router gives.
        r = self.srv.request("POST", "/api/v1/products/%d/lots" % p, raw=b"{",
                             token=self.s.admin)
        self.assertProblem(r, 400, "bad_json")
        r = self.srv.request("POST", "/api/v1/products/%d/lots" % p, raw=b"code=1",
                             token=self.s.admin, headers={"Content-Type": "text/plain"})
        self.assertProblem(r, 415, "unsupported_media_type")
        r = self.srv.request("PATCH", "/api/v1/lots/1", body={}, token=self.s.admin)
        self.assertProblem(r, 405, "method_not_allowed")
        r = self.srv.request("POST", "/api/v1/lots/1/trace", body={}, token=self.s.admin)
        self.assertProblem(r, 405, "method_not_allowed")
        # Query errors: a format that is neither, a cursor not ours.
        lot = check(self.srv.get("/api/v1/products/%d/lots" % p), 200)["items"][0]
        self.assertProblem(self.trace(lot["id"], query="?format=xlsx"),
                           400, "validation_failed", "format")
        self.assertProblem(self.srv.get("/api/v1/products/%d/lots?cursor=zz" % p),
                           400, "validation_failed", "cursor")
        self.assertProblem(self.srv.get("/api/v1/products/%d/lots?limit=0" % p),
                           400, "validation_failed", "limit")

    def test_zz_check_catches_tampered_lots(self):
        p = self.s.product(500, 0)
        lot = self.receive(p, "K-1", 10)
        self.sale(self.s.stall, [(p, 4)])
        self.s.check_ledger()
        db = self.srv.sql()
        try:
            db.execute(("UPDATE lots SET remaining = remaining + 1 WHERE id = ?",
                        (lot["id"],)))
            p1 = self.srv.ctl("check", check=False)
            self.assertEqual(p1.returncode, 1, p1)
            self.assertIn(b"lot %d: remaining 7 but quantity 10 less the 4 units"
                          % lot["id"], p1.stdout)
            db.execute(("UPDATE lots SET remaining = remaining - 1 WHERE id = ?",
                        (lot["id"],)))
            self.s.check_ledger()
            # A draw that no longer matches its line (a line of 4 that
            # would hold 5) is caught too, even when remaining agrees.
            db.execute(("UPDATE lots SET remaining = remaining - 1 WHERE id = ?",
                        (lot["id"],)),
                       ("INSERT INTO lot_draws (lot_id, sale_seq, line_no, quantity, "
                        "drawn_at) SELECT lot_id, sale_seq, line_no, 1, drawn_at "
                        "FROM lot_draws WHERE lot_id = ?", (lot["id"],)))
            p2 = self.srv.ctl("check", check=False)
            self.assertEqual(p2.returncode, 1, p2)
            self.assertIn(b"its lots give 5 units, more than its quantity 4", p2.stdout)
            # A draw may be put back once only, and never removed.
            with self.assertRaisesRegex(harness.DbError, "lot draws are never removed"):
                db.execute(("DELETE FROM lot_draws WHERE lot_id = ?", (lot["id"],)))
            self.assertEqual(db.value("SELECT count(*) FROM lot_draws WHERE lot_id = ?",
                                      (lot["id"],)), 2)
        finally:
            db.close()


if __name__ == "__main__":
    harness.main()
