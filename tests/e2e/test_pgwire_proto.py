"""
The PostgreSQL front end's protocol side (docs/pgwire.md) with real clients: the extended
protocol's implicit transaction up to Sync (psycopg 3's pipeline mode and raw messages),
`pgbench -i` and the TPC-B-like script in every query mode, PostgreSQL's administration
statements through psql, and PgPort's default.
"""
import os
import re
import socket
import struct
import subprocess

import psycopg
import pytest

from conftest import run_bin, wait_for
from test_pgwire import PGBENCH, PSQL, pg, pg_port, read_msg, scram_login  # noqa: F401


def connect3(srv, user="duck", password="duck", dbname="db1", **kw):
    return psycopg.connect(host="127.0.0.1", port=srv.pg_port, user=user, password=password,
                           dbname=dbname, connect_timeout=30, **kw)


def msg(t, body=b""):
    return t + struct.pack("!I", len(body) + 4) + body


def until_ready(s):
    got = []
    while True:
        t, body = read_msg(s)
        assert t is not None, got
        got.append((t, body))
        if t == b"Z":
            return got


def run(s, sql):
    """Parse, Bind and Execute of `sql` (unnamed), without a Sync."""
    return (msg(b"P", b"\0" + sql.encode() + b"\0\0\0") + msg(b"B", b"\0\0\0\0\0\0\0\0") +
            msg(b"E", b"\0\0\0\0\0"))


def table(srv, name="p"):
    with connect3(srv, autocommit=True) as conn:
        return [r[0] for r in conn.execute("select a from %s order by a" % name).fetchall()]


# ---- the implicit transaction of the extended protocol ----

def test_executes_up_to_sync_are_one_transaction(pg):
    with connect3(pg, autocommit=True) as conn:
        conn.execute("create table p(a int primary key)")
    with socket.create_connection(("127.0.0.1", pg.pg_port), timeout=30) as s:
        scram_login(s)
        # An error aborts the rest up to Sync, and what ran before it is rolled back.
        s.sendall(run(s, "insert into p values (1)") + run(s, "insert into p values (1)") +
                  run(s, "insert into p values (3)") + msg(b"S"))
        got = until_ready(s)
        assert [t for t, _ in got] == [b"1", b"2", b"C", b"1", b"2", b"E", b"Z"], got
        assert b"C23505" in got[5][1]
        assert got[-1][1] == b"I"
        assert table(pg) == []
        # Without an error every Execute's work is kept, at Sync.
        s.sendall(run(s, "insert into p values (1)") + run(s, "insert into p values (2)") +
                  msg(b"S"))
        got = until_ready(s)
        assert [t for t, _ in got] == [b"1", b"2", b"C", b"1", b"2", b"C", b"Z"], got
        assert got[-1][1] == b"I"
        assert table(pg) == [1, 2]
        # BEGIN inside the pipeline makes the implicit transaction the block: it stays open
        # after Sync and a ROLLBACK undoes the Execute before BEGIN too.
        s.sendall(run(s, "insert into p values (10)") + run(s, "begin") +
                  run(s, "insert into p values (11)") + msg(b"S"))
        got = until_ready(s)
        assert got[-1][1] == b"T", got
        s.sendall(msg(b"Q", b"rollback\0"))
        assert until_ready(s)[-1][1] == b"I"
        assert table(pg) == [1, 2]
        # One Execute per Sync is autocommit: the second's error does not undo the first.
        s.sendall(run(s, "insert into p values (20)") + msg(b"S") +
                  run(s, "insert into p values (20)") + msg(b"S"))
        got = until_ready(s) + until_ready(s)
        assert [t for t, _ in got] == [b"1", b"2", b"C", b"Z", b"1", b"2", b"E", b"Z"], got
        assert table(pg) == [1, 2, 20]
        # A simple Query ends the implicit transaction first, as a Sync would.
        s.sendall(run(s, "insert into p values (30)") + run(s, "insert into p values (31)") +
                  msg(b"Q", b"select count(*) from p\0"))
        got = until_ready(s)
        assert [t for t, _ in got][-4:] == [b"T", b"D", b"C", b"Z"], got
        assert got[-3][1].endswith(b"5") and got[-1][1] == b"I"


def test_psycopg3_pipeline(pg):
    with connect3(pg, autocommit=True) as conn:
        conn.execute("create table p(a int primary key)")
        with conn.pipeline():
            for i in range(50):
                conn.execute("insert into p values (%s)", (i,))
        assert table(pg) == list(range(50))
        # An error in a pipeline: psycopg raises it, and nothing of the pipeline stays.
        with pytest.raises(psycopg.errors.UniqueViolation):
            with conn.pipeline():
                conn.execute("insert into p values (%s)", (100,))
                conn.execute("insert into p values (%s)", (0,))
                conn.execute("insert into p values (%s)", (101,))
        assert table(pg) == list(range(50))
        # The connection goes on.
        assert conn.execute("select count(*) from p").fetchone()[0] == 50
    # executemany in a pipeline (what psycopg 3 does for it) is one transaction too.
    with connect3(pg) as conn:
        cur = conn.cursor()
        cur.executemany("insert into p values (%s)", [(i,) for i in range(50, 60)])
        conn.commit()
    assert table(pg) == list(range(60))


