"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary
folder, a free port on 127.0.0.1, stopped by its postmaster's PID and
removed at the end.

    import pgcluster
    with pgcluster.Cluster() as pg:
        pg.create_database("t")
        pg.psql_file("schema/pg/0012_baseline.sql", db="t")
        name = pg.fresh_database(template="t")  # CREATE DATABASE ... TEMPLATE
        uri = pg.uri(name)  # postgresql://postgres@127.0.0.1:PORT/NAME

Standard library only: SQL goes through psql (there is no Python driver).
The binaries come from PATH, else from /usr/lib/postgresql/*/bin (Debian
puts them there; tools/install-deps --test installs postgresql). When the
tests run as root, initdb and the server run as the `postgres` user and
the folder is given to it. The server runs with fsync on: durability
tests run on it. A cluster left running by a test that failed is stopped
at exit (atexit), except after SIGKILL.
"""
import atexit
import glob
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

START_DEADLINE = 60  # seconds; a failure bound only (a busy 2-core machine)
STOP_DEADLINE = 60


def tool(name):
    """The path of a PostgreSQL program: PATH first, else the newest
    /usr/lib/postgresql/*/bin."""
    p = shutil.which(name)
    if p:
        return p
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0)
    for d in reversed(dirs):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    raise RuntimeError("%s not found (run tools/install-deps --test)" % name)


def available():
    """True when initdb, pg_ctl, pg_isready and psql can all be found."""
    try:
        for name in ("initdb", "pg_ctl", "pg_isready", "psql"):
            tool(name)
        return True
    except RuntimeError:
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gone(pid):
    """True when pid is no longer a live process (a zombie counts as gone:
    the postmaster is not our child, and whoever reaps it may be slow)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


_live = set()
_live_lock = threading.Lock()


@atexit.register
def _stop_leftovers():
    with _live_lock:
        left = list(_live)
    for c in left:
        c.stop()


