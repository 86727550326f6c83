"""Scenario: a buyer subscribes to the market calendar. GET
/api/v1/market-days.ics is a valid RFC 5545 calendar (CRLF line endings,
lines folded at 75 octets without splitting a character, escaped text,
times in Asia/Shanghai) that a real iCalendar parser (ical.js, Mozilla's)
reads back to the same market days as the API's list, less the cancelled
ones, with a UID per market day that stays the same across fetches and
edits, so calendar apps update events instead of duplicating them.

Needs node and the packages of tests/js (npm ci in tests/js; tools/test
does it): without them this test fails, it does not skip.
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "api"))
import harness  # noqa: E402

JS_DIR = os.path.join(harness.SOURCE, "tests", "js")
SCRIPT = os.path.join(JS_DIR, "ics_events.mjs")
ICS = "/api/v1/market-days.ics"
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))

TITLE_PUNCT = "鼓楼沿扶贫集市，贞丰李子; 新疆灰枣, 贵州大米\n第二行：白云庄 a\\b"
TITLE_LONG = ("海曙区消费帮扶鼓楼沿扶贫集市暨东西部扶贫协作贞丰县义龙新区"
              "农特产品展销会，贞丰李子、新疆灰枣、贵州大米、贞丰茶叶现场品鉴，"
              "庆元县山海协作香菇专场；欢迎市民选购 🍑 Zhenfeng plums")


def require_node():
    """Fails (never skips) when node or the ical.js package is missing."""
    if shutil.which("node") is None:
        raise AssertionError("node is not installed: the iCalendar test needs "
                             "node and `npm ci` in tests/js")
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "ical.js")):
        raise AssertionError("tests/js/node_modules/ical.js is missing: run "
                             "`npm ci` in tests/js (tools/test does it)")


def parse_ics(body):
    """The calendar parsed by ical.js: {calendar, events}."""
    with tempfile.NamedTemporaryFile(suffix=".ics", delete=False) as f:
        f.write(body)
        path = f.name
    try:
        p = subprocess.run(["node", SCRIPT, path], capture_output=True,
                           cwd=JS_DIR, timeout=120)
    finally:
        os.unlink(path)
    if p.returncode != 0:
        raise AssertionError("ical.js rejected the calendar: %s"
                             % p.stderr.decode("utf-8", "replace"))
    return json.loads(p.stdout.decode("utf-8"))


class Calendar(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        require_node()
        super().setUpClass()
        s = cls.srv
        cls.admin = s.user("admin", "admin")
        cls.coord = s.user("coord1", "coordinator")
        cls.buyer = s.user("buyer1", "buyer")
        today = datetime.datetime.now(SHANGHAI).date()
        cls.today = today

        def day(n):
            return (today + datetime.timedelta(days=n)).isoformat()

        def venue(name, kind, subdistrict, address=None):
            body = {"name": name, "kind": kind, "subdistrict": subdistrict}
            if address is not None:
                body["address"] = address
            r = s.post("/api/v1/venues", body, token=cls.admin)
            assert r.status == 201, r
            return r.json

        cls.gulou = venue("鼓楼步行街", "street_market", "鼓楼街道",
                          "中山西路,鼓楼;北侧")
        cls.baiyun = venue("白云庄社区", "community", "白云街道")
        plan = [
            (cls.gulou, day(1), "09:00", "21:00", "holiday_market", TITLE_PUNCT),
            (cls.gulou, day(2), "09:30", "20:30", "holiday_market", TITLE_LONG),
            (cls.gulou, day(3), "10:00", "18:00", "holiday_market", None),
            (cls.baiyun, day(1), "14:00", "17:30", "caravan", "大篷车进白云庄"),
            (cls.baiyun, day(4), "08:00", "12:00", "five_into", None),
            (cls.baiyun, day(5), "08:00", "12:00", "caravan", "取消的一天"),
            (cls.gulou, day(-10), "09:00", "17:00", "holiday_market", "十天前"),
            (cls.gulou, day(-60), "09:00", "17:00", "holiday_market", "六十天前"),
        ]
        items = []
        for v, d, o, c, ch, title in plan:
            body = {"venue_id": v["id"], "date": d, "opens_at": o,
                    "closes_at": c, "channel": ch}
            if title is not None:
                body["title"] = title
            items.append(body)
        r = s.post("/api/v1/market-days/batch", {"items": items}, token=cls.coord)
        assert r.status == 201, r
        cls.days = r.json["items"]
        cls.cancelled = cls.days[5]
        r = s.patch("/api/v1/market-days/%d" % cls.cancelled["id"],
                    {"status": "cancelled"}, token=cls.coord)
        assert r.status == 200, r
        cls.range = "from=%s&to=%s" % (day(-90), day(30))

    # --- helpers ------------------------------------------------------
    def fetch(self, query=None, token=None):
        r = self.srv.get(ICS + ("?" + query if query else ""), token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "text/calendar; charset=utf-8")
        return r.body

    def api_list(self, query):
        items, cursor = [], None
        while True:
            q = query + ("&cursor=" + cursor if cursor else "")
            r = self.srv.get("/api/v1/market-days?" + q)
            self.assertEqual(r.status, 200, r)
            items += r.json["items"]
            cursor = r.json["next_cursor"]
            if cursor is None:
                return items

    def venue_of(self, md):
        return self.gulou if md["venue_id"] == self.gulou["id"] else self.baiyun

    def key(self, ev):
        """(date, venue name) of an event: unique in this scenario."""
        return (ev["start"]["local"][:10], ev["location"].split(", ")[0])

    def check_lines(self, body):
        """RFC 5545 3.1: CRLF after every line, at most 75 octets, folds
        that never split a UTF-8 character."""
        self.assertTrue(body.endswith(b"\r\n"))
        lines = body.split(b"\r\n")
        self.assertEqual(lines[-1], b"")
        lines = lines[:-1]
        for i, line in enumerate(lines):
            self.assertNotIn(b"\n", line, i)
            self.assertNotIn(b"\r", line, i)
            self.assertLessEqual(len(line), 75, line)
            self.assertGreater(len(line), 0, i)
            line.decode("utf-8")  # a split character would not decode
        return lines

    def unfold(self, lines):
        out = []
        for line in lines:
            if line.startswith(b" "):
                out[-1] += line[1:]
            else:
                out.append(line)
        return [x.decode("utf-8") for x in out]

    # --- tests ----------------------------------------------------------
    def test_raw_format(self):
        body = self.fetch(self.range)
        lines = self.check_lines(body)
        self.assertTrue(any(l.startswith(b" ") for l in lines),
                        "the long title should have been folded")
        logical = self.unfold(lines)
        self.assertEqual(logical[0], "BEGIN:VCALENDAR")
        self.assertEqual(logical[-1], "END:VCALENDAR")
        for want in ("VERSION:2.0", "CALSCALE:GREGORIAN", "BEGIN:VTIMEZONE",
                     "TZID:Asia/Shanghai", "TZOFFSETFROM:+0800",
                     "TZOFFSETTO:+0800", "DTSTART:19700101T000000"):
            self.assertIn(want, logical)
        self.assertTrue(any(l.startswith("PRODID:") for l in logical))
        self.assertTrue(any(l.startswith("X-WR-CALNAME:") for l in logical))
        # Escaped text as written on the wire.
        self.assertIn("SUMMARY:鼓楼沿扶贫集市，贞丰李子\\; 新疆灰枣\\, 贵州大米"
                      "\\n第二行：白云庄 a\\\\b", logical)
        self.assertIn("LOCATION:鼓楼步行街\\, 鼓楼街道\\, 中山西路\\,鼓楼\\;北侧",
                      logical)
        starts = [l for l in logical if l.startswith("DTSTART;")]
        self.assertTrue(starts)
        for l in starts:
            self.assertRegex(l, r"^DTSTART;TZID=Asia/Shanghai:\d{8}T\d{6}$")
        stamps = [l for l in logical if l.startswith("DTSTAMP:")]
        for l in stamps:
            self.assertRegex(l, r"^DTSTAMP:\d{8}T\d{6}Z$")
        self.assertEqual(logical.count("BEGIN:VEVENT"), 7)
        self.assertEqual(len(stamps), 7)

    def test_events_match_the_api(self):
        listed = self.api_list(self.range)
        self.assertEqual(len(listed), 8)
        live = [md for md in listed if md["status"] != "cancelled"]
        self.assertEqual(len(live), 7)
        cal = parse_ics(self.fetch(self.range))
        self.assertEqual(cal["calendar"]["version"], "2.0")
        self.assertEqual(cal["calendar"]["calscale"], "GREGORIAN")
        self.assertEqual(cal["calendar"]["timezones"], ["Asia/Shanghai"])
        events = {self.key(ev): ev for ev in cal["events"]}
        self.assertEqual(len(cal["events"]), 7)
        self.assertEqual(len(events), 7)
        self.assertEqual(len({ev["uid"] for ev in cal["events"]}), 7)
        for md in live:
            v = self.venue_of(md)
            ev = events.pop((md["date"], v["name"]))
            want_start = "%sT%s:00" % (md["date"], md["opens_at"])
            want_end = "%sT%s:00" % (md["date"], md["closes_at"])
            self.assertEqual(ev["start"], {
                "local": want_start, "tzid": "Asia/Shanghai",
                "utc": self.utc(want_start)})
            self.assertEqual(ev["end"], {
                "local": want_end, "tzid": "Asia/Shanghai",
                "utc": self.utc(want_end)})
            if md["title"] is not None:
                self.assertEqual(ev["summary"], md["title"])
            else:
                self.assertTrue(ev["summary"].startswith(v["name"]), ev)
            parts = [v["name"], v["subdistrict"]] + (
                [v["address"]] if v.get("address") else [])
            self.assertEqual(ev["location"], ", ".join(parts))
            self.assertEqual(ev["status"], "CONFIRMED")
            self.assertRegex(ev["uid"], r"^[0-9a-f]{32}@")
        self.assertEqual(events, {})
        # The titles that need escaping and folding round-trip exactly.
        summaries = {ev["summary"] for ev in cal["events"]}
        self.assertIn(TITLE_PUNCT, summaries)
        self.assertIn(TITLE_LONG, summaries)
        self.assertNotIn("取消的一天", summaries)

    def utc(self, local):
        t = datetime.datetime.fromisoformat(local) - datetime.timedelta(hours=8)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    def test_uids_are_stable(self):
        first = parse_ics(self.fetch(self.range))["events"]
        second = parse_ics(self.fetch(self.range))["events"]
        uids = {self.key(ev): ev["uid"] for ev in first}
        self.assertEqual({self.key(ev): ev["uid"] for ev in second}, uids)
        # An edit keeps the UID, so a calendar app updates the event.
        md = self.days[2]
        r = self.srv.patch("/api/v1/market-days/%d" % md["id"],
                           {"title": "改期后的集市", "opens_at": "11:00"},
                           token=self.coord)
        self.assertEqual(r.status, 200, r)
        third = parse_ics(self.fetch(self.range))["events"]
        self.assertEqual(len(third), 7)
        edited = [ev for ev in third if ev["summary"] == "改期后的集市"]
        self.assertEqual(len(edited), 1)
        self.assertEqual(edited[0]["uid"],
                         uids[(md["date"], self.gulou["name"])])
        self.assertEqual(edited[0]["start"]["local"], md["date"] + "T11:00:00")
        self.assertEqual({ev["uid"] for ev in third}, set(uids.values()))
        # Cancelling drops the event; scheduling again brings back its UID.
        path = "/api/v1/market-days/%d" % md["id"]
        self.assertEqual(self.srv.patch(path, {"status": "cancelled"},
                                        token=self.coord).status, 200)
        fourth = parse_ics(self.fetch(self.range))["events"]
        self.assertEqual({ev["uid"] for ev in fourth},
                         set(uids.values()) - {edited[0]["uid"]})
        self.assertEqual(self.srv.patch(path, {"status": "scheduled"},
                                        token=self.coord).status, 200)
        fifth = parse_ics(self.fetch(self.range))["events"]
        self.assertEqual({ev["uid"] for ev in fifth}, set(uids.values()))

    def test_filters_and_default_window(self):
        # Without from and to: from 30 days before today, no end.
        cal = parse_ics(self.fetch())
        titles = {ev["summary"] for ev in cal["events"]}
        self.assertIn("十天前", titles)
        self.assertNotIn("六十天前", titles)
        self.assertEqual(len(cal["events"]), 6)
        # A venue and a date range.
        cal = parse_ics(self.fetch(self.range + "&venue=%d" % self.baiyun["id"]))
        self.assertEqual(sorted(ev["summary"] for ev in cal["events"]),
                         sorted(["大篷车进白云庄", "白云庄社区 五进"]))
        d1 = (self.today + datetime.timedelta(days=1)).isoformat()
        cal = parse_ics(self.fetch("from=%s&to=%s" % (d1, d1)))
        self.assertEqual(sorted(ev["summary"] for ev in cal["events"]),
                         sorted([TITLE_PUNCT, "大篷车进白云庄"]))
        # An empty calendar is still a calendar.
        cal = parse_ics(self.fetch("from=1999-01-01&to=1999-12-31"))
        self.assertEqual(cal["events"], [])
        self.assertEqual(cal["calendar"]["timezones"], ["Asia/Shanghai"])
        # A signed-in buyer gets the same calendar.
        self.assertEqual(len(parse_ics(self.fetch(self.range, token=self.buyer))
                             ["events"]), 7)

    def test_bad_filters(self):
        for q, field in (("from=2024-13-01", "from"), ("to=tomorrow", "to"),
                         ("from=2024-05-02&to=2024-05-01", "to"),
                         ("venue=abc", "venue"), ("channel=online", "channel")):
            self.assertProblem(self.srv.get(ICS + "?" + q), 400,
                               "validation_failed", field)


if __name__ == "__main__":
    harness.main()
