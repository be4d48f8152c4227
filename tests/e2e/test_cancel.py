"""
Cancel requests (docs/protocol.md, "Cancel"): a session reads its id and key with `session key`;
`cancel ID KEY` on a new connection, before any login, interrupts the statement that session
runs. The answer is `success` and the connection is closed, whether or not the key matched or
anything ran; a wrong key cancels nothing; a cancel that finds the session idle does not touch its
next statement; wrong keys count as failed logins of the address; it works under TLS.

Timings are generous (the machine may be loaded): a cancelled statement must answer within
LATE seconds, far above the ~0.1 s it takes, and far below the minutes the query would run.
"""
import json
import re
import socket
import threading
import time

from conftest import Client, wait_for
from test_tls import TlsClient, client_context, tls_args

CANCELED = "Error: Canceled: canceling statement due to user request"
LONG = "SELECT count(*) FROM range(10000000000)"
LATE = 15
KEY = re.compile(r'^\{"session":[1-9][0-9]*,"key":"[0-9a-f]{32}"\}$')


class SourceClient(Client):
    """A Client from another loopback address (e.g. 127.0.0.2): its own throttle entry."""

    def __init__(self, port, source, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0))
        self.rfile = self.sock.makefile("rb")


def session_key(c):
    text = c.req("session key")
    assert KEY.match(text), text
    k = json.loads(text)
    return k["session"], k["key"]


def connected(server, db="t"):
    c = server.admin()
    r = c.req("create database %s" % db)
    assert r in ("success", "Error: Database %s Already Exists" % db)
    assert c.req("connect %s" % db) == "success"
    return c


def send_cancel(port, sid, key, make=None):
    """Sends one cancel request on a new connection; returns its answer and whether it closed."""
    c = make() if make else Client(port)
    with c:
        answer = c.req("cancel %s %s" % (sid, key))
        return answer, c.closed()


def start(c, sql):
    """Sends sql without waiting for its answer."""
    c.send_raw(sql.encode() + b"\n")


def wait_running(server, before):
    """Waits until the server has taken up more statements than `before` (by its stats), then
    a little longer: a cancel that comes before the statement starts rightly does nothing."""
    with server.admin() as a:
        def running():
            return json.loads(a.req("stats"))["statements"]["misses"] > before
        assert wait_for(running, timeout=LATE)
    time.sleep(0.5)


def misses(server):
    with server.admin() as a:
        return json.loads(a.req("stats"))["statements"]["misses"]


def test_cancel_interrupts_the_running_statement(server):
    c = connected(server)
    sid, key = session_key(c)
    before = misses(server)
    start(c, LONG)
    wait_running(server, before)
    t0 = time.time()
    assert send_cancel(server.port, sid, key) == ("success", True)
    c.sock.settimeout(LATE)
    assert c.line() == CANCELED
    assert time.time() - t0 < LATE
    # The session goes on, with the same key.
    assert c.req("SELECT 42 AS x") == '[{"x":42}]'
    assert session_key(c) == (sid, key)
    with server.admin() as a:
        assert json.loads(a.req("stats"))["statements"]["interrupted"] >= 1
    assert any("a cancel request for its session" in l for l in server.log)


def test_cancel_twice_and_again_later(server):
    """Each cancel ends the statement running at that time, also a second one in the session."""
    c = connected(server)
    sid, key = session_key(c)
    for _ in range(2):
        before = misses(server)
        start(c, LONG + " WHERE range % 7 = 3")
        wait_running(server, before)
        assert send_cancel(server.port, sid, key)[0] == "success"
        assert send_cancel(server.port, sid, key)[0] == "success"
        c.sock.settimeout(LATE)
        assert c.line() == CANCELED
        assert c.req("SELECT 1 AS one") == '[{"one":1}]'


def test_wrong_key_or_id_cancels_nothing(server):
    c = connected(server)
    sid, key = session_key(c)
    other = connected(server)
    other_sid, other_key = session_key(other)
    assert other_sid != sid and other_key != key
    wrong = ("0" if key[0] != "0" else "1") + key[1:]
    c.send_raw(b"SELECT sleep_ms(3000) AS s\n")
    time.sleep(0.5)
    # The same answer, and the connection closed, as for the right key.
    assert send_cancel(server.port, sid, wrong) == ("success", True)
    assert send_cancel(server.port, sid + 1000, key) == ("success", True)
    assert send_cancel(server.port, other_sid, key) == ("success", True)
    assert send_cancel(server.port, sid, key.upper()[:31] + "g")[0].startswith(
        "Error: Bad Request: usage: cancel ID KEY")
    c.sock.settimeout(LATE)
    assert c.line() == '[{"s":null}]'


def test_cancel_when_idle_does_not_cancel_the_next_statement(server):
    c = connected(server)
    sid, key = session_key(c)
    assert send_cancel(server.port, sid, key) == ("success", True)
    time.sleep(0.3)  # several watchdog ticks: nothing may be left pending
    assert c.req("SELECT sleep_ms(500) AS s") == '[{"s":null}]'
    assert c.req("SELECT count(*) AS n FROM range(1000)") == '[{"n":1000}]'
    # Also between requests of a pipeline that has finished.
    assert c.req("SELECT 2 AS two") == '[{"two":2}]'


def test_cancel_in_an_explicit_transaction_aborts_it(server):
    c = connected(server)
    sid, key = session_key(c)
    assert c.req("CREATE TABLE k(i INTEGER)") == "success"
    assert c.req("begin") == "success"
    assert c.req("INSERT INTO k VALUES (1)") == "1"
    before = misses(server)
    start(c, LONG)
    wait_running(server, before)
    assert send_cancel(server.port, sid, key)[0] == "success"
    c.sock.settimeout(LATE)
    assert c.line() == CANCELED
    assert c.req("commit").startswith("Error: Transaction Aborted")
    assert c.req("SELECT count(*) AS n FROM k") == '[{"n":0}]'


