"""The Python side of receiver.mjs: starts it, registers secrets, and
collects what it reports, with waits on conditions (never on time alone).
Also what the webhook scenarios share: the marketd arguments that make it
trust the test CA and retry fast. Not a test itself."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402

# Every event type of the contract. lot.received comes from the lots
# resource, which another branch adds; its store function calls
# webhook_emit() like the others.
EVENT_TYPES = ["order.placed", "order.paid", "order.ready", "order.fulfilled",
               "order.cancelled", "sale.recorded", "sale.voided",
               "market_day.updated", "product.updated", "lot.received"]

# Test-only settings (documented in README, "Webhooks"): trust the test
# CA, accept 127.0.0.1 receivers, and divide the retry schedule by 1000
# (5 s → 5 ms, 5 min → 300 ms).
def server_args(certs, insecure=True, scale=1000):
    args = ["--webhook-ca", os.path.join(certs, "dev-ca.crt"),
            "--webhook-retry-scale", str(scale)]
    if insecure:
        args.append("--webhook-allow-insecure")
    return args


def require_node():
    if shutil.which("node") is None:
        raise AssertionError("node is not installed: the webhook tests need node "
                             "and `npm ci` in tests/webhooks")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "standardwebhooks")):
        raise AssertionError("tests/webhooks/node_modules/standardwebhooks is missing: "
                             "run `npm ci` in tests/webhooks (tools/test does it)")


class Receiver:
    def __init__(self, port=0):
        require_node()
        certs = harness.test_certs()
        self.proc = subprocess.Popen(
            ["node", os.path.join(HERE, "receiver.mjs"),
             os.path.join(certs, "localhost.crt"), os.path.join(certs, "localhost.key"), str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE)
        self.cond = threading.Condition()
        self.events = []
        self.acks = 0
        self.stderr = []
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("receiver did not start: %s" % self.proc.stderr.read().decode())
        self.port = json.loads(line)["listening"]
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            msg = json.loads(line)
            with self.cond:
                if msg.get("kind") == "ack":
                    self.acks += 1
                else:
                    self.events.append(msg)
                self.cond.notify_all()

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def register(self, path, secret):
        with self.cond:
            want = self.acks + 1
            self.proc.stdin.write((json.dumps({"secret": {path: secret}}) + "\n").encode())
            self.proc.stdin.flush()
            if not self.cond.wait_for(lambda: self.acks >= want, timeout=30):
                raise AssertionError("receiver did not take the secret")

    def wait(self, pred, what, timeout=90):
        """Waits until pred(events) is true; returns its value. The timeout
        only bounds a failure."""
        with self.cond:
            v = self.cond.wait_for(lambda: pred(self.events), timeout=timeout)
            if not v:
                raise AssertionError("receiver: timed out waiting for %s; got %s%s" % (
                    what, json.dumps(self.events, ensure_ascii=False)[-3000:],
                    "".join(self.stderr)))
            return v

    def deliveries(self, path=None):
        with self.cond:
            return [e for e in self.events if e.get("kind") == "delivery" and
                    (path is None or e["path"] == path)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(pred, what, timeout=90):
    """Polls pred() (an API read) until true; the timeout bounds a failure."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)
