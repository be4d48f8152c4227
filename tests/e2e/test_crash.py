"""
Crash containment and recovery (issue 14; docs/architecture.md, "Supervisor" and "Containment
of an invalidated database").

- The supervisor (src/supervisor.c) restarts a crashed server at once and stops with it on
  SIGTERM/SIGINT; a start-up error is not retried.
- A crash loses no committed transaction: writers commit while the server is made to crash with
  `debug crash`, a command compiled only into the sanitizer builds (-DTCPDUCKDB_TEST_HOOKS);
  the release build must not know it.
- A database DuckDB invalidates is reopened by the pool; other databases keep answering.

The crash is abort(): SIGABRT, which the sanitizers do not report, so the fixture's check of the
log for sanitizer reports stays as strict as for every other test; each test checks that the
only crash in the log is its own.
"""
import json
import os
import re
import signal
import socket
import threading
import time

import pytest

from conftest import BIN, ROOT, Client, run_bin, wait_for
from test_limits import BROKEN_AST

RESTARTED = re.compile(r"supervisor: server restarted \(pid (\d+)\)")
CRASHED = re.compile(r"supervisor: server \(pid \d+\) crashed, killed by signal (\d+)")


def free_port():
    """A port that was free a moment ago: the supervised server must keep its port across a
    restart, which port 0 would not."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def supervised(make_server, *args):
    return make_server(args=["--supervise", "on", "--port", str(free_port())] + list(args))


def server_pid(srv):
    """The supervised server: the supervisor's child (its first start is not logged, so that a
    start-up error stays one line)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == srv.proc.pid:
            return int(entry)
    raise AssertionError("the supervisor has no child")


def restarts(srv):
    return len(RESTARTED.findall(srv.stderr()))


def has_crash_hook(srv):
    with srv.client() as c:
        return any(r["command"].startswith("debug crash") for r in json.loads(c.req("help")))


def sanitizer_build():
    return "/asan/" in BIN or "/tsan/" in BIN


