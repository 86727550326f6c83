"""Backup and restore: `marketctl backup DEST` while clients post sales
makes a copy that opens, passes `marketctl --db DEST check` and holds
every sale acknowledged before the backup began; the copy is private
(0600), like the database. Then the restore steps of the README: stop
the server, move the old database and its -wal/-shm aside, put the
backup in its place, check it, start the server on it: it serves the
backup's data, and nothing of the old file's later writes."""
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import threading
import time

import harness
from sales_fixture import Market, check, sale


class Backup(harness.ServerTest):
    threads = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = Market(cls.srv)
        cls.products = [cls.m.product(300 + i, 100000) for i in range(3)]

    def ctl_on(self, db, *args):
        return subprocess.run([harness.MARKETCTL, "--db", db] + list(args),
                              capture_output=True)

    def test_backup_under_load_then_restore(self):
        srv, m = self.srv, self.m
        acked = []          # sale ids answered 201, in the order of the answers
        lock = threading.Lock()
        stop = threading.Event()
        errors = []

        def writer(k):
            conn = srv.connect()
            n = 0
            try:
                while not stop.is_set():
                    n += 1
                    sid = "bk-%d-%06d" % (k, n)
                    p = self.products[n % len(self.products)]
                    r = srv.post("/api/v1/sales", sale(
                        sid, m.stall, [{"product_id": p, "quantity": 1 + n % 3}]),
                        token=m.op, conn=conn)
                    if r.status != 201:
                        errors.append(r)
                        return
                    with lock:
                        acked.append(sid)
            finally:
                conn.close()

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            with lock:
                before = list(acked)
            dest = os.path.join(srv.dir, "backups", "market-backup.db")
            os.makedirs(os.path.dirname(dest))
            started = time.time()
            p = srv.ctl("backup", dest, check=False)
            took = time.time() - started
            with lock:
                during = len(acked) - len(before)
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(b"backed up to", p.stdout)
        self.assertGreater(len(before), 20)
        # The writers were not stopped by the backup: sales went on being
        # acknowledged while it ran, or right after it.
        with lock:
            self.assertGreater(len(acked), len(before) + during, "no writes after the backup")
        self.assertFalse(os.path.exists(dest + ".tmp"))
        # Private like the database: it holds password hashes and phones.
        self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode) & 0o077, 0,
                         oct(os.stat(dest).st_mode))

        # The copy opens, is whole, and holds every write acknowledged
        # before the backup began.
        con = sqlite3.connect(dest)
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        in_copy = {r[0] for r in con.execute("SELECT id FROM sales")}
        copy_stock = dict(con.execute("SELECT id, stock FROM products"))
        con.close()
        self.assertEqual(sorted(set(before) - in_copy), [])
        self.assertTrue(in_copy <= set(acked) | {s["id"] for s in m.sales()})
        p = self.ctl_on(dest, "check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # Stock in the copy is the initial stock minus the copied sales.
        want = {pid: 100000 for pid in self.products}
        for s in m.sales():
            if s["id"] in in_copy:
                for line in s["lines"]:
                    want[line["product_id"]] -= line["quantity"]
        self.assertEqual({pid: copy_stock[pid] for pid in self.products}, want)
        later = set(acked) - in_copy
        self.assertTrue(later, "every sale made it into the copy: the load was too light")

        # --- restore, as the README says -----------------------------------
        # 1. Stop the server (it finishes what is in flight and exits 0).
        self.assertEqual(srv.stop(), 0)
        # 2. Move the old database and its -wal/-shm aside (a stale -wal
        #    left beside the restored file would be replayed into it).
        db = srv.db
        aside = os.path.join(srv.dir, "broken")
        os.makedirs(aside)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.replace(db + suffix, os.path.join(aside, "market.db" + suffix))
        # 3. Copy the backup into place, private, and check it.
        shutil.copyfile(dest, db + ".restoring")
        os.chmod(db + ".restoring", 0o600)
        os.replace(db + ".restoring", db)
        p = self.ctl_on(db, "check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # 4. Start the server on it.
        srv.start()

        # The backup's data is served: its sales, stock and users (the
        # operator's token from before the backup still works).
        served = {s["id"] for s in m.sales()}
        self.assertEqual(served, in_copy)
        for pid in self.products:
            self.assertEqual(m.stock(pid), want[pid])
        sid = sorted(before)[0]
        r = srv.get("/api/v1/sales/%s" % sid, token=m.op)
        self.assertEqual(r.status, 200, r)
        r = srv.get("/api/v1/sales/%s" % sorted(later)[0], token=m.op)
        self.assertProblem(r, 404, "not_found")
        # It takes writes again; a sale lost with the newer data can be
        # re-sent by its stall and is then stored once.
        lost = sorted(later)[0]
        r = srv.post("/api/v1/sales", sale(lost, m.stall, [
            {"product_id": self.products[0], "quantity": 1}]), token=m.op)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(srv.ctl("check").returncode, 0)
        # A backup over an older one replaces it whole.
        p = srv.ctl("backup", dest, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        con = sqlite3.connect(dest)
        self.assertEqual(con.execute("SELECT count(*) FROM sales WHERE id = ?",
                                     (lost,)).fetchone()[0], 1)
        con.close()

    def test_stale_wal_beside_the_destination(self):
        """A -wal left beside an old copy (someone opened it, and crashed)
        must not be replayed into the new copy renamed over it."""
        srv = self.srv
        dest = os.path.join(srv.dir, "stale.db")
        self.assertEqual(srv.ctl("backup", dest).returncode, 0)
        con = sqlite3.connect(dest)
        con.execute("PRAGMA wal_autocheckpoint = 0")
        con.execute("CREATE TABLE ghost (x)")
        con.execute("INSERT INTO ghost VALUES (1)")
        con.commit()
        shutil.copyfile(dest + "-wal", dest + ".saved-wal")
        con.close()
        os.replace(dest + ".saved-wal", dest + "-wal")
        self.assertEqual(srv.ctl("backup", dest).returncode, 0)
        con = sqlite3.connect(dest)
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        self.assertEqual(con.execute("SELECT count(*) FROM sqlite_schema "
                                     "WHERE name = 'ghost'").fetchone()[0], 0)
        con.close()
        p = self.ctl_on(dest, "check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
