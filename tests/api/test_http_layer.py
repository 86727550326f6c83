"""The HTTP layer: every refusal is a problem object, limits hold, TLS is
modern, and nothing a refused request carried is stored.

POST /api/v1/auth/register (anyone, JSON body) is the probe for body
handling, so no token is needed; the users table must stay empty."""
import os
import socket
import ssl

import harness


class HttpLayer(harness.ServerTest):

    def users(self):
        db = self.srv.sql()
        try:
            return db.value("SELECT count(*) FROM users")
        finally:
            db.close()

    def raw(self, data, read=65536):
        """Sends raw bytes over a fresh TLS connection, returns the reply."""
        ctx = ssl.create_default_context(cafile=self.srv.cafile)
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                t.sendall(data)
                out = b""
                try:
                    while len(out) < read:
                        chunk = t.recv(65536)
                        if not chunk:
                            break
                        out += chunk
                except (ConnectionResetError, ssl.SSLError, socket.timeout):
                    pass
                return out

    def assertRawProblem(self, reply, status, code):
        head, _, body = reply.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 %d " % status), reply[:200])
        self.assertIn(b"application/problem+json", head)
        self.assertIn(b'"code":"%s"' % code.encode(), body)

    def register(self, raw, content_type="application/json"):
        return self.srv.request("POST", "/api/v1/auth/register", raw=raw,
                                headers={"Content-Type": content_type})

    def test_security_headers_everywhere(self):
        for path in ["/healthz", "/api/v1/regions", "/nothing/here"]:
            r = self.srv.get(path)
            self.assertEqual(r.header("strict-transport-security"), "max-age=63072000")
            self.assertEqual(r.header("x-content-type-options"), "nosniff")

    def test_healthz(self):
        r = self.srv.get("/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, {"status": "ok"})
        self.assertTrue(r.header("content-type").startswith("application/json"))

    def test_unknown_path_is_404_problem(self):
        self.assertProblem(self.srv.get("/api/v1/nothing"), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/regions/a/b"), 404, "not_found")

    def test_wrong_method_is_405_with_allow(self):
        r = self.srv.request("DELETE", "/api/v1/regions")
        self.assertProblem(r, 405, "method_not_allowed")
        allow = [m.strip() for m in r.header("allow").split(",")]
        self.assertIn("GET", allow)
        self.assertIn("POST", allow)
        self.assertNotIn("DELETE", allow)

    def test_unknown_method_is_a_problem(self):
        reply = self.raw(b"BREW /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertRawProblem(reply, 501, "not_implemented")

    def test_malformed_request_line_is_a_problem(self):
        reply = self.raw(b"GET\r\n\r\n")
        self.assertRawProblem(reply, 400, "bad_request")
        reply = self.raw(b"GET /healthz HTTP/9\r\n\r\n")
        self.assertRawProblem(reply, 400, "bad_request")

    def test_body_over_1_mib_is_413(self):
        before = self.users()
        body = b'{"username": "big", "password": "' + b"x" * (1024 * 1024) + b'"}'
        r = self.register(body)
        self.assertProblem(r, 413, "payload_too_large")
        self.assertEqual(self.users(), before)

    def test_header_block_over_16_kib_is_431(self):
        r = self.srv.get("/healthz", headers={"X-Filler": "a" * (17 * 1024)})
        self.assertProblem(r, 431, "headers_too_large")
        # Far beyond: refused (a problem object) or the connection closed.
        reply = self.raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Filler: " +
                         b"a" * (80 * 1024) + b"\r\n\r\n")
        if reply:
            self.assertIn(b"application/problem+json", reply)
            self.assertFalse(reply.startswith(b"HTTP/1.1 200"))

    def test_content_type_is_required(self):
        before = self.users()
        body = b'{"username": "ctype", "password": "password123"}'
        self.assertProblem(self.register(body, "text/plain"), 415, "unsupported_media_type")
        self.assertProblem(self.register(body, "application/jsonx"), 415, "unsupported_media_type")
        self.assertProblem(self.register(body, "application/json; charset=latin-1"),
                           415, "unsupported_media_type")
        r = self.srv.request("POST", "/api/v1/auth/register", raw=body,
                             headers={"Content-Type": None})
        self.assertProblem(r, 415, "unsupported_media_type")
        self.assertEqual(self.users(), before)
        r = self.register(body, "application/json; charset=utf-8")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.users(), before + 1)

    def test_bad_json(self):
        before = self.users()
        cases = [
            b"",                                       # empty
            b"{",                                      # truncated
            b"[" * 10000 + b"]" * 10000,               # 10,000 deep
            b'{"a":' * 33 + b"1" + b"}" * 33,          # 33 deep
            b'{"username": "\xff\xfe", "password": "password123"}',  # bad UTF-8
            b'["username", "password"]',               # an array
            b'"username"',                             # a string
            b"42",
            b"null",
            b'{"username": "dup", "username": "dup2", "password": "password123"}',
            b'{"username": "nul\\u0000", "password": "password123"}',
        ]
        for body in cases:
            with self.subTest(body=body[:40]):
                self.assertProblem(self.register(body), 400, "bad_json")
        self.assertEqual(self.users(), before)

    def test_32_levels_are_accepted(self):
        # 32 levels of nesting are within the limit: the body parses, and
        # fails validation instead (username is missing).
        body = b'{"x":' + b"[" * 31 + b"]" * 31 + b"}"
        self.assertProblem(self.register(body), 400, "validation_failed")

    def test_numbers_beyond_64_bits_name_the_field(self):
        # A body with an integer beyond int64 is not bad JSON; the field
        # that holds it is invalid. (register has no integer fields, so the
        # number sits in an ignored field and the request succeeds.)
        r = self.register(b'{"username": "big_int", "password": "password123", '
                          b'"extra": 99999999999999999999999}')
        self.assertEqual(r.status, 201, r)

    def test_tls_versions(self):
        def handshake(version):
            ctx = ssl.create_default_context(cafile=self.srv.cafile)
            ctx.minimum_version = version
            ctx.maximum_version = version
            with socket.create_connection(("127.0.0.1", self.srv.port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="localhost") as t:
                    return t.version()
        self.assertEqual(handshake(ssl.TLSVersion.TLSv1_3), "TLSv1.3")
        self.assertEqual(handshake(ssl.TLSVersion.TLSv1_2), "TLSv1.2")
        for old in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
            with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError)):
                handshake(old)

    def test_plain_http_is_refused(self):
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            self.assertNotIn(b"200 OK", data)

    def test_keep_alive_serves_many_requests(self):
        c = self.srv.connect()
        try:
            for _ in range(20):
                r = self.srv.get("/healthz", conn=c)
                self.assertEqual(r.status, 200)
        finally:
            c.close()


if __name__ == "__main__":
    harness.main()
