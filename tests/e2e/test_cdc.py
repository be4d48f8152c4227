"""Native CDC (docs/cdc.md): `link ... mode=cdc` against a real PostgreSQL 15 started with
wal_level=logical (tests/e2e/pgserver.py). Every test ends comparing whole tables on both
sides."""
import datetime
import io
import json
import os
import time
import threading

import psycopg2
import pytest

from conftest import wait_for
from pgserver import PgServer
from test_pgwire import pg_port

KEY = {"ENCRYPTION_KEY": "an encryption key for the tests, 48 bytes long.."}


@pytest.fixture(scope="module")
def pg():
    srv = PgServer().init()
    with open(srv.data + "/postgresql.conf", "a") as f:
        f.write("wal_level = logical\nlogical_decoding_work_mem = 64kB\n"
                "max_replication_slots = 20\nmax_wal_senders = 20\n")
    srv.start()
    srv.psql("CREATE ROLE norepl LOGIN")
    yield srv
    srv.cleanup()


_dbs = iter(range(1000))


@pytest.fixture
def pgdb(pg):
    return pg.createdb("cdc%d" % next(_dbs))


@pytest.fixture
def srv(make_server):
    return make_server(env=KEY)


def duck(a, db, sql):
    assert a.req("connect %s" % db) == "success"
    out = a.req(sql)
    assert a.req("disconnect") == "success"
    return json.loads(out)


def pg_json(pg, db, sql):
    return json.loads(pg.psql("SELECT coalesce(json_agg(q), '[]') FROM (%s) q" % sql, db=db))


def same(a, name, pg, db, table, order):
    """True when table `table` of DuckDB database `name` equals PostgreSQL's in `db`."""
    sql = "SELECT * FROM %s ORDER BY %s" % (table, order)
    return duck(a, name, sql) == pg_json(pg, db, sql)


def link_cdc(a, name, dsn, extra="mode=cdc"):
    assert a.req("create database %s" % name) == "success"
    return a.req('link %s "%s" %s' % (name, dsn, extra))


def status(a, name):
    rows = json.loads(a.req("cdc status %s" % name))
    assert len(rows) == 1
    return rows[0]


def migrate(a, name):
    out = a.req("migrate %s" % name)
    assert out.startswith("success "), out
    return int(out.split()[1])


def slots(pg, db):
    return pg.psql("SELECT slot_name FROM pg_replication_slots WHERE database = '%s'" % db)


def test_copy_then_every_kind_of_change(pg, pgdb, srv):
    pg.psql("""
    CREATE TABLE t (id int PRIMARY KEY, v text, n bigint, f boolean);
    INSERT INTO t SELECT g, 'v' || g, g * 10, g % 2 = 0 FROM generate_series(1, 500) g;
    CREATE TABLE k (a int, b text);
    ALTER TABLE k REPLICA IDENTITY FULL;
    INSERT INTO k VALUES (1, 'x'), (1, 'x'), (2, NULL);
    CREATE TABLE big (id int PRIMARY KEY, doc text, c int);
    INSERT INTO big VALUES (1, repeat(md5('a'), 400), 0), (2, repeat(md5('b'), 400), 0);
    CREATE TABLE gone (id int PRIMARY KEY);
    INSERT INTO gone SELECT generate_series(1, 50);
    """, db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "c1", pg.dsn(pgdb)) == "success"
    assert wait_for(lambda: status(a, "c1")["state"] == "streaming", timeout=30)
    assert status(a, "c1")["slot"].startswith("tcpduckdb_")
    assert same(a, "c1", pg, pgdb, "t", "id")
    pg.psql("""
    INSERT INTO t VALUES (1001, 'new', 1, true);
    UPDATE t SET v = 'upd' WHERE id <= 10;
    UPDATE t SET id = 2000 WHERE id = 20;
    DELETE FROM t WHERE id BETWEEN 30 AND 40;
    BEGIN; DELETE FROM t WHERE id = 50; INSERT INTO t VALUES (50, 'again', 5, false); COMMIT;
    BEGIN; INSERT INTO t VALUES (3000, 'a', 1, true); UPDATE t SET v = 'b' WHERE id = 3000;
      UPDATE t SET n = 7 WHERE id = 3000; COMMIT;
    DELETE FROM k WHERE a = 1 AND ctid = (SELECT min(ctid) FROM k WHERE a = 1);
    INSERT INTO k VALUES (2, NULL), (3, 'y');
    UPDATE k SET b = 'z' WHERE a = 3;
    UPDATE big SET c = c + 1;
    BEGIN; INSERT INTO big VALUES (3, repeat(md5('c'), 400), 0); UPDATE big SET c = 5 WHERE id = 3;
      COMMIT;
    TRUNCATE gone;
    INSERT INTO gone VALUES (7);
    """, db=pgdb)
    assert migrate(a, "c1") > 0
    assert same(a, "c1", pg, pgdb, "t", "id")
    assert same(a, "c1", pg, pgdb, "k", "a, b")
    assert same(a, "c1", pg, pgdb, "big", "id")
    assert same(a, "c1", pg, pgdb, "gone", "id")
    # The unchanged TOASTed values were kept, not nulled.
    assert duck(a, "c1", "SELECT count(*) AS n FROM big WHERE length(doc) = 12800") == [{"n": 3}]
    st = status(a, "c1")
    assert st["state"] == "streaming" and st["last_error"] == "" and st["changes"] > 0
    # Nothing new: migrate answers 0.
    assert migrate(a, "c1") == 0


