/*
 * admin: the web admin page and /metrics on AdminPort (docs/admin.md).
 *
 * The page is a client of the line protocol's own code: each person logged
 * in to the page has a Session (session.h), logged in through the `login`
 * command's handler (the stored SCRAM verifier, the same failed-login
 * throttle), and every action is a command of the SessionCommand table or
 * an SQL request run through session_handle(), with words made from the
 * HTTP request. So the page can do exactly what the user could do on the
 * line protocol, and the rules live in one place (session.c, access.c).
 *
 * Threads: runs on the HTTP threads of http.c, never on the server's I/O
 * thread or its workers. Sessions of the page are kept in a table under
 * `Admin.lock`; a request uses its Session under that session's own mutex,
 * so one Session is used by one thread at a time, as session.h requires.
 */
#ifndef TCPDUCKDB_ADMIN_H
#define TCPDUCKDB_ADMIN_H

#include <stddef.h>

#include "session.h"
#include "throttle.h"
#include "tls.h"

/* Sessions of the page at once; a login beyond them is refused (503). */
#define ADMIN_SESSIONS_MAX 256
/* The console's answer at most; a larger result is refused with a message. */
#define ADMIN_RESULT_MAX (32 * 1024 * 1024)

typedef struct Admin Admin;

/*
 * Starts the page on cfg's AdminAddr:AdminPort, HTTPS when `tls` is not
 * NULL. `env`, `tls` and `throttle` are borrowed and must outlive the
 * Admin. Returns 0 (with *out NULL when AdminPort is 0), or -1 with one
 * line in `err`. Caller stops with admin_stop().
 */
int admin_start(const SessionEnv *env, TlsServer *tls, Throttle *throttle, Admin **out, char *err,
                size_t errlen) __attribute__((warn_unused_result));

/* Stops serving, ends every session of the page and frees. Accepts NULL. */
void admin_stop(Admin *a);

#endif
