/*
 * stmtcache: an LRU of prepared statements keyed by request text. See
 * stmtcache.h.
 *
 * A fixed hash table (twice the capacity, chained) finds an entry by its
 * text; a doubly linked list orders the entries by use, most recent first,
 * and its tail is the victim when the cache is full.
 */
#include "stmtcache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

struct StmtCache {
    size_t capacity, count;
    size_t nbuckets; /* a power of two */
    StmtEntry **buckets;
    StmtEntry *head, *tail;
    uint64_t gen;
    bool gen_known; /* `gen` was set by a sync */
};

/* Process-wide counters, updated atomically by every session's thread. */
static uint64_t stat_hits, stat_misses, stat_evictions, stat_invalidations;

static void count(uint64_t *counter)
{
    __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/* FNV-1a, 64 bits. */
static uint64_t text_hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

StmtCache *stmtcache_new(size_t capacity)
{
    StmtCache *c = xcalloc(1, sizeof(*c));
    c->capacity = capacity ? capacity : 1;
    c->nbuckets = 1;
    while (c->nbuckets < 2 * c->capacity)
        c->nbuckets *= 2;
    c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
    return c;
}

static void unlink_entry(StmtCache *c, StmtEntry *e)
{
    StmtEntry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    c->count--;
}

static void entry_free(StmtEntry *e)
{
    duckdb_destroy_prepare(&e->prep);
    authz_plan_free(e->authz);
    free(e->sql);
    free(e);
}

void stmtcache_remove(StmtCache *c, StmtEntry *e)
{
    unlink_entry(c, e);
    entry_free(e);
}

static void clear(StmtCache *c)
{
    while (c->head)
        stmtcache_remove(c, c->head);
}

void stmtcache_free(StmtCache *c)
{
    if (!c)
        return;
    clear(c);
    free(c->buckets);
    free(c);
}

void stmtcache_sync(StmtCache *c, uint64_t gen)
{
    if (c->gen_known && c->gen == gen)
        return;
    if (c->count > 0)
        count(&stat_invalidations);
    clear(c);
    c->gen = gen;
    c->gen_known = true;
}

static void push_front(StmtCache *c, StmtEntry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static StmtEntry *lookup(StmtCache *c, const char *sql, size_t len, uint64_t h)
{
    for (StmtEntry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->chain)
        if (e->hash == h && e->len == len && memcmp(e->sql, sql, len) == 0)
            return e;
    return NULL;
}

StmtEntry *stmtcache_find(StmtCache *c, const char *sql, size_t len)
{
    StmtEntry *e = len <= STMTCACHE_MAX_SQL ? lookup(c, sql, len, text_hash(sql, len)) : NULL;
    if (!e) {
        count(&stat_misses);
        return NULL;
    }
    count(&stat_hits);
    if (c->head != e) {
        /* Move to the front of the recency list. */
        e->prev->next = e->next;
        if (e->next)
            e->next->prev = e->prev;
        else
            c->tail = e->prev;
        push_front(c, e);
    }
    return e;
}

StmtEntry *stmtcache_add(StmtCache *c, const char *sql, size_t len, duckdb_prepared_statement prep)
{
    if (len > STMTCACHE_MAX_SQL)
        return NULL;
    uint64_t h = text_hash(sql, len);
    StmtEntry *old = lookup(c, sql, len, h);
    if (old)
        stmtcache_remove(c, old);
    if (c->count == c->capacity) {
        count(&stat_evictions);
        stmtcache_remove(c, c->tail);
    }
    StmtEntry *e = xcalloc(1, sizeof(*e));
    char *copy = xstrndup(sql, len);
    e->prep = prep;
    e->type = duckdb_prepared_statement_type(prep);
    e->sql = copy;
    e->len = len;
    e->hash = h;
    StmtEntry **bucket = &c->buckets[h & (c->nbuckets - 1)];
    e->chain = *bucket;
    *bucket = e;
    push_front(c, e);
    c->count++;
    return e;
}

void stmtcache_stats(StmtCacheStats *out)
{
    out->hits = __atomic_load_n(&stat_hits, __ATOMIC_RELAXED);
    out->misses = __atomic_load_n(&stat_misses, __ATOMIC_RELAXED);
    out->evictions = __atomic_load_n(&stat_evictions, __ATOMIC_RELAXED);
    out->invalidations = __atomic_load_n(&stat_invalidations, __ATOMIC_RELAXED);
}