def test_streamed_values_equal_copied_ones_for_every_type(pg, pgdb, srv):
    pg.psql("""
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TABLE t (
      id int PRIMARY KEY, s smallint, i int, b bigint, n numeric(12,3), nf numeric,
      big numeric(38,0), r real, d double precision, tx text, vc varchar(5), ch char(3),
      bo boolean, dt date, tm time, ts timestamp, tz timestamptz, iv interval, u uuid,
      j json, jb jsonb, by bytea, ai int[], at text[], m mood, ma mood[]);
    CREATE SCHEMA src; CREATE TABLE src.rows_ (LIKE t);
    INSERT INTO src.rows_ VALUES
     (1, -32768, -2147483648, -9223372036854775808, -123456789.123, 0.0000000001,
      99999999999999999999999999999999999999, 'NaN', 'Infinity', '', '', 'a', false,
      '-infinity', '00:00', '-infinity', 'infinity', '-1 year -2 days -00:00:01.5',
      '00000000-0000-0000-0000-000000000000', '{"a": [1, 2]}', '{"b": null}', '\\x00ff00',
      '{}', '{"", NULL, "é"}', 'sad', '{}'),
     (2, 32767, 2147483647, 9223372036854775807, 999999999.999, -12345678901234567890.5,
      -1, '-Infinity', 1e308, 'héllo ☃ 😀', 'abcde', 'xyz', true, '0001-01-01',
      '23:59:59.999999', '1970-01-01 00:00:00.000001', '2000-01-01 12:00:00+02',
      '1 mon 2 days 03:04:05.000006', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '[]', '"x"',
      '', '{1, NULL, 3}', '{a}', 'happy', '{ok,sad}'),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    INSERT INTO t SELECT * FROM src.rows_;
    """, db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "c2", pg.dsn(pgdb)) == "success"
    pg.psql("INSERT INTO t SELECT id + 100, s, i, b, n, nf, big, r, d, tx, vc, ch, bo, dt, tm, "
            "ts, tz, iv, u, j, jb, by, ai, at, m, ma FROM src.rows_", db=pgdb)
    assert migrate(a, "c2") == 3
    copied = duck(a, "c2", "SELECT * EXCLUDE (id) FROM t WHERE id < 100 ORDER BY id")
    streamed = duck(a, "c2", "SELECT * EXCLUDE (id) FROM t WHERE id > 100 ORDER BY id")
    assert len(copied) == 3 and copied == streamed


def test_writers_during_link_and_a_long_transaction(pg, pgdb, srv):
    pg.psql("""
    CREATE TABLE acc (id int PRIMARY KEY, bal bigint);
    INSERT INTO acc SELECT g, 0 FROM generate_series(1, 20) g;
    CREATE TABLE log (w int, i int);
    ALTER TABLE log REPLICA IDENTITY FULL;
    """, db=pgdb)
    stop = threading.Event()

    def writer(w):
        i = 0
        while not stop.is_set():
            i += 1
            pg.psql("BEGIN; UPDATE acc SET bal = bal + 1 WHERE id = %d; INSERT INTO log VALUES "
                    "(%d, %d); COMMIT;" % (w % 20 + 1, w, i), db=pgdb)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    try:
        a = srv.admin()
        assert link_cdc(a, "c3", pg.dsn(pgdb)) == "success"
        # A transaction opened first, with a rolled-back savepoint, committed last.
        pg.psql("""
        BEGIN;
        UPDATE acc SET bal = -100 WHERE id = 20;
        SAVEPOINT s; INSERT INTO log VALUES (99, 1); ROLLBACK TO s;
        INSERT INTO log VALUES (99, 2);
        SELECT pg_sleep(0.5);
        UPDATE acc SET bal = bal + 1000 WHERE id = 20;
        COMMIT;
        """, db=pgdb)
    finally:
        stop.set()
        for t in threads:
            t.join()
    migrate(a, "c3")
    sql = "SELECT * FROM acc ORDER BY id"
    assert duck(a, "c3", sql) == pg_json(pg, pgdb, sql), (status(a, "c3"), srv.stderr())
    assert same(a, "c3", pg, pgdb, "log", "w, i")
    assert duck(a, "c3", "SELECT count(*) AS n FROM log WHERE w = 99") == [{"n": 1}]


