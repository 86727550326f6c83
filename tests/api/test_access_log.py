"""The access log: one line per request on standard error (method, path,
status, time, user id, address; never the query string), buffered and
written about once a second and at exit; `access-log = off` turns it off;
a bad value stops start-up."""
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
