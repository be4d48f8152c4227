"""
The PostgreSQL front end's protocol side (docs/pgwire.md) with real clients: the extended
protocol's implicit transaction up to Sync (psycopg 3's pipeline mode and raw messages).
"""
import socket
import struct

import psycopg
import pytest

from test_pgwire import pg, pg_port, read_msg, scram_login  # noqa: F401 (fixtures)


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
