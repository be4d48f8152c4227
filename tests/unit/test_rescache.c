/* Unit tests of the result cache: keying, classification, generations, LRU, memory bound,
 * and readers racing writers (under TSan). */
#include <pthread.h>
#include <stdlib.h>

#include "dbmeta.h"
#include "query.h"
#include "rescache.h"
#include "unit.h"

static void configure(int64_t memory, int64_t max_entry, int ttl)
{
    rescache_reset();
    RescacheConfig cfg = {.memory_bytes = memory, .max_entry_bytes = max_entry, .ttl_sec = ttl};
    rescache_configure(&cfg);
}

static Buf key_of(int64_t db, bool typed, const char *sql, const TypedRequest *params)
{
    Buf k = BUF_INIT;
    const char *form = typed ? RESCACHE_FORM_TYPED : RESCACHE_FORM_LINE;
    if (!rescache_key(&k, db, form, 1, sql, strlen(sql), params))
        k.len = 0;
    return k;
}

static bool same_key(const Buf *a, const Buf *b)
{
    return a->len == b->len && a->len > 0 && memcmp(a->data, b->data, a->len) == 0;
}

static void test_keys(void)
{
    Buf a = key_of(1, false, "SELECT  a FROM t -- c\n WHERE x = 1", NULL);
    Buf b = key_of(1, false, "SELECT a /* c */ FROM t WHERE x=1", NULL);
    Buf c = key_of(1, false, "select a FROM t WHERE x = 1", NULL);
    Buf d = key_of(2, false, "SELECT a FROM t WHERE x = 1", NULL);
    Buf e = key_of(1, true, "SELECT a FROM t WHERE x = 1", NULL);
    Buf f = key_of(1, false, "SELECT 'a  b'", NULL);
    Buf g = key_of(1, false, "SELECT 'a b'", NULL);
    CHECK(same_key(&a, &b));  /* whitespace and comments do not count */
    CHECK(!same_key(&a, &c)); /* case is kept (aliases name columns) */
    CHECK(!same_key(&b, &d)); /* per database */
    CHECK(!same_key(&b, &e)); /* per answer form */
    CHECK(!same_key(&f, &g)); /* strings are kept byte for byte */
    Buf bad = BUF_INIT;
    CHECK(!rescache_key(&bad, 1, RESCACHE_FORM_LINE, 1, "SELECT 'open", 12, NULL));
    /* A front end's own form (a PostgreSQL answer: RowDescription or not, format codes). */
    Buf pg_text = BUF_INIT, pg_bin = BUF_INIT;
    CHECK(rescache_key(&pg_text, 1, "P\1\0", 3, "SELECT a FROM t WHERE x = 1", 27, NULL));
    CHECK(rescache_key(&pg_bin, 1, "P\1\1", 3, "SELECT a FROM t WHERE x = 1", 27, NULL));
    CHECK(!same_key(&pg_text, &pg_bin));
    CHECK(!same_key(&pg_text, &b));
    buf_free(&pg_text);
    buf_free(&pg_bin);

    /* 1, 1.0, '1', true and NULL are five keys; so are two texts of different lengths. */
    Param ps[] = {{.kind = PARAM_INT, .i = 1},
                  {.kind = PARAM_DOUBLE, .d = 1.0},
                  {.kind = PARAM_TEXT, .bytes = "1", .len = 1},
                  {.kind = PARAM_BOOL, .b = true},
                  {.kind = PARAM_NULL},
                  {.kind = PARAM_BLOB, .bytes = "1", .len = 1}};
    Buf keys[6];
    for (int i = 0; i < 6; i++) {
        TypedRequest r = {.sql = "SELECT $1", .params = &ps[i], .nparams = 1, .has_params = true};
        keys[i] = key_of(1, true, "SELECT $1", &r);
    }
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            CHECK(!same_key(&keys[i], &keys[j]));
    Param two[] = {{.kind = PARAM_TEXT, .bytes = "ab", .len = 2},
                   {.kind = PARAM_TEXT, .bytes = "c", .len = 1}};
    Param two2[] = {{.kind = PARAM_TEXT, .bytes = "a", .len = 1},
                    {.kind = PARAM_TEXT, .bytes = "bc", .len = 2}};
    TypedRequest r1 = {.params = two, .nparams = 2, .has_params = true};
    TypedRequest r2 = {.params = two2, .nparams = 2, .has_params = true};
    Buf k1 = key_of(1, true, "SELECT $1, $2", &r1), k2 = key_of(1, true, "SELECT $1, $2", &r2);
    CHECK(!same_key(&k1, &k2));
    for (int i = 0; i < 6; i++)
        buf_free(&keys[i]);
    Buf *all[] = {&a, &b, &c, &d, &e, &f, &g, &bad, &k1, &k2};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        buf_free(all[i]);
}

