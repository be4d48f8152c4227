/*
 * pgwire_extended: the extended query protocol of one connection. See
 * pgwire_extended.h; statements run through pgwire_session.c
 * (pgwire_session_int.h).
 */
#include "pgwire_extended.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "pgwire_catalog.h"
#include "pgwire_rewrite.h"
#include "pgwire_session_int.h"
#include "pgwire_settings.h"
#include "sqllex.h"
#include "xalloc.h"

/* Prepared statements and portals one connection may hold at once. */
#define MAX_STATEMENTS 1000
/* What one connection's prepared statements and portals may hold at once, in bytes: their
 * texts, bound parameters, and the rows row-limited portals hold back for later Executes. */
#define KEPT_MAX (64 * 1024 * 1024)

typedef struct PgStatement PgStatement;
struct PgStatement {
    char *name;
    char *sql;
    uint32_t *param_oids; /* declared by Parse (0: unspecified) */
    int nparams;
    size_t bytes; /* counted in PgExtended.kept */
    PgStatement *next;
};

typedef struct PgPortal PgPortal;
struct PgPortal {
    char *name;
    char *sql;
    TypedRequest params; /* bound by Bind; sql unused */
    int16_t *formats;    /* result format codes */
    int nformats;
    /* A row-limited Execute: the DataRows not sent yet, and the tag at the end. */
    Buf held;
    size_t held_pos;
    bool suspended;
    char tag[64];
    size_t bytes; /* counted in PgExtended.kept: parameters and held rows */
    bool running; /* its Execute is under way: DISCARD ALL leaves it */
    PgPortal *next;
};

struct PgExtended {
    PgStatement *stmts;
    PgPortal *portals;
    int nstmts, nportals;
    size_t kept;       /* bytes of statements and portals, at most KEPT_MAX */
    bool skip_to_sync; /* an error: messages up to Sync are dropped */
};

PgExtended *pgext_new(void)
{
    return xcalloc(1, sizeof(PgExtended));
}

static void statement_free(PgStatement *st)
{
    if (!st)
        return;
    free(st->name);
    free(st->sql);
    free(st->param_oids);
    free(st);
}

static void portal_free(PgPortal *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->sql);
    params_free(&p->params);
    free(p->formats);
    buf_free(&p->held);
    free(p);
}

void pgext_free(PgExtended *x)
{
    if (!x)
        return;
    while (x->stmts) {
        PgStatement *n = x->stmts->next;
        statement_free(x->stmts);
        x->stmts = n;
    }
    while (x->portals) {
        PgPortal *n = x->portals->next;
        portal_free(x->portals);
        x->portals = n;
    }
    free(x);
}

bool pgext_skipping(const PgExtended *x)
{
    return x->skip_to_sync;
}

static PgStatement *statement_find(PgExtended *x, const char *name)
{
    for (PgStatement *st = x->stmts; st; st = st->next)
        if (strcmp(st->name, name) == 0)
            return st;
    return NULL;
}

static PgPortal *portal_find(PgExtended *x, const char *name)
{
    for (PgPortal *p = x->portals; p; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static void statement_drop(PgExtended *x, const char *name)
{
    for (PgStatement **pp = &x->stmts; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->name, name) == 0) {
            PgStatement *st = *pp;
            *pp = st->next;
            x->kept -= st->bytes;
            statement_free(st);
            x->nstmts--;
            return;
        }
    }
}

static void portal_drop(PgExtended *x, const char *name)
{
    for (PgPortal **pp = &x->portals; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->name, name) == 0) {
            PgPortal *p = *pp;
            *pp = p->next;
            x->kept -= p->bytes;
            portal_free(p);
            x->nportals--;
            return;
        }
    }
}

bool pgext_deallocate(PgExtended *x, const char *name)
{
    if (name) {
        if (!statement_find(x, name))
            return false;
        statement_drop(x, name);
        return true;
    }
    while (x->stmts)
        statement_drop(x, x->stmts->name);
    return true;
}

void pgext_discard(PgExtended *x)
{
    pgext_deallocate(x, NULL);
    for (PgPortal **pp = &x->portals; *pp;) {
        PgPortal *p = *pp;
        if (p->running) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        x->kept -= p->bytes;
        portal_free(p);
        x->nportals--;
    }
}

