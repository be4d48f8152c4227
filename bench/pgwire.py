#!/usr/bin/env python3
"""
`make bench-pgwire`: the PostgreSQL wire protocol front end (issue 16) beside PostgreSQL 15 and
beside TCP-DuckDB's own line protocol, on the same data (docs/performance.md, "PostgreSQL wire
protocol (issue 16)").

One TCP-DuckDB release server (`--pg-port -1 --cache-memory 0`: the result cache off, so that
both protocols run every lookup; with it on, each protocol's hit ratio depends on how warm its
own entries are, which made the line protocol look faster on the point lookup) and one
PostgreSQL 15 (bench/run.py's Postgres,
with a SCRAM-SHA-256 role `duck` so that both servers authenticate the same way). Both get the
same `kv` table as `make bench` and `pgbench -i -s 1` (the front end runs pgbench's own init).
The figures, each system in turn (A/B, the order swapped every repetition), with the CPU steal
of each run from /proc/stat and the load average:

  - pgbench `-S -M simple|prepared` at 1/4/16 clients;
  - `SELECT 1` (`-f`, run.py's select1.sql: literal in simple mode, `$1` in prepared mode) and
    the `kv` point lookup (`-f point.sql`) at 1/4/16 clients, and the same query and load on the
    line protocol (`tdb_bench load --mode select1|point --form literal|params`) on the same
    server: the "PG wire within 10% of the line protocol" comparison;
  - `pgbench -C -S` (a new connection, SCRAM included, per transaction);
  - pgbench's TPC-B-like script with `--max-tries`, and its retry rate;
  - `COPY (10M rows) TO STDOUT` through psql into a file (its size checked), and the same
    rows through the line protocol (`tdb_bench large`);
  - psql's `\\copy` of 1M rows in (text format).

Then the statement-cache lookups per statement (the server's `stats`) for 500 prepared
statements on the PG port against the line protocol (bench/results/pgwire-lookups.txt).
With `perf` installed (Debian: linux-perf; PGWIRE_PROFILE=0 leaves it out) the server is
profiled (perf record, flat) during `pgbench -S -M prepared -c 4`, the point lookup with
`-M prepared` on the PG port and the same lookup with typed params on the line protocol:
bench/results/pgwire-profile.txt, with DuckDB's share split by phase (by symbol name).

Writes bench/results/pgwire.md and pgwire.json. Standard library only, on bench/run.py.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402

SECS = int(os.environ.get("PGWIRE_SECS", "4"))
REPS = int(os.environ.get("PGWIRE_REPS", "1"))
COPY_ROWS = int(os.environ.get("PGWIRE_COPY_ROWS", "10000000"))
COPYIN_ROWS = int(os.environ.get("PGWIRE_COPYIN_ROWS", "1000000"))
PROFILE = os.environ.get("PGWIRE_PROFILE", "1") not in ("", "0")
CONNS = [1, 4, 16]
USER, PASSWORD = "duck", "duck"
PW_ENV = {"PGPASSWORD": PASSWORD}
# The same text on both systems: DuckDB's generate_series is inclusive, as PostgreSQL's.
COPY_SQL = ("COPY (SELECT i, i*2 AS j, 'row ' || i AS s FROM generate_series(0, {last}) AS t(i)) "
            "TO STDOUT")


def pg_port_of(srv, timeout=30):
    """The PostgreSQL-protocol port a server started with --pg-port -1 logged."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in srv.tail:
            m = re.search(r"listening to .*:(\d+) \(PostgreSQL protocol\)", line)
            if m:
                return int(m.group(1))
        time.sleep(0.05)
    raise R.BenchError("TCP-DuckDB logged no PostgreSQL port:\n" + "\n".join(srv.tail))


