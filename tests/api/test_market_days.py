"""Scenario: a coordinator plans a year of market days at once (the 64
holiday-market days on the Gulou pedestrian street and the caravan's round
of 47 communities in 8 sub-districts), with the rules of a market day
enforced one by one and in batches, all or nothing; anyone lists them by
date range, venue and channel, ordered by date then opening time."""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

MD = "/api/v1/market-days"
SUBDISTRICTS = ["白云街道", "鼓楼街道", "南门街道", "江厦街道", "西门街道",
                "月湖街道", "望春街道", "段塘街道"]


def days_of(year, n, start_month=1):
    """n distinct dates in year, a few days apart."""
    d = datetime.date(year, start_month, 1)
    out = []
    for _ in range(n):
        out.append(d.isoformat())
        d += datetime.timedelta(days=5)
    return out


class MarketDays(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.srv
        cls.admin = s.user("admin", "admin")
        cls.coord = s.user("coord1", "coordinator")
        cls.buyer = s.user("buyer1", "buyer")
        cls.op = s.user("op1", "operator")
        cls.venues = {}

    # --- helpers ------------------------------------------------------
    def venue(self, name, kind="street_market", subdistrict="鼓楼街道",
              address=None):
        body = {"name": name, "kind": kind, "subdistrict": subdistrict}
        if address:
            body["address"] = address
        r = self.srv.post("/api/v1/venues", body, token=self.admin)
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def day(self, venue_id, date, opens="09:00", closes="17:00",
            channel="holiday_market", title=None):
        body = {"venue_id": venue_id, "date": date, "opens_at": opens,
                "closes_at": closes, "channel": channel}
        if title is not None:
            body["title"] = title
        return body

    def all_pages(self, query="", limit=None, token=None):
        """Every item of GET /market-days?query, walking the cursor."""
        items, cursor, pages = [], None, 0
        while True:
            q = [query] if query else []
            if limit:
                q.append("limit=%d" % limit)
            if cursor:
                q.append("cursor=" + cursor)
            r = self.srv.get(MD + "?" + "&".join(q), token=token)
            self.assertEqual(r.status, 200, r)
            items += r.json["items"]
            pages += 1
            cursor = r.json["next_cursor"]
            if cursor is None:
                return items, pages
            self.assertLess(pages, 1000)

    def count(self, query):
        return len(self.all_pages(query)[0])

    # --- one market day -----------------------------------------------
    def test_create_and_get(self):
        v = self.venue("鼓楼步行街", address="中山西路鼓楼")
        r = self.srv.post(MD, self.day(v, "2024-05-01", "09:30", "20:00",
                                        title="鼓楼沿扶贫集市·劳动节"),
                          token=self.coord)
        self.assertEqual(r.status, 201, r)
        md = r.json
        self.assertIsInstance(md["id"], int)
        self.assertEqual({k: md[k] for k in md if k != "id"}, {
            "venue_id": v, "venue_name": "鼓楼步行街", "date": "2024-05-01",
            "opens_at": "09:30", "closes_at": "20:00",
            "channel": "holiday_market", "title": "鼓楼沿扶贫集市·劳动节",
            "status": "scheduled"})
        g = self.srv.get("%s/%d" % (MD, md["id"]))
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json, md)
        # Without a title the title is null; an admin may create too.
        r = self.srv.post(MD, self.day(v, "2024-05-02", channel="five_into"),
                          token=self.admin)
        self.assertEqual(r.status, 201, r)
        self.assertIsNone(r.json["title"])
        self.assertEqual(r.json["channel"], "five_into")

    def test_get_unknown_is_404(self):
        for path in ("/999999", "/0", "/abc", "/-1"):
            self.assertProblem(self.srv.get(MD + path), 404, "not_found")
        self.assertProblem(self.srv.patch(MD + "/999999", {"title": "x"},
                                          token=self.coord), 404, "not_found")

    def test_create_validation(self):
        v = self.venue("验证集市")
        good = self.day(v, "2024-06-01")
        cases = [
            ({"venue_id": None}, "venue_id"),
            ({"venue_id": "1"}, "venue_id"),
            ({"venue_id": 1.5}, "venue_id"),
            ({"venue_id": 999999}, "venue_id"),
            ({"date": None}, "date"),
            ({"date": "2024-02-30"}, "date"),
            ({"date": "2024/06/01"}, "date"),
            ({"date": "2024-6-1"}, "date"),
            ({"opens_at": "25:00"}, "opens_at"),
            ({"opens_at": "9:00"}, "opens_at"),
            ({"opens_at": 900}, "opens_at"),
            ({"closes_at": "17:60"}, "closes_at"),
            ({"closes_at": None}, "closes_at"),
            ({"opens_at": "17:00", "closes_at": "17:00"}, "closes_at"),
            ({"opens_at": "18:00", "closes_at": "08:00"}, "closes_at"),
            ({"channel": "online"}, "channel"),
            ({"channel": None}, "channel"),
            ({"title": ""}, "title"),
            ({"title": "长" * 201}, "title"),
            ({"title": 5}, "title"),
        ]
        for change, field in cases:
            body = dict(good)
            for k, val in change.items():
                if val is None:
                    del body[k]
                else:
                    body[k] = val
            r = self.srv.post(MD, body, token=self.coord)
            self.assertProblem(r, 400, "validation_failed", field)
        self.assertEqual(self.count("venue=%d" % v), 0)
        # The good body itself is fine.
        self.assertEqual(self.srv.post(MD, good, token=self.coord).status, 201)

    def test_one_market_day_per_venue_and_date(self):
        v = self.venue("白云庄", kind="community", subdistrict="白云街道")
        w = self.venue("南门社区", kind="community", subdistrict="南门街道")
        r = self.srv.post(MD, self.day(v, "2024-07-01", channel="caravan"),
                          token=self.coord)
        self.assertEqual(r.status, 201, r)
        r = self.srv.post(MD, self.day(v, "2024-07-01", "18:00", "20:00",
                                       channel="counter"), token=self.admin)
        self.assertProblem(r, 409, "conflict", "date")
        items, _ = self.all_pages("venue=%d" % v)
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0]["opens_at"], "09:00")
        # Another venue the same date, and the same venue another date.
        self.assertEqual(self.srv.post(MD, self.day(w, "2024-07-01"),
                                       token=self.coord).status, 201)
        self.assertEqual(self.srv.post(MD, self.day(v, "2024-07-02"),
                                       token=self.coord).status, 201)

    def test_writes_need_a_coordinator_or_admin(self):
        v = self.venue("权限集市")
        body = self.day(v, "2024-08-01")
        batch = {"items": [self.day(v, "2024-08-02")]}
        for token, status, code in ((None, 401, "unauthorized"),
                                    (self.buyer, 403, "forbidden"),
                                    (self.op, 403, "forbidden")):
            self.assertProblem(self.srv.post(MD, body, token=token), status, code)
            self.assertProblem(self.srv.post(MD + "/batch", batch, token=token),
                               status, code)
        self.assertEqual(self.count("venue=%d" % v), 0)
        r = self.srv.post(MD, body, token=self.coord)
        self.assertEqual(r.status, 201, r)
        path = "%s/%d" % (MD, r.json["id"])
        for token, status, code in ((None, 401, "unauthorized"),
                                    (self.buyer, 403, "forbidden"),
                                    (self.op, 403, "forbidden")):
            self.assertProblem(self.srv.patch(path, {"status": "cancelled"},
                                              token=token), status, code)
        self.assertEqual(self.srv.get(path).json["status"], "scheduled")
        # Reading needs nobody.
        self.assertEqual(self.srv.get(path).status, 200)
        self.assertEqual(self.srv.get(MD).status, 200)

    # --- a year at once -----------------------------------------------
    def plan_2030(self):
        """The 64 holiday-market days and the caravan's 47 communities."""
        if hasattr(self.__class__, "year_2030"):
            return self.__class__.year_2030
        gulou = self.venue("鼓楼步行街（2030）", address="鼓楼步行街")
        communities = []
        for i in range(47):
            communities.append(self.venue(
                "社区%02d" % (i + 1), kind="community",
                subdistrict=SUBDISTRICTS[i % 8]))
        items = [self.day(gulou, d, "09:00", "21:00",
                          title="鼓楼沿扶贫集市 第%d天" % (i + 1))
                 for i, d in enumerate(days_of(2030, 64))]
        caravan_dates = days_of(2030, 47, start_month=2)
        items += [self.day(c, d, "14:00", "18:30", channel="caravan")
                  for c, d in zip(communities, caravan_dates)]
        r = self.srv.post(MD + "/batch", {"items": items}, token=self.coord)
        self.assertEqual(r.status, 201, r)
        self.__class__.year_2030 = (gulou, communities, items, r.json["items"])
        return self.__class__.year_2030

    def test_batch_year_plan(self):
        gulou, communities, sent, got = self.plan_2030()
        self.assertEqual(len(got), 111)
        for s, g in zip(sent, got):
            self.assertEqual(g["venue_id"], s["venue_id"])
            self.assertEqual(g["date"], s["date"])
            self.assertEqual(g["opens_at"], s["opens_at"])
            self.assertEqual(g["closes_at"], s["closes_at"])
            self.assertEqual(g["channel"], s["channel"])
            self.assertEqual(g["title"], s.get("title"))
            self.assertEqual(g["status"], "scheduled")
        self.assertEqual(len({g["id"] for g in got}), 111)
        year = "from=2030-01-01&to=2030-12-31"
        self.assertEqual(self.count(year), 111)
        self.assertEqual(self.count(year + "&venue=%d" % gulou), 64)
        self.assertEqual(self.count(year + "&channel=holiday_market"), 64)
        self.assertEqual(self.count(year + "&channel=caravan"), 47)
        self.assertEqual(self.count(year + "&venue=%d" % communities[5]), 1)
        # Each stored day reads back as the batch answered it.
        g = self.srv.get("%s/%d" % (MD, got[100]["id"]))
        self.assertEqual(g.json, got[100])

    def test_batch_one_bad_item_rejects_all(self):
        gulou, _, _, _ = self.plan_2030()
        v = self.venue("批量失败集市")
        dates = days_of(2032, 64)

        def batch(bad):
            items = [self.day(v, d) for d in dates]
            bad(items)
            return self.srv.post(MD + "/batch", {"items": items},
                                 token=self.coord)

        def setk(k, val):
            return lambda items: items[37].__setitem__(k, val)

        cases = [
            (setk("date", "2032-13-01"), 400, "validation_failed", "items[37].date"),
            (setk("opens_at", "8:00"), 400, "validation_failed", "items[37].opens_at"),
            (lambda it: it[37].update(opens_at="20:00", closes_at="19:00"),
             400, "validation_failed", "items[37].closes_at"),
            (setk("channel", "market"), 400, "validation_failed", "items[37].channel"),
            (setk("venue_id", 999999), 400, "validation_failed", "items[37].venue_id"),
            (lambda it: it[37].pop("venue_id"), 400, "validation_failed",
             "items[37].venue_id"),
            (lambda it: it.__setitem__(37, "2032-01-01"), 400,
             "validation_failed", "items[37]"),
            # A clash inside the batch itself, and one with a stored day.
            (lambda it: it[37].update(date=dates[3]), 409, "conflict", "items[37]"),
            (lambda it: it[37].update(venue_id=gulou, date="2030-01-01"),
             409, "conflict", "items[37]"),
        ]
        for bad, status, code, field in cases:
            self.assertProblem(batch(bad), status, code, field)
            self.assertEqual(self.count("venue=%d" % v), 0, field)
        self.assertEqual(self.count("from=2030-01-01&to=2030-12-31&venue=%d"
                                    % gulou), 64)
        # Batch limits: at least one item, at most 500.
        self.assertProblem(self.srv.post(MD + "/batch", {"items": []},
                                         token=self.coord),
                           400, "validation_failed", "items")
        many = [self.day(v, d) for d in days_of(2033, 501)]
        self.assertProblem(self.srv.post(MD + "/batch", {"items": many},
                                         token=self.coord),
                           400, "validation_failed", "items")
        self.assertProblem(self.srv.post(MD + "/batch", {"items": "x"},
                                         token=self.coord),
                           400, "validation_failed", "items")
        self.assertEqual(self.count("venue=%d" % v), 0)
        # The same batch without the bad item goes in.
        r = self.srv.post(MD + "/batch", {"items": [self.day(v, d) for d in dates]},
                          token=self.coord)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.count("venue=%d" % v), 64)

    # --- lists ----------------------------------------------------------
    def test_list_filters_and_order(self):
        a = self.venue("排序甲")
        b = self.venue("排序乙", kind="counter")
        # Created out of order: ids do not follow dates or opening times.
        mk = [(a, "2031-03-02", "10:00", "caravan"),
              (b, "2031-03-01", "13:00", "counter"),
              (a, "2031-03-01", "15:00", "caravan"),
              (b, "2031-03-02", "08:00", "counter"),
              (a, "2031-02-28", "09:00", "five_into"),
              (b, "2031-03-03", "09:00", "counter")]
        ids = {}
        for v, d, o, ch in mk:
            r = self.srv.post(MD, self.day(v, d, o, "22:00", channel=ch),
                              token=self.coord)
            self.assertEqual(r.status, 201, r)
            ids[(v, d)] = r.json["id"]
        items, _ = self.all_pages("from=2031-01-01&to=2031-12-31")
        got = [(i["date"], i["opens_at"]) for i in items]
        self.assertEqual(got, [("2031-02-28", "09:00"), ("2031-03-01", "13:00"),
                               ("2031-03-01", "15:00"), ("2031-03-02", "08:00"),
                               ("2031-03-02", "10:00"), ("2031-03-03", "09:00")])
        # from and to are inclusive.
        items, _ = self.all_pages("from=2031-03-01&to=2031-03-02")
        self.assertEqual([i["id"] for i in items],
                         [ids[(b, "2031-03-01")], ids[(a, "2031-03-01")],
                          ids[(b, "2031-03-02")], ids[(a, "2031-03-02")]])
        items, _ = self.all_pages("from=2031-03-02&to=2031-12-31&venue=%d" % b)
        self.assertEqual([i["date"] for i in items], ["2031-03-02", "2031-03-03"])
        items, _ = self.all_pages("to=2031-03-01&from=2031-01-01&channel=caravan")
        self.assertEqual([i["id"] for i in items], [ids[(a, "2031-03-01")]])
        self.assertEqual(self.count("venue=%d&channel=counter" % a), 0)
        self.assertEqual(self.count("venue=999999"), 0)
        # Malformed filters.
        for q, field in (("from=2031-3-1", "from"), ("from=yesterday", "from"),
                         ("to=2031-02-30", "to"),
                         ("from=2031-03-02&to=2031-03-01", "to"),
                         ("channel=online", "channel"), ("venue=x", "venue"),
                         ("venue=0", "venue"), ("limit=0", "limit"),
                         ("limit=201", "limit"), ("cursor=bm9wZQ", "cursor")):
            self.assertProblem(self.srv.get(MD + "?" + q), 400,
                               "validation_failed", field)

    def test_pagination_walks_all_pages(self):
        self.plan_2030()
        year = "from=2030-01-01&to=2030-12-31"
        whole, pages = self.all_pages(year, limit=200)
        self.assertEqual((len(whole), pages), (111, 1))
        paged, pages = self.all_pages(year, limit=7)
        self.assertEqual(pages, 16)  # 15 full pages and one of 6
        self.assertEqual([i["id"] for i in paged], [i["id"] for i in whole])
        keys = [(i["date"], i["opens_at"], i["id"]) for i in whole]
        self.assertEqual(keys, sorted(keys))
        # Exactly a page's worth: the last page is full, then next_cursor null.
        r = self.srv.get(MD + "?" + year + "&channel=caravan&limit=47")
        self.assertEqual(len(r.json["items"]), 47)
        self.assertIsNone(r.json["next_cursor"])

    # --- PATCH ------------------------------------------------------------
    def test_patch(self):
        v = self.venue("修改集市")
        r = self.srv.post(MD, self.day(v, "2024-09-01", "09:00", "17:00",
                                       title="旧标题"), token=self.coord)
        md = r.json
        path = "%s/%d" % (MD, md["id"])
        r = self.srv.patch(path, {"opens_at": "08:30", "title": "新标题；含分号"},
                           token=self.coord)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["opens_at"], r.json["closes_at"], r.json["title"]),
                         ("08:30", "17:00", "新标题；含分号"))
        self.assertEqual(self.srv.get(path).json, r.json)
        # Merged hours must still open before they close.
        before = self.srv.get(path).json
        for body, field in (({"opens_at": "17:00"}, "opens_at"),
                            ({"closes_at": "08:00"}, "closes_at"),
                            ({"opens_at": "12:00", "closes_at": "11:00"}, "closes_at"),
                            ({"opens_at": "7:00"}, "opens_at"),
                            ({"closes_at": None}, "closes_at"),
                            ({"status": "done"}, "status"),
                            ({"title": ""}, "title")):
            self.assertProblem(self.srv.patch(path, body, token=self.coord),
                               400, "validation_failed", field)
        self.assertEqual(self.srv.get(path).json, before)
        # Status: any to any (cancel, then schedule again); title null clears.
        for st in ("open", "closed", "cancelled", "scheduled"):
            r = self.srv.patch(path, {"status": st}, token=self.admin)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["status"], st)
        r = self.srv.patch(path, {"title": None, "closes_at": "21:00"},
                           token=self.coord)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json["title"])
        self.assertEqual(r.json["closes_at"], "21:00")
        # An empty body changes nothing.
        r = self.srv.patch(path, {}, token=self.coord)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, self.srv.get(path).json)
        self.assertEqual((r.json["date"], r.json["venue_id"]), ("2024-09-01", v))


if __name__ == "__main__":
    harness.main()
