/*
 * unit.h: the smallest test harness that does the job. A test file defines
 * test functions, lists them in main() with UNIT_RUN, and returns
 * unit_summary(). A failed CHECK prints file:line and the expression, marks
 * the test failed, and carries on with the next check.
 */
#ifndef TCPDUCKDB_UNIT_H
#define TCPDUCKDB_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_checks;
static const char *unit_current;

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        unit_checks++;                                                                             \
        if (!(expr)) {                                                                             \
            unit_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__, unit_current,     \
                    #expr);                                                                        \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        unit_checks++;                                                                             \
        if (!g_ || strcmp(g_, w_) != 0) {                                                          \
            unit_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s: got  %s\n%*swant %s\n", __FILE__, __LINE__, unit_current,  \
                    g_ ? g_ : "(null)", (int)(strlen(__FILE__) + 14 + strlen(unit_current)), "",   \
                    w_);                                                                           \
        }                                                                                          \
    } while (0)

#define UNIT_RUN(fn)                                                                               \
    do {                                                                                           \
        unit_current = #fn;                                                                        \
        fn();                                                                                      \
    } while (0)

static inline int unit_summary(const char *suite)
{
    printf("%s: %d checks, %d failed\n", suite, unit_checks, unit_failures);
    return unit_failures ? 1 : 0;
}

#endif
