"""
COPY through the PostgreSQL front end (docs/pgwire.md#copy): COPY ... TO STDOUT and FROM
STDIN in text and CSV formats through the front end's CopyOut/CopyIn messages, with psql's
\\copy and psycopg2's copy_expert, under the same grants as queries (SELECT for TO, INSERT
for FROM); files and programs refused. FROM STDIN goes through DuckDB's appender: a bad value
is reported at its line and column with nothing kept, and a COPY that does not end well (an
error, CopyFail, the client gone) leaves nothing behind.
"""
import io
import json
import socket
import struct
import threading

import psycopg2
import psycopg2.errors
import pytest

from conftest import wait_for
from test_pgwire import connect, pg, psql, read_msg, scram_login  # noqa: F401 (pg: fixture)

ROWS = "create table c(i integer, s varchar, d double, b boolean, ts timestamp, n decimal(8, 2))"


def ok(srv, *args, **kw):
    rc, out, err = psql(srv, "-v", "ON_ERROR_STOP=1", *args, **kw)
    assert rc == 0, err
    return out


@pytest.fixture
def cp(pg):
    with pg.admin() as a:
        for req in ["connect db1", ROWS,
                    "insert into c values (1, 'plain', 1.5, true, '2024-01-02 03:04:05', 12.5),"
                    " (2, E'tab\\there\\nnew line \\\\ back', -0.25, false, NULL, -0.01),"
                    " (3, NULL, NULL, NULL, NULL, NULL), (4, 'a,b \"q\"', 1e300, true,"
                    " '1999-12-31 23:59:59.5', NULL)",
                    "create table c2 as select * from c limit 0"]:
            assert a.req(req) in ("success", "4"), req
    return pg


@pytest.mark.parametrize("fmt", ["", "csv", "csv header", "(format csv, delimiter ';', null 'NIL')"])
def test_psql_copy_round_trip_is_byte_identical(cp, tmp_path, fmt):
    out1, out2 = tmp_path / "1", tmp_path / "2"
    ok(cp, "-c", f"\\copy (select * from c order by i) to '{out1}' {fmt}")
    data = out1.read_bytes()
    assert data.count(b"\n") >= 4
    ok(cp, "-c", f"\\copy c2 from '{out1}' {fmt}")
    ok(cp, "-c", f"\\copy (select * from c2 order by i) to '{out2}' {fmt}")
    assert out2.read_bytes() == data
    same = ok(cp, "-A", "-t", "-c",
              "select count(*) from (select * from c except select * from c2)")
    assert same.strip() == "0"


def test_text_format_escapes_and_nulls(cp):
    out = ok(cp, "-c", "copy (select i, s from c order by i) to stdout")
    lines = out.split("\n")
    assert lines[0] == "1\tplain"
    assert lines[1] == "2\ttab\\there\\nnew line \\\\ back"
    assert lines[2] == "3\t\\N"
    out = ok(cp, "-c", "copy (select s from c where i = 4) to stdout with (format csv)")
    assert out == '"a,b ""q"""\n'


