/*
 * pgwire_catpsql: psql's catalog queries. See pgwire_catpsql.h and
 * docs/pgwire.md#catalog. The queries were captured with `psql -E` against
 * PostgreSQL 15; the markers below are quoted from them.
 */
#include "pgwire_catpsql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire_catmodel.h"
#include "xalloc.h"

/* ---- the columns a query asks for ---- */

#define LABELS_MAX 16

/* The labels of `all` that `sql` selects (`as "Label"`, any case), in order. */
typedef struct Labels {
    const char *names[LABELS_MAX];
    int which[LABELS_MAX]; /* index into `all` */
    int n;
} Labels;

static void pick_labels(const char *sql, const char *const *all, int n, Labels *l)
{
    l->n = 0;
    for (int i = 0; i < n && l->n < LABELS_MAX; i++) {
        char marker[64];
        snprintf(marker, sizeof(marker), "as \"%s\"", all[i]);
        if (strcasestr(sql, marker)) {
            l->names[l->n] = all[i];
            l->which[l->n++] = i;
        }
    }
}

/* A name pattern of the query (`marker '^(t.*)$'`) into `b`, or NULL when it has none. */
static const char *pattern(const char *sql, const char *marker, Buf *b)
{
    return catmodel_literal_after(sql, marker, b) ? buf_cstr(b) : NULL;
}

/*
 * The relations of `kinds` the user may see that match the query's name and
 * schema patterns (`c.relname OPERATOR(pg_catalog.~) '^(t.*)$'`, the same in
 * every query of the \d family) into `rs`. False with an ErrorResponse.
 */
static bool relations_matching(Session *s, const SessionEnv *env, const char *sql,
                               const char *kinds, CatRelations *rs, Buf *out)
{
    Buf nre = BUF_INIT, sre = BUF_INIT;
    CatFilter f = CATFILTER_ALL;
    f.name_re = pattern(sql, "c.relname OPERATOR(pg_catalog.~)", &nre);
    f.schema_re = pattern(sql, "n.nspname OPERATOR(pg_catalog.~)", &sre);
    f.kinds = kinds;
    bool ok = catmodel_relations(s, env, &f, rs, out);
    buf_free(&nre);
    buf_free(&sre);
    return ok;
}

/* ---- \d, \dt, \dv, \di and their + forms ---- */

enum {
    L_SCHEMA,
    L_NAME,
    L_TYPE,
    L_OWNER,
    L_TABLE,
    L_PERSISTENCE,
    L_AM,
    L_SIZE,
    L_DESCRIPTION,
    L_RELATION_LABELS
};

static bool answer_relation_list(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const all[] = {"Schema",      "Name",          "Type", "Owner",      "Table",
                                      "Persistence", "Access method", "Size", "Description"};
    char kinds[4] = "";
    const char *in = strstr(sql, "c.relkind IN (");
    const char *close = in ? strchr(in, ')') : NULL;
    if (in && close) {
        size_t k = 0, span = (size_t)(close - in);
        if (memmem(in, span, "'r'", 3))
            kinds[k++] = 'r';
        if (memmem(in, span, "'v'", 3))
            kinds[k++] = 'v';
        if (memmem(in, span, "'i'", 3))
            kinds[k++] = 'i';
    }
    Labels l;
    pick_labels(sql, all, L_RELATION_LABELS, &l);
    CatRelations rs = {0};
    bool ok = relations_matching(s, env, sql, kinds, &rs, out);
    if (ok) {
        char owner[CATALOG_NAME_MAX + 1];
        catmodel_owner(env, owner);
        CatAnswer a;
        catmodel_begin(&a, out, l.names, l.n);
        for (size_t i = 0; i < rs.n; i++) {
            const CatRelation *r = &rs.r[i];
            const char *v[LABELS_MAX];
            for (int c = 0; c < l.n; c++) {
                switch (l.which[c]) {
                case L_SCHEMA:
                    v[c] = "public";
                    break;
                case L_NAME:
                    v[c] = r->name;
                    break;
                case L_TYPE:
                    v[c] = r->kind == 'v' ? "view" : r->kind == 'i' ? "index" : "table";
                    break;
                case L_OWNER:
                    v[c] = owner;
                    break;
                case L_TABLE:
                    v[c] = r->table;
                    break;
                case L_PERSISTENCE:
                    v[c] = "permanent";
                    break;
                case L_AM:
                    v[c] = r->kind == 'v' ? NULL : r->kind == 'i' ? "art" : "heap";
                    break;
                case L_DESCRIPTION:
                    v[c] = r->comment;
                    break;
                default: /* Size: DuckDB keeps no size per table */
                    v[c] = NULL;
                    break;
                }
            }
            catmodel_row(&a, v);
        }
        catmodel_end(&a);
    }
    catmodel_relations_free(&rs);
    return ok;
}

