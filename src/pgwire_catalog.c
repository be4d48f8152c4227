/*
 * pgwire_catalog: the catalog statements of PostgreSQL clients, recognised
 * and answered by the front end or refused. See pgwire_catalog.h and
 * docs/pgwire.md#catalog.
 *
 * Recognition is by shape: each query a client sends (psql's \d family in
 * pgwire_catpsql.c, pgjdbc's DatabaseMetaData in pgwire_catjdbc.c,
 * postgres.js's array types in pgwire_catnode.c) has
 * markers no other query shares (the relations it reads and the columns it
 * selects), and the only inputs taken from its text are name patterns,
 * matched by DuckDB as bound parameters, never spliced into SQL, and OIDs
 * (digits). The answers are built from what the user may see now
 * (pgwire_catmodel.c). Anything else naming a catalog relation is refused:
 * it never reaches DuckDB's own pg_catalog.
 */
#include "pgwire_catalog.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire.h"
#include "pgwire_catgrafana.h"
#include "pgwire_catjdbc.h"
#include "pgwire_catnode.h"
#include "pgwire_catpsql.h"
#include "pgwire_catsql.h"
#include "sqllex.h"

/* Catalog relations: a statement naming one is ours, answered or refused. */
static const char *const catalog_relations[] = {
    "pg_catalog",
    "pg_class",
    "pg_namespace",
    "pg_attribute",
    "pg_type",
    "pg_database",
    "pg_roles",
    "pg_user",
    "pg_authid",
    "pg_index",
    "pg_constraint",
    "pg_proc",
    "pg_am",
    "pg_attrdef",
    "pg_description",
    "pg_settings",
    "pg_tables",
    "pg_views",
    "pg_inherits",
    "pg_policy",
    "pg_collation",
    "pg_auth_members",
    "pg_extension",
    "pg_statistic_ext",
    "pg_publication",
    "pg_indexes",
    "pg_stat_activity",
    "pg_trigger",
    "pg_sequence",
    "pg_matviews",
    "pg_rewrite",
    "pg_language",
    "pg_tablespace",
    "pg_get_viewdef",
    /* More relations and the catalog functions of pgwire_catsql.c, which answers any
     * query naming one that no recogniser here knows. */
    "pg_stat_user_tables",
    "pg_rules",
    "pg_partitioned_table",
    "pg_enum",
    "pg_stat_statements",
    "pg_event_trigger",
    "pg_foreign_table",
    "pg_foreign_server",
    "pg_foreign_data_wrapper",
    "pg_depend",
    "pg_shdescription",
    "pg_cast",
    "pg_operator",
    "pg_opclass",
    "pg_aggregate",
    "pg_seclabel",
    "format_type",
    "pg_get_userbyid",
    "pg_table_is_visible",
    "pg_type_is_visible",
    "pg_function_is_visible",
    "has_table_privilege",
    "has_schema_privilege",
    "has_database_privilege",
    "has_column_privilege",
    "has_any_column_privilege",
    "has_function_privilege",
    "has_sequence_privilege",
    "pg_has_role",
    "pg_encoding_to_char",
    "obj_description",
    "col_description",
    "shobj_description",
    "pg_is_in_recovery",
    "pg_backend_pid",
    "pg_get_keywords",
    "pg_get_expr",
    "pg_get_indexdef",
    "pg_get_constraintdef",
    "pg_relation_size",
    "pg_total_relation_size",
    "pg_table_size",
    "pg_indexes_size",
    "pg_database_size",
    "pg_postmaster_start_time",
    "current_schemas",
    "regclass",
    "regtype",
    "_pg_expandarray",
    "array_upper",
    "pg_stat_get_numscans",
    "pg_stat_get_tuples_returned",
    "pg_stat_get_tuples_fetched",
    "pg_stat_get_live_tuples",
    "pg_stat_get_dead_tuples",
    "pg_get_partkeydef",
    "pg_get_function_arguments",
    "pg_get_function_identity_arguments",
    "pg_get_function_result",
    "pg_get_triggerdef",
    "pg_get_ruledef",
    "pg_get_serial_sequence",
    "pg_tablespace_location",
    "pg_conversion",
    "pg_subscription",
    "pg_db_role_setting",
    "pg_ts_config",
    "pg_ts_parser",
    "pg_ts_dict",
    "pg_ts_template",
    "pg_largeobject_metadata",
};

#define NAMES (sizeof(catalog_relations) / sizeof(catalog_relations[0]))

/* catalog_relations in strcmp order, for bsearch: every statement of PgPort asks about each
 * of its names, and the list is long. */
