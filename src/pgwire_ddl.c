/*
 * pgwire_ddl: PostgreSQL DDL spellings translated for DuckDB. See
 * pgwire_ddl.h.
 */
#include "pgwire_ddl.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "sqllex.h"
#include "xalloc.h"

/* Statements with more tokens than this are left as they are (DDL is short). */
#define TOKENS_MAX 4096

typedef struct Toks {
    const char *sql;
    SqlToken *t;
    int n;
} Toks;

/* The tokens of `sql` without the trailing semicolons; false when it does not lex or is
 * too long to be DDL worth translating. */
static bool toks_read(const char *sql, size_t len, Toks *out)
{
    SqlLexer lx;
    SqlToken t;
    int cap = 0, r;
    out->sql = sql;
    out->t = NULL;
    out->n = 0;
    sqllex_init(&lx, sql, len, 0);
    while ((r = sqllex_next(&lx, &t)) > 0) {
        if (t.kind == SQLLEX_SEMI)
            continue;
        if (out->n == TOKENS_MAX) {
            r = -1;
            break;
        }
        if (out->n == cap) {
            cap = cap ? 2 * cap : 64;
            out->t = xrealloc(out->t, (size_t)cap * sizeof(SqlToken));
        }
        out->t[out->n++] = t;
    }
    if (r < 0) {
        free(out->t);
        out->t = NULL;
        out->n = 0;
        return false;
    }
    return true;
}

static bool is(const Toks *k, int i, const char *lower)
{
    return i >= 0 && i < k->n && sqllex_is_word(k->sql, &k->t[i], lower);
}

static void put_range(Buf *b, const Toks *k, int from, int to)
{
    if (from > to)
        return;
    size_t start = k->t[from].offset;
    size_t end = k->t[to].offset + k->t[to].length;
    buf_append(b, k->sql + start, end - start);
}

/*
 * The names of a list `a, b.c, "d"` from token `i` on: their [start, end]
 * token ranges in `first`/`last` (room for `max`), and the token after the
 * list in *out_next. Returns how many, or -1 when the list is not plain names.
 */
static int name_list(const Toks *k, int i, int *first, int *last, int max, int *out_next)
{
    int n = 0;
    while (i < k->n) {
        int start = i;
        if (k->t[i].kind != SQLLEX_WORD && k->t[i].kind != SQLLEX_QUOTED)
            return -1;
        i++;
        while (i + 1 < k->n && k->t[i].kind == SQLLEX_DOT &&
               (k->t[i + 1].kind == SQLLEX_WORD || k->t[i + 1].kind == SQLLEX_QUOTED))
            i += 2;
        if (n == max)
            return -1;
        first[n] = start;
        last[n] = i - 1;
        n++;
        if (i < k->n && k->t[i].kind == SQLLEX_COMMA) {
            i++;
            continue;
        }
        break;
    }
    *out_next = i;
    return n;
}

#define NAMES_MAX 64

/* DROP kind [IF EXISTS] a, b [CASCADE|RESTRICT]: one DROP per name. */
static char *drop_each(const Toks *k)
{
    int i = 1;
    if (!(is(k, 1, "table") || is(k, 1, "view") || is(k, 1, "sequence") || is(k, 1, "index")))
        return NULL;
    i = 2;
    if (is(k, i, "if") && is(k, i + 1, "exists"))
        i += 2;
    int first[NAMES_MAX], last[NAMES_MAX], next = 0;
    int n = name_list(k, i, first, last, NAMES_MAX, &next);
    if (n < 2)
        return NULL;
    if (next < k->n - 1 ||
        (next == k->n - 1 && !is(k, next, "cascade") && !is(k, next, "restrict")))
        return NULL;
    Buf b = BUF_INIT;
    for (int j = 0; j < n; j++) {
        if (j > 0)
            buf_append_str(&b, "; ");
        put_range(&b, k, 0, i - 1);
        buf_putc(&b, ' ');
        put_range(&b, k, first[j], last[j]);
        if (next < k->n) {
            buf_putc(&b, ' ');
            put_range(&b, k, next, next);
        }
    }
    char *r = xstrndup(b.data, b.len);
    buf_free(&b);
    return r;
}

/* The end of TRUNCATE's list: [RESTART|CONTINUE IDENTITY] [CASCADE|RESTRICT]. */
typedef struct TruncateTail {
    bool restart, cascade;
} TruncateTail;

/* TRUNCATE's names, or -1 when the statement is not a plain TRUNCATE. */
static int truncate_names(const Toks *k, int *first, int *last, TruncateTail *tail)
{
    int i = 1;
    if (is(k, i, "table"))
        i++;
    if (is(k, i, "only"))
        i++;
    int next = 0;
    int n = name_list(k, i, first, last, NAMES_MAX, &next);
    if (n < 1)
        return -1;
    tail->restart = tail->cascade = false;
    if ((is(k, next, "restart") || is(k, next, "continue")) && is(k, next + 1, "identity")) {
        tail->restart = is(k, next, "restart");
        next += 2;
    }
    if (is(k, next, "cascade") || is(k, next, "restrict")) {
        tail->cascade = is(k, next, "cascade");
        next++;
    }
    return next == k->n ? n : -1;
}

