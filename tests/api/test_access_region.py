"""A region-scoped coordinator (Zhenfeng's) cannot read or write outside
its region through any route. Every route of `marketctl routes` is listed
in ROUTES below, either with the probes that try the other region's
(Qingyuan's) objects through it, or with the reason it holds no region's
data; a new route fails test_every_route_is_classified until it is
added here. Each probe also checks that nothing changed, and that the
same call inside the scoped coordinator's own region is allowed (so a
403 is the region's doing, not the role's).

What a region's data is, per the contract: its producers (and their
contact phones), their products, the reports; the orders with a line of
its products; the stalls of its producers and their sales."""
import subprocess

import harness
from orders_fixture import Shop, check, day, delivery

NOT_REGION = "not region data"
ADMIN_ONLY = "admin only"

# route -> names of the probe methods, or why none is needed.
ROUTES = {
    "GET /healthz": NOT_REGION,
    "GET /api/v1/openapi.json": NOT_REGION,
    "GET /metrics": NOT_REGION + " (loopback or admin)",
    "GET /api/v1/audit": ADMIN_ONLY,
    "POST /api/v1/webhooks": ADMIN_ONLY,
    "GET /api/v1/webhooks": ADMIN_ONLY,
    "PATCH /api/v1/webhooks/{id}": ADMIN_ONLY,
    "DELETE /api/v1/webhooks/{id}": ADMIN_ONLY,
    "GET /api/v1/webhooks/{id}/deliveries": ADMIN_ONLY,
    "POST /api/v1/auth/register": NOT_REGION,
    "POST /api/v1/auth/login": NOT_REGION,
    "POST /api/v1/auth/logout": NOT_REGION + " (the caller's own token)",
    "GET /api/v1/me": NOT_REGION + " (the caller itself)",
    "POST /api/v1/users": ADMIN_ONLY,
    "GET /api/v1/users": ADMIN_ONLY,
    "PATCH /api/v1/users/{id}": ADMIN_ONLY,
    "GET /api/v1/regions": NOT_REGION + " (public)",
    "GET /api/v1/regions/{code}": NOT_REGION + " (public)",
    "POST /api/v1/regions": ADMIN_ONLY,
    "GET /api/v1/producers": ["producer_phones_in_lists"],
    "GET /api/v1/producers/{id}": ["producer_phone"],
    "POST /api/v1/producers": ["producer_create"],
    "PATCH /api/v1/producers/{id}": ["producer_patch", "producer_move_out"],
    "GET /api/v1/products": NOT_REGION + " (the public catalog)",
    "GET /api/v1/products/{id}": NOT_REGION + " (the public catalog)",
    "POST /api/v1/products": ["product_create"],
    "PATCH /api/v1/products/{id}": ["product_patch", "product_move_out"],
    "GET /api/v1/products/{id}/prices": NOT_REGION + " (the public catalog)",
    "POST /api/v1/products/{id}/lots": ["lot_receive"],
    "GET /api/v1/products/{id}/lots": NOT_REGION + " (public: origin and dates shown to all)",
    "GET /api/v1/lots/{id}": NOT_REGION + " (public: origin and dates shown to all)",
    "GET /api/v1/lots/{id}/trace": ["lot_trace"],
    "GET /api/v1/venues": NOT_REGION + " (public)",
    "GET /api/v1/venues/{id}": NOT_REGION + " (public)",
    "POST /api/v1/venues": NOT_REGION + " (venues serve every region)",
    "GET /api/v1/market-days": NOT_REGION + " (public)",
    "GET /api/v1/market-days/{id}": NOT_REGION + " (public)",
    "GET /api/v1/market-days.ics": NOT_REGION + " (public)",
    "POST /api/v1/market-days": NOT_REGION + " (market days serve every region)",
    "POST /api/v1/market-days/batch": NOT_REGION + " (market days serve every region)",
    "PATCH /api/v1/market-days/{id}": NOT_REGION + " (market days serve every region)",
    "POST /api/v1/market-days/{id}/stalls": ["stall_create"],
    "GET /api/v1/market-days/{id}/stalls": NOT_REGION + " (public: who sells where)",
    "GET /api/v1/stalls/mine": NOT_REGION + " (operators only)",
    "GET /api/v1/stalls/{id}": NOT_REGION + " (public: who sells where)",
    "GET /api/v1/sales": ["sales_list"],
    "POST /api/v1/sales": ["sale_record"],
    "POST /api/v1/sales/batch": ["sale_batch"],
    "GET /api/v1/sales/{id}": ["sale_get"],
    "POST /api/v1/sales/{id}/void": ["sale_void"],
    "GET /api/v1/reports/impact": ["impact_report"],
    "GET /api/v1/reports/market-days/{id}": ["closeout_report"],
    "POST /api/v1/orders": NOT_REGION + " (buyers only)",
    "GET /api/v1/orders": ["orders_list"],
    "GET /api/v1/orders/{id}": ["order_get"],
    "POST /api/v1/orders/{id}/cancel": ["order_actions"],
    "POST /api/v1/orders/{id}/ready": ["order_actions"],
    "POST /api/v1/orders/{id}/fulfil": ["order_actions"],
    "POST /api/v1/payments/callback": NOT_REGION + " (the payment provider, by signature)",
    "POST /api/v1/demo/payments/{id}": NOT_REGION + " (demo mode only: a buyer's own order)",
    "GET /api/v1/institutions": NOT_REGION + " (institutions buy from every region)",
    "GET /api/v1/institutions/{id}": NOT_REGION + " (institutions buy from every region)",
    "POST /api/v1/institutions": NOT_REGION + " (institutions buy from every region)",
    "PATCH /api/v1/institutions/{id}": NOT_REGION + " (institutions buy from every region)",
    "PUT /api/v1/institutions/{id}/plans/{year}": NOT_REGION + " (an institution's budget)",
    "GET /api/v1/institutions/{id}/plans": NOT_REGION + " (an institution's budget)",
    "GET /api/v1/reports/procurement": NOT_REGION + " (institutions' purchases from "
                                       "every region, at order totals)",
    "POST /api/v1/producers/{id}/payouts": ["payout_create"],
    "GET /api/v1/producers/{id}/payouts": ["payout_list"],
    "GET /api/v1/producers/{id}/statement": ["statement"],
    "GET /api/v1/reports/payouts": ["payouts_report"],
    "GET /api/v1/market-days/{id}/picklist": NOT_REGION + " (what a market day's stalls "
                                             "hand over, whatever the region)",
}


