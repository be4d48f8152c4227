"""Configuration, start-up checks, protected mode, persistence, concurrency and shutdown."""
import fcntl
import json
import os
import socket
import time
import signal
import sqlite3
import stat
import struct
import termios

import pytest

from conftest import BIN, Client, Server, run_bin, run_parallel, wait_for


def test_help_and_version():
    rc, out, _ = run_bin(["--help"])
    assert rc == 0
    for name in ["ServerPort", "ServerAddr", "DBdir", "ServerDbFile", "ENCRYPTION_KEY", "--port"]:
        assert name in out
    rc, out, _ = run_bin(["--version"])
    assert rc == 0 and out.startswith("tcp-duckdb ")


@pytest.mark.parametrize("args,env,msg", [
    (["--port", "70000"], {}, "ServerPort (from command line) must be an integer from 0 to 65535"),
    ([], {"ServerPort": "-1"}, "ServerPort (from environment) must be an integer"),
    ([], {"ServerPort": "4x"}, "ServerPort (from environment) must be an integer"),
    (["--frobnicate"], {}, "unknown argument"),
    (["--port"], {}, "--port needs a value"),
    (["--log-level", "loud"], {}, "LogLevel"),
])
def test_bad_configuration(tmp_path, args, env, msg):
    rc, _, err = run_bin(["--data-dir", str(tmp_path / "d")] + args, env=env, cwd=str(tmp_path))
    assert rc != 0
    assert msg in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_unwritable_data_dir(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    rc, _, err = run_bin(["--data-dir", str(f)], cwd=str(tmp_path))
    assert rc != 0 and "DBdir" in err and len(err.strip().splitlines()) == 1, err
    if os.geteuid() != 0:  # root ignores permission bits
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        rc, _, err = run_bin(["--data-dir", str(ro)], cwd=str(tmp_path))
        assert rc != 0 and "not writable" in err


def test_unreadable_env_file(tmp_path):
    (tmp_path / ".env").mkdir()  # unreadable even for root
    rc, _, err = run_bin(["--data-dir", str(tmp_path / "d")], cwd=str(tmp_path))
    assert rc != 0 and "cannot read .env" in err, err
    (tmp_path / ".env").rmdir()
    (tmp_path / ".env").write_text("ServerPort=1\nthis line is wrong\n")
    rc, _, err = run_bin(["--data-dir", str(tmp_path / "d")], cwd=str(tmp_path))
    assert rc != 0 and ".env line 2" in err, err


def test_env_file_environment_and_flags(tmp_path):
    """.env < environment < flags, and every seed variable is read."""
    d = tmp_path / "store"
    (tmp_path / ".env").write_text(
        "# comment\nexport ServerPort=1\nServerAddr=127.0.0.1\n"
        'DBdir="%s"\nServerDbFile=meta.sqlite3 # inline comment\nENCRYPTION_KEY=\'k\'\n' % d)
    srv = Server(str(d), env={"ServerPort": "2"}, cwd=str(tmp_path))
    # Server.start passes --port 0 and --data-dir, which must win over both.
    srv.start()
    try:
        assert srv.port not in (1, 2)
        assert srv.admin().req("create database x") == "success"
        assert os.path.exists(d / "meta.sqlite3")
    finally:
        srv.check_clean(srv.stop())


def test_listens_on_the_configured_port_and_logs(make_server):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    srv = make_server(args=["--port", str(port)])
    assert srv.port == port
    log = srv.stderr()
    assert "Super user created" in log
    assert "listening to 127.0.0.1:%d" % port in log


def test_super_user_created_once_and_password_stored_hashed(server, data_dir):
    assert server.admin().req("create user alice s3cret-pw") == "success"
    server.restart()
    assert "Super user created" not in server.stderr()
    db = sqlite3.connect(os.path.join(data_dir, "db.sqlite3"))
    rows = dict(db.execute("SELECT name, verifier FROM users"))
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    for name, verifier in rows.items():
        assert verifier.startswith("SCRAM-SHA-256$4096:")
        assert "duck" not in verifier and "s3cret" not in verifier
    # Passwords never reach the log.
    assert "s3cret" not in server.stderr()


def test_initial_super_password_from_environment(make_server):
    srv = make_server(env={"SuperPassword": "quack-quack"})
    assert srv.client().req("login duck duck") == "Error: Unauthorized"
    assert srv.client().req("login duck quack-quack") == "success"


def test_protected_mode(data_dir):
    rc, _, err = run_bin(["--addr", "0.0.0.0", "--port", "0", "--data-dir", data_dir])
    assert rc != 0
    assert "default password" in err and "update user password duck" in err, err
    # After the password changes, the same address is accepted.
    srv = Server(data_dir).start()
    try:
        assert srv.admin().req("update user password duck n3w-pass") == "success"
    finally:
        srv.check_clean(srv.stop())
    srv = Server(data_dir, args=["--addr", "0.0.0.0"])
    srv.start()
    try:
        assert srv.client().req("login duck n3w-pass") == "success"
    finally:
        srv.check_clean(srv.stop())


def test_persistence_across_restart(server):
    c = server.admin()
    assert c.req("create database keep") == "success"
    assert c.req("create user u pw") == "success"
    assert c.req("connect keep") == "success"
    assert c.req("CREATE TABLE t AS SELECT range AS i FROM range(1000)") == "success"
    server.restart()
    c = server.admin()
    assert c.req("create database keep") == "Error: Database keep Already Exists"
    assert c.req("connect keep") == "success"
    assert c.req("SELECT sum(i) AS s FROM t") == '[{"s":499500}]'
    assert server.client().req("login u pw") == "success"


def test_concurrent_writers_exact_count(server):
    admin = server.admin()
    assert admin.req("create database c") == "success"
    assert admin.req("connect c") == "success"
    assert admin.req("CREATE TABLE t (client INTEGER, n INTEGER)") == "success"
    ok = [0] * 32

    def writer(k):
        with server.admin() as c:
            assert c.req("connect c") == "success"
            for n in range(50):
                if c.req("INSERT INTO t VALUES (%d, %d)" % (k, n)) == "1":
                    ok[k] += 1

    run_parallel(32, writer)
    assert sum(ok) == 32 * 50
    assert json.loads(admin.req("SELECT count(*) AS n, count(DISTINCT (client, n)) AS d FROM t")) \
        == [{"n": 1600, "d": 1600}]


def test_sigint_shuts_down_cleanly_and_rolls_back(server):
    c = server.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("CREATE TABLE t (i INTEGER)") == "success"
    assert c.req("INSERT INTO t VALUES (1)") == "1"
    assert c.req("start transaction") == "success"
    assert c.req("INSERT INTO t VALUES (2)") == "1"
    busy = server.admin()
    assert busy.req("connect d") == "success"
    busy.send_raw(b"SELECT count(*) FROM range(100000000000)\n")
    server.proc.send_signal(signal.SIGINT)
    assert c.line() == "Error: Server Shutting Down"
    rc = server.proc.wait(60)
    server.check_clean(rc)
    server.start()
    c = server.admin()
    assert c.req("connect d") == "success"
    assert c.req("SELECT list(i) AS l FROM t") == '[{"l":[1]}]'


def stalled_reader(server):
    """A client in the middle of a large result that it never reads: the worker sending it waits
    for the socket to drain (up to 60 s without progress)."""
    c = server.admin()
    assert c.req("create database big") == "success"
    assert c.req("connect big") == "success"
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send_raw(b"SELECT range AS n, repeat('x', 200) AS pad FROM range(20000000)\n")
    # Until the worker waits on the socket: the client's receive queue holds the answer's first
    # bytes and stops growing (it is full). On a busy machine that takes more than a second, and
    # a shutdown before it would only interrupt the statement.
    last, since, deadline = -1, time.monotonic(), time.monotonic() + 60
    while time.monotonic() < deadline:
        queued = struct.unpack("i", fcntl.ioctl(c.sock.fileno(), termios.FIONREAD,
                                                b"\0\0\0\0"))[0]
        if queued != last:
            last, since = queued, time.monotonic()
        elif queued > 0 and time.monotonic() - since > 0.5:
            return c
        time.sleep(0.05)
    raise AssertionError("the server never filled the socket of a client that does not read")


def test_sigterm_does_not_wait_for_a_client_that_stopped_reading(server):
    c = stalled_reader(server)
    start = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    # The socket is shut after a grace period of seconds: the server exits long before the
    # 60 s a stalled write would otherwise wait.
    rc = server.proc.wait(40)
    assert time.monotonic() - start < 40
    server.check_clean(rc)
    assert "sockets are shut" in server.stderr()
    c.close()


def test_a_second_signal_exits_at_once(server):
    c = stalled_reader(server)
    server.proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: "shutting down" in server.stderr())
    server.proc.send_signal(signal.SIGTERM)
    rc = server.proc.wait(20)
    assert rc == 1
    assert "second signal" in server.stderr()
    server.proc = None  # already exited; nothing for the fixture to stop
    c.close()
    # No committed data is lost: the data directory opens again.
    server.start()
    a = server.admin()
    assert a.req("connect big") == "success"
    assert a.req("SELECT 1 AS one") == '[{"one":1}]'
