# TCP-DuckDB build. Three variants of the same sources:
#   build/            release (-O2), what `make run` starts
#   build/asan/       AddressSanitizer + UndefinedBehaviorSanitizer, what `make test` tests
#   build/tsan/       ThreadSanitizer: the unit tests of shared state (TSAN_UNIT) and
#                     the server for part of the end-to-end suite (E2E_TSAN)
# Every variant compiles src/*.c (except main.c) into one static library that
# the server, the unit tests and the tools link.

CC       ?= cc
DUCKDB   := third_party/duckdb
VERSION  := 0.1.0

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
CPPFLAGS := -D_GNU_SOURCE -DTCPDUCKDB_VERSION='"$(VERSION)"' -Isrc -isystem $(DUCKDB)/include -MMD -MP
CFLAGS   := -std=c11 -g -pthread $(WARN)
LIBS     := -L$(DUCKDB)/lib -lduckdb -lsqlite3 -levent -levent_openssl -levent_pthreads -lssl \
            -lcrypto -lpq -pthread -lm
# The release build allocates with jemalloc rather than glibc's malloc, for DuckDB's
# many small per-statement objects (docs/performance.md, "Small queries": jemalloc). The
# sanitizer builds keep their own allocators; `make test` runs the C client's suite
# and the protocol suites against the release server too, so both are tested.
RELEASE_ALLOC := -ljemalloc

