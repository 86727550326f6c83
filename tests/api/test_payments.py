"""The payment provider's callback: HMAC-SHA256 of the raw body under the
configured secret, hex in X-Signature, checked before anything else; a
missing or wrong signature changes nothing; the amount must match; the
same transaction id twice is harmless; a payment for an order that is no
longer placed is 409 invalid_state; and a cancel racing a callback ends
in one of the two legal histories with stock and ledger agreeing."""
import hashlib
import hmac
import json
import threading

import harness
from orders_fixture import ADDRESS, Shop, check, delivery

CALLBACK = "/api/v1/payments/callback"


def sign(raw, secret=harness.PAYMENT_SECRET):
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


class Payments(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s = Shop(cls.srv)
        cls.plums = cls.s.product(1500, 100000, name="贞丰李子")

    def order(self, quantity=2, **kw):
        return self.s.placed([(self.plums, quantity)], **kw)

    def assertUnchanged(self, before):
        self.assertEqual(check(self.s.get(before["id"]), 200), before)

    def test_placed_becomes_paid(self):
        s = self.s
        o = self.order(3)
        r = s.pay(o["id"], 4500, "wx-0001", provider="wechat")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["id"], o["id"])
        self.assertEqual(r.json["status"], "paid")
        self.assertEqual(r.json["total_fen"], 4500)
        self.assertEqual(r.json["refund_fen"], 0)
        self.assertEqual(s.status(o["id"]), "paid")
        # Paying does not move stock.
        self.assertEqual(s.stock(self.plums), check(
            self.srv.get("/api/v1/products/%d" % self.plums), 200)["stock"])
        s.check_ledger()

    def test_signature_checked_before_the_body(self):
        s = self.s
        o = self.order()
        body = {"order_id": o["id"], "amount_fen": o["total_fen"],
                "provider": "wechat", "transaction_id": "wx-sig-1"}
        raw = json.dumps(body).encode()
        good = sign(raw)
        cases = {
            "missing": None,
            "empty": "",
            "other secret": sign(raw, "another-secret-of-32-bytes-or-more!!"),
            "other body": sign(json.dumps(dict(body, amount_fen=1)).encode()),
            "truncated": good[:-1],
            "one digit off": good[:-1] + ("0" if good[-1] != "0" else "1"),
            "not hex": "z" * 64,
            "too long": good + "00",
        }
        for name, sig in cases.items():
            with self.subTest(name):
                headers = {"X-Signature": sig} if sig is not None else None
                r = self.srv.request("POST", CALLBACK, raw=raw, headers=headers)
                self.assertProblem(r, 401, "unauthorized")
        # The same bytes re-serialized with other spacing are another body.
        spaced = json.dumps(body, indent=1).encode()
        r = self.srv.request("POST", CALLBACK, raw=spaced, headers={"X-Signature": good})
        self.assertProblem(r, 401, "unauthorized")
        # Invalid content behind a missing signature is still 401: the body
        # is not looked at.
        for bad in ({"order_id": "x"}, {"order_id": o["id"], "amount_fen": 1},
                    {"order_id": 999999, "amount_fen": 1, "provider": "p",
                     "transaction_id": "t"}):
            r = self.srv.request("POST", CALLBACK, raw=json.dumps(bad).encode(),
                                 headers={"X-Signature": "0" * 64})
            self.assertProblem(r, 401, "unauthorized")
        self.assertUnchanged(o)
        # Upper-case hex is the same signature.
        r = self.srv.request("POST", CALLBACK, raw=raw, headers={"X-Signature": good.upper()})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "paid")

    def test_amount_must_match(self):
        s = self.s
        o = self.order(2)
        for amount in (2999, 3001, 0):
            r = s.pay(o["id"], amount, "wx-amount-%d" % amount)
            self.assertProblem(r, 400, "validation_failed", "amount_fen")
        self.assertUnchanged(o)
        # The refused transaction ids were not stored: one of them pays now.
        r = s.pay(o["id"], 3000, "wx-amount-2999")
        self.assertEqual(r.status, 200, r)

    def test_validation(self):
        s = self.s
        o = self.order()
        good = {"order_id": o["id"], "amount_fen": o["total_fen"], "provider": "wechat",
                "transaction_id": "wx-valid-1"}
        cases = [
            (dict(good, order_id=None), "order_id"),
            (dict(good, order_id="1"), "order_id"),
            (dict(good, order_id=0), "order_id"),
            (dict(good, order_id=999999), "order_id"),
            (dict(good, amount_fen=None), "amount_fen"),
            (dict(good, amount_fen=-1), "amount_fen"),
            (dict(good, amount_fen=10.5), "amount_fen"),
            (dict(good, provider=None), "provider"),
            (dict(good, provider=""), "provider"),
            (dict(good, transaction_id=None), "transaction_id"),
            (dict(good, transaction_id=""), "transaction_id"),
            (dict(good, transaction_id="x" * 129), "transaction_id"),
        ]
        for body, field in cases:
            with self.subTest(field=field, body=body):
                body = {k: v for k, v in body.items() if v is not None}
                r = s.pay(None, None, None, raw=json.dumps(body).encode())
                self.assertProblem(r, 400, "validation_failed", field)
        self.assertUnchanged(o)
        # Signed, but not JSON, or not an object.
        for raw in (b"{", b"[1]"):
            r = s.pay(None, None, None, raw=raw)
            self.assertProblem(r, 400, "bad_json")
        r = self.srv.request("POST", CALLBACK, raw=b"{}",
                             headers={"X-Signature": sign(b"{}"),
                                      "Content-Type": "text/plain"})
        self.assertProblem(r, 415, "unsupported_media_type")
        self.assertUnchanged(o)

    def test_same_transaction_twice_changes_nothing(self):
        s = self.s
        o = self.order()
        first = s.pay(o["id"], o["total_fen"], "wx-twice")
        self.assertEqual(first.status, 200, first)
        paid = check(s.get(o["id"]), 200)
        again = s.pay(o["id"], o["total_fen"], "wx-twice")
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json, first.json)
        self.assertUnchanged(paid)
        # Still harmless once the order has moved on.
        check(s.act(o["id"], "cancel", s.buyer), 200)
        cancelled = check(s.get(o["id"]), 200)
        late = s.pay(o["id"], o["total_fen"], "wx-twice")
        self.assertEqual(late.status, 200, late)
        self.assertEqual(late.json["status"], "cancelled")
        self.assertUnchanged(cancelled)

    def test_other_transaction_for_a_paid_or_cancelled_order(self):
        s = self.s
        o = self.order()
        self.assertEqual(s.pay(o["id"], o["total_fen"], "wx-first").status, 200)
        paid = check(s.get(o["id"]), 200)
        r = s.pay(o["id"], o["total_fen"], "wx-second")
        self.assertProblem(r, 409, "invalid_state")
        self.assertUnchanged(paid)
        c = self.order()
        check(s.act(c["id"], "cancel", s.buyer), 200)
        cancelled = check(s.get(c["id"]), 200)
        r = s.pay(c["id"], c["total_fen"], "wx-for-cancelled")
        self.assertProblem(r, 409, "invalid_state")
        self.assertUnchanged(cancelled)
        # The refused transaction id was not stored: it can still pay
        # another order.
        other = self.order()
        self.assertEqual(s.pay(other["id"], other["total_fen"], "wx-second").status, 200)

    def test_transaction_id_of_another_order(self):
        s = self.s
        a, b = self.order(), self.order()
        self.assertEqual(s.pay(a["id"], a["total_fen"], "wx-shared").status, 200)
        r = s.pay(b["id"], b["total_fen"], "wx-shared")
        self.assertProblem(r, 409, "idempotency_mismatch", "transaction_id")
        self.assertEqual(s.status(b["id"]), "placed")

    def test_answer_hides_a_delivery_phone(self):
        s = self.s
        o = self.order(fulfillment=delivery())
        r = s.pay(o["id"], o["total_fen"], "wx-phone")
        self.assertEqual(r.status, 200, r)
        address = r.json["fulfillment"]["address"]
        self.assertNotIn("phone", address)
        self.assertEqual(address["name"], ADDRESS["name"])

    def test_a_cancel_racing_a_callback(self):
        """Both at once, many times: the order is either paid then
        cancelled with a refund (callback 200, cancel 200), or cancelled
        then the callback refused (cancel 200, callback 409); the stock is
        back either way and the ledger agrees."""
        s = self.s
        p = s.product(1000, 1000)
        histories = set()
        for i in range(20):
            o = s.placed([(p, 4)])
            conns = [self.srv.connect(), self.srv.connect()]
            for c in conns:
                self.srv.get("/healthz", conn=c)
            start = threading.Barrier(2)
            out = {}

            def cancel():
                start.wait()
                out["cancel"] = self.srv.post("/api/v1/orders/%d/cancel" % o["id"],
                                              token=s.buyer, conn=conns[0])

            def pay():
                start.wait()
                out["pay"] = s.pay(o["id"], o["total_fen"], "wx-race-%d" % i,
                                   conn=conns[1])

            threads = [threading.Thread(target=cancel), threading.Thread(target=pay)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for c in conns:
                c.close()
            self.assertEqual(out["cancel"].status, 200, out["cancel"])
            final = check(s.get(o["id"]), 200)
            self.assertEqual(final["status"], "cancelled")
            if out["pay"].status == 200:
                histories.add("paid, then cancelled")
                self.assertEqual(out["pay"].json["status"], "paid")
                self.assertEqual(final["refund_fen"], final["total_fen"])
            else:
                histories.add("cancelled, then refused")
                self.assertProblem(out["pay"], 409, "invalid_state")
                self.assertEqual(final["refund_fen"], 0)
            self.assertEqual(s.stock(p), 1000)
            s.check_ledger()
        self.assertTrue(histories)


if __name__ == "__main__":
    harness.main()
