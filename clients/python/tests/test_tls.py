"""tcpduckdb's sslmode against the real server in each TLSMode (docs/protocol.md, "TLS").

Certificates come from tests/tls/make-certs.sh, run once into a temporary directory.
Run: /usr/bin/python3 -m pytest -q clients/python/tests/test_tls.py
"""
import json
import os
import socket
import subprocess
import tempfile
import threading

import pytest

from test_driver import ROOT, Server

import tcpduckdb


@pytest.fixture(scope="module")
def certs():
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-py-certs-") as d:
        subprocess.run([os.path.join(ROOT, "tests", "tls", "make-certs.sh"), d], check=True)
        yield d


def tls_server(certs, mode, cert="server", extra=()):
    return Server(["--tls-mode", mode, "--tls-cert-file", os.path.join(certs, cert + ".crt"),
                   "--tls-key-file", os.path.join(certs, cert + ".key"), *extra])


@pytest.fixture(scope="module")
def off():
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def optional(certs):
    srv = tls_server(certs, "optional")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def required(certs):
    srv = tls_server(certs, "required")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def wronghost(certs):
    srv = tls_server(certs, "optional", cert="wronghost")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def expired(certs):
    srv = tls_server(certs, "optional", cert="expired")
    yield srv
    srv.stop()


def connect(srv, **kw):
    return tcpduckdb.connect(port=srv.port, timeout=60, **kw)


def works(con):
    """The connection answers a command after login (in TLS or not)."""
    assert any(u["name"] == "duck" for u in json.loads(con.command("list users")))


def ca(certs, name="ca"):
    return os.path.join(certs, name + ".crt")


# ---------------------------------------------------------------------------------------------
# Each sslmode against each TLSMode


@pytest.mark.parametrize("mode", ["disable", "prefer"])
def test_disable_and_prefer_are_plain_against_off(off, mode):
    con = connect(off, sslmode=mode)
    works(con)
    assert con.tls_version is None
    con.close()


def test_default_sslmode_is_prefer(off, optional):
    con = connect(off)
    assert con.tls_version is None
    con.close()
    con = connect(optional)
    assert con.tls_version in ("TLSv1.2", "TLSv1.3")
    con.close()


@pytest.mark.parametrize("mode,host", [("prefer", "127.0.0.1"), ("require", "127.0.0.1"),
                                       ("verify-ca", "127.0.0.1"), ("verify-full", "127.0.0.1"),
                                       ("verify-full", "localhost")])
def test_every_mode_is_tls_against_optional(certs, optional, mode, host):
    con = tcpduckdb.connect(host=host, port=optional.port, timeout=60, sslmode=mode,
                            sslrootcert=ca(certs))
    assert con.tls_version in ("TLSv1.2", "TLSv1.3")
    assert con._wire.sock.cipher() is not None  # the socket really is an SSLSocket
    works(con)
    con.close()


def test_disable_stays_plain_against_optional(optional):
    con = connect(optional, sslmode="disable")
    works(con)
    assert con.tls_version is None
    con.close()


@pytest.mark.parametrize("mode", ["require", "verify-ca", "verify-full"])
def test_tls_modes_fail_clearly_against_off(certs, off, mode):
    with pytest.raises(tcpduckdb.OperationalError) as e:
        connect(off, sslmode=mode, sslrootcert=ca(certs))
    assert "does not offer TLS (sslmode=%s)" % mode in str(e.value)
    assert "TLS is not enabled on this server" in str(e.value)


def test_plain_client_against_required_gets_the_servers_line(required):
    with pytest.raises(tcpduckdb.OperationalError) as e:
        connect(required, sslmode="disable")
    assert e.value.kind == "TLS required"
    assert "accepts only encrypted connections" in e.value.message
    con = connect(required)  # prefer upgrades and is let in
    assert con.tls_version is not None
    works(con)
    con.close()


# ---------------------------------------------------------------------------------------------
# Certificate checks


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_verify_full_refuses_wrong_host(certs, wronghost, host):
    with pytest.raises(tcpduckdb.OperationalError) as e:
        tcpduckdb.connect(host=host, port=wronghost.port, timeout=60, sslmode="verify-full",
                          sslrootcert=ca(certs))
    assert "TLS certificate verification failed" in str(e.value)
    assert "host name mismatch" in str(e.value)


def test_verify_ca_does_not_check_the_host_name(certs, wronghost):
    con = connect(wronghost, sslmode="verify-ca", sslrootcert=ca(certs))
    assert con.tls_version is not None
    works(con)
    con.close()


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full"])
def test_verify_modes_refuse_expired_certificate(certs, expired, mode):
    with pytest.raises(tcpduckdb.OperationalError) as e:
        connect(expired, sslmode=mode, sslrootcert=ca(certs))
    assert "certificate has expired" in str(e.value)


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full"])
def test_verify_modes_refuse_unknown_ca(certs, optional, mode):
    with pytest.raises(tcpduckdb.OperationalError) as e:
        connect(optional, sslmode=mode, sslrootcert=ca(certs, "other-ca"))
    assert "unknown CA" in str(e.value)


def test_require_checks_no_certificate(certs, expired, wronghost):
    # Encryption without authentication, as libpq's require: these are not refused.
    for srv in (expired, wronghost):
        con = connect(srv, sslmode="require", sslrootcert=ca(certs, "other-ca"))
        assert con.tls_version is not None
        works(con)
        con.close()