/* ---- \d NAME ---- */

/* First step: oid, nspname, relname of the tables and views matching. */
static bool answer_relation_lookup(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"oid", "nspname", "relname"};
    CatRelations rs = {0};
    bool ok = relations_matching(s, env, sql, "rv", &rs, out);
    if (ok) {
        CatAnswer a;
        catmodel_begin(&a, out, names, 3);
        for (size_t i = 0; i < rs.n; i++) {
            char oid[32];
            snprintf(oid, sizeof(oid), "%lld", rs.r[i].oid);
            const char *row[] = {oid, "public", rs.r[i].name};
            catmodel_row(&a, row);
        }
        catmodel_end(&a);
    }
    catmodel_relations_free(&rs);
    return ok;
}

/* The relation `c.oid = 'NNN'` of the query and its keys (none when the user may not see it). */
static bool relation_and_keys(Session *s, const SessionEnv *env, const char *sql, CatRelations *rs,
                              CatKeys *ks, Buf *out)
{
    bool ok = catmodel_relation(s, env, catmodel_oid_after(sql, "c.oid ="), rs, out);
    if (ok && rs->n == 1)
        ok = catmodel_keys(s, &rs->r[0], ks, out);
    return ok;
}

/* Second step: the relation's flags (relhasindex: it has keys or indexes). */
static bool answer_relation_info(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"relchecks",
                                        "relkind",
                                        "relhasindex",
                                        "relhasrules",
                                        "relhastriggers",
                                        "relrowsecurity",
                                        "relforcerowsecurity",
                                        "relhasoids",
                                        "relispartition",
                                        "?column?",
                                        "reltablespace",
                                        "reloftype",
                                        "relpersistence",
                                        "relreplident",
                                        "amname"};
    CatRelations rs = {0};
    CatKeys ks = {0};
    bool ok = relation_and_keys(s, env, sql, &rs, &ks, out);
    if (ok) {
        CatAnswer a;
        catmodel_begin(&a, out, names, 15);
        if (rs.n == 1 && rs.r[0].kind != 'i') {
            bool view = rs.r[0].kind == 'v';
            const char *row[] = {"0",
                                 view ? "v" : "r",
                                 ks.n ? "t" : "f",
                                 view ? "t" : "f",
                                 "f",
                                 "f",
                                 "f",
                                 "f",
                                 "f",
                                 "",
                                 "0",
                                 "",
                                 "p",
                                 "d",
                                 view ? NULL : "heap"};
            catmodel_row(&a, row);
        }
        catmodel_end(&a);
    }
    catmodel_keys_free(&ks);
    catmodel_relations_free(&rs);
    return ok;
}

/* The optional columns of the columns query, by the marker that asks for each. */
static const struct {
    const char *marker, *name;
} column_extras[] = {
    {"a.attstorage", "attstorage"},
    {"AS attcompression", "attcompression"},
    {"AS attstattarget", "attstattarget"},
    {"pg_catalog.col_description(", "col_description"},
};
#define COLUMN_EXTRAS (sizeof(column_extras) / sizeof(column_extras[0]))

