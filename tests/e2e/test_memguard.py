"""
The memory guard (docs/security.md, "Memory"; src/memguard.h): in the release build a worker
thread's allocator refuses memory beyond StatementMemoryLimit and MemoryLimit, so the issue's
45-byte statements end with the limit's error while the server stays under its budget, in the
same process (no MemoryHardLimit exit, no restart), and every other session goes on.

The guard needs both allocators to be jemalloc, which only the release build links: `make
release-test` runs this file against build/tcp-duckdb. In the sanitizer builds (`make e2e`) only
the first test runs, which checks that the guard is off there (those builds keep the watchdog and
MemoryHardLimit, tests/e2e/test_memory.py); the others are skipped there, not passed.
"""
import json
import threading

import pytest

from conftest import BIN, wait_for

STATEMENT_LIMIT = ("Error: Statement Memory Limit: the statement allocated more than 150MB "
                   "(StatementMemoryLimit)")
SERVER_LIMIT = ("Error: Server Memory Limit: the server's memory reached 400MB (MemoryLimit) and "
                "the statement was interrupted to bring it down")
BUDGET_MB = 400

# The issue's statements. RANGE is folded while DuckDB plans it (1GB list, then gigabytes of
# Values through malloc), where no interrupt reaches; the others allocate their memory in one
# call (printf, lpad) or grow chunk by chunk (string_agg, the recursive list_concat).
RANGE = "SELECT length(range(0, 100000000)) AS n"
BATCH = [
    RANGE,
    "SELECT length(printf('%0999999999d', 1)) AS n",
    "SELECT length(lpad('x', 2000000000, 'y')) AS n",
    "SELECT length(string_agg(repeat('x', 1000), ',')) AS n FROM range(1000000)",
    "SELECT length(range(0, x)) AS n FROM (VALUES (100000000)) t(x)",
    "WITH RECURSIVE t(l, n) AS (SELECT [1], 0 UNION ALL SELECT list_concat(l, l), n + 1 FROM t "
    "WHERE n < 40) SELECT max(len(l)) AS n FROM t",
    "SELECT length(list(range)) AS n FROM range(100000000)",
]


def release_build():
    with open(BIN, "rb") as f:
        return b"libjemalloc.so" in f.read()


release_only = pytest.mark.skipif(
    not release_build(), reason="the memory guard needs the release build's jemalloc; "
    "make release-test runs this against build/tcp-duckdb")


def status_kb(srv, field):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no " + field)


def budget_kb(srv):
    """The most RSS the server may reach: MemoryLimit counts allocated memory, so the process's
    code, libraries and what it held at start (read now, before any statement) come on top."""
    return BUDGET_MB * 1024 + status_kb(srv, "VmRSS")


def reader(srv, args_db="shared"):
    """A normal user with a plain read grant, connected to a database with a table."""
    a = srv.admin()
    assert a.req("create database %s" % args_db) == "success"
    assert a.req("connect %s" % args_db) == "success"
    assert a.req("CREATE TABLE t AS SELECT 1 AS i") == "success"
    assert a.req("create user mallory pw") == "success"
    assert a.req("grant database %s mallory read" % args_db) == "success"
    assert a.req("grant table %s t mallory select" % args_db) == "success"
    a.close()
    m = srv.client(login=("mallory", "pw"))
    assert m.req("connect %s" % args_db) == "success"
    m.sock.settimeout(300)
    return m


def run_beside(srv, m, sql):
    """Runs `sql` as `m` while another session answers; returns m's answer."""
    b = srv.admin()
    assert b.req("connect shared") == "success"
    answer = []
    t = threading.Thread(target=lambda: answer.append(m.req(sql)))
    t.start()
    while t.is_alive():
        assert b.req("SELECT 42 AS n") == '[{"n":42}]'
        t.join(0.1)
    b.close()
    return answer[0]


