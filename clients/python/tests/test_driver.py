"""tcpduckdb against the real server (build/asan/tcp-duckdb, or $TCPDUCKDB_BIN).

Run: /usr/bin/python3 -m pytest -q clients/python/tests
"""
import datetime
import itertools
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from decimal import Decimal

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.dirname(HERE))

import tcpduckdb  # noqa: E402
from tcpduckdb import Interval  # noqa: E402

BIN = os.environ.get("TCPDUCKDB_BIN", os.path.join(ROOT, "build", "asan", "tcp-duckdb"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
SERVER_ENV = ("ServerPort", "ServerAddr", "DBdir", "ServerDbFile", "ENCRYPTION_KEY",
              "SuperPassword", "MaxConnections", "MaxRequestBytes", "IdleTimeout",
              "QueryWorkers", "PoolSize", "PoolWaitMs", "DuckdbThreads", "DuckdbMemoryLimit",
              "LogLevel", "TLSMode", "TLSCertFile", "TLSKeyFile", "TLSCAFile", "TLSMinVersion")


class Server:
    def __init__(self, args=()):
        """Starts the server; args are extra command-line settings (e.g. --tls-mode)."""
        self.dir = tempfile.TemporaryDirectory(prefix="tcpduckdb-py-")
        env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV}
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1:halt_on_error=1")
        self.proc = subprocess.Popen(
            [BIN, "--port", "0", "--addr", "127.0.0.1", "--data-dir", self.dir.name, *args],
            cwd=self.dir.name, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log = []
        self.port = None
        ready = threading.Event()

        def read():
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.log.append(line)
                m = re.search(r"listening to .*:(\d+)$", line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(60) or self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("server did not start:\n" + "\n".join(self.log))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(10)
        self.dir.cleanup()
        text = "\n".join(self.log)
        for mark in SANITIZER_MARKS:
            assert mark not in text, text[-20000:]
        assert rc == 0, "server exit status %r:\n%s" % (rc, text[-5000:])


@pytest.fixture(scope="module")
def server():
    srv = Server()
    yield srv
    srv.stop()


_names = itertools.count()


@pytest.fixture
def db(server):
    """A fresh database; returns its name."""
    name = "db%d" % next(_names)
    admin = tcpduckdb.connect(port=server.port)
    admin.command("create database " + name)
    admin.close()
    return name


@pytest.fixture
def con(server, db):
    c = tcpduckdb.connect(port=server.port, database=db)
    yield c
    c.close()


def one(con, sql, params=None):
    return con.cursor().execute(sql, params).fetchone()


# ---------------------------------------------------------------------------------------------
# Module, connect, login


def test_module_globals():
    assert tcpduckdb.apilevel == "2.0"
    assert tcpduckdb.threadsafety == 1
    assert tcpduckdb.paramstyle == "qmark"
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
                 "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
                 "NotSupportedError"):
        assert hasattr(tcpduckdb, name)
    assert issubclass(tcpduckdb.IntegrityError, tcpduckdb.DatabaseError)
    assert issubclass(tcpduckdb.DatabaseError, tcpduckdb.Error)
    assert issubclass(tcpduckdb.InterfaceError, tcpduckdb.Error)
    assert issubclass(tcpduckdb.Error, Exception)


def test_connect_and_login_errors(server, db):
    with pytest.raises(tcpduckdb.OperationalError) as e:
        tcpduckdb.connect(port=server.port, user="duck", password="wrong")
    assert e.value.kind == "Unauthorized"
    with pytest.raises(tcpduckdb.OperationalError, match="Does Not Exist"):
        tcpduckdb.connect(port=server.port, database="nosuchdb")
    with pytest.raises(tcpduckdb.OperationalError, match="cannot connect"):
        tcpduckdb.connect(port=1, timeout=5)
    # A user with spaces and quotes in the password logs in (arguments are quoted).
    admin = tcpduckdb.connect(port=server.port)
    admin.command('create user "pyuser" "p a\\"ss\\\\word"')
    admin.command("grant database %s pyuser read" % db)
    c = tcpduckdb.connect(port=server.port, user="pyuser", password='p a"ss\\word', database=db)
    assert one(c, "SELECT 1") == (1,)
    c.close()
    # A user without a grant cannot connect to the database.
    admin.command("create user nogrant pw")
    with pytest.raises(tcpduckdb.OperationalError) as e:
        tcpduckdb.connect(port=server.port, user="nogrant", password="pw", database=db)
    assert e.value.kind == "Access Denied"
    admin.close()
    with pytest.raises(tcpduckdb.InterfaceError):
        c.cursor()


def test_not_connected_to_a_database(server):
    c = tcpduckdb.connect(port=server.port)
    with pytest.raises(tcpduckdb.ProgrammingError, match="Bad Request"):
        c.cursor().execute("SELECT 1")
    c.close()


@pytest.mark.parametrize("message,cls", [
    ('Access Denied: User "u" does not have access over Tables "t"', tcpduckdb.ProgrammingError),
    ("Unauthorized", tcpduckdb.OperationalError),
    ("Bad Request: no transaction is open", tcpduckdb.ProgrammingError),
    ("Database x Does Not Exist", tcpduckdb.ProgrammingError),
    ("Transaction Aborted: a statement in the transaction failed", tcpduckdb.OperationalError),
    ("Request Too Large: the limit is 10 bytes", tcpduckdb.OperationalError),
    ("Internal Error", tcpduckdb.InternalError),
    ("INTERNAL Error: x", tcpduckdb.InternalError),
    ("Not implemented Error: x", tcpduckdb.NotSupportedError),
    ("Something New: x", tcpduckdb.DatabaseError),
])
def test_error_prefix_table(message, cls):
    e = tcpduckdb._error_from_server(message)
    assert type(e) is cls and e.message == message


# ---------------------------------------------------------------------------------------------
# Types


def test_integer_types(con):
    row = one(con, "SELECT 1::TINYINT, 2::SMALLINT, 3::INTEGER, (-9223372036854775808)::BIGINT, "
                   "18446744073709551615::UBIGINT, 170141183460469231731687303715884105727::HUGEINT, "
                   "340282366920938463463374607431768211455::UHUGEINT, 255::UTINYINT, true, false")
    assert row == (1, 2, 3, -9223372036854775808, 18446744073709551615,
                   170141183460469231731687303715884105727,
                   340282366920938463463374607431768211455, 255, True, False)
    assert all(type(v) is int for v in row[:8])
    assert type(row[8]) is bool


def test_decimal_and_float_types(con):
    row = one(con, "SELECT 12.50::DECIMAL(10,2), 1.123456789012345678901234567890::DECIMAL(38,30), "
                   "12::DECIMAL(4,0), -0.001::DECIMAL(18,3), 0.1::DOUBLE, 100::DOUBLE, 1.5::FLOAT, "
                   "'nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::FLOAT, 1e300::DOUBLE")
    assert row[0] == Decimal("12.50") and str(row[0]) == "12.50"
    assert str(row[1]) == "1.123456789012345678901234567890"
    assert row[2] == Decimal(12) and type(row[2]) is Decimal
    assert str(row[3]) == "-0.001"
    assert row[4] == 0.1 and type(row[4]) is float
    assert row[5] == 100.0 and type(row[5]) is float
    assert row[6] == 1.5
    assert math.isnan(row[7])
    assert row[8] == math.inf and row[9] == -math.inf
    assert row[10] == 1e300
    # DOUBLE next to a DECIMAL (exact-fraction decoding) is still a float, bit for bit.
    row = one(con, "SELECT 0.1::DOUBLE, 1.1::DECIMAL(2,1), [0.30000000000000004::DOUBLE]")
    assert row == (0.1, Decimal("1.1"), [0.30000000000000004])
    assert type(row[0]) is float and type(row[2][0]) is float


def test_string_blob_uuid_types(con):
    row = one(con, "SELECT 'héllo ☃ 😀'::VARCHAR, '\\x00\\xff'::BLOB, ''::BLOB, "
                   "'550e8400-e29b-41d4-a716-446655440000'::UUID, 'a'::ENUM('a', 'b'), "
                   "'0101'::BIT")
    assert row == ("héllo ☃ 😀", b"\x00\xff", b"", uuid.UUID("550e8400-e29b-41d4-a716-446655440000"),
                   "a", "0101")


def test_date_time_types(con):
    row = one(con, "SELECT DATE '2024-01-31', TIME '13:45:30.25', TIME '00:00:00', "
                   "TIMESTAMP '2024-01-31 13:45:30.5', TIMESTAMPTZ '2024-01-31 13:45:30+02', "
                   "TIMETZ '13:45:30.5-03:30', TIMESTAMP_NS '2024-01-01 00:00:00.123456789', "
                   "TIMESTAMP_S '2024-01-01 00:00:01', TIMESTAMP_MS '2024-01-01 00:00:00.123', "
                   "'1:02:03.123456789'::TIME_NS")
    utc = datetime.timezone.utc
    assert row == (
        datetime.date(2024, 1, 31), datetime.time(13, 45, 30, 250000), datetime.time(0, 0),
        datetime.datetime(2024, 1, 31, 13, 45, 30, 500000),
        datetime.datetime(2024, 1, 31, 11, 45, 30, tzinfo=utc),
        datetime.time(13, 45, 30, 500000,
                      tzinfo=datetime.timezone(-datetime.timedelta(hours=3, minutes=30))),
        datetime.datetime(2024, 1, 1, 0, 0, 0, 123456), datetime.datetime(2024, 1, 1, 0, 0, 1),
        datetime.datetime(2024, 1, 1, 0, 0, 0, 123000), datetime.time(1, 2, 3, 123456))
    assert row[4].tzinfo is utc
    # Values Python cannot hold stay strings.
    row = one(con, "SELECT 'infinity'::DATE, '-infinity'::DATE, 'infinity'::TIMESTAMP, "
                   "'-infinity'::TIMESTAMPTZ, DATE '-0044-03-15', DATE '0001-01-01'")
    assert row == ("infinity", "-infinity", "infinity", "-infinity", "-0044-03-15",
                   datetime.date(1, 1, 1))


def test_interval_type(con):
    row = one(con, "SELECT INTERVAL '36 hours 5 minutes', INTERVAL '3 days 4 seconds', "
                   "INTERVAL '-1 day 2 us', INTERVAL '1 year 2 months 3 days 4 hours', "
                   "INTERVAL '0 seconds', '1 month ago'::INTERVAL")
    assert row[0] == datetime.timedelta(hours=36, minutes=5)
    assert row[1] == datetime.timedelta(days=3, seconds=4)
    assert row[2] == datetime.timedelta(days=-1, microseconds=2)
    assert row[3] == Interval(14, 3, 4 * 3600 * 10**6)
    assert row[3].to_timedelta() == datetime.timedelta(days=14 * 30 + 3, hours=4)
    assert row[4] == datetime.timedelta(0)
    assert row[5] == Interval(-1, 0, 0)


def test_nested_types(con):
    row = one(con, "SELECT [1, 2, NULL], [1,2]::INTEGER[2], [[1.5::DECIMAL(3,1)]], "
                   "{'a': 1, 'b': DATE '2024-01-02', 'c': [TIMESTAMP '2024-01-01 00:00:00']}, "
                   "MAP {'k': [1]}, MAP {1: DATE '2024-01-01'}, [{'x': '\\xAA'::BLOB}], "
                   "[]::VARCHAR[], {'a': NULL}::STRUCT(a INTEGER), "
                   "[UUID '550e8400-e29b-41d4-a716-446655440000']")
    assert row == (
        [1, 2, None], [1, 2], [[Decimal("1.5")]],
        {"a": 1, "b": datetime.date(2024, 1, 2), "c": [datetime.datetime(2024, 1, 1)]},
        {"k": [1]}, {1: datetime.date(2024, 1, 1)}, [{"x": b"\xaa"}], [], {"a": None},
        [uuid.UUID("550e8400-e29b-41d4-a716-446655440000")])


def test_nulls_of_every_type(con):
    row = one(con, "SELECT NULL::INTEGER, NULL::DECIMAL(5,2), NULL::DOUBLE, NULL::DATE, "
                   "NULL::BLOB, NULL::UUID, NULL::INTEGER[], NULL::STRUCT(a INTEGER), "
                   "NULL::INTERVAL, NULL::TIMESTAMPTZ")
    assert row == (None,) * 10


# ---------------------------------------------------------------------------------------------
# Parameters


def test_parameter_binding_is_safe(con):
    cur = con.cursor()
    cur.execute("CREATE TABLE t (i INTEGER, s VARCHAR)")
    evil = "x'); DROP TABLE t; --"
    cur.execute("INSERT INTO t VALUES (?, ?)", (1, evil))
    cur.execute("INSERT INTO t VALUES ($1, $2)", [2, "it's \"quoted\" \\ \n\r\t ☃ 😀"])
    cur.execute("SELECT s FROM t WHERE s = ?", [evil])
    assert cur.fetchall() == [(evil,)]
    cur.execute("SELECT s FROM t ORDER BY i")
    assert cur.fetchall() == [(evil,), ("it's \"quoted\" \\ \n\r\t ☃ 😀",)]
    assert one(con, "SELECT count(*) FROM t WHERE s = ?", ["' OR '1'='1"]) == (0,)


def test_parameter_types_round_trip(con):
    cur = con.cursor()
    utc = datetime.timezone.utc
    params = [None, True, False, 42, -2**127, 2**127 - 1, 0.25, "text", b"\x00\x01\xff",
              bytearray(b"ab"), Decimal("12345678901234567890.123456789"),
              datetime.date(2024, 2, 29), datetime.time(1, 2, 3, 500000),
              datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
              datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
              uuid.UUID("550e8400-e29b-41d4-a716-446655440000"),
              datetime.timedelta(days=1, hours=2, microseconds=5),
              datetime.timedelta(microseconds=-5), Interval(14, 3, 7)]
    cur.execute("SELECT ?, ?, ?, ?, ?::HUGEINT, ?::HUGEINT, ?, ?, ?, ?, ?::DECIMAL(38,9), "
                "?::DATE, ?::TIME, ?::TIMESTAMP, ?::TIMESTAMPTZ, ?::UUID, ?::INTERVAL, "
                "?::INTERVAL, ?::INTERVAL", params)
    row = cur.fetchone()
    assert row == (None, True, False, 42, -2**127, 2**127 - 1, 0.25, "text", b"\x00\x01\xff", b"ab",
                   Decimal("12345678901234567890.123456789"), datetime.date(2024, 2, 29),
                   datetime.time(1, 2, 3, 500000), datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
                   datetime.datetime(2024, 1, 2, 1, 4, 5, tzinfo=utc),
                   uuid.UUID("550e8400-e29b-41d4-a716-446655440000"),
                   datetime.timedelta(days=1, hours=2, microseconds=5),
                   datetime.timedelta(microseconds=-5), Interval(14, 3, 7))
    row = one(con, "SELECT ?::DOUBLE, ?::DOUBLE, ?::DOUBLE", [math.nan, math.inf, -math.inf])
    assert math.isnan(row[0]) and row[1:] == (math.inf, -math.inf)


def test_parameter_errors(con):
    cur = con.cursor()
    with pytest.raises(tcpduckdb.ProgrammingError):
        cur.execute("SELECT ?", [[1, 2]])
    with pytest.raises(tcpduckdb.ProgrammingError):
        cur.execute("SELECT ?", {"a": 1})
    with pytest.raises(tcpduckdb.ProgrammingError, match="parameters"):
        cur.execute("SELECT ?, ?", [1])
    with pytest.raises(tcpduckdb.DataError):
        cur.execute("SELECT ?::INTEGER", ["abc"])
    con.rollback()  # the failed statement aborted the implicit transaction
    with pytest.raises(tcpduckdb.DataError):
        cur.execute("SELECT ?", ["\ud800"])
    assert one(con, "SELECT 1") == (1,)


# ---------------------------------------------------------------------------------------------
# Cursor


def test_description_and_rowcount(con):
    cur = con.cursor()
    assert cur.description is None and cur.rowcount == -1
    cur.execute("CREATE TABLE t (i INTEGER, d DECIMAL(10,2), s VARCHAR)")
    assert cur.description is None and cur.rowcount == -1
    cur.execute("INSERT INTO t VALUES (1, 1.5, 'a'), (2, 2.5, 'b'), (3, 3.5, 'c')")
    assert cur.rowcount == 3 and cur.description is None
    cur.execute("UPDATE t SET s = 'z' WHERE i >= ?", [2])
    assert cur.rowcount == 2
    cur.execute("SELECT i, d AS amount, s FROM t ORDER BY i")
    assert cur.description == (("i", "INTEGER", None, None, None, None, None),
                               ("amount", "DECIMAL(10,2)", None, None, 10, 2, None),
                               ("s", "VARCHAR", None, None, None, None, None))
    assert cur.description[0][1] == tcpduckdb.NUMBER
    assert cur.description[1][1] == tcpduckdb.NUMBER
    assert cur.description[2][1] == tcpduckdb.STRING
    assert cur.description[2][1] != tcpduckdb.NUMBER
    assert cur.rowcount == -1  # not known until every row was read
    assert cur.fetchone() == (1, Decimal("1.50"), "a")
    assert cur.fetchall() == [(2, Decimal("2.50"), "z"), (3, Decimal("3.50"), "z")]
    assert cur.rowcount == 3
    assert cur.fetchone() is None and cur.fetchall() == []
    cur.execute("DELETE FROM t WHERE i = 99")
    assert cur.rowcount == 0
    cur.execute("SELECT 1 AS a, 2 AS a")  # duplicate names are kept
    assert [d[0] for d in cur.description] == ["a", "a"] and cur.fetchall() == [(1, 2)]
    cur.execute("INSERT INTO t VALUES (9, 9, 'r') RETURNING i")
    assert cur.fetchall() == [(9,)]


def test_fetchmany_iteration_arraysize(con):
    cur = con.cursor()
    cur.execute("SELECT i FROM range(10) r(i)")
    assert cur.arraysize == 1
    assert cur.fetchmany() == [(0,)]
    cur.arraysize = 4
    assert cur.fetchmany() == [(1,), (2,), (3,), (4,)]
    assert cur.fetchmany(2) == [(5,), (6,)]
    assert [r for r in cur] == [(7,), (8,), (9,)]
    assert cur.fetchmany(3) == []
    with pytest.raises(tcpduckdb.ProgrammingError):
        con.cursor().fetchone()  # nothing executed
    cur.execute("CREATE TABLE x (i INTEGER)")
    with pytest.raises(tcpduckdb.ProgrammingError):
        cur.fetchall()  # no result set


def test_executemany(con):
    cur = con.cursor()
    cur.execute("CREATE TABLE t (i INTEGER, s VARCHAR)")
    cur.executemany("INSERT INTO t VALUES (?, ?)", [(i, "v%d" % i) for i in range(50)])
    assert cur.rowcount == 50
    cur.executemany("UPDATE t SET s = ? WHERE i < ?", iter([("a", 10), ("b", 5)]))
    assert cur.rowcount == 15
    assert one(con, "SELECT count(*), count(*) FILTER (s = 'b') FROM t") == (50, 5)
    with pytest.raises(tcpduckdb.DataError):
        cur.executemany("INSERT INTO t VALUES (?, ?)", [(1, "ok"), ("bad", "x")])


def test_two_cursors_interleaved(con):
    a, b = con.cursor(), con.cursor()
    a.execute("SELECT i FROM range(100000) r(i)")
    assert a.fetchone() == (0,)
    b.execute("SELECT 42")  # a's remaining rows are buffered, not lost
    assert b.fetchall() == [(42,)]
    assert len(a.fetchall()) == 99999 and a.rowcount == 100000
    a.execute("SELECT i FROM range(1000) r(i)")
    a.fetchone()
    a.execute("SELECT 7")  # the previous result is dropped
    assert a.fetchall() == [(7,)]


def test_multiple_statements_without_params(con):
    cur = con.cursor()
    cur.execute("CREATE TABLE t (i INTEGER); INSERT INTO t VALUES (1), (2); SELECT sum(i) FROM t")
    assert cur.fetchall() == [(3,)]


def test_closed_cursor_and_connection(server, db):
    c = tcpduckdb.connect(port=server.port, database=db)
    cur = c.cursor()
    cur.close()
    with pytest.raises(tcpduckdb.InterfaceError):
        cur.execute("SELECT 1")
    with c.cursor() as cur2:
        assert cur2.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(tcpduckdb.InterfaceError):
        cur2.fetchone()
    c.close()
    c.close()  # twice is fine
    with pytest.raises(tcpduckdb.InterfaceError):
        c.commit()


# ---------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("sql,cls,kind", [
    ("SELEC 1", tcpduckdb.ProgrammingError, "Parser Error"),
    ("SELECT * FROM nope", tcpduckdb.ProgrammingError, "Catalog Error"),
    ("SELECT nope FROM range(1)", tcpduckdb.ProgrammingError, "Binder Error"),
    ("SELECT 'abc'::INTEGER", tcpduckdb.DataError, "Conversion Error"),
    ("SELECT 100::TINYINT * 100::TINYINT", tcpduckdb.DataError, "Out of Range Error"),
    ("SELECT error('boom')", tcpduckdb.ProgrammingError, "Invalid Input Error"),
])
def test_errors_mapped_by_prefix(con, sql, cls, kind):
    con.autocommit = True
    with pytest.raises(cls) as e:
        con.cursor().execute(sql)
    assert e.value.kind == kind
    assert e.value.message.startswith(kind)
    assert one(con, "SELECT 1") == (1,)  # the connection stays usable


