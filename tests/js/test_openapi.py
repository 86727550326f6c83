"""The OpenAPI document: what GET /api/v1/openapi.json serves is a valid
OpenAPI 3.1 document (checked by a real validator, which is shown to reject
a broken copy), and it describes exactly the server's route table: every
route is documented with its method and the roles the router allows, and
every documented operation is routed. Real answers of a small scenario
(statuses, media types, bodies) match what the document says.

Needs node and the packages of tests/js (npm ci in tests/js; tools/test
does it): without them this test fails, it does not skip.
"""
import copy
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "api"))
import harness  # noqa: E402

JS_DIR = os.path.join(harness.SOURCE, "tests", "js")
VALIDATOR = os.path.join(JS_DIR, "validate_openapi.mjs")
PACKAGES = ("@readme/openapi-parser", "ajv")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ROLES = ("anonymous", "buyer", "operator", "coordinator", "admin")


def route_table():
    """{(METHOD, path): (roles, scoped)} from `marketctl routes`."""
    p = subprocess.run([harness.MARKETCTL, "routes"], capture_output=True,
                       text=True, check=True)
    routes = {}
    for line in p.stdout.splitlines():
        m = re.fullmatch(r"([A-Z]+) (/\S*)(?: ([a-z,]+))?( scoped)?", line)
        if m is None:
            raise AssertionError("marketctl routes: unexpected line %r" % line)
        key = (m.group(1), m.group(2))
        if key in routes:
            raise AssertionError("route %s %s is in the table twice" % key)
        roles = frozenset(m.group(3).split(",")) if m.group(3) else frozenset()
        routes[key] = (roles, m.group(4) is not None)
    return routes


def operations(doc):
    """{(METHOD, path): operation} of an OpenAPI document."""
    return {(method.upper(), path): op
            for path, item in doc["paths"].items()
            for method, op in item.items() if method in METHODS}


