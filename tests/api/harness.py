"""Black-box test harness: a real marketd on a free port, a fresh
database, a test certificate, and a client that speaks HTTPS to it.

    import harness
    class T(harness.ServerTest):
        def test_x(self):
            r = self.srv.get("/api/v1/regions")
            self.assertEqual(r.status, 200)
    if __name__ == "__main__":
        harness.main()

Each test file is one scenario and gets its own server (started once per
file in setUpClass). MARKET_BUILD names the build folder (default
./build), MARKET_SOURCE the source tree.
"""
import fcntl
import http.client
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SOURCE = os.environ.get("MARKET_SOURCE") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("MARKET_BUILD") or os.path.join(SOURCE, "build")
MARKETD = os.path.join(BUILD, "marketd")
MARKETCTL = os.path.join(BUILD, "marketctl")
# MARKET_WRAP runs marketd under another program, such as valgrind
# (tests/memcheck/run sets it).
WRAP = shlex.split(os.environ.get("MARKET_WRAP", ""))
# marketd refuses to start without a payment secret of 32 bytes or more.
PAYMENT_SECRET = "test-payment-secret-0123456789abcdef"

_certs_lock = threading.Lock()


def test_certs():
    """A CA and localhost certificate made once per build folder.

    ctest runs test files as parallel processes, so the certificates are
    made under a file lock (a thread lock covers one process only), in a
    folder of their own that is renamed into place when complete: a test
    sees the whole set or none, and never a key from one run with a
    certificate from another."""
    d = os.path.join(BUILD, "test-certs")
    if os.path.exists(os.path.join(d, "localhost.key")):
        return d
    os.makedirs(BUILD, exist_ok=True)
    with _certs_lock, open(os.path.join(BUILD, "test-certs.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not os.path.exists(os.path.join(d, "localhost.key")):
                tmp = tempfile.mkdtemp(prefix="test-certs.", dir=BUILD)
                try:
                    subprocess.run([os.path.join(SOURCE, "certs", "make-dev-cert"), tmp],
                                   check=True, stdout=subprocess.DEVNULL)
                    os.chmod(tmp, 0o755)
                    if os.path.isdir(d):  # a half-made set from before
                        shutil.rmtree(d)
                    os.rename(tmp, d)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return d


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body        # bytes
        self._json = None

    @property
    def json(self):
        if self._json is None:
            self._json = json.loads(self.body.decode("utf-8"))
        return self._json

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:300])


# MARKET_PG: the URI of a PostgreSQL server without its database part
# (postgresql://postgres@127.0.0.1:PORT; tests/pg/ sets it): each Server
# then gets a fresh database of its own there instead of a SQLite file.
PG = os.environ.get("MARKET_PG")
_pg_databases = itertools.count(1)


def sqlite_only(reason):
    """Marks a test that reads or changes the SQLite file itself (or is
    about SQLite's machinery): skipped when the suite runs on PostgreSQL
    (tests/pg/test_api_suite.py), with the reason."""
    return unittest.skipIf(bool(PG), "SQLite only: " + reason)


def pg_database():
    """A new, empty PostgreSQL database on MARKET_PG: its URI."""
    name = "t%d_%d" % (os.getpid(), next(_pg_databases))
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", PG + "/postgres",
                    "-c", "CREATE DATABASE " + name], check=True, capture_output=True)
    return PG + "/" + name


class DbError(Exception):
    """A statement the database refused (a constraint, a trigger, an
    append-only rule), on either engine."""


def _pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes):
        return "'\\x%s'::bytea" % v.hex()
    return "'" + str(v).replace("'", "''") + "'"


def _pg_inline(sql, args):
    """sql with each ? outside quotes replaced by args' next literal."""
    out, i, quote = [], 0, None
    args = list(args)
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append(_pg_literal(args[i]))
            i += 1
            continue
        out.append(ch)
    if i != len(args):
        raise ValueError("%d placeholders for %d values" % (i, len(args)))
    return "".join(out)


