#!/usr/bin/env python3
"""
Backup and restore speed (issue 18; docs/backup.md, "Performance"): a database of ROWS rows of
64-character strings, checkpointed, then `backup` three times against `cp` + `sync -f` of the
same file, and `restore` twice, each as MB of the database file per second. With
ENCRYPTION_KEY set in the environment, the backups are encrypted.

    python3 bench/backup.py [--rows 8000000] [--bin build/tcp-duckdb]

Not part of `make bench` (bench/run.py compares with PostgreSQL, which has no counterpart here).
"""
import argparse
import json
import os
import re
import socket
import subprocess
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=8000000)
    ap.add_argument("--bin", default="build/tcp-duckdb")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-bench-backup-") as d:
        proc = subprocess.Popen([args.bin, "--port", "0", "--data-dir", d, "--supervise", "off"],
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        port = None
        for raw in proc.stderr:
            m = re.search(rb"listening to .*:(\d+)$", raw.strip())
            if m:
                port = int(m.group(1))
                break
        sock = socket.create_connection(("127.0.0.1", port), timeout=3600)
        f = sock.makefile("rb")

        def req(text):
            sock.sendall(text.encode() + b"\n")
            answer = f.readline().decode().strip()
            if answer.startswith("Error"):
                raise SystemExit(text + ": " + answer)
            return answer

        req("login duck duck")
        req("create database b")
        req("connect b")
        req("CREATE TABLE filler AS SELECT r, md5(r::VARCHAR) || md5((r + 1)::VARCHAR) AS s "
            "FROM range(%d) x(r)" % args.rows)
        req("CHECKPOINT")
        src = os.path.join(d, "databases", "1.duckdb")
        size = os.path.getsize(src)
        print("database file: %.1f MB; ENCRYPTION_KEY %s" %
              (size / 1e6, "set" if os.environ.get("ENCRYPTION_KEY") else "not set"))
        for _ in range(3):
            t = time.time()
            row = json.loads(req("backup b"))[0]
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
            req("restore b AS r%d" % i)
            el = time.time() - t
            print("restore  %6.2f s  %5.0f MB/s" % (el, size / 1e6 / el))
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
