/*
 * pgwire_catrewrite: the text the catalog instance runs for a client's
 * catalog query. See pgwire_catrewrite.h.
 */
#include "pgwire_catrewrite.h"

#include <stdlib.h>
#include <string.h>

#include "sqllex.h"
#include "xalloc.h"

static bool is_word(const char *sql, const SqlToken *t, const char *lower)
{
    if (t->kind == SQLLEX_WORD)
        return sqllex_is_word(sql, t, lower);
    if (t->kind != SQLLEX_QUOTED)
        return false;
    Buf name = BUF_INIT;
    sqllex_identifier(sql, t, &name);
    bool same = strcmp(buf_cstr(&name), lower) == 0;
    buf_free(&name);
    return same;
}

/*
 * Appends operator `op` (`ol` bytes) applied to the pattern token `pat`:
 * PostgreSQL's regular expression operators match anywhere in the text,
 * DuckDB's ~ the whole text, so the pattern is wrapped to match anywhere;
 * ~* and !~* (which DuckDB lacks) become ~ and !~ with the case-insensitive
 * flag. Returns false (nothing appended) for any other operator.
 */
static bool regex_op(const char *sql, const char *op, size_t ol, const SqlToken *pat, Buf *out)
{
    bool negate = ol >= 1 && op[0] == '!';
    const char *rest = negate ? op + 1 : op;
    size_t rl = negate ? ol - 1 : ol;
    bool icase = rl == 2 && memcmp(rest, "~*", 2) == 0;
    if (!icase && !(rl == 1 && rest[0] == '~'))
        return false;
    buf_printf(out, " %s ('(?%ss:.*(?:' || ", negate ? "!~" : "~", icase ? "i" : "");
    buf_append(out, sql + pat->offset, pat->length);
    buf_append_str(out, " || ').*)')");
    return true;
}

