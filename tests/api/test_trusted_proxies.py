"""Behind a load balancer (--trusted-proxies): a connection from a
trusted proxy is taken to be from the address its X-Forwarded-For names
(the rightmost entry that is not a proxy itself), in the access log and
in the per-address login limit; any other connection is from its own
address, whatever header it sends. The test's clients connect from
several loopback addresses (127.0.0.2 is the proxy)."""
import http.client
import re
import subprocess
import time
import unittest

import harness


class TrustedProxies(harness.ServerTest):
    server_args = ("--trusted-proxies", "127.0.0.2, 10.0.0.0/8",
                   "--auth-address-max", "3", "--auth-address-window", "600")

    def send(self, source, method, path, xff=None, body=None):
        c = http.client.HTTPSConnection("localhost", self.srv.port, context=self.srv._ctx,
                                        timeout=60, source_address=(source, 0))
        try:
            h = {"X-Forwarded-For": xff} if xff is not None else None
            return self.srv.request(method, path, body=body, headers=h, conn=c)
        finally:
            c.close()

    def logged_from(self, path):
        """The client address of the access-log line of path."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for line in self.srv.log:
                m = re.search(r" GET %s \d+ \d+us user=\d+ (\S+)$" % re.escape(path),
                              line.rstrip("\n"))
                if m:
                    return m.group(1)
            time.sleep(0.02)
        self.fail("no access-log line for %s" % path)

    def test_the_client_address_in_the_log(self):
        for i, (source, xff, want) in enumerate((
                ("127.0.0.3", "9.9.9.9", "127.0.0.3"),          # not a proxy
                ("127.0.0.1", None, "127.0.0.1"),
                ("127.0.0.2", "9.9.9.9", "9.9.9.9"),            # the proxy
                ("127.0.0.2", "forged, 9.9.9.9, 8.8.8.8", "8.8.8.8"),
                ("127.0.0.2", "9.9.9.9, 10.1.2.3", "9.9.9.9"),  # two proxies
                ("127.0.0.2", None, "127.0.0.2"),
                ("127.0.0.2", "unknown", "127.0.0.2"))):
            path = "/api/v1/regions/xff-%d" % i
            r = self.send(source, "GET", path, xff)
            self.assertEqual(r.status, 404, r)
            self.assertEqual(self.logged_from(path), want, (source, xff))

    def test_the_login_limit_counts_the_client_behind_the_proxy(self):
        def login(source, xff, n):
            return self.send(source, "POST", "/api/v1/auth/login", xff,
                             {"username": "nobody%d" % n, "password": "wrong-password"})
        for n in range(3):
            self.assertEqual(login("127.0.0.2", "7.7.7.7", n).status, 401)
        self.assertProblem(login("127.0.0.2", "7.7.7.7", 3), 429, "rate_limited")
        # Another client behind the same proxy is not held up by it...
        self.assertEqual(login("127.0.0.2", "6.6.6.6", 4).status, 401)
        # ...and a client that is not a proxy cannot pose as one.
        for n in range(3):
            self.assertEqual(login("127.0.0.4", "6.6.6.%d" % n, 10 + n).status, 401)
        self.assertProblem(login("127.0.0.4", "5.5.5.5", 13), 429, "rate_limited")


class BadSetting(unittest.TestCase):
    def test_a_bad_range_stops_start_up(self):
        for bad in ("10.0.0.0/33", "proxy.example.org", "10.0.0.1,,1.2.3"):
            p = subprocess.run([harness.MARKETD, "--trusted-proxies", bad,
                                "--listen", "127.0.0.1:0"], capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 2, p)
            err = p.stderr.decode()
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertIn("trusted-proxies", err)
            self.assertIn("is not an address", err)


if __name__ == "__main__":
    harness.main()