def test_error_message_newlines_restored(con):
    with pytest.raises(tcpduckdb.ProgrammingError) as e:
        con.cursor().execute("SELECT * FROM nope")
    assert "\nLINE 1:" in e.value.message


def test_integrity_error(con):
    con.autocommit = True
    cur = con.cursor()
    cur.execute("CREATE TABLE t (i INTEGER PRIMARY KEY)")
    cur.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(tcpduckdb.IntegrityError):
        cur.execute("INSERT INTO t VALUES (?)", [1])


def test_error_in_the_middle_of_a_result(con):
    cur = con.cursor()
    cur.execute("SELECT i, CASE WHEN i = 300000 THEN error('mid') ELSE i END "
                "FROM range(400000) r(i)")
    n = 0
    with pytest.raises(tcpduckdb.ProgrammingError, match="mid"):
        for _ in cur:
            n += 1
    assert 0 < n <= 300000
    con.rollback()
    assert one(con, "SELECT 2") == (2,)


# ---------------------------------------------------------------------------------------------
# Transactions


def test_implicit_transaction_commit_and_rollback(server, db):
    c = tcpduckdb.connect(port=server.port, database=db)
    other = tcpduckdb.connect(port=server.port, database=db, autocommit=True)
    assert c.autocommit is False and not c.in_transaction
    cur = c.cursor()
    cur.execute("CREATE TABLE t (i INTEGER)")
    assert c.in_transaction
    c.commit()
    assert not c.in_transaction
    cur.execute("INSERT INTO t VALUES (1)")
    # Not visible to another connection before commit.
    assert other.cursor().execute("SELECT count(*) FROM t").fetchone() == (0,)
    c.rollback()
    assert other.cursor().execute("SELECT count(*) FROM t").fetchone() == (0,)
    cur.execute("INSERT INTO t VALUES (2)")
    c.commit()
    assert other.cursor().execute("SELECT i FROM t").fetchall() == [(2,)]
    c.commit()  # nothing open: no error
    c.rollback()
    # Closing with an open transaction discards it.
    cur.execute("INSERT INTO t VALUES (3)")
    c.close()
    assert other.cursor().execute("SELECT i FROM t").fetchall() == [(2,)]
    other.close()


