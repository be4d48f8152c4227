"""
Issue 18: online base backups (`backup`, `list backups`, `verify backup`), restores into a new
database (`restore DB AS NEW [FROM id]`) and `drop database`, against the real server and real
files: writers and checkpoints running during the backup, corrupt and cut-short backups, kill -9
in the middle of a backup, encryption at rest, and who may run them.
"""
import json
import os
import signal
import stat
import threading

from conftest import wait_for

BIG_ROWS = 130000  # more than a DuckDB row group: such an insert is written to the file early
BIG_EVERY = 15


def ok(answer):
    assert not answer.startswith("Error"), answer
    return answer


def rows(c, sql):
    return json.loads(ok(c.req(sql)))


def base_rows(c, sql):
    """The base backups of a `list backups` answer (without the archive's rows)."""
    return [r for r in rows(c, sql) if r["kind"] == "base"]


def one(c, sql):
    r = rows(c, sql)
    assert len(r) == 1, r
    return list(r[0].values())[0]


def backup_dir(srv):
    return os.path.join(srv.data_dir, "backups")


def setup_db(srv, name="app"):
    with srv.admin() as c:
        assert c.req("create database %s" % name) == "success"
        assert c.req("connect %s" % name) == "success"
        ok(c.req("CREATE TABLE t(w INTEGER, i BIGINT)"))
        ok(c.req("CREATE TABLE big(w INTEGER, i BIGINT, r BIGINT)"))


class Writers:
    """Clients committing numbered transactions; acked[w] is the last one answered."""

    def __init__(self, srv, n, db="app"):
        self.srv, self.db, self.n = srv, db, n
        self.acked = [0] * n  # the last commit answered
        self.sent = [0] * n  # the last commit sent (answered or not)
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
                    ok(c.req("begin"))
                    ok(c.req("INSERT INTO t VALUES (%d, %d)" % (w, i)))
                    if i % BIG_EVERY == 0:
                        ok(c.req("INSERT INTO big SELECT %d, %d, r FROM range(%d) x(r)"
                                 % (w, i, BIG_ROWS)))
                    self.sent[w] = i
                    ok(c.req("commit"))
                    self.acked[w] = i
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