def test_client_certificate_is_presented(certs):
    srv = tls_server(certs, "required", extra=["--tls-ca-file", ca(certs), "--log-level",
                                               "debug"])
    try:
        con = connect(srv, sslmode="verify-full", sslrootcert=ca(certs),
                      sslcert=os.path.join(certs, "client.crt"),
                      sslkey=os.path.join(certs, "client.key"))
        works(con)
        con.close()
    finally:
        srv.stop()
    assert any("client certificate CN=alice" in line for line in srv.log), "\n".join(srv.log)


def test_client_certificate_refused_by_the_server_is_an_error(certs):
    srv = tls_server(certs, "required", extra=["--tls-ca-file", ca(certs, "other-ca")])
    try:
        with pytest.raises(tcpduckdb.OperationalError):
            con = connect(srv, sslmode="require", sslcert=os.path.join(certs, "client.crt"),
                          sslkey=os.path.join(certs, "client.key"))
            con.close()  # not reached: TLS 1.3 reports the refusal at login at the latest
    finally:
        srv.stop()


# ---------------------------------------------------------------------------------------------
# Data over TLS


def test_large_result_over_tls_equals_plaintext(optional):
    admin = connect(optional, sslmode="disable")
    admin.command("create database big")
    admin.close()
    sql = ("SELECT i, 'row ' || i || repeat('é', i % 40) AS s, i * 0.5 AS d "
           "FROM range(100000) t(i) ORDER BY i")
    plain = connect(optional, sslmode="disable", database="big")
    enc = connect(optional, sslmode="require", database="big")
    assert plain.tls_version is None and enc.tls_version is not None
    rows_plain = plain.cursor().execute(sql).fetchall()
    rows_tls = enc.cursor().execute(sql).fetchall()
    assert len(rows_tls) == 100000
    assert rows_tls == rows_plain
    plain.close()
    enc.close()


# ---------------------------------------------------------------------------------------------
# Options and protocol errors


def test_bad_options_are_clear_errors(certs, optional):
    with pytest.raises(tcpduckdb.ProgrammingError, match="sslmode must be one of"):
        connect(optional, sslmode="verify")
    with pytest.raises(tcpduckdb.OperationalError, match="cannot load sslrootcert"):
        connect(optional, sslmode="verify-full", sslrootcert=os.path.join(certs, "nope.crt"))
    with pytest.raises(tcpduckdb.OperationalError, match="cannot load sslrootcert"):
        connect(optional, sslmode="verify-full", sslrootcert=os.path.join(certs, "bad.pem"))
    with pytest.raises(tcpduckdb.OperationalError, match="sslkey is given without sslcert"):
        connect(optional, sslmode="require", sslkey=os.path.join(certs, "client.key"))
    with pytest.raises(tcpduckdb.OperationalError, match="cannot load the client certificate"):
        connect(optional, sslmode="require", sslcert=os.path.join(certs, "client.crt"),
                sslkey=os.path.join(certs, "server.key"))


def fake_server(answer):
    """A one-shot listener that reads the starttls line, sends ``answer`` and waits."""
    lsock = socket.create_server(("127.0.0.1", 0))
    seen = []

    def serve():
        conn, _ = lsock.accept()
        with conn:
            seen.append(conn.recv(100))
            conn.sendall(answer)
            conn.settimeout(30)
            try:
                seen.append(conn.recv(100))  # what the client did next
            except OSError:
                pass
        lsock.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return lsock.getsockname()[1], t, seen


@pytest.mark.parametrize("mode", ["prefer", "require"])
def test_bytes_after_success_are_a_protocol_error(mode):
    port, t, seen = fake_server(b"success\nHELLO\n")
    with pytest.raises(tcpduckdb.OperationalError, match="sent data after accepting starttls"):
        tcpduckdb.connect(port=port, timeout=30, sslmode=mode)
    t.join(30)
    assert seen[0] == b"starttls\n"
    assert seen[1:] in ([b""], [])  # closed: no ClientHello, no plaintext login


def test_unexpected_answer_to_starttls_is_an_error():
    port, t, _ = fake_server(b"{\"columns\":[]}\n")
    with pytest.raises(tcpduckdb.OperationalError, match="unexpected answer to starttls"):
        tcpduckdb.connect(port=port, timeout=30, sslmode="prefer")
    t.join(30)


def test_a_server_that_never_answers_starttls_is_a_timeout():
    port, t, _ = fake_server(b"")
    with pytest.raises(tcpduckdb.OperationalError, match="timed out waiting for the server's "
                                                         "answer to starttls"):
        tcpduckdb.connect(port=port, timeout=0.5, sslmode="require")
    t.join(30)


@pytest.mark.parametrize("server_mode", ["optional", "required"])
def test_cancel_goes_over_tls(certs, optional, required, server_mode):
    srv = optional if server_mode == "optional" else required
    root = os.path.join(certs, "ca.crt")
    admin = tcpduckdb.connect(port=srv.port, sslmode="verify-full", sslrootcert=root,
                              host="localhost")
    try:
        admin.command("create database cancel_%s" % server_mode)
    except tcpduckdb.ProgrammingError:
        pass
    admin.close()
    c = tcpduckdb.connect(port=srv.port, sslmode="verify-full", sslrootcert=root,
                          host="localhost", database="cancel_%s" % server_mode, autocommit=True)
    try:
        assert c.tls_version in ("TLSv1.2", "TLSv1.3")
        timer = threading.Timer(1.0, c.cancel)
        timer.start()
        with pytest.raises(tcpduckdb.OperationalError, match="Canceled"):
            c.cursor().execute("SELECT count(*) FROM range(10000000000)")
        timer.join()
        assert c.cursor().execute("SELECT 1").fetchone() == (1,)
    finally:
        c.close()
