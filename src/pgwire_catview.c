/*
 * pgwire_catview: the user's view of PostgreSQL's catalog as TEMP relations
 * and macros of a catalog connection. See pgwire_catview.h.
 */
#include "pgwire_catview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "log.h"
#include "pgwire_catmodel.h"
#include "pgwire_rewrite.h"
#include "xalloc.h"

/* ---- the relations and macros ---- */

/*
 * Each relation a query may read: its name and columns as CREATE TEMP TABLE
 * takes them. The columns are PostgreSQL 15's, in its order, less those no
 * client reads (pg_node_tree internals, xid horizons); OIDs are BIGINT, oid
 * vectors lists. The `_tdb_` relations back the macros below.
 */
static const struct {
    const char *name, *columns;
} relations[] = {
    {"pg_namespace", "oid BIGINT, nspname VARCHAR, nspowner BIGINT, nspacl VARCHAR[]"},
    {"pg_class",
     "oid BIGINT, relname VARCHAR, relnamespace BIGINT, reltype BIGINT, reloftype BIGINT, "
     "relowner BIGINT, relam BIGINT, relfilenode BIGINT, reltablespace BIGINT, relpages INTEGER, "
     "reltuples REAL, relallvisible INTEGER, reltoastrelid BIGINT, relhasindex BOOLEAN, "
     "relisshared BOOLEAN, relpersistence VARCHAR, relkind VARCHAR, relnatts SMALLINT, "
     "relchecks SMALLINT, relhasrules BOOLEAN, relhastriggers BOOLEAN, relhassubclass BOOLEAN, "
     "relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN, relispopulated BOOLEAN, "
     "relreplident VARCHAR, relispartition BOOLEAN, relrewrite BIGINT, relfrozenxid BIGINT, "
     "relminmxid BIGINT, relacl VARCHAR[], reloptions VARCHAR[], relpartbound VARCHAR"},
    {"pg_attribute",
     "attrelid BIGINT, attname VARCHAR, atttypid BIGINT, attstattarget INTEGER, attlen SMALLINT, "
     "attnum SMALLINT, attndims INTEGER, attcacheoff INTEGER, atttypmod INTEGER, attbyval "
     "BOOLEAN, attalign VARCHAR, attstorage VARCHAR, attcompression VARCHAR, attnotnull BOOLEAN, "
     "atthasdef BOOLEAN, atthasmissing BOOLEAN, attidentity VARCHAR, attgenerated VARCHAR, "
     "attisdropped BOOLEAN, attislocal BOOLEAN, attinhcount INTEGER, attcollation BIGINT, "
     "attacl VARCHAR[], attoptions VARCHAR[], attfdwoptions VARCHAR[], attmissingval VARCHAR"},
    {"pg_type",
     "oid BIGINT, typname VARCHAR, typnamespace BIGINT, typowner BIGINT, typlen SMALLINT, "
     "typbyval BOOLEAN, typtype VARCHAR, typcategory VARCHAR, typispreferred BOOLEAN, "
     "typisdefined BOOLEAN, typdelim VARCHAR, typrelid BIGINT, typsubscript VARCHAR, typelem "
     "BIGINT, typarray BIGINT, typinput VARCHAR, typoutput VARCHAR, typreceive VARCHAR, typsend "
     "VARCHAR, typalign VARCHAR, typstorage VARCHAR, typnotnull BOOLEAN, typbasetype BIGINT, "
     "typtypmod INTEGER, typndims INTEGER, typcollation BIGINT, typdefault VARCHAR, typacl "
     "VARCHAR[]"},
    {"pg_database",
     "oid BIGINT, datname VARCHAR, datdba BIGINT, encoding INTEGER, datlocprovider VARCHAR, "
     "datistemplate BOOLEAN, datallowconn BOOLEAN, datconnlimit INTEGER, datfrozenxid BIGINT, "
     "datminmxid BIGINT, dattablespace BIGINT, datcollate VARCHAR, datctype VARCHAR, "
     "daticulocale VARCHAR, datcollversion VARCHAR, datacl VARCHAR[]"},
    {"pg_roles",
     "rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, "
     "rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN, rolconnlimit INTEGER, "
     "rolpassword VARCHAR, rolvaliduntil TIMESTAMPTZ, rolbypassrls BOOLEAN, rolconfig "
     "VARCHAR[], oid BIGINT"},
    {"pg_user",
     "usename VARCHAR, usesysid BIGINT, usecreatedb BOOLEAN, usesuper BOOLEAN, userepl BOOLEAN, "
     "usebypassrls BOOLEAN, passwd VARCHAR, valuntil TIMESTAMPTZ, useconfig VARCHAR[]"},
    {"pg_index",
     "indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT, indnkeyatts SMALLINT, indisunique "
     "BOOLEAN, indnullsnotdistinct BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN, "
     "indimmediate BOOLEAN, indisclustered BOOLEAN, indisvalid BOOLEAN, indcheckxmin BOOLEAN, "
     "indisready BOOLEAN, indislive BOOLEAN, indisreplident BOOLEAN, indkey SMALLINT[], "
     "indcollation BIGINT[], indclass BIGINT[], indoption SMALLINT[], indexprs VARCHAR, indpred "
     "VARCHAR"},
    {"pg_constraint",
     "oid BIGINT, conname VARCHAR, connamespace BIGINT, contype VARCHAR, condeferrable BOOLEAN, "
     "condeferred BOOLEAN, convalidated BOOLEAN, conrelid BIGINT, contypid BIGINT, conindid "
     "BIGINT, conparentid BIGINT, confrelid BIGINT, confupdtype VARCHAR, confdeltype VARCHAR, "
     "confmatchtype VARCHAR, conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, "
     "conkey SMALLINT[], confkey SMALLINT[], conpfeqop BIGINT[], conppeqop BIGINT[], conffeqop "
     "BIGINT[], conexclop BIGINT[], conbin VARCHAR"},
    {"pg_description", "objoid BIGINT, classoid BIGINT, objsubid INTEGER, description VARCHAR"},
    {"pg_attrdef", "oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR"},
    {"pg_am", "oid BIGINT, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR"},
    {"pg_tablespace",
     "oid BIGINT, spcname VARCHAR, spcowner BIGINT, spcacl VARCHAR[], spcoptions VARCHAR[]"},
    {"pg_tables",
     "schemaname VARCHAR, tablename VARCHAR, tableowner VARCHAR, tablespace VARCHAR, hasindexes "
     "BOOLEAN, hasrules BOOLEAN, hastriggers BOOLEAN, rowsecurity BOOLEAN"},
    {"pg_views", "schemaname VARCHAR, viewname VARCHAR, viewowner VARCHAR, definition VARCHAR"},
    {"pg_indexes",
     "schemaname VARCHAR, tablename VARCHAR, indexname VARCHAR, tablespace VARCHAR, indexdef "
     "VARCHAR"},
    {"pg_stat_user_tables",
     "relid BIGINT, schemaname VARCHAR, relname VARCHAR, seq_scan BIGINT, seq_tup_read BIGINT, "
     "idx_scan BIGINT, idx_tup_fetch BIGINT, n_tup_ins BIGINT, n_tup_upd BIGINT, n_tup_del "
     "BIGINT, n_tup_hot_upd BIGINT, n_live_tup BIGINT, n_dead_tup BIGINT, last_vacuum "
     "TIMESTAMPTZ, last_autovacuum TIMESTAMPTZ, last_analyze TIMESTAMPTZ, last_autoanalyze "
     "TIMESTAMPTZ"},
    {"pg_settings",
     "name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR, "
     "extra_desc VARCHAR, context VARCHAR, vartype VARCHAR, source VARCHAR, min_val VARCHAR, "
     "max_val VARCHAR, enumvals VARCHAR[], boot_val VARCHAR, reset_val VARCHAR, sourcefile "
     "VARCHAR, sourceline INTEGER, pending_restart BOOLEAN"},
    /* Empty: DuckDB has nothing of the kind, or the front end shows none of it. */
    {"pg_proc",
     "oid BIGINT, proname VARCHAR, pronamespace BIGINT, proowner BIGINT, prolang BIGINT, "
     "procost REAL, prorows REAL, provariadic BIGINT, prosupport VARCHAR, prokind VARCHAR, "
     "prosecdef BOOLEAN, proleakproof BOOLEAN, proisstrict BOOLEAN, proretset BOOLEAN, "
     "provolatile VARCHAR, proparallel VARCHAR, pronargs SMALLINT, pronargdefaults SMALLINT, "
     "prorettype BIGINT, proargtypes BIGINT[], proallargtypes BIGINT[], proargmodes VARCHAR[], "
     "proargnames VARCHAR[], prosrc VARCHAR, probin VARCHAR, proconfig VARCHAR[], proacl "
     "VARCHAR[]"},
    {"pg_trigger",
     "oid BIGINT, tgrelid BIGINT, tgparentid BIGINT, tgname VARCHAR, tgfoid BIGINT, tgtype "
     "SMALLINT, tgenabled VARCHAR, tgisinternal BOOLEAN, tgconstrrelid BIGINT, tgconstrindid "
     "BIGINT, tgconstraint BIGINT, tgdeferrable BOOLEAN, tginitdeferred BOOLEAN, tgnargs "
     "SMALLINT, tgattr SMALLINT[], tgargs VARCHAR, tgqual VARCHAR, tgoldtable VARCHAR, "
     "tgnewtable VARCHAR"},
    {"pg_inherits",
     "inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN"},
    {"pg_partitioned_table",
     "partrelid BIGINT, partstrat VARCHAR, partnatts SMALLINT, partdefid BIGINT, partattrs "
     "SMALLINT[], partclass BIGINT[], partcollation BIGINT[], partexprs VARCHAR"},
    {"pg_matviews",
     "schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR, tablespace VARCHAR, "
     "hasindexes BOOLEAN, ispopulated BOOLEAN, definition VARCHAR"},
    {"pg_policy",
     "oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, polpermissive BOOLEAN, "
     "polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR"},
    {"pg_rules", "schemaname VARCHAR, tablename VARCHAR, rulename VARCHAR, definition VARCHAR"},
    {"pg_rewrite",
     "oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR, ev_enabled VARCHAR, "
     "is_instead BOOLEAN, ev_qual VARCHAR, ev_action VARCHAR"},
    {"pg_collation",
     "oid BIGINT, collname VARCHAR, collnamespace BIGINT, collowner BIGINT, collprovider "
     "VARCHAR, collisdeterministic BOOLEAN, collencoding INTEGER, collcollate VARCHAR, "
     "collctype VARCHAR, colliculocale VARCHAR, collversion VARCHAR"},
    {"pg_statistic_ext",
     "oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT, stxowner BIGINT, "
     "stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[]"},
    {"pg_publication",
     "oid BIGINT, pubname VARCHAR, pubowner BIGINT, puballtables BOOLEAN, pubinsert BOOLEAN, "
     "pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN"},
    {"pg_enum", "oid BIGINT, enumtypid BIGINT, enumsortorder REAL, enumlabel VARCHAR"},
    {"pg_extension",
     "oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT, extrelocatable "
     "BOOLEAN, extversion VARCHAR, extconfig BIGINT[], extcondition VARCHAR[]"},
    {"pg_sequence",
     "seqrelid BIGINT, seqtypid BIGINT, seqstart BIGINT, seqincrement BIGINT, seqmax BIGINT, "
     "seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN"},
    /* tableoid: PostgreSQL's system column, which psql's \dL reads. */
    {"pg_language",
     "oid BIGINT, lanname VARCHAR, lanowner BIGINT, lanispl BOOLEAN, lanpltrusted BOOLEAN, "
     "lanplcallfoid BIGINT, laninline BIGINT, lanvalidator BIGINT, lanacl VARCHAR[], tableoid "
     "BIGINT"},
    {"pg_auth_members",
     "oid BIGINT, roleid BIGINT, member BIGINT, grantor BIGINT, admin_option BOOLEAN"},
    {"pg_stat_activity",
     "datid BIGINT, datname VARCHAR, pid INTEGER, usesysid BIGINT, usename VARCHAR, "
     "application_name VARCHAR, client_addr VARCHAR, client_port INTEGER, backend_start "
     "TIMESTAMPTZ, xact_start TIMESTAMPTZ, query_start TIMESTAMPTZ, state_change TIMESTAMPTZ, "
     "wait_event_type VARCHAR, wait_event VARCHAR, state VARCHAR, query VARCHAR, backend_type "
     "VARCHAR"},
    {"pg_stat_statements",
     "userid BIGINT, dbid BIGINT, queryid BIGINT, query VARCHAR, calls BIGINT, total_exec_time "
     "DOUBLE, rows BIGINT"},
    {"pg_event_trigger",
     "oid BIGINT, evtname VARCHAR, evtevent VARCHAR, evtowner BIGINT, evtfoid BIGINT, "
     "evtenabled VARCHAR, evttags VARCHAR[]"},
    {"pg_foreign_table", "ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]"},
    {"pg_foreign_server",
     "oid BIGINT, srvname VARCHAR, srvowner BIGINT, srvfdw BIGINT, srvtype VARCHAR, "
     "srvversion VARCHAR, srvacl VARCHAR[], srvoptions VARCHAR[]"},
    {"pg_foreign_data_wrapper",
     "oid BIGINT, fdwname VARCHAR, fdwowner BIGINT, fdwhandler BIGINT, fdwvalidator BIGINT, "
     "fdwacl VARCHAR[], fdwoptions VARCHAR[]"},
    {"pg_depend",
     "classid BIGINT, objid BIGINT, objsubid INTEGER, refclassid BIGINT, refobjid BIGINT, "
     "refobjsubid INTEGER, deptype VARCHAR"},
    {"pg_shdescription", "objoid BIGINT, classoid BIGINT, description VARCHAR"},
    {"pg_cast",
     "oid BIGINT, castsource BIGINT, casttarget BIGINT, castfunc BIGINT, castcontext VARCHAR, "
     "castmethod VARCHAR"},
    {"pg_operator",
     "oid BIGINT, oprname VARCHAR, oprnamespace BIGINT, oprowner BIGINT, oprkind VARCHAR, "
     "oprcanmerge BOOLEAN, oprcanhash BOOLEAN, oprleft BIGINT, oprright BIGINT, oprresult "
     "BIGINT, oprcom BIGINT, oprnegate BIGINT, oprcode VARCHAR, oprrest VARCHAR, oprjoin "
     "VARCHAR"},
    {"pg_conversion",
     "oid BIGINT, conname VARCHAR, connamespace BIGINT, conowner BIGINT, conforencoding "
     "INTEGER, contoencoding INTEGER, conproc VARCHAR, condefault BOOLEAN"},
    {"pg_subscription",
     "oid BIGINT, subdbid BIGINT, subname VARCHAR, subowner BIGINT, subenabled BOOLEAN, "
     "subbinary BOOLEAN, substream VARCHAR, subconninfo VARCHAR, subslotname VARCHAR, "
     "subsynccommit VARCHAR, subpublications VARCHAR[]"},
    {"pg_db_role_setting", "setdatabase BIGINT, setrole BIGINT, setconfig VARCHAR[]"},
    {"pg_largeobject_metadata", "oid BIGINT, lomowner BIGINT, lomacl VARCHAR[]"},
    {"pg_ts_config",
     "oid BIGINT, cfgname VARCHAR, cfgnamespace BIGINT, cfgowner BIGINT, cfgparser BIGINT"},
    {"pg_ts_parser",
     "oid BIGINT, prsname VARCHAR, prsnamespace BIGINT, prsstart VARCHAR, prstoken VARCHAR, "
     "prsend VARCHAR, prsheadline VARCHAR, prslextype VARCHAR"},
    {"pg_ts_dict",
     "oid BIGINT, dictname VARCHAR, dictnamespace BIGINT, dictowner BIGINT, dicttemplate "
     "BIGINT, dictinitoption VARCHAR"},
    {"pg_ts_template",
     "oid BIGINT, tmplname VARCHAR, tmplnamespace BIGINT, tmplinit VARCHAR, tmpllexize "
     "VARCHAR"},
    {"pg_opclass",
     "oid BIGINT, opcmethod BIGINT, opcname VARCHAR, opcnamespace BIGINT, opcowner BIGINT, "
     "opcfamily BIGINT, opcintype BIGINT, opcdefault BOOLEAN, opckeytype BIGINT"},
    {"pg_aggregate", "aggfnoid BIGINT, aggkind VARCHAR, aggnumdirectargs SMALLINT"},
    {"pg_seclabel",
     "objoid BIGINT, classoid BIGINT, objsubid INTEGER, provider VARCHAR, label VARCHAR"},
    {"_tdb_types", "oid BIGINT, display VARCHAR, base VARCHAR"},
    {"_tdb_defs", "oid BIGINT, def VARCHAR"},
    {"_tdb_indexcols", "oid BIGINT, pos INTEGER, name VARCHAR"},
    {"_tdb_settings", "name VARCHAR, setting VARCHAR"},
    {"_tdb_session", "db VARCHAR, usr VARCHAR, pid BIGINT"},
};

