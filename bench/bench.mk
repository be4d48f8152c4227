# `make bench`: TCP-DuckDB and PostgreSQL 15 side by side (bench/README.md).
# Included from the Makefile; uses its CC, CFLAGS, CPPFLAGS, LIBS and the
# release build's libraries. The programs are built into build/bench/:
#
#   tdb_bench     the TCP-DuckDB client side (load, large, conns) on build/libtcpduckdb.a
#   inproc_json   the in-process ceiling for large results, on build/libtcpduckdb_server.a
#                 and the server's allocator (RELEASE_ALLOC)
#   pg_drain      a plain libpq program draining COPY ... TO STDOUT, the ceiling for `link`
#   pg_beside     PostgreSQL's side of "short requests beside long ones" (libpq), as
#                 `tdb_bench beside`
#
# bench/run.py then starts the servers, runs everything and writes
# bench/results/latest.md and latest.json. BENCH_QUICK=1 makes a short run
# (a few minutes, smaller tables) for development.

BENCH_BIN := build/bench/tdb_bench build/bench/inproc_json build/bench/pg_drain \
             build/bench/pg_beside build/bench/tpch_run

build/bench/tdb_bench: bench/tdb_bench.c build/libtcpduckdb.a clients/c/tcpduckdb.h
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE -Iclients/c $(CFLAGS) -O2 -o $@ $< build/libtcpduckdb.a -lssl -lcrypto -lm

build/bench/inproc_json: bench/inproc_json.c build/libtcpduckdb_server.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O2 -o $@ $< build/libtcpduckdb_server.a \
	    -Wl,-rpath,'$$ORIGIN/../../$(DUCKDB)/lib' $(RELEASE_ALLOC) $(LIBS)

build/bench/pg_drain: bench/pg_drain.c
	@mkdir -p $(dir $@)
	$(CC) -I/usr/include/postgresql $(CFLAGS) -O2 -o $@ $< -lpq

build/bench/pg_beside: bench/pg_beside.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE -I/usr/include/postgresql $(CFLAGS) -O2 -o $@ $< -lpq

# tpch_run: the TPC-H-like queries on in-process DuckDB, TCP-DuckDB (C client library) or
# PostgreSQL (libpq), for bench/tpch.py.
build/bench/tpch_run: bench/tpch_run.c build/libtcpduckdb.a clients/c/tcpduckdb.h | $(DUCKDB)/lib/libduckdb.so
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE -Iclients/c -I/usr/include/postgresql $(CPPFLAGS) $(CFLAGS) -O2 -o $@ $< \
	    build/libtcpduckdb.a -Wl,-rpath,'$$ORIGIN/../../$(DUCKDB)/lib' -L$(DUCKDB)/lib -lduckdb \
	    -lpq -lssl -lcrypto -lm -pthread

# stats_race: DuckDB alone, no server: fresh queries racing with other connections' appends,
# with statistics propagation on and off (bench/stats_race.c; docs/performance.md).
build/bench/stats_race: bench/stats_race.c | $(DUCKDB)/lib/libduckdb.so
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O2 -o $@ $< -Wl,-rpath,'$$ORIGIN/../../$(DUCKDB)/lib' \
	    -L$(DUCKDB)/lib -lduckdb -pthread

RACE_SECONDS ?= 60
RACE_DIR ?= /dev/shm
stats-race: build/bench/stats_race
	for m in query prepared; do for o in on off; do \
	    build/bench/stats_race $(RACE_DIR) $(RACE_SECONDS) $$m $$o; done; done

# plan_cost: analytical queries and key lookups with DuckDB's statistics-driven optimizer
# passes on (DuckDB's defaults) and off (the server's), in alternation (docs/performance.md).
build/bench/plan_cost: bench/plan_cost.c | $(DUCKDB)/lib/libduckdb.so
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O2 -o $@ $< -Wl,-rpath,'$$ORIGIN/../../$(DUCKDB)/lib' \
	    -L$(DUCKDB)/lib -lduckdb -pthread

