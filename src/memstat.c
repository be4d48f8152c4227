/*
 * memstat: the allocators' statistics. See memstat.h.
 */
#include "memstat.h"

#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/*
 * The allocators' control interfaces. Weak: DuckDB's library exports
 * duckdb_je_mallctl only where it bundles jemalloc (Linux); mallctl exists
 * only in the release build, which links jemalloc; the sanitizer interface
 * only in the sanitizer builds. A missing one is NULL.
 */
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
                             size_t newlen) __attribute__((weak));
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));
extern size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

typedef int (*MallctlFn)(const char *, void *, size_t *, void *, size_t);

/* What a counter the build lacks points at. */
static const uint64_t zero;

/* jemalloc's allocated bytes, after a new statistics epoch; -1 if it cannot tell. */
static int64_t je_allocated(MallctlFn ctl)
{
    if (!ctl)
        return -1;
    uint64_t epoch = 1;
    size_t len = sizeof(epoch);
    if (ctl("epoch", &epoch, &len, &epoch, len) != 0)
        return -1;
    size_t allocated = 0;
    len = sizeof(allocated);
    if (ctl("stats.allocated", &allocated, &len, NULL, 0) != 0)
        return -1;
    return (int64_t)allocated;
}

int64_t memstat_total(MemstatTotal *out)
{
    MemstatTotal t = {.duckdb = je_allocated(duckdb_je_mallctl), .process = -1};
    if (mallctl) {
        t.process = je_allocated(mallctl);
    } else if (__sanitizer_get_current_allocated_bytes) {
        t.process = (int64_t)__sanitizer_get_current_allocated_bytes();
    } else {
        struct mallinfo2 mi = mallinfo2();
        t.process = (int64_t)(mi.uordblks + mi.hblkhd);
    }
    if (out)
        *out = t;
    return (t.duckdb > 0 ? t.duckdb : 0) + (t.process > 0 ? t.process : 0);
}

const char *memstat_process_allocator(void)
{
    if (mallctl)
        return "jemalloc";
    if (__sanitizer_get_current_allocated_bytes)
        return "the sanitizer's";
    return "glibc's";
}

/* Points *out at the calling thread's jemalloc counter `name`, or at `zero`. */
static void thread_counter(MallctlFn ctl, const char *name, const uint64_t **out)
{
    uint64_t *p = NULL;
    size_t len = sizeof(p);
    *out = ctl && ctl(name, &p, &len, NULL, 0) == 0 && p ? p : &zero;
}

static _Thread_local MemstatThread self;
static _Thread_local bool self_known;

const MemstatThread *memstat_thread(void)
{
    if (!self_known) {
        thread_counter(duckdb_je_mallctl, "thread.allocatedp", &self.duckdb_allocated);
        thread_counter(duckdb_je_mallctl, "thread.deallocatedp", &self.duckdb_freed);
        thread_counter(mallctl, "thread.allocatedp", &self.process_allocated);
        thread_counter(mallctl, "thread.deallocatedp", &self.process_freed);
        self_known = true;
    }
    return &self;
}

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

int64_t memstat_thread_net(const MemstatThread *t)
{
    /* Unsigned arithmetic: the counters only grow, and wrap never in practice. */
    uint64_t net = load(t->duckdb_allocated) - load(t->duckdb_freed) + load(t->process_allocated) -
                   load(t->process_freed);
    return (int64_t)net;
}

/* A cgroup's memory limit from `path`, or -1 when there is none ("max", absent). */
static int64_t cgroup_limit(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[64] = "";
    int64_t limit = -1;
    if (fgets(line, sizeof(line), f) && isdigit((unsigned char)line[0]))
        limit = strtoll(line, NULL, 10);
    fclose(f);
    return limit;
}

int64_t memstat_ram_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    int64_t ram = pages > 0 && page > 0 ? (int64_t)pages * page : 0;
    const char *paths[] = {"/sys/fs/cgroup/memory.max",
                           "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        int64_t limit = cgroup_limit(paths[i]);
        if (limit > 0 && (ram == 0 || limit < ram))
            ram = limit;
    }
    return ram;
}

bool memstat_parse_size(const char *text, int64_t whole, int64_t *out)
{
    static const struct {
        const char *name;
        double factor;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"bytes", 1},
        {"kb", 1024.0},
        {"kib", 1024.0},
        {"mb", 1048576.0},
        {"mib", 1048576.0},
        {"gb", 1073741824.0},
        {"gib", 1073741824.0},
        {"tb", 1099511627776.0},
        {"tib", 1099511627776.0},
    };
    if (!isdigit((unsigned char)text[0]) && text[0] != '.')
        return false;
    char *end = NULL;
    errno = 0;
    double n = strtod(text, &end);
    if (errno != 0 || !isfinite(n) || n < 0)
        return false;
    while (*end == ' ')
        end++;
    double bytes = -1;
    if (strcmp(end, "%") == 0) {
        if (n > 100)
            return false;
        bytes = (double)whole * n / 100.0;
    } else {
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcasecmp(end, units[i].name) == 0)
                bytes = n * units[i].factor;
    }
    if (bytes < 0 || bytes > 9.0e18)
        return false;
    *out = (int64_t)bytes;
    return true;
}

void memstat_format_size(char *buf, size_t len, int64_t bytes)
{
    static const char *const names[] = {"kB", "MB", "GB", "TB"};
    double v = (double)bytes;
    int unit = -1;
    while (unit < 3 && v >= 1024.0) {
        v /= 1024.0;
        unit++;
    }
    if (unit < 0)
        snprintf(buf, len, "%lld bytes", (long long)bytes);
    else if (v == floor(v) || v >= 100)
        snprintf(buf, len, "%.0f%s", v, names[unit]);
    else
        snprintf(buf, len, "%.1f%s", v, names[unit]);
}
