"""Start-up, configuration, shutdown and certificate reload.

marketd takes settings from flags, a config file and the environment;
a bad one stops it with one line and exit status 2. SIGTERM stops it
cleanly (exit 0); SIGHUP reloads the certificate without dropping open
connections."""
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import unittest

import harness


def run_marketd(args, env=None, timeout=20):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([harness.MARKETD] + args, capture_output=True,
                          timeout=timeout, env=e)


class Startup(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.certs = harness.test_certs()
        cls.tmp = tempfile.mkdtemp(prefix="market-startup-")
        cls.base = ["--listen", "127.0.0.1:0", "--db", os.path.join(cls.tmp, "m.db"),
                    "--cert", os.path.join(cls.certs, "localhost.crt"),
                    "--key", os.path.join(cls.certs, "localhost.key")]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def assertRefused(self, p, words):
        self.assertEqual(p.returncode, 2, p.stderr)
        err = p.stderr.decode()
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        for w in words:
            self.assertIn(w, err)

    def test_bad_options_exit_2_with_one_line(self):
        self.assertRefused(run_marketd(["--nope", "1"]), ["unknown option --nope"])
        self.assertRefused(run_marketd(self.base + ["--threads", "0"]), ["threads"])
        self.assertRefused(run_marketd(self.base + ["--threads", "x"]), ["threads"])
        self.assertRefused(run_marketd(["--listen", "nonsense"]), ["listen"])
        self.assertRefused(run_marketd(["--listen", "127.0.0.1:70000"]), ["port"])
        self.assertRefused(run_marketd(["--synchronous", "off"]), ["synchronous"])
        self.assertRefused(run_marketd(["--db"]), ["needs a value"])
        self.assertRefused(run_marketd(self.base, env={"MARKETD_THREADS": "-3"}),
                           ["MARKETD_THREADS", "threads"])

    def test_config_file_errors(self):
        self.assertRefused(run_marketd(["--config", "/nonexistent/market.conf"]),
                           ["/nonexistent/market.conf"])
        conf = os.path.join(self.tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write("# comment\n\nthreads = 2\ncolour = blue\n")
        self.assertRefused(run_marketd(["--config", conf]), ["bad.conf:4", "colour"])
        with open(conf, "w") as f:
            f.write("timeout = soon\n")
        self.assertRefused(run_marketd(["--config", conf]), ["bad.conf:1", "timeout"])

    def test_missing_certificate_says_how_to_make_one(self):
        p = run_marketd(["--listen", "127.0.0.1:0", "--db", os.path.join(self.tmp, "x.db"),
                         "--cert", "/nonexistent/c.crt", "--key", "/nonexistent/c.key"])
        self.assertRefused(p, ["/nonexistent/c.crt", "certs/make-dev-cert"])

    def test_unwritable_database_is_refused(self):
        p = run_marketd(["--listen", "127.0.0.1:0", "--db", "/nonexistent/dir/m.db",
                         "--cert", os.path.join(self.certs, "localhost.crt"),
                         "--key", os.path.join(self.certs, "localhost.key")])
        self.assertRefused(p, ["/nonexistent/dir/m.db"])

    def test_newer_database_is_refused(self):
        db = os.path.join(self.tmp, "newer.db")
        con = sqlite3.connect(db)
        con.execute("PRAGMA user_version = 9999")
        con.commit()
        con.close()
        p = run_marketd(["--listen", "127.0.0.1:0", "--db", db,
                         "--cert", os.path.join(self.certs, "localhost.crt"),
                         "--key", os.path.join(self.certs, "localhost.key")])
        self.assertRefused(p, ["9999", "newer"])

    def test_config_file_and_environment_and_flags(self):
        # The file sets the database; the environment overrides the file's
        # thread count (a bad one would stop start-up); a flag overrides
        # the file's timeout.
        db = os.path.join(self.tmp, "from-config.db")
        conf = os.path.join(self.tmp, "good.conf")
        with open(conf, "w") as f:
            f.write("db = %s\nthreads = 1\ntimeout = 5\npayment_secret = s3cret-of-32-bytes-or-more-0123456\n" % db)
        # Start without the harness's --db so the config file's db applies.
        cmd = [harness.MARKETD, "--config", conf, "--listen", "127.0.0.1:0",
               "--cert", os.path.join(self.certs, "localhost.crt"),
               "--key", os.path.join(self.certs, "localhost.key")]
        env = dict(os.environ, MARKETD_THREADS="3")
        p = subprocess.Popen(cmd, stderr=subprocess.PIPE, env=env)
        try:
            line = b""
            while b"listening on" not in line:
                line = p.stderr.readline()
                self.assertTrue(line, "marketd exited")
            self.assertTrue(os.path.exists(db), "the config file's db was not used")
        finally:
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=20), 0)

    def test_sigterm_exits_0_and_sigint_too(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            srv = harness.Server().start()
            self.assertEqual(srv.get("/healthz").status, 200)
            self.assertEqual(srv.stop(sig), 0)
            # The database is closed cleanly: it opens and checks out.
            p = subprocess.run([harness.MARKETCTL, "--db", srv.db, "check"],
                               capture_output=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            srv.cleanup()

    def test_idle_and_slow_connections_are_closed(self):
        import time
        srv = harness.Server(args=["--timeout", "1"]).start()
        try:
            ctx = ssl.create_default_context(cafile=srv.cafile)
            # Idle after the handshake: closed within the timeout.
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="localhost") as t:
                    t0 = time.time()
                    try:
                        data = t.recv(1024)
                    except (ConnectionResetError, ssl.SSLError):
                        data = b""
                    self.assertEqual(data, b"")
                    self.assertLess(time.time() - t0, 8)
            # A request that never finishes its headers: closed too.
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="localhost") as t:
                    t.sendall(b"GET /healthz HTTP/1.1\r\nHost: local")
                    try:
                        data = t.recv(1024)
                    except (ConnectionResetError, ssl.SSLError):
                        data = b""
                    self.assertNotIn(b"200 OK", data)
            # A connection that never starts TLS: closed as well.
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
                try:
                    data = s.recv(1024)
                except ConnectionResetError:
                    data = b""
                self.assertEqual(data, b"")
            self.assertEqual(srv.get("/healthz").status, 200)
        finally:
            self.assertEqual(srv.stop(), 0)
            srv.cleanup()

    def test_sighup_reloads_certificate_keeping_connections(self):
        d = tempfile.mkdtemp(prefix="market-certs-")
        try:
            for name in ("localhost.crt", "localhost.key", "dev-ca.crt"):
                shutil.copy(os.path.join(self.certs, name), d)
            other = os.path.join(d, "other")
            subprocess.run([os.path.join(harness.SOURCE, "certs", "make-dev-cert"), other],
                           check=True, stdout=subprocess.DEVNULL)
            srv = harness.Server()
            srv.certs = d
            srv.start()
            old = srv.connect()
            self.assertEqual(srv.get("/healthz", conn=old).status, 200)
            # Across the reload: a connection in the middle of its header
            # block, and one that has only finished its handshake.
            ctx_old = ssl.create_default_context(cafile=os.path.join(d, "dev-ca.crt"))
            mid, idle = (ctx_old.wrap_socket(socket.create_connection(
                ("127.0.0.1", srv.port), timeout=10), server_hostname="localhost")
                for _ in range(2))
            mid.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            old_cert = mid.getpeercert(binary_form=True)
            # Swap in a certificate from another CA and reload.
            shutil.copy(os.path.join(other, "localhost.crt"), d)
            shutil.copy(os.path.join(other, "localhost.key"), d)
            srv.proc.send_signal(signal.SIGHUP)
            ctx_new = ssl.create_default_context(cafile=os.path.join(other, "dev-ca.crt"))
            ok = False
            for _ in range(50):
                try:
                    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
                        with ctx_new.wrap_socket(s, server_hostname="localhost"):
                            ok = True
                            break
                except ssl.SSLError:
                    import time
                    time.sleep(0.1)
            self.assertTrue(ok, "new connections do not present the new certificate")
            with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
                with ctx_new.wrap_socket(s, server_hostname="localhost") as t:
                    self.assertNotEqual(t.getpeercert(binary_form=True), old_cert)
            # The connections opened before it finish their requests.
            mid.sendall(b"\r\n")
            self.assertTrue(mid.recv(4096).startswith(b"HTTP/1.1 200 "))
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            self.assertTrue(idle.recv(4096).startswith(b"HTTP/1.1 200 "))
            self.assertEqual(idle.getpeercert(binary_form=True), old_cert)
            mid.close()
            idle.close()
            # The connection opened before the reload still works.
            self.assertEqual(srv.get("/healthz", conn=old).status, 200)
            old.close()
            # A broken certificate file is refused and the server keeps the old one.
            with open(os.path.join(d, "localhost.crt"), "w") as f:
                f.write("not a certificate\n")
            srv.proc.send_signal(signal.SIGHUP)
            import time
            time.sleep(0.3)
            with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
                with ctx_new.wrap_socket(s, server_hostname="localhost"):
                    pass
            self.assertEqual(srv.stop(), 0)
            self.assertIn("certificate not reloaded", "".join(srv.log))
            srv.cleanup()
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
