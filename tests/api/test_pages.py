"""The web pages as static files: every page response carries its
headers (CSP with nothing inline and no other origin, frame-ancestors,
Referrer-Policy, a strong ETag, Cache-Control), 304 on If-None-Match,
gzip when asked for, correct media types, versioned assets immutable, a
page 404 beside the API's problem 404, and no path out of the page tree,
both from the copy compiled in and from --web-root."""
import gzip
import os
import re
import shutil
import socket
import ssl
import tempfile

import harness

WEB = os.path.join(harness.SOURCE, "server", "web")
PAGES = ("/", "/stall/", "/coordinator/")
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml",
         ".html": "text/html; charset=utf-8"}


def raw_get(srv, target, method="GET"):
    """Sends the request target byte for byte (http.client would not
    send some of them); returns (status, head, body)."""
    ctx = ssl.create_default_context(cafile=srv.cafile)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            t.sendall(("%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                       % (method, target)).encode("latin-1"))
            data = b""
            while True:
                chunk = t.recv(65536)
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head.decode("latin-1"), body


class PageChecks:
    """Shared by the compiled-in and the --web-root servers."""

    def assertPageHeaders(self, r):
        csp = r.header("content-security-policy")
        self.assertIsNotNone(csp, r.headers)
        directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";"))
        self.assertEqual(directives["default-src"], "'self'")
        self.assertEqual(directives["script-src"], "'self'")
        self.assertEqual(directives["frame-ancestors"], "'none'")
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("http", csp)  # no other origin
        self.assertEqual(r.header("referrer-policy"), "no-referrer")
        self.assertEqual(r.header("x-content-type-options"), "nosniff")
        self.assertIn("max-age=", r.header("strict-transport-security"))

    def test_pages_answer_html_with_their_headers(self):
        for path in PAGES:
            r = self.srv.get(path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
            self.assertPageHeaders(r)
            self.assertEqual(r.header("cache-control"), "no-cache")
            self.assertRegex(r.header("etag"), r'^"[0-9a-f]{32}"$')  # strong
            self.assertIn(b"<!doctype html>", r.body)

    def test_etag_and_304(self):
        r = self.srv.get("/stall/")
        again = self.srv.get("/stall/", headers={"If-None-Match": r.header("etag")})
        self.assertEqual(again.status, 304)
        self.assertEqual(again.body, b"")
        self.assertEqual(again.header("etag"), r.header("etag"))
        self.assertPageHeaders(again)
        other = self.srv.get("/stall/", headers={"If-None-Match": '"0000"'})
        self.assertEqual(other.status, 200)

    def test_unknown_page_is_a_page_404_and_unknown_api_path_a_problem(self):
        r = self.srv.get("/no/such/page")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        self.assertPageHeaders(r)
        self.assertIn("页面不存在".encode(), r.body)
        for path in ("/api/v1/no/such", "/api/nothing", "/api"):
            self.assertProblem(self.srv.get(path), 404, "not_found")

    def test_folder_without_slash_redirects(self):
        r = self.srv.get("/stall")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("location"), "/stall/")

    def test_write_methods_on_a_page_are_405(self):
        r = self.srv.post("/stall/", {"x": 1})
        self.assertProblem(r, 405, "method_not_allowed")
        self.assertEqual(r.header("allow"), "GET, HEAD")

    def test_head_has_the_headers_and_no_body(self):
        status, head, body = raw_get(self.srv, "/stall/", "HEAD")
        self.assertEqual(status, 200)
        self.assertIn("ETag:", head)
        self.assertEqual(body, b"")

    def test_head_on_the_api_sends_no_body_either(self):
        status, head, body = raw_get(self.srv, "/api/v1/regions", "HEAD")
        self.assertEqual(status, 200)
        self.assertRegex(head, r"Content-Length: [1-9]")
        self.assertEqual(body, b"")

    def test_no_path_leaves_the_page_tree(self):
        targets = ["/../etc/passwd", "/stall/../../etc/passwd", "/stall/..%2f..%2fetc/passwd",
                   "/stall/%2e%2e/%2e%2e/etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                   "/v/x/../../../etc/passwd", "/stall/%00", "/stall/index.html%00.js",
                   "/stall%2findex.html", "/stall%5cindex.html", "/stall\\..\\..\\etc\\passwd",
                   "/.git/config", "/stall/.hidden", "/%252e%252e/etc/passwd",
                   "/stall//index.html", "/" + "%2e%2e/" * 20 + "etc/passwd"]
        for t in targets:
            status, head, body = raw_get(self.srv, t)
            self.assertIn(status, (400, 404), t)
            self.assertNotIn(b"root:", body, t)


