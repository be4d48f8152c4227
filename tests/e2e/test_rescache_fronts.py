"""The result cache (docs/cache.md) beyond the line protocol's plain text: a typed request's
`"cache": false`, answers over the PostgreSQL front end (kept under their wire encoding),
table functions (the pure ones cached, the others never), and a user's macro that shadows a
built-in name (never cached)."""
import json
import socket
import struct

import psycopg2
import pytest

from test_pgwire import pg_port, read_msg, scram_login


def db_stats(admin, db_id=1):
    for d in json.loads(admin.req("stats"))["result_cache"]["databases"]:
        if d["id"] == db_id:
            return d
    return {"entries": 0, "hits": 0, "misses": 0}


@pytest.fixture
def srv(make_server):
    s = make_server(args=["--pg-port", "-1"])
    s.pg_port = pg_port(s)
    with s.admin() as a:
        for line in ["create database d", "connect d",
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)",
                     "INSERT INTO t VALUES (1, 'one'), (2, 'two')"]:
            assert a.req(line) in ("success", "2"), line
    return s


def connected(srv):
    c = srv.client(login=("duck", "duck"))
    assert c.req("connect d") == "success"
    return c


def test_a_typed_request_can_skip_the_cache(srv):
    c = connected(srv)
    admin = srv.admin()
    off = 'query {"sql": "SELECT v FROM t WHERE id = 1", "cache": false}'
    on = 'query {"sql": "SELECT v FROM t WHERE id = 1", "cache": true}'
    before = db_stats(admin)
    answers = [c.req(off) for _ in range(3)]
    after = db_stats(admin)
    assert answers == [answers[0]] * 3 and '"one"' in answers[0]
    # Neither looked up (no hit, no miss) nor stored.
    assert (after["hits"], after["misses"], after["entries"]) == \
        (before["hits"], before["misses"], before["entries"])
    # "cache": true is the default behaviour: the second is a hit with the same bytes.
    first = c.req(on)
    h = db_stats(admin)["hits"]
    assert c.req(on) == first == answers[0]
    assert db_stats(admin)["hits"] == h + 1
    for bad in ['query {"sql": "SELECT 1", "cache": 0}', 'query {"sql": "SELECT 1", "cache": "no"}',
                'query {"sql": "SELECT 1", "cache": false, "cache": true}']:
        assert c.req(bad).startswith("Error: Bad Request: malformed typed request"), bad


@pytest.mark.parametrize("sql", [
    "SELECT count(*) AS n FROM range(3)",
    "SELECT sum(generate_series) AS n FROM generate_series(1, 4)",
    "SELECT sum(unnest) AS n FROM unnest([1, 2, 3])",
    "SELECT count(*) AS n FROM json_each('{\"a\": 1, \"b\": 2}')",
    "SELECT count(*) AS n FROM t, range(2)",
])
def test_pure_table_functions_are_cached(srv, sql):
    c = connected(srv)
    admin = srv.admin()
    first = c.req(sql)
    assert first.startswith('[{"n":'), first
    h = db_stats(admin)["hits"]
    assert c.req(sql) == first
    assert db_stats(admin)["hits"] == h + 1


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/hostname')",
    "SELECT * FROM glob('/tmp/*')",
    "SELECT count(*) AS n FROM duckdb_tables()",
    "SELECT count(*) AS n FROM range(epoch(now())::BIGINT % 5)",
])
def test_other_table_functions_are_never_cached(srv, sql):
    c = connected(srv)
    admin = srv.admin()
    c.req(sql)
    h = db_stats(admin)["hits"]
    c.req(sql)
    c.req(sql)
    assert db_stats(admin)["hits"] == h, sql


