"""Phones that lose their connection: 1,000 stall sales sent in shuffled
order from several connections at once, 200 of them sent again (100 re-sent
later, one after another; 100 sent by two connections at the same moment).
Exactly 1,000 sales are stored, each product's stock is its start minus
the units sold, and `marketctl check` finds the ledger in order."""
import random
import threading
import time

import harness
from sales_fixture import Market, sale

SALES = 1000
WORKERS = 8          # connections sending distinct sales at once
TIME_LIMIT = 240     # seconds for the whole scenario


class Resend(harness.ServerTest):
    threads = 4

    def test_thousand_sales_with_resends(self):
        started = time.time()
        m = Market(self.srv)
        rnd = random.Random(20200501)
        start_stock = {m.product(1000 + 100 * i, 2000): 2000 for i in range(4)}
        products = list(start_stock)
        sales = []
        for i in range(SALES):
            lines = [{"product_id": rnd.choice(products), "quantity": rnd.randint(1, 4)}
                     for _ in range(rnd.choice((1, 1, 2, 3)))]
            if rnd.random() < 0.3:
                lines[0]["unit_price_fen"] = 900   # a market discount
            sales.append(sale("phone-%04d-%08x" % (i, rnd.getrandbits(32)), m.stall, lines,
                              recorded_at="2026-05-01T%02d:%02d:%02dZ" % (
                                  1 + i % 8, rnd.randint(0, 59), rnd.randint(0, 59)),
                              payment=rnd.choice(("cash", "wechat", "alipay", "card", "other"))))
        lock = threading.Lock()
        answers = {}      # id -> list of statuses
        bodies = {}       # id -> the stored sale as first answered
        failures = []

        def send(s, conn):
            r = self.srv.request("POST", "/api/v1/sales", body=s, token=m.op, conn=conn)
            with lock:
                answers.setdefault(s["id"], []).append(r.status)
                if r.status in (200, 201):
                    bodies.setdefault(s["id"], r.json)
                    if r.json != bodies[s["id"]]:
                        failures.append("%s answered differently: %r" % (s["id"], r))
                else:
                    failures.append("%s: %r" % (s["id"], r))

        def run(threads):
            for t in threads:
                t.start()
            for t in threads:
                t.join(max(1, TIME_LIMIT - (time.time() - started)))
                self.assertFalse(t.is_alive(), "a sender is stuck")

        # 1. 900 sales, shuffled, from WORKERS connections at once.
        single = sales[:800] + sales[900:]
        order = single[:]
        rnd.shuffle(order)

        def worker(part):
            conn = self.srv.connect()
            try:
                for s in part:
                    send(s, conn)
            finally:
                conn.close()

        run([threading.Thread(target=worker, args=(order[k::WORKERS],)) for k in range(WORKERS)])

        # 2. 100 of them re-sent later, one after another, out of order.
        later = rnd.sample(single, 100)
        for s in later:
            send(s, None)

        # 3. 100 sales each sent by two connections at the same moment
        #    (two pairs of connections at work side by side).
        pair = sales[800:900]

        def twin(part, barrier):
            conn = self.srv.connect()
            try:
                for s in part:
                    barrier.wait(timeout=60)
                    send(s, conn)
            finally:
                conn.close()

        twins = []
        for half in (pair[0::2], pair[1::2]):
            b = threading.Barrier(2)
            twins += [threading.Thread(target=twin, args=(half, b)) for _ in range(2)]
        run(twins)

        self.assertEqual(failures, [])
        # Every id: one 201, and a 200 for each further send.
        resent = {s["id"] for s in later} | {s["id"] for s in pair}
        self.assertEqual(len(resent), 200)
        for s in sales:
            want = [200, 201] if s["id"] in resent else [201]
            self.assertEqual(sorted(answers.get(s["id"], [])), want, s["id"])

        # Exactly 1,000 stored, each once, as sent.
        stored = m.sales()
        self.assertEqual(len(stored), SALES)
        self.assertEqual(sorted(x["id"] for x in stored), sorted(s["id"] for s in sales))
        by_id = {x["id"]: x for x in stored}
        sold = dict.fromkeys(products, 0)
        total = 0
        for s in sales:
            got = by_id[s["id"]]
            self.assertEqual([(x["product_id"], x["quantity"]) for x in got["lines"]],
                             [(x["product_id"], x["quantity"]) for x in s["lines"]])
            self.assertFalse(got["voided"])
            for line in s["lines"]:
                sold[line["product_id"]] += line["quantity"]
                price = line.get("unit_price_fen", 1000 + 100 * products.index(line["product_id"]))
                total += price * line["quantity"]
        self.assertEqual(sum(x["total_fen"] for x in stored), total)

        # Stock: the start minus the units sold, moved once per sale.
        for p in products:
            self.assertEqual(m.stock(p), start_stock[p] - sold[p], p)
        c = self.srv.ctl("check", check=False)
        self.assertEqual(c.returncode, 0, c.stdout.decode() + c.stderr.decode())
        self.assertLess(time.time() - started, TIME_LIMIT)


if __name__ == "__main__":
    harness.main()
