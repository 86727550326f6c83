"""Scenario: an admin manages webhook endpoints (API.md 1.1, "Webhooks"),
and the SSRF guard keeps them off this machine and private networks.

Without --webhook-allow-insecure, a url that is not https://, or whose host
is or resolves to a loopback, private, link-local, unspecified (v4 or v6,
v4-mapped v6 included) address is 400 validation_failed on url, at
creation and at change. An endpoint stored by a server that allowed it (a
test server) is refused again at delivery: the worker connects to nothing
and records why. Every error code of the routes is provoked; secrets are
whsec_ + base64 of 32 bytes, shown only at creation; writes are audited.
(Deliveries to a real receiver are tests/webhooks.)
"""
import base64
import os
import re
import signal
import socket
import threading
import time

import harness
import orders_fixture as fx

PUBLIC = "https://93.184.216.34/hooks/market"  # an IP literal: no DNS needed


class Webhooks(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.user("admin", "admin")
        cls.coord = cls.srv.user("coord", "coordinator")
        cls.buyer = cls.srv.user("buyer", "buyer")

    def create(self, body, token=None):
        return self.srv.post("/api/v1/webhooks", body, token=token or self.admin)

    def test_create_list_patch_delete(self):
        r = self.create({"url": PUBLIC, "events": ["sale.recorded", "order.paid",
                                                   "order.paid"],
                         "description": "832 平台"})
        self.assertEqual(r.status, 201, r)
        e = r.json
        self.assertEqual(e["url"], PUBLIC)
        # In the contract's order, each once.
        self.assertEqual(e["events"], ["order.paid", "sale.recorded"])
        self.assertEqual(e["description"], "832 平台")
        self.assertIs(e["active"], True)
        self.assertRegex(e["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(e["secret"], r"^whsec_[A-Za-z0-9+/]{43}=$")
        self.assertEqual(len(base64.b64decode(e["secret"][6:])), 32)
        other = self.create({"url": PUBLIC, "events": ["lot.received"]}).json
        self.assertNotEqual(other["secret"], e["secret"])
        self.assertIsNone(other["description"])

        r = self.srv.get("/api/v1/webhooks?limit=1", token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json["items"]), 1)
        self.assertIsNotNone(r.json["next_cursor"])
        listed = r.json["items"]
        r = self.srv.get("/api/v1/webhooks?cursor=" + r.json["next_cursor"],
                         token=self.admin)
        listed += r.json["items"]
        self.assertNotIn(e["secret"].encode(), r.body)
        mine = next(x for x in listed if x["id"] == e["id"])
        self.assertNotIn("secret", mine)
        self.assertEqual(mine, {k: v for k, v in e.items() if k != "secret"})

        r = self.srv.patch("/api/v1/webhooks/%d" % e["id"],
                           {"active": False, "events": ["market_day.updated"],
                            "description": None}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["active"], False)
        self.assertEqual(r.json["events"], ["market_day.updated"])
        self.assertIsNone(r.json["description"])
        self.assertEqual(r.json["url"], PUBLIC)
        self.assertNotIn("secret", r.json)
        r = self.srv.patch("/api/v1/webhooks/%d" % e["id"],
                           {"url": "https://93.184.216.35/other"}, token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["url"], "https://93.184.216.35/other")
        self.assertEqual(r.json["events"], ["market_day.updated"])

        r = self.srv.get("/api/v1/webhooks/%d/deliveries" % e["id"], token=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"items": [], "next_cursor": None})

        r = self.srv.request("DELETE", "/api/v1/webhooks/%d" % e["id"], token=self.admin)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        r = self.srv.request("DELETE", "/api/v1/webhooks/%d" % e["id"], token=self.admin)
        self.assertProblem(r, 404, "not_found")

        # Every write is in the audit log.
        r = self.srv.get("/api/v1/audit?limit=200", token=self.admin)
        actions = {(a["action"], a["object_type"], a["object_id"]) for a in r.json["items"]}
        for action in ("POST /api/v1/webhooks", "PATCH /api/v1/webhooks/{id}",
                       "DELETE /api/v1/webhooks/{id}"):
            self.assertIn((action, "webhook", e["id"]), actions)

    def test_validation(self):
        cases = [
            ({"events": ["order.paid"]}, "url"),
            ({"url": 5, "events": ["order.paid"]}, "url"),
            ({"url": "", "events": ["order.paid"]}, "url"),
            ({"url": "https://93.184.216.34/" + "a" * 2048, "events": ["order.paid"]}, "url"),
            ({"url": PUBLIC}, "events"),
            ({"url": PUBLIC, "events": []}, "events"),
            ({"url": PUBLIC, "events": "order.paid"}, "events"),
            ({"url": PUBLIC, "events": ["order.paid", "order.shipped"]}, "events[1]"),
            ({"url": PUBLIC, "events": [7]}, "events[0]"),
            ({"url": PUBLIC, "events": ["order.paid"], "description": "x" * 501},
             "description"),
            ({"url": PUBLIC, "events": ["order.paid"], "description": 3}, "description"),
            ({"url": "http://93.184.216.34/", "events": ["order.paid"]}, "url"),
            ({"url": "ftp://93.184.216.34/", "events": ["order.paid"]}, "url"),
            ({"url": "not a url", "events": ["order.paid"]}, "url"),
            ({"url": "https://u:p@93.184.216.34/", "events": ["order.paid"]}, "url"),
        ]
        for body, field in cases:
            with self.subTest(body=str(body)[:80]):
                self.assertProblem(self.create(body), 400, "validation_failed", field)
        r = self.create({"url": PUBLIC, "events": ["order.paid", "nope"]},
                        token=self.admin)
        self.assertIn("must be one of order.placed, order.paid", r.json["detail"])
        e = self.create({"url": PUBLIC, "events": ["order.paid"]}).json
        for body, field in (({"active": "no"}, "active"), ({"events": []}, "events"),
                            ({"url": None}, "url"),
                            ({"url": "https://127.0.0.1/x"}, "url")):
            with self.subTest(patch=body):
                r = self.srv.patch("/api/v1/webhooks/%d" % e["id"], body, token=self.admin)
                self.assertProblem(r, 400, "validation_failed", field)
        self.assertEqual(self.srv.get("/api/v1/webhooks?limit=200", token=self.admin)
                         .json["items"][-1]["url"], PUBLIC)
        r = self.srv.get("/api/v1/webhooks?cursor=zzz", token=self.admin)
        self.assertProblem(r, 400, "validation_failed", "cursor")
        r = self.srv.get("/api/v1/webhooks/%d/deliveries?cursor=zzz" % e["id"],
                         token=self.admin)
        self.assertProblem(r, 400, "validation_failed", "cursor")
        r = self.srv.get("/api/v1/webhooks?limit=0", token=self.admin)
        self.assertProblem(r, 400, "validation_failed", "limit")
        r = self.srv.request("POST", "/api/v1/webhooks", raw=b"{", token=self.admin)
        self.assertProblem(r, 400, "bad_json")
        r = self.srv.request("POST", "/api/v1/webhooks", raw=b"{}", token=self.admin,
                             headers={"Content-Type": "text/plain"})
        self.assertProblem(r, 415, "unsupported_media_type")
        r = self.srv.request("POST", "/api/v1/webhooks",
                             raw=b'{"url":"' + b"a" * (1024 * 1024) + b'"}', token=self.admin)
        self.assertProblem(r, 413, "payload_too_large")

    def test_private_addresses_are_refused(self):
        for url in ("https://127.0.0.1/x", "https://127.1.2.3:8443/x",
                    "https://localhost/x",
                    "https://10.1.2.3/x", "https://172.16.0.1/x", "https://172.31.255.255/x",
                    "https://192.168.1.10/x", "https://100.64.0.1/x",
                    "https://169.254.169.254/latest/meta-data", "https://0.0.0.0/x",
                    "https://[::1]/x", "https://[::]/x", "https://[fe80::1]/x",
                    "https://[fd00::1]/x", "https://[::ffff:127.0.0.1]/x",
                    "https://[::ffff:10.0.0.1]/x", "https://[::ffff:169.254.1.1]/x",
                    "https://[64:ff9b::a00:1]/x", "https://2130706433/x",
                    "https://0x7f.1/x", "https://224.0.0.1/x"):
            with self.subTest(url=url):
                r = self.create({"url": url, "events": ["order.paid"]})
                self.assertProblem(r, 400, "validation_failed", "url")
                self.assertRegex(r.json["detail"], r"^url: host .* is or resolves to an? "
                                 r"(loopback|private|link-local|unspecified|multicast) address$")
        # Public addresses, v4 and v6, are accepted.
        for url in ("https://8.8.8.8/x", "https://[2606:4700:4700::1111]/x",
                    "https://172.32.0.1/x", "https://[::ffff:8.8.4.4]/x"):
            with self.subTest(url=url):
                self.assertEqual(self.create({"url": url, "events": ["order.paid"]}).status,
                                 201)
        r = self.create({"url": "https://[::1]/x", "events": ["order.paid"]},
                        token=self.admin)
        self.assertEqual(r.json["detail"],
                         "url: host [::1] is or resolves to a loopback address")
        r = self.srv.post("/api/v1/webhooks", {"url": "https://localhost/x",
                                               "events": ["order.paid"]},
                          token=self.admin, headers={"Accept-Language": "zh-CN"})
        self.assertEqual(r.json["detail"], "url：主机 localhost 是或解析为环回地址")

    def test_roles_and_unknown_ids(self):
        for token, status, code in ((None, 401, "unauthorized"),
                                    (self.buyer, 403, "forbidden"),
                                    (self.coord, 403, "forbidden")):
            with self.subTest(code=code, token=bool(token)):
                body = {"url": PUBLIC, "events": ["order.paid"]}
                self.assertProblem(self.srv.post("/api/v1/webhooks", body, token=token),
                                   status, code)
                self.assertProblem(self.srv.get("/api/v1/webhooks", token=token),
                                   status, code)
                self.assertProblem(self.srv.patch("/api/v1/webhooks/1", {}, token=token),
                                   status, code)
                self.assertProblem(self.srv.request("DELETE", "/api/v1/webhooks/1",
                                                    token=token), status, code)
                self.assertProblem(self.srv.get("/api/v1/webhooks/1/deliveries",
                                                token=token), status, code)
        for path in ("/api/v1/webhooks/999999", "/api/v1/webhooks/abc"):
            self.assertProblem(self.srv.patch(path, {"active": False}, token=self.admin),
                               404, "not_found")
            self.assertProblem(self.srv.request("DELETE", path, token=self.admin),
                               404, "not_found")
            self.assertProblem(self.srv.get(path + "/deliveries", token=self.admin),
                               404, "not_found")
        r = self.srv.request("PUT", "/api/v1/webhooks", token=self.admin)
        self.assertProblem(r, 405, "method_not_allowed")
        r = self.srv.request("GET", "/api/v1/webhooks/1", token=self.admin)
        self.assertProblem(r, 405, "method_not_allowed")


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it gets."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            c.close()

    def close(self):
        self.sock.close()


class RefusedAtDelivery(harness.ServerTest):
    """An endpoint a test server stored for 127.0.0.1 gets nothing from a
    server without the flag: the guard runs before every connection."""
    server_args = ("--webhook-allow-insecure", "--webhook-retry-scale", "1000")

    def test_refused_at_delivery(self):
        listener = Listener()
        self.addCleanup(listener.close)
        shop = fx.Shop(self.srv)
        r = self.srv.post("/api/v1/webhooks", {
            "url": "https://127.0.0.1:%d/hook" % listener.port,
            "events": ["product.updated"]}, token=shop.admin)
        self.assertEqual(r.status, 201, r)
        hook = r.json["id"]
        product = shop.product(500, 5)
        self.assertEqual(self.srv.stop(), 0)

        plain = harness.Server(db=self.srv.db, args=["--webhook-retry-scale", "1000"])
        plain.start()
        try:
            admin = plain.login("admin")
            r = plain.patch("/api/v1/products/%d" % product, {"price_fen": 400}, token=admin)
            self.assertEqual(r.status, 200, r)
            deadline = time.time() + 60
            while True:
                items = plain.get("/api/v1/webhooks/%d/deliveries" % hook,
                                  token=admin).json["items"]
                if len(items) >= 2:
                    break
                self.assertLess(time.time(), deadline, "no attempt recorded")
                time.sleep(0.05)
            for a in items:
                self.assertIsNone(a["status_code"])
                self.assertEqual(a["error"],
                                 "refused to connect to 127.0.0.1 (loopback)")
            self.assertEqual(listener.accepted, 0)
            # The flag is what allowed it: without it the same url is refused.
            r = plain.patch("/api/v1/webhooks/%d" % hook,
                            {"url": "https://127.0.0.1:%d/other" % listener.port},
                            token=admin)
            self.assertProblem(r, 400, "validation_failed", "url")
            self.assertEqual(plain.stop(), 0)
            log = "".join(plain.log)
            self.assertNotIn("AddressSanitizer", log)
            self.assertNotIn("runtime error:", log)
        finally:
            if plain.proc is not None:
                plain.stop(signal.SIGKILL)
            plain.cleanup()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()


if __name__ == "__main__":
    harness.main()
