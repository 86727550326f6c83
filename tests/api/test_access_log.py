"""The access log: one line per request on standard error (method, path,
status, time, user id, address; never the query string), buffered and
written about once a second and at exit; `access-log = off` turns it off;
a bad value stops start-up. Nothing a client sends can forge a line: the
path's control bytes, spaces, quotes, backslashes and non-ASCII bytes are
written as \\xHH, and no header reaches the log raw."""
import re
import subprocess
import time

import harness

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info (GET|POST) (\S+) (\d{3}) "
                  r"(\d+)us user=(\d+) (\S+)$")


def access_lines(srv, path):
    out = []
    for line in "".join(srv.log).splitlines():
        m = LINE.match(line)
        if m and m.group(2) == path:
            out.append(m)
    return out


def settle(srv):
    """Waits until the harness has read all of a stopped server's output."""
    n = -1
    while n != len(srv.log):
        n = len(srv.log)
        time.sleep(0.3)


class AccessLog(harness.ServerTest):

    def stop_clean(self, srv):
        rc = srv.stop()
        settle(srv)
        log = "".join(srv.log)
        srv.cleanup()
        self.assertEqual(rc, 0, log)
        for bad in ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(bad, log)

    def test_lines_arrive_within_seconds(self):
        for _ in range(5):
            self.assertEqual(self.srv.get("/healthz?who=secret-query").status, 200)
        deadline = time.time() + 10
        while len(access_lines(self.srv, "/healthz")) < 5 and time.time() < deadline:
            time.sleep(0.1)
        lines = access_lines(self.srv, "/healthz")
        self.assertEqual(len(lines), 5, "".join(self.srv.log))
        for m in lines:
            self.assertEqual((m.group(1), m.group(3), m.group(5), m.group(6)),
                             ("GET", "200", "0", "127.0.0.1"))
        self.assertNotIn("secret-query", "".join(self.srv.log))

    def test_every_line_is_written_at_exit(self):
        srv = harness.Server().start()
        try:
            for _ in range(200):
                self.assertEqual(srv.get("/api/v1/regions").status, 200)
        finally:
            self.stop_clean(srv)
        self.assertEqual(len(access_lines(srv, "/api/v1/regions")), 200)
        # Whole lines only: nothing interleaved.
        for line in "".join(srv.log).splitlines():
            if " /api/v1/regions " in line:
                self.assertRegex(line, LINE)

    def wait_for(self, srv, pred, what):
        deadline = time.time() + 30
        while time.time() < deadline:
            if pred("".join(srv.log)):
                return
            time.sleep(0.1)
        self.fail("%s not in the log:\n%s" % (what, "".join(srv.log)))

    def test_client_bytes_cannot_forge_a_line(self):
        forged = ("2026-01-01T00:00:00Z info GET /api/v1/forged 200 1us user=1 127.0.0.1")
        nasty = "/x%0A" + forged.replace(" ", "%20") + "%0D%1B[31m%22%5C%E8%B4%9E%20end"
        headers = {"User-Agent": "agent\x1b[2J\x07", "Referer": "https://e.example/\x1b]0;t\x07",
                   "X-Forwarded-For": "10.0.0.1\x1b", "Accept-Language": "zh-CN\x1b"}
        r = self.srv.get(nasty, headers=headers)
        self.assertEqual(r.status, 404, r)
        # A NUL decodes too: the request is refused, and logged whole.
        self.assertEqual(self.srv.get("/y%00%0Aafter").status, 400)
        self.wait_for(self.srv, lambda log: "/x\\x0a" in log and "/y\\x00" in log,
                      "the escaped paths")
        log = "".join(self.srv.log)
        self.assertNotIn("\x1b", log)
        self.assertNotIn("\x07", log)
        self.assertNotIn("\r", log)
        self.assertNotIn("\x00", log)
        self.assertNotIn("/api/v1/forged ", log.replace("\\x20", " ").split("/x\\x0a")[0])
        mine = [line for line in log.splitlines() if "/x\\x0a" in line]
        self.assertEqual(len(mine), 1, log)
        m = LINE.match(mine[0])
        self.assertIsNotNone(m, mine[0])
        self.assertEqual(m.group(2), "/x\\x0a" + forged.replace(" ", "\\x20") +
                         "\\x0d\\x1b[31m\\x22\\x5c\\xe8\\xb4\\x9e\\x20end")
        self.assertEqual(m.group(3), "404")
        nul = [line for line in log.splitlines() if "/y\\x00" in line]
        self.assertEqual(len(nul), 1, log)
        self.assertEqual(LINE.match(nul[0]).group(2, 3), ("/y\\x00\\x0aafter", "400"))
        # No line of the log starts with the forged time stamp.
        self.assertFalse([l for l in log.splitlines() if l.startswith("2026-01-01T00:00:00Z")], log)

    def test_off(self):
        for args in (["--access-log=off"], ["--access-log=on", "--access-log=off"]):
            srv = harness.Server(args=args).start()
            try:
                for _ in range(20):
                    self.assertEqual(srv.get("/healthz").status, 200)
                self.assertEqual(srv.get("/nowhere").status, 404)
            finally:
                self.stop_clean(srv)
            self.assertEqual(access_lines(srv, "/healthz"), [], "".join(srv.log))
            self.assertEqual(access_lines(srv, "/nowhere"), [])
        srv = harness.Server(env={"MARKETD_ACCESS_LOG": "off"}).start()
        try:
            self.assertEqual(srv.get("/healthz").status, 200)
        finally:
            self.stop_clean(srv)
        self.assertEqual(access_lines(srv, "/healthz"), [])

    def test_bad_value_stops_startup(self):
        p = subprocess.run([harness.MARKETD, "--access-log=sometimes", "--db", "/nonexistent/x.db"],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        err = p.stderr.decode()
        self.assertIn("access-log", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)


if __name__ == "__main__":
    harness.main()
