/*
 * authz: the statement classifier behind table grants. See authz.h.
 *
 * DuckDB's own parser and binder do the classifying:
 * duckdb_extract_statements splits the request, preparing each statement
 * gives its type, and duckdb_get_table_names lists the tables a statement
 * refers to. That API has gaps (measured on DuckDB 1.5; see
 * docs/access-control.md), and our own reading of the text fills them,
 * on tokens from sqllex.c, which follows the lexical rules of DuckDB's
 * scanner exactly, so that it never sees code where DuckDB sees a string
 * or the reverse. With it we:
 *   - deny statement kinds and functions before DuckDB parses anything,
 *     because its parser expands PRAGMA and IMPORT DATABASE statements, and
 *     IMPORT reads files while doing so (authz_parse.c);
 *   - split the request into statement texts, since duckdb_get_table_names
 *     takes one statement, and require DuckDB's count to be the same;
 *   - find the target of INSERT, UPDATE and DELETE, which the API never
 *     lists, and rewrite the rest of the statement into a SELECT with the
 *     same table references, because the API fails on every UPDATE and
 *     DELETE and on most INSERTs (authz_rewrite.c);
 *   - rename views and other names to placeholders that name nothing before
 *     asking, because the binder lists a view's underlying tables instead of
 *     the view, and lists nothing for DuckDB's catalog views (this file
 *     probes which names are views);
 *   - deny calls of table functions and of functions that read settings,
 *     variables, sequences or the catalog, which the API does not list
 *     (authz_parse.c, with the names of authz_builtins.c).
 * The API binds in a mode where every table has one dummy column. Some valid
 * statements fail there (JOIN ... USING, set operations of different
 * widths, parameters); they are retried once with a relaxed rewrite that
 * keeps every table reference. Worse, the mode silently drops the
 * expressions of a star's REPLACE list, so those are always rewritten into
 * plain select items. Whatever still cannot be classified is denied.
 *
 * This file holds the steps of a check in order (authz_check_plan), the
 * probe for views, the privileges of each table DuckDB lists and of each
 * target, the answers, and authz_recheck. authz_int.h describes the layers.
 *
 * Only texts built here and the request's own statements go to DuckDB, and
 * only to be parsed, bound and prepared: nothing executes.
 *
 * Thread-safety: no state is shared between calls except the cache of
 * DuckDB's function, keyword and system view names (authz_builtins.c),
 * which is filled once under its lock and read-only afterwards.
 */
#include "authz.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_int.h"
#include "reply.h"

/* Names sent to one probe of which names are views (see find_views). */
#define PROBE_MAX_NAMES 512

/* ------------------------------------------------------------------------ */
/* Answers                                                                   */

/* Answers "Access Denied: <prefix><name> is not allowed for user "U"". */
int authz_deny_what(Ctx *c, const char *prefix, const char *name, size_t len, bool upper)
{
    buf_reset(&c->msg, 4096);
    buf_printf(&c->msg, "Access Denied: %s", prefix);
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        buf_putc(&c->msg, upper && ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch);
    }
    buf_printf(&c->msg, " is not allowed for user \"%s\"", c->user->name);
    reply_engine_error(c->err_out, buf_cstr(&c->msg));
    c->verdict = V_DENIED;
    return -1;
}

/*
 * Denies a statement kind named by the word at token i (shown upper case).
 * A word that is no SQL keyword is most likely a typo: the verdict is then
 * unsure, so that DuckDB's syntax error is the answer when it has one.
 */
int authz_deny_kind(Ctx *c, size_t i)
{
    if (c->tok[i].kind != SQLLEX_WORD) {
        authz_deny_what(c, "this statement", "", 0, false);
        c->verdict = V_UNSURE;
        return -1;
    }
    authz_deny_what(c, "", tok_text(c, i), c->tok[i].len, true);
    if (!(authz_builtin_flags(tok_text(c, i), c->tok[i].len) & S_KEYWORD))
        c->verdict = V_UNSURE;
    return -1;
}

int authz_cannot_verify(Ctx *c, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    buf_reset(&c->msg, 4096);
    buf_printf(&c->msg, "Access Denied: cannot verify this statement's access: %s", reason);
    reply_engine_error(c->err_out, buf_cstr(&c->msg));
    c->verdict = V_UNSURE;
    return -1;
}

