/*
 * pglink: `link` and `migrate`. See pglink.h and docs/postgres.md.
 *
 * Data moves as PostgreSQL's binary COPY format (COPY (SELECT ...) TO
 * STDOUT (FORMAT binary)), decoded here field by field straight into DuckDB
 * data chunks of 2048 rows that an Appender adds to the table: no temp
 * files, and memory bounded by one chunk plus one libpq row whatever the
 * table size. The decoders follow PostgreSQL's *send functions (int2send,
 * numeric_send, array_send, ...); every value that DuckDB's column type
 * cannot hold exactly (a numeric with more digits, NaN in a numeric, a
 * multidimensional array) fails the whole command with the column named:
 * nothing is rounded or truncated.
 *
 * Consistency (docs/postgres.md, "Guarantees"): link installs the triggers
 * and commits them, then copies every table inside one REPEATABLE READ
 * transaction whose snapshot (pg_current_snapshot()) it stores. A logged
 * change is in the copy exactly when its transaction is visible in that
 * snapshot. migrate reads, in a new REPEATABLE READ snapshot, the log rows
 * whose transaction was not visible in the stored snapshot, applies them,
 * and stores the new snapshot, in one DuckDB transaction.
 */
#include "pglink.h"

#include <endian.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <postgresql/libpq-fe.h>

#include "catalog.h"
#include "log.h"
#include "query.h"
#include "reply.h"
#include "secret.h"

#define STATE_TABLE "tcpduckdb_link_state"
#define STAGE_TABLE "tcpduckdb_migrate_stage"
#define NET_TABLE "tcpduckdb_migrate_net"
#define CONNECT_TIMEOUT "10"
/* Unconstrained numeric becomes DECIMAL(38, 10) (docs/postgres.md). */
#define NUMERIC_FREE_PRECISION 38
#define NUMERIC_FREE_SCALE 10

/* PostgreSQL's epoch (2000-01-01) in DuckDB's (1970-01-01) units. */
#define PG_EPOCH_DAYS 10957
#define PG_EPOCH_MICROS INT64_C(946684800000000)

typedef enum {
    K_BOOL,
    K_INT2,
    K_INT4,
    K_INT8,
    K_FLOAT4,
    K_FLOAT8,
    K_NUMERIC,
    K_TEXT,
    K_BYTEA,
    K_DATE,
    K_TIME,
    K_TIMESTAMP,
    K_TIMESTAMPTZ,
    K_INTERVAL,
    K_UUID,
    K_JSON,
    K_JSONB,
    K_ENUM,
} Kind;

/* One column of a PostgreSQL table, as link maps it. */
typedef struct PgCol {
    char *name;
    char *pg_type; /* format_type(), for messages */
    Kind kind;
    bool is_array;
    bool not_null;
    int pk_pos; /* 1-based position in the primary key, 0 when not in it */
    int precision, scale;
    char **labels; /* enum labels in sort order */
    size_t *label_len;
    int nlabels;
    char duck_type[64]; /* DuckDB type, except enums (built from labels) */
} PgCol;

typedef struct PgTable {
    char *name;
    PgCol *cols;
    int ncols;
    int npk;
} PgTable;

typedef struct Schema {
    PgTable *tables;
    int n;
} Schema;

/* Working state of one command. */
typedef struct Job {
    PGconn *pg;
    char *password; /* of the connection string, for masking messages */
    PoolDb *db;
    bool claimed; /* holds the database's link claim (pool_db_claim_link) */
    duckdb_connection con;
    bool duck_tx;
    char err[2048];
} Job;