SRCS     := $(filter-out src/main.c,$(wildcard src/*.c))
UNIT     := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
# Unit tests whose threads share state; `make unit` runs them under TSan too.
TSAN_UNIT := test_pool test_authz test_watchdog test_quota test_workers test_cancel test_sessions test_rescache test_metrics

# The admin page's static files (web/), embedded as C arrays (src/webassets.h).
build/gen/web_assets.c: scripts/embed-web.sh $(wildcard web/*)
	@mkdir -p $(dir $@)
	scripts/embed-web.sh $@

# $(call variant,DIR,EXTRA_CFLAGS,RPATH_FROM_DIR,EXTRA_LIBS)
define variant
$(1)/obj/%.o: src/%.c | $(DUCKDB)/lib/libduckdb.so
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $(2) -c $$< -o $$@
$(1)/obj/tests/%.o: tests/unit/%.c | $(DUCKDB)/lib/libduckdb.so
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) -Itests/unit $$(CFLAGS) $(2) -c $$< -o $$@
$(1)/obj/gen/web_assets.o: build/gen/web_assets.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $(2) -c $$< -o $$@
$(1)/libtcpduckdb_server.a: $(patsubst src/%.c,$(1)/obj/%.o,$(SRCS)) $(1)/obj/gen/web_assets.o
	@rm -f $$@
	ar rcs $$@ $$^
$(1)/tcp-duckdb: $(1)/obj/main.o $(1)/libtcpduckdb_server.a
	$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ -Wl,-rpath,'$$$$ORIGIN/$(3)/$(DUCKDB)/lib' $(4) $$(LIBS)
$(1)/tests/%: $(1)/obj/tests/%.o $(1)/libtcpduckdb_server.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ -Wl,-rpath,'$$$$ORIGIN/../$(3)/$(DUCKDB)/lib' $(4) $$(LIBS)
-include $$(wildcard $(1)/obj/*.d $(1)/obj/tests/*.d)
endef

# The sanitizer builds also compile the test hooks (`debug crash`, src/session.c), which
# the release build must never have (tests/e2e/test_crash.py checks it).
TEST_HOOKS := -DTCPDUCKDB_TEST_HOOKS
SAN := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
       $(TEST_HOOKS)

$(eval $(call variant,build,-O2,..,$(RELEASE_ALLOC)))
$(eval $(call variant,build/asan,$(SAN),../..))
$(eval $(call variant,build/tsan,-O1 -fsanitize=thread $(TEST_HOOKS),../..))

# The C client library, the shell and the library's tests (clients/c).
include clients/c/client.mk

# `make bench` and its programs.
include bench/bench.mk

# libFuzzer targets: make fuzz-smoke (in make test) and make fuzz.
include tests/fuzz/fuzz.mk

# make install / make uninstall (PREFIX, DESTDIR).
include scripts/install.mk

.PHONY: all build asan tsan drivers pgnode-test go-test java java-test deps deps-test run test unit e2e e2e-tsan release-test fmt fmt-check \
        clean bench soak-plans

all: build

$(DUCKDB)/lib/libduckdb.so:
	scripts/setup.sh

deps:
	@scripts/setup.sh

deps-test:
	@scripts/setup.sh --test

build: deps build/tcp-duckdb build/client

asan: deps build/asan/tcp-duckdb build/asan/client build/asan/tests/test_client \
      $(addprefix build/asan/tests/,$(UNIT))

tsan: deps build/tsan/tcp-duckdb $(addprefix build/tsan/tests/,$(TSAN_UNIT))

run: build
	./build/tcp-duckdb

# ASan's leak checker runs at the exit of every unit test; the server itself
# is checked for leaks in the end-to-end suite (tests/e2e/conftest.py).
export ASAN_OPTIONS := abort_on_error=0:detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
# DuckDB's library is not instrumented; what TSan still sees of it through
# intercepted calls is suppressed (tests/unit/tsan.supp says why), in the unit
# tests and in the server of e2e-tsan alike. Any other report fails the run.
export TSAN_OPTIONS := halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/unit/tsan.supp

unit: asan tsan
	@pass=0; fail=0; for t in $(UNIT); do \
	    if build/asan/tests/$$t; then pass=$$((pass+1)); else echo "FAILED: $$t"; fail=$$((fail+1)); fi; \
	done; for t in $(TSAN_UNIT); do \
	    if build/tsan/tests/$$t; then pass=$$((pass+1)); else echo "FAILED: $$t (tsan)"; fail=$$((fail+1)); fi; \
	done; if build/asan/tests/test_client; then pass=$$((pass+1)); else \
	    echo "FAILED: test_client"; fail=$$((fail+1)); fi; \
	echo "unit: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

e2e: asan build/bench/tpch_run
	TCPDUCKDB_BIN=$(CURDIR)/build/asan/tcp-duckdb TCPDUCKDB_CLI=$(CURDIR)/build/asan/tcp-duckdb-cli \
	    /usr/bin/python3 -m pytest -q --durations=25 tests/e2e

# The server's threads (I/O thread, workers handing sessions over through epoll) under
# ThreadSanitizer: the suites that exercise connections, TLS, the pool and shutdown. Not here:
# the supervisor's crash cases (test_crash.py: processes, not threads), the drop-in client
# forms (test_dropin.py: one connection at a time) and a backup killed with SIGKILL (the
# process's end, which TSan cannot judge); make e2e runs them all under ASan.
E2E_TSAN := tests/e2e/test_protocol.py tests/e2e/test_server.py tests/e2e/test_tls.py \
            tests/e2e/test_login_limits.py tests/e2e/test_cancel.py \
            tests/e2e/test_stmtcache.py tests/e2e/test_pool.py tests/e2e/test_limits.py \
            tests/e2e/test_fairness.py tests/e2e/test_memory.py \
            tests/e2e/test_ops.py tests/e2e/test_backup.py \
            tests/e2e/test_rescache.py tests/e2e/test_parallel.py \
            tests/e2e/test_backup_pitr.py \
            tests/e2e/test_pgwire.py tests/e2e/test_pgwire_copy.py tests/e2e/test_pgwire_catsql.py \
            tests/e2e/test_admin_http.py \
            tests/e2e/test_cdc.py::test_stop_start_migrate_and_unlink \
            tests/e2e/test_cdc_schema.py::test_resync_one_table_and_the_whole_database_under_writers \
            tests/e2e/test_cdc_switch.py::test_switch_while_writers_run_loses_and_doubles_nothing
e2e-tsan: tsan
	TCPDUCKDB_BIN=$(CURDIR)/build/tsan/tcp-duckdb /usr/bin/python3 -m pytest -q --durations=15 \
	    $(E2E_TSAN) --deselect tests/e2e/test_backup.py::test_kill_during_backup_leaves_no_backup_listed

# The differential test of stale plans (issue 13) for STALE_PLANS_SECONDS (300) instead of the
# 5 s it gets in make e2e.
soak-plans: asan
	STALE_PLANS_SECONDS=$${STALE_PLANS_SECONDS:-300} TCPDUCKDB_BIN=$(CURDIR)/build/asan/tcp-duckdb \
	    /usr/bin/python3 -m pytest -q -s tests/e2e/test_stale_plans.py -k random_changes

# The release server (what `make run` starts, with jemalloc): the C client's suite, the
# protocol-level suites, the supervisor's (test_crash.py: its crash-hook cases skip, and one
# checks that the release build has no hook) and the memory guard's (test_memguard.py, only
# there: it needs jemalloc). The guard ends the statement test_crash.py sends to reach
# MemoryHardLimit, so that case runs in the sanitizer builds only (make e2e).
release-test: build build/asan/tests/test_client
	TCPDUCKDB_BIN=$(CURDIR)/build/tcp-duckdb build/asan/tests/test_client
	TCPDUCKDB_BIN=$(CURDIR)/build/tcp-duckdb TCPDUCKDB_CLI=$(CURDIR)/build/tcp-duckdb-cli \
	    /usr/bin/python3 -m pytest -q tests/e2e/test_protocol.py tests/e2e/test_server.py \
	    tests/e2e/test_crash.py tests/e2e/test_memguard.py \
	    --deselect tests/e2e/test_crash.py::test_crash_loses_no_committed_transaction \
	    --deselect tests/e2e/test_crash.py::test_memory_hard_limit_restarts_the_server_with_its_data

# The Python, Node.js, Go and Java drivers' suites; each starts the ASan server itself.
drivers: asan
	TCPDUCKDB_BIN=$(CURDIR)/build/asan/tcp-duckdb /usr/bin/python3 -m pytest -q clients/python/tests
	TCPDUCKDB_BIN=$(CURDIR)/build/asan/tcp-duckdb node --test clients/node/test/
	@$(MAKE) --no-print-directory pgnode-test
	@$(MAKE) --no-print-directory go-test
	@$(MAKE) --no-print-directory java-test

# node-postgres and postgres.js (npm, pinned in tests/pgwire/node/package-lock.json and installed
# by scripts/setup.sh --test) against the PostgreSQL front end of the ASan server.
pgnode-test: asan
	@test -d tests/pgwire/node/node_modules/pg || { echo "run scripts/setup.sh --test first"; exit 1; }
	TCPDUCKDB_BIN=$(CURDIR)/build/asan/tcp-duckdb node --test $(wildcard tests/pgwire/node/*.test.mjs)

# The Go driver (clients/go, standard library only): go vet, then go test under the race
# detector against the ASan server. The build cache and GOPATH live under build/go, so nothing
# is written to $HOME, and GOPROXY=off: the module has no dependencies to download.
GO_ENV := GOCACHE=$(CURDIR)/build/go/cache GOPATH=$(CURDIR)/build/go/path GOFLAGS=-buildvcs=false \
          GOPROXY=off GOTELEMETRY=off
go-test: asan
	cd clients/go && $(GO_ENV) go vet ./...
	cd clients/go && $(GO_ENV) TCPDUCKDB_BIN=$(CURDIR)/build/asan/tcp-duckdb go test -race -count=1 -timeout 300s ./...

# The JDBC driver (clients/java): javac and jar from Debian's default-jdk-headless, nothing
# downloaded; its JUnit 5 suite (Debian's junit5 console launcher) against the ASan server, in a
# JVM of 64 MB heap so that a result read into memory would fail the streaming tests.
JAVA_SRC = $(shell find clients/java/src/main -name '*.java')
JAVA_TEST_SRC = $(shell find clients/java/src/test -name '*.java')
JUNIT_JAR := /usr/share/java/junit-platform-console-standalone.jar
# One class: make java-test JAVA_TESTS="--select-class tcpduckdb.jdbc.TypesTest"
JAVA_TESTS = --scan-class-path $(CURDIR)/build/java/test-classes
JAVAC := javac --release 17 -Xlint:all -Werror -encoding UTF-8

build/java/tcpduckdb-jdbc.jar: $(JAVA_SRC) clients/java/src/main/resources/META-INF/services/java.sql.Driver
	rm -rf build/java/classes && mkdir -p build/java/classes
	$(JAVAC) -d build/java/classes $(JAVA_SRC)
	jar --create --file $@ -C build/java/classes . -C clients/java/src/main/resources .

java: build/java/tcpduckdb-jdbc.jar

java-test: asan build/java/tcpduckdb-jdbc.jar
	rm -rf build/java/test-classes && mkdir -p build/java/test-classes
	$(JAVAC) -cp build/java/tcpduckdb-jdbc.jar:$(JUNIT_JAR) -d build/java/test-classes $(JAVA_TEST_SRC)
	cd clients/java && TCPDUCKDB_BIN=$(CURDIR)/build/asan/tcp-duckdb java -Xmx64m -jar $(JUNIT_JAR) \
	    --class-path $(CURDIR)/build/java/test-classes:$(CURDIR)/build/java/tcpduckdb-jdbc.jar \
	    $(JAVA_TESTS) --disable-banner --details=summary --fail-if-no-tests

test: deps-test
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory e2e-tsan
	@$(MAKE) --no-print-directory drivers
	@$(MAKE) --no-print-directory release-test
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory fmt-check
	@echo "make test: all suites passed"

FMT_FILES = src/*.c src/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c clients/c/*.c clients/c/*.h bench/*.c

fmt:
	clang-format -i $(FMT_FILES)
	gofmt -w clients/go

fmt-check:
	@clang-format --dry-run --Werror $(FMT_FILES)
	@unformatted=$$(gofmt -l clients/go) && [ -z "$$unformatted" ] || \
	    { echo "gofmt: not formatted: $$unformatted"; exit 1; }
	@echo "fmt: clean"

clean:
	rm -rf build
