"""A product's price history: creating a product starts it, a PATCH of the
price adds an entry (and a PATCH of anything else none), listed newest
first with pages; stall sales are priced against the price in effect at
their recorded_at (an offline sale before a price cut syncs at the old
price, one after it cannot), one at a time and in a batch, while orders
pay the current price; marketctl check finds a price that disagrees
with its history."""
import datetime
import re
import subprocess

import harness
from sales_fixture import Market, sale

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ADDRESS = {"name": "王女士", "phone": "+86 138-0000-0000", "line1": "中山西路 1 号",
           "city": "宁波"}


def instant(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class Prices(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = Market(cls.srv)

    def prices(self, product, query=""):
        r = self.srv.get("/api/v1/products/%d/prices%s" % (product, query))
        self.assertEqual(r.status, 200, r)
        return r.json

    def history(self, product):
        """[(price_fen, from)] newest first, in one page."""
        page = self.prices(product, "?limit=200")
        self.assertIsNone(page["next_cursor"])
        return [(e["price_fen"], e["from"]) for e in page["items"]]

    def set_price(self, product, price_fen):
        """PATCHes the price; the product's updated_at (the instant of the change)."""
        r = self.srv.patch("/api/v1/products/%d" % product, {"price_fen": price_fen},
                           token=self.m.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["price_fen"], price_fen)
        return r.json["updated_at"]

    def post_sale(self, body):
        return self.srv.post("/api/v1/sales", body, token=self.m.op)

    def batch(self, *sales):
        r = self.srv.post("/api/v1/sales/batch", {"sales": list(sales)}, token=self.m.op)
        self.assertEqual(r.status, 200, r)
        return r.json["results"]

    # --- the history ------------------------------------------------------
    def test_creating_a_product_starts_its_history(self):
        before = utcnow()
        r = self.srv.post("/api/v1/products", {
            "name": "贞丰古树茶", "category": "tea", "unit": "250g tin",
            "price_fen": 16800, "stock": 40, "producer_id": self.m.producer},
            token=self.m.admin)
        self.assertEqual(r.status, 201, r)
        after = utcnow()
        page = self.prices(r.json["id"])
        self.assertIsNone(page["next_cursor"])
        self.assertEqual(len(page["items"]), 1, page)
        entry = page["items"][0]
        self.assertEqual(entry["price_fen"], 16800)
        self.assertRegex(entry["from"], RFC3339)
        self.assertTrue(before <= instant(entry["from"]) <= after, entry)
        self.assertEqual(entry["from"], r.json["updated_at"])

    def test_a_price_change_adds_an_entry_and_nothing_else_does(self):
        p = self.m.product(1500, 100)
        created = self.history(p)
        self.assertEqual([e[0] for e in created], [1500])
        cut = self.set_price(p, 1200)
        self.assertEqual(self.history(p), [(1200, cut)] + created)
        self.assertGreaterEqual(instant(cut), instant(created[0][1]))

        # Other fields, stock included, and the same price again add none.
        for body in ({"name": "贞丰李子 特级"}, {"stock": 80}, {"active": False},
                     {"description": "脆甜多汁", "certified": True},
                     {"price_fen": 1200}, {"price_fen": 1200, "stock": 70}):
            with self.subTest(body=body):
                r = self.srv.patch("/api/v1/products/%d" % p, body, token=self.m.admin)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(self.history(p), [(1200, cut)] + created)
        # A refused PATCH adds none either.
        r = self.srv.patch("/api/v1/products/%d" % p, {"price_fen": 1100, "stock": -1},
                           token=self.m.admin)
        self.assertProblem(r, 400, "validation_failed", "stock")
        self.assertEqual(self.history(p), [(1200, cut)] + created)

        back = self.set_price(p, 1500)
        self.assertEqual(self.history(p), [(1500, back), (1200, cut)] + created)
        self.assertEqual(self.srv.get("/api/v1/products/%d" % p).json["price_fen"], 1500)

    def test_pages_newest_first(self):
        p = self.m.product(1000, 10)
        for price in (1100, 1200, 1300, 1400, 1500):
            self.set_price(p, price)
        full = self.history(p)
        self.assertEqual([e[0] for e in full], [1500, 1400, 1300, 1200, 1100, 1000])
        froms = [instant(e[1]) for e in full]
        self.assertEqual(froms, sorted(froms, reverse=True))

        walked, pages, cursor = [], 0, None
        while True:
            page = self.prices(p, "?limit=2" + ("&cursor=" + cursor if cursor else ""))
            pages += 1
            self.assertLessEqual(len(page["items"]), 2)
            walked += [(e["price_fen"], e["from"]) for e in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(walked, full)
        self.assertEqual(pages, 3)

        for query in ("?cursor=bm9wZQ", "?cursor=WzEsMl0", "?limit=0", "?limit=201"):
            with self.subTest(query=query):
                r = self.srv.get("/api/v1/products/%d/prices%s" % (p, query))
                self.assertProblem(r, 400, "validation_failed",
                                   "cursor" if "cursor" in query else "limit")

    def test_unknown_product(self):
        for path in ("/api/v1/products/999999/prices", "/api/v1/products/x/prices",
                     "/api/v1/products/0/prices"):
            with self.subTest(path=path):
                self.assertProblem(self.srv.get(path), 404, "not_found")

    # --- sales priced at their recorded_at ------------------------------
    def test_a_sale_before_a_price_cut_keeps_the_old_price(self):
        p = self.m.product(1500, 100)
        cut = instant(self.set_price(p, 1200))
        before = iso(cut - datetime.timedelta(minutes=1))

        # Sold offline at 15.00 before the cut, synced after it.
        r = self.post_sale(sale("cut-before-1", self.m.stall, [
            {"product_id": p, "quantity": 2, "unit_price_fen": 1500}], recorded_at=before))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["lines"], [{"product_id": p, "quantity": 2,
                                            "unit_price_fen": 1500, "amount_fen": 3000,
                                            "lots": []}])
        self.assertEqual(r.json["total_fen"], 3000)
        # Without a price, the one the phone showed then.
        r = self.post_sale(sale("cut-before-2", self.m.stall, [
            {"product_id": p, "quantity": 1}], recorded_at=before))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["lines"][0]["unit_price_fen"], 1500)
        self.assertEqual(r.json["total_fen"], 1500)
        stored = self.srv.get("/api/v1/sales/cut-before-2", token=self.m.op)
        self.assertEqual(stored.json["lines"][0]["unit_price_fen"], 1500)

        # At the cut's instant and after it, the new price holds.
        for sid, at in (("cut-at-1", iso(cut)), ("cut-after-1", iso(utcnow()))):
            with self.subTest(recorded_at=at):
                r = self.post_sale(sale(sid, self.m.stall, [
                    {"product_id": p, "quantity": 2, "unit_price_fen": 1500}],
                    recorded_at=at))
                self.assertProblem(r, 400, "validation_failed", "lines[0].unit_price_fen")
                self.assertIn("1200", r.json["detail"])
                self.assertProblem(self.srv.get("/api/v1/sales/" + sid, token=self.m.op),
                                   404, "not_found")
        r = self.post_sale(sale("cut-after-2", self.m.stall, [
            {"product_id": p, "quantity": 1}], recorded_at=iso(cut)))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["lines"][0]["unit_price_fen"], 1200)
        self.assertEqual(self.m.stock(p), 100 - 2 - 1 - 1)

    def test_a_batch_is_priced_sale_by_sale(self):
        p = self.m.product(1500, 100)
        cut = instant(self.set_price(p, 1200))
        before = iso(cut - datetime.timedelta(minutes=1))
        after = iso(cut)
        results = self.batch(
            sale("batch-before-1", self.m.stall, [
                {"product_id": p, "quantity": 1, "unit_price_fen": 1500}], recorded_at=before),
            sale("batch-after-1", self.m.stall, [
                {"product_id": p, "quantity": 1},
                {"product_id": p, "quantity": 1, "unit_price_fen": 1500}], recorded_at=after),
            sale("batch-before-2", self.m.stall, [
                {"product_id": p, "quantity": 3}], recorded_at=before),
            sale("batch-after-2", self.m.stall, [
                {"product_id": p, "quantity": 3}], recorded_at=after))
        self.assertEqual([(x["id"], x["status"]) for x in results], [
            ("batch-before-1", "created"), ("batch-after-1", "error"),
            ("batch-before-2", "created"), ("batch-after-2", "created")])
        self.assertEqual(results[0]["sale"]["lines"][0]["unit_price_fen"], 1500)
        err = results[1]["error"]
        self.assertEqual((err["status"], err["code"], err["field"]),
                         (400, "validation_failed", "lines[1].unit_price_fen"))
        self.assertEqual(results[2]["sale"]["total_fen"], 3 * 1500)
        self.assertEqual(results[3]["sale"]["total_fen"], 3 * 1200)
        self.assertEqual(self.m.stock(p), 100 - 1 - 3 - 3)

    def test_a_raise_does_not_reach_back(self):
        p = self.m.product(1000, 100)
        raised = instant(self.set_price(p, 1300))
        before = iso(raised - datetime.timedelta(hours=1))
        r = self.post_sale(sale("raise-before-1", self.m.stall, [
            {"product_id": p, "quantity": 1, "unit_price_fen": 1300}], recorded_at=before))
        self.assertProblem(r, 400, "validation_failed", "lines[0].unit_price_fen")
        r = self.post_sale(sale("raise-before-2", self.m.stall, [
            {"product_id": p, "quantity": 1}], recorded_at=before))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["lines"][0]["unit_price_fen"], 1000)
        r = self.post_sale(sale("raise-after-1", self.m.stall, [
            {"product_id": p, "quantity": 1, "unit_price_fen": 1300}],
            recorded_at=iso(utcnow())))
        self.assertEqual(r.status, 201, r)

    def test_a_sale_before_the_whole_history_takes_the_first_price(self):
        p = self.m.product(1500, 100)
        self.set_price(p, 1200)
        long_ago = "2025-12-01T02:00:00Z"
        r = self.post_sale(sale("first-price-1", self.m.stall, [
            {"product_id": p, "quantity": 1}], recorded_at=long_ago))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["lines"][0]["unit_price_fen"], 1500)

    def test_orders_pay_the_current_price(self):
        p = self.m.product(1500, 100)
        self.set_price(p, 1200)
        r = self.srv.post("/api/v1/orders", {
            "lines": [{"product_id": p, "quantity": 2}],
            "fulfillment": {"type": "delivery", "address": ADDRESS}}, token=self.m.buyer)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["lines"][0]["unit_price_fen"], 1200)
        self.assertEqual(r.json["total_fen"], 2400)

    # --- marketctl check ----------------------------------------------------
    def test_check_finds_a_price_off_its_history(self):
        srv = self.srv
        p = self.m.product(1500, 10)
        self.set_price(p, 1200)
        q = self.m.product(800, 5)
        ok = srv.ctl("check")
        self.assertIn(b"price history", ok.stdout)

        copy = srv.copy("tampered-prices")
        with harness.Db(copy) as db:
            # The history cannot be rewritten or deleted...
            for sql in ("UPDATE price_history SET price_fen = 1500",
                        "DELETE FROM price_history"):
                with self.subTest(sql=sql):
                    with self.assertRaisesRegex(harness.DbError,
                                                "the price history is append-only"):
                        db.execute(sql)
            # ...but an entry appended behind the catalog's back, or a price
            # changed without one, is found.
            self.assertEqual(db.execute(
                ("INSERT INTO price_history (product_id, price_fen, from_at, reason) "
                 "SELECT ?, 999, max(from_at) + 1, 'change' FROM price_history "
                 "WHERE product_id = ?", (p, p)),
                ("UPDATE products SET price_fen = price_fen + 1 WHERE id = ?", (q,))), 1)
        r = subprocess.run([harness.MARKETCTL, "--db", copy, "check"], capture_output=True)
        self.assertEqual(r.returncode, 1, r.stdout)
        out = r.stdout.decode()
        self.assertIn("product %d: price_fen 1200 but its price history ends at 999" % p, out)
        self.assertRegex(out, r"product %d: price_fen \d+ but its price history ends at \d+"
                         % q)
        self.assertIn("check failed: 2 problems", out)
        # The server's own database is untouched and still passes.
        self.assertEqual(srv.ctl("check").returncode, 0)


if __name__ == "__main__":
    harness.main()
