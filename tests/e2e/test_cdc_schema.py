"""CDC (docs/cdc.md) beyond the plain stream: `cdc resync DB [TABLE]`, schema changes and the
ways out of a broken slot, against a real PostgreSQL 15 with wal_level=logical. Every test ends
comparing whole tables on both sides."""
import threading

import pytest

from conftest import wait_for
from test_cdc import KEY, duck, link_cdc, migrate, pg, pg_json, same, slots, status  # noqa: F401

_dbs = iter(range(1000))


@pytest.fixture
def pgdb(pg):  # noqa: F811
    return pg.createdb("cdcs%d" % next(_dbs))


@pytest.fixture
def srv(make_server):
    return make_server(env=KEY)


def writer_thread(pg, db, sql):
    """Runs `sql` (with %d for a counter) in a loop until the returned event is set."""
    stop = threading.Event()

    def run():
        i = 0
        while not stop.is_set():
            i += 1
            pg.psql(sql % {"i": i}, db=db)

    t = threading.Thread(target=run)
    t.start()
    return stop, t


def test_resync_one_table_and_the_whole_database_under_writers(pg, pgdb, srv):  # noqa: F811
    # k is keyless: a change applied twice shows as a duplicate row (on a keyed table the
    # newest version wins, so a replay would not show).
    pg.psql("""
    CREATE TABLE t (id int PRIMARY KEY, v bigint);
    INSERT INTO t SELECT g, 0 FROM generate_series(1, 50) g;
    CREATE TABLE k (w int, v int);
    ALTER TABLE k REPLICA IDENTITY FULL;
    INSERT INTO k SELECT 0, g FROM generate_series(1, 50) g;
    """, db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "r1", pg.dsn(pgdb)) == "success"
    assert wait_for(lambda: status(a, "r1")["state"] == "streaming", timeout=30)
    # Writers to both tables while one table, then the whole database, is copied again: none
    # of their transactions is lost or applied twice.
    sql = ("BEGIN; UPDATE t SET v = v + 1 WHERE id = %(i)d %% 50 + 1; "
           "INSERT INTO k VALUES (%(i)d, 1), (%(i)d, 2); "
           "INSERT INTO t VALUES (1000 + %(i)d, %(i)d) ON CONFLICT (id) DO UPDATE SET v = 0; "
           "COMMIT;")
    stop, t = writer_thread(pg, pgdb, sql)
    try:
        assert wait_for(lambda: duck(a, "r1", "SELECT count(*) AS n FROM k")[0]["n"] > 60,
                        timeout=60)
        # Rows of k that the stream never saw removed (while it is stopped: its tables are
        # read-only while it runs): the resync's copy brings them back.
        assert a.req("cdc stop r1") == "success"
        assert a.req("connect r1") == "success"
        assert a.req("DELETE FROM k WHERE w = 0 AND v <= 5") == "5"
        assert a.req("disconnect") == "success"
        assert a.req("cdc start r1") == "success"
        assert a.req("cdc resync r1 k") == "success", srv.stderr()
        assert wait_for(lambda: status(a, "r1")["state"] == "streaming", timeout=30)
        assert wait_for(lambda: duck(a, "r1", "SELECT count(*) AS n FROM k")[0]["n"] > 200,
                        timeout=60)
    finally:
        stop.set()
        t.join()
    migrate(a, "r1")
    assert same(a, "r1", pg, pgdb, "k", "w, v"), (status(a, "r1"), srv.stderr())
    assert same(a, "r1", pg, pgdb, "t", "id")
    stop, t = writer_thread(pg, pgdb, sql)
    try:
        assert wait_for(lambda: duck(a, "r1", "SELECT max(w) AS n FROM k")[0]["n"] > 5,
                        timeout=60)
        assert a.req("cdc resync r1") == "success"
    finally:
        stop.set()
        t.join()
    assert wait_for(lambda: status(a, "r1")["state"] == "streaming", timeout=30)
    st = status(a, "r1")
    assert st["last_error"] == "", st
    # The whole-database resync moved to a new slot and dropped the old one.
    assert slots(pg, pgdb).split() == [st["slot"]]
    migrate(a, "r1")
    assert same(a, "r1", pg, pgdb, "k", "w, v"), (status(a, "r1"), srv.stderr())
    assert same(a, "r1", pg, pgdb, "t", "id")
    # After a restart the stream resumes from the stored position.
    srv.restart()
    a = srv.admin()
    pg.psql("UPDATE t SET v = -v; DELETE FROM k WHERE v = 2", db=pgdb)
    assert migrate(a, "r1") > 0
    assert same(a, "r1", pg, pgdb, "t", "id")
    assert same(a, "r1", pg, pgdb, "k", "w, v")
    assert a.req("unlink r1") == "success"
    assert slots(pg, pgdb).strip() == ""