/* Third step: the columns (name, type as format_type writes it, default, NOT NULL ...). */
static bool answer_columns(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    const char *names[7 + COLUMN_EXTRAS] = {"attname",     "format_type",  "pg_get_expr",
                                            "attnotnull",  "attcollation", "attidentity",
                                            "attgenerated"};
    size_t extra[COLUMN_EXTRAS], nextra = 0;
    for (size_t i = 0; i < COLUMN_EXTRAS; i++)
        if (strstr(sql, column_extras[i].marker)) {
            names[7 + nextra] = column_extras[i].name;
            extra[nextra++] = i;
        }
    int ncols = 7 + (int)nextra;
    CatRelations rs = {0};
    CatColumns cs = {0};
    bool ok = catmodel_relation(s, env, catmodel_oid_after(sql, "a.attrelid ="), &rs, out);
    if (ok && rs.n == 1)
        ok = catmodel_columns(s, &rs.r[0], &cs, out);
    if (ok) {
        CatAnswer a;
        catmodel_begin(&a, out, names, ncols);
        for (size_t i = 0; i < cs.n; i++) {
            const CatColumn *c = &cs.c[i];
            Buf t = BUF_INIT;
            catmodel_type_name(c->duck_type, &t);
            const char *row[7 + COLUMN_EXTRAS] = {
                c->name, buf_cstr(&t), c->dflt, c->not_null ? "t" : "f", NULL, "", ""};
            for (size_t e = 0; e < nextra; e++) {
                const char *v = NULL;
                switch (extra[e]) {
                case 0: /* plain for fixed-size types, main for numeric, else extended */
                    v = c->pg.len > 0 ? "p" : c->pg.oid == 1700 ? "m" : "x";
                    break;
                case 1:
                    v = "";
                    break;
                case 3:
                    v = c->comment;
                    break;
                default:
                    break;
                }
                row[7 + e] = v;
            }
            catmodel_row(&a, row);
            buf_free(&t);
        }
        catmodel_end(&a);
    }
    catmodel_columns_free(&cs);
    catmodel_relations_free(&rs);
    return ok;
}

/* \d TABLE: its PRIMARY KEY and UNIQUE constraints and its indexes. */
static bool answer_indexes(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {
        "relname",       "indisprimary",    "indisunique",          "indisclustered",
        "indisvalid",    "pg_get_indexdef", "pg_get_constraintdef", "contype",
        "condeferrable", "condeferred",     "indisreplident",       "reltablespace"};
    CatRelations rs = {0};
    CatKeys ks = {0};
    bool ok = relation_and_keys(s, env, sql, &rs, &ks, out);
    if (ok) {
        CatAnswer a;
        catmodel_begin(&a, out, names, 12);
        for (size_t i = 0; i < ks.n; i++) {
            const CatKey *k = &ks.k[i];
            Buf idef = BUF_INIT, cdef = BUF_INIT;
            const char *cols = k->columns ? k->columns : "";
            buf_printf(&idef, "CREATE %sINDEX %s ON public.%s USING art (%s)",
                       k->unique ? "UNIQUE " : "", k->name, rs.r[0].name, cols);
            const char *contype = k->primary ? "p" : k->constraint ? "u" : NULL;
            if (contype)
                buf_printf(&cdef, "%s (%s)", k->primary ? "PRIMARY KEY" : "UNIQUE", cols);
            const char *row[] = {k->name,
                                 k->primary ? "t" : "f",
                                 k->unique ? "t" : "f",
                                 "f",
                                 "t",
                                 buf_cstr(&idef),
                                 contype ? buf_cstr(&cdef) : NULL,
                                 contype,
                                 "f",
                                 "f",
                                 "f",
                                 "0"};
            catmodel_row(&a, row);
            buf_free(&idef);
            buf_free(&cdef);
        }
        catmodel_end(&a);
    }
    catmodel_keys_free(&ks);
    catmodel_relations_free(&rs);
    return ok;
}