def counts(a, pg, db):
    return (duck(a, "cx", "SELECT count(*) AS n, sum(v) AS s FROM ev"),
            pg_json(pg, db, "SELECT count(*) AS n, sum(v) AS s FROM ev"))


def test_kill_9_mid_stream_applies_every_change_once(pg, pgdb, srv):
    pg.psql("CREATE TABLE ev (w int, v int); ALTER TABLE ev REPLICA IDENTITY FULL;", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "cx", pg.dsn(pgdb)) == "success"
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            i += 1
            pg.psql("INSERT INTO ev SELECT %d, g FROM generate_series(1, 50) g" % i, db=pgdb)

    t = threading.Thread(target=writer)
    t.start()
    try:
        assert wait_for(lambda: duck(srv.admin(), "cx", "SELECT count(*) AS n FROM ev")[0]["n"]
                        > 500, timeout=60)
        srv.proc.kill()
        srv.proc.wait()
        srv._reader.join(10)
        srv.proc = None
        srv.start()
    finally:
        stop.set()
        t.join()
    a = srv.admin()
    assert wait_for(lambda: status(a, "cx")["state"] == "streaming", timeout=30)
    migrate(a, "cx")
    d, p = counts(a, pg, pgdb)
    assert d == p and p[0]["n"] > 500
    assert same(a, "cx", pg, pgdb, "ev", "w, v")


def test_crash_between_duckdb_commit_and_status_update(pg, pgdb, make_server):
    pg.psql("CREATE TABLE ev (w int, v int); ALTER TABLE ev REPLICA IDENTITY FULL;", db=pgdb)
    srv = make_server(env=dict(KEY, TCPDUCKDB_TEST_CDC_CRASH_AFTER_COMMIT="1"))
    a = srv.admin()
    assert link_cdc(a, "cx", pg.dsn(pgdb)) == "success"
    pg.psql("INSERT INTO ev SELECT 1, g FROM generate_series(1, 100) g", db=pgdb)
    pg.psql("INSERT INTO ev SELECT 2, g FROM generate_series(1, 100) g", db=pgdb)
    # The first batch commits in DuckDB, then the hook ends the server before PostgreSQL
    # hears of it: its slot still stands before that transaction after the restart.
    assert srv.proc.wait(60) == 9
    srv._reader.join(10)
    srv.proc = None
    srv.env = KEY
    srv.start()
    a = srv.admin()
    migrate(a, "cx")
    d, p = counts(a, pg, pgdb)
    assert d == p and p[0]["n"] == 200
    assert same(a, "cx", pg, pgdb, "ev", "w, v")


def test_stop_start_migrate_and_unlink(pg, pgdb, srv):
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1);", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "c4", pg.dsn(pgdb)) == "success"
    assert a.req("cdc stop c4") == "success"
    assert status(a, "c4")["state"] == "stopped"
    pg.psql("INSERT INTO t SELECT g, g FROM generate_series(2, 11) g", db=pgdb)
    # A stopped stream: migrate applies up to now, then stops again.
    n = migrate(a, "c4")
    assert n == 10, (status(a, "c4"), srv.stderr())
    assert same(a, "c4", pg, pgdb, "t", "id")
    assert wait_for(lambda: status(a, "c4")["state"] == "stopped", timeout=30)
    # Stopped stays stopped across a restart.
    srv.restart()
    a = srv.admin()
    assert status(a, "c4")["state"] == "stopped"
    assert a.req("cdc start c4") == "success"
    assert wait_for(lambda: status(a, "c4")["state"] == "streaming", timeout=30)
    pg.psql("UPDATE t SET v = v * 2", db=pgdb)
    assert wait_for(lambda: same(a, "c4", pg, pgdb, "t", "id"), timeout=60)
    assert slots(pg, pgdb).strip() != ""
    assert a.req("unlink c4") == "success"
    assert slots(pg, pgdb).strip() == ""
    assert pg.psql("SELECT count(*) FROM pg_publication", db=pgdb).strip() == "0"
    assert json.loads(a.req("cdc status")) == []
    assert a.req("migrate c4").startswith("Error: Bad Request: database c4 is not linked")
    # The copied tables stay, and no longer follow PostgreSQL.
    assert duck(a, "c4", "SELECT count(*) AS n FROM t") == [{"n": 11}]