class Db:
    """SQL straight on a server's database, SQLite file or PostgreSQL URI
    alike, for the tests that look beneath the API: ledger rows, tampering
    that marketctl check must catch, triggers that must refuse. Portable
    SQL only (both schemas have the same tables and columns); where a
    test needs engine-specific SQL it asks db.pg. On PostgreSQL each call
    is one psql run, in a transaction of its own; values come back with
    their JSON types (bigint as int, text as str, NULL as None)."""

    def __init__(self, target):
        self.target = target
        self.pg = target.startswith(("postgresql://", "postgres://"))
        self.con = None
        if not self.pg:
            import sqlite3
            self.con = sqlite3.connect(target, timeout=30, isolation_level=None)

    def close(self):
        if self.con is not None:
            self.con.close()
            self.con = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _psql(self, sql, quiet=True):
        cmd = ["psql", "-X", "-A", "-t", "-F", "\x1f", "-P", "null=\\N",
               "-v", "ON_ERROR_STOP=1", "-d", self.target, "-c", sql]
        if quiet:
            cmd.insert(1, "-q")
        p = subprocess.run(cmd, capture_output=True)
        if p.returncode != 0:
            raise DbError(p.stderr.decode("utf-8", "replace").strip())
        return p.stdout.decode("utf-8")

    def query(self, sql, args=()):
        """The rows of a SELECT, as tuples."""
        if not self.pg:
            import sqlite3
            try:
                return self.con.execute(sql, tuple(args)).fetchall()
            except sqlite3.DatabaseError as e:
                raise DbError(str(e)) from e
        # Each row as JSON, which keeps its types (a text of digits stays
        # text); pairs, not a dict, so that two columns may share a name.
        out = self._psql("SELECT row_to_json(q) FROM (%s) q" % _pg_inline(sql, args))
        row = lambda pairs: tuple(v for _, v in pairs)  # noqa: E731
        return [json.loads(line, object_pairs_hook=row)
                for line in out.split("\n") if line != ""]

    def value(self, sql, args=()):
        rows = self.query(sql, args)
        return rows[0][0] if rows else None

    def execute(self, *statements):
        """Runs statements (each SQL, or a (SQL, args) pair) in one
        transaction; returns the number of rows the last one changed."""
        stmts = [(s, ()) if isinstance(s, str) else s for s in statements]
        if not self.pg:
            import sqlite3
            try:
                self.con.execute("BEGIN IMMEDIATE")
                try:
                    for sql, args in stmts:
                        n = self.con.execute(sql, tuple(args)).rowcount
                    self.con.execute("COMMIT")
                except BaseException:
                    self.con.execute("ROLLBACK")
                    raise
                return n
            except sqlite3.DatabaseError as e:
                raise DbError(str(e)) from e
        script = "BEGIN; " + "; ".join(_pg_inline(s, a) for s, a in stmts) + "; COMMIT"
        tags = re.findall(r"^(?:INSERT \d+|UPDATE|DELETE) (\d+)$",
                          self._psql(script, quiet=False), re.M)
        return int(tags[-1]) if tags else 0

    def add_failing_trigger(self, name, table="venues"):
        """A trigger on table, made behind the server's back, that fails
        whenever it fires: it reads a table that does not exist (for
        clean 500s). SQLite's fails when the insert is prepared,
        PL/pgSQL's when it runs."""
        if self.pg:
            self.execute("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$ "
                         "BEGIN PERFORM secret_column FROM secret_table_xyz; RETURN NEW; "
                         "END $$" % name,
                         "CREATE TRIGGER %s BEFORE INSERT ON %s FOR EACH ROW "
                         "EXECUTE FUNCTION %s()" % (name, table, name))
        else:
            self.execute("CREATE TRIGGER %s BEFORE INSERT ON %s "
                         "BEGIN SELECT secret_column FROM secret_table_xyz; END"
                         % (name, table))

    def hold_write_lock(self, *statements):
        """A context manager: another writer (a second marketd node, or
        marketctl) holds the database's write lock with statements done
        and not committed; they commit on leaving. On SQLite that is BEGIN
        IMMEDIATE; on PostgreSQL the advisory lock every marketd writer
        takes (server/db/pg.c, LOCK_WRITE), in a psql session."""
        return _HeldLock(self, [(s, ()) if isinstance(s, str) else s for s in statements])