/* DuckDB's message without the lines that suggest other names. */
int authz_duckdb_error(Ctx *c, const char *msg)
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
    reply_engine_error(c->err_out, buf_cstr(&c->msg));
    c->verdict = V_OTHER;
    return -1;
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
            rc = authz_cannot_verify(c, "cannot read a table name DuckDB listed");
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
    if (authz_each_row(c->con, views, view_listed, c, &err) != 0)
        rc = authz_duckdb_error(c, buf_cstr(&err));
    buf_free(&err);
    return rc;
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
        via_main = nameset_eq_str(parts[0], lens[0], "main");
        inside = via_main || nameset_eq(parts[0], lens[0], cat, strlen(cat));
    } else {
        inside = nameset_eq(parts[0], lens[0], cat, strlen(cat)) &&
                 nameset_eq_str(parts[1], lens[1], "main");
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
    uint32_t sv = authz_builtin_flags(name, len);
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
        long w = authz_placeholder_of(c, s, len);
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
    reply_engine_error(c->err_out, buf_cstr(&c->msg));
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

/*
 * Prepares statement k; returns 0, or -1 with DuckDB's error or a type mismatch answered. When
 * `keep` is not NULL and the statement is accepted, *keep receives it (the caller's to destroy).
 */
static int prepare_one(Ctx *c, duckdb_extracted_statements stmts, size_t k,
                       duckdb_prepared_statement *keep)
{
    duckdb_prepared_statement prep = NULL;
    int rc = 0;
    if (duckdb_prepare_extracted_statement(c->con, stmts, k, &prep) != DuckDBSuccess)
        rc = authz_duckdb_error(c, duckdb_prepare_error(prep));
    else if (duckdb_prepared_statement_type(prep) != expected_type(&c->st[k]))
        rc = authz_cannot_verify(c, "statement %zu is not of the kind it looks like", k + 1);
    if (rc == 0 && keep) {
        *keep = prep;
        prep = NULL;
    }
    duckdb_destroy_prepare(&prep);
    return rc;
}

/* Lists the tables statement k reads and checks them. Returns 0 or -1 (answered). */
static int check_reads(Ctx *c, duckdb_extracted_statements stmts, size_t k)
{
    const Stmt *st = &c->st[k];
    if (st->kind == K_TRUNCATE)
        return 0;
    authz_build_text(c, st, false);
    duckdb_value list = duckdb_get_table_names(c->con, c->text.data, true);
    if (!list) {
        authz_build_text(c, st, true);
        list = duckdb_get_table_names(c->con, c->text.data, true);
    }
    if (!list) {
        if (prepare_one(c, stmts, k, NULL) != 0)
            return -1;
        return authz_cannot_verify(c, "DuckDB cannot list the tables of statement %zu", k + 1);
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
        rc = authz_cannot_verify(&c, "the database is not known");
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
    return authz_check_prepare(con, sql, user, err_out, out_plan, NULL);
}

int authz_check_prepare(duckdb_connection con, const char *sql, const AuthzUser *user, Buf *err_out,
                        AuthzPlan **out_plan, duckdb_prepared_statement *out_prep)
{
    Ctx c = {.con = con, .sql = sql, .user = user, .err_out = err_out};
    duckdb_prepared_statement prep = NULL;
    if (out_prep)
        *out_prep = NULL;
    if (out_plan) {
        *out_plan = NULL;
        c.plan = xcalloc(1, sizeof(*c.plan));
    }
    duckdb_extracted_statements stmts = NULL;
    Buf err = BUF_INIT, pending = BUF_INIT;
    bool lexed = false, any = false, unsure = false;
    idx_t n = 0;
    int rc = -1;

    if (!user->catalog || !user->catalog[0] || !user->table_privileges) {
        rc = authz_cannot_verify(&c, "the database is not known");
        goto out;
    }
    if (strlen(sql) >= UINT32_MAX / 2) {
        rc = authz_cannot_verify(&c, "the request is too long");
        goto out;
    }
    /* DuckDB's scanner is quadratic on some texts (sqllex.h); refuse them
     * before it reads them. The session checks every user's request the
     * same way; this keeps the check whoever calls authz. */
    const char *bound = sqllex_check_bounds(sql, strlen(sql));
    if (bound) {
        buf_reset(&c.msg, 4096);
        buf_printf(&c.msg, "Bad Request: %s", bound);
        reply_engine_error(err_out, buf_cstr(&c.msg));
        c.verdict = V_OTHER;
        goto out;
    }
    if (authz_builtins_load(con, &err) != 0) {
        rc = authz_cannot_verify(&c, "cannot read DuckDB's function names: %.200s", buf_cstr(&err));
        goto out;
    }

    /*
     * First what the tokens alone tell, before DuckDB parses anything: its
     * parser expands PRAGMA and IMPORT DATABASE statements, and IMPORT reads
     * files while doing so. A denied statement kind or function is answered
     * at once; an unsure verdict waits for DuckDB's parse, whose syntax
     * error is the better answer when there is one.
     */
    lexed = authz_lex(&c) == 0;
    if (lexed) {
        Buf *answer = c.err_out;
        c.err_out = &pending;
        for (size_t k = 0; k < c.nst; k++) {
            size_t mark = pending.len;
            if (authz_classify(&c, &c.st[k]) == 0 && authz_check_tokens(&c, &c.st[k]) == 0)
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
        rc = authz_duckdb_error(&c, e ? e : "Parser Error: no statement");
        goto out;
    }
    if (unsure) {
        buf_append(err_out, pending.data, pending.len);
        goto out;
    }
    if (!lexed || !c.balanced || c.nst != n) {
        rc = authz_cannot_verify(&c,
                                 "the request does not split into statements as DuckDB splits it");
        goto out;
    }
    /* Then the tables, named as DuckDB's binder resolves them. */
    for (size_t k = 0; k < c.nst; k++) {
        if (c.st[k].kind != K_TRUNCATE) {
            authz_collect_names(&c, &c.st[k]);
            any = true;
        }
    }
    if (any && find_views(&c) != 0)
        goto out;
    authz_choose_renames(&c);
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
    /* Last, DuckDB's verdict on each statement as it will run. The statement of a request of
     * one is the one that runs (out_prep), so it is prepared once. */
    for (size_t k = 0; k < c.nst; k++)
        if (prepare_one(&c, stmts, k, out_prep && c.nst == 1 ? &prep : NULL) != 0)
            goto out;
    rc = 0;
    if (out_plan) {
        *out_plan = c.plan;
        c.plan = NULL;
    }
    if (out_prep) {
        *out_prep = prep;
        prep = NULL;
    }
out:
    duckdb_destroy_prepare(&prep);
    authz_plan_free(c.plan);
    duckdb_destroy_extracted(&stmts);
    buf_free(&err);
    buf_free(&pending);
    ctx_free(&c);
    return rc;
}