def test_autocommit(server, db):
    c = tcpduckdb.connect(port=server.port, database=db, autocommit=True)
    other = tcpduckdb.connect(port=server.port, database=db, autocommit=True)
    c.cursor().execute("CREATE TABLE t (i INTEGER)")
    c.cursor().execute("INSERT INTO t VALUES (1)")
    assert not c.in_transaction
    c.rollback()  # nothing to roll back
    assert other.cursor().execute("SELECT count(*) FROM t").fetchone() == (1,)
    # Switching autocommit on commits the open transaction (as sqlite3 does).
    c.autocommit = False
    c.cursor().execute("INSERT INTO t VALUES (2)")
    assert c.in_transaction
    c.autocommit = True
    assert not c.in_transaction
    assert other.cursor().execute("SELECT count(*) FROM t").fetchone() == (2,)
    # Explicit BEGIN / ROLLBACK statements in autocommit mode go through the commands.
    cur = c.cursor()
    cur.execute("BEGIN")
    cur.execute("INSERT INTO t VALUES (3)")
    cur.execute("ROLLBACK;")
    cur.execute("begin transaction")
    cur.execute("INSERT INTO t VALUES (4)")
    cur.execute("COMMIT")
    assert other.cursor().execute("SELECT list(i ORDER BY i) FROM t").fetchone() == ([1, 2, 4],)
    c.close()
    other.close()