def parse_pgbench(out, cmd):
    def num(rx, conv=float, need=True):
        m = re.search(rx, out)
        if not m:
            if need:
                raise R.BenchError("no %r in the output of %s:\n%s" % (rx, shlex.join(cmd), out))
            return None
        return conv(m.group(1))

    v = dict(tps=num(r"tps = ([\d.]+) \((?:without initial connection|including reconnection) "
                     r"times?\)"),
             xacts=num(r"number of transactions actually processed: (\d+)", int),
             lat_avg_ms=num(r"latency average = ([\d.]+) ms"))
    if v["xacts"] == 0:
        raise R.BenchError("pgbench processed nothing: " + shlex.join(cmd))
    failed = num(r"number of failed transactions: (\d+)", int, need=False)
    retried = num(r"number of transactions retried: (\d+)", int, need=False)
    retries = num(r"total number of retries: (\d+)", int, need=False)
    conn = num(r"average connection time = ([\d.]+) ms", float, need=False)
    if failed is not None:
        v["failed"] = failed
    if retried is not None:
        v["retried_pct"] = 100.0 * retried / v["xacts"]
        v["retries"] = retries or 0
    if conn is not None:
        v["conn_ms"] = conn
    return v


class PgwireBench:
    def __init__(self, tmp, cleanup):
        self.tmp = tmp
        self.cleanup = cleanup
        self.figs = R.Figures()

    def setup(self):
        R.log("starting TCP-DuckDB (release, --pg-port -1, result cache off) and PostgreSQL 15")
        self.tdb = R.TdbServer(self.cleanup, self.tmp, "tdb",
                               ["--pg-port", "-1", "--cache-memory", "0"]).start()
        self.tdb_pg_port = pg_port_of(self.tdb)
        self.pg = R.Postgres(self.cleanup, self.tmp).start(max_connections=60)
        # SCRAM for `duck` on PostgreSQL too, so that -C costs the same handshake on both.
        hba = os.path.join(self.pg.data, "pg_hba.conf")
        with open(hba) as f:
            rest = f.read()
        with open(hba, "w") as f:
            f.write("host all duck 127.0.0.1/32 scram-sha-256\n" + rest)
        self.pg.psql("SET password_encryption = 'scram-sha-256';"
                     "CREATE ROLE duck LOGIN SUPERUSER PASSWORD '%s'; SELECT pg_reload_conf();"
                     % PASSWORD)
        self.pg.psql("CREATE DATABASE bench OWNER duck")
        a = self.tdb.admin()
        a.req("create database bench", ok="success")
        a.req("connect bench", ok="success")
        a.req("CREATE TABLE kv (id INTEGER PRIMARY KEY, val VARCHAR)", ok="success")
        a.req("INSERT INTO kv SELECT i, 'value ' || i FROM range(1, 100001) t(i)", ok="100000")
        a.req("CREATE TABLE copyin (i BIGINT, j BIGINT, s VARCHAR)", ok="success")
        a.close()
        self.psql(self.pg.port, "CREATE TABLE kv (id int PRIMARY KEY, val text);"
                  "INSERT INTO kv SELECT i, 'value ' || i FROM generate_series(1, 100000) i;"
                  "CREATE TABLE copyin (i bigint, j bigint, s text); ANALYZE kv;")
        for name, port in (("tdb", self.tdb_pg_port), ("pg", self.pg.port)):
            cmd = [R.PGBENCH, "-i", "-s", "1", "-h", "127.0.0.1", "-p", str(port), "-U", USER,
                   "bench"]
            t0 = time.monotonic()
            R.run(cmd, timeout=900, env=PW_ENV)
            R.log("pgbench -i -s 1 on %s: %.1f s" % (name, time.monotonic() - t0))
        self.scripts = os.path.join(self.tmp, "scripts")
        os.makedirs(self.scripts)
        with open(os.path.join(self.scripts, "select1.sql"), "w") as f:
            f.write("\\set one 1\nSELECT :one;\n")
        with open(os.path.join(self.scripts, "point.sql"), "w") as f:
            f.write("\\set id random(1, 100000)\nSELECT val FROM kv WHERE id = :id;\n")
        self.copyin_file = os.path.join(self.tmp, "copyin.txt")
        with open(self.copyin_file, "w") as f:
            for i in range(COPYIN_ROWS):
                f.write("%d\t%d\trow %d\n" % (i, i * 2, i))

    def psql(self, port, sql, db="bench"):
        out, _, _ = R.run([R.PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1",
                           "-p", str(port), "-U", USER, "-d", db, "-c", sql], timeout=900,
                          env=PW_ENV)
        return out

    def systems(self, rep):
        both = [("tdb", self.tdb_pg_port, self.tdb.cpu), ("pg", self.pg.port, self.pg.cpu)]
        return both if rep % 2 == 0 else both[::-1]

    def measure(self, fid, meta, cmd, cpu, timeout, parse, env=None, stdout=subprocess.PIPE):
        load = os.getloadavg()[0]
        st0, s0 = R.cpu_stat(), cpu()
        out, wall, ccpu = R.run(cmd, timeout=timeout, env=env, stdout=stdout)
        s1, st1 = cpu(), R.cpu_stat()
        v = parse(out, wall)
        v["server_cpu_s"] = s1 - s0
        v["client_cpu_s"] = ccpu
        v["load1"] = load
        self.figs.add(fid, meta, shlex.join(cmd), v, R.steal_pct(st0, st1))
        return v

    def pgbench(self, fid, meta, port, cpu, args, conns, secs=None):
        secs = secs or SECS
        cmd = [R.PGBENCH, "-n", "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-c", str(conns),
               "-j", str(min(conns, os.cpu_count() or 2)), "-T", str(secs)] + list(args) + \
              ["bench"]
        return self.measure(fid, meta, cmd, cpu, secs + 300,
                            lambda out, wall: parse_pgbench(out, cmd), env=PW_ENV)

    def line(self, fid, meta, mode, form, conns, secs=None):
        secs = secs or SECS
        cmd = [os.path.join(R.BENCH_BIN, "tdb_bench"), "load", "--port", str(self.tdb.port),
               "--database", "bench", "--conns", str(conns), "--seconds", str(secs), "--mode",
               mode, "--form", form]

        def parse(out, wall):
            r = R.json_line(out, cmd)
            # pgbench's "latency average" is clients x duration / transactions: the same here.
            return dict(tps=r["qps"], xacts=r["ops"], lat_avg_ms=1000.0 * conns / r["qps"])

        return self.measure(fid, meta, cmd, self.tdb.cpu, secs + 300, parse)

    # -- the figures --

    def small(self, rep):
        R.log("pgbench -S, SELECT 1 and point lookups: PG wire, line protocol, PostgreSQL")
        for mode in ("simple", "prepared"):
            for conns in CONNS:
                for name, port, cpu in self.systems(rep):
                    self.pgbench("S.%s.c%d.%s" % (mode, conns, name),
                                 dict(figure="pgbench -S", mode=mode, conns=conns, system=name),
                                 port, cpu, ["-S", "-M", mode], conns)
        for script in ("select1", "point"):
            for mode, form in (("simple", "literal"), ("prepared", "params")):
                for conns in CONNS:
                    meta = dict(figure=script, mode=mode, conns=conns)
                    order = [("line", None, None)] + self.systems(rep)
                    if rep % 2:
                        order = order[::-1]
                    for name, port, cpu in order:
                        fid = "%s.%s.c%d.%s" % (script, mode, conns, name)
                        if name == "line":
                            self.line(fid, dict(meta, system="tdb line protocol"), script, form,
                                      conns)
                        else:
                            self.pgbench(fid, dict(meta, system=name), port, cpu,
                                         ["-M", mode, "-f",
                                          os.path.join(self.scripts, script + ".sql")], conns)

    def connect(self, rep):
        R.log("pgbench -C -S: a new connection (SCRAM) per transaction")
        for name, port, cpu in self.systems(rep):
            self.pgbench("C.%s" % name, dict(figure="pgbench -C -S", conns=1, system=name), port,
                         cpu, ["-C", "-S", "-M", "simple"], 1)

    def tpcb(self, rep):
        R.log("pgbench TPC-B-like with --max-tries=50, 4 clients")
        for name, port, cpu in self.systems(rep):
            self.pgbench("tpcb.%s" % name, dict(figure="TPC-B", conns=4, system=name), port, cpu,
                         ["-M", "prepared", "--max-tries=50"], 4)

    def copy_out(self, rep):
        R.log("COPY (%d rows) TO STDOUT through psql" % COPY_ROWS)
        expect = sum(R.copy_line_bytes(g) for g in R.digit_ranges(COPY_ROWS))
        sql = COPY_SQL.format(last=COPY_ROWS - 1)
        dest = os.path.join(self.tmp, "copy.out")
        for name, port, cpu in self.systems(rep):
            cmd = [R.PSQL, "-X", "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", "bench",
                   "-c", sql]

            def parse(out, wall):
                size = os.path.getsize(dest)
                if size != expect:
                    raise R.BenchError("COPY TO STDOUT on %s wrote %d bytes, not %d"
                                       % (name, size, expect))
                return dict(rows_per_s=COPY_ROWS / wall, mb_per_s=size / wall / 1e6,
                            seconds=wall)

            with open(dest, "wb") as f:
                self.measure("copyout.%s" % name, dict(figure="COPY TO STDOUT", rows=COPY_ROWS,
                                                       system=name),
                             cmd, cpu, 1800, parse, env=PW_ENV, stdout=f)
            os.unlink(dest)
        # The same rows on the line protocol (JSON rows, every cell read by the C library).
        lsql = "SELECT i, i*2 AS j, 'row ' || i AS s FROM generate_series(0, %d) AS t(i)" % (
            COPY_ROWS - 1)
        cmd = [os.path.join(R.BENCH_BIN, "tdb_bench"), "large", "--port", str(self.tdb.port),
               "--database", "bench", "--sql", lsql, "--expect", str(COPY_ROWS)]

        def lparse(out, wall):
            r = R.json_line(out, cmd)
            return dict(rows_per_s=r["rows_per_s"], mb_per_s=r["mb_per_s"], seconds=r["seconds"])

        self.measure("copyout.line", dict(figure="COPY TO STDOUT", rows=COPY_ROWS,
                                          system="tdb line protocol (large result)"),
                     cmd, self.tdb.cpu, 1800, lparse)

    def lookups(self):
        """Statement-cache lookups per statement (the server's `stats`), 500 statements each of
        the point lookup and SELECT $1 with pgbench -M prepared on the PG port and with typed
        params on the line protocol: libpq's Describe of every execution shows up as a second
        lookup (docs/performance.md)."""
        R.log("statement-cache lookups per statement: PG port against line protocol")
        a = self.tdb.admin()

        def lookups():
            st = json.loads(a.req("stats"))["statements"]
            return st["hits"] + st["misses"]

        rows = []
        for script, mode in (("point", "point"), ("select1", "select1")):
            pg = [R.PGBENCH, "-n", "-h", "127.0.0.1", "-p", str(self.tdb_pg_port), "-U", USER,
                  "-c", "1", "-t", "500", "-M", "prepared", "-f",
                  os.path.join(self.scripts, script + ".sql"), "bench"]
            line = [os.path.join(R.BENCH_BIN, "tdb_bench"), "load", "--port", str(self.tdb.port),
                    "--database", "bench", "--conns", "1", "--seconds", "1", "--mode", mode,
                    "--form", "params"]
            for name, cmd in (("PG port", pg), ("line protocol", line)):
                n0 = lookups()
                out, _, _ = R.run(cmd, 300, env=PW_ENV)
                n = (parse_pgbench(out, cmd)["xacts"] if cmd[0] == R.PGBENCH
                     else R.json_line(out, cmd)["ops"])
                k = lookups() - n0
                rows.append("- %s, %s: %d statements, %d statement-cache lookups (%.2f each): `%s`"
                            % (script, name, n, k, k / n, shlex.join(cmd)))
        a.close()
        os.makedirs(R.RESULTS, exist_ok=True)
        with open(os.path.join(R.RESULTS, "pgwire-lookups.txt"), "w") as f:
            f.write("\n".join(rows) + "\n")
        for r in rows:
            R.log(r)

    def copy_out_once(self, fid, meta, rows):
        """COPY of `rows` rows to /dev/null through psql on the PG port (for the profile)."""
        cmd = [R.PSQL, "-X", "-h", "127.0.0.1", "-p", str(self.tdb_pg_port), "-U", USER, "-d",
               "bench", "-c", COPY_SQL.format(last=rows - 1)]
        with open(os.devnull, "wb") as devnull:
            return self.measure(fid, meta, cmd, self.tdb.cpu, 1800,
                                lambda out, wall: dict(tps=rows / wall, xacts=rows),
                                env=PW_ENV, stdout=devnull)

    def copy_in(self, rep):
        R.log("\\copy of %d rows in through psql" % COPYIN_ROWS)
        for name, port, cpu in self.systems(rep):
            self.psql(port, "DELETE FROM copyin")
            cmd = [R.PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port), "-U",
                   USER, "-d", "bench", "-c", "\\copy copyin FROM '%s'" % self.copyin_file]

            def parse(out, wall):
                return dict(rows_per_s=COPYIN_ROWS / wall, seconds=wall)

            self.measure("copyin.%s" % name, dict(figure="\\copy in", rows=COPYIN_ROWS,
                                                  system=name), cmd, cpu, 1800, parse,
                         env=PW_ENV)
            n = int(self.psql(port, "SELECT count(*) FROM copyin").strip())
            if n != COPYIN_ROWS:
                raise R.BenchError("\\copy on %s left %d rows, not %d" % (name, n, COPYIN_ROWS))

    def profile(self):
        """perf on the server during three loads of 4 clients: `pgbench -S -M prepared`, the
        `kv` point lookup by pgbench -M prepared on the PG port and the same lookup with typed
        params on the line protocol. A flat profile each (self time by shared object and by
        function) and the share of DuckDB's phases (PHASES, by symbol name), so that what the
        PG path adds shows beside the line protocol on the same query."""
        R.log("profile: perf record on TCP-DuckDB under three loads")
        os.makedirs(R.RESULTS, exist_ok=True)
        point = ["-M", "prepared", "-f", os.path.join(self.scripts, "point.sql")]
        loads = (("pgbench -S -M prepared -c 4 (PG port)", "S.prepared",
                  lambda fid, meta: self.pgbench(fid, meta, self.tdb_pg_port, self.tdb.cpu,
                                                 ["-S", "-M", "prepared"], 4, secs=8)),
                 ("pgbench -M prepared -f point.sql -c 4 (PG port)", "point.prepared",
                  lambda fid, meta: self.pgbench(fid, meta, self.tdb_pg_port, self.tdb.cpu,
                                                 point, 4, secs=8)),
                 ("tdb_bench load --mode point --form params --conns 4 (line protocol)",
                  "point.params.line",
                  lambda fid, meta: self.line(fid, meta, "point", "params", 4, secs=8)),
                 ("psql COPY (3M rows) TO STDOUT > /dev/null (PG port)", "copyout",
                  lambda fid, meta: self.copy_out_once(fid, meta, 3000000)))
        text = []
        for title, key, fn in loads:
            # A flat profile: libduckdb has no frame pointers (-g loses the callers) and perf
            # report of a DWARF call graph of libduckdb took over 5 minutes on this VM.
            data = os.path.join(R.RESULTS, "pgwire-perf-%s.data" % key)  # kept for perf report
            perf = subprocess.Popen(["perf", "record", "-F", "999", "-o", data, "-p",
                                     str(self.tdb.proc.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            try:
                v = fn("profile.%s" % key, dict(figure="under perf: " + title, conns=4,
                                               system="tdb"))
            finally:
                perf.send_signal(2)
                perf.wait(300)
            text.append("## %s: %.0f per s under perf, server CPU %.2f us per transaction "
                        "or row\n" % (title, v["tps"], 1e6 * v["server_cpu_s"] / v["xacts"]))
            text.append(R.perf_summary(data))
        with open(os.path.join(R.RESULTS, "pgwire-profile.txt"), "w") as f:
            f.write("perf record -F 999 -p SERVER during each load; perf report --no-children "
                    "--sort dso,sym\n\n" + "\n".join(text))


def report(b, meta):
    L = ["# bench-pgwire (issue 16)", "",
         "Started %s, %.1f min; load average at start %s, at end %s; %s" % (
             meta["started"], meta["minutes"], meta["load_start"], meta["load_end"],
             meta["machine"]), "",
         "| figure | system | tps / rows/s | latency avg ms | server CPU s | extra | steal % | "
         "load1 |", "|---|---|---|---|---|---|---|---|"]
    for fid in b.figs.order:
        f = b.figs.figs[fid]
        m = f["median"]
        rate = m.get("tps", m.get("rows_per_s"))
        extra = []
        for k in ("conn_ms", "retried_pct", "retries", "failed", "mb_per_s", "seconds"):
            if k in m:
                extra.append("%s %s" % (k, R.fmt_num(m[k])))
        L.append("| %s | %s | %s | %s | %s | %s | %s%s | %.2f |" % (
            fid, f.get("system"), R.fmt_num(rate), R.fmt_num(m.get("lat_avg_ms") or 0),
            R.fmt_num(m["server_cpu_s"]), ", ".join(extra), R.fmt_num(m["steal_pct"]),
            " FLAGGED" if f["flagged"] else "", m["load1"]))
    L += ["", "Commands:", ""]
    for fid in b.figs.order:
        L.append("- `%s`: `%s`" % (fid, b.figs.figs[fid]["command"]))
    return "\n".join(L) + "\n"


def main():
    for p in (R.SERVER_BIN, os.path.join(R.BENCH_BIN, "tdb_bench"), R.PGBENCH, R.PSQL):
        if not os.path.exists(p):
            raise SystemExit("bench-pgwire: %s is missing: run `make bench-bin`" % p)
    cleanup = R.Cleanup()
    tmp = tempfile.mkdtemp(prefix="tcpduckdb-pgwire-")
    cleanup.push(lambda: shutil.rmtree(tmp, ignore_errors=True))
    import datetime
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    t0 = time.monotonic()
    b = PgwireBench(tmp, cleanup)
    only = [x for x in os.environ.get("PGWIRE_ONLY", "").split(",") if x]
    try:
        b.setup()
        for rep in range(REPS):
            for name in ("small", "connect", "tpcb", "copy_out", "copy_in"):
                if not only or name in only:
                    getattr(b, name)(rep)
        if not only or "lookups" in only:
            b.lookups()
        if PROFILE and shutil.which("perf"):
            b.profile()
        b.figs.finish()
    except R.BenchError as e:
        R.log("FAILED: %s" % e)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        cleanup.run()
    meta = dict(started=started.strftime("%Y-%m-%d %H:%M UTC"), minutes=(time.monotonic() - t0)
                / 60, load_start=["%.2f" % x for x in load_start],
                load_end=["%.2f" % x for x in os.getloadavg()], machine=R.machine())
    os.makedirs(R.RESULTS, exist_ok=True)
    with open(os.path.join(R.RESULTS, "pgwire.json"), "w") as f:
        json.dump(dict(meta, figures=[b.figs.figs[i] for i in b.figs.order]), f, indent=1)
    with open(os.path.join(R.RESULTS, "pgwire.md"), "w") as f:
        f.write(report(b, meta))
    R.log("wrote bench/results/pgwire.md and pgwire.json (%.1f min)" % meta["minutes"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
