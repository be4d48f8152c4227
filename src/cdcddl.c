/*
 * cdcddl: the columns a CDC stream adds by itself. See cdcddl.h and
 * docs/cdc.md.
 */
#include "cdcddl.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pgload.h"

/* True when a value of `t` written as PostgreSQL's text casts to the same DuckDB value. */
static bool text_literal_ok(const PgValueType *t)
{
    if (t->is_array)
        return false;
    switch (t->kind) {
    case PGVALUE_BOOL:
    case PGVALUE_INT2:
    case PGVALUE_INT4:
    case PGVALUE_INT8:
    case PGVALUE_FLOAT4:
    case PGVALUE_FLOAT8:
    case PGVALUE_NUMERIC:
    case PGVALUE_TEXT:
    case PGVALUE_DATE:
    case PGVALUE_TIME:
    case PGVALUE_TIMESTAMP:
    case PGVALUE_TIMESTAMPTZ:
    case PGVALUE_UUID:
    case PGVALUE_JSON:
    case PGVALUE_JSONB:
        return true;
    default:
        return false;
    }
}

/*
 * The one element of attmissingval's text form ("{7}", "{\"a b\"}") into
 * out, unquoted; false when it is NULL or not a one-element array.
 */
static bool missing_element(const char *arr, Buf *out)
{
    size_t n = strlen(arr);
    if (n < 2 || arr[0] != '{' || arr[n - 1] != '}')
        return false;
    const char *p = arr + 1, *end = arr + n - 1;
    if (*p == '"') {
        for (p++; p < end && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < end)
                p++;
            buf_putc(out, *p);
        }
        return p + 1 == end;
    }
    if ((size_t)(end - p) == 4 && strncmp(p, "NULL", 4) == 0)
        return false;
    buf_append(out, p, (size_t)(end - p));
    return memchr(p, ',', (size_t)(end - p)) == NULL;
}

int cdcddl_add_columns(PgJob *pg, duckdb_connection con, uint32_t relid, const PgTable *tb,
                       int from, const char *dbname)
{
    Buf sql = {0}, val = {0};
    char oid[16];
    int rc = -1;
    snprintf(oid, sizeof(oid), "%" PRIu32, relid);
    for (int c = from; c < tb->ncols; c++) {
        const PgCol *col = &tb->cols[c];
        const char *params[2] = {oid, col->name};
        PGresult *r = pgjob_query(pg,
                                  "SELECT a.atthasmissing, EXISTS (SELECT 1 FROM pg_attrdef d "
                                  "WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum), "
                                  "a.attmissingval::text FROM pg_attribute a WHERE a.attrelid = "
                                  "$1::oid AND a.attname = $2 AND NOT a.attisdropped",
                                  2, params);
        if (!r)
            goto out;
        bool found = PQntuples(r) == 1;
        bool missing = found && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        bool has_default = found && strcmp(PQgetvalue(r, 0, 1), "t") == 0;
        val.len = 0;
        bool have_value =
            missing && !PQgetisnull(r, 0, 2) && missing_element(PQgetvalue(r, 0, 2), &val);
        PQclear(r);
        const char *why = NULL;
        if (!found)
            why = "it is no longer in PostgreSQL";
        else if (!missing && has_default)
            why = "the value of the rows that existed before it is not known (a volatile "
                  "default rewrote the table, or a default was set later)";
        else if (have_value && !text_literal_ok(&col->type))
            why = "its default for the existing rows is of a type the stream does not write "
                  "as a literal";
        if (why) {
            pgjob_fail(pg,
                       "table %s changed in PostgreSQL: column %s was added and %s; `cdc resync "
                       "%s %s` copies the table again (docs/cdc.md)",
                       tb->name, col->name, why, dbname, tb->name);
            goto out;
        }
        sql.len = 0;
        buf_append_str(&sql, "ALTER TABLE ");
        pgschema_put_ident(&sql, tb->name);
        buf_append_str(&sql, " ADD COLUMN ");
        pgschema_put_ident(&sql, col->name);
        buf_putc(&sql, ' ');
        pgschema_put_duck_type(&sql, col);
        /* A string literal, which DuckDB casts to the column's type: with lock_configuration,
         * DuckDB 1.5.6 refuses an ADD COLUMN whose DEFAULT is an expression (CAST(...)) in a
         * transaction that changed the table already. The default only fills the existing
         * rows: the stream writes every column of the rows it inserts. */
        if (have_value) {
            buf_append_str(&sql, " DEFAULT ");
            pgschema_put_literal(&sql, buf_cstr(&val));
            buf_append_str(&sql, "; ALTER TABLE ");
            pgschema_put_ident(&sql, tb->name);
            buf_append_str(&sql, " ALTER COLUMN ");
            pgschema_put_ident(&sql, col->name);
            buf_append_str(&sql, " DROP DEFAULT");
        }
        if (pgload_exec(pg, con, buf_cstr(&sql)) != 0)
            goto out;
    }
    rc = 0;
out:
    buf_free(&sql);
    buf_free(&val);
    return rc;
}

