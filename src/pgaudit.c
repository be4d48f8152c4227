/*
 * pgaudit: the change log, its triggers and consumers in PostgreSQL. See
 * pgaudit.h and docs/postgres.md.
 */
#include "pgaudit.h"

#include <stdlib.h>

static const char AUDIT_SQL[] =
    "CREATE SCHEMA IF NOT EXISTS tcpduckdb_audit;"
    "CREATE TABLE IF NOT EXISTS tcpduckdb_audit.log ("
    "  id bigserial PRIMARY KEY,"
    "  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),"
    "  schema_name text NOT NULL,"
    "  table_name text NOT NULL,"
    "  op char(1) NOT NULL CHECK (op IN ('I', 'U', 'D', 'T', 'C')),"
    "  old_row jsonb,"
    "  new_row jsonb,"
    "  logged_at timestamptz NOT NULL DEFAULT clock_timestamp());"
    "CREATE INDEX IF NOT EXISTS log_txid ON tcpduckdb_audit.log (txid);"
    "CREATE TABLE IF NOT EXISTS tcpduckdb_audit.linked_schemas (schema_name text PRIMARY KEY);"
    /* One row per linked DuckDB database: the log is pruned below the
     * oldest position any of them still needs (docs/postgres.md). */
    "CREATE TABLE IF NOT EXISTS tcpduckdb_audit.consumers ("
    "  consumer text PRIMARY KEY,"
    "  schema_name text NOT NULL,"
    "  position_xmin xid8 NOT NULL,"
    "  updated_at timestamptz NOT NULL DEFAULT clock_timestamp());"
    "CREATE OR REPLACE FUNCTION tcpduckdb_audit.log_change() RETURNS trigger"
    "  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$ "
    "BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op, new_row)"
    "    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'I', to_jsonb(NEW));"
    "  ELSIF TG_OP = 'UPDATE' THEN"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op, old_row, new_row)"
    "    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'U', to_jsonb(OLD), to_jsonb(NEW));"
    "  ELSIF TG_OP = 'DELETE' THEN"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op, old_row)"
    "    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'D', to_jsonb(OLD));"
    "  ELSE"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op)"
    "    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'T');"
    "  END IF;"
    "  RETURN NULL;"
    "END $f$;"
    "CREATE OR REPLACE FUNCTION tcpduckdb_audit.watch(tab regclass) RETURNS void"
    "  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$ "
    "BEGIN"
    "  EXECUTE format('CREATE OR REPLACE TRIGGER tcpduckdb_audit_row AFTER INSERT OR UPDATE "
    "OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION tcpduckdb_audit.log_change()', tab);"
    "  EXECUTE format('CREATE OR REPLACE TRIGGER tcpduckdb_audit_truncate AFTER TRUNCATE ON "
    "%s FOR EACH STATEMENT EXECUTE FUNCTION tcpduckdb_audit.log_change()', tab);"
    "END $f$;"
    "CREATE OR REPLACE FUNCTION tcpduckdb_audit.on_create() RETURNS event_trigger"
    "  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$ "
    "DECLARE r record; "
    "BEGIN"
    "  FOR r IN SELECT c.oid, n.nspname, c.relname"
    "    FROM pg_event_trigger_ddl_commands() d"
    "    JOIN pg_class c ON c.oid = d.objid"
    "    JOIN pg_namespace n ON n.oid = c.relnamespace"
    "    WHERE d.object_type = 'table' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
    "      AND n.nspname IN (SELECT schema_name FROM tcpduckdb_audit.linked_schemas)"
    "  LOOP"
    "    PERFORM tcpduckdb_audit.watch(r.oid::regclass);"
    "    INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op)"
    "    VALUES (r.nspname, r.relname, 'C');"
    /* CREATE TABLE AS filled the table before the triggers existed. */
    "    EXECUTE format('INSERT INTO tcpduckdb_audit.log (schema_name, table_name, op, new_row)"
    " SELECT %L, %L, ''I'', to_jsonb(t) FROM %s t', r.nspname, r.relname, r.oid::regclass);"
    "  END LOOP;"
    "END $f$;";

static const char EVENT_TRIGGER_SQL[] =
    "DROP EVENT TRIGGER IF EXISTS tcpduckdb_audit_create;"
    "CREATE EVENT TRIGGER tcpduckdb_audit_create ON ddl_command_end"
    "  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')"
    "  EXECUTE FUNCTION tcpduckdb_audit.on_create();";

