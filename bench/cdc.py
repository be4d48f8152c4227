#!/usr/bin/env python3
"""
`make bench-cdc`: native CDC (issue 17, docs/cdc.md) against its ceiling, on this machine
(docs/performance.md, "CDC (issue 17)").

A PostgreSQL 15 with wal_level = logical (bench/run.py's Postgres) holding pgbench's tables at
scale CDC_SCALE (10: 1M rows in pgbench_accounts; pgbench_history gets REPLICA IDENTITY FULL,
the other tables have their primary keys), and a TCP-DuckDB release server with the database
`cdc` linked to it with `mode=cdc`. Figures:

  - **apply rate of a backlog**, two backlogs: one `UPDATE pgbench_accounts SET abalance =
    abalance + 1` (1M changes in one transaction) and CDC_BACKLOG_SECS of unthrottled pgbench
    TPC-B (4 changes per transaction). For each, the stream is stopped (`cdc stop`) and a
    second slot `ceiling` is made on the link's publication before the writes; after them
    `pg_recvlogical` drains the ceiling slot up to pg_current_wal_lsn() with the stream's own
    options (proto_version '2', publication_names, binary 'true'), output to /dev/null: the
    ceiling, PostgreSQL's decoding and sending alone. Then `cdc start` and the time until
    `cdc status` shows every change applied (changes/s = changes / that time). The server's
    peak RSS over the apply (VmHWM after writing 5 to /proc/PID/clear_refs) and, with
    CDC_PROFILE=1 (default), a perf profile of the server during the 1M-row apply
    (bench/results/cdc-profile.txt); CDC_STRACE=update1m|tpcb counts the server's fsync,
    fdatasync, poll, recvfrom, sendto and futex calls and the wall time in them during that
    apply (strace -c -w, which slows it:
    the figure of such a run is not the rate), bench/results/cdc-strace-NAME.txt.
  - **end-to-end lag** while pgbench runs against PostgreSQL with the stream running, at
    `-R 1000` and unthrottled (CDC_LAG_SECS each): every 50 ms a persistent psql session reads
    pg_current_wal_lsn() and the link's `pg_stat_replication.replay_lag`; every 20 ms `cdc
    status` gives applied_lsn. The lag of a PostgreSQL sample is the time until applied_lsn
    passed its LSN (so it includes the rest of the transaction that was being written then,
    a few ms); p50/p99/max of those, beside p50/p99 of replay_lag as PostgreSQL saw it.

The sums of pgbench_accounts.abalance are compared on both sides at the end. Each figure
records the CPU steal (/proc/stat) and the load average. Writes bench/results/cdc.md and
cdc.json. Standard library only, on bench/run.py.
"""
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402

SCALE = int(os.environ.get("CDC_SCALE", "10"))
BACKLOG_SECS = int(os.environ.get("CDC_BACKLOG_SECS", "20"))
LAG_SECS = int(os.environ.get("CDC_LAG_SECS", "20"))
PROFILE = os.environ.get("CDC_PROFILE", "1") not in ("", "0")
RECVLOGICAL = os.path.join(R.PG_BIN, "pg_recvlogical")
DB = "cdcbench"
PG_CONF = ("wal_level = logical\nmax_replication_slots = 10\nmax_wal_senders = 10\n")


def lsn(text):
    hi, lo = text.strip().split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else None


