#!/usr/bin/env python3
"""
Backup and restore speed (issue 18; docs/backup.md, "Performance"). `make bench-backup` runs it
(not part of `make bench` or `make test`: bench/run.py compares with PostgreSQL, which has no
counterpart here).

1. A database of ROWS rows of 64-character strings, checkpointed, then `backup` three times
   against `cp` + `sync -f` of the same file, and `restore` twice, each as MB of the database
   file per second. With ENCRYPTION_KEY set in the environment, the backups are encrypted.
2. The small-insert workload (one-row INSERT commits over one connection, for --seconds) with
   ArchiveMode off, on with ArchiveSync 200 (the default), and on with ArchiveSync 0: commits
   per second, so the archive's cost shows.
4. With --pgbench-minutes M (only this part): restore time to a point M minutes of
   pgbench-like writes after the base (see pgbench() below), to the end and to the middle.
5. With --selects-only: one-row SELECTs in autocommit with ArchiveMode off and on, alternately
   (the record a read makes when it wrote, nextval's, is looked for after every read).
3. Point-in-time restore after that workload (ArchiveSync 200): `restore ... AT` the end of it,
   which replays the whole archived log onto its base, in seconds and commits replayed/s.

    python3 bench/backup.py [--rows 8000000] [--seconds 20] [--bin build/tcp-duckdb]
    python3 bench/backup.py --inserts-only --rounds 3 --seconds 8

--inserts-only skips parts 1 and 3; --writers N runs part 2 over N connections at once (each
commits one-row INSERTs); --rounds N repeats part 2 N times, alternating the three
settings run by run (the machine is shared, so a setting's figures are a range). Each line shows
the CPU steal over its run (from /proc/stat, percent of all CPU time) and the 1-minute load
average at its end, since other work on the machine shows there.
"""
import argparse
import datetime
import json
import os
import random
import re
import socket
import subprocess
import tempfile
import threading
import time


class Server:
    def __init__(self, binary, data_dir, args=()):
        self.proc = subprocess.Popen([binary, "--port", "0", "--data-dir", data_dir,
                                      "--supervise", "off", "--admin-port", "0"] + list(args),
                                     stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        port = None
        for raw in self.proc.stderr:
            m = re.search(rb"listening to .*:(\d+)$", raw.strip())
            if m:
                port = int(m.group(1))
                break
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=3600)
        self.f = self.sock.makefile("rb")
        self.req("login duck duck")

    def req(self, text):
        self.sock.sendall(text.encode() + b"\n")
        answer = self.f.readline().decode().strip()
        if answer.startswith("Error"):
            raise SystemExit(text + ": " + answer)
        return answer

    def stop(self):
        self.sock.close()
        self.proc.terminate()
        self.proc.wait()


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S.%f")


def base_backups(binary, rows):
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-bench-backup-") as d:
        s = Server(binary, d)
        s.req("create database b")
        s.req("connect b")
        s.req("CREATE TABLE filler AS SELECT r, md5(r::VARCHAR) || md5((r + 1)::VARCHAR) AS s "
              "FROM range(%d) x(r)" % rows)
        s.req("CHECKPOINT")
        src = os.path.join(d, "databases", "1.duckdb")
        size = os.path.getsize(src)
        print("database file: %.1f MB; ENCRYPTION_KEY %s" %
              (size / 1e6, "set" if os.environ.get("ENCRYPTION_KEY") else "not set"))
        for _ in range(3):
            t = time.time()
            row = json.loads(s.req("backup b"))[0]
            el = time.time() - t
            print("backup   %6.2f s  %5.0f MB/s  (stored %d bytes)" % (el, size / 1e6 / el,
                                                                       row["bytes"]))
        for _ in range(3):
            t = time.time()
            dst = os.path.join(d, "cp.duckdb")
            subprocess.run(["cp", src, dst], check=True)
            subprocess.run(["sync", "-f", dst], check=True)
            el = time.time() - t
            os.unlink(dst)
            print("cp+sync  %6.2f s  %5.0f MB/s" % (el, size / 1e6 / el))
        for i in range(2):
            t = time.time()
            s.req("restore b AS r%d" % i)
            el = time.time() - t
            print("restore  %6.2f s  %5.0f MB/s" % (el, size / 1e6 / el))
        s.stop()


