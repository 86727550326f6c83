"""A small reply goes out as one TLS record (server/http/router.c,
send_reply): its head and body are joined before the TLS layer writes
them. Before, each was a record of its own and a write(2) of its own.

The client runs TLS over memory buffers, so it sees the records as they
come off the socket: after a first request on the connection (which also
takes the session tickets of TLS 1.3), each reply to a request that is
answered in full is counted in records. Large replies (over 16 KiB)
need several records anyway and are not counted."""
import socket
import ssl
import time

import harness

DEADLINE = 60  # seconds; a failure bound only


class ReplyRecords(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        admin = cls.srv.user("admin", "admin")
        r = cls.srv.post("/api/v1/regions", {
            "code": "zhenfeng", "name": "贞丰县", "name_en": "Zhenfeng",
            "province": "贵州", "partnership": "east_west"}, token=admin)
        assert r.status == 201, r
        r = cls.srv.post("/api/v1/producers", {
            "name": "贞丰李子合作社", "region_code": "zhenfeng", "kind": "cooperative",
            "households": 120, "poor_households": 30}, token=admin)
        assert r.status == 201, r
        r = cls.srv.post("/api/v1/products", {
            "name": "贞丰李子", "category": "fruit", "unit": "500g bag",
            "price_fen": 1500, "stock": 10, "producer_id": r.json["id"]}, token=admin)
        assert r.status == 201, r
        cls.product = r.json["id"]

    def setUp(self):
        ctx = ssl.create_default_context(cafile=self.srv.cafile)
        self.sock = socket.create_connection(("127.0.0.1", self.srv.port), timeout=DEADLINE)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self.raw = b""  # bytes from the socket not yet split into records
        self.pump(self.tls.do_handshake)

    def tearDown(self):
        self.sock.close()

    def flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def receive(self):
        """Reads from the socket; returns the number of whole records
        handed to TLS."""
        data = self.sock.recv(65536)
        if not data:
            raise AssertionError("the server closed the connection")
        self.raw += data
        n = 0
        while len(self.raw) >= 5:
            length = int.from_bytes(self.raw[3:5], "big")
            if len(self.raw) < 5 + length:
                break
            self.incoming.write(self.raw[:5 + length])
            self.raw = self.raw[5 + length:]
            n += 1
        return n

    def pump(self, step):
        end = time.monotonic() + DEADLINE
        while True:
            try:
                result = step()
                self.flush()
                return result
            except ssl.SSLWantReadError:
                self.flush()
                if time.monotonic() > end:
                    raise AssertionError("timed out")
                self.receive()

    def exchange(self, path):
        """Sends GET path; returns (the reply's bytes, the records it
        came in)."""
        self.tls.write(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
        self.flush()
        reply, records = b"", 0
        end = time.monotonic() + DEADLINE
        while not self.complete(reply):
            if time.monotonic() > end:
                raise AssertionError("timed out waiting for the reply to " + path)
            try:
                reply += self.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            records += self.receive()
        return reply, records

    @staticmethod
    def complete(reply):
        head, sep, body = reply.partition(b"\r\n\r\n")
        if not sep:
            return False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return len(body) >= int(value)
        return True  # no body (a 304)

    def test_small_replies_are_one_record(self):
        self.exchange("/healthz")  # the session tickets come with it
        for path in ("/api/v1/products/%d" % self.product,  # from the cache
                     "/api/v1/products/%d" % self.product,
                     "/api/v1/products?limit=5",
                     "/api/v1/nothing-here"):  # a problem
            reply, records = self.exchange(path)
            self.assertLess(len(reply), 16000, reply[:200])
            self.assertEqual(records, 1, "%s came in %d records" % (path, records))


if __name__ == "__main__":
    harness.main()
