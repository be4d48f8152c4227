"""
Issue 18: point-in-time restore from the continuous archive (`restore DB AS NEW AT 'time'`,
ArchiveMode, ArchiveSync), against the real server and real files: concurrent writers that
record when each of their commits was sent and answered, checkpoints and a base backup in the
middle, restores to many random points compared with those records; the reachable span in
`list backups`; corrupt archive files; kill -9 while archiving; and retention.
"""
import datetime
import json
import os
import random
import signal
import threading
import time

from conftest import wait_for

BIG_ROWS = 20000
BIG_EVERY = 10


def ok(answer):
    assert not answer.startswith("Error"), answer
    return answer


def rows(c, sql):
    return json.loads(ok(c.req(sql)))


def one(c, sql):
    r = rows(c, sql)
    assert len(r) == 1, r
    return list(r[0].values())[0]


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S.%f")


def parse_iso(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def setup_db(srv, name="app"):
    with srv.admin() as c:
        assert c.req("create database %s" % name) == "success"
        assert c.req("connect %s" % name) == "success"
        ok(c.req("CREATE TABLE t(w INTEGER, i BIGINT)"))
        ok(c.req("CREATE TABLE big(w INTEGER, i BIGINT, r BIGINT)"))


class Writers:
    """Clients committing numbered transactions in the three ways a commit happens (an explicit
    transaction, one statement, several statements in one request); for each transaction the
    time before it was sent and the time after it was answered."""

    def __init__(self, srv, n, db="app"):
        self.srv, self.db, self.n = srv, db, n
        self.sent = [[] for _ in range(n)]   # sent[w][i-1]: before transaction i was sent
        self.acked = [[] for _ in range(n)]  # acked[w][i-1]: after its answer came
        self.stop = threading.Event()
        self.errors = []
        self.threads = [threading.Thread(target=self.run, args=(w,)) for w in range(n)]

    def run(self, w):
        try:
            with self.srv.admin() as c:
                assert c.req("connect %s" % self.db) == "success"
                i = 0
                while not self.stop.is_set():
                    i += 1
                    ins = "INSERT INTO t VALUES (%d, %d)" % (w, i)
                    big = ("INSERT INTO big SELECT %d, %d, r FROM range(%d) x(r)"
                           % (w, i, BIG_ROWS)) if i % BIG_EVERY == 0 else None
                    if w % 3 == 0:
                        ok(c.req("begin"))
                        ok(c.req(ins))
                        if big:
                            ok(c.req(big))
                        self.sent[w].append(time.time())
                        ok(c.req("commit"))
                    elif w % 3 == 1 and not big:
                        self.sent[w].append(time.time())
                        ok(c.req(ins))
                    else:
                        self.sent[w].append(time.time())
                        ok(c.req(ins + "; " + big if big else ins + "; SELECT 1"))
                    self.acked[w].append(time.time())
        except BaseException as e:  # noqa: B902 - reported by finish()
            self.errors.append(e)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        assert not self.errors, self.errors

    def bounds(self, t):
        """Per writer: the last transaction answered at or before t (it must be in a restore to
        t) and the last one sent at or before t (none after it may be)."""
        lo = [sum(1 for a in self.acked[w] if a <= t) for w in range(self.n)]
        hi = [sum(1 for s in self.sent[w] if s <= t) for w in range(self.n)]
        return lo, hi


def check_prefix(c, lo, hi):
    """Each writer's transactions are exactly 1..k with lo[w] <= k <= hi[w], each whole."""
    for w in range(len(lo)):
        r = rows(c, "SELECT count(DISTINCT i) AS n, coalesce(max(i), 0) AS m, count(*) AS c "
                    "FROM t WHERE w = %d" % w)
        n, mx, cnt = r[0]["n"], r[0]["m"], r[0]["c"]
        assert n == mx == cnt, (w, n, mx, cnt)
        assert lo[w] <= mx <= hi[w], (w, lo[w], mx, hi[w])
        big = one(c, "SELECT count(*) FROM big WHERE w = %d" % w)
        assert big == (mx // BIG_EVERY) * BIG_ROWS, (w, mx, big)


def dump_archive(srv):
    """The archive's indexes, for a failure's message."""
    out = []
    root = os.path.join(srv.data_dir, "backups", "archive")
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f == "index":
                with open(os.path.join(dirpath, f)) as fh:
                    out.append(dirpath + ":\n" + fh.read()[-3000:])
    return "\n".join(out)


def archive_row(c, db="app"):
    for r in rows(c, "list backups %s" % db):
        if r["kind"] == "archive":
            return r
    return None


def test_restore_at_many_points_holds_exactly_what_was_committed(make_server):
    srv = make_server(args=["--query-workers", "8"])
    setup_db(srv)
    start = time.time()
    writers = Writers(srv, 6).start()
    stop_ckpt = threading.Event()
    answers = []

    def checkpointer():
        # Each CHECKPOINT ends a segment of the archive and starts the next with a base.
        with srv.admin() as c:
            assert c.req("connect app") == "success"
            while not stop_ckpt.wait(0.7):
                answers.append(c.req("CHECKPOINT"))

    ckpt = threading.Thread(target=checkpointer)
    ckpt.start()
    try:
        with srv.admin() as a:
            assert wait_for(lambda: min(len(x) for x in writers.acked) >= 3 * BIG_EVERY,
                            timeout=120)
            ok(a.req("backup app"))  # a base backup in the middle changes nothing
            assert wait_for(lambda: min(len(x) for x in writers.acked) >= 6 * BIG_EVERY,
                            timeout=120)
            # The writers go on until at least two checkpoints passed, so the restore points
            # span several segments however fast the machine wrote the rows above.
            assert wait_for(lambda: sum(not x.startswith("Error") for x in answers) >= 2,
                            timeout=120), answers
    finally:
        stop_ckpt.set()
        ckpt.join()
        writers.finish()
    end = time.time()
    # Some run while a writer holds a transaction open and are refused by DuckDB; some pass.
    assert any(not x.startswith("Error") for x in answers), answers
    with srv.admin() as a:
        # The archive reaches the end of the workload once the archiver synced it.
        assert wait_for(lambda: archive_row(a) and parse_iso(archive_row(a)["latest"]) >= end,
                        timeout=30), dump_archive(srv)
        row = archive_row(a)
        assert parse_iso(row["earliest"]) <= start
        rng = random.Random(18)
        points = sorted(rng.uniform(start, end) for _ in range(20))
        for k, t in enumerate(points):
            name = "r%d" % k
            ans = json.loads(ok(a.req("restore app AS %s AT '%s'" % (name, iso(t)))))
            assert ans[0]["database"] == name
            lo, hi = writers.bounds(t)
            with srv.admin() as c:
                assert c.req("connect %s" % name) == "success"
                check_prefix(c, lo, hi)
            # The session above is gone once the server has seen its close.
            assert wait_for(lambda: a.req("drop database %s" % name) == "success", timeout=30)
        # The latest state: everything answered.
        ok(a.req("restore app AS latest AT '%s'" % iso(end)))
        with srv.admin() as c:
            assert c.req("connect latest") == "success"
            n = [len(x) for x in writers.acked]
            check_prefix(c, n, n)
        # Before the archive began, or after what it holds: refused, named.
        ans = a.req("restore app AS x AT '%s'" % iso(start - 3600))
        assert ans.startswith("Error: Bad Request") and "reaches from" in ans, ans
        ans = a.req("restore app AS x AT '%s'" % iso(time.time() + 3600))
        assert ans.startswith("Error: Bad Request") and "reaches from" in ans, ans
        assert a.req("restore app AS x AT 'yesterday'").startswith("Error: Bad Request")
        assert a.req("restore nosuch AS x AT '%s'" % iso(end)).startswith("Error")


def test_archive_survives_restart_and_names_a_corrupt_file(make_server):
    srv = make_server(args=["--archive-sync", "0"])
    setup_db(srv)
    marks = []
    with srv.admin() as c:
        assert c.req("connect app") == "success"
        for i in range(1, 31):
            ok(c.req("INSERT INTO t VALUES (0, %d)" % i))
            marks.append(time.time())
    srv.restart()  # a close (checkpoint) and an open: a new segment
    with srv.admin() as c:
        assert c.req("connect app") == "success"
        for i in range(31, 41):
            ok(c.req("INSERT INTO t VALUES (0, %d)" % i))
            marks.append(time.time())
        # ArchiveSync 0: every answered commit is archived already; kill -9 loses none of them.
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    srv.start()
    with srv.admin() as a:
        for k in (10, 30, 35, 40):
            ok(a.req("restore app AS p%d AT '%s'" % (k, iso(marks[k - 1]))))
            with srv.admin() as c:
                assert c.req("connect p%d" % k) == "success"
                assert one(c, "SELECT count(*) FROM t") == k
                assert one(c, "SELECT max(i) FROM t") == k
        # A bit flipped in the first segment's archived log (commits 1..30): a restore to a
        # point in it names the file and creates nothing.
        root = os.path.join(srv.data_dir, "backups", "archive", "1")
        first = sorted(os.listdir(root))[0]
        p = os.path.join(root, first, "wal")
        assert os.path.getsize(p) > 100
        with open(p, "r+b") as f:
            f.seek(60)
            b = f.read(1)
            f.seek(60)
            f.write(bytes([b[0] ^ 1]))
        target = marks[29]
        ans = a.req("restore app AS bad AT '%s'" % iso(target))
        assert ans.startswith("Error: Backup Corrupt") and "/wal" in ans, ans
        assert a.req("connect bad").startswith("Error")


def test_archive_sync_0_concurrent_writers_lose_no_answered_commit_to_kill_9(make_server):
    # ArchiveSync 0 with writers committing at once: commits share the archive's flushes (group
    # commit), and still every answered commit is archived before its answer, so kill -9 right
    # after the last answers loses none of them from the archive.
    srv = make_server(args=["--archive-sync", "0"])
    setup_db(srv)
    wr = Writers(srv, 4).start()
    reached = wait_for(lambda: wr.errors or min(len(a) for a in wr.acked) >= 15, timeout=120)
    wr.finish()
    assert reached, [len(a) for a in wr.acked]
    end = time.time()
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    srv.start()
    rng = random.Random(7)
    first = min(min(a) for a in wr.acked)
    points = [end] + [rng.uniform(first, end) for _ in range(3)]
    with srv.admin() as a:
        for k, t in enumerate(points):
            ok(a.req("restore app AS g%d AT '%s'" % (k, iso(t))))
            with srv.admin() as c:
                assert c.req("connect g%d" % k) == "success"
                lo, hi = wr.bounds(t)
                check_prefix(c, lo, hi)
        # At the end: exactly every transaction (all were answered before it).
        with srv.admin() as c:
            assert c.req("connect g0") == "success"
            for w in range(4):
                assert one(c, "SELECT max(i) FROM t WHERE w = %d" % w) == len(wr.acked[w])


def test_archive_off_and_normal_users(make_server):
    srv = make_server(args=["--archive-mode", "off"])
    setup_db(srv)
    with srv.admin() as a:
        assert archive_row(a) is None
        ans = a.req("restore app AS x AT '%s'" % iso(time.time()))
        assert ans.startswith("Error: Bad Request") and "no archive" in ans, ans
        ok(a.req("create user bob pw"))
        ok(a.req("grant database app bob write"))
    with srv.client(login=("bob", "pw")) as b:
        assert b.req("restore app AS x AT '%s'" % iso(time.time())) == "Error: Unauthorized"


def test_checkpoint_inside_a_transaction_is_refused_while_archiving(make_server):
    srv = make_server()
    setup_db(srv)
    with srv.admin() as c:
        assert c.req("connect app") == "success"
        ok(c.req("begin"))
        ans = c.req("CHECKPOINT")
        assert ans.startswith("Error: Bad Request") and "ArchiveMode" in ans, ans
        ok(c.req("rollback"))
        ans = c.req("SELECT * FROM checkpoint()")
        assert ans.startswith("Error: Bad Request"), ans
        ok(c.req("CHECKPOINT"))
        ok(c.req("FORCE CHECKPOINT"))


def test_schedule_backs_up_changed_databases_and_retention_keeps_every_reachable_point(
        make_server):
    # Automatic backups every second; restore points kept for the last 6 seconds.
    srv = make_server(args=["--backup-schedule", "1", "--backup-retention", "6"])
    setup_db(srv)
    with srv.admin() as a:
        assert a.req("create database idle") == "success"
    marks = []  # (time after the answer, rows committed)
    sent = []  # time before each insert was sent
    with srv.admin() as c:
        assert c.req("connect app") == "success"
        deadline = time.time() + 14
        i = 0
        while time.time() < deadline:
            i += 1
            sent.append(time.time())
            ok(c.req("INSERT INTO t VALUES (0, %d)" % i))
            marks.append((time.time(), i))
            if i % 20 == 0:
                ok(c.req("CHECKPOINT"))  # a new archive segment, so there are old ones to drop
            time.sleep(0.02)
    with srv.admin() as a:
        base = [r for r in rows(a, "list backups") if r["kind"] == "base"]
        app = [r for r in base if r["database"] == "app"]
        idle = [r for r in base if r["database"] == "idle"]
        # app changed all along: backed up again and again; idle never changed after its
        # first backup, so it has exactly one.
        assert len(app) >= 3, base
        assert len(idle) == 1, base
        # Retention: of the backups taken at or before now - 6 s only the newest stays (the
        # one a restore to that point would start from)...
        def pruned():
            cut = time.time() - 6
            return len([r for r in rows(a, "list backups app")
                        if r["kind"] == "base" and parse_iso(r["time"]) <= cut]) <= 1
        assert wait_for(pruned, timeout=30), rows(a, "list backups app")
        # ...and the archive dropped its old segments but still reaches back 6 s.
        assert wait_for(lambda: parse_iso(archive_row(a)["earliest"]) > marks[0][0] + 1,
                        timeout=30), archive_row(a)
        row = archive_row(a)
        keep_from = time.time() - 6
        assert parse_iso(row["earliest"]) <= keep_from, (row, keep_from)
        # Points inside the retained window restore exactly (each chosen just before its
        # restore, since the window moves on: a second inside its edge).
        rng = random.Random(6)
        for k in range(5):
            now = time.time()
            cand = [m[0] for m in marks if m[0] >= now - 5]
            t = rng.choice(cand) if cand and k < 4 else now - 5 + rng.random()
            ok(a.req("restore app AS w%d AT '%s'" % (k, iso(t))))
            lo = sum(1 for m in marks if m[0] <= t)
            hi = sum(1 for x in sent if x <= t)
            with srv.admin() as c:
                assert c.req("connect w%d" % k) == "success"
                n = one(c, "SELECT count(*) FROM t")
                assert one(c, "SELECT coalesce(max(i), 0) FROM t") == n
                assert lo <= n <= hi, (t, lo, n, hi)
        # A point before what is kept: refused, saying what is reachable.
        ans = a.req("restore app AS gone AT '%s'" % iso(marks[0][0]))
        assert ans.startswith("Error: Bad Request") and "reaches from" in ans, ans
    assert "backup retention: removed" in srv.stderr()


def test_restore_at_a_time_between_nextval_calls_gives_the_sequence_committed_by_then(
        make_server):
    # DuckDB writes a sequence's value to the log at the commit of the transaction that called
    # nextval (an autocommitted SELECT too; docs/backup.md, "Sequences"). Three writers share
    # one sequence: rows with nextval defaults (INSERT ... RETURNING, autocommit), bare
    # SELECT nextval (directly and through a view), and nextval inside explicit transactions.
    # A restore to any time holds each writer's rows acknowledged by then, none sent after, and
    # its sequence continues after every value acknowledged by then, never repeating one.
    srv = make_server(args=["--query-workers", "8"])
    with srv.admin() as c:
        assert c.req("create database app") == "success"
        assert c.req("connect app") == "success"
        ok(c.req("CREATE SEQUENCE s"))
        ok(c.req("CREATE TABLE q(id BIGINT DEFAULT nextval('s'), w INTEGER, k BIGINT)"))
        ok(c.req("CREATE VIEW nv AS SELECT nextval('s') AS v"))
    n = 3
    events = [[] for _ in range(n)]  # per writer: (sent, acked, value)
    errors = []
    stop = threading.Event()

    def run(w):
        try:
            with srv.admin() as c:
                assert c.req("connect app") == "success"
                k = 0
                while not stop.is_set():
                    k += 1
                    sent = time.time()
                    if w == 0:
                        v = one(c, "INSERT INTO q(w, k) VALUES (0, %d) RETURNING id" % k)
                    elif w == 1:
                        v = one(c, "SELECT nextval('s')" if k % 2 else "SELECT v FROM nv")
                    else:
                        ok(c.req("begin"))
                        v = one(c, "SELECT nextval('s')")
                        ok(c.req("INSERT INTO q VALUES (%d, 2, %d)" % (v, k)))
                        sent = time.time()
                        ok(c.req("commit"))
                    events[w].append((sent, time.time(), v))
                    # Writer 1 alone for a while now and then: the sequence moves with no
                    # other commit around it.
                    time.sleep(0.3 if w != 1 and k % 10 == 0 else 0.005)
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(n)]
    start = time.time()
    for t in threads:
        t.start()
    try:
        assert wait_for(lambda: errors or min(len(e) for e in events) >= 40, timeout=120)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    end = time.time()
    # Points: random ones, and for writer 1's calls the moment just after each answer (before
    # the next call was sent), where nothing but that nextval has happened lately.
    rng = random.Random(1805)
    ones = events[1]
    points = [rng.uniform(start, end) for _ in range(6)]
    points += [(ones[i][1] + ones[i + 1][0]) / 2
               for i in rng.sample(range(len(ones) - 1), 8)]
    with srv.admin() as a:
        assert wait_for(lambda: archive_row(a) and parse_iso(archive_row(a)["latest"]) >= end,
                        timeout=30), dump_archive(srv)
        for j, t in enumerate(sorted(points)):
            name = "s%d" % j
            ok(a.req("restore app AS %s AT '%s'" % (name, iso(t))))
            acked = [v for e in events for (s, d, v) in e if d <= t]
            sent = [v for e in events for (s, d, v) in e if s <= t]
            with srv.admin() as c:
                assert c.req("connect %s" % name) == "success"
                for w in (0, 2):
                    lo = sum(1 for (s, d, v) in events[w] if d <= t)
                    hi = sum(1 for (s, d, v) in events[w] if s <= t)
                    r = rows(c, "SELECT count(*) AS c, coalesce(max(k), 0) AS m, "
                                "count(DISTINCT id) AS d FROM q WHERE w = %d" % w)[0]
                    assert r["c"] == r["m"] == r["d"], (t, w, r)
                    assert lo <= r["m"] <= hi, (t, w, lo, r, hi)
                top = one(c, "SELECT coalesce(max(id), 0) FROM q")
                nxt = one(c, "SELECT nextval('s')")
                # After every value acknowledged by t (so none is handed out again), and not
                # after any value sent later; above every id present.
                assert nxt > max(acked, default=0), (t, nxt, max(acked, default=0))
                assert nxt <= max(sent, default=0) + 1, (t, nxt, max(sent, default=0))
                assert nxt > top, (t, nxt, top)
            assert wait_for(lambda: a.req("drop database %s" % name) == "success", timeout=30)


def test_commits_go_on_while_a_segment_base_is_copied(make_server, tmp_path):
    # After a checkpoint the archive starts a segment with a copy of the database file (its
    # base). The copy runs without the commit gate: a test hook (test builds) holds it while a
    # file exists, and a writer's commits are answered all the while; restores to points inside
    # that window then hold exactly what was answered.
    pause = str(tmp_path / "pause")
    srv = make_server(env={"TCPDUCKDB_TEST_ARCHIVE_BASE_PAUSE": pause})
    setup_db(srv)
    with srv.admin() as c:
        assert c.req("connect app") == "success"
        ok(c.req("INSERT INTO big SELECT 0, 0, r FROM range(300000) x(r)"))
    with srv.admin() as a:
        # The first segment (from the open) has its base: the archive is listed.
        assert wait_for(lambda: archive_row(a) is not None, timeout=60)
    root = os.path.join(srv.data_dir, "backups", "archive")
    before = {d for d in os.listdir(root)}
    open(pause, "w").close()
    sent, acked = [], []
    with srv.admin() as c:
        assert c.req("connect app") == "success"
        ok(c.req("CHECKPOINT"))  # answered at once: the next segment's copy is left to the archiver
        assert wait_for(lambda: os.path.exists(pause + ".reached"), timeout=60)
        for i in range(1, 41):
            sent.append(time.time())
            ok(c.req("INSERT INTO t VALUES (0, %d)" % i))
            acked.append(time.time())
        # All 40 answered while the copy is still held: the new segment has no index yet.
        dbdir = os.path.join(root, sorted(before)[0])
        newest = max(os.listdir(dbdir))
        assert not os.path.exists(os.path.join(dbdir, newest, "index")), newest
    os.unlink(pause)
    end = time.time()
    with srv.admin() as a:
        assert wait_for(lambda: parse_iso(archive_row(a)["latest"]) >= end, timeout=60), \
            dump_archive(srv)
        for k in (1, 17, 40):
            t = (acked[k - 1] + sent[k]) / 2 if k < 40 else end
            ok(a.req("restore app AS c%d AT '%s'" % (k, iso(t))))
            with srv.admin() as c:
                assert c.req("connect c%d" % k) == "success"
                assert one(c, "SELECT count(*) FROM t") == k
                assert one(c, "SELECT max(i) FROM t") == k
                assert one(c, "SELECT count(*) FROM big") == 300000


def test_drop_and_rename_over_keeps_restores_to_the_database_now_called_by_that_name(
        make_server):
    # The archive is kept by database id. After `restore app AS app2`, `drop database app`
    # and `update database app2 app`, the name app means app2's id: a restore of app reaches
    # app2's own history (from its restore on), exactly, and refuses points before it rather
    # than mixing in the dropped database's archive. A plain rename keeps its archive.
    srv = make_server()
    setup_db(srv)
    marks = []
    with srv.admin() as c:
        assert c.req("connect app") == "success"
        for i in range(1, 6):
            ok(c.req("INSERT INTO t VALUES (0, %d)" % i))
            marks.append(time.time())
    with srv.admin() as a:
        ok(a.req("restore app AS app2"))
        born = time.time()
        with srv.admin() as c:
            assert c.req("connect app2") == "success"
            for i in range(6, 9):
                ok(c.req("INSERT INTO t VALUES (0, %d)" % i))
                marks.append(time.time())
        assert a.req("drop database app") == "success"
        assert a.req("update database app2 app") == "success"
        with srv.admin() as c:
            assert c.req("connect app") == "success"
            ok(c.req("INSERT INTO t VALUES (0, 9)"))
            marks.append(time.time())
        end = time.time()
        assert wait_for(lambda: parse_iso(archive_row(a)["latest"]) >= end, timeout=30), \
            dump_archive(srv)
        row = archive_row(a)
        assert parse_iso(row["earliest"]) >= marks[4], (row, marks[4])
        for k in (6, 8, 9):
            ok(a.req("restore app AS v%d AT '%s'" % (k, iso(marks[k - 1]))))
            with srv.admin() as c:
                assert c.req("connect v%d" % k) == "success"
                assert one(c, "SELECT count(*) FROM t") == k
                assert one(c, "SELECT max(i) FROM t") == k
        # Before app2 existed: the dropped database's archive is not used.
        ans = a.req("restore app AS old AT '%s'" % iso(marks[2]))
        assert ans.startswith("Error: Bad Request") and "reaches from" in ans, ans
        assert born < parse_iso(archive_row(a)["latest"])
        # A plain rename: same id, same archive, every point still reachable.
        assert a.req("update database app renamed") == "success"
        ok(a.req("restore renamed AS w AT '%s'" % iso(marks[6])))
        with srv.admin() as c:
            assert c.req("connect w") == "success"
            assert one(c, "SELECT count(*) FROM t") == 7
