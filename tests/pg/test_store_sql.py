"""Every statement of server/store/*.c prepares on PostgreSQL 15 (issue 13).

The business rules are written once, in server/store; only what must
differ per engine sits behind the seam (server/db). So each statement in
server/store must be one that both engines accept. This test takes every
statement out of the C sources and PREPAREs it against the schema of
schema/pg (the baseline and the migrations after it, applied by marketctl
migrate) on a throwaway cluster: PREPARE parses it,
resolves every table, column and function and infers every parameter's
type (as libpq's PQprepare with unspecified types does), without running
it. A statement PostgreSQL refuses fails the test with its file:line and
PostgreSQL's message. So does one it accepts but that the C code would
read otherwise than on SQLite: a parameter inferred as integer (32 bits:
`?N = 0` alone types it so; a bound int64 beyond that fails), a result
column that is a boolean (t/f, where SQLite gives 1/0 and the C code
reads an integer), a CAST(... AS INTEGER) (32 bits). Result types come
from psql's \\gdesc, which prepares and describes without running.

What PREPARE cannot see is not checked here: an upsert from a SELECT
that meets one key twice (PostgreSQL refuses it when it runs), or values
that differ at run time.

The statements: each source file goes through the C preprocessor with its
flags from the build's compile_commands.json (so macros such as
ADD_FIGURES or COMPARE(...) are expanded as the compiler sees them);
adjacent string literals are joined, as C joins them; a joined literal
that begins with SELECT, INSERT, UPDATE, DELETE or WITH is a statement.
That takes in the first argument of db_stmt(db, "...") and db_exec, and
the statement tables (rollup.c's comparisons, lots.c's checks) whose
entries are passed to db_stmt later. `?N` placeholders are rewritten to
`$N`, as the libpq engine does.
"""
import json
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
import harness  # noqa: E402
import pgcluster  # noqa: E402

STORE = os.path.join(harness.SOURCE, "server", "store")
STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b")

# --- the statements ---------------------------------------------------
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'",
            '"': '"', "?": "?", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unescape(body):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n == "x":
            m = re.match(r"[0-9a-fA-F]+", body[i + 2:])
            out.append(chr(int(m.group(0), 16)))
            i += 2 + len(m.group(0))
        elif n in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            out.append(chr(int(m.group(0), 8)))
            i += 1 + len(m.group(0))
        else:
            out.append(_ESCAPES[n])
            i += 2
    return "".join(out)


def _compile_flags(source):
    """The preprocessor's flags for source, from compile_commands.json."""
    with open(os.path.join(harness.BUILD, "compile_commands.json")) as f:
        commands = json.load(f)
    for c in commands:
        if os.path.realpath(c["file"]) == os.path.realpath(source):
            args = c["arguments"] if "arguments" in c else c["command"].split()
            keep = [a for a in args[1:] if a.startswith(("-I", "-D", "-std"))]
            return args[0], keep, c["directory"]
    raise RuntimeError("%s is not in the build's compile_commands.json" % source)


def _tokens(text):
    """(kind, value, line) for the string literals of preprocessed C and the
    other tokens between them, line being the source line in the .c file
    itself (None inside an included header)."""
    line, in_file = 1, True
    pos = 0
    token = re.compile(r'''(?P<marker>^\#\s*(?P<n>\d+)\s+"(?P<f>[^"]*)"[^\n]*$)
        |(?P<nl>\n)
        |(?P<ws>[ \t\r\f\v]+)
        |(?P<str>(?:u8|u|U|L)?"(?P<body>(?:[^"\\\n]|\\.)*)")
        |(?P<chr>'(?:[^'\\\n]|\\.)*')
        |(?P<other>[A-Za-z_0-9]+|.)''', re.M | re.X)
    main_file = None
    while pos < len(text):
        m = token.match(text, pos)
        pos = m.end()
        if m.group("marker"):
            if main_file is None:
                main_file = m.group("f")
            line, in_file = int(m.group("n")), m.group("f") == main_file
            if pos < len(text) and text[pos] == "\n":
                pos += 1  # the marker's own newline
            continue
        if m.group("nl"):
            line += 1
        elif m.group("str") is not None and m.group("str").startswith('"'):
            yield "str", _unescape(m.group("body")), line if in_file else None
        elif m.group("ws") is None:
            yield "other", m.group(0), line if in_file else None


