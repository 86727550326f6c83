"""Scenario: a coordinator sets out the stalls of market days, each staffed
by a stall operator for a producer, labels unique within a day; anyone
lists a day's stalls, and an operator sees its own stalls, newest market
day first."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Stalls(harness.ServerTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.srv
        cls.admin = s.user("admin", "admin")
        cls.coord = s.user("coord1", "coordinator")
        cls.buyer = s.user("buyer1", "buyer")
        cls.op = s.user("op1", "operator")
        cls.op2 = s.user("op2", "operator")

        def me(token):
            r = s.get("/api/v1/me", token=token)
            assert r.status == 200, r
            return r.json["id"]

        cls.ids = {name: me(t) for name, t in (
            ("admin", cls.admin), ("c1", cls.coord), ("b1", cls.buyer),
            ("op1", cls.op), ("op2", cls.op2))}
        r = s.post("/api/v1/regions", {
            "code": "zhenfeng", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "贵州", "partnership": "east_west"}, token=cls.admin)
        assert r.status == 201, r
        cls.producers = []
        for name in ("贞丰李子合作社", "贞丰茶叶作坊"):
            r = s.post("/api/v1/producers", {
                "name": name, "region_code": "zhenfeng", "kind": "cooperative",
                "households": 120, "poor_households": 40}, token=cls.admin)
            assert r.status == 201, r
            cls.producers.append(r.json["id"])
        r = s.post("/api/v1/venues", {"name": "鼓楼步行街", "kind": "street_market",
                                      "subdistrict": "鼓楼街道"}, token=cls.admin)
        assert r.status == 201, r
        cls.venue = r.json["id"]
        cls.days = {}
        for date in ("2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"):
            r = s.post("/api/v1/market-days", {
                "venue_id": cls.venue, "date": date, "opens_at": "09:00",
                "closes_at": "18:00", "channel": "holiday_market"},
                token=cls.coord)
            assert r.status == 201, r
            cls.days[date] = r.json["id"]

    def stalls_of(self, day, limit=None):
        items, cursor = [], None
        while True:
            q = []
            if limit:
                q.append("limit=%d" % limit)
            if cursor:
                q.append("cursor=" + cursor)
            r = self.srv.get("/api/v1/market-days/%d/stalls?%s" % (day, "&".join(q)))
            self.assertEqual(r.status, 200, r)
            items += r.json["items"]
            cursor = r.json["next_cursor"]
            if cursor is None:
                return items

    def mine(self, token, limit=None):
        items, cursor, pages = [], None, 0
        while True:
            q = []
            if limit:
                q.append("limit=%d" % limit)
            if cursor:
                q.append("cursor=" + cursor)
            r = self.srv.get("/api/v1/stalls/mine?" + "&".join(q), token=token)
            self.assertEqual(r.status, 200, r)
            items += r.json["items"]
            pages += 1
            cursor = r.json["next_cursor"]
            if cursor is None:
                return items, pages

    def stall(self, day, label, operator="op1", producer=0, token=None):
        return self.srv.post("/api/v1/market-days/%d/stalls" % day, {
            "operator_id": self.ids[operator],
            "producer_id": self.producers[producer], "label": label},
            token=token or self.coord)

    # ------------------------------------------------------------------
    def test_create_get_and_list(self):
        day = self.days["2024-05-01"]
        r = self.stall(day, "A-01 贞丰李子")
        self.assertEqual(r.status, 201, r)
        st = r.json
        self.assertIsInstance(st["id"], int)
        for k, v in {"market_day_id": day, "operator_id": self.ids["op1"],
                     "producer_id": self.producers[0],
                     "producer_name": "贞丰李子合作社",
                     "label": "A-01 贞丰李子"}.items():
            self.assertEqual(st[k], v, k)
        g = self.srv.get("/api/v1/stalls/%d" % st["id"])
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json, st)
        r = self.stall(day, "A-02", operator="op2", producer=1, token=self.admin)
        self.assertEqual(r.status, 201, r)
        listed = self.stalls_of(day)
        self.assertEqual([s["label"] for s in listed], ["A-01 贞丰李子", "A-02"])
        self.assertEqual(listed[0], st)
        self.assertEqual(listed[1]["producer_name"], "贞丰茶叶作坊")

    def test_unknown_ids(self):
        self.assertProblem(self.stall(999999, "X"), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/market-days/999999/stalls"),
                           404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/market-days/abc/stalls"),
                           404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/stalls/999999"), 404, "not_found")
        self.assertProblem(self.srv.get("/api/v1/stalls/abc"), 404, "not_found")

    def test_validation(self):
        day = self.days["2024-05-02"]
        path = "/api/v1/market-days/%d/stalls" % day
        good = {"operator_id": self.ids["op1"],
                "producer_id": self.producers[0], "label": "B-01"}
        cases = [
            ({"operator_id": self.ids["b1"]}, "operator_id"),     # a buyer
            ({"operator_id": self.ids["c1"]}, "operator_id"),     # a coordinator
            ({"operator_id": self.ids["admin"]}, "operator_id"),  # an admin
            ({"operator_id": 999999}, "operator_id"),
            ({"operator_id": "1"}, "operator_id"),
            ({"operator_id": None}, "operator_id"),
            ({"producer_id": 999999}, "producer_id"),
            ({"producer_id": None}, "producer_id"),
            ({"producer_id": 0}, "producer_id"),
            ({"label": ""}, "label"),
            ({"label": "摊" * 51}, "label"),
            ({"label": None}, "label"),
            ({"label": 7}, "label"),
        ]
        before = self.stalls_of(day)
        for change, field in cases:
            body = dict(good)
            for k, v in change.items():
                if v is None:
                    del body[k]
                else:
                    body[k] = v
            self.assertProblem(self.srv.post(path, body, token=self.coord),
                               400, "validation_failed", field)
        self.assertEqual(self.stalls_of(day), before)
        r = self.srv.post(path, dict(good, label="摊" * 50), token=self.coord)
        self.assertEqual(r.status, 201, r)

    def test_label_unique_within_a_day(self):
        day = self.days["2024-05-03"]
        self.assertEqual(self.stall(day, "C-01").status, 201)
        before = self.stalls_of(day)
        r = self.stall(day, "C-01", operator="op2", producer=1)
        self.assertProblem(r, 409, "conflict", "label")
        after = self.stalls_of(day)
        self.assertEqual(after, before)
        self.assertEqual([s["label"] for s in after].count("C-01"), 1)
        # The same label on another day is fine.
        self.assertEqual(self.stall(self.days["2024-05-04"], "C-01").status, 201)

    def test_writes_need_a_coordinator_or_admin(self):
        day = self.days["2024-05-04"]
        before = self.stalls_of(day)
        for token, status, code in ((None, 401, "unauthorized"),
                                    (self.buyer, 403, "forbidden"),
                                    (self.op, 403, "forbidden")):
            r = self.srv.post("/api/v1/market-days/%d/stalls" % day, {
                "operator_id": self.ids["op1"],
                "producer_id": self.producers[0], "label": "D-01"}, token=token)
            self.assertProblem(r, status, code)
        self.assertEqual(self.stalls_of(day), before)

    def test_stalls_mine(self):
        # op2 gets its own stalls on three days, created oldest-day last.
        made = []
        for date, label in (("2024-05-02", "M-1"), ("2024-05-04", "M-2"),
                            ("2024-05-01", "M-3"), ("2024-05-04", "M-4")):
            r = self.stall(self.days[date], label, operator="op2")
            self.assertEqual(r.status, 201, r)
            made.append(r.json)
        items, _ = self.mine(self.op2)
        mine = [s for s in items if s["label"].startswith("M-")]
        self.assertEqual([s["label"] for s in mine], ["M-2", "M-4", "M-1", "M-3"])
        self.assertTrue(all(s["operator_id"] == self.ids["op2"] for s in items))
        days = [s["market_day_id"] for s in items]
        dates = {v: k for k, v in self.days.items()}
        seq = [dates[d] for d in days]
        self.assertEqual(seq, sorted(seq, reverse=True))
        # Walking one item a page gives the same list.
        paged, pages = self.mine(self.op2, limit=1)
        self.assertEqual(paged, items)
        self.assertEqual(pages, len(items))
        # op1 never sees op2's stalls.
        op1_items, _ = self.mine(self.op)
        self.assertFalse({s["id"] for s in op1_items} & {s["id"] for s in made})
        self.assertTrue(all(s["operator_id"] == self.ids["op1"] for s in op1_items))
        # Only operators have stalls of their own.
        self.assertProblem(self.srv.get("/api/v1/stalls/mine"), 401, "unauthorized")
        for token in (self.buyer, self.coord):
            self.assertProblem(self.srv.get("/api/v1/stalls/mine", token=token),
                               403, "forbidden")
        self.assertProblem(self.srv.get("/api/v1/stalls/mine?cursor=WzFd",
                                        token=self.op2),
                           400, "validation_failed", "cursor")

    def test_day_list_pagination(self):
        day = self.days["2024-05-03"]
        for i in range(5):
            self.assertEqual(self.stall(day, "P-%d" % i).status, 201)
        whole = self.stalls_of(day)
        self.assertEqual(self.stalls_of(day, limit=2), whole)
        ids = [s["id"] for s in whole]
        self.assertEqual(ids, sorted(ids))
        self.assertGreaterEqual(len(whole), 5)


if __name__ == "__main__":
    harness.main()