def test_cancel_of_a_typed_request_and_of_a_multi_statement_request(server):
    c = connected(server)
    sid, key = session_key(c)
    assert c.req("CREATE TABLE m(i INTEGER)") == "success"
    before = misses(server)
    start(c, "INSERT INTO m VALUES (1); " + LONG)
    wait_running(server, before)
    assert send_cancel(server.port, sid, key)[0] == "success"
    c.sock.settimeout(LATE)
    assert c.line() == CANCELED
    # The implicit transaction of the request was rolled back.
    assert c.req("SELECT count(*) AS n FROM m") == '[{"n":0}]'
    before = misses(server)
    start(c, 'query {"sql": "%s"}' % LONG)
    wait_running(server, before)
    assert send_cancel(server.port, sid, key)[0] == "success"
    assert c.line() == CANCELED


def test_session_key_is_per_session_and_needs_a_login(server):
    with Client(server.port) as guest:
        assert guest.req("session key") == "Error: Unauthorized"
    a, b = server.admin(), server.admin()
    ka, kb = session_key(a), session_key(b)
    assert ka[0] != kb[0] and ka[1] != kb[1]
    # A logged-in connection cannot send a cancel request; it stays open.
    assert a.req("cancel %d %s" % kb).startswith("Error: Bad Request: already logged in")
    assert a.req("session key") == '{"session":%d,"key":"%s"}' % ka
    # Word counts: the usage, the connection stays open.
    with Client(server.port) as g:
        assert g.req("cancel 1") == "Error: Bad Request: usage: cancel ID KEY"
        assert g.req("help").startswith("[")


def test_key_dies_with_its_session(server):
    c = connected(server)
    sid, key = session_key(c)
    assert c.req("quit") == "success"
    c.close()
    # A new session never gets an old id.
    d = connected(server)
    assert session_key(d)[0] > sid


def test_wrong_cancels_are_throttled_like_failed_logins(make_server):
    srv = make_server(env={"LoginFailureLimit": "3"})
    c = connected(srv)
    sid, key = session_key(c)
    wrong = ("0" if key[0] != "0" else "1") + key[1:]
    for _ in range(3):
        assert send_cancel(srv.port, sid, wrong,
                           lambda: SourceClient(srv.port, "127.0.0.5")) == ("success", True)
    with SourceClient(srv.port, "127.0.0.5") as g:
        assert g.req("login duck duck").startswith("Error: Too Many Failed Logins")
    # While the address is blocked even the right key is not checked (same answer).
    c.send_raw(b"SELECT sleep_ms(1500) AS s\n")
    time.sleep(0.3)
    assert send_cancel(srv.port, sid, key,
                       lambda: SourceClient(srv.port, "127.0.0.5")) == ("success", True)
    c.sock.settimeout(LATE)
    assert c.line() == '[{"s":null}]'
    # Another address is not blocked.
    before = misses(srv)
    start(c, LONG)
    wait_running(srv, before)
    assert send_cancel(srv.port, sid, key,
                       lambda: SourceClient(srv.port, "127.0.0.6")) == ("success", True)
    assert c.line() == CANCELED


def test_cancel_fits_the_login_request_limit(make_server):
    srv = make_server(env={"MaxLoginRequestBytes": "2200"})
    c = connected(srv)
    sid, key = session_key(c)
    before = misses(srv)
    start(c, LONG)
    wait_running(srv, before)
    assert send_cancel(srv.port, sid, key) == ("success", True)
    c.sock.settimeout(LATE)
    assert c.line() == CANCELED


def test_cancel_under_tls(make_server, tls_certs):
    for mode in ("optional", "required"):
        # The second server reuses the data directory of the first.
        srv = make_server(args=tls_args(tls_certs, mode))
        ctx = client_context(tls_certs)
        c = TlsClient(srv.port, ctx)
        assert c.req("login duck duck") == "success"
        assert c.req("create database t%s" % mode) == "success"
        assert c.req("connect t%s" % mode) == "success"
        sid, key = session_key(c)
        c.send_raw(LONG.encode() + b"\n")
        time.sleep(1.0)
        t0 = time.time()
        assert send_cancel(srv.port, sid, key, lambda: TlsClient(srv.port, ctx)) == \
            ("success", True)
        c.sock.settimeout(LATE)
        assert c.line() == CANCELED
        assert time.time() - t0 < LATE
        assert c.req("SELECT 7 AS s") == '[{"s":7}]'
        if mode == "optional":
            # A plain cancel connection cancels a TLS session too: the key is what counts.
            c.send_raw(LONG.encode() + b"\n")
            time.sleep(1.0)
            assert send_cancel(srv.port, sid, key) == ("success", True)
            assert c.line() == CANCELED
        c.close()


def test_cancel_from_many_threads_while_sessions_end(server):
    """Cancels racing with sessions that end: nothing crashes or leaks (ASan/TSan builds)."""
    keys = []
    for _ in range(4):
        c = connected(server)
        keys.append((c, session_key(c)))
    stop = threading.Event()

    def canceller():
        while not stop.is_set():
            for _, (sid, key) in keys:
                try:
                    send_cancel(server.port, sid, key)
                except OSError:
                    pass

    t = threading.Thread(target=canceller)
    t.start()
    try:
        for c, _ in keys:
            c.send_raw(b"SELECT count(*) FROM range(100000000)\n")
        for c, _ in keys:
            c.sock.settimeout(LATE * 4)
            line = c.line()
            assert line in (CANCELED, '[{"count_star()":100000000}]'), line
            c.req("quit")
            c.close()
    finally:
        stop.set()
        t.join()
