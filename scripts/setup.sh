#!/usr/bin/env bash
# Installs everything TCP-DuckDB needs to build, run and test, and nothing twice.
#
#   scripts/setup.sh          Debian packages for building and running, plus DuckDB
#   scripts/setup.sh --test   also what the test suites need
#
# Debian packages are installed with apt-get only when one is missing (so a
# second run costs a dpkg query, not an apt-get update). DuckDB is not packaged
# by Debian: its official shared library and C header are taken from npm
# tarballs whose versions and sha256 sums are pinned below, verified, and
# unpacked under third_party/ (git-ignored). A stamp file makes re-runs instant.
set -euo pipefail
cd "$(dirname "$0")/.."

# DuckDB's C API is backward compatible: a header from an older release works
# against a newer library. The npm package "duckdb" stopped at 1.4.4, so the
# header comes from there while the library is 1.5.6 (1.4.x crashes on a
# one-line window query, which would let any user kill the server).
DUCKDB_LIB_PKG="@duckdb/node-bindings-linux-x64@1.5.6-r.1"
DUCKDB_LIB_TGZ="duckdb-node-bindings-linux-x64-1.5.6-r.1.tgz"
DUCKDB_LIB_SHA256="1b9f82478539bb9a1d1df44bd103121a12ae52142c07158dc52b97d2ec1d69ff"
DUCKDB_HDR_PKG="duckdb@1.4.4"
DUCKDB_HDR_TGZ="duckdb-1.4.4.tgz"
DUCKDB_HDR_SHA256="5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed"

BUILD_PKGS=(build-essential pkg-config libsqlite3-dev libssl-dev libpq-dev libjemalloc-dev ca-certificates netcat-openbsd libedit-dev libevent-dev xxd)
# default-jdk-headless (Java 17's javac and jar) and junit5 (JUnit 5's console launcher) build
# and test the JDBC driver in clients/java (make java-test); nothing is downloaded by Maven.
# man-db renders the man pages in the install test; python3-yaml parses compose.yaml there.
# python3-psycopg2 and libpostgresql-jdbc-java: tests/e2e/test_pgwire.py drives the PostgreSQL
# front end with psycopg2 and pgjdbc (docs/pgwire.md); python3-psycopg (psycopg 3):
# tests/e2e/test_pgwire_proto.py drives its pipeline mode and binary cursors.
# prometheus (promtool), chromium, chromium-driver and python3-selenium: the admin page's tests
# check /metrics and drive the page in a real headless browser (docs/admin.md).
TEST_PKGS=(python3 python3-pytest postgresql postgresql-client clang libclang-rt-14-dev tmux golang-go default-jdk-headless junit5 man-db python3-yaml
           python3-psycopg2 python3-psycopg libpostgresql-jdbc-java prometheus chromium chromium-driver python3-selenium)

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

log() { printf 'setup: %s\n' "$*" >&2; }

install_debian() {
    local missing=()
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        log "missing Debian packages: ${missing[*]}; run as root or install them with apt-get"
        exit 1
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

fetch_npm() { # fetch_npm PKG TGZ SHA256: leaves a verified third_party/dl/TGZ
    local pkg=$1 tgz=$2 sum=$3 dir=third_party/dl
    mkdir -p "$dir"
    if [ -f "$dir/$tgz" ] && echo "$sum  $dir/$tgz" | sha256sum -c --status; then
        return 0
    fi
    log "fetching $pkg from npm"
    rm -f "$dir/$tgz"
    (cd "$dir" && npm pack --silent "$pkg" >/dev/null 2>&1)
    if ! echo "$sum  $dir/$tgz" | sha256sum -c --status; then
        log "checksum mismatch for $tgz: refusing to use it"
        rm -f "$dir/$tgz"
        exit 1
    fi
}

install_duckdb() {
    local stamp=third_party/duckdb/.stamp want="$DUCKDB_LIB_SHA256 $DUCKDB_HDR_SHA256"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
        [ -f third_party/duckdb/lib/libduckdb.so ] && [ -f third_party/duckdb/include/duckdb.h ]; then
        return 0
    fi
    fetch_npm "$DUCKDB_LIB_PKG" "$DUCKDB_LIB_TGZ" "$DUCKDB_LIB_SHA256"
    fetch_npm "$DUCKDB_HDR_PKG" "$DUCKDB_HDR_TGZ" "$DUCKDB_HDR_SHA256"
    rm -rf third_party/duckdb third_party/tmp
    mkdir -p third_party/duckdb/lib third_party/duckdb/include third_party/tmp
    tar -xzf "third_party/dl/$DUCKDB_LIB_TGZ" -C third_party/tmp package/libduckdb.so package/LICENSE
    tar -xzf "third_party/dl/$DUCKDB_HDR_TGZ" -C third_party/tmp package/src/duckdb/src/include/duckdb.h
    mv third_party/tmp/package/libduckdb.so third_party/duckdb/lib/
    mv third_party/tmp/package/LICENSE third_party/duckdb/LICENSE
    mv third_party/tmp/package/src/duckdb/src/include/duckdb.h third_party/duckdb/include/
    rm -rf third_party/tmp
    echo "$want" >"$stamp"
    log "DuckDB library 1.5.6 and header 1.4.4 are in third_party/duckdb"
}

# The PostgreSQL front end's Node.js suite (tests/pgwire/node, make pgnode-test) runs the two
# npm PostgreSQL clients users have, node-postgres (`pg`) and postgres.js (`postgres`); neither is
# packaged by Debian at a usable version. Their exact versions and every dependency's sha512 are
# pinned in tests/pgwire/node/package-lock.json; `npm ci` verifies them and runs no install
# scripts. node_modules is git-ignored; a stamp of the lock file's sum makes re-runs instant.
install_node_tests() {
    local dir=tests/pgwire/node stamp=tests/pgwire/node/node_modules/.lock.sha256 want
    want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    log "installing the npm clients of tests/pgwire/node (package-lock.json)"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --silent)
    echo "$want" >"$stamp"
}

install_debian "${BUILD_PKGS[@]}"
# npm fetches DuckDB. A machine may already have Node.js and npm from outside
# Debian (Debian's npm package would then conflict), so test for the command.
command -v npm >/dev/null 2>&1 || install_debian npm
[ $want_test -eq 1 ] && install_debian "${TEST_PKGS[@]}"
install_duckdb
if [ $want_test -eq 1 ]; then install_node_tests; fi