class Cluster:
    """One PostgreSQL server of its own. start()/stop(), or a with block."""

    def __init__(self, user="postgres"):
        self.user = user  # the superuser initdb makes, and the URI's user
        self.dir = None
        self.data = None
        self.port = None
        self.pid = None
        self._as = []  # the command prefix that runs a program as postgres
        self._dbs = 0
        self._lock = threading.Lock()

    # --- lifetime ---------------------------------------------------
    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="market-pg-")
        with _live_lock:
            _live.add(self)
        try:
            self._initdb()
            # The port is free when looked at, not necessarily when the
            # server binds it (another test may take it meanwhile): try
            # another one when the server says so.
            for attempt in range(5):
                self.port = free_port()
                if self._start_server():
                    return self
            raise RuntimeError("PostgreSQL found no free port:\n" + self.log())
        except BaseException:
            self.stop()
            raise

    def _initdb(self):
        self.data = os.path.join(self.dir, "data")
        if os.geteuid() == 0:
            # initdb refuses to run as root; the server must own its folder.
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        # --no-sync: initdb's own files need not reach the disk (the
        # cluster is thrown away); the server itself runs with fsync on.
        self._run(self._as + [tool("initdb"), "-D", self.data, "-U", self.user,
                              "--auth=trust", "-E", "UTF8", "--locale=C",
                              "--no-sync", "--no-instructions"])

    def _start_server(self):
        """Starts the server on self.port and waits until a query answers.
        False when the port was taken meanwhile."""
        opts = " ".join(shlex.quote(o) for o in [
            "-c", "port=%d" % self.port,
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=" + self.dir,
            "-c", "fsync=on"])
        logfile = os.path.join(self.dir, "server.log")
        # -W: pg_ctl returns at once; readiness is polled below, with a
        # deadline, by asking the server itself.
        self._run(self._as + [tool("pg_ctl"), "-D", self.data, "-l", logfile,
                              "-o", opts, "-W", "start"])
        deadline = time.monotonic() + START_DEADLINE
        delay = 0.02
        while time.monotonic() < deadline:
            if self.pid is None:
                self.pid = self._postmaster_pid()
            if self.pid is not None and _gone(self.pid):
                self.pid = None
                if "could not bind" in self.log() or "Address already in use" in self.log():
                    self._truncate_log()
                    return False
                raise RuntimeError("PostgreSQL exited at start:\n" + self.log())
            if self.pid is not None and self._ready():
                return True
            if self.pid is None and "FATAL" in self.log():
                if "could not bind" in self.log() or "Address already in use" in self.log():
                    self._wait_pidfile_gone(deadline)
                    self._truncate_log()
                    return False
                raise RuntimeError("PostgreSQL did not start:\n" + self.log())
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        raise RuntimeError("PostgreSQL did not answer within %d s:\n%s"
                           % (START_DEADLINE, self.log()))

    def _ready(self):
        r = subprocess.run([tool("pg_isready"), "-q", "-h", "127.0.0.1", "-p",
                            str(self.port), "-U", self.user, "-d", "postgres", "-t", "5"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            return False
        r = subprocess.run(self._psql_cmd("postgres") + ["-c", "SELECT 1"],
                           capture_output=True)
        return r.returncode == 0 and r.stdout.strip() == b"1"

    def _postmaster_pid(self):
        """The PID in postmaster.pid (its first line), or None."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                first = f.readline().strip()
        except OSError:
            return None
        return int(first) if first.isdigit() else None

    def _wait_pidfile_gone(self, deadline):
        while time.monotonic() < deadline and os.path.exists(
                os.path.join(self.data, "postmaster.pid")):
            time.sleep(0.05)

    def stop(self):
        """Stops the server by its postmaster's PID (a fast shutdown,
        then an immediate one if that does not end within the deadline)
        and removes the folder. Safe to call twice."""
        with _live_lock:
            _live.discard(self)
        if self.data is not None:
            pid = self.pid or self._postmaster_pid()
            if pid is not None and self._is_our_postmaster(pid):
                for sig, wait in ((signal.SIGINT, STOP_DEADLINE),
                                  (signal.SIGQUIT, STOP_DEADLINE)):
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        break
                    deadline = time.monotonic() + wait
                    while not _gone(pid) and time.monotonic() < deadline:
                        time.sleep(0.05)
                    if _gone(pid):
                        break
            self.pid = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = self.data = None

    def restart(self, mode="immediate"):
        """What pg_ctl restart -m MODE does, on the same port: an
        immediate stop is a crash as far as the data goes (no shutdown
        checkpoint; the next start recovers from the WAL)."""
        self._run(self._as + [tool("pg_ctl"), "-D", self.data, "-m", mode, "-w",
                              "-t", str(STOP_DEADLINE), "stop"])
        self.pid = None
        self._start_again()

    def kill9(self):
        """SIGKILL to the postmaster and to every process it started (as
        a power cut would end them), then a start on the same port."""
        pid = self.pid or self._postmaster_pid()
        if pid is None or not self._is_our_postmaster(pid):
            raise RuntimeError("no postmaster of ours to kill")
        children = []
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            pass
        os.kill(pid, signal.SIGKILL)
        for c in children:
            try:
                os.kill(c, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_DEADLINE
        while time.monotonic() < deadline and not (
                _gone(pid) and all(_gone(c) for c in children)):
            time.sleep(0.02)
        # Its lock files go, as a reboot would clear them: the dead PID
        # may linger as a zombie nobody reaps (the postmaster is not our
        # child), which PostgreSQL would take for a live postmaster, and
        # the PID file would be read here as the new one's.
        for f in (os.path.join(self.data, "postmaster.pid"),
                  os.path.join(self.dir, ".s.PGSQL.%d.lock" % self.port),
                  os.path.join(self.dir, ".s.PGSQL.%d" % self.port)):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        self.pid = None
        self._start_again()

    def _start_again(self):
        # What the stopped server logged (FATALs of its dropped
        # connections among it) is not the new one's.
        log = os.path.join(self.dir, "server.log")
        with open(log, "rb") as f, open(log + ".1", "ab") as old:
            old.write(f.read())
        self._truncate_log()
        if not self._start_server():
            raise RuntimeError("PostgreSQL's port %d was taken while it was down"
                               % self.port)

    def _is_our_postmaster(self, pid):
        """pid runs postgres on our data folder (not a reused PID)."""
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            return False
        return any(a.endswith(b"postgres") for a in argv[:1]) and \
            self.data.encode() in argv

    # --- logs and commands -----------------------------------------
    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def _truncate_log(self):
        try:
            open(os.path.join(self.dir, "server.log"), "w").close()
        except OSError:
            pass

    @staticmethod
    def _run(cmd):
        p = subprocess.run(cmd, capture_output=True, cwd="/")
        if p.returncode != 0:
            raise RuntimeError("%s: exit %d\n%s%s" % (
                " ".join(cmd), p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace")))
        return p

    # --- databases and SQL -----------------------------------------
    def uri(self, db="postgres"):
        return "postgresql://%s@127.0.0.1:%d/%s" % (self.user, self.port, db)

    def _psql_cmd(self, db):
        # -X: no ~/.psqlrc; -At: bare rows, fields split by |.
        return [tool("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                "-d", self.uri(db)]

    def psql(self, sql, db="postgres", check=True, single_transaction=False):
        """Runs SQL (one or several statements) with psql. Returns the
        CompletedProcess; raises on an error when check (ON_ERROR_STOP)."""
        cmd = self._psql_cmd(db) + (["-1"] if single_transaction else []) + ["-f", "-"]
        p = subprocess.run(cmd, input=sql.encode("utf-8"), capture_output=True)
        if check and p.returncode != 0:
            raise RuntimeError("psql: %s\n%s" % (p.stderr.decode("utf-8", "replace"),
                                                 sql[:2000]))
        return p

    def query(self, sql, db="postgres"):
        """The rows of one query, as lists of text fields ('' for NULL)."""
        out = self.psql(sql, db=db).stdout.decode("utf-8")
        return [line.split("|") for line in out.splitlines()]

    def psql_file(self, path, db="postgres"):
        """Runs a SQL file in one transaction, stopping at the first error."""
        with open(path, encoding="utf-8") as f:
            return self.psql(f.read(), db=db, single_transaction=True)

    def create_database(self, name, template=None):
        sql = 'CREATE DATABASE "%s"' % name
        if template:
            sql += ' TEMPLATE "%s"' % template
        self.psql(sql + ";")
        return name

    def fresh_database(self, template, prefix="t"):
        """A new database copied from template (CREATE DATABASE ...
        TEMPLATE: a file copy, quick); its name."""
        with self._lock:
            self._dbs += 1
            name = "%s%d" % (prefix, self._dbs)
        return self.create_database(name, template=template)


def for_class(test_class, database="market"):
    """A cluster for a test class, stopped when the class is done, with
    one database made: the cluster and the database's URI."""
    cluster = Cluster().start()
    test_class.addClassCleanup(cluster.stop)
    cluster.create_database(database)
    return cluster, cluster.uri(database)
