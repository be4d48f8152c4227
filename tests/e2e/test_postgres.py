"""`link` and `migrate` against a real PostgreSQL 15 (tests/e2e/pgserver.py)."""
import json
import os
import shutil
import threading
import time

import pytest

from conftest import wait_for
from pgserver import PgServer

KEY = {"ENCRYPTION_KEY": "an encryption key for the tests, 48 bytes long.."}


@pytest.fixture(scope="module")
def pg():
    srv = PgServer().init().start()
    srv.psql("CREATE ROLE pwuser LOGIN PASSWORD 'right'")
    yield srv
    srv.cleanup()


_dbs = iter(range(1000))


@pytest.fixture
def pgdb(pg):
    return pg.createdb("src%d" % next(_dbs))


@pytest.fixture
def srv(make_server):
    return make_server(env=KEY)


def duck_rows(admin, db, table, order):
    assert admin.req("connect %s" % db) == "success"
    rows = json.loads(admin.req("SELECT * FROM \"%s\" ORDER BY %s" % (table, order)))
    assert admin.req("disconnect") == "success"
    return rows


def pg_rows(pg, db, table, order):
    out = pg.psql("SELECT coalesce(json_agg(t ORDER BY %s), '[]') FROM \"%s\" t" % (order, table),
                  db=db)
    return json.loads(out)


def link(a, db, dsn):
    assert a.req("create database %s" % db) == "success"
    return a.req('link %s "%s"' % (db, dsn))


