"""
COPY through the PostgreSQL front end (docs/pgwire.md#copy): COPY ... TO STDOUT and FROM
STDIN in text and CSV formats through the front end's CopyOut/CopyIn messages, with psql's
\\copy and psycopg2's copy_expert, under the same grants as queries (SELECT for TO, INSERT
for FROM); files and programs refused.
"""
import io

import psycopg2
import psycopg2.errors
import pytest

from test_pgwire import connect, pg, psql  # noqa: F401 (pg is a fixture)

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