def test_psycopg2_copy_expert_both_ways(cp):
    with connect(cp) as conn:
        cur = conn.cursor()
        buf = io.StringIO()
        cur.copy_expert("COPY c (i, s) TO STDOUT WITH CSV HEADER", buf)
        assert cur.rowcount == 4
        text = buf.getvalue()
        assert text.splitlines()[0] == "i,s"
        cur.execute("create table c3(i integer, s varchar)")
        cur.copy_expert("COPY c3 (i, s) FROM STDIN WITH CSV HEADER", io.StringIO(text))
        assert cur.rowcount == 4
        cur.execute("select i, s from c3 order by i")
        assert cur.fetchall() == [(1, "plain"), (2, "tab\there\nnew line \\ back"), (3, None),
                                  (4, 'a,b "q"')]
        # copy_from (text format, psycopg2's own statement)
        cur.copy_from(io.StringIO("10\tten\n11\t\\N\n"), "c3", columns=("i", "s"))
        cur.execute("select count(*), count(s) from c3 where i >= 10")
        assert cur.fetchone() == (2, 1)
    # A bad row rolls the whole COPY back, and the connection goes on.
    with connect(cp) as conn:
        cur = conn.cursor()
        with pytest.raises(psycopg2.Error) as e:
            cur.copy_expert("COPY c3 FROM STDIN", io.StringIO("20\ttwenty\nnot a number\tx\n"))
        assert e.value.pgcode == "22P02"
        conn.rollback()
        cur.execute("select count(*) from c3 where i = 20")
        assert cur.fetchone() == (0,)

        # The client aborts (CopyFail): nothing is kept.
        class Broken(io.StringIO):
            def read(self, *a):
                raise RuntimeError("client gave up")
        with pytest.raises(psycopg2.Error) as e:
            cur.copy_expert("COPY c3 FROM STDIN", Broken())
        assert "client gave up" in str(e.value)
        conn.rollback()
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
        # A zero byte (raw or escaped) cannot be in PostgreSQL's text: refused, nothing kept.
        for data in ["30\ta\\000b\n", "30\ta\\x00\n", "30\ta\x00b\n"]:
            with pytest.raises(psycopg2.Error) as e:
                cur.copy_expert("COPY c3 FROM STDIN", io.StringIO(data))
            assert e.value.pgcode == "22P04", data
            conn.rollback()
        cur.execute("select count(*) from c3 where i = 30")
        assert cur.fetchone() == (0,)


def test_copy_is_checked_like_queries(cp):
    with cp.admin() as a:
        assert a.req("grant table db1 c alice select") == "success"
    kw = dict(user="alice", password="s3cret")
    out = ok(cp, "-c", "\\copy (select i from c order by i) to stdout", **kw)
    assert out.split() == ["1", "2", "3", "4"]
    ok(cp, "-c", "\\copy c (i) to stdout", **kw)
    for stmt in ["\\copy t2 to stdout", "\\copy (select * from t2) to stdout",
                 "\\copy c from stdin"]:
        rc, out, err = psql(cp, "-v", "ON_ERROR_STOP=1", "-c", stmt, stdin="5\n", **kw)
        assert rc != 0 and "Access Denied" in err, (stmt, err)
    with connect(cp, **kw) as conn:
        cur = conn.cursor()
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.copy_expert("COPY c (i) FROM STDIN", io.StringIO("9\n"))
    assert ok(cp, "-A", "-t", "-c", "select count(*) from c where i = 9").strip() == "0"


@pytest.mark.parametrize("stmt", ["copy c to '/tmp/pgcat-copy.csv'", "copy c from '/etc/passwd'",
                                  "copy c to program 'id'", "copy c from stdin; select 1",
                                  "copy c to stdout (format binary)"])
def test_files_programs_and_odd_forms_are_refused(cp, stmt):
    rc, out, err = psql(cp, "-v", "ON_ERROR_STOP=1", "-c", stmt)
    assert rc != 0 and "ERROR" in err, err
    # The session is fine afterwards.
    assert ok(cp, "-A", "-t", "-c", "select count(*) from c").strip() == "4"


def test_bytea_round_trip(cp, tmp_path):
    with cp.admin() as a:
        for req in ["connect db1", "create table bl(i integer, b blob, s varchar)",
                    "insert into bl values (1, '\\x00\\x01\\xFFab'::blob, '\\x0001'),"
                    " (2, ''::blob, NULL)",
                    "create table bl2 as select * from bl limit 0"]:
            assert a.req(req) in ("success", "2"), req
    f1, f2 = tmp_path / "1", tmp_path / "2"
    ok(cp, "-c", f"\\copy (select * from bl order by i) to '{f1}'")
    # bytea in PostgreSQL's hex text; a varchar that looks like it stays text.
    assert f1.read_text().splitlines()[0] == "1\t\\\\x0001ff6162\t\\\\x0001"
    ok(cp, "-c", f"\\copy bl2 from '{f1}'")
    ok(cp, "-c", f"\\copy (select * from bl2 order by i) to '{f2}'")
    assert f2.read_bytes() == f1.read_bytes()
    with connect(cp) as conn:
        cur = conn.cursor()
        cur.execute("select b, s from bl2 where i = 1")
        b, s = cur.fetchone()
        assert bytes(b) == b"\x00\x01\xffab" and s == "\\x0001"