def test_link_types_and_edge_values(pg, pgdb, srv):
    pg.psql("""
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TABLE t (
      id int PRIMARY KEY, s smallint, i int, b bigint, n numeric(12,3), nf numeric,
      big numeric(38,0), r real, d double precision, tx text, vc varchar(5), ch char(3),
      bo boolean, dt date, tm time, ts timestamp, tz timestamptz, iv interval, u uuid,
      j json, jb jsonb, by bytea, ai int[], at text[], m mood, ma mood[] NOT NULL);
    INSERT INTO t VALUES
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
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{happy}');
    CREATE TABLE nopk (a int, b text);
    INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (NULL, NULL);
    """, db=pgdb)
    a = srv.admin()
    assert link(a, "an", pg.dsn(pgdb)) == "success"
    assert a.req("connect an") == "success"
    rows = json.loads(a.req("SELECT * FROM t ORDER BY id"))
    r1, r2, r3 = rows
    assert r1["s"] == -32768 and r1["i"] == -2147483648 and r1["b"] == -9223372036854775808
    assert r1["n"] == -123456789.123 and r1["nf"] == 1e-10
    assert r1["big"] == 99999999999999999999999999999999999999
    assert r1["r"] == "NaN" and r1["d"] == "Infinity"
    assert r1["tx"] == "" and r1["vc"] == "" and r1["ch"] == "a  " and r1["bo"] is False
    assert r1["dt"] == "-infinity" and r1["tm"] == "00:00:00" and r1["ts"] == "-infinity"
    assert r1["tz"] == "infinity"
    assert r1["u"] == "00000000-0000-0000-0000-000000000000"
    assert json.loads(r1["j"]) == {"a": [1, 2]} and json.loads(r1["jb"]) == {"b": None}
    assert r1["by"] == "\\x00ff00" and r1["ai"] == [] and r1["at"] == ["", None, "é"]
    assert r1["m"] == "sad" and r1["ma"] == []
    assert r2["s"] == 32767 and r2["b"] == 9223372036854775807 and r2["n"] == 999999999.999
    assert r2["nf"] == -12345678901234567890.5 and r2["big"] == -1
    assert r2["r"] == "-Infinity" and r2["d"] == 1e308
    assert r2["tx"] == "héllo ☃ 😀" and r2["ch"] == "xyz" and r2["bo"] is True
    assert r2["dt"] == "0001-01-01" and r2["tm"] == "23:59:59.999999"
    assert r2["ts"] == "1970-01-01T00:00:00.000001" and r2["tz"] == "2000-01-01T10:00:00Z"
    assert r2["iv"] == "P1M2DT3H4M5.000006S"
    assert r2["u"] == "ffffffff-ffff-ffff-ffff-ffffffffffff"
    assert r2["by"] == "\\x" and r2["ai"] == [1, None, 3] and r2["ma"] == ["ok", "sad"]
    assert all(v is None for k, v in r3.items() if k not in ("id", "ma"))
    # Exact decimals: the text DuckDB holds equals PostgreSQL's.
    got = json.loads(a.req("SELECT n::VARCHAR AS n, nf::VARCHAR AS nf FROM t WHERE id = 2"))
    assert got == [{"n": "999999999.999", "nf": "-12345678901234567890.5000000000"}]
    types = {r["column_name"]: r["data_type"] for r in json.loads(a.req(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 't'"))}
    assert types["n"] == "DECIMAL(12,3)" and types["nf"] == "DECIMAL(38,10)"
    assert types["ma"] == "ENUM('sad', 'ok', 'happy')[]" and types["jb"] == "JSON"
    assert json.loads(a.req("SELECT is_nullable FROM information_schema.columns "
                            "WHERE table_name = 't' AND column_name = 'ma'")) == [
        {"is_nullable": "NO"}]
    assert a.req("INSERT INTO t (id, ma) VALUES (1, [])").startswith("Error: Constraint Error")
    assert len(json.loads(a.req("SELECT * FROM nopk"))) == 3


def test_link_refusals(pg, pgdb, srv, make_server):
    pg.psql("CREATE TABLE t (id int PRIMARY KEY)", db=pgdb)
    a = srv.admin()
    dsn = pg.dsn(pgdb)
    assert a.req('link nosuch "%s"' % dsn) == "Error: Database nosuch Does Not Exist"
    assert a.req("create database full_db") == "success"
    assert a.req("connect full_db") == "success"
    assert a.req("CREATE TABLE x (a INT)") == "success"
    assert a.req('link full_db "%s"' % dsn).startswith("Error: Bad Request: database full_db "
                                                       "is not empty")
    assert link(a, "ok", dsn) == "success"
    assert a.req('link ok "%s"' % dsn).startswith("Error: Bad Request: database ok is already "
                                                  "linked")
    assert a.req("migrate nosuch") == "Error: Database nosuch Does Not Exist"
    assert a.req("create database plain") == "success"
    assert a.req("migrate plain").startswith("Error: Bad Request: database plain is not linked")
    # A normal user may do neither.
    assert a.req("create user ann pw") == "success"
    ann = srv.client(login=("ann", "pw"))
    assert ann.req('link plain "%s"' % dsn) == "Error: Unauthorized"
    assert ann.req("migrate ok") == "Error: Unauthorized"
    assert srv.client().req("migrate ok") == "Error: Unauthorized"


def test_link_interrupted_before_duckdb_commit_can_be_redone(pg, pgdb, srv):
    """A crash after the catalog records the link but before DuckDB commits
    leaves a record and an empty DuckDB file: migrate says so, link redoes it."""
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v text);"
            "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 50) g", db=pgdb)
    a = srv.admin()
    assert a.req("create database blank") == "success"
    assert link(a, "redo", pg.dsn(pgdb)) == "success"
    a.close()
    srv.check_clean(srv.stop())
    # Put redo's DuckDB file back to what it was before the link's commit:
    # an empty database, like blank's.
    dbdir = os.path.join(srv.data_dir, "databases")
    assert sorted(os.listdir(dbdir)) == ["1.duckdb", "2.duckdb"]
    shutil.copyfile(os.path.join(dbdir, "1.duckdb"), os.path.join(dbdir, "2.duckdb"))
    srv.start()
    a = srv.admin()
    assert a.req("migrate redo") == ("Error: Bad Request: database redo has no valid "
                                     "tcpduckdb_link_state table: link it again")
    assert a.req('link redo "%s"' % pg.dsn(pgdb)) == "success"
    assert "an earlier link did not complete" in srv.stderr()
    assert duck_rows(a, "redo", "t", "id") == pg_rows(pg, pgdb, "t", "id")
    pg.psql("UPDATE t SET v = 'after' WHERE id <= 5; DELETE FROM t WHERE id > 40", db=pgdb)
    assert a.req("migrate redo") == "success 15"
    assert duck_rows(a, "redo", "t", "id") == pg_rows(pg, pgdb, "t", "id")
    assert a.req('link redo "%s"' % pg.dsn(pgdb)).startswith(
        "Error: Bad Request: database redo is already linked")


def test_link_unsupported_type_names_the_column(pg, pgdb, srv):
    pg.psql("CREATE TABLE t (id int, p point)", db=pgdb)
    a = srv.admin()
    r = link(a, "x", pg.dsn(pgdb))
    assert r.startswith("Error: Bad Request: column t.p has type point"), r
    pg.psql("DROP TABLE t; CREATE TABLE t (n numeric); INSERT INTO t VALUES ('NaN')", db=pgdb)
    r = a.req('link x "%s"' % pg.dsn(pgdb))
    assert r == "Error: column t.n holds NaN, which DuckDB's DECIMAL cannot hold", r
    pg.psql("UPDATE t SET n = 0.00000000001", db=pgdb)
    r = a.req('link x "%s"' % pg.dsn(pgdb))
    assert "more than 10 decimals" in r, r
    # Nothing was left behind by the failed links.
    assert a.req("connect x") == "success"
    assert a.req("SELECT count(*) AS n FROM duckdb_tables()") == '[{"n":0}]'


def test_link_bad_credentials_and_unreachable(pg, pgdb, srv):
    a = srv.admin()
    assert a.req("create database x") == "success"
    dsn = "postgresql://pwuser:wrongpw@127.0.0.1:%d/%s" % (pg.port, pgdb)
    r = a.req('link x "%s"' % dsn)
    assert r.startswith("Error: PostgreSQL: cannot connect:") and "password authentication " \
        "failed" in r, r
    assert "wrongpw" not in r and "wrongpw" not in srv.stderr()
    r = a.req('link x "host=127.0.0.1 port=1 dbname=x password=sekrit connect_timeout=2"')
    assert r.startswith("Error: PostgreSQL: cannot connect:") and "sekrit" not in r, r
    r = a.req('link x "not a connection string"')
    assert r.startswith("Error: Bad Request: invalid PostgreSQL connection string"), r
    assert "sekrit" not in srv.stderr()


def test_link_needs_a_key(pg, pgdb, make_server):
    s = make_server()
    a = s.admin()
    assert a.req("create database x") == "success"
    r = a.req('link x "%s"' % pg.dsn(pgdb))
    assert r.startswith("Error: Bad Request: ENCRYPTION_KEY is not set"), r


def test_migrate_every_kind_of_change(pg, pgdb, srv):
    pg.psql("""
    CREATE TABLE k (id int PRIMARY KEY, v text, n numeric(10,2));
    CREATE TABLE k2 (a int, b text, c float8, PRIMARY KEY (a, b));
    CREATE TABLE bag (x int, y text);
    INSERT INTO k SELECT g, 'v' || g, g / 3.0 FROM generate_series(1, 100) g;
    INSERT INTO k2 VALUES (1, 'a', 1.5), (2, 'b', 'NaN');
    INSERT INTO bag VALUES (1, 'a'), (1, 'a'), (2, NULL);
    """, db=pgdb)
    a = srv.admin()
    assert link(a, "m", pg.dsn(pgdb)) == "success"
    # Link adds the primary keys after the copy; they are there all the same.
    assert a.req("connect m") == "success"
    keys = json.loads(a.req("SELECT table_name, constraint_column_names AS cols FROM "
                            "duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
                            "ORDER BY 1"))
    assert keys == [{"table_name": "k", "cols": ["id"]}, {"table_name": "k2", "cols": ["a", "b"]}]
    assert a.req("INSERT INTO k2 VALUES (1, 'a', 0)").startswith("Error: Constraint Error")
    assert a.req("disconnect") == "success"
    assert a.req("migrate m") == "success 0"
    pg.psql("""
    INSERT INTO k VALUES (101, 'new', 1.25);
    UPDATE k SET v = 'changed' WHERE id <= 10;
    UPDATE k SET id = id + 1000 WHERE id BETWEEN 50 AND 52;
    DELETE FROM k WHERE id BETWEEN 20 AND 29;
    INSERT INTO k VALUES (20, 'back', NULL);
    UPDATE k2 SET b = 'z' WHERE a = 1;
    DELETE FROM k2 WHERE a = 2;
    DELETE FROM bag WHERE ctid = (SELECT min(ctid) FROM bag WHERE x = 1);
    UPDATE bag SET y = 'b' WHERE x = 2;
    INSERT INTO bag VALUES (3, 'c'), (3, 'c');
    BEGIN; INSERT INTO k VALUES (5000, 'rolled back', 0); ROLLBACK;
    """, db=pgdb)
    r = a.req("migrate m")
    assert r.startswith("success ") and int(r.split()[1]) > 0, r
    assert duck_rows(a, "m", "k", "id") == pg_rows(pg, pgdb, "k", "id")
    assert duck_rows(a, "m", "k2", "a, b") == pg_rows(pg, pgdb, "k2", "a, b")
    assert duck_rows(a, "m", "bag", "x, y") == pg_rows(pg, pgdb, "bag", "x, y")
    assert a.req("migrate m") == "success 0"
    pg.psql("TRUNCATE k; INSERT INTO k VALUES (1, 'after truncate', 2); TRUNCATE bag",
            db=pgdb)
    assert a.req("migrate m") == "success 3"
    assert duck_rows(a, "m", "k", "id") == [{"id": 1, "v": "after truncate", "n": 2.0}]
    assert duck_rows(a, "m", "bag", "x") == []


def test_migrate_table_created_after_link(pg, pgdb, srv):
    pg.psql("CREATE TABLE a (id int PRIMARY KEY)", db=pgdb)
    a = srv.admin()
    assert link(a, "c", pg.dsn(pgdb)) == "success"
    pg.psql("""
    CREATE TABLE later (id bigint PRIMARY KEY, t text NOT NULL);
    INSERT INTO later VALUES (1, 'one'), (2, 'two');
    CREATE TABLE copied AS SELECT g AS x FROM generate_series(1, 5) g;
    CREATE TABLE empty (e int);
    UPDATE later SET t = 'uno' WHERE id = 1;
    """, db=pgdb)
    r = a.req("migrate c")
    assert r.startswith("success"), r
    assert duck_rows(a, "c", "later", "id") == [{"id": 1, "t": "uno"}, {"id": 2, "t": "two"}]
    assert duck_rows(a, "c", "copied", "x") == [{"x": i} for i in range(1, 6)]
    assert duck_rows(a, "c", "empty", "e") == []


def test_changes_during_link_are_neither_lost_nor_doubled(pg, pgdb, srv):
    pg.psql("CREATE TABLE w (id int PRIMARY KEY, v int NOT NULL);"
            "INSERT INTO w SELECT g, 0 FROM generate_series(1, 300000) g", db=pgdb)
    a = srv.admin()
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            i += 1
            pg.psql("BEGIN; UPDATE w SET v = v + 1 WHERE id = %d; INSERT INTO w VALUES (%d, %d);"
                    "DELETE FROM w WHERE id = %d; COMMIT;" % (i, 1000000 + i, i, 300000 - i),
                    db=pgdb)

    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.3)
        assert link(a, "busy", pg.dsn(pgdb)) == "success"
        time.sleep(0.3)
    finally:
        stop.set()
        t.join()
    r = a.req("migrate busy")
    assert r.startswith("success "), r
    assert a.req("connect busy") == "success"
    duck = a.req("SELECT count(*) AS n, sum(v) AS s, sum(id) AS i FROM w")
    want = pg.psql("SELECT count(*), sum(v), sum(id) FROM w", db=pgdb).split()
    assert json.loads(duck) == [{"n": int(want[0]), "s": int(want[1]), "i": int(want[2])}]


