"""Query strings are text: a parameter (name or value) that is not valid
UTF-8 once percent-decoded, or that decodes to a NUL, is `400 bad_json`
on every route (API.md: "Invalid UTF-8 in a request is 400 bad_json"),
before anything else looks at it; valid UTF-8 (Chinese) is served."""
import urllib.parse

import harness

BAD = [
    "%FF%FE",        # not UTF-8 at all
    "%E8%B4",        # a sequence cut short
    "%C0%AF",        # an overlong '/'
    "%ED%A0%80",     # a UTF-16 surrogate
    "%F4%90%80%80",  # beyond U+10FFFF
    "a%00b",         # a NUL, which C strings would cut at
]


class QueryUtf8(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.user("admin1", "admin")

    def routes(self):
        return [
            ("/api/v1/products?q=%s", None),
            ("/api/v1/products?limit=10&q=%s", None),
            ("/api/v1/market-days?channel=%s", None),
            ("/api/v1/regions?x=%s", None),
            ("/api/v1/products/1/prices?cursor=%s", None),
            ("/api/v1/market-days.ics?from=%s", None),
            ("/healthz?who=%s", None),
            ("/api/v1/users?q=%s", self.admin),
            ("/api/v1/audit?cursor=%s", self.admin),
            ("/api/v1/reports/impact?from=2026-01-01&to=2026-12-31&region=%s", self.admin),
            ("/stall/?v=%s", None),
            # Without a token: the query is refused before the login is asked for.
            ("/api/v1/me?x=%s", None),
        ]

    def test_invalid_values_are_bad_json(self):
        for path, token in self.routes():
            for bad in BAD:
                r = self.srv.get(path % bad, token=token)
                self.assertProblem(r, 400, "bad_json")
                self.assertIn("UTF-8", r.json["detail"], r)

    def test_invalid_names_are_bad_json(self):
        for bad in BAD:
            r = self.srv.get("/api/v1/products?%s=1" % bad)
            self.assertProblem(r, 400, "bad_json")
            r = self.srv.get("/api/v1/products?q=tea&%s" % bad)
            self.assertProblem(r, 400, "bad_json")

    def test_chinese_is_served(self):
        q = urllib.parse.quote("贞丰")
        self.assertEqual(self.srv.get("/api/v1/products?q=" + q).status, 200)
        self.assertEqual(self.srv.get("/api/v1/products?q=%E8%B4%9E+%E4%B8%B0").status, 200)
        self.assertEqual(self.srv.get("/api/v1/regions?x=" + q).status, 200)

    def test_chinese_detail(self):
        r = self.srv.get("/api/v1/products?q=%FF", headers={"Accept-Language": "zh-CN"})
        self.assertProblem(r, 400, "bad_json")
        self.assertNotIn("UTF-8 text", r.json["detail"])


if __name__ == "__main__":
    harness.main()
