"""Scenario: outside systems subscribe to events and get them, signed.

A receiver on 127.0.0.1 (Node, HTTPS with the test certificate) checks
every delivery's signature with the npm package standardwebhooks, a
verifier we did not write. marketd runs with the test-only settings
--webhook-allow-insecure (a 127.0.0.1 receiver), --webhook-ca (the test
CA) and --webhook-retry-scale 1000 (retries after 5 ms, 300 ms, ...).

- every event type the server makes is delivered, with a valid signature,
  a webhook-id per event and the object as the API shows it;
- a receiver that fails twice and then answers 200 gets 3 attempts, and
  GET /webhooks/{id}/deliveries lists all three;
- 410 makes the endpoint inactive, and it gets nothing more;
- a receiver that holds a delivery 20 s does not slow the API: while the
  delivery is in flight, reads and writes are answered.
"""
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402
import orders_fixture as fx  # noqa: E402
import receiver as rx  # noqa: E402


class Delivery(harness.ServerTest):
    server_args = rx.server_args(harness.test_certs())

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rx = rx.Receiver()
        cls.addClassCleanup(cls.rx.stop)
        cls.shop = fx.Shop(cls.srv)
        cls.admin = cls.shop.admin

    def subscribe(self, path, events):
        r = self.srv.post("/api/v1/webhooks", {"url": self.rx.url(path), "events": events,
                                               "description": "测试 " + path},
                          token=self.admin)
        self.assertEqual(r.status, 201, r)
        self.rx.register(path, r.json["secret"])
        self.addCleanup(self.unsubscribe, r.json["id"])
        return r.json

    def unsubscribe(self, id):
        r = self.srv.request("DELETE", "/api/v1/webhooks/%d" % id, token=self.admin)
        self.assertIn(r.status, (204, 404), r)

    def attempts(self, id):
        r = self.srv.get("/api/v1/webhooks/%d/deliveries?limit=200" % id, token=self.admin)
        self.assertEqual(r.status, 200, r)
        return r.json["items"]

    def endpoint(self, id):
        r = self.srv.get("/api/v1/webhooks?limit=200", token=self.admin)
        return next(e for e in r.json["items"] if e["id"] == id)

    def sale(self, sale_id, product):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = self.srv.post("/api/v1/sales", {
            "id": sale_id, "stall_id": self.shop.stall, "recorded_at": now,
            "payment": "wechat", "lines": [{"product_id": product, "quantity": 2}]},
            token=self.shop.op)
        self.assertEqual(r.status, 201, r)
        return r.json

    def test_every_event_type_arrives_signed(self):
        path = "/ok-all"
        self.subscribe(path, rx.EVENT_TYPES)
        product = self.shop.product(1500, 100)
        r = self.srv.patch("/api/v1/products/%d" % product, {"price_fen": 1200},
                           token=self.admin)
        self.assertEqual(r.status, 200, r)
        r = self.srv.patch("/api/v1/market-days/%d" % self.shop.day,
                           {"title": "鼓楼沿扶贫集市"}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        order = self.shop.placed([(product, 2)])
        self.shop.paid(order)
        self.assertEqual(self.shop.act(order["id"], "ready", self.shop.op).status, 200)
        self.assertEqual(self.shop.act(order["id"], "fulfil", self.shop.op).status, 200)
        other = self.shop.placed([(product, 1)])
        self.assertEqual(self.shop.act(other["id"], "cancel", self.shop.buyer).status, 200)
        self.sale("webhook-sale-0001", product)
        r = self.srv.post("/api/v1/sales/webhook-sale-0001/void", {"reason": "录错了"},
                          token=self.shop.op)
        self.assertEqual(r.status, 200, r)

        r = self.srv.post("/api/v1/products/%d/lots" % product,
                          {"code": "WH-LOT-1", "quantity": 30, "packed_on": "2026-11-27",
                           "origin": "贞丰县者相镇"}, token=self.shop.coord)
        self.assertEqual(r.status, 201, r)
        lot = r.json
        made = list(rx.EVENT_TYPES)
        got = self.rx.wait(
            lambda ev: (lambda seen: seen if set(made) <= seen else None)(
                {e["type"] for e in ev if e.get("path") == path and e.get("verified")}),
            "every event type")
        self.assertEqual(got, set(made))
        mine = self.rx.deliveries(path)
        bad = [e for e in mine if not e["verified"]]
        self.assertEqual(bad, [], "deliveries whose signature standardwebhooks refused")
        by_type = {}
        for e in mine:
            by_type.setdefault(e["type"], []).append(e)
            self.assertEqual(e["method"], "POST")
            self.assertRegex(e["id"], r"^[0-9]+$")
            self.assertRegex(e["event_timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        # One event a change (two orders were placed), each delivered
        # once, with its own webhook-id.
        ids = {e["id"] for e in mine}
        self.assertEqual(len(mine), len(made) + 1)
        self.assertEqual(len(ids), len(mine))
        # The data is the object as the API shows it.
        self.assertEqual(by_type["product.updated"][0]["data"]["id"], product)
        self.assertEqual(by_type["product.updated"][0]["data"]["price_fen"], 1200)
        self.assertEqual(by_type["market_day.updated"][0]["data"]["title"], "鼓楼沿扶贫集市")
        placed = {e["data"]["id"]: e["data"] for e in by_type["order.placed"]}
        self.assertEqual(set(placed), {order["id"], other["id"]})
        self.assertEqual(placed[order["id"]]["status"], "placed")
        for t, status in (("order.paid", "paid"), ("order.ready", "ready"),
                          ("order.fulfilled", "fulfilled")):
            self.assertEqual(by_type[t][0]["data"]["id"], order["id"])
            self.assertEqual(by_type[t][0]["data"]["status"], status)
        self.assertEqual(by_type["order.cancelled"][0]["data"]["id"], other["id"])
        self.assertEqual(by_type["order.cancelled"][0]["data"]["status"], "cancelled")
        self.assertEqual(by_type["sale.recorded"][0]["data"]["id"], "webhook-sale-0001")
        self.assertFalse(by_type["sale.recorded"][0]["data"]["voided"])
        self.assertTrue(by_type["sale.voided"][0]["data"]["voided"])
        self.assertEqual(by_type["lot.received"][0]["data"], lot)

    def test_fails_twice_then_200_three_attempts_recorded(self):
        path = "/fail2"
        hook = self.subscribe(path, ["product.updated"])
        product = self.shop.product(900, 10)
        r = self.srv.patch("/api/v1/products/%d" % product, {"price_fen": 800},
                           token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.rx.wait(lambda ev: [e for e in ev if e.get("path") == path and
                                 e.get("answered") == 200], "the third attempt")
        mine = self.rx.deliveries(path)
        self.assertEqual([e["answered"] for e in mine], [500, 500, 200])
        self.assertTrue(all(e["verified"] for e in mine))
        self.assertEqual(len({e["id"] for e in mine}), 1, "same webhook-id on repeats")
        # The worker records the third attempt right after the answer.
        items = rx.wait_for(lambda: (lambda a: a if len(a) == 3 else None)(
            self.attempts(hook["id"])), "3 attempts in the deliveries list")
        self.assertEqual([a["attempt"] for a in items], [3, 2, 1])  # newest first
        self.assertEqual([a["status_code"] for a in items], [200, 500, 500])
        self.assertEqual({str(a["event_id"]) for a in items}, {mine[0]["id"]})
        self.assertEqual({a["type"] for a in items}, {"product.updated"})
        self.assertIsNone(items[0]["next_attempt_at"])
        self.assertIsNone(items[0]["error"])
        for a in items[1:]:
            self.assertIsNotNone(a["next_attempt_at"])
            self.assertEqual(a["error"], "the receiver answered 500")
            self.assertGreaterEqual(a["duration_ms"], 0)
        self.assertLess(items[2]["id"], items[1]["id"])
        # Pages: newest first across cursors too.
        r = self.srv.get("/api/v1/webhooks/%d/deliveries?limit=2" % hook["id"],
                         token=self.admin)
        self.assertEqual([a["attempt"] for a in r.json["items"]], [3, 2])
        r = self.srv.get("/api/v1/webhooks/%d/deliveries?limit=2&cursor=%s" % (
            hook["id"], r.json["next_cursor"]), token=self.admin)
        self.assertEqual([a["attempt"] for a in r.json["items"]], [1])
        self.assertIsNone(r.json["next_cursor"])

    def test_410_deactivates_the_endpoint(self):
        gone = self.subscribe("/gone", ["product.updated"])
        product = self.shop.product(700, 10)
        r = self.srv.patch("/api/v1/products/%d" % product, {"price_fen": 600},
                           token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.rx.wait(lambda ev: self.rx.deliveries("/gone"), "the delivery to /gone")
        rx.wait_for(lambda: not self.endpoint(gone["id"])["active"], "deactivation")
        items = self.attempts(gone["id"])
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0]["status_code"], 410)
        self.assertIsNone(items[0]["next_attempt_at"])
        # The next change reaches another endpoint and not this one.
        self.subscribe("/ok-after-gone", ["product.updated"])
        r = self.srv.patch("/api/v1/products/%d" % product, {"price_fen": 500},
                           token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.rx.wait(lambda ev: self.rx.deliveries("/ok-after-gone"), "the other endpoint")
        self.assertEqual(len(self.rx.deliveries("/gone")), 1)
        self.assertEqual(len(self.attempts(gone["id"])), 1)

    def test_slow_receiver_does_not_slow_the_api(self):
        path = "/slow"
        hook = self.subscribe(path, ["market_day.updated"])
        r = self.srv.patch("/api/v1/market-days/%d" % self.shop.day2,
                           {"title": "慢"}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.rx.wait(lambda ev: [e for e in ev if e.get("kind") == "inflight" and
                                 e["path"] == path], "the slow delivery in flight")
        # While the receiver holds it, the API answers reads and writes.
        self.assertEqual(self.srv.get("/healthz").status, 200)
        self.assertEqual(self.srv.get("/api/v1/products").status, 200)
        product = self.shop.product(300, 5)
        r = self.srv.patch("/api/v1/products/%d" % product, {"price_fen": 200},
                           token=self.admin)
        self.assertEqual(r.status, 200, r)
        order = self.shop.placed([(product, 1)])
        self.assertEqual(self.shop.get(order["id"]).status, 200)
        with self.rx.cond:
            still = not [e for e in self.rx.events if e.get("kind") == "closed" and
                         e["path"] == path]
        self.assertTrue(still, "the API waited for the slow delivery")
        # After 15 s marketd gives up on it and records why.
        self.rx.wait(lambda ev: [e for e in ev if e.get("kind") == "closed" and
                                 e["path"] == path], "marketd to give up", timeout=120)
        items = rx.wait_for(lambda: self.attempts(hook["id"]), "the attempt recorded")
        self.assertEqual(items[-1]["attempt"], 1)
        self.assertIsNone(items[-1]["status_code"])
        self.assertEqual(items[-1]["error"], "no answer within 15 s")
        self.assertGreaterEqual(items[-1]["duration_ms"], 14000)
        self.assertIsNotNone(items[-1]["next_attempt_at"])


if __name__ == "__main__":
    harness.main()
