/*
 * opscmd: the operator's commands that read or act on the whole server
 * (`stats`, `show sessions`, `terminate`, `reload`). Handlers of session.c's
 * command table (SessionCommandFn): the table checks the words' count and
 * that the sender is the super user before calling them; each appends one
 * answer line to `out`. Any worker thread.
 */
#ifndef TCPDUCKDB_OPSCMD_H
#define TCPDUCKDB_OPSCMD_H

#include <stdint.h>

#include "buf.h"
#include "session.h"

/* `stats`: the pool, sessions, statement cache, watchdog, workers, memory,
 * result cache, auto-parameterisation and CDC counters as one JSON line. */
void opscmd_stats(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `show sessions`: every logged-in session as one JSON array line, oldest
 * first (sessions.h's snapshot). */
void opscmd_show_sessions(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `terminate SESSION-ID`: ends that session (sessions_terminate). */
void opscmd_terminate(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `reload`: re-reads the settings as SIGHUP does, through env->reload. */
void opscmd_reload(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* The session id `text` names (a number from `show sessions`), or 0 after
 * answering `out` with the usage text `usage`. */
uint64_t opscmd_session_id(const char *text, const char *usage, Buf *out);

#endif
