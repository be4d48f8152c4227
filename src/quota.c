/*
 * quota: per-user counts of running requests. See quota.h.
 */
#include "quota.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "xalloc.h"

typedef struct QuotaEntry QuotaEntry;
struct QuotaEntry {
    int64_t user_id;
    int running;
    QuotaEntry *next;
};

struct Quota {
    pthread_mutex_t lock;
    QuotaEntry *buckets[QUOTA_BUCKETS];
};

static QuotaEntry **bucket(Quota *q, int64_t user_id)
{
    uint64_t h = (uint64_t)user_id * 0x9e3779b97f4a7c15ULL;
    return &q->buckets[(h >> 32) % QUOTA_BUCKETS];
}

Quota *quota_new(void)
{
    Quota *q = xcalloc(1, sizeof(*q));
    pthread_mutex_init(&q->lock, NULL);
    return q;
}

void quota_free(Quota *q)
{
    if (!q)
        return;
    for (int i = 0; i < QUOTA_BUCKETS; i++) {
        QuotaEntry *next = NULL;
        for (QuotaEntry *e = q->buckets[i]; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&q->lock);
    free(q);
}

bool quota_enter(Quota *q, int64_t user_id, int64_t limit)
{
    if (!q)
        return true;
    bool ok = true;
    pthread_mutex_lock(&q->lock);
    QuotaEntry **head = bucket(q, user_id);
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
    pthread_mutex_unlock(&q->lock);
    return ok;
}

void quota_leave(Quota *q, int64_t user_id)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    QuotaEntry **link = bucket(q, user_id);
    while (*link && (*link)->user_id != user_id)
        link = &(*link)->next;
    QuotaEntry *e = *link;
    if (!e || e->running <= 0)
        log_fatal("quota_leave for user %lld, who runs nothing", (long long)user_id);
    if (--e->running == 0) {
        *link = e->next;
        free(e);
    }
    pthread_mutex_unlock(&q->lock);
}
