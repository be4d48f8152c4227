/* Unit tests of the statement cache: lookup by exact text, LRU eviction, sync. */
#include <stdlib.h>

#include "stmtcache.h"
#include "unit.h"

static duckdb_database db;
static duckdb_connection con;

static duckdb_prepared_statement prepare(const char *sql)
{
    duckdb_prepared_statement p = NULL;
    if (duckdb_prepare(con, sql, &p) != DuckDBSuccess) {
        fprintf(stderr, "cannot prepare %s\n", sql);
        exit(1);
    }
    return p;
}

static StmtEntry *add(StmtCache *c, const char *sql)
{
    return stmtcache_add(c, sql, strlen(sql), prepare(sql));
}

static StmtEntry *find(StmtCache *c, const char *sql)
{
    return stmtcache_find(c, sql, strlen(sql));
}

static void test_exact_text(void)
{
    StmtCache *c = stmtcache_new(4);
    StmtEntry *e = add(c, "SELECT 1");
    CHECK(e != NULL);
    CHECK(e->type == DUCKDB_STATEMENT_TYPE_SELECT);
    CHECK(find(c, "SELECT 1") == e);
    CHECK(find(c, "select 1") == NULL);
    CHECK(find(c, "SELECT 1 ") == NULL);
    CHECK(stmtcache_find(c, "SELECT 12", 8) == e); /* by length, not NUL */
    /* The same text again replaces the entry. */
    StmtEntry *e2 = add(c, "SELECT 1");
    CHECK(find(c, "SELECT 1") == e2);
    stmtcache_free(c);
}

static void test_lru(void)
{
    StmtCache *c = stmtcache_new(3);
    add(c, "SELECT 1");
    add(c, "SELECT 2");
    add(c, "SELECT 3");
    CHECK(find(c, "SELECT 1") != NULL); /* 1 is now the most recent; 2 the least */
    add(c, "SELECT 4");
    CHECK(find(c, "SELECT 2") == NULL);
    CHECK(find(c, "SELECT 1") != NULL);
    CHECK(find(c, "SELECT 3") != NULL);
    CHECK(find(c, "SELECT 4") != NULL);
    stmtcache_remove(c, find(c, "SELECT 3"));
    CHECK(find(c, "SELECT 3") == NULL);
    add(c, "SELECT 5");
    CHECK(find(c, "SELECT 1") != NULL && find(c, "SELECT 4") != NULL);
    stmtcache_free(c);
}

static void test_sync_and_limits(void)
{
    StmtCache *c = stmtcache_new(8);
    stmtcache_sync(c, 7);
    add(c, "SELECT 1");
    stmtcache_sync(c, 7);
    CHECK(find(c, "SELECT 1") != NULL);
    stmtcache_sync(c, 8);
    CHECK(find(c, "SELECT 1") == NULL);
    /* Too long a text is not taken, and the statement stays the caller's. */
    size_t len = STMTCACHE_MAX_SQL + 1;
    char *big = malloc(len + 1);
    memset(big, ' ', len);
    memcpy(big, "SELECT 1", 8);
    big[len] = '\0';
    duckdb_prepared_statement p = prepare(big);
    CHECK(stmtcache_add(c, big, len, p) == NULL);
    CHECK(find(c, big) == NULL);
    duckdb_destroy_prepare(&p);
    free(big);
    StmtCacheStats st;
    stmtcache_stats(&st);
    CHECK(st.hits > 0 && st.misses > 0 && st.evictions > 0 && st.invalidations > 0);
    stmtcache_free(c);
    stmtcache_free(NULL);
}

int main(void)
{
    if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "cannot open DuckDB\n");
        return 1;
    }
    UNIT_RUN(test_exact_text);
    UNIT_RUN(test_lru);
    UNIT_RUN(test_sync_and_limits);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return unit_summary("test_stmtcache");
}