class EmbeddedPages(PageChecks, harness.ServerTest):

    def asset(self):
        html = self.srv.get("/stall/").body.decode()
        return re.search(r' src="(/v/[0-9a-f]{12}/stall/app\.js)"', html).group(1)

    def test_gzip_when_asked_and_not_otherwise(self):
        js = self.asset()
        plain = self.srv.get(js)
        self.assertIsNone(plain.header("content-encoding"))
        self.assertEqual(plain.header("vary"), "Accept-Encoding")
        for ae in ("gzip", "br, gzip;q=0.5", "*", "GZIP"):
            z = self.srv.get(js, headers={"Accept-Encoding": ae})
            self.assertEqual(z.header("content-encoding"), "gzip", ae)
            self.assertEqual(gzip.decompress(z.body), plain.body, ae)
            self.assertLess(len(z.body), len(plain.body))
            self.assertNotEqual(z.header("etag"), plain.header("etag"))
            self.assertPageHeaders(z)
        for ae in ("gzip;q=0", "identity", "br", "gzip;q=0.000, *;q=0"):
            r = self.srv.get(js, headers={"Accept-Encoding": ae})
            self.assertIsNone(r.header("content-encoding"), ae)
            self.assertEqual(r.body, plain.body)
        # Either tag is the same file: no second download.
        z = self.srv.get(js, headers={"Accept-Encoding": "gzip"})
        r = self.srv.get(js, headers={"If-None-Match": z.header("etag")})
        self.assertEqual(r.status, 304)

    def test_html_is_never_compressed(self):
        # BREACH: a compressed document that mixes a secret with request
        # text leaks the secret; documents are sent as they are.
        for path in ("/", "/stall/", "/coordinator/", "/no/such/page"):
            r = self.srv.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
            self.assertIn(r.status, (200, 404), path)
            self.assertTrue(r.header("content-type").startswith("text/html"), path)
            self.assertIsNone(r.header("content-encoding"), path)
            self.assertIn(b"<html", r.body, path)

    def test_assets_are_versioned_immutable_and_typed(self):
        html = self.srv.get("/stall/").body.decode()
        refs = re.findall(r' (?:src|href)="(/v/[0-9a-f]{12}/[^"]+)"', html)
        self.assertGreater(len(refs), 10, html)
        # Every local file the page names is versioned.
        self.assertEqual(re.findall(r' (?:src|href)="(?!/v/|/|https:)([^"]+)"', html), [])
        for ref in refs:
            r = self.srv.get(ref)
            self.assertEqual(r.status, 200, ref)
            self.assertEqual(r.header("cache-control"), "public, max-age=31536000, immutable")
            self.assertEqual(r.header("content-type"), TYPES[os.path.splitext(ref)[1]], ref)
            self.assertPageHeaders(r)
            name = ref.split("/", 3)[3]
            with open(os.path.join(WEB, name), "rb") as f:
                self.assertEqual(r.body, f.read(), ref)
        # The same file under another build's path is only revalidated.
        stale = re.sub(r"^/v/[0-9a-f]{12}/", "/v/000000000000/", refs[0])
        r = self.srv.get(stale)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("cache-control"), "no-cache")
        # The page's modules import one another relatively: inside one build.
        for ref in refs:
            if ref.endswith(".js"):
                for imp in re.findall(r"from '([^']+)'", self.srv.get(ref).body.decode()):
                    self.assertTrue(imp.startswith("./") or imp.startswith("../"), (ref, imp))

    def test_every_module_a_page_loads_is_preloaded(self):
        """The service worker keeps what the HTML names; a module only
        imported by another would be missing offline."""
        html = self.srv.get("/stall/").body.decode()
        named = set(re.findall(r' (?:src|href)="(/v/[0-9a-f]{12}/[^"]+\.js)"', html))
        seen, todo = set(), list(named)
        while todo:
            ref = todo.pop()
            if ref in seen:
                continue
            seen.add(ref)
            body = self.srv.get(ref).body.decode()
            base = ref.rsplit("/", 1)[0]
            for imp in re.findall(r"from '([^']+)'", body):
                todo.append(os.path.normpath(os.path.join(base, imp)))
        self.assertEqual(seen - named, set())

    def test_service_worker_is_revalidated(self):
        r = self.srv.get("/stall/sw.js")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "text/javascript; charset=utf-8")
        self.assertEqual(r.header("cache-control"), "no-cache")

    def test_no_inline_script_or_style_in_any_html(self):
        for root, _, files in os.walk(WEB):
            if "node_modules" in root:
                continue
            for name in files:
                if not name.endswith(".html"):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    html = f.read()
                for tag in re.findall(r"<script\b[^>]*>", html, re.I):
                    self.assertRegex(tag, r'\ssrc="', path)
                self.assertEqual(re.findall(r"<script\b[^>]*>\s*[^<\s]", html, re.I), [], path)
                self.assertEqual(re.findall(r"\son[a-z]+\s*=", html, re.I), [], path)
                self.assertEqual(re.findall(r"\sstyle\s*=", html, re.I), [], path)
                self.assertEqual(re.findall(r"<style\b", html, re.I), [], path)
                self.assertNotIn("javascript:", html.lower(), path)
                self.assertEqual(re.findall(r'(?:src|href)="(?:https?:)?//', html), [], path)


