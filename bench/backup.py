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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=8000000)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--bin", default="build/tcp-duckdb")
    ap.add_argument("--inserts-only", action="store_true")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--writers", type=int, default=1)
    args = ap.parse_args()
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
