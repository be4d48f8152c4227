/*
 * authz_builtins: the process-wide cache of DuckDB's built-in names that
 * the classifier needs: functions (and which may be called), keywords (and
 * which are reserved) and DuckDB's catalog views (and which schema reaches
 * them). See authz_int.h.
 *
 * The first check in the process fills the cache from duckdb_functions(),
 * duckdb_keywords() and duckdb_views() (about 25 ms) under cache_lock; from
 * then on it is read-only and read by any number of threads without a lock
 * (authz_builtin_flags is called only after authz_builtins_load returned 0
 * on the same thread, which ordered the filling before it).
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "authz_int.h"
#include "fnlist.h"

/*
 * Names DuckDB's metadata does not classify come from fnlist (shared with
 * the result cache): its pure table functions may be used; every name that
 * reads the connection's state, changes a sequence, writes the log or turns
 * JSON into a statement is denied (sequences are not granted objects; a
 * crafted statement tree invalidates the database, docs/security.md "Known
 * limits"). Names starting with duckdb_ or pragma_ are denied too (see
 * check_call), and so are built-in macros whose body queries the catalog
 * (found when the cache is filled: get_block_size, format_type,
 * pg_get_viewdef, ...).
 */
#define DENIED_KINDS                                                                               \
    (FNLIST_CONNECTION_STATE | FNLIST_CHANGES_DATABASE | FNLIST_SIDE_EFFECT |                      \
     FNLIST_STATEMENT_INPUT)

/* Function-like syntax that DuckDB's parser handles itself, and sampling methods. */
static const char *const syntax_functions[] = {"if", "ifnull", "try", "reservoir", "bernoulli"};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static bool cache_ready; /* guarded by cache_lock; once true, `cache` is read-only */
static NameSet cache;

uint32_t authz_builtin_flags(const char *s, size_t len)
{
    long i = nameset_find(&cache, s, len);
    return i < 0 ? 0 : cache.entries[i].flags;
}

static void cache_mark(const char *name, size_t len, uint32_t flags)
{
    uint32_t i = nameset_add(&cache, name, len);
    cache.entries[i].flags |= flags;
}

int authz_each_row(duckdb_connection con, const char *sql,
                   void (*fn)(void *ctx, const char **vals, const size_t *lens), void *ctx,
                   Buf *err)
{
    enum { MAXCOLS = 4 };
    duckdb_result res;
    int rc = -1;
    Buf vals[MAXCOLS] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        const char *e = duckdb_result_error(&res);
        buf_append_str(err, e ? e : "query failed");
        goto out;
    }
    idx_t ncols = duckdb_column_count(&res);
    if (ncols > MAXCOLS) {
        buf_append_str(err, "too many columns");
        goto out;
    }
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        if (!chunk)
            break;
        idx_t rows = duckdb_data_chunk_get_size(chunk);
        duckdb_string_t *data[MAXCOLS];
        uint64_t *valid[MAXCOLS];
        for (idx_t c = 0; c < ncols; c++) {
            duckdb_vector v = duckdb_data_chunk_get_vector(chunk, c);
            data[c] = duckdb_vector_get_data(v);
            valid[c] = duckdb_vector_get_validity(v);
        }
        for (idx_t r = 0; r < rows; r++) {
            const char *p[MAXCOLS];
            size_t l[MAXCOLS];
            for (idx_t c = 0; c < ncols; c++) {
                if (!duckdb_validity_row_is_valid(valid[c], r)) {
                    p[c] = NULL;
                    l[c] = 0;
                    continue;
                }
                buf_reset(&vals[c], 4096);
                buf_append(&vals[c], duckdb_string_t_data(&data[c][r]),
                           duckdb_string_t_length(data[c][r]));
                l[c] = vals[c].len;
                p[c] = buf_cstr(&vals[c]);
            }
            fn(ctx, p, l);
        }
        duckdb_destroy_data_chunk(&chunk);
    }
    rc = 0;
out:
    duckdb_destroy_result(&res);
    for (int c = 0; c < MAXCOLS; c++)
        buf_free(&vals[c]);
    return rc;
}

static void cache_add_function(void *ctx, const char **v, const size_t *l)
{
    (void)ctx;
    if (!v[0] || !v[1])
        return;
    const char *type = v[1];
    if (!strcmp(type, "scalar") || !strcmp(type, "aggregate") || !strcmp(type, "macro")) {
        bool reads_tables = v[2] && !strcmp(v[2], "true");
        cache_mark(v[0], l[0], S_FUNC | (reads_tables ? S_DENY : 0));
    } else if (!strcmp(type, "table") || !strcmp(type, "table_macro")) {
        cache_mark(v[0], l[0],
                   (fnlist_flags(v[0], l[0]) & FNLIST_PURE_TABLE) ? S_TABLEFN : S_TABLEFN_BAD);
    }
    /* Pragma functions cannot be called in an expression: they stay unknown. */
}

static void cache_add_keyword(void *ctx, const char **v, const size_t *l)
{
    (void)ctx;
    if (!v[0])
        return;
    bool reserved = v[1] && (!strcmp(v[1], "reserved") || !strcmp(v[1], "type_function"));
    cache_mark(v[0], l[0], S_KEYWORD | (reserved ? S_RESERVED : 0));
}

static void cache_add_view(void *ctx, const char **v, const size_t *l)
{
    (void)ctx;
    if (!v[0] || !v[1])
        return;
    uint32_t f = S_SV;
    if (!strcmp(v[1], "main"))
        f |= S_SV_BARE | S_SV_MAIN;
    else if (!strcmp(v[1], "pg_catalog"))
        f |= S_SV_BARE;
    cache_mark(v[0], l[0], f);
}

int authz_builtins_load(duckdb_connection con, Buf *err)
{
    int rc = 0;
    pthread_mutex_lock(&cache_lock);
    if (cache_ready)
        goto out;
    /* Macros whose body has a query read the catalog (pg_get_viewdef, ...). */
    static const char functions[] =
        "SELECT function_name, function_type, "
        "CAST(coalesce(regexp_matches(macro_definition, '(?i)\\b(select|from)\\b'), false) "
        "AS VARCHAR) FROM duckdb_functions() WHERE internal";
    static const char keywords[] = "SELECT keyword_name, CAST(keyword_category AS VARCHAR) "
                                   "FROM duckdb_keywords()";
    static const char views[] = "SELECT view_name, schema_name FROM duckdb_views() WHERE internal";
    if (authz_each_row(con, functions, cache_add_function, NULL, err) != 0 ||
        authz_each_row(con, keywords, cache_add_keyword, NULL, err) != 0 ||
        authz_each_row(con, views, cache_add_view, NULL, err) != 0) {
        nameset_free(&cache);
        rc = -1;
        goto out;
    }
    size_t nlisted = 0;
    const FnlistEntry *listed = fnlist_entries(&nlisted);
    for (size_t i = 0; i < nlisted; i++)
        if (listed[i].flags & DENIED_KINDS)
            cache_mark(listed[i].name, strlen(listed[i].name), S_DENY);
    for (size_t i = 0; i < sizeof(syntax_functions) / sizeof(syntax_functions[0]); i++)
        cache_mark(syntax_functions[i], strlen(syntax_functions[i]), S_FUNC);
    cache_ready = true;
out:
    pthread_mutex_unlock(&cache_lock);
    return rc;
}