def test_idle_slot_advances_under_unrelated_writes(pg, pgdb, srv):
    pg.psql("CREATE TABLE t (id int PRIMARY KEY); CREATE SCHEMA other; "
            "CREATE TABLE other.x (a int);", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "c5", pg.dsn(pgdb)) == "success"
    assert wait_for(lambda: status(a, "c5")["state"] == "streaming", timeout=30)
    slot = status(a, "c5")["slot"]

    def confirmed():
        return pg.psql("SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots "
                       "WHERE slot_name = '%s'" % slot).strip()

    before = int(confirmed())
    pg.psql("INSERT INTO other.x SELECT generate_series(1, 1000)", db=pgdb)
    target = int(pg.psql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").strip())
    assert target > before
    assert migrate(a, "c5") == 0
    assert wait_for(lambda: int(confirmed()) >= target, timeout=60)


def test_errors_and_auto_mode(pg, pgdb, srv, tmp_path):
    pg.psql("CREATE TABLE nokey (a int); CREATE TABLE ok (id int PRIMARY KEY);", db=pgdb)
    a = srv.admin()
    dsn = pg.dsn(pgdb)
    out = link_cdc(a, "e1", dsn)
    assert out.startswith("Error: Bad Request: CDC needs a primary key") and "nokey" in out
    assert slots(pg, pgdb).strip() == ""
    assert pg.psql("SELECT count(*) FROM pg_publication", db=pgdb).strip() == "0"
    assert a.req('link e1 "%s" mode=sometimes' % dsn) == ("Error: Bad Request: mode must be "
                                                         "auto, cdc or audit")
    out = a.req('link e1 "%s" mode=cdc' % pg.dsn(pgdb, user="norepl"))
    assert "REPLICATION privilege" in out
    # auto: CDC here (wal_level logical, a superuser) once the keyless table has an identity.
    pg.psql("ALTER TABLE nokey REPLICA IDENTITY FULL", db=pgdb)
    assert a.req('link e1 "%s"' % dsn) == "success"
    assert wait_for(lambda: status(a, "e1")["state"] == "streaming", timeout=30)
    assert status(a, "e1")["slot"].startswith("tcpduckdb_")
    assert a.req('link e1 "%s" mode=cdc' % dsn).startswith("Error: Bad Request: database e1 is "
                                                            "already linked")
    # A PostgreSQL without wal_level=logical: cdc names the setting, auto falls back to audit.
    plain = PgServer().init().start()
    try:
        plain.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
        out = link_cdc(a, "e2", plain.dsn("postgres"))
        assert out.startswith("Error: Bad Request: PostgreSQL's wal_level is replica") and \
            "mode=audit" in out
        assert a.req('link e2 "%s"' % plain.dsn("postgres")) == "success"
        assert a.req("cdc status e2") == "Error: Bad Request: database e2 is not linked in CDC mode"
        assert duck(a, "e2", "SELECT count(*) AS n FROM tcpduckdb_link_state") == [{"n": 1}]
        assert a.req("unlink e2") == "success"
    finally:
        plain.cleanup()
    # Only the super user; bad words get the usage.
    assert a.req("create user ann pw") == "success"
    ann = srv.client(login=("ann", "pw"))
    for req in ("cdc status", "cdc stop e1", "cdc start e1", 'link x "%s" mode=cdc' % dsn,
                "migrate e1", "unlink e1"):
        assert ann.req(req) == "Error: Unauthorized"
    assert a.req("cdc pause e1").startswith("Error: Bad Request: usage: cdc start DATABASE")
    assert a.req("cdc stop").startswith("Error: Bad Request: usage: cdc start DATABASE")
    assert a.req("cdc stop nosuch") == "Error: Database nosuch Does Not Exist"
    # The running stream holds its database; a stopped one is forgotten with it.
    assert a.req("drop database e1").startswith("Error: Database e1 Is In Use")
    assert link_cdc(a, "e3", dsn) == "success"
    assert a.req("cdc stop e3") == "success"
    assert a.req("drop database e3") == "success"
    assert [r["database"] for r in json.loads(a.req("cdc status"))] == ["e1"]
    pg.psql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
            "slot_name <> '%s' AND database = '%s'" % (status(a, "e1")["slot"], pgdb))
    assert a.req("unlink e1") == "success"


