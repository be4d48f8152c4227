/*
 * authz: the statement classifier behind table grants. See authz.h.
 *
 * DuckDB's own parser and binder do the classifying:
 * duckdb_extract_statements splits the request, preparing each statement
 * gives its type, and duckdb_get_table_names lists the tables a statement
 * refers to. That API has gaps (measured on DuckDB 1.5; see
 * docs/access-control.md), and a tokenizer of our own fills them. It follows
 * the lexical rules of DuckDB's scanner exactly ('strings' with '' escapes,
 * E'strings' with backslash escapes, $tag$ dollar quotes $tag$, "quoted
 * identifiers", -- comments and nested block comments, numbers that end
 * where a letter starts), so that it never sees code where DuckDB sees a
 * string or the reverse. With it we:
 *   - deny statement kinds and functions before DuckDB parses anything,
 *     because its parser expands PRAGMA and IMPORT DATABASE statements, and
 *     IMPORT reads files while doing so;
 *   - split the request into statement texts, since duckdb_get_table_names
 *     takes one statement, and require DuckDB's count to be the same;
 *   - find the target of INSERT, UPDATE and DELETE, which the API never
 *     lists, and rewrite the rest of the statement into a SELECT with the
 *     same table references, because the API fails on every UPDATE and
 *     DELETE and on most INSERTs;
 *   - rename views and other names to placeholders that name nothing before
 *     asking, because the binder lists a view's underlying tables instead of
 *     the view, and lists nothing for DuckDB's catalog views;
 *   - deny calls of table functions and of functions that read settings,
 *     variables, sequences or the catalog, which the API does not list.
 * The API binds in a mode where every table has one dummy column. Some valid
 * statements fail there (JOIN ... USING, set operations of different
 * widths, parameters); they are retried once with a relaxed rewrite that
 * keeps every table reference. Worse, the mode silently drops the
 * expressions of a star's REPLACE list, so those are always rewritten into
 * plain select items. Whatever still cannot be classified is denied.
 *
 * Only texts built here and the request's own statements go to DuckDB, and
 * only to be parsed, bound and prepared: nothing executes.
 *
 * Thread-safety: no state is shared between calls except the cache of
 * DuckDB's function, keyword and system view names, which is filled once
 * under cache_lock and read-only afterwards.
 */
#include "authz.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "query.h"
#include "sqllex.h"

/* Placeholders and aliases we put into statement texts start with this; a
 * request that uses the prefix itself cannot be verified. */
#define RESERVED_PREFIX "__authz_"
#define RESERVED_PREFIX_LEN 8

/* Names sent to one probe of which names are views (see find_views). */
#define PROBE_MAX_NAMES 512

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        log_fatal("out of memory (%zu bytes)", n);
    return q;
}

static char fold(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Compares names as DuckDB compares identifiers: ASCII letters case-insensitively. */
static bool name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (fold(a[i]) != fold(b[i]))
            return false;
    return true;
}

static bool name_is(const char *a, size_t alen, const char *lit)
{
    return name_eq(a, alen, lit, strlen(lit));
}

/* ------------------------------------------------------------------------ */
/* NameSet: a set of names compared case-insensitively (ASCII), as DuckDB    */
/* compares identifiers, each with flags and one number for the caller.      */

typedef struct NameEntry {
    uint32_t off, len; /* the name as first added, in NameSet.text */
    uint32_t hash;
    uint32_t flags;
    uint32_t aux;
} NameEntry;

typedef struct NameSet {
    NameEntry *entries;
    uint32_t n, cap;
    uint32_t *slots; /* entry index + 1; 0 is empty */
    uint32_t nslots; /* a power of two, at least twice n */
    Buf text;
} NameSet;

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)fold(s[i]);
        h *= 16777619u;
    }
    return h;
}

static const char *nameset_name(const NameSet *ns, uint32_t i)
{
    return ns->text.data + ns->entries[i].off;
}

/* Returns the index of `s`, or -1. */
static long nameset_find(const NameSet *ns, const char *s, size_t len)
{
    if (ns->n == 0)
        return -1;
    uint32_t h = name_hash(s, len);
    for (uint32_t k = h & (ns->nslots - 1);; k = (k + 1) & (ns->nslots - 1)) {
        uint32_t e = ns->slots[k];
        if (e == 0)
            return -1;
        const NameEntry *ent = &ns->entries[e - 1];
        if (ent->hash == h && name_eq(nameset_name(ns, e - 1), ent->len, s, len))
            return (long)(e - 1);
    }
}

static void nameset_rehash(NameSet *ns, uint32_t nslots)
{
    free(ns->slots);
    ns->slots = xrealloc(NULL, nslots * sizeof(*ns->slots));
    memset(ns->slots, 0, nslots * sizeof(*ns->slots));
    ns->nslots = nslots;
    for (uint32_t i = 0; i < ns->n; i++) {
        uint32_t k = ns->entries[i].hash & (nslots - 1);
        while (ns->slots[k])
            k = (k + 1) & (nslots - 1);
        ns->slots[k] = i + 1;
    }
}

/* Returns the index of `s`, adding it (flags 0, aux UINT32_MAX) if absent. */
static uint32_t nameset_add(NameSet *ns, const char *s, size_t len)
{
    long found = nameset_find(ns, s, len);
    if (found >= 0)
        return (uint32_t)found;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 64;
        ns->entries = xrealloc(ns->entries, ns->cap * sizeof(*ns->entries));
    }
    if ((ns->n + 1) * 2 > ns->nslots)
        nameset_rehash(ns, ns->nslots ? ns->nslots * 2 : 128);
    uint32_t i = ns->n++;
    ns->entries[i] = (NameEntry){.off = (uint32_t)ns->text.len,
                                 .len = (uint32_t)len,
                                 .hash = name_hash(s, len),
                                 .aux = UINT32_MAX};
    buf_append(&ns->text, s, len);
    buf_putc(&ns->text, '\0');
    uint32_t k = ns->entries[i].hash & (ns->nslots - 1);
    while (ns->slots[k])
        k = (k + 1) & (ns->nslots - 1);
    ns->slots[k] = i + 1;
    return i;
}

static void nameset_free(NameSet *ns)
{
    free(ns->entries);
    free(ns->slots);
    buf_free(&ns->text);
    *ns = (NameSet){0};
}

/* ------------------------------------------------------------------------ */
/* The process-wide cache of DuckDB's built-in names.                        */

enum {
    S_FUNC = 1u << 0,        /* a built-in scalar, aggregate or window function or macro */
    S_TABLEFN = 1u << 1,     /* a built-in table function that may be used */
    S_TABLEFN_BAD = 1u << 2, /* a built-in table function that may not be used */
    S_DENY = 1u << 3,        /* a function that may never be called */
    S_KEYWORD = 1u << 4,     /* an SQL keyword */
    S_RESERVED = 1u << 5,    /* a keyword that cannot name a table unquoted */
    S_SV = 1u << 6,          /* the name of one of DuckDB's catalog views */
    S_SV_BARE = 1u << 7,     /* ... one that an unqualified name can reach */
    S_SV_MAIN = 1u << 8,     /* ... one that main.NAME can reach (schema main of "system") */
};

/*
 * Table functions that compute rows from their arguments alone: they read
 * no table, file, setting or catalog entry, so they may be used freely.
 */
static const char *const pure_table_functions[] = {
    "range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree",
};

/*
 * Scalar functions that read state a user is not granted: settings,
 * variables, sequences (not granted objects; nextval also changes them),
 * the secret manager, the log, or another statement's plan. Names starting
 * with duckdb_ or pragma_ are denied too (see check_call), and so are
 * built-in macros whose body queries the catalog (found when the cache is
 * filled: get_block_size, format_type, pg_get_viewdef, ...).
 */
static const char *const denied_functions[] = {
    "current_setting", "getvariable",         "nextval",      "currval", "setval",
    "write_log",       "json_serialize_plan", "which_secret",
};

/* Function-like syntax that DuckDB's parser handles itself, and sampling methods. */
static const char *const syntax_functions[] = {"if", "ifnull", "try", "reservoir", "bernoulli"};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static bool cache_ready; /* guarded by cache_lock; once true, `cache` is read-only */
static NameSet cache;

static uint32_t cache_flags(const char *s, size_t len)
{
    long i = nameset_find(&cache, s, len);
    return i < 0 ? 0 : cache.entries[i].flags;
}

static void cache_mark(const char *name, size_t len, uint32_t flags)
{
    uint32_t i = nameset_add(&cache, name, len);
    cache.entries[i].flags |= flags;
}

static bool in_list(const char *const *list, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (name_is(s, len, list[i]))
            return true;
    return false;
}

#define IN_LIST(list, s, len) in_list(list, sizeof(list) / sizeof(list[0]), s, len)

/*
 * Runs `sql` (every column VARCHAR) and calls `fn` with each row's values
 * (NULL when null). Returns 0, or -1 with DuckDB's message in `err`.
 */
