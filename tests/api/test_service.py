"""Running as a service: the database and its -wal and -shm files are
created 0600; --user drops root after binding and opening the database
(when the test runs as root, as CI does); tools/marketd.service is a
valid, hardened systemd unit."""
import os
import pwd
import re
import shutil
import stat
import subprocess
import unittest

import harness

SOURCE = harness.SOURCE
UNIT = os.path.join(SOURCE, "tools", "marketd.service")


def proc_ids(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split()[1:]
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


class Service(unittest.TestCase):

    def write_something(self, srv):
        r = srv.post("/api/v1/auth/register",
                     {"username": "svc_user", "password": "password123"})
        self.assertEqual(r.status, 201, r)

    @harness.sqlite_only("the modes of SQLite's files (PostgreSQL keeps its own)")
    def test_database_files_are_private(self):
        srv = harness.Server().start()
        try:
            self.write_something(srv)
            for suffix in ("", "-wal", "-shm"):
                path = srv.db + suffix
                self.assertTrue(os.path.exists(path), path)
                mode = stat.S_IMODE(os.stat(path).st_mode)
                self.assertEqual(mode, 0o600, "%s is %o" % (path, mode))
        finally:
            self.assertEqual(srv.stop(), 0)
            srv.cleanup()

    def test_unknown_user_stops_start_up(self):
        p = subprocess.run([harness.MARKETD, "--user", "no-such-user-here",
                            "--listen", "127.0.0.1:0"],
                           capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 2, p.stderr)
        err = p.stderr.decode().strip()
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("no-such-user-here", err)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to drop it")
    def test_user_drops_root_after_binding_and_opening(self):
        nobody = pwd.getpwnam("nobody")
        srv = harness.Server(args=["--user", "nobody"])
        # Only the database's folder is the service user's.
        os.chown(srv.dir, nobody.pw_uid, nobody.pw_gid)
        srv.start()
        try:
            pid = srv.proc.pid
            for field, want in (("Uid", nobody.pw_uid), ("Gid", nobody.pw_gid)):
                ids = proc_ids(pid, field)
                self.assertEqual(ids, [str(want)] * 4, "%s: %s" % (field, ids))
            self.assertEqual(proc_ids(pid, "Groups"), [str(nobody.pw_gid)])
            self.assertEqual(int(proc_ids(pid, "CapEff")[0], 16), 0)
            # It serves, and writes its database, as nobody.
            self.write_something(srv)
            self.assertEqual(srv.get("/healthz").status, 200)
            for suffix in ("", "-wal", "-shm") if not harness.PG else ():
                st = os.stat(srv.db + suffix)
                self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)),
                                 (nobody.pw_uid, 0o600), suffix)
            self.assertIn("running as user nobody", "".join(srv.log))
        finally:
            self.assertEqual(srv.stop(), 0, "".join(srv.log))
        # A clean stop as nobody checkpointed and removed the -wal file.
        if not harness.PG:
            self.assertFalse(os.path.exists(srv.db + "-wal"))
        srv.cleanup()

    @unittest.skipUnless(os.geteuid() != 0, "root may become anyone")
    def test_user_it_cannot_become_stops_start_up(self):
        srv = harness.Server(args=["--user", "root"])
        with self.assertRaises(RuntimeError) as e:
            srv.start()
        self.assertIn("cannot become user root", str(e.exception))
        srv.cleanup()


class SystemdUnit(unittest.TestCase):

    def setUp(self):
        with open(UNIT) as f:
            self.text = f.read()
        self.settings = {}
        for line in self.text.splitlines():
            m = re.match(r"^([A-Za-z]+)=(.*)$", line)
            if m:
                self.settings.setdefault(m.group(1), []).append(m.group(2))

    def test_hardening_settings(self):
        want = {
            "NoNewPrivileges": "yes", "ProtectSystem": "strict",
            "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
            "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
            "ReadWritePaths": "/var/lib/marketd", "UMask": "0077",
            "RestrictSUIDSGID": "yes", "ProtectKernelTunables": "yes",
            "EnvironmentFile": "/etc/marketd/marketd.env",
            "User": "marketd",
        }
        for key, value in want.items():
            self.assertIn(value, self.settings.get(key, []), key)
        # The secret comes from the environment file, never the unit.
        self.assertNotIn("PAYMENT_SECRET=", "".join(self.settings.get("Environment", [])))

    @unittest.skipUnless(shutil.which("systemd-analyze"), "no systemd-analyze")
    def test_systemd_accepts_it(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="market-unit-")
        try:
            unit = os.path.join(d, "marketd.service")
            with open(unit, "w") as f:
                f.write(self.text.replace("/usr/local/bin/marketd", harness.MARKETD))
            p = subprocess.run(["systemd-analyze", "verify", unit],
                               capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stderr.strip(), b"")
            p = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit],
                               capture_output=True, timeout=60)
            out = p.stdout.decode()
            m = re.search(r"Overall exposure level for marketd.service: ([0-9.]+)", out)
            self.assertIsNotNone(m, out[-500:] + p.stderr.decode())
            self.assertLessEqual(float(m.group(1)), 2.0, out)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