def test_the_guard_is_on_only_in_the_release_build(make_server):
    srv = make_server(["--memory-limit", "400MB"])
    on = "memory guard on" in srv.stderr()
    assert on == release_build(), srv.stderr()


@release_only
def test_statement_limit_ends_the_issues_statements_in_the_same_process(make_server):
    srv = make_server(["--memory-limit", "%dMB" % BUDGET_MB, "--statement-memory-limit", "150MB",
                       "--duckdb-memory-limit", "2GB"])
    pid = srv.proc.pid
    budget = budget_kb(srv)
    m = reader(srv)
    for sql in BATCH:
        assert run_beside(srv, m, sql) == STATEMENT_LIMIT, sql
        # The same session goes on, in the same process, which never held more than its budget.
        assert m.req("SELECT count(*) AS n FROM t") == '[{"n":1}]'
        assert srv.proc.poll() is None and srv.proc.pid == pid
        assert status_kb(srv, "VmHWM") < budget, (sql, status_kb(srv, "VmHWM"), budget)
    with srv.admin() as a:
        st = json.loads(a.req("stats"))["statements"]
    assert st["statement_memory"] == len(BATCH), st
    # Refused by the guard; or, when a statement reused address space its arena had kept (no
    # hook call), caught by the watchdog's count at its next tick. Never the hard limit. (The
    # log is read by another thread: wait for its lines.)
    def counts():
        log = srv.stderr()
        return (log.count("refusing memory to a statement: it would pass StatementMemoryLimit "
                          "(150MB)"), log.count("more than StatementMemoryLimit (150MB)"))
    assert wait_for(lambda: sum(counts()) == len(BATCH), timeout=30), srv.stderr()
    assert counts()[0] >= 1, srv.stderr()
    log = srv.stderr()
    assert "reached MemoryHardLimit" not in log, log


@release_only
def test_memory_limit_ends_the_planned_range_without_a_statement_limit(make_server):
    srv = make_server(["--memory-limit", "%dMB" % BUDGET_MB, "--statement-memory-limit", "0",
                       "--duckdb-memory-limit", "2GB"])
    pid = srv.proc.pid
    budget = budget_kb(srv)
    m = reader(srv)
    assert run_beside(srv, m, RANGE) == SERVER_LIMIT
    assert m.req("SELECT count(*) AS n FROM t") == '[{"n":1}]'
    assert srv.proc.poll() is None and srv.proc.pid == pid
    assert status_kb(srv, "VmHWM") < budget, (status_kb(srv, "VmHWM"), budget)
    assert wait_for(lambda: "it would pass MemoryLimit (400MB)" in srv.stderr(), timeout=30), \
        srv.stderr()


@release_only
def test_concurrent_statements_share_the_budget(make_server):
    """Three sessions grow strings at once, none over a statement limit: MemoryLimit is what
    stops them, and the server's peak stays under it (plus what it held at start)."""
    srv = make_server(["--memory-limit", "%dMB" % BUDGET_MB, "--statement-memory-limit", "0",
                       "--duckdb-memory-limit", "2GB"])
    pid = srv.proc.pid
    budget = budget_kb(srv)
    sessions = [reader(srv)] + [srv.client(login=("mallory", "pw")) for _ in range(2)]
    for s in sessions[1:]:
        assert s.req("connect shared") == "success"
        s.sock.settimeout(300)
    sql = "SELECT length(string_agg(repeat('x', 1000), ',')) AS n FROM range(1000000)"
    answers = []
    threads = [threading.Thread(target=lambda s=s: answers.append(s.req(sql))) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert len(answers) == 3
    # Each either finished (1GB is out of reach, so none can) or was stopped at the budget.
    assert all(a == SERVER_LIMIT for a in answers), answers
    for s in sessions:
        assert s.req("SELECT count(*) AS n FROM t") == '[{"n":1}]'
    assert srv.proc.poll() is None and srv.proc.pid == pid
    assert status_kb(srv, "VmHWM") < budget, (status_kb(srv, "VmHWM"), budget)
