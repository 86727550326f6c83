"""Producers: create, read, list by region, patch; the household rule;
region scope for coordinators; contact_phone only for those who manage
the producer; every error leaves the stored producers unchanged."""
import harness

P = "/api/v1/producers"
SQL = "x'); DROP TABLE producers; --"


class T(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.srv
        cls.admin = s.user("admin", "admin")
        for code, name in (("zhenfeng", "贞丰县"), ("qingyuan", "庆元县")):
            r = s.post("/api/v1/regions", {
                "code": code, "name": name, "name_en": code.title(),
                "province": "Guizhou", "partnership": "east_west"},
                token=cls.admin)
            assert r.status == 201, r
        cls.coord = s.user("coord1", "coordinator")
        cls.cz = s.user("coord_zf", "coordinator", region="zhenfeng")
        cls.buyer = s.user("buyer1", "buyer")

    def body(self, **kw):
        b = {"name": "贞丰县鲁容乡李子合作社", "region_code": "zhenfeng",
             "kind": "cooperative", "households": 120,
             "poor_households": 40, "contact_phone": "0859-1234567"}
        b.update(kw)
        return {k: v for k, v in b.items() if v is not ...}

    def create(self, token=None, **kw):
        r = self.srv.post(P, self.body(**kw), token=token or self.admin)
        self.assertEqual(r.status, 201, r)
        return r.json

    def all(self):
        """Every stored producer, as the admin sees it."""
        items, cursor = [], None
        while True:
            q = P + "?limit=200" + ("&cursor=" + cursor if cursor else "")
            r = self.srv.get(q, token=self.admin)
            self.assertEqual(r.status, 200, r)
            items += r.json["items"]
            cursor = r.json["next_cursor"]
            if cursor is None:
                return items

    def test_create_get_and_chinese_round_trip(self):
        p = self.create()
        self.assertEqual(p["name"], "贞丰县鲁容乡李子合作社")
        self.assertEqual((p["region_code"], p["kind"], p["households"],
                          p["poor_households"], p["contact_phone"]),
                         ("zhenfeng", "cooperative", 120, 40, "0859-1234567"))
        self.assertIsInstance(p["id"], int)
        r = self.srv.get("%s/%d" % (P, p["id"]), token=self.admin)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, p)
        self.assertIn("贞丰县鲁容乡李子合作社".encode("utf-8"), r.body)

    def test_contact_phone_optional_and_nullable(self):
        p = self.create(contact_phone=...)
        self.assertIsNone(p["contact_phone"])
        p = self.create(contact_phone=None)
        self.assertIsNone(p["contact_phone"])

    def test_sql_text_stored_verbatim(self):
        p = self.create(name=SQL, contact_phone="1' OR '1'='1")
        r = self.srv.get("%s/%d" % (P, p["id"]), token=self.admin)
        self.assertEqual(r.json["name"], SQL)
        self.assertEqual(r.json["contact_phone"], "1' OR '1'='1")
        self.assertIn(p["id"], [x["id"] for x in self.all()])

    def test_contact_phone_visibility(self):
        pz = self.create(contact_phone="111")
        pq = self.create(region_code="qingyuan", contact_phone="222")
        for token in (None, self.buyer):
            for p in (pz, pq):
                r = self.srv.get("%s/%d" % (P, p["id"]), token=token)
                self.assertEqual(r.status, 200)
                self.assertNotIn("contact_phone", r.json)
            r = self.srv.get(P + "?limit=200", token=token)
            for x in r.json["items"]:
                self.assertNotIn("contact_phone", x)
        for token in (self.admin, self.coord):
            r = self.srv.get("%s/%d" % (P, pq["id"]), token=token)
            self.assertEqual(r.json["contact_phone"], "222")
            r = self.srv.get(P + "?limit=200", token=token)
            for x in r.json["items"]:
                self.assertIn("contact_phone", x)
        # A scoped coordinator sees the phone of its own region only.
        r = self.srv.get("%s/%d" % (P, pz["id"]), token=self.cz)
        self.assertEqual(r.json["contact_phone"], "111")
        r = self.srv.get("%s/%d" % (P, pq["id"]), token=self.cz)
        self.assertEqual(r.status, 200)
        self.assertNotIn("contact_phone", r.json)
        r = self.srv.get(P + "?limit=200", token=self.cz)
        for x in r.json["items"]:
            self.assertEqual("contact_phone" in x, x["region_code"] == "zhenfeng", x)

    def test_list_region_filter_and_pages(self):
        made = [self.create(region_code="qingyuan", name="庆元 %d" % i)["id"]
                for i in range(3)]
        r = self.srv.get(P + "?region=qingyuan&limit=200")
        self.assertEqual(r.status, 200)
        ids = [x["id"] for x in r.json["items"]]
        self.assertTrue(set(made) <= set(ids))
        self.assertTrue(all(x["region_code"] == "qingyuan" for x in r.json["items"]))
        self.assertEqual(ids, sorted(ids))
        r = self.srv.get(P + "?region=nowhere")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, {"items": [], "next_cursor": None})
        # Page through one at a time: every producer once, in id order.
        seen, cursor = [], None
        while True:
            r = self.srv.get(P + "?region=qingyuan&limit=1" +
                             ("&cursor=" + cursor if cursor else ""))
            self.assertEqual(r.status, 200)
            self.assertLessEqual(len(r.json["items"]), 1)
            seen += [x["id"] for x in r.json["items"]]
            cursor = r.json["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(seen, ids)

    def test_list_bad_paging(self):
        self.assertProblem(self.srv.get(P + "?limit=0"), 400, "validation_failed", "limit")
        self.assertProblem(self.srv.get(P + "?limit=201"), 400, "validation_failed", "limit")
        self.assertProblem(self.srv.get(P + "?cursor=@@@"), 400, "validation_failed", "cursor")

    def test_bad_input_is_refused_and_nothing_stored(self):
        before = self.all()
        cases = [
            ({"name": ...}, "name"),
            ({"name": ""}, "name"),
            ({"name": 5}, "name"),
            ({"region_code": ...}, "region_code"),
            ({"region_code": "nowhere"}, "region_code"),
            ({"region_code": 7}, "region_code"),
            ({"kind": "farm"}, "kind"),
            ({"kind": ...}, "kind"),
            ({"households": ...}, "households"),
            ({"households": -1}, "households"),
            ({"households": "120"}, "households"),
            ({"households": 1.5}, "households"),
            ({"households": 99999999999999999999}, "households"),
            ({"poor_households": ...}, "poor_households"),
            ({"poor_households": -1}, "poor_households"),
            ({"poor_households": 121}, "poor_households"),
            ({"households": 0, "poor_households": 1}, "poor_households"),
            ({"poor_households": 2 ** 63}, "poor_households"),
            ({"contact_phone": 12345}, "contact_phone"),
        ]
        for override, field in cases:
            with self.subTest(override=override):
                r = self.srv.post(P, self.body(**override), token=self.admin)
                self.assertProblem(r, 400, "validation_failed", field)
        self.assertEqual(self.all(), before)

    def test_media_type_json_and_auth(self):
        before = self.all()
        raw = b'{"name": "x", "region_code": "zhenfeng", "kind": "household", ' \
              b'"households": 1, "poor_households": 1}'
        r = self.srv.request("POST", P, raw=raw, token=self.admin,
                             headers={"Content-Type": "text/plain"})
        self.assertProblem(r, 415, "unsupported_media_type")
        r = self.srv.request("POST", P, raw=raw, token=self.admin,
                             headers={"Content-Type": None})
        self.assertProblem(r, 415, "unsupported_media_type")
        r = self.srv.request("POST", P, raw=b'{"name": ', token=self.admin)
        self.assertProblem(r, 400, "bad_json")
        r = self.srv.request("POST", P, raw=b'[1, 2]', token=self.admin)
        self.assertProblem(r, 400, "bad_json")
        self.assertProblem(self.srv.post(P, self.body()), 401, "unauthorized")
        self.assertProblem(self.srv.post(P, self.body(), token="nonsense"),
                           401, "unauthorized")
        self.assertProblem(self.srv.post(P, self.body(), token=self.buyer),
                           403, "forbidden")
        self.assertEqual(self.all(), before)

    def test_not_found(self):
        self.assertProblem(self.srv.get(P + "/999999"), 404, "not_found")
        self.assertProblem(self.srv.get(P + "/abc"), 404, "not_found")
        self.assertProblem(self.srv.get(P + "/0"), 404, "not_found")
        self.assertProblem(self.srv.patch(P + "/999999", {"name": "x"},
                                          token=self.admin), 404, "not_found")
        self.assertProblem(self.srv.request("DELETE", P + "/1", token=self.admin),
                           405, "method_not_allowed")

    def test_patch(self):
        p = self.create(households=10, poor_households=5)
        url = "%s/%d" % (P, p["id"])
        r = self.srv.patch(url, {"name": "新名字", "households": 20,
                                 "poor_households": 15, "contact_phone": None,
                                 "kind": "enterprise"}, token=self.coord)
        self.assertEqual(r.status, 200, r)
        want = dict(p, name="新名字", households=20, poor_households=15,
                    contact_phone=None, kind="enterprise")
        self.assertEqual(r.json, want)
        self.assertEqual(self.srv.get(url, token=self.admin).json, want)
        r = self.srv.patch(url, {"region_code": "qingyuan"}, token=self.admin)
        self.assertEqual(r.json["region_code"], "qingyuan")
        want["region_code"] = "qingyuan"
        # An empty patch changes nothing.
        r = self.srv.patch(url, {}, token=self.admin)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, want)

    def test_patch_checks_the_merged_producer(self):
        p = self.create(households=10, poor_households=5)
        url = "%s/%d" % (P, p["id"])
        cases = [
            ({"poor_households": 11}, "poor_households"),
            ({"households": 4}, "poor_households"),
            ({"households": 3, "poor_households": 4}, "poor_households"),
            ({"households": -1}, "households"),
            ({"households": 1.5}, "households"),
            ({"name": None}, "name"),
            ({"name": ""}, "name"),
            ({"kind": "farm"}, "kind"),
            ({"region_code": "nowhere"}, "region_code"),
            ({"region_code": None}, "region_code"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                r = self.srv.patch(url, body, token=self.admin)
                self.assertProblem(r, 400, "validation_failed", field)
        self.assertEqual(self.srv.get(url, token=self.admin).json, p)
        r = self.srv.request("PATCH", url, raw=b'{"households": 1}', token=self.admin,
                             headers={"Content-Type": "text/plain"})
        self.assertProblem(r, 415, "unsupported_media_type")
        self.assertProblem(self.srv.patch(url, {"name": "x"}), 401, "unauthorized")
        self.assertProblem(self.srv.patch(url, {"name": "x"}, token=self.buyer),
                           403, "forbidden")
        self.assertEqual(self.srv.get(url, token=self.admin).json, p)

    def test_scoped_coordinator(self):
        before = self.all()
        r = self.srv.post(P, self.body(region_code="qingyuan"), token=self.cz)
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(self.all(), before)
        own = self.create(token=self.cz)
        self.assertEqual(own["region_code"], "zhenfeng")
        self.assertIn("contact_phone", own)
        other = self.create(region_code="qingyuan")
        url = "%s/%d" % (P, other["id"])
        self.assertProblem(self.srv.patch(url, {"name": "mine"}, token=self.cz),
                           403, "forbidden")
        self.assertEqual(self.srv.get(url, token=self.admin).json, other)
        own_url = "%s/%d" % (P, own["id"])
        # Moving its own producer into another region is outside its scope too.
        self.assertProblem(self.srv.patch(own_url, {"region_code": "qingyuan"},
                                          token=self.cz), 403, "forbidden")
        r = self.srv.patch(own_url, {"households": 200}, token=self.cz)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["households"], 200)
        # The unscoped coordinator may do both.
        r = self.srv.patch(url, {"name": "庆元香菇合作社"}, token=self.coord)
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    harness.main()