static int each_row(duckdb_connection con, const char *sql,
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
                   IN_LIST(pure_table_functions, v[0], l[0]) ? S_TABLEFN : S_TABLEFN_BAD);
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

/* Fills the cache once; returns 0, or -1 with DuckDB's message in `err`. */
static int cache_load(duckdb_connection con, Buf *err)
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
    if (each_row(con, functions, cache_add_function, NULL, err) != 0 ||
        each_row(con, keywords, cache_add_keyword, NULL, err) != 0 ||
        each_row(con, views, cache_add_view, NULL, err) != 0) {
        nameset_free(&cache);
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < sizeof(denied_functions) / sizeof(denied_functions[0]); i++)
        cache_mark(denied_functions[i], strlen(denied_functions[i]), S_DENY);
    for (size_t i = 0; i < sizeof(syntax_functions) / sizeof(syntax_functions[0]); i++)
        cache_mark(syntax_functions[i], strlen(syntax_functions[i]), S_FUNC);
    cache_ready = true;
out:
    pthread_mutex_unlock(&cache_lock);
    return rc;
}

/* ------------------------------------------------------------------------ */

typedef struct Tok {
    uint32_t start, len;
    int32_t match; /* for SQLLEX_OPEN and SQLLEX_CLOSE: the index of the other bracket, or -1 */
    uint8_t kind;
    bool from_list; /* for SQLLEX_COMMA: it separates the items of a FROM or USING list */
} Tok;

/* The token ranges found in a statement: [a, b), empty when a == b. */
typedef struct Range {
    size_t a, b;
} Range;

typedef enum { K_SELECT, K_INSERT, K_UPDATE, K_DELETE, K_TRUNCATE } StmtKind;

typedef struct Stmt {
    size_t first, end; /* the statement's tokens, without the semicolon */
    size_t body;       /* the first token after an EXPLAIN prefix */
    bool explain;
    StmtKind kind;
    Range with; /* a leading WITH clause */
    /* INSERT, UPDATE, DELETE, TRUNCATE: */
    bool has_target;
    size_t target_first, target_last; /* the target's name, 1 to 3 parts */
    size_t binding;                   /* the token columns use to name the target */
    Range source;                     /* INSERT: the query or VALUES */
    Range set;                        /* UPDATE and ON CONFLICT DO UPDATE: the assignments */
    Range from;                       /* UPDATE ... FROM, DELETE ... USING */
    Range where;                      /* UPDATE, DELETE, DO UPDATE: the condition */
    Range conflict_target;            /* ON CONFLICT (what is inside the brackets) */
    Range conflict_where;             /* ON CONFLICT (cols) WHERE ... */
    Range returning;
    AuthzPrivileges target_privs;
} Stmt;

/* Flags of the names of one request (Ctx.words). */
enum {
    W_CHAIN_LAST = 1u << 0, /* written as the last part of a dotted name */
    W_PROBE = 1u << 1,      /* asked about in the probe for views */
    W_PRESENT = 1u << 2,    /* the probe found it is not a view */
    W_MAIN_VIEW = 1u << 3,  /* a view of schema main */
    W_RENAME = 1u << 4,     /* replaced by a placeholder in texts sent to DuckDB */
};

/* What an answer says, for deciding which answer a request gets. */
typedef enum {
    V_NONE,
    V_DENIED, /* a statement kind or function no such user may use */
    V_UNSURE, /* cannot verify, or a statement DuckDB is likely to reject as invalid */
    V_OTHER,  /* tables denied, or DuckDB's error */
} Verdict;

/* One table lookup of a successful check (see AuthzPlan in authz.h). */
typedef struct PlanItem {
    char *name; /* as check_table asked for it, NUL-terminated */
    size_t len;
    AuthzPrivileges need;
    uint32_t order; /* first_seen(), for the order of the answer */
} PlanItem;

struct AuthzPlan {
    PlanItem *items;
    size_t n, cap;
};

typedef struct Ctx {
    duckdb_connection con;
    AuthzPlan *plan; /* when not NULL, every privilege lookup is recorded here */
    const char *sql;
    const AuthzUser *user;
    Buf *err_out;    /* where answers go */
    Verdict verdict; /* of the last answer */
    Tok *tok;
    size_t ntok, captok;
    bool balanced; /* every bracket closes within its statement */
    Stmt *st;
    size_t nst, capst;
    NameSet words;  /* every name in the request; aux = index of its first token */
    NameSet denied; /* tables to list in the answer; aux = order of appearance */
    Buf text;       /* a statement text for DuckDB */
    Buf name;       /* an unquoted name */
    Buf parts;      /* the parts of a name DuckDB listed */
    Buf msg;
} Ctx;

static void push_tok(Ctx *c, SqlTokenKind kind, size_t start, size_t end)
{
    if (c->ntok == c->captok) {
        c->captok = c->captok ? c->captok * 2 : 64;
        c->tok = xrealloc(c->tok, c->captok * sizeof(*c->tok));
    }
    c->tok[c->ntok++] = (Tok){.start = (uint32_t)start,
                              .len = (uint32_t)(end - start),
                              .match = -1,
                              .kind = (uint8_t)kind};
}

/*
 * Splits c->sql into tokens (sqllex) and pairs its brackets. Returns 0, or
 * -1 when a string, quoted identifier or comment is not terminated
 * (DuckDB's parser then reports it).
 */
static int tokenize(Ctx *c)
{
    SqlLexer lx;
    SqlToken t;
    int32_t *stack = NULL;
    size_t depth = 0, capdepth = 0;
    int rc;
    sqllex_init(&lx, c->sql, strlen(c->sql), 0);
    c->balanced = true;
    while ((rc = sqllex_next(&lx, &t)) > 0) {
        push_tok(c, t.kind, t.offset, t.offset + t.length);
        char ch = c->sql[t.offset];
        if (t.kind == SQLLEX_OPEN) {
            if (depth == capdepth) {
                capdepth = capdepth ? capdepth * 2 : 16;
                stack = xrealloc(stack, capdepth * sizeof(*stack));
            }
            stack[depth++] = (int32_t)(c->ntok - 1);
        } else if (t.kind == SQLLEX_CLOSE) {
            char want = ch == ')' ? '(' : ch == ']' ? '[' : '{';
            if (depth > 0 && c->sql[c->tok[stack[depth - 1]].start] == want) {
                int32_t open = stack[--depth];
                c->tok[open].match = (int32_t)(c->ntok - 1);
                c->tok[c->ntok - 1].match = open;
            } else {
                c->balanced = false;
            }
        } else if (t.kind == SQLLEX_SEMI) {
            if (depth > 0)
                c->balanced = false;
            depth = 0;
        }
    }
    if (depth > 0)
        c->balanced = false;
    free(stack);
    return rc;
}

/* Cuts the tokens into statements at semicolons, skipping empty ones as DuckDB does. */
static void split_statements(Ctx *c)
{
    size_t first = 0;
    for (size_t i = 0; i <= c->ntok; i++) {
        if (i < c->ntok && c->tok[i].kind != SQLLEX_SEMI)
            continue;
        if (i > first) {
            if (c->nst == c->capst) {
                c->capst = c->capst ? c->capst * 2 : 8;
                c->st = xrealloc(c->st, c->capst * sizeof(*c->st));
            }
            c->st[c->nst++] = (Stmt){.first = first, .end = i};
        }
        first = i + 1;
    }
}

/* ------------------------------------------------------------------------ */
/* Token helpers                                                             */

static const char *tok_text(const Ctx *c, size_t i)
{
    return c->sql + c->tok[i].start;
}

static bool kw(const Ctx *c, const Stmt *st, size_t i, const char *word)
{
    return i < st->end && c->tok[i].kind == SQLLEX_WORD && name_is(tok_text(c, i), c->tok[i].len, word);
}

static bool is_name_tok(const Ctx *c, const Stmt *st, size_t i)
{
    return i < st->end && (c->tok[i].kind == SQLLEX_WORD || c->tok[i].kind == SQLLEX_QUOTED);
}

static bool is_open_paren(const Ctx *c, const Stmt *st, size_t i)
{
    return i < st->end && c->tok[i].kind == SQLLEX_OPEN && tok_text(c, i)[0] == '(';
}

/* The index after token i, past the whole bracket group when i opens one. */
static size_t skip(const Ctx *c, size_t i)
{
    if (c->tok[i].kind == SQLLEX_OPEN && c->tok[i].match > (int32_t)i)
        return (size_t)c->tok[i].match + 1;
    return i + 1;
}

/*
 * The unquoted name of token i (a word or quoted identifier) in `out`,
 * which is reset. Returns its length; out->data is NUL-terminated.
 */
static size_t tok_name(const Ctx *c, size_t i, Buf *out)
{
    const Tok *t = &c->tok[i];
    const char *s = tok_text(c, i);
    buf_reset(out, 4096);
    if (t->kind == SQLLEX_QUOTED) {
        size_t from = (s[0] == '"') ? 1 : 3; /* "x" or U&"x" */
        for (size_t k = from; k + 1 < t->len; k++) {
            buf_putc(out, s[k]);
            if (s[k] == '"')
                k++;
        }
    } else {
        buf_append(out, s, t->len);
    }
    buf_cstr(out);
    return out->len;
}

