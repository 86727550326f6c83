"""The recall drill: a lot whose units went into stall sales at two market
days, an online pickup and a delivery, with one sale voided and one order
cancelled. Its trace lists exactly the sales and orders that still hold
its units, and their quantities add up to quantity - remaining; the CSV
has the same events."""
import collections
import csv
import io
import time

import harness
from orders_fixture import Shop, check, delivery, pickup

NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class RecallDrill(harness.ServerTest):
    def test_recall_drill(self):
        s = Shop(self.srv)
        p = s.product(1500, 0, name="贞丰李子")
        other = s.product(900, 0, name="庆元香菇", region="qingyuan")

        def receive(product, code, quantity, best_before):
            return check(self.srv.post("/api/v1/products/%d/lots" % product, {
                "code": code, "quantity": quantity, "packed_on": "2026-05-01",
                "best_before": best_before, "origin": "者相镇"}, token=s.admin))

        lot = receive(p, "ZF-0501-A", 20, "2026-06-01")
        later = receive(p, "ZF-0501-B", 50, "2026-07-01")
        receive(other, "QY-1", 30, "2026-06-01")

        def sale(sid, stall, token, quantity):
            return check(self.srv.post("/api/v1/sales", {
                "id": sid, "stall_id": stall, "recorded_at": NOW, "payment": "wechat",
                "lines": [{"product_id": p, "quantity": quantity},
                          {"product_id": other, "quantity": 1}]}, token=token))

        # Two market days (s.day with op1's stall, s.day2 with op2's).
        sale1 = sale("recall-sale-1", s.stall, s.op, 3)      # lot: 3
        sale2 = sale("recall-sale-2", s.stall2, s.op2, 5)    # lot: 5, voided below
        pick = s.placed([(p, 4)], fulfillment=pickup(s.day))  # lot: 4, cancelled
        deliv = s.placed([(p, 6), (other, 2)], fulfillment=delivery())  # lot: 6
        sale3 = sale("recall-sale-3", s.stall, s.op, 5)      # lot: 2, later lot: 3
        self.assertEqual(sale3["lines"][0]["lots"], [
            {"lot_id": lot["id"], "code": "ZF-0501-A", "quantity": 2},
            {"lot_id": later["id"], "code": "ZF-0501-B", "quantity": 3}])
        check(self.srv.post("/api/v1/sales/recall-sale-2/void", {"reason": "测试作废"},
                            token=s.op2), 200)
        check(s.act(pick["id"], "cancel", s.buyer), 200)
        # Units put back are drawn again by the next sale.
        sale4 = sale("recall-sale-4", s.stall2, s.op2, 2)    # lot: 2
        self.assertEqual(sale4["lines"][0]["lots"],
                         [{"lot_id": lot["id"], "code": "ZF-0501-A", "quantity": 2}])

        t = check(self.srv.get("/api/v1/lots/%d/trace" % lot["id"], token=s.admin), 200)
        remaining = t["lot"]["remaining"]
        self.assertEqual(remaining, 7)
        events = t["events"]
        self.assertEqual([e["at"] for e in events], sorted(e["at"] for e in events))
        self.assertEqual(events[0]["kind"], "received")
        self.assertEqual(events[0]["quantity"], 20)

        # Net units each sale and order holds, from the events alone.
        held = collections.Counter()
        for e in events[1:]:
            ref = ("sale", e["sale_id"]) if "sale_id" in e else ("order", e["order_id"])
            sign = {"sold": 1, "ordered": 1, "returned": -1}[e["kind"]]
            held[ref] += sign * e["quantity"]
        holders = {ref: n for ref, n in held.items() if n != 0}
        self.assertEqual(holders, {
            ("sale", sale1["id"]): 3, ("order", deliv["id"]): 6,
            ("sale", sale3["id"]): 2, ("sale", sale4["id"]): 2})
        self.assertEqual(sum(holders.values()), lot["quantity"] - remaining)
        # Every reference that is gone was put back whole, and is the void
        # and the cancel exactly.
        gone = {ref for ref, n in held.items() if n == 0}
        self.assertEqual(gone, {("sale", sale2["id"]), ("order", pick["id"])})
        self.assertEqual({(e.get("sale_id"), e.get("order_id"), e["quantity"])
                          for e in events if e["kind"] == "returned"},
                         {(sale2["id"], None, 5), (None, pick["id"], 4)})
        # The stall sales were at both market days; the orders online.
        days = {e["market_day_id"] for e in events if e["kind"] == "sold"}
        self.assertEqual(days, {s.day, s.day2})
        for e in events:
            if "order_id" in e:
                self.assertEqual(e["channel"], "online")
            if e.get("order_id") == deliv["id"]:
                self.assertEqual(e["place"], "宁波")
                self.assertNotIn("market_day_id", e)
            if e.get("order_id") == pick["id"]:
                self.assertEqual(e["market_day_id"], s.day)

        # The same drill from the sales and orders as the API shows them:
        # the lines that still hold the lot's units.
        live = [check(self.srv.get("/api/v1/sales/" + x["id"], token=s.admin), 200)
                for x in (sale1, sale2, sale3, sale4)]
        live = [x for x in live if not x["voided"]]
        orders = [check(s.get(o["id"]), 200) for o in (pick, deliv)]
        orders = [o for o in orders if o["status"] != "cancelled"]
        from_lines = collections.Counter()
        for kind, objs in (("sale", live), ("order", orders)):
            for obj in objs:
                for line in obj["lines"]:
                    for taken in line["lots"]:
                        if taken["lot_id"] == lot["id"]:
                            from_lines[(kind, obj["id"])] += taken["quantity"]
        self.assertEqual(dict(from_lines), holders)

        # The CSV holds the same events, one row each.
        r = self.srv.get("/api/v1/lots/%d/trace?format=csv" % lot["id"], token=s.admin)
        self.assertEqual(r.status, 200, r)
        rows = list(csv.reader(io.StringIO(r.body[3:].decode("utf-8"), newline="")))
        self.assertEqual(len(rows), 1 + len(events))
        self.assertEqual([(row[0], row[1], int(row[4])) for row in rows[1:]],
                         [(e["at"], e["kind"], e["quantity"]) for e in events])
        self.assertEqual({row[2] for row in rows[1:]}, {"ZF-0501-A"})
        s.check_ledger()


if __name__ == "__main__":
    harness.main()
