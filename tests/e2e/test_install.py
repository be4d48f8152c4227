"""
`make install` / `make uninstall` (docs/operations.md, "Install"): a staged install
(DESTDIR) holds the server, the shell, the C library with its header and pkg-config file, the
man pages and the systemd unit; the installed server finds its DuckDB and serves; the
installed shell talks to it; a program builds against the installed library through
pkg-config; `man -l` renders the pages without warnings; `systemd-analyze verify` accepts
the unit. Then the container files: no engine runs here, so the Dockerfile and compose.yaml
are only checked to parse and to say what they must.
"""
import os
import re
import shutil
import subprocess
import tempfile

import pytest
import yaml

from conftest import ROOT, SANITIZER_MARKS, Client, clean_env, wait_for

FILES = [
    "usr/local/bin/tcp-duckdb",
    "usr/local/bin/tcp-duckdb-cli",
    "usr/local/lib/tcp-duckdb/libduckdb.so",
    "usr/local/lib/libtcpduckdb.so",
    "usr/local/lib/libtcpduckdb.a",
    "usr/local/include/tcpduckdb.h",
    "usr/local/lib/pkgconfig/tcpduckdb.pc",
    "usr/local/share/man/man1/tcp-duckdb.1",
    "usr/local/share/man/man1/tcp-duckdb-cli.1",
    "usr/local/lib/systemd/system/tcp-duckdb.service",
]


def make(*args):
    p = subprocess.run(["make", "--no-print-directory", "-C", ROOT] + list(args),
                       capture_output=True, timeout=1800)
    assert p.returncode == 0, (p.stdout + p.stderr).decode()[-5000:]


@pytest.fixture(scope="module")
def stage():
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-install-") as d:
        make("install", "DESTDIR=" + d, "PREFIX=/usr/local")
        yield d


def test_install_puts_every_file_in_place(stage):
    for f in FILES:
        assert os.path.isfile(os.path.join(stage, f)), f
    assert os.access(os.path.join(stage, FILES[0]), os.X_OK)
    # The installed server links the DuckDB installed next to it, not the build tree's.
    ldd = subprocess.run(["ldd", os.path.join(stage, FILES[0])], capture_output=True,
                         text=True).stdout
    lib = re.search(r"libduckdb\.so => (\S+)", ldd).group(1)
    assert os.path.realpath(lib) == os.path.realpath(os.path.join(stage, FILES[2])), ldd
    unit = open(os.path.join(stage, FILES[-1])).read()
    assert "ExecStart=/usr/local/bin/tcp-duckdb " in unit


def test_installed_server_runs_and_serves_the_installed_shell(stage):
    server = os.path.join(stage, "usr/local/bin/tcp-duckdb")
    cli = os.path.join(stage, "usr/local/bin/tcp-duckdb-cli")
    out = subprocess.run([server, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("tcp-duckdb "), out
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-installed-") as data:
        proc = subprocess.Popen([server, "--port", "0", "--addr", "127.0.0.1", "--data-dir",
                                 os.path.join(data, "storage"), "--supervise", "off"],
                                cwd=data, env=clean_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        log = []
        try:
            port = None
            for line in proc.stderr:
                log.append(line)
                m = re.search(r"listening to .*:(\d+)$", line.strip())
                if m:
                    port = int(m.group(1))
                    break
            assert port, "".join(log)
            with Client(port) as c:
                assert c.req("login duck duck") == "success"
                assert c.req("create database inst") == "success"
            r = subprocess.run([cli, "-p", str(port), "-U", "duck", "-d", "inst", "--csv", "-c",
                                "SELECT 42 AS answer"], capture_output=True, text=True,
                               timeout=60, env=clean_env({"TCPDUCKDB_PASSWORD": "duck"}))
            assert r.returncode == 0, r
            assert r.stdout.split() == ["answer", "42"], r.stdout
        finally:
            proc.terminate()
            rc = proc.wait(60)
            log += proc.stderr.readlines()
        assert rc == 0, "".join(log)
        assert "server stopped" in "".join(log)


def test_a_program_builds_against_the_installed_library(stage):
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(stage, "usr/local/lib/pkgconfig"),
               PKG_CONFIG_SYSROOT_DIR=stage)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "tcpduckdb"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    assert "-ltcpduckdb" in flags
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "p.c")
        with open(src, "w") as f:
            f.write('#include <tcpduckdb.h>\n#include <stdio.h>\n'
                    'int main(void) { tdb_sslmode m; '
                    'printf("%d\\n", tdb_sslmode_parse("require", &m)); return 0; }\n')
        exe = os.path.join(d, "p")
        subprocess.run(["cc", src, "-o", exe] + flags, check=True, capture_output=True)
        out = subprocess.run([exe], capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, LD_LIBRARY_PATH=os.path.join(
                                 stage, "usr/local/lib")))
        assert out.returncode == 0 and out.stdout.strip() == "0", out


