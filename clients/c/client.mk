# The C client: libtcpduckdb (static and shared), the shell tcp-duckdb-cli,
# and the library's tests. Included from the Makefile; uses its CC, CFLAGS,
# WARN and SAN. The client links neither DuckDB nor SQLite; it links OpenSSL for TLS.
#
#   build/libtcpduckdb.a  build/libtcpduckdb.so  build/tcp-duckdb-cli        release
#   build/asan/...        the same, ASan+UBSan, plus build/asan/tests/test_client

CLIENT_DIR      := clients/c
CLIENT_CPPFLAGS := -D_GNU_SOURCE -DTCPDUCKDB_VERSION='"$(VERSION)"' -I$(CLIENT_DIR) -MMD -MP
# The library's sources: every clients/c/*.c but the shell's (shell*.c) and the tests.
CLIENT_LIB      := $(basename $(notdir $(filter-out $(CLIENT_DIR)/shell%.c $(CLIENT_DIR)/test_client.c,\
                       $(wildcard $(CLIENT_DIR)/*.c))))
CLIENT_SHELL    := $(basename $(notdir $(wildcard $(CLIENT_DIR)/shell*.c)))

# $(call client_variant,DIR,EXTRA_CFLAGS)
define client_variant
$(1)/obj/client/%.o: $(CLIENT_DIR)/%.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CLIENT_CPPFLAGS) $$(CFLAGS) $(2) -c $$< -o $$@
$(1)/obj/client/pic/%.o: $(CLIENT_DIR)/%.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CLIENT_CPPFLAGS) $$(CFLAGS) $(2) -fPIC -c $$< -o $$@
$(1)/libtcpduckdb.a: $(patsubst %,$(1)/obj/client/%.o,$(CLIENT_LIB))
	@rm -f $$@
	ar rcs $$@ $$^
$(1)/libtcpduckdb.so: $(patsubst %,$(1)/obj/client/pic/%.o,$(CLIENT_LIB))
	$$(CC) $$(CFLAGS) $(2) -shared -Wl,-soname,libtcpduckdb.so -o $$@ $$^ -lssl -lcrypto -lm
$(1)/tcp-duckdb-cli: $(patsubst %,$(1)/obj/client/%.o,$(CLIENT_SHELL)) $(1)/libtcpduckdb.a
	$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ -ledit -lssl -lcrypto -lm
$(1)/client: $(1)/libtcpduckdb.a $(1)/libtcpduckdb.so $(1)/tcp-duckdb-cli
-include $$(wildcard $(1)/obj/client/*.d $(1)/obj/client/pic/*.d)
endef

$(eval $(call client_variant,build,-O2))
$(eval $(call client_variant,build/asan,$(SAN)))

build/asan/tests/test_client: build/asan/obj/client/test_client.o build/asan/libtcpduckdb.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ -lssl -lcrypto -lm

.PHONY: client client-asan client-test
client: build/client
client-asan: build/asan/client build/asan/tests/test_client
# The library's tests start build/asan/tcp-duckdb themselves (or use $$TDB_TEST_PORT).
client-test: client-asan build/asan/tcp-duckdb
	build/asan/tests/test_client