static void fail(Job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(Job *j, const char *fmt, ...)
{
    if (j->err[0])
        return; /* keep the first error */
    char raw[sizeof(j->err)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    secret_mask_text(raw, j->password, j->err, sizeof(j->err));
    size_t n = strlen(j->err);
    while (n && (j->err[n - 1] == '\n' || j->err[n - 1] == ' '))
        j->err[--n] = '\0';
}

static void fail_pg(Job *j, const char *what)
{
    fail(j, "PostgreSQL: %s: %s", what, PQerrorMessage(j->pg));
}

/* ---- PostgreSQL helpers ---------------------------------------------- */

static PGresult *pg_query(Job *j, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = nparams ? PQexecParams(j->pg, sql, nparams, NULL, params, NULL, NULL, 0)
                          : PQexec(j->pg, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fail(j, "PostgreSQL: %s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Runs one statement with parameters and returns the rows it returned
 * (0 for a command), or -1 with the error in j->err. */
static int pg_rows(Job *j, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = pg_query(j, sql, nparams, params);
    int n = r ? PQntuples(r) : -1;
    PQclear(r);
    return n;
}

static int pg_exec(Job *j, const char *sql)
{
    return pg_rows(j, sql, 0, NULL) < 0 ? -1 : 0;
}

/* Ends the PostgreSQL transaction after a failure, if the connection still
 * works (best effort: an error here changes nothing for the caller). */
static void pg_rollback(Job *j)
{
    if (j->pg && PQstatus(j->pg) == CONNECTION_OK)
        PQclear(PQexec(j->pg, "ROLLBACK"));
}

/* PostgreSQL's NOTICEs ("... does not exist, skipping") are not for our log. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Connects with `dsn`; the password is kept for masking messages. */
static int pg_connect(Job *j, const char *dsn)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &errmsg);
    if (!opts) {
        /* libpq's message may quote part of the string: never show it. */
        PQfreemem(errmsg);
        fail(j, "Bad Request: invalid PostgreSQL connection string (a URI "
                "postgresql://user:password@host:port/db or key=value pairs)");
        return -1;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0])
            j->password = strdup(o->val);
    PQconninfoFree(opts);
    const char *keys[] = {"dbname", "connect_timeout", "client_encoding", "application_name", NULL};
    const char *vals[] = {dsn, CONNECT_TIMEOUT, "UTF8", "tcp-duckdb", NULL};
    j->pg = PQconnectdbParams(keys, vals, 1);
    if (!j->pg)
        log_fatal("out of memory");
    if (PQstatus(j->pg) != CONNECTION_OK) {
        fail_pg(j, "cannot connect");
        return -1;
    }
    PQsetNoticeProcessor(j->pg, ignore_notice, NULL);
    return 0;
}

/* Appends `s` as a quoted SQL identifier ("a""b"). */
static void put_ident(Buf *b, const char *s)
{
    buf_append_quoted(b, s, '"');
}

/* Appends `s` as a quoted SQL string literal ('it''s'). */
static void put_literal(Buf *b, const char *s)
{
    buf_append_quoted(b, s, '\'');
}

/* ---- DuckDB helpers --------------------------------------------------- */

static int duck_exec(Job *j, const char *sql)
{
    duckdb_result res;
    int rc = 0;
    if (duckdb_query(j->con, sql, &res) != DuckDBSuccess) {
        fail(j, "%s", duckdb_result_error(&res));
        rc = -1;
    }
    duckdb_destroy_result(&res);
    return rc;
}

/* ---- schema ----------------------------------------------------------- */

static void schema_free(Schema *s)
{
    for (int t = 0; t < s->n; t++) {
        PgTable *tb = &s->tables[t];
        for (int c = 0; c < tb->ncols; c++) {
            PgCol *col = &tb->cols[c];
            free(col->name);
            free(col->pg_type);
            for (int k = 0; k < col->nlabels; k++)
                free(col->labels[k]);
            free(col->labels);
            free(col->label_len);
        }
        free(tb->cols);
        free(tb->name);
    }
    free(s->tables);
    s->tables = NULL;
    s->n = 0;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        log_fatal("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        log_fatal("out of memory");
    return d;
}

/* Maps a base type oid to a kind; -1 for an unsupported type. */
static int kind_of(unsigned oid, char typtype)
{
    if (typtype == 'e')
        return K_ENUM;
    switch (oid) {
    case 16:
        return K_BOOL;
    case 17:
        return K_BYTEA;
    case 19: /* name */
    case 25:
    case 1042:
    case 1043:
        return K_TEXT;
    case 20:
        return K_INT8;
    case 21:
        return K_INT2;
    case 23:
        return K_INT4;
    case 114:
        return K_JSON;
    case 700:
        return K_FLOAT4;
    case 701:
        return K_FLOAT8;
    case 1082:
        return K_DATE;
    case 1083:
        return K_TIME;
    case 1114:
        return K_TIMESTAMP;
    case 1184:
        return K_TIMESTAMPTZ;
    case 1186:
        return K_INTERVAL;
    case 1700:
        return K_NUMERIC;
    case 2950:
        return K_UUID;
    case 3802:
        return K_JSONB;
    default:
        return -1;
    }
}

static const char *const kind_duck[] = {
    [K_BOOL] = "BOOLEAN",
    [K_INT2] = "SMALLINT",
    [K_INT4] = "INTEGER",
    [K_INT8] = "BIGINT",
    [K_FLOAT4] = "FLOAT",
    [K_FLOAT8] = "DOUBLE",
    [K_NUMERIC] = NULL,
    [K_TEXT] = "VARCHAR",
    [K_BYTEA] = "BLOB",
    [K_DATE] = "DATE",
    [K_TIME] = "TIME",
    [K_TIMESTAMP] = "TIMESTAMP",
    [K_TIMESTAMPTZ] = "TIMESTAMPTZ",
    [K_INTERVAL] = "INTERVAL",
    [K_UUID] = "UUID",
    [K_JSON] = "JSON",
    [K_JSONB] = "JSON",
    [K_ENUM] = NULL,
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
static int read_labels(Job *j, PgCol *col, const char *oid)
{
    const char *params[] = {oid};
    PGresult *r = pg_query(j,
                           "SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::oid "
                           "ORDER BY enumsortorder",
                           1, params);
    if (!r)
        return -1;
    int n = PQntuples(r);
    col->labels = calloc((size_t)n + 1, sizeof(char *));
    col->label_len = calloc((size_t)n + 1, sizeof(size_t));
    if (!col->labels || !col->label_len)
        log_fatal("out of memory");
    for (int i = 0; i < n; i++) {
        col->labels[i] = xstrdup(PQgetvalue(r, i, 0));
        col->label_len[i] = strlen(col->labels[i]);
    }
    col->nlabels = n;
    PQclear(r);
    return 0;
}

/*
 * Reads the tables of `schema` (only `table` when not NULL) and maps every
 * column's type; an unsupported type fails with the column named.
 */
static int read_schema(Job *j, const char *schema, const char *table, Schema *out)
{
    const char *params[] = {schema, table};
    PGresult *r = pg_query(j, SCHEMA_SQL, 2, params);
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
            .is_array = PQgetvalue(r, i, 7)[0] == 't',
            .pk_pos = atoi(PQgetvalue(r, i, 8)),
        };
        if (col->pk_pos)
            tb->npk++;
        int kind =
            kind_of((unsigned)strtoul(PQgetvalue(r, i, 5), NULL, 10), PQgetvalue(r, i, 6)[0]);
        if (kind < 0) {
            fail(j,
                 "Bad Request: column %s.%s has type %s, which link does not support "
                 "(docs/postgres.md lists the supported types)",
                 tname, col->name, col->pg_type);
            goto out;
        }
        col->kind = (Kind)kind;
        if (kind == K_ENUM && read_labels(j, col, PQgetvalue(r, i, 5)) != 0)
            goto out;
        if (kind == K_NUMERIC) {
            long typmod = strtol(PQgetvalue(r, i, 4), NULL, 10);
            if (typmod < 4) {
                col->precision = NUMERIC_FREE_PRECISION;
                col->scale = NUMERIC_FREE_SCALE;
            } else {
                col->precision = (int)(((typmod - 4) >> 16) & 0xffff);
                /* PostgreSQL 15 stores the scale as an 11-bit signed number. */
                col->scale = (int)((((typmod - 4) & 0x7ff) ^ 1024) - 1024);
            }
            if (col->precision > 38 || col->scale < 0 || col->scale > col->precision) {
                fail(j,
                     "Bad Request: column %s.%s has type %s: DuckDB's DECIMAL holds at most "
                     "38 digits and a scale from 0 to the precision",
                     tname, col->name, col->pg_type);
                goto out;
            }
            snprintf(col->duck_type, sizeof(col->duck_type), "DECIMAL(%d,%d)", col->precision,
                     col->scale);
        } else if (kind != K_ENUM) {
            snprintf(col->duck_type, sizeof(col->duck_type), "%s", kind_duck[kind]);
        }
    }
    for (int t = 0; t < out->n; t++) {
        if (out->tables[t].ncols == 0) {
            fail(j, "Bad Request: table %s has no columns", out->tables[t].name);
            goto out;
        }
    }
    rc = 0;
out:
    PQclear(r);
    return rc;
}

/* Appends the DuckDB type of `col` (with [] for arrays). */
static void put_duck_type(Buf *b, const PgCol *col)
{
    if (col->kind == K_ENUM) {
        buf_append_str(b, "ENUM(");
        for (int k = 0; k < col->nlabels; k++) {
            if (k)
                buf_putc(b, ',');
            put_literal(b, col->labels[k]);
        }
        buf_putc(b, ')');
    } else {
        buf_append_str(b, col->duck_type);
    }
    if (col->is_array)
        buf_append_str(b, "[]");
}

/* CREATE TABLE for `tb` in DuckDB, with NOT NULL and the primary key. */
/* `(a, b)`: the primary key columns of `tb` in key order. */
static void put_pk_columns(Buf *b, const PgTable *tb)
{
    buf_putc(b, '(');
    for (int k = 1; k <= tb->npk; k++)
        for (int c = 0; c < tb->ncols; c++)
            if (tb->cols[c].pk_pos == k) {
                if (k > 1)
                    buf_append_str(b, ", ");
                put_ident(b, tb->cols[c].name);
            }
    buf_putc(b, ')');
}

/*
 * CREATE TABLE for `tb`, with its primary key when with_pk. Link leaves the
 * key out and adds it after the copy (add_pk_sql): DuckDB builds the index
 * from the whole column about twice as fast as it maintains it per appended
 * row (3.0 s against 1.65 s for 5M rows here).
 */
static void create_table_sql(Buf *b, const PgTable *tb, bool with_pk)
{
    buf_append_str(b, "CREATE TABLE ");
    put_ident(b, tb->name);
    buf_append_str(b, " (");
    for (int c = 0; c < tb->ncols; c++) {
        const PgCol *col = &tb->cols[c];
        if (c)
            buf_append_str(b, ", ");
        put_ident(b, col->name);
        buf_putc(b, ' ');
        put_duck_type(b, col);
        if (col->not_null)
            buf_append_str(b, " NOT NULL");
    }
    if (with_pk && tb->npk) {
        buf_append_str(b, ", PRIMARY KEY ");
        put_pk_columns(b, tb);
    }
    buf_putc(b, ')');
}

/* ALTER TABLE ... ADD PRIMARY KEY for `tb`; false (nothing written) without a key. */
static bool add_pk_sql(Buf *b, const PgTable *tb)
{
    if (!tb->npk)
        return false;
    buf_append_str(b, "ALTER TABLE ");
    put_ident(b, tb->name);
    buf_append_str(b, " ADD PRIMARY KEY ");
    put_pk_columns(b, tb);
    return true;
}

/* ---- binary COPY decoding --------------------------------------------- */

/* One destination column: the PostgreSQL column and DuckDB's physical types. */
typedef struct Dest {
    const PgCol *col;
    duckdb_type phys; /* for DECIMAL and ENUM: the storage type */
} Dest;

typedef struct Sink {
    Job *j;
    const char *table; /* for messages */
    duckdb_appender app;
    duckdb_data_chunk chunk;
    duckdb_logical_type *types;
    Dest *dest;
    int ncols;
    idx_t row;
    int64_t rows;
    bool header_done;
    bool trailer;
} Sink;

static uint16_t rd16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return be16toh(v);
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return be32toh(v);
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

static void set_null(duckdb_vector v, idx_t row)
{
    duckdb_vector_ensure_validity_writable(v);
    duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), row);
}

typedef __int128 i128;

static i128 pow10[39];
static pthread_once_t pow10_once = PTHREAD_ONCE_INIT;

static void pow10_init(void)
{
    pow10[0] = 1;
    for (int i = 1; i < 39; i++)
        pow10[i] = pow10[i - 1] * 10;
}

/* numeric_send's format into the unscaled DECIMAL(p, s) integer. */
static int decode_numeric(Sink *k, const PgCol *col, const unsigned char *p, int32_t len, i128 *out)
{
    pthread_once(&pow10_once, pow10_init);
    if (len < 8)
        goto bad;
    int ndigits = (int16_t)rd16(p), weight = (int16_t)rd16(p + 2);
    unsigned sign = rd16(p + 4);
    if (sign == 0xC000 || sign == 0xD000 || sign == 0xF000) {
        fail(k->j, "column %s.%s holds %s, which DuckDB's DECIMAL cannot hold", k->table, col->name,
             sign == 0xC000 ? "NaN" : "an infinity");
        return -1;
    }
    if (ndigits < 0 || len != 8 + 2 * ndigits)
        goto bad;
    i128 v = 0;
    for (int i = 0; i < ndigits; i++) {
        int d = (int16_t)rd16(p + 8 + 2 * i);
        if (d < 0 || d > 9999)
            goto bad;
        if (d == 0)
            continue;
        int e = (weight - i) * 4 + col->scale;
        if (e >= 0) {
            if (e > 38 || (i128)d > (pow10[38] - 1 - v) / pow10[e])
                goto range;
            v += (i128)d * pow10[e];
        } else {
            if (-e >= 4 || d % (int)pow10[-e] != 0)
                goto digits;
            v += d / (int)pow10[-e];
        }
    }
    if (v >= pow10[col->precision])
        goto range;
    *out = sign == 0x4000 ? -v : v;
    return 0;
range:
    fail(k->j, "column %s.%s holds a value that does not fit DECIMAL(%d,%d)", k->table, col->name,
         col->precision, col->scale);
    return -1;
digits:
    fail(k->j,
         "column %s.%s holds a value with more than %d decimals; DECIMAL(%d,%d) would round it",
         k->table, col->name, col->scale, col->precision, col->scale);
    return -1;
bad:
    fail(k->j, "column %s.%s: malformed binary numeric from PostgreSQL", k->table, col->name);
    return -1;
}