int pgaudit_install(PgJob *j, const char *schema, const PgSchema *sc, const char *consumer,
                    bool *out_event_trigger)
{
    Buf sql = {0};
    int rc = -1;
    PGresult *r =
        pgjob_query(j, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", 0, NULL);
    if (!r)
        goto out;
    bool super = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    buf_append_str(&sql, "BEGIN;");
    buf_append_str(&sql, AUDIT_SQL);
    buf_append_str(&sql, "INSERT INTO tcpduckdb_audit.linked_schemas VALUES (");
    pgschema_put_literal(&sql, schema);
    buf_append_str(&sql, ") ON CONFLICT DO NOTHING;");
    buf_append_str(&sql,
                   "INSERT INTO tcpduckdb_audit.consumers (consumer, schema_name, position_xmin) "
                   "VALUES (");
    pgschema_put_literal(&sql, consumer);
    buf_putc(&sql, ',');
    pgschema_put_literal(&sql, schema);
    buf_append_str(&sql, ", pg_snapshot_xmin(pg_current_snapshot()));");
    for (int t = 0; t < sc->n; t++) {
        buf_append_str(&sql, "SELECT tcpduckdb_audit.watch(");
        Buf name = {0};
        pgschema_put_relation(&name, schema, sc->tables[t].name);
        pgschema_put_literal(&sql, buf_cstr(&name));
        buf_free(&name);
        buf_append_str(&sql, "::regclass);");
    }
    if (super)
        buf_append_str(&sql, EVENT_TRIGGER_SQL);
    buf_append_str(&sql, "COMMIT;");
    if (pgjob_exec(j, buf_cstr(&sql)) != 0) {
        pgjob_rollback(j);
        goto out;
    }
    *out_event_trigger = super;
    rc = 0;
out:
    buf_free(&sql);
    return rc;
}

void pgaudit_drop_consumer(PgJob *j, const char *consumer)
{
    const char *params[] = {consumer};
    pgjob_rollback(j);
    pgjob_exec_quiet(j, "DELETE FROM tcpduckdb_audit.consumers WHERE consumer = $1", 1, params);
}

int pgaudit_require_consumer(PgJob *j, const char *consumer, const char *name)
{
    const char *params[] = {consumer};
    int registered =
        pgjob_rows(j, "SELECT 1 FROM tcpduckdb_audit.consumers WHERE consumer = $1", 1, params);
    if (registered == 0)
        pgjob_fail(j,
                   "Bad Request: the link of %s was removed in PostgreSQL (no audit consumer %s): "
                   "unlink %s, then link a new database",
                   name, consumer, name);
    return registered > 0 ? 0 : -1;
}

PGresult *pgaudit_changed_tables(PgJob *j, const char *schema, const char *snapshot)
{
    const char *params[] = {schema, snapshot};
    return pgjob_query(j,
                       "SELECT DISTINCT table_name FROM tcpduckdb_audit.log WHERE schema_name = "
                       "$1 AND txid >= pg_snapshot_xmin($2::pg_snapshot) AND NOT "
                       "pg_visible_in_snapshot(txid, $2::pg_snapshot) ORDER BY 1",
                       2, params);
}

void pgaudit_changes_copy_sql(Buf *b, const char *schema, const PgTable *tb, const char *snapshot)
{
    Buf rel = {0};
    pgschema_put_relation(&rel, schema, tb->name);
    buf_printf(b,
               "COPY (SELECT l.id, l.op::text, o.*, nw.* FROM tcpduckdb_audit.log l, "
               "LATERAL jsonb_populate_record(NULL::%s, l.old_row) o, "
               "LATERAL jsonb_populate_record(NULL::%s, l.new_row) nw WHERE l.schema_name = ",
               buf_cstr(&rel), buf_cstr(&rel));
    buf_free(&rel);
    pgschema_put_literal(b, schema);
    buf_append_str(b, " AND l.table_name = ");
    pgschema_put_literal(b, tb->name);
    buf_append_str(b, " AND l.txid >= pg_snapshot_xmin(");
    pgschema_put_literal(b, snapshot);
    buf_append_str(b, "::pg_snapshot) AND NOT pg_visible_in_snapshot(l.txid, ");
    pgschema_put_literal(b, snapshot);
    buf_append_str(b, "::pg_snapshot) ORDER BY l.id) TO STDOUT (FORMAT binary)");
}

/*
 * A transaction below the xmin of every consumer's snapshot is visible in all
 * of them (or rolled back), so every consumer has applied it.
 */
int pgaudit_prune(PgJob *j, const char *consumer, const char *now, int64_t *out_pruned)
{
    const char *params[] = {consumer, now};
    PGresult *r = NULL;
    int rc = -1;
    if (pgjob_exec(j, "BEGIN") != 0)
        goto out;
    if (pgjob_rows(j,
                   "UPDATE tcpduckdb_audit.consumers SET position_xmin = "
                   "pg_snapshot_xmin($2::pg_snapshot), updated_at = clock_timestamp() "
                   "WHERE consumer = $1",
                   2, params) < 0)
        goto out;
    r = pgjob_query(j,
                    "DELETE FROM tcpduckdb_audit.log WHERE txid < (SELECT min(position_xmin) FROM "
                    "tcpduckdb_audit.consumers)",
                    0, NULL);
    if (!r)
        goto out;
    if (pgjob_exec(j, "COMMIT") != 0)
        goto out;
    *out_pruned = strtoll(PQcmdTuples(r), NULL, 10);
    rc = 0;
out:
    PQclear(r);
    return rc;
}

int pgaudit_remove(PgJob *j, const char *schema, const char *consumer)
{
    const char *p_consumer[] = {consumer}, *p_schema[] = {schema};
    PGresult *r = NULL;
    Buf sql = {0};
    int rc = -1;
    if (pgjob_exec(j, "BEGIN") != 0)
        goto out;
    int have_audit = pgjob_rows(
        j, "SELECT 1 WHERE to_regclass('tcpduckdb_audit.consumers') IS NOT NULL", 0, NULL);
    if (have_audit < 0)
        goto out;
    if (have_audit == 0) {
        rc = pgjob_exec(j, "COMMIT"); /* removed by hand already */
        goto out;
    }
    if (pgjob_rows(j, "DELETE FROM tcpduckdb_audit.consumers WHERE consumer = $1", 1, p_consumer) <
        0)
        goto out;
    int schema_followed = pgjob_rows(
        j, "SELECT 1 FROM tcpduckdb_audit.consumers WHERE schema_name = $1", 1, p_schema);
    if (schema_followed < 0)
        goto out;
    if (schema_followed == 0) {
        r = pgjob_query(j,
                        "SELECT DISTINCT format('%I.%I', n.nspname, c.relname) FROM pg_trigger t "
                        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = "
                        "c.relnamespace WHERE n.nspname = $1 AND t.tgname IN "
                        "('tcpduckdb_audit_row', 'tcpduckdb_audit_truncate')",
                        1, p_schema);
        if (!r)
            goto out;
        for (int i = 0; i < PQntuples(r); i++) {
            sql.len = 0;
            buf_printf(&sql,
                       "DROP TRIGGER IF EXISTS tcpduckdb_audit_row ON %s;"
                       "DROP TRIGGER IF EXISTS tcpduckdb_audit_truncate ON %s",
                       PQgetvalue(r, i, 0), PQgetvalue(r, i, 0));
            if (pgjob_exec(j, buf_cstr(&sql)) != 0)
                goto out;
        }
        if (pgjob_rows(j, "DELETE FROM tcpduckdb_audit.linked_schemas WHERE schema_name = $1", 1,
                       p_schema) < 0 ||
            pgjob_rows(j, "DELETE FROM tcpduckdb_audit.log WHERE schema_name = $1", 1, p_schema) <
                0)
            goto out;
    }
    int any_followed = pgjob_rows(j, "SELECT 1 FROM tcpduckdb_audit.linked_schemas", 0, NULL);
    if (any_followed < 0)
        goto out;
    if (any_followed == 0 && pgjob_exec(j, "DROP EVENT TRIGGER IF EXISTS tcpduckdb_audit_create;"
                                           "DROP SCHEMA tcpduckdb_audit CASCADE") != 0)
        goto out;
    rc = pgjob_exec(j, "COMMIT");
out:
    PQclear(r);
    buf_free(&sql);
    if (rc != 0)
        pgjob_rollback(j);
    return rc;
}