def test_postgres_stopped_mid_migrate(pg, pgdb, srv):
    pg.psql("CREATE TABLE s (id int PRIMARY KEY, v text);"
            "INSERT INTO s VALUES (1, 'a')", db=pgdb)
    a = srv.admin()
    # A migrate of 400,000 rows answers only when done: minutes on a busy machine under ASan.
    a.sock.settimeout(600)
    assert link(a, "st", pg.dsn(pgdb)) == "success"
    pg.psql("INSERT INTO s SELECT g, repeat('x', 100) FROM generate_series(2, 400000) g;"
            "UPDATE s SET v = 'b' WHERE id = 1", db=pgdb)
    results = []
    th = threading.Thread(target=lambda: results.append(a.req("migrate st")))
    th.start()
    time.sleep(0.5)
    pg.stop("immediate")
    th.join()
    pg.start()
    # Either the migrate finished before the stop, or it failed and applied nothing.
    assert results[0].startswith("success") or results[0].startswith("Error: PostgreSQL"), \
        results
    r = a.req("migrate st")
    assert r.startswith("success"), r
    if results[0].startswith("success"):
        assert r == "success 0"
    else:
        assert r == "success 400000"
    assert a.req("connect st") == "success"
    assert a.req("SELECT count(*) AS n FROM s") == '[{"n":400000}]'
    assert a.req("SELECT v FROM s WHERE id = 1") == '[{"v":"b"}]'