bool catrw_text(const char *sql, Buf *out)
{
    SqlLexer lx;
    size_t len = strlen(sql), cap = 64, n = 0;
    SqlToken *t = xmalloc(cap * sizeof(*t));
    SqlToken tok;
    int rc;
    sqllex_init(&lx, sql, len, 0);
    while ((rc = sqllex_next(&lx, &tok)) > 0) {
        if (n == cap) {
            cap *= 2;
            t = xrealloc(t, cap * sizeof(*t));
        }
        t[n++] = tok;
    }
    out->len = 0;
    if (rc < 0) {
        free(t);
        return false;
    }
    size_t copied = 0; /* bytes of `sql` before this offset are in `out` */
#define COPY_TO(off)                                                                               \
    do {                                                                                           \
        buf_append(out, sql + copied, (off)-copied);                                               \
        copied = (off);                                                                            \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        /* information_schema._pg_expandarray(a): the TEMP macro (pgjdbc reads an index's
         * keys with it). */
        if (i + 2 < n && is_word(sql, &t[i], "information_schema") && t[i + 1].kind == SQLLEX_DOT &&
            is_word(sql, &t[i + 2], "_pg_expandarray")) {
            COPY_TO(t[i].offset);
            copied = t[i + 2].offset;
            i++;
            continue;
        }
        /* pg_catalog.x -> x: the TEMP objects come first on DuckDB's search path. */
        if (i + 1 < n && is_word(sql, &t[i], "pg_catalog") && t[i + 1].kind == SQLLEX_DOT) {
            COPY_TO(t[i].offset);
            copied = t[i + 1].offset + t[i + 1].length;
            i++;
            continue;
        }
        /* OPERATOR(pg_catalog.~) -> ~ */
        if (i + 5 < n && sqllex_is_word(sql, &t[i], "operator") && t[i + 1].kind == SQLLEX_OPEN &&
            is_word(sql, &t[i + 2], "pg_catalog") && t[i + 3].kind == SQLLEX_DOT &&
            t[i + 4].kind == SQLLEX_OP && t[i + 5].kind == SQLLEX_CLOSE) {
            COPY_TO(t[i].offset);
            if (i + 6 < n && (t[i + 6].kind == SQLLEX_STRING || t[i + 6].kind == SQLLEX_PARAM) &&
                regex_op(sql, sql + t[i + 4].offset, t[i + 4].length, &t[i + 6], out)) {
                copied = t[i + 6].offset + t[i + 6].length;
                i += 6;
                continue;
            }
            buf_append(out, " ", 1);
            buf_append(out, sql + t[i + 4].offset, t[i + 4].length);
            buf_append(out, " ", 1);
            copied = t[i + 5].offset + t[i + 5].length;
            i += 5;
            continue;
        }
        /* COLLATE pg_catalog."default" / "C" / "POSIX": DuckDB's default ordering is bytewise. */
        if (i + 1 < n && sqllex_is_word(sql, &t[i], "collate")) {
            size_t k = i + 1;
            if (k + 1 < n && is_word(sql, &t[k], "pg_catalog") && t[k + 1].kind == SQLLEX_DOT)
                k += 2;
            if (k < n && (is_word(sql, &t[k], "default") || is_word(sql, &t[k], "C") ||
                          is_word(sql, &t[k], "POSIX"))) {
                COPY_TO(t[i].offset);
                copied = t[k].offset + t[k].length;
                i = k;
                continue;
            }
        }
        /* 'name'::regclass -> _tdb_regclass('name'); x::regclass -> x::BIGINT (an oid) */
        if (i + 2 < n && t[i + 1].kind == SQLLEX_OP && t[i + 1].length == 2 &&
            memcmp(sql + t[i + 1].offset, "::", 2) == 0) {
            size_t k = i + 2;
            if (k + 1 < n && is_word(sql, &t[k], "pg_catalog") && t[k + 1].kind == SQLLEX_DOT)
                k += 2;
            const char *fn = NULL, *as = NULL;
            if (is_word(sql, &t[k], "regclass"))
                fn = "_tdb_regclass", as = "BIGINT";
            else if (is_word(sql, &t[k], "regtype"))
                fn = "_tdb_regtype", as = "BIGINT";
            else if (is_word(sql, &t[k], "regproc") || is_word(sql, &t[k], "regprocedure") ||
                     is_word(sql, &t[k], "regnamespace") || is_word(sql, &t[k], "regrole") ||
                     is_word(sql, &t[k], "name") || is_word(sql, &t[k], "int2vector") ||
                     is_word(sql, &t[k], "oidvector") || is_word(sql, &t[k], "char"))
                as = "VARCHAR";
            if (as && fn && t[i].kind == SQLLEX_STRING) {
                COPY_TO(t[i].offset);
                buf_printf(out, "%s(", fn);
                buf_append(out, sql + t[i].offset, t[i].length);
                buf_append(out, ")", 1);
                copied = t[k].offset + t[k].length;
                i = k;
                continue;
            }
            if (as) {
                COPY_TO(t[i + 1].offset);
                buf_printf(out, "::%s", as);
                copied = t[k].offset + t[k].length;
                i = k;
                continue;
            }
        }
        /* a ~ 'pattern': see regex_op() */
        if (i + 1 < n && t[i].kind == SQLLEX_OP &&
            (t[i + 1].kind == SQLLEX_STRING || t[i + 1].kind == SQLLEX_PARAM)) {
            size_t mark = out->len;
            COPY_TO(t[i].offset);
            if (regex_op(sql, sql + t[i].offset, t[i].length, &t[i + 1], out)) {
                copied = t[i + 1].offset + t[i + 1].length;
                i++;
                continue;
            }
            (void)mark;
        }
        /* current_user / session_user (no parentheses): the session's user. */
        if ((sqllex_is_word(sql, &t[i], "current_user") ||
             sqllex_is_word(sql, &t[i], "session_user")) &&
            (i + 1 >= n || t[i + 1].kind != SQLLEX_OPEN) &&
            (i == 0 || t[i - 1].kind != SQLLEX_DOT)) {
            COPY_TO(t[i].offset);
            buf_append_str(out, "_tdb_user()");
            /* In a select list, named as PostgreSQL names the column. */
            bool item_start = i > 0 && (t[i - 1].kind == SQLLEX_COMMA ||
                                        sqllex_is_word(sql, &t[i - 1], "select"));
            bool item_end = i + 1 >= n || t[i + 1].kind == SQLLEX_COMMA ||
                            t[i + 1].kind == SQLLEX_SEMI || sqllex_is_word(sql, &t[i + 1], "from");
            if (item_start && item_end)
                buf_printf(out, " AS \"%s\"",
                           sqllex_is_word(sql, &t[i], "current_user") ? "current_user"
                                                                      : "session_user");
            copied = t[i].offset + t[i].length;
            continue;
        }
    }
    COPY_TO(len);
#undef COPY_TO
    free(t);
    return true;
}
