/*
 * cdcguard: refuses users' writes to the tables a running CDC stream
 * follows. See cdcguard.h and docs/cdc.md.
 *
 * The scan is by keywords on sqllex's tokens, not a parser: it looks for the
 * target of each writing construct and errs towards finding one (EXPLAIN of
 * an INSERT, or a PREPARE of one, counts as a write). What it finds is then
 * compared, case-insensitively as DuckDB compares names, with the tables the
 * stream of the database follows.
 */
#include "cdcguard.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cdc.h"
#include "reply.h"
#include "sqllex.h"
#include "xalloc.h"

typedef struct Scan {
    const char *sql;
    SqlToken *tok;
    size_t n;
    const char *catalog;
    Buf name;
    char **found; /* the targets found so far, unquoted (xstrdup) */
    size_t nfound;
} Scan;

static bool word_at(const Scan *sc, size_t i, const char *lower)
{
    return i < sc->n && sqllex_is_word(sc->sql, &sc->tok[i], lower);
}

static bool name_at(const Scan *sc, size_t i)
{
    return i < sc->n && (sc->tok[i].kind == SQLLEX_WORD || sc->tok[i].kind == SQLLEX_QUOTED);
}

static bool part_is(Scan *sc, size_t i, const char *what)
{
    sqllex_identifier(sc->sql, &sc->tok[i], &sc->name);
    return strcasecmp(sc->name.data, what) == 0;
}

/*
 * Reads the table name (1 to 3 dotted parts) at token i and reports it when it names a
 * table of schema main of this database. Returns the index after the name (i when there is
 * none).
 */
static size_t target(Scan *sc, size_t i)
{
    size_t part[3], np = 0, j = i;
    while (np < 3 && name_at(sc, j)) {
        part[np++] = j++;
        if (j < sc->n && sc->tok[j].kind == SQLLEX_DOT)
            j++;
        else
            break;
    }
    if (np == 0)
        return i;
    bool ours = true;
    if (np == 3)
        ours = part_is(sc, part[0], sc->catalog) && part_is(sc, part[1], "main");
    else if (np == 2)
        ours = part_is(sc, part[0], "main") || part_is(sc, part[0], sc->catalog);
    if (ours) {
        sqllex_identifier(sc->sql, &sc->tok[part[np - 1]], &sc->name);
        sc->found = xrealloc(sc->found, (sc->nfound + 1) * sizeof(*sc->found));
        sc->found[sc->nfound++] = xstrdup(sc->name.data);
    }
    return j;
}

/* Skips the words `a` and then `b` (each optional, in this order) from token i. */
static size_t skip_words(const Scan *sc, size_t i, const char *a, const char *b)
{
    if (a && word_at(sc, i, a))
        i++;
    if (b && word_at(sc, i, b))
        i++;
    return i;
}

/* Past `IF EXISTS` / `IF NOT EXISTS` at i. */
static size_t skip_if(const Scan *sc, size_t i)
{
    if (!word_at(sc, i, "if"))
        return i;
    return skip_words(sc, i + 1, "not", "exists");
}