/*
 * The relations filled for each query (the user's view), emptied before a
 * connection goes back to the pool; the others hold the same rows for
 * everyone and are filled once, when the connection is made.
 */
static const char *const per_query[] = {
    "pg_roles",       "pg_user",       "pg_database",         "pg_class",    "pg_attribute",
    "pg_index",       "pg_constraint", "pg_description",      "pg_attrdef",  "pg_tables",
    "pg_views",       "pg_indexes",    "pg_stat_user_tables", "pg_settings", "_tdb_defs",
    "_tdb_indexcols", "_tdb_settings", "_tdb_session",
};

/* The OIDs of what the server catalog holds (the owner, the first super user, is 10). */
#define OID_USERS 100000LL          /* a user's oid: this plus the catalog id (the owner: 10) */
#define OID_DATABASES 200000LL      /* a database's oid: this plus the catalog id */
#define OID_CONSTRAINTS 300000000LL /* a constraint's oid: this plus its index in the answer */

/*
 * PostgreSQL's catalog functions, as TEMP macros over the relations above.
 * They are found before DuckDB's built-in ones of the same name (TEMP comes
 * first on the search path) once the rewrite has dropped `pg_catalog.`.
 * `%s`: the version text; the session's own values are read from _tdb_session.
 */
static const char macros_fmt[] =
    "CREATE TEMP MACRO format_type(t, m) AS CASE WHEN t IS NULL THEN NULL ELSE coalesce(("
    "SELECT CASE WHEN f.base = 'numeric' AND m >= 4 THEN 'numeric(' || ((m - 4) >> 16) || ',' "
    "|| ((m - 4) & 65535) || ')' WHEN f.base = 'character varying' AND m >= 4 THEN "
    "'character varying(' || (m - 4) || ')' ELSE f.display END FROM _tdb_types f WHERE f.oid = "
    "t), '\?\?\?') END;"
    "CREATE TEMP MACRO pg_get_userbyid(r) AS coalesce((SELECT rolname FROM pg_roles WHERE oid = "
    "r), 'unknown (OID=' || r || ')');"
    "CREATE TEMP MACRO pg_table_is_visible(o) AS true;"
    "CREATE TEMP MACRO pg_type_is_visible(o) AS true;"
    "CREATE TEMP MACRO pg_function_is_visible(o) AS true;"
    "CREATE TEMP MACRO has_table_privilege(a, b) AS true, (a, b, c) AS true;"
    "CREATE TEMP MACRO has_schema_privilege(a, b) AS true, (a, b, c) AS true;"
    "CREATE TEMP MACRO has_database_privilege(a, b) AS true, (a, b, c) AS true;"
    "CREATE TEMP MACRO has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true;"
    "CREATE TEMP MACRO has_any_column_privilege(a, b) AS true, (a, b, c) AS true;"
    "CREATE TEMP MACRO has_function_privilege(a, b) AS true, (a, b, c) AS true;"
    "CREATE TEMP MACRO has_sequence_privilege(a, b) AS true, (a, b, c) AS true;"
    "CREATE TEMP MACRO pg_has_role(a, b) AS true, (a, b, c) AS true;"
    "CREATE TEMP MACRO pg_encoding_to_char(e) AS 'UTF8';"
    "CREATE TEMP MACRO pg_char_to_encoding(e) AS 6;"
    "CREATE TEMP MACRO version() AS '%s';"
    "CREATE TEMP MACRO current_database() AS (SELECT db FROM _tdb_session);"
    "CREATE TEMP MACRO current_catalog() AS current_database();"
    "CREATE TEMP MACRO current_schema() AS 'public';"
    "CREATE TEMP MACRO current_schemas(b) AS CASE WHEN b THEN ['pg_catalog', 'public'] ELSE "
    "['public'] END;"
    "CREATE TEMP MACRO _tdb_user() AS (SELECT usr FROM _tdb_session);"
    "CREATE TEMP MACRO current_setting(n) AS (SELECT setting FROM _tdb_settings WHERE "
    "lower(name) = lower(n)), (n, missing_ok) AS (SELECT setting FROM _tdb_settings WHERE "
    "lower(name) = lower(n));"
    "CREATE TEMP MACRO obj_description(o) AS (SELECT description FROM pg_description WHERE "
    "objoid = o AND objsubid = 0 LIMIT 1), (o, c) AS (SELECT description FROM pg_description "
    "WHERE objoid = o AND objsubid = 0 LIMIT 1);"
    "CREATE TEMP MACRO col_description(o, n) AS (SELECT description FROM pg_description WHERE "
    "objoid = o AND objsubid = n LIMIT 1);"
    "CREATE TEMP MACRO shobj_description(o, c) AS NULL::VARCHAR;"
    "CREATE TEMP MACRO pg_is_in_recovery() AS false;"
    "CREATE TEMP MACRO pg_backend_pid() AS (SELECT pid FROM _tdb_session);"
    "CREATE TEMP MACRO pg_postmaster_start_time() AS NULL::TIMESTAMPTZ;"
    "CREATE TEMP MACRO pg_relation_size(o) AS 0::BIGINT, (o, f) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_total_relation_size(o) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_table_size(o) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_indexes_size(o) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_database_size(d) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_stat_get_numscans(o) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_stat_get_tuples_returned(o) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_stat_get_tuples_fetched(o) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_stat_get_live_tuples(o) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_stat_get_dead_tuples(o) AS 0::BIGINT;"
    "CREATE TEMP MACRO pg_get_partkeydef(o) AS NULL::VARCHAR;"
    "CREATE TEMP MACRO pg_get_function_arguments(o) AS NULL::VARCHAR;"
    "CREATE TEMP MACRO pg_get_function_identity_arguments(o) AS NULL::VARCHAR;"
    "CREATE TEMP MACRO pg_get_function_result(o) AS NULL::VARCHAR;"
    "CREATE TEMP MACRO pg_get_triggerdef(o) AS NULL::VARCHAR, (o, p) AS NULL::VARCHAR;"
    "CREATE TEMP MACRO pg_get_ruledef(o) AS NULL::VARCHAR, (o, p) AS NULL::VARCHAR;"
    "CREATE TEMP MACRO pg_get_serial_sequence(t, c) AS NULL::VARCHAR;"
    "CREATE TEMP MACRO pg_tablespace_location(o) AS '';"
    "CREATE TEMP MACRO quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') "
    "THEN s ELSE '\"' || replace(s, '\"', '\"\"') || '\"' END;"
    "CREATE TEMP MACRO quote_literal(s) AS '''' || replace(CAST(s AS VARCHAR), '''', '''''') || "
    "'''';"
    "CREATE TEMP MACRO quote_nullable(s) AS CASE WHEN s IS NULL THEN 'NULL' ELSE "
    "quote_literal(s) END;"
    "CREATE TEMP MACRO pg_get_expr(e, r) AS e, (e, r, p) AS e;"
    "CREATE TEMP MACRO pg_get_indexdef(o) AS (SELECT def FROM _tdb_defs WHERE oid = o), "
    "(o, c, p) AS CASE WHEN c = 0 THEN (SELECT def FROM _tdb_defs WHERE oid = o) ELSE (SELECT "
    "name FROM _tdb_indexcols WHERE oid = o AND pos = c) END;"
    "CREATE TEMP MACRO _pg_expandarray(a) AS unnest(list_transform(generate_series(1, len(a)), "
    "i -> {'x': a[i], 'n': i}));"
    "CREATE TEMP MACRO array_upper(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN len(a) END;"
    "CREATE TEMP MACRO array_lower(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN 1 END;"
    "CREATE TEMP MACRO pg_get_constraintdef(o) AS (SELECT def FROM _tdb_defs WHERE oid = o), "
    "(o, p) AS (SELECT def FROM _tdb_defs WHERE oid = o);"
    "CREATE TEMP MACRO pg_get_viewdef(o) AS (SELECT def FROM _tdb_defs WHERE oid = o), "
    "(o, p) AS (SELECT def FROM _tdb_defs WHERE oid = o);"
    "CREATE TEMP MACRO _tdb_regclass(n) AS (SELECT oid FROM pg_class WHERE relname = "
    "regexp_replace(replace(n, '\"', ''), '^(public|main|pg_catalog)[.]', ''));"
    "CREATE TEMP MACRO _tdb_regtype(n) AS (SELECT oid FROM pg_type WHERE typname = n OR oid IN "
    "(SELECT oid FROM _tdb_types WHERE display = n) LIMIT 1);"
    "CREATE TEMP MACRO pg_get_keywords() AS TABLE SELECT keyword_name AS word, CASE "
    "keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U' WHEN 'column_name' "
    "THEN 'C' ELSE 'T' END AS catcode, true AS barelabel, keyword_category AS catdesc, "
    "'can be bare label' AS baredesc FROM duckdb_keywords();";