def test_a_macro_shadowing_a_built_in_is_never_cached(srv):
    """DuckDB finds a user's `lower` before its own: a database with user macros is not
    cached, and once the macro is dropped the cache serves it again."""
    c = connected(srv)
    admin = srv.admin()
    sql = "SELECT lower('A') AS v"
    assert c.req(sql) == '[{"v":"a"}]'
    assert c.req("CREATE MACRO lower(x) AS x || random()::VARCHAR") == "success"
    answers = {c.req(sql) for _ in range(4)}
    assert len(answers) == 4, answers  # a fresh random() each time: never from the cache
    h = db_stats(admin)["hits"]
    c.req("SELECT v FROM t WHERE id = 1")
    c.req("SELECT v FROM t WHERE id = 1")
    assert db_stats(admin)["hits"] == h  # nothing of this database is cached meanwhile
    assert c.req("DROP MACRO lower") == "success"
    assert c.req(sql) == '[{"v":"a"}]'
    assert c.req(sql) == '[{"v":"a"}]'
    assert db_stats(admin)["hits"] == h + 1


def pg_connect(srv):
    return psycopg2.connect(host="127.0.0.1", port=srv.pg_port, user="duck", password="duck",
                            dbname="d", connect_timeout=30)


def test_postgresql_answers_are_cached_and_see_every_write(srv):
    admin = srv.admin()
    conn = pg_connect(srv)
    conn.autocommit = True
    cur = conn.cursor()
    sql = "SELECT id, v FROM t ORDER BY id"
    cur.execute(sql)
    first = cur.fetchall()
    assert first == [(1, "one"), (2, "two")]
    h = db_stats(admin)["hits"]
    cur.execute(sql)
    assert cur.fetchall() == first
    assert cur.description[1].name == "v"  # RowDescription is part of the cached answer
    assert db_stats(admin)["hits"] == h + 1
    # The line protocol's answer to the same text is another entry (another encoding).
    c = connected(srv)
    assert c.req(sql) == '[{"id":1,"v":"one"},{"id":2,"v":"two"}]'
    assert db_stats(admin)["hits"] == h + 1
    # A write through either front end is seen by the next read through the other.
    cur.execute("INSERT INTO t VALUES (3, 'three')")
    assert c.req(sql).endswith('{"id":3,"v":"three"}]')
    cur.execute(sql)
    assert cur.fetchall() == first + [(3, "three")]
    # Inside a transaction nothing is served from the cache.
    conn.autocommit = False
    cur.execute(sql)
    h = db_stats(admin)["hits"]
    cur.execute(sql)
    assert db_stats(admin)["hits"] == h
    conn.rollback()
    conn.close()


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


def execute(s, sql, result_format, max_rows=0):
    """Parse, Bind (one result format code for all columns), Execute, Sync."""
    s.sendall(msg(b"P", b"\0" + sql.encode() + b"\0\0\0") +
              msg(b"B", b"\0\0" + struct.pack("!hhh", 0, 0, 1) + struct.pack("!h", result_format)) +
              msg(b"E", b"\0" + struct.pack("!I", max_rows)) + msg(b"S"))
    return until_ready(s)


def test_postgresql_text_and_binary_answers_are_separate_entries(srv):
    admin = srv.admin()
    sql = "SELECT id FROM t WHERE id = 2"
    with socket.create_connection(("127.0.0.1", srv.pg_port), timeout=30) as s:
        login(s)
        text = execute(s, sql, 0)
        binary = execute(s, sql, 1)
        h = db_stats(admin)["hits"]
        text2 = execute(s, sql, 0)
        binary2 = execute(s, sql, 1)
        assert db_stats(admin)["hits"] == h + 2
        rows = lambda got: [b for t, b in got if t == b"D"]  # noqa: E731
        assert rows(text) == rows(text2) == [struct.pack("!hI", 1, 1) + b"2"]
        assert rows(binary) == rows(binary2) == [struct.pack("!hIi", 1, 4, 2)]
        # A row-limited Execute is answered in parts, never from or into the cache.
        h = db_stats(admin)["hits"]
        limited = execute(s, "SELECT id FROM t ORDER BY id", 0, max_rows=1)
        assert [t for t, _ in limited] == [b"1", b"2", b"D", b"s", b"Z"]
        assert db_stats(admin)["hits"] == h


def login(s):
    """scram_login for database d (test_pgwire's helper logs in to db1)."""
    from test_pgwire import startup
    import test_pgwire
    saved = test_pgwire.startup
    test_pgwire.startup = lambda sock, user="duck", database="d": startup(sock, user, "d")
    try:
        scram_login(s)
    finally:
        test_pgwire.startup = saved
