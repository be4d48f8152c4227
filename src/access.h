/*
 * access: who may do what. The checks every request passes (the super
 * user's commands, a user's database grant, the table grants a SQL request
 * needs), and the super user's commands that change and show the grants:
 * grant, revoke and list (docs/access-control.md), with the upkeep that
 * keeps table grants consistent with the tables that exist.
 *
 * authz.c only classifies SQL (which tables a statement touches, and how);
 * this module asks the catalog for the grants and decides. Called by
 * session.c on a worker thread with the session it owns.
 *
 * Table identities. A table grant belongs to a table, not to a name: a
 * rename keeps it (under the new name), a drop deletes it, and a new table
 * under an old name has none (docs/access-control.md). The catalog can only
 * store names, because DuckDB's table oids change when a database is
 * reopened. So every open database carries an AccessTables (the pool's
 * attachment, PoolConfig.on_open: taken when the database is opened, before
 * any connection to it exists, and freed when it is closed): the name and
 * oid of each of its tables and views as of the last sync. A sync lists
 * them again and moves or deletes the grants of every recorded oid that
 * changed name or is gone (catalog_table_grants_rename), then records the
 * new list. It runs after every committed schema change and before every
 * `grant table`.
 *
 * The lock. Each AccessTables has one rwlock, owned by this module: the
 * pool only carries the attachment and never looks inside, and every
 * reader and writer of the identities is here. Held exclusively by a sync
 * (so the syncs of one database are serialized and never see a half-made
 * list), by `grant table`, and by the super user from before a request that
 * may change the schema runs (or before the COMMIT of a transaction that
 * did) until its sync is done. Held shared by every other user from before
 * the access check of a SQL request until the request has run. So no such
 * user's request is checked or runs between a committed change of table
 * identities and the sync that brings the grants up to date. Order: this
 * lock, then the pool's and the catalog's (never the other way round).
 */
#ifndef TCPDUCKDB_ACCESS_H
#define TCPDUCKDB_ACCESS_H

#include "session.h"

/*
 * True when the session's user is the super user; otherwise answers
 * `Unauthorized` and returns false. For the commands only the super user
 * may run.
 */
bool access_require_super(const Session *s, Buf *out) __attribute__((warn_unused_result));

/*
 * May the session's user use database `db_id` (called `name` in the
 * answer)? The super user may use every one. Returns 0, or -1 with the
 * answer in `out`: `Access Denied` without a database grant, `Internal
 * Error` when the catalog fails.
 */
int access_check_database(const Session *s, const SessionEnv *env, int64_t db_id, const char *name,
                          Buf *out) __attribute__((warn_unused_result));

/*
 * May the session's user run `sql` on the connected database? Checks the
 * database grant and the table grants as they are now, so a revoke takes
 * effect at the user's next request; the super user may run anything.
 * `cached` is the statement cache's entry for the text, or NULL. What authz
 * derived from the text is kept with the entry and only the grants are
 * looked up again; otherwise the full check runs on the session's
 * connection and *out_plan receives what it derived (or stays NULL), for
 * the caller to keep with the entry or free with authz_plan_free(). When
 * `out_prep` is not NULL it receives the request's statement as the full
 * check prepared it, for a request of one statement (else NULL): the
 * caller runs it (QueryRequest.prepared) or destroys it, so the text is
 * prepared once (authz_check_prepare). Returns 0 when the request may run;
 * otherwise -1 with the answer in `out`.
 */
int access_check_request(const Session *s, const SessionEnv *env, const char *sql,
                         const StmtEntry *cached, AuthzPlan **out_plan,
                         duckdb_prepared_statement *out_prep, Buf *out)
    __attribute__((warn_unused_result));

/*
 * A session's copy of its user's grants on its database (Session.grants),
 * made by the checks above and valid for one catalog generation
 * (catalog_generation), so that a request reads SQLite only after the
 * catalog changed. Frees it; accepts NULL.
 */
void access_grants_free(AccessGrants *g);

/*
 * The commands, handlers of the command table (session.h), which has
 * checked who runs them (the super user; `list`: a logged-in user) and
 * their word counts (the usage texts below) before they run.
 */
#define ACCESS_USAGE_GRANT_DATABASE "grant database DATABASE USER read|write"
#define ACCESS_USAGE_GRANT_TABLE "grant table DATABASE TABLE USER select|insert|update|delete..."
#define ACCESS_USAGE_REVOKE_DATABASE "revoke database DATABASE USER"
#define ACCESS_USAGE_REVOKE_TABLE "revoke table DATABASE TABLE USER select|insert|update|delete..."
#define ACCESS_USAGE_LIST "list users | list databases | list grants [USER]"

void access_cmd_grant_database(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
void access_cmd_grant_table(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
void access_cmd_revoke_database(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
void access_cmd_revoke_table(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* One JSON array line; `list users` and another user's grants are the super user's. */
void access_cmd_list(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);

/* The identities of one open database's tables, and their lock (above). */
typedef struct AccessTables AccessTables;

/*
 * PoolConfig.on_open and on_close: records the tables of database `db_id`
 * as `con` sees them (the database was just opened). Never NULL; when
 * DuckDB fails the record is empty and marked unknown, and the first sync
 * falls back to deleting the grants whose name no table has.
 */
void *access_tables_open(duckdb_connection con, int64_t db_id);
/* Accepts NULL. No one may hold the lock. */
void access_tables_close(void *tables);

/* What a request holds of its database's AccessTables lock. */
typedef enum { ACCESS_HOLD_NONE, ACCESS_HOLD_SHARED, ACCESS_HOLD_EXCLUSIVE } AccessHold;
typedef struct AccessGuard {
    AccessTables *tables; /* of the session's database; NULL: nothing held */
    AccessHold hold;
} AccessGuard;

/*
 * Takes the lock for SQL request `sql` of a connected session into *out
 * (zeroed by the caller): shared for a user other than the super user;
 * exclusive for the super user outside a transaction when the text has one
 * of the words DROP, ALTER, CREATE or EXECUTE outside strings and comments
 * (the statements that can change which table a name means); nothing
 * otherwise (inside a transaction a change is seen by no one until COMMIT).
 * Blocks while another session holds it. Give it back with
 * access_guard_release() once the request (and its sync) is done.
 */
void access_guard_request(const Session *s, const char *sql, AccessGuard *out);
/* Exclusive, for the COMMIT of a transaction that changed the schema. */
void access_guard_exclusive(const Session *s, AccessGuard *out);
/* Releases what *g holds and zeroes it. Accepts a zeroed guard. */
void access_guard_release(AccessGuard *g);

/*
 * Brings the table grants on the session's database up to date after the
 * super user committed a schema change (a drop, a rename, CREATE OR
 * REPLACE, ...): grants follow a renamed table to its new name and go with
 * a dropped or replaced one. Uses a connection of its own, so it sees what
 * is committed and never the session's open transaction. Runs under the
 * exclusive lock: `g`'s, or taken for the call when `g` holds none (it must
 * not hold it shared). Logs failures; the identities recorded before the
 * change are then kept, so the next sync still sees it.
 */
void access_prune_table_grants(Session *s, const SessionEnv *env, AccessGuard *g);
/*
 * The same for a change made on another connection (`link`, `migrate`,
 * `unlink`): the caller holds a pin on `db`, and no guard.
 */
void access_sync_table_grants(const SessionEnv *env, PoolDb *db, int64_t db_id);

#endif