/* ---- filling the relations ---- */

/* Set by fill_close() when a relation could not be filled: the query is then refused. */
static _Thread_local bool fill_failed;

/* One relation's rows, appended as text and cast by DuckDB to each column's type. */
typedef struct Fill {
    duckdb_appender app;
    bool failed;
} Fill;

static bool fill_open(duckdb_connection con, const char *table, Fill *f)
{
    f->failed = false;
    if (duckdb_appender_create_ext(con, "temp", "main", table, &f->app) != DuckDBSuccess) {
        log_error("pgwire: no appender for the catalog relation %s", table);
        duckdb_appender_destroy(&f->app);
        f->app = NULL;
        f->failed = true;
        fill_failed = true;
    }
    return !f->failed;
}

/* One row of `n` values (NULL: SQL NULL). */
static void fill_row(Fill *f, const char *const *vals, int n)
{
    if (f->failed)
        return;
    for (int i = 0; i < n && !f->failed; i++)
        if ((vals[i] ? duckdb_append_varchar(f->app, vals[i]) : duckdb_append_null(f->app)) !=
            DuckDBSuccess)
            f->failed = true;
    if (!f->failed && duckdb_appender_end_row(f->app) != DuckDBSuccess)
        f->failed = true;
}

/* Flushes and destroys; false when any row failed (the appender's error is logged). */
static bool fill_close(Fill *f, const char *table)
{
    if (!f->app)
        return false;
    if (!f->failed && duckdb_appender_close(f->app) != DuckDBSuccess)
        f->failed = true;
    if (f->failed) {
        const char *e = duckdb_appender_error(f->app);
        log_error("pgwire: the catalog relation %s could not be filled: %s", table,
                  e ? e : "unknown error");
    }
    duckdb_appender_destroy(&f->app);
    fill_failed = fill_failed || f->failed;
    return !f->failed;
}