def test_resync_adds_a_new_table_and_gets_past_a_rename(pg, pgdb, srv):  # noqa: F811
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');",
            db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "r2", pg.dsn(pgdb)) == "success"
    # A table created after the link: `cdc resync DB TABLE` adds it to the publication.
    pg.psql("CREATE TABLE n AS SELECT g AS id, g * 2 AS w FROM generate_series(1, 30) g; "
            "ALTER TABLE n ADD PRIMARY KEY (id);", db=pgdb)
    assert a.req("cdc resync r2 n") == "success"
    pg.psql("INSERT INTO n VALUES (31, 62); UPDATE n SET w = 0 WHERE id = 1; "
            "INSERT INTO t VALUES (2, 'b');", db=pgdb)
    migrate(a, "r2")
    assert same(a, "r2", pg, pgdb, "n", "id"), (status(a, "r2"), srv.stderr())
    assert same(a, "r2", pg, pgdb, "t", "id")
    # A rename stops the stream with an error naming the table and column, and the way out.
    pg.psql("ALTER TABLE t RENAME COLUMN v TO v2; INSERT INTO t VALUES (3, 'c');", db=pgdb)
    assert wait_for(lambda: "cdc resync r2 t" in status(a, "r2")["last_error"], timeout=60)
    err = status(a, "r2")["last_error"]
    assert "table t" in err and "v2" in err, err
    assert a.req("cdc resync r2 t") == "success"
    pg.psql("INSERT INTO t VALUES (4, 'd')", db=pgdb)
    migrate(a, "r2")
    assert wait_for(lambda: status(a, "r2")["state"] == "streaming", timeout=30)
    assert same(a, "r2", pg, pgdb, "t", "id"), (status(a, "r2"), srv.stderr())
    assert same(a, "r2", pg, pgdb, "n", "id")
    # Errors: a table PostgreSQL does not have; a keyless one; a database not CDC-linked.
    assert a.req("cdc resync r2 nosuch").startswith(
        "Error: Bad Request: PostgreSQL has no table nosuch")
    pg.psql("CREATE TABLE k (a int)", db=pgdb)
    out = a.req("cdc resync r2 k")
    assert out.startswith("Error: Bad Request: CDC needs a primary key") and "k" in out
    assert a.req("create database plain") == "success"
    assert a.req("cdc resync plain").startswith("Error: Bad Request: database plain is not")
    # A refused resync left the stream running.
    st = status(a, "r2")
    assert st["state"] == "streaming" and "k" not in st["last_error"], st
    pg.psql("INSERT INTO t VALUES (5, 'e')", db=pgdb)
    migrate(a, "r2")
    assert same(a, "r2", pg, pgdb, "t", "id")


def test_resync_is_the_way_out_of_a_dropped_slot(pg, pgdb, srv):  # noqa: F811
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1);", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "r3", pg.dsn(pgdb)) == "success"
    assert a.req("cdc stop r3") == "success"
    slot = status(a, "r3")["slot"]
    pg.psql("SELECT pg_drop_replication_slot('%s')" % slot, db=pgdb)
    pg.psql("INSERT INTO t SELECT g, g FROM generate_series(2, 20) g", db=pgdb)
    assert a.req("cdc start r3") == "success"
    assert wait_for(lambda: "cdc resync r3" in status(a, "r3")["last_error"], timeout=60)
    assert a.req("cdc resync r3") == "success"
    assert wait_for(lambda: status(a, "r3")["state"] == "streaming", timeout=30)
    pg.psql("UPDATE t SET v = v + 100 WHERE id > 10", db=pgdb)
    migrate(a, "r3")
    assert same(a, "r3", pg, pgdb, "t", "id"), (status(a, "r3"), srv.stderr())
    assert a.req("unlink r3") == "success"
    assert slots(pg, pgdb).strip() == ""