# ---- pgbench: -i (its DDL and COPY) and the TPC-B-like script ----

def pgbench(srv, *args):
    env = dict(os.environ, PGPASSWORD="duck", PGCONNECT_TIMEOUT="30")
    p = subprocess.run([PGBENCH, "-h", "127.0.0.1", "-p", str(srv.pg_port), "-U", "duck"] +
                       list(args) + ["db1"], capture_output=True, text=True, env=env,
                       timeout=900)
    return p.returncode, p.stdout + p.stderr


def balances(srv):
    with connect3(srv, autocommit=True) as conn:
        return conn.execute(
            "select (select sum(abalance) from pgbench_accounts),"
            " (select sum(bbalance) from pgbench_branches),"
            " (select sum(tbalance) from pgbench_tellers),"
            " (select coalesce(sum(delta), 0) from pgbench_history),"
            " (select count(*) from pgbench_history)").fetchone()


def test_pgbench_init_and_tpcb(pg):
    # -i sends a multi-table DROP and TRUNCATE, CREATE TABLE ... WITH (fillfactor=100),
    # COPY ... FROM STDIN WITH (FREEZE ON) inside BEGIN/COMMIT, VACUUM ANALYZE and
    # ALTER TABLE ... ADD PRIMARY KEY.
    rc, out = pgbench(pg, "-i", "-s", "1")
    assert rc == 0, out
    assert "done in" in out, out
    with connect3(pg, autocommit=True) as conn:
        counts = [conn.execute("select count(*) from pgbench_%s" % t).fetchone()[0]
                  for t in ("branches", "tellers", "accounts", "history")]
        assert counts == [1, 10, 100000, 0]
    assert balances(pg)[:4] == (0, 0, 0, 0)
    # The default TPC-B-like script, in each query mode, with conflicts retried (40001):
    # every transaction is all or nothing, so the sums of balances and deltas agree.
    done = 0
    for mode, clients in (("simple", 2), ("extended", 4), ("prepared", 4)):
        rc, out = pgbench(pg, "-n", "-c", str(clients), "-t", "10", "--max-tries=1000",
                          "-M", mode)
        assert rc == 0, out
        assert "number of failed transactions: 0 " in out, out
        done += clients * 10
        a, b, t, d, n = balances(pg)
        assert a == b == t == d and n == done, (mode, a, b, t, d, n, out)


# ---- PostgreSQL's administration statements ----

def psql_script(srv, script, user="duck", password="duck", dbname="db1"):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="30")
    p = subprocess.run([PSQL, "-X", "-h", "127.0.0.1", "-p", str(srv.pg_port), "-U", user,
                        "-d", dbname, "-v", "VERBOSITY=verbose"], input=script,
                       capture_output=True, text=True, env=env, timeout=120)
    return p.stdout, p.stderr


def test_admin_statements_with_psql(pg):
    out, err = psql_script(pg, """
create database d2;
create user Bob with login password 'b0b''s';
create table t(a int);
grant all on database db1 to bob;
grant select, insert on table t to bob;
grant select on t1 to bob;
alter database d2 rename to d3;
drop database if exists nope;
drop database d3;
""")
    assert out.split() == ["CREATE", "DATABASE", "CREATE", "ROLE", "CREATE", "TABLE", "GRANT",
                           "GRANT", "GRANT", "ALTER", "DATABASE", "DROP", "DATABASE", "DROP",
                           "DATABASE"], (out, err)
    assert err == ""
    # The user exists (name folded to lower case, as PostgreSQL does) with that password and
    # exactly those grants.
    out, err = psql_script(pg, "insert into t values (1);\nselect * from t;\n"
                           "update t set a = 2;\nselect * from t2;\n",
                           user="bob", password="b0b's")
    assert "INSERT 0 1" in out and "\n 1\n" in out, (out, err)
    assert err.count("42501") == 2, err
    # REVOKE takes it away at the next statement; ALTER USER changes the password.
    out, err = psql_script(pg, "revoke insert on t from bob;\nalter user bob password 'new';\n")
    assert out.split() == ["REVOKE", "ALTER", "ROLE"], (out, err)
    out, err = psql_script(pg, "insert into t values (3);\n", user="bob", password="new")
    assert "42501" in err, err
    # Super user only, exactly as on the line protocol: alice gets 42501 and nothing changes.
    out, err = psql_script(pg, "create user mallory password 'x';\ngrant select on t2 to alice;\n"
                           "create database evil;\n", user="alice", password="s3cret")
    assert out == "" and err.count("42501") == 3, (out, err)
    with pg.admin() as a:
        assert "mallory" not in a.req("list users")
        assert "evil" not in a.req("list databases")
    # What has no line-protocol command, or would be taken wrongly, is refused clearly.
    out, err = psql_script(pg, """
drop user bob, alice;
create role carol password 'x' superuser;
create user dave;
alter user bob password 'SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5';
grant select on t to public;
""")
    # (A malformed verifier is 22023: a well-formed one is stored, test_pgwire_settings.py.)
    assert out == "" and err.count("0A000") == 4 and err.count("22023") == 1, (out, err)
    with pg.admin() as a:
        users = a.req("list users")
        assert "carol" not in users and "dave" not in users


