/*
 * pgschema: PostgreSQL tables and their DuckDB types, and the SQL built from
 * them. See pgschema.h.
 */
#include "pgschema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

/* Unconstrained numeric becomes DECIMAL(38, 10) (docs/postgres.md). */
#define NUMERIC_FREE_PRECISION 38
#define NUMERIC_FREE_SCALE 10

static void col_free(PgCol *col)
{
    free(col->name);
    free(col->pg_type);
    for (int k = 0; k < col->type.nlabels; k++)
        free(col->type.labels[k]);
    free(col->type.labels);
    free(col->type.label_len);
}

void pgschema_cut_columns(PgTable *tb, int ncols)
{
    while (tb->ncols > ncols)
        col_free(&tb->cols[--tb->ncols]);
}

void pgschema_free(PgSchema *s)
{
    for (int t = 0; t < s->n; t++) {
        PgTable *tb = &s->tables[t];
        for (int c = 0; c < tb->ncols; c++)
            col_free(&tb->cols[c]);
        free(tb->cols);
        free(tb->name);
    }
    free(s->tables);
    s->tables = NULL;
    s->n = 0;
}

/* Maps a base type oid to a kind; -1 for an unsupported type. */
static int kind_of(unsigned oid, char typtype)
{
    if (typtype == 'e')
        return PGVALUE_ENUM;
    switch (oid) {
    case 16:
        return PGVALUE_BOOL;
    case 17:
        return PGVALUE_BYTEA;
    case 19: /* name */
    case 25:
    case 1042:
    case 1043:
        return PGVALUE_TEXT;
    case 20:
        return PGVALUE_INT8;
    case 21:
        return PGVALUE_INT2;
    case 23:
        return PGVALUE_INT4;
    case 114:
        return PGVALUE_JSON;
    case 700:
        return PGVALUE_FLOAT4;
    case 701:
        return PGVALUE_FLOAT8;
    case 1082:
        return PGVALUE_DATE;
    case 1083:
        return PGVALUE_TIME;
    case 1114:
        return PGVALUE_TIMESTAMP;
    case 1184:
        return PGVALUE_TIMESTAMPTZ;
    case 1186:
        return PGVALUE_INTERVAL;
    case 1700:
        return PGVALUE_NUMERIC;
    case 2950:
        return PGVALUE_UUID;
    case 3802:
        return PGVALUE_JSONB;
    default:
        return -1;
    }
}

static const char *const kind_duck[PGVALUE_NKINDS] = {
    [PGVALUE_BOOL] = "BOOLEAN",
    [PGVALUE_INT2] = "SMALLINT",
    [PGVALUE_INT4] = "INTEGER",
    [PGVALUE_INT8] = "BIGINT",
    [PGVALUE_FLOAT4] = "FLOAT",
    [PGVALUE_FLOAT8] = "DOUBLE",
    [PGVALUE_NUMERIC] = NULL,
    [PGVALUE_TEXT] = "VARCHAR",
    [PGVALUE_BYTEA] = "BLOB",
    [PGVALUE_DATE] = "DATE",
    [PGVALUE_TIME] = "TIME",
    [PGVALUE_TIMESTAMP] = "TIMESTAMP",
    [PGVALUE_TIMESTAMPTZ] = "TIMESTAMPTZ",
    [PGVALUE_INTERVAL] = "INTERVAL",
    [PGVALUE_UUID] = "UUID",
    [PGVALUE_JSON] = "JSON",
    [PGVALUE_JSONB] = "JSON",
    [PGVALUE_ENUM] = NULL,
};

static const char SCHEMA_SQL[] =
    "SELECT c.relname, a.attname, a.attnotnull, format_type(a.atttypid, a.atttypmod), "
    "  a.atttypmod, bt.oid, bt.typtype, (t.typcategory = 'A' AND t.typelem <> 0), "
    "  coalesce((SELECT k.n FROM unnest(pk.indkey::int2[]) WITH ORDINALITY k(att, n) "
    "    WHERE k.att = a.attnum), 0) "
    "FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "JOIN pg_type t ON t.oid = a.atttypid "
    "JOIN pg_type bt ON bt.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 "
    "  THEN t.typelem ELSE a.atttypid END "
    "LEFT JOIN pg_index pk ON pk.indrelid = c.oid AND pk.indisprimary "
    "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
    "  AND ($2::text IS NULL OR c.relname = $2) "
    "ORDER BY c.relname, a.attnum";

