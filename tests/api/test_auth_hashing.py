"""Password hashing off the event loop: scrypt runs on a small pool of
hashing threads, so a burst of registrations does not stop a worker from
answering /healthz; the pool's queue is bounded (503 unavailable with
Retry-After beyond it); and logins and registrations are limited per
client address (429 rate_limited with Retry-After), not only per
username."""
import json
import re
import socket
import ssl
import threading
import time

import harness


def metric(srv, name):
    text = srv.get("/metrics").body.decode()
    m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
    if m is None:
        raise AssertionError("no metric %s" % name)
    return int(m.group(1))


def burst(srv, names):
    """Registers names at once, each on a connection opened beforehand;
    returns {name: response}."""
    conns = [srv.connect() for _ in names]
    for c in conns:
        c.connect()
    out, go = {}, threading.Barrier(len(names))

    def run(name, c):
        go.wait()
        out[name] = srv.request("POST", "/api/v1/auth/register",
                                {"username": name, "password": "password123"}, conn=c)
        c.close()

    ts = [threading.Thread(target=run, args=(n, c)) for n, c in zip(names, conns)]
    for t in ts:
        t.start()
    return ts, out


class HealthzWhileHashing(harness.ServerTest):
    threads = 1  # one event loop: scrypt on it would hold /healthz up
    server_args = ("--hash-threads", "1", "--hash-queue", "64")

    def test_healthz_is_answered_while_passwords_hash(self):
        srv = self.srv
        for attempt in range(3):
            names = ["hz%d_%02d" % (attempt, i) for i in range(40)]
            ts, out = burst(srv, names)
            # Wait (bounded) until many hashes are pending...
            for _ in range(2000):
                pending = metric(srv, "marketd_password_hashes_pending")
                if pending >= 10 or not any(t.is_alive() for t in ts):
                    break
            r = srv.get("/healthz")
            after = metric(srv, "marketd_password_hashes_pending")
            for t in ts:
                t.join(120)
            self.assertEqual(sorted(x.status for x in out.values()), [201] * 40)
            self.assertEqual(r.status, 200, r)
            # ...and /healthz (and /metrics) were answered with work still
            # queued before and after: the worker did not wait for scrypt.
            if pending >= 10 and after >= 1:
                return
        self.fail("the hashing queue never stayed full across a /healthz "
                  "(pending %d before, %d after)" % (pending, after))


class QueueFull(harness.ServerTest):
    threads = 2
    server_args = ("--hash-threads", "1", "--hash-queue", "1")

    def test_a_full_queue_answers_503_with_retry_after(self):
        srv = self.srv
        refused, created = [], []
        for b in range(10):
            names = ["qf%d_%02d" % (b, i) for i in range(12)]
            ts, out = burst(srv, names)
            for t in ts:
                t.join(120)
            for name, r in out.items():
                if r.status == 503:
                    self.assertProblem(r, 503, "unavailable")
                    self.assertEqual(r.header("retry-after"), "1")
                    refused.append(name)
                else:
                    self.assertEqual(r.status, 201, r)
                    created.append(name)
            if refused:
                break
        self.assertTrue(refused, "12 registrations at once never filled a queue of 1")
        self.assertGreaterEqual(metric(srv, "marketd_password_hashes_refused_total"),
                                len(refused))
        # A refused registration stored nothing: the name is still free.
        r = srv.post("/api/v1/auth/register", {"username": refused[0],
                                               "password": "password123"})
        self.assertEqual(r.status, 201, r)
        r = srv.post("/api/v1/auth/register", {"username": created[0],
                                               "password": "password123"})
        self.assertProblem(r, 409, "conflict", "username")


class PerAddress(harness.ServerTest):
    server_args = ("--auth-address-max", "3", "--auth-address-window", "600")

    def test_logins_and_registrations_are_limited_per_address(self):
        srv = self.srv
        # Three attempts, each for another username (the per-username
        # limit of 5 failures is never met)...
        for i in range(3):
            r = srv.post("/api/v1/auth/login", {"username": "nobody%d" % i,
                                                "password": "password123"})
            self.assertProblem(r, 401, "invalid_credentials")
        # ...and the address is refused, for logins and registrations.
        for path, body in (("/api/v1/auth/login", {"username": "nobody9",
                                                   "password": "password123"}),
                           ("/api/v1/auth/register", {"username": "late_one",
                                                      "password": "password123"})):
            r = srv.post(path, body)
            self.assertProblem(r, 429, "rate_limited")
            self.assertTrue(1 <= int(r.header("retry-after")) <= 600, r.headers)
        # Other routes are not limited.
        self.assertEqual(srv.get("/healthz").status, 200)
        self.assertEqual(srv.get("/api/v1/regions").status, 200)


class AbandonedLogins(harness.ServerTest):
    """A client that hangs up while its password waits for a hashing
    thread costs no scrypt: impatient phones pressing "log in" again
    must not fill the queue with work nobody will read (each abandoned
    login cost a 2-core machine about 0.25 s of hashing, and the queue
    stayed full, answering 503 to everyone else, until they were done).
    An abandoned login writes nothing: no token, and no failed attempt
    counted against the username."""
    threads = 2
    server_args = ("--hash-threads", "1", "--hash-queue", "64")

    def send_and_hang_up(self, body):
        ctx = ssl.create_default_context(cafile=self.srv.cafile)
        raw = socket.create_connection(("127.0.0.1", self.srv.port), timeout=60)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        data = json.dumps(body).encode()
        s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(data), data))
        s.close()

    def test_hung_up_logins_are_not_hashed(self):
        srv = self.srv
        srv.add_user("walker", "buyer", password="password123")
        done0 = metric(srv, "marketd_password_hashes_total")
        # 30 logins, each from a client that hangs up at once: with one
        # hashing thread at 0.1 s or more a hash, most are still queued
        # when their client is gone.
        for _ in range(30):
            self.send_and_hang_up({"username": "walker", "password": "password123"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if metric(srv, "marketd_password_hashes_pending") == 0 and \
                    metric(srv, "marketd_password_hashes_abandoned_total") + \
                    metric(srv, "marketd_password_hashes_total") - done0 == 30:
                break
            time.sleep(0.01)
        abandoned = metric(srv, "marketd_password_hashes_abandoned_total")
        hashed = metric(srv, "marketd_password_hashes_total") - done0
        self.assertEqual(abandoned + hashed, 30)
        self.assertGreaterEqual(abandoned, 20, "hashed %d of 30 abandoned logins" % hashed)
        # Only the hashed ones reached the writer and made a token.
        db = srv.sql()
        try:
            tokens = db.value("SELECT count(*) FROM tokens t JOIN users u "
                              "ON u.id = t.user_id WHERE u.username = 'walker'")
        finally:
            db.close()
        self.assertLessEqual(tokens, hashed)
        # The queue is free again at once, and the user can log in.
        r = srv.post("/api/v1/auth/login", {"username": "walker", "password": "password123"})
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    harness.main()
