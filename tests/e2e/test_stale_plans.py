"""Right answers to repeated queries (docs/architecture.md, "Invariant: no plan outlives its
statistics"): DuckDB 1.5.6 keeps rewrites derived from the table statistics of the moment a
statement was prepared (a filter dropped because max(a) was 9, count(a) turned into count(*)
because a had no NULLs, a perfect-hash GROUP BY sized from min and max, join ranges fixed, an
OFFSET shortened from row-group counts), and the server re-executes prepared statements from its
statement cache. Every case here changes the data between two runs of the same text, through
literal and typed requests, from another session and inside the session's own transaction, and
checks the true answer; the cache must really have been used (its hit counter moves), or the
test would prove nothing.

The differential test (`test_random_changes_never_give_stale_answers`) interleaves random inserts,
updates and deletes with a fixed set of repeated queries and compares every answer with a model
kept in Python and with a fresh text on another connection. It runs STALE_PLANS_SECONDS seconds
(5 in make test; `make soak-plans` runs it for 300).

The sqllogictest-style files in tests/e2e/slt/ repeat query texts after changing the data; the
runner sends each query both as plain SQL and as a typed request."""
import glob
import itertools
import json
import os
import random
import tempfile
import time

import pytest

from conftest import Server

HERE = os.path.dirname(os.path.abspath(__file__))
SECONDS = float(os.environ.get("STALE_PLANS_SECONDS", "5"))


def hits(admin):
    return json.loads(admin.req("stats"))["statements"]["hits"]


def typed(sql):
    return "query " + json.dumps({"sql": sql})


def rows_of(answer):
    """The rows of a typed answer, as lists."""
    assert answer.startswith("{"), answer
    return json.loads(answer)["rows"]


def plain_rows(answer):
    """The rows of a plain answer, each as the list of its values in column order."""
    assert answer.startswith("["), answer
    return [[v for _, v in pairs] for pairs in
            json.loads(answer, object_pairs_hook=lambda pairs: pairs)]


def ask(c, sql, form):
    """Rows of `sql` sent in `form` ("literal" or "typed")."""
    if form == "typed":
        return rows_of(c.req(typed(sql)))
    return plain_rows(c.req(sql))


class Db:
    """A database of its own for one test, on the module's server."""

    def __init__(self, srv, name):
        self.srv, self.name = srv, name

    def admin(self):
        return self.srv.admin()


def connected(db):
    c = db.srv.admin()
    assert c.req("connect " + db.name) == "success"
    return c


@pytest.fixture(scope="module")
def shared_server():
    """One server for the module (its many cases would otherwise start one each); checked for
    sanitizer reports and a clean exit at the end, as the `server` fixture does."""
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-e2e-") as d:
        srv = Server(d).start()
        yield srv
        srv.check_clean(srv.stop())


_names = itertools.count()


@pytest.fixture
def db(shared_server):
    name = "d%d" % next(_names)
    with shared_server.admin() as a:
        assert a.req("create database " + name) == "success"
    return Db(shared_server, name)


def run_all(c, statements):
    for s in statements:
        answer = c.req_long(s)
        assert not answer.startswith("Error"), (s, answer)


def test_the_issue_example(db):
    """The report, as a new user would type it: literal SQL, one session."""
    c = connected(db)
    admin = db.admin()
    run_all(c, ["CREATE TABLE t(a INTEGER, b INTEGER)",
                "INSERT INTO t SELECT i, i FROM range(10) r(i)"])
    assert c.req("SELECT count(*) AS n FROM t WHERE a < 100") == '[{"n":10}]'
    assert c.req("SELECT count(a) AS n FROM t") == '[{"n":10}]'
    assert c.req("INSERT INTO t VALUES (NULL, 1), (1000, 2)") == "2"
    before = hits(admin)
    assert c.req("SELECT count(*) AS n FROM t WHERE a < 100") == '[{"n":10}]'
    assert c.req("SELECT count(a) AS n FROM t") == '[{"n":11}]'
    assert hits(admin) - before == 2  # both answers came from cached statements


