"""What the order scenarios need: users of every role (two buyers, two
operators, a Zhenfeng-scoped coordinator), two regions with a producer
each, products with known stock, upcoming market days with a stall per
operator, and helpers to order, pay by signed callback and read back.
Not a test itself (the test runner picks up test_*.py only)."""
import datetime
import hashlib
import hmac
import itertools
import json

import harness

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
ADDRESS = {"name": "王女士", "phone": "+86 138-0000-0000", "line1": "中山西路 1 号",
           "city": "宁波"}

_ids = itertools.count(1)


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


def day(n):
    """The Asia/Shanghai date n days from today."""
    return (datetime.datetime.now(SHANGHAI).date() + datetime.timedelta(days=n)).isoformat()


def pickup(market_day):
    return {"type": "pickup", "market_day_id": market_day}


def delivery(address=None):
    return {"type": "delivery", "address": dict(address or ADDRESS)}


class Shop:
    def __init__(self, srv):
        self.srv = srv
        self.admin = srv.user("admin", "admin")
        self.coord = srv.user("coord", "coordinator")
        self.op = srv.user("op1", "operator")
        self.op2 = srv.user("op2", "operator")
        self.buyer = srv.user("buyer1", "buyer")
        self.buyer2 = srv.user("buyer2", "buyer")
        self.op_id = self.me(self.op)
        self.op2_id = self.me(self.op2)
        self.buyer_id = self.me(self.buyer)
        self.buyer2_id = self.me(self.buyer2)
        self.producers = {}
        for code, name, producer in (
                ("zhenfeng", "贞丰县", "贞丰李子种植协会"),
                ("qingyuan", "庆元县", "庆元香菇合作社")):
            check(srv.post("/api/v1/regions", {
                "code": code, "name": name, "name_en": code, "province": "p",
                "partnership": "east_west"}, token=self.admin))
            self.producers[code] = check(srv.post("/api/v1/producers", {
                "name": producer, "region_code": code, "kind": "cooperative",
                "households": 100, "poor_households": 20}, token=self.admin))["id"]
        self.scoped = srv.user("coord_zf", "coordinator", region="zhenfeng")
        self.venue = check(srv.post("/api/v1/venues", {
            "name": "鼓楼步行街", "kind": "street_market", "subdistrict": "鼓楼街道"},
            token=self.admin))["id"]
        self.day = self.market_day(day(7))
        self.day2 = self.market_day(day(8))
        self.stall = self.add_stall(self.day, self.op_id, "A1")
        self.stall2 = self.add_stall(self.day2, self.op2_id, "B1")

    def me(self, token):
        return check(self.srv.get("/api/v1/me", token=token), 200)["id"]

    def product(self, price_fen, stock, region="zhenfeng", name=None):
        return check(self.srv.post("/api/v1/products", {
            "name": name or "贞丰李子 %d" % next(_ids), "category": "fruit",
            "unit": "500g bag", "price_fen": price_fen, "stock": stock,
            "producer_id": self.producers[region]}, token=self.admin))["id"]

    def market_day(self, date, venue=None):
        if venue is None:
            venue = check(self.srv.post("/api/v1/venues", {
                "name": "社区 %d" % next(_ids), "kind": "community",
                "subdistrict": "白云街道"}, token=self.admin))["id"]
        return check(self.srv.post("/api/v1/market-days", {
            "venue_id": venue, "date": date, "opens_at": "09:00",
            "closes_at": "17:00", "channel": "holiday_market"},
            token=self.admin))["id"]

    def add_stall(self, market_day, operator_id, label):
        return check(self.srv.post("/api/v1/market-days/%d/stalls" % market_day, {
            "operator_id": operator_id, "producer_id": self.producers["zhenfeng"],
            "label": label}, token=self.admin))["id"]

    def set_day_status(self, market_day, status):
        check(self.srv.patch("/api/v1/market-days/%d" % market_day,
                             {"status": status}, token=self.admin), 200)

    def stock(self, product):
        return check(self.srv.get("/api/v1/products/%d" % product), 200)["stock"]

    def order(self, lines, fulfillment=None, token=None, key=None, note=None, conn=None):
        """POSTs an order; lines are (product_id, quantity) pairs or dicts."""
        body = {"lines": [l if isinstance(l, dict) else
                          {"product_id": l[0], "quantity": l[1]} for l in lines],
                "fulfillment": fulfillment or pickup(self.day)}
        if note is not None:
            body["note"] = note
        headers = {"Idempotency-Key": key} if key is not None else None
        return self.srv.post("/api/v1/orders", body, token=token or self.buyer,
                             headers=headers, conn=conn)

    def placed(self, lines, **kw):
        return check(self.order(lines, **kw))

    def get(self, order_id, token=None):
        return self.srv.get("/api/v1/orders/%d" % order_id, token=token or self.admin)

    def status(self, order_id):
        return check(self.get(order_id), 200)["status"]

    def act(self, order_id, action, token):
        return self.srv.post("/api/v1/orders/%d/%s" % (order_id, action), token=token)

    def orders(self, token=None, query=""):
        """Every order the caller may see, walking the pages."""
        out, cursor = [], None
        while True:
            path = "/api/v1/orders?limit=200" + query
            if cursor:
                path += "&cursor=" + cursor
            page = check(self.srv.get(path, token=token or self.admin), 200)
            out += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return out

    def pay(self, order_id, amount_fen, transaction_id, provider="wechat",
            secret=None, signature=None, raw=None, conn=None):
        """The payment provider's signed callback."""
        if raw is None:
            raw = json.dumps({"order_id": order_id, "amount_fen": amount_fen,
                              "provider": provider,
                              "transaction_id": transaction_id}).encode()
        if signature is None:
            key = (secret or harness.PAYMENT_SECRET).encode()
            signature = hmac.new(key, raw, hashlib.sha256).hexdigest()
        headers = {"X-Signature": signature} if signature != "" else None
        return self.srv.request("POST", "/api/v1/payments/callback", raw=raw,
                                headers=headers, conn=conn)

    def paid(self, order):
        """Pays a placed order (the order object) and returns it paid, as
        an admin sees it."""
        check(self.pay(order["id"], order["total_fen"],
                       "txn-%d-%d" % (order["id"], next(_ids))), 200)
        return check(self.get(order["id"]), 200)

    def check_ledger(self):
        """marketctl check: integrity, foreign keys, stock against ledger."""
        p = self.srv.ctl("check", check=False)
        if p.returncode != 0:
            raise AssertionError("marketctl check: %s%s" % (
                p.stdout.decode(), p.stderr.decode()))
