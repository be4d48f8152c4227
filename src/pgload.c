/*
 * pgload: binary COPY into DuckDB tables and the set-based apply of staged
 * changes. See pgload.h; moved out of pglink.c so that the CDC streams share
 * it.
 */
#include "pgload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgcopy.h"
#include "query.h"
#include "walarchive.h"
#include "xalloc.h"

int pgload_exec(PgJob *pg, duckdb_connection con, const char *sql)
{
    duckdb_result res;
    int rc = 0;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        pgjob_fail(pg, "%s", duckdb_result_error(&res));
        rc = -1;
    }
    duckdb_destroy_result(&res);
    return rc;
}

int pgload_commit(PgJob *pg, duckdb_connection con, int64_t db_id)
{
    char msg[1024];
    int rc = query_commit_msg(con, walarchive_db(db_id), msg, sizeof msg);
    if (rc != 0)
        pgjob_fail(pg, "%s", msg);
    return rc;
}

/* ---- COPY into an appender -------------------------------------------- */

typedef struct CopyRun {
    PgJob *pg;
    duckdb_appender app;
    PgCopy dec;
} CopyRun;

static int append_chunk(void *ctx, duckdb_data_chunk chunk, char *err, size_t errlen)
{
    CopyRun *run = ctx;
    if (duckdb_append_data_chunk(run->app, chunk) != DuckDBSuccess) {
        const char *e = duckdb_appender_error(run->app);
        snprintf(err, errlen, "%s", e ? e : "DuckDB's appender failed");
        return -1;
    }
    return 0;
}

static int decode_message(void *ctx, const unsigned char *msg, size_t len)
{
    CopyRun *run = ctx;
    if (pgcopy_feed(&run->dec, msg, len) != 0) {
        pgjob_fail(run->pg, "%s", run->dec.err);
        return -1;
    }
    return 0;
}

/*
 * Runs `copy_sql` (a COPY ... TO STDOUT (FORMAT binary) whose fields are
 * `cols`) and appends every row to DuckDB table `duck_table`. `what` names
 * the table in messages. *out_rows gets the number of rows.
 */
int pgload_copy(PgJob *pg, duckdb_connection con, const char *copy_sql, const char *duck_table,
                const PgCol *const *cols, int ncols, const char *what, int64_t *out_rows)
{
    CopyRun run = {.pg = pg};
    duckdb_logical_type *types = NULL;
    const char **names = NULL;
    const PgValueType **types_pg = NULL;
    int rc = -1;
    if (duckdb_appender_create(con, NULL, duck_table, &run.app) != DuckDBSuccess) {
        const char *e = duckdb_appender_error(run.app);
        pgjob_fail(pg, "%s", e ? e : "cannot create a DuckDB appender");
        goto out;
    }
    if ((int)duckdb_appender_column_count(run.app) != ncols) {
        pgjob_fail(pg, "table %s: DuckDB has %d columns, PostgreSQL %d", what,
                   (int)duckdb_appender_column_count(run.app), ncols);
        goto out;
    }
    types = xcalloc((size_t)ncols, sizeof(*types));
    names = xcalloc((size_t)ncols, sizeof(*names));
    types_pg = xcalloc((size_t)ncols, sizeof(*types_pg));
    for (int c = 0; c < ncols; c++) {
        types[c] = duckdb_appender_column_type(run.app, (idx_t)c);
        names[c] = cols[c]->name;
        types_pg[c] = &cols[c]->type;
    }
    if (pgcopy_init(&run.dec, what, ncols, names, types_pg, types, append_chunk, &run) != 0) {
        pgjob_fail(pg, "%s", run.dec.err);
        goto out;
    }
    if (pgjob_copy_out(pg, copy_sql, decode_message, &run) != 0)
        goto out;
    if (pgcopy_finish(&run.dec) != 0) {
        pgjob_fail(pg, "%s", run.dec.err);
        goto out;
    }
    if (duckdb_appender_close(run.app) != DuckDBSuccess) {
        const char *e = duckdb_appender_error(run.app);
        pgjob_fail(pg, "%s", e ? e : "DuckDB's appender failed");
        goto out;
    }
    *out_rows = pgcopy_rows(&run.dec);
    rc = 0;
out:
    pgcopy_free(&run.dec);
    for (int c = 0; types && c < ncols; c++)
        duckdb_destroy_logical_type(&types[c]);
    free(types);
    free(names);
    free(types_pg);
    duckdb_appender_destroy(&run.app);
    return rc;
}

