"""
The PostgreSQL wire protocol front end (docs/pgwire.md) with real clients: psql, psycopg2
and pgbench against the real server on PgPort, plus raw protocol bytes for what no client
sends. Users, databases and grants are made over the line protocol; what a user may do
through PgPort must be exactly what the line protocol allows.
"""
import os
import socket
import struct
import subprocess
import tempfile
import threading
import time

import psycopg2
import psycopg2.errors
import pytest

from conftest import wait_for

PSQL = "psql"
PGBENCH = "pgbench"


def pg_port(srv):
    """The PostgreSQL port the server logged (it starts with --pg-port -1: any free port)."""
    found = []

    def look():
        for line in list(srv.log):
            if line.endswith("(PostgreSQL protocol)"):
                found.append(int(line.split(":")[-1].split(" ")[0]))
                return True
        return False

    assert wait_for(look, timeout=30), srv.stderr()
    return found[0]


@pytest.fixture
def pg(make_server):
    """A server with PgPort, database db1 (tables t1 and t2), user alice granted read on db1
    and select on t1 only, database db2 not granted to alice."""
    srv = make_server(args=["--pg-port", "-1"])
    srv.pg_port = pg_port(srv)
    with srv.admin() as a:
        for req in ["create database db1", "create database db2", "create user alice s3cret",
                    "connect db1", "create table t1(a int, b varchar)",
                    "insert into t1 values (1, 'one'), (2, 'two')",
                    "create table t2(secret varchar)", "insert into t2 values ('x')",
                    "grant database db1 alice read", "grant table db1 t1 alice select"]:
            assert a.req(req) in ("success", "2", "1"), req
    return srv


def connect(srv, user="duck", password="duck", dbname="db1", **kw):
    return psycopg2.connect(host="127.0.0.1", port=srv.pg_port, user=user, password=password,
                            dbname=dbname, connect_timeout=30, **kw)


