"""
Operations (docs/operations.md): the super user's `show sessions`, `cancel SESSION-ID`,
`terminate SESSION-ID` and `reload`; SIGHUP; `--check-config`; LogFile reopened on SIGUSR1;
LogFormat=json.

Timings are generous (the machine may be loaded): conditions are waited for with long
deadlines, never slept for.
"""
import datetime
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import (BIN, SANITIZER_MARKS, Client, clean_env, run_bin, run_parallel,
                      wait_for)
from test_tls import TlsClient, client_context

CANCELED = "Error: Canceled: canceling statement due to user request"
TERMINATED = "Error: Terminated: the session was ended by the super user"
UNAUTHORIZED = "Error: Unauthorized"
LONG = "SELECT count(*) FROM range(10000000000)"
LATE = 20


def write_env(server_or_dir, text):
    d = server_or_dir if isinstance(server_or_dir, str) else server_or_dir.cwd
    with open(os.path.join(d, ".env"), "w") as f:
        f.write(text)


def setup_user(server, user="bob", db="t"):
    """Creates database `db` with a table and user `user` with write access; returns the admin."""
    a = server.admin()
    assert a.req("create database %s" % db) == "success"
    assert a.req("connect %s" % db) == "success"
    assert a.req("CREATE TABLE items (n INTEGER)") == "success"
    assert a.req("create user %s pw" % user) == "success"
    assert a.req("grant database %s %s write" % (db, user)) == "success"
    assert a.req("grant table %s items %s select insert" % (db, user)) == "success"
    assert a.req("disconnect") == "success"
    return a


def user_client(server, user="bob", db="t"):
    c = server.client(login=(user, "pw"))
    assert c.req("connect %s" % db) == "success"
    return c


def sessions(admin):
    text = admin.req("show sessions")
    rows = json.loads(text)
    assert isinstance(rows, list), text
    return rows


def row_where(admin, pred, timeout=LATE):
    found = []

    def look():
        found[:] = [r for r in sessions(admin) if pred(r)]
        return bool(found)

    assert wait_for(look, timeout), sessions(admin)
    return found[0]


def session_id(c):
    return json.loads(c.req("session key"))["session"]


# ---- show sessions, cancel, terminate ------------------------------------------------------


