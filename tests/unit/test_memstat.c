/*
 * test_memstat: sizes as the settings write them, sizes as messages show
 * them, and the allocators' totals.
 */
#include <stdlib.h>

#include "memstat.h"
#include "unit.h"

static void test_parse_size(void)
{
    int64_t n = -1;
    CHECK(memstat_parse_size("0", 1000, &n) && n == 0);
    CHECK(memstat_parse_size("4096", 1000, &n) && n == 4096);
    CHECK(memstat_parse_size("512MB", 1000, &n) && n == 512LL << 20);
    CHECK(memstat_parse_size("512 mib", 1000, &n) && n == 512LL << 20);
    CHECK(memstat_parse_size("4GB", 1000, &n) && n == 4LL << 30);
    CHECK(memstat_parse_size("1.5GB", 1000, &n) && n == 3LL << 29);
    CHECK(memstat_parse_size("2TB", 1000, &n) && n == 2LL << 40);
    CHECK(memstat_parse_size("64kB", 1000, &n) && n == 64 << 10);
    CHECK(memstat_parse_size("50%", 1000, &n) && n == 500);
    CHECK(memstat_parse_size("100%", 1000, &n) && n == 1000);
    CHECK(!memstat_parse_size("", 1000, &n));
    CHECK(!memstat_parse_size("lots", 1000, &n));
    CHECK(!memstat_parse_size("-1GB", 1000, &n));
    CHECK(!memstat_parse_size("101%", 1000, &n));
    CHECK(!memstat_parse_size("4 GBs", 1000, &n));
    CHECK(!memstat_parse_size("1e30", 1000, &n));
}

static void test_format_size(void)
{
    char buf[32];
    memstat_format_size(buf, sizeof(buf), 200LL << 20);
    CHECK_STR(buf, "200MB");
    memstat_format_size(buf, sizeof(buf), 600LL << 20);
    CHECK_STR(buf, "600MB");
    memstat_format_size(buf, sizeof(buf), 3LL << 29);
    CHECK_STR(buf, "1.5GB");
    memstat_format_size(buf, sizeof(buf), 512);
    CHECK_STR(buf, "512 bytes");
    memstat_format_size(buf, sizeof(buf), 4LL << 30);
    CHECK_STR(buf, "4GB");
}

static void test_totals(void)
{
    MemstatTotal parts;
    int64_t before = memstat_total(&parts);
    CHECK(before > 0);
    CHECK(parts.duckdb >= 0); /* DuckDB's library bundles jemalloc on Linux */
    CHECK(memstat_ram_bytes() > 0);
    const MemstatThread *t = memstat_thread();
    CHECK(t == memstat_thread()); /* located once per thread */
    int64_t net = memstat_thread_net(t);
    char *p = malloc(64 << 20);
    CHECK(p != NULL);
    /* Only jemalloc counts per thread: in the other builds the net stays. */
    CHECK(memstat_thread_net(t) >= net);
    free(p);
}

int main(void)
{
    UNIT_RUN(test_parse_size);
    UNIT_RUN(test_format_size);
    UNIT_RUN(test_totals);
    return unit_summary("memstat");
}
