"""Problem objects in Chinese (shared/API.md, "Languages").

Two halves:
- every error code the server gives is provoked twice, with
  Accept-Language preferring Chinese and with English; the code, status
  and field are the same, the Chinese title and detail are Chinese with
  no English left but identifiers, and both carry Content-Language and
  Vary: Accept-Language;
- every detail the server's source writes (reply_error, f_fail, the
  store's checks, the report range reasons) has an entry in the Chinese
  table, server/http/messages_zh.c, matched the way marketd matches it.
"""
import glob
import json
import os
import re
import socket
import ssl
import unittest

import harness
import orders_fixture as of

ROOT = os.environ.get("MARKET_SOURCE") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
CJK = re.compile(r"[\u4e00-\u9fff]")
# English words a message is made of. Identifiers (field names, codes,
# statuses, roles) are single tokens with underscores, or are not here.
ENGLISH = set("""must be is are the of to not no from and or an at in on this
that may only has have your you with for too first log send left taken
exists unknown such expected near characters long integer date string object
array required allowed here resource body empty malformed invalid wrong many
try again seconds cannot make another before after more than minutes future
yours outside region stall sale order product producer user venue day market
found error request header method items hold most time clock one lies
database unavailable answer saved change could key used content recorded
voided already last active admin operator category channel name names
earlier line total amount large above catalog price fen cancelled past closed
transaction gave server given printable characters levels nests deeper
unauthorized forbidden conflict stock state internal malformed validation
failed credentials supported implemented requests""".split())



def api_identifiers():
    """Names the API spells out (properties, parameters, enum values):
    they stay as they are in every language."""
    with open(os.path.join(ROOT, "openapi.yaml"), encoding="utf-8") as f:
        text = f.read()
    names = set(re.findall(r"^\s*([a-z_]+):", text, re.M))
    names |= set(re.findall(r"name:\s*([a-z_]+)", text))
    for values in re.findall(r"enum:\s*\[([^\]]*)\]", text):
        names |= {v.strip(" '\"") for v in values.split(",")}
    names |= set(re.findall(r"^\s*-\s*([a-z_]+)\s*$", text, re.M))
    return names


ENGLISH -= api_identifiers()


def english_words(text):
    words = re.findall(r"(?<![\w.-])[A-Za-z]+(?![\w-])", text)
    return sorted({w for w in words if w.lower() in ENGLISH})


# --- the source scan ---------------------------------------------------

# Where a detail is the argument at this index (0-based).
DETAIL_ARG = {"reply_error": 3, "f_fail": 2, "problem_new": 3, "FAIL": 1}


def c_literal(body):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)),
                  body)


def defines(root):
    """#define NAME "text" and #define NAME 123 across server/."""
    out = {}
    for path in glob.glob(os.path.join(root, "server", "**", "*.[ch]"), recursive=True):
        with open(path, encoding="utf-8") as f:
            for m in re.finditer(r'^#define\s+(\w+)\s+("(?:[^"\\]|\\.)*"|\d+)\s*$',
                                 f.read(), re.M):
                v = m.group(2)
                out[m.group(1)] = c_literal(v[1:-1]) if v.startswith('"') else v
    return out


def literals(arg, macros):
    """The string constants an argument can be: adjacent literals joined,
    macros expanded, PRId64 as "ld", several for a ?: choice."""
    out, cur = [], None
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(PRI[du]64)|STR\((\w+)\)|(\w+)|(\S)', arg):
        lit, pri, strmac, word, other = m.groups()
        if lit is not None:
            cur = (cur or "") + c_literal(lit)
        elif pri is not None and cur is not None:
            cur += "ld"
        elif strmac is not None and cur is not None and strmac in macros:
            cur += macros[strmac]
        elif word is not None and cur is not None and word in macros \
                and not macros[word].isdigit():
            cur += macros[word]
        else:
            if cur is not None:
                out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return out


