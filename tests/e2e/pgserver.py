"""
A real PostgreSQL 15 for the end-to-end tests of `link` and `migrate`.

PgServer initdb's a cluster into a temp dir and starts it with pg_ctl,
listening on 127.0.0.1 on a free port with its unix socket in the temp dir.
As root, everything runs as the `postgres` user (initdb refuses root).
Authentication: trust for every user, except the role `pwuser`, which must
give its password (scram-sha-256) over TCP, for the bad-credentials tests.

`psql(sql)` runs SQL as the superuser `postgres` through the unix socket and
returns the output rows (unaligned, tab-separated).
"""
import os
import shutil
import socket
import subprocess
import tempfile

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tcpduckdb-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
            os.chmod(self.dir, 0o700)

    def _run(self, args, check=True, input=None, timeout=120):
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(cmd, check=check, capture_output=True, input=input, env=env,
                              timeout=timeout, cwd=self.dir)

    def init(self):
        self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n"
                    "host all pwuser 127.0.0.1/32 scram-sha-256\n"
                    "host all all 127.0.0.1/32 trust\n")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("listen_addresses = '127.0.0.1'\nport = %d\n" % self.port)
            f.write("unix_socket_directories = '%s'\n" % self.dir)
            f.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
            f.write("max_connections = 50\nshared_buffers = 128MB\n")
        return self

    def start(self):
        self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l",
                   os.path.join(self.dir, "log"), "-w", "start"])
        return self

    def stop(self, mode="fast"):
        self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"],
                  check=False)

    def cleanup(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, sql, db="postgres", check=True):
        p = self._run(["/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t",
                       "-h", self.dir, "-p", str(self.port), "-U", "postgres", "-d", db],
                      input=sql.encode("utf-8"), check=False)
        if check and p.returncode != 0:
            raise RuntimeError("psql failed: %s" % p.stderr.decode("utf-8", "replace"))
        return p.stdout.decode("utf-8")

    def createdb(self, name):
        self.psql("CREATE DATABASE %s" % name)
        return name

    def dsn(self, db, user="postgres", password=None):
        auth = user + (":" + password if password else "")
        return "postgresql://%s@127.0.0.1:%d/%s" % (auth, self.port, db)
