"""What the stall-sale scenarios need before a sale can be recorded: an
admin, a coordinator, two operators, a region, a producer, products with
known stock, a venue, market days and one stall per operator. Not a test
itself (the test runner picks up test_*.py only)."""
import itertools

_ids = itertools.count(1)


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


class Market:
    def __init__(self, srv):
        self.srv = srv
        self.admin = srv.user("admin", "admin")
        self.coord = srv.user("coord", "coordinator")
        self.op = srv.user("op1", "operator")
        self.op2 = srv.user("op2", "operator")
        self.buyer = srv.user("buyer1", "buyer")
        self.op_id = check(srv.get("/api/v1/me", token=self.op), 200)["id"]
        self.op2_id = check(srv.get("/api/v1/me", token=self.op2), 200)["id"]
        check(srv.post("/api/v1/regions", {
            "code": "zhenfeng", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "贵州", "partnership": "east_west"}, token=self.admin))
        self.producer = check(srv.post("/api/v1/producers", {
            "name": "贞丰李子合作社", "region_code": "zhenfeng",
            "kind": "cooperative", "households": 120, "poor_households": 30},
            token=self.admin))["id"]
        self.venue = check(srv.post("/api/v1/venues", {
            "name": "鼓楼步行街", "kind": "street_market",
            "subdistrict": "鼓楼街道"}, token=self.admin))["id"]
        self.day = self.market_day("2026-05-01")
        self.stall = self.add_stall(self.day, self.op_id, "A1")
        self.stall2 = self.add_stall(self.day, self.op2_id, "A2")

    def product(self, price_fen, stock, name=None):
        return check(self.srv.post("/api/v1/products", {
            "name": name or "贞丰李子 %d" % next(_ids), "category": "fruit",
            "unit": "500g bag", "price_fen": price_fen, "stock": stock,
            "producer_id": self.producer}, token=self.admin))["id"]

    def market_day(self, date):
        return check(self.srv.post("/api/v1/market-days", {
            "venue_id": self.venue, "date": date, "opens_at": "09:00",
            "closes_at": "17:00", "channel": "holiday_market"},
            token=self.admin))["id"]

    def add_stall(self, day, operator_id, label):
        return check(self.srv.post("/api/v1/market-days/%d/stalls" % day, {
            "operator_id": operator_id, "producer_id": self.producer,
            "label": label}, token=self.admin))["id"]

    def stock(self, product):
        return check(self.srv.get("/api/v1/products/%d" % product), 200)["stock"]

    def sales(self, token=None, query=""):
        """Every sale the caller may see, walking the pages."""
        out, cursor = [], None
        while True:
            path = "/api/v1/sales?limit=200" + query
            if cursor:
                path += "&cursor=" + cursor
            page = check(self.srv.get(path, token=token or self.admin), 200)
            out += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return out


def sale(sid, stall, lines, recorded_at="2026-05-01T03:00:00Z", payment="cash"):
    return {"id": sid, "stall_id": stall, "recorded_at": recorded_at,
            "payment": payment, "lines": lines}