int cdcddl_check_types(PgJob *pg, duckdb_connection con, const PgTable *now, const PgTable *was,
                       const char *dbname)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res = {0}, want = {0};
    bool have_res = false, have_want = false;
    Buf sql = {0};
    int rc = -1;
    if (duckdb_prepare(con,
                       "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = "
                       "current_schema() AND table_name = $1 ORDER BY column_index",
                       &prep) != DuckDBSuccess) {
        pgjob_fail(pg, "%s", duckdb_prepare_error(prep));
        goto out;
    }
    duckdb_bind_varchar(prep, 1, now->name);
    have_res = true;
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        pgjob_fail(pg, "%s", duckdb_result_error(&res));
        goto out;
    }
    int n = (int)duckdb_row_count(&res);
    if (n > now->ncols)
        n = now->ncols;
    if (n == 0) {
        rc = 0;
        goto out;
    }
    /* DuckDB spells the types link would create: typeof() of a NULL cast to each. */
    buf_append_str(&sql, "SELECT ");
    for (int c = 0; c < n; c++) {
        buf_append_str(&sql, c ? ", typeof(CAST(NULL AS " : "typeof(CAST(NULL AS ");
        pgschema_put_duck_type(&sql, &now->cols[c]);
        buf_append_str(&sql, "))");
    }
    have_want = true;
    if (duckdb_query(con, buf_cstr(&sql), &want) != DuckDBSuccess) {
        pgjob_fail(pg, "%s", duckdb_result_error(&want));
        goto out;
    }
    for (int c = 0; c < n; c++) {
        char *name = duckdb_value_varchar(&res, 0, (idx_t)c);
        char *have = duckdb_value_varchar(&res, 1, (idx_t)c);
        char *should = duckdb_value_varchar(&want, (idx_t)c, 0);
        bool same = name && have && should && strcmp(name, now->cols[c].name) == 0 &&
                    strcmp(have, should) == 0;
        bool differs = !same && name && strcmp(name, now->cols[c].name) == 0;
        if (differs) {
            const char *old = was && c < was->ncols && strcmp(was->cols[c].name, name) == 0
                                  ? was->cols[c].pg_type
                                  : have;
            pgjob_fail(pg,
                       "table %s changed in PostgreSQL: column %s changed type from %s to %s; the "
                       "stream does not follow this change: `cdc resync %s %s` copies the table "
                       "again (docs/cdc.md)",
                       now->name, name, old ? old : "?", now->cols[c].pg_type, dbname, now->name);
        }
        duckdb_free(name);
        duckdb_free(have);
        duckdb_free(should);
        if (differs)
            goto out;
    }
    rc = 0;
out:
    if (have_res)
        duckdb_destroy_result(&res);
    if (have_want)
        duckdb_destroy_result(&want);
    duckdb_destroy_prepare(&prep);
    buf_free(&sql);
    return rc;
}
