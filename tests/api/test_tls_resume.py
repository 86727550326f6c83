"""TLS session resumption: a phone that reconnects resumes its session
(a ticket, TLS 1.2 and 1.3) instead of a full handshake, on any worker
thread; the resumed connection serves requests like any other; a session
the server never issued, or one from before a certificate reload that
brought new ticket keys, falls back to a full handshake that works.
Ticket keys rotate on a schedule (tls-ticket-rotate): a ticket from two
rotations ago is not resumed. (That a ticket of the period before still
is, and is renewed, is tests/unit/test_tls.c's, on a clock of its own.)"""
import os
import signal
import socket
import ssl
import time

import harness


def context(srv, version):
    ctx = ssl.create_default_context(cafile=srv.cafile)
    ctx.minimum_version = version
    ctx.maximum_version = version
    return ctx


def exchange(srv, ctx, session=None):
    """One connection: GET /healthz, read the reply, close. Returns
    (status line, session, whether the session was reused)."""
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        # TLS 1.3 tickets arrive after the handshake; by the end of the
        # reply they have been read.
        return data.split(b"\r\n", 1)[0], s.session, s.session_reused
    finally:
        s.close()


class T(harness.ServerTest):
    threads = 2

    def check_resumes(self, version):
        ctx = context(self.srv, version)
        line, sess, reused = exchange(self.srv, ctx)
        self.assertEqual(line, b"HTTP/1.1 200 OK")
        self.assertFalse(reused)
        self.assertIsNotNone(sess)
        # Several reconnections: with two worker threads some land on the
        # other thread, which must resume the session all the same.
        for _ in range(6):
            line, newer, reused = exchange(self.srv, ctx, sess)
            self.assertEqual(line, b"HTTP/1.1 200 OK")
            self.assertTrue(reused, "a reconnection did not resume (%s)" % version)
            if version == ssl.TLSVersion.TLSv1_3:
                sess = newer  # TLS 1.3 tickets are meant for one use each

    def test_tls13_resumes(self):
        self.check_resumes(ssl.TLSVersion.TLSv1_3)

    def test_tls12_resumes(self):
        self.check_resumes(ssl.TLSVersion.TLSv1_2)

    def test_foreign_session_is_a_full_handshake(self):
        # A session from another server (its own ticket keys) is not
        # resumed here, and the handshake still succeeds.
        other = harness.Server(threads=1).start()
        try:
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                ctx = context(self.srv, version)
                _, foreign, _ = exchange(other, ctx)
                line, _, reused = exchange(self.srv, ctx, foreign)
                self.assertEqual(line, b"HTTP/1.1 200 OK")
                self.assertFalse(reused)
        finally:
            other.stop()
            other.cleanup()

    def test_ticket_keys_rotate(self):
        # One-second periods: after three seconds a ticket is at least two
        # rotations old, whatever the phase, so it must not resume.
        srv = harness.Server(threads=1, args=["--tls-ticket-rotate", "1"]).start()
        try:
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                ctx = context(srv, version)
                line, sess, _ = exchange(srv, ctx)
                self.assertEqual(line, b"HTTP/1.1 200 OK")
                time.sleep(3.2)
                line, _, reused = exchange(srv, ctx, sess)
                self.assertEqual(line, b"HTTP/1.1 200 OK")
                self.assertFalse(reused, "a ticket two rotations old resumed (%s)" % version)
        finally:
            self.assertEqual(srv.stop(), 0)
            srv.cleanup()

    def test_reload_then_resume(self):
        ctx = context(self.srv, ssl.TLSVersion.TLSv1_3)
        _, before, _ = exchange(self.srv, ctx)
        n = len(self.srv.log)
        self.srv.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and not any(
                "reload" in l for l in self.srv.log[n:]):
            time.sleep(0.05)
        # A session from before the reload: resumed or not, it connects.
        line, _, _ = exchange(self.srv, ctx, before)
        self.assertEqual(line, b"HTTP/1.1 200 OK")
        # Sessions issued after the reload resume.
        _, after, _ = exchange(self.srv, ctx)
        line, _, reused = exchange(self.srv, ctx, after)
        self.assertEqual(line, b"HTTP/1.1 200 OK")
        self.assertTrue(reused)


if __name__ == "__main__":
    harness.main()