/* Writes one non-NULL scalar value of `col` into row `row` of vector `v`. */
static int put_scalar(Sink *k, const PgCol *col, duckdb_type phys, duckdb_vector v, idx_t row,
                      const unsigned char *p, int32_t len)
{
    void *data = duckdb_vector_get_data(v);
    static const int32_t fixed[] = {
        [K_BOOL] = 1,      [K_INT2] = 2,        [K_INT4] = 4,      [K_INT8] = 8,
        [K_FLOAT4] = 4,    [K_FLOAT8] = 8,      [K_DATE] = 4,      [K_TIME] = 8,
        [K_TIMESTAMP] = 8, [K_TIMESTAMPTZ] = 8, [K_INTERVAL] = 16, [K_UUID] = 16};
    if (col->kind < (Kind)(sizeof(fixed) / sizeof(fixed[0])) && fixed[col->kind] &&
        len != fixed[col->kind]) {
        fail(k->j, "column %s.%s: a binary value of %d bytes from PostgreSQL, expected %d",
             k->table, col->name, len, fixed[col->kind]);
        return -1;
    }
    switch (col->kind) {
    case K_BOOL:
        ((bool *)data)[row] = p[0] != 0;
        return 0;
    case K_INT2:
        ((int16_t *)data)[row] = (int16_t)rd16(p);
        return 0;
    case K_INT4:
        ((int32_t *)data)[row] = (int32_t)rd32(p);
        return 0;
    case K_INT8:
    case K_TIME:
        ((int64_t *)data)[row] = (int64_t)rd64(p);
        return 0;
    case K_FLOAT4: {
        uint32_t u = rd32(p);
        memcpy((float *)data + row, &u, 4);
        return 0;
    }
    case K_FLOAT8: {
        uint64_t u = rd64(p);
        memcpy((double *)data + row, &u, 8);
        return 0;
    }
    case K_DATE: {
        int32_t d = (int32_t)rd32(p);
        /* PostgreSQL's infinities are INT32_MAX/MIN, DuckDB's INT32_MAX/-INT32_MAX. */
        if (d == INT32_MAX || d == INT32_MIN)
            ((int32_t *)data)[row] = d == INT32_MAX ? INT32_MAX : -INT32_MAX;
        else
            ((int32_t *)data)[row] = d + PG_EPOCH_DAYS;
        return 0;
    }
    case K_TIMESTAMP:
    case K_TIMESTAMPTZ: {
        int64_t t = (int64_t)rd64(p), u;
        if (t == INT64_MAX || t == INT64_MIN) {
            ((int64_t *)data)[row] = t == INT64_MAX ? INT64_MAX : -INT64_MAX;
            return 0;
        }
        if (__builtin_add_overflow(t, PG_EPOCH_MICROS, &u) || u >= INT64_MAX - 1 ||
            u <= -INT64_MAX) {
            fail(k->j, "column %s.%s holds a timestamp beyond DuckDB's range", k->table, col->name);
            return -1;
        }
        ((int64_t *)data)[row] = u;
        return 0;
    }
    case K_INTERVAL: {
        duckdb_interval iv = {.micros = (int64_t)rd64(p),
                              .days = (int32_t)rd32(p + 8),
                              .months = (int32_t)rd32(p + 12)};
        ((duckdb_interval *)data)[row] = iv;
        return 0;
    }
    case K_UUID: {
        /* DuckDB stores a UUID as a hugeint with the top bit flipped, so that
         * signed order equals the textual order. */
        duckdb_hugeint h = {.lower = rd64(p + 8),
                            .upper = (int64_t)(rd64(p) ^ (UINT64_C(1) << 63))};
        ((duckdb_hugeint *)data)[row] = h;
        return 0;
    }
    case K_NUMERIC: {
        i128 x = 0;
        if (decode_numeric(k, col, p, len, &x) != 0)
            return -1;
        switch (phys) {
        case DUCKDB_TYPE_SMALLINT:
            ((int16_t *)data)[row] = (int16_t)x;
            break;
        case DUCKDB_TYPE_INTEGER:
            ((int32_t *)data)[row] = (int32_t)x;
            break;
        case DUCKDB_TYPE_BIGINT:
            ((int64_t *)data)[row] = (int64_t)x;
            break;
        default: {
            duckdb_hugeint h = {.lower = (uint64_t)x, .upper = (int64_t)(x >> 64)};
            ((duckdb_hugeint *)data)[row] = h;
        }
        }
        return 0;
    }
    case K_JSONB:
        if (len < 1 || p[0] != 1) {
            fail(k->j, "column %s.%s: unknown jsonb binary version", k->table, col->name);
            return -1;
        }
        duckdb_vector_assign_string_element_len(v, row, (const char *)p + 1, (idx_t)len - 1);
        return 0;
    case K_TEXT:
    case K_JSON:
    case K_BYTEA:
        duckdb_vector_assign_string_element_len(v, row, (const char *)p, (idx_t)len);
        return 0;
    case K_ENUM:
        for (int i = 0; i < col->nlabels; i++) {
            if (col->label_len[i] == (size_t)len && memcmp(col->labels[i], p, (size_t)len) == 0) {
                if (phys == DUCKDB_TYPE_UTINYINT)
                    ((uint8_t *)data)[row] = (uint8_t)i;
                else if (phys == DUCKDB_TYPE_USMALLINT)
                    ((uint16_t *)data)[row] = (uint16_t)i;
                else
                    ((uint32_t *)data)[row] = (uint32_t)i;
                return 0;
            }
        }
        fail(k->j, "column %s.%s holds an enum label added after link", k->table, col->name);
        return -1;
    }
    return -1;
}

/* array_send's format into a DuckDB LIST at row `row`. */
static int put_array(Sink *k, const Dest *d, duckdb_vector v, idx_t row, const unsigned char *p,
                     int32_t len)
{
    const PgCol *col = d->col;
    const unsigned char *end = p + len;
    if (len < 12)
        goto bad;
    int32_t ndim = (int32_t)rd32(p);
    duckdb_list_entry *entries = duckdb_vector_get_data(v);
    duckdb_vector child = duckdb_list_vector_get_child(v);
    idx_t base = duckdb_list_vector_get_size(v);
    if (ndim == 0) {
        entries[row] = (duckdb_list_entry){.offset = base, .length = 0};
        return 0;
    }
    if (ndim != 1) {
        fail(k->j,
             "column %s.%s holds a %d-dimensional array; link copies one-dimensional "
             "arrays only",
             k->table, col->name, ndim);
        return -1;
    }
    if (len < 20)
        goto bad;
    int32_t n = (int32_t)rd32(p + 12);
    if (n < 0)
        goto bad;
    p += 20;
    if (duckdb_list_vector_reserve(v, base + (idx_t)n) != DuckDBSuccess)
        log_fatal("out of memory");
    for (int32_t i = 0; i < n; i++) {
        if (end - p < 4)
            goto bad;
        int32_t elen = (int32_t)rd32(p);
        p += 4;
        if (elen < 0) {
            set_null(child, base + (idx_t)i);
            continue;
        }
        if (end - p < elen)
            goto bad;
        if (put_scalar(k, col, d->phys, child, base + (idx_t)i, p, elen) != 0)
            return -1;
        p += elen;
    }
    if (duckdb_list_vector_set_size(v, base + (idx_t)n) != DuckDBSuccess)
        log_fatal("out of memory");
    entries[row] = (duckdb_list_entry){.offset = base, .length = (uint64_t)n};
    return 0;
bad:
    fail(k->j, "column %s.%s: malformed binary array from PostgreSQL", k->table, col->name);
    return -1;
}

static int sink_flush(Sink *k)
{
    if (k->row == 0)
        return 0;
    duckdb_data_chunk_set_size(k->chunk, k->row);
    if (duckdb_append_data_chunk(k->app, k->chunk) != DuckDBSuccess) {
        const char *e = duckdb_appender_error(k->app);
        fail(k->j, "%s", e ? e : "DuckDB's appender failed");
        return -1;
    }
    duckdb_destroy_data_chunk(&k->chunk);
    k->chunk = duckdb_create_data_chunk(k->types, (idx_t)k->ncols);
    k->row = 0;
    return 0;
}

/* Decodes one CopyData message (header, rows, trailer) into the chunk. */
static int sink_message(Sink *k, const unsigned char *p, size_t n)
{
    static const unsigned char sig[11] = "PGCOPY\n\377\r\n";
    const unsigned char *end = p + n;
    if (!k->header_done) {
        if (n < 19 || memcmp(p, sig, 11) != 0)
            goto bad;
        uint32_t ext = rd32(p + 15);
        if ((size_t)(end - p) < 19 + (size_t)ext)
            goto bad;
        p += 19 + ext;
        k->header_done = true;
    }
    while (p < end) {
        if (end - p < 2)
            goto bad;
        int16_t nf = (int16_t)rd16(p);
        p += 2;
        if (nf == -1) {
            k->trailer = true;
            return 0;
        }
        if (nf != k->ncols)
            goto bad;
        for (int c = 0; c < k->ncols; c++) {
            if (end - p < 4)
                goto bad;
            int32_t len = (int32_t)rd32(p);
            p += 4;
            duckdb_vector v = duckdb_data_chunk_get_vector(k->chunk, (idx_t)c);
            const Dest *d = &k->dest[c];
            if (len < 0) {
                set_null(v, k->row);
                continue;
            }
            if (end - p < len)
                goto bad;
            int rc = d->col->is_array ? put_array(k, d, v, k->row, p, len)
                                      : put_scalar(k, d->col, d->phys, v, k->row, p, len);
            if (rc != 0)
                return -1;
            p += len;
        }
        k->rows++;
        if (++k->row == duckdb_vector_size() && sink_flush(k) != 0)
            return -1;
    }
    return 0;
bad:
    fail(k->j, "table %s: malformed binary COPY data from PostgreSQL", k->table);
    return -1;
}

