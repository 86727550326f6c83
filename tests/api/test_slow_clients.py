"""Slow and greedy clients cannot starve the others.

A thousand connections that trickle their header block a byte at a time
(never finishing it) are closed once the header deadline passes, even
though each of them keeps sending, so evhttp's inactivity timeout alone
would never close them. Connections that ask for big replies and never
read them are closed once their writes stall for the idle timeout.
Meanwhile a normal client goes on being served, without an error. A body
that trickles in is cut at the body deadline; a connection idle between
two requests is not cut by the header deadline; beyond max-connections a
new connection is closed at once, and accepted again when others leave.
Everything talks to 127.0.0.1 only and every loop is bounded in time.

The machine may be busy (CI shares two cores): nothing here asserts how
long something took. Lower bounds are measured from before the client
connects or sends (the server's deadline can only start later), upper
ones are generous deadlines to wait for a condition, and the idle
timeout is long enough that only the deadline under test can close a
connection within them."""
import os
import resource
import selectors
import socket
import ssl
import subprocess
import threading
import time
import unittest

import harness

TRICKLERS = 1000
HEADER_S = 8      # --timeout-header
BODY_S = 4        # --timeout-body
IDLE_S = 45       # --timeout-idle: far longer than the trickle gap and
TRICKLE_GAP = 2.0  # the waits below, so only the header or body deadline
NON_READERS = 10   # can close the trickling ones
GRACE = 25        # seconds to wait, beyond a deadline, for its effect
WAIT_BOUND = 600  # a failure bound only: how long the tricklers may take
                  # to be seen closed on a starved machine


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def closed_by_peer(t):
    """Reads what is there without blocking: True when the server closed."""
    try:
        while True:
            if not t.recv(65536):
                return True
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        return False
    except (ssl.SSLError, OSError):
        return True