static void test_classify(void)
{
    static const struct {
        const char *sql;
        bool cacheable, read_only;
    } cases[] = {
        {"SELECT a, count(*) FROM t WHERE b IN (1, 2) GROUP BY a", true, true},
        {"FROM t", true, true},
        {"WITH x AS (SELECT 1 AS a) SELECT a FROM x", true, true},
        {"SELECT CAST(a AS DECIMAL(10, 2)) FROM t", true, true},
        {"SELECT upper(v), 'random()' FROM t", true, true},
        {"SELECT random()", false, true},
        {"SELECT now()", false, true},
        {"SELECT current_timestamp", false, true},
        {"SELECT CURRENT_DATE", false, true},
        {"SELECT \"RANDOM\"()", false, true},
        {"SELECT current_setting('threads')", false, true},
        {"SELECT * FROM t USING SAMPLE 10%", false, true},
        /* Table functions: fnlist's pure ones (rows from their arguments) are cached;
         * every other one reads outside the database or writes (fail closed). */
        {"SELECT * FROM range(10)", true, true},
        {"SELECT * FROM generate_series(1, 5) AS g", true, true},
        {"SELECT sum(unnest) FROM unnest([1, 2, 3])", true, true},
        /* An alias with a column list reads as a call of an unknown name: not cached. */
        {"SELECT * FROM generate_series(1, 5) g(x)", false, false},
        {"SELECT * FROM json_each('{\"a\": 1}')", true, true},
        {"SELECT * FROM range(epoch(now())::BIGINT)", false, true},
        {"SELECT * FROM read_csv('/etc/passwd')", false, false},
        {"SELECT * FROM glob('*')", false, false},
        {"SELECT * FROM duckdb_tables()", false, false},
        {"SELECT * FROM query('SELECT 1')", false, false},
        {"SELECT * FROM getvariable('x')", false, true},
        {"SELECT write_log('x')", false, true},
        {"SELECT my_macro(1)", false, false},        /* unknown */
        {"SELECT nullif(a, 0) FROM t", false, true}, /* a built-in macro: read, not cached */
        {"SELECT * FROM checkpoint()", false, false},
        {"SELECT nextval('s')", false, false}, /* volatile and writes */
        {"SELECT 1; SELECT 2", false, false},  /* two statements */
        {"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", false, false},
        {"INSERT INTO t VALUES (1)", false, false},
        {"SET threads = 1", false, false},
        {"EXPLAIN SELECT 1", false, false},
        {"SELECT 'unterminated", false, false},
        {"", false, false},
        {"SELECT 1;", true, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        RescacheClass c = rescache_classify(cases[i].sql, strlen(cases[i].sql));
        if (c.cacheable != cases[i].cacheable || c.read_only != cases[i].read_only)
            fprintf(stderr, "classify %s: cacheable %d read_only %d\n", cases[i].sql, c.cacheable,
                    c.read_only);
        CHECK(c.cacheable == cases[i].cacheable);
        CHECK(c.read_only == cases[i].read_only);
    }
}

static bool lookup(int64_t db, const char *sql, uint64_t gen, Buf *out)
{
    Buf k = key_of(db, false, sql, NULL);
    bool gone = false;
    out->len = 0;
    bool hit = rescache_lookup(db, &k, gen, out, NULL, NULL, 0, &gone);
    buf_free(&k);
    return hit;
}

static void store(int64_t db, const char *sql, uint64_t gen, const char *answer, size_t len)
{
    Buf k = key_of(db, false, sql, NULL);
    rescache_store(db, &k, gen, answer, len);
    buf_free(&k);
}

static void test_generations(void)
{
    configure(1 << 20, 1 << 16, 0);
    Buf out = BUF_INIT;
    uint64_t g = 0;
    CHECK(rescache_read_begin(7, &g));
    CHECK(!lookup(7, "SELECT 1", g, &out));
    store(7, "SELECT 1", g, "[1]\n", 4);
    CHECK(lookup(7, "SELECT 1", g, &out) && out.len == 4 && memcmp(out.data, "[1]\n", 4) == 0);
    CHECK(!lookup(8, "SELECT 1", g, &out)); /* another database */

    /* A write in flight: no reads begin, and a reader that began before stores nothing. */
    uint64_t g_before = 0;
    CHECK(rescache_read_begin(7, &g_before));
    rescache_write_begin(7);
    uint64_t g2 = 0;
    CHECK(!rescache_read_begin(7, &g2));
    store(7, "SELECT 2", g_before, "[2]\n", 4);
    rescache_write_end(7);
    CHECK(rescache_read_begin(7, &g2));
    CHECK(g2 != g_before);
    CHECK(!lookup(7, "SELECT 2", g2, &out));
    CHECK(!lookup(7, "SELECT 1", g2, &out)); /* dropped by the write */
    /* A reader whose generation is old cannot store under the new one. */
    store(7, "SELECT 3", g_before, "[3]\n", 4);
    CHECK(!lookup(7, "SELECT 3", g2, &out));
    rescache_invalidate_db(7);
    uint64_t g3 = 0;
    CHECK(rescache_read_begin(7, &g3) && g3 != g2);
    buf_free(&out);
}

/* The check for user functions holds until DDL says functions may have changed, and counts
 * only when made without a write in flight since its generation was read. */
static void test_user_functions(void)
{
    configure(1 << 20, 1 << 16, 0);
    uint64_t g = 0, g2 = 0;
    CHECK(rescache_read_begin(9, &g));
    CHECK(rescache_user_functions(9) == RESCACHE_FNS_UNKNOWN);
    rescache_note_user_functions(9, g, false);
    CHECK(rescache_user_functions(9) == RESCACHE_FNS_NONE);
    CHECK(rescache_user_functions(10) == RESCACHE_FNS_UNKNOWN); /* per database */
    /* A plain write (INSERT) keeps the answer. */
    rescache_write_begin(9);
    rescache_write_end(9);
    CHECK(rescache_user_functions(9) == RESCACHE_FNS_NONE);
    /* DDL forgets it; a check that began before the DDL cannot note it again. */
    CHECK(rescache_read_begin(9, &g));
    rescache_write_begin(9);
    rescache_note_user_functions(9, g, false); /* racing the write: ignored */
    rescache_functions_changed(9);
    rescache_write_end(9);
    CHECK(rescache_user_functions(9) == RESCACHE_FNS_UNKNOWN);
    rescache_note_user_functions(9, g, false); /* a stale generation: ignored */
    CHECK(rescache_user_functions(9) == RESCACHE_FNS_UNKNOWN);
    CHECK(rescache_read_begin(9, &g2) && g2 != g);
    rescache_note_user_functions(9, g2, true);
    CHECK(rescache_user_functions(9) == RESCACHE_FNS_SOME);
    rescache_invalidate_db(9); /* a reopened file: checked again */
    CHECK(rescache_user_functions(9) == RESCACHE_FNS_UNKNOWN);
}

static void test_lru_and_bounds(void)
{
    char answer[1000];
    memset(answer, 'x', sizeof(answer));
    /* Room for about four entries of 1000 bytes and their bookkeeping. */
    configure(4 * 1300, 1200, 0);
    Buf out = BUF_INIT;
    uint64_t g = 0;
    CHECK(rescache_read_begin(1, &g));
    store(1, "SELECT 1", g, answer, sizeof(answer));
    store(1, "SELECT 2", g, answer, sizeof(answer));
    store(1, "SELECT 3", g, answer, sizeof(answer));
    store(1, "SELECT 4", g, answer, sizeof(answer));
    CHECK(lookup(1, "SELECT 1", g, &out)); /* 2 is now the least recent */
    store(1, "SELECT 5", g, answer, sizeof(answer));
    CHECK(!lookup(1, "SELECT 2", g, &out));
    CHECK(lookup(1, "SELECT 1", g, &out));
    CHECK(lookup(1, "SELECT 5", g, &out));
    /* Larger than CacheMaxEntry: not stored. */
    char big[1201];
    memset(big, 'y', sizeof(big));
    store(1, "SELECT 6", g, big, sizeof(big));
    CHECK(!lookup(1, "SELECT 6", g, &out));
    /* A flood stays within the bound. */
    for (int i = 0; i < 1000; i++) {
        char sql[64];
        snprintf(sql, sizeof(sql), "SELECT %d", 100 + i);
        store(1, sql, g, answer, 100 + (size_t)(i % 900));
    }
    Buf st = BUF_INIT;
    rescache_stats_json(&st);
    const char *bytes = strstr(buf_cstr(&st), "\"bytes\":");
    CHECK(bytes && atol(bytes + 8) <= 4 * 1300);
    CHECK(strstr(buf_cstr(&st), "\"evictions\":") != NULL);
    buf_free(&st);
    buf_free(&out);
}

static void test_off(void)
{
    configure(0, 0, 0);
    uint64_t g = 0;
    CHECK(!rescache_enabled());
    CHECK(!rescache_read_begin(1, &g));
    configure(1 << 20, 1 << 10, 0);
    CHECK(rescache_enabled());
}

/* Readers and writers race; a reader stores "version v" read between generations, and any
 * answer served must carry the version current when it is served. */
static int version; /* guarded by vlock, which stands for the database's commits */
static pthread_mutex_t vlock = PTHREAD_MUTEX_INITIALIZER;
static int stale;

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        rescache_write_begin(3);
        pthread_mutex_lock(&vlock);
        version++;
        pthread_mutex_unlock(&vlock);
        rescache_write_end(3);
    }
    return NULL;
}