/* An error in the extended protocol: answered, then everything up to Sync is dropped. */
static void ext_error(PgExtended *x, PgSession *ps, Session *s, Buf *out, const char *sqlstate,
                      const char *msg)
{
    pgsess_refuse(ps, s, out, sqlstate, msg);
    x->skip_to_sync = true;
}

static void msg_parse(PgExtended *x, PgSession *ps, Session *s, const PgMsg *m, Buf *out)
{
    PgIn in = pgwire_in(m);
    const char *name = pgwire_get_str(&in);
    const char *sql = pgwire_get_str(&in);
    int n = pgwire_get_i16(&in);
    if (in.bad || n < 0 || n > PARAMS_MAX || in.left < (size_t)n * 4) {
        ext_error(x, ps, s, out, "08P01", "malformed Parse message");
        return;
    }
    if (name[0] && statement_find(x, name)) {
        ext_error(x, ps, s, out, "42P05", "prepared statement already exists");
        return;
    }
    if (x->nstmts >= MAX_STATEMENTS && !(name[0] == '\0' && statement_find(x, ""))) {
        ext_error(x, ps, s, out, "53400", "too many prepared statements: close some");
        return;
    }
    if (name[0] == '\0')
        statement_drop(x, ""); /* an unnamed one is replaced */
    if (x->kept + strlen(sql) + (size_t)n * 4 > KEPT_MAX) {
        ext_error(x, ps, s, out, "53400",
                  "the connection's prepared statements and portals hold 64 MiB: close some");
        return;
    }
    PgStatement *st = xcalloc(1, sizeof(*st));
    st->name = xstrdup(name);
    st->sql = pgrw_client_text(sql, strlen(sql));
    st->nparams = n;
    st->param_oids = xcalloc(n ? (size_t)n : 1, sizeof(*st->param_oids));
    for (int i = 0; i < n; i++)
        st->param_oids[i] = (uint32_t)pgwire_get_i32(&in);
    st->bytes = strlen(st->sql) + (size_t)n * 4;
    x->kept += st->bytes;
    st->next = x->stmts;
    x->stmts = st;
    x->nstmts++;
    pgwire_empty(out, '1');
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

static uint32_t be32(const char *p)
{
    return (uint32_t)(unsigned char)p[0] << 24 | (uint32_t)(unsigned char)p[1] << 16 |
           (uint32_t)(unsigned char)p[2] << 8 | (unsigned char)p[3];
}

static int16_t be16(const char *p)
{
    return (int16_t)((uint16_t)(unsigned char)p[0] << 8 | (unsigned char)p[1]);
}

/* Days since 2000-01-01 (PostgreSQL's epoch) as an ISO date, BC as DuckDB reads it. */
static void put_date(Buf *out, int64_t days)
{
    /* The civil date of a day count (H. Hinnant's days_from_civil, inverted). */
    int64_t z = days + 10957 + 719468; /* from 1970-01-01, then from 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    if (y <= 0)
        buf_printf(out, "%04lld-%02lld-%02lld (BC)", (long long)(1 - y), (long long)m,
                   (long long)d);
    else
        buf_printf(out, "%04lld-%02lld-%02lld", (long long)y, (long long)m, (long long)d);
}

/* PostgreSQL's numeric send format (base-10000 digits) as decimal text. */
static bool numeric_text(const char *p, int32_t len, Buf *out)
{
    if (len < 8)
        return false;
    int ndigits = be16(p), weight = be16(p + 2), dscale = be16(p + 6);
    uint16_t sign = (uint16_t)be16(p + 4);
    if (ndigits < 0 || dscale < 0 || len != 8 + 2 * ndigits)
        return false;
    if (sign == 0xC000) {
        buf_append_str(out, "NaN");
        return true;
    }
    if (sign == 0xD000 || sign == 0xF000) {
        buf_append_str(out, sign == 0xD000 ? "Infinity" : "-Infinity");
        return true;
    }
    if (sign != 0 && sign != 0x4000)
        return false;
    if (sign == 0x4000)
        buf_putc(out, '-');
    /* Integer part: the digit groups of weight >= 0. */
    if (weight < 0) {
        buf_putc(out, '0');
    } else {
        for (int g = 0; g <= weight; g++) {
            int v = g < ndigits ? be16(p + 8 + 2 * g) : 0;
            if (v < 0 || v > 9999)
                return false;
            buf_printf(out, g == 0 ? "%d" : "%04d", v);
        }
    }
    if (dscale > 0) {
        Buf frac = BUF_INIT;
        for (int g = weight + 1; (int)frac.len < dscale; g++) {
            int v = g >= 0 && g < ndigits ? be16(p + 8 + 2 * g) : 0;
            if (v < 0 || v > 9999) {
                buf_free(&frac);
                return false;
            }
            buf_printf(&frac, "%04d", v);
        }
        buf_putc(out, '.');
        buf_append(out, frac.data, (size_t)dscale);
        buf_free(&frac);
    }
    return true;
}

/*
 * A binary parameter of a type DuckDB reads from text (date, timestamp,
 * timestamptz, uuid, numeric) as that text; false when it cannot be read.
 */
static bool binary_as_text(uint32_t oid, const char *p, int32_t len, Buf *out)
{
    switch (oid) {
    case 1082: { /* date: days since 2000-01-01 */
        if (len != 4)
            return false;
        int32_t days = (int32_t)be32(p);
        if (days == INT32_MAX || days == INT32_MIN)
            buf_append_str(out, days == INT32_MAX ? "infinity" : "-infinity");
        else
            put_date(out, days);
        return true;
    }
    case 1114:   /* timestamp */
    case 1184: { /* timestamptz: microseconds since 2000-01-01 (UTC) */
        if (len != 8)
            return false;
        int64_t us = (int64_t)be64(p);
        if (us == INT64_MAX || us == INT64_MIN) {
            buf_append_str(out, us == INT64_MAX ? "infinity" : "-infinity");
            return true;
        }
        int64_t day = us / 86400000000LL, rest = us % 86400000000LL;
        if (rest < 0) {
            rest += 86400000000LL;
            day--;
        }
        Buf date = BUF_INIT;
        put_date(&date, day);
        /* "YYYY-MM-DD (BC)" puts the era after the time */
        bool bc = date.len > 5 && memcmp(date.data + date.len - 5, " (BC)", 5) == 0;
        buf_append(out, date.data, bc ? date.len - 5 : date.len);
        buf_free(&date);
        buf_printf(out, " %02lld:%02lld:%02lld.%06lld", (long long)(rest / 3600000000LL),
                   (long long)(rest / 60000000LL % 60), (long long)(rest / 1000000 % 60),
                   (long long)(rest % 1000000));
        if (oid == 1184)
            buf_append_str(out, "+00");
        if (bc)
            buf_append_str(out, " (BC)");
        return true;
    }
    case 2950: /* uuid */
        if (len != 16)
            return false;
        for (int i = 0; i < 16; i++)
            buf_printf(out, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "",
                       (unsigned char)p[i]);
        return true;
    case 1700:
        return numeric_text(p, len, out);
    default:
        return false;
    }
}

/* One binary parameter by its declared type; false when it cannot be read. */
static bool binary_param(uint32_t oid, const char *p, int32_t len, Param *out)
{
    switch (oid) {
    case 16:
        if (len != 1)
            return false;
        out->kind = PARAM_BOOL;
        out->b = p[0] != 0;
        return true;
    case 21:
        if (len != 2)
            return false;
        out->kind = PARAM_INT;
        out->i = (int16_t)((uint16_t)(unsigned char)p[0] << 8 | (unsigned char)p[1]);
        return true;
    case 23:
        if (len != 4)
            return false;
        out->kind = PARAM_INT;
        out->i =
            (int32_t)((uint32_t)(unsigned char)p[0] << 24 | (uint32_t)(unsigned char)p[1] << 16 |
                      (uint32_t)(unsigned char)p[2] << 8 | (unsigned char)p[3]);
        return true;
    case 20:
        if (len != 8)
            return false;
        out->kind = PARAM_INT;
        out->i = (int64_t)be64(p);
        return true;
    case 700: {
        if (len != 4)
            return false;
        uint32_t u = (uint32_t)(unsigned char)p[0] << 24 | (uint32_t)(unsigned char)p[1] << 16 |
                     (uint32_t)(unsigned char)p[2] << 8 | (unsigned char)p[3];
        float f;
        memcpy(&f, &u, 4);
        out->kind = PARAM_DOUBLE;
        out->d = f;
        return true;
    }
    case 701: {
        if (len != 8)
            return false;
        uint64_t u = be64(p);
        double d;
        memcpy(&d, &u, 8);
        out->kind = PARAM_DOUBLE;
        out->d = d;
        return true;
    }
    case 0:
        /* Bytes of a type left to the server: node-postgres sends a Buffer so, for bytea. */
    case 17:
        out->kind = PARAM_BLOB;
        out->bytes = xmalloc((size_t)len + 1);
        memcpy(out->bytes, p, (size_t)len);
        out->bytes[len] = '\0';
        out->len = (size_t)len;
        return true;
    case 25:
    case 1043:
    case 114:
        out->kind = PARAM_TEXT;
        out->bytes = xstrndup(p, (size_t)len);
        out->len = strlen(out->bytes);
        return true;
    default: {
        /* Types DuckDB takes as text and casts to the parameter's type. */
        Buf text = BUF_INIT;
        bool ok = binary_as_text(oid, p, len, &text);
        if (ok) {
            out->kind = PARAM_TEXT;
            out->bytes = xstrndup(text.data ? text.data : "", text.len);
            out->len = text.len;
        }
        buf_free(&text);
        return ok;
    }
    }
}

static void msg_bind(PgExtended *x, PgSession *ps, Session *s, const PgMsg *m, Buf *out)
{
    PgIn in = pgwire_in(m);
    const char *pname = pgwire_get_str(&in);
    const char *sname = pgwire_get_str(&in);
    int nfmt = pgwire_get_i16(&in);
    if (in.bad || nfmt < 0 || in.left < (size_t)nfmt * 2) {
        ext_error(x, ps, s, out, "08P01", "malformed Bind message");
        return;
    }
    PgStatement *st = statement_find(x, sname);
    if (!st) {
        ext_error(x, ps, s, out, "26000", "prepared statement does not exist");
        return;
    }
    if (pname[0] && portal_find(x, pname)) {
        ext_error(x, ps, s, out, "42P03", "portal already exists");
        return;
    }
    if (x->nportals >= MAX_STATEMENTS && pname[0]) {
        ext_error(x, ps, s, out, "53400", "too many portals: close some");
        return;
    }
    const char *fmts = pgwire_get_bytes(&in, (size_t)nfmt * 2);
    int np = pgwire_get_i16(&in);
    if (in.bad || np < 0 || (nfmt > 1 && nfmt != np)) {
        ext_error(x, ps, s, out, "08P01", "malformed Bind message");
        return;
    }
    if (np != st->nparams && st->nparams > 0) {
        ext_error(x, ps, s, out, "08P01", "Bind has a different number of parameters than Parse");
        return;
    }
    PgPortal *p = xcalloc(1, sizeof(*p));
    p->params.has_params = true;
    p->params.nparams = (size_t)np;
    p->params.params = xcalloc(np ? (size_t)np : 1, sizeof(Param));
    for (int i = 0; i < np; i++) {
        int32_t len = pgwire_get_i32(&in);
        Param *prm = &p->params.params[i];
        if (len == -1) {
            prm->kind = PARAM_NULL;
            continue;
        }
        const char *bytes = len >= 0 ? pgwire_get_bytes(&in, (size_t)len) : NULL;
        if (!bytes) {
            portal_free(p);
            ext_error(x, ps, s, out, "08P01", "malformed Bind message");
            return;
        }
        const char *code = nfmt == 0 ? NULL : nfmt == 1 ? fmts : fmts + 2 * i;
        int fmt = code ? (int16_t)((uint16_t)(uint8_t)code[0] << 8 | (uint8_t)code[1]) : 0;
        if (fmt == 0) {
            if (memchr(bytes, '\0', (size_t)len)) {
                portal_free(p);
                ext_error(x, ps, s, out, "22021", "a text parameter holds a NUL byte");
                return;
            }
            uint32_t oid = i < st->nparams ? st->param_oids[i] : 0;
            if (oid == 17 && pgwire_bytea_hex(bytes, (size_t)len)) {
                /* bytea in its text form: the bytes, not the text */
                prm->kind = PARAM_BLOB;
                prm->len = ((size_t)len - 2) / 2;
                prm->bytes = xmalloc(prm->len + 1);
                for (size_t k = 0; k < prm->len; k++)
                    prm->bytes[k] = (char)(pgwire_hex_digit(bytes[2 + 2 * k]) << 4 |
                                           pgwire_hex_digit(bytes[3 + 2 * k]));
                continue;
            }
            prm->kind = PARAM_TEXT;
            prm->bytes = xstrndup(bytes, (size_t)len);
            prm->len = (size_t)len;
            prm->untyped = oid == 0; /* PostgreSQL's `unknown` (query_run) */
            Buf list = BUF_INIT;
            if (bytes[0] == '{' && pgwire_array_to_list(bytes, (size_t)len, &list)) {
                prm->list = xstrndup(list.data, list.len);
                prm->list_len = list.len;
            }
            buf_free(&list);
            continue;
        }
        uint32_t oid = i < st->nparams ? st->param_oids[i] : 0;
        if (fmt != 1 || !binary_param(oid, bytes, len, prm)) {
            portal_free(p);
            ext_error(x, ps, s, out, "0A000",
                      "binary parameters are supported for bool, int2/4/8, float4/8, numeric, "
                      "bytea, text, date, timestamp, timestamptz and uuid declared in Parse only");
            return;
        }
    }
    int nres = pgwire_get_i16(&in);
    const char *res = nres > 0 ? pgwire_get_bytes(&in, (size_t)nres * 2) : NULL;
    if (in.bad || nres < 0 || (nres > 0 && !res)) {
        portal_free(p);
        ext_error(x, ps, s, out, "08P01", "malformed Bind message");
        return;
    }
    p->nformats = nres;
    p->formats = xcalloc(nres ? (size_t)nres : 1, sizeof(int16_t));
    for (int i = 0; i < nres; i++)
        p->formats[i] = (int16_t)((uint16_t)(uint8_t)res[2 * i] << 8 | (uint8_t)res[2 * i + 1]);
    portal_drop(x, pname);
    p->bytes = strlen(st->sql);
    for (int i = 0; i < np; i++)
        p->bytes += p->params.params[i].len;
    if (x->kept + p->bytes > KEPT_MAX) {
        portal_free(p);
        ext_error(x, ps, s, out, "53400",
                  "the connection's prepared statements and portals hold 64 MiB: close some");
        return;
    }
    x->kept += p->bytes;
    p->name = xstrdup(pname);
    p->sql = xstrdup(st->sql);
    p->next = x->portals;
    x->portals = p;
    x->nportals++;
    pgwire_empty(out, '2');
}

/* What Describe learns from DuckDB's prepare. */
typedef struct Described {
    PgSession *ps;
    const PgStatement *st; /* for Describe of a statement: its ParameterDescription */
    const int16_t *formats;
    int nformats;
    Buf *out;
    bool failed;
    char err[256];
    /* Where in `out` a RowDescription of columns DuckDB could not type starts, or -1. */
    long untyped_at;
} Described;

static void describe_prepared(void *ctx, duckdb_prepared_statement prep)
{
    Described *d = ctx;
    Buf *out = d->out;
    if (d->st) {
        idx_t np = duckdb_nparams(prep);
        size_t m = pgwire_begin(out, 't');
        pgwire_put_i16(out, (int16_t)np);
        for (idx_t i = 0; i < np; i++) {
            uint32_t oid = (int)i < d->st->nparams ? d->st->param_oids[i] : 0;
            if (oid == 0) {
                duckdb_logical_type t = duckdb_param_logical_type(prep, i + 1);
                PgType pt = t ? pgwire_type(t) : (PgType){25, -1, -1};
                if (t)
                    duckdb_destroy_logical_type(&t);
                oid = pt.oid ? pt.oid : 25;
            }
            pgwire_put_i32(out, (int32_t)oid);
        }
        pgwire_end(out, m);
    }
    duckdb_statement_type type = duckdb_prepared_statement_type(prep);
    idx_t nc = duckdb_prepared_statement_column_count(prep);
    char *first = nc == 1 ? (char *)duckdb_prepared_statement_column_name(prep, 0) : NULL;
    bool count_only = first && strcmp(first, "Count") == 0;
    duckdb_free(first);
    bool changes = type == DUCKDB_STATEMENT_TYPE_INSERT || type == DUCKDB_STATEMENT_TYPE_UPDATE ||
                   type == DUCKDB_STATEMENT_TYPE_DELETE;
    bool rows = type == DUCKDB_STATEMENT_TYPE_SELECT || type == DUCKDB_STATEMENT_TYPE_EXPLAIN ||
                type == DUCKDB_STATEMENT_TYPE_PRAGMA || type == DUCKDB_STATEMENT_TYPE_CALL ||
                type == DUCKDB_STATEMENT_TYPE_EXECUTE || (changes && !count_only);
    if (!rows || nc == 0) {
        pgwire_empty(out, 'n');
        return;
    }
    /* A statement whose parameters DuckDB could not type has one column of no type
     * (DuckDB names it `unknown`) whatever it selects: msg_describe asks again. */
    if (nc == 1) {
        duckdb_logical_type t = duckdb_prepared_statement_column_logical_type(prep, 0);
        if (!t || duckdb_get_type_id(t) == DUCKDB_TYPE_INVALID)
            d->untyped_at = (long)out->len;
        if (t)
            duckdb_destroy_logical_type(&t);
    }
    size_t m = pgwire_begin(out, 'T');
    pgwire_put_i16(out, (int16_t)nc);
    for (idx_t c = 0; c < nc; c++) {
        duckdb_logical_type t = duckdb_prepared_statement_column_logical_type(prep, c);
        PgType pt = pgwire_type(t);
        duckdb_destroy_logical_type(&t);
        int16_t fmt = pgsess_format_of(d->formats, d->nformats, c);
        char *name = (char *)duckdb_prepared_statement_column_name(prep, c);
        pgwire_put_str(out, name ? name : "?column?");
        duckdb_free(name);
        pgwire_put_i32(out, 0);
        pgwire_put_i16(out, 0);
        pgwire_put_i32(out, (int32_t)(pt.oid ? pt.oid : 25));
        pgwire_put_i16(out, pt.len);
        pgwire_put_i32(out, pt.typmod);
        pgwire_put_i16(out, fmt);
    }
    pgwire_end(out, m);
}

/* `sql` with each parameter written CAST(<param> AS VARCHAR), into `b`. */
static void params_as_varchar(const char *sql, Buf *b)
{
    SqlLexer lx;
    SqlToken t;
    size_t copied = 0, len = strlen(sql);
    sqllex_init(&lx, sql, len, 0);
    while (sqllex_next(&lx, &t) > 0) {
        if (t.kind != SQLLEX_PARAM)
            continue;
        buf_append(b, sql + copied, t.offset - copied);
        buf_append_str(b, "CAST(");
        buf_append(b, sql + t.offset, t.length);
        buf_append_str(b, " AS VARCHAR)");
        copied = t.offset + t.length;
    }
    buf_append(b, sql + copied, len - copied);
}

/*
 * DuckDB 1.5.6 types a statement's columns only once its parameters are
 * typed: it describes `SELECT $1 AS c, 2 AS d` as one column `unknown`, and
 * a client that trusts the description (postgres.js reads a statement's,
 * node-postgres a portal's) would read two values per row against it. Text
 * parameters are bound as VARCHAR (query_run), so the columns are those of
 * the statement with each parameter cast to VARCHAR: that description
 * replaces DuckDB's, unless DuckDB refuses it (then DuckDB's stays; the
 * errors of the attempt are dropped).
 */
static void describe_untyped(Session *s, const SessionEnv *env, const char *sql, Described *d)
{
    Buf cast = BUF_INIT, rows = BUF_INIT, quiet = BUF_INIT;
    params_as_varchar(sql, &cast);
    Described again = {.ps = d->ps,
                       .out = &rows,
                       .formats = d->formats,
                       .nformats = d->nformats,
                       .untyped_at = -1};
    if (session_describe_sql(s, env, buf_cstr(&cast), describe_prepared, &again, &quiet) == 0 &&
        again.untyped_at < 0 && rows.len > 0) {
        d->out->len = (size_t)d->untyped_at;
        buf_append(d->out, rows.data, rows.len);
    }
    buf_free(&cast);
    buf_free(&rows);
    buf_free(&quiet);
}

static void msg_describe(PgExtended *x, PgSession *ps, Session *s, const SessionEnv *env,
                         const PgMsg *m, Buf *out)
{
    PgIn in = pgwire_in(m);
    char what = (char)pgwire_get_u8(&in);
    const char *name = pgwire_get_str(&in);
    if (in.bad || (what != 'S' && what != 'P')) {
        ext_error(x, ps, s, out, "08P01", "malformed Describe message");
        return;
    }
    PgStatement *st = what == 'S' ? statement_find(x, name) : NULL;
    PgPortal *p = what == 'P' ? portal_find(x, name) : NULL;
    if (!st && !p) {
        ext_error(x, ps, s, out, what == 'S' ? "26000" : "34000",
                  what == 'S' ? "prepared statement does not exist" : "portal does not exist");
        return;
    }
    const char *sql = st ? st->sql : p->sql;
    if (pgcat_is_catalog_query(sql, strlen(sql))) {
        /* The front end's answer (pgwire_catalog.h): the declared parameters, text columns. */
        if (st) {
            size_t mm = pgwire_begin(out, 't');
            pgwire_put_i16(out, (int16_t)st->nparams);
            for (int i = 0; i < st->nparams; i++)
                pgwire_put_i32(out, (int32_t)(st->param_oids[i] ? st->param_oids[i] : 25));
            pgwire_end(out, mm);
        }
        if (!pgcat_answer(s, env, sql, p ? &p->params : NULL, PGCAT_DESCRIPTION, out)) {
            x->skip_to_sync = true;
            pgsess_fail_block(ps, s);
        }
        return;
    }
    if (p && p->nformats > 1) {
        /* checked against the columns below */
    }
    StmtKind kind = pgsess_classify(sql, strlen(sql));
    if (kind != KIND_SQL) {
        if (st) {
            size_t mm = pgwire_begin(out, 't');
            pgwire_put_i16(out, 0);
            pgwire_end(out, mm);
        }
        if (kind == KIND_SHOW || kind == KIND_SETTING_FN) {
            char buf[64];
            const char *col = pgset_show_column(sql, strlen(sql), buf);
            pgwire_text_row_description(out, &col, 1);
        } else {
            pgwire_empty(out, 'n');
        }
        return;
    }
    if (pgsess_block_failed(ps)) {
        ext_error(x, ps, s, out, "25P02",
                  "current transaction is aborted, commands ignored until end of transaction "
                  "block");
        return;
    }
    Described d = {.ps = ps, .st = st, .out = out, .untyped_at = -1};
    if (p) {
        d.formats = p->formats;
        d.nformats = p->nformats;
    }
    if (session_describe_sql(s, env, sql, describe_prepared, &d, pgsess_errors(ps)) != 0) {
        pgsess_send_errors(ps, s, out);
        x->skip_to_sync = true;
        return;
    }
    if (d.untyped_at >= 0)
        describe_untyped(s, env, sql, &d);
}

/* Sends up to `max_rows` held DataRows of a suspended portal (0: all). */
static void resume_portal(PgExtended *x, PgPortal *p, int32_t max_rows, Buf *out)
{
    int64_t sent = 0;
    while (p->held_pos < p->held.len && (max_rows <= 0 || sent < max_rows)) {
        const char *q = p->held.data + p->held_pos;
        uint32_t len = (uint32_t)(unsigned char)q[1] << 24 | (uint32_t)(unsigned char)q[2] << 16 |
                       (uint32_t)(unsigned char)q[3] << 8 | (unsigned char)q[4];
        buf_append(out, q, (size_t)len + 1);
        p->held_pos += (size_t)len + 1;
        sent++;
    }
    if (p->held_pos < p->held.len) {
        pgwire_empty(out, 's');
        return;
    }
    x->kept -= p->held.len;
    p->bytes -= p->held.len;
    buf_free(&p->held);
    p->held_pos = 0;
    p->suspended = false;
    pgwire_command_complete(out, p->tag);
}

/*
 * True when the messages buffered after the current one hold another
 * Execute before the next Sync, or no Sync yet: then the Execute opens the
 * implicit transaction that Sync ends. An Execute alone before its Sync
 * (what drivers send for one statement) runs as it would in autocommit,
 * which is the same outcome without a BEGIN and COMMIT around it. Only
 * looks: nothing is consumed.
 */
static bool execute_follows(PgSession *ps, const SessionEnv *env)
{
    PgReader look = *pgwire_session_reader(ps);
    size_t max = pgwire_session_limit(ps, env->cfg);
    for (;;) {
        PgMsg m;
        if (pgwire_next(&look, false, max, &m) != PGWIRE_MSG)
            return true; /* the Sync is not here yet */
        if (m.type == 'S')
            return false;
        if (m.type == 'E' || m.type == 'Q')
            return true;
    }
}

static bool msg_execute(PgExtended *x, PgSession *ps, Session *s, const SessionEnv *env,
                        const PgMsg *m, QueryIo *io)
{
    Buf *out = io->out;
    PgIn in = pgwire_in(m);
    const char *name = pgwire_get_str(&in);
    int32_t max_rows = pgwire_get_i32(&in);
    if (in.bad) {
        ext_error(x, ps, s, out, "08P01", "malformed Execute message");
        return true;
    }
    PgPortal *p = portal_find(x, name);
    if (!p) {
        ext_error(x, ps, s, out, "34000", "portal does not exist");
        return true;
    }
    if (p->suspended) {
        resume_portal(x, p, max_rows, out);
        return true;
    }
    StmtKind kind = pgsess_classify(p->sql, strlen(p->sql));
    if (!s->in_tx && kind == KIND_SQL && execute_follows(ps, env)) {
        /* The Executes up to Sync are one transaction, as in PostgreSQL. */
        if (!pgsess_implicit_begin(ps, s, env)) {
            pgsess_send_errors(ps, s, out);
            x->skip_to_sync = true;
            return true;
        }
    }
    PgFormat f = {.formats = p->formats,
                  .nformats = p->nformats,
                  .max_rows = max_rows > 0 ? max_rows : 0,
                  .held = &p->held,
                  .room = KEPT_MAX - x->kept};
    p->running = true;
    RunResult r = pgsess_run_statement(ps, s, env, kind, p->sql,
                                       p->params.has_params ? &p->params : NULL, &f, io);
    p->running = false;
    if (r == RUN_OK && f.completed && f.max_rows > 0 && f.rows > f.max_rows && !f.held_overflow) {
        snprintf(p->tag, sizeof(p->tag), "%s", f.tag);
        x->kept += p->held.len;
        p->bytes += p->held.len;
        p->suspended = true;
        p->held_pos = 0;
        pgwire_empty(out, 's');
    } else {
        buf_free(&p->held);
    }
    pgsess_format_free(&f);
    /* Any ErrorResponse in the extended protocol skips to Sync. */
    if (r == RUN_ERROR)
        x->skip_to_sync = true;
    return r != RUN_GONE;
}

static void msg_close(PgExtended *x, PgSession *ps, Session *s, const PgMsg *m, Buf *out)
{
    PgIn in = pgwire_in(m);
    char what = (char)pgwire_get_u8(&in);
    const char *name = pgwire_get_str(&in);
    if (in.bad || (what != 'S' && what != 'P')) {
        ext_error(x, ps, s, out, "08P01", "malformed Close message");
        return;
    }
    if (what == 'S')
        statement_drop(x, name);
    else
        portal_drop(x, name);
    pgwire_empty(out, '3');
}

bool pgext_message(PgExtended *x, PgSession *ps, Session *s, const SessionEnv *env, const PgMsg *m,
                   QueryIo *io)
{
    switch (m->type) {
    case 'P':
        msg_parse(x, ps, s, m, io->out);
        return true;
    case 'B':
        msg_bind(x, ps, s, m, io->out);
        return true;
    case 'D':
        msg_describe(x, ps, s, env, m, io->out);
        return true;
    case 'E':
        return msg_execute(x, ps, s, env, m, io);
    case 'C':
        msg_close(x, ps, s, m, io->out);
        return true;
    default:
        return true;
    }
}

void pgext_sync(PgExtended *x, PgSession *ps, Session *s, const SessionEnv *env, QueryIo *io)
{
    x->skip_to_sync = false;
    pgsess_implicit_end(ps, s, env, io->out);
    pgwire_ready(io->out, pgsess_ready_status(ps, s));
}
