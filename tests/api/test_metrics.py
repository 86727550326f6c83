"""GET /metrics: the Prometheus text exposition (0.0.4) of requests by
route and status, request latency, open connections and database commits;
anyone on the loopback interface may read it, from elsewhere only an
admin."""
import http.client
import re
import socket

import harness

METRICS = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4"

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse(text):
    """The exposition as {family: type} and [(name, {labels}, value)],
    checking its syntax on the way (AssertionError on a bad line)."""
    types, helps, samples = {}, set(), []
    assert text.endswith("\n"), "the exposition ends with a newline"
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert name not in helps, "two HELP lines for " + name
            helps.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types, "two TYPE lines for " + name
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            types[name] = kind
        elif line.startswith("#") or line == "":
            continue
        else:
            m = SAMPLE.match(line)
            assert m, "not a sample line: %r" % line
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            family = base if types.get(base) in ("histogram", "summary") else name
            assert family in types, "sample before its TYPE: %r" % line
            lbl = dict(LABEL_RE.findall(labels))
            float(value)  # a number, "+Inf" included
            samples.append((name, lbl, float(value)))
    return types, samples


def value(samples, name, **labels):
    got = [v for n, l, v in samples if n == name and l == labels]
    return got[0] if got else 0


def local_non_loopback_address():
    """An address of this machine that is not loopback, or None."""
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("192.0.2.1", 9))  # nothing is sent
        addr = s.getsockname()[0]
        s.close()
    except OSError:
        return None
    return None if addr.startswith("127.") or addr == "0.0.0.0" else addr


class Metrics(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.srv.user("admin", "admin")
        cls.buyer = cls.srv.user("buyer", "buyer")

    def scrape(self, **kw):
        r = self.srv.get(METRICS, **kw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), CONTENT_TYPE)
        return parse(r.body.decode("utf-8"))

    def test_counts_requests_by_route_and_status(self):
        _, before = self.scrape()
        for _ in range(3):
            self.assertEqual(self.srv.get("/healthz").status, 200)
        for code in ("nowhere", "elsewhere"):
            self.assertEqual(self.srv.get("/api/v1/regions/" + code).status, 404)
        self.assertEqual(self.srv.post("/api/v1/regions", {}).status, 401)
        self.assertEqual(self.srv.get("/no/such/path").status, 404)
        _, after = self.scrape()

        def delta(**labels):
            n = "marketd_http_requests_total"
            return value(after, n, **labels) - value(before, n, **labels)
        self.assertEqual(delta(route="GET /healthz", status="200"), 3)
        self.assertEqual(delta(route="GET /api/v1/regions/{code}", status="404"), 2)
        self.assertEqual(delta(route="POST /api/v1/regions", status="401"), 1)
        self.assertEqual(delta(route="GET (unmatched)", status="404"), 1)
        # The scrape before this one is counted too.
        self.assertEqual(delta(route="GET /metrics", status="200"), 1)

        # The latency histogram of /healthz took in the same three.
        h = "marketd_http_request_duration_seconds"
        count = value(after, h + "_count", route="GET /healthz") - \
            value(before, h + "_count", route="GET /healthz")
        self.assertEqual(count, 3)

    def test_histograms_are_well_formed(self):
        self.srv.get("/healthz")
        self.assertEqual(self.srv.post("/api/v1/regions", {
            "code": "zhenfeng", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "贵州", "partnership": "east_west"}, token=self.admin).status, 201)
        types, samples = self.scrape()
        self.assertEqual(types["marketd_http_requests_total"], "counter")
        self.assertEqual(types["marketd_http_request_duration_seconds"], "histogram")
        self.assertEqual(types["marketd_http_connections_open"], "gauge")
        self.assertEqual(types["marketd_db_commit_duration_seconds"], "histogram")
        self.assertEqual(types["marketd_db_commit_batch_size"], "histogram")
        for family in [f for f, t in types.items() if t == "histogram"]:
            series = {}
            for name, labels, v in samples:
                if name == family + "_bucket":
                    key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
                    series.setdefault(key, []).append((labels["le"], v))
            self.assertTrue(series, family)
            for key, buckets in series.items():
                with self.subTest(family=family, series=key):
                    les = [float(le) for le, _ in buckets]
                    self.assertEqual(les, sorted(les))
                    self.assertEqual(buckets[-1][0], "+Inf")
                    counts = [v for _, v in buckets]
                    self.assertEqual(counts, sorted(counts), "cumulative")
                    labels = dict(key)
                    self.assertEqual(value(samples, family + "_count", **labels), counts[-1])
                    self.assertGreaterEqual(value(samples, family + "_sum", **labels), 0)
        # This connection is open while it asks.
        self.assertGreaterEqual(value(samples, "marketd_http_connections_open"), 1)
        # The region was committed: the commit histograms saw it.
        self.assertGreaterEqual(value(samples, "marketd_db_commit_duration_seconds_count"), 1)
        self.assertGreaterEqual(value(samples, "marketd_db_commit_batch_size_count"), 1)
        self.assertGreaterEqual(value(samples, "marketd_db_commit_batch_size_sum"), 1)

    def test_loopback_needs_no_token(self):
        # A buyer's token on loopback does not hurt either.
        self.scrape()
        self.scrape(token=self.buyer)
        # An invalid token is refused as anywhere.
        self.assertProblem(self.srv.get(METRICS, token="not-a-token"), 401, "unauthorized")

    def test_elsewhere_needs_an_admin(self):
        addr = local_non_loopback_address()
        if addr is None:
            self.skipTest("this machine has no address besides loopback")
        conn = http.client.HTTPSConnection("localhost", self.srv.port, context=self.srv._ctx,
                                           timeout=60, source_address=(addr, 0))
        try:
            r = self.srv.get(METRICS, conn=conn)
            self.assertProblem(r, 401, "unauthorized")
            r = self.srv.get(METRICS, token=self.buyer, conn=conn)
            self.assertProblem(r, 403, "forbidden")
            r = self.srv.get(METRICS, token=self.admin, conn=conn)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("content-type"), CONTENT_TYPE)
            parse(r.body.decode("utf-8"))
        finally:
            conn.close()


if __name__ == "__main__":
    harness.main()