/* \d+ VIEW: the view's query, from DuckDB's CREATE VIEW ... AS <query>. */
static bool answer_viewdef(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"pg_get_viewdef"};
    CatRelations rs = {0};
    bool ok = catmodel_relation(s, env, catmodel_oid_after(sql, "pg_get_viewdef("), &rs, out);
    if (ok) {
        CatAnswer a;
        catmodel_begin(&a, out, names, 1);
        if (rs.n == 1 && rs.r[0].kind == 'v' && rs.r[0].sql) {
            const char *def = strcasestr(rs.r[0].sql, " AS ");
            Buf v = BUF_INIT;
            buf_append_str(&v, def ? def + 4 : rs.r[0].sql);
            while (v.len > 0 && (v.data[v.len - 1] == ';' || v.data[v.len - 1] == '\n'))
                v.len--;
            const char *row[] = {buf_cstr(&v)};
            catmodel_row(&a, row);
            buf_free(&v);
        }
        catmodel_end(&a);
    }
    catmodel_relations_free(&rs);
    return ok;
}

/* ---- \df ---- */

static bool answer_functions(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const all[] = {
        "Schema",     "Name",  "Result data type", "Argument data types", "Type",     "Volatility",
        "Parallel",   "Owner", "Security",         "Access privileges",   "Language", "Source code",
        "Description"};
    static const char macros[] =
        "SELECT function_name, array_to_string(parameters, ', '), macro_definition, comment, "
        "function_type FROM duckdb_functions() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT internal AND function_type IN ('macro', 'table_macro') "
        "AND ($1 IS NULL OR regexp_full_match(function_name, $1)) ORDER BY function_name";
    Labels l;
    pick_labels(sql, all, (int)(sizeof(all) / sizeof(all[0])), &l);
    Buf nre = BUF_INIT;
    const char *texts[] = {pattern(sql, "p.proname OPERATOR(pg_catalog.~)", &nre)};
    duckdb_result res;
    bool have = false;
    /* Macros are shown to the super user only: the grants cover tables, not macros. */
    if (s->user.super) {
        if (!catmodel_read(s, macros, texts, 1, NULL, 0, "cannot match the pattern", "2201B", &res,
                           out)) {
            buf_free(&nre);
            return false;
        }
        have = true;
    }
    char owner[CATALOG_NAME_MAX + 1];
    catmodel_owner(env, owner);
    CatAnswer a;
    catmodel_begin(&a, out, l.names, l.n);
    idx_t n = have ? duckdb_row_count(&res) : 0;
    for (idx_t i = 0; i < n; i++) {
        static const char *const fixed[] = {"public",   NULL,     NULL, NULL,      "func",
                                            "volatile", "unsafe", NULL, "invoker", NULL,
                                            "sql",      NULL,     NULL};
        char *vals[5];
        for (int c = 0; c < 5; c++)
            vals[c] = catmodel_value(&res, (idx_t)c, i);
        bool table = vals[4] && strcmp(vals[4], "table_macro") == 0;
        const char *v[LABELS_MAX];
        for (int c = 0; c < l.n; c++) {
            int w = l.which[c];
            v[c] = w == 1    ? vals[0]
                   : w == 2  ? (table ? "TABLE" : NULL)
                   : w == 3  ? (vals[1] ? vals[1] : "")
                   : w == 7  ? owner
                   : w == 11 ? vals[2]
                   : w == 12 ? vals[3]
                             : fixed[w];
        }
        catmodel_row(&a, v);
        for (int c = 0; c < 5; c++)
            free(vals[c]);
    }
    if (have)
        duckdb_destroy_result(&res);
    catmodel_end(&a);
    buf_free(&nre);
    return true;
}

/* ---- \l, \du, \dn ---- */

/* \l and \l+: the databases the user holds a grant on (every one for the super user). */
typedef struct DbList {
    CatAnswer *a;
    const Labels *l;
    const char *owner;
} DbList;

