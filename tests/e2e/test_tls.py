"""
TLS (docs/protocol.md, "TLS"): `starttls` as the first request, the three TLSMode values,
refusals at start-up, and that a misbehaving TLS client harms no one else, with Python's ssl
module as the client; then the shell tcp-duckdb-cli (and through it libtcpduckdb) with each
sslmode against each server mode. Certificates come from tests/tls/make-certs.sh.
"""
import json
import os
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import ROOT, SANITIZER_MARKS, Client, run_bin, run_parallel, wait_for

NOT_ENABLED = "Error: TLS is not enabled on this server"
NOT_FIRST = "Error: Bad Request: starttls must be the first request"
REQUIRED = ("Error: TLS required: this server accepts only encrypted connections "
            "(send starttls first)")


def tls_args(certs, mode, cert="server", extra=()):
    return ["--tls-mode", mode, "--tls-cert-file", os.path.join(certs, cert + ".crt"),
            "--tls-key-file", os.path.join(certs, cert + ".key")] + list(extra)


def read_line_raw(sock):
    """Reads one line byte by byte, so that nothing after it is consumed."""
    data = b""
    while not data.endswith(b"\n"):
        b = sock.recv(1)
        if not b:
            raise ConnectionError("closed after %r" % data)
        data += b
    return data[:-1].decode()


def client_context(certs, verify=True, cert=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(os.path.join(certs, "ca.crt"))
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(os.path.join(certs, cert + ".crt"), os.path.join(certs, cert + ".key"))
    if max_version:
        ctx.maximum_version = max_version
    return ctx


class TlsClient(Client):
    """A Client whose connection is upgraded with starttls before the first request."""

    def __init__(self, port, ctx, hostname="localhost", starttls=b"starttls\n"):
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            raw.sendall(starttls)
            answer = read_line_raw(raw)
            assert answer == "success", answer
            self.sock = ctx.wrap_socket(raw, server_hostname=hostname)
        except BaseException:
            raw.close()
            raise
        self.rfile = self.sock.makefile("rb")


def use_db(c, name="t"):
    assert c.req("login duck duck") == "success"
    r = c.req("create database %s" % name)
    assert r in ("success", "Error: Database %s Already Exists" % name)
    assert c.req("connect %s" % name) == "success"


def test_certificate_and_key_in_one_file(make_server, tls_certs, data_dir):
    pem = os.path.join(data_dir, "server.pem")
    with open(pem, "wb") as out:
        for name in ("server.crt", "server.key"):
            with open(os.path.join(tls_certs, name), "rb") as f:
                out.write(f.read())
    srv = make_server(env={"TLSMode": "required", "TLSCertFile": pem})
    with TlsClient(srv.port, client_context(tls_certs)) as c:
        assert c.req("login duck duck") == "success"


def test_off_answers_not_enabled_and_stays_plain(server):
    with server.client() as c:
        assert c.req("starttls") == NOT_ENABLED
        assert c.req("login duck duck") == "success"
        assert c.req("starttls") == NOT_FIRST


@pytest.mark.parametrize("mode", ["optional", "required"])
def test_tls_session_works(make_server, tls_certs, mode):
    srv = make_server(args=tls_args(tls_certs, mode))
    with TlsClient(srv.port, client_context(tls_certs)) as c:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        use_db(c)
        assert c.req("SELECT 42 AS x") == '[{"x":42}]'
        assert c.req("starttls") == NOT_FIRST  # inside TLS: still not the first request
        assert c.req("SELECT 'still here' AS s") == '[{"s":"still here"}]'


def test_stats_counts_tls_sessions(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "optional"))

    def sessions(c):
        return json.loads(c.req("stats"))["sessions"]

    with srv.admin() as plain:
        assert sessions(plain) == {"active": 1, "tls": 0}
        stalled = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        stalled.sendall(b"starttls\n")
        assert read_line_raw(stalled) == "success"  # handshaking: not counted yet
        with TlsClient(srv.port, client_context(tls_certs)) as tls:
            assert tls.req("login duck duck") == "success"
            assert sessions(tls) == {"active": 3, "tls": 1}
            assert sessions(plain) == {"active": 3, "tls": 1}
        stalled.close()
        assert wait_for(lambda: sessions(plain) == {"active": 1, "tls": 0})


