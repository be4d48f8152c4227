/*
 * session_cache: where a session's request meets the result cache
 * (docs/cache.md), split out of the request path: after the access check and
 * before execution, answer from the cache, prepare a capture, or open the
 * write bracket; after execution, store or close the bracket. Called by
 * sqlrun_request() on the session's worker thread.
 */
#ifndef TCPDUCKDB_SESSION_CACHE_H
#define TCPDUCKDB_SESSION_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "query.h"
#include "session.h"

/* What sqlrun_request() does with the result cache for one request. */
typedef struct SessionCacheUse {
    Buf key;     /* rescache_key() of the request */
    Buf capture; /* the answer, copied by query_run() */
    uint64_t gen;
    bool store; /* a miss whose answer may be stored */
    bool write; /* bracketed with rescache_write_begin()/_end() */
} SessionCacheUse;

/*
 * Before a request runs: answers it from the cache and returns true on a
 * hit (setting *action to SESSION_CLOSE when the client went away
 * meanwhile); otherwise prepares `req` to capture an answer worth storing,
 * or opens the write bracket of a request that may change the database.
 * `no_cache`: the request asked not to use the cache. Never called before
 * the access check passed. `rc` starts zeroed (BUF_INIT buffers).
 */
bool session_cache_before(Session *s, const char *text, bool no_cache, QueryRequest *req,
                          QueryIo *io, SessionCacheUse *rc, SessionAction *action);

/* After a request ran: stores its answer or closes its write bracket; frees `rc`'s buffers. */
void session_cache_after(Session *s, SessionCacheUse *rc, QueryStatus st, const QueryOutcome *o);

#endif
