"""A full pickup day: a buyer orders Zhenfeng plums for pickup at next
Saturday's market, pays through the provider's callback, and collects
them from the stall whose operator marks the order ready and then hands
it over. Each status change leaves one row in the order's history."""
import datetime

import harness
from orders_fixture import SHANGHAI, Shop, check, pickup


def next_saturday():
    today = datetime.datetime.now(SHANGHAI).date()
    return (today + datetime.timedelta(days=(5 - today.weekday()) % 7 or 7)).isoformat()


class PickupDay(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s = Shop(cls.srv)

    def test_order_pay_collect(self):
        s, srv = self.s, self.srv
        plums = s.product(1500, 200, name="贞丰李子")
        venue = check(srv.post("/api/v1/venues", {
            "name": "鼓楼步行街（鼓楼沿）", "kind": "street_market",
            "subdistrict": "鼓楼街道"}, token=s.admin))["id"]
        saturday = s.market_day(next_saturday(), venue=venue)
        stall = s.add_stall(saturday, s.op_id, "贞丰李子 A3")
        self.assertEqual(check(srv.get("/api/v1/market-days/%d" % saturday), 200)["date"],
                         next_saturday())

        # The buyer finds the plums and orders 4 bags for Saturday.
        order = s.placed([(plums, 4)], fulfillment=pickup(saturday), note="下午三点来取")
        self.assertEqual(order["total_fen"], 6000)
        self.assertEqual(s.stock(plums), 196)

        # Before payment the operator sees it among the day's pickups but
        # cannot hand it over yet.
        mine = [o["id"] for o in s.orders(s.op)]
        self.assertIn(order["id"], mine)
        self.assertProblem(s.act(order["id"], "ready", s.op), 409, "invalid_state")

        # The provider confirms the payment.
        r = s.pay(order["id"], 6000, "wx-saturday-0001")
        self.assertEqual((r.status, r.json["status"]), (200, "paid"), r)

        # The operator's list of paid pickups to prepare holds it.
        to_prepare = s.orders(s.op, "&status=paid")
        self.assertEqual([o["id"] for o in to_prepare], [order["id"]])
        self.assertEqual(to_prepare[0]["fulfillment"],
                         {"type": "pickup", "market_day_id": saturday})
        # The other operator, without a stall that day, does not.
        self.assertNotIn(order["id"], [o["id"] for o in s.orders(s.op2)])
        self.assertProblem(s.act(order["id"], "ready", s.op2), 404, "not_found")

        ready = check(s.act(order["id"], "ready", s.op), 200)
        self.assertEqual(ready["status"], "ready")
        self.assertEqual(check(s.get(order["id"], token=s.buyer), 200)["status"], "ready")
        # Now the buyer may no longer cancel it.
        self.assertProblem(s.act(order["id"], "cancel", s.buyer), 409, "invalid_state")

        done = check(s.act(order["id"], "fulfil", s.op), 200)
        self.assertEqual((done["status"], done["refund_fen"], done["total_fen"]),
                         ("fulfilled", 0, 6000))
        self.assertEqual(check(s.get(order["id"], token=s.buyer), 200), done)
        self.assertEqual(s.orders(s.op, "&status=paid"), [])
        self.assertEqual(s.stock(plums), 196)

        # The history: one event per status change, by whom.
        with srv.sql() as db:
            events = db.query("SELECT from_status, to_status, user_id FROM order_events "
                              "WHERE order_id = ? ORDER BY id", (order["id"],))
        self.assertEqual(events, [(None, "placed", s.buyer_id), ("placed", "paid", None),
                                  ("paid", "ready", s.op_id),
                                  ("ready", "fulfilled", s.op_id)])
        self.assertTrue(stall)
        s.check_ledger()


if __name__ == "__main__":
    harness.main()