/*
 * The first token in [a, b) at bracket depth 0 that is one of `words`, or
 * b. A FROM after DISTINCT (IS DISTINCT FROM) is part of an expression.
 */
static size_t find_kw(const Ctx *c, const Stmt *st, size_t a, size_t b, const char *const *words)
{
    for (size_t i = a; i < b; i = skip(c, i)) {
        for (const char *const *w = words; *w; w++) {
            if (kw(c, st, i, *w) &&
                !(!strcmp(*w, "from") && i > st->first && kw(c, st, i - 1, "distinct")))
                return i;
        }
    }
    return b;
}

/* ------------------------------------------------------------------------ */
/* Answers                                                                   */

/* Answers "Access Denied: <prefix><name> is not allowed for user "U"". */
static int deny_what(Ctx *c, const char *prefix, const char *name, size_t len, bool upper)
{
    buf_reset(&c->msg, 4096);
    buf_printf(&c->msg, "Access Denied: %s", prefix);
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        buf_putc(&c->msg, upper && ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch);
    }
    buf_printf(&c->msg, " is not allowed for user \"%s\"", c->user->name);
    query_append_error(c->err_out, buf_cstr(&c->msg));
    c->verdict = V_DENIED;
    return -1;
}

/*
 * Denies a statement kind named by the word at token i (shown upper case).
 * A word that is no SQL keyword is most likely a typo: the verdict is then
 * unsure, so that DuckDB's syntax error is the answer when it has one.
 */
static int deny_kind(Ctx *c, size_t i)
{
    if (c->tok[i].kind != SQLLEX_WORD) {
        deny_what(c, "this statement", "", 0, false);
        c->verdict = V_UNSURE;
        return -1;
    }
    deny_what(c, "", tok_text(c, i), c->tok[i].len, true);
    if (!(cache_flags(tok_text(c, i), c->tok[i].len) & S_KEYWORD))
        c->verdict = V_UNSURE;
    return -1;
}