def check_prefix(c, lo, hi):
    """Each writer's transactions in the database are exactly 1..k with lo[w] <= k <= hi[w],
    each with its big insert when it had one: nothing half, no hole."""
    for w in range(len(lo)):
        r = rows(c, "SELECT count(DISTINCT i) AS n, coalesce(max(i), 0) AS m FROM t WHERE w = %d" % w)
        n, mx = r[0]["n"], r[0]["m"]
        assert n == mx, (w, n, mx)
        assert lo[w] <= mx <= hi[w], (w, lo[w], mx, hi[w])
        big = one(c, "SELECT count(*) FROM big WHERE w = %d" % w)
        assert big == (mx // BIG_EVERY) * BIG_ROWS, (w, mx, big)
        assert one(c, "SELECT count(*) FROM big WHERE w = %d AND i %% %d <> 0" % (w, BIG_EVERY)) == 0


def test_backup_while_writing_restores_exactly_the_committed_prefix(make_server):
    srv = make_server(args=["--query-workers", "8"])
    setup_db(srv)
    writers = Writers(srv, 3).start()
    backups = []
    stop_checkpoints = threading.Event()
    checkpoints = []

    def checkpointer():
        # Checkpoints that end while a backup copies make it copy again.
        with srv.admin() as c:
            assert c.req("connect app") == "success"
            while not stop_checkpoints.wait(0.02):
                checkpoints.append(c.req("CHECKPOINT"))

    ckpt_thread = threading.Thread(target=checkpointer)
    ckpt_thread.start()
    try:
        with srv.admin() as a:
            assert wait_for(lambda: min(writers.acked) >= 2 * BIG_EVERY, timeout=120)
            for k in range(4):
                before = list(writers.acked)
                answer = ok(a.req("backup app"))
                # A commit may be durable, and so in the backup, before its answer reaches
                # its writer: the upper bound is what had been sent by the answer.
                after = list(writers.sent)
                r = json.loads(answer)
                assert len(r) == 1 and r[0]["database"] == "app", r
                assert r[0]["bytes"] > 0 and r[0]["seconds"] >= 0
                backups.append((r[0]["id"], before, after))
                assert wait_for(lambda: min(writers.acked) >= max(after) + 3, timeout=120)
    finally:
        stop_checkpoints.set()
        ckpt_thread.join()
        writers.finish()
    # DuckDB refuses a checkpoint while another write transaction is open; some must have run.
    busy = "Error: TransactionContext Error: Cannot CHECKPOINT: there are other write transactions"
    assert all(c == "[]" or c.startswith(busy) for c in checkpoints), checkpoints
    assert "[]" in checkpoints
    with srv.admin() as a:
        listed = base_rows(a, "list backups app")
        assert [b["id"] for b in listed] == [b[0] for b in backups]
        for b in listed:
            assert b["kind"] == "base" and b["earliest"] == b["latest"] == b["time"]
        for n, (bid, before, after) in enumerate(backups):
            assert ok(a.req("verify backup %s" % bid)).startswith('[{"id":"%s"' % bid)
            r = rows(a, "restore app AS app_r%d FROM %s" % (n, bid))
            assert r[0]["database"] == "app_r%d" % n and r[0]["backup"] == bid
            assert a.req("connect app_r%d" % n) == "success"
            check_prefix(a, before, after)
        # The live database kept every acknowledged write.
        assert a.req("connect app") == "success"
        check_prefix(a, writers.acked, writers.acked)
    # Files are the server's alone.
    bdir = backup_dir(srv)
    assert stat.S_IMODE(os.stat(bdir).st_mode) == 0o700
    for bid, _, _ in backups:
        assert stat.S_IMODE(os.stat(os.path.join(bdir, bid)).st_mode) == 0o700
        for f in os.listdir(os.path.join(bdir, bid)):
            assert stat.S_IMODE(os.stat(os.path.join(bdir, bid, f)).st_mode) == 0o600


def test_restore_latest_then_drop_and_rename_over_the_original(make_server):
    srv = make_server()
    setup_db(srv)
    with srv.admin() as a, srv.admin() as other, srv.admin() as user_of_app:
        assert a.req("create database other") == "success"
        assert other.req("connect other") == "success"
        ok(other.req("CREATE TABLE o(x INTEGER)"))
        ok(other.req("INSERT INTO o VALUES (1)"))
        assert a.req("connect app") == "success"
        ok(a.req("INSERT INTO t VALUES (0, 1), (0, 2)"))
        first = rows(a, "backup app")[0]["id"]
        ok(a.req("INSERT INTO t VALUES (0, 3)"))
        second = rows(a, "backup all")
        assert sorted(r["database"] for r in second) == ["app", "other"]
        # A mistaken DELETE on the live database ...
        ok(a.req("DELETE FROM t"))
        assert a.req("disconnect") == "success"
        # ... restore without FROM or AT gives app's latest committed state (from its archive,
        # ArchiveMode being on: docs/backup.md), the DELETE included; FROM names the backup
        # taken before it.
        r = rows(a, "restore app AS app_now")
        assert r[0]["backup"] == "archive"
        second_app = [x["id"] for x in second if x["database"] == "app"][0]
        assert rows(a, "restore app AS app_new FROM %s" % second_app)[0]["backup"] == second_app
        assert rows(a, "restore app AS app_first FROM %s" % first)[0]["backup"] == first
        assert a.req("restore app AS app_new") == "Error: Database app_new Already Exists"
        # Drop is refused while a session is connected to the database.
        assert user_of_app.req("connect app") == "success"
        assert a.req("drop database app").startswith("Error: Database app Is In Use")
        assert user_of_app.req("disconnect") == "success"
        assert a.req("drop database app") == "success"
        assert a.req("connect app") == "Error: Database app Does Not Exist"
        assert a.req("drop database app") == "Error: Database app Does Not Exist"
        assert a.req("update database app_new app") == "success"
        assert a.req("connect app") == "success"
        assert one(a, "SELECT count(*) FROM t") == 3
        assert a.req("connect app_first") == "success"
        assert one(a, "SELECT count(*) FROM t") == 2
        assert a.req("connect app_now") == "success"
        assert one(a, "SELECT count(*) FROM t") == 0
        # The session on another database never noticed.
        ok(other.req("INSERT INTO o VALUES (2)"))
        assert one(other, "SELECT count(*) FROM o") == 2
    srv.restart()
    with srv.admin() as a:
        assert a.req("connect app") == "success"
        assert one(a, "SELECT count(*) FROM t") == 3


def test_corrupt_or_cut_backups_are_refused_naming_the_file(make_server):
    srv = make_server()
    setup_db(srv)
    with srv.admin() as a:
        assert a.req("connect app") == "success"
        ok(a.req("CHECKPOINT"))
        ok(a.req("INSERT INTO t SELECT 0, r FROM range(1000) x(r)"))  # stays in the log
        ids = [rows(a, "backup app")[0]["id"] for _ in range(3)]
        bdir = backup_dir(srv)
        for bid in ids:
            assert sorted(os.listdir(os.path.join(bdir, bid))) == ["MANIFEST", "db", "wal"]
        # One bit flipped in the database file.
        path = os.path.join(bdir, ids[0], "db")
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            b = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([b[0] ^ 0x10]))
        want = "Error: Backup Corrupt: %s/db: checksum mismatch" % ids[0]
        assert a.req("verify backup %s" % ids[0]) == want
        assert a.req("restore app AS r0 FROM %s" % ids[0]) == want
        # The log cut short.
        path = os.path.join(bdir, ids[1], "wal")
        os.truncate(path, os.path.getsize(path) - 7)
        answer = a.req("restore app AS r1 FROM %s" % ids[1])
        assert answer.startswith("Error: Backup Corrupt: %s/wal: size " % ids[1]), answer
        # The manifest altered.
        path = os.path.join(bdir, ids[2], "MANIFEST")
        text = open(path).read().replace("database app", "database apq")
        open(path, "w").write(text)
        answer = a.req("verify backup %s" % ids[2])
        assert answer.startswith("Error: Backup Corrupt: %s/MANIFEST: checksum mismatch" % ids[2])
        # None of the refused restores left a database behind.
        names = [d["name"] for d in rows(a, "list databases")]
        assert names == ["app"], names
        assert a.req("verify backup nosuch") == "Error: Backup Not Found: nosuch"
        assert a.req("verify backup ../app") == "Error: Backup Not Found: ../app"
        assert a.req("restore app AS r2 FROM ..") == "Error: Backup Not Found: .."
        answer = a.req("restore app AS r3 AT '2026-01-01 00:00:00'")
        # Before the archive began (test_backup_pitr.py covers restores AT a time).
        assert answer.startswith("Error: Bad Request: database app cannot be restored to that "
                                 "time: the archive reaches from"), answer
        assert a.req("restore app AS r4 FROM nosuch") == "Error: Backup Not Found: nosuch"
        # Corrupt backups are not listed as restorable.
        assert [b["id"] for b in base_rows(a, "list backups")] == ids[:2]


