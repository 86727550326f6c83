"""Browser tests: a real marketd over TLS (tests/api/harness.py), data a
page needs, Debian's chromium trusting the test CA, and a Node script
that drives it with playwright-core. Not a test itself."""
import datetime
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def today(n=0):
    return (datetime.datetime.now(SHANGHAI).date() + datetime.timedelta(days=n)).isoformat()


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


def nss_home(cafile):
    """A HOME whose NSS database trusts the test CA, as chromium reads it."""
    home = tempfile.mkdtemp(prefix="market-web-home-")
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db)
    subprocess.run(["certutil", "-d", "sql:" + db, "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", "sql:" + db, "-A", "-t", "C,,", "-n",
                    "market-test-ca", "-i", cafile], check=True)
    return home


def pay(srv, order_id, total_fen):
    body = json.dumps({"order_id": order_id, "amount_fen": total_fen,
                       "provider": "wechat", "transaction_id": "tx-%d" % order_id}).encode()
    sig = hmac.new(harness.PAYMENT_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return check(srv.request("POST", "/api/v1/payments/callback", raw=body,
                             headers={"X-Signature": sig}), 200)


class BrowserTest(unittest.TestCase):
    """Starts marketd, lets the subclass fill it (fixture() returns what
    the script needs), then runs the Node script with node --test."""
    script = None
    server_args = ()

    @classmethod
    def setUpClass(cls):
        if shutil.which("chromium") is None or shutil.which("certutil") is None:
            raise RuntimeError("chromium and certutil are needed: tools/install-deps --test")
        cls.srv = harness.Server(threads=2, args=cls.server_args).start()
        cls.addClassCleanup(cls._stop, cls.srv)
        cls.home = nss_home(cls.srv.cafile)
        cls.addClassCleanup(shutil.rmtree, cls.home, True)

    @staticmethod
    def _stop(srv):
        if srv.proc is not None:
            srv.stop()
        srv.cleanup()

    def run_script(self, fixture):
        fixture = dict(fixture, base="https://localhost:%d" % self.srv.port)
        env = dict(os.environ, HOME=self.home, MARKET_FIXTURE=json.dumps(fixture),
                   NODE_EXTRA_CA_CERTS=self.srv.cafile,
                   MARKET_ARTIFACTS=os.path.join(harness.BUILD, "web-artifacts"))
        p = subprocess.run(["node", "--test", "--test-reporter=spec",
                            "--test-concurrency=1", os.path.join(HERE, self.script)],
                           cwd=HERE, env=env, timeout=900)
        log = "".join(self.srv.log)
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            self.fail("sanitizer report:\n" + log)
        self.assertEqual(p.returncode, 0, "the browser script failed (output above)")