/* The writing construct that starts at word token i, if any. */
static void at_word(Scan *sc, size_t i)
{
    bool after_do = i > 0 && (word_at(sc, i - 1, "do") || word_at(sc, i - 1, "on") ||
                              word_at(sc, i - 1, "for"));
    size_t j = i + 1;
    if (word_at(sc, i, "insert")) {
        if (word_at(sc, j, "or"))
            j += 2;
        if (word_at(sc, j, "into"))
            target(sc, j + 1);
    } else if (word_at(sc, i, "merge")) {
        if (word_at(sc, j, "into"))
            target(sc, j + 1);
    } else if (word_at(sc, i, "update")) {
        /* Not ON CONFLICT DO UPDATE SET, ON UPDATE CASCADE, FOR UPDATE. */
        if (!after_do && !word_at(sc, j, "set"))
            target(sc, j);
    } else if (word_at(sc, i, "delete")) {
        if (word_at(sc, j, "from"))
            target(sc, j + 1);
    } else if (word_at(sc, i, "truncate")) {
        target(sc, skip_words(sc, j, "table", "only"));
    } else if (word_at(sc, i, "alter")) {
        if (word_at(sc, j, "table"))
            target(sc, skip_words(sc, skip_if(sc, j + 1), "only", NULL));
    } else if (word_at(sc, i, "drop")) {
        if (!word_at(sc, j, "table"))
            return;
        j = skip_if(sc, j + 1);
        for (;;) {
            size_t e = target(sc, j);
            if (e == j || e >= sc->n || sc->tok[e].kind != SQLLEX_COMMA)
                break;
            j = e + 1;
        }
    } else if (word_at(sc, i, "copy")) {
        size_t had = sc->nfound, e = target(sc, j);
        if (e == j)
            return; /* COPY (query) TO */
        if (e < sc->n && sc->tok[e].kind == SQLLEX_OPEN) {
            int depth = 0;
            for (; e < sc->n; e++) {
                depth += sc->tok[e].kind == SQLLEX_OPEN    ? 1
                         : sc->tok[e].kind == SQLLEX_CLOSE ? -1
                                                           : 0;
                if (depth == 0)
                    break;
            }
            e++;
        }
        if (!word_at(sc, e, "from") && sc->nfound > had) /* COPY t TO: a read */
            free(sc->found[--sc->nfound]);
    } else if (word_at(sc, i, "create")) {
        bool replace = word_at(sc, j, "or") && word_at(sc, j + 1, "replace");
        if (replace)
            j += 2;
        j = skip_words(sc, j, "unique", NULL);
        if (word_at(sc, j, "index")) {
            while (j < sc->n && sc->tok[j].kind != SQLLEX_SEMI && !word_at(sc, j, "on"))
                j++;
            if (word_at(sc, j, "on"))
                target(sc, j + 1);
            return;
        }
        j = skip_words(sc, j, "temp", "temporary");
        if (replace && word_at(sc, j, "table"))
            target(sc, skip_if(sc, j + 1));
    }
}

int cdcguard_written_tables(const char *sql, const char *catalog,
                            void (*fn)(void *ctx, const char *name), void *ctx)
{
    Scan sc = {.sql = sql, .catalog = catalog};
    size_t cap = 0;
    SqlLexer lx;
    SqlToken t;
    sqllex_init(&lx, sql, strlen(sql), 0);
    while (sqllex_next(&lx, &t) == 1) {
        if (sc.n == cap) {
            cap = cap ? cap * 2 : 64;
            sc.tok = xrealloc(sc.tok, cap * sizeof(*sc.tok));
        }
        sc.tok[sc.n++] = t;
    }
    for (size_t i = 0; i < sc.n; i++)
        if (sc.tok[i].kind == SQLLEX_WORD)
            at_word(&sc, i);
    for (size_t i = 0; i < sc.nfound; i++) {
        fn(ctx, sc.found[i]);
        free(sc.found[i]);
    }
    free(sc.found);
    buf_free(&sc.name);
    free(sc.tok);
    return (int)sc.nfound;
}

typedef struct Check {
    int64_t db_id;
    char table[256], database[256];
    bool refused;
} Check;

static void check_one(void *ctx, const char *name)
{
    Check *c = ctx;
    if (c->refused)
        return;
    if (cdc_follows(c->db_id, name, c->database, sizeof(c->database))) {
        snprintf(c->table, sizeof(c->table), "%s", name);
        c->refused = true;
    }
}

int cdcguard_check(int64_t db_id, const char *sql, Buf *out)
{
    if (!cdc_any_running())
        return 0;
    char catalog[32];
    snprintf(catalog, sizeof(catalog), "%lld", (long long)db_id);
    Check c = {.db_id = db_id};
    (void)cdcguard_written_tables(sql, catalog, check_one, &c);
    if (!c.refused)
        return 0;
    reply_bad_request(out,
                      "table %s follows PostgreSQL by CDC (link of database %s); write it in "
                      "PostgreSQL (`cdc stop %s` or `unlink %s` makes it writable here)",
                      c.table, c.database, c.database, c.database);
    return -1;
}