/*
 * Runs `copy_sql` (a COPY ... TO STDOUT (FORMAT binary) whose fields are
 * `cols`) and appends every row to DuckDB table `duck_table`. `what` names
 * the table in messages. *out_rows gets the number of rows.
 */
static int copy_into(Job *j, const char *copy_sql, const char *duck_table, const PgCol *const *cols,
                     int ncols, const char *what, int64_t *out_rows)
{
    Sink k = {.j = j, .table = what, .ncols = ncols};
    PGresult *r = NULL;
    int rc = -1;
    if (duckdb_appender_create(j->con, NULL, duck_table, &k.app) != DuckDBSuccess) {
        const char *e = duckdb_appender_error(k.app);
        fail(j, "%s", e ? e : "cannot create a DuckDB appender");
        goto out;
    }
    if ((int)duckdb_appender_column_count(k.app) != ncols) {
        fail(j, "table %s: DuckDB has %d columns, PostgreSQL %d", what,
             (int)duckdb_appender_column_count(k.app), ncols);
        goto out;
    }
    k.types = calloc((size_t)ncols, sizeof(*k.types));
    k.dest = calloc((size_t)ncols, sizeof(*k.dest));
    if (!k.types || !k.dest)
        log_fatal("out of memory");
    for (int c = 0; c < ncols; c++) {
        k.types[c] = duckdb_appender_column_type(k.app, (idx_t)c);
        duckdb_logical_type t = k.types[c], child = NULL;
        if (cols[c]->is_array)
            t = child = duckdb_list_type_child_type(k.types[c]);
        duckdb_type id = duckdb_get_type_id(t);
        k.dest[c] = (Dest){.col = cols[c], .phys = id};
        if (id == DUCKDB_TYPE_DECIMAL)
            k.dest[c].phys = duckdb_decimal_internal_type(t);
        else if (id == DUCKDB_TYPE_ENUM)
            k.dest[c].phys = duckdb_enum_internal_type(t);
        duckdb_destroy_logical_type(&child);
    }
    k.chunk = duckdb_create_data_chunk(k.types, (idx_t)ncols);

    r = PQexec(j->pg, copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        fail(j, "PostgreSQL: %s", PQresultErrorMessage(r));
        goto out;
    }
    PQclear(r);
    r = NULL;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(j->pg, &buf, 0);
        if (n == -1)
            break;
        if (n == -2) {
            fail_pg(j, "COPY failed");
            goto out;
        }
        int st = sink_message(&k, (const unsigned char *)buf, (size_t)n);
        PQfreemem(buf);
        if (st != 0)
            goto out;
    }
    r = PQgetResult(j->pg);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fail(j, "PostgreSQL: %s", PQresultErrorMessage(r));
        goto out;
    }
    if (!k.trailer) {
        fail(j, "table %s: the binary COPY data from PostgreSQL ended early", what);
        goto out;
    }
    if (sink_flush(&k) != 0)
        goto out;
    if (duckdb_appender_close(k.app) != DuckDBSuccess) {
        const char *e = duckdb_appender_error(k.app);
        fail(j, "%s", e ? e : "DuckDB's appender failed");
        goto out;
    }
    *out_rows = k.rows;
    rc = 0;
out:
    /* After a failure the connection may be in the middle of the COPY; the
     * command ends and closes it, so it is not drained here. */
    PQclear(r);
    if (k.chunk)
        duckdb_destroy_data_chunk(&k.chunk);
    for (int c = 0; k.types && c < ncols; c++)
        duckdb_destroy_logical_type(&k.types[c]);
    free(k.types);
    free(k.dest);
    duckdb_appender_destroy(&k.app);
    return rc;
}

/* The SELECT list of a table's columns for COPY. */
static void put_column_list(Buf *b, const PgTable *tb)
{
    for (int c = 0; c < tb->ncols; c++) {
        if (c)
            buf_append_str(b, ", ");
        put_ident(b, tb->cols[c].name);
    }
}

static const PgCol **table_cols(const PgTable *tb)
{
    const PgCol **cols = calloc((size_t)tb->ncols, sizeof(*cols));
    if (!cols)
        log_fatal("out of memory");
    for (int c = 0; c < tb->ncols; c++)
        cols[c] = &tb->cols[c];
    return cols;
}

/* Copies all of `tb` (schema `schema`) into its DuckDB table. */
static int copy_table(Job *j, const char *schema, const PgTable *tb, int64_t *out_rows)
{
    Buf sql = {0};
    buf_append_str(&sql, "COPY (SELECT ");
    put_column_list(&sql, tb);
    buf_append_str(&sql, " FROM ");
    put_ident(&sql, schema);
    buf_putc(&sql, '.');
    put_ident(&sql, tb->name);
    buf_append_str(&sql, ") TO STDOUT (FORMAT binary)");
    const PgCol **cols = table_cols(tb);
    int rc = copy_into(j, buf_cstr(&sql), tb->name, cols, tb->ncols, tb->name, out_rows);
    free(cols);
    buf_free(&sql);
    return rc;
}

/* ---- audit machinery in PostgreSQL ------------------------------------ */

static const char AUDIT_SQL[] =
    "CREATE SCHEMA IF NOT EXISTS tcpduckdb_audit;"
    "CREATE TABLE IF NOT EXISTS tcpduckdb_audit.log ("
    "  id bigserial PRIMARY KEY,"
    "  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
    "  schema_name text NOT NULL,"
    "  table_name text NOT NULL,"
    "  op char(1) NOT NULL CHECK (op IN ('I', 'U', 'D', 'T', 'C')),"
    "  old_row jsonb,"
    "  new_row jsonb,"
    "  logged_at timestamptz NOT NULL DEFAULT clock_timestamp());"
    "CREATE INDEX IF NOT EXISTS log_txid ON tcpduckdb_audit.log (txid);"
    "CREATE TABLE IF NOT EXISTS tcpduckdb_audit.linked_schemas (schema_name text PRIMARY KEY);"
    /* One row per linked DuckDB database: the log is pruned below the
     * oldest position any of them still needs (docs/postgres.md). */
    "CREATE TABLE IF NOT EXISTS tcpduckdb_audit.consumers ("
    "  consumer text PRIMARY KEY,"
    "  schema_name text NOT NULL,"
    "  position_xmin xid8 NOT NULL,"
    "  updated_at timestamptz NOT NULL DEFAULT clock_timestamp());"
    "CREATE OR REPLACE FUNCTION tcpduckdb_audit.log_change() RETURNS trigger"
    "  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$ "
    "BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op, new_row)"
    "    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'I', to_jsonb(NEW));"
    "  ELSIF TG_OP = 'UPDATE' THEN"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op, old_row, new_row)"
    "    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'U', to_jsonb(OLD), to_jsonb(NEW));"
    "  ELSIF TG_OP = 'DELETE' THEN"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op, old_row)"
    "    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'D', to_jsonb(OLD));"
    "  ELSE"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op)"
    "    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'T');"
    "  END IF;"
    "  RETURN NULL;"
    "END $f$;"
    "CREATE OR REPLACE FUNCTION tcpduckdb_audit.watch(tab regclass) RETURNS void"
    "  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$ "
    "BEGIN"
    "  EXECUTE format('CREATE OR REPLACE TRIGGER tcpduckdb_audit_row AFTER INSERT OR UPDATE "
    "OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION tcpduckdb_audit.log_change()', tab);"
    "  EXECUTE format('CREATE OR REPLACE TRIGGER tcpduckdb_audit_truncate AFTER TRUNCATE ON "
    "%s FOR EACH STATEMENT EXECUTE FUNCTION tcpduckdb_audit.log_change()', tab);"
    "END $f$;"
    "CREATE OR REPLACE FUNCTION tcpduckdb_audit.on_create() RETURNS event_trigger"
    "  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$ "
    "DECLARE r record; "
    "BEGIN"
    "  FOR r IN SELECT c.oid, n.nspname, c.relname"
    "    FROM pg_event_trigger_ddl_commands() d"
    "    JOIN pg_class c ON c.oid = d.objid"
    "    JOIN pg_namespace n ON n.oid = c.relnamespace"
    "    WHERE d.object_type = 'table' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
    "      AND n.nspname IN (SELECT schema_name FROM tcpduckdb_audit.linked_schemas)"
    "  LOOP"
    "    PERFORM tcpduckdb_audit.watch(r.oid::regclass);"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op)"
    "    VALUES (r.nspname, r.relname, 'C');"
    /* CREATE TABLE AS filled the table before the triggers existed. */
    "    EXECUTE format('INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op, new_row)"
    " SELECT %L, %L, ''I'', to_jsonb(t) FROM %s t', r.nspname, r.relname, r.oid::regclass);"
    "  END LOOP;"
    "END $f$;";

