#!/usr/bin/env python3
"""
make bench: TCP-DuckDB and PostgreSQL 15 side by side on this machine.

Starts a TCP-DuckDB release server (build/tcp-duckdb) and a PostgreSQL 15
(initdb + pg_ctl into a temp dir) on ephemeral loopback ports, runs every
figure of issue 8 with the programs of build/bench/ and pgbench/psql, and
writes bench/results/latest.md and latest.json. Everything it starts is
stopped and every temp dir removed at the end, also on Ctrl-C or failure.

Method. The VM is noisy (CPU steal swings 0-50%), so TCP-DuckDB and
PostgreSQL runs alternate (A/B/A/B), the steal of each run is read from
/proc/stat, runs above 5% steal are dropped and medians are reported (if
every run of a figure is dropped, the least-stolen one is kept and the
figure is flagged). A figure that cannot be measured fails the whole run:
the script exits non-zero and writes no results.

Server CPU per query is the utime+stime delta of the server's process over a
run (/proc/PID/stat); for PostgreSQL the postmaster's, children included
(cutime+cstime: the backends of the run have exited and been reaped by then).
Client CPU is the client process's own, from getrusage(RUSAGE_CHILDREN).

Usage: bench/run.py [--quick] [--only SECTION,...]
  (or BENCH_QUICK=1, BENCH_ONLY=beside,limits); sections: small, large, conns, churn,
  link, tls, beside, limits, users, lookups, tpch (bench/tpch.py).
  The issue-8 targets are reported when their sections ran.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
BENCH_BIN = os.path.join(BUILD, "bench")
# BENCH_SERVER_BIN: another build of the server (a copy of an earlier build/tcp-duckdb, for the
# figures before a change); the default is this tree's release build.
SERVER_BIN = os.environ.get("BENCH_SERVER_BIN") or os.path.join(BUILD, "tcp-duckdb")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
# PostgreSQL 15's own binaries, not Debian's /usr/bin wrappers (a Perl script whose start-up
# would count as client CPU).
PGBENCH = os.path.join(PG_BIN, "pgbench")
PSQL = os.path.join(PG_BIN, "psql")
RESULTS = os.path.join(ROOT, "bench", "results")
STEAL_LIMIT = 5.0  # percent
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The settings of the server that the environment could change; the bench
# starts the server without any of them so the shell cannot skew a figure.
SERVER_ENV = ("ServerPort", "ServerAddr", "DBdir", "ServerDbFile", "ENCRYPTION_KEY",
              "SuperPassword", "MaxConnections", "MaxRequestBytes", "IdleTimeout",
              "QueryWorkers", "PoolSize", "PoolWaitMs", "DuckdbThreads", "DuckdbMemoryLimit",
              "LogLevel", "MemoryLimit", "StatementMemoryLimit", "MemoryHardLimit", "StatementTimeout",
              "LoginTimeout",
              "MaxLoginRequestBytes", "SuperuserReservedConnections", "MaxConnectionsPerAddress",
              "LoginFailureLimit", "MaxWorkers", "MaxUserStatements", "IdleInTransactionTimeout",
              "TLSMode", "TLSCertFile", "TLSKeyFile", "TLSCAFile", "TLSMinVersion", "Supervise")

# beside_rows_*: the rows of `big` per system, chosen so that the long statement (BESIDE_SQL)
# alone takes 1-2 s on the 2-core VM of docs/performance.md: DuckDB aggregates about 40 times
# faster than PostgreSQL, so TCP-DuckDB's table is the larger.
FULL = dict(small_secs=4, small_reps=3, conn_levels=[1, 4, 16, 64], large_rows=10_000_000,
            large_reps=3, idle_conns=1000, connect_samples=300, connect_reps=3, churn_secs=5,
            churn_reps=3, churn_dbs=200, link_rows=5_000_000, link_reps=3, beside_secs=8,
            beside_warmup=2, beside_reps=3, beside_rows_tdb=64_000_000,
            beside_rows_pg=2_000_000, limits_secs=3, limits_reps=5, users_secs=3, users_reps=3)
QUICK = dict(small_secs=2, small_reps=1, conn_levels=[1, 4, 16, 64], large_rows=1_000_000,
             large_reps=1, idle_conns=200, connect_samples=50, connect_reps=1, churn_secs=2,
             churn_reps=1, churn_dbs=200, link_rows=200_000, link_reps=1, beside_secs=2,
             beside_warmup=1, beside_reps=1, beside_rows_tdb=4_000_000, beside_rows_pg=200_000,
             limits_secs=1, limits_reps=1, users_secs=2, users_reps=1)
SECTIONS = ("small", "large", "conns", "churn", "link", "tls", "beside", "limits", "users",
            "lookups", "tpch")

# The long statement of "short requests beside long ones": a hash aggregate of 100,000 groups
# over `big`, one row back. The same text on both systems.
BESIDE_SQL = "SELECT count(*), sum(a) FROM (SELECT g, avg(x) AS a FROM big GROUP BY g) s"
# The normal users of the bench (docs/protocol.md: create user, grant database, grant table):
# LONG_USER runs the long statements, SHORT_USER the short client and the limits' figures.
LONG_USER, SHORT_USER, USER_PASSWORD = "longuser", "shortuser", "bench-password-1"
# BENCH_LIMITS_BASELINE: a server binary built from a commit before the limits (e.g. make build
# in a `git archive` of 3716734, before the merges of stmt-limits and login-limits); when set,
# section 8 runs it too, with its defaults, alternating with the other two.
LIMITS_BASELINE = os.environ.get("BENCH_LIMITS_BASELINE", "")
# Every limit of the server that a request meets, relaxed as far as the settings go
# (src/config.c). The checks still run: MaxUserStatements is still counted under its lock,
# statements are still registered with the watchdog; only the bounds are out of reach.
RELAXED_LIMITS = ["--statement-timeout", "0", "--idle-in-transaction-timeout", "0",
                  "--idle-timeout", "0", "--max-user-statements", "1000000",
                  "--login-failure-limit", "0", "--max-connections-per-address", "0"]

LARGE_TDB_SQL = "SELECT i::INTEGER AS i, i*2 AS j, 'row ' || i AS s FROM range({n}) t(i)"
LARGE_PG_SQL = ("COPY (SELECT i, i::bigint*2 AS j, 'row ' || i AS s "
                "FROM generate_series(0, {last}) i) TO STDOUT")


class BenchError(Exception):
    pass


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---- measuring ------------------------------------------------------------------------------

def cpu_stat():
    """(steal, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    return fields[7], sum(fields)


def steal_pct(before, after):
    dt = after[1] - before[1]
    return 100.0 * (after[0] - before[0]) / dt if dt > 0 else 0.0


def proc_cpu(pid, children=False):
    """CPU seconds of a process (all its threads), plus its reaped children's if asked."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    ticks = int(rest[11]) + int(rest[12])
    if children:
        ticks += int(rest[13]) + int(rest[14])
    return ticks / CLK_TCK


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV and not k.startswith("PG")}
    env.update(extra or {})
    return env


def run(cmd, timeout, cwd=None, stdout=subprocess.PIPE, env=None):
    """Runs cmd to completion; returns (stdout text, wall s, the child's CPU s). Raises on failure.
    env: variables added to the cleaned environment (e.g. PGPASSWORD for the PG front end)."""
    c0, t0 = children_cpu(), time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, timeout=timeout, cwd=cwd,
                           env=clean_env(env))
    except subprocess.TimeoutExpired:
        raise BenchError("timed out after %ds: %s" % (timeout, shlex.join(cmd)))
    wall, cpu = time.monotonic() - t0, children_cpu() - c0
    if p.returncode != 0:
        raise BenchError("exit %d: %s\n%s" % (p.returncode, shlex.join(cmd),
                                             p.stderr.decode("utf-8", "replace")[-3000:]))
    out = p.stdout.decode("utf-8", "replace") if p.stdout is not None else ""
    return out, wall, cpu


def json_line(text, cmd):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise BenchError("no figures in the output of %s:\n%s" % (shlex.join(cmd), text[-2000:]))


class Figures:
    """Every run of every figure, grouped by figure id, with its steal."""

    def __init__(self):
        self.figs = {}
        self.order = []

    def add(self, fid, meta, command, values, steal):
        if fid not in self.figs:
            self.figs[fid] = dict(id=fid, command=command, runs=[], **meta)
            self.order.append(fid)
        values = dict(values, steal_pct=round(steal, 2))
        self.figs[fid]["runs"].append(values)
        log("%-44s %s" % (fid, " ".join("%s=%s" % (k, fmt_num(v)) for k, v in values.items()
                                         if isinstance(v, (int, float)))))

    def finish(self):
        for fig in self.figs.values():
            runs = fig["runs"]
            kept = [r for r in runs if r["steal_pct"] <= STEAL_LIMIT]
            fig["dropped"] = len(runs) - len(kept)
            fig["flagged"] = not kept
            if not kept:
                kept = [min(runs, key=lambda r: r["steal_pct"])]
            keys = [k for k, v in kept[0].items() if isinstance(v, (int, float))]
            fig["median"] = {k: statistics.median(r[k] for r in kept) for k in keys}
            fig["kept"] = len(kept)

    def get(self, fid, key):
        fig = self.figs.get(fid)
        if fig is None or key not in fig.get("median", {}):
            raise BenchError("figure missing: %s %s" % (fid, key))
        return fig["median"][key]


def fmt_num(v):
    if isinstance(v, float):
        return "%.4g" % v
    return str(v)


# DuckDB's phases by symbol name, for perf_summary (bench/pgwire.py, bench/cdc.py): the first
# pattern that matches a symbol of libduckdb.so counts its samples. A rough split: most of
# DuckDB's functions match none.
PHASES = (("parse (libpg_query, Transformer)", r"duckdb_libpgquery|Transformer"),
          ("rebind / bind (Binder, ExpressionBinder, Bind*)", r"Binder|::Bind|Rebind"),
          ("plan + optimize (Planner, Optimizer, rules, PhysicalPlanGenerator)",
           r"Planner|Optimizer|Rule|Rewriter|PushDown|Pushdown|PhysicalPlanGenerator|"
           r"ColumnBinding|Filter|Statistics|Deliminator|Reorder|Compressed|CommonSubExpression"),
          ("types, values, allocation (LogicalType, Value, string)",
           r"LogicalType|::Value|shared_ptr|string"),
          ("execution (Physical*, Pipeline*, Executor, scans, index)",
           r"Physical|Pipeline|Executor|Scan|ART|Index|Vector|DataChunk|Node"))


def perf_summary(data):
    """A flat `perf record` profile as text: self time by shared object, libduckdb.so by
    PHASES, and the top 40 functions."""
    p = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort",
                        "dso,sym", "--fields", "overhead,dso,sym", "-g", "none"],
                       capture_output=True, timeout=1200)
    rows = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*\S)", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3)))
    rows.sort(key=lambda r: -r[0])
    by_dso, phases = {}, {}
    for pctv, dso, sym in rows:
        by_dso[dso] = by_dso.get(dso, 0.0) + pctv
        if dso == "libduckdb.so":
            name = "other DuckDB"
            for ph, rx in PHASES:
                if re.search(rx, sym):
                    name = ph
                    break
            phases[name] = phases.get(name, 0.0) + pctv
    L = ["self time by shared object: " + ", ".join(
        "%s %.1f%%" % (d, v) for d, v in sorted(by_dso.items(), key=lambda x: -x[1]) if v >= 0.5),
        "", "libduckdb.so by phase (symbol names): " + ", ".join(
            "%s %.1f%%" % (d, v) for d, v in sorted(phases.items(), key=lambda x: -x[1])), "",
        "top functions:", ""]
    L += ["%6.2f%% %s %s" % (pctv, dso, sym[:160]) for pctv, dso, sym in rows[:40]]
    return "\n".join(L) + "\n"


# ---- servers --------------------------------------------------------------------------------

class Cleanup:
    """What to undo at the end, last first."""

    def __init__(self):
        self.fns = []

    def push(self, fn):
        self.fns.append(fn)

    def run(self):
        while self.fns:
            fn = self.fns.pop()
            try:
                fn()
            except Exception as e:  # keep cleaning up
                log("cleanup: %s" % e)


class TdbClient:
    """One protocol connection: a request line out, one answer line back."""

    def __init__(self, port, timeout=600):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.rfile = self.sock.makefile("rb")

    def req(self, text, ok=None):
        self.sock.sendall(text.encode("utf-8") + b"\n")
        raw = self.rfile.readline()
        if not raw:
            raise BenchError("TCP-DuckDB closed the connection after: %s" % text[:200])
        ans = raw.decode("utf-8", "replace").rstrip("\n")
        if ans.startswith("Error:") or (ok is not None and ans != ok):
            raise BenchError("TCP-DuckDB answered %r to %r" % (ans[:500], text[:200]))
        return ans

    def close(self):
        self.rfile.close()
        self.sock.close()


class TdbServer:
    def __init__(self, cleanup, tmp, name, args=(), binary=SERVER_BIN):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        # Without the supervisor: the CPU and memory read from /proc/PID are the server's. (A
        # baseline binary from before the supervisor has no such flag, and no supervisor.)
        unsupervised = ["--supervise", "off"] if binary == SERVER_BIN else []
        self.args = [binary, "--port", "0", "--addr", "127.0.0.1", "--data-dir", self.dir,
                     "--max-connections", "4000"] + unsupervised + list(args)
        self.proc = None
        self.port = None
        self.tail = []
        self.cleanup = cleanup

    def start(self):
        env = clean_env({"ENCRYPTION_KEY": secrets.token_hex(16), "SuperPassword": "duck"})
        self.proc = subprocess.Popen(self.args, cwd=self.dir, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.cleanup.push(self.stop)
        ready = threading.Event()

        def read_log():
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.tail = (self.tail + [line])[-50:]
                m = re.search(r"listening to .*:(\d+)$", line)
                if m and not ready.is_set():
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=read_log, daemon=True).start()
        if not ready.wait(60) or self.port is None:
            raise BenchError("TCP-DuckDB did not start:\n" + "\n".join(self.tail))
        return self

    def admin(self):
        c = TdbClient(self.port)
        c.req("login duck duck", ok="success")
        return c

    def cpu(self):
        return proc_cpu(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Postgres:
    """PostgreSQL 15 in a temp dir, TCP on 127.0.0.1, trust auth; as `postgres` when root."""

    def __init__(self, cleanup, tmp):
        self.dir = os.path.join(tmp, "pg")
        os.makedirs(self.dir)
        self.data = os.path.join(self.dir, "data")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(tmp, "postgres", "postgres")
            shutil.chown(self.dir, "postgres", "postgres")
            os.chmod(self.dir, 0o700)
        self.cleanup = cleanup

    def _pg(self, args, input=None, timeout=600):
        cmd = ([] if not self.as_root else ["runuser", "-u", "postgres", "--"]) + list(args)
        p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, cwd=self.dir,
                           env=clean_env())
        if p.returncode != 0:
            raise BenchError("%s failed:\n%s" % (shlex.join(cmd),
                                                 p.stderr.decode("utf-8", "replace")[-3000:]))
        return p.stdout.decode("utf-8", "replace")

    def start(self, max_connections, extra_conf=""):
        """extra_conf: more postgresql.conf lines (bench/cdc.py: wal_level = logical)."""
        self._pg([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("listen_addresses = '127.0.0.1'\nport = %d\n" % self.port)
            f.write("unix_socket_directories = '%s'\n" % self.dir)
            f.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
            f.write("max_connections = %d\nshared_buffers = 256MB\n" % max_connections)
            f.write("max_wal_size = 4GB\nautovacuum = off\n")
            f.write(extra_conf)
        self.cleanup.push(self.stop)
        self._pg([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l",
                  os.path.join(self.dir, "log"), "-w", "start"])
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())
        return self

    def stop(self):
        subprocess.run(([] if not self.as_root else ["runuser", "-u", "postgres", "--"]) +
                       [os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w",
                        "stop"], capture_output=True, timeout=120, cwd=self.dir)

    def psql(self, sql, db="postgres"):
        return self._pg([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h",
                         self.dir, "-p", str(self.port), "-U", "postgres", "-d", db],
                        input=sql.encode("utf-8"))

    def cpu(self):
        """The postmaster's CPU with its reaped children's: the backends of finished runs."""
        time.sleep(0.3)  # let the backends of the run exit and be reaped
        return proc_cpu(self.pid, children=True)


# ---- the bench ------------------------------------------------------------------------------

class Bench:
    def __init__(self, cfg, quick, tmp, cleanup):
        self.cfg = cfg
        self.quick = quick
        self.tmp = tmp
        self.cleanup = cleanup
        self.figs = Figures()
        self.notes = []
        self.tdb = None
        self.pg = None
        self.only = SECTIONS

    def want(self, section):
        return section in self.only

    def tdb_bench(self, *args):
        return [os.path.join(BENCH_BIN, "tdb_bench")] + [str(a) for a in args]

    # -- setup --

    def setup(self):
        cfg = self.cfg
        log("starting TCP-DuckDB (release) and PostgreSQL 15")
        self.tdb = TdbServer(self.cleanup, self.tmp, "tdb").start()
        self.pg = Postgres(self.cleanup, self.tmp).start(max_connections=max(cfg["conn_levels"])
                                                         + 40)
        a = self.tdb.admin()
        a.req("create database bench", ok="success")
        a.req("connect bench", ok="success")
        a.req("CREATE TABLE kv (id INTEGER PRIMARY KEY, val VARCHAR)", ok="success")
        a.req("INSERT INTO kv SELECT i, 'value ' || i FROM range(1, 100001) t(i)", ok="100000")
        a.close()
        self.pg.psql("CREATE DATABASE bench")
        self.pg.psql("CREATE TABLE kv (id int PRIMARY KEY, val text);"
                     "INSERT INTO kv SELECT i, 'value ' || i FROM generate_series(1, 100000) i;"
                     "VACUUM ANALYZE kv;", db="bench")
        self.pg.psql("CREATE ROLE %s LOGIN; CREATE ROLE %s LOGIN;"
                     "GRANT SELECT ON kv TO %s;" % (LONG_USER, SHORT_USER, SHORT_USER),
                     db="bench")
        self.scripts = os.path.join(self.tmp, "scripts")
        os.makedirs(self.scripts)
        with open(os.path.join(self.scripts, "select1.sql"), "w") as f:
            f.write("\\set one 1\nSELECT :one;\n")
        with open(os.path.join(self.scripts, "point.sql"), "w") as f:
            f.write("\\set id random(1, 100000)\nSELECT val FROM kv WHERE id = :id;\n")
        self.pglogs = os.path.join(self.tmp, "pgbench-logs")
        os.makedirs(self.pglogs)

    # -- 1. small queries --

    def small_tdb(self, mode, form, conns, srv=None, tls=(), secs=None, user=()):
        srv = srv or self.tdb
        secs = secs or self.cfg["small_secs"]
        cmd = self.tdb_bench("load", "--port", srv.port, "--database", "bench", "--conns",
                             conns, "--seconds", secs, "--mode", mode, "--form", form, *user,
                             *tls)
        st0, s0 = cpu_stat(), srv.cpu()
        out, _, ccpu = run(cmd, timeout=secs + 120)
        s1, st1 = srv.cpu(), cpu_stat()
        r = json_line(out, cmd)
        q = r["ops"]
        vals = dict(qps=r["qps"], p50_ms=r["p50_ms"], p99_ms=r["p99_ms"],
                    server_cpu_us_per_q=1e6 * (s1 - s0) / q, client_cpu_us_per_q=1e6 * ccpu / q,
                    rejected_per_s=r["rejected"] / r["seconds"])
        return cmd, vals, steal_pct(st0, st1)

    def pgbench_cmd(self, script, mode, conns, secs, extra=()):
        return [PGBENCH, "-n", "-h", "127.0.0.1", "-p", str(self.pg.port), "-U",
                "postgres", "-M", mode, "-f", os.path.join(self.scripts, script), "-c", str(conns),
                "-j", str(min(conns, os.cpu_count() or 2)), "-T", str(secs)] + list(extra) + \
               ["bench"]

    def small_pg(self, mode, form, conns):
        for name in os.listdir(self.pglogs):
            os.unlink(os.path.join(self.pglogs, name))
        pgmode = "prepared" if form == "params" else "simple"
        cmd = self.pgbench_cmd(mode + ".sql", pgmode, conns, self.cfg["small_secs"],
                               ["-l", "--sampling-rate", "0.1", "--log-prefix",
                                os.path.join(self.pglogs, "log")])
        st0, s0 = cpu_stat(), self.pg.cpu()
        out, _, ccpu = run(cmd, timeout=self.cfg["small_secs"] + 120)
        s1, st1 = self.pg.cpu(), cpu_stat()
        m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
        n = re.search(r"number of transactions actually processed: (\d+)", out)
        if not m or not n or int(n.group(1)) == 0:
            raise BenchError("no tps in pgbench output:\n" + out)
        q = int(n.group(1))
        lat = []
        for name in os.listdir(self.pglogs):
            with open(os.path.join(self.pglogs, name)) as f:
                lat.extend(int(line.split()[2]) for line in f if line.strip())
        if not lat:
            raise BenchError("pgbench wrote no latency log: " + shlex.join(cmd))
        lat.sort()
        vals = dict(qps=float(m.group(1)), p50_ms=lat[len(lat) // 2] / 1000.0,
                    p99_ms=lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1000.0,
                    server_cpu_us_per_q=1e6 * (s1 - s0) / q, client_cpu_us_per_q=1e6 * ccpu / q)
        return cmd, vals, steal_pct(st0, st1)

    def small_queries(self):
        cfg = self.cfg
        log("1. small queries: %d configurations x %d runs x 2 systems x %ss" %
            (4 * len(cfg["conn_levels"]), cfg["small_reps"], cfg["small_secs"]))
        for rep in range(cfg["small_reps"]):
            for mode in ("select1", "point"):
                for form in ("literal", "params"):
                    for conns in cfg["conn_levels"]:
                        meta = dict(section="small", mode=mode, form=form, conns=conns)
                        cmd, v, st = self.small_tdb(mode, form, conns)
                        self.figs.add("small.%s.%s.c%d.tdb" % (mode, form, conns),
                                      dict(meta, system="tcp-duckdb"), shlex.join(cmd), v, st)
                        cmd, v, st = self.small_pg(mode, form, conns)
                        self.figs.add("small.%s.%s.c%d.pg" % (mode, form, conns),
                                      dict(meta, system="postgresql"), shlex.join(cmd), v, st)

    # -- 2. large results --

    def large_results(self):
        cfg = self.cfg
        n = cfg["large_rows"]
        log("2. large results: %d rows x %d runs" % (n, cfg["large_reps"]))
        tdb_sql = LARGE_TDB_SQL.format(n=n)
        pg_sql = LARGE_PG_SQL.format(last=n - 1)
        # COPY's text: "i\tj\trow i\n" per row; its size follows from the digit counts.
        pg_bytes = sum(copy_line_bytes(i) for i in digit_ranges(n))
        for rep in range(cfg["large_reps"]):
            meta = dict(section="large", rows=n)
            self.large_tdb("large.tdb", dict(meta, system="tcp-duckdb"))

            cmd = [PSQL, "-X", "-h", "127.0.0.1", "-p", str(self.pg.port), "-U",
                   "postgres", "-d", "bench", "-c", pg_sql]
            st0, s0 = cpu_stat(), self.pg.cpu()
            with open(os.devnull, "wb") as devnull:
                _, wall, ccpu = run(cmd, timeout=600, stdout=devnull)
            s1, st1 = self.pg.cpu(), cpu_stat()
            self.figs.add("large.pg", dict(meta, system="postgresql"),
                          shlex.join(cmd) + " > /dev/null",
                          dict(rows_per_s=n / wall, mb_per_s=pg_bytes / wall / 1e6, seconds=wall,
                               server_cpu_s=s1 - s0, client_cpu_s=ccpu), steal_pct(st0, st1))

            # The ceiling twice: with DuckDB's threads as the server runs it
            # (DuckdbThreads' default, 1) and with DuckDB's own default (every core).
            for fid, threads in (("large.inproc", "1"), ("large.inproc_all", "0")):
                cmd = [os.path.join(BENCH_BIN, "inproc_json"), tdb_sql, threads]
                st0 = cpu_stat()
                out, _, _ = run(cmd, timeout=600)
                st1 = cpu_stat()
                r = json_line(out, cmd)
                self.figs.add(fid, dict(meta, system="in-process", threads=threads),
                              shlex.join(cmd),
                              dict(rows_per_s=r["rows_per_s"], mb_per_s=r["mb_per_s"],
                                   seconds=r["seconds"], cpu_s=r["cpu_s"]), steal_pct(st0, st1))

    def large_tdb(self, fid, meta, srv=None, tls=()):
        srv = srv or self.tdb
        n = self.cfg["large_rows"]
        cmd = self.tdb_bench("large", "--port", srv.port, "--database", "bench", "--sql",
                             LARGE_TDB_SQL.format(n=n), "--expect", n, *tls)
        st0, s0 = cpu_stat(), srv.cpu()
        out, _, ccpu = run(cmd, timeout=600)
        s1, st1 = srv.cpu(), cpu_stat()
        r = json_line(out, cmd)
        self.figs.add(fid, meta, shlex.join(cmd),
                      dict(rows_per_s=r["rows_per_s"], mb_per_s=r["mb_per_s"],
                           seconds=r["seconds"], server_cpu_s=s1 - s0, client_cpu_s=ccpu),
                      steal_pct(st0, st1))

    def conns_tdb(self, fid, meta, server_args=(), tls=()):
        """Idle-connection memory and connect latency, on a fresh server each time: on a server
        that already had many connections, malloc would reuse their freed memory and the RSS
        would not show what a connection costs."""
        cfg = self.cfg
        self.nconns = getattr(self, "nconns", 0) + 1
        srv = TdbServer(self.cleanup, self.tmp, "tdb-conns%d" % self.nconns, server_args).start()
        a = srv.admin()
        a.req("create database bench", ok="success")
        a.close()
        cmd = self.tdb_bench("conns", "--port", srv.port, "--database", "bench", "--pid",
                             srv.proc.pid, "--n", cfg["idle_conns"], "--samples",
                             cfg["connect_samples"], *tls)
        st0 = cpu_stat()
        out, _, _ = run(cmd, timeout=600)
        st1 = cpu_stat()
        r = json_line(out, cmd)
        self.figs.add(fid, meta, shlex.join(cmd),
                      {k: r[k] for k in ("per_conn_connected_kib", "per_conn_logged_in_kib",
                                         "per_conn_in_db_kib", "connect_p50_ms",
                                         "connect_p99_ms")}, steal_pct(st0, st1))
        srv.stop()
        shutil.rmtree(srv.dir, ignore_errors=True)

    # -- 3. connections --

    def connections(self):
        cfg = self.cfg
        log("3. connections: %d idle, %d connect-to-first-result samples" %
            (cfg["idle_conns"], cfg["connect_samples"]))
        for rep in range(cfg["connect_reps"]):
            self.conns_tdb("conns.tdb", dict(section="conns", system="tcp-duckdb"))
            secs = max(1, cfg["small_secs"])
            cmd = self.pgbench_cmd("select1.sql", "simple", 1, secs, ["-C"])
            st0 = cpu_stat()
            out, _, _ = run(cmd, timeout=secs + 120)
            st1 = cpu_stat()
            # With -C, pgbench's latency average includes the connection: it is the
            # duration divided by the transactions (each a new connection plus SELECT 1).
            m = re.search(r"latency average = ([\d.]+) ms", out)
            if not m or "average connection time" not in out:
                raise BenchError("no latency in pgbench -C output:\n" + out)
            self.figs.add("conns.pg", dict(section="conns", system="postgresql"), shlex.join(cmd),
                          dict(connect_mean_ms=float(m.group(1))), steal_pct(st0, st1))

    # -- 4. pool churn --

    def pool_churn(self):
        cfg = self.cfg
        ndb = cfg["churn_dbs"]
        log("4. pool churn: 16 clients over %d databases, PoolSize=8" % ndb)
        srv = TdbServer(self.cleanup, self.tmp, "tdb-churn", ["--pool-size", "8"]).start()
        a = srv.admin()
        for i in range(ndb):
            a.req("create database churn%d" % i, ok="success")
        a.close()
        for rep in range(cfg["churn_reps"]):
            cmd = self.tdb_bench("load", "--port", srv.port, "--conns", 16, "--seconds",
                                 cfg["churn_secs"], "--churn", ndb)
            st0, s0 = cpu_stat(), srv.cpu()
            out, _, ccpu = run(cmd, timeout=cfg["churn_secs"] + 120)
            s1, st1 = srv.cpu(), cpu_stat()
            r = json_line(out, cmd)
            self.figs.add("churn.tdb", dict(section="churn", system="tcp-duckdb"),
                          shlex.join(cmd),
                          dict(ops_per_s=r["qps"], busy=r["busy"], p50_ms=r["p50_ms"],
                               p99_ms=r["p99_ms"], server_cpu_ms_per_op=1e3 * (s1 - s0) / r["ops"]),
                          steal_pct(st0, st1))
        srv.stop()

    # -- 5. link --

    def link(self):
        cfg = self.cfg
        n = cfg["link_rows"]
        log("5. link: %d rows, with and without a primary key, x %d runs" % (n, cfg["link_reps"]))
        self.pg.psql("CREATE DATABASE linkbench")
        fill = ("INSERT INTO {s}.t5m SELECT g, g::bigint * 1000003, 'text value ' || g, "
                "'2024-01-01'::timestamp + g * interval '1 second', (g % 100000) / 100.0 "
                "FROM generate_series(1, {n}) g;")
        self.pg.psql("CREATE SCHEMA pk; CREATE SCHEMA nopk;"
                     "CREATE TABLE pk.t5m (id int PRIMARY KEY, b bigint, s text, ts timestamp, "
                     "x numeric(10,2));"
                     "CREATE TABLE nopk.t5m (id int, b bigint, s text, ts timestamp, "
                     "x numeric(10,2));" + fill.format(s="pk", n=n) +
                     fill.format(s="nopk", n=n) + "VACUUM ANALYZE;", db="linkbench")
        conninfo = "host=127.0.0.1 port=%d dbname=linkbench user=postgres" % self.pg.port
        url = "postgresql://postgres@127.0.0.1:%d/linkbench" % self.pg.port
        a = self.tdb.admin()
        k = 0
        for rep in range(cfg["link_reps"]):
            for schema in ("pk", "nopk"):
                db = "lnk%d" % k
                k += 1
                a.req("create database %s" % db, ok="success")
                req = 'link %s "%s" %s' % (db, url, schema)
                st0, s0, p0 = cpu_stat(), self.tdb.cpu(), self.pg.cpu()
                t0 = time.monotonic()
                a.req(req, ok="success")
                wall = time.monotonic() - t0
                s1, p1, st1 = self.tdb.cpu(), self.pg.cpu(), cpu_stat()
                self.figs.add("link.%s.tdb" % schema,
                              dict(section="link", system="tcp-duckdb", schema=schema, rows=n),
                              "(request on a logged-in TCP-DuckDB connection, after `create "
                              "database %s`) %s" % (db, req),
                              dict(rows_per_s=n / wall, seconds=wall, server_cpu_s=s1 - s0,
                                   pg_cpu_s=p1 - p0), steal_pct(st0, st1))
            cmd = [os.path.join(BENCH_BIN, "pg_drain"), conninfo,
                   "SELECT id, b, s, ts, x FROM pk.t5m", "binary"]
            st0, p0 = cpu_stat(), self.pg.cpu()
            out, _, ccpu = run(cmd, timeout=600)
            p1, st1 = self.pg.cpu(), cpu_stat()
            m = re.search(r"(\d+) rows, \d+ bytes in [\d.]+ s: ([\d.]+) rows/s", out)
            # In binary format the trailer arrives as one more message than there are rows.
            if not m or int(m.group(1)) not in (n, n + 1):
                raise BenchError("pg_drain: unexpected output: " + out)
            self.figs.add("link.drain", dict(section="link", system="libpq", rows=n),
                          shlex.join(cmd), dict(rows_per_s=float(m.group(2)), pg_cpu_s=p1 - p0,
                                                client_cpu_s=ccpu), steal_pct(st0, st1))
        a.close()

    # -- 6. TLS --

    def tls(self):
        """
        Plain TCP and TLS side by side on one server started with `--tls-mode optional` and the
        test certificates of tests/tls/make-certs.sh: `SELECT 1` (literal) at 1 and 16
        connections, the large result, and connections (memory, connect to first result).
        Clients verify the server (verify-full against the test CA), as a careful user would.
        """
        cfg = self.cfg
        log("6. TLS beside plain TCP")
        certs = os.path.join(self.tmp, "certs")
        p = subprocess.run([os.path.join(ROOT, "tests", "tls", "make-certs.sh"), certs],
                           capture_output=True, timeout=120)
        if p.returncode != 0:
            raise BenchError("make-certs.sh failed:\n" + p.stderr.decode("utf-8", "replace"))
        tls_args = ["--tls-mode", "optional", "--tls-cert-file",
                    os.path.join(certs, "server.crt"), "--tls-key-file",
                    os.path.join(certs, "server.key")]
        srv = TdbServer(self.cleanup, self.tmp, "tdb-tls", tls_args).start()
        a = srv.admin()
        a.req("create database bench", ok="success")
        a.close()
        plain = ("--sslmode", "disable")
        tls = ("--sslmode", "verify-full", "--sslrootcert", os.path.join(certs, "ca.crt"))
        for rep in range(cfg["small_reps"]):
            for conns in (1, 16):
                for name, args in (("plain", plain), ("tls", tls)):
                    cmd, v, st = self.small_tdb("select1", "literal", conns, srv, args)
                    self.figs.add("tls.select1.c%d.%s" % (conns, name),
                                  dict(section="tls", transport=name, conns=conns),
                                  shlex.join(cmd), v, st)
        for rep in range(cfg["large_reps"]):
            for name, args in (("plain", plain), ("tls", tls)):
                self.large_tdb("tls.large.%s" % name, dict(section="tls", transport=name), srv,
                               args)
        for rep in range(cfg["connect_reps"]):
            for name, args in (("plain", plain), ("tls", tls)):
                self.conns_tdb("tls.conns.%s" % name, dict(section="tls", transport=name),
                               tls_args, args)
        srv.stop()

    # -- 10. point lookups beside PostgreSQL --

    def lookups(self):
        """
        Point lookups by a random key of 100,000 (literal: a new text almost every time, which
        the server runs as the shape it auto-parameterised; params: one prepared statement) at
        1, 4 and 16 clients, as the super user and as SHORT_USER on a server with the result
        cache off, beside PostgreSQL (`pgbench -M simple` for literal, `-M prepared` for params).
        """
        cfg = self.cfg
        log("10. point lookups at 1/4/16 clients beside PostgreSQL")
        srv = self.nocache_server("tdb-lookups")
        who_user = {"super": [], "user": ["--user", SHORT_USER, "--password", USER_PASSWORD]}
        for rep in range(cfg["users_reps"]):
            for form in ("literal", "params"):
                for conns in (1, 4, 16):
                    order = ("super", "user") if rep % 2 == 0 else ("user", "super")
                    meta = dict(section="lookups", form=form, conns=conns)
                    for who in order:
                        cmd, v, st = self.small_tdb("point", form, conns, srv,
                                                    secs=cfg["users_secs"], user=who_user[who])
                        self.figs.add("lookups.%s.c%d.%s" % (form, conns, who),
                                      dict(meta, user=who), shlex.join(cmd), v, st)
                    cmd, v, st = self.small_pg("point", form, conns)
                    self.figs.add("lookups.%s.c%d.pg" % (form, conns),
                                  dict(meta, system="postgresql"), shlex.join(cmd), v, st)
        srv.stop()

    # -- all --

    # -- 7. short requests beside long ones --

    def tdb_users(self, srv, tables):
        """The bench's two normal users on srv: read on `bench`, select on the given tables."""
        a = srv.admin()
        for user in (LONG_USER, SHORT_USER):
            a.req("create user %s %s" % (user, USER_PASSWORD), ok="success")
            a.req("grant database bench %s read" % user, ok="success")
        for table, user in tables:
            a.req("grant table bench %s %s select" % (table, user), ok="success")
        a.close()

    def settle(self, srv):
        """Waits (at most 5 s) until srv uses less than 2% of a core: the long statements of
        the last run are interrupted by the server when it sees their clients gone."""
        deadline = time.monotonic() + 5
        c0 = srv.cpu()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            c1 = srv.cpu()
            if c1 - c0 < 0.005:
                return
            c0 = c1

    def beside_setup(self):
        cfg = self.cfg
        # The growing pool (the defaults: QueryWorkers 4, MaxWorkers 16, MaxUserStatements 8)
        # and the old fixed pool (MaxWorkers = QueryWorkers), each with its own copy of `big`.
        self.beside_srvs = [("tdb", self.tdb),
                            ("tdb_fixed", TdbServer(self.cleanup, self.tmp, "tdb-fixed",
                                                    ["--max-workers", "4"]).start())]
        create = ("CREATE TABLE big AS SELECT (i %% 100000)::INTEGER AS g, "
                  "(i %% 1000)::DOUBLE AS x FROM range(%d) t(i)" % cfg["beside_rows_tdb"])
        for name, srv in self.beside_srvs:
            a = srv.admin()
            if srv is not self.tdb:
                a.req("create database bench", ok="success")
            a.req("connect bench", ok="success")
            a.req(create, ok="success")
            a.close()
        self.tdb_users(self.tdb, [("big", LONG_USER), ("kv", SHORT_USER)])
        self.pg.psql("CREATE TABLE big AS SELECT i %% 100000 AS g, (i %% 1000)::float8 AS x "
                     "FROM generate_series(0, %d) i; VACUUM ANALYZE big; GRANT SELECT ON big "
                     "TO %s;" % (cfg["beside_rows_pg"] - 1, LONG_USER), db="bench")

    def beside_solo(self, rep):
        """The long statement alone, once per system and repetition: how long is long."""
        for name, srv in self.beside_srvs[:1]:
            a = srv.admin()
            a.req("connect bench", ok="success")
            st0, t0 = cpu_stat(), time.monotonic()
            a.req(BESIDE_SQL)
            wall, st1 = time.monotonic() - t0, cpu_stat()
            a.close()
            self.figs.add("beside.solo.tdb", dict(section="beside", system="tcp-duckdb"),
                          "(on a logged-in connection of the super user) " + BESIDE_SQL,
                          dict(seconds=wall), steal_pct(st0, st1))
        sql = "SET max_parallel_workers_per_gather = 0; " + BESIDE_SQL
        st0, t0 = cpu_stat(), time.monotonic()
        self.pg.psql(sql, db="bench")
        wall, st1 = time.monotonic() - t0, cpu_stat()
        self.figs.add("beside.solo.pg", dict(section="beside", system="postgresql"),
                      "psql -d bench -c " + shlex.quote(sql), dict(seconds=wall),
                      steal_pct(st0, st1))

    def beside_run(self, fid, meta, cmd, srv):
        """One run; server_cores is the server's CPU over the run's wall time (PostgreSQL: the
        backends of the run, reaped after it, with pg.cpu()'s pause)."""
        cfg = self.cfg
        cpu = srv.cpu if srv is not None else self.pg.cpu
        st0, s0 = cpu_stat(), cpu()
        out, wall, _ = run(cmd, timeout=cfg["beside_secs"] + cfg["beside_warmup"] + 180)
        s1, st1 = cpu(), cpu_stat()
        r = json_line(out, cmd)
        vals = {k: r[k] for k in ("qps", "p50_ms", "p99_ms", "max_ms", "long_done",
                                  "long_rejected", "long_per_s", "long_mean_s")}
        vals["server_cores"] = (s1 - s0) / wall
        self.figs.add(fid, meta, shlex.join(cmd), vals, steal_pct(st0, st1))
        if srv is not None:
            self.settle(srv)
        else:
            time.sleep(0.5)

    def beside(self):
        """
        One client's `SELECT 1` (literal, one in flight) while 0, QueryWorkers and
        2 x QueryWorkers other connections each run BESIDE_SQL in a loop; as the super user and
        as normal users (the long statements as LONG_USER, the short client as SHORT_USER:
        "another user's SELECT 1"). TCP-DuckDB with the growing pool (defaults), with the old
        fixed pool (--max-workers 4, super user only: its MaxUserStatements would be 2), and
        PostgreSQL (a process per session; the long sessions without parallel workers, so
        that each statement takes one core as on TCP-DuckDB with DuckdbThreads=1).
        """
        cfg = self.cfg
        workers = 4  # the server's QueryWorkers default, which the bench does not change
        levels = [0, workers, 2 * workers]
        log("7. short requests beside long ones: %s long statements x 2 users x %d runs" %
            (levels, cfg["beside_reps"]))
        self.beside_setup()
        secs, warm = cfg["beside_secs"], cfg["beside_warmup"]
        pg_base = "host=127.0.0.1 port=%d dbname=bench user=" % self.pg.port
        for rep in range(cfg["beside_reps"]):
            self.beside_solo(rep)
            for n in levels:
                for who in ("super", "user"):
                    meta = dict(section="beside", long=n, user=who)
                    runs = [("tdb", self.tdb), ("pg", None)]
                    if who == "super":
                        runs.insert(1, ("tdb_fixed", self.beside_srvs[1][1]))
                    for name, srv in runs:
                        if srv is not None:
                            users = (["--user", SHORT_USER, "--password", USER_PASSWORD,
                                      "--long-user", LONG_USER, "--long-password",
                                      USER_PASSWORD] if who == "user" else [])
                            cmd = self.tdb_bench("beside", "--port", srv.port, "--database",
                                                 "bench", "--seconds", secs, "--warmup", warm,
                                                 "--long", n, "--long-sql", BESIDE_SQL, *users)
                            system = "tcp-duckdb"
                        else:
                            su, lu = ((SHORT_USER, LONG_USER) if who == "user"
                                      else ("postgres", "postgres"))
                            cmd = [os.path.join(BENCH_BIN, "pg_beside"), "--conninfo",
                                   pg_base + su, "--long-conninfo", pg_base + lu, "--long-setup",
                                   "SET max_parallel_workers_per_gather = 0", "--seconds",
                                   str(secs), "--warmup", str(warm), "--long", str(n),
                                   "--long-sql", BESIDE_SQL]
                            system = "postgresql"
                        self.beside_run("beside.l%d.%s.%s" % (n, who, name),
                                        dict(meta, system=system, pool=name), cmd, srv)

    # -- 8. the cost of the limits --

    def limits(self):
        """
        The small-query figures (`SELECT 1` and the point lookup, literal, 1 and 16 clients)
        on the server with the limits at their defaults (self.tdb) and on one with every
        limit a request meets relaxed (RELAXED_LIMITS), alternating; as the super user (not
        held to MaxUserStatements) and as SHORT_USER (select on kv).
        """
        cfg = self.cfg
        log("8. the cost of the limits: defaults against %s" % " ".join(RELAXED_LIMITS))
        srv = TdbServer(self.cleanup, self.tmp, "tdb-relaxed", RELAXED_LIMITS).start()
        a = srv.admin()
        a.req("create database bench", ok="success")
        a.req("connect bench", ok="success")
        a.req("CREATE TABLE kv (id INTEGER PRIMARY KEY, val VARCHAR)", ok="success")
        a.req("INSERT INTO kv SELECT i, 'value ' || i FROM range(1, 100001) t(i)", ok="100000")
        a.close()
        self.tdb_users(srv, [("kv", SHORT_USER)])
        if not self.want("beside"):
            self.tdb_users(self.tdb, [("kv", SHORT_USER)])
        order = [("defaults", self.tdb), ("relaxed", srv)]
        if LIMITS_BASELINE:
            base = TdbServer(self.cleanup, self.tmp, "tdb-baseline", binary=LIMITS_BASELINE).start()
            a = base.admin()
            a.req("create database bench", ok="success")
            a.req("connect bench", ok="success")
            a.req("CREATE TABLE kv (id INTEGER PRIMARY KEY, val VARCHAR)", ok="success")
            a.req("INSERT INTO kv SELECT i, 'value ' || i FROM range(1, 100001) t(i)",
                  ok="100000")
            a.close()
            self.tdb_users(base, [("kv", SHORT_USER)])
            order.append(("baseline", base))
        for rep in range(cfg["limits_reps"]):
            for mode in ("select1", "point"):
                for conns in (1, 16):
                    for who in ("super", "user"):
                        user = (["--user", SHORT_USER, "--password", USER_PASSWORD]
                                if who == "user" else [])
                        # Which server goes first rotates with the repetition.
                        k = rep % len(order)
                        for name, s in order[k:] + order[:k]:
                            cmd, v, st = self.small_tdb(mode, "literal", conns, s,
                                                        secs=cfg["limits_secs"], user=user)
                            self.figs.add("limits.%s.c%d.%s.%s" % (mode, conns, who, name),
                                          dict(section="limits", mode=mode, conns=conns,
                                               user=who, limits=name), shlex.join(cmd), v, st)
        srv.stop()

    # -- 9. normal users beside the super user --

    def nocache_server(self, name="tdb-nocache"):
        """A server with the result cache off and the bench's kv table and SHORT_USER."""
        srv = TdbServer(self.cleanup, self.tmp, name, ["--cache-memory", "0"]).start()
        a = srv.admin()
        a.req("create database bench", ok="success")
        a.req("connect bench", ok="success")
        a.req("CREATE TABLE kv (id INTEGER PRIMARY KEY, val VARCHAR)", ok="success")
        a.req("INSERT INTO kv SELECT i, 'value ' || i FROM range(1, 100001) t(i)", ok="100000")
        a.close()
        self.tdb_users(srv, [("kv", SHORT_USER)])
        return srv

    def users(self):
        """
        Every small-query figure (`SELECT 1` and the point lookup, literal and params, 1 and 16
        clients) as the super user and as SHORT_USER (read on bench, select on kv), alternating
        (which goes first alternates with the repetition), on the default server and on one
        with the result cache off (`--cache-memory 0`), where every literal point lookup is
        checked and prepared afresh. A normal user's request passes the access check: the
        grants are read from the catalog, and a text the statement cache has not seen is
        classified by DuckDB (src/authz.c).
        """
        cfg = self.cfg
        log("9. normal users beside the super user")
        nocache = self.nocache_server()
        if not self.want("beside") and not self.want("limits"):
            self.tdb_users(self.tdb, [("kv", SHORT_USER)])
        who_user = {"super": [], "user": ["--user", SHORT_USER, "--password", USER_PASSWORD]}
        for rep in range(cfg["users_reps"]):
            for name, s in (("cache", self.tdb), ("nocache", nocache)):
                for mode in ("select1", "point"):
                    for form in ("literal", "params"):
                        for conns in (1, 16):
                            order = ("super", "user") if rep % 2 == 0 else ("user", "super")
                            for who in order:
                                cmd, v, st = self.small_tdb(mode, form, conns, s,
                                                            secs=cfg["users_secs"],
                                                            user=who_user[who])
                                self.figs.add("users.%s.%s.%s.c%d.%s" % (name, mode, form, conns,
                                                                         who),
                                              dict(section="users", mode=mode, form=form,
                                                   conns=conns, user=who, server=name),
                                              shlex.join(cmd), v, st)
        nocache.stop()

    # -- 10. point lookups beside PostgreSQL --

    def lookups(self):
        """
        Point lookups by a random key of 100,000 (literal: a new text almost every time, which
        the server runs as the shape it auto-parameterised; params: one prepared statement) at
        1, 4 and 16 clients, as the super user and as SHORT_USER on a server with the result
        cache off, beside PostgreSQL (`pgbench -M simple` for literal, `-M prepared` for params).
        """
        cfg = self.cfg
        log("10. point lookups at 1/4/16 clients beside PostgreSQL")
        srv = self.nocache_server("tdb-lookups")
        who_user = {"super": [], "user": ["--user", SHORT_USER, "--password", USER_PASSWORD]}
        for rep in range(cfg["users_reps"]):
            for form in ("literal", "params"):
                for conns in (1, 4, 16):
                    order = ("super", "user") if rep % 2 == 0 else ("user", "super")
                    meta = dict(section="lookups", form=form, conns=conns)
                    for who in order:
                        cmd, v, st = self.small_tdb("point", form, conns, srv,
                                                    secs=cfg["users_secs"], user=who_user[who])
                        self.figs.add("lookups.%s.c%d.%s" % (form, conns, who),
                                      dict(meta, user=who), shlex.join(cmd), v, st)
                    cmd, v, st = self.small_pg("point", form, conns)
                    self.figs.add("lookups.%s.c%d.pg" % (form, conns),
                                  dict(meta, system="postgresql"), shlex.join(cmd), v, st)
        srv.stop()

    # -- TPC-H-like queries (bench/tpch.py) --

    def tpch_queries(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import tpch
        tpch.run_section(self, sys.modules[__name__])

    # -- all --

    def run_all(self):
        self.setup()
        for section, fn in (("small", self.small_queries), ("large", self.large_results),
                            ("conns", self.connections), ("churn", self.pool_churn),
                            ("link", self.link), ("tls", self.tls), ("beside", self.beside),
                            ("limits", self.limits), ("users", self.users),
                            ("lookups", self.lookups), ("tpch", self.tpch_queries)):
            if self.want(section):
                fn()
        self.figs.finish()


def digit_ranges(n):
    """Yields (count, digits of i, digits of 2i) for i in 0..n-1, grouped, to size COPY's text."""
    out = []
    lo = 0
    bounds = sorted(set([10 ** d for d in range(1, 20)] + [(10 ** d + 1) // 2 for d in range(1, 20)]))
    for b in bounds:
        if lo >= n:
            break
        hi = min(b, n)
        if hi > lo:
            out.append((hi - lo, len(str(lo)), len(str(2 * lo))))
        lo = hi
    return out


def copy_line_bytes(group):
    count, di, dj = group
    return count * (di + 1 + dj + 1 + 4 + di + 1)


# ---- the report -----------------------------------------------------------------------------

def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    def cmd_out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, timeout=30, cwd=ROOT).stdout.decode(
                "utf-8", "replace").strip()
        except OSError:
            return ""
    return dict(nproc=os.cpu_count(), cpu_model=model, kernel=platform.release(),
                mem_gib=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1),
                postgresql=cmd_out([os.path.join(PG_BIN, "postgres"), "--version"]),
                git_commit=cmd_out(["git", "rev-parse", "--short", "HEAD"]),
                git_branch=cmd_out(["git", "rev-parse", "--abbrev-ref", "HEAD"]),
                git_dirty=bool(cmd_out(["git", "status", "--porcelain", "--untracked-files=no"])))


def targets(f, cfg, only=SECTIONS):
    """Each target of issue 8 whose sections ran: what, the figure, the goal, met or not."""
    out = []
    if not all(s in only for s in ("small", "large", "conns", "link")):
        return out
    for conns in [c for c in cfg["conn_levels"] if c >= 4]:
        t = f.get("small.point.params.c%d.tdb" % conns, "qps")
        p = f.get("small.point.params.c%d.pg" % conns, "qps")
        out.append(dict(target="parameterized point lookups, %d connections: >= PostgreSQL "
                        "(-M prepared)" % conns, ratio=t / p, goal=1.0, met=t >= p))
    for mode in ("select1", "point"):
        for conns in [c for c in cfg["conn_levels"] if c >= 4]:
            t = f.get("small.%s.literal.c%d.tdb" % (mode, conns), "qps")
            p = f.get("small.%s.literal.c%d.pg" % (mode, conns), "qps")
            out.append(dict(target="literal %s, %d connections: >= 1/2 of PostgreSQL (-M simple)"
                            % (mode, conns), ratio=t / p, goal=0.5, met=t >= 0.5 * p))
    t, p, c = (f.get("large.tdb", "rows_per_s"), f.get("large.pg", "rows_per_s"),
               f.get("large.inproc", "rows_per_s"))
    out.append(dict(target="large result: >= 4x PostgreSQL COPY rows/s", ratio=t / p, goal=4.0,
                    met=t >= 4 * p))
    out.append(dict(target="large result: >= 60% of the in-process ceiling (DuckDB threads=1, "
                    "as the server)", ratio=t / c, goal=0.6, met=t >= 0.6 * c))
    c = f.get("large.inproc_all", "rows_per_s")
    out.append(dict(target="large result: >= 60% of the in-process ceiling (DuckDB threads=all "
                    "cores)", ratio=t / c, goal=0.6, met=t >= 0.6 * c))
    kib = f.get("conns.tdb", "per_conn_in_db_kib")
    out.append(dict(target="idle connection (logged in, connected to a database): < 64 KiB",
                    ratio=kib / 64.0, goal=1.0, met=kib < 64, value="%.1f KiB" % kib))
    for schema in ("pk", "nopk"):
        t, d = f.get("link.%s.tdb" % schema, "rows_per_s"), f.get("link.drain", "rows_per_s")
        out.append(dict(target="link (%s): >= 80%% of the libpq binary drain" %
                        ("primary key" if schema == "pk" else "no key"), ratio=t / d, goal=0.8,
                        met=t >= 0.8 * d))
    return out


def fk(v):
    """Rows or queries per second, short."""
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e4:
        return "%.1fk" % (v / 1e3)
    return "%.0f" % v


def runs_note(fig):
    s = "%d/%d" % (fig["kept"], len(fig["runs"]))
    return s + (" FLAGGED" if fig["flagged"] else "")


def report_md(b, meta, tgts):
    f = b.figs
    m = meta["machine"]
    L = []
    L.append("# make bench: TCP-DuckDB and PostgreSQL 15 side by side\n")
    L.append("Run of %s (%s mode, %.1f min), branch `%s` at %s%s." % (
        meta["started"], meta["mode"], meta["minutes"], m["git_branch"], m["git_commit"],
        " (uncommitted changes)" if m["git_dirty"] else ""))
    L.append("Machine: `nproc` = %d, %s, %s GiB, Linux %s; %s. Loopback TCP (127.0.0.1) only; "
             "the servers and the clients share the CPUs." % (m["nproc"], m["cpu_model"],
                                                              m["mem_gib"], m["kernel"],
                                                              m["postgresql"]))
    L.append("Load average (1, 5, 15 min) at the start %s, at the end %s: other work on the "
             "machine shares the cores without showing as steal." % (
                 "/".join("%.1f" % x for x in meta["loadavg_start"]),
                 "/".join("%.1f" % x for x in meta["loadavg_end"])))
    L.append("")
    L.append("Method: TCP-DuckDB and PostgreSQL runs alternate (A/B); each run's CPU steal is read "
             "from /proc/stat; runs above %.0f%% steal are dropped; figures are medians of the "
             "runs kept (column *runs*: kept/total; FLAGGED: every run was above the limit and the "
             "least-stolen one is shown). TCP-DuckDB: release build, default settings except "
             "`--max-connections 4000` (and `--pool-size 8` for the churn). PostgreSQL: initdb "
             "defaults plus fsync=off, synchronous_commit=off, shared_buffers=256MB, "
             "autovacuum=off. Server CPU: utime+stime of the server process over the run "
             "(PostgreSQL: the postmaster with its exited backends). Client CPU: the client "
             "process (tdb_bench or pgbench), from getrusage.\n" % STEAL_LIMIT)

    if "small" in b.only:
        small_md(L, b)
    if "large" in b.only:
        large_md(L, b)
    if "conns" in b.only:
        conns_md(L, b)
    if "churn" in b.only:
        churn_md(L, b)
    if "link" in b.only:
        link_md(L, b)
    if "tls" in b.only:
        tls_md(L, b)
    if "beside" in b.only:
        beside_md(L, b)
    if "limits" in b.only:
        limits_md(L, b)
    if "users" in b.only:
        users_md(L, b)
    if "lookups" in b.only:
        lookups_md(L, b)
    if "tpch" in b.only:
        import tpch
        tpch.report(L, b)
    if tgts:
        L.append("## Targets (issue 8)\n")
        L.append("| target | ratio | goal | met |")
        L.append("|---|---:|---:|---|")
        for t in tgts:
            L.append("| %s | %.2f%s | %s | %s |" % (t["target"], t["ratio"],
                                                    " (%s)" % t["value"] if "value" in t else "",
                                                    t["goal"], "yes" if t["met"] else "**no**"))
        L.append("")

    dropped = sum(fig["dropped"] for fig in f.figs.values())
    total = sum(len(fig["runs"]) for fig in f.figs.values())
    flagged = [fig["id"] for fig in f.figs.values() if fig["flagged"]]
    L.append("Runs dropped for steal above %.0f%%: %d of %d.%s\n" % (
        STEAL_LIMIT, dropped, total,
        " Flagged (all runs stolen): " + ", ".join(flagged) if flagged else ""))

    L.append("## Commands\n")
    L.append("Ports are ephemeral and differ between runs; the build is `make build` plus "
             "`make bench-bin` (bench/bench.mk).\n")
    for fid in f.order:
        L.append("- `%s`: `%s`" % (fid, f.figs[fid]["command"].replace("`", "'")))
    L.append("")
    return "\n".join(L)


def small_md(L, b):
    f = b.figs
    L.append("## 1. Small queries\n")
    L.append("`SELECT 1` and a primary-key lookup on `kv` (100,000 rows: `id INTEGER PRIMARY KEY, "
             "val VARCHAR`, key drawn at random). *literal*: the SQL text with the value in it "
             "(TCP-DuckDB: `tdb_send_query` without parameters; PostgreSQL: `pgbench -M simple`). "
             "*params*: the value as a parameter (TCP-DuckDB: a typed request with `params`, "
             "prepared by the server; PostgreSQL: `pgbench -M prepared`). `SELECT 1` is "
             "`SELECT $1` / `SELECT :one` with the value 1 as the parameter. TCP-DuckDB's client, "
             "`build/bench/tdb_bench load`, and pgbench both run min(conns, nproc) threads, "
             "each keeping one query in flight on each of its connections (tdb_bench waits "
             "with epoll, pgbench with ppoll). %ss per run.\n" %
             b.cfg["small_secs"])
    L.append("| query | form | conns | TCP-DuckDB q/s | p50 ms | p99 ms | server CPU µs/q | "
             "client CPU µs/q | PostgreSQL q/s | p50 ms | p99 ms | server CPU µs/q | "
             "client CPU µs/q | q/s ratio | runs |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode in ("select1", "point"):
        for form in ("literal", "params"):
            for conns in b.cfg["conn_levels"]:
                t = f.figs["small.%s.%s.c%d.tdb" % (mode, form, conns)]
                p = f.figs["small.%s.%s.c%d.pg" % (mode, form, conns)]
                tm, pm = t["median"], p["median"]
                L.append("| %s | %s | %d | %s | %.3f | %.3f | %.0f | %.0f | %s | %.3f | %.3f | "
                         "%.0f | %.0f | %.2f | %s, %s |" % (
                             "SELECT 1" if mode == "select1" else "point lookup", form, conns,
                             fk(tm["qps"]), tm["p50_ms"], tm["p99_ms"],
                             tm["server_cpu_us_per_q"], tm["client_cpu_us_per_q"], fk(pm["qps"]),
                             pm["p50_ms"], pm["p99_ms"], pm["server_cpu_us_per_q"],
                             pm["client_cpu_us_per_q"], tm["qps"] / pm["qps"], runs_note(t),
                             runs_note(p)))
    L.append("")


def large_md(L, b):
    f = b.figs
    L.append("## 2. Large results\n")
    n = b.cfg["large_rows"]
    L.append("%s rows of `(i INTEGER, i*2 BIGINT, 'row ' || i VARCHAR)`. TCP-DuckDB: the C "
             "library's streaming API (`tdb_query_start`, `tdb_next_row`, every cell read); MB/s "
             "counts the bytes received (TCP_INFO of the connection). PostgreSQL: psql's `COPY ... TO STDOUT` (text) to "
             "/dev/null. In-process ceiling: the same query inside DuckDB, streamed and encoded "
             "with the server's json.c into a reused buffer, no network.\n" % format(n, ","))
    L.append("| what | rows/s | MB/s | seconds | server CPU s | client CPU s | runs |")
    L.append("|---|---:|---:|---:|---:|---:|---|")
    for fid, name in (("large.tdb", "TCP-DuckDB, C client"), ("large.pg", "PostgreSQL, psql COPY"),
                      ("large.inproc", "in-process ceiling (DuckDB + json.c), threads=1 as the "
                       "server"),
                      ("large.inproc_all", "in-process ceiling, DuckDB threads = all cores")):
        fig = f.figs[fid]
        md = fig["median"]
        L.append("| %s | %s | %.0f | %.2f | %s | %s | %s |" % (
            name, fk(md["rows_per_s"]), md["mb_per_s"], md["seconds"],
            "%.2f" % md["server_cpu_s"] if "server_cpu_s" in md else "-",
            "%.2f" % md["client_cpu_s"] if "client_cpu_s" in md else "%.2f (all)" % md["cpu_s"],
            runs_note(fig)))
    L.append("")


def conns_md(L, b):
    f = b.figs
    L.append("## 3. Connections\n")
    c = f.figs["conns.tdb"]
    cm = c["median"]
    L.append("Server RSS (VmRSS) growth per connection with %d connections open (a fresh server "
             "each run), measured after each step settles: just connected %.1f KiB, logged in %.1f KiB, connected to a "
             "database (`connect bench`) %.1f KiB (runs %s).\n" % (
                 b.cfg["idle_conns"], cm["per_conn_connected_kib"], cm["per_conn_logged_in_kib"],
                 cm["per_conn_in_db_kib"], runs_note(c)))
    pcm = f.figs["conns.pg"]["median"]
    L.append("From TCP connect to the first result (connect, `login`, `connect bench`, `SELECT 1`; "
             "a new connection each time): TCP-DuckDB p50 %.3f ms, p99 %.3f ms over %d "
             "connections; PostgreSQL (`pgbench -C`, connection plus `SELECT 1`, mean) %.3f ms "
             "(runs %s).\n" % (cm["connect_p50_ms"], cm["connect_p99_ms"],
                               b.cfg["connect_samples"], pcm["connect_mean_ms"],
                               runs_note(f.figs["conns.pg"])))


def churn_md(L, b):
    f = b.figs
    L.append("## 4. Pool churn\n")
    ch = f.figs["churn.tdb"]
    chm = ch["median"]
    L.append("16 clients, each repeating `connect churnK`, `SELECT 1`, `disconnect` with K cycling "
             "over %d databases, server `--pool-size 8`: **%s operations/s** (p50 %.2f ms, p99 "
             "%.2f ms, server CPU %.2f ms per operation; `Server Busy` answers: %d; runs %s). "
             "PostgreSQL has no equivalent (no pool of database files).\n" % (
                 b.cfg["churn_dbs"], fk(chm["ops_per_s"]), chm["p50_ms"], chm["p99_ms"],
                 chm["server_cpu_ms_per_op"], chm["busy"], runs_note(ch)))


def link_md(L, b):
    f = b.figs
    L.append("## 5. Link\n")
    L.append("%s rows of `(id int, b bigint, s text, ts timestamp, x numeric(10,2))` in "
             "PostgreSQL, linked into an empty TCP-DuckDB database, beside `pg_drain` draining the "
             "same `COPY ... TO STDOUT (FORMAT binary)` with libpq.\n" %
             format(b.cfg["link_rows"], ","))
    L.append("| what | rows/s | share of the drain | server CPU s | PostgreSQL CPU s | runs |")
    L.append("|---|---:|---:|---:|---:|---|")
    drain = f.figs["link.drain"]
    dr = drain["median"]["rows_per_s"]
    for fid, name in (("link.drain", "`pg_drain` binary (ceiling)"),
                      ("link.pk.tdb", "`link`, table with primary key"),
                      ("link.nopk.tdb", "`link`, table without key")):
        fig = f.figs[fid]
        md = fig["median"]
        L.append("| %s | %s | %.0f%% | %s | %.2f | %s |" % (
            name, fk(md["rows_per_s"]), 100 * md["rows_per_s"] / dr,
            "%.2f" % md["server_cpu_s"] if "server_cpu_s" in md else "-", md["pg_cpu_s"],
            runs_note(fig)))
    L.append("")


def tls_md(L, b):
    f = b.figs
    L.append("## 6. TLS\n")
    L.append("One TCP-DuckDB server with `--tls-mode optional` (test certificate, P-256); plain "
             "clients use `--sslmode disable`, TLS clients `--sslmode verify-full` against the "
             "test CA; the two alternate.\n")
    L.append("| what | plain | TLS | TLS/plain | runs (plain, TLS) |")
    L.append("|---|---:|---:|---:|---|")
    rows = []
    for conns in (1, 16):
        rows.append(("`SELECT 1` literal, %d conns, q/s" % conns, "tls.select1.c%d" % conns, "qps",
                     fk))
        rows.append(("`SELECT 1` literal, %d conns, server CPU µs/q" % conns,
                     "tls.select1.c%d" % conns, "server_cpu_us_per_q", lambda v: "%.0f" % v))
    rows += [("large result, rows/s", "tls.large", "rows_per_s", fk),
             ("large result, MB/s", "tls.large", "mb_per_s", lambda v: "%.0f" % v),
             ("large result, server CPU s", "tls.large", "server_cpu_s", lambda v: "%.2f" % v),
             ("large result, client CPU s", "tls.large", "client_cpu_s", lambda v: "%.2f" % v),
             ("connect to first result, p50 ms", "tls.conns", "connect_p50_ms",
              lambda v: "%.3f" % v),
             ("idle connection in a database, KiB", "tls.conns", "per_conn_in_db_kib",
              lambda v: "%.1f" % v)]
    for label, base, key, fmt in rows:
        pf, tf = f.figs[base + ".plain"], f.figs[base + ".tls"]
        pv, tv = f.get(base + ".plain", key), f.get(base + ".tls", key)
        L.append("| %s | %s | %s | %.2f | %s, %s |" % (label, fmt(pv), fmt(tv),
                                                       tv / pv if pv else float("nan"),
                                                       runs_note(pf), runs_note(tf)))
    L.append("")


def beside_md(L, b):
    f = b.figs
    cfg = b.cfg
    L.append("## 7. Short requests beside long ones\n")
    L.append("One client sends `SELECT 1` (literal, one in flight) back to back for %ss while N "
             "other connections each run `%s` in a loop (started %ss earlier). Long statement "
             "alone: TCP-DuckDB %.2f s (`big`: %s rows), PostgreSQL %.2f s (%s rows, no parallel "
             "workers). *super*: every connection is the super user (`duck` / `postgres`); "
             "*user*: the long statements run as `%s` (read on the database, select on `big`), "
             "the short client as `%s`. TCP-DuckDB: the growing pool (defaults: QueryWorkers 4, "
             "MaxWorkers 16, MaxUserStatements 8) and the old fixed pool (`--max-workers 4`; "
             "super user only). *long/s*: long statements that ended during the run, per "
             "second; *rejected*: long ones answered `Too Many Statements`; *server cores*: the "
             "server's CPU seconds over the run's wall time (including the warm-up).\n" % (
                 cfg["beside_secs"], BESIDE_SQL, cfg["beside_warmup"],
                 f.get("beside.solo.tdb", "seconds"), format(cfg["beside_rows_tdb"], ","),
                 f.get("beside.solo.pg", "seconds"), format(cfg["beside_rows_pg"], ","),
                 LONG_USER, SHORT_USER))
    L.append("| long | user | system | SELECT 1 p50 ms | p99 ms | max ms | SELECT 1 q/s | "
             "long/s | long mean s | rejected | server cores | runs |")
    L.append("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    names = dict(tdb="TCP-DuckDB", tdb_fixed="TCP-DuckDB, fixed pool", pg="PostgreSQL")
    for fid in [i for i in f.order if i.startswith("beside.l")]:
        fig = f.figs[fid]
        md = fig["median"]
        L.append("| %d | %s | %s | %.3f | %.3f | %.1f | %s | %.2f | %.2f | %d | %s | %s |" % (
            fig["long"], fig["user"], names[fig["pool"]], md["p50_ms"], md["p99_ms"],
            md["max_ms"], fk(md["qps"]), md["long_per_s"], md["long_mean_s"],
            md["long_rejected"], "%.2f" % md["server_cores"] if "server_cores" in md else "-",
            runs_note(fig)))
    L.append("")


def limits_md(L, b):
    f = b.figs
    L.append("## 8. The cost of the limits\n")
    L.append("The small-query figures on two servers, one with the limits at their defaults, "
             "one started with `%s` (every limit a request meets, relaxed as far as the settings "
             "go; the checks themselves still run). Literal SQL, `tdb_bench load`, %ss per run, "
             "the two servers alternating (which one goes first alternates too). *super*: the "
             "super user (not held to MaxUserStatements); *user*: `%s` (select on kv); "
             "*rejected/s*: queries on the defaults' server answered `Too Many Statements` "
             "(16 connections of one user against MaxUserStatements 8), sent again at once and "
             "not counted in q/s.\n" % (
                 " ".join(RELAXED_LIMITS), b.cfg["limits_secs"], SHORT_USER))
    L.append("| query | conns | user | defaults q/s | p50 ms | p99 ms | server CPU µs/q | "
             "rejected/s | relaxed q/s | p50 ms | p99 ms | server CPU µs/q | "
             "q/s defaults/relaxed | runs |")
    L.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode in ("select1", "point"):
        for conns in (1, 16):
            for who in ("super", "user"):
                d = f.figs["limits.%s.c%d.%s.defaults" % (mode, conns, who)]
                r = f.figs["limits.%s.c%d.%s.relaxed" % (mode, conns, who)]
                dm, rm = d["median"], r["median"]
                L.append("| %s | %d | %s | %s | %.3f | %.3f | %.0f | %s | %s | %.3f | %.3f | "
                         "%.0f | %.3f | %s, %s |" % (
                             "SELECT 1" if mode == "select1" else "point lookup", conns, who,
                             fk(dm["qps"]), dm["p50_ms"], dm["p99_ms"],
                             dm["server_cpu_us_per_q"], fk(dm["rejected_per_s"]), fk(rm["qps"]),
                             rm["p50_ms"],
                             rm["p99_ms"], rm["server_cpu_us_per_q"], dm["qps"] / rm["qps"],
                             runs_note(d), runs_note(r)))
    L.append("")
    if "limits.select1.c1.super.baseline" not in f.figs:
        return
    L.append("Against a server built before the limits (`%s`, its defaults), alternating with "
             "the two above. *best-run CPU ratio*: the lowest server CPU per query of each "
             "server's runs (the least disturbed), defaults / baseline.\n" % LIMITS_BASELINE)
    L.append("| query | conns | user | defaults q/s | server CPU µs/q | baseline q/s | p50 ms | "
             "server CPU µs/q | q/s defaults/baseline | best-run CPU ratio | runs |")
    L.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode in ("select1", "point"):
        for conns in (1, 16):
            for who in ("super", "user"):
                d = f.figs["limits.%s.c%d.%s.defaults" % (mode, conns, who)]
                r = f.figs["limits.%s.c%d.%s.baseline" % (mode, conns, who)]
                dm, rm = d["median"], r["median"]
                best = (min(x["server_cpu_us_per_q"] for x in d["runs"]) /
                        min(x["server_cpu_us_per_q"] for x in r["runs"]))
                L.append("| %s | %d | %s | %s | %.0f | %s | %.3f | %.0f | %.3f | %.3f | %s |" % (
                    "SELECT 1" if mode == "select1" else "point lookup", conns, who,
                    fk(dm["qps"]), dm["server_cpu_us_per_q"], fk(rm["qps"]), rm["p50_ms"],
                    rm["server_cpu_us_per_q"], dm["qps"] / rm["qps"], best, runs_note(r)))
    L.append("")


def users_md(L, b):
    f = b.figs
    L.append("## 9. Normal users beside the super user\n")
    L.append("The small-query figures of section 1 as the super user and as `%s` (read on "
             "`bench`, select on `kv`), the two alternating; %ss per run. *cache*: the default "
             "server (the result cache on); *no cache*: `--cache-memory 0`, so that every literal "
             "point lookup is a new text, checked and prepared. Clients over MaxUserStatements "
             "(8 per user) get `Too Many Statements` and send again (*rejected/s*, not counted).\n"
             % (SHORT_USER, b.cfg["users_secs"]))
    L.append("| server | query | form | conns | super q/s | server CPU µs/q | user q/s | "
             "server CPU µs/q | rejected/s | user / super | runs |")
    L.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in ("cache", "nocache"):
        for mode in ("select1", "point"):
            for form in ("literal", "params"):
                for conns in (1, 16):
                    k = "users.%s.%s.%s.c%d." % (name, mode, form, conns)
                    s, u = f.figs[k + "super"], f.figs[k + "user"]
                    sm, um = s["median"], u["median"]
                    L.append("| %s | %s | %s | %d | %s | %.0f | %s | %.0f | %s | %.2f | %s, %s |" % (
                        "cache" if name == "cache" else "no cache",
                        "SELECT 1" if mode == "select1" else "point lookup", form, conns,
                        fk(sm["qps"]), sm["server_cpu_us_per_q"], fk(um["qps"]),
                        um["server_cpu_us_per_q"], fk(um["rejected_per_s"]),
                        um["qps"] / sm["qps"], runs_note(s), runs_note(u)))
    L.append("")


def lookups_md(L, b):
    f = b.figs
    L.append("## 10. Point lookups beside PostgreSQL\n")
    L.append("A random key of 100,000 per request, result cache off (`--cache-memory 0`); "
             "*literal*: the key in the text (PostgreSQL: `pgbench -M simple`), *params*: one "
             "prepared statement (`pgbench -M prepared`); super user and `%s` alternating. "
             "%ss per run (PostgreSQL: %ss).\n" % (SHORT_USER, b.cfg["users_secs"],
                                                   b.cfg["small_secs"]))
    L.append("| form | conns | PostgreSQL q/s | super q/s | CPU µs/q | user q/s | CPU µs/q | "
             "super / PG | user / PG | user / super |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for form in ("literal", "params"):
        for conns in (1, 4, 16):
            k = "lookups.%s.c%d." % (form, conns)
            p, s, u = (f.figs[k + w]["median"] for w in ("pg", "super", "user"))
            L.append("| %s | %d | %s | %s | %.0f | %s | %.0f | %.2f | %.2f | %.2f |" % (
                form, conns, fk(p["qps"]), fk(s["qps"]), s["server_cpu_us_per_q"], fk(u["qps"]),
                u["server_cpu_us_per_q"], s["qps"] / p["qps"], u["qps"] / p["qps"],
                u["qps"] / s["qps"]))
    L.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short development run")
    ap.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""),
                    help="comma-separated sections to run (default: all): " + ",".join(SECTIONS))
    args = ap.parse_args()
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    cfg = QUICK if quick else FULL
    only = tuple(x.strip() for x in args.only.split(",") if x.strip()) or SECTIONS
    unknown = [x for x in only if x not in SECTIONS]
    if unknown:
        raise SystemExit("bench: unknown section(s) %s; the sections are %s" %
                         (",".join(unknown), ",".join(SECTIONS)))
    for p in (SERVER_BIN, os.path.join(BENCH_BIN, "tdb_bench"),
              os.path.join(BENCH_BIN, "inproc_json"), os.path.join(BENCH_BIN, "pg_drain"),
              os.path.join(BENCH_BIN, "pg_beside"), os.path.join(BENCH_BIN, "tpch_run"),
              PGBENCH, PSQL, os.path.join(PG_BIN, "initdb")):
        if not os.path.exists(p):
            raise SystemExit("bench: %s is missing: run `make bench`" % p)

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    # SIGINT too: a shell that starts the run in the background leaves it ignored.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    for name in ("latest.md", "latest.json"):  # no stale figures if this run fails
        if os.path.exists(os.path.join(RESULTS, name)):
            os.unlink(os.path.join(RESULTS, name))
    cleanup = Cleanup()
    tmp = tempfile.mkdtemp(prefix="tcpduckdb-bench-")
    cleanup.push(lambda: shutil.rmtree(tmp, ignore_errors=True))
    started = datetime.datetime.now()
    load_start = os.getloadavg()
    t0 = time.monotonic()
    b = Bench(cfg, quick, tmp, cleanup)
    b.only = only
    try:
        b.run_all()
        meta = dict(started=started.strftime("%Y-%m-%d %H:%M"), mode="quick" if quick else "full",
                    sections=list(only), loadavg_start=load_start, loadavg_end=os.getloadavg(),
                    minutes=(time.monotonic() - t0) / 60, machine=machine(), config=cfg,
                    steal_limit_pct=STEAL_LIMIT)
        tgts = targets(b.figs, cfg, only)
        md = report_md(b, meta, tgts)
    except BenchError as e:
        log("FAILED: %s" % e)
        return 1
    except KeyboardInterrupt:
        log("interrupted; stopping everything")
        return 130
    finally:
        cleanup.run()
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        json.dump(dict(meta, targets=tgts, notes=b.notes,
                       figures=[b.figs.figs[i] for i in b.figs.order]), f, indent=1)
    with open(os.path.join(RESULTS, "latest.md"), "w") as f:
        f.write(md)
    log("wrote bench/results/latest.md and latest.json (%.1f min)" % meta["minutes"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
