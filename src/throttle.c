/*
 * throttle: failed-login throttling. See throttle.h for the rule.
 *
 * Two tables of fixed capacity, searched linearly: a login attempt costs a
 * scan of at most THROTTLE_CAPACITY short entries (microseconds), next to
 * the PBKDF2 of a password check (milliseconds), and a linear table has no
 * hash an attacker could aim at. The tables are allocated once.
 */
#include "throttle.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

typedef struct Entry {
    bool used;
    char key[THROTTLE_KEY_MAX + 1];
    int failures;             /* in the window that started at window_ms */
    int64_t window_ms;        /* start of the current window */
    int64_t blocked_until_ms; /* refused until then */
    int level;                /* blocks so far: the next lasts 1 s << level, capped */
    int64_t last_ms;          /* last failure: the oldest is reused first */
} Entry;

typedef struct Table {
    Entry *entries;
    int capacity;
    int limit; /* failures in a window before the first block */
} Table;

struct Throttle {
    pthread_mutex_t lock; /* guards everything below */
    Table addrs, users;
    /* The summary log line: what happened since the last one. */
    int64_t logged_ms;
    bool logged_once;
    int failed, refused;
    char last_user[THROTTLE_KEY_MAX + 1];
    char last_addr[THROTTLE_KEY_MAX + 1];
};

Throttle *throttle_new(int limit, int capacity)
{
    Throttle *t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    if (limit <= 0)
        return t; /* no tables: never blocks */
    t->addrs = (Table){xcalloc((size_t)capacity, sizeof(Entry)), capacity, limit};
    t->users =
        (Table){xcalloc((size_t)capacity, sizeof(Entry)), capacity, limit * THROTTLE_USER_FACTOR};
    return t;
}

static void log_summary(Throttle *t)
{
    if (t->failed == 0 && t->refused == 0)
        return;
    log_info("failed logins: %d (and %d refused by the throttle) since the last report; last for "
             "user \"%s\" from %s",
             t->failed, t->refused, t->last_user, t->last_addr);
    t->failed = 0;
    t->refused = 0;
}

/* Once per window at most; the first event logs at once. */
static void maybe_log(Throttle *t, int64_t now_ms)
{
    if (t->logged_once && now_ms - t->logged_ms < THROTTLE_WINDOW_MS)
        return;
    log_summary(t);
    t->logged_once = true;
    t->logged_ms = now_ms;
}

void throttle_free(Throttle *t)
{
    if (!t)
        return;
    log_summary(t);
    free(t->addrs.entries);
    free(t->users.entries);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static Entry *find(Table *tb, const char *key)
{
    if (!key || !tb->entries)
        return NULL;
    for (int i = 0; i < tb->capacity; i++)
        if (tb->entries[i].used && strcmp(tb->entries[i].key, key) == 0)
            return &tb->entries[i];
    return NULL;
}

/* The entry of `key`, made (by reusing the stalest entry when full) if it has none. */
static Entry *find_or_add(Table *tb, const char *key, int64_t now_ms)
{
    Entry *e = find(tb, key);
    if (e || !key || !tb->entries)
        return e;
    Entry *victim = NULL;
    for (int i = 0; i < tb->capacity; i++) {
        Entry *c = &tb->entries[i];
        if (!c->used) {
            victim = c;
            break;
        }
        bool blocked = c->blocked_until_ms > now_ms;
        bool victim_blocked = victim && victim->blocked_until_ms > now_ms;
        if (!victim || (victim_blocked && !blocked) ||
            (victim_blocked == blocked && c->last_ms < victim->last_ms))
            victim = c;
    }
    if (!victim) /* a table of no entries */
        return NULL;
    memset(victim, 0, sizeof(*victim));
    victim->used = true;
    snprintf(victim->key, sizeof(victim->key), "%s", key);
    victim->window_ms = now_ms;
    return victim;
}

/* Seconds the entry of `key` stays blocked, 0 if it is not. */
static int blocked_for(Table *tb, const char *key, int64_t now_ms)
{
    Entry *e = find(tb, key);
    if (!e || e->blocked_until_ms <= now_ms)
        return 0;
    return (int)((e->blocked_until_ms - now_ms + 999) / 1000);
}

static void count_failure(Table *tb, const char *key, int64_t now_ms)
{
    Entry *e = find_or_add(tb, key, now_ms);
    if (!e)
        return;
    if (now_ms - e->last_ms > THROTTLE_FORGET_MS && e->blocked_until_ms <= now_ms) {
        e->level = 0; /* quiet long enough: start over */
        e->failures = 0;
    }
    if (now_ms - e->window_ms > THROTTLE_WINDOW_MS) {
        e->window_ms = now_ms;
        e->failures = 0;
    }
    e->failures++;
    e->last_ms = now_ms;
    /* The first block after `limit` failures in a window; after that, every failure. */
    if (e->level == 0 && e->failures < tb->limit)
        return;
    int64_t delay = 1000;
    for (int i = 0; i < e->level && delay < THROTTLE_MAX_DELAY_MS; i++)
        delay *= 2;
    if (delay > THROTTLE_MAX_DELAY_MS)
        delay = THROTTLE_MAX_DELAY_MS;
    e->blocked_until_ms = now_ms + delay;
    if (delay < THROTTLE_MAX_DELAY_MS)
        e->level++;
}

static void forget(Table *tb, const char *key)
{
    Entry *e = find(tb, key);
    if (e)
        memset(e, 0, sizeof(*e));
}

int throttle_login_check(Throttle *t, const char *addr, const char *user, int64_t now_ms)
{
    if (!t || !t->addrs.entries)
        return 0;
    pthread_mutex_lock(&t->lock);
    int a = blocked_for(&t->addrs, addr, now_ms);
    int u = blocked_for(&t->users, user, now_ms);
    int wait = a > u ? a : u;
    if (wait > 0) {
        t->refused++;
        maybe_log(t, now_ms);
    }
    pthread_mutex_unlock(&t->lock);
    return wait;
}

void throttle_login_failed(Throttle *t, const char *addr, const char *user, int64_t now_ms)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    count_failure(&t->addrs, addr, now_ms); /* without tables (limit 0), only logs */
    count_failure(&t->users, user, now_ms);
    t->failed++;
    snprintf(t->last_user, sizeof(t->last_user), "%s", user ? user : "(invalid name)");
    snprintf(t->last_addr, sizeof(t->last_addr), "%s", addr ? addr : "?");
    maybe_log(t, now_ms);
    pthread_mutex_unlock(&t->lock);
}

void throttle_login_succeeded(Throttle *t, const char *addr, const char *user)
{
    if (!t || !t->addrs.entries)
        return;
    pthread_mutex_lock(&t->lock);
    forget(&t->addrs, addr);
    forget(&t->users, user);
    pthread_mutex_unlock(&t->lock);
}

static int used(const Table *tb)
{
    int n = 0;
    for (int i = 0; tb->entries && i < tb->capacity; i++)
        n += tb->entries[i].used;
    return n;
}

void throttle_counts(Throttle *t, int *out_addrs, int *out_users)
{
    pthread_mutex_lock(&t->lock);
    *out_addrs = used(&t->addrs);
    *out_users = used(&t->users);
    pthread_mutex_unlock(&t->lock);
}