static int current_version(void)
{
    pthread_mutex_lock(&vlock);
    int v = version;
    pthread_mutex_unlock(&vlock);
    return v;
}

static void *reader(void *arg)
{
    (void)arg;
    Buf k = key_of(3, false, "SELECT v", NULL), out = BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        uint64_t g = 0;
        if (!rescache_read_begin(3, &g))
            continue;
        bool gone = false;
        out.len = 0;
        int before = current_version();
        bool hit = rescache_lookup(3, &k, g, &out, NULL, NULL, 0, &gone);
        int after = current_version();
        if (hit) {
            int served = 0;
            memcpy(&served, out.data, sizeof(served));
            /* No commit around the lookup: the answer must be that version. */
            if (before == after && served != before)
                __atomic_add_fetch(&stale, 1, __ATOMIC_RELAXED);
            continue;
        }
        int v = current_version(); /* "executes" after taking the generation */
        rescache_store(3, &k, g, (const char *)&v, sizeof(v));
    }
    buf_free(&k);
    buf_free(&out);
    return NULL;
}

static void test_race(void)
{
    configure(1 << 20, 1 << 10, 0);
    pthread_t w, r[3];
    pthread_create(&w, NULL, writer, NULL);
    for (int i = 0; i < 3; i++)
        pthread_create(&r[i], NULL, reader, NULL);
    pthread_join(w, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(r[i], NULL);
    CHECK(stale == 0);
    /* Settled: a fresh read stores the last version, which is what is served. */
    uint64_t g = 0;
    Buf out = BUF_INIT;
    CHECK(rescache_read_begin(3, &g));
    if (!lookup(3, "SELECT v", g, &out)) {
        store(3, "SELECT v", g, (const char *)&version, sizeof(version));
        CHECK(lookup(3, "SELECT v", g, &out));
    }
    int served = -1;
    memcpy(&served, out.data, sizeof(served));
    CHECK(served == version);
    buf_free(&out);
}

int main(void)
{
    if (dbmeta_list_functions(rescache_note_function, rescache_note_keyword) != 0) {
        fprintf(stderr, "cannot list DuckDB's functions\n");
        return 1;
    }
    rescache_functions_ready();
    configure(1 << 20, 1 << 10, 0);
    UNIT_RUN(test_keys);
    UNIT_RUN(test_classify);
    UNIT_RUN(test_generations);
    UNIT_RUN(test_user_functions);
    UNIT_RUN(test_lru_and_bounds);
    UNIT_RUN(test_off);
    UNIT_RUN(test_race);
    rescache_reset();
    return unit_summary("rescache");
}
