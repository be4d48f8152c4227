"""
Fair sharing (docs/architecture.md, "Workers: long work does not starve short work";
docs/security.md, "Limits"): long statements and waiting connects do not hold back other users'
short requests, one user cannot take every worker (MaxUserStatements), and a transaction left open
ends (IdleInTransactionTimeout).

Timing: the long statements here would run for hours; the only thresholds tell "answered while
they run" from "answered after them", and are generous for a loaded machine.
"""
import json
import select
import threading
import time

from conftest import wait_for

RANGE_SUM = "SELECT sum(range) AS s FROM range(1000000000000)"
SLEEP = "SELECT sleep_ms(2147483647) AS s"
# A 2GB string grown chunk by chunk (as in test_memory.py).
STRING_AGG = "SELECT length(string_agg(repeat('x', 1000), ',')) AS n FROM range(2000000)"
GENEROUS = 30
TOO_MANY = ("Error: Too Many Statements: user %s already runs %d statements at once "
            "(MaxUserStatements); try again when one has finished")
IDLE_IN_TX = ("Error: Idle In Transaction Timeout: the transaction was left open longer than "
              "IdleInTransactionTimeout and is rolled back")


def stats(srv):
    with srv.admin() as a:
        return json.loads(a.req("stats"))


def setup_users(srv, users, db="f"):
    with srv.admin() as a:
        assert a.req("create database %s" % db) == "success"
        assert a.req("connect %s" % db) == "success"
        assert a.req("CREATE TABLE t AS SELECT range AS i FROM range(10)") == "success"
        for u in users:
            assert a.req("create user %s pw" % u) == "success"
            assert a.req("grant database %s %s write" % (db, u)) == "success"
            assert a.req("grant table %s t %s select insert" % (db, u)) == "success"


def user_client(srv, name, db="f"):
    c = srv.client(login=(name, "pw"))
    assert c.req("connect %s" % db) == "success"
    return c


def test_short_requests_are_answered_while_every_worker_runs_a_long_one(make_server):
    """QueryWorkers long statements, then twice as many: another user's SELECT 1 is answered
    while all of them still run, and the extra threads retire once the long work is over."""
    srv = make_server(["--query-workers", "2", "--statement-timeout", "0"])
    setup_users(srv, ["a", "b", "c", "s"])
    short = user_client(srv, "s")
    longs = []
    for n in (2, 4):
        while len(longs) < n:
            c = user_client(srv, "abc"[len(longs) % 3])
            c.send_raw(RANGE_SUM.encode() + b"\n")
            longs.append(c)
        time.sleep(0.3)
        for _ in range(5):
            t0 = time.monotonic()
            assert short.req("SELECT count(*) AS n FROM t") == '[{"n":10}]'
            assert time.monotonic() - t0 < GENEROUS
        w = stats(srv)["workers"]
        assert w["threads"] > n, w
    # None of the long statements has answered: they were all running meanwhile.
    readable, _, _ = select.select([c.sock for c in longs], [], [], 0)
    assert readable == []
    for c in longs:
        c.close()
    assert wait_for(lambda: stats(srv)["statements"]["interrupted"] == 4, timeout=GENEROUS)
    # Threads beyond QueryWorkers retire after WORKERS_RETIRE_MS (10 s) without work.
    assert wait_for(lambda: stats(srv)["workers"]["threads"] == 2, timeout=60, step=0.5)
    assert stats(srv)["workers"]["peak"] >= 5


def test_max_user_statements(make_server):
    srv = make_server(["--max-user-statements", "2", "--statement-timeout", "0"])
    setup_users(srv, ["u", "v"])
    busy = [user_client(srv, "u") for _ in range(2)]
    for c in busy:
        c.send_raw(SLEEP.encode() + b"\n")
    third = user_client(srv, "u")
    assert wait_for(lambda: third.req("SELECT 1 AS n") == TOO_MANY % ("u", 2))
    # Only that request was refused: other users and the super user run.
    with user_client(srv, "v") as v:
        assert v.req("SELECT count(*) AS n FROM t") == '[{"n":10}]'
    with srv.admin() as a:
        assert a.req("connect f") == "success"
        assert a.req("SELECT 2 AS n") == '[{"n":2}]'
    # A refused request inside a transaction does not break it.
    assert third.req("begin") == "success"
    assert third.req("INSERT INTO t VALUES (100)") == TOO_MANY % ("u", 2)
    busy[0].close()
    # Refused until the abandoned statement's request has ended (its slot is freed after the
    # watchdog counts the interrupt); a refused INSERT ran nothing, so it is sent again.
    answers = []
    assert wait_for(lambda: answers.append(third.req("INSERT INTO t VALUES (100)")) or
                    answers[-1] != TOO_MANY % ("u", 2), timeout=GENEROUS)
    assert answers[-1] == "1"
    assert third.req("commit") == "success"
    assert third.req("SELECT count(*) AS n FROM t") == '[{"n":11}]'
    busy[1].close()
    third.close()