class _HeldLock:
    LOCK_WRITE = 0x6d61726b657401

    def __init__(self, db, stmts):
        self.db, self.stmts, self.proc = db, stmts, None

    def __enter__(self):
        if not self.db.pg:
            self.con = __import__("sqlite3").connect(self.db.target, timeout=30,
                                                     isolation_level=None)
            self.con.execute("BEGIN IMMEDIATE")
            for sql, args in self.stmts:
                self.con.execute(sql, tuple(args))
            return self
        self.proc = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.db.target],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        script = "BEGIN;\nSELECT pg_advisory_xact_lock(%d);\n" % self.LOCK_WRITE
        script += "".join(_pg_inline(s, a) + ";\n" for s, a in self.stmts)
        script += "SELECT 'held';\n"
        self.proc.stdin.write(script.encode())
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise DbError(self.proc.stderr.read().decode("utf-8", "replace"))
            if line.strip().endswith(b"held"):
                return self

    def __exit__(self, *exc):
        if self.proc is None:
            self.con.execute("COMMIT")
            self.con.close()
            return
        self.proc.stdin.write(b"COMMIT;\n")
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=60)
        if rc != 0 and exc[0] is None:
            raise DbError(self.proc.stderr.read().decode("utf-8", "replace"))


class Server:
    """A marketd process. Use start()/stop(), or a ServerTest."""

    def __init__(self, threads=2, args=(), env=None, db=None):
        self.dir = tempfile.mkdtemp(prefix="market-test-")
        self.db = db or (pg_database() if PG else os.path.join(self.dir, "market.db"))
        self.certs = test_certs()
        self.cafile = os.path.join(self.certs, "dev-ca.crt")
        self.threads = threads
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.setdefault("MARKETD_PAYMENT_SECRET", PAYMENT_SECRET)
        if env:
            self.env.update(env)
        self.proc = None
        self.port = None
        self.log = []
        self._ctx = ssl.create_default_context(cafile=self.cafile)
        self._local = threading.local()

    def start(self):
        cmd = WRAP + [MARKETD, "--listen", "127.0.0.1:0", "--db", self.db,
               "--cert", os.path.join(self.certs, "localhost.crt"),
               "--key", os.path.join(self.certs, "localhost.key"),
               "--threads", str(self.threads)] + self.args
        # stdout goes nowhere: a server left behind by a failed test must
        # not hold the test runner's output pipe open.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=self.env)
        deadline = time.time() + (120 if WRAP else 30)
        while time.time() < deadline:
            line = self.proc.stderr.readline().decode("utf-8", "replace")
            if not line:
                raise RuntimeError("marketd exited: %s" % "".join(self.log))
            self.log.append(line)
            m = re.match(r"listening on https://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        else:
            raise RuntimeError("marketd did not start")
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line.decode("utf-8", "replace"))

    def stop(self, sig=signal.SIGTERM):
        """Stops the server; returns its exit status."""
        if self.proc is None:
            return None
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=120 if WRAP else 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- the client -------------------------------------------------
    def connect(self):
        """A new HTTPS connection to the server (caller closes it)."""
        # The socket timeout is a failure bound only: on a busy machine
        # (tools/test --stress) a login's scrypt behind others can take
        # more than a minute.
        return http.client.HTTPSConnection("localhost", self.port,
                                           context=self._ctx, timeout=300)

    def request(self, method, path, body=None, token=None, headers=None,
                raw=None, conn=None):
        """Sends one request. body is JSON-encoded; raw is sent as is.
        Uses a per-thread keep-alive connection unless conn is given."""
        h = {}
        if body is not None:
            raw = json.dumps(body).encode("utf-8")
        if raw is not None:
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = "Bearer " + token
        if headers:
            h.update(headers)
        h = {k: v for k, v in h.items() if v is not None}
        own = conn is None
        for attempt in range(2):
            c = conn
            if own:
                c = getattr(self._local, "conn", None)
                if c is None:
                    c = self._local.conn = self.connect()
            try:
                c.request(method, path, body=raw, headers=h)
                resp = c.getresponse()
                data = resp.read()
                hdrs = {k.lower(): v for k, v in resp.getheaders()}
                if own and hdrs.get("connection", "").lower() == "close":
                    c.close()
                    self._local.conn = None
                return Response(resp.status, hdrs, data)
            # A kept-alive connection the server closed meanwhile (its
            # idle timeout passed while a test was busy elsewhere) fails
            # on send, as a reset, a broken pipe or a TLS EOF: open anew.
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.CannotSendRequest,
                    ssl.SSLEOFError, ssl.SSLZeroReturnError):
                if own:
                    c.close()
                    self._local.conn = None
                if not own or attempt == 1:
                    raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def sql(self):
        """A Db on this server's database (caller closes it)."""
        return Db(self.db)

    def copy(self, name):
        """A copy of this server's database, taken while it serves: its
        path or URI. marketctl backup on SQLite; on PostgreSQL, where
        backup refuses a URI, migrate-to into a new database."""
        if PG:
            dest = pg_database()
            self.ctl("migrate-to", dest)
        else:
            dest = os.path.join(self.dir, name + ".db")
            self.ctl("backup", dest)
        return dest

    # --- marketctl and users ----------------------------------------
    def ctl(self, *args, input=None, check=True):
        """Runs marketctl on this server's database."""
        p = subprocess.run([MARKETCTL, "--db", self.db] + list(args),
                           input=(input or "").encode(), capture_output=True)
        if check and p.returncode != 0:
            raise RuntimeError("marketctl %s: %s" % (args, p.stderr.decode()))
        return p

    def add_user(self, username, role, password="password123", region=None):
        args = ["user", "add", "--username", username, "--role", role]
        if region:
            args += ["--region", region]
        self.ctl(*args, input=password + "\n")

    def login(self, username, password="password123"):
        r = self.post("/api/v1/auth/login",
                      {"username": username, "password": password})
        if r.status != 200:
            raise RuntimeError("login %s: %r" % (username, r))
        return r.json["token"]

    def user(self, username, role, password="password123", region=None):
        """Creates a user with marketctl and returns a token for it."""
        self.add_user(username, role, password, region)
        return self.login(username, password)


