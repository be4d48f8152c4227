/*
 * memguard: the worker threads' refusing arenas. See memguard.h for the
 * contract and the reasons.
 */
#include "memguard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>

#include "log.h"
#include "memstat.h"

/*
 * The control interfaces of DuckDB's jemalloc and of the process's (weak:
 * see memstat.c; the guard is on only when both exist).
 */
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
                             size_t newlen) __attribute__((weak));
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
    __attribute__((weak));

typedef int (*MallctlFn)(const char *, void *, size_t *, void *, size_t);

/*
 * jemalloc 5's extent hook table (jemalloc's extent_hooks_t, the same
 * layout in both of ours: Debian's 5.3.0 and DuckDB's bundled 5.3), spelled
 * out here so that the sanitizer builds, which lack jemalloc, compile too.
 */
typedef struct ExtentHooks ExtentHooks;
struct ExtentHooks {
    void *(*alloc)(ExtentHooks *, void *new_addr, size_t size, size_t alignment, bool *zero,
                   bool *commit, unsigned arena);
    bool (*dalloc)(ExtentHooks *, void *addr, size_t size, bool committed, unsigned arena);
    void (*destroy)(ExtentHooks *, void *addr, size_t size, bool committed, unsigned arena);
    bool (*commit)(ExtentHooks *, void *addr, size_t size, size_t offset, size_t length,
                   unsigned arena);
    bool (*decommit)(ExtentHooks *, void *addr, size_t size, size_t offset, size_t length,
                     unsigned arena);
    bool (*purge_lazy)(ExtentHooks *, void *addr, size_t size, size_t offset, size_t length,
                       unsigned arena);
    bool (*purge_forced)(ExtentHooks *, void *addr, size_t size, size_t offset, size_t length,
                         unsigned arena);
    bool (*split)(ExtentHooks *, void *addr, size_t size, size_t size_a, size_t size_b,
                  bool committed, unsigned arena);
    bool (*merge)(ExtentHooks *, void *addr_a, size_t size_a, void *addr_b, size_t size_b,
                  bool committed, unsigned arena);
};

/* The two allocators: index 0 is DuckDB's jemalloc, 1 the process's. */
enum { GUARD_DUCKDB, GUARD_PROCESS, GUARD_ALLOCATORS };

/*
 * Each allocator's hook table: its default hooks (arena 0's) for commit,
 * purge, split and merge, ours for alloc, dalloc and destroy. Written by
 * memguard_set_limits() before any worker runs, read-only afterwards.
 */
static ExtentHooks *defaults[GUARD_ALLOCATORS];
static ExtentHooks hooks[GUARD_ALLOCATORS];
static MallctlFn ctls[GUARD_ALLOCATORS];
static bool enabled;
static int64_t server_limit; /* MemoryLimit; 0: none */

/* The address space the guarded arenas map (the hooks add and subtract). */
static _Atomic int64_t mapped;
/* The memory outside the guarded arenas at the watchdog's last tick (memguard_tick). */
static _Atomic int64_t outside;
/*
 * The address space the guarded arenas retained at the last tick: jemalloc
 * keeps the purged ranges of freed extents and the unused tail of each
 * region it grows by (opt.retain) for its next growth; they hold no memory
 * until then.
 */
static _Atomic int64_t retained;

/* Enough for MaxWorkers threads at once; a thread beyond it runs unguarded (logged). */
#define MEMGUARD_MAX_SLOTS 1024

/*
 * The arenas: one pair (DuckDB's, the process's) per slot, created on the
 * first use of the slot and kept for the next thread once its thread exits
 * (jemalloc cannot destroy an arena that still holds memory). Guarded by
 * `slots_lock`, which the hooks never take.
 */
typedef struct {
    unsigned arena[GUARD_ALLOCATORS];
    bool taken;
} Slot;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static Slot slots[MEMGUARD_MAX_SLOTS];
static int nslots;
static bool slots_full_logged;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

struct MemguardThread {
    _Atomic int refused;      /* MemguardRefusal of the current statement */
    bool bound;               /* the thread allocates from its slot's arenas */
    int slot;                 /* its slot, or -1: none */
    bool churned;             /* the last statement allocated MEMGUARD_PURGE_AFTER or more */
    uint64_t allocated_start; /* the thread's cumulative allocation at memguard_begin */
    bool active;              /* inside a statement */
    bool lifted;              /* memguard_lift(true) */
    int64_t start;            /* net allocation when the statement began */
    int64_t limit;            /* its limit; 0: none */
    int64_t granted;          /* extents granted after the first refusal */
    const MemstatThread *mem; /* the thread's allocation counters */
};
static _Thread_local MemguardThread self;

