/*
 * server: the listening socket, the I/O thread and the worker threads.
 *
 * Concurrency model (docs/architecture.md): one I/O thread accepts
 * connections, handles signals and enforces idle and handshake deadlines;
 * it never touches a client's data, DuckDB or SQLite. A pool of
 * QueryWorkers worker threads waits on the client sockets (one epoll set,
 * EPOLLONESHOT): the worker that takes a socket's event reads and frames
 * the requests, runs them, writes the answers (a large result with blocking
 * semantics, so a slow reader holds back its own query, never the others)
 * and re-arms the socket. An idle client therefore costs a Session and a
 * small read buffer, and the number of requests executing at once is
 * exactly QueryWorkers.
 */
#ifndef TCPDUCKDB_SERVER_H
#define TCPDUCKDB_SERVER_H

#include "session.h"
#include "tls.h"

/*
 * Binds, logs "listening to ADDR:PORT", and serves until SIGINT or SIGTERM;
 * `tls` (borrowed; NULL when TLSMode=off) offers `starttls` to clients;
 * then stops accepting, closes every session (rolling back open
 * transactions and interrupting running queries) and returns 0. Returns -1
 * with a message in `err` if the server cannot start.
 */
int server_run(const SessionEnv *env, TlsServer *tls, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Clients connected to this process right now (the `stats` command's
 * active sessions). Any thread; a relaxed snapshot that may be a moment
 * out of date. The count is owned by server.c, which alone changes it.
 */
int server_sessions_active(void);

/* Of those, the clients whose TLS handshake is complete. Same terms. */
int server_sessions_tls(void);

#endif
