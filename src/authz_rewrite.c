/*
 * authz_rewrite: the texts the classifier sends to DuckDB's
 * duckdb_get_table_names. See authz_int.h.
 *
 * That call lists the tables a statement refers to, but never the target
 * of INSERT, UPDATE or DELETE, fails on most such statements, lists a
 * view's tables instead of the view, and fails or drops expressions on
 * some valid queries. So each statement is rewritten into a SELECT with
 * the same table references (the target replaced by a one-row stand-in),
 * names that could be views or DuckDB's catalog views are replaced by
 * placeholders (RESERVED_PREFIX, then the name's index in c->words) that
 * name nothing, and a relaxed rewrite is available for the shapes DuckDB
 * cannot bind in that mode. Only the request's own text and these
 * rewrites ever reach DuckDB, and only to be parsed and bound.
 *
 * Works on one Ctx on the calling thread; reads the built-in names cache.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_int.h"

/*
 * Records every name of the statements DuckDB will be asked about in
 * c->words, with the index of its first token, and which of them to ask the
 * probe about: names not followed by '(' that could name a table unquoted.
 */
void authz_collect_names(Ctx *c, const Stmt *st)
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
        uint32_t f = authz_builtin_flags(c->name.data, len);
        if (i >= st->first + 2 && c->tok[i - 1].kind == SQLLEX_DOT &&
            (c->tok[i - 2].kind == SQLLEX_WORD || c->tok[i - 2].kind == SQLLEX_QUOTED))
            e->flags |= W_CHAIN_LAST;
        if (t->kind == SQLLEX_QUOTED || !(f & S_RESERVED))
            e->flags |= W_PROBE;
    }
}

/* After find_views: which names to replace by placeholders. */
void authz_choose_renames(Ctx *c)
{
    for (uint32_t k = 0; k < c->words.n; k++) {
        NameEntry *e = &c->words.entries[k];
        if ((e->flags & (W_CHAIN_LAST | W_MAIN_VIEW)) ||
            (authz_builtin_flags(nameset_name(&c->words, k), e->len) & S_SV))
            e->flags |= W_RENAME;
    }
}

/* The index in c->words of the name a placeholder stands for, or -1 when
 * `s` is not one of our placeholders. */
long authz_placeholder_of(const Ctx *c, const char *s, size_t len)
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
        (kw(c, st, i - 1, "as") || (c->tok[i - 1].kind == SQLLEX_OP && c->tok[i - 1].len == 2 &&
                                    tok_text(c, i - 1)[0] == ':')))
        return false;
    return true;
}

/* Whether the '*' at token i is a star (all columns) rather than a product. */
static bool is_star(const Ctx *c, const Stmt *st, size_t i)
{
    if (i == st->first)
        return true;
    const Tok *p = &c->tok[i - 1];
    return p->kind == SQLLEX_COMMA || p->kind == SQLLEX_OPEN || p->kind == SQLLEX_DOT ||
           p->kind == SQLLEX_CLOSE || kw(c, st, i - 1, "select") || kw(c, st, i - 1, "distinct") ||
           kw(c, st, i - 1, "all") || kw(c, st, i - 1, "returning");
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
    return t->kind == SQLLEX_QUOTED || !(authz_builtin_flags(tok_text(c, p), t->len) & S_KEYWORD);
}

/* Whether tokens i, i + 1 (before z) are a positional reference `#n`. */
static bool is_positional(const Ctx *c, size_t i, size_t z)
{
    return i + 1 < z && c->tok[i].kind == SQLLEX_OP && c->tok[i].len == 1 &&
           tok_text(c, i)[0] == '#' && c->tok[i + 1].kind == SQLLEX_NUMBER;
}

/*
 * Appends the request's text of tokens [a, z) to b, with placeholders for
 * renamed names and NULL for parameters and positional references. A star's REPLACE list becomes
 * plain select items (`* REPLACE (e AS c)` is `*, e AS c`) and its RENAME list is dropped: DuckDB's
 * listing gives each table one dummy column, and drops a REPLACE expression whose column is not
 * there without binding it, so a subquery in it would go unlisted. When `relaxed`, also rewrites
 * what DuckDB cannot bind when listing tables, keeping every table reference: JOIN ... USING (cols)
 * becomes ON TRUE, NATURAL and ASOF joins plain ones, every set operation UNION ALL BY NAME,
 * COLUMNS(...) and TRY(...) coalesce(...), unnest(...) in the place of a table (SELECT
 * unnest(...)), and the column lists of table aliases and CTEs are dropped (`t(a, b)` is `t`).
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
        } else if (is_positional(c, i, z)) {
            /* `#n` names a column, never a table, so it lists nothing; what
             * it reads is accounted for on the tokens (assignments_read).
             * The stand-in of a target has one column: `#2` would not bind. */
            sub = "NULL";
            last = i + 1;
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
        if (!sub && relaxed && group && authz_is_column_list(c, st, i)) {
            /* `t(a, b)` is `t`: in DuckDB's listing mode a table has one
             * column, so a list of two names fails, while names that are
             * not there bind all the same. */
            buf_append(b, c->sql + pos, t->start + t->len - pos);
            buf_putc(b, ' ');
            pos = c->tok[close].start + c->tok[close].len;
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
            } else if (kw(c, st, i, "unnest") && group && authz_in_from_position(c, st, i)) {
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
        size_t end = authz_assignment_end(c, item, r.b, &eq);
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
void authz_build_text(Ctx *c, const Stmt *st, bool relaxed)
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