def test_failed_statement_aborts_transaction(con):
    cur = con.cursor()
    cur.execute("CREATE TABLE t (i INTEGER PRIMARY KEY)")
    con.commit()
    cur.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(tcpduckdb.IntegrityError):
        cur.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(tcpduckdb.OperationalError, match="Transaction Aborted"):
        con.commit()
    assert one(con, "SELECT count(*) FROM t") == (0,)
    con.rollback()


def test_connection_context_manager(server, db):
    c = tcpduckdb.connect(port=server.port, database=db)
    with c:
        c.execute("CREATE TABLE t (i INTEGER)")
        c.execute("INSERT INTO t VALUES (1)")
    assert not c.in_transaction  # committed
    with pytest.raises(ZeroDivisionError):
        with c:
            c.execute("INSERT INTO t VALUES (2)")
            1 / 0
    assert not c.in_transaction  # rolled back
    assert c.execute("SELECT i FROM t").fetchall() == [(1,)]
    assert not c.closed  # as sqlite3: the with block does not close the connection
    c.close()
    assert c.closed


# ---------------------------------------------------------------------------------------------
# Streaming


def test_million_rows_stream_in_bounded_memory(con):
    con.autocommit = True
    cur = con.cursor()
    t0 = time.time()
    tracemalloc.start()
    try:
        cur.execute("SELECT i, 'row ' || i AS s FROM range(1000000) r(i)")
        n = total = 0
        for i, s in cur:
            n += 1
            total += i
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 1000000 and total == 999999 * 1000000 // 2
    assert cur.rowcount == 1000000
    # The answer line is ~23 MB and the rows as tuples ~150 MB; the driver holds one chunk.
    assert peak < 4 * 1024 * 1024, peak
    print("1M rows streamed in %.1fs, peak %d bytes" % (time.time() - t0, peak))