def test_idle_in_transaction_timeout(make_server):
    srv = make_server(["--idle-in-transaction-timeout", "1"])
    setup_users(srv, ["u"])
    idle = user_client(srv, "u")
    in_tx = user_client(srv, "u")
    assert in_tx.req("begin") == "success"
    assert in_tx.req("INSERT INTO t VALUES (100)") == "1"
    # Closed with the reason within a few scans; the insert is rolled back.
    in_tx.sock.settimeout(GENEROUS)
    assert in_tx.line() == IDLE_IN_TX
    assert in_tx.closed()
    # A session without a transaction is not affected by this limit.
    time.sleep(2.5)
    assert idle.req("SELECT count(*) AS n FROM t") == '[{"n":10}]'
    # A transaction that keeps sending requests is not idle.
    assert idle.req("begin") == "success"
    for _ in range(6):
        time.sleep(0.4)
        assert idle.req("SELECT count(*) AS n FROM t") == '[{"n":10}]'
    assert idle.req("commit") == "success"
    assert "IdleInTransactionTimeout" in srv.stderr()
    idle.close()


def test_waiting_connects_beyond_the_workers_are_served(make_server):
    """More connects than QueryWorkers wait for a pinned pool (issue 14, finding 10): they are
    not refused at once, other requests are answered meanwhile, and all are served in order
    once the slot is released."""
    srv = make_server(["--pool-size", "1", "--pool-wait-ms", "60000", "--query-workers", "2"])
    with srv.admin() as a:
        assert a.req("create database a") == "success"
        assert a.req("create database b") == "success"
    holder = srv.admin()
    assert holder.req("connect a") == "success"
    other = srv.admin()
    assert other.req("connect a") == "success"  # the same database: no wait
    answers = {}

    def connect_b(i):
        c = srv.admin()
        answers[i] = (c.req("connect b"), c.req("SELECT %d AS n" % i))
        c.close()

    waiters = [threading.Thread(target=connect_b, args=(i,)) for i in range(6)]
    for t in waiters:
        t.start()
    assert wait_for(lambda: stats(srv)["pool"]["waiting"] == 6, timeout=GENEROUS)
    assert other.req("SELECT 7 AS n") == '[{"n":7}]'
    assert holder.req("disconnect") == "success"
    assert other.req("disconnect") == "success"
    for t in waiters:
        t.join(GENEROUS)
    assert answers == {i: ("success", '[{"n":%d}]' % i) for i in range(6)}
    pool = stats(srv)["pool"]
    assert pool["rejected"] == 0 and pool["timeouts"] == 0, pool
    other.close()
    holder.close()


def test_checkpoint_while_a_reader_holds_a_transaction(make_server):
    """Issue 14, finding 11: a read-only user's open transaction does not block CHECKPOINT."""
    srv = make_server()
    setup_users(srv, ["r"])
    r = user_client(srv, "r")
    assert r.req("begin") == "success"
    assert r.req("SELECT count(*) AS n FROM t") == '[{"n":10}]'
    with srv.admin() as a:
        assert a.req("connect f") == "success"
        assert a.req("INSERT INTO t VALUES (11)") == "1"
        assert a.req("CHECKPOINT") == "[]"
    # The reader's snapshot is unchanged until its transaction ends.
    assert r.req("SELECT count(*) AS n FROM t") == '[{"n":10}]'
    assert r.req("commit") == "success"
    assert r.req("SELECT count(*) AS n FROM t") == '[{"n":11}]'
    r.close()


