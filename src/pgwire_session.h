/*
 * pgwire_session: the PostgreSQL front end of one connection (docs/pgwire.md).
 * It runs the messages pgwire.h frames against the connection's Session,
 * through the same handlers as the line protocol: SCRAM-SHA-256 against
 * the catalog's verifiers with the same throttle and login slots
 * (session_login_*), the startup packet's database through `connect`
 * (the same access checks), SQL through session_run_sql() (the same quota,
 * access check, statement cache, watchdog and sandbox), BEGIN/COMMIT/
 * ROLLBACK through the session's transaction commands. What it owns itself
 * is what PostgreSQL's clients expect of the protocol: the startup and
 * authentication exchange, the transaction status I/T/E (a failed
 * transaction block refuses statements until ROLLBACK), the prepared
 * statements and portals of the extended protocol, and the answers to
 * SET/SHOW of the client settings drivers send (pgwire_settings.h).
 *
 * States: STARTUP (startup packet, SSLRequest, CancelRequest) -> SASL
 * (SASLInitialResponse) -> SASL_FINAL (SASLResponse) -> READY; any state
 * -> CLOSED after a FATAL error, Terminate or a CancelRequest.
 *
 * Thread: the worker that owns the connection (server.c); no shared state.
 */
#ifndef TCPDUCKDB_PGWIRE_SESSION_H
#define TCPDUCKDB_PGWIRE_SESSION_H

#include <stdbool.h>

#include "pgwire.h"
#include "session.h"

typedef struct PgSession PgSession;

/* A connection that has sent nothing yet. Caller frees with pgwire_session_free(). */
PgSession *pgwire_session_new(void);
/* Accepts NULL. The Session is the caller's, freed after this. */
void pgwire_session_free(PgSession *ps);

/* The reader the server reads the connection's bytes into. */
PgReader *pgwire_session_reader(PgSession *ps);

/* The longest message accepted now: MaxLoginRequestBytes until login, then MaxRequestBytes. */
size_t pgwire_session_limit(const PgSession *ps, const Config *cfg);

typedef enum {
    PGWIRE_CONTINUE,  /* read more (or run the messages left: `more`) */
    PGWIRE_CLOSE,     /* the answers in io->out are the last; close the connection */
    PGWIRE_START_TLS, /* an SSLRequest was answered 'S' in io->out: send it, then handshake */
} PgAction;

/* What the transport offers, for SSLRequest and TLSMode=required. */
typedef struct PgTransport {
    bool tls_offered; /* TLS is configured */
    bool tls_required;
    bool tls_active; /* this connection is encrypted already */
} PgTransport;

/*
 * Runs up to `budget` complete messages buffered in the reader, appending
 * the answers to io->out (large results are flushed through io->flush).
 * *out_more is set when complete messages are left for another turn.
 */
PgAction pgwire_session_run(PgSession *ps, Session *s, const SessionEnv *env, const PgTransport *tr,
                            QueryIo *io, int budget, bool *out_more);

/* A FATAL ErrorResponse for a reason line of the line protocol (reply.h), at close. */
void pgwire_session_fatal_line(Buf *out, const char *line, size_t len);

#endif