/* Maps `size` bytes aligned to `alignment` (a power of two, at least a page), at `want` if set. */
static void *map_extent(void *want, size_t size, size_t alignment)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    if (want) {
        void *p = mmap(want, size, PROT_READ | PROT_WRITE, flags | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        if (p != want) { /* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
            munmap(p, size);
            return NULL;
        }
        return p;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (((uintptr_t)p & (alignment - 1)) == 0)
        return p;
    munmap(p, size);
    if (size + alignment < size)
        return NULL;
    size_t span = size + alignment;
    p = mmap(NULL, span, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t base = (uintptr_t)p, aligned = (base + alignment - 1) & ~(uintptr_t)(alignment - 1);
    size_t lead = aligned - base, trail = span - lead - size;
    if (lead)
        munmap(p, lead);
    if (trail)
        munmap((void *)(aligned + size), trail);
    return (void *)aligned;
}

int64_t memguard_in_use(void)
{
    int64_t held = atomic_load_explicit(&mapped, memory_order_relaxed) -
                   atomic_load_explicit(&retained, memory_order_relaxed);
    return atomic_load_explicit(&outside, memory_order_relaxed) + (held > 0 ? held : 0);
}

/* Whether the calling thread's statement may have `size` more bytes of address space. */
static bool refuse(size_t size)
{
    MemguardThread *t = &self;
    if (!t->active || t->lifted)
        return false;
    int64_t more = (int64_t)size;
    MemguardRefusal why = MEMGUARD_NONE;
    if (t->limit && memstat_thread_net(t->mem) - t->start + more > t->limit)
        why = MEMGUARD_STATEMENT;
    else if (server_limit && memguard_in_use() + more > server_limit)
        why = MEMGUARD_SERVER;
    if (why == MEMGUARD_NONE)
        return false;
    int already = atomic_load_explicit(&t->refused, memory_order_relaxed);
    if (already != MEMGUARD_NONE && size <= MEMGUARD_GRACE_EXTENT &&
        t->granted + more <= MEMGUARD_GRACE_BYTES) {
        t->granted += more; /* room for the error path */
        return false;
    }
    if (already == MEMGUARD_NONE)
        atomic_store_explicit(&t->refused, why, memory_order_relaxed);
    return true;
}

static void *guard_alloc(ExtentHooks *h, void *want, size_t size, size_t alignment, bool *zero,
                         bool *commit, unsigned arena)
{
    (void)h;
    (void)arena;
    if (refuse(size))
        return NULL;
    void *p = map_extent(want, size, alignment);
    if (!p)
        return NULL;
    *zero = true; /* fresh anonymous pages */
    *commit = true;
    atomic_fetch_add_explicit(&mapped, (int64_t)size, memory_order_relaxed);
    return p;
}

/*
 * Declines to unmap (true), as jemalloc's own hook does with `retain`:
 * jemalloc then purges the extent (its pages leave the process at once)
 * and keeps the address range for its next growth, which memguard_tick()
 * reads back as retained. An earlier version unmapped here and crashed
 * DuckDB's jemalloc (a corrupt retained set while it coalesced, within
 * about ten large refused statements): that path is not used with
 * `retain` by anyone else.
 */
static bool guard_dalloc(ExtentHooks *h, void *addr, size_t size, bool committed, unsigned arena)
{
    (void)h;
    (void)addr;
    (void)size;
    (void)committed;
    (void)arena;
    return true;
}

/* Arena destruction (never done here) returns what the arena retained. */
static void guard_destroy(ExtentHooks *h, void *addr, size_t size, bool committed, unsigned arena)
{
    (void)h;
    (void)committed;
    (void)arena;
    if (munmap(addr, size) == 0)
        atomic_fetch_sub_explicit(&mapped, (int64_t)size, memory_order_relaxed);
}

/*
 * The rest forwards to the allocator's default hooks, which work on any
 * mmap-ed range (their first argument, ignored by jemalloc's own, is
 * passed as their table anyway). A missing one means "not done" (true).
 */
#define RANGE_HOOK(name, k, suffix)                                                                \
    static bool name##_##suffix(ExtentHooks *h, void *a, size_t s, size_t o, size_t l, unsigned i) \
    {                                                                                              \
        (void)h;                                                                                   \
        ExtentHooks *d = defaults[k];                                                              \
        return d->name ? d->name(d, a, s, o, l, i) : true;                                         \
    }
#define SPLIT_MERGE_HOOKS(k, suffix)                                                               \
    static bool split_##suffix(ExtentHooks *h, void *a, size_t s, size_t sa, size_t sb, bool c,    \
                               unsigned i)                                                         \
    {                                                                                              \
        (void)h;                                                                                   \
        ExtentHooks *d = defaults[k];                                                              \
        return d->split ? d->split(d, a, s, sa, sb, c, i) : true;                                  \
    }                                                                                              \
    static bool merge_##suffix(ExtentHooks *h, void *a, size_t sa, void *b, size_t sb, bool c,     \
                               unsigned i)                                                         \
    {                                                                                              \
        (void)h;                                                                                   \
        ExtentHooks *d = defaults[k];                                                              \
        return d->merge ? d->merge(d, a, sa, b, sb, c, i) : true;                                  \
    }
#define ALL_HOOKS(k, suffix)                                                                       \
    RANGE_HOOK(commit, k, suffix)                                                                  \
    RANGE_HOOK(decommit, k, suffix)                                                                \
    RANGE_HOOK(purge_lazy, k, suffix)                                                              \
    RANGE_HOOK(purge_forced, k, suffix)                                                            \
    SPLIT_MERGE_HOOKS(k, suffix)
ALL_HOOKS(GUARD_DUCKDB, duckdb)
ALL_HOOKS(GUARD_PROCESS, process)

/* Reads allocator k's default hooks and fills its table; false when it cannot. */
static bool make_hooks(int k)
{
    ExtentHooks *d = NULL;
    size_t len = sizeof(d);
    if (ctls[k]("arena.0.extent_hooks", &d, &len, NULL, 0) != 0 || !d)
        return false;
    defaults[k] = d;
    hooks[k] =
        (ExtentHooks){.alloc = guard_alloc, .dalloc = guard_dalloc, .destroy = guard_destroy};
    if (k == GUARD_DUCKDB) {
        hooks[k].commit = commit_duckdb;
        hooks[k].decommit = decommit_duckdb;
        hooks[k].purge_lazy = purge_lazy_duckdb;
        hooks[k].purge_forced = purge_forced_duckdb;
        hooks[k].split = split_duckdb;
        hooks[k].merge = merge_duckdb;
    } else {
        hooks[k].commit = commit_process;
        hooks[k].decommit = decommit_process;
        hooks[k].purge_lazy = purge_lazy_process;
        hooks[k].purge_forced = purge_forced_process;
        hooks[k].split = split_process;
        hooks[k].merge = merge_process;
    }
    return true;
}

bool memguard_set_limits(int64_t server_bytes)
{
    server_limit = server_bytes;
    ctls[GUARD_DUCKDB] = duckdb_je_mallctl;
    ctls[GUARD_PROCESS] = mallctl;
    enabled = duckdb_je_mallctl && mallctl && make_hooks(GUARD_DUCKDB) && make_hooks(GUARD_PROCESS);
    return enabled;
}

bool memguard_enabled(void)
{
    return enabled;
}

/* Sets arena `ind`'s setting `what` of allocator k (a ssize_t or size_t value). */
static void arena_set(int k, unsigned ind, const char *what, const void *value, size_t len)
{
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.%s", ind, what);
    if (ctls[k](name, NULL, NULL, (void *)value, len) != 0)
        log_warn("memguard: cannot set %s", name);
}

/*
 * Creates allocator k's arena for a slot: our hooks; freed extents are
 * purged within about 100 ms of the arena's activity (dirty_decay_ms, and
 * no muzzy stage, whose lazily purged pages would stay counted by the
 * kernel), so their pages leave the process, while a statement that runs
 * again at once still finds most of its pages (0 made large statements
 * 1.5-2x slower); a region grows by at most 4MB beyond a request, so the
 * address space kept unused stays small.
 */
static bool create_arena(int k, unsigned *out)
{
    ExtentHooks *h = &hooks[k];
    size_t len = sizeof(*out);
    if (ctls[k]("arenas.create", out, &len, &h, sizeof(h)) != 0)
        return false;
    ssize_t dirty_ms = 100, muzzy_ms = 0;
    size_t grow = 4 << 20;
    arena_set(k, *out, "dirty_decay_ms", &dirty_ms, sizeof(dirty_ms));
    arena_set(k, *out, "muzzy_decay_ms", &muzzy_ms, sizeof(muzzy_ms));
    arena_set(k, *out, "retain_grow_limit", &grow, sizeof(grow));
    return true;
}

/* At thread exit (the key's destructor): the slot is free for the next worker. */
static void release_slot(void *value)
{
    int slot = (int)(intptr_t)value - 1;
    pthread_mutex_lock(&slots_lock);
    slots[slot].taken = false;
    pthread_mutex_unlock(&slots_lock);
}

static void make_exit_key(void)
{
    if (pthread_key_create(&exit_key, release_slot) != 0)
        log_fatal("memguard: cannot create a thread key");
}

/* Binds the calling thread to a free slot's arenas (created if need be). */
static void bind_thread(MemguardThread *t)
{
    pthread_once(&exit_key_once, make_exit_key);
    int slot = -1;
    bool created = true;
    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < nslots && slot < 0; i++)
        if (!slots[i].taken)
            slot = i;
    if (slot < 0 && nslots < MEMGUARD_MAX_SLOTS) {
        slot = nslots;
        created = create_arena(GUARD_DUCKDB, &slots[slot].arena[GUARD_DUCKDB]) &&
                  create_arena(GUARD_PROCESS, &slots[slot].arena[GUARD_PROCESS]);
        if (created)
            nslots++;
    }
    if (slot >= 0 && created)
        slots[slot].taken = true;
    bool full = slot < 0 && !slots_full_logged;
    slots_full_logged = slots_full_logged || full;
    pthread_mutex_unlock(&slots_lock);
    t->bound = true; /* tried: a thread that got no slot is not tried again */
    t->slot = -1;
    if (full)
        log_warn("memguard: more than %d worker threads; the others run without the guard",
                 MEMGUARD_MAX_SLOTS);
    if (slot < 0 || !created) {
        if (!created)
            log_warn("memguard: cannot create an arena; this thread runs without the guard");
        return;
    }
    for (int k = 0; k < GUARD_ALLOCATORS; k++) {
        unsigned ind = slots[slot].arena[k];
        if (ctls[k]("thread.arena", NULL, NULL, &ind, sizeof(ind)) != 0)
            log_warn("memguard: cannot bind a thread to its arena");
    }
    pthread_setspecific(exit_key, (void *)(intptr_t)(slot + 1));
    t->slot = slot;
}