static void database_row(void *ctx, const char *const *cols, int ncols)
{
    static const char *const fixed[] = {NULL,   NULL, "UTF8", "C",          "C", NULL,
                                        "libc", NULL, NULL,   "pg_default", NULL};
    DbList *d = ctx;
    if (ncols < 1 || !cols[0])
        return;
    const char *v[LABELS_MAX];
    for (int c = 0; c < d->l->n; c++) {
        int w = d->l->which[c];
        v[c] = w == 0 ? cols[0] : w == 1 ? d->owner : fixed[w];
    }
    catmodel_row(d->a, v);
}

static bool answer_databases(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const all[] = {"Name",  "Owner",      "Encoding",        "Collate",
                                      "Ctype", "ICU Locale", "Locale Provider", "Access privileges",
                                      "Size",  "Tablespace", "Description"};
    Labels l;
    pick_labels(sql, all, (int)(sizeof(all) / sizeof(all[0])), &l);
    char owner[CATALOG_NAME_MAX + 1];
    catmodel_owner(env, owner);
    size_t before = out->len;
    CatAnswer a;
    catmodel_begin(&a, out, l.names, l.n);
    DbList d = {&a, &l, owner};
    if (catalog_list(env->catalog, CATALOG_LIST_DATABASES, s->user.super ? 0 : s->user.id,
                     database_row, &d) != CATALOG_OK) {
        out->len = before;
        catmodel_error(out, "XX000", "cannot read the databases", "catalog error");
        return false;
    }
    catmodel_end(&a);
    return true;
}

/* \du and \du+: the super user sees every user; another user sees themselves. */
typedef struct RoleList {
    CatAnswer *a;
    bool description; /* \du+ asks for one after memberof */
} RoleList;

static void put_role(RoleList *l, const char *name, bool super)
{
    const char *su = super ? "t" : "f";
    const char *with[] = {name, su, "t", su, su, "t", "-1", NULL, "{}", NULL, "f", "f"};
    const char *without[] = {name, su, "t", su, su, "t", "-1", NULL, "{}", "f", "f"};
    catmodel_row(l->a, l->description ? with : without);
}

static void role_row(void *ctx, const char *const *cols, int ncols)
{
    if (ncols >= 2 && cols[0])
        put_role(ctx, cols[0], cols[1] && strcmp(cols[1], "true") == 0);
}

static bool answer_roles(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const with[] = {"rolname",       "rolsuper",       "rolinherit",
                                       "rolcreaterole", "rolcreatedb",    "rolcanlogin",
                                       "rolconnlimit",  "rolvaliduntil",  "memberof",
                                       "description",   "rolreplication", "rolbypassrls"};
    static const char *const without[] = {"rolname",        "rolsuper",      "rolinherit",
                                          "rolcreaterole",  "rolcreatedb",   "rolcanlogin",
                                          "rolconnlimit",   "rolvaliduntil", "memberof",
                                          "rolreplication", "rolbypassrls"};
    size_t before = out->len;
    CatAnswer a;
    RoleList l = {&a, strstr(sql, "AS description") != NULL};
    catmodel_begin(&a, out, l.description ? with : without, l.description ? 12 : 11);
    if (!s->user.super) {
        put_role(&l, s->user.name, false);
    } else if (catalog_list(env->catalog, CATALOG_LIST_USERS, 0, role_row, &l) != CATALOG_OK) {
        out->len = before;
        catmodel_error(out, "XX000", "cannot read the users", "catalog error");
        return false;
    }
    catmodel_end(&a);
    return true;
}

/* \dn and \dn+: one schema, public (DuckDB's main). */
static bool answer_schemas(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const all[] = {"Name", "Owner", "Access privileges", "Description"};
    (void)s;
    Labels l;
    pick_labels(sql, all, 4, &l);
    char owner[CATALOG_NAME_MAX + 1];
    catmodel_owner(env, owner);
    const char *fixed[] = {"public", owner, NULL, "standard public schema"};
    const char *v[LABELS_MAX];
    for (int c = 0; c < l.n; c++)
        v[c] = fixed[l.which[c]];
    CatAnswer a;
    catmodel_begin(&a, out, l.names, l.n);
    catmodel_row(&a, v);
    catmodel_end(&a);
    return true;
}