def test_kill_during_backup_leaves_no_backup_listed(make_server):
    srv = make_server()
    setup_db(srv)
    with srv.admin() as a:
        a.sock.settimeout(600)  # a few seconds, but minutes under TSan on a loaded machine
        assert a.req("connect app") == "success"
        ok(a.req("CREATE TABLE filler AS SELECT r, md5(r::VARCHAR) || md5((r + 1)::VARCHAR) AS s "
                 "FROM range(3000000) x(r)"))
        ok(a.req("CHECKPOINT"))
    bdir = backup_dir(srv)
    seen = threading.Event()

    def watch():
        while not seen.is_set():
            if os.path.isdir(bdir) and any(n.startswith(".tmp-") for n in os.listdir(bdir)):
                seen.set()
                os.kill(srv.proc.pid, signal.SIGKILL)

    watcher = threading.Thread(target=watch)
    watcher.start()
    c = srv.admin()
    try:
        c.send_raw(b"backup app\n")
        assert wait_for(seen.is_set, timeout=120)
    finally:
        seen.set()
        watcher.join()
        c.close()
    srv.proc.wait()
    srv.stop()
    srv.start()
    with srv.admin() as a:
        a.sock.settimeout(600)
        assert base_rows(a, "list backups") == []
        assert a.req("restore app AS r FROM app") == "Error: Backup Not Found: app"
        bid = rows(a, "backup app")[0]["id"]
        assert [n for n in os.listdir(bdir) if n.startswith(".")] == []
        assert rows(a, "restore app AS r FROM %s" % bid)[0]["database"] == "r"
        assert a.req("connect r") == "success"
        assert one(a, "SELECT count(*) FROM filler") == 3000000


