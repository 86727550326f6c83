"""Products: create, read, filter, patch; the rules of a product (types,
categories, price and stock ranges, integers beyond 64 bits, unknown
producers); SQL text and Chinese stored verbatim; the list's ETag; region
scope for coordinators; the initial stock and every stock correction in
the stock ledger. Every error leaves the stored products unchanged."""
import os
import re
import urllib.parse

import harness

P = "/api/v1/products"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


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
        cls.pz = cls.producer("贞丰李子合作社", "zhenfeng")
        cls.pq = cls.producer("庆元香菇协会", "qingyuan")
        cls.coord = s.user("coord1", "coordinator")
        cls.cz = s.user("coord_zf", "coordinator", region="zhenfeng")
        cls.buyer = s.user("buyer1", "buyer")
        cls.operator = s.user("oper1", "operator")

    @classmethod
    def producer(cls, name, region):
        r = cls.srv.post("/api/v1/producers", {
            "name": name, "region_code": region, "kind": "cooperative",
            "households": 100, "poor_households": 30}, token=cls.admin)
        assert r.status == 201, r
        return r.json["id"]

    def body(self, **kw):
        b = {"name": "贞丰李子", "category": "fruit", "unit": "500g bag",
             "price_fen": 1280, "stock": 50, "producer_id": self.pz}
        b.update(kw)
        return {k: v for k, v in b.items() if v is not ...}

    def create(self, token=None, **kw):
        r = self.srv.post(P, self.body(**kw), token=token or self.admin)
        self.assertEqual(r.status, 201, r)
        return r.json

    def all(self):
        """Every stored product, active or not."""
        items, cursor = [], None
        while True:
            q = P + "?active=all&limit=200" + ("&cursor=" + cursor if cursor else "")
            r = self.srv.get(q)
            self.assertEqual(r.status, 200, r)
            items += r.json["items"]
            cursor = r.json["next_cursor"]
            if cursor is None:
                return items

    def movements(self, product_id):
        with self.srv.sql() as db:
            return db.query("SELECT delta, stock_after, reason FROM stock_movements "
                            "WHERE product_id = ? ORDER BY id", (product_id,))

    def test_create_and_get(self):
        p = self.create(certified=True, certificate_no="黔扶认字2020-0012",
                        description="脆甜多汁")
        self.assertIsInstance(p["id"], int)
        self.assertRegex(p["updated_at"], RFC3339)
        want = {"id": p["id"], "name": "贞丰李子", "category": "fruit",
                "unit": "500g bag", "price_fen": 1280, "stock": 50,
                "producer_id": self.pz, "producer_name": "贞丰李子合作社",
                "region_code": "zhenfeng", "certified": True,
                "certificate_no": "黔扶认字2020-0012", "description": "脆甜多汁",
                "active": True, "updated_at": p["updated_at"]}
        self.assertEqual(p, want)
        r = self.srv.get("%s/%d" % (P, p["id"]))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, want)
        self.assertIn("贞丰李子".encode("utf-8"), r.body)
        # Optional fields default.
        p = self.create(token=self.coord)
        self.assertEqual((p["certified"], p["certificate_no"], p["description"]),
                         (False, None, None))

    def test_bad_input_is_refused_and_nothing_stored(self):
        before = self.all()
        cases = [
            ({"name": ...}, "name"),
            ({"name": ""}, "name"),
            ({"name": 42}, "name"),
            ({"name": None}, "name"),
            ({"category": "fish"}, "category"),
            ({"category": ...}, "category"),
            ({"category": ["fruit"]}, "category"),
            ({"unit": ...}, "unit"),
            ({"unit": 500}, "unit"),
            ({"price_fen": ...}, "price_fen"),
            ({"price_fen": 0}, "price_fen"),
            ({"price_fen": -100}, "price_fen"),
            ({"price_fen": "1280"}, "price_fen"),
            ({"price_fen": 12.8}, "price_fen"),
            ({"price_fen": 2 ** 63}, "price_fen"),
            ({"price_fen": 99999999999999999999}, "price_fen"),
            ({"price_fen": -(2 ** 63) - 1}, "price_fen"),
            ({"price_fen": True}, "price_fen"),
            ({"stock": ...}, "stock"),
            ({"stock": -1}, "stock"),
            ({"stock": 1.5}, "stock"),
            ({"stock": "10"}, "stock"),
            ({"producer_id": ...}, "producer_id"),
            ({"producer_id": 999999}, "producer_id"),
            ({"producer_id": 0}, "producer_id"),
            ({"producer_id": str(self.pz)}, "producer_id"),
            ({"certified": "yes"}, "certified"),
            ({"certified": 1}, "certified"),
            ({"certificate_no": 12}, "certificate_no"),
            ({"description": ["x"]}, "description"),
        ]
        for override, field in cases:
            with self.subTest(override=override):
                r = self.srv.post(P, self.body(**override), token=self.admin)
                self.assertProblem(r, 400, "validation_failed", field)
        self.assertEqual(self.all(), before)

    def test_media_type_bad_json_and_roles(self):
        before = self.all()
        raw = ('{"name": "x", "category": "tea", "unit": "g", "price_fen": 1, '
               '"stock": 1, "producer_id": %d}' % self.pz).encode()
        for ct in ("text/plain", "application/x-www-form-urlencoded", None,
                   "application/json; charset=latin-1"):
            with self.subTest(content_type=ct):
                r = self.srv.request("POST", P, raw=raw, token=self.admin,
                                     headers={"Content-Type": ct})
                self.assertProblem(r, 415, "unsupported_media_type")
        r = self.srv.request("POST", P, raw=raw, token=self.admin,
                             headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(r.status, 201, r)
        created = r.json
        for bad in (b'{"name": "x",}', b'"just a string"', b'\xff\xfe{}', b''):
            with self.subTest(body=bad):
                r = self.srv.request("POST", P, raw=bad, token=self.admin)
                self.assertProblem(r, 400, "bad_json")
        self.assertProblem(self.srv.post(P, self.body()), 401, "unauthorized")
        for token in (self.buyer, self.operator):
            self.assertProblem(self.srv.post(P, self.body(), token=token),
                               403, "forbidden")
            self.assertProblem(self.srv.patch("%s/%d" % (P, created["id"]),
                                              {"price_fen": 1}, token=token),
                               403, "forbidden")
        self.assertEqual(self.all(), before + [created])

    def test_sql_text_stored_verbatim(self):
        texts = {"name": "'; DROP TABLE products; --",
                 "unit": "1' OR '1'='1",
                 "certificate_no": "\" OR 1=1 --",
                 "description": "Robert'); DROP TABLE students;-- 100% _x_ \\ end"}
        p = self.create(**texts)
        r = self.srv.get("%s/%d" % (P, p["id"]))
        for k, v in texts.items():
            self.assertEqual(r.json[k], v)
            self.assertEqual(p[k], v)
        self.assertIn(p["id"], [x["id"] for x in self.all()])
        r = self.srv.get(P + "?q=" + urllib.parse.quote("'; DROP"))
        self.assertEqual([x["id"] for x in r.json["items"]], [p["id"]])

    def test_q_chinese_and_literal_wildcards(self):
        a = self.create(name="贞丰县特级李子 q-test")
        b = self.create(name="100%纯 q-test")
        c = self.create(name="snake_case q-test")
        d = self.create(name="plain q-test")

        def q(text):
            r = self.srv.get(P + "?limit=200&q=" + urllib.parse.quote(text))
            self.assertEqual(r.status, 200, r)
            return [x["id"] for x in r.json["items"]]
        self.assertIn(a["id"], q("贞丰"))
        self.assertNotIn(d["id"], q("贞丰"))
        self.assertEqual(q("特级李子"), [a["id"]])
        self.assertEqual(q("%"), [b["id"]])
        self.assertEqual(q("_"), [c["id"]])
        self.assertEqual(q("q-test"), [a["id"], b["id"], c["id"], d["id"]])
        self.assertEqual(q("no such thing"), [])
        r = self.srv.get("%s/%d" % (P, a["id"]))
        self.assertEqual(r.json["name"].encode("utf-8"),
                         "贞丰县特级李子 q-test".encode("utf-8"))

    def test_filters(self):
        tea = self.create(name="filter tea", category="tea", producer_id=self.pq)
        grain = self.create(name="filter grain", category="grain")
        off = self.create(name="filter off", category="grain")
        r = self.srv.patch("%s/%d" % (P, off["id"]), {"active": False},
                           token=self.admin)
        self.assertEqual(r.status, 200)
        self.assertFalse(r.json["active"])

        def ids(query):
            r = self.srv.get(P + "?limit=200&q=filter&" + query)
            self.assertEqual(r.status, 200, r)
            return [x["id"] for x in r.json["items"]]
        self.assertEqual(ids(""), [tea["id"], grain["id"]])
        self.assertEqual(ids("active=true"), [tea["id"], grain["id"]])
        self.assertEqual(ids("active=false"), [off["id"]])
        self.assertEqual(ids("active=all"), [tea["id"], grain["id"], off["id"]])
        self.assertEqual(ids("category=tea"), [tea["id"]])
        self.assertEqual(ids("category=grain&active=all"), [grain["id"], off["id"]])
        self.assertEqual(ids("region=qingyuan"), [tea["id"]])
        self.assertEqual(ids("region=zhenfeng"), [grain["id"]])
        self.assertEqual(ids("region=nowhere"), [])
        self.assertEqual(ids("producer=%d" % self.pq), [tea["id"]])
        self.assertEqual(ids("producer=999999"), [])
        # The inactive product is still readable by id.
        self.assertEqual(self.srv.get("%s/%d" % (P, off["id"])).status, 200)
        for query, field in (("category=fish", "category"),
                             ("active=maybe", "active"),
                             ("active=1", "active"),
                             ("producer=abc", "producer"),
                             ("producer=0", "producer"),
                             ("limit=0", "limit"),
                             ("limit=abc", "limit"),
                             ("cursor=notacursor", "cursor")):
            with self.subTest(query=query):
                self.assertProblem(self.srv.get(P + "?" + query), 400,
                                   "validation_failed", field)

    def test_pages(self):
        for i in range(5):
            self.create(name="page %d" % i)
        want = [x["id"] for x in self.all()]
        seen, cursor = [], None
        while True:
            r = self.srv.get(P + "?active=all&limit=2" +
                             ("&cursor=" + cursor if cursor else ""))
            self.assertEqual(r.status, 200)
            self.assertLessEqual(len(r.json["items"]), 2)
            seen += [x["id"] for x in r.json["items"]]
            cursor = r.json["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(seen, want)
        self.assertEqual(seen, sorted(seen))

    def test_etag(self):
        p = self.create(name="etag 1")
        url = P + "?q=etag"
        r = self.srv.get(url)
        self.assertEqual(r.status, 200)
        etag = r.header("etag")
        self.assertRegex(etag, r'^"[0-9a-f]{64}"$')  # strong
        self.assertEqual(self.srv.get(url).header("etag"), etag)
        r = self.srv.get(url, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("etag"), etag)
        r = self.srv.get(url, headers={"If-None-Match": '"other", ' + etag})
        self.assertEqual(r.status, 304)
        r = self.srv.get(url, headers={"If-None-Match": '"other"'})
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.json["items"]), 1)
        # Another list has another tag.
        self.assertNotEqual(self.srv.get(P + "?q=zzz").header("etag"), etag)
        r = self.srv.patch("%s/%d" % (P, p["id"]), {"price_fen": 1999}, token=self.admin)
        self.assertEqual(r.status, 200)
        r = self.srv.get(url, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["items"][0]["price_fen"], 1999)
        self.assertNotEqual(r.header("etag"), etag)
        new = r.header("etag")
        self.assertEqual(self.srv.get(url, headers={"If-None-Match": new}).status, 304)
        self.create(name="etag 2")
        self.assertEqual(self.srv.get(url, headers={"If-None-Match": new}).status, 200)

    def test_patch(self):
        p = self.create(name="patch me", certified=True, certificate_no="C-1")
        url = "%s/%d" % (P, p["id"])
        r = self.srv.patch(url, {"name": "改名", "category": "processed",
                                 "unit": "1kg", "price_fen": 2000,
                                 "certified": False, "certificate_no": None,
                                 "description": "新描述", "producer_id": self.pq},
                           token=self.coord)
        self.assertEqual(r.status, 200, r)
        got = r.json
        self.assertEqual((got["name"], got["category"], got["unit"], got["price_fen"],
                          got["certified"], got["certificate_no"], got["description"],
                          got["producer_id"], got["producer_name"], got["region_code"],
                          got["stock"], got["active"]),
                         ("改名", "processed", "1kg", 2000, False, None, "新描述",
                          self.pq, "庆元香菇协会", "qingyuan", 50, True))
        self.assertEqual(self.srv.get(url).json, got)
        cases = [
            ({"price_fen": 0}, "price_fen"),
            ({"price_fen": 2 ** 64}, "price_fen"),
            ({"stock": -5}, "stock"),
            ({"stock": 0.5}, "stock"),
            ({"producer_id": 999999}, "producer_id"),
            ({"producer_id": None}, "producer_id"),
            ({"category": "fish"}, "category"),
            ({"name": ""}, "name"),
            ({"active": "no"}, "active"),
            ({"active": None}, "active"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                self.assertProblem(self.srv.patch(url, body, token=self.admin),
                                   400, "validation_failed", field)
        self.assertEqual(self.srv.get(url).json, got)
        self.assertProblem(self.srv.patch(P + "/999999", {"price_fen": 5},
                                          token=self.admin), 404, "not_found")
        self.assertProblem(self.srv.patch(P + "/x", {"price_fen": 5},
                                          token=self.admin), 404, "not_found")
        self.assertProblem(self.srv.get(P + "/999999"), 404, "not_found")
        self.assertProblem(self.srv.patch(url, {"price_fen": 5}), 401, "unauthorized")
        r = self.srv.request("PATCH", url, raw=b'{"price_fen": 5}', token=self.admin,
                             headers={"Content-Type": "text/plain"})
        self.assertProblem(r, 415, "unsupported_media_type")
        self.assertEqual(self.srv.get(url).json, got)

    def test_scoped_coordinator(self):
        before = self.all()
        self.assertProblem(self.srv.post(P, self.body(producer_id=self.pq),
                                         token=self.cz), 403, "forbidden")
        # Not even with an integer beyond 64 bits elsewhere in the body.
        r = self.srv.request("POST", P, token=self.cz, raw=(
            '{"name": "x", "category": "tea", "unit": "g", "price_fen": 1, '
            '"stock": 1, "producer_id": %d, "extra": 99999999999999999999}'
            % self.pq).encode())
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(self.all(), before)
        own = self.create(token=self.cz, name="scoped own")
        self.assertEqual(own["region_code"], "zhenfeng")
        other = self.create(producer_id=self.pq, name="scoped other")
        url = "%s/%d" % (P, other["id"])
        for body in ({"price_fen": 1}, {"active": False}, {"stock": 0}):
            self.assertProblem(self.srv.patch(url, body, token=self.cz),
                               403, "forbidden")
        self.assertEqual(self.srv.get(url).json, other)
        own_url = "%s/%d" % (P, own["id"])
        self.assertProblem(self.srv.patch(own_url, {"producer_id": self.pq},
                                          token=self.cz), 403, "forbidden")
        r = self.srv.patch(own_url, {"price_fen": 999, "stock": 3}, token=self.cz)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["price_fen"], r.json["stock"]), (999, 3))

    def test_stock_ledger(self):
        p = self.create(name="ledger", stock=10)
        url = "%s/%d" % (P, p["id"])
        self.assertEqual(p["stock"], 10)
        r = self.srv.patch(url, {"stock": 7}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["stock"], 7)
        r = self.srv.patch(url, {"stock": 7, "price_fen": 1}, token=self.admin)
        self.assertEqual(r.json["stock"], 7)
        self.assertProblem(self.srv.patch(url, {"stock": -1}, token=self.admin),
                           400, "validation_failed", "stock")
        self.assertEqual(self.srv.get(url).json["stock"], 7)
        self.assertEqual(self.movements(p["id"]),
                         [(10, 10, "initial"), (-3, 7, "correction")])
        zero = self.create(name="ledger zero", stock=0)
        self.assertEqual(zero["stock"], 0)
        self.assertEqual(self.movements(zero["id"]), [])
        check = self.srv.ctl("check", check=False)
        self.assertEqual(check.returncode, 0,
                         check.stdout.decode() + check.stderr.decode())


if __name__ == "__main__":
    harness.main()