def psql(srv, *args, user="duck", password="duck", dbname="db1", stdin=None):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="30")
    env.pop("PGSERVICE", None)
    p = subprocess.run([PSQL, "-X", "-h", "127.0.0.1", "-p", str(srv.pg_port), "-U", user,
                        "-d", dbname] + list(args), input=stdin, capture_output=True, text=True,
                       env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def test_psql_queries_types_and_errors(pg):
    rc, out, err = psql(pg, "-A", "-t", "-c",
                        "select 1::int, 'x', true, false, 1.5::double, 2.25::decimal(10,2), "
                        "date '2024-01-02', timestamp '2024-01-02 03:04:05.5', "
                        "interval '1 year 2 days 3 hours', null, '\\xAB\\x00'::blob, "
                        "uuid '12345678-1234-5678-1234-567812345678'")
    assert rc == 0, err
    assert out.strip() == ("1|x|t|f|1.5|2.25|2024-01-02|2024-01-02 03:04:05.5|"
                           "1 year 2 days 03:00:00||\\xab00|12345678-1234-5678-1234-567812345678")
    # Several statements in one -c: psql 15 shows each result.
    rc, out, err = psql(pg, "-A", "-t", "-c", "select 1; select 2")
    assert rc == 0 and out.split() == ["1", "2"], (out, err)
    # Errors carry the SQLSTATE (VERBOSITY verbose prints it).
    for sql, state in [("select * from nope", "42P01"), ("selec 1", "42601"),
                       ("select 'a'::int", "22P02")]:
        rc, out, err = psql(pg, "-v", "VERBOSITY=verbose", "-c", sql)
        assert rc == 1 and ("ERROR:  %s:" % state) in err, (sql, err)
    # The session goes on after an error; an empty query is answered.
    rc, out, err = psql(pg, "-A", "-t", stdin="select * from nope;\n;\nselect 42;\n")
    assert "42" in out.split() and "42P01" not in out, (out, err)


def test_psql_transactions_and_settings(pg):
    script = """
create table acc(id int, bal int);
insert into acc values (1, 10), (2, 20);
begin;
update acc set bal = bal + 1 where id = 1;
commit;
begin;
update acc set bal = 1000 where id = 2;
select * from nope;
select 1;
commit;
select id, bal from acc order by id;
show transaction isolation level;
set extra_float_digits = 3;
show extra_float_digits;
set client_encoding to 'UTF8';
savepoint s;
"""
    rc, out, err = psql(pg, "-A", "-t", stdin=script)
    lines = [line for line in out.splitlines() if line]
    # The failed block: 25P02 for the next statement, and its COMMIT rolls back.
    assert "current transaction is aborted" in err
    assert "ROLLBACK" in out or "1|11" in lines
    assert "1|11" in lines and "2|20" in lines, (out, err)
    assert "repeatable read" in lines and "3" in lines
    assert "savepoints and two-phase commit are not supported" in err


def test_psycopg2_parameters_types_transactions(pg):
    with connect(pg) as conn:
        cur = conn.cursor()
        cur.execute("create table p(i int, f double, t varchar, b blob, d date, ts timestamp,"
                    " n decimal(18,3), ok boolean)")
        import datetime
        import decimal
        row = (7, 2.5, "it's \"quoted\" ünïcode", b"\x00\x01\xff", datetime.date(2024, 2, 29),
               datetime.datetime(2024, 2, 29, 12, 30, 1, 250000), decimal.Decimal("12.345"),
               True)
        cur.execute("insert into p values (%s, %s, %s, %s, %s, %s, %s, %s)", row)
        assert cur.rowcount == 1
        conn.commit()
        cur.execute("select i, f, t, b, d, ts, n, ok from p where i = %s", (7,))
        got = cur.fetchone()
        assert got[:3] == row[:3] and bytes(got[3]) == row[3] and got[4:] == row[4:]
        cur.execute("select %s::int + 1, %s, %s", (41, None, "x"))
        assert cur.fetchone() == (42, None, "x")
        # Lists arrive as PostgreSQL arrays, which psycopg2 turns into Python lists.
        cur.execute("select [1, 2, 3], ['a b', null, 'x\"y'], []::int[]")
        assert cur.fetchone() == ([1, 2, 3], ["a b", None, 'x"y'], [])
        # A rolled-back transaction leaves nothing; an error keeps its SQLSTATE.
        cur.execute("insert into p (i) values (8)")
        conn.rollback()
        cur.execute("select count(*) from p")
        assert cur.fetchone() == (1,)
        with pytest.raises(psycopg2.errors.UndefinedTable) as e:
            cur.execute("select * from nope")
        assert e.value.pgcode == "42P01"
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            cur.execute("select 1")
        conn.rollback()
        cur.execute("update p set i = 9 where i = 7")
        assert cur.rowcount == 1
        cur.execute("delete from p where i = 9")
        assert cur.rowcount == 1
        conn.commit()
        assert conn.info.parameter_status("server_version").startswith("15.0")
        assert conn.server_version == 150000


def test_large_result_streams(pg):
    n = 300000
    with connect(pg) as conn:
        cur = conn.cursor()
        cur.execute("select i, 'row ' || i from range(%s) t(i)", (n,))
        total = 0
        count = 0
        for i, text in cur:
            total += i
            count += 1
            assert text == "row %d" % i
        assert count == n and total == n * (n - 1) // 2


def test_cancel_from_another_thread(pg):
    conn = connect(pg)
    conn.autocommit = True
    done = threading.Event()

    def canceller():
        # A cancel that comes before the statement starts reaches nothing: repeat until it ends.
        while not done.wait(0.2):
            conn.cancel()

    t = threading.Thread(target=canceller)
    t.start()
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled) as e:
            conn.cursor().execute("select count(*) from range(100000000000) a")
        assert e.value.pgcode == "57014"
    finally:
        done.set()
        t.join()
    cur = conn.cursor()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)
    conn.close()


def test_grants_are_the_line_protocols(pg):
    with connect(pg, user="alice", password="s3cret") as conn:
        cur = conn.cursor()
        cur.execute("select a, b from t1 order by a")
        assert cur.fetchall() == [(1, "one"), (2, "two")]
        with pytest.raises(psycopg2.errors.InsufficientPrivilege) as e:
            cur.execute("select * from t2")
        assert e.value.pgcode == "42501"
        conn.rollback()
        # Read access: no writes, not even to a granted table.
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("insert into t1 values (3, 'three')")
        assert e.value.pgcode == "42501"
        conn.rollback()
    # A database not granted, and one that does not exist.
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(pg, user="alice", password="s3cret", dbname="db2")
    assert "Access Denied" in str(e.value)
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(pg, dbname="nope")
    assert "nope Does Not Exist" in str(e.value)
    # A revoke takes effect at the next statement, as on the line protocol.
    with connect(pg, user="alice", password="s3cret") as conn:
        cur = conn.cursor()
        cur.execute("select count(*) from t1")
        with pg.admin() as a:
            assert a.req("revoke table db1 t1 alice select") == "success"
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("select count(*) from t1")