static const char *sorted_names[NAMES];
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void sort_names(void)
{
    memcpy(sorted_names, catalog_relations, sizeof(sorted_names));
    qsort(sorted_names, NAMES, sizeof(sorted_names[0]), name_cmp);
}

/* Whether `name` (n bytes), compared ignoring ASCII case as DuckDB compares names, is one of
 * catalog_relations. */
static bool is_catalog_name(const char *name, size_t n)
{
    char lower[64];
    if (n == 0 || n >= sizeof(lower))
        return false; /* longer than any of them */
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    lower[n] = '\0';
    pthread_once(&sorted_once, sort_names);
    const char *key = lower;
    return bsearch(&key, sorted_names, NAMES, sizeof(sorted_names[0]), name_cmp) != NULL;
}

bool pgcat_is_catalog_query(const char *sql, size_t len)
{
    SqlLexer lx;
    SqlToken t;
    Buf name = BUF_INIT;
    bool found = false, has_from = false, names_session = false;
    static const char *const session_words[] = {"current_database", "current_schema",
                                                "current_user", "session_user", "current_catalog"};
    sqllex_init(&lx, sql, len, 0);
    while (!found && sqllex_next(&lx, &t) > 0) {
        if (t.kind == SQLLEX_WORD) {
            has_from = has_from || sqllex_is_word(sql, &t, "from");
            for (size_t i = 0; i < sizeof(session_words) / sizeof(session_words[0]); i++)
                names_session = names_session || sqllex_is_word(sql, &t, session_words[i]);
            found = is_catalog_name(sql + t.offset, t.length);
        } else if (t.kind == SQLLEX_QUOTED) {
            /* A quoted "pg_class" names the same relation: DuckDB compares names ignoring
             * case. */
            sqllex_identifier(sql, &t, &name);
            found = is_catalog_name(name.data, name.len);
        }
    }
    buf_free(&name);
    /* A statement that reads no relation but the session's identity (`SELECT
     * current_schema(), session_user`, as pgjdbc and DBeaver send) is answered there too:
     * DuckDB's own would say main, duckdb and the file's name. */
    if (!found && !has_from)
        found = names_session;
    /* information_schema stays DuckDB's, but for the queries answered here. */
    return found || (sql[len] == '\0' && catgrafana_is_ours(sql));
}

/*
 * Copies from the whole answer `all` to `out` the messages `parts` asks for:
 * the RowDescription alone (Describe), or all but it (Execute after a
 * Describe). An ErrorResponse is always copied.
 */
static void copy_parts(const Buf *all, PgCatParts parts, Buf *out)
{
    size_t pos = 0;
    while (pos + 5 <= all->len) {
        const unsigned char *m = (const unsigned char *)all->data + pos;
        size_t len = (size_t)m[1] << 24 | (size_t)m[2] << 16 | (size_t)m[3] << 8 | m[4];
        bool description = m[0] == 'T';
        if (m[0] == 'E' || description == (parts == PGCAT_DESCRIPTION))
            buf_append(out, m, len + 1);
        pos += len + 1;
    }
}

/* Parameter $1 as an OID (an integer, or digits as text), or -1. */
static long long param_oid(const TypedRequest *params)
{
    if (!params || params->nparams < 1)
        return -1;
    const Param *p = &params->params[0];
    if (p->kind == PARAM_INT)
        return p->i >= 0 && p->i <= 0xFFFFFFFF ? (long long)p->i : -1;
    if (p->kind != PARAM_TEXT || p->len == 0 || p->len > 10)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < p->len; i++) {
        if (p->bytes[i] < '0' || p->bytes[i] > '9')
            return -1;
        v = v * 10 + (p->bytes[i] - '0');
    }
    return v;
}

bool pgcat_answer(Session *s, const SessionEnv *env, const char *sql, const TypedRequest *params,
                  PgCatParts parts, Buf *out)
{
    Buf all = BUF_INIT;
    Buf *to = parts == PGCAT_WHOLE ? out : &all;
    bool ok = false;
    if (!catpsql_answer(s, env, sql, to, &ok) &&
        !catjdbc_answer(s, env, sql, param_oid(params), to, &ok) &&
        !catgrafana_answer(s, env, sql, to, &ok) && !catnode_answer(sql, to, &ok)) {
        /* Any other: as SQL over the user's view of the catalog (pgwire_catsql.h). */
        ok = catsql_answer(s, env, sql, params, to);
    }
    if (parts != PGCAT_WHOLE)
        copy_parts(&all, parts, out);
    buf_free(&all);
    return ok;
}
