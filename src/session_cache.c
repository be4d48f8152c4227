/*
 * session_cache: the result cache's hooks in a session's request. See
 * session_cache.h and docs/cache.md.
 */
#include "session_cache.h"

#include <string.h>

#include "dbmeta.h"
#include "rescache.h"

/*
 * Before a request runs: answers it from the cache and returns true on a
 * hit (closing the session when the client went away meanwhile); otherwise
 * prepares `req` to capture an answer worth storing, or opens the write
 * bracket of a request that may change the database. Never called before
 * the access check passed.
 */
bool session_cache_before(Session *s, const char *text, bool no_cache, QueryRequest *req,
                          QueryIo *io, SessionCacheUse *rc, SessionAction *action)
{
    if (!rescache_enabled())
        return false;
    size_t len = strlen(text);
    RescacheClass cls = rescache_classify(text, len);
    if (!cls.read_only) {
        /* Inside a transaction nothing commits before COMMIT, which brackets. */
        if (s->in_tx) {
            s->tx_wrote = true;
        } else {
            rescache_write_begin(s->db_id);
            rc->write = true;
        }
        return false;
    }
    /* A transaction reads its own snapshot, which may be older than the
     * generation (docs/cache.md): no cache inside one. */
    /* Another front end's answers are kept under its own form (QueryFormat.cache_form). */
    if (!cls.cacheable || s->in_tx || s->cache_off || s->cache_tainted || no_cache ||
        (req->format && !req->format->cache_form))
        return false;
    const char *form = req->typed ? RESCACHE_FORM_TYPED : RESCACHE_FORM_LINE;
    size_t form_len = 1;
    if (req->format) {
        form = req->format->cache_form;
        form_len = req->format->cache_form_len;
    }
    if (!rescache_key(&rc->key, s->db_id, form, form_len, text, len, req->params) ||
        !rescache_read_begin(s->db_id, &rc->gen))
        return false;
    int fns = rescache_user_functions(s->db_id);
    if (fns == RESCACHE_FNS_UNKNOWN) {
        /* Once, and again after DDL: a user's macro may shadow a trusted built-in name. */
        int some = dbmeta_has_user_functions(s->con);
        rescache_note_user_functions(s->db_id, rc->gen, some != 0);
        fns = some == 0 ? RESCACHE_FNS_NONE : RESCACHE_FNS_SOME;
    }
    if (fns != RESCACHE_FNS_NONE) {
        buf_free(&rc->key);
        return false;
    }
    bool gone = false;
    if (rescache_lookup(s->db_id, &rc->key, rc->gen, io->out, io->flush, io->ctx, QUERY_FLUSH_BYTES,
                        &gone)) {
        if (gone)
            *action = SESSION_CLOSE;
        buf_free(&rc->key);
        return true;
    }
    rc->store = true;
    req->capture = &rc->capture;
    req->capture_max = rescache_max_entry();
    return false;
}

/* After a request ran: stores its answer or closes its write bracket. */
void session_cache_after(Session *s, SessionCacheUse *rc, QueryStatus st, const QueryOutcome *o)
{
    if (rc->write && o->catalog_changed)
        rescache_functions_changed(s->db_id); /* CREATE MACRO, ... */
    if (rc->write)
        rescache_write_end(s->db_id);
    if (o->session_state)
        s->cache_tainted = true;
    if (rc->store && st == QUERY_OK && o->select_only && o->captured && !o->session_state)
        rescache_store(s->db_id, &rc->key, rc->gen, rc->capture.data, rc->capture.len);
    buf_free(&rc->key);
    buf_free(&rc->capture);
}