static const char EVENT_TRIGGER_SQL[] =
    "DROP EVENT TRIGGER IF EXISTS tcpduckdb_audit_create;"
    "CREATE EVENT TRIGGER tcpduckdb_audit_create ON ddl_command_end"
    "  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')"
    "  EXECUTE FUNCTION tcpduckdb_audit.on_create();";

/*
 * Installs the audit schema, the triggers on every table of `sc` and, for a
 * superuser, the event trigger, and registers `consumer`, in one committed
 * transaction. The consumer's position starts at the current snapshot's
 * xmin, at or before the snapshot link copies from, so nothing the copy
 * misses can be pruned meanwhile.
 */
static int install_audit(Job *j, const char *schema, const Schema *sc, const char *consumer,
                         bool *out_event_trigger)
{
    Buf sql = {0};
    int rc = -1;
    PGresult *r =
        pg_query(j, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", 0, NULL);
    if (!r)
        goto out;
    bool super = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    buf_append_str(&sql, "BEGIN;");
    buf_append_str(&sql, AUDIT_SQL);
    buf_append_str(&sql, "INSERT INTO tcpduckdb_audit.linked_schemas VALUES (");
    put_literal(&sql, schema);
    buf_append_str(&sql, ") ON CONFLICT DO NOTHING;");
    buf_append_str(&sql,
                   "INSERT INTO tcpduckdb_audit.consumers (consumer, schema_name, position_xmin) "
                   "VALUES (");
    put_literal(&sql, consumer);
    buf_putc(&sql, ',');
    put_literal(&sql, schema);
    buf_append_str(&sql, ", pg_snapshot_xmin(pg_current_snapshot()));");
    for (int t = 0; t < sc->n; t++) {
        buf_append_str(&sql, "SELECT tcpduckdb_audit.watch(");
        Buf name = {0};
        put_ident(&name, schema);
        buf_putc(&name, '.');
        put_ident(&name, sc->tables[t].name);
        put_literal(&sql, buf_cstr(&name));
        buf_free(&name);
        buf_append_str(&sql, "::regclass);");
    }
    if (super)
        buf_append_str(&sql, EVENT_TRIGGER_SQL);
    buf_append_str(&sql, "COMMIT;");
    if (pg_exec(j, buf_cstr(&sql)) != 0) {
        pg_rollback(j);
        goto out;
    }
    *out_event_trigger = super;
    rc = 0;
out:
    buf_free(&sql);
    return rc;
}

/* ---- command plumbing ------------------------------------------------- */

static void job_end(Job *j, const SessionEnv *env)
{
    if (j->duck_tx) {
        duckdb_result res;
        (void)duckdb_query(j->con, "ROLLBACK", &res);
        duckdb_destroy_result(&res);
    }
    duckdb_disconnect(&j->con);
    if (j->claimed)
        pool_db_unclaim_link(j->db);
    pool_release(env->pool, j->db);
    PQfinish(j->pg);
    if (j->password) {
        memset(j->password, 0, strlen(j->password));
        free(j->password);
    }
}

/*
 * Opens the DuckDB database `db_id` on a connection of the job's own, and
 * claims it: link, migrate and unlink of one database run one at a time,
 * since each reads the link's state and then rewrites it (an unlink during
 * a migrate would drop the consumer the migrate is about to move). The
 * second command is refused at once rather than queued: it holds a worker.
 */
static int open_duck(Job *j, const SessionEnv *env, int64_t db_id)
{
    char err[512] = "";
    PoolStatus ps = pool_acquire(env->pool, db_id, &j->db, err, sizeof(err));
    if (ps == POOL_BUSY) {
        fail(j, "Server Busy: %s; try again later", err);
        return -1;
    }
    if (ps == POOL_OK && !(j->claimed = pool_db_claim_link(j->db))) {
        fail(j, "Server Busy: a link, migrate or unlink of this database is running; try "
                "again later");
        return -1;
    }
    if (ps != POOL_OK || duckdb_connect(pool_db_handle(j->db), &j->con) != DuckDBSuccess) {
        log_error("cannot open database %lld: %s", (long long)db_id, err);
        fail(j, "Internal Error");
        return -1;
    }
    return 0;
}

/* True when the database of the job holds the link state table. */
static bool state_table_exists(Job *j)
{
    duckdb_result res;
    bool found =
        duckdb_query(j->con, "SELECT 1 FROM " STATE_TABLE " LIMIT 0", &res) == DuckDBSuccess;
    duckdb_destroy_result(&res);
    return found;
}

/* A new consumer name for the audit log: 32 random hex digits. */
static int new_consumer(char out[33])
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        return -1;
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return 0;
}

/* Best effort, after a failed link: the consumer registered by install_audit
 * would otherwise hold back pruning of the audit log for ever. */
static void drop_consumer(Job *j, const char *consumer)
{
    if (!j->pg || PQstatus(j->pg) != CONNECTION_OK)
        return;
    pg_rollback(j);
    const char *params[] = {consumer};
    PQclear(PQexecParams(j->pg, "DELETE FROM tcpduckdb_audit.consumers WHERE consumer = $1", 1,
                         NULL, params, NULL, NULL, 0));
}

static void count_table(void *ctx, const char *name)
{
    (void)name;
    (*(int *)ctx)++;
}

static bool require_super(const Session *s, Buf *out)
{
    if (s->state != SESSION_NEW && s->user.super)
        return true;
    reply_unauthorized(out);
    return false;
}

/* The additional data that binds a sealed connection string to its database. */
static int link_aad(int64_t db_id, char *buf, size_t len)
{
    return snprintf(buf, len, "tcp-duckdb postgres link of database %lld", (long long)db_id);
}

/* ---- link ------------------------------------------------------------- */