def test_limits_per_user(make_server):
    """The super user sets a user's own limits over the server's defaults (as PostgreSQL's
    ALTER ROLE ... SET); they apply from the user's next login."""
    srv = make_server(["--max-user-statements", "5", "--statement-timeout", "0",
                       "--memory-limit", "4GB", "--statement-memory-limit", "1GB",
                       "--duckdb-memory-limit", "2GB"])
    setup_users(srv, ["u", "v", "w"])
    with srv.admin() as a:
        assert json.loads(a.req("list limits u")) == [
            {"setting": "statement_timeout", "value": 0, "source": "server"},
            {"setting": "idle_in_transaction_timeout", "value": 600, "source": "server"},
            {"setting": "max_statements", "value": 5, "source": "server"},
            {"setting": "statement_memory", "value": 1 << 30, "source": "server"}]
        for cmd, answer in [
                ("update user limit u statement_timeout 3", "success"),
                ("update user limit u max_statements 1", "success"),
                ("update user limit u idle_in_transaction_timeout 1", "success"),
                ("update user limit u statement_memory 100MB", "success"),
                ("update user limit u statement_memory 10%",
                 "Error: Bad Request: statement_memory is a size of 1MB or more, such as 512MB "
                 "or 2GB, or default"),
                ("update user limit u max_statements 0",
                 "Error: Bad Request: max_statements is an integer from 1 to 1000000, "
                 "or default"),
                ("update user limit u statement_timeout -1",
                 "Error: Bad Request: statement_timeout is an integer from 0 to 31536000, "
                 "or default"),
                ("update user limit u work_mem 1",
                 "Error: Bad Request: usage: update user limit USER SETTING VALUE|default, "
                 "SETTING is one of statement_timeout, idle_in_transaction_timeout, "
                 "max_statements, statement_memory"),
                ("update user limit nobody statement_timeout 1",
                 "Error: User nobody Does Not Exist")]:
            assert a.req(cmd) == answer, cmd
        assert json.loads(a.req("list limits u")) == [
            {"setting": "statement_timeout", "value": 3, "source": "user"},
            {"setting": "idle_in_transaction_timeout", "value": 1, "source": "user"},
            {"setting": "max_statements", "value": 1, "source": "user"},
            {"setting": "statement_memory", "value": 100 << 20, "source": "user"}]
    # A user sees their own limits, not another's.
    with user_client(srv, "v") as v:
        assert json.loads(v.req("list limits"))[0]["source"] == "server"
        assert v.req("list limits u") == "Error: Unauthorized"
        assert v.req("update user limit v statement_timeout 0") == "Error: Unauthorized"
    # max_statements 1 (user w, no statement timeout): a second connection of w is refused
    # while the first runs, and served once it has ended. (Before u's statements below: what
    # DuckDB still holds of u's interrupted 2GB string_agg must not count against w's sleep.)
    with srv.admin() as a:
        assert a.req("update user limit w max_statements 1") == "success"
    w1, w2 = user_client(srv, "w"), user_client(srv, "w")
    w1.send_raw(SLEEP.encode() + b"\n")

    def refused():
        # The sleep runs until w1 closes: any answer of w1 now is the failure to report.
        early = select.select([w1.sock], [], [], 0)[0]
        assert not early, "w1's sleep ended early: %r" % w1.line()
        return w2.req("SELECT 1 AS n") == TOO_MANY % ("w", 1)

    assert wait_for(refused, timeout=GENEROUS)
    w1.close()
    assert wait_for(lambda: w2.req("SELECT 1 AS n") == '[{"n":1}]', timeout=GENEROUS)
    w2.close()
    u = user_client(srv, "u")
    assert json.loads(u.req("list limits"))[2] == {"setting": "max_statements", "value": 1,
                                                  "source": "user"}
    # statement_timeout 3: u's long statement ends; v's would not (the server's 0).
    t0 = time.monotonic()
    assert u.req(RANGE_SUM) == ("Error: Statement Timeout: the statement ran longer than 3 s "
                                "(StatementTimeout)")
    assert time.monotonic() - t0 < GENEROUS
    # statement_memory 100MB: a 2GB string_agg ends at u's limit, not the server's 1GB.
    assert u.req(STRING_AGG) == ("Error: Statement Memory Limit: the statement allocated more "
                                 "than 100MB (StatementMemoryLimit)")
    second = user_client(srv, "u")
    # idle_in_transaction_timeout 1.
    assert second.req("begin") == "success"
    second.sock.settimeout(GENEROUS)
    assert second.line() == IDLE_IN_TX
    # Back to the defaults: from the next login.
    with srv.admin() as a:
        for name in ("statement_timeout", "max_statements", "idle_in_transaction_timeout",
                     "statement_memory"):
            assert a.req("update user limit u %s default" % name) == "success"
        assert a.req("update user limit u max_statements default") == "success"
        assert [r["source"] for r in json.loads(a.req("list limits u"))] == ["server"] * 4
    assert u.req("SELECT 2 AS n") == '[{"n":2}]'  # the old session keeps its limits
    u.close()
    # The limits are kept across a restart (the catalog).
    with srv.admin() as a:
        assert a.req("update user limit v max_statements 3") == "success"
    srv.restart()
    with srv.admin() as a:
        assert json.loads(a.req("list limits v"))[2] == {"setting": "max_statements", "value": 3,
                                                          "source": "user"}
