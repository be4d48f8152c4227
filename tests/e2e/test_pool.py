"""
The database pool under load: a stress run over many more databases than the pool holds, then
exact row counts, the server's open descriptors, the `stats` counters, and a restart; and the
`Server Busy` path when every slot stays pinned.
"""
import json
import os
import random
import threading
import time

from conftest import Client, run_parallel, wait_for

DATABASES = 200
POOL_SIZE = 8
CLIENTS = 64
STRESS_SECONDS = 12
# A connect waits on a worker thread, so at most QueryWorkers - 1 connects wait at once and
# further ones are answered Server Busy at once (docs/architecture.md, "Waiting for a slot").
# With the default 4 workers most of 64 clients would be turned away; 56 workers let 55 wait,
# about as many as can (64 clients, 8 holding pins). Waiting is first come first served, so the
# longest wait is about the queue length over the throughput: 56 / ~35 connects/s under ASan on
# an idle machine, 56 / ~6 on one loaded ten times over (seen: 2 s then turned most connects
# away, and the suite must pass on a busy machine). 30 s leaves room for a machine five times
# slower still; a connect that waits that long is still served, not failed. A Server Busy answer
# (a timeout, or a rejection when the queue is full) is still handled: the row counts as not
# inserted and the counters must account for it.
QUERY_WORKERS = 56
POOL_WAIT_MS = 30000


def stats(admin):
    answer = admin.req("stats")
    return json.loads(answer)


def db_name(i):
    return "db%03d" % i


def open_fds(pid, databases_dir):
    """The server's descriptors: (count of those on neither database nor archive files, paths
    on database files, ids of the databases whose archive files are open)."""
    other, dbs, archived = 0, [], []
    d = "/proc/%d/fd" % pid
    for f in os.listdir(d):
        try:
            target = os.readlink(os.path.join(d, f))
        except OSError:
            continue  # closed while listing
        parts = target.split("/")
        if target.startswith(databases_dir + "/"):
            dbs.append(os.path.basename(target))
        elif "archive" in parts and parts.index("archive") + 1 < len(parts):
            # BackupDir/archive/<database id>/<segment>/<file>: the open segment of an open
            # database (walarchive.c), opened by the archiver when it first flushes it.
            archived.append(parts[parts.index("archive") + 1])
        else:
            other += 1
    return other, sorted(dbs), sorted(archived)


def rows_by_database(srv, workers=8):
    """Every database's rows of t, as {name: set of (client, seq)}."""
    found = {}
    names = [db_name(i) for i in range(DATABASES)]

    def read(k):
        with srv.admin() as c:
            for name in names[k::workers]:
                assert c.req("connect " + name) == "success"
                answer = c.req("SELECT client, seq FROM t")
                found[name] = {(r["client"], r["seq"]) for r in json.loads(answer)}
                # `connect` straight to the next database would pin it before unpinning
                # this one: 8 readers doing that on 8 slots would wait for each other.
                assert c.req("disconnect") == "success"

    run_parallel(workers, read)
    return found