def test_postgres_crash_resends_what_was_applied(pg, pgdb, srv):
    pg.psql("CREATE TABLE ev (w int, v int); ALTER TABLE ev REPLICA IDENTITY FULL;", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "cp", pg.dsn(pgdb)) == "success"
    for w in range(1, 6):
        pg.psql("INSERT INTO ev SELECT %d, g FROM generate_series(1, 100) g" % w, db=pgdb)
    migrate(a, "cp")
    assert duck(a, "cp", "SELECT count(*) AS n FROM ev") == [{"n": 500}]
    # Stopped without a checkpoint: the slot's position on disk is older than what was
    # confirmed, so PostgreSQL sends the applied transactions again after its restart.
    pg.stop("immediate")
    pg.start()
    assert wait_for(lambda: status(a, "cp")["state"] == "streaming", timeout=60)
    pg.psql("INSERT INTO ev SELECT 6, g FROM generate_series(1, 100) g", db=pgdb)
    assert wait_for(lambda: status(a, "cp")["state"] == "streaming", timeout=60)
    migrate(a, "cp")
    assert duck(a, "cp", "SELECT count(*) AS n FROM ev") == [{"n": 600}]
    assert same(a, "cp", pg, pgdb, "ev", "w, v")


def test_point_in_time_restore_reaches_each_applied_batch(pg, pgdb, srv):
    # The link's copy and each applied batch commit through the archive's gate (docs/backup.md):
    # a restore to a moment after a batch was applied holds it, and nothing applied later.
    pg.psql("CREATE TABLE ev (id int PRIMARY KEY, v text);"
            "INSERT INTO ev VALUES (0, 'copied')", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "pt", pg.dsn(pgdb)) == "success"
    assert wait_for(lambda: status(a, "pt")["state"] == "streaming", timeout=30)
    marks = []
    for i in range(1, 4):
        before = status(a, "pt")["applied_lsn"]
        pg.psql("INSERT INTO ev VALUES (%d, 'streamed')" % i, db=pgdb)
        # Applied and published (after the commit's archive record): the status moved on.
        assert wait_for(lambda: status(a, "pt")["applied_lsn"] != before and
                        duck(a, "pt", "SELECT count(*) AS n FROM ev") == [{"n": i + 1}],
                        timeout=30)
        marks.append(time.time())
    for k, t in enumerate(marks, start=1):
        stamp = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S.%f")
        out = a.req("restore pt AS pt_at%d AT '%s'" % (k, stamp))
        assert json.loads(out)[0]["database"] == "pt_at%d" % k, out
        assert duck(a, "pt_at%d" % k, "SELECT max(id) AS m, count(*) AS n FROM ev") == \
            [{"m": k, "n": k + 1}]
    assert a.req("cdc stop pt") == "success"


def stats_cdc(a):
    return json.loads(a.req("stats"))["cdc"]


def test_max_streams_refuses_more_and_stats_count_the_pins(pg, pgdb, make_server, data_dir):
    other = pg.createdb("cdc%d" % next(_dbs))
    for db in (pgdb, other):
        pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1);", db=db)
    # In .env (a flag would win over it), so that a reload can raise it below.
    with open(os.path.join(data_dir, ".env"), "w") as f:
        f.write("CdcMaxStreams=1\n")
    srv = make_server(env=KEY)
    a = srv.admin()
    assert stats_cdc(a) == {"linked": 0, "streams": 0, "pool_pins": 0, "max_streams": 1}
    assert link_cdc(a, "m1", pg.dsn(pgdb)) == "success"
    assert wait_for(lambda: status(a, "m1")["state"] == "streaming", timeout=30)
    assert wait_for(lambda: stats_cdc(a)["pool_pins"] == 1, timeout=30)
    assert stats_cdc(a) == {"linked": 1, "streams": 1, "pool_pins": 1, "max_streams": 1}
    # A second CDC link is beyond the cap: refused before anything is made in PostgreSQL (no
    # slot), with the setting named; the database stays unlinked.
    out = link_cdc(a, "m2", pg.dsn(other))
    assert out.startswith("Error: Server Busy") and "CdcMaxStreams" in out, out
    # mode=auto choosing CDC likewise.
    out = a.req('link m2 "%s"' % pg.dsn(other))
    assert out.startswith("Error: Server Busy") and "CdcMaxStreams" in out, out
    assert slots(pg, other) == ""
    assert pg.psql("SELECT count(*) FROM pg_publication", db=other).strip() == "0"
    assert duck(a, "m2", "SELECT count(*) AS n FROM duckdb_tables()") == [{"n": 0}]
    assert json.loads(a.req("cdc status")) == [status(a, "m1")]
    assert stats_cdc(a) == {"linked": 1, "streams": 1, "pool_pins": 1, "max_streams": 1}
    # Stopping the first makes room; the stopped one cannot start again beyond the cap.
    assert a.req("cdc stop m1") == "success"
    assert stats_cdc(a) == {"linked": 1, "streams": 0, "pool_pins": 0, "max_streams": 1}
    assert a.req('link m2 "%s" mode=cdc' % pg.dsn(other)) == "success"
    assert wait_for(lambda: status(a, "m2")["state"] == "streaming", timeout=30)
    assert status(a, "m2")["last_error"] == ""
    out = a.req("cdc start m1")
    assert out.startswith("Error: ") and "CdcMaxStreams" in out, out
    pg.psql("INSERT INTO t SELECT g, g FROM generate_series(2, 50) g", db=other)
    assert wait_for(lambda: same(a, "m2", pg, other, "t", "id"), timeout=60)
    assert wait_for(lambda: stats_cdc(a)["pool_pins"] == 1, timeout=30)
    # CdcMaxStreams is live: raised by a reload, the first stream starts again.
    with open(os.path.join(data_dir, ".env"), "w") as f:
        f.write("CdcMaxStreams=2\n")
    assert json.loads(a.req("reload")) == {"changed": ["CdcMaxStreams"], "restart": []}
    assert a.req("cdc start m1") == "success"
    assert wait_for(lambda: stats_cdc(a)["pool_pins"] == 2, timeout=30)
    assert stats_cdc(a) == {"linked": 2, "streams": 2, "pool_pins": 2, "max_streams": 2}
    pg.psql("UPDATE t SET v = v + 1", db=pgdb)
    assert wait_for(lambda: same(a, "m1", pg, pgdb, "t", "id"), timeout=60)
    assert a.req("unlink m2") == "success"
    assert a.req("unlink m1") == "success"
    assert stats_cdc(a) == {"linked": 0, "streams": 0, "pool_pins": 0, "max_streams": 2}