def test_show_sessions_sees_a_long_statement_and_cancel_stops_it(server):
    admin = setup_user(server)
    bob = user_client(server)
    bob_id = session_id(bob)
    bob.send_raw(LONG.encode() + b"\n")
    row = row_where(admin, lambda r: r["session"] == bob_id and r["state"] == "active")
    assert row["user"] == "bob"
    assert row["database"] == "t"
    assert row["statement"] == LONG and row["truncated"] is False
    assert re.match(r"^127\.0\.0\.1:\d+$", row["client"]), row
    assert row["tls"] is False
    assert row["in_transaction"] is False
    assert isinstance(row["running_ms"], int) and row["running_ms"] >= 0
    since = datetime.datetime.strptime(row["connected_since"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs((datetime.datetime.utcnow() - since).total_seconds()) < 600
    # Its running time grows while it runs.
    first = row["running_ms"]
    later = row_where(admin, lambda r: r["session"] == bob_id and r["running_ms"] > first)
    assert later["statement"] == LONG
    # The super user's own session is listed, idle, not connected.
    me = [r for r in sessions(admin) if r["session"] == session_id(admin)]
    assert me and me[0]["user"] == "duck" and me[0]["state"] == "idle"
    assert me[0]["database"] is None and me[0]["statement"] is None

    assert admin.req("cancel %d" % bob_id) == "success"
    bob.sock.settimeout(LATE)
    assert bob.line() == CANCELED
    # The session goes on, and shows idle again.
    assert bob.req("SELECT 42 AS x") == '[{"x":42}]'
    row = row_where(admin, lambda r: r["session"] == bob_id)
    assert row["state"] == "idle" and row["statement"] is None and row["running_ms"] is None


def test_long_statement_text_is_truncated(server):
    admin = setup_user(server)
    bob = user_client(server)
    sql = "SELECT count(*) FROM range(10000000000) WHERE 'x' <> '" + "y" * 500 + "'"
    bob.send_raw(sql.encode() + b"\n")
    row = row_where(admin, lambda r: r["user"] == "bob" and r["state"] == "active")
    assert row["truncated"] is True
    assert row["statement"] == sql[:256]
    assert admin.req("cancel %d" % row["session"]) == "success"
    bob.sock.settimeout(LATE)
    assert bob.line() == CANCELED


def test_terminate_a_running_session_rolls_back_and_closes(server):
    admin = setup_user(server)
    bob = user_client(server)
    bob_id = session_id(bob)
    assert bob.req("begin") == "success"
    assert bob.req("INSERT INTO items VALUES (1)") == "1"
    row = row_where(admin, lambda r: r["session"] == bob_id)
    assert row["state"] == "idle in transaction" and row["in_transaction"] is True
    bob.send_raw(LONG.encode() + b"\n")
    row_where(admin, lambda r: r["session"] == bob_id and r["state"] == "active")
    assert admin.req("terminate %d" % bob_id) == "success"
    bob.sock.settimeout(LATE)
    assert bob.line() == CANCELED
    assert bob.line() == TERMINATED
    assert bob.closed(LATE)
    assert wait_for(lambda: all(r["session"] != bob_id for r in sessions(admin)), LATE)
    # The open transaction was rolled back: the insert is gone.
    assert admin.req("connect t") == "success"
    assert admin.req("SELECT count(*) AS n FROM items") == '[{"n":0}]'


def test_terminate_an_idle_session_closes_it_at_once(server):
    admin = setup_user(server)
    bob = user_client(server)
    bob_id = session_id(bob)
    assert admin.req("terminate %d" % bob_id) == "success"
    bob.sock.settimeout(LATE)
    assert bob.line() == TERMINATED
    assert bob.closed(LATE)
    assert wait_for(lambda: all(r["session"] != bob_id for r in sessions(admin)), LATE)
    # The super user may end its own session: after the answer.
    own = session_id(admin)
    assert admin.req("terminate %d" % own) == "success"
    assert admin.line() == TERMINATED
    assert admin.closed(LATE)


def test_unknown_or_malformed_session_ids(server):
    admin = server.admin()
    assert admin.req("terminate 999999") == "Error: Session 999999 Does Not Exist"
    assert admin.req("cancel 999999") == "Error: Session 999999 Does Not Exist"
    assert admin.req("terminate x1").startswith("Error: Bad Request: usage: terminate SESSION-ID")
    assert admin.req("cancel -3").startswith("Error: Bad Request: usage: cancel SESSION-ID")
    assert admin.req("terminate 0").startswith("Error: Bad Request")
    assert admin.req("terminate").startswith("Error: Bad Request: usage: terminate SESSION-ID")
    assert admin.req("show sessions now").startswith("Error: Bad Request: usage: show sessions")
    assert admin.req("reload now").startswith("Error: ")  # not the command: SQL, which fails


def test_normal_users_and_guests_are_refused(server):
    admin = setup_user(server)
    bob = user_client(server)
    own = session_id(bob)
    admin_id = session_id(admin)
    for req in ("show sessions", "cancel %d" % admin_id, "terminate %d" % admin_id,
                "terminate %d" % own, "reload"):
        assert bob.req(req) == UNAUTHORIZED, req
    guest = Client(server.port)
    assert guest.req("show sessions") == UNAUTHORIZED
    assert guest.req("terminate %d" % admin_id) == UNAUTHORIZED
    assert guest.req("reload") == UNAUTHORIZED
    # The super user's session was not touched.
    assert admin.req("stats").startswith("{")


def test_show_sessions_while_sessions_come_and_go(server):
    """The snapshot reads sessions that other threads log in, use and free at the same time
    (run under TSan by make e2e-tsan)."""
    admin = setup_user(server)
    stop = threading.Event()

    def churn(i):
        while not stop.is_set():
            with user_client(server) as c:
                assert c.req("SELECT %d AS i" % i) == '[{"i":%d}]' % i
                assert c.req("quit") == "success"

    def watch(_):
        for _ in range(60):
            for r in sessions(admin):
                assert r["user"] in ("duck", "bob"), r
        stop.set()

    run_parallel(4, lambda i: watch(i) if i == 0 else churn(i))


# ---- reload and SIGHUP ---------------------------------------------------------------------


def too_large(c, n):
    return c.req("SELECT '%s' AS s" % ("x" * n)).startswith("Error: Request Too Large")


def test_reload_changes_a_limit_live_and_reports_restart_settings(make_server, data_dir):
    write_env(data_dir, "MaxRequestBytes=100000\n")
    server = make_server()
    admin = server.admin()
    assert not too_large(admin, 5000)
    write_env(server, "MaxRequestBytes=4096\nPoolSize=3\n")
    answer = json.loads(admin.req("reload"))
    assert answer == {"changed": ["MaxRequestBytes"], "restart": ["PoolSize"]}
    # The running session sees the new limit at its next request.
    assert too_large(admin, 5000)
    assert not too_large(admin, 1000)
    assert "reload: changed [\"MaxRequestBytes\"]" in server.stderr()
    # Nothing changed: nothing reported.
    assert json.loads(admin.req("reload")) == {"changed": [], "restart": ["PoolSize"]}


def test_reload_refuses_a_bad_value_and_keeps_the_old_configuration(make_server, data_dir):
    write_env(data_dir, "MaxRequestBytes=100000\n")
    server = make_server()
    admin = server.admin()
    write_env(server, "MaxRequestBytes=4096\nStatementTimeout=soon\n")
    answer = admin.req("reload")
    assert answer.startswith("Error: Invalid Configuration: StatementTimeout (from .env) must be "
                             "an integer"), answer
    assert answer.endswith("; the configuration in force is unchanged")
    # MaxRequestBytes was valid, but the whole reload was refused.
    assert not too_large(admin, 5000)
    assert "reload refused: StatementTimeout" in server.stderr()
    # A cross-setting rule refuses too.
    write_env(server, "MaxConnections=5\nSuperuserReservedConnections=5\n")
    assert admin.req("reload").startswith(
        "Error: Invalid Configuration: SuperuserReservedConnections (5) must be less than")
    assert not too_large(admin, 5000)


def test_sighup_reloads_and_a_bad_value_is_refused(make_server, data_dir):
    write_env(data_dir, "MaxRequestBytes=100000\n")
    server = make_server()
    admin = server.admin()
    write_env(server, "MaxRequestBytes=4096\n")
    server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: 'reload: changed ["MaxRequestBytes"]' in server.stderr(), LATE)
    assert too_large(admin, 5000)
    write_env(server, "MaxRequestBytes=nope\n")
    server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reload refused: MaxRequestBytes (from .env)" in server.stderr(), LATE)
    assert too_large(admin, 5000) and not too_large(admin, 1000)
    assert server.proc.poll() is None  # SIGHUP never ends the server


def test_reload_changes_the_log_level_live(make_server, data_dir):
    server = make_server()
    admin = server.admin()
    assert admin.req("create user carol pw") == "success"
    write_env(server, "LogLevel=warn\n")
    assert json.loads(admin.req("reload"))["changed"] == ["LogLevel"]
    assert admin.req("create user dave pw") == "success"
    write_env(server, "LogLevel=info\n")
    assert json.loads(admin.req("reload"))["changed"] == ["LogLevel"]
    assert admin.req("create user erin pw") == "success"
    assert wait_for(lambda: "erin" in server.stderr(), LATE)
    log = server.stderr()
    assert "carol" in log and "dave" not in log


def peer_der(port, certs):
    ctx = client_context(certs, verify=False)
    with TlsClient(port, ctx) as c:
        der = c.sock.getpeercert(binary_form=True)
        assert c.req("login duck duck") == "success"
        return der


def file_der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def test_reload_swaps_the_tls_certificate_for_new_handshakes(make_server, data_dir, tls_certs):
    def tls_env(name):
        return ("TLSMode=optional\nTLSCertFile=%s\nTLSKeyFile=%s\n"
                % (os.path.join(tls_certs, name + ".crt"), os.path.join(tls_certs, name + ".key")))

    write_env(data_dir, tls_env("server"))
    server = make_server()
    old = TlsClient(server.port, client_context(tls_certs))  # verifies CN=localhost
    assert old.req("login duck duck") == "success"
    assert peer_der(server.port, tls_certs) == file_der(os.path.join(tls_certs, "server.crt"))

    write_env(server, tls_env("wronghost"))
    answer = json.loads(old.req("reload"))
    assert answer == {"changed": ["TLSCertFile", "TLSKeyFile"], "restart": []}
    assert peer_der(server.port, tls_certs) == file_der(os.path.join(tls_certs, "wronghost.crt"))
    # A verifying client now sees the wrong host; the connection made before goes on.
    with pytest.raises(ssl.SSLCertVerificationError):
        TlsClient(server.port, client_context(tls_certs))
    assert old.req("show sessions").startswith("[")
    rows = json.loads(old.req("show sessions"))
    assert any(r["tls"] for r in rows)

    # A certificate that does not work is refused, and the one in force stays.
    bad = os.path.join(tls_certs, "bad.pem")
    write_env(server, "TLSMode=optional\nTLSCertFile=%s\nTLSKeyFile=%s\n" % (bad, bad))
    answer = old.req("reload")
    assert answer.startswith("Error: Invalid Configuration: TLSCertFile"), answer
    assert peer_der(server.port, tls_certs) == file_der(os.path.join(tls_certs, "wronghost.crt"))
    # TLSMode itself needs a restart.
    write_env(server, tls_env("wronghost").replace("optional", "required"))
    assert json.loads(old.req("reload")) == {"changed": [], "restart": ["TLSMode"]}
    assert Client(server.port).req("login duck duck") == "success"  # still optional
    old.close()


# ---- --check-config ------------------------------------------------------------------------


def test_check_config(data_dir, tls_certs):
    rc, out, err = run_bin(["--check-config"], cwd=data_dir)
    assert (rc, out.strip()) == (0, "tcp-duckdb: configuration OK"), err
    write_env(data_dir, "MaxConnections=0\n")
    rc, out, err = run_bin(["--check-config"], cwd=data_dir)
    assert rc == 1 and "MaxConnections (from .env) must be an integer from 1" in err, err
    os.remove(os.path.join(data_dir, ".env"))
    rc, out, err = run_bin(["--check-config", "--tls-mode", "required", "--tls-cert-file",
                            os.path.join(tls_certs, "bad.pem")], cwd=data_dir)
    assert rc == 1 and "configuration error: TLSCertFile" in err, err
    rc, out, err = run_bin(["--check-config", "--log-file", "/nonexistent/dir/log"],
                           cwd=data_dir)
    assert rc == 1 and "cannot open LogFile /nonexistent/dir/log" in err, err
    # Nothing was started or created.
    assert not os.path.exists(os.path.join(data_dir, "storage"))


# ---- logs ----------------------------------------------------------------------------------


def start_raw(data_dir, args=(), env=None):
    cmd = [BIN, "--port", "0", "--addr", "127.0.0.1", "--data-dir", data_dir,
           "--supervise", "off"] + list(args)
    return subprocess.Popen(cmd, cwd=data_dir, env=clean_env(env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def read_file(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def stop_raw(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = "timeout"
    return rc


def test_sigusr1_reopens_a_rotated_log_file(data_dir):
    log = os.path.join(data_dir, "server.log")
    proc = start_raw(data_dir, ["--log-file", log])
    try:
        assert wait_for(lambda: "listening to" in read_file(log), 60), read_file(log)
        port = int(re.search(r"listening to .*:(\d+)$", read_file(log), re.M).group(1))
        os.rename(log, log + ".1")  # what logrotate does
        admin = Client(port)
        assert admin.req("login duck duck") == "success"
        assert admin.req("create user before_rotate pw") == "success"
        assert wait_for(lambda: "before_rotate" in read_file(log + ".1"), LATE)
        proc.send_signal(signal.SIGUSR1)
        assert wait_for(lambda: "log file %s reopened" % log in read_file(log), LATE)
        assert admin.req("create user after_rotate pw") == "success"
        assert wait_for(lambda: "after_rotate" in read_file(log), LATE)
        assert "after_rotate" not in read_file(log + ".1")
        admin.close()
    finally:
        rc = stop_raw(proc)
    both = read_file(log + ".1") + read_file(log)
    for mark in SANITIZER_MARKS:
        assert mark not in both, both[-20000:]
    assert rc == 0, both[-5000:]
    assert "server stopped" in read_file(log)
    assert proc.stderr.read() == b""  # everything went to the file


def test_json_log_lines_parse(data_dir):
    proc = start_raw(data_dir, ["--log-format", "json"])
    lines = []
    port = None
    try:
        for raw in proc.stderr:
            lines.append(raw.decode())
            m = re.search(r"listening to .*:(\d+)$", json.loads(raw)["msg"])
            if m:
                port = int(m.group(1))
                break
        assert port, "".join(lines)
        with Client(port) as c:
            assert c.req("login duck duck") == "success"
            # A name with quotes and a backslash reaches the log escaped.
            assert c.req('create user json_"q\\ pw').startswith("Error: Bad Request")
            assert c.req("create user jsonuser pw") == "success"
    finally:
        rc = stop_raw(proc)
    lines += [raw.decode() for raw in proc.stderr.readlines()]
    text = "".join(lines)
    for mark in SANITIZER_MARKS:
        assert mark not in text, text[-20000:]
    assert rc == 0, text[-5000:]
    for line in lines:
        obj = json.loads(line)
        assert set(obj) == {"time", "level", "msg"}, obj
        assert obj["level"] in ("debug", "info", "warn", "error")
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", obj["time"]), obj
    msgs = [json.loads(line)["msg"] for line in lines]
    assert any("jsonuser" in m for m in msgs), msgs
    assert "server stopped" in msgs