def test_added_columns_follow_with_the_default_of_existing_rows(pg, pgdb, srv):  # noqa: F811
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int); "
            "INSERT INTO t SELECT g, g FROM generate_series(1, 20) g;", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "r4", pg.dsn(pgdb)) == "success"
    # ADD COLUMN ... DEFAULT 7 writes nothing to the existing rows: they get 7 from
    # attmissingval. Changes of the table earlier in the batch are committed first.
    pg.psql("""
    INSERT INTO t VALUES (21, 21);
    ALTER TABLE t ADD COLUMN d int DEFAULT 7;
    INSERT INTO t VALUES (22, 22, 8); UPDATE t SET v = -v WHERE id = 1;
    ALTER TABLE t ADD COLUMN s text DEFAULT 'x "y"';
    BEGIN; INSERT INTO t VALUES (23, 0, 1, 'z'); UPDATE t SET v = 100 WHERE id = 3; COMMIT;
    ALTER TABLE t ADD COLUMN n bigint; UPDATE t SET n = 5 WHERE id = 2;
    """, db=pgdb)
    migrate(a, "r4")
    assert same(a, "r4", pg, pgdb, "t", "id"), (status(a, "r4"), srv.stderr())
    # Added while the stream was stopped: met when it starts again.
    assert a.req("cdc stop r4") == "success"
    pg.psql("ALTER TABLE t ADD COLUMN dd date DEFAULT '2024-02-29'; "
            "INSERT INTO t (id, v) VALUES (25, 25);", db=pgdb)
    migrate(a, "r4")
    assert same(a, "r4", pg, pgdb, "t", "id"), (status(a, "r4"), srv.stderr())
    assert a.req("cdc start r4") == "success"
    # Added inside a transaction that changed the table before: not followed.
    pg.psql("BEGIN; INSERT INTO t (id, v) VALUES (26, 26); ALTER TABLE t ADD COLUMN w int "
            "DEFAULT 1; INSERT INTO t (id, v) VALUES (27, 27); COMMIT;", db=pgdb)
    assert wait_for(lambda: "column w was added inside a transaction"
                    in status(a, "r4")["last_error"], timeout=60)
    assert a.req("cdc resync r4 t") == "success"
    migrate(a, "r4")
    assert same(a, "r4", pg, pgdb, "t", "id"), (status(a, "r4"), srv.stderr())
    # A volatile default rewrites the table: the existing rows' values are unknown.
    pg.psql("ALTER TABLE t ADD COLUMN r float8 DEFAULT random(); "
            "INSERT INTO t (id, v) VALUES (28, 28);", db=pgdb)
    assert wait_for(lambda: "column r was added" in status(a, "r4")["last_error"], timeout=60)
    assert "cdc resync r4 t" in status(a, "r4")["last_error"]
    assert a.req("cdc resync r4 t") == "success"
    migrate(a, "r4")
    assert same(a, "r4", pg, pgdb, "t", "id"), (status(a, "r4"), srv.stderr())


def test_slot_creation_waiting_on_an_open_transaction_times_out_naming_it(pg, pgdb,  # noqa: F811
                                                                           make_server):
    pg.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);", db=pgdb)
    srv = make_server(env=dict(KEY, TCPDUCKDB_TEST_CDC_SLOT_WAIT_S="2"))
    a = srv.admin()
    # A transaction holding an xid, open while the slot is created: its snapshot waits for it.
    holder = threading.Thread(target=lambda: pg.psql(
        "BEGIN; INSERT INTO t VALUES (2); SELECT pg_sleep(60); COMMIT;", db=pgdb, check=False))
    holder.start()
    try:
        def holder_pid():
            return pg.psql("SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' "
                           "AND pid <> pg_backend_pid()").strip()
        assert wait_for(lambda: holder_pid() != "", timeout=30)
        pid = holder_pid()
        out = link_cdc(a, "r5", pg.dsn(pgdb))
        assert out.startswith("Error: Server Busy: creating the replication slot waited 2 s"), out
        assert "pid %s" % pid in out, out
        # Nothing left in PostgreSQL.
        assert slots(pg, pgdb).strip() == ""
        assert pg.psql("SELECT count(*) FROM pg_publication", db=pgdb).strip() == "0"
    finally:
        pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE "
                "'%pg_sleep(60)%' AND pid <> pg_backend_pid()")
        holder.join()
    assert link_cdc(a, "r6", pg.dsn(pgdb)) == "success"
    assert same(a, "r6", pg, pgdb, "t", "id")