def test_retained_wal_warning_once_per_crossing(pg, pgdb, make_server):
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int)", db=pgdb)
    srv = make_server(args=["--cdc-retained-wal-warn", "1", "--cdc-status-interval", "200"],
                      env=KEY)
    a = srv.admin()
    assert link_cdc(a, "w1", pg.dsn(pgdb)) == "success"
    # The slot's restart_lsn stands behind PostgreSQL's WAL position: above 1 byte.
    assert wait_for(lambda: status(a, "w1")["retained_wal_warning"], timeout=30)
    st = status(a, "w1")
    assert st["retained_wal_bytes"] > 1 and st["wal_status"] in ("reserved", "extended"), st
    assert st["safe_wal_size"] is None  # max_slot_wal_keep_size = -1: no limit
    slot = st["slot"]
    pg_retained = int(pg.psql("SELECT (pg_current_wal_lsn() - restart_lsn)::bigint FROM "
                              "pg_replication_slots WHERE slot_name = '%s'" % slot).strip())
    assert pg_retained > 1
    first = st["retained_wal_bytes"]
    pg.psql("INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g", db=pgdb)
    # Read again after more WAL: still above, and warned only once.
    assert wait_for(lambda: status(a, "w1")["retained_wal_bytes"] != first, timeout=60)
    assert wait_for(lambda: same(a, "w1", pg, pgdb, "t", "id"), timeout=60)
    warnings = [ln for ln in srv.log if "above CdcRetainedWalWarn" in ln]
    assert len(warnings) == 1, warnings
    assert slot in warnings[0]


def test_status_updates_continue_while_a_batch_applies(pg, pgdb, make_server):
    """A DuckDB apply longer than wal_sender_timeout (a test hook sleeps 4 s in each batch
    with changes; PostgreSQL's timeout set to 1 s) does not end the replication connection:
    the keeper thread sends status updates meanwhile."""
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int)", db=pgdb)
    pg.psql("ALTER SYSTEM SET wal_sender_timeout = '1s'")
    pg.psql("SELECT pg_reload_conf()")
    try:
        srv = make_server(args=["--cdc-status-interval", "200"],
                          env=dict(KEY, TCPDUCKDB_TEST_CDC_APPLY_SLEEP_MS="4000"))
        a = srv.admin()
        assert link_cdc(a, "k1", pg.dsn(pgdb)) == "success"
        assert wait_for(lambda: status(a, "k1")["state"] == "streaming", timeout=30)
        slot = status(a, "k1")["slot"]

        def sender_pid():
            return pg.psql("SELECT active_pid FROM pg_replication_slots WHERE slot_name = '%s'"
                           % slot).strip()

        assert wait_for(lambda: sender_pid() != "", timeout=30)
        pid = sender_pid()
        for i in range(3):
            pg.psql("INSERT INTO t SELECT g, %d FROM generate_series(%d, %d) g"
                    % (i, i * 100 + 1, i * 100 + 100), db=pgdb)
            assert wait_for(lambda: same(a, "k1", pg, pgdb, "t", "id"), timeout=120)
        st = status(a, "k1")
        assert st["state"] == "streaming" and st["last_error"] == "", st
        assert sender_pid() == pid
        assert not [ln for ln in srv.log if "retrying" in ln], srv.stderr()
        assert a.req("unlink k1") == "success"
    finally:
        pg.psql("ALTER SYSTEM RESET wal_sender_timeout")
        pg.psql("SELECT pg_reload_conf()")