class SlowClients(harness.ServerTest):
    server_args = ("--timeout-header", str(HEADER_S), "--timeout-body", str(BODY_S),
                   "--timeout-idle", str(IDLE_S), "--max-connections", "4000")

    @classmethod
    def setUpClass(cls):
        raise_fd_limit()
        super().setUpClass()

    def tls(self, timeout=60):
        ctx = ssl.create_default_context(cafile=self.srv.cafile)
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=timeout)
        return ctx.wrap_socket(s, server_hostname="localhost")

    def closed_count(self, reason):
        """marketd_http_connections_closed_total{reason=...} from /metrics."""
        r = self.srv.get("/metrics")
        self.assertEqual(r.status, 200, r)
        want = 'marketd_http_connections_closed_total{reason="%s"} ' % reason
        for line in r.body.decode().splitlines():
            if line.startswith(want):
                return int(line[len(want):])
        self.fail("no %s in /metrics" % want)

    def test_trickling_headers_and_non_readers_do_not_starve_others(self):
        # Connections that ask for big replies and never read them.
        greedy = []
        for _ in range(NON_READERS):
            t = self.tls()
            t.sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n" * 40)
            greedy.append(t)

        closed_by_header_deadline = self.closed_count("header_deadline")
        # A thousand connections that trickle a header block. Opening
        # them all takes long on a busy machine: each starts its request
        # at once, and the ones open already are watched and kept
        # trickling meanwhile, so none sits silent (the idle timeout) and
        # a close is seen when it happens, not after the last one opened.
        trick = []  # [sock, connecting_at, next_send, closed_at, last_send, max_gap]
        sel = selectors.DefaultSelector()
        header = b"X-Slow: " + b"a" * 10000
        sent = 0

        def trickle_once(timeout):
            nonlocal sent
            now = time.monotonic()
            for k in trick:
                if k[3] is None and now >= k[2]:
                    try:
                        k[0].send(header[sent % len(header):][:1])
                    except (ssl.SSLWantWriteError, BlockingIOError):
                        pass
                    except (ssl.SSLError, OSError):
                        k[3] = now
                        sel.unregister(k[0])
                        continue
                    k[2] = now + TRICKLE_GAP
                    k[5] = max(k[5], now - k[4])
                    k[4] = now
            sent += 1
            for key, _ in sel.select(timeout=timeout):
                k = key.data
                if k[3] is None and closed_by_peer(k[0]):
                    k[3] = time.monotonic()
                    sel.unregister(k[0])

        for i in range(TRICKLERS):
            connecting = time.monotonic()
            t = self.tls(timeout=60)
            t.sendall(b"GET /healthz HTTP/1.1\r\n")
            t.setblocking(False)
            now = time.monotonic()
            k = [t, connecting, now + (i % 20) * TRICKLE_GAP / 20, None, now, 0.0]
            trick.append(k)
            sel.register(t, selectors.EVENT_READ, k)
            if i % 10 == 0:
                trickle_once(0)
        opened = time.monotonic()

        # A normal client, meanwhile: one keep-alive connection and a new
        # connection (TLS handshake included) each round.
        latencies, errors = [], []
        stop = threading.Event()

        def normal():
            keep = self.srv.connect()
            while not stop.is_set():
                for path, conn in (("/api/v1/products", keep), ("/healthz", None)):
                    fresh = conn is None
                    t0 = time.monotonic()
                    try:
                        c = conn or self.srv.connect()
                        r = self.srv.request("GET", path, conn=c)
                        if fresh:
                            c.close()
                        if r.status != 200:
                            errors.append("%s: %d" % (path, r.status))
                    except Exception as e:  # noqa: BLE001 - reported below
                        errors.append("%s: %r" % (path, e))
                    latencies.append((time.monotonic() - t0, path))
                stop.wait(0.2)
            keep.close()

        client = threading.Thread(target=normal)
        client.start()
        deadline = opened + HEADER_S + WAIT_BOUND
        try:
            while time.monotonic() < deadline and sel.get_map():
                trickle_once(0.05)
        finally:
            stop.set()
            client.join(timeout=30)
            for k in trick:
                k[0].close()

        open_left = [k for k in trick if k[3] is None]
        self.assertEqual(len(open_left), 0,
                         "%d trickling connections still open %.0f s after the "
                         "header deadline" % (len(open_left), deadline - opened - HEADER_S))
        lived = sorted(k[3] - k[1] for k in trick)
        # Not cut before the deadline, which starts at the accept, after
        # the client began to connect (0.5: the server counts whole ms) ...
        self.assertGreaterEqual(lived[0], HEADER_S - 0.5, lived[:5])
        # ... and cut by it, though each one kept sending: the server
        # says why it closed them (not from timing, which a busy machine
        # stretches). A trickler the client itself could not keep fed for
        # the idle timeout may have been closed by evhttp's timer instead.
        starved = sum(1 for k in trick if k[5] >= IDLE_S)
        self.assertGreaterEqual(
            self.closed_count("header_deadline") - closed_by_header_deadline,
            TRICKLERS - starved)
        self.assertLess(starved, TRICKLERS)

        # The normal client was served all along: every request answered
        # 200, and it kept going (how fast depends on the machine).
        self.assertEqual(errors, [])
        self.assertGreater(len(latencies), 4)

        # The greedy connections: their writes stall, and they are
        # closed once the stall reaches the idle timeout.
        end = time.monotonic() + IDLE_S + GRACE
        for t in greedy:
            t.settimeout(max(0.1, end - time.monotonic()))
            got = 0
            try:
                while True:
                    chunk = t.recv(1 << 20)
                    if not chunk:
                        break
                    got += len(chunk)
            except socket.timeout:
                self.fail("a connection that never read is still open")
            except (ssl.SSLError, OSError):
                pass
            # It was served some, but not all 40 replies.
            self.assertGreater(got, 0)
            t.close()
        log = "".join(self.srv.log)
        self.assertNotIn("refused", log)
        self.assertEqual(self.srv.get("/healthz").status, 200)

    def test_trickling_body_is_cut_at_the_body_deadline(self):
        t = self.tls(timeout=60)
        cut_before = self.closed_count("body_deadline")
        t0 = time.monotonic()  # the body deadline starts after this
        t.sendall(b"POST /api/v1/auth/register HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        t.settimeout(0.5)
        closed = None
        while time.monotonic() - t0 < BODY_S + WAIT_BOUND:
            try:
                t.send(b" ")
                if not t.recv(1024):
                    closed = time.monotonic()
                    break
            except socket.timeout:
                continue
            except (ssl.SSLError, OSError):
                closed = time.monotonic()
                break
        t.close()
        self.assertIsNotNone(closed, "a body trickling for %d s was not cut" %
                             (BODY_S + WAIT_BOUND))
        self.assertGreaterEqual(closed - t0, BODY_S - 0.5)
        # ... by the body deadline, as the server counts it.
        self.assertEqual(self.closed_count("body_deadline") - cut_before, 1)

        # A body that arrives in time, in two parts, is served.
        t = self.tls()
        body = b'{"username": "slowbody", "password": "password123"}'
        t.sendall(b"POST /api/v1/auth/register HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                  % len(body) + body[:10])
        time.sleep(1)
        t.sendall(body[10:])
        t.settimeout(120)
        self.assertTrue(t.recv(1024).startswith(b"HTTP/1.1 201 "))
        t.close()

    def test_idle_between_requests_is_not_a_slow_header(self):
        c = self.srv.connect()
        self.assertEqual(self.srv.get("/healthz", conn=c).status, 200)
        time.sleep(HEADER_S + 2)  # longer than the header deadline
        self.assertEqual(self.srv.get("/healthz", conn=c).status, 200)
        c.close()


class MaxConnections(unittest.TestCase):

    def test_connections_beyond_the_limit_are_closed_at_once(self):
        raise_fd_limit()
        # A header deadline beyond the client's timeout: only a close at
        # once can end the refused handshake before the client gives up.
        srv = harness.Server(args=["--max-connections", "20",
                                   "--timeout-header", "300"]).start()
        conns = []
        try:
            for _ in range(20):
                c = srv.connect()
                self.assertEqual(srv.get("/healthz", conn=c).status, 200)
                conns.append(c)
            ctx = ssl.create_default_context(cafile=srv.cafile)
            with socket.create_connection(("127.0.0.1", srv.port), timeout=120) as s:
                with self.assertRaises((ssl.SSLError, OSError)) as refused:
                    ctx.wrap_socket(s, server_hostname="localhost")
            self.assertNotIsInstance(refused.exception, socket.timeout)
            # The open ones still work.
            self.assertEqual(srv.get("/healthz", conn=conns[0]).status, 200)
            # Once some leave, new connections are accepted again.
            for c in conns[:5]:
                c.close()
            ok = False
            until = time.monotonic() + 60
            while not ok and time.monotonic() < until:
                try:
                    c = srv.connect()
                    ok = srv.get("/healthz", conn=c).status == 200
                    conns.append(c)
                except (ssl.SSLError, OSError, ConnectionError):
                    time.sleep(0.1)
            self.assertTrue(ok)
            # The sweep logs the refusals, about once a second.
            until = time.monotonic() + 60
            while ("refused 1 connections" not in "".join(srv.log) and
                   time.monotonic() < until):
                time.sleep(0.1)
            self.assertIn("refused 1 connections", "".join(srv.log))
        finally:
            for c in conns:
                c.close()
            self.assertEqual(srv.stop(), 0)
            srv.cleanup()

    def test_bad_values_stop_start_up(self):
        for args in (["--timeout-header", "0"], ["--timeout-body", "soon"],
                     ["--max-connections", "-1"], ["--timeout-idle", ""]):
            p = subprocess.run([harness.MARKETD] + args, capture_output=True,
                               timeout=20)
            self.assertEqual(p.returncode, 2, p.stderr)
            err = p.stderr.decode().strip()
            self.assertEqual(len(err.splitlines()), 1, err)
            self.assertIn(args[0][2:], err)


if __name__ == "__main__":
    harness.main()