/* Reads the enum labels of type `oid` into `col`. */
static int read_labels(PgJob *j, PgCol *col, const char *oid)
{
    const char *params[] = {oid};
    PGresult *r = pgjob_query(j,
                              "SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::oid "
                              "ORDER BY enumsortorder",
                              1, params);
    if (!r)
        return -1;
    int n = PQntuples(r);
    col->type.labels = xcalloc((size_t)n + 1, sizeof(char *));
    col->type.label_len = xcalloc((size_t)n + 1, sizeof(size_t));
    for (int i = 0; i < n; i++) {
        col->type.labels[i] = xstrdup(PQgetvalue(r, i, 0));
        col->type.label_len[i] = strlen(col->type.labels[i]);
    }
    col->type.nlabels = n;
    PQclear(r);
    return 0;
}

/*
 * Maps a numeric's typmod to DECIMAL(precision, scale), or fails with the
 * column named when DuckDB's DECIMAL cannot hold it.
 */
static int map_numeric(PgJob *j, const char *table, PgCol *col, long typmod)
{
    PgValueType *t = &col->type;
    if (typmod < 4) {
        t->precision = NUMERIC_FREE_PRECISION;
        t->scale = NUMERIC_FREE_SCALE;
    } else {
        t->precision = (int)(((typmod - 4) >> 16) & 0xffff);
        /* PostgreSQL 15 stores the scale as an 11-bit signed number. */
        t->scale = (int)((((typmod - 4) & 0x7ff) ^ 1024) - 1024);
    }
    if (t->precision > 38 || t->scale < 0 || t->scale > t->precision) {
        pgjob_fail(j,
                   "Bad Request: column %s.%s has type %s: DuckDB's DECIMAL holds at most "
                   "38 digits and a scale from 0 to the precision",
                   table, col->name, col->pg_type);
        return -1;
    }
    snprintf(col->duck_type, sizeof(col->duck_type), "DECIMAL(%d,%d)", t->precision, t->scale);
    return 0;
}

int pgschema_read(PgJob *j, const char *schema, const char *table, PgSchema *out)
{
    const char *params[] = {schema, table};
    PGresult *r = pgjob_query(j, SCHEMA_SQL, 2, params);
    if (!r)
        return -1;
    int rc = -1;
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        const char *tname = PQgetvalue(r, i, 0);
        if (out->n == 0 || strcmp(out->tables[out->n - 1].name, tname) != 0) {
            out->tables = xrealloc(out->tables, sizeof(PgTable) * (size_t)(out->n + 1));
            out->tables[out->n] = (PgTable){.name = xstrdup(tname)};
            out->n++;
        }
        PgTable *tb = &out->tables[out->n - 1];
        tb->cols = xrealloc(tb->cols, sizeof(PgCol) * (size_t)(tb->ncols + 1));
        PgCol *col = &tb->cols[tb->ncols++];
        *col = (PgCol){
            .name = xstrdup(PQgetvalue(r, i, 1)),
            .pg_type = xstrdup(PQgetvalue(r, i, 3)),
            .not_null = PQgetvalue(r, i, 2)[0] == 't',
            .type.is_array = PQgetvalue(r, i, 7)[0] == 't',
            .pk_pos = atoi(PQgetvalue(r, i, 8)),
        };
        if (col->pk_pos)
            tb->npk++;
        int kind =
            kind_of((unsigned)strtoul(PQgetvalue(r, i, 5), NULL, 10), PQgetvalue(r, i, 6)[0]);
        if (kind < 0) {
            pgjob_fail(j,
                       "Bad Request: column %s.%s has type %s, which link does not support "
                       "(docs/postgres.md lists the supported types)",
                       tname, col->name, col->pg_type);
            goto out;
        }
        col->type.kind = (PgValueKind)kind;
        if (kind == PGVALUE_ENUM && read_labels(j, col, PQgetvalue(r, i, 5)) != 0)
            goto out;
        if (kind == PGVALUE_NUMERIC) {
            if (map_numeric(j, tname, col, strtol(PQgetvalue(r, i, 4), NULL, 10)) != 0)
                goto out;
        } else if (kind != PGVALUE_ENUM) {
            snprintf(col->duck_type, sizeof(col->duck_type), "%s", kind_duck[kind]);
        }
    }
    for (int t = 0; t < out->n; t++) {
        if (out->tables[t].ncols == 0) {
            pgjob_fail(j, "Bad Request: table %s has no columns", out->tables[t].name);
            goto out;
        }
    }
    rc = 0;