def linked_twice(pg, pgdb, srv, table, names):
    """A one-row table `table` in pgdb, linked into two new databases; an admin client."""
    pg.psql("CREATE TABLE %s (id int PRIMARY KEY, v text); INSERT INTO %s VALUES (1, 'a')"
            % (table, table), db=pgdb)
    a = srv.admin()
    for name in names:
        assert link(a, name, pg.dsn(pgdb)) == "success"
    return a


def test_link_migrate_unlink_of_one_database_run_one_at_a_time(pg, pgdb, srv):
    a = linked_twice(pg, pgdb, srv, "c", ("one", "other"))
    pg.psql("INSERT INTO c VALUES (2, 'b')", db=pgdb)
    # Hold a migrate of `one` inside PostgreSQL: the audit log is locked for 6 s.
    holder = threading.Thread(target=pg.psql, kwargs={"db": pgdb, "sql": (
        "BEGIN; LOCK TABLE tcpduckdb_audit.log IN ACCESS EXCLUSIVE MODE;"
        "SELECT pg_sleep(6); COMMIT;")})
    holder.start()
    locked = "SELECT count(*) FROM pg_locks WHERE relation = 'tcpduckdb_audit.log'::regclass " \
             "AND mode = 'AccessExclusiveLock' AND granted"
    assert wait_for(lambda: pg.psql(locked, db=pgdb).strip() == "1")
    results = []
    migrating = threading.Thread(target=lambda: results.append(srv.admin().req("migrate one")))
    migrating.start()
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    assert wait_for(lambda: pg.psql(waiting, db=pgdb).strip() == "1")
    # Meanwhile the other commands on `one` are refused at once; `other` is not held up.
    busy = "Error: Server Busy: a link, migrate or unlink of this database is running"
    b = srv.admin()
    assert b.req("unlink one").startswith(busy)
    assert b.req("migrate one").startswith(busy)
    assert b.req('link one "%s"' % pg.dsn(pgdb)).startswith(busy)
    assert b.req("connect one") == "success"  # queries are not held up either
    assert b.req("SELECT count(*) AS n FROM c") == '[{"n":1}]'
    assert b.req("disconnect") == "success"
    holder.join()
    migrating.join()
    assert results == ["success 1"]
    assert a.req("migrate other") == "success 1"
    assert a.req("unlink one") == "success"
    assert duck_rows(a, "one", "c", "id") == pg_rows(pg, pgdb, "c", "id")


