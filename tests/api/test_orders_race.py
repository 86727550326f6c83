"""No overselling, ever: 100 buyers, each on its own TLS connection and
thread, race for the last 10 units against a server with 4 worker
threads. Exactly 10 get one, the other 90 get 409 out_of_stock, the
stock ends at 0 (never below), and the stock ledger agrees. An order of
two lines is reserved all or nothing under the same race."""
import concurrent.futures
import threading

import harness
from orders_fixture import Shop, check

BUYERS = 100


class NoOverselling(harness.ServerTest):
    threads = 4
    # Making 100 buyers (scrypt twice each) takes a while; the setup's
    # keep-alive connection must not time out meanwhile.
    server_args = ("--timeout", "300")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s = Shop(cls.srv)
        srv = cls.srv

        def buyer(i):
            name = "racer%03d" % i
            r = srv.post("/api/v1/auth/register",
                         {"username": name, "password": "password123"})
            assert r.status == 201, r
            return srv.login(name)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            cls.tokens = list(pool.map(buyer, range(BUYERS)))

    def race(self, lines):
        """Every buyer POSTs the order at once, each on its own
        connection; returns the responses in buyer order."""
        srv, s = self.srv, self.s
        conns = [srv.connect() for _ in range(BUYERS)]
        for c in conns:
            # Finish the TLS handshake before the start line.
            self.assertEqual(srv.get("/healthz", conn=c).status, 200)
        start = threading.Barrier(BUYERS)
        results = [None] * BUYERS

        def go(i):
            start.wait()
            results[i] = s.order(lines, token=self.tokens[i], conn=conns[i])

        threads = [threading.Thread(target=go, args=(i,)) for i in range(BUYERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c in conns:
            c.close()
        return results

    def test_100_buyers_for_the_last_10_units(self):
        s = self.s
        plums = s.product(1500, 50, name="贞丰李子")
        check(s.order([(plums, 40)]))
        self.assertEqual(s.stock(plums), 10)
        results = self.race([(plums, 1)])
        won = [r for r in results if r.status == 201]
        lost = [r for r in results if r.status != 201]
        self.assertEqual(len(won), 10, [r.status for r in results])
        self.assertEqual(len(lost), 90)
        for r in lost:
            self.assertProblem(r, 409, "out_of_stock", "lines[0].quantity")
            self.assertRegex(r.json["detail"], r"^product %d has [0-9] left$" % plums)
        self.assertEqual(len({r.json["id"] for r in won}), 10)
        self.assertEqual(s.stock(plums), 0)
        # The orders the staff see: the first one and the ten winners.
        mine = [o for o in s.orders() if o["lines"][0]["product_id"] == plums]
        self.assertEqual(len(mine), 11)
        self.assertEqual(sum(o["lines"][0]["quantity"] for o in mine), 50)
        s.check_ledger()

    def test_two_lines_all_or_nothing_under_the_race(self):
        s = self.s
        scarce = s.product(800, 10)
        plenty = s.product(300, 1000)
        results = self.race([(plenty, 3), (scarce, 1)])
        won = [r for r in results if r.status == 201]
        self.assertEqual(len(won), 10, [r.status for r in results])
        for r in results:
            if r.status != 201:
                self.assertProblem(r, 409, "out_of_stock", "lines[1].quantity")
        self.assertEqual(s.stock(scarce), 0)
        # Only the winners took from the plentiful line.
        self.assertEqual(s.stock(plenty), 1000 - 3 * 10)
        s.check_ledger()


if __name__ == "__main__":
    harness.main()