out:
    PQclear(r);
    return rc;
}

/* ---- SQL text --------------------------------------------------------- */

void pgschema_put_ident(Buf *b, const char *s)
{
    buf_append_quoted(b, s, '"');
}

void pgschema_put_literal(Buf *b, const char *s)
{
    buf_append_quoted(b, s, '\'');
}

void pgschema_put_relation(Buf *b, const char *schema, const char *table)
{
    pgschema_put_ident(b, schema);
    buf_putc(b, '.');
    pgschema_put_ident(b, table);
}

void pgschema_put_duck_type(Buf *b, const PgCol *col)
{
    if (col->type.kind == PGVALUE_ENUM) {
        buf_append_str(b, "ENUM(");
        for (int k = 0; k < col->type.nlabels; k++) {
            if (k)
                buf_putc(b, ',');
            pgschema_put_literal(b, col->type.labels[k]);
        }
        buf_putc(b, ')');
    } else {
        buf_append_str(b, col->duck_type);
    }
    if (col->type.is_array)
        buf_append_str(b, "[]");
}

/* `(a, b)`: the primary key columns of `tb` in key order. */
static void put_pk_columns(Buf *b, const PgTable *tb)
{
    buf_putc(b, '(');
    for (int k = 1; k <= tb->npk; k++)
        for (int c = 0; c < tb->ncols; c++)
            if (tb->cols[c].pk_pos == k) {
                if (k > 1)
                    buf_append_str(b, ", ");
                pgschema_put_ident(b, tb->cols[c].name);
            }
    buf_putc(b, ')');
}

void pgschema_create_table_sql(Buf *b, const PgTable *tb, bool with_pk)
{
    buf_append_str(b, "CREATE TABLE ");
    pgschema_put_ident(b, tb->name);
    buf_append_str(b, " (");
    for (int c = 0; c < tb->ncols; c++) {
        const PgCol *col = &tb->cols[c];
        if (c)
            buf_append_str(b, ", ");
        pgschema_put_ident(b, col->name);
        buf_putc(b, ' ');
        pgschema_put_duck_type(b, col);
        if (col->not_null)
            buf_append_str(b, " NOT NULL");
    }
    if (with_pk && tb->npk) {
        buf_append_str(b, ", PRIMARY KEY ");
        put_pk_columns(b, tb);
    }
    buf_putc(b, ')');
}

bool pgschema_add_pk_sql(Buf *b, const PgTable *tb)
{
    if (!tb->npk)
        return false;
    buf_append_str(b, "ALTER TABLE ");
    pgschema_put_ident(b, tb->name);
    buf_append_str(b, " ADD PRIMARY KEY ");
    put_pk_columns(b, tb);
    return true;
}

void pgschema_copy_sql(Buf *b, const char *schema, const PgTable *tb)
{
    buf_append_str(b, "COPY (SELECT ");
    for (int c = 0; c < tb->ncols; c++) {
        if (c)
            buf_append_str(b, ", ");
        pgschema_put_ident(b, tb->cols[c].name);
    }
    buf_append_str(b, " FROM ");
    pgschema_put_relation(b, schema, tb->name);
    buf_append_str(b, ") TO STDOUT (FORMAT binary)");
}