def test_encrypted_backups(make_server):
    key = {"ENCRYPTION_KEY": "k" * 32}
    srv = make_server(env=key)
    setup_db(srv)
    with srv.admin() as a:
        assert a.req("connect app") == "success"
        ok(a.req("CREATE TABLE secret AS SELECT 'TOPSECRET-' || r AS s FROM range(5000) x(r)"))
        ok(a.req("INSERT INTO secret VALUES ('TOPSECRET-inlog')"))
        bid = rows(a, "backup app")[0]["id"]
        assert rows(a, "list backups app")[0]["encrypted"] is True
    bdir = backup_dir(srv)
    for f in ("db", "wal"):
        data = open(os.path.join(bdir, bid, f), "rb").read()
        assert data.startswith(b"TDBKENC1") and b"TOPSECRET" not in data
    with srv.admin() as a:
        assert rows(a, "restore app AS copy FROM %s" % bid)[0]["database"] == "copy"
        assert a.req("connect copy") == "success"
        assert one(a, "SELECT count(*) FROM secret") == 5001
    # No key: refused before anything is written.
    srv.env = {}
    srv.restart()
    with srv.admin() as a:
        answer = a.req("restore app AS copy2 FROM %s" % bid)
        assert answer == ("Error: Bad Request: backup %s is encrypted and ENCRYPTION_KEY is not set"
                          % bid), answer
    # Another key: the checksum still verifies, but nothing decrypts.
    srv.env = {"ENCRYPTION_KEY": "another key of a different length"}
    srv.restart()
    with srv.admin() as a:
        assert a.req("verify backup %s" % bid).startswith('[{"id"')
        answer = a.req("restore app AS copy2 FROM %s" % bid)
        assert answer.startswith("Error: Backup Corrupt: %s/" % bid), answer
        assert "does not decrypt" in answer
        assert "copy2" not in a.req("list databases")


def test_backup_commands_are_for_the_super_user(server):
    setup_db(server)
    with server.admin() as a:
        assert a.req("create user bob pw") == "success"
        assert a.req("grant database app bob write") == "success"
        bid = rows(a, "backup app")[0]["id"]
    with server.client(login=("bob", "pw")) as b:
        for line in ["backup app", "backup all", "list backups", "list backups app",
                     "restore app AS mine FROM %s" % bid, "restore app AS mine",
                     "verify backup %s" % bid, "drop database app"]:
            assert b.req(line) == "Error: Unauthorized", line
    with server.client() as g:
        assert g.req("backup app") == "Error: Unauthorized"
    with server.admin() as a:
        assert a.req("backup nosuch") == "Error: Database nosuch Does Not Exist"
        assert a.req("backup bad-name").startswith("Error: Bad Request: invalid database name")
        # Grants are not copied to a restored database.
        assert rows(a, "restore app AS app2 FROM %s" % bid)[0]["database"] == "app2"
        grants = rows(a, "list grants bob")
        assert [g["database"] for g in grants] == ["app"], grants


FSIZE_WRAPPER = """#!/usr/bin/python3
import os, resource, signal, sys
limit = int(os.environ.pop("TEST_FSIZE_LIMIT"))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # stays ignored across exec: writes fail EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
os.execv(%r, [%r] + sys.argv[1:])
"""


def test_full_disk_fails_the_backup_and_lists_nothing(make_server, monkeypatch, tmp_path):
    """A write that fails (here: the file-size limit, as a full disk fails it) ends the backup
    with the reason, leaves no backup listed and no leftovers, and the live database intact."""
    import conftest
    key = {"ENCRYPTION_KEY": "k" * 32}
    srv = make_server(env=key)
    setup_db(srv)
    with srv.admin() as a:
        assert a.req("connect app") == "success"
        ok(a.req("INSERT INTO t SELECT 1, r FROM range(50000) x(r)"))
        ok(a.req("CHECKPOINT"))
    srv.check_clean(srv.stop())
    live = os.path.join(srv.data_dir, "databases", "1.duckdb")
    size = os.path.getsize(live)
    # Every file may grow to the live database's size, not beyond: the encrypted copy of it
    # (a few bytes longer) cannot be written.
    wrapper = tmp_path / "fsize-wrapper"
    wrapper.write_text(FSIZE_WRAPPER % (conftest.BIN, conftest.BIN))
    wrapper.chmod(0o755)
    monkeypatch.setattr(conftest, "BIN", str(wrapper))
    srv.env = dict(key, TEST_FSIZE_LIMIT=str(size + 16))
    srv.start()
    with srv.admin() as a:
        assert a.req("backup app") == "Error: Backup Failed: cannot write db: File too large"
        assert base_rows(a, "list backups") == []
        assert [d for d in os.listdir(backup_dir(srv)) if d != "archive"] == []
        assert a.req("connect app") == "success"
        assert one(a, "SELECT count(*) FROM t") == 50000
    assert "backup of database app failed: cannot write db: File too large" in srv.stderr()