def count(srv, sql):
    return int(ok(srv, "-A", "-t", "-c", sql).strip())


def test_large_copy_in_both_formats(cp):
    """100k rows through psql's \\copy (text) and psycopg2 (CSV): every row kept, values exact,
    more rows than the appender holds before a flush."""
    n = 100000
    text = "".join("%d\trow %d\t%s\n" % (i, i, "\\N" if i % 7 == 0 else "%d.5" % i)
                   for i in range(n))
    with cp.admin() as a:
        assert a.req("connect db1") == "success"
        assert a.req("create table big(i bigint, s varchar, d double)") == "success"
    ok(cp, "-c", "\\copy big from stdin", stdin=text)
    out = ok(cp, "-A", "-t", "-F", ",", "-c",
             "select count(*), sum(i), count(d), min(s), max(i) from big")
    assert out.strip() == "%d,%d,%d,row 0,%d" % (n, n * (n - 1) // 2, n - (n + 6) // 7, n - 1)
    with connect(cp) as conn:
        cur = conn.cursor()
        csv = "".join('%d,"a,""%d""",\n' % (i, i) for i in range(n, 2 * n))
        cur.copy_expert("COPY big FROM STDIN (FORMAT csv)", io.StringIO(csv))
        assert cur.rowcount == n
        cur.execute("select count(*), count(d), min(s) from big where i >= %s", (n,))
        assert cur.fetchone() == (n, 0, 'a,"100000"')


@pytest.mark.parametrize("fmt,data,line,state,column", [
    ("", "1\tone\n2\ttwo\nthree\tx\n4\tfour\n", 3, "22P02", 'column i: "three"'),
    ("(format csv, header)", "i,s\n1,one\n2,two\nzz,x\n", 4, "22P02", 'column i: "zz"'),
    ("", "1\tone\n2\ttwo\t2\n", 2, "22P04", None),   # extra data after the last column
    ("", "1\tone\n2\n", 2, "22P04", None),           # missing data for column s
])
def test_bad_value_names_its_line_and_keeps_nothing(cp, fmt, data, line, state, column):
    with cp.admin() as a:
        assert a.req("connect db1") == "success"
        assert a.req("create table bad(i integer, s varchar)") == "success"
    # Many good rows first, so that some were flushed into the transaction before the bad one.
    good = "".join("%d\tok\n" % i for i in range(70000)) if not fmt else ""
    shift = 70000 if good else 0
    conn = connect(cp)  # not `with`: psycopg2 2.9 opens a block there even in autocommit
    conn.autocommit = True
    cur = conn.cursor()
    with pytest.raises(psycopg2.Error) as e:
        cur.copy_expert("COPY bad FROM STDIN " + fmt, io.StringIO(good + data))
    assert e.value.pgcode == state, e.value
    context = e.value.diag.context or ""
    assert "COPY bad, line %d" % (line + shift) in context, context
    if column:
        assert context.endswith(column), context
    # The session goes on, out of any transaction.
    assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    cur.execute("select count(*) from bad")
    assert cur.fetchone() == (0,)
    conn.close()
    # Inside the client's block the block fails, and nothing is kept either.
    with connect(cp) as conn:
        cur = conn.cursor()
        cur.execute("insert into bad values (-1, 'before')")
        with pytest.raises(psycopg2.Error) as e:
            cur.copy_expert("COPY bad FROM STDIN " + fmt, io.StringIO(data))
        assert e.value.pgcode == state
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            cur.execute("select 1")
        conn.commit()  # a failed block's COMMIT rolls back, as PostgreSQL's
    assert count(cp, "select count(*) from bad") == 0


def test_column_list_defaults_and_arrays(cp):
    with cp.admin() as a:
        assert a.req("connect db1") == "success"
        for req in ["create sequence seq1",
                    "create table d(id integer default nextval('seq1'), name varchar,"
                    " tag varchar default 'none', n integer not null default 7, l integer[],"
                    " ts timestamp, b boolean)"]:
            assert a.req(req) == "success", req
    ok(cp, "-c", "\\copy d (name, l) from stdin", stdin="x\t{1,2,3}\ny\t{}\nz\t\\N\n")
    ok(cp, "-c", "\\copy d (b, ts, name) from stdin with (format csv, delimiter ';')",
       stdin='t;2024-01-02 03:04:05;"semi;colon"\nf;;w\n')
    out = ok(cp, "-A", "-t", "-F", "|", "-c",
             "select id, name, tag, n, l, ts, b from d order by id")
    assert out.splitlines() == ["1|x|none|7|{1,2,3}||", "2|y|none|7|{}||", "3|z|none|7|||",
                                "4|semi;colon|none|7||2024-01-02 03:04:05|t", "5|w|none|7|||f"]
    # A NOT NULL column given NULL: refused, nothing kept.
    rc, _, err = psql(cp, "-v", "ON_ERROR_STOP=1", "-c", "\\copy d (name, n) from stdin",
                      stdin="v\t1\nv\t\\N\n")
    assert rc != 0 and "NOT NULL" in err, err
    assert count(cp, "select count(*) from d where name = 'v'") == 0


def test_copy_in_needs_the_insert_grant(cp):
    """A user granted INSERT on one table appends to it, and to nothing else: not to another
    table, another database, a view or a table function."""
    with cp.admin() as a:
        for req in ["connect db1", "create table mine(i integer)",
                    "create view v as select * from c"]:
            assert a.req(req) == "success", req
    with cp.admin() as a:  # a write grant on the database gives no table by itself
        for req in ["grant database db1 alice write", "grant table db1 mine alice insert"]:
            assert a.req(req) == "success", req
    kw = dict(user="alice", password="s3cret")
    ok(cp, "-c", "\\copy mine from stdin", stdin="1\n2\n", **kw)
    assert count(cp, "select count(*) from mine") == 2
    for target in ["c", "c2", "t2", "db2.main.t", "v", "mine2", "read_csv"]:
        with connect(cp, **kw) as conn:
            cur = conn.cursor()
            with pytest.raises(psycopg2.Error) as e:
                cur.copy_expert("COPY %s FROM STDIN" % target, io.StringIO("9\n"))
            assert e.value.pgcode in ("42501", "42P01", "3D000"), (target, e.value)
    assert count(cp, "select count(*) from c where i = 9") == 0
    assert count(cp, "select count(*) from mine") == 2
    # Not even the super user appends to a view or a table function.
    for target in ["v", "read_csv"]:
        rc, _, err = psql(cp, "-v", "ON_ERROR_STOP=1", "-c", "\\copy %s from stdin" % target,
                          stdin="9\n")
        assert rc != 0 and "ERROR" in err, (target, err)
    assert count(cp, "select count(*) from c") == 4


def test_copy_fail_after_many_rows_keeps_nothing(cp):
    """psycopg2 sends CopyFail when the file it reads raises: the rows sent before it, more
    than one flush of the appender, are not kept."""
    with cp.admin() as a:
        assert a.req("connect db1") == "success"
        assert a.req("create table cf(i integer, s varchar)") == "success"
    data = "".join("%d\tsome text %d\n" % (i, i) for i in range(200000))

    class FailsLate(io.StringIO):
        reads = 0

        def read(self, *a):
            self.reads += 1
            if self.reads > 200:  # 8 KiB reads: about 1.6 MB, 110k rows, sent first
                raise RuntimeError("client gave up late")
            return super().read(*a)
    conn = connect(cp)
    conn.autocommit = True
    cur = conn.cursor()
    with pytest.raises(psycopg2.Error) as e:
        cur.copy_expert("COPY cf FROM STDIN", FailsLate(data))
    assert "client gave up late" in str(e.value) and e.value.pgcode == "57014"
    assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    cur.execute("select count(*) from cf")
    assert cur.fetchone() == (0,)
    conn.close()


def test_client_gone_mid_copy_keeps_nothing(cp):
    with cp.admin() as a:
        assert a.req("connect db1") == "success"
        assert a.req("create table gone(i integer)") == "success"

    def msg(t, body=b""):
        return t + struct.pack("!I", len(body) + 4) + body

    def pg_sessions():
        with cp.admin() as a:
            return [r for r in json.loads(a.req("show sessions")) if r.get("user") == "duck"]
    before = len(pg_sessions())
    with socket.create_connection(("127.0.0.1", cp.pg_port), timeout=30) as s:
        scram_login(s)
        s.sendall(msg(b"Q", b"COPY gone FROM STDIN\0"))
        t, body = read_msg(s)
        assert t == b"G", body
        chunk = "".join("%d\n" % i for i in range(10000)).encode()
        for _ in range(10):  # 100k rows, more than one flush of the appender
            s.sendall(msg(b"d", chunk))
        s.sendall(msg(b"d", b"12"))  # and half a row; then the client is gone
    assert wait_for(lambda: len(pg_sessions()) == before, timeout=30), pg_sessions()
    assert count(cp, "select count(*) from gone") == 0
    ok(cp, "-c", "\\copy gone from stdin", stdin="1\n2\n")  # the table is free
    assert count(cp, "select count(*) from gone") == 2


def test_invalid_utf8_is_refused_at_its_line(cp):
    """Text that is not UTF-8 (raw, or made by an escape) is PostgreSQL's 22021 at its line,
    never stored: DuckDB's VARCHAR must hold UTF-8."""
    with cp.admin() as a:
        assert a.req("connect db1") == "success"
        assert a.req("create table u(i integer, s varchar)") == "success"
    conn = connect(cp)
    conn.autocommit = True
    cur = conn.cursor()
    for data in [b"1\tok\n2\tbad \xff\xfe\n", b"1\tok\n2\tx\\xffy\n", b"1\tok\n2\t\xc0\xaf\n",
                 "1\tok\n2\t\u00e9t\u00e9\n3\t\xe9\n".encode("utf-8")[:-3] + b"\xe9\n"]:
        with pytest.raises(psycopg2.Error) as e:
            cur.copy_expert("COPY u FROM STDIN", io.BytesIO(data))
        assert e.value.pgcode == "22021", (data, e.value)
        assert "COPY u, line %d" % data.count(b"\n") in (e.value.diag.context or ""), data
    cur.copy_expert("COPY u FROM STDIN", io.BytesIO("1\t\u00e9t\u00e9 \u2603\n".encode("utf-8")))
    cur.execute("select i, s from u")
    assert cur.fetchall() == [(1, "\u00e9t\u00e9 \u2603")]
    conn.close()


class _Gated(io.RawIOBase):
    """A file for copy_expert that gives one row, then waits for `release` before the end."""

    def __init__(self, release):
        self.release, self.sent = release, False

    def readable(self):
        return True

    def readinto(self, b):
        if not self.sent:
            self.sent = True
            b[:2] = b"7\n"
            return 2
        self.release.wait(60)
        return 0


def test_copy_in_is_one_of_the_users_statements(cp):
    """A COPY FROM in progress counts against the user's MaxUserStatements and shows in `show
    sessions` until it ends, across the client's CopyData messages."""
    with cp.admin() as a:
        for req in ["connect db1", "create table slow(i integer)", "grant database db1 alice write",
                    "grant table db1 slow alice insert select",
                    "update user limit alice max_statements 1"]:
            assert a.req(req) == "success", req
    copier = connect(cp, user="alice", password="s3cret")
    copier.autocommit = True
    other = connect(cp, user="alice", password="s3cret")
    other.autocommit = True
    release, errors = threading.Event(), []

    def copy():
        try:
            copier.cursor().copy_expert("COPY slow FROM STDIN", _Gated(release))
        except psycopg2.Error as e:
            errors.append(e)

    t = threading.Thread(target=copy)
    t.start()
    try:
        with cp.admin() as a:
            def shown():
                return any(r["user"] == "alice" and r["state"] == "active" and
                           (r["statement"] or "").startswith("COPY slow FROM STDIN")
                           for r in json.loads(a.req("show sessions")))

            assert wait_for(shown, timeout=30), errors
        with pytest.raises(psycopg2.Error) as e:
            other.cursor().execute("SELECT count(*) FROM slow")
        assert e.value.pgcode == "53300" and "Too Many Statements" in str(e.value)
        release.set()
        t.join(30)
        assert not t.is_alive() and not errors, errors
        cur = other.cursor()
        cur.execute("SELECT count(*) FROM slow")
        assert cur.fetchone() == (1,)
    finally:
        release.set()
        copier.close()
        other.close()