/* A number as text in `b` (cleared first); returns its text. */
static const char *num(Buf *b, long long v)
{
    b->len = 0;
    buf_printf(b, "%lld", v);
    return buf_cstr(b);
}

/* What the relations are filled from: the model's answers for this user, read once. */
struct CatView {
    Session *s;
    const SessionEnv *env;
    duckdb_connection con;
    char owner[CATALOG_NAME_MAX + 1];
    CatRelations rels;
    CatColumns *cols; /* per relation (none for indexes) */
    CatKeys *keys;    /* per table */
    Buf *err;
};

static void model_free(CatView *m)
{
    for (size_t i = 0; i < m->rels.n; i++) {
        if (m->cols)
            catmodel_columns_free(&m->cols[i]);
        if (m->keys)
            catmodel_keys_free(&m->keys[i]);
    }
    free(m->cols);
    free(m->keys);
    catmodel_relations_free(&m->rels);
}

static bool model_read(CatView *m)
{
    CatFilter f = CATFILTER_ALL;
    f.kinds = "rvi";
    if (!catmodel_relations(m->s, m->env, &f, &m->rels, m->err))
        return false;
    m->cols = xcalloc(m->rels.n ? m->rels.n : 1, sizeof(*m->cols));
    m->keys = xcalloc(m->rels.n ? m->rels.n : 1, sizeof(*m->keys));
    for (size_t i = 0; i < m->rels.n; i++)
        if (!catmodel_columns(m->s, &m->rels.r[i], &m->cols[i], m->err) ||
            !catmodel_keys(m->s, &m->rels.r[i], &m->keys[i], m->err))
            return false;
    return true;
}