def test_optional_still_serves_plain_clients(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "optional"))
    with srv.client() as c:
        use_db(c)
        assert c.req("SELECT 1 AS one") == '[{"one":1}]'
        assert c.req("starttls") == NOT_FIRST


def test_required_refuses_plain_client_with_one_line(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "required"))
    with srv.client() as c:
        c.send_raw(b"login duck duck\n")
        assert c.line() == REQUIRED
        assert c.rfile.read() == b""  # closed, and nothing else was said
    with srv.client() as c:  # a malformed first request is refused the same way
        c.send_raw(b"@abc\n")
        assert c.line() == REQUIRED
        assert c.rfile.read() == b""


def test_starttls_is_case_insensitive_and_takes_crlf(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "required"))
    with TlsClient(srv.port, client_context(tls_certs), starttls=b"StartTLS\r\n") as c:
        assert c.req("login duck duck") == "success"


def test_plaintext_pipelined_after_starttls_is_not_executed(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "optional"))
    with srv.admin() as admin:
        assert admin.req("create database pipelined") == "success"
    # Pipelined plain text after starttls: closed without a single byte of answer.
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(b"starttls\nlogin duck duck\ncreate user mallory pw123\n")
        assert s.recv(100) == b""
    with srv.admin() as admin:
        assert admin.req("update user password mallory x") == "Error: User mallory Does Not Exist"
        assert admin.req("create user mallory pw123") == "success"


def test_verifying_client_refuses_wrong_host(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "optional", cert="wronghost"))
    with pytest.raises(ssl.SSLCertVerificationError) as e:
        TlsClient(srv.port, client_context(tls_certs), hostname="localhost")
    assert "Hostname mismatch" in str(e.value)
    # The same certificate is accepted when the name is not checked.
    with TlsClient(srv.port, client_context(tls_certs, verify=False)) as c:
        assert c.req("login duck duck") == "success"


def test_verifying_client_refuses_expired_certificate(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "optional", cert="expired"))
    assert wait_for(lambda: "has expired" in srv.stderr())  # start-up warns about it
    with pytest.raises(ssl.SSLCertVerificationError) as e:
        TlsClient(srv.port, client_context(tls_certs))
    assert "certificate has expired" in str(e.value)
    with srv.client() as c:
        assert c.req("login duck duck") == "success"


def read_result(c):
    """Reads one answer line, however long, as bytes."""
    raw = c.rfile.readline()
    assert raw.endswith(b"\n")
    return raw


def test_large_result_over_tls_equals_plaintext(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "optional"))
    sql = ("SELECT i, 'row ' || i AS s, i * 0.5 AS h FROM range(200000) t(i) ORDER BY i\n")
    with srv.client() as plain:
        use_db(plain)
        plain.send_raw(sql.encode())
        expected = read_result(plain)
    with TlsClient(srv.port, client_context(tls_certs)) as c:
        use_db(c)
        c.send_raw(sql.encode())
        got = read_result(c)
    assert len(expected) > 5_000_000
    assert got == expected