def statements(source):
    """[(line, sql)] for each statement in source (a .c file), and the
    lines of literals passed to db_stmt()/db_exec() that do not begin as
    a statement does (so none is missed unseen)."""
    cc, flags, cwd = _compile_flags(source)
    p = subprocess.run([cc, "-E"] + flags + [source], cwd=cwd, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("%s -E %s: %s" % (cc, source, p.stderr.decode()))
    out, missed, parts, first, before = [], [], [], None, []
    recent = []  # the last tokens before the literals

    def flush():
        sql = "".join(parts)
        if first is None:
            return
        if STATEMENT.match(sql):
            out.append((first, sql))
        elif len(before) == 4 and before[0] in ("db_stmt", "db_exec") and \
                before[1] == "(" and before[3] == ",":
            missed.append(first)

    for kind, value, line in _tokens(p.stdout.decode("utf-8")):
        if kind == "str":
            if not parts:
                first, before = line, recent[-4:]
            parts.append(value)
            continue
        if parts:
            flush()
            parts, first = [], None
        recent = recent[-3:] + [value]
    if parts:
        flush()
    return out, missed


def placeholders(sql):
    """?N as $N, outside quoted strings and identifiers (the engine's
    rewrite)."""
    out, i, quote = [], 0, None
    while i < len(sql):
        c = sql[i]
        if quote:
            out.append(c)
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            out.append(c)
        elif c == "?":
            m = re.match(r"\?(\d+)", sql[i:])
            if not m:
                raise ValueError("a placeholder without a number: %r" % sql)
            out.append("$" + m.group(1))
            i += len(m.group(0))
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


# --- PostgreSQL ---------------------------------------------------------
CLUSTER = None


def setUpModule():
    global CLUSTER
    CLUSTER = pgcluster.Cluster()
    unittest.addModuleCleanup(CLUSTER.stop)
    CLUSTER.start()
    CLUSTER.create_database("baseline")
    # The baseline and every later migration of schema/pg, as marketd
    # applies them.
    p = subprocess.run([harness.MARKETCTL, "--db", CLUSTER.uri("baseline"), "migrate"],
                       capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("marketctl migrate (PostgreSQL): %s" % p.stderr.decode())


def prepare_all(stmts):
    """For each of stmts, PostgreSQL's error or None, and the types it
    inferred: ([parameter types], [result column types]), or None when
    refused. One psql session: each statement PREPAREd on its own line,
    and described (\\gdesc: prepared and described, not run) on the next;
    then pg_prepared_statements says the parameters' types. (PostgreSQL 15
    has no result_types there.)"""
    lines = ["\\set ON_ERROR_STOP 0", "\\set VERBOSITY terse", "\\pset format unaligned",
             "\\pset fieldsep '\\t'", "\\pset tuples_only on"]
    where = {}  # psql's line number -> statement
    for n, sql in enumerate(stmts):
        one_line = sql.replace("\n", " ")
        lines.append("\\echo '#' %d" % n)
        lines.append("PREPARE s%d AS %s;" % (n, one_line))
        where[len(lines)] = n
        lines.append("%s \\gdesc" % one_line)
    lines.append("\\echo '#' params")
    lines.append("SELECT substr(name, 2), array_to_json(parameter_types::text[]) "
                 "FROM pg_prepared_statements;")
    p = subprocess.run(
        [pgcluster.tool("psql"), "-X", "-q", "-d", CLUSTER.uri("baseline"), "-f", "-"],
        input="\n".join(lines).encode("utf-8"), capture_output=True)
    errors = [None] * len(stmts)
    for m in re.finditer(r"^psql:<stdin>:(\d+): (ERROR: .*)$",
                         p.stderr.decode("utf-8", "replace"), re.M):
        n = where.get(int(m.group(1)))
        if n is not None and errors[n] is None:
            errors[n] = m.group(2)
    results = [[] for _ in stmts]
    params = [None] * len(stmts)
    section = None
    for row in p.stdout.decode("utf-8").splitlines():
        if row.startswith("# "):
            section = row[2:]
            continue
        fields = row.split("\t")
        if section == "params":
            params[int(fields[0])] = json.loads(fields[1])
        elif len(fields) == 2:  # \gdesc: a column's name and type
            results[int(section)].append(fields[1])
    types = [None] * len(stmts)
    for n, err in enumerate(errors):
        if err is None and params[n] is None:
            errors[n] = "ERROR: not prepared, and psql said nothing of it"
        elif err is None:
            types[n] = (params[n], results[n])
    return errors, types


def findings(sql, types):
    """What PostgreSQL accepts but the C code would read otherwise than on
    SQLite."""
    params, results = types
    out = []
    # A parameter PostgreSQL typed integer (from ?N = 0, ?N + 1, ...) is
    # 32 bits: a bound int64 beyond them fails.
    for i, t in enumerate(params):
        if t == "integer":
            out.append("parameter $%d is inferred as integer (32 bits): CAST it AS BIGINT"
                       % (i + 1))
        if t == "unknown":
            out.append("parameter $%d has no type" % (i + 1))
    # A boolean column comes back as t/f, read as an integer.
    for i, t in enumerate(results):
        if t == "boolean":
            out.append("column %d is a boolean (t/f on PostgreSQL, 1/0 on SQLite)" % (i + 1))
    # CAST(... AS INTEGER) is 32 bits on PostgreSQL, 64 on SQLite.
    if re.search(r"\bAS\s+INTEGER\s*\)", sql, re.I):
        out.append("CAST(... AS INTEGER) is 32 bits on PostgreSQL: AS BIGINT")
    return out


class StoreSQL(unittest.TestCase):
    def test_every_statement_prepares(self):
        found = []  # (where, sql)
        unknown = []  # a literal given to db_stmt that is not taken in
        for name in sorted(os.listdir(STORE)):
            if name.endswith(".c"):
                path = os.path.join(STORE, name)
                stmts, missed = statements(path)
                for line, sql in stmts:
                    found.append(("server/store/%s:%d" % (name, line), sql))
                for line in missed:
                    unknown.append("server/store/%s:%d" % (name, line))
        # Every file that prepares statements is looked at: a sanity
        # bound on the extraction (the store holds some two hundred).
        self.assertGreater(len(found), 150)
        self.assertEqual(unknown, [], "SQL that this test does not recognise as a statement")
        errors, types = prepare_all([placeholders(sql) for _, sql in found])
        refused = []
        for (where, sql), err, ty in zip(found, errors, types):
            why = [err] if err else findings(sql, ty)
            if why:
                refused.append("%s: %s\n    %s" % (where, "; ".join(why), sql))
        if refused:
            self.fail("PostgreSQL 15 refuses %d of %d statements:\n%s"
                      % (len(refused), len(found), "\n".join(refused)))

if __name__ == "__main__":
    harness.main()
