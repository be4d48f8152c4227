"""`cdc switch DB` (docs/cdc.md): an audit-linked database follows PostgreSQL by CDC from then
on, without a copy, against its own PostgreSQL 15 with wal_level=logical. Every switch ends
comparing whole tables on both sides; writers run in PostgreSQL across the switch."""
import threading

import psycopg2
import pytest

from conftest import wait_for
from pgserver import PgServer
from test_cdc import KEY, duck, migrate, pg, same, status  # noqa: F401 (pg: fixture)

_dbs = iter(range(1000))


@pytest.fixture
def pgdb(pg):  # noqa: F811 (pg: test_cdc's PostgreSQL, wal_level = logical)
    return pg.createdb("sw%d" % next(_dbs))


@pytest.fixture
def srv(make_server):
    return make_server(env=KEY)


def link_audit(a, name, dsn):
    assert a.req("create database %s" % name) == "success"
    assert a.req('link %s "%s" mode=audit' % (name, dsn)) == "success"


def pg_count(pg, db, sql):
    return int(pg.psql("SELECT count(*) FROM (%s) q" % sql, db=db).strip())


def audit_left(pg, db):
    """The audit objects in PostgreSQL: triggers on tables and the audit schema."""
    return (pg_count(pg, db, "SELECT 1 FROM pg_trigger WHERE tgname LIKE 'tcpduckdb_audit%'") +
            pg_count(pg, db, "SELECT 1 FROM pg_namespace WHERE nspname = 'tcpduckdb_audit'") +
            pg_count(pg, db, "SELECT 1 FROM pg_event_trigger WHERE evtname = "
                             "'tcpduckdb_audit_create'"))


def cdc_left(pg, db):
    return (pg_count(pg, db, "SELECT 1 FROM pg_replication_slots WHERE database = '%s'" % db) +
            pg_count(pg, db, "SELECT 1 FROM pg_publication"))


class Writers:
    """Threads writing PostgreSQL: each commits an update of a keyed row and an insert into a
    keyless table (a change applied twice shows as a duplicate row), one transaction a loop."""

    def __init__(self, dsn, n=2):
        self.dsn, self.stop, self.done, self.errors = dsn, threading.Event(), 0, []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(w,)) for w in range(n)]

    def run(self, w):
        try:
            con = psycopg2.connect(self.dsn)
            con.autocommit = False
            cur = con.cursor()
            i = 0
            while not self.stop.is_set():
                i += 1
                cur.execute("UPDATE acc SET bal = bal + 1 WHERE id = %s", (i % 20 + 1,))
                cur.execute("INSERT INTO hist VALUES (%s, %s)", (w, i))
                if i % 7 == 0:
                    cur.execute("INSERT INTO acc VALUES (%s, 0) ON CONFLICT (id) DO UPDATE SET "
                                "bal = acc.bal - 1", (1000 + w * 100000 + i,))
                con.commit()
                with self.lock:
                    self.done += 1
            con.close()
        except Exception as e:  # reported by the test
            self.errors.append(e)

    def count(self):
        with self.lock:
            return self.done

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()
        assert self.errors == []


def test_switch_while_writers_run_loses_and_doubles_nothing(pg, pgdb, srv):
    pg.psql("""
    CREATE TABLE acc (id int PRIMARY KEY, bal bigint);
    INSERT INTO acc SELECT g, 0 FROM generate_series(1, 20) g;
    CREATE TABLE hist (w int, i int);
    ALTER TABLE hist REPLICA IDENTITY FULL;
    INSERT INTO hist VALUES (-1, 1), (-1, 1);
    """, db=pgdb)
    a = srv.admin()
    link_audit(a, "s1", pg.dsn(pgdb))
    # Some changes migrated, some logged and not migrated, a table created after link (the
    # audit event trigger logs it), then writers across the switch.
    pg.psql("UPDATE acc SET bal = 5 WHERE id = 1; INSERT INTO hist VALUES (-2, 1);", db=pgdb)
    assert migrate(a, "s1") == 2
    pg.psql("""
    UPDATE acc SET bal = 7 WHERE id = 2; DELETE FROM hist WHERE w = -2;
    INSERT INTO hist VALUES (-1, 1);
    CREATE TABLE later (id int PRIMARY KEY, v text);
    INSERT INTO later VALUES (1, 'a'), (2, 'b');
    """, db=pgdb)
    with Writers(pg.dsn(pgdb)) as w:
        assert wait_for(lambda: w.count() >= 20, timeout=30)
        assert a.req("cdc switch s1") == "success"
        after = w.count()
        assert wait_for(lambda: w.count() >= after + 40, timeout=30)
    pg.psql("UPDATE later SET v = 'c' WHERE id = 2; INSERT INTO later VALUES (3, 'd');", db=pgdb)
    assert migrate(a, "s1") > 0
    assert same(a, "s1", pg, pgdb, "acc", "id")
    assert same(a, "s1", pg, pgdb, "hist", "w, i")
    assert same(a, "s1", pg, pgdb, "later", "id")
    assert pg_count(pg, pgdb, "SELECT 1 FROM hist") > 40
    # CDC now: no audit object left, a slot and a publication, the stream running, the audit
    # state table gone from DuckDB and the CDC one there.
    assert audit_left(pg, pgdb) == 0
    st = status(a, "s1")
    assert st["state"] == "streaming" and st["last_error"] == ""
    assert pg_count(pg, pgdb, "SELECT 1 FROM pg_replication_slots WHERE slot_name = '%s'"
                    % st["slot"]) == 1
    assert pg.psql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM "
                   "pg_publication_tables WHERE pubname = '%s'" % st["slot"],
                   db=pgdb).strip() == "acc,hist,later"
    assert duck(a, "s1", "SELECT count(*) AS n FROM tcpduckdb_cdc_state") == [{"n": 1}]
    assert a.req("connect s1") == "success"
    assert a.req("SELECT * FROM tcpduckdb_link_state").startswith("Error")
    # The followed tables are read-only, as after a CDC link.
    assert "follows PostgreSQL by CDC" in a.req("UPDATE acc SET bal = 0")
    assert a.req("disconnect") == "success"
    assert a.req("cdc switch s1") == "Error: Bad Request: database s1 is linked in CDC mode " \
                                     "already"
    # Streams on after a restart of the server.
    srv.restart()
    a = srv.admin()
    pg.psql("INSERT INTO hist VALUES (-3, 1)", db=pgdb)
    assert migrate(a, "s1") == 1
    assert same(a, "s1", pg, pgdb, "hist", "w, i")
    assert a.req("unlink s1") == "success"
    assert cdc_left(pg, pgdb) == 0


