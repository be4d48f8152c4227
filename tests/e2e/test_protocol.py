"""Framing, limits, garbage, JSON answers and streaming of large results."""
import json
import os
import signal
import socket
import threading
import time

import pytest

from conftest import Client, wait_for


def connected(server, db="d"):
    c = server.admin()
    assert c.req("create database " + db) in ("success", "Error: Database %s Already Exists" % db)
    assert c.req("connect " + db) == "success"
    return c


def test_crlf_and_pipelining(server):
    c = server.client()
    c.send_raw(b"login duck duck\r\ncreate database p\r\nconnect p\r\nSELECT 42 AS x\r\n")
    assert [c.line() for _ in range(4)] == ["success", "success", "success", '[{"x":42}]']


def test_length_prefixed_request_with_newlines(server):
    c = connected(server)
    sql = "SELECT\n  1 AS a,\n  'two\nlines' AS b -- comment\n;"
    assert json.loads(c.req_long(sql)) == [{"a": 1, "b": "two\nlines"}]
    # A command works the same way, and a plain line follows in sync.
    assert c.req_long("disconnect") == "success"
    assert c.req("connect d") == "success"
    assert c.req_long("") .startswith("Error: ")
    assert c.req("SELECT 1 AS one") == '[{"one":1}]'


def test_request_too_large_keeps_connection(make_server):
    srv = make_server(args=["--max-request-bytes", "1024"])
    c = connected(srv)
    assert c.req("SELECT '" + "x" * 2000 + "'") == "Error: Request Too Large: the limit is 1024 bytes"
    assert c.req("SELECT 1 AS ok") == '[{"ok":1}]'
    c.send_raw(b"@5000\n" + b"y" * 5000)
    assert c.line() == "Error: Request Too Large: the limit is 1024 bytes"
    assert c.req("SELECT 2 AS ok") == '[{"ok":2}]'


def test_ten_megabyte_line(server):
    c = connected(server)
    chunk = b"z" * (1 << 20)
    for _ in range(10):
        c.send_raw(chunk)
    c.send_raw(b"\n")
    assert c.line() == "Error: Request Too Large: the limit is 1048576 bytes"
    assert c.req("SELECT 3 AS ok") == '[{"ok":3}]'


def test_nul_byte_and_bad_length_lines(server):
    c = connected(server)
    c.send_raw(b"SELECT 1\x00; DROP TABLE x\n")
    assert c.line().startswith("Error: Bad Request")
    for bad in [b"@abc\n", b"@-1\n", b"@\n", b"@99999999999999999999999\n"]:
        c.send_raw(bad)
        assert c.line().startswith("Error: Bad Request"), bad
    assert c.req("SELECT 4 AS ok") == '[{"ok":4}]'


def test_garbage_does_not_hurt(server):
    """Binary bytes, invalid UTF-8 and half lines; the server and the data survive."""
    good = connected(server, "g")
    assert good.req("CREATE TABLE t AS SELECT range AS i FROM range(100)") == "success"
    rnd = os.urandom(1 << 16)
    for payload in [rnd, b"\xff\xfe\xfd\n" * 100, b"login \xc3\x28 \xa0\xa1\n",
                    b"SELECT '\xe2\x82'\n", bytes(range(1, 256)) * 10]:
        with Client(server.port) as c:
            c.send_raw(payload)
            c.sock.shutdown(socket.SHUT_WR)
            c.closed()
    # Invalid UTF-8 inside SQL gets an error, not a crash.
    c = connected(server, "g")
    ans = c.req_long("SELECT '\udcff' AS x".encode("utf-8", "surrogateescape").decode("latin-1"))
    assert ans.startswith("[") or ans.startswith("Error: ")
    c.send_raw(b"SELECT '\xff\xfe' AS x\n")
    ans = c.line()
    assert ans.startswith("Error: ") or json.loads(ans)
    # A half line, then the client vanishes.
    with Client(server.port) as h:
        h.send_raw(b"login duck du")
    assert json.loads(good.req("SELECT count(*) AS n FROM t")) == [{"n": 100}]