def event_triggers(pg, db):
    """The event triggers and event-trigger functions left in PostgreSQL database `db`."""
    return pg.psql("SELECT evtname FROM pg_event_trigger UNION ALL SELECT proname FROM pg_proc "
                   "WHERE prorettype = 'event_trigger'::regtype AND proname LIKE 'tcpduckdb%'",
                   db=db).split()


def psql_warnings(pg, db, sql):
    """Runs `sql` as pg.psql does and returns what PostgreSQL said on stderr (its WARNINGs)."""
    p = pg._run(["/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", pg.dir, "-p",
                 str(pg.port), "-U", "postgres", "-d", db], input=sql.encode("utf-8"))
    return p.stderr.decode("utf-8")


def published(pg, db):
    return pg.psql("SELECT tablename FROM pg_publication_tables ORDER BY 1", db=db).split()


def test_tables_created_after_link_join_by_the_event_trigger(pg, pgdb, srv):  # noqa: F811
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1);", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "n1", pg.dsn(pgdb)) == "success"
    assert wait_for(lambda: status(a, "n1")["event_trigger"] is True, timeout=30)
    pub = status(a, "n1")["slot"]
    # The link (a superuser role) installed the event trigger and its function.
    assert event_triggers(pg, pgdb) == [pub, pub]
    # A table with a key: its rows, written in its creating transaction and after, follow.
    pg.psql("""
    BEGIN; CREATE TABLE p (id int PRIMARY KEY, s text);
    INSERT INTO p VALUES (1, 'a'), (2, 'b'); UPDATE p SET s = 'c' WHERE id = 2; COMMIT;
    INSERT INTO p SELECT g, g::text FROM generate_series(3, 500) g;
    UPDATE p SET s = 'x' WHERE id % 7 = 0; DELETE FROM p WHERE id % 11 = 0;
    INSERT INTO t VALUES (2, 2);
    """, db=pgdb)
    migrate(a, "n1")
    assert same(a, "n1", pg, pgdb, "p", "id"), (status(a, "n1"), srv.stderr())
    assert same(a, "n1", pg, pgdb, "t", "id")
    # CREATE TABLE AS (and SELECT INTO) make a table without key: left out when created; once
    # it has one (ALTER TABLE ... ADD PRIMARY KEY) it joins, and the stream copies the rows it
    # had (not decoded: the table was not in the publication when they were written). Never
    # written again, it is still there with its rows.
    pg.psql("CREATE TABLE c AS SELECT g AS id, g * 2 AS w FROM generate_series(1, 300) g; "
            "ALTER TABLE c ADD PRIMARY KEY (id);", db=pgdb)
    pg.psql("BEGIN; SELECT g AS id, 'v' || g AS s INTO si FROM generate_series(1, 40) g; "
            "ALTER TABLE si ADD PRIMARY KEY (id); UPDATE si SET s = 'u' WHERE id < 5; COMMIT;",
            db=pgdb)
    migrate(a, "n1")
    assert same(a, "n1", pg, pgdb, "c", "id"), (status(a, "n1"), srv.stderr())
    assert same(a, "n1", pg, pgdb, "si", "id"), (status(a, "n1"), srv.stderr())
    pg.psql("UPDATE c SET w = -w WHERE id <= 10; DELETE FROM c WHERE id > 290; "
            "INSERT INTO c VALUES (1000, 1);", db=pgdb)
    migrate(a, "n1")
    assert same(a, "n1", pg, pgdb, "c", "id")
    # Without key: not added (its users' own UPDATE and DELETE keep working in PostgreSQL),
    # and `cdc status` names it.
    said = psql_warnings(pg, pgdb, "CREATE TABLE k (a int, b text); "
                         "INSERT INTO k VALUES (1, 'x'), (2, 'y');")
    assert "TCP-DuckDB CDC does not follow table k (no primary key)" in said, said
    pg.psql("UPDATE k SET b = 'z' WHERE a = 1; DELETE FROM k WHERE a = 2;", db=pgdb)
    assert pg.psql("SELECT a, b FROM k", db=pgdb).strip() == "1\tz"
    assert wait_for(lambda: status(a, "n1")["tables_not_followed"] == ["k"], timeout=30)
    assert "k" not in published(pg, pgdb)
    st = status(a, "n1")
    assert st["state"] == "streaming" and st["last_error"] == "", st
    assert "table(s) k of schema public are not followed" in srv.stderr()
    # The way in for a keyless table: REPLICA IDENTITY FULL and a resync of it.
    pg.psql("ALTER TABLE k REPLICA IDENTITY FULL", db=pgdb)
    assert a.req("cdc resync n1 k") == "success"
    pg.psql("INSERT INTO k VALUES (3, 'w'), (3, 'w'); UPDATE k SET b = 'q' WHERE a = 1;",
            db=pgdb)
    migrate(a, "n1")
    assert same(a, "n1", pg, pgdb, "k", "a, b"), (status(a, "n1"), srv.stderr())
    assert wait_for(lambda: status(a, "n1")["tables_not_followed"] == [], timeout=30)
    # After a restart the joined tables go on.
    srv.restart()
    a = srv.admin()
    pg.psql("UPDATE p SET s = 'r' WHERE id < 50; DELETE FROM si WHERE id > 30;", db=pgdb)
    migrate(a, "n1")
    assert same(a, "n1", pg, pgdb, "p", "id")
    assert same(a, "n1", pg, pgdb, "si", "id")
    # Dropped and created again under its name, changed just before (one batch, most likely):
    # the old changes are applied, then the new table replaces the DuckDB table.
    pg.psql("UPDATE p SET s = 'y' WHERE id < 10; DROP TABLE p; "
            "CREATE TABLE p (id int PRIMARY KEY, z date); "
            "INSERT INTO p VALUES (1, '2024-01-01'), (2, NULL); UPDATE p SET z = NULL WHERE id = 1;",
            db=pgdb)
    migrate(a, "n1")
    assert same(a, "n1", pg, pgdb, "p", "id"), (status(a, "n1"), srv.stderr())
    # Created, written and dropped before the stream meets it (stopped meanwhile): skipped,
    # the stream goes on.
    assert a.req("cdc stop n1") == "success"
    pg.psql("CREATE TABLE gone (id int PRIMARY KEY); INSERT INTO gone VALUES (1); "
            "UPDATE gone SET id = 2; DROP TABLE gone; INSERT INTO t VALUES (3, 3);", db=pgdb)
    assert a.req("cdc start n1") == "success"
    migrate(a, "n1")
    st = status(a, "n1")
    assert st["state"] == "streaming" and st["last_error"] == "", st
    assert "table gone was dropped in PostgreSQL before the stream met its changes" in \
        srv.stderr()
    assert same(a, "n1", pg, pgdb, "t", "id")
    # A link made before the event trigger existed (dropped here by hand) gets it from a resync
    # of the whole database.
    pg.psql('DROP EVENT TRIGGER "%s"' % pub, db=pgdb)
    assert wait_for(lambda: status(a, "n1")["event_trigger"] is False, timeout=30)
    assert a.req("cdc resync n1") == "success"
    assert wait_for(lambda: status(a, "n1")["event_trigger"] is True, timeout=30)
    assert event_triggers(pg, pgdb) == [pub, pub]
    pg.psql("CREATE TABLE q (id int PRIMARY KEY); INSERT INTO q VALUES (7);", db=pgdb)
    migrate(a, "n1")
    assert same(a, "n1", pg, pgdb, "q", "id"), (status(a, "n1"), srv.stderr())
    # Unlink leaves nothing in PostgreSQL: no slot, publication, event trigger or function.
    assert a.req("unlink n1") == "success"
    assert slots(pg, pgdb).strip() == ""
    assert pg.psql("SELECT count(*) FROM pg_publication", db=pgdb).strip() == "0"
    assert event_triggers(pg, pgdb) == []
    pg.psql("CREATE TABLE after_unlink (id int PRIMARY KEY)", db=pgdb)