# Each case: set-up statements, the repeated query, the change, the answer before and after.
# The change is chosen to break exactly one statistics-driven rewrite of DuckDB's optimizer.
CASES = {
    "filter pruned by max": (
        ["CREATE TABLE t(a INTEGER)", "INSERT INTO t SELECT i FROM range(10) r(i)"],
        "SELECT count(*) FROM t WHERE a > 50",
        ["INSERT INTO t VALUES (100), (200)"],
        [[0]], [[2]]),
    "filter pruned by min": (
        ["CREATE TABLE t(a INTEGER)", "INSERT INTO t SELECT i FROM range(10, 20) r(i)"],
        "SELECT count(*) FROM t WHERE a < 5",
        ["INSERT INTO t VALUES (-3)"],
        [[0]], [[1]]),
    "count(a) as count(*) without NULLs": (
        ["CREATE TABLE t(a INTEGER)", "INSERT INTO t SELECT i FROM range(10) r(i)"],
        "SELECT count(a) FROM t",
        ["INSERT INTO t VALUES (NULL), (NULL)"],
        [[10]], [[10]]),
    "IS NULL folded to false": (
        ["CREATE TABLE t(a INTEGER)", "INSERT INTO t SELECT i FROM range(10) r(i)"],
        "SELECT count(*) FROM t WHERE a IS NULL",
        ["INSERT INTO t VALUES (NULL)"],
        [[0]], [[1]]),
    "IS NOT NULL folded to true": (
        ["CREATE TABLE t(a INTEGER, b INTEGER)", "INSERT INTO t SELECT i, i FROM range(4) r(i)"],
        "SELECT sum(b) FROM t WHERE a IS NOT NULL",
        ["INSERT INTO t VALUES (NULL, 100)"],
        [[6]], [[6]]),
    "scan of an empty table replaced by an empty result": (
        ["CREATE TABLE t(a INTEGER)"],
        "SELECT count(*) FROM t WHERE a = 5",
        ["INSERT INTO t VALUES (5)"],
        [[0]], [[1]]),
    "min, max and count answered from metadata": (
        ["CREATE TABLE t(a INTEGER)", "INSERT INTO t SELECT i FROM range(100) r(i)", "CHECKPOINT"],
        "SELECT min(a), max(a), count(*) FROM t",
        ["INSERT INTO t VALUES (-1), (500)"],
        [[0, 99, 100]], [[-1, 500, 102]]),
    "perfect-hash GROUP BY sized from min and max": (
        ["CREATE TABLE t(k INTEGER, v INTEGER)",
         "INSERT INTO t SELECT i % 5, i FROM range(100) r(i)"],
        "SELECT k, count(*) FROM t GROUP BY k ORDER BY k NULLS LAST",
        ["INSERT INTO t VALUES (1000000, 1), (NULL, 2), (-7, 3)"],
        [[0, 20], [1, 20], [2, 20], [3, 20], [4, 20]],
        [[-7, 1], [0, 20], [1, 20], [2, 20], [3, 20], [4, 20], [1000000, 1], [None, 1]]),
    "join filter range from the build side": (
        ["CREATE TABLE probe AS SELECT i::BIGINT AS k FROM range(0, 6144) t(i)",
         "CREATE TABLE build(k BIGINT)", "INSERT INTO build VALUES (3000), (5000)", "CHECKPOINT"],
        "SELECT count(*), coalesce(sum(probe.k), 0) FROM probe JOIN build USING (k)",
        ["DELETE FROM build", "INSERT INTO build VALUES (1), (2), (NULL)"],
        [[2, 8000]], [[2, 3]]),
    "semi join after the build side changed": (
        ["CREATE TABLE probe AS SELECT i::BIGINT AS k FROM range(0, 6144) t(i)",
         "CREATE TABLE build(k BIGINT)", "INSERT INTO build VALUES (1), (2)", "CHECKPOINT"],
        "SELECT count(*), coalesce(sum(k), 0) FROM probe WHERE k IN (SELECT k FROM build)",
        ["INSERT INTO build VALUES (6000), (6000), (NULL)"],
        [[2, 3]], [[3, 6003]]),
    "ORDER BY with NULLs first": (
        ["CREATE TABLE t(a INTEGER)", "INSERT INTO t SELECT i FROM range(10) r(i)"],
        "SELECT a FROM t ORDER BY a NULLS FIRST LIMIT 2",
        ["INSERT INTO t VALUES (NULL)"],
        [[0], [1]], [[None], [0]]),
    "a DELETE that empties the table, then values outside the old range": (
        ["CREATE TABLE t(a INTEGER)", "INSERT INTO t SELECT i FROM range(10) r(i)"],
        "SELECT count(*), max(a) FROM t WHERE a > 5",
        ["DELETE FROM t", "INSERT INTO t VALUES (50), (60)"],
        [[4, 9]], [[2, 60]]),
    "OFFSET shortened from row-group counts": (
        ["CREATE TABLE t AS SELECT (i + 1000000)::INTEGER AS a FROM range(300000) r(i)",
         "CHECKPOINT"],
        "SELECT a FROM t ORDER BY a LIMIT 2 OFFSET 130000",
        ["INSERT INTO t SELECT i::INTEGER FROM range(200000) r(i)"],
        [[1130000], [1130001]], [[130000], [130001]]),
}


