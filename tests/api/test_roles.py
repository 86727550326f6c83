"""The role matrix: every route in the server's route table, called by
anonymous, buyer, operator, coordinator, region-scoped coordinator and
admin. The expected matrix is written here from shared/API.md's Roles and
Endpoints sections, and must cover the route table exactly.

A caller the contract does not allow gets 401 unauthorized (anonymous) or
403 forbidden; an allowed caller gets past the router (anything but 401
and 403: the bodies sent are empty, so 400 validation_failed is common).
A scoped coordinator naming another region's producer or product gets 403.
"""
import hashlib
import hmac
import subprocess

import harness

ANY = {"anonymous", "buyer", "operator", "coordinator", "scoped", "admin"}
USERS = {"buyer", "operator", "coordinator", "scoped", "admin"}
STAFF = {"coordinator", "scoped", "admin"}
ADMIN = {"admin"}
SELLERS = {"operator", "coordinator", "scoped", "admin"}

EXPECTED = {
    "GET /healthz": ANY,
    "GET /api/v1/openapi.json": ANY,
    "GET /metrics": ANY,
    "GET /api/v1/audit": ADMIN,
    "POST /api/v1/auth/register": ANY,
    "POST /api/v1/auth/login": ANY,
    "POST /api/v1/auth/logout": USERS,
    "GET /api/v1/me": USERS,
    "POST /api/v1/users": ADMIN,
    "GET /api/v1/users": ADMIN,
    "PATCH /api/v1/users/{id}": ADMIN,
    "GET /api/v1/regions": ANY,
    "GET /api/v1/regions/{code}": ANY,
    "POST /api/v1/regions": ADMIN,
    "GET /api/v1/producers": ANY,
    "GET /api/v1/producers/{id}": ANY,
    "POST /api/v1/producers": STAFF,
    "PATCH /api/v1/producers/{id}": STAFF,
    "GET /api/v1/products": ANY,
    "GET /api/v1/products/{id}": ANY,
    "POST /api/v1/products": STAFF,
    "PATCH /api/v1/products/{id}": STAFF,
    "GET /api/v1/products/{id}/prices": ANY,
    "POST /api/v1/products/{id}/lots": STAFF,
    "GET /api/v1/products/{id}/lots": ANY,
    "GET /api/v1/lots/{id}": ANY,
    "GET /api/v1/lots/{id}/trace": STAFF,
    "GET /api/v1/venues": ANY,
    "GET /api/v1/venues/{id}": ANY,
    "POST /api/v1/venues": STAFF,
    "GET /api/v1/market-days": ANY,
    "GET /api/v1/market-days/{id}": ANY,
    "GET /api/v1/market-days.ics": ANY,
    "POST /api/v1/market-days": STAFF,
    "POST /api/v1/market-days/batch": STAFF,
    "PATCH /api/v1/market-days/{id}": STAFF,
    "POST /api/v1/market-days/{id}/stalls": STAFF,
    "GET /api/v1/market-days/{id}/stalls": ANY,
    "GET /api/v1/stalls/mine": {"operator"},
    "GET /api/v1/stalls/{id}": ANY,
    "POST /api/v1/sales": SELLERS,
    "POST /api/v1/sales/batch": SELLERS,
    "GET /api/v1/sales": SELLERS,
    "GET /api/v1/sales/{id}": SELLERS,
    "POST /api/v1/sales/{id}/void": SELLERS,
    "GET /api/v1/reports/impact": STAFF,
    "GET /api/v1/reports/market-days/{id}": SELLERS,
    "POST /api/v1/orders": {"buyer"},
    "GET /api/v1/orders": USERS,
    "GET /api/v1/orders/{id}": USERS,
    "POST /api/v1/orders/{id}/cancel": {"buyer", "coordinator", "scoped", "admin"},
    "POST /api/v1/orders/{id}/ready": SELLERS,
    "POST /api/v1/orders/{id}/fulfil": SELLERS,
    "POST /api/v1/payments/callback": ANY,
    "POST /api/v1/demo/payments/{id}": {"buyer"},
    "GET /api/v1/institutions": STAFF,
    "GET /api/v1/institutions/{id}": STAFF | {"buyer"},
    "POST /api/v1/institutions": STAFF,
    "PATCH /api/v1/institutions/{id}": STAFF,
    "PUT /api/v1/institutions/{id}/plans/{year}": STAFF,
    "GET /api/v1/institutions/{id}/plans": STAFF | {"buyer"},
    "GET /api/v1/reports/procurement": STAFF,
    "POST /api/v1/producers/{id}/payouts": STAFF,
    "GET /api/v1/producers/{id}/payouts": STAFF,
    "GET /api/v1/producers/{id}/statement": STAFF,
    "GET /api/v1/reports/payouts": STAFF,
    "GET /api/v1/market-days/{id}/picklist": SELLERS,
    "POST /api/v1/webhooks": ADMIN,
    "GET /api/v1/webhooks": ADMIN,
    "PATCH /api/v1/webhooks/{id}": ADMIN,
    "DELETE /api/v1/webhooks/{id}": ADMIN,
    "GET /api/v1/webhooks/{id}/deliveries": ADMIN,
}

