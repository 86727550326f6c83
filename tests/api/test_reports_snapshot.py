"""A report made while sales are being recorded is one consistent
snapshot: every figure counts the same sales.

Each sale here is one unit of one product at 500 fen, so in every report
units == stall_sales and sales_fen == 500 * units, whichever moment it
was made at, while another connection records sales and voids some
(the report reads product rows and per-day counts with separate
statements, in one read transaction).
"""
import datetime
import threading
import time

import harness


def check(r, status=201):
    if r.status != status:
        raise AssertionError("setup: %r" % r)
    return r.json


class ReportSnapshot(harness.ServerTest):

    def test_reports_while_selling(self):
        srv = self.srv
        admin = srv.user("admin", "admin")
        op = check(srv.get("/api/v1/me", token=srv.user("op1", "operator")), 200)["id"]
        check(srv.post("/api/v1/regions", {"code": "zhenfeng", "name": "贞丰县",
                                           "name_en": "z", "province": "p",
                                           "partnership": "east_west"}, token=admin))
        producer = check(srv.post("/api/v1/producers", {
            "name": "p", "region_code": "zhenfeng", "kind": "household",
            "households": 3, "poor_households": 1}, token=admin))["id"]
        product = check(srv.post("/api/v1/products", {
            "name": "李子", "category": "fruit", "unit": "kg", "price_fen": 500,
            "stock": 0, "producer_id": producer}, token=admin))["id"]
        today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
        venue = check(srv.post("/api/v1/venues", {"name": "v", "kind": "counter",
                                                  "subdistrict": "s"}, token=admin))["id"]
        day = check(srv.post("/api/v1/market-days", {
            "venue_id": venue, "date": today.isoformat(), "opens_at": "09:00",
            "closes_at": "17:00", "channel": "counter"}, token=admin))["id"]
        stall = check(srv.post("/api/v1/market-days/%d/stalls" % day, {
            "operator_id": op, "producer_id": producer, "label": "A"}, token=admin))["id"]

        done = threading.Event()
        errors = []
        made = [0]  # reports made so far (the main thread counts)

        def sell():
            try:
                at = (datetime.datetime.now(datetime.timezone.utc) -
                      datetime.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
                for i in range(400):
                    if i % 40 == 0:
                        # Let a report in between (a busy machine may
                        # otherwise run the seller to the end first);
                        # the wait is a failure bound, not a pace.
                        want, end = made[0] + 1, time.monotonic() + 60
                        while made[0] < want and time.monotonic() < end:
                            time.sleep(0.01)
                    sid = "snap-%05d" % i
                    check(srv.post("/api/v1/sales", {
                        "id": sid, "stall_id": stall, "recorded_at": at,
                        "payment": "cash",
                        "lines": [{"product_id": product, "quantity": 1}]}, token=admin))
                    if i % 7 == 3:
                        check(srv.post("/api/v1/sales/%s/void" % sid, {"reason": "x"},
                                       token=admin), 200)
            except Exception as e:  # reported by the main thread
                errors.append(e)
            finally:
                done.set()

        seller = threading.Thread(target=sell)
        seller.start()
        path = "/api/v1/reports/impact?from=%s&to=%s" % (today, today)
        seen = set()
        reports = 0
        while not done.is_set() or reports == 0:
            r = srv.get(path, token=admin)
            self.assertEqual(r.status, 200, r)
            g = r.json["regions"][0]
            self.assertEqual(g["units"], g["stall_sales"], g)
            self.assertEqual(g["sales_fen"], 500 * g["units"], g)
            self.assertEqual(r.json["totals"]["stall_sales"], g["stall_sales"])
            self.assertEqual(g["producers_with_sales"], 1 if g["units"] else 0)
            seen.add(g["units"])
            reports += 1
            made[0] = reports
        seller.join()
        self.assertEqual(errors, [])
        self.assertGreater(len(seen), 5)  # reports were made between sales
        final = srv.get(path, token=admin).json["regions"][0]
        self.assertEqual(final["stall_sales"], 400 - len([i for i in range(400) if i % 7 == 3]))


if __name__ == "__main__":
    harness.main()