PLAN_COST_ROWS ?= 10000000
PLAN_COST_THREADS ?= 1
plan-cost: build/bench/plan_cost
	@grep -E '^cpu ' /proc/stat | awk '{print "cpu steal ticks at start:", $$9}'
	for round in 1 2; do for d in "" statistics_propagation,row_group_pruner; do \
	    build/bench/plan_cost "$$d" $(PLAN_COST_THREADS) $(PLAN_COST_ROWS) \
	        $(RACE_DIR)/plan_cost.duckdb; done; done
	@grep -E '^cpu ' /proc/stat | awk '{print "cpu steal ticks at end:", $$9}'

# cache-mix: the result cache's dashboard mix, cache on and off, and a miss-only mix for its
# overhead (bench/dashboard.py; docs/performance.md, "Result cache").
CACHE_MIX_SECONDS ?= 10
cache-mix: build
	/usr/bin/python3 bench/dashboard.py --seconds $(CACHE_MIX_SECONDS) --pg

# bench-backup: backup and restore MB/s against cp, the small-insert workload with ArchiveMode
# off and on, and a point-in-time restore after it; restore time to a point
# BACKUP_PGBENCH_MINUTES of pgbench-like writes after the base (bench/backup.py; docs/backup.md).
BACKUP_ROWS ?= 8000000
BACKUP_SECONDS ?= 20
BACKUP_PGBENCH_MINUTES ?= 5
bench-backup: build
	/usr/bin/python3 bench/backup.py --rows $(BACKUP_ROWS) --seconds $(BACKUP_SECONDS)
	/usr/bin/python3 bench/backup.py --pgbench-minutes $(BACKUP_PGBENCH_MINUTES)

# bench-pgwire: pgbench against TCP-DuckDB's PgPort and PostgreSQL 15, beside the line protocol,
# COPY out and \copy in, and a perf profile of pgbench -S -M prepared (bench/pgwire.py; issue 16).
# PGWIRE_SECS (4) per run, PGWIRE_REPS (1), PGWIRE_PROFILE=0 without perf.
bench-pgwire: deps-test
	@$(MAKE) --no-print-directory bench-bin
	/usr/bin/python3 bench/pgwire.py

# bench-cdc: CDC's apply rate for a 1M-row UPDATE and a TPC-B backlog against pg_recvlogical
# draining the same pgoutput stream, and the lag under pgbench -R 1000 and unthrottled
# (bench/cdc.py; issue 17). CDC_SCALE (10), CDC_BACKLOG_SECS (20), CDC_LAG_SECS (20).
bench-cdc: deps-test build
	/usr/bin/python3 bench/cdc.py

.PHONY: bench bench-bin stats-race plan-cost cache-mix bench-tpch bench-threads bench-backup \
        bench-pgwire bench-cdc
bench-bin: build $(BENCH_BIN)

# setup.sh --test installs PostgreSQL 15 (initdb, pg_ctl, pgbench, psql) and Python 3.
bench: deps-test
	@$(MAKE) --no-print-directory bench-bin
	/usr/bin/python3 bench/run.py $(if $(BENCH_QUICK),--quick)

# The TPC-H-like section alone (bench/tpch.py): TPCH_SF (default 1; 0.1 with BENCH_QUICK),
# TPCH_REPS, TPCH_NO_PG=1 to leave PostgreSQL out.
bench-tpch:
	BENCH_ONLY=tpch $(MAKE) --no-print-directory bench

# DuckdbThreads: small statements and a 10M-row aggregate on 1 and 2 cores (taskset), the
# server with --duckdb-threads 1 and with its default (bench/threads.py; docs/performance.md).
# THREADS_BASELINE_BIN: a build from before parallel.c, run with DuckDB's own threads.
bench-threads: build bench-bin
	/usr/bin/python3 bench/threads.py
