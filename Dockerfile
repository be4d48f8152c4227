# TCP-DuckDB built from source on Debian 12 (docs/operations.md, "Container").
#   docker build -t tcp-duckdb .        or: docker compose up -d (compose.yaml)
# The build stage runs scripts/setup.sh, which fetches DuckDB's library (pinned version and
# sha256) with npm, then `make build install`; the runtime stage has the installed tree and
# the shared libraries it needs, and runs as an unprivileged user of its own. It listens on
# 0.0.0.0, which the server refuses while the super user has the default password: set
# SuperPassword (-e SuperPassword=...) for the first start (compose.yaml does).
# Not built on the development machine (no container engine there);
# tests/e2e/test_install.py checks that this file and compose.yaml parse.

FROM debian:12-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config libsqlite3-dev \
       libssl-dev libpq-dev libjemalloc-dev libedit-dev ca-certificates netcat-openbsd npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/setup.sh \
    && make -j"$(nproc)" build \
    && make install DESTDIR=/stage PREFIX=/usr/local

FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-0 libssl3 libpq5 libjemalloc2 \
       libedit2 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/tcp-duckdb --shell /usr/sbin/nologin tcp-duckdb \
    && install -d -o tcp-duckdb -g tcp-duckdb -m 0700 /var/lib/tcp-duckdb
COPY --from=build /stage/usr/local /usr/local
USER tcp-duckdb
# The working directory holds an optional .env, read at start-up and on every reload
# (docker kill -s HUP); the data directory is below it, on the volume.
WORKDIR /var/lib/tcp-duckdb
ENV ServerAddr=0.0.0.0 \
    ServerPort=4000 \
    DBdir=/var/lib/tcp-duckdb/data
VOLUME /var/lib/tcp-duckdb
EXPOSE 4000
# The supervisor is PID 1: it forwards SIGTERM (docker stop), SIGHUP and SIGUSR1 to the
# server and restarts it at once after a crash. SIGTERM stops it gracefully.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/4000 && echo quit >&3 && read -t 4 line <&3 && [ \"$line\" = success ]"]
ENTRYPOINT ["/usr/local/bin/tcp-duckdb", "--supervise", "on"]