class PgSession:
    """One psql process kept open: a statement per line in, one result line out."""

    def __init__(self, port):
        self.p = subprocess.Popen([R.PSQL, "-X", "-At", "-q", "-h", "127.0.0.1", "-p", str(port),
                                   "-U", "postgres", "-d", DB], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  env=R.clean_env(), text=True, bufsize=1)

    def query(self, sql):
        self.p.stdin.write(sql + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise R.BenchError("the polling psql session ended")
        return line.rstrip("\n")

    def close(self):
        self.p.stdin.close()
        self.p.wait(30)


class CdcBench:
    def __init__(self, tmp, cleanup):
        self.tmp = tmp
        self.cleanup = cleanup
        self.figs = R.Figures()
        self.notes = []

    def psql(self, sql):
        return self.pg.psql(sql, db=DB).strip()

    def status(self):
        rows = json.loads(self.a.req("cdc status cdc"))
        return rows[0]

    def wait(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.status()
            if cond(st):
                return st
            time.sleep(0.02)
        raise R.BenchError("CDC: %s not reached in %d s: %s" % (what, timeout, self.status()))

    def setup(self):
        R.log("starting PostgreSQL 15 (wal_level = logical) and TCP-DuckDB (release)")
        self.pg = R.Postgres(self.cleanup, self.tmp).start(max_connections=40, extra_conf=PG_CONF)
        self.pg.psql("CREATE DATABASE %s" % DB)
        t0 = time.monotonic()
        R.run([R.PGBENCH, "-i", "-s", str(SCALE), "-q", "-h", "127.0.0.1", "-p",
               str(self.pg.port), "-U", "postgres", DB], timeout=1800)
        self.psql("ALTER TABLE pgbench_history REPLICA IDENTITY FULL; VACUUM ANALYZE;")
        R.log("pgbench -i -s %d: %.1f s" % (SCALE, time.monotonic() - t0))
        self.tdb = R.TdbServer(self.cleanup, self.tmp, "tdb", ["--pg-port", "0"]).start()
        self.a = self.tdb.admin()
        self.a.req("create database cdc", ok="success")
        dsn = "postgresql://postgres@127.0.0.1:%d/%s" % (self.pg.port, DB)
        st0, t0 = R.cpu_stat(), time.monotonic()
        self.a.req('link cdc "%s" mode=cdc' % dsn, ok="success")
        wall = time.monotonic() - t0
        self.figs.add("link.copy", dict(figure="link mode=cdc (initial copy)", rows=SCALE * 100000),
                      "(super user) create database cdc; link cdc \"%s\" mode=cdc" % dsn,
                      dict(seconds=wall, load1=os.getloadavg()[0]), R.steal_pct(st0, R.cpu_stat()))
        st = self.wait(lambda s: s["state"] == "streaming", 60, "streaming")
        self.slot = st["slot"]
        self.publication = self.slot  # docs/cdc.md: the publication has the slot's name

    # -- backlogs --

    def backlog(self, name, write, profile=False):
        """Stops the stream, makes the ceiling slot, runs write() (returns the changes it made),
        drains the ceiling with pg_recvlogical, then restarts the stream and times the apply of
        those changes."""
        self.a.req("cdc stop cdc", ok="success")
        self.wait(lambda s: s["state"] == "stopped", 120, "stopped")
        self.psql("SELECT pg_create_logical_replication_slot('ceiling', 'pgoutput')")
        t0 = time.monotonic()
        changes = write()
        write_s = time.monotonic() - t0
        end = self.psql("SELECT pg_current_wal_lsn()")
        load = os.getloadavg()[0]
        cmd = [RECVLOGICAL, "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "postgres", "-d",
               DB, "--slot", "ceiling", "--start", "--endpos", end, "--no-loop",
               "-o", "proto_version=2", "-o", "publication_names=" + self.publication,
               "-o", "binary=true", "-f", "/dev/null"]
        st0, p0 = R.cpu_stat(), self.pg.cpu()
        _, wall, ccpu = R.run(cmd, timeout=3600)
        p1, st1 = self.pg.cpu(), R.cpu_stat()
        self.psql("SELECT pg_drop_replication_slot('ceiling')")
        meta = dict(figure="backlog: " + name, changes=changes)
        self.figs.add("%s.ceiling" % name, dict(meta, system="pg_recvlogical > /dev/null"),
                      shlex.join(cmd), dict(changes_per_s=changes / wall, seconds=wall,
                                            pg_cpu_s=p1 - p0, client_cpu_s=ccpu, load1=load),
                      R.steal_pct(st0, st1))

        c0 = self.status()["changes"]
        pid = self.tdb.proc.pid
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        rss0 = proc_kib(pid, "VmRSS")
        perf = None
        if profile and shutil.which("perf"):
            os.makedirs(R.RESULTS, exist_ok=True)
            self.perf_data = os.path.join(R.RESULTS, "cdc-perf.data")
            perf = subprocess.Popen(["perf", "record", "-F", "999", "-o", self.perf_data, "-p",
                                     str(pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        trace = None
        if os.environ.get("CDC_STRACE") == name and shutil.which("strace"):
            # How many DuckDB commits (fsync/fdatasync) and waits (poll) the apply makes.
            calls = "trace=fsync,fdatasync,poll,ppoll,recvfrom,sendto,futex"
            trace = subprocess.Popen(["strace", "-f", "-c", "-w", "-e", calls, "-p", str(pid),
                                      "-o", os.path.join(R.RESULTS, "cdc-strace-%s.txt" % name)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        load = os.getloadavg()[0]
        # (No PostgreSQL CPU here: the stream's WAL sender is still running, and the
        # postmaster's figure counts only exited backends.)
        st0, s0, t0 = R.cpu_stat(), self.tdb.cpu(), time.monotonic()
        self.a.req("cdc start cdc", ok="success")
        self.wait(lambda s: s["changes"] - c0 >= changes, 3600, "%d changes applied"
                  % changes)
        wall = time.monotonic() - t0
        s1, st1 = self.tdb.cpu(), R.cpu_stat()
        for tool in (perf, trace):
            if tool:
                tool.send_signal(2)
                tool.wait(300)
        st = self.status()
        applied = st["changes"] - c0
        self.figs.add("%s.tdb" % name, dict(meta, system="TCP-DuckDB cdc"),
                      "cdc start cdc; poll `cdc status cdc` every 20 ms until `changes` grew by %d"
                      % changes,
                      dict(changes_per_s=applied / wall, seconds=wall, applied=applied,
                           server_cpu_s=s1 - s0, rss_before_mib=rss0 / 1024.0,
                           peak_rss_mib=proc_kib(pid, "VmHWM") / 1024.0, write_s=write_s,
                           load1=load), R.steal_pct(st0, st1))

    def update_1m(self):
        n = SCALE * 100000

        def write():
            out = self.psql("UPDATE pgbench_accounts SET abalance = abalance + 1")
            if out != "UPDATE %d" % n and out != "":
                raise R.BenchError("UPDATE answered %r" % out)
            return n

        self.backlog("update1m", write, profile=PROFILE)

    def tpcb_backlog(self):
        def write():
            cmd = self.pgbench_cmd(["-T", str(BACKLOG_SECS)])
            out, _, _ = R.run(cmd, timeout=BACKLOG_SECS + 600)
            x = int(out.split("number of transactions actually processed: ")[1].split()[0])
            self.notes.append("TPC-B backlog: %d transactions (%s)" % (x, shlex.join(cmd)))
            return 4 * x  # 3 UPDATEs and 1 INSERT per transaction

        self.backlog("tpcb", write)

    def pgbench_cmd(self, extra):
        return [R.PGBENCH, "-n", "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "postgres",
                "-c", "4", "-j", "2", "-M", "prepared"] + list(extra) + [DB]

    # -- lag --

    def lag(self, name, extra):
        samples_pg, samples_tdb = [], []
        stop = threading.Event()
        errors = []
        sess = PgSession(self.pg.port)
        q = ("SELECT pg_current_wal_lsn(), coalesce((SELECT extract(epoch FROM r.replay_lag) "
             "FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid "
             "WHERE s.slot_name = '%s'), -1);" % self.slot)

        def poll_pg():
            try:
                while not stop.is_set():
                    t = time.monotonic()
                    row = sess.query(q).split("|")
                    samples_pg.append((t, lsn(row[0]), float(row[1])))
                    time.sleep(max(0.0, 0.05 - (time.monotonic() - t)))
            except Exception as e:  # reported below
                errors.append(e)

        tdb = R.TdbClient(self.tdb.port)
        tdb.req("login duck duck", ok="success")

        def poll_tdb():
            try:
                while not stop.is_set():
                    t = time.monotonic()
                    st = json.loads(tdb.req("cdc status cdc"))[0]
                    samples_tdb.append((time.monotonic(), lsn(st["applied_lsn"])))
                    time.sleep(max(0.0, 0.02 - (time.monotonic() - t)))
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=poll_pg), threading.Thread(target=poll_tdb)]
        c0 = self.status()["changes"]
        load = os.getloadavg()[0]
        for t in threads:
            t.start()
        cmd = self.pgbench_cmd(["-T", str(LAG_SECS)] + list(extra))
        st0, s0 = R.cpu_stat(), self.tdb.cpu()
        try:
            out, _, _ = R.run(cmd, timeout=LAG_SECS + 600)
            t_end = time.monotonic()
            s1, st1 = self.tdb.cpu(), R.cpu_stat()
            last = max(x[1] for x in samples_pg if x[0] <= t_end)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and (not samples_tdb or samples_tdb[-1][1] < last):
                time.sleep(0.05)
            # Let the pollers see the settled state a little longer for the last samples.
            time.sleep(0.2)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
            sess.close()
            tdb.close()
        if errors:
            raise R.BenchError("lag polling failed: %s" % errors[0])
        xacts = int(out.split("number of transactions actually processed: ")[1].split()[0])
        lags, unresolved, j = [], 0, 0
        pg_during = [x for x in samples_pg if x[0] <= t_end]
        for t, l, _ in pg_during:
            while j < len(samples_tdb) and samples_tdb[j][0] < t:
                j += 1
            k = j
            while k < len(samples_tdb) and samples_tdb[k][1] < l:
                k += 1
            if k == len(samples_tdb):
                unresolved += 1
            else:
                lags.append(samples_tdb[k][0] - t)
        replay = [x[2] for x in pg_during if x[2] >= 0]
        if not lags:
            raise R.BenchError("no lag samples resolved")
        self.figs.add("lag.%s" % name, dict(figure="lag: pgbench " + " ".join(extra or
                                                                                ["unthrottled"])),
                      shlex.join(cmd) + "  (poll: pg_current_wal_lsn() every 50 ms, `cdc status`"
                      " every 20 ms)",
                      dict(tps=xacts / LAG_SECS, changes_per_s=(self.status()["changes"] - c0)
                           / LAG_SECS, lag_p50_ms=1e3 * pct(lags, 0.5),
                           lag_p99_ms=1e3 * pct(lags, 0.99), lag_max_ms=1e3 * max(lags),
                           samples=len(lags), unresolved=unresolved,
                           replay_lag_p50_ms=1e3 * pct(replay, 0.5) if replay else -1,
                           replay_lag_p99_ms=1e3 * pct(replay, 0.99) if replay else -1,
                           server_cpu_s=s1 - s0, load1=load), R.steal_pct(st0, st1))

    def check(self):
        self.a.req("migrate cdc")
        pg_sum = self.psql("SELECT sum(abalance) FROM pgbench_accounts")
        self.a.req("connect cdc", ok="success")
        tdb_sum = json.loads(self.a.req("SELECT sum(abalance) AS s FROM pgbench_accounts"))[0]["s"]
        self.a.req("disconnect", ok="success")
        if str(tdb_sum) != pg_sum:
            raise R.BenchError("sum(abalance): PostgreSQL %s, TCP-DuckDB %s" % (pg_sum, tdb_sum))
        self.notes.append("sum(abalance) equal on both sides at the end: %s" % pg_sum)

    def profile_report(self):
        if not getattr(self, "perf_data", None):
            return
        with open(os.path.join(R.RESULTS, "cdc-profile.txt"), "w") as f:
            f.write("TCP-DuckDB during the apply of the 1M-row UPDATE backlog (perf record -F 999 "
                    "-p SERVER; bench/results/cdc-perf.data)\n\n")
            f.write(R.perf_summary(self.perf_data))


def proc_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise R.BenchError("no %s in /proc/%d/status" % (field, pid))


def report(b, meta):
    L = ["# bench-cdc (issue 17)", "",
         "Started %s, %.1f min; load average at start %s, at end %s; %s" % (
             meta["started"], meta["minutes"], meta["load_start"], meta["load_end"],
             meta["machine"]), ""]
    for fid in b.figs.order:
        f = b.figs.figs[fid]
        L.append("- **%s** (%s): %s; steal %.1f%%%s" % (
            fid, f.get("system", f.get("figure")),
            ", ".join("%s %s" % (k, R.fmt_num(v)) for k, v in f["median"].items()
                      if k != "steal_pct"), f["median"]["steal_pct"],
            " FLAGGED" if f["flagged"] else ""))
        L.append("  `%s`" % f["command"])
    L += [""] + ["- " + n for n in b.notes]
    return "\n".join(L) + "\n"


def main():
    for p in (R.SERVER_BIN, R.PGBENCH, R.PSQL, RECVLOGICAL):
        if not os.path.exists(p):
            raise SystemExit("bench-cdc: %s is missing: run `make build` and "
                             "`scripts/setup.sh --test`" % p)
    cleanup = R.Cleanup()
    tmp = tempfile.mkdtemp(prefix="tcpduckdb-cdc-")
    cleanup.push(lambda: shutil.rmtree(tmp, ignore_errors=True))
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    t0 = time.monotonic()
    b = CdcBench(tmp, cleanup)
    only = [x for x in os.environ.get("CDC_ONLY", "").split(",") if x]
    try:
        b.setup()
        for name in ("update_1m", "tpcb_backlog"):
            if not only or name in only:
                getattr(b, name)()
        if not only or "lag" in only:
            b.lag("R1000", ["-R", "1000"])
            b.lag("unthrottled", [])
        b.check()
        b.figs.finish()
        b.profile_report()
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
    with open(os.path.join(R.RESULTS, "cdc.json"), "w") as f:
        json.dump(dict(meta, notes=b.notes, figures=[b.figs.figs[i] for i in b.figs.order]), f,
                  indent=1)
    with open(os.path.join(R.RESULTS, "cdc.md"), "w") as f:
        f.write(report(b, meta))
    R.log("wrote bench/results/cdc.md and cdc.json (%.1f min)" % meta["minutes"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
