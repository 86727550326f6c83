"""marketctl import-products: an RFC 4180 CSV file (BOM, CRLF, quoted
fields, columns in any order) becomes products with their initial stock
in the ledger; one bad row, reported as FILE:LINE: column X: reason, and
nothing at all is imported."""
import os

import time

import harness

P = "/api/v1/products"
HEADER = "name,category,unit,price_fen,stock,producer_id\n"


class T(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.srv
        cls.admin = s.user("admin", "admin")
        r = s.post("/api/v1/regions", {
            "code": "zhenfeng", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "Guizhou", "partnership": "east_west"}, token=cls.admin)
        assert r.status == 201, r
        r = s.post("/api/v1/producers", {
            "name": "贞丰李子合作社", "region_code": "zhenfeng", "kind": "cooperative",
            "households": 100, "poor_households": 30}, token=cls.admin)
        assert r.status == 201, r
        cls.pz = r.json["id"]
        cls.n = 0

    def write(self, text, raw=None):
        T.n += 1
        path = os.path.join(self.srv.dir, "products-%d.csv" % T.n)
        with open(path, "wb") as f:
            f.write(raw if raw is not None else text.encode("utf-8"))
        return path

    def all(self):
        r = self.srv.get(P + "?active=all&limit=200")
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.json["next_cursor"])
        return r.json["items"]

    def refused(self, text, line, column, raw=None):
        """Imports text, expects a refusal naming line and column, and
        that nothing was stored."""
        before = self.all()
        path = self.write(text, raw)
        p = self.srv.ctl("import-products", path, check=False)
        err = p.stderr.decode("utf-8", "replace")
        self.assertNotEqual(p.returncode, 0, err)
        want = "%s:%d: " % (path, line) + ("column %s: " % column if column else "")
        self.assertIn(want, err)
        self.assertNotIn("imported", p.stdout.decode())
        self.assertEqual(self.all(), before)
        return err

    def test_import(self):
        before = self.all()
        text = ("\ufeffproducer_id,stock,price_fen,unit,category,name,certified,"
                "certificate_no,description\r\n"
                "{p},10,1280,500g bag,fruit,贞丰李子,true,黔扶-001,\"脆甜, \"\"多汁\"\"\"\r\n"
                "{p},0,800,\"1kg\",grain,贵州大米,,,\r\n"
                "\r\n"
                "{p},5,3500,250g,tea,\"贞丰\r\n绿茶\",false,,'; DROP TABLE products; --\r\n"
                ).format(p=self.pz)
        p = self.srv.ctl("import-products", self.write(text), check=False)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(p.stdout.decode().strip(), "imported 3 products")
        # On SQLite the next read sees marketctl's commit; on PostgreSQL
        # the server's cache lets go of the old list when the commit's
        # notification arrives (milliseconds; within 1 s by the contract).
        deadline = time.monotonic() + 5
        while len(self.all()) == len(before) and time.monotonic() < deadline:
            time.sleep(0.02)
        new = self.all()[len(before):]
        self.assertEqual([(x["name"], x["category"], x["unit"], x["price_fen"],
                           x["stock"], x["producer_id"], x["region_code"],
                           x["certified"], x["certificate_no"], x["description"],
                           x["active"]) for x in new], [
            ("贞丰李子", "fruit", "500g bag", 1280, 10, self.pz, "zhenfeng", True,
             "黔扶-001", '脆甜, "多汁"', True),
            ("贵州大米", "grain", "1kg", 800, 0, self.pz, "zhenfeng", False, None, None,
             True),
            ("贞丰\r\n绿茶", "tea", "250g", 3500, 5, self.pz, "zhenfeng", False, None,
             "'; DROP TABLE products; --", True),
        ])
        # Each product's price starts its history.
        for x in new:
            r = self.srv.get("/api/v1/products/%d/prices" % x["id"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual([(e["price_fen"], e["from"]) for e in r.json["items"]],
                             [(x["price_fen"], x["updated_at"])])
        # Each product's stock is in the ledger, its price in its history.
        check = self.srv.ctl("check", check=False)
        self.assertEqual(check.returncode, 0,
                         check.stdout.decode() + check.stderr.decode())

    def test_lf_and_only_required_columns(self):
        text = HEADER + "小米,grain,1kg,600,20,%d\n" % self.pz
        p = self.srv.ctl("import-products", self.write(text), check=False)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(p.stdout.decode().strip(), "imported 1 products")
        self.assertIn("小米", [x["name"] for x in self.all()])

    def test_bad_rows_import_nothing(self):
        good = "好,fruit,1kg,100,1,%d\n" % self.pz
        cases = [
            ("好,fruit,1kg,0,1,%d\n" % self.pz, "price_fen"),
            ("好,fruit,1kg,-5,1,%d\n" % self.pz, "price_fen"),
            ("好,fruit,1kg,9223372036854775808,1,%d\n" % self.pz, "price_fen"),
            ("好,fruit,1kg,99999999999999999999,1,%d\n" % self.pz, "price_fen"),
            ("好,fruit,1kg,12.5,1,%d\n" % self.pz, "price_fen"),
            ("好,fruit,1kg,,1,%d\n" % self.pz, "price_fen"),
            ("好,fruit,1kg,100,-1,%d\n" % self.pz, "stock"),
            ("好,fruit,1kg,100,1.5,%d\n" % self.pz, "stock"),
            ("好,fish,1kg,100,1,%d\n" % self.pz, "category"),
            (",fruit,1kg,100,1,%d\n" % self.pz, "name"),
            ("好,fruit,,100,1,%d\n" % self.pz, "unit"),
            ("好,fruit,1kg,100,1,999999\n", "producer_id"),
            ("好,fruit,1kg,100,1,abc\n", "producer_id"),
        ]
        for row, column in cases:
            with self.subTest(row=row):
                # The bad row is the third line, after a good one.
                self.refused(HEADER + good + row + good, 3, column)

    def test_every_bad_row_is_reported(self):
        text = HEADER + "a,fish,1kg,100,1,%d\n" % self.pz + \
            "b,fruit,1kg,100,1,%d\n" % self.pz + "c,fruit,1kg,0,1,%d\n" % self.pz
        err = self.refused(text, 2, "category")
        self.assertIn(":4: column price_fen: ", err)

    def test_optional_columns_checked(self):
        base = HEADER.strip() + ",certified\n"
        self.refused(base + "a,fruit,1kg,1,1,%d,maybe\n" % self.pz, 2, "certified")

    def test_line_numbers_count_quoted_line_breaks(self):
        text = HEADER + '"two\nlines",fruit,1kg,1,1,%d\n' % self.pz + \
            "x,fruit,1kg,0,1,%d\n" % self.pz
        self.refused(text, 4, "price_fen")

    def test_bad_header_and_shape(self):
        self.refused("name,category,unit,price_fen,stock\nx,fruit,1kg,1,1\n",
                     1, "producer_id")
        self.refused(HEADER.strip() + ",colour\nx,fruit,1kg,1,1,%d,red\n" % self.pz,
                     1, "colour")
        self.refused(HEADER.strip() + ",name\nx,fruit,1kg,1,1,%d,y\n" % self.pz,
                     1, "name")
        self.refused(HEADER + "x,fruit,1kg,1,1\n", 2, None)
        self.refused(HEADER + '"open,fruit,1kg,1,1,%d\n' % self.pz, 2, None)
        self.refused(HEADER + 'x"y,fruit,1kg,1,1,%d\n' % self.pz, 2, None)
        self.refused("", 1, None)
        self.refused(None, 2, None,
                     raw=HEADER.encode() + b"\xff\xfe,fruit,1kg,1,1,1\n")

    def test_missing_file(self):
        before = self.all()
        p = self.srv.ctl("import-products", "/nonexistent/products.csv", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("/nonexistent/products.csv", p.stderr.decode())
        self.assertEqual(self.all(), before)


if __name__ == "__main__":
    harness.main()
