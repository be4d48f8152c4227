"""
Memory limits (docs/security.md, "Memory"): StatementMemoryLimit ends the statement that allocated
too much, MemoryLimit the statement that allocated the most when the server's total reaches it;
each ends only that statement with an error naming the limit, the session and the other sessions
go on, and the server's memory comes back down. Each database's DuckDB memory_limit is derived
from MemoryLimit.

The budgets are small (600MB, 200MB) so that the statements stay small and fast. Every statement
here allocates its memory within one chunk of work or one function call, the case the watchdog can
only end after the call returns (docs/security.md says by how much it overshoots).
"""
import json
import threading

from conftest import run_bin, wait_for

STATEMENT_LIMIT = ("Error: Statement Memory Limit: the statement allocated more than 200MB "
                   "(StatementMemoryLimit)")
SERVER_LIMIT = ("Error: Server Memory Limit: the server's memory reached 600MB (MemoryLimit) and "
                "the statement was interrupted to bring it down")

# A 300MB string made by one call of printf (through malloc, inside DuckDB's std::string), then
# stored in DuckDB's string heap; its argument is a column, so it runs when the statement executes.
PRINTF = "SELECT length(printf('%0300000000d', range)) AS n FROM range(1)"
# A 2GB string grown chunk by chunk (DuckDB's allocator, outside its buffer manager).
STRING_AGG = "SELECT length(string_agg(repeat('x', 1000), ',')) AS n FROM range(2000000)"
# A 4M-element list built by one call of range(), with a copy of its values through malloc.
RANGE = "SELECT length(range(0, 4000000)) AS n"

LIMITS = ["--memory-limit", "600MB", "--statement-memory-limit", "200MB"]


def connected(srv, db="mem"):
    c = srv.admin()
    r = c.req("create database %s" % db)
    assert r in ("success", "Error: Database %s Already Exists" % db), r
    assert c.req("connect %s" % db) == "success"
    c.sock.settimeout(120)
    return c


def stats(srv):
    with srv.admin() as a:
        return json.loads(a.req("stats"))


def rss_mb(srv):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def run_beside(srv, a, sql):
    """Runs `sql` on `a` while another session answers SELECT 42; returns a's answer."""
    b = connected(srv)
    answer = []
    t = threading.Thread(target=lambda: answer.append(a.req(sql)))
    t.start()
    while t.is_alive():
        assert b.req("SELECT 42 AS n") == '[{"n":42}]'
        t.join(0.2)
    b.close()
    return answer[0]


def test_statement_memory_limit_ends_only_the_statement(make_server):
    # DuckDB's own buffer-manager limit out of the way: here the watchdog ends them.
    srv = make_server(LIMITS + ["--duckdb-memory-limit", "2GB"])
    a = connected(srv)
    a.req("SELECT 1 AS warm")
    start = rss_mb(srv)
    for sql in (PRINTF, STRING_AGG):
        assert run_beside(srv, a, sql) == STATEMENT_LIMIT, sql
        # The same session goes on.
        assert a.req("SELECT 7 AS n") == '[{"n":7}]'
    st = stats(srv)
    assert st["statements"]["statement_memory"] == 2, st
    assert st["statements"]["interrupted"] == 2, st
    assert st["statements"]["server_memory"] == 0, st
    assert st["memory"]["limit"] == 600 << 20 and st["memory"]["statement_limit"] == 200 << 20
    # The memory is given back: the allocators' count at once, the process's RSS within seconds
    # (generous slack: allocators keep some pages, the machine is busy; ASan keeps up to 256MB of
    # freed memory in its quarantine).
    assert wait_for(lambda: stats(srv)["memory"]["allocated"] < 150 << 20, timeout=10), stats(srv)
    log = srv.stderr()
    slack = 250 + (300 if "the sanitizer's allocator" in log else 0)
    # TSan keeps the shadow of memory once touched: its RSS says nothing about the server's.
    with open("/proc/%d/maps" % srv.proc.pid) as f:
        tsan = "libtsan" in f.read()
    if not tsan:
        assert wait_for(lambda: rss_mb(srv) < start + slack, timeout=30), (start, rss_mb(srv))
    assert "more than StatementMemoryLimit (200MB)" in log, log


def test_range_list_is_ended_after_its_call(make_server):
    """One call of range() is not interruptible: the statement ends with the limit when it returns.

    In the release build the copy range() makes through malloc is this thread's (jemalloc counts
    per thread), so StatementMemoryLimit ends it; the sanitizer builds' allocators count no
    threads, so there only the part in DuckDB's allocator is attributed, and the statement may
    finish within both limits."""
    srv = make_server(LIMITS + ["--duckdb-memory-limit", "2GB"])
    a = connected(srv)
    answer = run_beside(srv, a, RANGE)
    assert answer in (STATEMENT_LIMIT, SERVER_LIMIT, '[{"n":4000000}]'), answer
    if "jemalloc allocator" in srv.stderr():
        assert answer == STATEMENT_LIMIT
    assert a.req("SELECT 7 AS n") == '[{"n":7}]'


def test_server_memory_limit_ends_the_largest_statement(make_server):
    srv = make_server(["--memory-limit", "600MB", "--statement-memory-limit", "0",
                       "--duckdb-memory-limit", "2GB"])
    a = connected(srv)
    # A statement that runs meanwhile but allocates little is not the one interrupted.
    c = connected(srv)
    c.send_raw(b"SELECT sleep_ms(4000) AS s\n")
    assert run_beside(srv, a, STRING_AGG) == SERVER_LIMIT
    assert a.req("SELECT 7 AS n") == '[{"n":7}]'
    assert c.line() == '[{"s":null}]'
    st = stats(srv)["statements"]
    assert st["server_memory"] == 1 and st["statement_memory"] == 0, st
    assert "reached MemoryLimit (600MB)" in srv.stderr()


def test_duckdb_memory_limit_is_derived_from_memory_limit(make_server, tmp_path):
    """Without DuckdbMemoryLimit each database gets MemoryLimit / (2 x PoolSize), at least 64MB:
    DuckDB's buffer manager then fails an aggregate that outgrows it, before any watchdog."""
    srv = make_server(["--memory-limit", "4GB", "--pool-size", "4"])
    a = connected(srv)
    assert a.req("SELECT current_setting('memory_limit') AS m") == '[{"m":"512.0 MiB"}]'
    assert "DuckDB memory_limit per database 512MiB" in srv.stderr()
    srv2 = make_server(LIMITS, data=str(tmp_path))
    b = connected(srv2, db="mem2")
    assert b.req("SELECT current_setting('memory_limit') AS m") == '[{"m":"64.0 MiB"}]'
    answer = b.req(STRING_AGG)
    assert answer.startswith("Error: Out of Memory Error: failed to allocate"), answer
    assert b.req("SELECT 7 AS n") == '[{"n":7}]'


def test_memory_settings_are_checked():
    rc, _, err = run_bin(["--memory-limit", "lots"])
    assert rc != 0 and "MemoryLimit must be a size such as 4GB" in err, err
    rc, _, err = run_bin(["--statement-memory-limit", "120%"])
    assert rc != 0 and "StatementMemoryLimit must be a size" in err, err
    rc, out, _ = run_bin(["--help"])
    assert rc == 0 and "--memory-limit, MemoryLimit" in out and "StatementMemoryLimit" in out
