"""Scenario: marketd is killed with kill -9 while events wait for delivery.

The receiver is down while 40 changes are made (each acknowledged, so
committed with its event): every delivery fails and waits for a retry.
marketd is killed with SIGKILL, the receiver comes up, marketd starts
again on the same database: every event arrives, signed (checked by
standardwebhooks), at least once, with the same webhook-id and body on
every repeat, and the deliveries list ends with a 200 for each.
"""
import os
import signal
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402
import orders_fixture as fx  # noqa: E402
import receiver as rx  # noqa: E402

CHANGES = 40


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def attempts(srv, token, hook):
    """Every attempt of endpoint hook, walking the pages."""
    out, cursor = [], None
    while True:
        path = "/api/v1/webhooks/%d/deliveries?limit=200" % hook
        if cursor:
            path += "&cursor=" + cursor
        r = srv.get(path, token=token)
        if r.status != 200:
            raise AssertionError(r)
        out += r.json["items"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return out


class Crash(harness.ServerTest):
    server_args = rx.server_args(harness.test_certs())

    def test_kill_9_loses_no_event(self):
        srv = self.srv
        shop = fx.Shop(srv)
        port = free_port()
        url = "https://127.0.0.1:%d/ok-crash" % port
        r = srv.post("/api/v1/webhooks", {"url": url, "events": ["product.updated",
                                                                  "order.placed"]},
                     token=shop.admin)
        self.assertEqual(r.status, 201, r)
        hook, secret = r.json["id"], r.json["secret"]
        product = shop.product(10000, 1000)
        prices = {}
        for i in range(CHANGES):
            price = 9000 - i
            r = srv.patch("/api/v1/products/%d" % product, {"price_fen": price},
                          token=shop.admin)
            self.assertEqual(r.status, 200, r)
            prices[price] = True
        orders = [shop.placed([(product, 1)])["id"] for _ in range(5)]
        # Every delivery has failed once at least (nobody listens).
        rx.wait_for(lambda: len({a["event_id"] for a in attempts(
            srv, shop.admin, hook)}) == CHANGES + len(orders),
            "a failed attempt of every event")
        self.assertEqual(srv.stop(signal.SIGKILL), -signal.SIGKILL)

        receiver = rx.Receiver(port)
        self.addCleanup(receiver.stop)
        receiver.register("/ok-crash", secret)
        again = harness.Server(db=srv.db, args=self.server_args).start()
        self.addCleanup(again.cleanup)
        self.addCleanup(lambda: again.proc and again.stop(signal.SIGKILL))
        try:
            want = CHANGES + len(orders)
            receiver.wait(lambda ev: len({e["id"] for e in ev if e.get("kind") == "delivery"
                                          and e["verified"]}) >= want,
                          "every event after the restart", timeout=180)
            got = receiver.deliveries("/ok-crash")
            self.assertEqual([e for e in got if not e["verified"]], [])
            by_id = {}
            for e in got:
                by_id.setdefault(e["id"], []).append(e)
            self.assertEqual(len(by_id), want)
            for id, repeats in by_id.items():
                # Repeats (if any) carry the same event.
                self.assertEqual(len({(e["type"], repr(e["data"])) for e in repeats}), 1, id)
            seen_prices = sorted(e[0]["data"]["price_fen"] for e in by_id.values()
                                 if e[0]["type"] == "product.updated")
            self.assertEqual(seen_prices, sorted(prices))
            seen_orders = sorted(e[0]["data"]["id"] for e in by_id.values()
                                 if e[0]["type"] == "order.placed")
            self.assertEqual(seen_orders, sorted(orders))
            admin = again.login("admin")

            def all_delivered():
                ok = {a["event_id"] for a in attempts(again, admin, hook)
                      if a["status_code"] == 200}
                return ok if len(ok) == want else None
            ok = rx.wait_for(all_delivered, "a 200 recorded for every event")
            self.assertEqual({str(i) for i in ok}, set(by_id))
            self.assertEqual(again.stop(), 0)
            log = "".join(again.log)
            self.assertNotIn("AddressSanitizer", log)
            self.assertNotIn("runtime error:", log)
        finally:
            if again.proc is not None:
                again.stop(signal.SIGKILL)

    @classmethod
    def tearDownClass(cls):
        # The first server was killed on purpose.
        cls.srv.cleanup()


if __name__ == "__main__":
    harness.main()