def test_pool_stress(make_server, data_dir):
    t_start = time.time()
    srv = make_server(args=["--pool-size", str(POOL_SIZE), "--pool-wait-ms", str(POOL_WAIT_MS),
                            "--query-workers", str(QUERY_WORKERS), "--duckdb-threads", "1",
                            "--duckdb-memory-limit", "128MB"])
    databases_dir = os.path.join(data_dir, "databases")

    # Set-up: 200 databases with a table each, by 8 admins in parallel.
    def create(k):
        with srv.admin() as c:
            for i in range(k, DATABASES, 8):
                assert c.req("create database " + db_name(i)) == "success"
                assert c.req("connect " + db_name(i)) == "success"
                assert c.req("CREATE TABLE t (client INTEGER, seq INTEGER)") == "success"
                assert c.req("disconnect") == "success"

    run_parallel(8, create)
    t_setup = time.time()

    admin = srv.admin()
    before = stats(admin)
    assert before["pool"]["open"] == POOL_SIZE and before["pool"]["pinned"] == 0
    # The starting descriptor count. The pool is full now: 8 idle databases, each written since
    # it was opened (CREATE TABLE), so each holds its file and its WAL open: 2 descriptors. The
    # stress run ends in that same state (every successful connect is followed by an INSERT), so
    # "back to the start" means: the same number of descriptors that are not database files
    # (listening socket, epoll, eventfd, catalog, log, one client: this admin), and exactly 2 per
    # open database. Database files are counted apart because which 8 are open changes.
    # Archiving (on by default) adds, per open database, its segment's log and index in
    # BackupDir/archive, opened by the archiver at the segment's first flush, which also copies
    # the segment's base from the database file (one more descriptor on it meanwhile): so the
    # count is read once that work has settled, here and after the run.
    def settled():
        other, dbs, archived = open_fds(srv.proc.pid, databases_dir)
        return (len(dbs) == 2 * POOL_SIZE and len(archived) == 2 * POOL_SIZE and
                set(archived) == {f.split(".")[0] for f in dbs})

    assert wait_for(settled, timeout=60), open_fds(srv.proc.pid, databases_dir)
    start_other, start_dbs, _ = open_fds(srv.proc.pid, databases_dir)
    assert len(start_dbs) == 2 * POOL_SIZE, start_dbs

    # The stress run: each client loops connect -> insert a known row -> select it ->
    # disconnect, on random databases, for STRESS_SECONDS.
    inserted = {db_name(i): set() for i in range(DATABASES)}
    lock = threading.Lock()
    counts = {"connects": 0, "busy": 0}
    wrong = []  # (database, client, seq, answer, answer when asked again at once)
    deadline = time.time() + STRESS_SECONDS

    def client(k):
        rnd = random.Random(k)
        seq = 0
        while time.time() < deadline:
            name = db_name(rnd.randrange(DATABASES))
            seq += 1
            # A connect may wait POOL_WAIT_MS for a slot, then answer Server Busy: the client
            # waits longer than that (each open and close of a database also archives it).
            with Client(srv.port, timeout=POOL_WAIT_MS / 1000 + 60) as c:
                assert c.req("login duck duck") == "success"
                answer = c.req("connect " + name)
                if answer.startswith("Error: Server Busy: "):
                    with lock:
                        counts["busy"] += 1
                    continue
                assert answer == "success", answer
                assert c.req("INSERT INTO t VALUES (%d, %d)" % (k, seq)) == "1"
                with lock:
                    counts["connects"] += 1
                    inserted[name].add((k, seq))
                select = "SELECT count(*) AS n FROM t WHERE client = %d AND seq = %d" % (k, seq)
                answer = c.req(select)
                if answer != '[{"n":1}]':
                    # A wrong answer to a fresh query racing with other connections' appends.
                    # Before issue 13 it was asked again and counted as a "DuckDB anomaly"; it
                    # is a failure now, reported after the run with the answer given when the
                    # same query was asked again at once.
                    again = c.req(select)
                    with lock:
                        wrong.append((name, k, seq, answer, again))
                assert c.req("disconnect") == "success"

    run_parallel(CLIENTS, client)
    t_stress = time.time()
    # No wrong answer is tolerated: each is a defect (issue 13's stale statistics were one cause).
    assert not wrong, "%d wrong answers in %d queries: %r" % (len(wrong), counts["connects"],
                                                             wrong[:10])

    # Every client has closed its socket; the server closes its side when a worker handles the
    # end of file, so wait for the count to settle.
    # Archive files only of the databases open now (settled() compares the ids): none left
    # behind by the evicted ones.
    assert wait_for(lambda: settled() and open_fds(srv.proc.pid, databases_dir)[0] == start_other,
                    timeout=60), (start_other, open_fds(srv.proc.pid, databases_dir))

    after = stats(admin)
    pool = after["pool"]
    delta = {k: pool[k] - before["pool"][k]
             for k in ("hits", "misses", "evictions", "waits", "timeouts", "rejected")}
    assert pool["size"] == POOL_SIZE
    assert pool["open"] == POOL_SIZE and pool["pinned"] == 0 and pool["waiting"] == 0
    assert after["sessions"]["active"] == 1  # this admin
    assert delta["hits"] + delta["misses"] == counts["connects"]
    # The pool was full before the run and no open failed: every miss evicted exactly one.
    assert delta["evictions"] == delta["misses"]
    assert delta["timeouts"] + delta["rejected"] == counts["busy"]
    assert delta["waits"] >= delta["timeouts"]
    assert counts["connects"] > 2 * counts["busy"], (counts, delta)  # most succeed
    admin.close()

    # Every database holds exactly the rows its clients were told were inserted.
    assert rows_by_database(srv) == inserted
    t_check = time.time()

    srv.restart()
    assert rows_by_database(srv) == inserted
    t_end = time.time()

    print("\npool stress: %d databases, pool %d, %d clients, %.1f s stress: %d connects "
          "(%.0f/s), %d busy; hits %d, misses %d, evictions %d, waits %d, timeouts %d, "
          "rejected %d; wrong answers %d; set-up %.1f s, check %.1f s, restart+check %.1f s, "
          "total %.1f s"
          % (DATABASES, POOL_SIZE, CLIENTS, t_stress - t_setup, counts["connects"],
             counts["connects"] / (t_stress - t_setup), counts["busy"], delta["hits"],
             delta["misses"], delta["evictions"], delta["waits"], delta["timeouts"],
             delta["rejected"], len(wrong), t_setup - t_start,
             t_check - t_stress, t_end - t_check, t_end - t_start))