void pgload_stage_sql(Buf *b, const char *stage, const PgTable *tb)
{
    buf_printf(b, "CREATE TABLE %s (seq BIGINT, op VARCHAR", stage);
    for (int side = 0; side < 2; side++)
        for (int c = 0; c < tb->ncols; c++) {
            buf_printf(b, ", \"%s%d\" ", side ? "n" : "o", c + 1);
            pgschema_put_duck_type(b, &tb->cols[c]);
        }
    buf_putc(b, ')');
}

/* Appends `prefix` + (i + 1) as an identifier list: "o1", "o2", ... */
static void put_numbered(Buf *b, const char *prefix, int n, const char *as_prefix)
{
    for (int i = 0; i < n; i++) {
        if (i)
            buf_append_str(b, ", ");
        buf_printf(b, "\"%s%d\"", prefix, i + 1);
        if (as_prefix)
            buf_printf(b, " AS \"%s%d\"", as_prefix, i + 1);
    }
}

/* Key columns of a table with a primary key: "o<i>" AS "k<n>" in key order. */
static void put_keys(Buf *b, const PgTable *tb, const char *prefix)
{
    for (int k = 1; k <= tb->npk; k++)
        for (int c = 0; c < tb->ncols; c++)
            if (tb->cols[c].pk_pos == k)
                buf_printf(b, "%s\"%s%d\" AS \"k%d\"", k > 1 ? ", " : "", prefix, c + 1, k);
}

/*
 * Applies the staged changes of `tb` (rows of table `stage`, of pgload_stage_sql(), in change
 * order) to its DuckDB table. After the last TRUNCATE only later changes matter. With a primary
 * key, every key a change touched is deleted, then the newest version of each key whose last change
 * left a row is inserted. Without one, rows are a multiset: each distinct row value gains (inserts,
 * new sides of updates) or loses (deletes, old sides) copies, and the net difference is inserted or
 * deleted.
 */