def test_large_values_and_awkward_strings(con):
    cur = con.cursor()
    cur.execute("SELECT repeat('],[\"\\', 1000000) AS s, i FROM range(3) r(i)")
    rows = cur.fetchall()
    assert [len(r[0]) for r in rows] == [5000000] * 3 and [r[1] for r in rows] == [0, 1, 2]
    cur.execute("SELECT '],[' || i AS s, {'k': '}]\n' || i} FROM range(5000) r(i)")
    rows = cur.fetchall()
    assert rows[4999] == ("],[4999", {"k": "}]\n4999"})


# ---------------------------------------------------------------------------------------------
# cancel() (docs/protocol.md, "Cancel")

LONG = "SELECT count(*) FROM range(10000000000)"
CANCELED = "Canceled: canceling statement due to user request"


def cancel_later(con, delay):
    """Calls con.cancel() from another thread after `delay` seconds; returns the thread and a
    list that receives the exception cancel() raised, if any."""
    errors = []

    def run():
        time.sleep(delay)
        try:
            con.cancel()
        except BaseException as e:  # noqa: B902 - reported by the test
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    return t, errors


def test_cancel_from_another_thread(con):
    cur = con.cursor()
    for _ in range(2):
        t, errors = cancel_later(con, 1.0)
        with pytest.raises(tcpduckdb.OperationalError) as e:
            cur.execute(LONG)
        t.join()
        assert not errors, errors
        assert e.value.kind == "Canceled" and str(e.value) == CANCELED
        con.rollback()  # the transaction the driver began is aborted
        assert one(con, "SELECT 42") == (42,)