def stop_node(srv):
    """Stops srv if it still runs, and removes its folder."""
    if srv.proc is not None:
        srv.stop()
    srv.cleanup()


def node_for(test_class, db, args=()):
    """A started marketd on db for a test class, stopped (if still
    running) and removed when the class is done."""
    srv = Server(db=db, args=args).start()
    test_class.addClassCleanup(stop_node, srv)
    return srv


class ServerTest(unittest.TestCase):
    """One server per test class (per file), started before its tests."""
    threads = 2
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(threads=cls.threads, args=cls.server_args).start()
        # If a subclass's setUpClass fails after this, tearDownClass does
        # not run: make sure the server is stopped anyway.
        cls.addClassCleanup(cls._kill_leftover, cls.srv)

    @staticmethod
    def _kill_leftover(srv):
        if srv.proc is not None:
            srv.stop(signal.SIGKILL)
            srv.cleanup()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        log = "".join(cls.srv.log)
        cls.srv.cleanup()
        if rc != 0:
            raise AssertionError("marketd exited with %s:\n%s" % (rc, log))
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log or \
                "LeakSanitizer" in log:
            raise AssertionError("sanitizer report:\n%s" % log)

    def assertProblem(self, r, status, code, field=None):
        """r is an RFC 9457 problem with this status and code (and field)."""
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.header("content-type", ).startswith(
            "application/problem+json"), r.headers)
        self.assertEqual(r.json["status"], status, r)
        self.assertEqual(r.json["code"], code, r)
        if field is not None:
            self.assertEqual(r.json.get("field"), field, r)


def main():
    unittest.main(verbosity=2)