def audit_count(pg, db, what="log"):
    return int(pg.psql("SELECT count(*) FROM tcpduckdb_audit.%s" % what, db=db))


def test_migrate_prunes_the_log_that_every_link_has_applied(pg, pgdb, srv):
    pg.psql("CREATE TABLE p (id int PRIMARY KEY, v int)", db=pgdb)
    a = srv.admin()
    assert link(a, "p1", pg.dsn(pgdb)) == "success"
    assert link(a, "p2", pg.dsn(pgdb)) == "success"
    assert audit_count(pg, pgdb, "consumers") == 2
    pg.psql("INSERT INTO p SELECT g, g FROM generate_series(1, 100) g;"
            "UPDATE p SET v = 0 WHERE id <= 10", db=pgdb)
    assert audit_count(pg, pgdb) == 110
    assert a.req("migrate p1") == "success 110"
    assert audit_count(pg, pgdb) == 110  # p2 has not applied them yet
    assert a.req("migrate p2") == "success 110"
    assert audit_count(pg, pgdb) == 0
    assert "audit log rows pruned" in srv.stderr()
    pg.psql("DELETE FROM p WHERE id > 50", db=pgdb)
    assert a.req("migrate p2") == "success 50"
    assert a.req("migrate p1") == "success 50"
    assert audit_count(pg, pgdb) == 0
    for db in ("p1", "p2"):
        assert duck_rows(a, db, "p", "id") == pg_rows(pg, pgdb, "p", "id")