def test_wrong_password_unknown_user_and_throttle(make_server):
    srv = make_server(args=["--pg-port", "-1", "--login-failure-limit", "2"])
    srv.pg_port = pg_port(srv)
    with srv.admin() as a:
        assert a.req("create database db1") == "success"
    for user in ["duck", "nobody"]:
        with pytest.raises(psycopg2.OperationalError) as e:
            connect(srv, user=user, password="wrong")
        assert 'password authentication failed for user "%s"' % user in str(e.value)
    # The same throttle as the line protocol: this address is now refused before any check.
    def refused():
        try:
            connect(srv, user="duck", password="duck").close()
            return False
        except psycopg2.OperationalError as e:
            return "Too Many Failed Logins" in str(e)
    assert wait_for(refused, timeout=10)
    with srv.client() as c:
        assert c.req("login duck duck").startswith("Error: Too Many Failed Logins")


def test_pgbench_script_in_every_mode(pg):
    with connect(pg) as conn:
        conn.cursor().execute("create table acc(id int primary key, bal int);"
                              "insert into acc select i, 0 from range(10) t(i)")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\\set id random(0, 9)\nBEGIN;\nUPDATE acc SET bal = bal + 1 WHERE id = :id;\n"
                "SELECT bal FROM acc WHERE id = :id;\nEND;\n")
        script = f.name
    try:
        for mode in ["simple", "extended", "prepared"]:
            env = dict(os.environ, PGPASSWORD="duck")
            p = subprocess.run([PGBENCH, "-h", "127.0.0.1", "-p", str(pg.pg_port), "-U", "duck",
                                "-n", "-f", script, "-M", mode, "-t", "20", "db1"],
                               capture_output=True, text=True, env=env, timeout=300)
            assert p.returncode == 0, (mode, p.stdout, p.stderr)
            assert "number of transactions actually processed: 20/20" in p.stdout, p.stdout
    finally:
        os.unlink(script)
    with connect(pg) as conn:
        cur = conn.cursor()
        cur.execute("select sum(bal) from acc")
        assert cur.fetchone() == (60,)


def test_tls(make_server, tls_certs):
    def tls_args(mode):
        return ["--pg-port", "-1", "--tls-mode", mode,
                "--tls-cert-file", os.path.join(tls_certs, "server.crt"),
                "--tls-key-file", os.path.join(tls_certs, "server.key")]

    srv = make_server(args=tls_args("optional"))
    srv.pg_port = pg_port(srv)
    with srv.admin() as a:
        assert a.req("create database db1") == "success"
    with connect(srv, sslmode="require") as conn:
        assert conn.info.ssl_in_use
        cur = conn.cursor()
        cur.execute("select 41 + 1")
        assert cur.fetchone() == (42,)
    conn = psycopg2.connect(host="localhost", port=srv.pg_port, user="duck", password="duck",
                            dbname="db1", sslmode="verify-full",
                            sslrootcert=os.path.join(tls_certs, "ca.crt"), connect_timeout=30)
    assert conn.info.ssl_in_use
    conn.close()
    with connect(srv, sslmode="disable") as conn:
        assert not conn.info.ssl_in_use
    # With a certificate of another CA, verify-full refuses the server.
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="localhost", port=srv.pg_port, user="duck", password="duck",
                         dbname="db1", sslmode="verify-full",
                         sslrootcert=os.path.join(tls_certs, "other-ca.crt"), connect_timeout=30)

    # Plain bytes sent after the SSLRequest, before the answer: closed without one
    # (CVE-2021-23214), and the server goes on.
    with socket.create_connection(("127.0.0.1", srv.pg_port), timeout=30) as s:
        s.sendall(struct.pack("!II", 8, 80877103) + struct.pack("!I", 8) + b"\0\3\0\0")
        assert s.recv(10) == b""
    assert wait_for(lambda: "plain text after asking for TLS" in srv.stderr())
    with connect(srv, sslmode="require") as conn:
        assert conn.info.ssl_in_use

    other = os.path.join(srv.data_dir, "required")
    os.mkdir(other)
    req = make_server(args=tls_args("required"), data=other)
    req.pg_port = pg_port(req)
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(req, sslmode="disable")
    assert "only encrypted connections" in str(e.value)
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(req, sslmode="require", dbname="nope")  # encrypted: gets as far as the database
    assert "nope Does Not Exist" in str(e.value)