def test_every_request_gets_one_line(server):
    c = server.admin()
    assert c.req_long("list grants a\nb").startswith("Error: Bad Request: invalid user name")
    assert c.req("SELECT 1").startswith("Error: Bad Request: not connected")


def test_json_types(server):
    c = connected(server)
    row = json.loads(c.req(
        "SELECT 170141183460469231731687303715884105727::HUGEINT AS h, 12.50::DECIMAL(10,2) AS d,"
        " 'NaN'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, DATE '2024-01-31' AS dt,"
        " TIMESTAMP '2024-01-31 13:45:30.5' AS ts, INTERVAL '1 day' AS iv,"
        " '550e8400-e29b-41d4-a716-446655440000'::UUID AS u, '\\x00\\xFF'::BLOB AS b,"
        " [1, 2, NULL] AS l, {'a': 1, 'b': 'x'} AS s, MAP {'k1': 1} AS m, NULL AS n,"
        " 1 AS dup, 2 AS dup, 'quote \" and \\ back' AS q"))[0]
    assert row == {"h": 170141183460469231731687303715884105727, "d": 12.5, "nan": "NaN",
                   "inf": "Infinity", "dt": "2024-01-31", "ts": "2024-01-31T13:45:30.5",
                   "iv": "P1D", "u": "550e8400-e29b-41d4-a716-446655440000", "b": "\\x00ff",
                   "l": [1, 2, None], "s": {"a": 1, "b": "x"}, "m": {"k1": 1}, "n": None,
                   "dup": 1, "dup_1": 2, "q": 'quote " and \\ back'}


def read_result(c, on_piece=None):
    """Reads one answer line in pieces without keeping it; returns (bytes, rows)."""
    total, rows, carry = 0, 0, b""
    while True:
        buf = c.rfile.readline(1 << 20)
        assert buf, "connection closed mid-result"
        total += len(buf)
        # A row separator may straddle two pieces: count over the seam too.
        rows += (carry + buf).count(b"},{")
        carry = buf[-2:]
        if on_piece:
            on_piece()
        if buf.endswith(b"\n"):
            assert buf.endswith(b"]\n"), buf[-200:]
            return total, rows + 1