def test_unlink(pg, pgdb, srv):
    a = linked_twice(pg, pgdb, srv, "u", ("u1", "u2"))
    assert a.req("unlink nosuch") == "Error: Database nosuch Does Not Exist"
    assert a.req("create database never") == "success"
    assert a.req("unlink never").startswith("Error: Bad Request: database never is not linked")
    assert a.req("unlink u1 now") == "Error: Bad Request: usage: unlink DATABASE [force]"
    assert a.req("create user ann pw") == "success"
    assert srv.client(login=("ann", "pw")).req("unlink u1") == "Error: Unauthorized"
    # u2 still follows the schema: only u1's consumer goes.
    assert a.req("unlink u1") == "success"
    assert audit_count(pg, pgdb, "consumers") == 1
    assert a.req("migrate u1").startswith("Error: Bad Request: database u1 is not linked")
    pg.psql("INSERT INTO u VALUES (2, 'b')", db=pgdb)
    assert a.req("migrate u2") == "success 1"
    # The copy stays a plain database, without the link's state table.
    assert duck_rows(a, "u1", "u", "id") == [{"id": 1, "v": "a"}]
    assert a.req("connect u1") == "success"
    assert a.req("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE 'tcpduckdb%'") \
        == '[{"n":0}]'
    assert a.req("disconnect") == "success"
    # The last link removes every audit object from PostgreSQL.
    assert a.req("unlink u2") == "success"
    assert pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'tcpduckdb_audit'",
                   db=pgdb).strip() == "0"
    assert pg.psql("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tcpduckdb%'",
                   db=pgdb).strip() == "0"
    assert pg.psql("SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'tcpduckdb%'",
                   db=pgdb).strip() == "0"
    pg.psql("INSERT INTO u VALUES (3, 'c')", db=pgdb)  # no trigger left to fail
    # A database that was unlinked can be linked again once empty: a new one here.
    assert link(a, "u3", pg.dsn(pgdb)) == "success"
    assert duck_rows(a, "u3", "u", "id") == pg_rows(pg, pgdb, "u", "id")


def test_unlink_with_postgres_down_needs_force(pg, pgdb, srv):
    pg.psql("CREATE TABLE f (id int PRIMARY KEY)", db=pgdb)
    a = srv.admin()
    assert link(a, "f", pg.dsn(pgdb)) == "success"
    pg.stop("fast")  # not immediate: the suite's PostgreSQL commits asynchronously
    try:
        r = a.req("unlink f")
        assert r.startswith("Error: PostgreSQL: cannot connect"), r
        assert a.req("unlink f force") == "success"
        assert a.req("migrate f").startswith("Error: Bad Request: database f is not linked")
    finally:
        pg.start()
    # Its consumer was left behind in PostgreSQL, as the forced unlink warned.
    assert "forced; PostgreSQL's audit objects were not removed" in srv.stderr()
    assert audit_count(pg, pgdb, "consumers") == 1


def test_migrate_refuses_a_link_removed_in_postgres(pg, pgdb, srv):
    pg.psql("CREATE TABLE r (id int PRIMARY KEY)", db=pgdb)
    a = srv.admin()
    assert link(a, "r", pg.dsn(pgdb)) == "success"
    pg.psql("DELETE FROM tcpduckdb_audit.consumers", db=pgdb)
    assert a.req("migrate r").startswith("Error: Bad Request: the link of r was removed in "
                                         "PostgreSQL")


def test_link_a_million_rows(pg, pgdb, srv):
    pg.psql("CREATE TABLE big (id bigint PRIMARY KEY, n int, t text, ts timestamp, "
            "x numeric(10,2));"
            "INSERT INTO big SELECT g, g % 1000, 'row ' || g, "
            "'2024-01-01'::timestamp + g * interval '1 second', g / 100.0 "
            "FROM generate_series(1, 1000000) g", db=pgdb)
    a = srv.admin()
    t0 = time.time()
    assert link(a, "big", pg.dsn(pgdb)) == "success"
    print("link of 1M rows: %.1f s" % (time.time() - t0))
    assert a.req("connect big") == "success"
    got = json.loads(a.req("SELECT count(*) AS c, sum(n) AS n, sum(x) AS x, max(ts) AS ts, "
                           "max(length(t)) AS t FROM big"))
    want = pg.psql("SELECT count(*), sum(n), sum(x), to_char(max(ts), "
                   "'YYYY-MM-DD\"T\"HH24:MI:SS'), max(length(t)) FROM big", db=pgdb).split("\t")
    assert got == [{"c": int(want[0]), "n": int(want[1]), "x": float(want[2]), "ts": want[3],
                    "t": int(want[4].strip())}]
