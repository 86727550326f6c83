"""Scenario: the outbox does not grow for ever.

An event whose every delivery has ended (delivered, or failed after the
last retry) is kept for --webhook-retention days (30 by default), then
deleted with its deliveries and attempts by the delivery worker. An event
with a delivery still pending is kept whatever its age, and event ids are
never given again, so a receiver's webhook-id stays unique.

The receiver here is a port nobody listens on: every delivery fails, and
with the retry schedule divided by 100,000 each one has failed for good
within seconds. The server is then stopped and the events are aged with
sqlite3, as days would age them.
"""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402
import orders_fixture as fx  # noqa: E402
import receiver as rx  # noqa: E402

DAY = 86400


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def attempts(srv, token, hook):
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


def rows(db, sql, *args):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


class Retention(harness.ServerTest):
    server_args = rx.server_args(harness.test_certs(), scale=100000)

    def test_old_finished_events_are_deleted(self):
        srv = self.srv
        shop = fx.Shop(srv)
        url = "https://127.0.0.1:%d/nobody" % free_port()
        r = srv.post("/api/v1/webhooks", {"url": url, "events": ["product.updated"]},
                     token=shop.admin)
        self.assertEqual(r.status, 201, r)
        hook = r.json["id"]
        product = shop.product(10000, 10)
        for i in range(6):
            r = srv.patch("/api/v1/products/%d" % product, {"price_fen": 9000 + i},
                          token=shop.admin)
            self.assertEqual(r.status, 200, r)
        events = [e for (e,) in rows(srv.db, "SELECT id FROM webhook_events ORDER BY id")]
        self.assertEqual(len(events), 6)
        rx.wait_for(lambda: rows(srv.db, "SELECT count(*) FROM webhook_deliveries "
                                 "WHERE state = 'failed'")[0][0] == 6,
                    "every delivery failed for good")
        self.assertEqual(srv.stop(), 0)

        # Events 1-4 are 40 days old, 5 is 29 days old, 6 is new; event 4's
        # delivery is made pending again (as if its last retry were due).
        now = int(time.time())
        con = sqlite3.connect(srv.db)
        with con:
            for e in events[:4]:
                con.execute("UPDATE webhook_events SET at = ? WHERE id = ?", (now - 40 * DAY, e))
            con.execute("UPDATE webhook_events SET at = ? WHERE id = ?",
                        (now - 29 * DAY, events[4]))
            con.execute("UPDATE webhook_deliveries SET state = 'pending', due_ms = ? "
                        "WHERE event_id = ?", ((now + 365 * DAY) * 1000, events[3]))
        con.close()
        kept = events[3:]
        self.assertEqual(rows(srv.db, "SELECT count(*) FROM webhook_attempts "
                              "WHERE event_id IN (?, ?, ?)", *events[:3])[0][0], 3 * 10)

        again = harness.Server(db=srv.db, args=self.server_args).start()
        self.addCleanup(again.cleanup)
        self.addCleanup(lambda: again.proc and again.stop(signal.SIGKILL))
        rx.wait_for(lambda: [e for (e,) in rows(
            again.db, "SELECT id FROM webhook_events ORDER BY id")] == kept,
            "the three old finished events deleted")
        self.assertEqual(rows(again.db, "SELECT count(*) FROM webhook_deliveries "
                              "WHERE event_id IN (?, ?, ?)", *events[:3])[0][0], 0)
        self.assertEqual(rows(again.db, "SELECT count(*) FROM webhook_attempts "
                              "WHERE event_id IN (?, ?, ?)", *events[:3])[0][0], 0)
        admin = again.login("admin")
        listed = {str(a["event_id"]) for a in attempts(again, admin, hook)}
        self.assertEqual(listed, {str(e) for e in kept})
        # A new event gets a new id, never an old one.
        r = again.patch("/api/v1/products/%d" % product, {"price_fen": 8000}, token=admin)
        self.assertEqual(r.status, 200, r)
        newest = rows(again.db, "SELECT max(id) FROM webhook_events")[0][0]
        self.assertGreater(newest, events[-1])
        self.assertEqual(again.ctl("check").returncode, 0)
        self.assertIn("3 events older than 30 days deleted", "".join(again.log))
        self.assertEqual(again.stop(), 0)

    def test_retention_is_bounded(self):
        for bad in ("0", "3651", "x", "-1"):
            p = subprocess.run([harness.MARKETD, "--webhook-retention", bad, "--db",
                                os.path.join(self.srv.dir, "bad.db")],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn("webhook-retention", p.stderr, bad)

    @classmethod
    def tearDownClass(cls):
        # The first server was stopped on purpose (its database aged).
        if cls.srv.proc is not None and cls.srv.proc.poll() is None:
            cls.srv.stop()
        cls.srv.cleanup()


if __name__ == "__main__":
    harness.main()
