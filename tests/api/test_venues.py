"""Venues: create (coordinators and admins), list in id order with pages,
read one; bad input and wrong callers change nothing."""
import harness

V = "/api/v1/venues"


class T(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.srv
        cls.admin = s.user("admin", "admin")
        cls.coord = s.user("coord1", "coordinator")
        cls.buyer = s.user("buyer1", "buyer")
        cls.operator = s.user("oper1", "operator")

    def body(self, **kw):
        b = {"name": "鼓楼步行街", "kind": "street_market", "subdistrict": "鼓楼街道",
             "address": "海曙区中山西路"}
        b.update(kw)
        return {k: v for k, v in b.items() if v is not ...}

    def all(self):
        items, cursor = [], None
        while True:
            r = self.srv.get(V + "?limit=200" + ("&cursor=" + cursor if cursor else ""))
            self.assertEqual(r.status, 200, r)
            items += r.json["items"]
            cursor = r.json["next_cursor"]
            if cursor is None:
                return items

    def test_create_list_get(self):
        r = self.srv.post(V, self.body(), token=self.coord)
        self.assertEqual(r.status, 201, r)
        v = r.json
        self.assertEqual(v, {"id": v["id"], "name": "鼓楼步行街", "kind": "street_market",
                             "subdistrict": "鼓楼街道", "address": "海曙区中山西路"})
        self.assertEqual(self.srv.get("%s/%d" % (V, v["id"])).json, v)
        self.assertIn(v, self.all())
        r = self.srv.post(V, self.body(name="白云庄", kind="community",
                                       subdistrict="白云街道", address=...),
                          token=self.admin)
        self.assertEqual(r.status, 201, r)
        self.assertIsNone(r.json["address"])
        for kind in ("counter", "institution"):
            r = self.srv.post(V, self.body(kind=kind, address=None), token=self.admin)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["kind"], kind)

    def test_sql_text_verbatim(self):
        text = "'); DELETE FROM venues; --"
        r = self.srv.post(V, self.body(name=text, subdistrict=text, address=text),
                          token=self.admin)
        self.assertEqual(r.status, 201, r)
        got = self.srv.get("%s/%d" % (V, r.json["id"])).json
        self.assertEqual((got["name"], got["subdistrict"], got["address"]),
                         (text, text, text))

    def test_pages(self):
        for i in range(3):
            self.assertEqual(self.srv.post(V, self.body(name="page %d" % i),
                                           token=self.admin).status, 201)
        want = [x["id"] for x in self.all()]
        self.assertEqual(want, sorted(want))
        seen, cursor = [], None
        while True:
            r = self.srv.get(V + "?limit=1" + ("&cursor=" + cursor if cursor else ""))
            self.assertEqual(len(r.json["items"]), 1)
            seen.append(r.json["items"][0]["id"])
            cursor = r.json["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(seen, want)
        self.assertProblem(self.srv.get(V + "?limit=500"), 400, "validation_failed", "limit")
        self.assertProblem(self.srv.get(V + "?cursor=zz"), 400, "validation_failed", "cursor")

    def test_bad_input_and_callers(self):
        before = self.all()
        cases = [
            ({"name": ...}, "name"),
            ({"name": ""}, "name"),
            ({"name": 1}, "name"),
            ({"kind": "park"}, "kind"),
            ({"kind": ...}, "kind"),
            ({"subdistrict": ...}, "subdistrict"),
            ({"subdistrict": ["x"]}, "subdistrict"),
            ({"address": 12}, "address"),
        ]
        for override, field in cases:
            with self.subTest(override=override):
                self.assertProblem(self.srv.post(V, self.body(**override),
                                                 token=self.admin),
                                   400, "validation_failed", field)
        r = self.srv.request("POST", V, raw=b'{"name": "x"}', token=self.admin,
                             headers={"Content-Type": "text/plain"})
        self.assertProblem(r, 415, "unsupported_media_type")
        r = self.srv.request("POST", V, raw=b'{"name": ', token=self.admin)
        self.assertProblem(r, 400, "bad_json")
        self.assertProblem(self.srv.post(V, self.body()), 401, "unauthorized")
        for token in (self.buyer, self.operator):
            self.assertProblem(self.srv.post(V, self.body(), token=token),
                               403, "forbidden")
        self.assertEqual(self.all(), before)

    def test_not_found(self):
        for path in ("/999999", "/0", "/abc"):
            self.assertProblem(self.srv.get(V + path), 404, "not_found")
        self.assertProblem(self.srv.request("PUT", V, token=self.admin),
                           405, "method_not_allowed")


if __name__ == "__main__":
    harness.main()
