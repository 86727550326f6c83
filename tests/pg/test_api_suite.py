"""The black-box suite (tests/api) on PostgreSQL (issue 13).

One throwaway cluster; every tests/api/test_*.py runs against it as it
runs on SQLite, with MARKET_PG set, so that each server it starts gets a
fresh database of its own there (harness.pg_database). Tests that are
about SQLite itself (its file, its WAL, its VFS, marketctl backup of a
file) skip themselves on PostgreSQL (harness.sqlite_only, with the
reason); SQLITE_FILES below lists the files that are SQLite's through
and through. Two files run at a time; each has a failure bound, not a
timing the test relies on.

  MARKET_BUILD=build python3 tests/pg/test_api_suite.py [test_orders ...]

A ctest of its own (pg.test_api_suite), run alone (RUN_SERIAL): it keeps
two files busy at a time by itself. Tests that look beneath the API
(ledger rows, tampering that marketctl check must catch, triggers that
must refuse) do so through harness.Db, on either engine.
"""
import concurrent.futures
import glob
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
API = os.path.join(os.path.dirname(HERE), "api")
sys.path.insert(0, API)
import harness  # noqa: E402
import pgcluster  # noqa: E402

# Files whose every test is about SQLite's own machinery.
SQLITE_FILES = {
    "test_backup": "marketctl backup copies a SQLite file (PostgreSQL: pg_dump)",
    "test_wal": "SQLite's WAL and its checkpoints",
    "test_faults": "the fault-injection SQLite VFS",
    "test_durability": "power loss simulated on SQLite's files",
    "test_integer_columns": "SQLite's typeof() CHECKs (bigint does this on PostgreSQL)",
}
FILE_BOUND = 900  # seconds: a hung file fails instead of hanging CI


def run_file(path, base):
    env = dict(os.environ, MARKET_PG=base, PYTHONWARNINGS="ignore")
    start = time.monotonic()
    try:
        p = subprocess.run([sys.executable, path], env=env, capture_output=True,
                           timeout=FILE_BOUND)
        out, rc = p.stdout.decode("utf-8", "replace") + p.stderr.decode(
            "utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = ((e.stdout or b"") + (e.stderr or b"")).decode("utf-8", "replace"), -1
    return path, rc, out, time.monotonic() - start


@unittest.skipUnless(pgcluster.available(), "PostgreSQL is not installed")
class ApiSuiteOnPostgres(unittest.TestCase):
    def test_every_api_file(self):
        wanted = set(sys.argv[1:]) if __name__ == "__main__" and len(sys.argv) > 1 else None
        files = []
        for path in sorted(glob.glob(os.path.join(API, "test_*.py"))):
            name = os.path.splitext(os.path.basename(path))[0]
            if wanted is not None and name not in wanted:
                continue
            if name in SQLITE_FILES:
                print("\n  %s: SQLite only (%s)" % (name, SQLITE_FILES[name]))
                continue
            files.append(path)
        with pgcluster.Cluster() as cluster:
            base = cluster.uri("postgres").rsplit("/", 1)[0]
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                results = list(pool.map(lambda f: run_file(f, base), files))
        failed = []
        for path, rc, out, took in results:
            name = os.path.basename(path)
            tail = out.strip().splitlines()[-1] if out.strip() else ""
            print("\n  %-36s %5.1f s  %s" % (name, took, tail))
            if rc != 0:
                failed.append((name, out))
        for name, out in failed:
            print("\n===== %s on PostgreSQL =====\n%s" % (name, out[-6000:]))
        self.assertEqual([n for n, _ in failed], [])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
