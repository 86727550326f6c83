"""tools/nginx/marketd.conf in front of two marketd nodes over one
PostgreSQL database (issue 13, README "Outgrowing one machine").

nginx runs that very file, with only the nodes' addresses, its port and
the certificate paths replaced; the nodes trust nginx's address as a
proxy (--trusted-proxies). Through nginx, over TLS:
  * requests are spread over both nodes, and each node logs the client's
    own address (127.0.0.3 here), not nginx's;
  * a product changed through the balancer is seen through it, whichever
    node answers (the time it took is printed; the bound is a failure's);
  * with node A stopped, reads keep being answered (nginx passes them to
    node B) and an order with an Idempotency-Key is stored once, also
    when the client sends it again.
"""
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402
import orders_fixture  # noqa: E402
import pgcluster  # noqa: E402

CONF = os.path.join(harness.SOURCE, "tools", "nginx", "marketd.conf")
CLIENT = "127.0.0.3"  # the address the test's client connects from


def render(text, ports, listen, certs):
    """The example configuration with this test's addresses and files."""
    subs = [
        (r"server 10\.0\.0\.11:8443", "server 127.0.0.1:%d" % ports[0]),
        (r"server 10\.0\.0\.12:8443", "server 127.0.0.1:%d" % ports[1]),
        (r"listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % listen[0]),
        (r"listen 80;", "listen 127.0.0.1:%d;" % listen[1]),
        (r"/etc/nginx/tls/market\.example\.org\.crt", os.path.join(certs, "localhost.crt")),
        (r"/etc/nginx/tls/market\.example\.org\.key", os.path.join(certs, "localhost.key")),
        (r"/etc/nginx/tls/marketd-nodes-ca\.crt", os.path.join(certs, "dev-ca.crt")),
        (r"proxy_ssl_name marketd\.internal;", "proxy_ssl_name localhost;"),
    ]
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text)
        if n != 1:
            raise AssertionError("%s: %r found %d times" % (CONF, pattern, n))
    return text


@unittest.skipUnless(pgcluster.available() and shutil.which("nginx"),
                     "needs PostgreSQL and nginx")
class Balancer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster, uri = pgcluster.for_class(cls)
        cls.nodes = [harness.node_for(cls, uri, ("--trusted-proxies", "127.0.0.1"))
                     for _ in range(2)]
        cls.shop = orders_fixture.Shop(cls.nodes[0])
        cls.dir = tempfile.mkdtemp(prefix="market-nginx-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        os.chmod(cls.dir, 0o755)
        for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(cls.dir, d))
            os.chmod(os.path.join(cls.dir, d), 0o777)
        cls.port = pgcluster.free_port()
        certs = harness.test_certs()
        with open(CONF) as f:
            site = render(f.read(), [n.port for n in cls.nodes],
                          (cls.port, pgcluster.free_port()), certs)
        with open(os.path.join(cls.dir, "marketd.conf"), "w") as f:
            f.write(site)
        d = cls.dir
        main = """worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    include %(d)s/marketd.conf;
}
""" % {"d": d}
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(main)
        test = subprocess.run(["nginx", "-t", "-p", d, "-c", os.path.join(d, "nginx.conf")],
                              capture_output=True)
        if test.returncode != 0:
            raise AssertionError("nginx -t: " + test.stderr.decode())
        cls.nginx = subprocess.Popen(
            ["nginx", "-p", d, "-c", os.path.join(d, "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cls.addClassCleanup(cls._stop_nginx)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                if cls.nginx.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("nginx did not start: %s" %
                                         cls.nginx.stderr.read().decode())
                time.sleep(0.05)
        cls.ctx = ssl.create_default_context(cafile=os.path.join(certs, "dev-ca.crt"))

    @classmethod
    def _stop_nginx(cls):
        if cls.nginx.poll() is None:
            cls.nginx.send_signal(signal.SIGQUIT)  # graceful
            try:
                cls.nginx.wait(30)
            except subprocess.TimeoutExpired:
                cls.nginx.kill()
                cls.nginx.wait()

    def via(self, method, path, body=None, token=None, headers=None):
        """One request through nginx, on a connection of its own."""
        c = http.client.HTTPSConnection("localhost", self.port, context=self.ctx,
                                        timeout=120, source_address=(CLIENT, 0))
        try:
            return self.nodes[0].request(method, path, body=body, token=token,
                                         headers=headers, conn=c)
        finally:
            c.close()

    def logged(self, node, path):
        """The client addresses of node's access-log lines for path."""
        pat = re.compile(r" %s %s \d+ \d+us user=\d+ (\S+)$" % (r"\S+", re.escape(path)))
        return [m.group(1) for m in (pat.search(l.rstrip("\n")) for l in node.log) if m]

    def test_1_spread_over_both_nodes_with_the_clients_address(self):
        token = self.via("POST", "/api/v1/auth/login",
                         {"username": "admin", "password": "password123"}).json["token"]
        p = self.shop.product(1200, 50, name="贞丰李子 balancer")
        path = "/api/v1/products/%d" % p
        for i in range(16):
            r = self.via("GET", path, token=token if i % 2 else None)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["stock"], 50)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(
                len(self.logged(n, path)) for n in self.nodes) < 16:
            time.sleep(0.02)
        seen = [self.logged(n, path) for n in self.nodes]
        self.assertEqual(sum(len(s) for s in seen), 16, seen)
        self.assertTrue(all(seen), "one node got every request: %s" % seen)
        self.assertEqual({a for s in seen for a in s}, {CLIENT})

    def test_2_a_change_through_the_balancer_is_seen_through_it(self):
        s = self.shop
        p = s.product(800, 20)
        path = "/api/v1/products/%d" % p
        for _ in range(4):  # both nodes cache it
            self.assertEqual(self.via("GET", path).json["price_fen"], 800)
        r = self.via("PATCH", path, {"price_fen": 950}, token=s.admin)
        self.assertEqual(r.status, 200, r)
        # Whichever node answers: the notification reaches the other in
        # milliseconds (tests/pg/test_nodes prints how many); the bound
        # is for a failure only, on a busy machine.
        start = time.monotonic()
        while True:
            prices = [self.via("GET", path).json["price_fen"] for _ in range(4)]
            if prices == [950] * 4 or time.monotonic() - start > 30:
                break
        self.assertEqual(prices, [950] * 4)
        print("\n  the new price through the balancer after %.0f ms"
              % ((time.monotonic() - start) * 1000), file=sys.stderr)

    def test_3_node_a_stopped(self):
        s = self.shop
        p = s.product(1500, 10)
        self.assertEqual(self.nodes[0].stop(), 0)
        for _ in range(6):
            r = self.via("GET", "/api/v1/products/%d" % p)
            self.assertEqual(r.status, 200, r)
        order = {"lines": [{"product_id": p, "quantity": 2}],
                 "fulfillment": orders_fixture.pickup(s.day)}
        key = {"Idempotency-Key": "balancer-order-0001"}
        first = self.via("POST", "/api/v1/orders", order, token=s.buyer, headers=key)
        self.assertEqual(first.status, 201, first)
        again = self.via("POST", "/api/v1/orders", order, token=s.buyer, headers=key)
        self.assertIn(again.status, (200, 201), again)
        self.assertEqual(again.json["id"], first.json["id"])
        self.assertEqual(self.via("GET", "/api/v1/products/%d" % p).json["stock"], 8)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(
                self.logged(self.nodes[1], "/api/v1/orders")) < 2:
            time.sleep(0.02)
        self.assertEqual(self.logged(self.nodes[1], "/api/v1/orders"), [CLIENT] * 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
