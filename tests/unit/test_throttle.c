/*
 * Unit tests of throttle.c: when an address or a user name is blocked, for
 * how long, what forgets failures, and that the tables stay bounded.
 */
#include <stdio.h>

#include "throttle.h"
#include "unit.h"

static void fail_n(Throttle *t, const char *addr, const char *user, int n, int64_t now)
{
    for (int i = 0; i < n; i++)
        throttle_login_failed(t, addr, user, now);
}

static void test_address_blocked_after_limit(void)
{
    Throttle *t = throttle_new(5, 16);
    fail_n(t, "10.0.0.1", "alice", 4, 1000);
    CHECK(throttle_login_check(t, "10.0.0.1", "alice", 1000) == 0);
    throttle_login_failed(t, "10.0.0.1", "alice", 1000);
    CHECK(throttle_login_check(t, "10.0.0.1", "alice", 1000) == 1);
    CHECK(throttle_login_check(t, "10.0.0.1", "bob", 1500) == 1);   /* the address, any user */
    CHECK(throttle_login_check(t, "10.0.0.2", "alice", 1500) == 0); /* alice is not blocked */
    CHECK(throttle_login_check(t, "10.0.0.1", "alice", 2000) == 0);
    /* From now on every failure blocks, twice as long each time, up to 60 s. */
    int64_t now = 2000;
    int want[] = {2, 4, 8, 16, 32, 60, 60};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        throttle_login_failed(t, "10.0.0.1", NULL, now);
        CHECK(throttle_login_check(t, "10.0.0.1", NULL, now) == want[i]);
        now += (int64_t)want[i] * 1000;
    }
    throttle_free(t);
}

static void test_window_and_forgetting(void)
{
    Throttle *t = throttle_new(5, 16);
    /* Four failures a window apart never block. */
    for (int i = 0; i < 10; i++)
        fail_n(t, "10.0.0.1", NULL, 4, (int64_t)i * (THROTTLE_WINDOW_MS + 1));
    CHECK(throttle_login_check(t, "10.0.0.1", NULL, 10 * (int64_t)(THROTTLE_WINDOW_MS + 1)) == 0);
    /* A success forgets the address and the user. */
    fail_n(t, "10.0.0.3", "carol", 5, 0);
    CHECK(throttle_login_check(t, "10.0.0.3", NULL, 0) == 1);
    throttle_login_succeeded(t, "10.0.0.3", "carol");
    CHECK(throttle_login_check(t, "10.0.0.3", "carol", 0) == 0);
    /* Quiet for THROTTLE_FORGET_MS: the delays start over. */
    fail_n(t, "10.0.0.4", NULL, 5, 0);
    throttle_login_failed(t, "10.0.0.4", NULL, 1000); /* level 2: 2 s */
    int64_t later = 1000 + THROTTLE_FORGET_MS + 1;
    throttle_login_failed(t, "10.0.0.4", NULL, later);
    CHECK(throttle_login_check(t, "10.0.0.4", NULL, later) == 0);
    throttle_free(t);
}

static void test_user_limit_is_higher(void)
{
    Throttle *t = throttle_new(5, 64);
    char addr[32];
    /* Four failures each from five addresses: no address is blocked, the user is at 20. */
    for (int i = 0; i < 5; i++) {
        snprintf(addr, sizeof(addr), "10.1.0.%d", i);
        fail_n(t, addr, "duck", 4, 0);
        CHECK(throttle_login_check(t, addr, NULL, 0) == 0);
        CHECK(throttle_login_check(t, addr, "duck", 0) == (i == 4));
    }
    CHECK(throttle_login_check(t, "10.9.9.9", "duck", 0) == 1);
    CHECK(throttle_login_check(t, "10.9.9.9", "other", 0) == 0);
    throttle_free(t);
}

static void test_bounded_tables(void)
{
    Throttle *t = throttle_new(5, 8);
    char addr[32], user[32];
    fail_n(t, "10.0.0.1", NULL, 5, 0); /* blocked: kept while others come and go */
    for (int i = 0; i < 1000; i++) {
        snprintf(addr, sizeof(addr), "10.2.%d.%d", i / 250, i % 250);
        snprintf(user, sizeof(user), "u%d", i);
        throttle_login_failed(t, addr, user, 1 + i % 400);
    }
    int addrs = 0, users = 0;
    throttle_counts(t, &addrs, &users);
    CHECK(addrs == 8 && users == 8);
    CHECK(throttle_login_check(t, "10.0.0.1", NULL, 500) == 1);
    throttle_free(t);
}

static void test_off(void)
{
    Throttle *t = throttle_new(0, 8);
    fail_n(t, "10.0.0.1", "duck", 100, 0);
    CHECK(throttle_login_check(t, "10.0.0.1", "duck", 0) == 0);
    CHECK(throttle_login_check(NULL, "10.0.0.1", "duck", 0) == 0);
    throttle_free(t);
    throttle_free(NULL);
}

int main(void)
{
    UNIT_RUN(test_address_blocked_after_limit);
    UNIT_RUN(test_window_and_forgetting);
    UNIT_RUN(test_user_limit_is_higher);
    UNIT_RUN(test_bounded_tables);
    UNIT_RUN(test_off);
    return unit_summary("throttle");
}