static int cannot_verify(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cannot_verify(Ctx *c, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    buf_reset(&c->msg, 4096);
    buf_printf(&c->msg, "Access Denied: cannot verify this statement's access: %s", reason);
    query_append_error(c->err_out, buf_cstr(&c->msg));
    c->verdict = V_UNSURE;
    return -1;
}

/* DuckDB's message without the lines that suggest other names. */
static int duckdb_error(Ctx *c, const char *msg)
{
    buf_reset(&c->msg, 4096);
    const char *p = msg ? msg : "Error";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (strncmp(p, "Did you mean", 12) != 0 && strncmp(p, "Candidate bindings", 18) != 0)
            buf_append(&c->msg, p, len);
        p += len;
    }
    while (c->msg.len > 0 && c->msg.data[c->msg.len - 1] == '\n')
        c->msg.len--;
    query_append_error(c->err_out, buf_cstr(&c->msg));
    c->verdict = V_OTHER;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Statement shapes                                                          */

/* Parses `WITH [RECURSIVE] name [(cols)] [USING KEY (..)] AS [NOT] [MATERIALIZED] (..), ...`
 * from token i; returns the index of the main statement keyword, or 0. */
static size_t parse_with(const Ctx *c, const Stmt *st, size_t i)
{
    i++;
    if (kw(c, st, i, "recursive"))
        i++;
    for (;;) {
        if (!is_name_tok(c, st, i))
            return 0;
        i++;
        if (is_open_paren(c, st, i))
            i = skip(c, i);
        if (kw(c, st, i, "using") && kw(c, st, i + 1, "key") && is_open_paren(c, st, i + 2))
            i = skip(c, i + 2);
        if (!kw(c, st, i, "as"))
            return 0;
        i++;
        if (kw(c, st, i, "not"))
            i++;
        if (kw(c, st, i, "materialized"))
            i++;
        if (!is_open_paren(c, st, i))
            return 0;
        i = skip(c, i);
        if (i < st->end && c->tok[i].kind == SQLLEX_COMMA) {
            i++;
            continue;
        }
        return i < st->end ? i : 0;
    }
}

/* Parses a table name of 1 to 3 parts at i; returns the index after it, or 0. */
static size_t parse_target(const Ctx *c, Stmt *st, size_t i)
{
    if (!is_name_tok(c, st, i))
        return 0;
    st->has_target = true;
    st->target_first = i;
    int parts = 1;
    while (i + 2 < st->end && c->tok[i + 1].kind == SQLLEX_DOT && is_name_tok(c, st, i + 2)) {
        if (++parts > 3)
            return 0;
        i += 2;
    }
    st->target_last = i;
    st->binding = i;
    return i + 1;
}

/* An optional alias at i that is not one of `stop`; returns the index after it, or 0. */
static size_t parse_alias(const Ctx *c, Stmt *st, size_t i, const char *const *stop)
{
    if (kw(c, st, i, "as")) {
        if (!is_name_tok(c, st, i + 1))
            return 0;
        st->binding = i + 1;
        return i + 2;
    }
    if (!is_name_tok(c, st, i))
        return i;
    for (const char *const *w = stop; *w; w++)
        if (kw(c, st, i, *w))
            return i;
    st->binding = i;
    return i + 1;
}

static bool starts_query(const Ctx *c, const Stmt *st, size_t i)
{
    return is_open_paren(c, st, i) || kw(c, st, i, "select") || kw(c, st, i, "from") ||
           kw(c, st, i, "values") || kw(c, st, i, "with") || kw(c, st, i, "table");
}

/*
 * The end (a comma or `limit`) of the assignment `col = value` that starts
 * at token `item`; *out_eq is the position of its top-level '=', or the end
 * when it has none.
 */
static size_t assignment_end(const Ctx *c, size_t item, size_t limit, size_t *out_eq)
{
    size_t end = item;
    while (end < limit && c->tok[end].kind != SQLLEX_COMMA)
        end = skip(c, end);
    size_t eq = item;
    while (eq < end &&
           !(c->tok[eq].kind == SQLLEX_OP && c->tok[eq].len == 1 && tok_text(c, eq)[0] == '='))
        eq = skip(c, eq);
    *out_eq = eq;
    return end;
}

/*
 * Whether assignments `col = value, ...` read the table being changed:
 * whether a value holds a name other than a function name or NULL, TRUE,
 * FALSE, DEFAULT (and, for ON CONFLICT, excluded.col). Returns -1 when an
 * assignment has no '='.
 */
static int assignments_read(const Ctx *c, const Stmt *st, Range r, bool excluded_ok)
{
    bool reads = false;
    size_t item = r.a;
    while (item < r.b) {
        size_t eq;
        size_t end = assignment_end(c, item, r.b, &eq);
        if (eq >= end)
            return -1;
        for (size_t i = eq + 1; i < end; i++) {
            const Tok *t = &c->tok[i];
            if (t->kind != SQLLEX_WORD && t->kind != SQLLEX_QUOTED)
                continue;
            if (i + 1 < end && is_open_paren(c, st, i + 1))
                continue;
            if (excluded_ok && kw(c, st, i, "excluded") && i + 2 < end &&
                c->tok[i + 1].kind == SQLLEX_DOT) {
                i += 2;
                continue;
            }
            if (kw(c, st, i, "null") || kw(c, st, i, "true") || kw(c, st, i, "false") ||
                kw(c, st, i, "default"))
                continue;
            reads = true;
        }
        item = end + 1;
    }
    return reads ? 1 : 0;
}

static int parse_insert(Ctx *c, Stmt *st, size_t i)
{
    static const char *const source_end[] = {"on", "returning", NULL};
    static const char *const set_end[] = {"where", "returning", NULL};
    static const char *const ret[] = {"returning", NULL};
    static const char *const do_kw[] = {"do", NULL};
    bool replace = false, do_update = false;
    i++;
    if (kw(c, st, i, "or")) {
        if (kw(c, st, i + 1, "replace"))
            replace = true;
        else if (!kw(c, st, i + 1, "ignore"))
            return cannot_verify(c, "unexpected INSERT syntax");
        i += 2;
    }
    if (!kw(c, st, i, "into") || !(i = parse_target(c, st, i + 1)))
        return cannot_verify(c, "unexpected INSERT syntax");
    if (kw(c, st, i, "as")) {
        if (!is_name_tok(c, st, i + 1))
            return cannot_verify(c, "unexpected INSERT syntax");
        st->binding = i + 1;
        i += 2;
    }
    if (is_open_paren(c, st, i) && !starts_query(c, st, i + 1))
        i = skip(c, i); /* the column list */
    if (kw(c, st, i, "by") && (kw(c, st, i + 1, "name") || kw(c, st, i + 1, "position")))
        i += 2;
    if (kw(c, st, i, "default") && kw(c, st, i + 1, "values")) {
        i += 2;
    } else {
        if (!starts_query(c, st, i))
            return cannot_verify(c, "unexpected INSERT syntax");
        size_t e = i;
        for (;;) {
            e = find_kw(c, st, e, st->end, source_end);
            if (!kw(c, st, e, "on") || kw(c, st, e + 1, "conflict"))
                break;
            e++;
        }
        st->source = (Range){i, e};
        i = e;
    }
    if (kw(c, st, i, "on")) {
        i += 2; /* ON CONFLICT */
        if (is_open_paren(c, st, i)) {
            st->conflict_target = (Range){i + 1, skip(c, i) - 1};
            i = skip(c, i);
            if (kw(c, st, i, "where")) {
                size_t e = find_kw(c, st, i + 1, st->end, do_kw);
                st->conflict_where = (Range){i + 1, e};
                i = e;
            }
        }
        if (!kw(c, st, i, "do"))
            return cannot_verify(c, "unexpected ON CONFLICT syntax");
        i++;
        if (kw(c, st, i, "nothing")) {
            i++;
        } else if (kw(c, st, i, "update") && kw(c, st, i + 1, "set")) {
            do_update = true;
            size_t e = find_kw(c, st, i + 2, st->end, set_end);
            st->set = (Range){i + 2, e};
            i = e;
            if (kw(c, st, i, "where")) {
                e = find_kw(c, st, i + 1, st->end, ret);
                st->where = (Range){i + 1, e};
                i = e;
            }
        } else {
            return cannot_verify(c, "unexpected ON CONFLICT syntax");
        }
    }
    if (kw(c, st, i, "returning")) {
        st->returning = (Range){i + 1, st->end};
        i = st->end;
    }
    if (i != st->end)
        return cannot_verify(c, "unexpected INSERT syntax");
    int reads = 0;
    if (do_update && (reads = assignments_read(c, st, st->set, true)) < 0)
        return cannot_verify(c, "unexpected ON CONFLICT syntax");
    st->target_privs = AUTHZ_INSERT;
    if (replace || do_update)
        st->target_privs |= AUTHZ_UPDATE;
    if (reads || st->returning.b > st->returning.a || st->where.b > st->where.a ||
        st->conflict_where.b > st->conflict_where.a)
        st->target_privs |= AUTHZ_SELECT;
    return 0;
}

/* The optional `WHERE ...` and `RETURNING ...` that end an UPDATE or a
 * DELETE, from token i; returns the token after them. */
static size_t parse_where_returning(Ctx *c, Stmt *st, size_t i)
{
    static const char *const ret[] = {"returning", NULL};
    if (kw(c, st, i, "where")) {
        size_t e = find_kw(c, st, i + 1, st->end, ret);
        st->where = (Range){i + 1, e};
        i = e;
    }
    if (kw(c, st, i, "returning")) {
        st->returning = (Range){i + 1, st->end};
        i = st->end;
    }
    return i;
}

static int parse_update(Ctx *c, Stmt *st, size_t i)
{
    static const char *const alias_stop[] = {"set", NULL};
    static const char *const set_end[] = {"from", "where", "returning", NULL};
    static const char *const from_end[] = {"where", "returning", NULL};
    if (!(i = parse_target(c, st, i + 1)) || !(i = parse_alias(c, st, i, alias_stop)) ||
        !kw(c, st, i, "set"))
        return cannot_verify(c, "unexpected UPDATE syntax");
    size_t e = find_kw(c, st, i + 1, st->end, set_end);
    st->set = (Range){i + 1, e};
    i = e;
    if (kw(c, st, i, "from")) {
        e = find_kw(c, st, i + 1, st->end, from_end);
        st->from = (Range){i + 1, e};
        i = e;
    }
    i = parse_where_returning(c, st, i);
    int reads = assignments_read(c, st, st->set, false);
    if (i != st->end || st->set.b == st->set.a || reads < 0)
        return cannot_verify(c, "unexpected UPDATE syntax");
    st->target_privs = AUTHZ_UPDATE;
    if (reads || st->from.b > st->from.a || st->where.b > st->where.a ||
        st->returning.b > st->returning.a)
        st->target_privs |= AUTHZ_SELECT;
    return 0;
}

static int parse_delete(Ctx *c, Stmt *st, size_t i)
{
    static const char *const alias_stop[] = {"using", "where", "returning", NULL};
    static const char *const using_end[] = {"where", "returning", NULL};
    if (!kw(c, st, i + 1, "from") || !(i = parse_target(c, st, i + 2)) ||
        !(i = parse_alias(c, st, i, alias_stop)))
        return cannot_verify(c, "unexpected DELETE syntax");
    size_t e;
    if (kw(c, st, i, "using")) {
        e = find_kw(c, st, i + 1, st->end, using_end);
        st->from = (Range){i + 1, e};
        i = e;
    }
    i = parse_where_returning(c, st, i);
    if (i != st->end)
        return cannot_verify(c, "unexpected DELETE syntax");
    st->target_privs = AUTHZ_DELETE;
    if (st->from.b > st->from.a || st->where.b > st->where.a || st->returning.b > st->returning.a)
        st->target_privs |= AUTHZ_SELECT;
    return 0;
}

/*
 * Finds the kind of statement `st` and the parts of INSERT, UPDATE and
 * DELETE. Returns 0, or -1 with the answer appended.
 */
static int classify(Ctx *c, Stmt *st)
{
    size_t i = st->first;
    if (kw(c, st, i, "explain")) {
        st->explain = true;
        i++;
        if (is_open_paren(c, st, i)) {
            for (size_t k = i + 1; k < skip(c, i); k++)
                if (kw(c, st, k, "analyze") || kw(c, st, k, "analyse"))
                    return deny_what(c, "EXPLAIN ANALYZE", "", 0, false);
            i = skip(c, i);
        }
        if (kw(c, st, i, "analyze") || kw(c, st, i, "analyse"))
            return deny_what(c, "EXPLAIN ANALYZE", "", 0, false);
        if (i >= st->end)
            return cannot_verify(c, "EXPLAIN of nothing");
    }
    st->body = i;
    if (kw(c, st, i, "with")) {
        size_t main = parse_with(c, st, i);
        if (!main)
            return cannot_verify(c, "unexpected WITH syntax");
        st->with = (Range){i, main};
        i = main;
    }
    if (is_open_paren(c, st, i) || kw(c, st, i, "select") || kw(c, st, i, "from") ||
        kw(c, st, i, "values") || kw(c, st, i, "table")) {
        st->kind = K_SELECT;
        return 0;
    }
    if (kw(c, st, i, "insert")) {
        st->kind = K_INSERT;
        return parse_insert(c, st, i);
    }
    if (kw(c, st, i, "update")) {
        st->kind = K_UPDATE;
        return parse_update(c, st, i);
    }
    if (kw(c, st, i, "delete")) {
        st->kind = K_DELETE;
        return parse_delete(c, st, i);
    }
    if (kw(c, st, i, "truncate") && st->with.a == st->with.b) {
        st->kind = K_TRUNCATE;
        if (kw(c, st, i + 1, "table"))
            i++;
        if (!(i = parse_target(c, st, i + 1)) || i != st->end)
            return cannot_verify(c, "unexpected TRUNCATE syntax");
        st->target_privs = AUTHZ_DELETE;
        return 0;
    }
    return deny_kind(c, i);
}

/* ------------------------------------------------------------------------ */
/* Function calls                                                            */

/*
 * Marks the commas that separate the items of a FROM (or DELETE ... USING)
 * list, in one pass: at each bracket depth, the clause last begun there
 * decides. JOIN ... ON does not end a FROM list: `FROM a JOIN b ON x, c`.
 */
static void mark_from_lists(Ctx *c)
{
    static const char *const from_words[] = {"from", "using", NULL};
    static const char *const other_words[] = {
        "select", "where",  "group",     "having", "order", "qualify",   "window", "limit",
        "offset", "values", "returning", "set",    "union", "intersect", "except", NULL};
    bool *in_from = xrealloc(NULL, (c->ntok + 1) * sizeof(*in_from));
    size_t depth = 0;
    in_from[0] = false;
    for (size_t i = 0; i < c->ntok; i++) {
        Tok *t = &c->tok[i];
        if (t->kind == SQLLEX_OPEN) {
            in_from[++depth] = false;
        } else if (t->kind == SQLLEX_CLOSE) {
            if (depth > 0)
                depth--;
        } else if (t->kind == SQLLEX_SEMI) {
            depth = 0;
            in_from[0] = false;
        } else if (t->kind == SQLLEX_COMMA) {
            t->from_list = in_from[depth];
        } else if (t->kind == SQLLEX_WORD) {
            for (const char *const *w = from_words; *w; w++)
                if (name_is(tok_text(c, i), t->len, *w))
                    in_from[depth] = true;
            for (const char *const *w = other_words; *w; w++)
                if (name_is(tok_text(c, i), t->len, *w))
                    in_from[depth] = false;
        }
    }
    free(in_from);
}

/* Whether the call at token i is in the place of a table (after FROM, JOIN,
 * LATERAL, or a comma of a FROM list), as opposed to an expression. */
static bool in_from_position(const Ctx *c, const Stmt *st, size_t i)
{
    if (i == st->first)
        return false;
    return kw(c, st, i - 1, "from") || kw(c, st, i - 1, "join") || kw(c, st, i - 1, "lateral") ||
           kw(c, st, i - 1, "using") || (c->tok[i - 1].kind == SQLLEX_COMMA && c->tok[i - 1].from_list);
}

/*
 * Whether name token i, followed by '(', is a function call rather than a
 * list of column names: after AS (`AS x(a, b)`), after a table name
 * (`t x(a, b)`: no function call can follow a name that is not a keyword),
 * the target of INSERT, or a CTE being defined (`q(a) AS (...)`).
 */
static bool is_call(const Ctx *c, const Stmt *st, size_t i)
{
    if (st->has_target && st->target_last == i)
        return false;
    if (i > st->first) {
        const Tok *prev = &c->tok[i - 1];
        if (kw(c, st, i - 1, "as") || prev->kind == SQLLEX_QUOTED)
            return false;
        if (prev->kind == SQLLEX_WORD && !(cache_flags(tok_text(c, i - 1), prev->len) & S_KEYWORD))
            return false;
    }
    int32_t close = c->tok[i + 1].match;
    if (close < 0)
        return true;
    size_t j = (size_t)close + 1;
    if (kw(c, st, j, "as") && (is_open_paren(c, st, j + 1) || kw(c, st, j + 1, "materialized") ||
                               kw(c, st, j + 1, "not")))
        return false;
    if (kw(c, st, j, "using") && kw(c, st, j + 1, "key"))
        return false;
    return true;
}

static int check_call(Ctx *c, const Stmt *st, size_t i)
{
    size_t len = tok_name(c, i, &c->name);
    const char *name = c->name.data;
    if ((len >= 7 && name_eq(name, 7, "duckdb_", 7)) ||
        (len >= 7 && name_eq(name, 7, "pragma_", 7)))
        return deny_what(c, "function ", name, len, false);
    uint32_t f = cache_flags(name, len);
    if (f & S_DENY)
        return deny_what(c, "function ", name, len, false);
    if (f & S_TABLEFN_BAD) {
        if (!(f & S_FUNC) || in_from_position(c, st, i))
            return deny_what(c, "function ", name, len, false);
        return 0;
    }
    if (f & (S_FUNC | S_TABLEFN))
        return 0;
    if (c->tok[i].kind == SQLLEX_WORD && (f & S_KEYWORD))
        return 0;
    return cannot_verify(c, "%.*s is not a built-in function", (int)(len > 200 ? 200 : len), name);
}

/*
 * The checks that need only the tokens: reserved names, statements that
 * list the catalog, and function calls.
 */
static int check_tokens(Ctx *c, const Stmt *st)
{
    for (size_t i = st->first; i < st->end; i++) {
        const Tok *t = &c->tok[i];
        if (t->kind != SQLLEX_WORD && t->kind != SQLLEX_QUOTED)
            continue;
        size_t len = tok_name(c, i, &c->name);
        if (len >= RESERVED_PREFIX_LEN &&
            name_eq(c->name.data, RESERVED_PREFIX_LEN, RESERVED_PREFIX, RESERVED_PREFIX_LEN))
            return cannot_verify(c, "names starting with %s are reserved", RESERVED_PREFIX);
        /* SHOW TABLES and DESCRIBE list the catalog, also as subqueries. */
        if (kw(c, st, i, "show") || kw(c, st, i, "describe") || kw(c, st, i, "summarize"))
            return deny_kind(c, i);
        if (i + 1 < st->end && is_open_paren(c, st, i + 1) && is_call(c, st, i) &&
            check_call(c, st, i) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Names DuckDB lists                                                        */

/* A table name as DuckDB writes it: 1 to 3 parts, each quoted if needed, then
 * optionally " AS alias" and more we do not need. Offsets into Ctx.parts. */
typedef struct Parsed {
    int n;
    size_t off[3], len[3];
    bool has_alias;
    size_t alias_off, alias_len;
} Parsed;

static const char *parse_ident(const char *p, Buf *out, size_t *off, size_t *len)
{
    *off = out->len;
    if (*p == '"') {
        for (p++;; p++) {
            if (!*p)
                return NULL;
            if (*p == '"') {
                if (p[1] != '"')
                    break;
                p++;
            }
            buf_putc(out, *p);
        }
        p++;
    } else {
        const char *s = p;
        while (*p && *p != '.' && *p != ' ' && *p != '(')
            p++;
        if (p == s)
            return NULL;
        buf_append(out, s, (size_t)(p - s));
    }
    *len = out->len - *off;
    buf_putc(out, '\0');
    return p;
}

static bool parse_listed(const char *s, Buf *out, Parsed *r)
{
    buf_reset(out, 4096);
    *r = (Parsed){0};
    const char *p = s;
    for (;;) {
        if (r->n == 3)
            return false;
        p = parse_ident(p, out, &r->off[r->n], &r->len[r->n]);
        if (!p)
            return false;
        r->n++;
        if (*p != '.')
            break;
        p++;
    }
    if (*p && *p != ' ' && *p != '(')
        return false;
    if (strncmp(p, " AS ", 4) == 0) {
        r->has_alias = parse_ident(p + 4, out, &r->alias_off, &r->alias_len) != NULL;
    }
    return true;
}

/*
 * Calls fn for every name in the VARCHAR[] value DuckDB returned. Returns 0,
 * or -1 when a name cannot be read (answer appended).
 */
static int each_listed(Ctx *c, duckdb_value list, int (*fn)(Ctx *c, const Parsed *p, void *arg),
                       void *arg)
{
    idx_t n = duckdb_get_list_size(list);
    int rc = 0;
    for (idx_t k = 0; k < n && rc == 0; k++) {
        duckdb_value child = duckdb_get_list_child(list, k);
        char *s = child ? duckdb_get_varchar(child) : NULL;
        Parsed p;
        if (!s || !parse_listed(s, &c->parts, &p))
            rc = cannot_verify(c, "cannot read a table name DuckDB listed");
        else
            rc = fn(c, &p, arg);
        duckdb_free(s);
        duckdb_destroy_value(&child);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Views and placeholders                                                    */

static int probe_seen(Ctx *c, const Parsed *p, void *arg)
{
    (void)arg;
    static const char alias_prefix[] = RESERVED_PREFIX "p";
    size_t plen = sizeof(alias_prefix) - 1;
    if (!p->has_alias || p->alias_len <= plen)
        return 0;
    const char *a = c->parts.data + p->alias_off;
    if (strncmp(a, alias_prefix, plen) != 0)
        return 0;
    char *end = NULL;
    unsigned long k = strtoul(a + plen, &end, 10);
    if (end && *end == '\0' && k < c->words.n)
        c->words.entries[k].flags |= W_PRESENT;
    return 0;
}

static void view_listed(void *ctx, const char **v, const size_t *l)
{
    Ctx *c = ctx;
    if (!v[0])
        return;
    long k = nameset_find(&c->words, v[0], l[0]);
    if (k >= 0)
        c->words.entries[k].flags |= W_MAIN_VIEW;
}

static void append_quoted(Buf *b, const char *s, size_t len)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            buf_putc(b, '"');
        buf_putc(b, s[i]);
    }
    buf_putc(b, '"');
}

/*
 * Marks which names of the request are views of schema main (W_MAIN_VIEW).
 * One duckdb_get_table_names call asks about all of them at once, each
 * catalog-qualified and with an alias of its own: a table, or a name that
 * does not exist, is listed back with its alias, while a view is replaced
 * by the tables it reads. When that fails (a view DuckDB cannot bind in
 * this mode, or too many names), the views are listed with a query.
 * Returns 0, or -1 with the answer appended.
 */
static int find_views(Ctx *c)
{
    Buf *b = &c->text;
    buf_reset(b, 1 << 16);
    buf_append_str(b, "SELECT 1 FROM ");
    size_t asked = 0;
    for (uint32_t k = 0; k < c->words.n; k++) {
        NameEntry *e = &c->words.entries[k];
        if (!(e->flags & W_PROBE))
            continue;
        if (asked++)
            buf_append_str(b, ", ");
        append_quoted(b, c->user->catalog, strlen(c->user->catalog));
        buf_append_str(b, ".main.");
        append_quoted(b, nameset_name(&c->words, k), e->len);
        buf_printf(b, " AS %sp%u", RESERVED_PREFIX, k);
    }
    if (asked == 0)
        return 0;
    duckdb_value list = NULL;
    if (asked <= PROBE_MAX_NAMES)
        list = duckdb_get_table_names(c->con, buf_cstr(b), true);
    if (list) {
        int rc = each_listed(c, list, probe_seen, NULL);
        duckdb_destroy_value(&list);
        if (rc != 0)
            return rc;
        for (uint32_t k = 0; k < c->words.n; k++) {
            NameEntry *e = &c->words.entries[k];
            if ((e->flags & W_PROBE) && !(e->flags & W_PRESENT))
                e->flags |= W_MAIN_VIEW;
        }
        return 0;
    }
    static const char views[] = "SELECT view_name FROM duckdb_views() "
                                "WHERE database_name = current_database() AND schema_name = 'main'";
    Buf err = BUF_INIT;
    int rc = 0;
    if (each_row(c->con, views, view_listed, c, &err) != 0)
        rc = duckdb_error(c, buf_cstr(&err));
    buf_free(&err);
    return rc;
}

/*
 * Records every name of the statements DuckDB will be asked about in
 * c->words, with the index of its first token, and which of them to ask the
 * probe about: names not followed by '(' that could name a table unquoted.
 */
static void collect_names(Ctx *c, const Stmt *st)
{
    for (size_t i = st->first; i < st->end; i++) {
        const Tok *t = &c->tok[i];
        if (t->kind != SQLLEX_WORD && t->kind != SQLLEX_QUOTED)
            continue;
        size_t len = tok_name(c, i, &c->name);
        uint32_t k = nameset_add(&c->words, c->name.data, len);
        NameEntry *e = &c->words.entries[k];
        if (e->aux == UINT32_MAX)
            e->aux = (uint32_t)i;
        bool called = i + 1 < st->end && is_open_paren(c, st, i + 1);
        if (called)
            continue;
        uint32_t f = cache_flags(c->name.data, len);
        if (i >= st->first + 2 && c->tok[i - 1].kind == SQLLEX_DOT &&
            (c->tok[i - 2].kind == SQLLEX_WORD || c->tok[i - 2].kind == SQLLEX_QUOTED))
            e->flags |= W_CHAIN_LAST;
        if (t->kind == SQLLEX_QUOTED || !(f & S_RESERVED))
            e->flags |= W_PROBE;
    }
}

/* After find_views: which names to replace by placeholders. */
static void choose_renames(Ctx *c)
{
    for (uint32_t k = 0; k < c->words.n; k++) {
        NameEntry *e = &c->words.entries[k];
        if ((e->flags & (W_CHAIN_LAST | W_MAIN_VIEW)) ||
            (cache_flags(nameset_name(&c->words, k), e->len) & S_SV))
            e->flags |= W_RENAME;
    }
}

/* ------------------------------------------------------------------------ */
/* Statement texts for duckdb_get_table_names                                */

/* Appends `sub` in place of the text [from, to) of the request, with spaces
 * around it so that it never joins the tokens next to it. */
static void put_sub(Ctx *c, Buf *b, size_t *pos, size_t from, size_t to, const char *sub)
{
    buf_append(b, c->sql + *pos, from - *pos);
    buf_putc(b, ' ');
    buf_append_str(b, sub);
    buf_putc(b, ' ');
    *pos = to;
}

static bool is_setop_word(const Ctx *c, const Stmt *st, size_t i)
{
    if (!(kw(c, st, i, "union") || kw(c, st, i, "except") || kw(c, st, i, "intersect")))
        return false;
    /* UNION(a INT, ...) after AS or :: is a type. */
    if (is_open_paren(c, st, i + 1) && i > st->first &&
        (kw(c, st, i - 1, "as") ||
         (c->tok[i - 1].kind == SQLLEX_OP && c->tok[i - 1].len == 2 && tok_text(c, i - 1)[0] == ':')))
        return false;
    return true;
}

/* Whether the '*' at token i is a star (all columns) rather than a product. */
static bool is_star(const Ctx *c, const Stmt *st, size_t i)
{
    if (i == st->first)
        return true;
    const Tok *p = &c->tok[i - 1];
    return p->kind == SQLLEX_COMMA || p->kind == SQLLEX_OPEN || p->kind == SQLLEX_DOT || p->kind == SQLLEX_CLOSE ||
           kw(c, st, i - 1, "select") || kw(c, st, i - 1, "distinct") || kw(c, st, i - 1, "all") ||
           kw(c, st, i - 1, "returning");
}

/*
 * Whether the word at token i (REPLACE or RENAME) modifies a star, as in
 * `* EXCLUDE (a) REPLACE (expr AS b) RENAME (c AS d)`, rather than being a
 * function or a column. When unsure it says yes: the rewrite then makes a
 * function call a syntax error, which is denied, while taking a modifier for
 * a function would hide its expressions from DuckDB.
 */
static bool is_star_modifier(const Ctx *c, const Stmt *st, size_t i)
{
    if (i == st->first)
        return false;
    size_t p = i - 1;
    const Tok *t = &c->tok[p];
    if (t->kind == SQLLEX_CLOSE)
        return true;
    if (t->kind == SQLLEX_OP && t->len == 1 && tok_text(c, p)[0] == '*')
        return is_star(c, st, p);
    if (t->kind != SQLLEX_WORD && t->kind != SQLLEX_QUOTED)
        return false;
    size_t q = p; /* the start of a dotted name ending at p */
    while (q >= st->first + 2 && c->tok[q - 1].kind == SQLLEX_DOT &&
           (c->tok[q - 2].kind == SQLLEX_WORD || c->tok[q - 2].kind == SQLLEX_QUOTED))
        q -= 2;
    if (q > st->first && kw(c, st, q - 1, "exclude"))
        return true; /* `* EXCLUDE col REPLACE ...` */
    return t->kind == SQLLEX_QUOTED || !(cache_flags(tok_text(c, p), t->len) & S_KEYWORD);
}

/*
 * Appends the request's text of tokens [a, z) to b, with placeholders for
 * renamed names and NULL for parameters. A star's REPLACE list becomes plain
 * select items (`* REPLACE (e AS c)` is `*, e AS c`) and its RENAME list is
 * dropped: DuckDB's listing gives each table one dummy column, and drops a
 * REPLACE expression whose column is not there without binding it, so a
 * subquery in it would go unlisted. When `relaxed`, also rewrites what
 * DuckDB cannot bind when listing tables, keeping every table reference:
 * JOIN ... USING (cols) becomes ON TRUE, NATURAL and ASOF joins plain ones,
 * every set operation UNION ALL BY NAME, COLUMNS(...) and TRY(...) coalesce(...), and
 * unnest(...) in the place of a table (SELECT unnest(...)).
 */
static void emit(Ctx *c, const Stmt *st, Buf *b, size_t a, size_t z, bool relaxed)
{
    if (a >= z)
        return;
    size_t pos = c->tok[a].start;
    char ph[64];
    for (size_t i = a; i < z; i++) {
        const Tok *t = &c->tok[i];
        size_t last = i;
        const char *sub = NULL;
        bool called = i + 1 < z && is_open_paren(c, st, i + 1);
        if (t->kind == SQLLEX_PARAM) {
            sub = "NULL";
        } else if ((t->kind == SQLLEX_WORD || t->kind == SQLLEX_QUOTED) && !called) {
            size_t len = tok_name(c, i, &c->name);
            long k = nameset_find(&c->words, c->name.data, len);
            if (k >= 0 && (c->words.entries[k].flags & W_RENAME)) {
                snprintf(ph, sizeof(ph), "%s%ld_", RESERVED_PREFIX, k);
                sub = ph;
            }
        }
        bool group = called && c->tok[i + 1].match > 0 && (size_t)c->tok[i + 1].match < z;
        size_t close = group ? (size_t)c->tok[i + 1].match : i;
        if (!sub && kw(c, st, i, "replace") && is_star_modifier(c, st, i)) {
            /* `REPLACE (e AS c, ...)` is `, e AS c, ...`; in `REPLACE (e) AS c`
             * the group is the expression and stays. */
            bool list = group && !kw(c, st, close + 1, "as");
            buf_append(b, c->sql + pos, t->start - pos);
            buf_append_str(b, " , ");
            if (list) {
                emit(c, st, b, i + 2, close, relaxed);
                buf_putc(b, ' ');
                pos = c->tok[close].start + c->tok[close].len;
                i = close;
            } else {
                pos = t->start + t->len;
            }
            continue;
        }
        if (!sub && kw(c, st, i, "rename") && group && is_star_modifier(c, st, i)) {
            put_sub(c, b, &pos, t->start, c->tok[close].start + c->tok[close].len, "");
            i = close;
            continue;
        }
        if (!sub && relaxed && t->kind == SQLLEX_WORD) {
            if (kw(c, st, i, "using") && group) {
                sub = "ON TRUE";
                last = close;
            } else if (kw(c, st, i, "natural")) {
                sub = "CROSS";
                while (last + 1 < z &&
                       (kw(c, st, last + 1, "left") || kw(c, st, last + 1, "right") ||
                        kw(c, st, last + 1, "full") || kw(c, st, last + 1, "inner") ||
                        kw(c, st, last + 1, "outer")))
                    last++;
            } else if (kw(c, st, i, "asof")) {
                sub = "";
            } else if (is_setop_word(c, st, i)) {
                sub = "UNION ALL BY NAME";
                if (last + 1 < z && (kw(c, st, last + 1, "all") || kw(c, st, last + 1, "distinct")))
                    last++;
                if (last + 2 < z && kw(c, st, last + 1, "by") && kw(c, st, last + 2, "name"))
                    last += 2;
            } else if ((kw(c, st, i, "columns") || kw(c, st, i, "try")) && called) {
                sub = "coalesce";
            } else if (kw(c, st, i, "unnest") && group && in_from_position(c, st, i)) {
                /* unnest(...) as a table becomes the subquery (SELECT unnest(...)). */
                buf_append(b, c->sql + pos, t->start - pos);
                buf_append_str(b, " (SELECT unnest");
                emit(c, st, b, i + 1, close + 1, relaxed);
                buf_append_str(b, ") ");
                pos = c->tok[close].start + c->tok[close].len;
                i = close;
                continue;
            }
        }
        if (sub) {
            put_sub(c, b, &pos, t->start, c->tok[last].start + c->tok[last].len, sub);
            i = last;
        }
    }
    const Tok *end = &c->tok[z - 1];
    buf_append(b, c->sql + pos, end->start + end->len - pos);
}

/* Appends ", (v1), (v2)" for the values of assignments `col = value, ...`. */
static void emit_values(Ctx *c, const Stmt *st, Buf *b, Range r, bool relaxed)
{
    size_t item = r.a;
    while (item < r.b) {
        size_t eq;
        size_t end = assignment_end(c, item, r.b, &eq);
        if (eq + 1 < end && !(eq + 2 == end && kw(c, st, eq + 1, "default"))) {
            buf_append_str(b, ", (");
            emit(c, st, b, eq + 1, end, relaxed);
            buf_putc(b, ')');
        }
        item = end + 1;
    }
}

/*
 * Builds in c->text a statement whose table references are those of `st`
 * other than its target: the statement itself for a query; for INSERT,
 * UPDATE and DELETE a SELECT over their other clauses, with a one-row
 * stand-in named like the target so that column references still bind.
 */
static void build_text(Ctx *c, const Stmt *st, bool relaxed)
{
    Buf *b = &c->text;
    buf_reset(b, 1 << 16);
    if (st->kind == K_SELECT) {
        emit(c, st, b, st->body, st->end, relaxed);
        buf_cstr(b);
        return;
    }
    emit(c, st, b, st->with.a, st->with.b, relaxed);
    buf_append_str(b, " SELECT ");
    if (st->returning.b > st->returning.a)
        emit(c, st, b, st->returning.a, st->returning.b, relaxed);
    else
        buf_putc(b, '1');
    emit_values(c, st, b, st->set, relaxed);
    /* Column names only, as DuckDB's grammar has them; listed in case not. */
    if (st->conflict_target.b > st->conflict_target.a) {
        buf_append_str(b, ", (");
        emit(c, st, b, st->conflict_target.a, st->conflict_target.b, relaxed);
        buf_putc(b, ')');
    }
    buf_append_str(b, " FROM ");
    if (st->source.b > st->source.a) {
        buf_putc(b, '(');
        emit(c, st, b, st->source.a, st->source.b, relaxed);
        buf_append_str(b, ") AS " RESERVED_PREFIX "source, ");
    }
    buf_append_str(b, "(SELECT 1) AS ");
    emit(c, st, b, st->binding, st->binding + 1, relaxed);
    if (st->from.b > st->from.a) {
        buf_append_str(b, ", ");
        emit(c, st, b, st->from.a, st->from.b, relaxed);
    }
    const Range *conds[] = {&st->conflict_where, &st->where};
    const char *glue = " WHERE (";
    for (size_t k = 0; k < 2; k++) {
        if (conds[k]->b > conds[k]->a) {
            buf_append_str(b, glue);
            emit(c, st, b, conds[k]->a, conds[k]->b, relaxed);
            buf_putc(b, ')');
            glue = " AND (";
        }
    }
    buf_cstr(b);
}

/* ------------------------------------------------------------------------ */
/* Privileges                                                                */

static void add_denied(Ctx *c, const char *name, size_t len, uint32_t order)
{
    uint32_t k = nameset_add(&c->denied, name, len);
    NameEntry *e = &c->denied.entries[k];
    if (order < e->aux)
        e->aux = order;
}

/* The first token index of a name, for ordering the answer. */
static uint32_t first_seen(const Ctx *c, const char *name, size_t len)
{
    long k = nameset_find(&c->words, name, len);
    return k < 0 ? UINT32_MAX : c->words.entries[k].aux;
}

/*
 * Checks that the user holds `need` on the table named by `parts` (1 to 3
 * unquoted parts, placeholders already replaced), or records it as denied.
 */
static void check_table(Ctx *c, const char *const *parts, const size_t *lens, int n,
                        AuthzPrivileges need)
{
    const char *cat = c->user->catalog;
    const char *name = parts[n - 1];
    size_t len = lens[n - 1];
    uint32_t order = first_seen(c, name, len);
    bool inside = false, via_main = false;
    if (n == 1) {
        inside = true;
    } else if (n == 2) {
        via_main = name_is(parts[0], lens[0], "main");
        inside = via_main || name_eq(parts[0], lens[0], cat, strlen(cat));
    } else {
        inside = name_eq(parts[0], lens[0], cat, strlen(cat)) && name_is(parts[1], lens[1], "main");
    }
    if (!inside) {
        buf_reset(&c->msg, 4096);
        for (int k = 0; k < n; k++) {
            if (k)
                buf_putc(&c->msg, '.');
            buf_append(&c->msg, parts[k], lens[k]);
        }
        add_denied(c, c->msg.data, c->msg.len, order);
        return;
    }
    /* An unqualified name (or main.NAME) that is not a view of ours may reach
     * DuckDB's catalog views, which come after schema main in the search path. */
    long w = nameset_find(&c->words, name, len);
    bool main_view = w >= 0 && (c->words.entries[w].flags & W_MAIN_VIEW);
    uint32_t sv = cache_flags(name, len);
    if (w >= 0) /* name it as first written */
        name = nameset_name(&c->words, (uint32_t)w);
    if (!main_view && ((n == 1 && (sv & S_SV_BARE)) || (via_main && (sv & S_SV_MAIN)))) {
        add_denied(c, name, len, order);
        return;
    }
    char *copy = xrealloc(NULL, len + 1);
    memcpy(copy, name, len);
    copy[len] = '\0';
    AuthzPrivileges have = c->user->table_privileges(c->user->ctx, copy) & c->user->cap;
    if ((have & need) != need)
        add_denied(c, name, len, order);
    if (c->plan) {
        AuthzPlan *p = c->plan;
        if (p->n == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 4;
            p->items = xrealloc(p->items, p->cap * sizeof(*p->items));
        }
        p->items[p->n++] = (PlanItem){.name = copy, .len = len, .need = need, .order = order};
    } else {
        free(copy);
    }
}

/* The index in c->words of the name a placeholder stands for, or -1 when
 * `s` is not one of our placeholders. */
static long placeholder_of(const Ctx *c, const char *s, size_t len)
{
    if (len <= RESERVED_PREFIX_LEN + 1 || strncmp(s, RESERVED_PREFIX, RESERVED_PREFIX_LEN) != 0 ||
        s[len - 1] != '_' || !isdigit((unsigned char)s[RESERVED_PREFIX_LEN]))
        return -1;
    char *end = NULL;
    unsigned long k = strtoul(s + RESERVED_PREFIX_LEN, &end, 10);
    if (end != s + len - 1 || k >= c->words.n)
        return -1;
    return (long)k;
}

/* Checks a table DuckDB listed (any table but a statement's target): it needs SELECT. */
static int table_listed(Ctx *c, const Parsed *p, void *arg)
{
    (void)arg;
    Buf keep = BUF_INIT;
    const char *parts[3];
    size_t offs[3], lens[3];
    for (int k = 0; k < p->n; k++) {
        const char *s = c->parts.data + p->off[k];
        size_t len = p->len[k];
        long w = placeholder_of(c, s, len);
        if (w >= 0) {
            s = nameset_name(&c->words, (uint32_t)w);
            len = c->words.entries[w].len;
        }
        offs[k] = keep.len;
        lens[k] = len;
        buf_append(&keep, s, len);
        buf_putc(&keep, '\0');
    }
    for (int k = 0; k < p->n; k++)
        parts[k] = keep.data + offs[k];
    check_table(c, parts, lens, p->n, AUTHZ_SELECT);
    buf_free(&keep);
    return 0;
}

static void check_target(Ctx *c, const Stmt *st)
{
    Buf keep = BUF_INIT;
    const char *parts[3];
    size_t lens[3], offs[3];
    int n = 0;
    for (size_t i = st->target_first; i <= st->target_last && n < 3; i += 2) {
        size_t len = tok_name(c, i, &c->name);
        offs[n] = keep.len;
        lens[n] = len;
        buf_append(&keep, c->name.data, len);
        buf_putc(&keep, '\0');
        n++;
    }
    for (int k = 0; k < n; k++)
        parts[k] = keep.data + offs[k];
    check_table(c, parts, lens, n, st->target_privs);
    buf_free(&keep);
}

typedef struct Order {
    uint32_t aux, idx;
} Order;

static int order_cmp(const void *a, const void *b)
{
    const Order *x = a, *y = b;
    if (x->aux != y->aux)
        return x->aux < y->aux ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int deny_tables(Ctx *c)
{
    uint32_t n = c->denied.n;
    Order *o = xrealloc(NULL, n * sizeof(*o));
    for (uint32_t k = 0; k < n; k++)
        o[k] = (Order){c->denied.entries[k].aux, k};
    qsort(o, n, sizeof(*o), order_cmp);
    buf_reset(&c->msg, 4096);
    buf_printf(&c->msg, "Access Denied: User \"%s\" does not have access over Tables \"",
               c->user->name);
    for (uint32_t k = 0; k < n; k++) {
        if (k)
            buf_putc(&c->msg, ',');
        buf_append(&c->msg, nameset_name(&c->denied, o[k].idx), c->denied.entries[o[k].idx].len);
    }
    buf_putc(&c->msg, '"');
    free(o);
    query_append_error(c->err_out, buf_cstr(&c->msg));
    c->verdict = V_OTHER;
    return -1;
}

/* ------------------------------------------------------------------------ */

static duckdb_statement_type expected_type(const Stmt *st)
{
    if (st->explain)
        return DUCKDB_STATEMENT_TYPE_EXPLAIN;
    switch (st->kind) {
    case K_SELECT:
        return DUCKDB_STATEMENT_TYPE_SELECT;
    case K_INSERT:
        return DUCKDB_STATEMENT_TYPE_INSERT;
    case K_UPDATE:
        return DUCKDB_STATEMENT_TYPE_UPDATE;
    case K_DELETE:
    case K_TRUNCATE:
        return DUCKDB_STATEMENT_TYPE_DELETE;
    }
    return DUCKDB_STATEMENT_TYPE_INVALID;
}

/* Prepares statement k; returns 0, or -1 with DuckDB's error or a type mismatch answered. */
static int prepare_one(Ctx *c, duckdb_extracted_statements stmts, size_t k)
{
    duckdb_prepared_statement prep = NULL;
    int rc = 0;
    if (duckdb_prepare_extracted_statement(c->con, stmts, k, &prep) != DuckDBSuccess)
        rc = duckdb_error(c, duckdb_prepare_error(prep));
    else if (duckdb_prepared_statement_type(prep) != expected_type(&c->st[k]))
        rc = cannot_verify(c, "statement %zu is not of the kind it looks like", k + 1);
    duckdb_destroy_prepare(&prep);
    return rc;
}

/* Lists the tables statement k reads and checks them. Returns 0 or -1 (answered). */
static int check_reads(Ctx *c, duckdb_extracted_statements stmts, size_t k)
{
    const Stmt *st = &c->st[k];
    if (st->kind == K_TRUNCATE)
        return 0;
    build_text(c, st, false);
    duckdb_value list = duckdb_get_table_names(c->con, c->text.data, true);
    if (!list) {
        build_text(c, st, true);
        list = duckdb_get_table_names(c->con, c->text.data, true);
    }
    if (!list) {
        if (prepare_one(c, stmts, k) != 0)
            return -1;
        return cannot_verify(c, "DuckDB cannot list the tables of statement %zu", k + 1);
    }
    int rc = each_listed(c, list, table_listed, NULL);
    duckdb_destroy_value(&list);
    return rc;
}

static void ctx_free(Ctx *c)
{
    free(c->tok);
    free(c->st);
    nameset_free(&c->words);
    nameset_free(&c->denied);
    buf_free(&c->text);
    buf_free(&c->name);
    buf_free(&c->parts);
    buf_free(&c->msg);
}

void authz_plan_free(AuthzPlan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n; i++)
        free(plan->items[i].name);
    free(plan->items);
    free(plan);
}

int authz_recheck(const AuthzPlan *plan, const AuthzUser *user, Buf *err_out)
{
    Ctx c = {.user = user, .err_out = err_out};
    int rc = 0;
    if (!user->table_privileges) {
        rc = cannot_verify(&c, "the database is not known");
        goto out;
    }
    /* The same lookups, in the same order, as check_table made for the
     * plan; only the grants are read anew. */
    for (size_t i = 0; i < plan->n; i++) {
        const PlanItem *it = &plan->items[i];
        AuthzPrivileges have = user->table_privileges(user->ctx, it->name) & user->cap;
        if ((have & it->need) != it->need)
            add_denied(&c, it->name, it->len, it->order);
    }
    if (c.denied.n > 0)
        rc = deny_tables(&c);
out:
    ctx_free(&c);
    return rc;
}

int authz_check(duckdb_connection con, const char *sql, const AuthzUser *user, Buf *err_out)
{
    return authz_check_plan(con, sql, user, err_out, NULL);
}

int authz_check_plan(duckdb_connection con, const char *sql, const AuthzUser *user, Buf *err_out,
                     AuthzPlan **out_plan)
{
    Ctx c = {.con = con, .sql = sql, .user = user, .err_out = err_out};
    if (out_plan) {
        *out_plan = NULL;
        c.plan = calloc(1, sizeof(*c.plan));
        if (!c.plan)
            log_fatal("out of memory");
    }
    duckdb_extracted_statements stmts = NULL;
    Buf err = BUF_INIT, pending = BUF_INIT;
    bool lexed = false, any = false, unsure = false;
    idx_t n = 0;
    int rc = -1;

    if (!user->catalog || !user->catalog[0] || !user->table_privileges) {
        rc = cannot_verify(&c, "the database is not known");
        goto out;
    }
    if (strlen(sql) >= UINT32_MAX / 2) {
        rc = cannot_verify(&c, "the request is too long");
        goto out;
    }
    if (cache_load(con, &err) != 0) {
        rc = cannot_verify(&c, "cannot read DuckDB's function names: %.200s", buf_cstr(&err));
        goto out;
    }

    /*
     * First what the tokens alone tell, before DuckDB parses anything: its
     * parser expands PRAGMA and IMPORT DATABASE statements, and IMPORT reads
     * files while doing so. A denied statement kind or function is answered
     * at once; an unsure verdict waits for DuckDB's parse, whose syntax
     * error is the better answer when there is one.
     */
    lexed = tokenize(&c) == 0;
    if (lexed) {
        split_statements(&c);
        mark_from_lists(&c);
        Buf *answer = c.err_out;
        c.err_out = &pending;
        for (size_t k = 0; k < c.nst; k++) {
            size_t mark = pending.len;
            if (classify(&c, &c.st[k]) == 0 && check_tokens(&c, &c.st[k]) == 0)
                continue;
            if (c.verdict == V_DENIED) {
                c.err_out = answer;
                buf_append(answer, pending.data + mark, pending.len - mark);
                goto out;
            }
            if (unsure)
                pending.len = mark; /* the first unsure answer is the one given */
            unsure = true;
        }
        c.err_out = answer;
    }
    n = duckdb_extract_statements(con, sql, &stmts);
    if (n == 0) {
        const char *e = duckdb_extract_statements_error(stmts);
        rc = duckdb_error(&c, e ? e : "Parser Error: no statement");
        goto out;
    }
    if (unsure) {
        buf_append(err_out, pending.data, pending.len);
        goto out;
    }
    if (!lexed || !c.balanced || c.nst != n) {
        rc = cannot_verify(&c, "the request does not split into statements as DuckDB splits it");
        goto out;
    }
    /* Then the tables, named as DuckDB's binder resolves them. */
    for (size_t k = 0; k < c.nst; k++) {
        if (c.st[k].kind != K_TRUNCATE) {
            collect_names(&c, &c.st[k]);
            any = true;
        }
    }
    if (any && find_views(&c) != 0)
        goto out;
    choose_renames(&c);
    for (size_t k = 0; k < c.nst; k++) {
        if (c.st[k].kind != K_SELECT)
            check_target(&c, &c.st[k]);
        if (check_reads(&c, stmts, k) != 0)
            goto out;
    }
    if (c.denied.n > 0) {
        rc = deny_tables(&c);
        goto out;
    }
    /* Last, DuckDB's verdict on each statement as it will run. */
    for (size_t k = 0; k < c.nst; k++)
        if (prepare_one(&c, stmts, k) != 0)
            goto out;
    rc = 0;
    if (out_plan) {
        *out_plan = c.plan;
        c.plan = NULL;
    }
out:
    authz_plan_free(c.plan);
    duckdb_destroy_extracted(&stmts);
    buf_free(&err);
    buf_free(&pending);
    ctx_free(&c);
    return rc;
}