/* The relation named `name` of kind 'r' or 'v', or NULL. */
static const CatRelation *model_table(const CatView *m, const char *name, size_t *out_i)
{
    for (size_t i = 0; i < m->rels.n; i++)
        if (m->rels.r[i].kind != 'i' && strcmp(m->rels.r[i].name, name) == 0) {
            *out_i = i;
            return &m->rels.r[i];
        }
    return NULL;
}

/*
 * The next item of the comma-separated list at *p (`a, "B", c`), without the
 * blanks around it and without its quotes (*quoted says so): its start and
 * *len, or NULL at the end of the list. *p moves past it.
 */
static const char *list_item(const char **p, size_t *len, bool *quoted)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    if (!*s)
        return NULL;
    const char *end = strchr(s, ',');
    size_t n = end ? (size_t)(end - s) : strlen(s);
    *p = end ? end + 1 : s + n;
    while (n > 0 && s[n - 1] == ' ')
        n--;
    *quoted = n >= 2 && s[0] == '"' && s[n - 1] == '"';
    if (*quoted) {
        s++;
        n -= 2;
    }
    *len = n;
    return s;
}

/*
 * The attnums of the comma-separated column names `list` of table `ti`
 * as DuckDB's list text ("[1, 3]"), into `b`; an expression that names no
 * column counts 0, as PostgreSQL's indkey does.
 */
static const char *attnums(const CatView *m, size_t ti, const char *list, Buf *b)
{
    b->len = 0;
    buf_append_str(b, "[");
    const char *p = list ? list : "", *item;
    size_t n;
    bool quoted, first = true;
    while ((item = list_item(&p, &n, &quoted)) != NULL) {
        int num_found = 0;
        for (size_t c = 0; c < m->cols[ti].n; c++) {
            const char *name = m->cols[ti].c[c].name;
            if (strlen(name) == n &&
                (quoted ? strncmp(name, item, n) == 0 : strncasecmp(name, item, n) == 0)) {
                num_found = (int)c + 1;
                break;
            }
        }
        buf_printf(b, "%s%d", first ? "" : ", ", num_found);
        first = false;
    }
    buf_append_str(b, "]");
    return buf_cstr(b);
}

static void fill_namespaces(duckdb_connection con)
{
    Fill f;
    if (!fill_open(con, "pg_namespace", &f))
        return;
    static const char *const rows[][4] = {
        {"11", "pg_catalog", "10", NULL},
        {"2200", "public", "10", NULL},
        {"13000", "information_schema", "10", NULL},
    };
    for (size_t i = 0; i < 3; i++)
        fill_row(&f, rows[i], 4);
    fill_close(&f, "pg_namespace");
}

