/*
 * cdclink: the commands of the PostgreSQL link that know about CDC
 * (docs/cdc.md). `link ... [mode=auto|cdc|audit]` chooses the mode and
 * either links in CDC mode here (publication, slot, initial copy from the
 * slot's exported snapshot, then the stream) or hands the request to pglink
 * (audit triggers). `migrate` and `unlink` of a CDC-linked database are
 * handled here, of an audit-linked one by pglink. `cdc start|stop|status`
 * control the streams (cdc.h); `cdc switch` moves an audit-linked database
 * to CDC without copying it again (cdc_switch in cdclink.c).
 *
 * The commands are the super user's and run on the worker thread of the
 * session, as pglink's do, with DuckDB connections of their own.
 */
#ifndef TCPDUCKDB_CDCLINK_H
#define TCPDUCKDB_CDCLINK_H

#include "session.h"

/* `link DB CONNSTRING [SCHEMA] [mode=auto|cdc|audit]` (auto by default). */
void cdclink_cmd_link(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `migrate DB`: for CDC, applies up to PostgreSQL's WAL position at the call; `success N`. */
void cdclink_cmd_migrate(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `unlink DB [force]`: for CDC, stops the stream and drops the slot and the publication. */
void cdclink_cmd_unlink(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `cdc start DB`, `cdc stop DB`, `cdc status [DB]`, `cdc resync DB [TABLE]`, `cdc drop-orphans`,
 * `cdc switch DB`. */
void cdclink_cmd_cdc(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);

#endif