def refused(name, table):
    return ("Error: Bad Request: table %s follows PostgreSQL by CDC (link of database %s); write "
            "it in PostgreSQL (`cdc stop %s` or `unlink %s` makes it writable here)"
            % (table, name, name, name))


def test_linked_tables_are_read_only_while_the_stream_runs(pg, pgdb, make_server):
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int); CREATE TABLE u (id int PRIMARY KEY); "
            "INSERT INTO t VALUES (1, 1), (2, 2);", db=pgdb)
    srv = make_server(args=["--pg-port", "-1"], env=KEY)
    port = pg_port(srv)
    a = srv.admin()
    assert link_cdc(a, "ro", pg.dsn(pgdb)) == "success"
    for req in ("create user w pw", "grant database ro w write",
                "grant table ro t w select insert update delete"):
        assert a.req(req) == "success"
    w = srv.client(login=("w", "pw"))
    assert a.req("connect ro") == "success" and w.req("connect ro") == "success"
    # Refused from the link's answer on, for the super user and a user with write access alike.
    writes = [("INSERT INTO t VALUES (99, 1)", "t"), ("update T set v = 0", "T"),
              ("DELETE FROM main.t", "t"), ("ALTER TABLE t ADD COLUMN w int", "t"),
              ("DROP TABLE t", "t"), ("TRUNCATE u", "u"),
              ("SELECT 1; INSERT INTO \"u\" VALUES (5)", "u"),
              ("CREATE OR REPLACE TABLE t AS SELECT 1 AS id", "t")]
    for sql, table in writes:
        assert a.req(sql) == refused("ro", table), sql
    for sql, table in writes[:3]:
        assert w.req(sql) == refused("ro", table), sql
    # Reads stay allowed; a table of the database that PostgreSQL does not feed stays writable.
    assert json.loads(a.req("SELECT count(*) AS n FROM t")) == [{"n": 2}]
    assert not a.req("CREATE TABLE scratch (a int)").startswith("Error")
    assert a.req("grant table ro scratch w insert") == "success"
    assert w.req("INSERT INTO scratch SELECT v FROM t") == "2"
    assert a.req("disconnect") == "success"
    # The PostgreSQL wire port goes through the same check, its COPY FROM STDIN too.
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="w", password="pw", dbname="ro",
                            connect_timeout=30)
    conn.autocommit = True
    cur = conn.cursor()
    with pytest.raises(psycopg2.Error) as e:
        cur.execute("UPDATE t SET v = 0")
    assert "table t follows PostgreSQL by CDC (link of database ro)" in str(e.value)
    with pytest.raises(psycopg2.Error) as e:
        cur.copy_expert("COPY t FROM STDIN", io.StringIO("7\t7\n"))
    assert "table t follows PostgreSQL by CDC" in str(e.value)
    cur.execute("SELECT count(*) FROM t")
    assert cur.fetchone() == (2,)
    # The stream's own writes go on.
    pg.psql("INSERT INTO t VALUES (3, 3); UPDATE t SET v = 20 WHERE id = 2;", db=pgdb)
    assert wait_for(lambda: same(a, "ro", pg, pgdb, "t", "id"), timeout=60)
    # Stopped, the stream follows nothing: the tables are writable; started again, read-only.
    assert a.req("cdc stop ro") == "success"
    assert w.req("UPDATE t SET v = 5 WHERE id = 3") == "1"
    assert w.req("UPDATE t SET v = 3 WHERE id = 3") == "1"
    assert a.req("cdc start ro") == "success"
    assert w.req("DELETE FROM t") == refused("ro", "t")
    cur.execute("SELECT v FROM t WHERE id = 3")
    assert cur.fetchone() == (3,)
    pg.psql("INSERT INTO u VALUES (1)", db=pgdb)
    assert wait_for(lambda: same(a, "ro", pg, pgdb, "u", "id"), timeout=60)
    # After a restart the tables are read-only before the stream reaches PostgreSQL (the
    # catalog keeps them), also while PostgreSQL is down.
    conn.close()
    w.close()
    pg.stop()
    try:
        srv.restart()
        a = srv.admin()
        assert status(a, "ro")["state"] in ("starting", "retrying")
        assert a.req("connect ro") == "success"
        assert a.req("INSERT INTO u VALUES (9)") == refused("ro", "u")
        assert a.req("UPDATE scratch SET a = 0") == "2"
        assert a.req("disconnect") == "success"
    finally:
        pg.start()
    assert wait_for(lambda: status(a, "ro")["state"] == "streaming", timeout=60)
    # Unlinked, the copied tables are the database's own.
    assert a.req("unlink ro") == "success"
    assert duck(a, "ro", "INSERT INTO t VALUES (99, 1)") == 1