# ---- PgPort's default ----

def test_pg_port_default_and_in_use(make_server):
    rc, out, err = run_bin(["--help"])
    assert re.search(r"--pg-port.*\n?.*5433", out + err), out + err
    # A PgPort in use does not stop the server: the line protocol serves, the log says why.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        srv = make_server(args=["--pg-port", str(port)])
        assert wait_for(lambda: any("PostgreSQL front end not started" in line
                                    for line in srv.log), timeout=30), srv.stderr()
        with srv.admin() as a:
            assert a.req("create database x") == "success"


# ---- binary parameters and results ----

def test_binary_parameters_and_results(pg):
    import datetime
    import decimal
    import uuid
    utc = datetime.timezone.utc
    rows = [
        (12, 123456, 2 ** 40, 1.5, 2.25, True, b"\x00\x01\xff", "h\u00e9llo",
         datetime.date(2024, 2, 29), datetime.datetime(2024, 1, 2, 3, 4, 5, 678901),
         datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc), decimal.Decimal("-1234.567"),
         uuid.UUID("12345678-1234-5678-1234-567812345678")),
        (-3, -1, -(2 ** 62), -0.25, 1e300, False, b"", "",
         datetime.date(1, 1, 1), datetime.datetime(1999, 12, 31, 23, 59, 59),
         datetime.datetime(2000, 1, 1, tzinfo=utc), decimal.Decimal("0.001"),
         uuid.UUID(int=0)),
    ]
    with connect3(pg, autocommit=True) as conn:
        conn.execute("create table b(k int, i2 smallint, i4 int, i8 bigint, f4 real, f8 double,"
                     " ok boolean, bb blob, tx varchar, d date, ts timestamp, tz timestamptz,"
                     " n decimal(12,3), u uuid)")
        cur = conn.cursor(binary=True)
        for k, row in enumerate(rows):
            # %b: every parameter in its binary send format (numeric, date, timestamp[tz] and
            # uuid included).
            cur.execute("insert into b values (%b" + ", %b" * 13 + ")", (k,) + row)
        cur.execute("select i2, i4, i8, f4, f8, ok, bb, tx, d, ts, tz, u from b order by k")
        got = cur.fetchall()
        assert got == [r[:11] + r[12:] for r in rows]
        assert [r[0] for r in conn.execute("select n from b order by k").fetchall()] == \
            [r[11] for r in rows]
        # A binary parameter used in a comparison finds its row.
        cur.execute("select k from b where d = %b and u = %b and n = %b",
                    (rows[1][8], rows[1][12], rows[1][11]))
        assert cur.fetchall() == [(1,)]


def test_a_described_statement_follows_a_schema_change(pg):
    """Describe keeps the statement it prepared in the session's cache (libpq describes at
    every execution); a change of the table's columns by another session is seen at the next
    Describe, for the super user and for a user granted the table."""
    for user, password in (("duck", "duck"), ("alice", "s3cret")):
        with connect3(pg, user=user, password=password, autocommit=True) as conn:
            for _ in range(3):
                cur = conn.execute("SELECT * FROM t1 WHERE a = %s", (1,), prepare=True)
                assert [d.name for d in cur.description] == ["a", "b"]
                assert cur.fetchall() == [(1, "one")]
            with connect3(pg, autocommit=True) as other:
                other.execute("ALTER TABLE t1 ADD COLUMN c INTEGER DEFAULT 7")
            cur = conn.execute("SELECT * FROM t1 WHERE a = %s", (1,), prepare=True)
            assert [d.name for d in cur.description] == ["a", "b", "c"]
            assert cur.fetchall() == [(1, "one", 7)]
            with connect3(pg, autocommit=True) as other:
                other.execute("ALTER TABLE t1 DROP COLUMN c")