void pglink_cmd_link(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    Job j = {0};
    Schema sc = {0};
    Buf sql = {0};
    unsigned char *blob = NULL, *sealed = NULL;
    size_t blob_len = 0, sealed_len = 0;
    duckdb_prepared_statement prep = NULL;
    SecretKey key;
    char consumer[33] = "";
    bool registered = false;
    if (!require_super(s, out))
        return;
    if (w->n != 3 && w->n != 4) {
        reply_bad_request(out, "usage: link DATABASE \"CONNECTION STRING\" [SCHEMA]");
        return;
    }
    const char *name = w->word[1], *dsn = w->word[2];
    const char *schema = w->n == 4 ? w->word[3] : "public";
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "database", name);
        return;
    }
    if (secret_key_init(&key, env->cfg->encryption_key) != 0) {
        reply_bad_request(out, "ENCRYPTION_KEY is not set: link stores the connection string "
                               "encrypted and needs a key (docs/postgres.md)");
        return;
    }
    int64_t db_id = 0;
    CatalogStatus st = catalog_database_find(env->catalog, name, &db_id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", name);
        return;
    }
    st = catalog_pglink_get(env->catalog, db_id, &blob, &blob_len);
    free(blob);
    if (st != CATALOG_OK && st != CATALOG_NOT_FOUND) {
        reply_internal(out);
        return;
    }
    if (open_duck(&j, env, db_id) != 0)
        goto out;
    /* The link is recorded in the catalog before DuckDB commits (below), so
     * a record without the state table is a link that never committed. */
    if (st == CATALOG_OK) {
        if (state_table_exists(&j)) {
            fail(&j, "Bad Request: database %s is already linked to PostgreSQL (use migrate %s)",
                 name, name);
            goto out;
        }
        log_info("link of %s: an earlier link did not complete; linking again", name);
    }
    int ntables = 0;
    if (query_list_tables(j.con, db_id, count_table, &ntables) != 0) {
        fail(&j, "Internal Error");
        goto out;
    }
    if (ntables > 0) {
        fail(&j, "Bad Request: database %s is not empty: link copies into an empty database", name);
        goto out;
    }
    if (pg_connect(&j, dsn) != 0)
        goto out;
    if (read_schema(&j, schema, NULL, &sc) != 0)
        goto out;
    if (new_consumer(consumer) != 0) {
        fail(&j, "Internal Error");
        goto out;
    }
    bool event_trigger = false;
    if (install_audit(&j, schema, &sc, consumer, &event_trigger) != 0)
        goto out;
    registered = true;

    /* The copy and the position come from one snapshot. The tables are
     * locked against ALTER and DROP before the snapshot is taken (LOCK takes
     * no snapshot), so the columns read above are the ones copied. */
    buf_append_str(&sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;");
    for (int t = 0; t < sc.n; t++) {
        buf_append_str(&sql, "LOCK TABLE ");
        put_ident(&sql, schema);
        buf_putc(&sql, '.');
        put_ident(&sql, sc.tables[t].name);
        buf_append_str(&sql, " IN ACCESS SHARE MODE;");
    }
    if (pg_exec(&j, buf_cstr(&sql)) != 0)
        goto out;
    Schema check = {0};
    int same = read_schema(&j, schema, NULL, &check);
    if (same == 0 && check.n != sc.n)
        same = -1;
    schema_free(&check);
    if (same != 0) {
        fail(&j, "Bad Request: the tables of schema %s changed during link; try again", schema);
        goto out;
    }
    PGresult *r = pg_query(&j, "SELECT pg_current_snapshot()::text", 0, NULL);
    if (!r)
        goto out;
    char snapshot[4096];
    snprintf(snapshot, sizeof(snapshot), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);

    if (duck_exec(&j, "BEGIN TRANSACTION") != 0)
        goto out;
    j.duck_tx = true;
    int64_t total = 0;
    for (int t = 0; t < sc.n; t++) {
        sql.len = 0;
        create_table_sql(&sql, &sc.tables[t], false);
        if (duck_exec(&j, buf_cstr(&sql)) != 0)
            goto out;
        int64_t rows = 0;
        if (copy_table(&j, schema, &sc.tables[t], &rows) != 0)
            goto out;
        total += rows;
        sql.len = 0;
        if (add_pk_sql(&sql, &sc.tables[t]) && duck_exec(&j, buf_cstr(&sql)) != 0)
            goto out;
    }
    (void)pg_exec(&j, "COMMIT");
    if (duck_exec(&j,
                  "CREATE TABLE " STATE_TABLE " (pg_schema VARCHAR NOT NULL, snapshot "
                  "VARCHAR NOT NULL, linked_at TIMESTAMPTZ NOT NULL, migrated_at "
                  "TIMESTAMPTZ, changes_applied BIGINT NOT NULL, consumer VARCHAR NOT NULL)") != 0)
        goto out;
    if (duckdb_prepare(j.con,
                       "INSERT INTO " STATE_TABLE " VALUES (?, ?, current_timestamp, NULL, 0, ?)",
                       &prep) != DuckDBSuccess) {
        fail(&j, "%s", duckdb_prepare_error(prep));
        goto out;
    }
    duckdb_bind_varchar(prep, 1, schema);
    duckdb_bind_varchar(prep, 2, snapshot);
    duckdb_bind_varchar(prep, 3, consumer);
    duckdb_result res;
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        fail(&j, "%s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto out;
    }
    duckdb_destroy_result(&res);

    char aad[96];
    int aad_len = link_aad(db_id, aad, sizeof(aad));
    if (secret_seal(&key, dsn, strlen(dsn), aad, (size_t)aad_len, &sealed, &sealed_len) != 0) {
        fail(&j, "Internal Error");
        goto out;
    }
    /* Catalog first, then DuckDB: a crash in between leaves a record without
     * a state table, which the next link detects and replaces (the other
     * order would leave a copied database that neither link nor migrate
     * accepts). */
    if (catalog_pglink_set(env->catalog, db_id, sealed, sealed_len) != CATALOG_OK) {
        fail(&j, "Internal Error");
        goto out;
    }
    j.duck_tx = false;
    if (duck_exec(&j, "COMMIT") != 0) {
        if (catalog_pglink_delete(env->catalog, db_id) != CATALOG_OK)
            log_error("link of %s: DuckDB commit failed and the catalog record could not be "
                      "removed; the next link replaces it",
                      name);
        goto out;
    }
    pool_db_schema_bump(j.db); /* sessions' cached statements predate the tables */
    char masked[1024];
    secret_mask_conninfo(dsn, masked, sizeof(masked));
    log_info("database %s linked to %s schema %s: %d tables, %" PRId64 " rows%s", name, masked,
             schema, sc.n, total,
             event_trigger ? "" : " (not a superuser: tables created later are not followed)");
    reply_success(out);
out:
    if (j.err[0]) {
        log_info("link of %s failed: %s", name, j.err);
        query_append_error(out, j.err);
        if (registered)
            drop_consumer(&j, consumer);
    }
    duckdb_destroy_prepare(&prep);
    free(sealed);
    buf_free(&sql);
    schema_free(&sc);
    job_end(&j, env);
    explicit_bzero(&key, sizeof(key));
}

/* ---- migrate ---------------------------------------------------------- */

/* Column names of the DuckDB table `table` (schema main), in order. */
static int duck_columns(Job *j, const char *table, char ***out_names, int *out_n)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool have_res = false;
    int rc = -1;
    if (duckdb_prepare(j->con,
                       "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND "
                       "database_name = current_database() AND table_name = ? "
                       "ORDER BY column_index",
                       &prep) != DuckDBSuccess) {
        fail(j, "%s", duckdb_prepare_error(prep));
        goto out;
    }
    duckdb_bind_varchar(prep, 1, table);
    have_res = true;
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        fail(j, "%s", duckdb_result_error(&res));
        goto out;
    }
    idx_t n = duckdb_row_count(&res);
    char **names = calloc((size_t)n + 1, sizeof(char *));
    if (!names)
        log_fatal("out of memory");
    for (idx_t i = 0; i < n; i++) {
        char *v = duckdb_value_varchar(&res, 0, i);
        names[i] = xstrdup(v ? v : "");
        duckdb_free(v);
    }
    *out_names = names;
    *out_n = (int)n;
    rc = 0;
out:
    if (have_res)
        duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&prep);
    return rc;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
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
 * Applies the staged changes of `tb` (rows of STAGE_TABLE in log order) to
 * its DuckDB table. After the last TRUNCATE only later changes matter. With
 * a primary key, every key a change touched is deleted, then the newest
 * version of each key whose last change left a row is inserted. Without
 * one, rows are a multiset: each distinct row value gains (inserts, new
 * sides of updates) or loses (deletes, old sides) copies, and the net
 * difference is inserted or deleted.
 */