@pytest.mark.parametrize("page,title", [("tcp-duckdb", "TCP-DUCKDB(1)"),
                                        ("tcp-duckdb-cli", "TCP-DUCKDB-CLI(1)")])
def test_man_pages_render_without_warnings(stage, page, title):
    path = os.path.join(stage, "usr/local/share/man/man1", page + ".1")
    r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, MANWIDTH="80", MANPAGER="cat",
                                            PAGER="cat", LC_ALL="C.UTF-8"))
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr
    text = r.stdout
    assert text.startswith(title), text[:200]
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SEE ALSO"):
        assert "\n" + section + "\n" in text, section
    if page == "tcp-duckdb":
        for word in ("--check-config", "SIGHUP", "SIGUSR1", "show sessions", "terminate"):
            assert word in text, word


def test_systemd_unit_verifies(stage):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    unit_text = open(os.path.join(stage, FILES[-1])).read()
    for key in ("User=tcp-duckdb", "StateDirectory=tcp-duckdb", "ProtectSystem=strict",
                "NoNewPrivileges=yes", "PrivateTmp=yes", "ExecReload=/bin/kill -HUP $MAINPID",
                "KillSignal=SIGTERM", "ExecStartPre=/usr/local/bin/tcp-duckdb --check-config"):
        assert key in unit_text, key
    with tempfile.TemporaryDirectory() as d:
        # verify checks that ExecStart's binary exists: point it at the staged one.
        unit = os.path.join(d, "tcp-duckdb.service")
        with open(unit, "w") as f:
            f.write(unit_text.replace("/usr/local/bin/tcp-duckdb",
                                      os.path.join(stage, "usr/local/bin/tcp-duckdb")))
        r = subprocess.run([analyze, "verify", unit], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


def test_uninstall_removes_every_file():
    with tempfile.TemporaryDirectory(prefix="tcpduckdb-uninstall-") as d:
        make("install", "DESTDIR=" + d, "PREFIX=/opt/tdb")
        files = [f.replace("usr/local", "opt/tdb") for f in FILES]
        for f in files:
            assert os.path.isfile(os.path.join(d, f)), f
        unit = open(os.path.join(d, files[-1])).read()
        assert "ExecStart=/opt/tdb/bin/tcp-duckdb " in unit
        make("uninstall", "DESTDIR=" + d, "PREFIX=/opt/tdb")
        left = [os.path.join(p, f) for p, _, fs in os.walk(d) for f in fs]
        assert left == []


def test_container_files_parse():
    """No container engine runs here (docs/operations.md): the files are checked, not run."""
    compose = yaml.safe_load(open(os.path.join(ROOT, "compose.yaml")))
    svc = compose["services"]["tcp-duckdb"]
    assert svc["build"] == "."
    assert "tcpduckdb-data" in compose["volumes"]
    assert any(v.endswith(":/var/lib/tcp-duckdb") for v in svc["volumes"])
    assert "SuperPassword" in svc["environment"]
    known = {"FROM", "RUN", "COPY", "WORKDIR", "ENV", "USER", "VOLUME", "EXPOSE", "STOPSIGNAL",
             "HEALTHCHECK", "ENTRYPOINT", "CMD", "ARG", "LABEL"}
    instructions = []
    continued = False
    for line in open(os.path.join(ROOT, "Dockerfile")):
        s = line.strip()
        if not continued and (not s or s.startswith("#")):
            continue
        if not continued:
            word = s.split()[0]
            assert word in known, line
            instructions.append(s)
        else:
            instructions[-1] += " " + s
        continued = s.endswith("\\")
    assert not continued, "the Dockerfile ends in a continuation"
    assert instructions[0].startswith("FROM debian:12")
    assert any(i.startswith("FROM debian:12") and i != instructions[0] for i in instructions)
    assert any("make install DESTDIR=" in i for i in instructions)
    assert any(i.startswith("USER tcp-duckdb") for i in instructions)
    assert instructions[-1].startswith("ENTRYPOINT")