def test_jdbc(pg, tmp_path):
    """pgjdbc 42.5 (Debian's libpostgresql-jdbc-java, with SCRAM built in): its startup
    queries, prepared statements past the binary threshold, fetch sizes and errors."""
    jar = "/usr/share/java/postgresql.jar"
    assert os.path.exists(jar), "libpostgresql-jdbc-java is missing: run scripts/setup.sh --test"
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgwire", "PgJdbcTest.java")
    p = subprocess.run(["javac", "-d", str(tmp_path), src], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    p = subprocess.run(["java", "-cp", jar + os.pathsep + str(tmp_path), "PgJdbcTest",
                        str(pg.pg_port), "db1", "duck", "duck"], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", (p.stdout, p.stderr)


def test_shutdown_closes_pg_sessions(pg):
    """SIGTERM with PostgreSQL clients connected, one inside a transaction: the server rolls
    back, tells them why (FATAL 57P01) and exits cleanly (make_server checks the status)."""
    idle = connect(pg)
    busy = connect(pg)
    busy.cursor().execute("create table s(a int); insert into s values (1)")  # open block
    pg.check_clean(pg.stop())  # status 0, no sanitizer report
    for conn in (idle, busy):
        with pytest.raises(psycopg2.Error) as e:
            conn.cursor().execute("select 1")
        assert "Server Shutting Down" in str(e.value) or "closed" in str(e.value)
        conn.close()
    pg.start()
    pg.pg_port = pg_port(pg)
    with connect(pg) as conn:  # the block was rolled back: the table was never committed
        cur = conn.cursor()
        with pytest.raises(psycopg2.errors.UndefinedTable):
            cur.execute("select * from s")


# ---- raw protocol ----

def startup(sock, user="duck", database="db1"):
    body = struct.pack("!I", 196608)
    for k, v in [("user", user), ("database", database)]:
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    sock.sendall(struct.pack("!I", len(body) + 4) + body)


def read_msg(sock):
    head = b""
    while len(head) < 5:
        chunk = sock.recv(5 - len(head))
        if not chunk:
            return None, None
        head += chunk
    t, n = head[:1], struct.unpack("!I", head[1:])[0]
    body = b""
    while len(body) < n - 4:
        chunk = sock.recv(n - 4 - len(body))
        if not chunk:
            return None, None
        body += chunk
    return t, body


def closed(sock):
    sock.settimeout(30)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("packet", [
    struct.pack("!I", 1 << 30) + b"xxxx",   # a 1 GB startup packet
    struct.pack("!I", 3) + b"\0\0\0\0",     # a length below the minimum
    struct.pack("!II", 8, 12345678),        # an unknown protocol
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 64,  # a TLS ClientHello, bare
])
def test_garbage_startup_is_refused(pg, packet):
    with socket.create_connection(("127.0.0.1", pg.pg_port), timeout=30) as s:
        s.sendall(packet)
        assert closed(s)
    # The server goes on serving.
    with connect(pg) as conn:
        conn.cursor().execute("select 1")


def test_ssl_request_without_tls_and_unknown_message(pg):
    with socket.create_connection(("127.0.0.1", pg.pg_port), timeout=30) as s:
        s.sendall(struct.pack("!II", 8, 80877103))
        assert s.recv(1) == b"N"  # no TLS configured: go on in plain text
        startup(s)
        t, body = read_msg(s)
        assert t == b"R" and struct.unpack("!I", body[:4])[0] == 10  # SASL
        assert b"SCRAM-SHA-256" in body
        s.sendall(b"Z" + struct.pack("!I", 4))  # not a SASLInitialResponse
        t, body = read_msg(s)
        assert t == b"E" and b"C08P01" in body
        assert closed(s)


def test_extended_protocol_row_limit_and_sync_recovery(pg):
    """Parse/Bind/Describe/Execute with a row limit (PortalSuspended), then an error that
    skips to Sync, through psycopg2's connection for the login and a raw socket after it."""
    with socket.create_connection(("127.0.0.1", pg.pg_port), timeout=30) as s:
        scram_login(s)

        def msg(t, body=b""):
            return t + struct.pack("!I", len(body) + 4) + body

        q = b"select i from range(5) t(i) where i >= $1\0"
        s.sendall(msg(b"P", b"st\0" + q + struct.pack("!hI", 1, 20)) +
                  msg(b"B", b"\0st\0" + struct.pack("!hhIs", 0, 1, 1, b"1") +
                      struct.pack("!h", 0)) +
                  msg(b"D", b"P\0") +
                  msg(b"E", b"\0" + struct.pack("!I", 2)) +
                  msg(b"E", b"\0" + struct.pack("!I", 0)) +
                  msg(b"S"))
        got = []
        while True:
            t, body = read_msg(s)
            got.append((t, body))
            if t == b"Z":
                break
        types = b"".join(t for t, _ in got)
        assert types == b"12TDDsDDCZ", got
        rows = [int(b[6:]) for t, b in got if t == b"D"]
        assert rows == [1, 2, 3, 4]
        assert got[-2][1].rstrip(b"\0").startswith(b"SELECT")
        # An error skips to Sync: the Execute after it is not run, and the session goes on.
        s.sendall(msg(b"B", b"\0nosuch\0\0\0\0\0\0\0") + msg(b"E", b"\0\0\0\0\0") +
                  msg(b"S") + msg(b"Q", b"select 7\0"))
        t, body = read_msg(s)
        assert t == b"E" and b"C26000" in body
        t, body = read_msg(s)
        assert t == b"Z" and body == b"I"
        got = []
        while True:
            t, body = read_msg(s)
            got.append(t)
            if t == b"Z":
                break
        assert got == [b"T", b"D", b"C", b"Z"]


def scram_login(s, user="duck", password="duck"):
    """A SCRAM-SHA-256 login by hand (RFC 5802), as libpq does it."""
    import base64
    import hashlib
    import hmac
    startup(s, user)
    t, body = read_msg(s)
    assert t == b"R" and struct.unpack("!I", body[:4])[0] == 10
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = "n=,r=" + nonce
    first = ("n,," + first_bare).encode()
    s.sendall(b"p" + struct.pack("!I", 4 + 14 + 4 + len(first)) + b"SCRAM-SHA-256\0" +
              struct.pack("!I", len(first)) + first)
    t, body = read_msg(s)
    assert t == b"R" and struct.unpack("!I", body[:4])[0] == 11
    server_first = body[4:].decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored = hashlib.sha256(client_key).digest()
    final_wo = "c=biws,r=" + attrs["r"]
    auth = ",".join([first_bare, server_first, final_wo]).encode()
    sig = hmac.new(stored, auth, "sha256").digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, sig))).decode()
    final = (final_wo + ",p=" + proof).encode()
    s.sendall(b"p" + struct.pack("!I", 4 + len(final)) + final)
    while True:
        t, body = read_msg(s)
        assert t not in (None, b"E"), body
        if t == b"Z":
            return