def test_busy_when_every_slot_is_pinned(make_server):
    srv = make_server(args=["--pool-size", "1", "--pool-wait-ms", "300"])
    with srv.admin() as admin:
        for name in ("a", "b"):
            assert admin.req("create database " + name) == "success"
        first, second = srv.admin(), srv.admin()
        assert first.req("connect a") == "success"
        t0 = time.time()
        answer = second.req("connect b")
        took = time.time() - t0
        assert answer == "Error: Server Busy: all 1 open databases are in use; try again later"
        assert 0.29 <= took < 5, took
        assert second.req("SELECT 1").startswith("Error: Bad Request: not connected")
        assert first.req("disconnect") == "success"
        assert second.req("connect b") == "success"
        assert second.req("CREATE TABLE t (x INTEGER)") == "success"
        pool = stats(admin)["pool"]
        assert pool["waits"] == 1 and pool["timeouts"] == 1 and pool["rejected"] == 0
        assert pool["misses"] == 2 and pool["evictions"] == 1
        assert pool["open"] == 1 and pool["pinned"] == 1
        first.close()
        second.close()


def test_waiting_connect_is_served_on_release(make_server):
    srv = make_server(args=["--pool-size", "1", "--pool-wait-ms", "30000"])
    with srv.admin() as admin:
        for name in ("a", "b"):
            assert admin.req("create database " + name) == "success"
        first, second = srv.admin(), srv.admin()
        assert first.req("connect a") == "success"
        done = {}

        def connect_b():
            t0 = time.time()
            done["answer"] = second.req("connect b")
            done["took"] = time.time() - t0

        waiter = threading.Thread(target=connect_b)
        waiter.start()
        assert wait_for(lambda: stats(admin)["pool"]["waiting"] == 1)
        time.sleep(0.2)
        assert first.req("disconnect") == "success"
        waiter.join()
        assert done["answer"] == "success"
        assert 0.2 <= done["took"] < 20, done
        pool = stats(admin)["pool"]
        assert pool["waits"] == 1 and pool["timeouts"] == 0 and pool["pinned"] == 1
        first.close()
        second.close()