def cpu_times():
    """(steal, total) jiffies over all CPUs, from /proc/stat; (0, 0) where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def small_inserts(binary, seconds, args, restore, writers=1):
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-bench-archive-") as d:
        s = Server(binary, d, args)
        s.req("create database w")
        s.req("connect w")
        s.req("CREATE TABLE t(i BIGINT, v VARCHAR)")
        others = []
        for _ in range(writers - 1):
            o = Server.__new__(Server)
            o.proc = s.proc
            o.sock = socket.create_connection(s.sock.getpeername(), timeout=3600)
            o.f = o.sock.makefile("rb")
            o.req("login duck duck")
            o.req("connect w")
            others.append(o)
        counts = [0] * writers

        def insert(w, c):
            while time.time() - t0 < seconds:
                counts[w] += 1
                c.req("INSERT INTO t VALUES (%d, 'row %d')" % (counts[w], w))

        steal0, total0 = cpu_times()
        t0 = time.time()
        threads = [threading.Thread(target=insert, args=(w + 1, o)) for w, o in enumerate(others)]
        for t in threads:
            t.start()
        insert(0, s)
        for t in threads:
            t.join()
        n = sum(counts)
        el = time.time() - t0
        end = time.time()
        steal1, total1 = cpu_times()
        steal = 100.0 * (steal1 - steal0) / (total1 - total0) if total1 > total0 else 0.0
        load = os.getloadavg()[0]
        line = "%-36s %d writer(s) %7d commits  %7.0f commits/s  steal %4.1f%%  load %4.1f" % (
            " ".join(args) or "ArchiveMode off", writers, n, n / el, steal, load)
        if restore:
            time.sleep(0.5)  # one archive sync (ArchiveSync 200)
            t = time.time()
            s.req("restore w AS r AT '%s'" % iso(end))
            rel = time.time() - t
            s.req("connect r")
            got = int(json.loads(s.req("SELECT count(*) AS n FROM t"))[0]["n"])
            assert got == n, (got, n)
            line += "\n  restore AT the end: %.2f s for %d commits (%.0f commits/s replayed)" % (
                rel, n, n / rel)
        print(line)
        s.stop()


def selects(binary, seconds, args):
    """Part 5: one-row SELECTs (autocommit) over one connection for SECONDS: with ArchiveMode
    on each is recorded after it ran when it wrote to the log (nextval), which costs every
    SELECT a look at the log's size under the archive's gate."""
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-bench-select-") as d:
        s = Server(binary, d, args)
        s.req("create database w")
        s.req("connect w")
        s.req("CREATE TABLE t AS SELECT r AS i FROM range(1000) x(r)")
        s.req("set cache off")  # each SELECT runs (a cached answer runs nothing)
        steal0, total0 = cpu_times()
        n, t0 = 0, time.time()
        while time.time() - t0 < seconds:
            n += 1
            s.req("SELECT i FROM t WHERE i = %d" % (n % 1000))
        el = time.time() - t0
        steal1, total1 = cpu_times()
        steal = 100.0 * (steal1 - steal0) / (total1 - total0) if total1 > total0 else 0.0
        print("%-36s SELECTs %7.0f/s  steal %4.1f%%  load %4.1f" % (
            " ".join(args), n / el, steal, os.getloadavg()[0]))
        s.stop()


def pgbench(binary, minutes, writers, scale_accounts=100000):
    """Part 4: restore time to a point MINUTES of pgbench-like writes after the base. The
    TPC-B-like transaction of pgbench (update an account, read it back, update a teller and a
    branch, insert a history row), as one request of five statements (one implicit
    transaction, so one gated commit), over WRITERS connections, each on its own branch and
    tellers (DuckDB aborts concurrent updates of one row; pgbench's single branch would make
    most transactions conflict). A conflict on an account is counted and the transaction sent
    again. The base is the segment a CHECKPOINT starts just before the writes."""
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-bench-pgbench-") as d:
        s = Server(binary, d, ["--archive-mode", "on", "--archive-sync", "200"])
        s.req("create database p")
        s.req("connect p")
        s.req("CREATE TABLE pgbench_branches(bid INTEGER, bbalance BIGINT)")
        s.req("CREATE TABLE pgbench_tellers(tid INTEGER, bid INTEGER, tbalance BIGINT)")
        s.req("CREATE TABLE pgbench_accounts(aid INTEGER, bid INTEGER, abalance BIGINT, "
              "filler VARCHAR)")
        s.req("CREATE TABLE pgbench_history(tid INTEGER, bid INTEGER, aid INTEGER, "
              "delta INTEGER, mtime TIMESTAMP, filler VARCHAR)")
        s.req("INSERT INTO pgbench_branches SELECT r, 0 FROM range(1, %d) x(r)" % (writers + 1))
        s.req("INSERT INTO pgbench_tellers SELECT r, (r - 1) // 10 + 1, 0 FROM range(1, %d) x(r)"
              % (10 * writers + 1))
        s.req("INSERT INTO pgbench_accounts SELECT r, 1, 0, repeat(' ', 84) FROM range(1, %d) x(r)"
              % (scale_accounts + 1))
        s.req("CHECKPOINT")  # the base: a new archive segment starts here
        base = time.time()
        counts, conflicts = [0] * writers, [0] * writers
        stop_at = base + minutes * 60

        def run(w):
            c = socket.create_connection(s.sock.getpeername(), timeout=3600)
            f = c.makefile("rb")

            def raw(text):
                c.sendall(text.encode() + b"\n")
                return f.readline().decode().strip()
            raw("login duck duck")
            raw("connect p")
            rng = random.Random(w)
            while time.time() < stop_at:
                aid = rng.randint(1, scale_accounts)
                tid = w * 10 + rng.randint(1, 10)
                bid = w + 1
                delta = rng.randint(-5000, 5000)
                ans = raw("UPDATE pgbench_accounts SET abalance = abalance + %d WHERE aid = %d; "
                          "SELECT abalance FROM pgbench_accounts WHERE aid = %d; "
                          "UPDATE pgbench_tellers SET tbalance = tbalance + %d WHERE tid = %d; "
                          "UPDATE pgbench_branches SET bbalance = bbalance + %d WHERE bid = %d; "
                          "INSERT INTO pgbench_history VALUES (%d, %d, %d, %d, now(), NULL)"
                          % (delta, aid, aid, delta, tid, delta, bid, tid, bid, aid, delta))
                if ans.startswith("Error"):
                    if "onflict" not in ans:
                        raise SystemExit(ans)
                    conflicts[w] += 1
                    continue
                counts[w] += 1
            c.close()

        steal0, total0 = cpu_times()
        threads = [threading.Thread(target=run, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        end = time.time()
        steal1, total1 = cpu_times()
        steal = 100.0 * (steal1 - steal0) / (total1 - total0) if total1 > total0 else 0.0
        n = sum(counts)
        arch = os.path.join(d, "backups", "archive", "1")
        segs = sorted(os.listdir(arch))
        logged = sum(os.path.getsize(os.path.join(arch, g, "wal")) for g in segs[1:]
                     if os.path.exists(os.path.join(arch, g, "wal")))
        last = os.path.join(arch, segs[-1], "wal")
        last_bytes = os.path.getsize(last) if os.path.exists(last) else 0
        print("pgbench-like: %.1f min, %d writers, %d transactions (%.0f/s), %d conflicts sent "
              "again; steal %.1f%%, load %.1f" % ((end - base) / 60, writers, n, n / (end - base),
                                                 sum(conflicts), steal, os.getloadavg()[0]))
        print("  archive: %d segment(s) since the base, %.1f MB of log archived, the last "
              "segment's %.1f MB" % (len(segs) - 1, logged / 1e6, last_bytes / 1e6))
        time.sleep(0.5)  # one archive sync
        for label, t in (("the middle", base + (end - base) / 2), ("the end", end)):
            t0 = time.time()
            s.req("restore p AS r%d AT '%s'" % (int(t), iso(t)))
            el = time.time() - t0
            s.req("connect r%d" % int(t))
            got = json.loads(s.req("SELECT (SELECT sum(abalance) FROM pgbench_accounts) AS a, "
                                   "(SELECT coalesce(sum(delta), 0) FROM pgbench_history) AS h, "
                                   "(SELECT count(*) FROM pgbench_history) AS n"))[0]
            assert int(got["a"]) == int(got["h"]), got  # each transaction whole
            print("  restore AT %s: %.2f s (%d transactions in the copy)" % (label, el,
                                                                            int(got["n"])))
            s.req("connect p")
        s.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=8000000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--bin", default="build/tcp-duckdb")
    ap.add_argument("--inserts-only", action="store_true")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--writers", type=int, default=1)
    ap.add_argument("--pgbench-minutes", type=float, default=0,
                    help="run only part 4 for this many minutes")
    ap.add_argument("--pgbench-writers", type=int, default=4)
    ap.add_argument("--selects-only", action="store_true",
                    help="run only part 5, ArchiveMode off and on alternately, --rounds times")
    args = ap.parse_args()
    if args.selects_only:
        for r in range(args.rounds):  # ABBA: each setting first in half of the rounds
            for mode in (("off", "on") if r % 2 == 0 else ("on", "off")):
                selects(args.bin, args.seconds, ["--archive-mode", mode])
        return
    if args.pgbench_minutes > 0:
        pgbench(args.bin, args.pgbench_minutes, args.pgbench_writers)
        return
    if not args.inserts_only:
        base_backups(args.bin, args.rows)
    for r in range(args.rounds):
        restore = r == 0 and not args.inserts_only
        small_inserts(args.bin, args.seconds, ["--archive-mode", "off"], False, args.writers)
        small_inserts(args.bin, args.seconds, ["--archive-mode", "on", "--archive-sync", "200"],
                      restore and args.writers == 1, args.writers)
        small_inserts(args.bin, args.seconds, ["--archive-mode", "on", "--archive-sync", "0"],
                      False, args.writers)


if __name__ == "__main__":
    main()
