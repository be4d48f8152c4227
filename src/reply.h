/*
 * reply: every answer line of the protocol that is not a result, one
 * function per answer that docs/protocol.md defines ("Error messages"), so
 * that each message's wording lives in one place. Nothing else in the
 * server formats an `Error:` line. Every function appends exactly one line,
 * ending in '\n', to `out`. Pure formatting and no state, except that
 * reply_internal_incident() logs the message it hides; any thread.
 */
#ifndef TCPDUCKDB_REPLY_H
#define TCPDUCKDB_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "catalog.h"

/* "success". */
void reply_success(Buf *out);
/* "Error: Unauthorized": not logged in, a failed login, or a super-user command. */
void reply_unauthorized(Buf *out);
/* "Error: Internal Error": the server failed; the caller logs why. */
void reply_internal(Buf *out);
/* "Error: Bad Request: <formatted text>". */
void reply_bad_request(Buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A Bad Request naming the invalid `name` (a printable prefix of it) and the name rule. */
void reply_invalid_name(Buf *out, const char *what, const char *name);
/*
 * The answer for a catalog status about `kind` ("Database", "User") `name`:
 * success, Does Not Exist, Already Exists, Unauthorized or Internal Error.
 */
void reply_catalog(Buf *out, CatalogStatus st, const char *kind, const char *name);
/* "Error: Tables T Does Not Exist": `grant table` of a table that is not there. */
void reply_table_not_found(Buf *out, const char *table);
/* "Error: Access Denied: User "U" does not have access over Database "D"". */
void reply_database_denied(Buf *out, const char *user, const char *database);
/* "Error: Server Busy: <why>; try again later"; `why` says what is busy. */
void reply_server_busy(Buf *out, const char *why);
/* "Error: Request Too Large: the limit is N bytes". */
void reply_request_too_large(Buf *out, int64_t limit);
/* "Error: Transaction Aborted: ...": a commit that rolled back instead. */
void reply_transaction_aborted(Buf *out);
/* "Error: TLS is not enabled on this server": starttls with TLSMode=off. */
void reply_tls_not_enabled(Buf *out);
/* "Error: TLS required: ...": a first request other than starttls with TLSMode=required. */
void reply_tls_required(Buf *out);
/* "Error: Too Many Connections": MaxConnections clients are connected. */
void reply_too_many_connections(Buf *out);
/* "Error: Idle Timeout": the reason a connection is closed after IdleTimeout. */
void reply_idle_timeout(Buf *out);
/* "Error: Too Many Connections: at most N from one address": MaxConnectionsPerAddress. */
void reply_too_many_connections_from_address(Buf *out, int limit);
/* "Error: Login Timeout": the reason a client that did not log in within LoginTimeout is closed. */
void reply_login_timeout(Buf *out);
/* "Error: Too Many Failed Logins: try again in N s": a login refused by the throttle. */
void reply_too_many_failed_logins(Buf *out, int retry_after_sec);
/* "Error: Server Shutting Down": the reason every connection is closed at shutdown. */
void reply_shutting_down(Buf *out);
/*
 * "Error: Statement Timeout: the statement ran longer than N s
 * (StatementTimeout)": the watchdog interrupted a statement at its deadline of
 * `ms` milliseconds (a deadline that is not whole seconds, PgPort's
 * statement_timeout, is said in ms).
 */
void reply_statement_timeout(Buf *out, int64_t ms);
/*
 * "Error: Too Many Statements: user U already runs N statements at once
 * (MaxUserStatements)": quota.h refused a request.
 */
void reply_too_many_statements(Buf *out, const char *user, int limit);
/*
 * "Error: Idle In Transaction Timeout: ...": the reason a connection that
 * left its transaction open longer than IdleInTransactionTimeout is closed.
 */
void reply_idle_in_transaction_timeout(Buf *out);
/*
 * "Error: Canceled: canceling statement due to user request" (PostgreSQL's
 * words): a cancel request for the session interrupted its statement.
 */
void reply_statement_canceled(Buf *out);
/*
 * "Error: Terminated: the session was ended by the super user": the reason
 * a connection is closed by `terminate SESSION-ID` (sessions.h).
 */
void reply_session_terminated(Buf *out);
/*
 * "Error: Invalid Configuration: <why>; the configuration in force is
 * unchanged": `reload` found a setting it cannot use (reload.h).
 */
void reply_config_invalid(Buf *out, const char *why);
/*
 * "Error: Statement Memory Limit: the statement allocated more than <size>
 * (StatementMemoryLimit)": the watchdog interrupted a statement that
 * allocated more than `limit_bytes`.
 */
void reply_statement_memory_limit(Buf *out, int64_t limit_bytes);
/*
 * "Error: Server Memory Limit: the server's memory reached <size>
 * (MemoryLimit) and the statement was interrupted to bring it down": the
 * watchdog interrupted this statement (the one that allocated the most)
 * when the server's total reached `limit_bytes`.
 */
void reply_server_memory_limit(Buf *out, int64_t limit_bytes);
/*
 * "Error: <msg>" for a message that is not the server's own: DuckDB's text
 * when SQL fails (and, until they switch to functions of their own, the
 * messages authz.c and pglink.c compose). Newlines in `msg` are sent as the
 * two characters \n (and \r as \r), so the answer stays one line. A
 * message that reply_is_internal_error() recognises is answered by
 * reply_internal_incident() instead.
 */
void reply_engine_error(Buf *out, const char *msg);
/*
 * True when DuckDB's message `msg` is an internal error (it starts with
 * "INTERNAL Error:") or holds a stack trace: text that shows the server's
 * file paths and library addresses, and must not reach a client.
 */
bool reply_is_internal_error(const char *msg);
/*
 * For an internal error of DuckDB (reply_is_internal_error(), or a result
 * whose duckdb_result_error_type is DUCKDB_ERROR_INTERNAL): logs the whole
 * of `msg` with a fresh incident id (8 random hex digits) and answers
 * "Error: Internal Error: <the first line of msg without its "INTERNAL
 * Error: " prefix, paths and addresses> (incident <id>)", so a user can
 * quote the id and the operator find the log line. Any thread.
 */
void reply_internal_incident(Buf *out, const char *msg);

/* "Error: Database NAME Is In Use: ...": `drop database` of a database that
 * sessions (or a backup) hold. */
void reply_database_in_use(Buf *out, const char *name);
/* "Error: Backup Not Found: ID" (no complete backup has that id). */
void reply_backup_not_found(Buf *out, const char *id);
/* "Error: Backup Corrupt: FILE: WHY": a backup file failed its check; FILE
 * is its path relative to BackupDir (id/name). */
void reply_backup_corrupt(Buf *out, const char *file, const char *why);
/* "Error: Backup Failed: WHY" (the backup was not recorded; WHY has no path
 * outside BackupDir). */
void reply_backup_failed(Buf *out, const char *why);

#endif