def route_table():
    out = subprocess.run([harness.MARKETCTL, "routes"], capture_output=True,
                         check=True).stdout.decode()
    return {" ".join(line.split()[:2]) for line in out.splitlines()}


class RegionScope(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.s = Shop(cls.srv)
        srv = cls.srv
        cls.zf = s.producers["zhenfeng"]
        cls.qy = s.producers["qingyuan"]
        for pid, phone in ((cls.zf, "0859-6612345"), (cls.qy, "0578-6123456")):
            check(srv.patch("/api/v1/producers/%d" % pid, {"contact_phone": phone},
                            token=s.admin), 200)
        cls.zf_product = s.product(1500, 1000, "zhenfeng", name="贞丰李子")
        cls.qy_product = s.product(3000, 1000, "qingyuan", name="庆元香菇")
        # A Qingyuan stall beside the Zhenfeng one (s.stall, operator op1)
        # on the same market day, run by op2.
        cls.qy_stall = check(srv.post("/api/v1/market-days/%d/stalls" % s.day, {
            "operator_id": s.op2_id, "producer_id": cls.qy, "label": "Q1"},
            token=s.admin))["id"]
        cls.zf_sale = "zf-sale-0001"
        cls.qy_sale = "qy-sale-0001"
        for sid, stall, product, op in ((cls.zf_sale, s.stall, cls.zf_product, s.op),
                                        (cls.qy_sale, cls.qy_stall, cls.qy_product, s.op2)):
            check(srv.post("/api/v1/sales", cls.sale(sid, stall, product), token=op))
        # Orders: Zhenfeng only, Qingyuan only, and one with a line of each.
        cls.zf_order = s.placed([(cls.zf_product, 1)])["id"]
        cls.qy_order = s.placed([(cls.qy_product, 1)])["id"]
        cls.mixed_order = s.placed([(cls.zf_product, 1), (cls.qy_product, 1)],
                                   fulfillment=delivery())["id"]
        cls.qy_paid = s.paid(s.placed([(cls.qy_product, 2)]))["id"]

    @staticmethod
    def sale(sid, stall, product, quantity=1):
        return {"id": sid, "stall_id": stall, "recorded_at": "2026-05-01T03:00:00Z",
                "payment": "cash", "lines": [{"product_id": product, "quantity": quantity}]}

    # --- helpers ---------------------------------------------------------
    def as_scoped(self, method, path, body=None, **kw):
        return self.srv.request(method, path, body=body, token=self.s.scoped, **kw)

    def get_admin(self, path):
        return check(self.srv.get(path, token=self.s.admin), 200)

    def all_pages(self, path, token):
        out, cursor = [], None
        sep = "&" if "?" in path else "?"
        while True:
            page = check(self.srv.get(path + sep + "limit=200" +
                                      ("&cursor=" + cursor if cursor else ""),
                                      token=token), 200)
            out += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return out

    # --- the route table -----------------------------------------------------
    def test_every_route_is_classified(self):
        self.assertEqual(sorted(route_table()), sorted(ROUTES))
        for route, probes in ROUTES.items():
            if isinstance(probes, list):
                for name in probes:
                    self.assertTrue(callable(getattr(self, "probe_" + name, None)),
                                    (route, name))

    def test_probes(self):
        done = set()
        for route, probes in sorted(ROUTES.items()):
            if not isinstance(probes, list):
                continue
            for name in probes:
                if name in done:
                    continue
                done.add(name)
                with self.subTest(route=route, probe=name):
                    getattr(self, "probe_" + name)()

    def test_admin_only_routes(self):
        for route, probes in sorted(ROUTES.items()):
            if probes != ADMIN_ONLY:
                continue
            method, path = route.split(" ", 1)
            path = path.replace("{id}", str(self.s.buyer_id))
            body = {"active": False} if method == "PATCH" else (
                {} if method == "POST" else None)
            with self.subTest(route=route):
                self.assertProblem(self.as_scoped(method, path, body), 403, "forbidden")
        self.assertEqual(self.srv.get("/api/v1/me", token=self.s.buyer).status, 200)

    # --- producers ---------------------------------------------------------------
    def probe_producer_phones_in_lists(self):
        for query in ("", "?region=qingyuan", "?region=zhenfeng"):
            for p in self.all_pages("/api/v1/producers" + query, self.s.scoped):
                if p["region_code"] == "zhenfeng":
                    self.assertIn("contact_phone", p, p)
                else:
                    self.assertNotIn("contact_phone", p, p)
        # The unscoped coordinator sees every phone.
        for p in self.all_pages("/api/v1/producers", self.s.coord):
            self.assertIn("contact_phone", p, p)

    def probe_producer_phone(self):
        r = self.as_scoped("GET", "/api/v1/producers/%d" % self.qy)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("contact_phone", r.json)
        self.assertNotIn(b"0578-6123456", r.body)
        r = self.as_scoped("GET", "/api/v1/producers/%d" % self.zf)
        self.assertEqual(r.json["contact_phone"], "0859-6612345")

    def producer_body(self, region):
        return {"name": "新合作社 " + region, "region_code": region, "kind": "household",
                "households": 3, "poor_households": 1}

    def probe_producer_create(self):
        before = len(self.all_pages("/api/v1/producers", self.s.admin))
        r = self.as_scoped("POST", "/api/v1/producers", self.producer_body("qingyuan"))
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(len(self.all_pages("/api/v1/producers", self.s.admin)), before)
        r = self.as_scoped("POST", "/api/v1/producers", self.producer_body("zhenfeng"))
        self.assertEqual(r.status, 201, r)

    def probe_producer_patch(self):
        path = "/api/v1/producers/%d" % self.qy
        before = self.get_admin(path)
        for body in ({"name": "改名"}, {"households": 1}, {"contact_phone": "110"},
                     {"region_code": "zhenfeng"}):
            self.assertProblem(self.as_scoped("PATCH", path, body), 403, "forbidden")
        self.assertEqual(self.get_admin(path), before)

    def probe_producer_move_out(self):
        path = "/api/v1/producers/%d" % self.zf
        before = self.get_admin(path)
        r = self.as_scoped("PATCH", path, {"region_code": "qingyuan"})
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(self.get_admin(path), before)
        r = self.as_scoped("PATCH", path, {"households": before["households"]})
        self.assertEqual(r.status, 200, r)

    # --- products ----------------------------------------------------------------
    def product_body(self, producer):
        return {"name": "新产品", "category": "other", "unit": "kg", "price_fen": 100,
                "stock": 5, "producer_id": producer}

    def probe_product_create(self):
        before = len(self.all_pages("/api/v1/products?active=all", None))
        r = self.as_scoped("POST", "/api/v1/products", self.product_body(self.qy))
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(len(self.all_pages("/api/v1/products?active=all", None)), before)
        r = self.as_scoped("POST", "/api/v1/products", self.product_body(self.zf))
        self.assertEqual(r.status, 201, r)

    def probe_product_patch(self):
        path = "/api/v1/products/%d" % self.qy_product
        before = self.get_admin(path)
        for body in ({"price_fen": 1}, {"stock": 0}, {"active": False},
                     {"producer_id": self.zf}):
            self.assertProblem(self.as_scoped("PATCH", path, body), 403, "forbidden")
        after = self.get_admin(path)
        self.assertEqual((after["price_fen"], after["active"], after["producer_id"]),
                         (before["price_fen"], before["active"], before["producer_id"]))

    def probe_product_move_out(self):
        path = "/api/v1/products/%d" % self.zf_product
        r = self.as_scoped("PATCH", path, {"producer_id": self.qy})
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(self.get_admin(path)["producer_id"], self.zf)
        r = self.as_scoped("PATCH", path, {"price_fen": 1500})
        self.assertEqual(r.status, 200, r)

    # --- lots --------------------------------------------------------------------
    def lot_body(self, code):
        return {"code": code, "quantity": 4, "packed_on": "2026-05-01", "origin": "村"}

    def probe_lot_receive(self):
        lots = "/api/v1/products/%d/lots" % self.qy_product
        before = (self.stock(self.qy_product), self.get_admin(lots))
        r = self.as_scoped("POST", lots, self.lot_body("QY-BY-ZF"))
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual((self.stock(self.qy_product), self.get_admin(lots)), before)
        r = self.as_scoped("POST", "/api/v1/products/%d/lots" % self.zf_product,
                           self.lot_body("ZF-BY-ZF"))
        self.assertEqual(r.status, 201, r)

    def probe_lot_trace(self):
        qy = check(self.srv.post("/api/v1/products/%d/lots" % self.qy_product,
                                 self.lot_body("QY-TRACE"), token=self.s.admin))["id"]
        zf = check(self.srv.post("/api/v1/products/%d/lots" % self.zf_product,
                                 self.lot_body("ZF-TRACE"), token=self.s.admin))["id"]
        for query in ("", "?format=csv", "?format=json"):
            r = self.as_scoped("GET", "/api/v1/lots/%d/trace%s" % (qy, query))
            self.assertProblem(r, 403, "forbidden")
            r = self.as_scoped("GET", "/api/v1/lots/%d/trace%s" % (zf, query))
            self.assertEqual(r.status, 200, r)
        # The unscoped coordinator traces either.
        r = self.srv.get("/api/v1/lots/%d/trace" % qy, token=self.s.coord)
        self.assertEqual(r.status, 200, r)

    # --- stalls ------------------------------------------------------------------
    def probe_stall_create(self):
        md = self.s.market_day(day(20))
        path = "/api/v1/market-days/%d/stalls" % md
        r = self.as_scoped("POST", path, {"operator_id": self.s.op2_id,
                                          "producer_id": self.qy, "label": "QX"})
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(check(self.srv.get(path), 200)["items"], [])
        r = self.as_scoped("POST", path, {"operator_id": self.s.op_id,
                                          "producer_id": self.zf, "label": "ZX"})
        self.assertEqual(r.status, 201, r)

    # --- stall sales ---------------------------------------------------------
    def probe_sales_list(self):
        zf_stalls = {self.s.stall, self.s.stall2}
        for query in ("", "?market_day_id=%d" % self.s.day, "?stall_id=%d" % self.s.stall):
            seen = self.all_pages("/api/v1/sales" + query, self.s.scoped)
            self.assertIn(self.zf_sale, {x["id"] for x in seen}, query)
            self.assertEqual({x["stall_id"] for x in seen} - zf_stalls, set(), query)
        r = self.as_scoped("GET", "/api/v1/sales?stall_id=%d" % self.qy_stall)
        self.assertProblem(r, 403, "forbidden", "stall_id")
        # The unscoped coordinator sees both.
        seen = {x["id"] for x in self.all_pages("/api/v1/sales", self.s.coord)}
        self.assertTrue({self.zf_sale, self.qy_sale} <= seen)

    def probe_sale_get(self):
        r = self.as_scoped("GET", "/api/v1/sales/%s" % self.qy_sale)
        self.assertProblem(r, 403, "forbidden")
        r = self.as_scoped("GET", "/api/v1/sales/%s" % self.zf_sale)
        self.assertEqual(r.status, 200, r)

    def stock(self, product):
        return self.s.stock(product)

    def probe_sale_record(self):
        before = self.stock(self.qy_product)
        # At the other region's stall.
        r = self.as_scoped("POST", "/api/v1/sales",
                           self.sale("qy-by-zf-01", self.qy_stall, self.qy_product))
        self.assertProblem(r, 403, "forbidden", "stall_id")
        # The other region's product, at its own region's stall.
        r = self.as_scoped("POST", "/api/v1/sales",
                           self.sale("qy-by-zf-02", self.s.stall, self.qy_product))
        self.assertProblem(r, 403, "forbidden", "lines[0].product_id")
        for sid in ("qy-by-zf-01", "qy-by-zf-02"):
            self.assertProblem(self.srv.get("/api/v1/sales/" + sid, token=self.s.admin),
                               404, "not_found")
        self.assertEqual(self.stock(self.qy_product), before)
        r = self.as_scoped("POST", "/api/v1/sales",
                           self.sale("zf-by-zf-01", self.s.stall, self.zf_product))
        self.assertEqual(r.status, 201, r)

    def probe_sale_batch(self):
        before = self.stock(self.qy_product)
        r = self.as_scoped("POST", "/api/v1/sales/batch", {"sales": [
            self.sale("qy-batch-01", self.qy_stall, self.qy_product),
            self.sale("qy-batch-02", self.s.stall, self.qy_product),
            self.sale("zf-batch-01", self.s.stall, self.zf_product)]})
        self.assertEqual(r.status, 200, r)
        res = r.json["results"]
        self.assertEqual([x["status"] for x in res], ["error", "error", "created"], r)
        self.assertEqual([(x["error"]["status"], x["error"]["code"], x["error"].get("field"))
                          for x in res[:2]],
                         [(403, "forbidden", "stall_id"),
                          (403, "forbidden", "lines[0].product_id")])
        self.assertEqual(self.stock(self.qy_product), before)

    def probe_sale_void(self):
        before = self.stock(self.qy_product)
        r = self.as_scoped("POST", "/api/v1/sales/%s/void" % self.qy_sale, {"reason": "x"})
        self.assertProblem(r, 403, "forbidden")
        self.assertIs(self.srv.get("/api/v1/sales/" + self.qy_sale,
                                   token=self.s.admin).json["voided"], False)
        self.assertEqual(self.stock(self.qy_product), before)
        sid = "zf-void-001"
        check(self.srv.post("/api/v1/sales", self.sale(sid, self.s.stall, self.zf_product),
                            token=self.s.op))
        r = self.as_scoped("POST", "/api/v1/sales/%s/void" % sid, {"reason": "x"})
        self.assertEqual(r.status, 200, r)

    # --- payouts -----------------------------------------------------------------
    def payouts_of(self, producer):
        return self.all_pages("/api/v1/producers/%d/payouts" % producer, self.s.admin)

    def probe_payout_create(self):
        before = self.payouts_of(self.qy)
        body = {"amount_fen": 100, "paid_on": "2026-05-02", "reference": "X-1"}
        r = self.as_scoped("POST", "/api/v1/producers/%d/payouts" % self.qy, body)
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(self.payouts_of(self.qy), before)
        r = self.as_scoped("POST", "/api/v1/producers/%d/payouts" % self.zf, body)
        self.assertEqual(r.status, 201, r)

    def probe_payout_list(self):
        self.assertProblem(self.as_scoped("GET", "/api/v1/producers/%d/payouts" % self.qy),
                           403, "forbidden")
        r = self.as_scoped("GET", "/api/v1/producers/%d/payouts" % self.zf)
        self.assertEqual(r.status, 200, r)

    def probe_statement(self):
        q = "/api/v1/producers/%d/statement?from=2026-01-01&to=2026-12-31"
        for extra in ("", "&format=csv"):
            self.assertProblem(self.as_scoped("GET", q % self.qy + extra), 403, "forbidden")
        r = self.as_scoped("GET", q % self.zf)
        self.assertEqual(r.status, 200, r)

    def probe_payouts_report(self):
        q = "/api/v1/reports/payouts?from=2026-01-01&to=2026-12-31"
        for extra in ("&region=qingyuan", "&region=qingyuan&format=csv"):
            self.assertProblem(self.as_scoped("GET", q + extra), 403, "forbidden")
        r = self.as_scoped("GET", q)
        self.assertEqual({p["region_code"] for p in r.json["producers"]}, {"zhenfeng"})
        r = self.as_scoped("GET", q + "&format=csv")
        self.assertNotIn("qingyuan", r.body.decode())

    # --- reports -----------------------------------------------------------------
    def probe_impact_report(self):
        q = "/api/v1/reports/impact?from=2026-01-01&to=2026-12-31"
        for extra in ("&region=qingyuan", "&region=qingyuan&format=csv"):
            self.assertProblem(self.as_scoped("GET", q + extra), 403, "forbidden")
        r = self.as_scoped("GET", q)
        self.assertEqual([x["region_code"] for x in r.json["regions"]], ["zhenfeng"])
        r = self.as_scoped("GET", q + "&format=csv")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("qingyuan", r.body.decode("utf-8-sig"))

    def probe_closeout_report(self):
        r = self.as_scoped("GET", "/api/v1/reports/market-days/%d" % self.s.day)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["stall_id"] for x in r.json["stalls"]], [self.s.stall])
        self.assertNotIn("庆元香菇".encode(), r.body)
        # A market day with only the other region's stall.
        other = self.s.market_day(day(21))
        check(self.srv.post("/api/v1/market-days/%d/stalls" % other, {
            "operator_id": self.s.op2_id, "producer_id": self.qy, "label": "Q9"},
            token=self.s.admin))
        self.assertProblem(self.as_scoped("GET", "/api/v1/reports/market-days/%d" % other),
                           403, "forbidden")

    # --- orders ------------------------------------------------------------------
    def probe_orders_list(self):
        seen = {o["id"] for o in self.all_pages("/api/v1/orders", self.s.scoped)}
        self.assertIn(self.zf_order, seen)
        self.assertIn(self.mixed_order, seen)
        self.assertNotIn(self.qy_order, seen)
        self.assertNotIn(self.qy_paid, seen)
        for status in ("placed", "paid"):
            seen = {o["id"] for o in self.all_pages("/api/v1/orders?status=" + status,
                                                    self.s.scoped)}
            self.assertNotIn(self.qy_order, seen)
            self.assertNotIn(self.qy_paid, seen)

    def probe_order_get(self):
        for oid in (self.qy_order, self.qy_paid):
            self.assertProblem(self.as_scoped("GET", "/api/v1/orders/%d" % oid),
                               404, "not_found")
        r = self.as_scoped("GET", "/api/v1/orders/%d" % self.zf_order)
        self.assertEqual(r.status, 200, r)

    def probe_order_actions(self):
        before = {oid: self.get_admin("/api/v1/orders/%d" % oid)
                  for oid in (self.qy_order, self.qy_paid)}
        stock = self.stock(self.qy_product)
        for oid in before:
            for action in ("cancel", "ready", "fulfil"):
                r = self.as_scoped("POST", "/api/v1/orders/%d/%s" % (oid, action))
                self.assertProblem(r, 404, "not_found")
        for oid, o in before.items():
            self.assertEqual(self.get_admin("/api/v1/orders/%d" % oid), o)
        self.assertEqual(self.stock(self.qy_product), stock)


if __name__ == "__main__":
    harness.main()
