"""Login limits (docs/security.md, "Login limits"): the login deadline, the request limit before
login, the super user's reserved slots, the per-address cap, failed-login throttling, and
blanks around command words. Every test runs against the real server."""
import re
import resource
import socket
import time

from conftest import Client, wait_for

THROTTLED = re.compile(r"^Error: Too Many Failed Logins: try again in [1-9][0-9]* s$")


class SourceClient(Client):
    """A Client whose connection comes from another loopback address (e.g. 127.0.0.2)."""

    def __init__(self, port, source, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0))
        self.rfile = self.sock.makefile("rb")


def read_until_closed(sock, deadline):
    """Everything the server sends until it closes the connection (or the deadline)."""
    data = b""
    sock.settimeout(0.5)
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def vm_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(key + " not in /proc status")


def raise_file_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- blanks ----------------------------------------------------------------------------------

def test_trailing_blanks_are_the_same_words(server):
    for text in (b"login duck duck \n", b"login duck duck\t \r\n", b"  login  duck duck  \n"):
        with Client(server.port) as c:
            c.send_raw(text)
            assert c.line() == "success", text
            assert c.req("help ").startswith("[")


# ---- login deadline ----------------------------------------------------------------------------

def test_trickling_client_is_closed_at_the_login_deadline(make_server):
    # Line framing (drop-in off): the bytes are one unfinished request. test_dropin.py checks
    # the same deadline for a silence-framed client.
    srv = make_server(args=["--login-timeout", "2", "--drop-in-silence-ms", "0"])
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    start, data = time.time(), b""
    s.settimeout(0.2)
    # One byte of a login that never ends, every 0.5 s: bytes do not extend the deadline.
    for ch in b"login duck duck" * 4:
        try:
            s.send(bytes([ch]))
            chunk = s.recv(4096)
        except socket.timeout:
            time.sleep(0.3)
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        data += chunk
        if not chunk:
            break
    data += read_until_closed(s, time.time() + 10)
    s.close()
    assert data == b"Error: Login Timeout\n"
    assert time.time() - start < 25  # closed long before the bytes ran out (30 s)


def test_logged_in_client_is_not_closed_at_the_login_deadline(make_server):
    srv = make_server(args=["--login-timeout", "1"])
    with srv.admin() as c:
        time.sleep(3)
        assert c.req("list databases") == "[]"


def test_trickling_logged_in_client_is_idle(make_server):
    """IdleTimeout runs from the last request, not the last byte."""
    srv = make_server(args=["--idle-timeout", "2"])
    with srv.admin() as c:
        c.sock.settimeout(0.2)
        data = b""
        for ch in b"SELECT 1" * 4:
            try:
                c.sock.send(bytes([ch]))
                chunk = c.sock.recv(4096)
            except socket.timeout:
                time.sleep(0.3)
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            data += chunk
            if not chunk:
                break
        data += read_until_closed(c.sock, time.time() + 10)
        assert data == b"Error: Idle Timeout\n"


# ---- request size before login -----------------------------------------------------------------

def test_large_request_before_login_closes(server):
    with Client(server.port) as c:
        c.send_raw(b"x" * 8192)
        assert c.line() == "Error: Request Too Large: the limit is 4096 bytes"
        assert c.closed()
    # After login the limit is MaxRequestBytes.
    with server.admin() as c:
        assert c.req("create database big") == "success"
        assert c.req("connect big") == "success"
        assert c.req("SELECT length('%s') AS n" % ("y" * 100000)) == '[{"n":100000}]'


def test_memory_stays_bounded_with_200_unauthenticated_senders(make_server):
    srv = make_server(args=["--max-connections-per-address", "0"])
    pid = srv.proc.pid
    with srv.admin() as c:  # a first login: the catalog and its caches are warm
        assert c.req("list users").startswith("[")
    before = vm_kib(pid, "VmHWM")
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=30) for _ in range(200)]
    for s in socks:
        s.setblocking(False)
    left = {s: 1 << 20 for s in socks}
    chunk = b"z" * 65536
    deadline = time.time() + 60
    while left and time.time() < deadline:
        progress = False
        for s in list(left):
            try:
                n = s.send(chunk[:left[s]])
            except BlockingIOError:
                continue
            except OSError:  # closed by the server: the expected end
                del left[s]
                continue
            progress = True
            left[s] -= n
            if left[s] == 0:
                del left[s]
        if not progress:
            time.sleep(0.05)
    after = vm_kib(pid, "VmHWM")
    for s in socks:
        s.close()
    # 200 x 1 MiB buffered would be 200 MiB; a client that has not logged in keeps a few KiB.
    assert after - before < 64 * 1024, (before, after)
    with srv.admin() as c:
        assert c.req("list users").startswith("[")