int pgload_apply_stage(PgJob *pg, duckdb_connection con, const char *stage, const PgTable *tb)
{
    Buf sql = {0}, tname = {0};
    duckdb_result res;
    int rc = -1, n = tb->ncols;
    pgschema_put_ident(&tname, tb->name);
    buf_printf(&sql, "SELECT max(seq) FROM %s WHERE op = 'T'", stage);
    if (duckdb_query(con, buf_cstr(&sql), &res) != DuckDBSuccess) {
        pgjob_fail(pg, "%s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto out;
    }
    bool truncated = !duckdb_value_is_null(&res, 0, 0);
    int64_t last_truncate = duckdb_value_int64(&res, 0, 0);
    duckdb_destroy_result(&res);
    sql.len = 0;
    if (truncated) {
        buf_printf(&sql, "DELETE FROM %s; DELETE FROM %s WHERE seq <= %" PRId64, buf_cstr(&tname),
                   stage, last_truncate);
        if (pgload_exec(pg, con, buf_cstr(&sql)) != 0)
            goto out;
    }
    sql.len = 0;
    if (tb->npk) {
        buf_printf(&sql, "DELETE FROM %s USING (SELECT ", buf_cstr(&tname));
        put_keys(&sql, tb, "o");
        buf_printf(&sql, " FROM %s WHERE op IN ('U', 'D') UNION SELECT ", stage);
        put_keys(&sql, tb, "n");
        buf_printf(&sql, " FROM %s WHERE op IN ('I', 'U')) AS keys WHERE ", stage);
        for (int k = 1; k <= tb->npk; k++)
            for (int c = 0; c < n; c++)
                if (tb->cols[c].pk_pos == k) {
                    buf_printf(&sql, "%s%s.", k > 1 ? " AND " : "", buf_cstr(&tname));
                    pgschema_put_ident(&sql, tb->cols[c].name);
                    buf_printf(&sql, " = keys.\"k%d\"", k);
                }
        buf_printf(&sql, "; INSERT INTO %s SELECT ", buf_cstr(&tname));
        put_numbered(&sql, "n", n, NULL);
        buf_append_str(&sql, " FROM (SELECT *, row_number() OVER (PARTITION BY ");
        for (int k = 1; k <= tb->npk; k++)
            buf_printf(&sql, "%s\"k%d\"", k > 1 ? ", " : "", k);
        buf_append_str(&sql, " ORDER BY seq DESC, sub DESC) AS rn FROM (SELECT ");
        put_keys(&sql, tb, "o");
        buf_append_str(&sql, ", seq, 0 AS sub, false AS live, ");
        put_numbered(&sql, "n", n, NULL);
        buf_printf(&sql, " FROM %s WHERE op IN ('U', 'D') UNION ALL SELECT ", stage);
        put_keys(&sql, tb, "n");
        buf_append_str(&sql, ", seq, 1, true, ");
        put_numbered(&sql, "n", n, NULL);
        buf_printf(&sql, " FROM %s WHERE op IN ('I', 'U'))) WHERE rn = 1 AND live", stage);
    } else {
        buf_append_str(&sql, "CREATE TABLE " PGLOAD_NET_TABLE " AS SELECT ");
        put_numbered(&sql, "c", n, NULL);
        buf_append_str(&sql, ", sum(d)::BIGINT AS d FROM (SELECT ");
        put_numbered(&sql, "n", n, "c");
        buf_printf(&sql, ", 1 AS d FROM %s WHERE op IN ('I', 'U') UNION ALL SELECT ", stage);
        put_numbered(&sql, "o", n, "c");
        buf_printf(&sql, ", -1 FROM %s WHERE op IN ('U', 'D')) GROUP BY ALL HAVING sum(d) <> 0;",
                   stage);
        buf_printf(&sql,
                   "DELETE FROM %s WHERE rowid IN (SELECT rid FROM (SELECT %s.rowid AS "
                   "rid, row_number() OVER (PARTITION BY ",
                   buf_cstr(&tname), buf_cstr(&tname));
        for (int c = 0; c < n; c++)
            buf_printf(&sql, "%s" PGLOAD_NET_TABLE ".\"c%d\"", c ? ", " : "", c + 1);
        buf_printf(&sql, ") AS rn, " PGLOAD_NET_TABLE ".d FROM %s JOIN " PGLOAD_NET_TABLE " ON ",
                   buf_cstr(&tname));
        for (int c = 0; c < n; c++) {
            buf_printf(&sql, "%s%s.", c ? " AND " : "", buf_cstr(&tname));
            pgschema_put_ident(&sql, tb->cols[c].name);
            buf_printf(&sql, " IS NOT DISTINCT FROM " PGLOAD_NET_TABLE ".\"c%d\"", c + 1);
        }
        buf_printf(&sql, ") WHERE d < 0 AND rn <= -d); INSERT INTO %s SELECT ", buf_cstr(&tname));
        put_numbered(&sql, "c", n, NULL);
        buf_append_str(&sql, " FROM (SELECT *, unnest(range(d)) FROM " PGLOAD_NET_TABLE
                             " WHERE d > 0); DROP TABLE " PGLOAD_NET_TABLE);
    }
    if (pgload_exec(pg, con, buf_cstr(&sql)) != 0)
        goto out;
    rc = 0;
out:
    buf_free(&sql);
    buf_free(&tname);
    return rc;
}