class WebRootPages(PageChecks, harness.ServerTest):
    """--web-root DIR: the same pages read from disk at each request."""

    @classmethod
    def setUpClass(cls):
        cls.tree = tempfile.mkdtemp(prefix="market-web-")
        cls.root = os.path.join(cls.tree, "web")
        shutil.copytree(WEB, cls.root, ignore=shutil.ignore_patterns("node_modules"))
        # A link out of the tree, and a secret beside it.
        with open(os.path.join(cls.tree, "secret.txt"), "w") as f:
            f.write("root:x:0:0\n")
        os.symlink(os.path.join(cls.tree, "secret.txt"), os.path.join(cls.root, "leak.txt"))
        os.symlink(cls.tree, os.path.join(cls.root, "up"))
        cls.server_args = ("--web-root", cls.root)
        super().setUpClass()
        cls.addClassCleanup(shutil.rmtree, cls.tree, True)

    def test_symbolic_links_out_of_the_root_are_refused(self):
        for t in ("/leak.txt", "/up/secret.txt"):
            status, _, body = raw_get(self.srv, t)
            self.assertEqual(status, 404, t)
            self.assertNotIn(b"root:", body)

    def test_a_changed_file_is_served_at_once(self):
        path = os.path.join(self.root, "stall", "stall.css")
        first = self.srv.get("/stall/stall.css")
        self.assertEqual(first.header("cache-control"), "no-cache")
        with open(path, "a") as f:
            f.write("\n/* changed */\n")
        second = self.srv.get("/stall/stall.css", headers={"If-None-Match": first.header("etag")})
        self.assertEqual(second.status, 200)
        self.assertTrue(second.body.endswith(b"/* changed */\n"))
        third = self.srv.get("/stall/stall.css", headers={"If-None-Match": second.header("etag")})
        self.assertEqual(third.status, 304)

    def test_versioned_paths_are_not_immutable_while_developing(self):
        r = self.srv.get("/v/anything/stall/app.js")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("cache-control"), "no-cache")

    def test_a_missing_web_root_stops_startup(self):
        srv = harness.Server(args=("--web-root", os.path.join(self.tree, "missing")))
        with self.assertRaises(RuntimeError) as e:
            srv.start()
        self.assertIn("web-root", str(e.exception))
        srv.cleanup()


if __name__ == "__main__":
    harness.main()
