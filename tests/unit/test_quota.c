/*
 * Unit tests of quota.c: the per-user limit, independence of users, and
 * that entries are freed when their users run nothing (ASan's leak check
 * would see one that is not).
 */
#include <pthread.h>
#include <stdint.h>

#include "quota.h"

#define LIMIT 2
#include "unit.h"

static void test_limit_per_user(void)
{
    Quota *q = quota_new();
    CHECK(quota_enter(q, 7, LIMIT));
    CHECK(quota_enter(q, 7, LIMIT));
    CHECK(!quota_enter(q, 7, LIMIT)); /* a third at once is refused, and not counted */
    CHECK(quota_enter(q, 8, LIMIT));  /* another user is not affected */
    quota_leave(q, 7);
    CHECK(quota_enter(q, 7, LIMIT));
    CHECK(!quota_enter(q, 7, LIMIT));
    quota_leave(q, 7);
    quota_leave(q, 7);
    quota_leave(q, 8);
    /* Every count is back at 0: a user may run 2 again. */
    CHECK(quota_enter(q, 7, LIMIT) && quota_enter(q, 7, LIMIT));
    quota_leave(q, 7);
    quota_leave(q, 7);
    quota_free(q);
}

static void test_no_quota_means_no_limit(void)
{
    for (int i = 0; i < 1000; i++)
        CHECK(quota_enter(NULL, 1, 1));
    quota_leave(NULL, 1);
}

/* Many users in few buckets: colliding chains keep each user's count apart. */
static void test_many_users(void)
{
    Quota *q = quota_new();
    for (int64_t u = 0; u < 5000; u++)
        CHECK(quota_enter(q, u, 1));
    for (int64_t u = 0; u < 5000; u++)
        CHECK(!quota_enter(q, u, 1));
    for (int64_t u = 0; u < 5000; u += 2)
        quota_leave(q, u);
    for (int64_t u = 0; u < 5000; u++)
        CHECK(quota_enter(q, u, 1) == (u % 2 == 0));
    for (int64_t u = 0; u < 5000; u++)
        quota_leave(q, u);
    quota_free(q);
}

#define THREADS 8
#define ROUNDS 20000

static Quota *shared;
static int refused[THREADS];

static void *hammer(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (quota_enter(shared, 42, THREADS))
            quota_leave(shared, 42);
        else
            refused[id]++;
    }
    return NULL;
}

/* Under TSan in make unit: the counts stay exact when threads race. */
static void test_threads(void)
{
    shared = quota_new();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        CHECK(refused[i] == 0); /* never more than THREADS at once */
    for (int i = 0; i < THREADS; i++)
        CHECK(quota_enter(shared, 42, THREADS));
    CHECK(!quota_enter(shared, 42, THREADS));
    for (int i = 0; i < THREADS; i++)
        quota_leave(shared, 42);
    quota_free(shared);
}

int main(void)
{
    UNIT_RUN(test_limit_per_user);
    UNIT_RUN(test_no_quota_means_no_limit);
    UNIT_RUN(test_many_users);
    UNIT_RUN(test_threads);
    return unit_summary("quota");
}