/* ---- the parts of \d NAME that have no counterpart in DuckDB: no rows ---- */

static const char *const policy_cols[] = {"polname",     "polpermissive", "array_to_string",
                                          "pg_get_expr", "pg_get_expr",   "cmd"};
static const char *const statistics_cols[] = {"oid",          "stxrelid",    "nsp",
                                              "stxname",      "columns",     "ndist_enabled",
                                              "deps_enabled", "mcv_enabled", "stxstattarget"};
static const char *const publication_cols[] = {"pubname", "?column?", "?column?"};
static const char *const partition_cols[] = {"oid", "relkind", "inhdetachpending", "pg_get_expr"};
static const char *const parent_cols[] = {"oid"};
static const char *const rule_cols[] = {"rulename", "ruledef"};

typedef bool (*Answerer)(Session *s, const SessionEnv *env, const char *sql, Buf *out);

/*
 * psql's queries: all markers must appear (`not` must not), more specific
 * shapes first. `answer` NULL: an empty answer with the columns `empty`.
 */
static const struct Shape {
    const char *markers[3];
    const char * not ;
    Answerer answer;
    const char *const *empty;
    int nempty;
} shapes[] = {
    {{"FROM pg_catalog.pg_database d", "AS \"Access privileges\""},
     NULL,
     answer_databases,
     NULL,
     0},
    {{"FROM pg_catalog.pg_roles r", "r.rolsuper", "memberof"}, NULL, answer_roles, NULL, 0},
    {{"FROM pg_catalog.pg_namespace n", "AS \"Name\""}, "pg_class", answer_schemas, NULL, 0},
    {{"FROM pg_catalog.pg_proc p", "as \"Result data type\""}, NULL, answer_functions, NULL, 0},
    {{"FROM pg_catalog.pg_class c", "as \"Schema\"", "CASE c.relkind"},
     NULL,
     answer_relation_list,
     NULL,
     0},
    {{"SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c"},
     NULL,
     answer_relation_lookup,
     NULL,
     0},
    {{"SELECT c.relchecks, c.relkind, c.relhasindex"}, NULL, answer_relation_info, NULL, 0},
    {{"SELECT a.attname,\n  pg_catalog.format_type(a.atttypid, a.atttypmod)",
      "FROM pg_catalog.pg_attribute a"},
     NULL,
     answer_columns,
     NULL,
     0},
    {{"FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i"},
     NULL,
     answer_indexes,
     NULL,
     0},
    {{"SELECT pg_catalog.pg_get_viewdef("}, NULL, answer_viewdef, NULL, 0},
    {{"FROM pg_catalog.pg_policy pol"}, NULL, NULL, policy_cols, 6},
    {{"FROM pg_catalog.pg_statistic_ext"}, NULL, NULL, statistics_cols, 9},
    {{"FROM pg_catalog.pg_publication p"}, NULL, NULL, publication_cols, 3},
    {{"FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i", "inhdetachpending"},
     NULL,
     NULL,
     partition_cols,
     4},
    {{"FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i"}, NULL, NULL, parent_cols, 1},
    {{"FROM pg_catalog.pg_rewrite r"}, NULL, NULL, rule_cols, 2},
};

bool catpsql_answer(Session *s, const SessionEnv *env, const char *sql, Buf *out, bool *out_ok)
{
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        const struct Shape *sh = &shapes[i];
        bool match = !sh->not || !strstr(sql, sh->not );
        for (int m = 0; match && m < 3 && sh->markers[m]; m++)
            match = strstr(sql, sh->markers[m]) != NULL;
        if (!match)
            continue;
        if (sh->answer) {
            *out_ok = sh->answer(s, env, sql, out);
        } else {
            catmodel_empty(out, sh->empty, sh->nempty);
            *out_ok = true;
        }
        return true;
    }
    return false;
}