def test_cursor_cancel_and_autocommit(server, db):
    c = tcpduckdb.connect(port=server.port, database=db, autocommit=True)
    try:
        cur = c.cursor()
        t, errors = cancel_later(cur, 1.0)
        with pytest.raises(tcpduckdb.OperationalError, match="Canceled"):
            cur.execute(LONG)
        t.join()
        assert not errors
        assert one(c, "SELECT 1") == (1,)
    finally:
        c.close()


def test_cancel_when_idle_does_nothing(con):
    con.cancel()
    time.sleep(0.3)
    assert one(con, "SELECT 7, sleep_ms(300) IS NULL") == (7, True)


def test_cancel_a_streamed_result(con):
    cur = con.cursor()
    cur.execute("SELECT range AS i FROM range(10000000000)")
    assert cur.fetchone() == (0,)
    t, errors = cancel_later(con, 0.2)
    with pytest.raises(tcpduckdb.OperationalError, match="Canceled"):
        while cur.fetchmany(10000):
            pass
    t.join()
    assert not errors
    con.rollback()
    assert one(con, "SELECT 3") == (3,)


def test_cancel_needs_a_login(server):
    c = tcpduckdb.connect(port=server.port, user=None)
    try:
        with pytest.raises(tcpduckdb.InterfaceError, match="no cancel key"):
            c.cancel()
    finally:
        c.close()