def call_args(src, start):
    """The top-level arguments of the call whose '(' ends at start."""
    depth, args, cur, i = 0, [], [], start
    while i < len(src):
        c = src[i]
        if c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            cur.append(src[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append("".join(cur))
                return args
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return args


def source_details(root):
    """{detail pattern: first file} for every constant detail in server/."""
    macros = defines(root)
    found = {}
    for path in sorted(glob.glob(os.path.join(root, "server", "**", "*.c"), recursive=True)):
        if path.endswith("messages_zh.c"):
            continue
        with open(path, encoding="utf-8") as f:
            src = f.read()
        rel = os.path.relpath(path, root)
        for name, pos in DETAIL_ARG.items():
            for m in re.finditer(r"\b%s\s*\(" % name, src):
                args = call_args(src, m.end())
                if len(args) > pos:
                    for s in literals(args[pos], macros):
                        found.setdefault(s, rel)
        for m in re.finditer(r'\*(?:why|reason)\s*=\s*((?:"(?:[^"\\]|\\.)*"\s*)+);', src):
            for s in literals(m.group(1), macros):
                found.setdefault(s, rel)
    return found


CONVERSION = r"%[-+ #0-9.]*[hljzt]*[sdiuxXc]"


def table(root):
    with open(os.path.join(root, "server", "http", "messages_zh.c"), encoding="utf-8") as f:
        src = f.read()
    body = src[src.index("messages_zh[] = {"):]
    rows = re.findall(r'\{\s*((?:"(?:[^"\\]|\\.)*"\s*)+),\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}', body)
    return [("".join(c_literal(x) for x in re.findall(r'"((?:[^"\\]|\\.)*)"', en)),
             "".join(c_literal(x) for x in re.findall(r'"((?:[^"\\]|\\.)*)"', zh)))
            for en, zh in rows]


def pattern_regex(en):
    parts = re.split(CONVERSION, en.replace("%%", "\0"))
    return re.compile("^" + "(.+?)".join(re.escape(p).replace("\0", "%") for p in parts) + "$",
                      re.S)


class Table(unittest.TestCase):
    """No server: the source against the table."""

    def test_every_detail_in_the_source_has_a_chinese_entry(self):
        entries = table(ROOT)
        self.assertGreater(len(entries), 100)
        regexes = [pattern_regex(en) for en, _ in entries]
        details = source_details(ROOT)
        self.assertGreater(len(details), 100, "the scan found too little")
        missing = []
        for d, where in sorted(details.items()):
            # A conversion in the source stands for some text: try an
            # identifier, as the server would put one there.
            sample = re.sub(CONVERSION, "x1", d.replace("%%", "%"))
            if not any(rx.match(sample) for rx in regexes):
                missing.append("%s: %r" % (where, d))
        self.assertEqual(missing, [], "details without a Chinese entry")

    def test_entries_are_chinese_and_keep_their_conversions(self):
        for en, zh in table(ROOT):
            with self.subTest(en=en):
                self.assertEqual(len(re.findall(CONVERSION, en)),
                                 len(re.findall(CONVERSION, zh)))
                if re.search(r"[A-Za-z]", re.sub(CONVERSION, "", zh)) or \
                        re.search(r"[A-Za-z]", re.sub(CONVERSION, "", en)):
                    self.assertRegex(zh, CJK)
                self.assertEqual(english_words(re.sub(CONVERSION, "", zh)), [])


# --- the walk ------------------------------------------------------------

class Languages(harness.ServerTest):
    threads = 1  # the 500 below needs the one connection's statements

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = of.Shop(cls.srv)

    def both(self, send, status, code, field=None):
        """send(headers) twice; returns the Chinese problem."""
        zh = send(dict(ZH))
        en = send(dict(EN))
        for r, tag in ((zh, "zh-CN"), (en, "en")):
            self.assertProblem(r, status, code, field)
            self.assertEqual(r.header("content-language"), tag, r.headers)
            self.assertIn("Accept-Language", r.header("vary") or "", r.headers)
        self.assertEqual({k: v for k, v in zh.json.items() if k not in ("title", "detail")},
                         {k: v for k, v in en.json.items() if k not in ("title", "detail")})
        self.assertChinese(zh.json, en.json)
        return zh.json

    def assertChinese(self, zh, en):
        self.assertRegex(zh["title"], CJK, zh)
        self.assertEqual(english_words(zh["title"]), [], zh)
        self.assertNotRegex(en["title"], CJK, en)
        self.assertEqual("detail" in zh, "detail" in en, (zh, en))
        if "detail" in zh:
            self.assertRegex(zh["detail"], CJK, zh)
            self.assertEqual(english_words(zh["detail"]), [], (zh, en))
            self.assertNotEqual(zh["detail"], en["detail"])

    def post(self, path, body, token=None, **kw):
        return lambda h: self.srv.post(path, body, token=token or self.shop.admin,
                                       headers=h, **kw)

    def get(self, path, token=None):
        return lambda h: self.srv.get(path, token=token, headers=h)

    def raw(self, data):
        ctx = ssl.create_default_context(cafile=self.srv.cafile)
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=30) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                t.sendall(data)
                out = b""
                try:
                    while True:
                        chunk = t.recv(65536)
                        if not chunk:
                            break
                        out += chunk
                except (ConnectionResetError, ssl.SSLError, socket.timeout):
                    pass
        head, _, body = out.partition(b"\r\n\r\n")
        return head.decode("latin-1"), body

    def test_bad_json(self):
        for raw in (b"{", b"[1]", b"", b'{"a": }', b'{"a": "\\u00zz"}', b"[" * 40 + b"]" * 40):
            self.both(lambda h: self.srv.request("POST", "/api/v1/venues", raw=raw,
                                                 token=self.shop.admin, headers=h),
                      400, "bad_json")

    def test_validation_failed_for_each_kind_of_rule(self):
        venue = {"name": "社区", "kind": "community", "subdistrict": "白云街道"}
        product = {"name": "李子", "category": "fruit", "unit": "袋", "price_fen": 100,
                   "stock": 1, "producer_id": self.shop.producers["zhenfeng"]}
        cases = [
            ("/api/v1/venues", dict(venue, name=""), "name"),
            ("/api/v1/venues", dict(venue, name=7), "name"),
            ("/api/v1/venues", {"kind": "community", "subdistrict": "x"}, "name"),
            ("/api/v1/venues", dict(venue, kind="castle"), "kind"),
            ("/api/v1/products", dict(product, price_fen=0), "price_fen"),
            ("/api/v1/products", dict(product, price_fen="1"), "price_fen"),
            ("/api/v1/products", dict(product, category="gold"), "category"),
            ("/api/v1/products", dict(product, producer_id=999999), "producer_id"),
            ("/api/v1/producers", {"name": "x", "region_code": "zhenfeng", "kind": "cooperative",
                                   "households": 1, "poor_households": 5}, "poor_households"),
            ("/api/v1/regions", {"code": "Bad Code", "name": "x", "name_en": "x",
                                 "province": "p", "partnership": "east_west"}, "code"),
            ("/api/v1/market-days", {"venue_id": 1, "date": "2026-02-30", "opens_at": "09:00",
                                     "closes_at": "17:00", "channel": "holiday_market"}, "date"),
            ("/api/v1/market-days", {"venue_id": 1, "date": of.day(30), "opens_at": "25:00",
                                     "closes_at": "17:00", "channel": "holiday_market"},
             "opens_at"),
            ("/api/v1/market-days", {"venue_id": 1, "date": of.day(30), "opens_at": "09:00",
                                     "closes_at": "08:00", "channel": "holiday_market"},
             "closes_at"),
            ("/api/v1/sales", {"id": "x", "stall_id": self.shop.stall, "payment_method": "cash",
                               "recorded_at": "2026-01-01T00:00:00Z", "lines": []}, "id"),
        ]
        for path, body, field in cases:
            with self.subTest(path=path, field=field):
                token = self.shop.op if path == "/api/v1/sales" else None
                zh = self.both(self.post(path, body, token=token), 400, "validation_failed",
                               field)
                self.assertIn(field, zh["detail"])
        # Query parameters.
        for path, field in (("/api/v1/products?limit=0", "limit"),
                            ("/api/v1/reports/impact?from=2026-01-01", "to"),
                            ("/api/v1/reports/impact?from=2026-13-01&to=2026-12-01", "from"),
                            ("/api/v1/audit?cursor=nonsense", "cursor")):
            with self.subTest(path=path):
                self.both(self.get(path, token=self.shop.admin), 400, "validation_failed",
                          field)

    def test_unauthorized_and_invalid_credentials(self):
        self.both(self.get("/api/v1/me"), 401, "unauthorized")
        self.both(self.get("/api/v1/me", token="no-such-token"), 401, "unauthorized")
        self.srv.add_user("lang_user", "buyer")
        self.both(lambda h: self.srv.post("/api/v1/auth/login", {
            "username": "lang_user", "password": "wrong-password"}, headers=h),
            401, "invalid_credentials")

    def test_rate_limited(self):
        self.srv.add_user("lang_limited", "buyer")
        login = lambda h: self.srv.post("/api/v1/auth/login", {  # noqa: E731
            "username": "lang_limited", "password": "wrong-password"}, headers=h)
        for _ in range(5):
            login(EN)
        zh = self.both(login, 429, "rate_limited")
        self.assertRegex(zh["detail"], r"\d+ 秒")

    def test_forbidden_and_not_found(self):
        venue = {"name": "社区", "kind": "community", "subdistrict": "白云街道"}
        self.both(self.post("/api/v1/venues", venue, token=self.shop.buyer), 403, "forbidden")
        other = self.shop.product(100, 5, region="qingyuan")
        self.both(lambda h: self.srv.patch("/api/v1/products/%d" % other, {"stock": 9},
                                           token=self.shop.scoped, headers=h),
                  403, "forbidden")
        self.both(self.get("/api/v1/products/999999"), 404, "not_found")
        self.both(self.get("/api/v1/no-such-thing"), 404, "not_found")
        self.both(self.get("/api/v1/orders/999999", token=self.shop.admin), 404, "not_found")

    def test_method_not_allowed_and_media_type(self):
        self.both(lambda h: self.srv.request("DELETE", "/api/v1/venues", headers=h),
                  405, "method_not_allowed")
        self.both(lambda h: self.srv.request(
            "POST", "/api/v1/venues", raw=b"{}", token=self.shop.admin,
            headers=dict(h, **{"Content-Type": "text/plain"})), 415, "unsupported_media_type")

    def test_conflicts_and_state(self):
        region = {"code": "lang-r", "name": "x", "name_en": "x", "province": "p",
                  "partnership": "east_west"}
        of.check(self.srv.post("/api/v1/regions", region, token=self.shop.admin))
        self.both(self.post("/api/v1/regions", region), 409, "conflict")
        product = self.shop.product(100, 3)
        self.both(lambda h: self.srv.post("/api/v1/orders", {
            "lines": [{"product_id": product, "quantity": 4}],
            "fulfillment": of.pickup(self.shop.day)}, token=self.shop.buyer, headers=h),
            409, "out_of_stock", "lines[0].quantity")
        order = self.shop.placed([(product, 1)])
        of.check(self.shop.act(order["id"], "cancel", self.shop.buyer), 200)
        self.both(lambda h: self.srv.post("/api/v1/orders/%d/cancel" % order["id"],
                                          token=self.shop.buyer, headers=h),
                  409, "invalid_state")
        key = "lang-key-1"
        of.check(self.shop.order([(product, 1)], key=key))
        self.both(lambda h: self.srv.post("/api/v1/orders", {
            "lines": [{"product_id": product, "quantity": 2}],
            "fulfillment": of.pickup(self.shop.day)}, token=self.shop.buyer,
            headers=dict(h, **{"Idempotency-Key": key})), 409, "idempotency_mismatch")

    def test_what_the_http_layer_refuses(self):
        big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
        self.both(lambda h: self.srv.request("POST", "/api/v1/venues", raw=big,
                                             token=self.shop.admin, headers=h),
                  413, "payload_too_large")
        self.both(lambda h: self.srv.get("/healthz", headers=dict(h, **{
            "X-Filler": "a" * (17 * 1024)})), 431, "headers_too_large")
        # libevent's own refusals take the language from the headers too.
        for line, status, code in ((b"BREW /healthz HTTP/1.1", 501, "not_implemented"),):
            answers = {}
            for lang, h in (("zh-CN", ZH), ("en", EN)):
                head, body = self.raw(line + b"\r\nHost: localhost\r\nAccept-Language: " +
                                      h["Accept-Language"].encode() + b"\r\n\r\n")
                self.assertTrue(head.startswith("HTTP/1.1 %d " % status), head)
                self.assertIn("Content-Language: " + lang, head)
                answers[lang] = json.loads(body)
                self.assertEqual(answers[lang]["code"], code)
            self.assertChinese(answers["zh-CN"], answers["en"])

    def test_q_values_and_ranges_choose_the_language(self):
        cases = {"zh": "zh-CN", "zh-Hans": "zh-CN", "ZH-cn": "zh-CN", "zh-TW": "zh-CN",
                 "fr, zh;q=0.5": "zh-CN", "en;q=0.5, zh;q=0.8": "zh-CN",
                 "en": "en", "en-GB, zh;q=0.9": "en", "zh;q=0.5, en;q=0.6": "en",
                 "zh;q=0": "en", "fr": "en", "*": "en", "": "en", "zh;q=2": "en",
                 "zhx": "en", "zh-CN;q=0.9, *;q=1": "en", "de, *;q=0.1, zh;q=0.2": "zh-CN"}
        for header, tag in cases.items():
            with self.subTest(header=header):
                r = self.srv.get("/api/v1/me", headers={"Accept-Language": header})
                self.assertProblem(r, 401, "unauthorized")
                self.assertEqual(r.header("content-language"), tag)
        r = self.srv.get("/api/v1/me")
        self.assertEqual(r.header("content-language"), "en")
        # Successful answers do not vary by language.
        r = self.srv.get("/api/v1/products", headers=ZH)
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("content-language"))

    def test_sale_batch_items_are_in_the_request_language(self):
        sale = {"id": "lang-sale-0001", "stall_id": self.shop.stall, "payment_method": "cash",
                "recorded_at": "2026-01-01T00:00:00Z",
                "lines": [{"product_id": 999999, "quantity": 1, "unit_price_fen": 100}]}
        r = self.srv.post("/api/v1/sales/batch", {"sales": [sale, 7]}, token=self.shop.op,
                          headers=ZH)
        self.assertEqual(r.status, 200, r)
        for item in r.json["results"]:
            self.assertEqual(item["status"], "error", item)
            self.assertRegex(item["error"]["title"], CJK)
            self.assertRegex(item["error"]["detail"], CJK)
            self.assertEqual(english_words(item["error"]["detail"]), [], item)

    def test_z_internal(self):
        # Last (tests run by name): a trigger that fails makes every
        # insert into venues a 500.
        with self.srv.sql() as db:
            db.add_failing_trigger("lang_boom")
        venue = {"name": "社区 z", "kind": "community", "subdistrict": "白云街道"}
        self.both(self.post("/api/v1/venues", venue), 500, "internal")


if __name__ == "__main__":
    harness.main()
