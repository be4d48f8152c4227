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
 * the caller to keep with the entry or free with authz_plan_free(). Returns
 * 0 when the request may run; otherwise -1 with the answer in `out`.
 */
int access_check_request(const Session *s, const SessionEnv *env, const char *sql,
                         const StmtEntry *cached, AuthzPlan **out_plan, Buf *out)
    __attribute__((warn_unused_result));

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

/*
 * Drops the table grants on the session's database whose table no longer
 * exists (after the super user dropped or renamed tables), using the
 * session's connection. Logs failures; the grants then stay until the next
 * prune, and a grant on a missing table gives nothing.
 */
void access_prune_table_grants(Session *s, const SessionEnv *env);

#endif