def wait_until_serving(srv, timeout=60):
    """Polls until a login succeeds; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with Client(srv.port, timeout=5) as c:
                if c.req("login duck duck") == "success":
                    return time.monotonic() - start
        except (OSError, ConnectionError):
            pass
        time.sleep(0.02)
    raise AssertionError("the server did not come back within %d s:\n%s"
                         % (timeout, srv.stderr()[-5000:]))


def test_debug_crash_exists_only_in_test_builds(server):
    with server.admin() as c:
        hook = any(r["command"].startswith("debug crash") for r in json.loads(c.req("help")))
        assert hook == sanitizer_build(), BIN
        if not hook:
            # SQL like any other text: DuckDB's parser error, and the server goes on.
            answer = c.req("debug crash")
            assert answer.startswith("Error: "), answer
            assert c.req("help").startswith("[")
    release = os.path.join(ROOT, "build", "tcp-duckdb")
    if os.path.exists(release):
        with open(release, "rb") as f:
            assert b"debug crash" not in f.read()


def test_crash_loses_no_committed_transaction(make_server, record_property):
    srv = supervised(make_server)
    # The release build has no hook: `make release-test` deselects this test (never a skip).
    assert has_crash_hook(srv), "this test needs a sanitizer build (the crash hook)"
    with srv.admin() as c:
        assert c.req("create database crashdb") == "success"
        assert c.req("connect crashdb") == "success"
        assert c.req("CREATE TABLE t (w INTEGER, seq INTEGER, part INTEGER)") == "success"

    writers = 4
    acked = [set() for _ in range(writers)]      # commits answered success
    in_flight = [None] * writers                 # the commit sent when the connection broke
    errors = []

    def write(w):
        try:
            c = srv.client(login=("duck", "duck"))
            assert c.req("connect crashdb") == "success"
        except (OSError, ConnectionError) as e:
            errors.append("writer %d could not start: %r" % (w, e))
            return
        seq = 0
        try:
            while True:
                assert c.req("start transaction") == "success"
                for part in (0, 1):
                    assert c.req("INSERT INTO t VALUES (%d, %d, %d)" % (w, seq, part)) == "1"
                in_flight[w] = seq
                answer = c.req("commit")
                assert answer == "success", answer
                acked[w].add(seq)
                in_flight[w] = None
                seq += 1
        except (OSError, ConnectionError):
            pass  # the crash; in_flight[w] says whether a commit was unanswered
        except AssertionError as e:
            errors.append("writer %d: %s" % (w, e))
        finally:
            c.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    assert wait_for(lambda: sum(len(a) for a in acked) >= 40 or errors, timeout=120), errors
    assert not errors, errors
    with srv.admin() as c:
        c.send_raw(b"debug crash\n")
        assert c.closed(timeout=30)
    crashed_at = time.monotonic()
    for t in threads:
        t.join(60)
    assert not errors, errors
    back_after = wait_until_serving(srv)
    # Recorded, not asserted tightly: the machine may be loaded (the supervisor restarts at
    # once; the rest is the server's own start-up).
    record_property("restart_seconds", round(back_after, 3))
    print("server answered again %.3f s after the crash (%.3f s after the writers stopped)"
          % (back_after, time.monotonic() - crashed_at))

    with srv.admin() as c:
        assert c.req("connect crashdb") == "success"
        rows = json.loads(c.req("SELECT w, seq, count(*) AS parts FROM t GROUP BY w, seq"))
    found = [dict() for _ in range(writers)]
    for r in rows:
        found[r["w"]][r["seq"]] = r["parts"]
    for w in range(writers):
        kept = set(found[w])
        # Every transaction is whole: both rows or none.
        assert all(n == 2 for n in found[w].values()), (w, found[w])
        # No acknowledged commit is lost ...
        assert acked[w] <= kept, (w, sorted(acked[w] - kept))
        # ... and nothing was kept that was not committed, except the one commit whose answer
        # the crash cut off, which may have gone either way.
        extra = kept - acked[w]
        assert extra <= ({in_flight[w]} if in_flight[w] is not None else set()), (w, extra)
    total = sum(len(a) for a in acked)
    assert sum(len(f) for f in found) in range(total, total + writers + 1)

    log = srv.stderr()
    assert [m.group(1) for m in CRASHED.finditer(log)] == [str(signal.SIGABRT.value)], log[-5000:]
    assert restarts(srv) == 1, log[-5000:]
    assert "debug crash: aborting" in log


def test_a_killed_server_is_restarted_with_its_data(make_server):
    """SIGKILL of the server alone (as the kernel's OOM killer would) is a crash too: this one
    needs no hook, so it runs against the release build as well."""
    srv = supervised(make_server)
    with srv.admin() as c:
        assert c.req("create database k") == "success"
        assert c.req("connect k") == "success"
        assert c.req("CREATE TABLE t (i INTEGER)") == "success"
        assert c.req("INSERT INTO t VALUES (1), (2), (3)") == "3"
    os.kill(server_pid(srv), signal.SIGKILL)
    assert wait_for(lambda: restarts(srv) == 1, timeout=30), srv.stderr()[-3000:]
    print("server answered again %.3f s after SIGKILL" % wait_until_serving(srv))
    with srv.admin() as c:
        assert c.req("connect k") == "success"
        assert c.req("SELECT sum(i) AS s FROM t") == '[{"s":6}]'
    assert [m.group(1) for m in CRASHED.finditer(srv.stderr())] == [str(signal.SIGKILL.value)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_supervisor_stops_both(make_server, sig):
    srv = supervised(make_server)
    with srv.admin() as c:
        assert c.req("create database s") == "success"
    child = server_pid(srv)
    idle = srv.admin()
    srv.proc.send_signal(sig)
    assert idle.line() == "Error: Server Shutting Down"
    rc = srv.proc.wait(60)
    srv.check_clean(rc)  # exit 0, no sanitizer report
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    log = srv.stderr()
    assert "supervisor: signal %d forwarded" % sig.value in log
    assert "supervisor: server (pid %d) stopped" % child in log
    assert not CRASHED.search(log)
    idle.close()


def test_a_second_signal_still_exits_at_once(make_server):
    srv = supervised(make_server)
    with srv.admin() as c:
        assert c.req("create database big") == "success"
        assert c.req("connect big") == "success"
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.send_raw(b"SELECT range AS n, repeat('x', 200) AS pad FROM range(20000000)\n")
        time.sleep(1)
        srv.proc.send_signal(signal.SIGTERM)
        assert wait_for(lambda: "shutting down" in srv.stderr())
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(30) == 1
    assert "second signal" in srv.stderr()
    assert restarts(srv) == 0
    srv.proc = None  # exited already
    srv.start()  # the data directory opens again; the fixture stops this one


def test_a_start_up_error_is_not_retried(data_dir):
    # Found by the server (its TLS files), after the supervisor started it: status 1, and the
    # one line that says why, as without a supervisor (a retry would print it again).
    start = time.monotonic()
    rc, _, err = run_bin(["--supervise", "on", "--port", "0", "--data-dir", data_dir,
                          "--tls-mode", "required", "--tls-cert-file",
                          os.path.join(data_dir, "missing.pem")], cwd=data_dir)
    assert rc == 1, err
    assert len(err.strip().splitlines()) == 1 and "TLS" in err, err
    assert time.monotonic() - start < 30
    # With the supervisor's debug lines: one start, not restarted.
    rc, _, err = run_bin(["--supervise", "on", "--port", "0", "--data-dir", data_dir,
                          "--log-level", "debug", "--tls-mode", "required", "--tls-cert-file",
                          os.path.join(data_dir, "missing.pem")], cwd=data_dir)
    assert rc == 1, err
    assert err.count("supervisor: server started") == 1, err
    assert "exit status 1: not restarted" in err and "restarted (pid" not in err, err
    # Found in the configuration, before the supervisor forks at all.
    rc, _, err = run_bin(["--supervise", "on", "--port", "70000"], cwd=data_dir)
    assert rc == 1 and "ServerPort" in err and "supervisor" not in err, err
    rc, _, err = run_bin(["--supervise", "maybe"], cwd=data_dir)
    assert rc == 1 and "Supervise" in err, err


def test_a_crash_loop_backs_off(make_server):
    """More than 5 crashes within 60 s: the restarts wait, 1 s and then longer, and say so."""
    srv = supervised(make_server)
    for n in range(6):
        wait_until_serving(srv)
        os.kill(server_pid(srv), signal.SIGKILL)
        assert wait_for(lambda: len(CRASHED.findall(srv.stderr())) == n + 1, timeout=30)
    assert wait_for(lambda: "restarting it in 1 s" in srv.stderr(), timeout=10)
    assert srv.stderr().count("restarting it in") == 1
    wait_until_serving(srv)  # and it does come back


def test_an_invalidated_database_is_reopened_alone(make_server):
    """DuckDB invalidates a database after an internal error during execution (docs/security.md,
    "Known limits"); the pool reopens it on the next connect, and no other database notices."""
    srv = make_server()
    a = srv.admin()
    for name in ("a", "b"):
        assert a.req("create database %s" % name) == "success"
    assert a.req("connect a") == "success"
    assert a.req("CREATE TABLE t (i INTEGER)") == "success"
    for i in range(20):
        assert a.req("INSERT INTO t VALUES (%d)" % i) == "1"
    assert a.req("CREATE TABLE j AS SELECT '%s' AS s" % BROKEN_AST) == "success"
    # A transaction open on the instance that is about to break: it must not be kept.
    open_tx = srv.admin()
    assert open_tx.req("connect a") == "success"
    assert open_tx.req("start transaction") == "success"
    assert open_tx.req("INSERT INTO t VALUES (1000)") == "1"

    b = srv.admin()
    assert b.req("connect b") == "success"
    assert b.req("CREATE TABLE u (i INTEGER)") == "success"
    stop = threading.Event()
    b_answers = []

    def read_b():
        n = 0
        while not stop.is_set():
            n += 1
            assert b.req("INSERT INTO u VALUES (%d)" % n) == "1"
            b_answers.append(b.req("SELECT count(*) AS n FROM u"))

    reader = threading.Thread(target=read_b)
    reader.start()
    try:
        answer = a.req("SELECT json_deserialize_sql(s) AS q FROM j")
        assert answer.startswith("Error: Internal Error: SerializationData"), answer
        # The session stays on the broken instance and is told so; the pool has marked it.
        assert "database has been invalidated" in a.req("SELECT count(*) FROM t")
        assert wait_for(lambda: "DuckDB invalidated it" in srv.stderr())
        assert "database has been invalidated" in open_tx.req("commit")
        # A new connect opens the database afresh: every committed row is there.
        with srv.admin() as c:
            assert c.req("connect a") == "success"
            assert c.req("SELECT count(*) AS n, sum(i) AS s FROM t") == '[{"n":20,"s":190}]'
            assert c.req("INSERT INTO t VALUES (100)") == "1"
            assert c.req("start transaction") == "success"
            assert c.req("INSERT INTO t VALUES (101)") == "1"
            assert c.req("commit") == "success"
        # So does the broken session, once it connects again.
        assert a.req("connect a") == "success"
        assert a.req("SELECT count(*) AS n FROM t") == '[{"n":22}]'
        time.sleep(0.5)  # b goes on meanwhile
    finally:
        stop.set()
        reader.join(30)
    assert b_answers and all(re.fullmatch(r'\[\{"n":\d+\}\]', x) for x in b_answers), b_answers[-5:]
    assert json.loads(b_answers[-1])[0]["n"] == len(b_answers)
    # The last session on the broken instance leaves: it is closed (without a checkpoint).
    open_tx.close()
    assert wait_for(lambda: "its invalidated instance is closed" in srv.stderr())
    a.close()
    b.close()
    # Nothing was damaged by the two instances: after a restart every committed row is there.
    srv.restart()
    with srv.admin() as c:
        assert c.req("connect a") == "success"
        assert c.req("SELECT count(*) AS n, sum(i) AS s FROM t") == '[{"n":22,"s":391}]'
        assert c.req("connect b") == "success"
        assert c.req("SELECT count(*) AS n FROM u") == '[{"n":%d}]' % len(b_answers)


def test_memory_hard_limit_restarts_the_server_with_its_data(make_server):
    """What no interrupt reaches (issue 14: `SELECT length(range(0, 100000000))`, which DuckDB
    folds into 10^8 values while it plans, through malloc, for many seconds and GBs) meets
    MemoryHardLimit: the server exits with status 70, the supervisor restarts it, and every
    committed row is there. A normal user with a read grant sends it."""
    srv = supervised(make_server, "--memory-limit", "300MB", "--memory-hard-limit", "700MB",
                     "--statement-memory-limit", "100MB")
    with srv.admin() as c:
        for req in ("create database h", "connect h", "CREATE TABLE t (i INTEGER)",
                    "INSERT INTO t SELECT range FROM range(1000)", "create user r pw",
                    "grant database h r read", "grant table h t r select"):
            assert c.req(req) in ("success", "1000"), req
    user = srv.client(login=("r", "pw"))
    assert user.req("connect h") == "success"
    user.sock.settimeout(300)
    user.send_raw(b"SELECT length(range(0, 100000000)) AS n\n")
    # The connection ends without an answer: the process is gone.
    assert user.rfile.readline() == b""
    assert wait_for(lambda: restarts(srv) == 1, timeout=60), srv.stderr()[-3000:]
    log = srv.stderr()
    assert "reached MemoryHardLimit (700MB): exiting with status 70" in log
    assert "crashed, exit status 70: restarting it" in log
    wait_until_serving(srv)
    with srv.admin() as c:
        assert c.req("connect h") == "success"
        assert c.req("SELECT count(*) AS n, sum(i) AS s FROM t") == '[{"n":1000,"s":499500}]'
    user.close()