static int apply_stage(Job *j, const PgTable *tb)
{
    Buf sql = {0}, tname = {0};
    duckdb_result res;
    int rc = -1, n = tb->ncols;
    put_ident(&tname, tb->name);
    if (duckdb_query(j->con, "SELECT max(seq) FROM " STAGE_TABLE " WHERE op = 'T'", &res) !=
        DuckDBSuccess) {
        fail(j, "%s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto out;
    }
    bool truncated = !duckdb_value_is_null(&res, 0, 0);
    int64_t last_truncate = duckdb_value_int64(&res, 0, 0);
    duckdb_destroy_result(&res);
    if (truncated) {
        buf_printf(&sql, "DELETE FROM %s; DELETE FROM " STAGE_TABLE " WHERE seq <= %" PRId64,
                   buf_cstr(&tname), last_truncate);
        if (duck_exec(j, buf_cstr(&sql)) != 0)
            goto out;
    }
    sql.len = 0;
    if (tb->npk) {
        buf_printf(&sql, "DELETE FROM %s USING (SELECT ", buf_cstr(&tname));
        put_keys(&sql, tb, "o");
        buf_append_str(&sql, " FROM " STAGE_TABLE " WHERE op IN ('U', 'D') UNION SELECT ");
        put_keys(&sql, tb, "n");
        buf_append_str(&sql, " FROM " STAGE_TABLE " WHERE op IN ('I', 'U')) AS keys WHERE ");
        for (int k = 1; k <= tb->npk; k++)
            for (int c = 0; c < n; c++)
                if (tb->cols[c].pk_pos == k) {
                    buf_printf(&sql, "%s%s.", k > 1 ? " AND " : "", buf_cstr(&tname));
                    put_ident(&sql, tb->cols[c].name);
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
        buf_append_str(&sql, " FROM " STAGE_TABLE " WHERE op IN ('U', 'D') UNION ALL SELECT ");
        put_keys(&sql, tb, "n");
        buf_append_str(&sql, ", seq, 1, true, ");
        put_numbered(&sql, "n", n, NULL);
        buf_append_str(&sql, " FROM " STAGE_TABLE " WHERE op IN ('I', 'U'))) WHERE rn = 1 AND "
                             "live");
    } else {
        buf_append_str(&sql, "CREATE TABLE " NET_TABLE " AS SELECT ");
        put_numbered(&sql, "c", n, NULL);
        buf_append_str(&sql, ", sum(d)::BIGINT AS d FROM (SELECT ");
        put_numbered(&sql, "n", n, "c");
        buf_append_str(&sql, ", 1 AS d FROM " STAGE_TABLE " WHERE op IN ('I', 'U') UNION ALL "
                             "SELECT ");
        put_numbered(&sql, "o", n, "c");
        buf_append_str(&sql, ", -1 FROM " STAGE_TABLE " WHERE op IN ('U', 'D')) GROUP BY ALL "
                             "HAVING sum(d) <> 0;");
        buf_printf(&sql,
                   "DELETE FROM %s WHERE rowid IN (SELECT rid FROM (SELECT %s.rowid AS "
                   "rid, row_number() OVER (PARTITION BY ",
                   buf_cstr(&tname), buf_cstr(&tname));
        for (int c = 0; c < n; c++)
            buf_printf(&sql, "%s" NET_TABLE ".\"c%d\"", c ? ", " : "", c + 1);
        buf_printf(&sql, ") AS rn, " NET_TABLE ".d FROM %s JOIN " NET_TABLE " ON ",
                   buf_cstr(&tname));
        for (int c = 0; c < n; c++) {
            buf_printf(&sql, "%s%s.", c ? " AND " : "", buf_cstr(&tname));
            put_ident(&sql, tb->cols[c].name);
            buf_printf(&sql, " IS NOT DISTINCT FROM " NET_TABLE ".\"c%d\"", c + 1);
        }
        buf_printf(&sql, ") WHERE d < 0 AND rn <= -d); INSERT INTO %s SELECT ", buf_cstr(&tname));
        put_numbered(&sql, "c", n, NULL);
        buf_append_str(&sql, " FROM (SELECT *, unnest(range(d)) FROM " NET_TABLE
                             " WHERE d > 0); DROP TABLE " NET_TABLE);
    }
    if (duck_exec(j, buf_cstr(&sql)) != 0)
        goto out;
    rc = 0;
out:
    buf_free(&sql);
    buf_free(&tname);
    return rc;
}

/*
 * Brings DuckDB table `tb` up to date with the log rows of `schema`.`tb`
 * that `snapshot` (the stored position) did not see. Creates the table
 * when it was created in PostgreSQL since link. *out_changes gets the
 * number of log rows applied.
 */
static int migrate_table(Job *j, const char *schema, const char *snapshot, const PgTable *tb,
                         int64_t *out_changes)
{
    Buf sql = {0};
    char **names = NULL;
    int nnames = 0, rc = -1, n = tb->ncols;
    const PgCol **cols = NULL;
    if (duck_columns(j, tb->name, &names, &nnames) != 0)
        goto out;
    if (nnames == 0) {
        create_table_sql(&sql, tb, true);
        if (duck_exec(j, buf_cstr(&sql)) != 0)
            goto out;
    } else {
        bool same = nnames == n;
        for (int c = 0; same && c < n; c++)
            same = strcmp(names[c], tb->cols[c].name) == 0;
        if (!same) {
            fail(j,
                 "Bad Request: the columns of table %s changed in PostgreSQL since link; "
                 "migrate does not follow ALTER TABLE (docs/postgres.md)",
                 tb->name);
            goto out;
        }
    }
    sql.len = 0;
    buf_append_str(&sql, "CREATE TABLE " STAGE_TABLE " (seq BIGINT, op VARCHAR");
    for (int side = 0; side < 2; side++)
        for (int c = 0; c < n; c++) {
            buf_printf(&sql, ", \"%s%d\" ", side ? "n" : "o", c + 1);
            put_duck_type(&sql, &tb->cols[c]);
        }
    buf_putc(&sql, ')');
    if (duck_exec(j, buf_cstr(&sql)) != 0)
        goto out;

    Buf rel = {0};
    put_ident(&rel, schema);
    buf_putc(&rel, '.');
    put_ident(&rel, tb->name);
    sql.len = 0;
    buf_printf(&sql,
               "COPY (SELECT l.id, l.op::text, o.*, nw.* FROM tcpduckdb_audit.log l, "
               "LATERAL jsonb_populate_record(NULL::%s, l.old_row) o, "
               "LATERAL jsonb_populate_record(NULL::%s, l.new_row) nw WHERE l.schema_name = ",
               buf_cstr(&rel), buf_cstr(&rel));
    buf_free(&rel);
    put_literal(&sql, schema);
    buf_append_str(&sql, " AND l.table_name = ");
    put_literal(&sql, tb->name);
    buf_append_str(&sql, " AND l.txid >= pg_snapshot_xmin(");
    put_literal(&sql, snapshot);
    buf_append_str(&sql, "::pg_snapshot) AND NOT pg_visible_in_snapshot(l.txid, ");
    put_literal(&sql, snapshot);
    buf_append_str(&sql, "::pg_snapshot) ORDER BY l.id) TO STDOUT (FORMAT binary)");

    static const PgCol seq_col = {.name = "id", .kind = K_INT8};
    static const PgCol op_col = {.name = "op", .kind = K_TEXT};
    cols = calloc((size_t)(2 + 2 * n), sizeof(*cols));
    if (!cols)
        log_fatal("out of memory");
    cols[0] = &seq_col;
    cols[1] = &op_col;
    for (int c = 0; c < n; c++)
        cols[2 + c] = cols[2 + n + c] = &tb->cols[c];
    int64_t rows = 0;
    if (copy_into(j, buf_cstr(&sql), STAGE_TABLE, cols, 2 + 2 * n, tb->name, &rows) != 0)
        goto out;
    if (apply_stage(j, tb) != 0)
        goto out;
    if (duck_exec(j, "DROP TABLE " STAGE_TABLE) != 0)
        goto out;
    *out_changes = rows;
    rc = 0;
out:
    free(cols);
    free_names(names, nnames);
    buf_free(&sql);
    return rc;
}

/* A linked database as migrate and unlink find it. */
typedef struct Link {
    int64_t db_id;
    char *dsn; /* in clear: explicit_bzero before free (link_close) */
    size_t dsn_len;
    bool have_state; /* STATE_TABLE was read */
    char schema[256], snapshot[4096], consumer[64];
} Link;

static void link_close(Link *lk)
{
    if (lk->dsn) {
        explicit_bzero(lk->dsn, lk->dsn_len);
        free(lk->dsn);
        lk->dsn = NULL;
    }
}

/*
 * Finds the linked database `name`, decrypts its connection string, opens it
 * on the job's DuckDB connection and reads its state table. Returns 0; or -1
 * with the answer in `out` (lookup errors) or in j->err. A missing or
 * unreadable state table is an error only when need_state.
 */
static int link_open(Job *j, const SessionEnv *env, const char *name, bool need_state, Link *lk,
                     Buf *out)
{
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    SecretKey key;
    duckdb_result res;
    int rc = -1;
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "database", name);
        return -1;
    }
    CatalogStatus st = catalog_database_find(env->catalog, name, &lk->db_id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", name);
        return -1;
    }
    st = catalog_pglink_get(env->catalog, lk->db_id, &blob, &blob_len);
    if (st == CATALOG_NOT_FOUND) {
        reply_bad_request(out, "database %s is not linked to PostgreSQL (use link)", name);
        return -1;
    }
    if (st != CATALOG_OK) {
        reply_internal(out);
        return -1;
    }
    char aad[96];
    int aad_len = link_aad(lk->db_id, aad, sizeof(aad));
    if (secret_key_init(&key, env->cfg->encryption_key) != 0 ||
        secret_open(&key, blob, blob_len, aad, (size_t)aad_len, &lk->dsn, &lk->dsn_len) != 0) {
        fail(j,
             "cannot decrypt the stored connection string of %s: ENCRYPTION_KEY is not the "
             "key it was linked with",
             name);
        goto out;
    }
    if (open_duck(j, env, lk->db_id) != 0)
        goto out;
    if (duckdb_query(j->con, "SELECT pg_schema, snapshot, consumer FROM " STATE_TABLE, &res) ==
            DuckDBSuccess &&
        duckdb_row_count(&res) == 1) {
        char *v[3];
        for (idx_t c = 0; c < 3; c++)
            v[c] = duckdb_value_varchar(&res, c, 0);
        snprintf(lk->schema, sizeof(lk->schema), "%s", v[0] ? v[0] : "");
        snprintf(lk->snapshot, sizeof(lk->snapshot), "%s", v[1] ? v[1] : "");
        snprintf(lk->consumer, sizeof(lk->consumer), "%s", v[2] ? v[2] : "");
        for (int c = 0; c < 3; c++)
            duckdb_free(v[c]);
        lk->have_state = true;
    }
    duckdb_destroy_result(&res);
    if (need_state && !lk->have_state) {
        fail(j, "Bad Request: database %s has no valid " STATE_TABLE " table: link it again", name);
        goto out;
    }
    rc = 0;
out:
    free(blob);
    explicit_bzero(&key, sizeof(key));
    return rc;
}

/*
 * After a migrate has committed up to snapshot `now`: moves the consumer's
 * position there and deletes the log rows no consumer needs any more. A
 * transaction below the xmin of every consumer's snapshot is visible in all
 * of them (or rolled back), so every consumer has applied it. Failure here
 * loses nothing (the rows stay for the next migrate) and is only logged.
 */
static void prune_log(Job *j, const char *name, const Link *lk, const char *now)
{
    const char *params[] = {lk->consumer, now};
    PGresult *r = NULL;
    if (pg_exec(j, "BEGIN") != 0)
        goto out;
    if (pg_rows(j,
                "UPDATE tcpduckdb_audit.consumers SET position_xmin = "
                "pg_snapshot_xmin($2::pg_snapshot), updated_at = clock_timestamp() "
                "WHERE consumer = $1",
                2, params) < 0)
        goto out;
    r = pg_query(j,
                 "DELETE FROM tcpduckdb_audit.log WHERE txid < (SELECT min(position_xmin) FROM "
                 "tcpduckdb_audit.consumers)",
                 0, NULL);
    if (!r)
        goto out;
    if (pg_exec(j, "COMMIT") == 0 && atoi(PQcmdTuples(r)) > 0)
        log_info("migrate of %s: %s audit log rows pruned", name, PQcmdTuples(r));
out:
    PQclear(r);
    if (j->err[0]) {
        log_warn("migrate of %s: changes applied, but the audit log was not pruned: %s", name,
                 j->err);
        j->err[0] = '\0';
        pg_rollback(j);
    }
}

