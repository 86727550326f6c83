"""marketd refuses to start without a payment secret of at least 32
bytes (one line on standard error, exit status 2), unless started in demo
mode (--demo, MARKETD_DEMO or "demo = true" in the config file), which
allows a missing or short one with a warning. The HMAC key is the
secret's bytes exactly as configured, never hex-decoded."""
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

CALLBACK = "/api/v1/payments/callback"


class PaymentSecret(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.certs = harness.test_certs()
        cls.tmp = tempfile.mkdtemp(prefix="market-secret-")
        # A database that exists already, so start-up logs no migrations.
        cls.db = os.path.join(cls.tmp, "m.db")
        subprocess.run([harness.MARKETCTL, "--db", cls.db, "user", "add",
                        "--username", "seed_admin", "--role", "admin"],
                       input=b"password123\n", check=True, capture_output=True)
        cls.base = [harness.MARKETD, "--listen", "127.0.0.1:0", "--db", cls.db,
                    "--cert", os.path.join(cls.certs, "localhost.crt"),
                    "--key", os.path.join(cls.certs, "localhost.key")]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def env(self, **kw):
        e = {k: v for k, v in os.environ.items()
             if k not in ("MARKETD_PAYMENT_SECRET", "MARKETD_DEMO", "MARKETD_CONFIG")}
        e.update(kw)
        return e

    def assertRefused(self, args=(), **env):
        p = subprocess.run(self.base + list(args), capture_output=True, timeout=30,
                           env=self.env(**env))
        self.assertEqual(p.returncode, 2, p.stderr)
        err = p.stderr.decode()
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("payment secret", err)
        self.assertIn("32 bytes", err)
        self.assertIn("--demo", err)

    def server(self, args=(), **env):
        srv = harness.Server(args=list(args), db=self.db)
        srv.env = self.env(**env)
        srv.start()
        self.addCleanup(srv.cleanup)
        self.addCleanup(srv.stop)
        return srv

    def callback(self, srv, key, body=None):
        raw = json.dumps(body or {"order_id": 999999, "amount_fen": 1,
                                  "provider": "p", "transaction_id": "t"}).encode()
        sig = hmac.new(key, raw, hashlib.sha256).hexdigest()
        return srv.request("POST", CALLBACK, raw=raw, headers={"X-Signature": sig})

    def test_refused_without_a_secret(self):
        self.assertRefused()

    def test_refused_with_a_short_secret(self):
        self.assertRefused(MARKETD_PAYMENT_SECRET="x" * 31)
        self.assertRefused(["--payment-secret", "s3cret"])
        conf = os.path.join(self.tmp, "short.conf")
        with open(conf, "w") as f:
            f.write("payment_secret = %s\n" % ("y" * 20))
        self.assertRefused(["--config", conf])
        # Demo mode switched off explicitly is no demo mode.
        self.assertRefused(["--demo=false"])
        self.assertRefused(MARKETD_DEMO="false")

    def test_a_32_byte_secret_serves(self):
        secret = "s" * 32
        srv = self.server(MARKETD_PAYMENT_SECRET=secret)
        self.assertEqual(srv.get("/healthz").status, 200)
        # Signed with it, the callback gets past the signature (400: no
        # such order); signed with anything else, 401.
        r = self.callback(srv, secret.encode())
        self.assertEqual((r.status, r.json["code"], r.json["field"]),
                         (400, "validation_failed", "order_id"))
        self.assertEqual(self.callback(srv, b"s" * 31).status, 401)
        self.assertFalse([l for l in srv.log if "payment secret" in l], srv.log)

    def test_demo_without_a_secret_warns_and_refuses_callbacks(self):
        srv = self.server(["--demo"])
        self.assertEqual(srv.get("/healthz").status, 200)
        warned = [l for l in srv.log if "demo mode" in l and "payment secret" in l]
        self.assertTrue(warned, srv.log)
        for key in (b"", b"demo-payment-secret"):
            r = self.callback(srv, key)
            self.assertEqual((r.status, r.json["code"]), (401, "unauthorized"))

    def test_demo_with_a_short_secret(self):
        for how in ({"args": ["--demo"]}, {"env": {"MARKETD_DEMO": "true"}},
                    {"conf": "demo = true\n"}):
            with self.subTest(how=how):
                args = list(how.get("args", []))
                if "conf" in how:
                    conf = os.path.join(self.tmp, "demo.conf")
                    with open(conf, "w") as f:
                        f.write(how["conf"])
                    args += ["--config", conf]
                srv = self.server(args, MARKETD_PAYMENT_SECRET="demo-payment-secret",
                                  **how.get("env", {}))
                self.assertTrue([l for l in srv.log if "demo mode" in l], srv.log)
                r = self.callback(srv, b"demo-payment-secret")
                self.assertEqual(r.status, 400, r)
                srv.stop()

    def test_hmac_key_is_the_secret_as_configured(self):
        # A secret that looks like hex is still used as its characters.
        secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
        srv = self.server(MARKETD_PAYMENT_SECRET=secret)
        self.assertEqual(self.callback(srv, secret.encode()).status, 400)
        r = self.callback(srv, bytes.fromhex(secret))
        self.assertEqual((r.status, r.json["code"]), (401, "unauthorized"))


if __name__ == "__main__":
    harness.main()