static void fill_types(duckdb_connection con)
{
    Fill t, d;
    if (!fill_open(con, "pg_type", &t) || !fill_open(con, "_tdb_types", &d))
        goto out;
    long long oid = 0, array = 0;
    Buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT, disp = BUF_INIT;
    for (size_t i = 0; catmodel_type_at(i, &oid, &array); i++) {
        bool is_array = false;
        const char *name = catmodel_type_oid_name(oid, &is_array);
        const char *aname = catmodel_type_oid_name(array, &is_array);
        /* The display name format_type() gives, from the model's DuckDB-to-PostgreSQL words. */
        static const struct {
            const char *pg, *display, *category;
            int len;
        } shape[] = {
            {"bool", "boolean", "B", 1},
            {"bytea", "bytea", "U", -1},
            {"int8", "bigint", "N", 8},
            {"int2", "smallint", "N", 2},
            {"int4", "integer", "N", 4},
            {"text", "text", "S", -1},
            {"json", "json", "U", -1},
            {"float4", "real", "N", 4},
            {"float8", "double precision", "N", 8},
            {"date", "date", "D", 4},
            {"time", "time without time zone", "D", 8},
            {"timestamp", "timestamp without time zone", "D", 8},
            {"timestamptz", "timestamp with time zone", "D", 8},
            {"interval", "interval", "T", 16},
            {"numeric", "numeric", "N", -1},
            {"uuid", "uuid", "U", 16},
        };
        const char *display = name, *category = "U";
        int len = -1;
        for (size_t k = 0; k < sizeof(shape) / sizeof(shape[0]); k++)
            if (strcmp(shape[k].pg, name) == 0) {
                display = shape[k].display;
                category = shape[k].category;
                len = shape[k].len;
            }
        char lenbuf[8];
        snprintf(lenbuf, sizeof(lenbuf), "%d", len);
        const char *byval = len > 0 && len <= 8 ? "true" : "false";
        const char *row[] = {num(&a, oid),
                             name,
                             "11",
                             "10",
                             lenbuf,
                             byval,
                             "b",
                             category,
                             "false",
                             "true",
                             ",",
                             "0",
                             "-",
                             "0",
                             num(&b, array),
                             NULL,
                             NULL,
                             NULL,
                             NULL,
                             len == 8 ? "d" : "i",
                             len > 0 ? "p" : "x",
                             "false",
                             "0",
                             "-1",
                             "0",
                             strcmp(name, "text") == 0 ? "100" : "0",
                             NULL,
                             NULL};
        fill_row(&t, row, 28);
        const char *arow[] = {num(&a, array),
                              aname,
                              "11",
                              "10",
                              "-1",
                              "false",
                              "b",
                              "A",
                              "false",
                              "true",
                              ",",
                              "0",
                              "array_subscript_handler",
                              num(&c, oid),
                              "0",
                              NULL,
                              NULL,
                              NULL,
                              NULL,
                              "i",
                              "x",
                              "false",
                              "0",
                              "-1",
                              "0",
                              "0",
                              NULL,
                              NULL};
        fill_row(&t, arow, 28);
        const char *drow[] = {num(&a, oid), display, display};
        fill_row(&d, drow, 3);
        disp.len = 0;
        buf_printf(&disp, "%s[]", display);
        const char *darow[] = {num(&a, array), buf_cstr(&disp), "array"};
        fill_row(&d, darow, 3);
    }
    /* varchar(n) and char(n): PostgreSQL's names for what DuckDB's VARCHAR is sent as text. */
    static const char *const extra[][3] = {{"1043", "character varying", "character varying"},
                                           {"1042", "character", "character"},
                                           {"19", "name", "name"},
                                           {"26", "oid", "oid"},
                                           {"18", "\"char\"", "\"char\""}};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        fill_row(&d, extra[i], 3);
    buf_free(&a);
    buf_free(&b);
    buf_free(&c);
    buf_free(&disp);
out:
    fill_close(&t, "pg_type");
    fill_close(&d, "_tdb_types");
}

/* Users and databases of the server catalog, as pg_roles, pg_user and pg_database see them. */
typedef struct ListCtx {
    Fill *a, *b;
    const char *owner;
    bool failed;
} ListCtx;

static void role_row(void *ctx, const char *const *cols, int ncols)
{
    ListCtx *l = ctx;
    if (ncols < 3 || !cols[0] || !cols[2])
        return;
    bool super = cols[1] && strcmp(cols[1], "true") == 0;
    Buf o = BUF_INIT;
    const char *oid =
        strcmp(cols[0], l->owner) == 0 ? "10" : num(&o, OID_USERS + strtoll(cols[2], NULL, 10));
    const char *su = super ? "true" : "false";
    const char *r[] = {cols[0], su,         "true", su, su,   "true", su,
                       "-1",    "********", NULL,   su, NULL, oid};
    fill_row(l->a, r, 13);
    const char *u[] = {cols[0], oid, su, su, su, su, "********", NULL, NULL};
    fill_row(l->b, u, 9);
    buf_free(&o);
}

static void database_row(void *ctx, const char *const *cols, int ncols)
{
    ListCtx *l = ctx;
    if (ncols < 3 || !cols[0] || !cols[2])
        return;
    Buf o = BUF_INIT;
    const char *r[] = {num(&o, OID_DATABASES + strtoll(cols[2], NULL, 10)),
                       cols[0],
                       "10",
                       "6",
                       "c",
                       "false",
                       "true",
                       "-1",
                       "0",
                       "1",
                       "1663",
                       "C.UTF-8",
                       "C.UTF-8",
                       NULL,
                       NULL,
                       NULL};
    fill_row(l->a, r, 16);
    buf_free(&o);
}

static void fill_roles_and_databases(const CatView *m)
{
    Fill roles, users, dbs;
    bool ok_r = fill_open(m->con, "pg_roles", &roles);
    bool ok_u = fill_open(m->con, "pg_user", &users);
    bool ok_d = fill_open(m->con, "pg_database", &dbs);
    if (ok_r && ok_u) {
        ListCtx l = {&roles, &users, m->owner, false};
        if (m->s->user.super) {
            if (catalog_list(m->env->catalog, CATALOG_LIST_USERS, 0, role_row, &l) != CATALOG_OK)
                roles.failed = true;
        } else {
            /* A normal user sees themselves and the owner, as \du shows them. */
            char id[32];
            snprintf(id, sizeof(id), "%lld", (long long)m->s->user.id);
            const char *self[] = {m->s->user.name, "false", id};
            role_row(&l, self, 3);
            if (strcmp(m->owner, m->s->user.name) != 0) {
                const char *owner[] = {m->owner, "true", "0"};
                role_row(&l, owner, 3);
            }
        }
    }
    if (ok_d) {
        ListCtx l = {&dbs, NULL, m->owner, false};
        if (catalog_list(m->env->catalog, CATALOG_LIST_DATABASES,
                         m->s->user.super ? 0 : m->s->user.id, database_row, &l) != CATALOG_OK)
            dbs.failed = true;
    }
    fill_close(&roles, "pg_roles");
    fill_close(&users, "pg_user");
    fill_close(&dbs, "pg_database");
}

/* One pg_class row: relation `oid` named `name` of kind 'r', 'v' or 'i'. */
static void class_row(Fill *f, long long oid, const char *name, char kind, const char *natts,
                      bool has_index)
{
    Buf o = BUF_INIT;
    char k[2] = {kind, '\0'};
    const char *am = kind == 'i' ? "403" : kind == 'r' ? "2" : "0";
    const char *row[] = {num(&o, oid),
                         name,
                         "2200",
                         "0",
                         "0",
                         "10",
                         am,
                         buf_cstr(&o),
                         "0",
                         "0",
                         "-1",
                         "0",
                         "0",
                         has_index ? "true" : "false",
                         "false",
                         "p",
                         k,
                         natts,
                         "0",
                         kind == 'v' ? "true" : "false",
                         "false",
                         "false",
                         "false",
                         "false",
                         "true",
                         "d",
                         "false",
                         "0",
                         "0",
                         "0",
                         NULL,
                         NULL,
                         NULL};
    fill_row(f, row, 33);
    buf_free(&o);
}