def test_busy_at_once_when_no_worker_may_wait(make_server):
    """With one worker that may not grow, a connect never waits: that worker must stay free to
    run the release."""
    srv = make_server(args=["--pool-size", "1", "--pool-wait-ms", "60000", "--query-workers", "1",
                            "--max-workers", "1"])
    with srv.admin() as admin:
        for name in ("a", "b"):
            assert admin.req("create database " + name) == "success"
        first, second = srv.admin(), srv.admin()
        assert first.req("connect a") == "success"
        t0 = time.time()
        answer = second.req("connect b")
        assert answer == ("Error: Server Busy: all 1 open databases are in use and 0 other "
                          "connects are waiting; try again later")
        assert time.time() - t0 < 5
        assert first.req("disconnect") == "success"
        assert second.req("connect b") == "success"
        pool = stats(admin)["pool"]
        assert pool["rejected"] == 1 and pool["waits"] == 0 and pool["timeouts"] == 0
        first.close()
        second.close()


def test_stats_command(make_server):
    srv = make_server(args=["--pool-size", "3"])
    with srv.admin() as admin:
        st = stats(admin)
        memory = st.pop("memory")
        # The result cache's own counters are tested in test_rescache.py.
        assert st.pop("result_cache") == {"enabled": True, "limit": 64 << 20,
                                          "max_entry": 1 << 20, "ttl": 0, "entries": 0,
                                          "bytes": 0, "databases": []}
        # Auto-parameterisation's counters (test_autoparam.py): nothing ran yet.
        assert st.pop("autoparam") == {"shaped": 0, "ran": 0, "fallbacks": 0}
        # The CDC streams' counts (test_cdc.py): none.
        assert st.pop("cdc") == {"linked": 0, "streams": 0, "pool_pins": 0, "max_streams": 16}
        assert st == {"pool": {"size": 3, "open": 0, "pinned": 0, "waiting": 0, "hits": 0,
                               "misses": 0, "evictions": 0, "waits": 0, "timeouts": 0,
                               "rejected": 0},
                      "sessions": {"active": 1, "tls": 0},
                      "statements": {"hits": 0, "misses": 0, "evictions": 0,
                                     "invalidations": 0, "interrupted": 0, "timeouts": 0,
                                     "statement_memory": 0, "server_memory": 0},
                      "workers": {"threads": 4, "peak": 4}}
        # The allocators' total, and the limits (default: a share of RAM, a quarter of that).
        assert memory["allocated"] == memory["duckdb"] + memory["process"] > 0
        assert memory["limit"] > 0 and memory["statement_limit"] == memory["limit"] // 4
        assert admin.req("STATS").startswith("{")
        assert admin.req("stats now") == "Error: Bad Request: usage: stats"
        assert admin.req("create database a") == "success"
        assert admin.req("create user u pw") == "success"
        assert admin.req("connect a") == "success"
        with srv.client() as anon, srv.client(login=("u", "pw")) as user:
            assert anon.req("stats") == "Error: Unauthorized"
            assert user.req("stats") == "Error: Unauthorized"
            st = stats(admin)
            assert st["sessions"]["active"] == 3
            assert st["pool"]["open"] == 1 and st["pool"]["pinned"] == 1
            assert st["pool"]["misses"] == 1
        assert admin.req("disconnect") == "success"
        assert wait_for(lambda: stats(admin)["sessions"]["active"] == 1)
        assert stats(admin)["pool"]["pinned"] == 0
    # The same counters are logged at shutdown.
    rc = srv.stop()
    assert ("pool: size 3, open 1, pinned 0, hits 0, misses 1, evictions 0, waits 0, "
            "timeouts 0, rejected 0") in srv.stderr()
    srv.check_clean(rc)
    srv.start()
