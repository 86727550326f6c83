"""POST /api/v1/sales/batch: a batch mixing new, re-sent and invalid
sales is answered in input order, each sale standing or falling alone;
only the created ones are stored and move stock."""
import harness
from sales_fixture import Market, check, sale


class SalesBatch(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = Market(cls.srv)

    def batch(self, sales, token=None):
        return self.srv.post("/api/v1/sales/batch", {"sales": sales}, token=token or self.m.op)

    def test_mixed_batch(self):
        m = self.m
        p = m.product(1000, 100)
        q = m.product(250, 3)
        cancelled_day = m.market_day("2026-05-05")
        cancelled_stall = m.add_stall(cancelled_day, m.op_id, "X1")
        check(self.srv.patch("/api/v1/market-days/%d" % cancelled_day,
                             {"status": "cancelled"}, token=m.admin), 200)
        stored = sale("batch-old-1", m.stall, [{"product_id": p, "quantity": 1}])
        self.assertEqual(self.srv.post("/api/v1/sales", stored, token=m.op).status, 201)
        self.assertEqual(m.stock(p), 99)

        new1 = sale("batch-new-1", m.stall, [{"product_id": p, "quantity": 2}])
        new2 = sale("batch-new-2", m.stall, [{"product_id": q, "quantity": 5}], payment="alipay")
        r = self.batch([
            new1,                                                          # 0 created
            stored,                                                        # 1 duplicate
            dict(stored, payment="card"),                                  # 2 mismatch
            sale("batch-bad-1", m.stall, [{"product_id": 999999, "quantity": 1}]),  # 3
            "not a sale",                                                  # 4
            sale("batch-bad-2", m.stall2, [{"product_id": p, "quantity": 1}]),      # 5 403
            sale("batch-bad-3", cancelled_stall, [{"product_id": p, "quantity": 1}]),  # 6
            new2,                                                          # 7 created
            new1,                                                          # 8 duplicate in batch
            dict(new2, lines=[{"product_id": q, "quantity": 6}]),          # 9 mismatch in batch
            sale("batch-bad-4", m.stall, [{"product_id": p, "quantity": 1,
                                           "unit_price_fen": 1001}]),      # 10
            {"id": "batch-bad-5"},                                         # 11
        ])
        self.assertEqual(r.status, 200, r)
        res = r.json["results"]
        self.assertEqual([(x["id"], x["status"]) for x in res], [
            ("batch-new-1", "created"),
            ("batch-old-1", "duplicate"),
            ("batch-old-1", "error"),
            ("batch-bad-1", "error"),
            (None, "error"),
            ("batch-bad-2", "error"),
            ("batch-bad-3", "error"),
            ("batch-new-2", "created"),
            ("batch-new-1", "duplicate"),
            ("batch-new-2", "error"),
            ("batch-bad-4", "error"),
            ("batch-bad-5", "error"),
        ])
        errors = {i: (x["error"]["status"], x["error"]["code"], x["error"].get("field"))
                  for i, x in enumerate(res) if x["status"] == "error"}
        self.assertEqual(errors, {
            2: (409, "idempotency_mismatch", "id"),
            3: (400, "validation_failed", "lines[0].product_id"),
            4: (400, "validation_failed", "sales[4]"),
            5: (403, "forbidden", "stall_id"),
            6: (409, "invalid_state", "stall_id"),
            9: (409, "idempotency_mismatch", "id"),
            10: (400, "validation_failed", "lines[0].unit_price_fen"),
            11: (400, "validation_failed", "stall_id"),
        })
        for x in res:
            self.assertEqual("sale" in x, x["status"] != "error", x)
            self.assertEqual("error" in x, x["status"] == "error", x)
        self.assertEqual(res[0]["sale"]["total_fen"], 2000)
        self.assertEqual(res[1]["sale"], self.srv.get("/api/v1/sales/batch-old-1",
                                                       token=m.op).json)
        self.assertEqual(res[7]["sale"]["lines"], [
            {"product_id": q, "quantity": 5, "unit_price_fen": 250, "amount_fen": 1250,
             "lots": []}])
        self.assertEqual(res[8]["sale"], res[0]["sale"])

        # Exactly the created sales are stored, each once, in input order.
        ids = [s["id"] for s in m.sales() if s["id"].startswith("batch-")]
        self.assertEqual(ids, ["batch-old-1", "batch-new-1", "batch-new-2"])
        self.assertEqual(m.stock(p), 97)
        self.assertEqual(m.stock(q), -2)

        # The whole batch again: nothing new.
        r = self.batch([new1, new2, stored])
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["status"] for x in r.json["results"]], ["duplicate"] * 3)
        self.assertEqual((m.stock(p), m.stock(q)), (97, -2))
        self.assertEqual(len([s for s in m.sales() if s["id"].startswith("batch-")]), 3)
        self.assertEqual(self.srv.ctl("check").returncode, 0)

    def test_batch_shape(self):
        p = self.m.product(100, 1000)
        r = self.batch([])
        self.assertProblem(r, 400, "validation_failed", "sales")
        r = self.srv.post("/api/v1/sales/batch", {}, token=self.m.op)
        self.assertProblem(r, 400, "validation_failed", "sales")
        r = self.srv.post("/api/v1/sales/batch", {"sales": {"id": "x"}}, token=self.m.op)
        self.assertProblem(r, 400, "validation_failed", "sales")
        too_many = [sale("shape-%04d" % i, self.m.stall, [{"product_id": p, "quantity": 1}])
                    for i in range(501)]
        r = self.batch(too_many)
        self.assertProblem(r, 400, "validation_failed", "sales")
        self.assertEqual(self.m.stock(p), 1000)
        r = self.batch(too_many[:1], token=self.m.buyer)
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(self.m.stock(p), 1000)
        # 500 is allowed, and is one batch.
        r = self.batch(too_many[:500])
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["status"] for x in r.json["results"]], ["created"] * 500)
        self.assertEqual([x["id"] for x in r.json["results"]],
                         ["shape-%04d" % i for i in range(500)])
        self.assertEqual(self.m.stock(p), 500)
        shape = [s["id"] for s in self.m.sales() if s["id"].startswith("shape-")]
        self.assertEqual(shape, ["shape-%04d" % i for i in range(500)])

    def test_staff_batch(self):
        p = self.m.product(100, 10)
        r = self.batch([sale("staff-b-1", self.m.stall, [{"product_id": p, "quantity": 1}]),
                        sale("staff-b-2", self.m.stall2, [{"product_id": p, "quantity": 1}])],
                       token=self.m.coord)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["status"] for x in r.json["results"]], ["created", "created"])
        self.assertEqual([x["sale"]["operator_id"] for x in r.json["results"]],
                         [self.m.op_id, self.m.op2_id])
        self.assertEqual(self.m.stock(p), 8)


if __name__ == "__main__":
    harness.main()
