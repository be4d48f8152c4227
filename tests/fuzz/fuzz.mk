# Fuzzing with libFuzzer (clang). Included from the Makefile.
#
# Every tests/fuzz/fuzz_<name>.c is a target: it defines LLVMFuzzerTestOneInput
# and is linked against the server's sources and the C client library, all
# compiled by clang with -fsanitize=fuzzer-no-link,address,undefined into
# build/fuzz/. Its seed corpus is tests/fuzz/corpus/fuzz_<name>/ (kept in the
# repository); runs work on a copy of it under build/fuzz/, so the inputs a
# run finds never dirty the tree.
#
#   make fuzz-smoke   each target for FUZZ_SMOKE_SECONDS (part of make test)
#   make fuzz         each target for FUZZ_SECONDS (a long run of its own)
#
# A crash, a timeout, a leak or a sanitizer report fails the target.

FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -g -O1 -pthread $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SMOKE_SECONDS ?= 8
FUZZ_SECONDS ?= 300
CLIENT_SRCS  := $(filter-out clients/c/shell%.c clients/c/test_client.c,$(wildcard clients/c/*.c))

build/fuzz/obj/%.o: src/%.c | $(DUCKDB)/lib/libduckdb.so
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/obj/client/%.o: clients/c/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -D_GNU_SOURCE -MMD -MP -Iclients/c $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/libserver.a: $(patsubst src/%.c,build/fuzz/obj/%.o,$(SRCS))
	@rm -f $@
	ar rcs $@ $^
build/fuzz/libclient.a: $(patsubst clients/c/%.c,build/fuzz/obj/client/%.o,$(CLIENT_SRCS))
	@rm -f $@
	ar rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzz/libserver.a build/fuzz/libclient.a
	$(FUZZ_CC) $(CPPFLAGS) -Iclients/c $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    build/fuzz/libserver.a build/fuzz/libclient.a \
	    -Wl,-rpath,'$$ORIGIN/../../$(DUCKDB)/lib' $(LIBS)
-include $(wildcard build/fuzz/obj/*.d build/fuzz/obj/client/*.d)

.PHONY: fuzz fuzz-bin fuzz-smoke
fuzz-bin: deps-test $(addprefix build/fuzz/,$(FUZZ_TARGETS))

# $(1): seconds per target. Each target runs on a scratch copy of its corpus.
define fuzz_run
	@fail=0; for t in $(FUZZ_TARGETS); do \
	    rm -rf build/fuzz/work/$$t && mkdir -p build/fuzz/work/$$t && \
	    cp tests/fuzz/corpus/$$t/* build/fuzz/work/$$t/ 2>/dev/null; \
	    echo "fuzz: $$t for $(1) s"; \
	    if ! build/fuzz/$$t -max_total_time=$(1) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=0 -artifact_prefix=build/fuzz/$$t- build/fuzz/work/$$t \
	        > build/fuzz/$$t.log 2>&1; then \
	        tail -60 build/fuzz/$$t.log; echo "FAILED: fuzz $$t (log: build/fuzz/$$t.log)"; fail=1; \
	    else grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" build/fuzz/$$t.log | tail -1; fi; \
	done; [ $$fail -eq 0 ]
endef

fuzz-smoke: fuzz-bin
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))

fuzz: fuzz-bin
	$(call fuzz_run,$(FUZZ_SECONDS))