void pglink_cmd_migrate(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    Job j = {0};
    Link lk = {0};
    PGresult *tables = NULL;
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool have_res = false;
    char now[4096] = "";
    int64_t total = 0;
    if (!require_super(s, out))
        return;
    if (w->n != 2) {
        reply_bad_request(out, "usage: migrate DATABASE");
        return;
    }
    const char *name = w->word[1];
    if (link_open(&j, env, name, true, &lk, out) != 0)
        goto out;
    const char *schema = lk.schema, *snapshot = lk.snapshot;
    if (pg_connect(&j, lk.dsn) != 0)
        goto out;
    if (pg_exec(&j, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != 0)
        goto out;
    PGresult *r = pg_query(&j, "SELECT pg_current_snapshot()::text", 0, NULL);
    if (!r)
        goto out;
    snprintf(now, sizeof(now), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    /* Without its consumer row the link was undone in PostgreSQL (an unlink
     * that did not finish here): the triggers may be gone, so the log can no
     * longer be trusted to hold every change. */
    const char *cparams[] = {lk.consumer};
    int registered =
        pg_rows(&j, "SELECT 1 FROM tcpduckdb_audit.consumers WHERE consumer = $1", 1, cparams);
    if (registered < 0)
        goto out;
    if (registered == 0) {
        fail(&j,
             "Bad Request: the link of %s was removed in PostgreSQL (no audit consumer %s): "
             "unlink %s, then link a new database",
             name, lk.consumer, name);
        goto out;
    }
    const char *params[] = {schema, snapshot};
    tables = pg_query(&j,
                      "SELECT DISTINCT table_name FROM tcpduckdb_audit.log WHERE schema_name = "
                      "$1 AND txid >= pg_snapshot_xmin($2::pg_snapshot) AND NOT "
                      "pg_visible_in_snapshot(txid, $2::pg_snapshot) ORDER BY 1",
                      2, params);
    if (!tables)
        goto out;
    if (duck_exec(&j, "BEGIN TRANSACTION") != 0)
        goto out;
    j.duck_tx = true;
    for (int t = 0; t < PQntuples(tables); t++) {
        const char *tname = PQgetvalue(tables, t, 0);
        Schema sc = {0};
        if (read_schema(&j, schema, tname, &sc) != 0) {
            schema_free(&sc);
            goto out;
        }
        if (sc.n == 0) {
            /* Dropped in PostgreSQL: its remaining changes have nowhere to go. */
            log_info("migrate of %s: table %s no longer exists in PostgreSQL; skipped", name,
                     tname);
            continue;
        }
        int64_t changes = 0;
        int rc = migrate_table(&j, schema, snapshot, &sc.tables[0], &changes);
        schema_free(&sc);
        if (rc != 0)
            goto out;
        total += changes;
    }
    if (duckdb_prepare(j.con,
                       "UPDATE " STATE_TABLE " SET snapshot = ?, migrated_at = current_timestamp, "
                       "changes_applied = changes_applied + ?",
                       &prep) != DuckDBSuccess) {
        fail(&j, "%s", duckdb_prepare_error(prep));
        goto out;
    }
    duckdb_bind_varchar(prep, 1, now);
    duckdb_bind_int64(prep, 2, total);
    have_res = true;
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        fail(&j, "%s", duckdb_result_error(&res));
        goto out;
    }
    j.duck_tx = false;
    if (duck_exec(&j, "COMMIT") != 0)
        goto out;
    pool_db_schema_bump(j.db); /* migrate may have created tables */
    (void)pg_exec(&j, "COMMIT");
    log_info("database %s migrated: %" PRId64 " changes applied", name, total);
    buf_printf(out, "success %" PRId64 "\n", total);
    prune_log(&j, name, &lk, now);
out:
    if (j.err[0]) {
        log_info("migrate of %s failed: %s", name, j.err);
        query_append_error(out, j.err);
    }
    if (have_res)
        duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&prep);
    PQclear(tables);
    link_close(&lk);
    job_end(&j, env);
}

/* ---- unlink ----------------------------------------------------------- */

/*
 * Undoes link in PostgreSQL, in one transaction: removes the consumer and,
 * when no other consumer follows the schema, its triggers and log rows, and
 * when no schema is followed any more, the whole audit schema and the event
 * trigger. Trigger names come from PostgreSQL quoted (quote_ident), never
 * from the request.
 */
static int unlink_pg(Job *j, const Link *lk)
{
    const char *p_consumer[] = {lk->consumer}, *p_schema[] = {lk->schema};
    PGresult *r = NULL;
    Buf sql = {0};
    int rc = -1;
    if (pg_exec(j, "BEGIN") != 0)
        goto out;
    int have_audit =
        pg_rows(j, "SELECT 1 WHERE to_regclass('tcpduckdb_audit.consumers') IS NOT NULL", 0, NULL);
    if (have_audit < 0)
        goto out;
    if (have_audit == 0) {
        rc = pg_exec(j, "COMMIT"); /* removed by hand already */
        goto out;
    }
    if (pg_rows(j, "DELETE FROM tcpduckdb_audit.consumers WHERE consumer = $1", 1, p_consumer) < 0)
        goto out;
    int schema_followed =
        pg_rows(j, "SELECT 1 FROM tcpduckdb_audit.consumers WHERE schema_name = $1", 1, p_schema);
    if (schema_followed < 0)
        goto out;
    if (schema_followed == 0) {
        r = pg_query(j,
                     "SELECT DISTINCT format('%I.%I', n.nspname, c.relname) FROM pg_trigger t "
                     "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = "
                     "c.relnamespace WHERE n.nspname = $1 AND t.tgname IN "
                     "('tcpduckdb_audit_row', 'tcpduckdb_audit_truncate')",
                     1, p_schema);
        if (!r)
            goto out;
        for (int i = 0; i < PQntuples(r); i++) {
            sql.len = 0;
            buf_printf(&sql,
                       "DROP TRIGGER IF EXISTS tcpduckdb_audit_row ON %s;"
                       "DROP TRIGGER IF EXISTS tcpduckdb_audit_truncate ON %s",
                       PQgetvalue(r, i, 0), PQgetvalue(r, i, 0));
            if (pg_exec(j, buf_cstr(&sql)) != 0)
                goto out;
        }
        if (pg_rows(j, "DELETE FROM tcpduckdb_audit.linked_schemas WHERE schema_name = $1", 1,
                    p_schema) < 0 ||
            pg_rows(j, "DELETE FROM tcpduckdb_audit.log WHERE schema_name = $1", 1, p_schema) < 0)
            goto out;
    }
    int any_followed = pg_rows(j, "SELECT 1 FROM tcpduckdb_audit.linked_schemas", 0, NULL);
    if (any_followed < 0)
        goto out;
    if (any_followed == 0 && pg_exec(j, "DROP EVENT TRIGGER IF EXISTS tcpduckdb_audit_create;"
                                        "DROP SCHEMA tcpduckdb_audit CASCADE") != 0)
        goto out;
    rc = pg_exec(j, "COMMIT");
out:
    PQclear(r);
    buf_free(&sql);
    if (rc != 0)
        pg_rollback(j);
    return rc;
}

void pglink_cmd_unlink(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    Job j = {0};
    Link lk = {0};
    if (!require_super(s, out))
        return;
    bool force = w->n == 3 && request_word_is(w->word[2], "force");
    if (w->n != 2 && !force) {
        reply_bad_request(out, "usage: unlink DATABASE [force]");
        return;
    }
    const char *name = w->word[1];
    if (link_open(&j, env, name, false, &lk, out) != 0)
        goto out;
    /* PostgreSQL first: if it fails, the link stays whole and unlink can be
     * retried. `force` forgets the link here even so (a PostgreSQL that is
     * gone for good); its audit objects are then left behind. */
    bool pg_done = lk.have_state && pg_connect(&j, lk.dsn) == 0 && unlink_pg(&j, &lk) == 0;
    if (!pg_done && !force) {
        if (!lk.have_state)
            fail(&j,
                 "Bad Request: database %s has no valid " STATE_TABLE
                 " table, so its PostgreSQL side is unknown: use unlink %s force",
                 name, name);
        goto out;
    }
    if (!pg_done)
        log_warn("unlink of %s: forced; PostgreSQL's audit objects were not removed: %s", name,
                 j.err[0] ? j.err : "no link state");
    j.err[0] = '\0';
    if (duck_exec(&j, "DROP TABLE IF EXISTS " STATE_TABLE) != 0)
        goto out;
    pool_db_schema_bump(j.db);
    if (catalog_pglink_delete(env->catalog, lk.db_id) != CATALOG_OK) {
        fail(&j, "Internal Error");
        goto out;
    }
    log_info("database %s unlinked from PostgreSQL%s", name,
             pg_done ? "" : " (forced: audit objects left in PostgreSQL)");
    reply_success(out);
out:
    if (j.err[0]) {
        log_info("unlink of %s failed: %s", name, j.err);
        query_append_error(out, j.err);
    }
    link_close(&lk);
    job_end(&j, env);
}
