"""The OpenAPI document: what GET /api/v1/openapi.json serves is a valid
OpenAPI 3.1 document (checked by a real validator, which is shown to reject
a broken copy), and it describes exactly the server's route table: every
route is documented with its method and the roles the router allows, and
every documented operation is routed.

Needs node and the packages of tests/js (npm ci in tests/js; tools/test
does it): without them this test fails, it does not skip.
"""
import copy
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

    def validate(self, doc, name):
        """Runs the validator on doc; returns the completed process."""
        node = shutil.which("node")
        if node is None:
            self.fail("node is not installed: the OpenAPI validator needs "
                      "node >= 20 (tools/test expects it)")
        for pkg in PACKAGES:
            if not os.path.isdir(os.path.join(JS_DIR, "node_modules", pkg)):
                self.fail("%s is not installed in %s/node_modules: run "
                          "`npm ci` in tests/js (tools/test does)" % (pkg, JS_DIR))
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        return subprocess.run([node, VALIDATOR, path], capture_output=True,
                              text=True, timeout=120)

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
