/*
 * authz: decides, before any of it runs, whether a user who is not the super
 * user may run the SQL of a request (docs/access-control.md).
 *
 * A request may run only SELECT, INSERT, UPDATE, DELETE and TRUNCATE
 * statements (and EXPLAIN of them without ANALYZE), and only on tables and
 * views of schema main of the connected database on which the user holds
 * the privileges the statement needs. Every other statement kind, every
 * table function except a few pure generators, and the functions that read
 * settings, variables, sequences or DuckDB's catalog are denied, and so is
 * whatever cannot be classified with certainty.
 *
 * Called by the session on its worker thread with the session's own
 * connection; any number of threads may call it at once. The first call in
 * the process reads DuckDB's function, keyword and system view names (about
 * 25 ms) into a read-only cache that all later calls share.
 */
#ifndef TCPDUCKDB_AUTHZ_H
#define TCPDUCKDB_AUTHZ_H

#include "buf.h"
#include "duckdb.h"

/* Table privileges, a bit set; the values equal CATALOG_PRIV_* (catalog.h). */
typedef unsigned AuthzPrivileges;
#define AUTHZ_SELECT 1u
#define AUTHZ_INSERT 2u
#define AUTHZ_UPDATE 4u
#define AUTHZ_DELETE 8u
#define AUTHZ_ALL 15u

/* The user a request is checked for. Every pointer is borrowed for the call. */
typedef struct AuthzUser {
    const char *name;    /* user name, shown in the answers */
    AuthzPrivileges cap; /* what the database grant allows: AUTHZ_SELECT for read,
                            AUTHZ_ALL for write; privileges outside it never count */
    const char *catalog; /* DuckDB catalog name of the connected database (SELECT
                            current_database()); qualified names must use it */
    /*
     * Privileges the user holds on table or view `table` of schema main. The
     * name is as the user first wrote it in the request, unquoted: compare it
     * case-insensitively, as DuckDB resolves names. Called on the caller's
     * thread, during authz_check only, once per table reference.
     */
    AuthzPrivileges (*table_privileges)(void *ctx, const char *table);
    void *ctx;
} AuthzUser;

/*
 * Checks every statement of `sql` (the whole request text, NUL-terminated)
 * before any of them runs; the request may run only if every statement may.
 * Statement kinds and functions are checked on the text before DuckDB parses
 * it; then `con` is used to parse, bind and prepare the statements, never to
 * execute them, so no data changes, and an explicit transaction is left as
 * it was. Costs about one DuckDB prepare per statement.
 *
 * Returns 0 when every statement may run. Otherwise returns -1 and appends
 * exactly one answer line to `err_out`, one of:
 *   Error: Access Denied: User "U" does not have access over Tables "T1,T2"
 *       the statements use tables without the privileges they need, or
 *       tables outside schema main; each listed once, in order of first
 *       appearance, as the user first wrote it without quotes (qualified
 *       when it names another schema or catalog);
 *   Error: Access Denied: WHAT is not allowed for user "U"
 *       a statement kind (COPY, ATTACH, SET, CREATE, ..., EXPLAIN ANALYZE)
 *       or a function (WHAT = "function read_csv") no such user may use;
 *   Error: Access Denied: cannot verify this statement's access: REASON
 *       the statement could not be classified with certainty;
 *   Error: Bad Request: REASON
 *       the text is out of the bounds of sqllex_check_bounds() (a long run
 *       of operator characters, on which DuckDB's parser is quadratic);
 *       checked before DuckDB sees the text;
 *   Error: MESSAGE
 *       DuckDB's own parse or bind error, without its "Did you mean ..."
 *       and "Candidate bindings" lines, which can name tables and columns
 *       the user may not know about.
 * Newlines inside an answer are escaped as by reply_engine_error().
 */
int authz_check(duckdb_connection con, const char *sql, const AuthzUser *user, Buf *err_out)
    __attribute__((warn_unused_result));

/*
 * What a successful check derived from a request's text: the tables it
 * looked up and the privileges each needed, in order. It holds no verdict:
 * authz_recheck() asks for the grants again. Valid as long as the schema of
 * the database does not change (the statement cache drops it then).
 */
typedef struct AuthzPlan AuthzPlan;

/*
 * authz_check(), which on success (0) also sets *out_plan to what it
 * derived (the caller frees it with authz_plan_free()); on failure
 * *out_plan is NULL.
 */
int authz_check_plan(duckdb_connection con, const char *sql, const AuthzUser *user, Buf *err_out,
                     AuthzPlan **out_plan) __attribute__((warn_unused_result));

/*
 * authz_check_plan(), which on success also hands over the prepared statement of a request of
 * exactly one statement in *out_prep (the caller destroys it with duckdb_destroy_prepare(), or
 * runs it: it is the request's statement, prepared on `con` as the check's last step, so the
 * request need not be parsed and prepared again); NULL for a request of several statements and
 * on failure.
 */
int authz_check_prepare(duckdb_connection con, const char *sql, const AuthzUser *user, Buf *err_out,
                        AuthzPlan **out_plan, duckdb_prepared_statement *out_prep)
    __attribute__((warn_unused_result));

/*
 * Checks the same request again with a plan from authz_check_plan() on the
 * same database and schema, without DuckDB: every table privilege is asked
 * of user->table_privileges again and limited by user->cap, so a revoke
 * takes effect at once. Returns 0, or -1 with the same "Access Denied ...
 * Tables" answer authz_check() would give.
 */
int authz_recheck(const AuthzPlan *plan, const AuthzUser *user, Buf *err_out)
    __attribute__((warn_unused_result));

/* Accepts NULL. */
void authz_plan_free(AuthzPlan *plan);

#endif
