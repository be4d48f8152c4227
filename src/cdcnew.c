/*
 * cdcnew: the event trigger that adds tables created after link to the
 * publication, and the stream's copy of such a table. See cdcnew.h and
 * docs/cdc.md.
 */
#include "cdcnew.h"

#include <stdlib.h>
#include <string.h>

#include "pgload.h"
#include "xalloc.h"

/* Quotes the body of the trigger's function (dollar quoting); a schema name containing it is
 * refused rather than escaped. */
#define BODY_QUOTE "$tcpduckdb$"

/* The tables that the trigger may add: ordinary or partitioned (not a partition: the root
 * publishes them), permanent (temporary and unlogged ones cannot be published), of the schema
 * whose oid is `nsp`. */
#define JOINABLE                                                                                   \
    "c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p' AND "             \
    "c.relnamespace = nsp"

/* Appends the SQL that creates the function and the event trigger. */
static void install_sql(Buf *b, const char *schema, const char *pub)
{
    buf_append_str(b, "CREATE OR REPLACE FUNCTION ");
    pgschema_put_relation(b, schema, pub);
    buf_append_str(b, "() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET "
                      "search_path = pg_catalog, pg_temp AS " BODY_QUOTE " DECLARE pub text := ");
    pgschema_put_literal(b, pub);
    buf_append_str(b, "; nsp oid := (SELECT oid FROM pg_namespace WHERE nspname = ");
    pgschema_put_literal(b, schema);
    /* Every ALTER TABLE of the database fires it: the query keeps only tables of the schema
     * that are not members yet. `keyed`: a primary key with the default replica identity
     * (cdcnew.h says why a table with REPLICA IDENTITY FULL alone is not added). */
    buf_append_str(
        b, "); o record; BEGIN FOR o IN SELECT DISTINCT c.oid, c.relname, e.command_tag, "
           "c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid "
           "AND i.indisprimary) AS keyed FROM pg_event_trigger_ddl_commands() e JOIN pg_class c ON "
           "c.oid = e.objid AND e.classid = 'pg_class'::regclass WHERE " JOINABLE
           " AND NOT EXISTS (SELECT 1 FROM pg_publication_rel r JOIN pg_publication p ON p.oid = "
           "r.prpubid WHERE p.pubname = pub AND r.prrelid = c.oid) LOOP IF o.keyed THEN BEGIN "
           "EXECUTE format('ALTER PUBLICATION %I ADD TABLE %s', pub, o.oid::regclass); PERFORM "
           "pg_logical_emit_message(true, pub, o.relname); EXCEPTION WHEN OTHERS THEN RAISE "
           "WARNING 'TCP-DuckDB CDC: table % was not added to publication %: %', o.relname, pub, "
           "SQLERRM; END; ELSIF o.command_tag <> 'ALTER TABLE' THEN RAISE WARNING 'TCP-DuckDB "
           "CDC does not follow table % (no primary key): ALTER TABLE ... ADD PRIMARY KEY makes "
           "it join; or ALTER TABLE ... REPLICA IDENTITY FULL, then cdc resync DATABASE %', "
           "o.relname, o.relname; END IF; END LOOP; END " BODY_QUOTE "; CREATE EVENT TRIGGER ");
    pgschema_put_ident(b, pub);
    buf_append_str(b, " ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', "
                      "'SELECT INTO', 'ALTER TABLE') EXECUTE FUNCTION ");
    pgschema_put_relation(b, schema, pub);
    buf_append_str(b, "()");
}

int cdcnew_install(PgJob *pg, const char *schema, const char *pub)
{
    if (strstr(schema, BODY_QUOTE)) {
        pgjob_fail(pg, "Bad Request: the schema name may not contain %s", BODY_QUOTE);
        return -1;
    }
    const char *params[1] = {pub};
    PGresult *r = pgjob_query(pg,
                              "SELECT rolsuper, EXISTS (SELECT 1 FROM pg_event_trigger WHERE "
                              "evtname = $1) FROM pg_roles WHERE rolname = current_user",
                              1, params);
    if (!r)
        return -1;
    bool super = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    bool exists = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    PQclear(r);
    if (exists)
        return 1;
    if (!super)
        return 0;
    Buf sql = {0};
    install_sql(&sql, schema, pub);
    int rc = pgjob_exec(pg, buf_cstr(&sql));
    buf_free(&sql);
    return rc == 0 ? 1 : -1;
}

int cdcnew_uninstall(PgJob *pg, const char *pub)
{
    /* The function is found by its name (the publication's, random and unique) rather than
     * by the trigger, so that it goes also when the trigger was dropped by hand. */
    Buf sql = {0};
    buf_append_str(&sql, "DO " BODY_QUOTE " DECLARE pub text := ");
    pgschema_put_literal(&sql, pub);
    buf_append_str(&sql, "; f regprocedure; BEGIN EXECUTE format('DROP EVENT TRIGGER IF EXISTS "
                         "%I', pub); FOR f IN SELECT oid FROM pg_proc WHERE proname = pub AND "
                         "prorettype = 'event_trigger'::regtype LOOP EXECUTE format('DROP "
                         "FUNCTION %s', f); END LOOP; END " BODY_QUOTE);
    int rc = pgjob_exec(pg, buf_cstr(&sql));
    buf_free(&sql);
    return rc;
}

int cdcnew_check(PgJob *pg, const char *schema, const char *pub, Buf *not_followed,
                 bool *out_trigger)
{
    const char *params[2] = {schema, pub};
    not_followed->len = 0;
    PGresult *r = pgjob_query(
        pg,
        "SELECT coalesce((SELECT string_agg(c.relname, E'\\n' ORDER BY c.relname) FROM pg_class c, "
        "(SELECT oid AS nsp FROM pg_namespace WHERE nspname = $1) n WHERE " JOINABLE
        " AND NOT EXISTS (SELECT 1 FROM pg_publication_rel r JOIN pg_publication p ON p.oid = "
        "r.prpubid WHERE p.pubname = $2 AND r.prrelid = c.oid)), ''), EXISTS (SELECT 1 FROM "
        "pg_event_trigger WHERE evtname = $2)",
        2, params);
    if (!r)
        return -1;
    buf_append_str(not_followed, PQgetvalue(r, 0, 0));
    *out_trigger = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    PQclear(r);
    return 0;
}

int cdcnew_copy_table(PgJob *pg, duckdb_connection con, const char *schema, const PgTable *tb,
                      int64_t *out_rows)
{
    Buf sql = {0};
    const PgCol **cols = xcalloc((size_t)tb->ncols, sizeof(*cols));
    int rc = -1;
    buf_append_str(&sql, "DROP TABLE IF EXISTS ");
    pgschema_put_ident(&sql, tb->name);
    buf_append_str(&sql, "; ");
    pgschema_create_table_sql(&sql, tb, false);
    if (pgload_exec(pg, con, buf_cstr(&sql)) != 0)
        goto out;
    for (int c = 0; c < tb->ncols; c++)
        cols[c] = &tb->cols[c];
    sql.len = 0;
    pgschema_copy_sql(&sql, schema, tb);
    if (pgload_copy(pg, con, buf_cstr(&sql), tb->name, cols, tb->ncols, tb->name, out_rows) != 0)
        goto out;
    sql.len = 0;
    if (pgschema_add_pk_sql(&sql, tb) && pgload_exec(pg, con, buf_cstr(&sql)) != 0)
        goto out;
    rc = 0;
out:
    free(cols);
    buf_free(&sql);
    return rc;
}