def test_without_superuser_no_event_trigger(pg, pgdb, srv):  # noqa: F811
    # A role with REPLICATION that owns its tables, not a superuser: no event trigger (it needs
    # one); tables created later join through `cdc resync DB TABLE`, and status says so.
    pg.psql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'repl') THEN "
            "CREATE ROLE repl LOGIN REPLICATION; END IF; END $$;")
    pg.psql("GRANT CREATE ON DATABASE %s TO repl; GRANT CREATE ON SCHEMA public TO repl; "
            "SET ROLE repl; CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);"
            % pgdb, db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "n2", pg.dsn(pgdb, user="repl")) == "success"
    assert event_triggers(pg, pgdb) == []
    assert wait_for(lambda: status(a, "n2")["event_trigger"] is False, timeout=30)
    pg.psql("SET ROLE repl; CREATE TABLE n (id int PRIMARY KEY); INSERT INTO n VALUES (1);",
            db=pgdb)
    assert wait_for(lambda: status(a, "n2")["tables_not_followed"] == ["n"], timeout=30)
    assert a.req("cdc resync n2 n") == "success"
    pg.psql("INSERT INTO n VALUES (2)", db=pgdb)
    migrate(a, "n2")
    assert same(a, "n2", pg, pgdb, "n", "id")
    assert a.req("unlink n2") == "success"
    assert slots(pg, pgdb).strip() == ""