def test_cancel_after_close_is_harmless(server, db):
    c = tcpduckdb.connect(port=server.port, database=db)
    c.close()
    c.cancel()  # the key is dead: the server answers the same and nothing happens


# ---------------------------------------------------------------------------------------------
# Issue 21: command() answers, error codes, abandoned results


def test_command_returns_none_for_success(server):
    admin = tcpduckdb.connect(port=server.port)
    try:
        assert admin.command("create database cmdnone") is None
        assert admin.command("create user cmdnone pw") is None
        assert admin.command("list databases").startswith("[")
    finally:
        admin.close()


def test_error_kind_and_code_as_the_other_clients(con):
    con.autocommit = True
    with pytest.raises(tcpduckdb.ProgrammingError) as e:
        con.cursor().execute("SELECT * FROM nope")
    assert (e.value.kind, e.value.code) == ("Catalog Error", "CATALOG_ERROR")
    with pytest.raises(tcpduckdb.ProgrammingError) as e:
        con.command("connect nosuchdb")
    assert (e.value.kind, e.value.code) == ("Does Not Exist", "DOES_NOT_EXIST")
    assert e.value.message == "Database nosuchdb Does Not Exist"
    assert tcpduckdb.InterfaceError("x").code is None


HUGE = "SELECT range AS i, repeat('x', 20) AS pad FROM range(10000000000)"


