"""A market day's pick list (API.md 1.1): the day's pickup orders that
are paid or ready (not placed, fulfilled or cancelled ones, not another
day's, not deliveries), products summed by product_id, orders by
order_id with the buyer's display name and their lines; CSV one row per
order line; an operator with a stall that day may read it, one without
gets 403, coordinators and admins may, others not; an unknown day is
404; a bad format is 400."""
import harness
from orders_fixture import Shop, check, delivery, pickup


class Picklist(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.s = Shop(cls.srv)
        srv = cls.srv
        cls.plum = s.product(1500, 100, name="贞丰李子")
        cls.tea = s.product(16800, 100, name="贞丰古树茶, 特级")
        cls.rice = s.product(5000, 100, region="qingyuan", name="庆元大米")
        uid = s.me(s.buyer)
        check(srv.patch("/api/v1/users/%d" % uid, {"display_name": "王女士"},
                        token=s.admin), 200)
        o = cls.orders = {}
        o["paid"] = s.paid(s.placed([(cls.plum, 2), (cls.tea, 1)]))
        o["ready"] = s.paid(s.placed([(cls.plum, 3), (cls.rice, 4)], token=s.buyer2))
        check(s.act(o["ready"]["id"], "ready", s.op), 200)
        o["placed"] = s.placed([(cls.plum, 7)])
        o["cancelled"] = s.paid(s.placed([(cls.tea, 5)]))
        check(s.act(o["cancelled"]["id"], "cancel", s.admin), 200)
        o["fulfilled"] = s.paid(s.placed([(cls.rice, 9)]))
        check(s.act(o["fulfilled"]["id"], "ready", s.op), 200)
        check(s.act(o["fulfilled"]["id"], "fulfil", s.op), 200)
        o["other_day"] = s.paid(s.placed([(cls.plum, 11)], fulfillment=pickup(s.day2)))
        o["delivery"] = s.paid(s.placed([(cls.plum, 13)], fulfillment=delivery()))

    def get(self, day, token, query=""):
        return self.srv.get("/api/v1/market-days/%d/picklist%s" % (day, query), token=token)

    def test_what_to_bring(self):
        s = self.s
        pl = check(self.get(s.day, s.op), 200)
        self.assertEqual(pl["market_day"]["id"], s.day)
        self.assertEqual(pl["products"], [
            {"product_id": self.plum, "name": "贞丰李子", "unit": "500g bag", "units": 5},
            {"product_id": self.tea, "name": "贞丰古树茶, 特级", "unit": "500g bag",
             "units": 1},
            {"product_id": self.rice, "name": "庆元大米", "unit": "500g bag", "units": 4}])
        self.assertEqual(pl["orders"], [
            {"order_id": self.orders["paid"]["id"], "buyer_display_name": "王女士",
             "status": "paid", "lines": [
                 {"product_id": self.plum, "name": "贞丰李子", "quantity": 2},
                 {"product_id": self.tea, "name": "贞丰古树茶, 特级", "quantity": 1}]},
            {"order_id": self.orders["ready"]["id"], "buyer_display_name": "buyer2",
             "status": "ready", "lines": [
                 {"product_id": self.plum, "name": "贞丰李子", "quantity": 3},
                 {"product_id": self.rice, "name": "庆元大米", "quantity": 4}]}])
        # Coordinators (scoped too) and admins see the same list.
        for tok in (s.coord, s.scoped, s.admin):
            self.assertEqual(check(self.get(s.day, tok), 200), pl)
        # The other day: op2's stall.
        other = check(self.get(s.day2, s.op2), 200)
        self.assertEqual([o["order_id"] for o in other["orders"]],
                         [self.orders["other_day"]["id"]])

    def test_csv(self):
        s = self.s
        r = self.get(s.day, s.op, "?format=csv")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type").startswith("text/csv"))
        self.assertIn("attachment", r.header("content-disposition"))
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))
        paid, ready = self.orders["paid"]["id"], self.orders["ready"]["id"]
        self.assertEqual(r.body[3:].decode().split("\r\n"), [
            "order_id,buyer_display_name,status,product_id,name,unit,quantity",
            "%d,王女士,paid,%d,贞丰李子,500g bag,2" % (paid, self.plum),
            '%d,王女士,paid,%d,"贞丰古树茶, 特级",500g bag,1' % (paid, self.tea),
            "%d,buyer2,ready,%d,贞丰李子,500g bag,3" % (ready, self.plum),
            "%d,buyer2,ready,%d,庆元大米,500g bag,4" % (ready, self.rice), ""])
        r = self.srv.get("/api/v1/market-days/%d/picklist" % s.day, token=s.op,
                         headers={"Accept": "text/csv"})
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))

    def test_who_may_and_errors(self):
        s = self.s
        self.assertProblem(self.get(s.day, s.op2), 403, "forbidden")    # no stall that day
        self.assertProblem(self.get(s.day2, s.op), 403, "forbidden")
        self.assertProblem(self.get(s.day, s.buyer), 403, "forbidden")
        self.assertProblem(self.srv.get("/api/v1/market-days/%d/picklist" % s.day),
                           401, "unauthorized")
        self.assertProblem(self.get(999999, s.coord), 404, "not_found")
        self.assertProblem(self.get(999999, s.op), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/market-days/x/picklist", token=s.coord),
                           404, "not_found")
        self.assertProblem(self.get(s.day, s.coord, "?format=xlsx"), 400,
                           "validation_failed", "format")
        self.assertProblem(self.srv.post("/api/v1/market-days/%d/picklist" % s.day, {},
                                         token=s.admin), 405, "method_not_allowed")


if __name__ == "__main__":
    harness.main()
