/*
 * access: the access-control commands of the super user, grant, revoke and
 * list (docs/access-control.md), and the upkeep that keeps table grants
 * consistent with the tables that exist.
 *
 * Enforcement of the grants on SQL is the authz module's; this module only
 * changes and shows them. Called by session.c on a worker thread with the
 * session it owns.
 */
#ifndef TCPDUCKDB_ACCESS_H
#define TCPDUCKDB_ACCESS_H

#include "session.h"

/* `grant database DB USER read|write`, `grant table DB TABLE USER PRIV...`. */
void access_cmd_grant(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `revoke database DB USER`, `revoke table DB TABLE USER PRIV...`. */
void access_cmd_revoke(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `list users`, `list databases`, `list grants [USER]`: one JSON array line. */
void access_cmd_list(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);

/*
 * Drops the table grants on the session's database whose table no longer
 * exists (after the super user dropped or renamed tables), using the
 * session's connection. Logs failures; the grants then stay until the next
 * prune, and a grant on a missing table gives nothing.
 */
void access_prune_table_grants(Session *s, const SessionEnv *env);

#endif
