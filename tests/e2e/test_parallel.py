"""DuckdbThreads and the helpers of src/parallel.c: a statement that runs long is joined by
helper threads (one fewer than the cores the server may use), gives the same answer as with one
thread, and can still be interrupted; a server pinned to one core starts no helper. No timing."""
import glob
import os

from conftest import wait_for

ROWS = 2_000_000
GROUPS = 1000
# Integers only, so the answer is exact whatever the order the threads add in.
AGG = ("SELECT count(*) AS n, sum(c) AS c, sum(s) AS s FROM "
       "(SELECT g, count(*) AS c, sum(x) AS s FROM big GROUP BY g) t")


def expected_agg():
    # x = i % 7, g = i % GROUPS for i in 0..ROWS-1.
    s = sum(i % 7 for i in range(7)) * (ROWS // 7) + sum(i % 7 for i in range(ROWS % 7))
    return '[{"n":%d,"c":%d,"s":%d}]' % (GROUPS, ROWS, s)


def helper_threads(pid):
    """{tid: cpu ticks} of the server's threads named tdb-parallel."""
    out = {}
    for task in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(task + "/comm") as f:
                name = f.read().strip()
            with open(task + "/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if name == "tdb-parallel":
            out[task] = int(rest[11]) + int(rest[12])
    return out


def load_big(srv):
    a = srv.admin()
    assert a.req("create database p") == "success"
    assert a.req("connect p") == "success"
    assert a.req("CREATE TABLE big AS SELECT (i %% %d)::INTEGER AS g, (i %% 7)::BIGINT AS x "
                 "FROM range(%d) t(i)" % (GROUPS, ROWS)) == "success"
    return a


def test_long_statement_is_helped_and_answers_the_same(make_server, tmp_path):
    cores = len(os.sched_getaffinity(0))
    assert cores >= 2, "this test needs a machine with 2 cores or more"
    srv = make_server(args=["--cache-memory", "0"])
    # DuckdbThreads=0: one thread per core, the statement's worker and cores - 1 helpers.
    assert len(helper_threads(srv.proc.pid)) == cores - 1
    a = load_big(srv)
    before = helper_threads(srv.proc.pid)

    def helped():
        assert a.req(AGG) == expected_agg()
        after = helper_threads(srv.proc.pid)
        return sum(after.values()) > sum(before.values())

    # The helpers join a statement after 2 ms; on a loaded machine they may not get a core
    # at once, so the aggregate (hundreds of ms) runs until one has used CPU for it.
    assert wait_for(helped, timeout=120, step=0)
    # The same answer with one thread per statement (no helper at all).
    one = make_server(args=["--cache-memory", "0", "--duckdb-threads", "1"], data=str(tmp_path))
    assert helper_threads(one.proc.pid) == {}
    b = load_big(one)
    assert b.req(AGG) == expected_agg()


def test_helped_statement_times_out_and_database_closes(make_server):
    srv = make_server(args=["--cache-memory", "0", "--duckdb-threads", "2", "--pool-size", "1",
                            "--statement-timeout", "10"])
    assert len(helper_threads(srv.proc.pid)) == 1
    a = load_big(srv)
    # A nested loop join that never ends in time: interrupted by the watchdog while helped.
    ans = a.req("SELECT count(*) FROM big a, big b WHERE a.x + b.x = -1")
    assert ans.startswith("Error: Statement Timeout"), ans
    assert a.req(AGG) == expected_agg()
    # PoolSize 1: entering another database closes `p`, whose statements the helpers ran.
    assert a.req("create database q") == "success"
    assert a.req("connect q") == "success"
    assert a.req("SELECT 42 AS v") == '[{"v":42}]'
    assert a.req("connect p") == "success"
    assert a.req(AGG) == expected_agg()


def test_one_core_starts_no_helper(make_server):
    """Pinned to one core (taskset -c 0), DuckdbThreads=0 means one thread: no helper."""
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(mask)})
    try:
        srv = make_server(args=["--cache-memory", "0"])
    finally:
        os.sched_setaffinity(0, mask)
    assert helper_threads(srv.proc.pid) == {}
    a = load_big(srv)
    assert a.req(AGG) == expected_agg()