class OpenApi(harness.ServerTest):
    # Demo mode: the demo-only route is routed, so it is checked too.
    server_args = ("--demo",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="market-openapi-")
        r = cls.srv.get("/api/v1/openapi.json")
        cls.response = r
        cls.doc = json.loads(r.body.decode("utf-8")) if r.status == 200 else None

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def validate(self, doc, name, responses=None):
        """Runs the validator on doc (and the recorded responses, when
        given); returns the completed process."""
        node = shutil.which("node")
        if node is None:
            self.fail("node is not installed: the OpenAPI validator runs on "
                      "Node.js (tools/test installs Debian's nodejs)")
        for pkg in PACKAGES:
            if not os.path.isdir(os.path.join(JS_DIR, "node_modules", pkg)):
                self.fail("%s is not installed in %s/node_modules: run "
                          "`npm ci` in tests/js (tools/test does)" % (pkg, JS_DIR))
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        args = [node, VALIDATOR, path]
        if responses is not None:
            rpath = path + ".responses.json"
            with open(rpath, "w", encoding="utf-8") as f:
                json.dump(responses, f, ensure_ascii=False)
            args += ["--responses", rpath]
        return subprocess.run(args, capture_output=True, text=True, timeout=120)

    def test_served_as_json(self):
        r = self.response
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("application/json"),
                        r.headers)
        self.assertEqual(self.doc["openapi"], "3.1.0")
        self.assertEqual(self.doc["info"]["version"], "1")

    def test_document_is_valid_openapi_3_1(self):
        p = self.validate(self.doc, "openapi.json")
        self.assertEqual(p.returncode, 0,
                         "validator rejected the served document:\n%s%s"
                         % (p.stdout, p.stderr))

    def test_validator_rejects_a_broken_document(self):
        # Without info (required by the OpenAPI schema).
        broken = copy.deepcopy(self.doc)
        del broken["info"]
        p = self.validate(broken, "no-info.json")
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("info", p.stderr)
        # A misspelt JSON Schema keyword inside a component schema.
        broken = copy.deepcopy(self.doc)
        broken["components"]["schemas"]["Problem"]["minLenght"] = 1
        p = self.validate(broken, "typo.json")
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("minLenght", p.stderr)
        # A path parameter that is not declared.
        broken = copy.deepcopy(self.doc)
        item = broken["paths"]["/api/v1/regions/{code}"]
        item.pop("parameters", None)
        for op in item.values():
            if isinstance(op, dict):
                op.pop("parameters", None)
        p = self.validate(broken, "no-param.json")
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("code", p.stderr)
        # Answers the document does not describe.
        p = self.validate(self.doc, "answers.json", responses=[
            {"method": "GET", "path": "/healthz", "status": 200,
             "content_type": "application/json", "body": {"status": "fine"}},
            {"method": "GET", "path": "/api/v1/regions/{code}", "status": 200,
             "content_type": "text/plain", "body": "zhenfeng"}])
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("GET /healthz -> 200: body/status", p.stderr)
        self.assertIn("media type text/plain not documented", p.stderr)

    def test_every_route_is_documented(self):
        ops = operations(self.doc)
        missing = ["%s %s" % k for k in sorted(route_table()) if k not in ops]
        self.assertEqual(missing, [], "routes missing from openapi.yaml")

    def test_every_operation_is_routed(self):
        routes = route_table()
        extra = ["%s %s" % k for k in sorted(operations(self.doc))
                 if k not in routes]
        self.assertEqual(extra, [], "documented operations the server lacks")

    def test_roles_match_the_route_table(self):
        routes = route_table()
        wrong = []
        for key, op in sorted(operations(self.doc).items()):
            if key not in routes:
                continue
            roles, scoped = routes[key]
            doc_roles = frozenset(op.get("x-roles", ()))
            doc_scoped = bool(op.get("x-region-scoped", False))
            self.assertTrue(doc_roles <= set(ROLES), (key, doc_roles))
            if doc_roles != roles or doc_scoped != scoped:
                wrong.append("%s %s: documented %s%s, routed %s%s" % (
                    key[0], key[1], ",".join(sorted(doc_roles)),
                    " scoped" if doc_scoped else "",
                    ",".join(sorted(roles)), " scoped" if scoped else ""))
            # Who may call it is said in words too.
            self.assertIn("Roles:", op.get("description", ""), key)
        self.assertEqual(wrong, [], "x-roles disagree with the route table")

    def test_security_follows_roles(self):
        """Public operations take an optional token; the others require one."""
        for key, op in sorted(operations(self.doc).items()):
            public = "anonymous" in op.get("x-roles", ())
            expected = [{}, {"bearerAuth": []}] if public else [{"bearerAuth": []}]
            self.assertEqual(op.get("security"), expected, key)
            self.assertIn("401", op["responses"], key)
            if set(op.get("x-roles", ())) < set(ROLES[1:]):
                self.assertIn("403", op["responses"], key)

    def test_error_codes_match_the_error_table(self):
        """Problem.code lists every code of server/http/errors.c."""
        with open(os.path.join(harness.SOURCE, "server", "http", "errors.c"),
                  encoding="utf-8") as f:
            table = dict((code, int(status)) for status, code in re.findall(
                r'\[E_\w+\] = \{(\d+), "(\w+)"', f.read()))
        table.pop("ok", None)
        self.assertGreaterEqual(len(table), 19, table)
        problem = self.doc["components"]["schemas"]["Problem"]
        self.assertEqual(sorted(problem["properties"]["code"]["enum"]),
                         sorted(table))
        self.assertEqual(problem["required"], ["type", "title", "status", "code"])

    def test_served_errors_are_documented_problems(self):
        """A real error reply has the documented problem shape."""
        problem = self.doc["components"]["schemas"]["Problem"]
        codes = problem["properties"]["code"]["enum"]
        for method, path, status in (("GET", "/api/v1/no-such-thing", 404),
                                     ("GET", "/api/v1/me", 401),
                                     ("DELETE", "/api/v1/regions", 405)):
            r = self.srv.request(method, path)
            self.assertProblem(r, status, r.json.get("code"))
            self.assertIn(r.json["code"], codes, r)
            for field in problem["required"]:
                self.assertIn(field, r.json, r)

    def test_answers_match_the_document(self):
        """A scenario over every resource: each answer's status is
        documented for its operation, with its media type, and the body
        matches the schema."""
        srv, seen = self.srv, []

        def call(method, template, expect, path=None, **kw):
            r = srv.request(method, path or template, **kw)
            self.assertEqual(r.status, expect, "%s %s: %r" % (method, path or template, r))
            ctype = r.header("content-type") or ""
            if not r.body:
                body = None
            elif "json" in ctype:
                body = r.json
            else:
                body = r.body.decode("utf-8")
            seen.append({"method": method, "path": template, "status": r.status,
                         "content_type": ctype, "body": body})
            return r

        admin = srv.user("oa-admin", "admin")
        coord = srv.user("oa-coord", "coordinator")
        oper = srv.user("oa-oper", "operator")
        other = srv.user("oa-other", "operator")
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

        call("GET", "/healthz", 200)
        call("POST", "/api/v1/auth/register", 201,
             body={"username": "oa-buyer", "password": "password123"})
        call("POST", "/api/v1/auth/register", 409,
             body={"username": "oa-buyer", "password": "password123"})
        call("POST", "/api/v1/auth/register", 400, body={"username": "x"})
        call("POST", "/api/v1/auth/register", 415, raw=b"{}",
             headers={"Content-Type": "text/plain"})
        buyer = call("POST", "/api/v1/auth/login", 200,
                     body={"username": "oa-buyer", "password": "password123"}).json["token"]
        call("POST", "/api/v1/auth/login", 401,
             body={"username": "oa-buyer", "password": "wrong-password"})
        call("GET", "/api/v1/me", 200, token=buyer)
        call("GET", "/api/v1/me", 401)
        call("POST", "/api/v1/auth/logout", 204, token=buyer)
        call("GET", "/api/v1/me", 401, token=buyer)

        call("POST", "/api/v1/regions", 201, token=admin, body={
            "code": "oa-region", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "贵州", "partnership": "east_west"})
        call("POST", "/api/v1/regions", 409, token=admin, body={
            "code": "oa-region", "name": "x", "name_en": "x", "province": "x",
            "partnership": "other"})
        call("POST", "/api/v1/regions", 403, token=coord, body={})
        call("GET", "/api/v1/regions", 200)
        call("GET", "/api/v1/regions/{code}", 200, "/api/v1/regions/oa-region")
        call("GET", "/api/v1/regions/{code}", 404, "/api/v1/regions/nowhere")

        call("POST", "/api/v1/users", 201, token=admin, body={
            "username": "oa-scoped", "password": "password123",
            "role": "coordinator", "region_code": "oa-region"})
        users = call("GET", "/api/v1/users", 200, token=admin, path="/api/v1/users?limit=2")
        self.assertIsNotNone(users.json["next_cursor"])
        uid = users.json["items"][0]["id"]
        call("PATCH", "/api/v1/users/{id}", 200, "/api/v1/users/%d" % uid,
             token=admin, body={"display_name": "管理员"})
        call("PATCH", "/api/v1/users/{id}", 404, "/api/v1/users/999999",
             token=admin, body={"display_name": "x"})
        call("GET", "/api/v1/users", 403, token=coord)

        producer = call("POST", "/api/v1/producers", 201, token=coord, body={
            "name": "贞丰合作社", "region_code": "oa-region", "kind": "cooperative",
            "households": 40, "poor_households": 12, "contact_phone": "0859-1234567"}).json
        pid = producer["id"]
        call("POST", "/api/v1/producers", 400, token=coord, body={
            "name": "x", "region_code": "oa-region", "kind": "cooperative",
            "households": 1, "poor_households": 2})
        call("GET", "/api/v1/producers", 200, path="/api/v1/producers?region=oa-region")
        call("GET", "/api/v1/producers/{id}", 200, "/api/v1/producers/%d" % pid)
        call("GET", "/api/v1/producers/{id}", 200, "/api/v1/producers/%d" % pid, token=admin)
        call("PATCH", "/api/v1/producers/{id}", 200, "/api/v1/producers/%d" % pid,
             token=admin, body={"households": 41})
        call("GET", "/api/v1/producers/{id}", 404, "/api/v1/producers/999999")

        product = call("POST", "/api/v1/products", 201, token=coord, body={
            "name": "贞丰李子", "category": "fruit", "unit": "500g bag",
            "price_fen": 1280, "stock": 100, "producer_id": pid,
            "certified": True, "certificate_no": "CN-1"}).json
        prod = product["id"]
        lst = call("GET", "/api/v1/products", 200)
        call("GET", "/api/v1/products", 304,
             headers={"If-None-Match": lst.header("etag")})
        call("GET", "/api/v1/products", 400, path="/api/v1/products?limit=0")
        call("GET", "/api/v1/products/{id}", 200, "/api/v1/products/%d" % prod)
        call("PATCH", "/api/v1/products/{id}", 200, "/api/v1/products/%d" % prod,
             token=coord, body={"price_fen": 1200})
        call("GET", "/api/v1/products/{id}/prices", 200, "/api/v1/products/%d/prices" % prod)
        call("GET", "/api/v1/products/{id}/prices", 404, "/api/v1/products/999999/prices")
        lots = "/api/v1/products/%d/lots" % prod
        lot_in = {"code": "ZF-0501", "quantity": 10, "packed_on": "2020-05-01",
                  "best_before": "2020-06-01", "origin": "者相镇"}
        lot = call("POST", "/api/v1/products/{id}/lots", 201, lots, token=coord,
                   body=lot_in).json
        call("POST", "/api/v1/products/{id}/lots", 409, lots, token=coord, body=lot_in)
        call("POST", "/api/v1/products/{id}/lots", 400, lots, token=coord,
             body=dict(lot_in, code="not a code"))
        call("POST", "/api/v1/products/{id}/lots", 404, "/api/v1/products/999999/lots",
             token=coord, body=lot_in)
        call("POST", "/api/v1/products/{id}/lots", 403, lots, token=oper, body=lot_in)
        call("POST", "/api/v1/products/{id}/lots", 401, lots, body=lot_in)
        call("GET", "/api/v1/products/{id}/lots", 200, lots)
        call("GET", "/api/v1/products/{id}/lots", 404, "/api/v1/products/999999/lots")
        call("GET", "/api/v1/lots/{id}", 200, "/api/v1/lots/%d" % lot["id"])
        call("GET", "/api/v1/lots/{id}", 404, "/api/v1/lots/999999")
        call("POST", "/api/v1/products", 413, token=coord,
             raw=b'{"name": "' + b"x" * (1024 * 1024) + b'"}')

        venue = call("POST", "/api/v1/venues", 201, token=coord, body={
            "name": "黔货出山街市", "kind": "street_market", "subdistrict": "五里河"}).json
        call("GET", "/api/v1/venues", 200)
        call("GET", "/api/v1/venues/{id}", 200, "/api/v1/venues/%d" % venue["id"])
        call("GET", "/api/v1/venues/{id}", 404, "/api/v1/venues/999999")

        day = {"venue_id": venue["id"], "date": "2020-05-01", "opens_at": "09:00",
               "closes_at": "17:00", "channel": "holiday_market", "title": "五一"}
        md = call("POST", "/api/v1/market-days", 201, token=coord, body=day).json
        call("POST", "/api/v1/market-days", 409, token=coord, body=day)
        call("POST", "/api/v1/market-days/batch", 201, token=coord, body={"items": [
            dict(day, date="2020-05-02"), dict(day, date="2020-05-03")]})
        call("GET", "/api/v1/market-days", 200, path="/api/v1/market-days?from=2020-05-01")
        call("GET", "/api/v1/market-days.ics", 200)
        call("GET", "/api/v1/market-days/{id}", 200, "/api/v1/market-days/%d" % md["id"])
        call("PATCH", "/api/v1/market-days/{id}", 200, "/api/v1/market-days/%d" % md["id"],
             token=coord, body={"status": "open"})

        stalls = "/api/v1/market-days/%d/stalls" % md["id"]
        stall = call("POST", "/api/v1/market-days/{id}/stalls", 201, stalls, token=coord,
                     body={"operator_id": self.user_id("oa-oper"),
                           "producer_id": pid, "label": "A1"}).json
        call("POST", "/api/v1/market-days/{id}/stalls", 409, stalls, token=coord,
             body={"operator_id": self.user_id("oa-oper"),
                   "producer_id": pid, "label": "A1"})
        call("GET", "/api/v1/market-days/{id}/stalls", 200, stalls)
        call("GET", "/api/v1/stalls/mine", 200, token=oper)
        call("GET", "/api/v1/stalls/{id}", 200, "/api/v1/stalls/%d" % stall["id"])

        sale = {"id": "oa-sale-0001", "stall_id": stall["id"], "recorded_at": now,
                "payment": "wechat", "lines": [{"product_id": prod, "quantity": 2}]}
        call("POST", "/api/v1/sales", 201, token=oper, body=sale)
        call("POST", "/api/v1/sales", 200, token=oper, body=sale)
        call("POST", "/api/v1/sales", 409, token=oper, body=dict(sale, payment="cash"))
        call("POST", "/api/v1/sales", 403, token=other, body=dict(sale, id="oa-sale-0002"))
        call("POST", "/api/v1/sales/batch", 200, token=oper, body={"sales": [
            dict(sale, id="oa-sale-0003"), sale, dict(sale, id="oa-sale-0004", lines=[])]})
        call("GET", "/api/v1/sales", 200, token=oper)
        call("GET", "/api/v1/sales/{id}", 200, "/api/v1/sales/oa-sale-0001", token=oper)
        call("POST", "/api/v1/sales/{id}/void", 200, "/api/v1/sales/oa-sale-0001/void",
             token=coord, body={"reason": "mistake"})
        call("POST", "/api/v1/sales/{id}/void", 409, "/api/v1/sales/oa-sale-0001/void",
             token=coord, body={"reason": "mistake"})
        call("POST", "/api/v1/sales/{id}/void", 404, "/api/v1/sales/oa-nothing-1/void",
             token=coord, body={"reason": "mistake"})
        trace = "/api/v1/lots/%d/trace" % lot["id"]
        t = call("GET", "/api/v1/lots/{id}/trace", 200, trace, token=coord).json
        self.assertEqual([e["kind"] for e in t["events"]],
                         ["received", "sold", "sold", "returned"])
        call("GET", "/api/v1/lots/{id}/trace", 200, trace + "?format=csv", token=coord)
        call("GET", "/api/v1/lots/{id}/trace", 400, trace + "?format=xml", token=coord)
        call("GET", "/api/v1/lots/{id}/trace", 403, trace, token=oper)
        call("GET", "/api/v1/lots/{id}/trace", 404, "/api/v1/lots/999999/trace", token=coord)

        shopper = srv.user("oa-shopper", "buyer")
        order = call("POST", "/api/v1/orders", 201, token=shopper, body={
            "lines": [{"product_id": prod, "quantity": 1}],
            "fulfillment": {"type": "delivery", "address": {
                "name": "王女士", "phone": "13800000000", "line1": "中山西路 1 号",
                "city": "宁波"}}}).json
        demo = "/api/v1/demo/payments/{id}"
        call("POST", demo, 200, demo.replace("{id}", str(order["id"])), token=shopper)
        call("POST", demo, 404, demo.replace("{id}", "999999"), token=shopper)
        call("POST", demo, 403, demo.replace("{id}", str(order["id"])), token=coord)
        other_order = call("POST", "/api/v1/orders", 201, token=shopper, body={
            "lines": [{"product_id": prod, "quantity": 1}],
            "fulfillment": order["fulfillment"]}).json
        call("POST", "/api/v1/orders/{id}/cancel", 200,
             "/api/v1/orders/%d/cancel" % other_order["id"], token=shopper)
        call("POST", demo, 409, demo.replace("{id}", str(other_order["id"])), token=shopper)

        # API.md 1.1: institutions, plans and procurement; payouts and
        # statements; the pick list.
        canteen = call("POST", "/api/v1/venues", 201, token=coord, body={
            "name": "区政府食堂", "kind": "institution", "subdistrict": "鼓楼街道"}).json
        inst = call("POST", "/api/v1/institutions", 201, token=coord, body={
            "name": "海曙区第一医院", "kind": "hospital", "subdistrict": "鼓楼街道",
            "venue_id": canteen["id"]}).json
        call("POST", "/api/v1/institutions", 400, token=coord, body={"name": "x"})
        call("GET", "/api/v1/institutions", 200, token=coord,
             path="/api/v1/institutions?kind=hospital")
        ipath = "/api/v1/institutions/%d" % inst["id"]
        call("GET", "/api/v1/institutions/{id}", 200, ipath, token=admin)
        call("GET", "/api/v1/institutions/{id}", 404, "/api/v1/institutions/999999",
             token=admin)
        call("PATCH", "/api/v1/institutions/{id}", 200, ipath, token=coord,
             body={"venue_id": None})
        call("PUT", "/api/v1/institutions/{id}/plans/{year}", 200, ipath + "/plans/2026",
             token=coord, body={"food_budget_fen": 8_500_000_000, "reserved_share_bp": 1500})
        call("PUT", "/api/v1/institutions/{id}/plans/{year}", 400, ipath + "/plans/1999",
             token=coord, body={"food_budget_fen": 1})
        call("GET", "/api/v1/institutions/{id}/plans", 200, ipath + "/plans", token=coord)
        member = srv.user("oa-member", "buyer")
        call("PATCH", "/api/v1/users/{id}", 200, "/api/v1/users/%d" %
             self.user_id("oa-member"), token=admin, body={"institution_id": inst["id"]})
        call("GET", "/api/v1/institutions/{id}", 200, ipath, token=member)
        call("GET", "/api/v1/reports/procurement", 200, token=coord,
             path="/api/v1/reports/procurement?year=2026&as_of=2026-07-01")
        call("GET", "/api/v1/reports/procurement", 200, token=coord,
             path="/api/v1/reports/procurement?year=2026&format=csv")
        call("GET", "/api/v1/reports/procurement", 403, token=oper)

        payouts = "/api/v1/producers/%d/payouts" % pid
        call("POST", "/api/v1/producers/{id}/payouts", 201, payouts, token=coord,
             body={"amount_fen": 1000, "paid_on": "2020-05-02", "reference": "ICBC-1"})
        call("POST", "/api/v1/producers/{id}/payouts", 201, payouts, token=coord,
             body={"amount_fen": -100, "paid_on": "2020-05-03", "reference": "ICBC-2",
                   "note": "多付"})
        call("POST", "/api/v1/producers/{id}/payouts", 400, payouts, token=coord,
             body={"amount_fen": -100, "paid_on": "2020-05-03", "reference": "ICBC-3"})
        call("GET", "/api/v1/producers/{id}/payouts", 200, payouts, token=coord)
        st = "/api/v1/producers/%d/statement?from=2020-05-01&to=2020-05-31" % pid
        call("GET", "/api/v1/producers/{id}/statement", 200, st, token=coord)
        call("GET", "/api/v1/producers/{id}/statement", 200, st + "&format=csv", token=coord)
        call("GET", "/api/v1/producers/{id}/statement", 404,
             "/api/v1/producers/999999/statement?from=2020-05-01&to=2020-05-31", token=coord)
        rp = "/api/v1/reports/payouts?from=2020-05-01&to=2020-05-31"
        call("GET", "/api/v1/reports/payouts", 200, rp, token=coord)
        call("GET", "/api/v1/reports/payouts", 200, rp + "&format=csv", token=coord)
        call("GET", "/api/v1/reports/payouts", 400, "/api/v1/reports/payouts", token=coord)

        pick = "/api/v1/market-days/%d/picklist" % md["id"]
        call("GET", "/api/v1/market-days/{id}/picklist", 200, pick, token=oper)
        call("GET", "/api/v1/market-days/{id}/picklist", 200, pick + "?format=csv",
             token=coord)
        call("GET", "/api/v1/market-days/{id}/picklist", 403, pick, token=other)
        hook = call("POST", "/api/v1/webhooks", 201, token=admin, body={
            "url": "https://93.184.216.34/hooks", "events": ["order.paid", "sale.recorded"],
            "description": "832 平台"}).json
        call("POST", "/api/v1/webhooks", 400, token=admin, body={
            "url": "https://127.0.0.1/hooks", "events": ["order.paid"]})
        call("POST", "/api/v1/webhooks", 403, token=coord, body={})
        call("GET", "/api/v1/webhooks", 200, token=admin)
        call("PATCH", "/api/v1/webhooks/{id}", 200, "/api/v1/webhooks/%d" % hook["id"],
             token=admin, body={"active": False, "description": None})
        call("PATCH", "/api/v1/webhooks/{id}", 404, "/api/v1/webhooks/999999",
             token=admin, body={"active": False})
        call("GET", "/api/v1/webhooks/{id}/deliveries", 200,
             "/api/v1/webhooks/%d/deliveries" % hook["id"], token=admin)
        call("DELETE", "/api/v1/webhooks/{id}", 204, "/api/v1/webhooks/%d" % hook["id"],
             token=admin)
        call("DELETE", "/api/v1/webhooks/{id}", 404, "/api/v1/webhooks/%d" % hook["id"],
             token=admin)

        p = self.validate(self.doc, "scenario.json", responses=seen)
        self.assertEqual(p.returncode, 0, "answers disagree with the document:\n%s%s"
                         % (p.stdout, p.stderr))

    def user_id(self, username):
        """The id of a user, as an admin sees it."""
        token = getattr(type(self), "_admin_token", None)
        if token is None:
            token = type(self)._admin_token = self.srv.user("oa-lister", "admin")
        cursor = None
        while True:
            path = "/api/v1/users?limit=200" + ("&cursor=" + cursor if cursor else "")
            r = self.srv.get(path, token=token)
            self.assertEqual(r.status, 200, r)
            for u in r.json["items"]:
                if u["username"] == username:
                    return u["id"]
            cursor = r.json["next_cursor"]
            if cursor is None:
                self.fail("no user %s" % username)

    def test_money_fields_are_int64(self):
        def walk(node, where):
            if isinstance(node, dict):
                for k, v in node.get("properties", {}).items():
                    if k.endswith("_fen"):
                        self.assertEqual((v.get("type"), v.get("format")),
                                         ("integer", "int64"), where + "." + k)
                for k, v in node.items():
                    walk(v, where + "/" + k)
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, "%s/%d" % (where, i))
        walk(self.doc["components"]["schemas"], "#/components/schemas")


if __name__ == "__main__":
    harness.main()
