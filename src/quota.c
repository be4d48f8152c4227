/*
 * quota: per-user counts of running requests. See quota.h.
 */
#include "quota.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

typedef struct QuotaEntry QuotaEntry;
struct QuotaEntry {
    int64_t user_id;
    int running;
    QuotaEntry *next;
};

/* A chain and its lock, padded to a cache line so that requests of
 * different users on different cores do not share one. */
typedef struct QuotaBucket {
    pthread_mutex_t lock;
    QuotaEntry *head;
} __attribute__((aligned(64))) QuotaBucket;

struct Quota {
    QuotaBucket buckets[QUOTA_BUCKETS];
};

static QuotaBucket *bucket(Quota *q, int64_t user_id)
{
    uint64_t h = (uint64_t)user_id * 0x9e3779b97f4a7c15ULL;
    return &q->buckets[(h >> 32) % QUOTA_BUCKETS];
}

Quota *quota_new(void)
{
    Quota *q = NULL;
    if (posix_memalign((void **)&q, 64, sizeof(*q)) != 0)
        log_fatal("out of memory");
    memset(q, 0, sizeof(*q));
    for (int i = 0; i < QUOTA_BUCKETS; i++)
        pthread_mutex_init(&q->buckets[i].lock, NULL);
    return q;
}

void quota_free(Quota *q)
{
    if (!q)
        return;
    for (int i = 0; i < QUOTA_BUCKETS; i++) {
        QuotaEntry *next = NULL;
        for (QuotaEntry *e = q->buckets[i].head; e; e = next) {
            next = e->next;
            free(e);
        }
        pthread_mutex_destroy(&q->buckets[i].lock);
    }
    free(q);
}

bool quota_enter(Quota *q, int64_t user_id, int64_t limit)
{
    if (!q)
        return true;
    bool ok = true;
    QuotaBucket *b = bucket(q, user_id);
    pthread_mutex_lock(&b->lock);
    QuotaEntry **head = &b->head;
    QuotaEntry *e = *head;
    while (e && e->user_id != user_id)
        e = e->next;
    if (!e) {
        e = xcalloc(1, sizeof(*e));
        e->user_id = user_id;
        e->next = *head;
        *head = e;
    }
    if (e->running >= limit && e->running > 0)
        ok = false; /* (an entry made just now has 0 and is never refused, nor leaked) */
    else
        e->running++;
    pthread_mutex_unlock(&b->lock);
    return ok;
}

void quota_leave(Quota *q, int64_t user_id)
{
    if (!q)
        return;
    QuotaBucket *b = bucket(q, user_id);
    pthread_mutex_lock(&b->lock);
    QuotaEntry **link = &b->head;
    while (*link && (*link)->user_id != user_id)
        link = &(*link)->next;
    QuotaEntry *e = *link;
    if (!e || e->running <= 0)
        log_fatal("quota_leave for user %lld, who runs nothing", (long long)user_id);
    if (--e->running == 0) {
        *link = e->next;
        free(e);
    }
    pthread_mutex_unlock(&b->lock);
}