def test_garbage_or_stall_instead_of_handshake_disturbs_no_one(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "optional"))
    garbage = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    stalled = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    half = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    trickle = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64
    stop = threading.Event()

    def trickle_bytes():  # a byte a second: progress must not extend the deadline
        for b in hello:
            if stop.wait(1.0):
                return
            try:
                trickle.sendall(bytes([b]))
            except OSError:
                return

    try:
        for s in (garbage, stalled, half, trickle):
            s.sendall(b"starttls\n")
            assert read_line_raw(s) == "success"
        started = time.monotonic()
        threading.Thread(target=trickle_bytes, daemon=True).start()
        half.sendall(hello[:11])  # a ClientHello's start
        garbage.sendall(b"GET / HTTP/1.0\r\n\r\n" * 100)
        # Others are served meanwhile, in plain and in TLS.
        with srv.client() as plain, TlsClient(srv.port, client_context(tls_certs)) as tls:
            use_db(plain, "busy")
            use_db(tls, "busy")
            for i in range(20):
                assert plain.req("SELECT %d AS i" % i) == '[{"i":%d}]' % i
                assert tls.req("SELECT %d AS i" % i) == '[{"i":%d}]' % i
        # The garbage sender gets a TLS alert at most, and is closed (a reset, as the
        # server closes with garbage unread).
        garbage.settimeout(30)
        data = b""
        try:
            while True:
                b = garbage.recv(4096)
                if not b:
                    break
                data += b
        except ConnectionResetError:
            pass
        assert b"Error" not in data and b"[" not in data
        # The stalled handshakes are closed by the deadline (10 s), the trickling one
        # too, long before its 75 bytes would be sent.
        for s in (stalled, half, trickle):
            s.settimeout(60)
            try:
                assert s.recv(4096) == b""
            except ConnectionResetError:
                # Closed too: a byte of the trickle that reached the socket after the
                # server's last read turns its close into a reset.
                assert s is trickle
        assert time.monotonic() - started < 40
    finally:
        stop.set()
        for s in (garbage, stalled, half, trickle):
            s.close()
    assert wait_for(lambda: "TLS handshake timed out" in srv.stderr())
    assert "TLS handshake failed" in srv.stderr()


def test_min_version_13_refuses_a_tls12_client(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "required", extra=["--tls-min-version", "1.3"]))
    with pytest.raises(ssl.SSLError):
        TlsClient(srv.port, client_context(tls_certs, max_version=ssl.TLSVersion.TLSv1_2))
    with TlsClient(srv.port, client_context(tls_certs)) as c:
        assert c.sock.version() == "TLSv1.3"
        assert c.req("login duck duck") == "success"


def test_default_min_version_accepts_tls12(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "required"))
    with TlsClient(srv.port,
                   client_context(tls_certs, max_version=ssl.TLSVersion.TLSv1_2)) as c:
        assert c.sock.version() == "TLSv1.2"
        assert c.req("login duck duck") == "success"


def test_client_certificate_is_verified_when_ca_file_is_set(make_server, tls_certs):
    ca = os.path.join(tls_certs, "ca.crt")
    srv = make_server(args=tls_args(tls_certs, "required", extra=["--tls-ca-file", ca,
                                                                  "--log-level", "debug"]))
    with TlsClient(srv.port, client_context(tls_certs, cert="client")) as c:
        assert c.req("login duck duck") == "success"
    assert wait_for(lambda: "client certificate CN=alice" in srv.stderr())
    with TlsClient(srv.port, client_context(tls_certs)) as c:  # a certificate is optional
        assert c.req("login duck duck") == "success"


def test_client_certificate_from_another_ca_is_refused(make_server, tls_certs):
    # The server's own certificate is signed by ca.crt, not other-ca.crt: presented as a
    # client certificate to a server that trusts only other-ca, it must fail verification.
    other = os.path.join(tls_certs, "other-ca.crt")
    srv = make_server(args=tls_args(tls_certs, "required", extra=["--tls-ca-file", other]))
    with pytest.raises((ssl.SSLError, ConnectionError)):
        with TlsClient(srv.port, client_context(tls_certs, cert="client")) as c:
            c.req("login duck duck")  # TLS 1.3 reports the refusal on the first read
    assert wait_for(lambda: "TLS handshake failed" in srv.stderr())


def _mismatched_key(d):
    args = tls_args(d, "optional")
    args[args.index("--tls-key-file") + 1] = os.path.join(d, "client.key")
    return args