def server_rss_kib(server):
    with open("/proc/%d/status" % server.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def test_large_result_streams_in_bounded_memory(make_server):
    # One DuckDB thread keeps DuckDB's own buffers small, so what is
    # measured is the server's answer buffering.
    srv = make_server(args=["--duckdb-threads", "1", "--duckdb-memory-limit", "256MB"])
    c = connected(srv)
    q = "SELECT i, i * 2 AS j, 'row ' || i AS s FROM range(%d) t(i)"
    c.send_raw((q % 200000).encode() + b"\n")
    _, rows = read_result(c)
    assert rows == 200000  # warm-up: DuckDB's and the allocator's steady state
    before = server_rss_kib(srv)
    c.send_raw((q % 3000000).encode() + b"\n")
    peak = [before]
    total, rows = read_result(c, lambda: peak.append(max(peak.pop(), server_rss_kib(srv))))
    peak = peak[0]
    assert rows == 3000000
    assert total > 100 * 1024 * 1024  # ~130 MB of JSON went through
    # The answer is ~130 MB; the server grew by a small fraction of it.
    print("rss before %d KiB, peak %d KiB, %d bytes" % (before, peak, total))
    assert peak - before < 64 * 1024, (before, peak)
    assert c.req("SELECT 1 AS ok") == '[{"ok":1}]'


def test_client_disconnect_mid_result_stops_query(server):
    c = connected(server)
    c.send_raw(b"SELECT i, 'padding padding padding' AS p FROM range(1000000000) t(i)\n")
    assert c.rfile.read(1 << 16).startswith(b"[")
    c.close()
    # The worker is freed: with the default 4 workers, 8 clients all get answers.
    clients = [connected(server) for _ in range(8)]
    for k in clients:
        assert k.req("SELECT 1 AS ok") == '[{"ok":1}]'


def test_slow_query_does_not_stall_others(server):
    slow = connected(server)
    slow.send_raw(b"SELECT count(*) FROM range(3000000000)\n")
    time.sleep(0.2)
    fast = connected(server)
    t0 = time.time()
    assert fast.req("SELECT 1 AS ok") == '[{"ok":1}]'
    assert time.time() - t0 < 5  # not a performance assertion: the slow one takes far longer
    assert slow.line().startswith("[")


def test_clients_that_never_read_do_not_hold_workers(server):
    """Pipelined requests whose answers are never read must not stall other clients."""
    flooders = []
    stop = threading.Event()

    def flood():
        s = socket.create_connection(("127.0.0.1", server.port))
        flooders.append(s)
        s.settimeout(1)
        chunk = b"x\n" * 50000
        try:
            while not stop.is_set():
                s.sendall(chunk)
        except OSError:
            pass  # the socket buffers filled up: the server stopped reading us

    threads = [threading.Thread(target=flood) for _ in range(6)]  # more than QueryWorkers
    for t in threads:
        t.start()
    try:
        c = Client(server.port, timeout=30)
        assert c.req("login duck duck") == "success"
        assert c.req("create database d") == "success"
    finally:
        stop.set()
        for t in threads:
            t.join()
        for s in flooders:
            s.close()


def test_max_connections(make_server):
    srv = make_server(args=["--max-connections", "3", "--superuser-reserved-connections", "0"])
    keep = [srv.client() for _ in range(3)]
    for k in keep:
        assert k.req("login duck duck") == "success"
    extra = Client(srv.port)
    assert extra.line() == "Error: Too Many Connections"
    assert extra.closed()
    keep[0].close()
    assert wait_for(lambda: _can_login(srv))


def _can_login(srv):
    try:
        with Client(srv.port) as c:
            return c.req("login duck duck") == "success"
    except (ConnectionError, OSError):
        return False


def stalled_reader(port):
    """A client that pipelines `SELECT 1` without reading any answer, until the server stops
    reading its requests because the answers are not taken (the session waits to write)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"login duck duck\n")
    s.setblocking(False)
    chunk, stuck_since = b"SELECT 1\n" * 10000, None
    while stuck_since is None or time.monotonic() - stuck_since < 1.0:
        try:
            s.send(chunk)
            stuck_since = None
        except BlockingIOError:  # the server reads no more
            stuck_since = stuck_since or time.monotonic()
            time.sleep(0.05)
    return s


def active_sessions(c):
    return json.loads(c.req("stats"))["sessions"]["active"]


def test_client_that_reads_no_answers_is_closed_by_idle_timeout(make_server):
    srv = make_server(args=["--idle-timeout", "2"])
    stalled = stalled_reader(srv.port)
    try:
        with srv.admin() as c:
            assert active_sessions(c) == 2
            # The admin keeps its own session alive by asking.
            assert wait_for(lambda: active_sessions(c) == 1, timeout=20)
    finally:
        stalled.close()


def test_client_that_reads_no_answers_does_not_hold_up_shutdown(make_server):
    srv = make_server()
    stalled = stalled_reader(srv.port)
    try:
        with srv.admin() as c:
            assert active_sessions(c) == 2
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        rc = srv.proc.wait(30)  # it used to wait for that client for ever
        assert time.monotonic() - t0 < 20
        srv.check_clean(rc)
        srv.start()
    finally:
        stalled.close()


def test_idle_timeout(make_server):
    srv = make_server(args=["--idle-timeout", "1"])
    c = srv.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("CREATE TABLE t (i INTEGER)") == "success"
    assert c.req("start transaction") == "success"
    assert c.req("INSERT INTO t VALUES (1)") == "1"
    assert c.line() == "Error: Idle Timeout"
    assert c.closed()
    d = srv.admin()
    assert d.req("connect d") == "success"
    assert d.req("SELECT count(*) AS n FROM t") == '[{"n":0}]'