/*
 * The names of the comma-separated columns `list` of index `oid` by position
 * (what pg_get_indexdef(oid, n, ...) answers), quotes removed.
 */
static void index_columns(Fill *f, long long oid, const char *list)
{
    Buf o = BUF_INIT, pos = BUF_INIT, name = BUF_INIT;
    const char *p = list ? list : "", *item;
    size_t len;
    bool quoted;
    for (int n = 1; (item = list_item(&p, &len, &quoted)) != NULL; n++) {
        name.len = 0;
        buf_append(&name, item, len);
        const char *row[] = {num(&o, oid), num(&pos, n), buf_cstr(&name)};
        fill_row(f, row, 3);
    }
    buf_free(&o);
    buf_free(&pos);
    buf_free(&name);
}

/* One pg_index row: index `oid` of table `table` over the attnums `keys` (a list text). */
/* How many attnums the list text `keys` ("[1, 3]") holds, as text in `b`. */
static const char *key_count(const char *keys, char b[16])
{
    int n = 1;
    for (const char *p = keys; *p; p++)
        n += *p == ',';
    snprintf(b, 16, "%d", n);
    return b;
}

static void index_row(Fill *f, long long oid, long long table, bool unique, bool primary,
                      const char *keys)
{
    Buf a = BUF_INIT, b = BUF_INIT;
    char natts[16];
    key_count(keys, natts);
    const char *row[] = {num(&a, oid),
                         num(&b, table),
                         natts,
                         natts,
                         unique ? "true" : "false",
                         "false",
                         primary ? "true" : "false",
                         "false",
                         "true",
                         "false",
                         "true",
                         "false",
                         "true",
                         "true",
                         "false",
                         keys,
                         NULL,
                         NULL,
                         NULL,
                         NULL,
                         NULL};
    fill_row(f, row, 21);
    buf_free(&a);
    buf_free(&b);
}

/* pg_class, pg_attribute, pg_index, pg_constraint, pg_description, pg_attrdef, the views. */
static void fill_relations(const CatView *m)
{
    Fill cls, att, idx, con, desc, def, tabs, views, idxs, stat, defs, icols;
    const char *names[] = {"pg_class",       "pg_attribute",        "pg_index",  "pg_constraint",
                           "pg_description", "pg_attrdef",          "pg_tables", "pg_views",
                           "pg_indexes",     "pg_stat_user_tables", "_tdb_defs", "_tdb_indexcols"};
    Fill *fills[] = {&cls,  &att,   &idx,  &con,  &desc, &def,
                     &tabs, &views, &idxs, &stat, &defs, &icols};
    bool ok = true;
    for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++)
        ok = fill_open(m->con, names[i], fills[i]) && ok;
    Buf b1 = BUF_INIT, b2 = BUF_INIT, b3 = BUF_INIT, b4 = BUF_INIT, b5 = BUF_INIT;
    long long next_con = OID_CONSTRAINTS;
    for (size_t i = 0; ok && i < m->rels.n; i++) {
        const CatRelation *r = &m->rels.r[i];
        const CatColumns *cs = &m->cols[i];
        const CatKeys *ks = &m->keys[i];
        size_t ti = i;
        const CatRelation *table = r->kind == 'i' ? model_table(m, r->table, &ti) : r;
        char natts[16];
        snprintf(natts, sizeof(natts), "%zu", r->kind == 'i' ? (size_t)0 : cs->n);
        class_row(&cls, r->oid, r->name, r->kind, natts, r->kind == 'r' && ks->n > 0);
        if (r->comment && r->comment[0]) {
            const char *d[] = {num(&b1, r->oid), "1259", "0", r->comment};
            fill_row(&desc, d, 4);
        }
        for (size_t c = 0; c < cs->n; c++) {
            const CatColumn *col = &cs->c[c];
            char attnum[16], attlen[16], typmod[16];
            snprintf(attnum, sizeof(attnum), "%zu", c + 1);
            snprintf(attlen, sizeof(attlen), "%d", col->pg.len);
            snprintf(typmod, sizeof(typmod), "%d", (int)col->pg.typmod);
            bool has_def = col->dflt && col->dflt[0];
            const char *arow[] = {num(&b1, r->oid),
                                  col->name,
                                  num(&b2, col->pg.oid),
                                  "-1",
                                  attlen,
                                  attnum,
                                  "0",
                                  "-1",
                                  typmod,
                                  col->pg.len > 0 && col->pg.len <= 8 ? "true" : "false",
                                  "i",
                                  col->pg.len > 0 ? "p" : "x",
                                  "",
                                  col->not_null ? "true" : "false",
                                  has_def ? "true" : "false",
                                  "false",
                                  "",
                                  "",
                                  "false",
                                  "true",
                                  "0",
                                  "0",
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL};
            fill_row(&att, arow, 26);
            if (has_def) {
                const char *d[] = {num(&b1, next_con++), num(&b2, r->oid), attnum, col->dflt};
                fill_row(&def, d, 4);
            }
            if (col->comment && col->comment[0]) {
                const char *d[] = {num(&b1, r->oid), "1259", attnum, col->comment};
                fill_row(&desc, d, 4);
            }
        }
        if (r->kind == 'r') {
            const char *t[] = {"public", r->name, m->owner, NULL, ks->n > 0 ? "true" : "false",
                               "false",  "false", "false"};
            fill_row(&tabs, t, 8);
            const char *st[] = {num(&b1, r->oid),
                                "public",
                                r->name,
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                "0",
                                NULL,
                                NULL,
                                NULL,
                                NULL};
            fill_row(&stat, st, 17);
            /* PRIMARY KEY and UNIQUE constraints: a constraint and its index, as PostgreSQL. */
            for (size_t k = 0; k < ks->n; k++) {
                const CatKey *key = &ks->k[k];
                if (!key->constraint)
                    continue;
                long long con_oid = next_con++, idx_oid = next_con++;
                const char *keys = attnums(m, i, key->columns, &b3);
                const char *c[] = {num(&b1, con_oid),
                                   key->name,
                                   "2200",
                                   key->primary ? "p" : "u",
                                   "false",
                                   "false",
                                   "true",
                                   num(&b2, r->oid),
                                   "0",
                                   num(&b4, idx_oid),
                                   "0",
                                   "0",
                                   " ",
                                   " ",
                                   " ",
                                   "true",
                                   "0",
                                   "true",
                                   keys,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL};
                fill_row(&con, c, 25);
                b5.len = 0;
                buf_printf(&b5, "%s (%s)", key->primary ? "PRIMARY KEY" : "UNIQUE", key->columns);
                const char *cd[] = {num(&b1, con_oid), buf_cstr(&b5)};
                fill_row(&defs, cd, 2);
                char natt[16];
                index_row(&idx, idx_oid, r->oid, true, key->primary, keys);
                index_columns(&icols, idx_oid, key->columns);
                /* Its index is a relation, as in PostgreSQL (`items_pkey`). */
                class_row(&cls, idx_oid, key->name, 'i', key_count(keys, natt), false);
                b5.len = 0;
                buf_printf(&b5, "CREATE UNIQUE INDEX %s ON public.%s USING btree (%s)", key->name,
                           r->name, key->columns);
                const char *ir[] = {"public", r->name, key->name, NULL, buf_cstr(&b5)};
                fill_row(&idxs, ir, 5);
                const char *id[] = {num(&b1, idx_oid), buf_cstr(&b5)};
                fill_row(&defs, id, 2);
            }
        } else if (r->kind == 'v') {
            const char *v[] = {"public", r->name, m->owner, r->sql};
            fill_row(&views, v, 4);
            const char *vd[] = {num(&b1, r->oid), r->sql};
            fill_row(&defs, vd, 2);
        } else if (r->kind == 'i' && table) {
            /* Its columns from the table's keys, where DuckDB lists the index with the text of
             * its expressions: a plain column counts, anything else is 0 (an expression). */
            const char *cols = NULL;
            for (size_t k = 0; k < m->keys[ti].n; k++)
                if (!m->keys[ti].k[k].constraint && strcmp(m->keys[ti].k[k].name, r->name) == 0)
                    cols = m->keys[ti].k[k].columns;
            const char *keys = cols ? attnums(m, ti, cols, &b3) : "[0]";
            index_row(&idx, r->oid, table->oid, r->unique, false, keys);
            if (cols)
                index_columns(&icols, r->oid, cols);
            const char *ir[] = {"public", table->name, r->name, NULL, r->sql};
            fill_row(&idxs, ir, 5);
            const char *id[] = {num(&b1, r->oid), r->sql};
            fill_row(&defs, id, 2);
        }
    }
    buf_free(&b1);
    buf_free(&b2);
    buf_free(&b3);
    buf_free(&b4);
    buf_free(&b5);
    for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++)
        fill_close(fills[i], names[i]);
}