# ---- slots -------------------------------------------------------------------------------------

def test_silent_sockets_do_not_stop_the_super_user(make_server):
    limit = raise_file_limit(4096)
    n = min(2000, limit - 200)
    srv = make_server(args=["--max-connections", "100", "--max-connections-per-address", "0"])
    silent = []
    try:
        for _ in range(n):
            try:
                silent.append(socket.create_connection(("127.0.0.1", srv.port), timeout=10))
            except OSError:
                pass
        assert len(silent) >= n // 2
        # The newest connection makes room by closing the oldest one that has not logged in.
        for _ in range(3):
            with srv.client(login=("duck", "duck")) as c:
                assert c.req("list databases") == "[]"
        with srv.admin() as c:
            assert c.req("create user bob secret1") == "success"
        with srv.client(login=("bob", "secret1")) as c:
            assert c.req("list databases") == "[]"
    finally:
        for s in silent:
            s.close()


def test_reserved_slots(make_server):
    srv = make_server(args=["--max-connections", "6", "--superuser-reserved-connections", "2",
                            "--max-connections-per-address", "0"])
    admin = srv.admin()  # 1 logged in
    assert admin.req("create user bob secret1") == "success"
    bobs = [srv.client(login=("bob", "secret1")) for _ in range(3)]  # 4 logged in = 6 - 2
    refused = srv.client()
    assert refused.req("login bob secret1") == "Error: Too Many Connections"
    assert refused.closed()
    supers = [srv.admin() for _ in range(2)]  # the reserved slots: 6 logged in
    extra = Client(srv.port)
    assert extra.line() == "Error: Too Many Connections"
    assert extra.closed()
    bobs[0].close()
    # A slot is free again, but only a reserved one for bob's count: 5 logged in, 6 - 2 = 4.
    assert wait_for(lambda: _login_answer(srv, "bob", "secret1") == "Error: Too Many Connections")
    supers[0].close()
    supers[1].close()
    assert wait_for(lambda: _login_answer(srv, "bob", "secret1") == "success")
    for c in bobs[1:] + [admin]:
        c.close()


def _login_answer(srv, user, password):
    try:
        with Client(srv.port) as c:
            return c.req("login %s %s" % (user, password))
    except (ConnectionError, OSError):
        return None


def test_per_address_cap(make_server):
    srv = make_server(args=["--max-connections-per-address", "5"])
    held = [Client(srv.port) for _ in range(5)]
    assert held[0].req("help").startswith("[")  # accepted and served
    extra = Client(srv.port)
    assert extra.line() == "Error: Too Many Connections: at most 5 from one address"
    assert extra.closed()
    with SourceClient(srv.port, "127.0.0.2") as other:
        assert other.req("login duck duck") == "success"
    held[0].close()
    assert wait_for(lambda: _login_answer(srv, "duck", "duck") == "success")
    for c in held[1:]:
        c.close()


# ---- failed-login throttling -------------------------------------------------------------------

def test_failed_logins_are_throttled(server):
    with Client(server.port) as c:
        c.send_raw(b"login duck wrong\n" * 200)
        answers = [c.line() for _ in range(200)]
        assert answers[:5] == ["Error: Unauthorized"] * 5
        assert all(THROTTLED.match(a) for a in answers[5:]), set(answers[5:])
        # The right password from the same address is refused too, without being checked.
        assert THROTTLED.match(c.req("login duck duck"))
    # Another address is not throttled, and the user not yet (5 < 4 x 5 failures).
    with SourceClient(server.port, "127.0.0.2") as other:
        assert other.req("login duck duck") == "success"
    with Client(server.port) as c:
        assert THROTTLED.match(c.req("login duck duck"))
    # One summary line for the failures and refusals, not one per attempt.
    lines = [l for l in server.log if "failed login" in l]
    assert 1 <= len(lines) <= 2, lines


def test_throttle_ends_and_doubles(make_server):
    srv = make_server()
    with SourceClient(srv.port, "127.0.0.3") as c:
        for _ in range(5):
            assert c.req("login duck wrong") == "Error: Unauthorized"
        assert c.req("login duck duck") == "Error: Too Many Failed Logins: try again in 1 s"
        assert wait_for(lambda: c.req("login duck wrong") == "Error: Unauthorized", timeout=5)
        # Every further failure blocks again, twice as long.
        assert c.req("login duck duck") == "Error: Too Many Failed Logins: try again in 2 s"
        assert wait_for(lambda: c.req("login duck duck") == "success", timeout=6)
    # The success forgot the failures of the address.
    with SourceClient(srv.port, "127.0.0.3") as c:
        assert c.req("login duck wrong") == "Error: Unauthorized"
        assert c.req("login duck duck") == "success"