def test_switch_copies_a_table_the_audit_link_never_saw(pg, pgdb, srv):
    """A table created while no audit event trigger ran (dropped here, as for a link by a
    role that is not a superuser) is copied from the slot's snapshot."""
    pg.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);", db=pgdb)
    a = srv.admin()
    link_audit(a, "s2", pg.dsn(pgdb))
    pg.psql("""
    DROP EVENT TRIGGER tcpduckdb_audit_create;
    CREATE TABLE unseen (id int PRIMARY KEY, v text);
    INSERT INTO unseen SELECT g, 'v' || g FROM generate_series(1, 100) g;
    INSERT INTO t VALUES (2);
    """, db=pgdb)
    assert a.req("cdc switch s2") == "success"
    pg.psql("DELETE FROM unseen WHERE id <= 10; INSERT INTO t VALUES (3);", db=pgdb)
    assert migrate(a, "s2") == 11
    assert same(a, "s2", pg, pgdb, "t", "id")
    assert same(a, "s2", pg, pgdb, "unseen", "id")
    assert a.req("unlink s2") == "success"
    assert cdc_left(pg, pgdb) == 0


def test_refusals_leave_the_audit_link_whole(pg, pgdb, srv):
    pg.psql("""
    CREATE TABLE t (id int PRIMARY KEY, v int);
    CREATE TABLE nokey (a int);
    INSERT INTO t VALUES (1, 1); INSERT INTO nokey VALUES (1);
    """, db=pgdb)
    a = srv.admin()
    assert a.req("cdc switch nosuch") == "Error: Database nosuch Does Not Exist"
    assert a.req("create database plain") == "success"
    assert a.req("cdc switch plain").startswith("Error: Bad Request: database plain is not "
                                                "linked to PostgreSQL")
    link_audit(a, "s3", pg.dsn(pgdb))
    assert a.req("create user ann pw") == "success"
    assert srv.client(login=("ann", "pw")).req("cdc switch s3") == "Error: Unauthorized"
    # A keyless table without REPLICA IDENTITY FULL is named; nothing is made.
    pg.psql("UPDATE t SET v = 2; INSERT INTO nokey VALUES (2);", db=pgdb)
    out = a.req("cdc switch s3")
    assert out.startswith("Error: Bad Request: CDC needs a primary key") and "nokey" in out and \
        "keep the audit link" in out, out
    assert cdc_left(pg, pgdb) == 0
    # A failure after the slot was made (migrate's own refusal of a changed table): the slot
    # and the publication are dropped, the audit link goes on.
    pg.psql("ALTER TABLE nokey REPLICA IDENTITY FULL; ALTER TABLE t ADD COLUMN w int;", db=pgdb)
    out = a.req("cdc switch s3")
    assert out.startswith("Error: Bad Request: the columns of table t changed"), out
    assert cdc_left(pg, pgdb) == 0
    assert audit_left(pg, pgdb) == 6  # two tables, two triggers each; schema; event trigger
    assert a.req("cdc status s3") == "Error: Bad Request: database s3 is not linked in CDC mode"
    pg.psql("ALTER TABLE t DROP COLUMN w", db=pgdb)
    # The columns are t's again (w dropped): migrate applies what the failed switch did not.
    assert a.req("cdc switch s3") == "success"
    assert migrate(a, "s3") == 0
    assert same(a, "s3", pg, pgdb, "t", "id")
    assert same(a, "s3", pg, pgdb, "nokey", "a")
    assert audit_left(pg, pgdb) == 0
    assert a.req("unlink s3") == "success"
    # A PostgreSQL without wal_level=logical names the setting.
    plain = PgServer().init().start()
    try:
        plain.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
        link_audit(a, "s4", plain.dsn("postgres"))
        out = a.req("cdc switch s4")
        assert out.startswith("Error: Bad Request: PostgreSQL's wal_level is replica") and \
            "keep the audit link" in out, out
        plain.psql("INSERT INTO t VALUES (2)")
        assert migrate(a, "s4") == 1
        assert a.req("unlink s4") == "success"
    finally:
        plain.cleanup()