/* The relations that hold the same rows for everyone. */
static void fill_static(duckdb_connection con)
{
    fill_namespaces(con);
    fill_types(con);
    Fill f;
    if (fill_open(con, "pg_am", &f)) {
        const char *heap[] = {"2", "heap", "heap_tableam_handler", "t"};
        const char *btree[] = {"403", "btree", "bthandler", "i"};
        fill_row(&f, heap, 4);
        fill_row(&f, btree, 4);
        fill_close(&f, "pg_am");
    }
    if (fill_open(con, "pg_tablespace", &f)) {
        const char *def[] = {"1663", "pg_default", "10", NULL, NULL};
        const char *glob[] = {"1664", "pg_global", "10", NULL, NULL};
        fill_row(&f, def, 5);
        fill_row(&f, glob, 5);
        fill_close(&f, "pg_tablespace");
    }
}

/* The session's own values: settings, database, user, pid. */
static void fill_session(duckdb_connection con, const Session *s)
{
    Fill f;
    if (fill_open(con, "_tdb_session", &f)) {
        char pid[24];
        snprintf(pid, sizeof(pid), "%lld", (long long)(s->cancel.id & 0x7fffffff));
        const char *row[] = {s->database, s->user.name, pid};
        fill_row(&f, row, 3);
        fill_close(&f, "_tdb_session");
    }
    /* What ParameterStatus announced at login (pgwire_settings.c); a SET of this session is
     * not seen here (docs/pgwire.md). */
    const char *super = s->user.super ? "on" : "off";
    const char *const settings[][2] = {
        {"server_version", "15.0"},
        {"server_version_num", "150000"},
        {"server_encoding", "UTF8"},
        {"client_encoding", "UTF8"},
        {"DateStyle", "ISO, MDY"},
        {"IntervalStyle", "postgres"},
        {"TimeZone", "UTC"},
        {"integer_datetimes", "on"},
        {"standard_conforming_strings", "on"},
        {"search_path", "\"$user\", public"},
        {"max_identifier_length", "63"},
        {"max_index_keys", "32"},
        {"block_size", "8192"},
        {"default_transaction_isolation", "repeatable read"},
        {"transaction_isolation", "repeatable read"},
        {"is_superuser", super},
        {"lc_collate", "C.UTF-8"},
        {"lc_ctype", "C.UTF-8"},
    };
    Fill g;
    bool ok_g = fill_open(con, "pg_settings", &g);
    if (fill_open(con, "_tdb_settings", &f)) {
        for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
            fill_row(&f, settings[i], 2);
            const char *row[] = {settings[i][0], settings[i][1], NULL,       "Preset Options",
                                 NULL,           NULL,           "internal", "string",
                                 "default",      NULL,           NULL,       NULL,
                                 settings[i][1], settings[i][1], NULL,       NULL,
                                 "false"};
            if (ok_g)
                fill_row(&g, row, 17);
        }
        fill_close(&f, "_tdb_settings");
    }
    if (ok_g)
        fill_close(&g, "pg_settings");
}

/* `text` as a SQL string literal's body: quotes doubled, into `b` (reset first). */
static const char *sql_string(const char *text, Buf *b)
{
    b->len = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            buf_append(b, "'", 1);
        buf_append(b, p, 1);
    }
    return buf_cstr(b);
}

/* ---- the interface ---- */

int catview_read(Session *s, const SessionEnv *env, CatView **out, Buf *err)
{
    CatView *v = xcalloc(1, sizeof(*v));
    v->s = s;
    v->env = env;
    v->err = err;
    catmodel_owner(env, v->owner);
    *out = v;
    return model_read(v) ? 0 : -1;
}

void catview_free(CatView *v)
{
    if (!v)
        return;
    model_free(v);
    free(v);
}

void catview_schema_sql(Buf *out)
{
    Buf v = BUF_INIT;
    for (size_t i = 0; i < sizeof(relations) / sizeof(relations[0]); i++)
        buf_printf(out, "CREATE TEMP TABLE %s (%s);", relations[i].name, relations[i].columns);
    buf_printf(out, macros_fmt, sql_string(pgrw_version(), &v));
    buf_free(&v);
}

bool catview_fill_static(duckdb_connection con)
{
    fill_failed = false;
    fill_static(con);
    return !fill_failed;
}

bool catview_fill(CatView *v, duckdb_connection con)
{
    fill_failed = false;
    v->con = con;
    fill_roles_and_databases(v);
    fill_relations(v);
    fill_session(con, v->s);
    v->con = NULL;
    return !fill_failed;
}

void catview_clear_sql(Buf *out)
{
    for (size_t i = 0; i < sizeof(per_query) / sizeof(per_query[0]); i++)
        buf_printf(out, "DELETE FROM temp.main.%s;", per_query[i]);
}