@pytest.mark.parametrize("make_args,needle", [
    (lambda d: ["--tls-mode", "required"], "TLSMode=required needs a certificate and its key"),
    (lambda d: ["--tls-mode", "optional", "--tls-cert-file", os.path.join(d, "server.crt")],
     "TLSKeyFile {d}/server.crt is not a usable PEM private key"),
    (lambda d: ["--tls-mode", "optional", "--tls-cert-file", "/nonexistent/server.crt",
                "--tls-key-file", "/nonexistent/server.key"],
     "cannot read TLSCertFile /nonexistent/server.crt"),
    (lambda d: ["--tls-mode", "required", "--tls-cert-file", os.path.join(d, "bad.pem"),
                "--tls-key-file", os.path.join(d, "server.key")],
     "TLSCertFile {d}/bad.pem is not a usable PEM certificate"),
    (_mismatched_key, "TLSKeyFile {d}/client.key is not the key of the certificate"),
    (lambda d: ["--tls-mode", "on"], "TLSMode (from command line) must be off, optional or required"),
    (lambda d: ["--tls-min-version", "1.1"], "TLSMinVersion (from command line) must be 1.2 or 1.3"),
])
def test_startup_refuses_unusable_tls_settings(tls_certs, data_dir, make_args, needle):
    rc, _, err = run_bin(["--port", "0", "--data-dir", data_dir] + make_args(tls_certs))
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert needle.format(d=tls_certs) in lines[0], err
    assert "PRIVATE KEY" not in err


def test_concurrent_tls_clients(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "required", extra=["--query-workers", "2"]))
    with TlsClient(srv.port, client_context(tls_certs)) as c:
        use_db(c, "conc")

    def work(n):
        with TlsClient(srv.port, client_context(tls_certs)) as c:
            use_db(c, "conc")
            for i in range(30):
                r = c.req("SELECT %d AS n, %d AS i" % (n, i))
                assert r == '[{"n":%d,"i":%d}]' % (n, i), r

    run_parallel(6, work)


# ---- the shell (and through it libtcpduckdb) ------------------------------------------------

CLI = os.environ.get("TCPDUCKDB_CLI", os.path.join(ROOT, "build", "asan", "tcp-duckdb-cli"))