# Routes whose writes a region-scoped coordinator may make only in its region.
SCOPED = {"POST /api/v1/producers", "PATCH /api/v1/producers/{id}",
          "POST /api/v1/products", "PATCH /api/v1/products/{id}",
          "POST /api/v1/products/{id}/lots"}


def route_table():
    out = subprocess.run([harness.MARKETCTL, "routes"], capture_output=True,
                         check=True).stdout.decode()
    routes = {}
    for line in out.splitlines():
        method, path, roles = line.split()[:3]
        routes["%s %s" % (method, path)] = line
    return routes


class Roles(harness.ServerTest):
    # Demo mode, so that the demo-only route exists and is checked too.
    server_args = ("--demo",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        cls.tokens = {"anonymous": None}
        cls.tokens["admin"] = srv.user("admin", "admin")
        admin = cls.tokens["admin"]
        for code, name in (("zhenfeng", "贞丰县"), ("qingyuan", "庆元县")):
            r = srv.post("/api/v1/regions", {"code": code, "name": name, "name_en": code,
                                             "province": "p", "partnership": "east_west"},
                         token=admin)
            assert r.status == 201, r
        cls.tokens["buyer"] = srv.user("buyer", "buyer")
        cls.tokens["operator"] = srv.user("operator", "operator")
        cls.tokens["coordinator"] = srv.user("coord", "coordinator")
        cls.tokens["scoped"] = srv.user("coord_zf", "coordinator", region="zhenfeng")
        # Something in the other region, for the scope checks.
        p = srv.post("/api/v1/producers", {"name": "庆元香菇合作社", "region_code": "qingyuan",
                                           "kind": "cooperative", "households": 10,
                                           "poor_households": 2}, token=admin)
        assert p.status == 201, p
        cls.other_producer = p.json["id"]
        q = srv.post("/api/v1/products", {"name": "庆元香菇", "category": "vegetable",
                                          "unit": "250g", "price_fen": 3000, "stock": 5,
                                          "producer_id": cls.other_producer}, token=admin)
        assert q.status == 201, q
        cls.other_product = q.json["id"]
        lot = srv.post("/api/v1/products/%d/lots" % cls.other_product,
                       {"code": "QY-1", "quantity": 3, "packed_on": "2026-05-01"}, token=admin)
        assert lot.status == 201, lot
        cls.other_lot = lot.json["id"]

    def test_expected_matrix_covers_the_route_table(self):
        self.assertEqual(sorted(route_table()), sorted(EXPECTED))

    def test_route_table_roles_match_the_contract(self):
        names = {"anonymous": "anonymous", "buyer": "buyer", "operator": "operator",
                 "coordinator": "coordinator", "admin": "admin"}
        for key, line in route_table().items():
            roles = set(line.split()[2].split(","))
            want = {names[r] for r in EXPECTED[key] if r != "scoped"}
            self.assertEqual(roles, want, key)

    def call(self, key, who):
        method, path = key.split(" ", 1)
        path = path.replace("{id}", "999999").replace("{code}", "nowhere") \
            .replace("{year}", "2026")
        body = {} if method in ("POST", "PATCH", "PUT") else None
        if key == "POST /api/v1/auth/logout" and who != "anonymous":
            # Logging out would revoke the token the other checks use.
            self.tokens[who] = self.srv.login({"buyer": "buyer", "operator": "operator",
                                               "coordinator": "coord", "scoped": "coord_zf",
                                               "admin": "admin"}[who])
            r = self.srv.request(method, path, body=body, token=self.tokens[who])
            self.tokens[who] = self.srv.login({"buyer": "buyer", "operator": "operator",
                                               "coordinator": "coord", "scoped": "coord_zf",
                                               "admin": "admin"}[who])
            return r
        if key == "POST /api/v1/payments/callback":
            # The provider's route: a signed body gets past the signature
            # check (then 400 for the empty body), whoever calls.
            sig = hmac.new(harness.PAYMENT_SECRET.encode(), b"{}",
                           hashlib.sha256).hexdigest()
            return self.srv.request(method, path, raw=b"{}", token=self.tokens[who],
                                    headers={"X-Signature": sig})
        return self.srv.request(method, path, body=body, token=self.tokens[who])

    def test_every_route_for_every_caller(self):
        for key, allowed in sorted(EXPECTED.items()):
            for who in sorted(ANY):
                with self.subTest(route=key, caller=who):
                    r = self.call(key, who)
                    if who in allowed:
                        self.assertNotIn(r.status, (401, 403), r)
                    elif who == "anonymous":
                        self.assertProblem(r, 401, "unauthorized")
                    else:
                        self.assertProblem(r, 403, "forbidden")

    def test_scoped_coordinator_outside_its_region(self):
        tok = self.tokens["scoped"]
        calls = [
            ("POST", "/api/v1/producers", {"name": "x", "region_code": "qingyuan",
                                            "kind": "household", "households": 1,
                                            "poor_households": 0}),
            ("PATCH", "/api/v1/producers/%d" % self.other_producer, {"name": "y"}),
            ("POST", "/api/v1/products", {"name": "x", "category": "other", "unit": "kg",
                                           "price_fen": 100, "stock": 1,
                                           "producer_id": self.other_producer}),
            ("PATCH", "/api/v1/products/%d" % self.other_product, {"price_fen": 1}),
            ("POST", "/api/v1/products/%d/lots" % self.other_product,
             {"code": "QY-2", "quantity": 1, "packed_on": "2026-05-01"}),
            ("GET", "/api/v1/lots/%d/trace" % self.other_lot, None),
        ]
        for method, path, body in calls:
            with self.subTest(method=method, path=path):
                self.assertProblem(self.srv.request(method, path, body=body, token=tok),
                                   403, "forbidden")
        # Nothing changed.
        p = self.srv.get("/api/v1/products/%d" % self.other_product).json
        self.assertEqual(p["price_fen"], 3000)
        self.assertEqual(p["stock"], 5 + 3)
        self.assertEqual([l["code"] for l in self.srv.get(
            "/api/v1/products/%d/lots" % self.other_product).json["items"]], ["QY-1"])
        self.assertEqual(self.srv.get("/api/v1/producers/%d" % self.other_producer)
                         .json["name"], "庆元香菇合作社")
        # The unscoped coordinator may.
        r = self.srv.patch("/api/v1/products/%d" % self.other_product, {"price_fen": 2900},
                           token=self.tokens["coordinator"])
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    harness.main()