def test_type_change_stops_the_stream_naming_both_types(pg, pgdb, srv):  # noqa: F811
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v int, s varchar(10)); "
            "INSERT INTO t SELECT g, g, 'a' FROM generate_series(1, 20) g;", db=pgdb)
    a = srv.admin()
    assert link_cdc(a, "y1", pg.dsn(pgdb)) == "success"
    # A change that keeps the DuckDB type (VARCHAR) is followed.
    pg.psql("ALTER TABLE t ALTER COLUMN s TYPE varchar(20); "
            "INSERT INTO t VALUES (21, 21, 'bbbbbbbbbbbbbbb');", db=pgdb)
    migrate(a, "y1")
    assert same(a, "y1", pg, pgdb, "t", "id"), (status(a, "y1"), srv.stderr())
    assert status(a, "y1")["last_error"] == ""
    # int to bigint: the stream stops, naming table, column, both types and the way out.
    pg.psql("ALTER TABLE t ALTER COLUMN v TYPE bigint; "
            "INSERT INTO t VALUES (22, 5000000000, 'c');", db=pgdb)
    assert wait_for(lambda: "cdc resync y1 t" in status(a, "y1")["last_error"], timeout=60)
    err = status(a, "y1")["last_error"]
    assert "table t changed in PostgreSQL: column v changed type from" in err, err
    assert "integer to bigint" in err or "INTEGER to bigint" in err, err
    assert a.req("cdc resync y1 t") == "success"
    pg.psql("UPDATE t SET v = v * 3 WHERE id > 15", db=pgdb)
    migrate(a, "y1")
    assert wait_for(lambda: status(a, "y1")["state"] == "streaming", timeout=30)
    assert status(a, "y1")["last_error"] == ""
    assert same(a, "y1", pg, pgdb, "t", "id"), (status(a, "y1"), srv.stderr())
    # Changed while the stream was stopped: found when it starts, against the DuckDB column.
    assert a.req("cdc stop y1") == "success"
    pg.psql("ALTER TABLE t ALTER COLUMN v TYPE numeric(20, 2); "
            "INSERT INTO t VALUES (23, 1.5, 'd');", db=pgdb)
    assert a.req("cdc start y1") == "success"
    assert wait_for(lambda: "cdc resync y1 t" in status(a, "y1")["last_error"], timeout=60)
    err = status(a, "y1")["last_error"]
    assert "column v changed type from BIGINT to numeric(20,2)" in err, err
    assert a.req("cdc resync y1 t") == "success"
    pg.psql("INSERT INTO t VALUES (24, 2.25, 'e')", db=pgdb)
    migrate(a, "y1")
    assert same(a, "y1", pg, pgdb, "t", "id"), (status(a, "y1"), srv.stderr())