def test_forced_unlink_lists_orphans_until_drop_orphans_drops_them(pg, pgdb, srv):
    pg.psql("CREATE TABLE t (id int PRIMARY KEY)", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "or1", pg.dsn(pgdb, password="s3cret")) == "success"
    assert wait_for(lambda: status(a, "or1")["state"] == "streaming", timeout=30)
    slot = status(a, "or1")["slot"]
    pg.stop()
    try:
        # PostgreSQL unreachable: unlink fails and keeps the link; force forgets it and records
        # what it left behind.
        out = a.req("unlink or1")
        assert out.startswith("Error: "), out
        assert status(a, "or1")["state"] in ("starting", "retrying")
        assert a.req("unlink or1 force") == "success"
        rows = json.loads(a.req("cdc status"))
        assert len(rows) == 1, rows
        o = rows[0]
        assert o["database"] == "or1" and o["state"] == "orphaned", o
        assert o["slot"] == slot and o["publication"] == slot, o
        assert "127.0.0.1:%d/%s" % (pg.port, pgdb) in o["target"], o
        assert "s3cret" not in json.dumps(rows)
        left = datetime.datetime.strptime(o["left_at"], "%Y-%m-%dT%H:%M:%SZ")
        assert abs((datetime.datetime.utcnow() - left).total_seconds()) < 120
        assert o["last_error"] != ""
        # A retry while PostgreSQL is still down keeps the record, with the new error.
        out = a.req("cdc drop-orphans")
        assert out.startswith("Error: 0 dropped, 1 left") and slot in out, out
        # The record survives a restart of the server.
        srv.restart()
        a = srv.admin()
        assert [r["slot"] for r in json.loads(a.req("cdc status"))] == [slot]
    finally:
        pg.start()
    assert slots(pg, pgdb).strip() == slot
    assert a.req("cdc drop-orphans") == "success 1"
    assert slots(pg, pgdb).strip() == ""
    assert pg.psql("SELECT count(*) FROM pg_publication", db=pgdb).strip() == "0"
    assert json.loads(a.req("cdc status")) == []
    assert a.req("cdc drop-orphans") == "success 0"


def test_tables_stay_read_only_while_resync_holds_the_stream_stopped(pg, pgdb, srv):
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1);", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "rr", pg.dsn(pgdb)) == "success"
    assert wait_for(lambda: status(a, "rr")["state"] == "streaming", timeout=30)
    # A transaction open in PostgreSQL makes the resync's slot creation wait for it: the
    # stream stays stopped meanwhile.
    open_tx = psycopg2.connect(pg.dsn(pgdb))
    open_tx.cursor().execute("INSERT INTO t VALUES (2, 2)")
    answer = []
    b = srv.admin()
    th = threading.Thread(target=lambda: answer.append(b.req("cdc resync rr")))
    th.start()
    try:
        assert wait_for(lambda: status(a, "rr")["state"] == "stopped", timeout=30)
        assert duck(a, "rr", "SELECT count(*) AS n FROM t") == [{"n": 1}]
        assert a.req("connect rr") == "success"
        assert a.req("UPDATE t SET v = 0") == refused("rr", "t")
        assert a.req("disconnect") == "success"
    finally:
        open_tx.commit()
        open_tx.close()
        th.join(120)
    assert answer == ["success"]
    assert wait_for(lambda: status(a, "rr")["state"] == "streaming", timeout=30)
    assert wait_for(lambda: same(a, "rr", pg, pgdb, "t", "id"), timeout=60)
    assert a.req("connect rr") == "success"
    assert a.req("DELETE FROM t") == refused("rr", "t")
    assert a.req("disconnect") == "success"
    # Stopped by the user, a resync leaves the tables writable.
    assert a.req("cdc stop rr") == "success"
    assert a.req("cdc resync rr") == "success"
    assert duck(a, "rr", "UPDATE t SET v = 7 WHERE id = 1") == 1
    assert a.req("unlink rr") == "success"