/* The thread's cumulative allocation in both allocators. */
static uint64_t thread_allocated(const MemguardThread *t)
{
    return __atomic_load_n(t->mem->duckdb_allocated, __ATOMIC_RELAXED) +
           __atomic_load_n(t->mem->process_allocated, __ATOMIC_RELAXED);
}

/*
 * Gives the free pages of the thread's arenas back to the system now
 * (after a refused statement, or under pressure: see memguard.h).
 * jemalloc returns them only after dirty_decay_ms and only when the arena is
 * used again, so the pages a large statement freed would stay resident, and
 * counted by the server-wide check, while the worker waits for work.
 */
static void purge_own_arenas(const MemguardThread *t)
{
    for (int k = 0; k < GUARD_ALLOCATORS; k++)
        arena_set(k, slots[t->slot].arena[k], "purge", NULL, 0);
}

MemguardThread *memguard_begin(int64_t net_start, int64_t statement_bytes)
{
    if (!enabled)
        return NULL;
    MemguardThread *t = &self;
    if (!t->bound) {
        bind_thread(t);
        t->mem = memstat_thread();
    }
    if (t->bound && t->slot >= 0 && t->churned) /* what the last one freed after memguard_end */
        purge_own_arenas(t);
    t->churned = false;
    t->allocated_start = t->mem ? thread_allocated(t) : 0;
    t->start = net_start;
    t->limit = statement_bytes;
    t->granted = 0;
    atomic_store_explicit(&t->refused, MEMGUARD_NONE, memory_order_relaxed);
    t->active = true;
    return t;
}