@pytest.mark.parametrize("form", ["literal", "typed"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_change_by_another_session(db, case, form):
    setup, query, change, before, after = CASES[case]
    reader, writer, admin = connected(db), connected(db), db.admin()
    run_all(writer, setup)
    assert ask(reader, query, form) == before
    assert ask(reader, query, form) == before
    run_all(writer, change)
    start = hits(admin)
    assert ask(reader, query, form) == after
    assert hits(admin) > start  # the reader re-executed its cached statement


@pytest.mark.parametrize("form", ["literal", "typed"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_own_uncommitted_change(db, case, form):
    """Inside a transaction the session sees its own writes; after ROLLBACK, the old answer."""
    setup, query, change, before, after = CASES[case]
    c, admin = connected(db), db.admin()
    run_all(c, setup)
    assert ask(c, query, form) == before
    assert c.req("start transaction") == "success"
    assert ask(c, query, form) == before
    run_all(c, change)
    start = hits(admin)
    assert ask(c, query, form) == after
    assert hits(admin) > start
    assert c.req("rollback") == "success"
    assert ask(c, query, form) == before


def test_typed_parameters_after_a_change(db):
    """A typed request with parameters: the same prepared statement, other values and data."""
    c = connected(db)
    run_all(c, ["CREATE TABLE t(a INTEGER)", "INSERT INTO t SELECT i FROM range(10) r(i)"])
    req = lambda lo: c.req('query {"sql": "SELECT count(*) FROM t WHERE a > ?", "params": [%d]}'
                           % lo)
    assert rows_of(req(5)) == [[4]]
    assert rows_of(req(50)) == [[0]]
    assert c.req("INSERT INTO t VALUES (100), (NULL)") == "2"
    assert rows_of(req(50)) == [[1]]
    assert rows_of(req(5)) == [[5]]


def test_no_user_can_turn_the_optimizers_back_on(db):
    c = connected(db)
    for sql in ("SET disabled_optimizers = ''", "RESET disabled_optimizers",
                "SET GLOBAL disabled_optimizers = 'filter_pushdown'"):
        answer = c.req(sql)
        assert answer.startswith("Error: "), (sql, answer)
    assert c.req("SELECT current_setting('disabled_optimizers') AS o") == \
        '[{"o":"statistics_propagation,row_group_pruner"}]'


# ---- the differential test -------------------------------------------------------------------

class Model:
    """The table r(id, a) kept in Python: the truth every answer is compared with."""

    def __init__(self):
        self.rows = {}

    def answers(self):
        a = [v for v in self.rows.values()]
        nn = [v for v in a if v is not None]
        ordered = sorted(self.rows.items(), key=lambda kv: (kv[1] is None, kv[1], kv[0]))
        groups = {}
        for v in a:
            key = None if v is None else v - 3 * int(v / 3)  # SQL's %: the sign of v
            groups[key] = groups.get(key, 0) + 1
        return {
            "SELECT count(*) FROM r WHERE a < 100": [[sum(1 for v in nn if v < 100)]],
            "SELECT count(*) FROM r WHERE a > 1000": [[sum(1 for v in nn if v > 1000)]],
            "SELECT count(a) FROM r": [[len(nn)]],
            "SELECT count(*) FROM r WHERE a IS NULL": [[len(a) - len(nn)]],
            "SELECT min(a), max(a), count(*) FROM r":
                [[min(nn) if nn else None, max(nn) if nn else None, len(a)]],
            "SELECT sum(a) FROM r WHERE a BETWEEN -50 AND 50":
                [[sum(v for v in nn if -50 <= v <= 50) if any(-50 <= v <= 50 for v in nn)
                  else None]],
            "SELECT a % 3 AS g, count(*) FROM r GROUP BY g ORDER BY g NULLS LAST":
                [[k, groups[k]] for k in sorted(k for k in groups if k is not None)] +
                ([[None, groups[None]]] if None in groups else []),
            "SELECT id FROM r ORDER BY a NULLS LAST, id LIMIT 3 OFFSET 2":
                [[kv[0]] for kv in ordered[2:5]],
            "SELECT count(*) FROM r JOIN (SELECT DISTINCT a FROM r WHERE a < 0) n USING (a)":
                [[sum(1 for v in nn if v < 0)]],
        }


def random_value(rnd, spread):
    roll = rnd.random()
    if roll < 0.15:
        return None
    return rnd.randint(-spread, spread)


def test_random_changes_never_give_stale_answers(db):
    rnd = random.Random(1302)
    writer, cached, fresh, admin = connected(db), connected(db), connected(db), db.admin()
    assert writer.req("CREATE TABLE r(id INTEGER PRIMARY KEY, a INTEGER)") == "success"
    model = Model()
    next_id, spread, rounds, checked, fresh_n = 1, 10, 0, 0, 0
    start_hits = hits(admin)
    deadline = time.time() + SECONDS
    while time.time() < deadline or rounds < 20:
        rounds += 1
        spread = min(spread * 2, 100000) if rnd.random() < 0.2 else spread
        op = rnd.random()
        if op < 0.45:
            values = [random_value(rnd, spread) for _ in range(rnd.randint(1, 5))]
            tuples = ", ".join("(%d, %s)" % (next_id + i, "NULL" if v is None else v)
                               for i, v in enumerate(values))
            assert writer.req("INSERT INTO r VALUES " + tuples) == str(len(values))
            for i, v in enumerate(values):
                model.rows[next_id + i] = v
            next_id += len(values)
        elif op < 0.7 and model.rows:
            victim = rnd.choice(sorted(model.rows))
            v = random_value(rnd, spread)
            assert writer.req("UPDATE r SET a = %s WHERE id = %d"
                              % ("NULL" if v is None else v, victim)) == "1"
            model.rows[victim] = v
        elif op < 0.9 and model.rows:
            lo = rnd.choice(sorted(model.rows))
            gone = [k for k in model.rows if lo <= k < lo + 4]
            assert writer.req("DELETE FROM r WHERE id >= %d AND id < %d" % (lo, lo + 4)) == \
                str(len(gone))
            for k in gone:
                del model.rows[k]
        elif op < 0.93:
            assert writer.req("DELETE FROM r") == str(len(model.rows))
            model.rows.clear()
        for sql, want in model.answers().items():
            form = "typed" if rounds % 2 else "literal"
            got = ask(cached, sql, form)
            fresh_n += 1
            other = ask(fresh, "/* fresh %d */ %s" % (fresh_n, sql), form)
            assert got == other == want, (sql, got, other, want, rounds)
            checked += 1
    used = hits(admin) - start_hits
    print("differential: %d rounds, %d answers checked, %d cache hits" % (rounds, checked, used))
    assert used >= checked // 2  # the cached session really re-executed its statements


# ---- sqllogictest-style files ----------------------------------------------------------------

def parse_slt(path):
    """Records of a sqllogictest-style file: ("statement", ok|error, sql) and
    ("query", sql, expected rows as lists of strings)."""
    records, lines = [], open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        head = line.split()
        body = []
        while i < len(lines) and lines[i].strip() and lines[i].strip() != "----":
            body.append(lines[i])
            i += 1
        sql = "\n".join(body)
        if head[0] == "statement":
            records.append(("statement", head[1], sql))
        elif head[0] == "query":
            expected = []
            if i < len(lines) and lines[i].strip() == "----":
                i += 1
                while i < len(lines) and lines[i].strip():
                    expected.append(lines[i].split("\t"))
                    i += 1
            records.append(("query", sql, expected))
        else:
            raise ValueError("%s: unknown record %r" % (path, line))
    return records


def slt_text(v):
    if v is None:
        return "NULL"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # the plain form writes 3.0 as 3; the files use the plain spelling
    return str(v)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(HERE, "slt", "*.test"))),
                         ids=os.path.basename)
def test_slt(db, path):
    c = connected(db)
    for n, record in enumerate(parse_slt(path)):
        if record[0] == "statement":
            _, want, sql = record
            answer = c.req_long(sql)
            assert answer.startswith("Error") == (want == "error"), (n, sql, answer)
            continue
        _, sql, expected = record
        for form in ("literal", "typed"):
            answer = c.req_long(sql) if form == "literal" else c.req_long(typed(sql))
            got = plain_rows(answer) if form == "literal" else rows_of(answer)
            assert [[slt_text(v) for v in row] for row in got] == expected, (n, form, sql)
