"""TLS fails closed: when a connection's SSL or its TLS bufferevent cannot
be made, the connection is closed. libevent's evhttp would otherwise serve
it on a plain bufferevent, answering HTTP in the clear on the HTTPS port.
The failures are made by test-only hooks (MARKETD_TEST_FAIL_SSL_NEW,
MARKETD_TEST_FAIL_BEV_NEW: the first N connections fail); the server goes
on serving TLS once they are used up."""
import socket
import ssl
import unittest

import harness

FAILS = 3


def plain_get(srv):
    """A plain-text request on the HTTPS port; returns every byte that
    came back before the server closed the connection."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


class FailClosed(unittest.TestCase):

    def check(self, env):
        srv = harness.Server(threads=1, env=env).start()
        try:
            for _ in range(FAILS):
                self.assertEqual(plain_get(srv), b"")
            # The faults are used up: TLS is served again, and plain text
            # still is not.
            self.assertEqual(srv.get("/healthz").status, 200)
            got = plain_get(srv)
            self.assertFalse(got.startswith(b"HTTP/"), got)
        finally:
            rc = srv.stop()
            log = "".join(srv.log)
            srv.cleanup()
        self.assertEqual(rc, 0, log)
        self.assertIn("failed; the connection is closed", log)
        self.assertNotIn("runtime error:", log)
        self.assertNotIn("ERROR: AddressSanitizer", log)

    def test_tls_client_is_closed_too(self):
        srv = harness.Server(threads=1, env={"MARKETD_TEST_FAIL_SSL_NEW": "1"}).start()
        try:
            with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                srv.get("/healthz", conn=srv.connect())
            self.assertEqual(srv.get("/healthz").status, 200)
        finally:
            self.assertEqual(srv.stop(), 0)
            srv.cleanup()

    def test_ssl_new_fails(self):
        self.check({"MARKETD_TEST_FAIL_SSL_NEW": str(FAILS)})

    def test_bufferevent_fails(self):
        self.check({"MARKETD_TEST_FAIL_BEV_NEW": str(FAILS)})


if __name__ == "__main__":
    harness.main()