def shell(port, *args, host="127.0.0.1", env=None):
    """Runs tcp-duckdb-cli as duck; returns (rc, stdout, stderr)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("TCPDUCKDB_")}
    e.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1:halt_on_error=1")
    e["TCPDUCKDB_PASSWORD"] = "duck"
    e.update(env or {})
    p = subprocess.run([CLI, "-h", host, "-p", str(port), "-U", "duck"] + list(args),
                       capture_output=True, env=e, timeout=300)
    out, err = p.stdout.decode(), p.stderr.decode()
    for mark in SANITIZER_MARKS:
        assert mark not in err, err
    return p.returncode, out, err


TLS_ON = "TLS connection (protocol: TLSv1."
PLAIN = "not encrypted (no TLS)"


def test_shell_against_tls_off(server, tls_certs):
    ca = os.path.join(tls_certs, "ca.crt")
    for mode, on in (("disable", PLAIN), ("prefer", PLAIN)):
        rc, out, err = shell(server.port, "--sslmode", mode, "-c", "\\conninfo")
        assert rc == 0, err
        assert on in out
    rc, out, err = shell(server.port, "-c", "\\conninfo")  # prefer is the default
    assert rc == 0 and PLAIN in out, err
    for mode in ("require", "verify-ca", "verify-full"):
        rc, out, err = shell(server.port, "--sslmode", mode, "--sslrootcert", ca, "-c", "stats")
        assert rc == 2
        assert err.strip() == ("Error: the server does not offer TLS (sslmode=%s): "
                               "TLS is not enabled on this server" % mode)
        assert out == ""


@pytest.mark.parametrize("mode", ["optional", "required"])
def test_shell_modes_against_tls_server(make_server, tls_certs, mode):
    srv = make_server(args=tls_args(tls_certs, mode))
    ca = os.path.join(tls_certs, "ca.crt")
    for sslmode in ("prefer", "require", "verify-ca"):
        rc, out, err = shell(srv.port, "--sslmode", sslmode, "--sslrootcert", ca, "-c",
                             "\\conninfo")
        assert rc == 0, err
        assert TLS_ON in out
    for host in ("localhost", "127.0.0.1"):  # verify-full checks a name or an IP address
        rc, out, err = shell(srv.port, "--sslmode", "verify-full", "--sslrootcert", ca, "-c",
                             "\\conninfo", host=host)
        assert rc == 0, err
        assert TLS_ON in out
    rc, out, err = shell(srv.port, "--sslmode", "disable", "-c", "\\conninfo")
    if mode == "optional":
        assert rc == 0 and PLAIN in out, err
    else:
        assert rc == 2
        assert REQUIRED[len("Error: "):] in err


def test_shell_environment_variables(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "required"))
    env = {"TCPDUCKDB_SSLMODE": "verify-full",
           "TCPDUCKDB_SSLROOTCERT": os.path.join(tls_certs, "ca.crt")}
    rc, out, err = shell(srv.port, "-c", "\\conninfo", host="localhost", env=env)
    assert rc == 0 and TLS_ON in out, err
    env["TCPDUCKDB_SSLROOTCERT"] = os.path.join(tls_certs, "other-ca.crt")
    rc, out, err = shell(srv.port, "-c", "\\conninfo", host="localhost", env=env)
    assert rc == 2
    assert "server certificate verification failed: unable to get local issuer" in err
    rc, out, err = shell(srv.port, "--sslmode", "nonsense", "-c", "\\conninfo")
    assert rc == 2 and 'bad sslmode "nonsense"' in err


@pytest.mark.parametrize("cert,reason", [("wronghost", "hostname mismatch"),
                                         ("expired", "certificate has expired")])
def test_shell_verify_full_refuses_bad_certificates(make_server, tls_certs, cert, reason):
    srv = make_server(args=tls_args(tls_certs, "required", cert=cert))
    ca = os.path.join(tls_certs, "ca.crt")
    rc, out, err = shell(srv.port, "--sslmode", "verify-full", "--sslrootcert", ca, "-c",
                         "stats", host="localhost")
    assert rc == 2
    assert err.strip() == "Error: server certificate verification failed: " + reason
    assert out == ""
    # Encryption without verification still connects (that is what require means).
    rc, out, err = shell(srv.port, "--sslmode", "require", "-c", "\\conninfo", host="localhost")
    assert rc == 0 and TLS_ON in out, err


def test_shell_verify_full_checks_ip_address(make_server, tls_certs):
    # wronghost.crt names only wrong.example: an IP address does not match either.
    srv = make_server(args=tls_args(tls_certs, "required", cert="wronghost"))
    rc, out, err = shell(srv.port, "--sslmode", "verify-full", "--sslrootcert",
                         os.path.join(tls_certs, "ca.crt"), "-c", "stats", host="127.0.0.1")
    assert rc == 2
    assert "server certificate verification failed: IP address mismatch" in err


def test_shell_client_certificate(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "required", extra=[
        "--tls-ca-file", os.path.join(tls_certs, "ca.crt"), "--log-level", "debug"]))
    rc, out, err = shell(srv.port, "--sslmode", "verify-full", "--sslrootcert",
                         os.path.join(tls_certs, "ca.crt"), "--sslcert",
                         os.path.join(tls_certs, "client.crt"), "--sslkey",
                         os.path.join(tls_certs, "client.key"), "-c", "\\conninfo",
                         host="localhost")
    assert rc == 0 and TLS_ON in out, err
    assert wait_for(lambda: "client certificate CN=alice" in srv.stderr())
    rc, out, err = shell(srv.port, "--sslmode", "require", "--sslcert",
                         os.path.join(tls_certs, "bad.pem"), "-c", "\\conninfo")
    assert rc == 2 and "sslcert %s/bad.pem is not a usable PEM certificate" % tls_certs in err


def test_shell_large_result_over_tls_equals_plaintext(make_server, tls_certs):
    srv = make_server(args=tls_args(tls_certs, "optional"))
    rc, _, err = shell(srv.port, "--sslmode", "disable", "-c", "create database big")
    assert rc == 0, err
    sql = "SELECT i, 'row ' || i AS s, i / 7 AS d FROM range(200000) t(i) ORDER BY i"
    rc, plain, err = shell(srv.port, "--sslmode", "disable", "-d", "big", "--csv", "-c", sql)
    assert rc == 0, err
    rc, enc, err = shell(srv.port, "--sslmode", "require", "-d", "big", "--csv", "-c", sql)
    assert rc == 0, err
    assert len(plain.splitlines()) == 200001
    assert enc == plain