def test_extended_protocol_is_checked_like_a_query(pg):
    """A user's Describe and Execute go through the same access check as a query: no column
    of an ungranted table is described, nothing of it runs."""
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

    with socket.create_connection(("127.0.0.1", pg.pg_port), timeout=30) as s:
        scram_login(s, user="alice", password="s3cret")
        s.sendall(msg(b"P", b"\0select * from t2 where 1 = $1\0\0\0") + msg(b"D", b"S\0") +
                  msg(b"S"))
        got = until_ready(s)
        assert [t for t, _ in got] == [b"1", b"E", b"Z"], got
        assert b"C42501" in got[1][1] and b"secret" not in got[1][1]
        s.sendall(msg(b"P", b"\0select a, b from t1 where a = $1\0\0\0") + msg(b"D", b"S\0") +
                  msg(b"B", b"\0\0" + struct.pack("!hhI", 0, 1, 1) + b"2" + struct.pack("!h", 0)) +
                  msg(b"E", b"\0\0\0\0\0") + msg(b"S"))
        got = until_ready(s)
        assert [t for t, _ in got] == [b"1", b"t", b"T", b"2", b"D", b"C", b"Z"], got
        assert got[4][1].endswith(b"two") and got[5][1] == b"SELECT 1\0"
        # The parameter description says int4 for a = $1 (DuckDB typed it at prepare).
        assert struct.unpack("!hI", got[1][1]) == (1, 23)


def test_long_names_are_refused_not_cut(pg):
    with pg.admin() as a:
        assert a.req("create user %s pw" % ("u" * 63)) == "success"
    for user, db, state in [("u" * 64, "db1", b"C28000"), ("duck", "d" * 64, b"C3D000")]:
        with socket.create_connection(("127.0.0.1", pg.pg_port), timeout=30) as s:
            startup(s, user=user, database=db)
            t, body = read_msg(s)
            assert t == b"E" and state in body and b"too long" in body
            assert closed(s)