void memguard_set_statement(int64_t statement_bytes)
{
    self.limit = statement_bytes;
}

void memguard_end(void)
{
    MemguardThread *t = &self;
    t->active = false;
    bool pressed = server_limit && memguard_in_use() > server_limit / 2;
    bool refused = atomic_load_explicit(&t->refused, memory_order_relaxed) != MEMGUARD_NONE;
    if (t->bound && t->slot >= 0 && (refused || pressed) &&
        thread_allocated(t) - t->allocated_start >= MEMGUARD_PURGE_AFTER) {
        purge_own_arenas(t);
        t->churned = true;
    }
}

MemguardRefusal memguard_refused(const MemguardThread *t)
{
    return t ? (MemguardRefusal)atomic_load_explicit(&t->refused, memory_order_relaxed)
             : MEMGUARD_NONE;
}

void memguard_lift(bool lifted)
{
    self.lifted = lifted;
}

void memguard_tick(int64_t total)
{
    if (!enabled)
        return;
    /* memstat_total() has just refreshed both allocators' statistics (their epoch). */
    int64_t kept = 0;
    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < nslots; i++) {
        for (int k = 0; k < GUARD_ALLOCATORS; k++) {
            char name[64];
            size_t value = 0, len = sizeof(value);
            snprintf(name, sizeof(name), "stats.arenas.%u.retained", slots[i].arena[k]);
            if (ctls[k](name, &value, &len, NULL, 0) == 0)
                kept += (int64_t)value;
        }
    }
    pthread_mutex_unlock(&slots_lock);
    atomic_store_explicit(&retained, kept, memory_order_relaxed);
    int64_t held = atomic_load_explicit(&mapped, memory_order_relaxed) - kept;
    held = held > 0 ? held : 0;
    atomic_store_explicit(&outside, total > held ? total - held : 0, memory_order_relaxed);
}

int64_t memguard_mapped(void)
{
    return atomic_load_explicit(&mapped, memory_order_relaxed);
}
