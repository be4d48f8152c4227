"""
End-to-end fixtures: every test talks TCP to the real server binary.

`server` starts build/asan/tcp-duckdb (or $TCPDUCKDB_BIN) on an ephemeral
loopback port with a fresh data directory, and stops it with SIGTERM at the
end of the test. A test fails if the server did not exit 0 or if its stderr
holds a sanitizer report (AddressSanitizer, LeakSanitizer, UBSan). The
server runs without the supervisor (`--supervise off`), so `proc.pid` is the
server itself; tests/e2e/test_crash.py passes `--supervise on`. `run_bin`
keeps the default (supervised), as a user's start-up would.
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TCPDUCKDB_BIN", os.path.join(ROOT, "build", "asan", "tcp-duckdb"))

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer")

# The settings the server reads from the environment; tests start from none
# of them so the developer's shell cannot change what a test sees.
SERVER_ENV = ("ServerPort", "ServerAddr", "DBdir", "ServerDbFile", "ENCRYPTION_KEY",
              "SuperPassword", "MaxConnections", "MaxRequestBytes", "IdleTimeout",
              "QueryWorkers", "PoolSize", "PoolWaitMs", "DuckdbThreads", "DuckdbMemoryLimit",
              "LogLevel", "TLSMode", "TLSCertFile", "TLSKeyFile", "TLSCAFile", "TLSMinVersion",
              "StatementTimeout", "MaxWorkers", "MaxUserStatements", "IdleInTransactionTimeout",
              "MemoryLimit", "StatementMemoryLimit", "MemoryHardLimit",
              "LoginTimeout", "MaxLoginRequestBytes", "SuperuserReservedConnections",
              "MaxConnectionsPerAddress", "LoginFailureLimit", "Supervise", "LogFormat", "LogFile",
              "BackupDir", "ArchiveMode", "ArchiveSync", "BackupSchedule", "BackupRetention", "DropInSilenceMs", "PgPort",
              "AdminPort", "AdminAddr", "MetricsToken", "AdminSessionTimeout")


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV}
    # DuckDB's own threads are not instrumented; LSan still sees their
    # allocations. Suppress nothing: a leak report fails the test.
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1:halt_on_error=1")
    env.update(extra or {})
    return env


class Client:
    """A protocol client: one request line out, one answer line back."""

    def __init__(self, port, host="127.0.0.1", timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.rfile = self.sock.makefile("rb")

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def line(self) -> str:
        raw = self.rfile.readline()
        if not raw:
            raise ConnectionError("server closed the connection")
        assert raw.endswith(b"\n"), raw[-200:]
        return raw[:-1].decode("utf-8")

    def req(self, text: str) -> str:
        self.send_raw(text.encode("utf-8") + b"\n")
        return self.line()

    def req_long(self, text: str) -> str:
        """Sends a length-prefixed request (text may hold newlines)."""
        payload = text.encode("utf-8")
        self.send_raw(b"@%d\n" % len(payload) + payload)
        return self.line()

    def closed(self, timeout=10) -> bool:
        """True when the server closes the connection (after any pending lines)."""
        self.sock.settimeout(timeout)
        try:
            return self.rfile.read() is not None
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Server:
    def __init__(self, data_dir, args=(), env=None, cwd=None):
        self.data_dir = data_dir
        self.args = list(args)
        self.env = env or {}
        self.cwd = cwd or data_dir
        self.proc = None
        self.port = None
        self.log = []
        self._reader = None
        self._ready = threading.Event()

    def start(self, timeout=60):
        # The admin page and PgPort are off unless a test asks (a later --admin-port or
        # --pg-port in args wins).
        # PgPort (default 5433) is off too: servers started side by side must not collide.
        cmd = [BIN, "--port", "0", "--addr", "127.0.0.1", "--data-dir", self.data_dir,
               "--supervise", "off", "--admin-port", "0", "--pg-port", "0"] + self.args
        # A test that waited for the last process itself (not with stop()) may leave its log
        # reader still draining; it would set _ready (and leave the old port) for this start.
        if self._reader is not None:
            self._reader.join(10)
        self.port = None
        self.log = []
        self._ready.clear()
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=clean_env(self.env),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout) or self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("server did not start:\n" + self.stderr())
        return self

    def _read_log(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log.append(line)
            m = re.search(r"listening to .*:(\d+)$", line)
            if m and not self._ready.is_set():
                self.port = int(m.group(1))
                self._ready.set()
        self._ready.set()

    def stderr(self):
        # Once the process has exited, its last lines may still be in the pipe: read them all
        # (a supervisor's last line, a sanitizer report) before anyone looks.
        if self.proc is not None and self.proc.poll() is not None and self._reader is not None:
            self._reader.join(10)
        return "\n".join(self.log)

    def client(self, login=None):
        c = Client(self.port)
        if login:
            assert c.req("login %s %s" % login) == "success"
        return c

    def admin(self):
        return self.client(login=("duck", "duck"))

    def stop(self, timeout=60):
        """SIGTERM, then the exit status (the server must exit by itself)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
        self._reader.join(10)
        self.proc = None
        self.port = None
        return rc

    def check_clean(self, rc):
        text = self.stderr()
        for mark in SANITIZER_MARKS:
            assert mark not in text, "sanitizer report in server log:\n" + text[-20000:]
        assert rc == 0, "server exit status %r, log:\n%s" % (rc, text[-5000:])

    def restart(self):
        self.check_clean(self.stop())
        return self.start()


@pytest.fixture
def data_dir():
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-e2e-") as d:
        yield d


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with the last lines of each server it started: CI shows only
    the report, and the server's own account (an interrupt, a refusal) is often the cause."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("call", "teardown"):
        for i, srv in enumerate(getattr(item, "tcpduckdb_servers", ())):
            report.sections.append(("server %d log, last %d lines" % (i, SERVER_LOG_TAIL),
                                    "\n".join(list(srv.log)[-SERVER_LOG_TAIL:])))


SERVER_LOG_TAIL = 40


@pytest.fixture
def make_server(data_dir, request):
    """Factory: make_server(args=[...], env={...}) starts a server; all are stopped and checked."""
    started = []
    request.node.tcpduckdb_servers = started

    def make(args=(), env=None, cwd=None, data=None):
        srv = Server(data or data_dir, args=args, env=env, cwd=cwd)
        srv.start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.check_clean(srv.stop())


@pytest.fixture
def server(make_server):
    return make_server()


def run_bin(args=(), env=None, cwd=None, timeout=60):
    """Runs the binary to completion (start-up failures, --help); returns (rc, stdout, stderr)."""
    p = subprocess.run([BIN] + list(args), cwd=cwd, env=clean_env(env), capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run_parallel(n, fn):
    """Runs fn(i) for i in range(n) on n threads; re-raises the first failure."""
    errors = []

    def run(i):
        try:
            fn(i)
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def wait_for(pred, timeout=10, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


@pytest.fixture(scope="session")
def tls_certs():
    """Throw-away certificates from tests/tls/make-certs.sh (ca, server, wronghost, expired,
    client, other-ca, bad.pem): the directory path, valid for the whole test session."""
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-certs-") as d:
        subprocess.run([os.path.join(ROOT, "tests", "tls", "make-certs.sh"), d], check=True,
                       capture_output=True, timeout=120)
        yield d