/* TRUNCATE a, b (without RESTART IDENTITY or CASCADE): one TRUNCATE per name. */
static char *truncate_each(const Toks *k)
{
    int first[NAMES_MAX], last[NAMES_MAX];
    TruncateTail tail;
    int n = truncate_names(k, first, last, &tail);
    if (n < 1 || tail.restart || tail.cascade)
        return NULL;
    /* One table and nothing DuckDB does not read: as sent. */
    if (n == 1 && !is(k, 1, "only") && !is(k, 2, "only") && last[0] == k->n - 1)
        return NULL;
    Buf b = BUF_INIT;
    for (int j = 0; j < n; j++) {
        if (j > 0)
            buf_append_str(&b, "; ");
        buf_append_str(&b, "TRUNCATE ");
        put_range(&b, k, first[j], last[j]);
    }
    char *r = xstrndup(b.data, b.len);
    buf_free(&b);
    return r;
}

/* A storage parameter of PostgreSQL's heap or indexes that DuckDB's storage has no use for. */
static bool storage_hint(const Toks *k, int i)
{
    static const char *const exact[] = {"fillfactor", "parallel_workers", "toast_tuple_target",
                                        "user_catalog_table", "deduplicate_items"};
    if (i >= k->n || k->t[i].kind != SQLLEX_WORD)
        return false;
    for (size_t j = 0; j < sizeof(exact) / sizeof(exact[0]); j++)
        if (is(k, i, exact[j]))
            return true;
    const char *w = k->sql + k->t[i].offset;
    size_t n = k->t[i].length;
    return (n > 12 && strncasecmp(w, "autovacuum_", 11) == 0) ||
           (n > 6 && strncasecmp(w, "toast.", 6) == 0) ||
           (n > 6 && strncasecmp(w, "toast_", 6) == 0);
}

/* CREATE ... WITH (storage hints) at the end, or before AS: the WITH dropped. */
static char *create_without_storage_hints(const Toks *k)
{
    int depth = 0;
    for (int i = 1; i < k->n; i++) {
        if (k->t[i].kind == SQLLEX_OPEN)
            depth++;
        else if (k->t[i].kind == SQLLEX_CLOSE)
            depth--;
        if (depth != 0 || !is(k, i, "with") || i + 1 >= k->n || k->t[i + 1].kind != SQLLEX_OPEN)
            continue;
        /* (name = value, ...) with every name a storage hint */
        int j = i + 2;
        for (;;) {
            if (!storage_hint(k, j))
                return NULL;
            j++;
            if (j < k->n && k->t[j].kind == SQLLEX_OP && k->t[j].length == 1 &&
                k->sql[k->t[j].offset] == '=')
                j += 2; /* = value */
            if (j < k->n && k->t[j].kind == SQLLEX_COMMA) {
                j++;
                continue;
            }
            break;
        }
        if (j >= k->n || k->t[j].kind != SQLLEX_CLOSE)
            return NULL;
        if (j + 1 < k->n && !is(k, j + 1, "as") && !is(k, j + 1, "tablespace"))
            return NULL;
        Buf b = BUF_INIT;
        put_range(&b, k, 0, i - 1);
        if (j + 1 < k->n) {
            buf_putc(&b, ' ');
            put_range(&b, k, j + 1, k->n - 1);
        }
        char *r = xstrndup(b.data, b.len);
        buf_free(&b);
        return r;
    }
    return NULL;
}

char *pgddl_rewrite(const char *sql, size_t len)
{
    Toks k;
    if (!toks_read(sql, len, &k))
        return NULL;
    char *r = NULL;
    if (is(&k, 0, "drop"))
        r = drop_each(&k);
    else if (is(&k, 0, "truncate"))
        r = truncate_each(&k);
    else if (is(&k, 0, "create"))
        r = create_without_storage_hints(&k);
    free(k.t);
    return r;
}

int pgddl_refusal(const char *sql, size_t len, char *err, size_t errlen)
{
    Toks k;
    if (!toks_read(sql, len, &k))
        return 0;
    int rc = 0;
    if (is(&k, 0, "truncate")) {
        int first[NAMES_MAX], last[NAMES_MAX];
        TruncateTail tail;
        if (truncate_names(&k, first, last, &tail) > 0 && (tail.restart || tail.cascade)) {
            snprintf(err, errlen, "TRUNCATE ... %s is not supported: DuckDB would not %s",
                     tail.restart ? "RESTART IDENTITY" : "CASCADE",
                     tail.restart ? "reset the tables' sequences"
                                  : "truncate the tables that reference these");
            rc = -1;
        }
    }
    free(k.t);
    return rc;
}