def test_closing_a_cursor_with_a_huge_rest_cancels_it(con):
    """Read to its end, the rest would take hours: it is cancelled instead (autocommit)."""
    con.autocommit = True
    cur = con.cursor()
    cur.execute(HUGE)
    assert cur.fetchone() == (0, "x" * 20)
    cur.close()
    assert one(con, "SELECT 42") == (42,)
    # Executing the cursor again abandons its result the same way.
    cur = con.cursor()
    cur.execute(HUGE)
    assert cur.fetchmany(3)[2][0] == 2
    assert cur.execute("SELECT 7").fetchone() == (7,)


def test_abandoned_result_in_a_transaction_is_read_not_cancelled(con):
    """A cancel would abort the transaction: inside one, the rest is read and dropped."""
    cur = con.cursor()
    cur.execute("CREATE TABLE t (i INTEGER)")
    cur.execute("INSERT INTO t VALUES (1)")
    cur.execute("SELECT range FROM range(300000)")
    assert cur.fetchone() == (0,)
    cur.close()
    con.commit()
    assert one(con, "SELECT count(*) FROM t") == (1,)


def test_abandoned_result_cut_by_an_error(con):
    con.autocommit = True
    cur = con.cursor()
    cur.execute("SELECT CASE WHEN range = 200000 THEN error('mid') ELSE range END "
                "FROM range(300000)")
    assert cur.fetchone() == (0,)
    cur.close()  # the cut line and its error line are dropped with the rest
    assert one(con, "SELECT 5") == (5,)


def test_uri_and_environment_as_the_other_clients(server, db, monkeypatch):
    admin = tcpduckdb.connect(port=server.port)
    admin.command('create user uriuser "p@ss w:rd"')
    admin.command("grant database %s uriuser read" % db)
    admin.close()
    uri = "tcpduckdb://uriuser:p%%40ss%%20w%%3Ard@127.0.0.1:%d/%s?sslmode=disable" % (server.port, db)
    for c in (tcpduckdb.connect(uri), tcpduckdb.connect(dsn=uri)):
        assert c.tls_version is None
        assert c.cursor().execute("SELECT 1").fetchone() == (1,)
        c.close()
    assert tcpduckdb.parse_uri("tcpduckdb://a:b@[::1]:5/d?sslrootcert=/x+y.pem") == {
        "user": "a", "password": "b", "host": "::1", "port": 5, "database": "d",
        "sslrootcert": "/x y.pem"}
    for bad in ("postgres://u:secretpw@h/d", "tcpduckdb://u:secretpw@h/d?user=x",
                "tcpduckdb://u:secretpw@h/d#f", "tcpduckdb://u:secretpw@h:99999/d"):
        with pytest.raises(tcpduckdb.ProgrammingError) as e:
            tcpduckdb.connect(bad)
        assert "secretpw" not in str(e.value)
    for k, v in {"HOST": "127.0.0.1", "PORT": str(server.port), "USER": "uriuser",
                 "PASSWORD": "p@ss w:rd", "DATABASE": db, "SSLMODE": "disable"}.items():
        monkeypatch.setenv("TCPDUCKDB_" + k, v)
    c = tcpduckdb.connect()
    assert c.cursor().execute("SELECT 2").fetchone() == (2,)
    c.close()
    with pytest.raises(tcpduckdb.OperationalError, match="Unauthorized"):
        tcpduckdb.connect(password="wrong")  # what is given wins
    monkeypatch.setenv("TCPDUCKDB_SSLMODE", "maybe")
    with pytest.raises(tcpduckdb.ProgrammingError, match="maybe"):
        tcpduckdb.connect()
