/*
 * rescache: query result cache. See rescache.h and docs/cache.md.
 *
 * State, all guarded by `lock`: a hash table of entries by key, one
 * recency list over all entries (most recent first), and a record per
 * database (its generation, writes in flight, its entries, counters). An
 * entry is unlinked (from the table, the recency list and its database)
 * when it is evicted, invalidated or replaced; it is freed when it is
 * unlinked and no reader is copying it (`refs`).
 *
 * The function and keyword lists are written at start-up by one thread and
 * only read afterwards (the start-up thread publishes them through the
 * mutex taken in rescache_functions_ready()).
 */
#include "rescache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fnlist.h"
#include "sqllex.h"
#include "xalloc.h"

/* ---- names from DuckDB ------------------------------------------------- */

#define NAME_MAX_LEN 128
#define NAME_BUCKETS 4096

enum {
    NAME_FUNCTION = 1u,           /* some row of duckdb_functions() has this name */
    NAME_UNSAFE = 2u,             /* some row is not a CONSISTENT scalar or aggregate */
    NAME_NOT_PLAIN = 4u,          /* some row is not a scalar or aggregate (table, macro, ...) */
    NAME_KEYWORD = 8u,            /* duckdb_keywords() lists it */
    NAME_WRITES = 16u,            /* a function that changes the database (nextval) */
    NAME_CONTEXTUAL = 32u,        /* a word that stands for a value of the moment or session */
    NAME_STATEMENT = 64u,         /* a word that starts a statement other than a query */
    NAME_NONDETERMINISTIC = 128u, /* SAMPLE and the like: a query whose answer varies */
};

typedef struct Name {
    struct Name *chain;
    unsigned flags;
    char name[]; /* lower case */
} Name;

static Name *names[NAME_BUCKETS];
static bool names_ready;

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

#define HASH_SEED 14695981039346656037ull

/* Lower-cases `s` (`n` bytes) into `out`; false when longer than NAME_MAX_LEN. */
static bool lower_name(const char *s, size_t n, char out[NAME_MAX_LEN + 1])
{
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return true;
}

static Name *name_find(const char *lower)
{
    uint64_t h = hash_bytes(HASH_SEED, lower, strlen(lower));
    for (Name *n = names[h % NAME_BUCKETS]; n; n = n->chain)
        if (strcmp(n->name, lower) == 0)
            return n;
    return NULL;
}

static void name_mark(const char *name, unsigned flags)
{
    char lower[NAME_MAX_LEN + 1];
    if (!name || !lower_name(name, strlen(name), lower))
        return;
    Name *n = name_find(lower);
    if (!n) {
        size_t len = strlen(lower);
        uint64_t h = hash_bytes(HASH_SEED, lower, len);
        n = xcalloc(1, sizeof(*n) + len + 1);
        memcpy(n->name, lower, len + 1);
        n->chain = names[h % NAME_BUCKETS];
        names[h % NAME_BUCKETS] = n;
    }
    n->flags |= flags;
}

void rescache_note_function(const char *name, const char *type, const char *stability)
{
    bool plain = type && (strcmp(type, "scalar") == 0 || strcmp(type, "aggregate") == 0);
    bool consistent = plain && stability && strcmp(stability, "CONSISTENT") == 0;
    /* DuckDB reports no stability for table functions: only fnlist's pure ones (rows
     * from their arguments alone), where DuckDB lists them as table functions, are
     * taken as CONSISTENT; any other table function stays unsafe (fail closed). */
    if (name && type && strcmp(type, "table") == 0 &&
        (fnlist_flags(name, strlen(name)) & FNLIST_PURE_TABLE)) {
        plain = true;
        consistent = true;
    }
    /* A built-in scalar macro is never cached (its stability is not reported) but is
     * an expression over built-in functions, none of which writes (DuckDB 1.5.6's
     * macro_definition column: some read catalog table functions, none writes), so
     * it needs no write bracket. Table functions and table macros may write
     * (checkpoint, truncate_duckdb_logs, json_execute_serialized_sql). */
    bool reads_only = plain || (type && strcmp(type, "macro") == 0);
    name_mark(name,
              NAME_FUNCTION | (reads_only ? 0 : NAME_NOT_PLAIN) | (consistent ? 0 : NAME_UNSAFE));
}

void rescache_note_keyword(const char *name)
{
    name_mark(name, NAME_KEYWORD);
}

/*
 * Words DuckDB reports otherwise than what they mean for a cache come from
 * fnlist (shared with the access check): names reading the connection's or
 * server's state (current_setting after SET, getvariable after SET
 * VARIABLE, ...) and SQL's value keywords, which call a function without
 * parentheses (current_timestamp is get_current_timestamp(), ...), are
 * never cached; nextval and setval also advance a sequence, so a statement
 * calling them is a write.
 */
static const char *const nondeterministic_words[] = {"sample", "tablesample", NULL};
/* Words that, anywhere in a text, make it something other than a query. */
static const char *const statement_words[] = {
    "insert", "update",     "delete",   "copy",    "create",   "drop",    "alter",      "attach",
    "detach", "set",        "reset",    "pragma",  "call",     "install", "load",       "export",
    "import", "checkpoint", "vacuum",   "analyze", "prepare",  "execute", "deallocate", "use",
    "begin",  "commit",     "rollback", "abort",   "truncate", "merge",   "into",       NULL};

static void mark_list(const char *const *list, unsigned flags)
{
    for (size_t i = 0; list[i]; i++)
        name_mark(list[i], flags);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void rescache_functions_ready(void)
{
    size_t nlisted = 0;
    const FnlistEntry *listed = fnlist_entries(&nlisted);
    for (size_t i = 0; i < nlisted; i++) {
        unsigned f = listed[i].flags;
        if (f & (FNLIST_CONNECTION_STATE | FNLIST_VALUE_KEYWORD))
            name_mark(listed[i].name, NAME_CONTEXTUAL | NAME_UNSAFE);
        if (f & (FNLIST_SIDE_EFFECT | FNLIST_STATEMENT_INPUT))
            name_mark(listed[i].name, NAME_UNSAFE);
        if (f & FNLIST_CHANGES_DATABASE)
            name_mark(listed[i].name, NAME_WRITES | NAME_UNSAFE);
    }
    mark_list(nondeterministic_words, NAME_NONDETERMINISTIC);
    mark_list(statement_words, NAME_STATEMENT);
    pthread_mutex_lock(&lock);
    names_ready = true;
    pthread_mutex_unlock(&lock);
}

/* ---- classification ---------------------------------------------------- */

/* The flags of token `t` as a name, 0 when it is none of the known ones. */
static unsigned token_flags(const char *sql, const SqlToken *t)
{
    char lower[NAME_MAX_LEN + 1];
    size_t off = t->offset, len = t->length;
    if (t->kind == SQLLEX_QUOTED) {
        /* "name": DuckDB finds functions by name case-insensitively. A
         * quoted name with "" or a U& prefix is left unknown (fail closed). */
        if (len < 3 || sql[off] != '"')
            return NAME_UNSAFE | NAME_NOT_PLAIN;
        off++;
        len -= 2;
        if (memchr(sql + off, '"', len))
            return NAME_UNSAFE | NAME_NOT_PLAIN;
    }
    if (!lower_name(sql + off, len, lower))
        return 0;
    Name *n = name_find(lower);
    unsigned f = n ? n->flags : 0;
    if (t->kind == SQLLEX_QUOTED)
        f &= ~(unsigned)(NAME_KEYWORD | NAME_CONTEXTUAL | NAME_STATEMENT | NAME_NONDETERMINISTIC);
    return f;
}

RescacheClass rescache_classify(const char *sql, size_t len)
{
    RescacheClass c = {false, false};
    if (!names_ready)
        return c;
    SqlLexer lx;
    sqllex_init(&lx, sql, len, 0);
    SqlToken tok, prev = {0};
    bool have_prev = false, shape = false, after_semi = false;
    bool cacheable = true, read_only = true;
    int r;
    size_t ntok = 0;
    while ((r = sqllex_next(&lx, &tok)) == 1) {
        if (ntok++ == 0) {
            shape = tok.kind == SQLLEX_OPEN ||
                    (tok.kind == SQLLEX_WORD &&
                     (sqllex_is_word(sql, &tok, "select") || sqllex_is_word(sql, &tok, "with") ||
                      sqllex_is_word(sql, &tok, "from") || sqllex_is_word(sql, &tok, "values") ||
                      sqllex_is_word(sql, &tok, "table")));
        }
        if (tok.kind == SQLLEX_SEMI) {
            after_semi = true;
        } else if (after_semi) {
            shape = false; /* a second statement */
        }
        if (tok.kind == SQLLEX_WORD || tok.kind == SQLLEX_QUOTED) {
            unsigned f = token_flags(sql, &tok);
            if (f & (NAME_CONTEXTUAL | NAME_NONDETERMINISTIC))
                cacheable = false;
            if (f & NAME_STATEMENT)
                shape = false;
            if ((f & NAME_FUNCTION) && (f & NAME_UNSAFE))
                cacheable = false;
            if (f & NAME_WRITES)
                read_only = false;
        }
        if (tok.kind == SQLLEX_OPEN && have_prev && sql[tok.offset] == '(' &&
            (prev.kind == SQLLEX_WORD || prev.kind == SQLLEX_QUOTED)) {
            /* A call, or syntax such as IN ( and DECIMAL( when a keyword. */
            unsigned f = token_flags(sql, &prev);
            bool known_fn = (f & NAME_FUNCTION) != 0;
            bool syntax = !known_fn && (f & NAME_KEYWORD);
            if (!syntax && (!known_fn || (f & NAME_UNSAFE)))
                cacheable = false;
            if (!syntax && (!known_fn || (f & (NAME_NOT_PLAIN | NAME_WRITES))))
                read_only = false;
        }
        prev = tok;
        have_prev = true;
    }
    if (r != 0 || ntok == 0)
        return c;
    c.read_only = shape && read_only;
    c.cacheable = c.read_only && cacheable;
    return c;
}

static void put_u64(Buf *b, uint64_t v)
{
    buf_append(b, (const char *)&v, sizeof(v));
}

bool rescache_key(Buf *out, int64_t db_id, const char *form, size_t form_len, const char *sql,
                  size_t len, const TypedRequest *params)
{
    out->len = 0;
    put_u64(out, (uint64_t)db_id);
    put_u64(out, form_len);
    buf_append(out, form, form_len);
    size_t len_at = out->len;
    put_u64(out, 0); /* the normalised text's length, filled in below */
    size_t text_at = out->len;
    SqlLexer lx;
    sqllex_init(&lx, sql, len, 0);
    SqlToken tok;
    int r;
    bool first = true;
    while ((r = sqllex_next(&lx, &tok)) == 1) {
        if (!first)
            buf_putc(out, ' ');
        buf_append(out, sql + tok.offset, tok.length);
        first = false;
    }
    if (r != 0)
        return false;
    uint64_t text_len = out->len - text_at;
    memcpy(out->data + len_at, &text_len, sizeof(text_len));
    size_t n = params ? params->nparams : 0;
    put_u64(out, params ? n + 1 : 0);
    for (size_t i = 0; i < n; i++) {
        const Param *p = &params->params[i];
        buf_putc(out, (char)('0' + p->kind));
        switch (p->kind) {
        case PARAM_NULL:
            break;
        case PARAM_BOOL:
            buf_putc(out, p->b ? 1 : 0);
            break;
        case PARAM_INT:
            buf_append(out, (const char *)&p->i, sizeof(p->i));
            break;
        case PARAM_DOUBLE:
            buf_append(out, (const char *)&p->d, sizeof(p->d));
            break;
        case PARAM_TEXT:
        case PARAM_BLOB:
            put_u64(out, p->len);
            buf_append(out, p->bytes, p->len);
            break;
        }
    }
    return true;
}

/* ---- entries and databases --------------------------------------------- */

typedef struct Db Db;

typedef struct Entry {
    struct Entry *lru_prev, *lru_next; /* recency list, most recent first */
    struct Entry *db_prev, *db_next;   /* its database's entries */
    struct Entry *chain;               /* hash bucket */
    Db *db;
    uint64_t hash, gen;
    int64_t expires_ms; /* 0: no TTL */
    size_t cost;        /* bytes counted against CacheMemory */
    int refs;           /* readers copying it, plus one while linked */
    bool linked;
    size_t key_len, data_len;
    char *key, *data; /* inside the same allocation */
} Entry;

struct Db {
    Db *chain;
    int64_t id;
    uint64_t gen;
    int writers; /* writes between rescache_write_begin and _end */
    int fns;     /* RESCACHE_FNS_*: user functions in the database (rescache_user_functions) */
    Entry *entries;
    size_t nentries, bytes;
    uint64_t hits, misses, evictions, invalidations;
};

#define DB_BUCKETS 256

static RescacheConfig config;
static Entry **table;
static size_t table_size; /* buckets, a power of two */
static size_t nentries, total_bytes;
static Entry *lru_head, *lru_tail;
static Db *dbs[DB_BUCKETS];
static uint64_t next_gen = 1; /* generations are never reused, even across records */

void rescache_configure(const RescacheConfig *cfg)
{
    pthread_mutex_lock(&lock);
    config = *cfg;
    if (config.max_entry_bytes > config.memory_bytes)
        config.max_entry_bytes = config.memory_bytes;
    pthread_mutex_unlock(&lock);
}

bool rescache_enabled(void)
{
    /* Written once at start-up, before any worker runs. */
    return names_ready && config.memory_bytes > 0;
}

size_t rescache_max_entry(void)
{
    return config.max_entry_bytes > 0 ? (size_t)config.max_entry_bytes : 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The record of database `id`, made when missing. Lock held. */
static Db *db_get(int64_t id)
{
    size_t b = (uint64_t)id % DB_BUCKETS;
    for (Db *d = dbs[b]; d; d = d->chain)
        if (d->id == id)
            return d;
    Db *d = xcalloc(1, sizeof(*d));
    d->id = id;
    d->gen = next_gen++;
    d->chain = dbs[b];
    dbs[b] = d;
    return d;
}

static void entry_release(Entry *e)
{
    if (--e->refs == 0)
        free(e);
}

/* Takes `e` out of every list; frees it unless a reader holds it. Lock held. */
static void entry_unlink(Entry *e)
{
    if (!e->linked)
        return;
    Entry **pp = &table[e->hash & (table_size - 1)];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        lru_tail = e->lru_prev;
    if (e->db_prev)
        e->db_prev->db_next = e->db_next;
    else
        e->db->entries = e->db_next;
    if (e->db_next)
        e->db_next->db_prev = e->db_prev;
    e->db->nentries--;
    e->db->bytes -= e->cost;
    nentries--;
    total_bytes -= e->cost;
    e->linked = false;
    entry_release(e);
}

static Entry *entry_find(const Buf *key, uint64_t h)
{
    if (!table)
        return NULL;
    for (Entry *e = table[h & (table_size - 1)]; e; e = e->chain)
        if (e->hash == h && e->key_len == key->len && memcmp(e->key, key->data, key->len) == 0)
            return e;
    return NULL;
}

static void lru_front(Entry *e)
{
    if (lru_head == e)
        return;
    e->lru_prev->lru_next = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        lru_tail = e->lru_prev;
    e->lru_prev = NULL;
    e->lru_next = lru_head;
    lru_head->lru_prev = e;
    lru_head = e;
}

/* Drops every entry of `d` and moves its generation on. Lock held. */
static void db_invalidate(Db *d)
{
    if (d->entries)
        d->invalidations++;
    while (d->entries)
        entry_unlink(d->entries);
    d->gen = next_gen++;
}

bool rescache_read_begin(int64_t db_id, uint64_t *out_gen)
{
    if (!rescache_enabled())
        return false;
    pthread_mutex_lock(&lock);
    Db *d = db_get(db_id);
    bool ok = d->writers == 0;
    *out_gen = d->gen;
    pthread_mutex_unlock(&lock);
    return ok;
}

int rescache_user_functions(int64_t db_id)
{
    pthread_mutex_lock(&lock);
    int fns = db_get(db_id)->fns;
    pthread_mutex_unlock(&lock);
    return fns;
}

void rescache_note_user_functions(int64_t db_id, uint64_t gen, bool some)
{
    pthread_mutex_lock(&lock);
    Db *d = db_get(db_id);
    /* A check whose generation is still current with no write in flight saw every
     * change committed before it: each bracket moves the generation at its start. */
    if (d->gen == gen && d->writers == 0)
        d->fns = some ? RESCACHE_FNS_SOME : RESCACHE_FNS_NONE;
    pthread_mutex_unlock(&lock);
}

void rescache_functions_changed(int64_t db_id)
{
    pthread_mutex_lock(&lock);
    db_get(db_id)->fns = RESCACHE_FNS_UNKNOWN;
    pthread_mutex_unlock(&lock);
}

bool rescache_lookup(int64_t db_id, const Buf *key, uint64_t gen, Buf *out,
                     int (*flush)(void *ctx, Buf *out), void *ctx, size_t flush_bytes,
                     bool *out_gone)
{
    uint64_t h = hash_bytes(HASH_SEED, key->data, key->len);
    pthread_mutex_lock(&lock);
    Db *d = db_get(db_id);
    Entry *e = entry_find(key, h);
    if (e) {
        bool expired = e->expires_ms && now_ms() >= e->expires_ms;
        bool usable = !expired && e->gen == gen && d->gen == gen && d->writers == 0;
        if (expired || e->gen != d->gen)
            entry_unlink(e); /* it can never be served again (may free it) */
        if (!usable)
            e = NULL;
    }
    if (!e) {
        d->misses++;
        pthread_mutex_unlock(&lock);
        return false;
    }
    d->hits++;
    e->refs++;
    lru_front(e);
    pthread_mutex_unlock(&lock);
    /* The bytes of an entry never change: copied without the lock. */
    size_t done = 0;
    while (done < e->data_len) {
        size_t n = e->data_len - done;
        if (flush && n > flush_bytes)
            n = flush_bytes;
        buf_append(out, e->data + done, n);
        done += n;
        if (flush && out->len >= flush_bytes && flush(ctx, out) != 0) {
            *out_gone = true;
            break;
        }
    }
    pthread_mutex_lock(&lock);
    entry_release(e);
    pthread_mutex_unlock(&lock);
    return true;
}

static void table_grow(void)
{
    size_t n = table_size ? table_size * 2 : 1024;
    Entry **t = xcalloc(n, sizeof(*t));
    for (size_t i = 0; i < table_size; i++) {
        for (Entry *e = table[i], *next; e; e = next) {
            next = e->chain;
            e->chain = t[e->hash & (n - 1)];
            t[e->hash & (n - 1)] = e;
        }
    }
    free(table);
    table = t;
    table_size = n;
}

void rescache_store(int64_t db_id, const Buf *key, uint64_t gen, const char *answer, size_t len)
{
    if (!rescache_enabled() || (int64_t)len > config.max_entry_bytes)
        return;
    size_t cost = sizeof(Entry) + key->len + len;
    if ((int64_t)cost > config.memory_bytes)
        return;
    uint64_t h = hash_bytes(HASH_SEED, key->data, key->len);
    /* Allocated and filled before the lock is taken. */
    Entry *e = xmalloc(sizeof(*e) + key->len + len);
    memset(e, 0, sizeof(*e));
    e->key = (char *)(e + 1);
    e->data = e->key + key->len;
    memcpy(e->key, key->data, key->len);
    memcpy(e->data, answer, len);
    e->key_len = key->len;
    e->data_len = len;
    e->hash = h;
    e->gen = gen;
    e->cost = cost;
    e->refs = 1;
    e->linked = true;
    if (config.ttl_sec > 0)
        e->expires_ms = now_ms() + (int64_t)config.ttl_sec * 1000;
    pthread_mutex_lock(&lock);
    Db *d = db_get(db_id);
    if (d->gen != gen || d->writers > 0) {
        /* A write committed (or may be committing) since the reader took
         * its generation: its answer may predate it (docs/cache.md). */
        pthread_mutex_unlock(&lock);
        free(e);
        return;
    }
    Entry *old = entry_find(key, h);
    if (old)
        entry_unlink(old);
    while (lru_tail && total_bytes + cost > (size_t)config.memory_bytes) {
        lru_tail->db->evictions++;
        entry_unlink(lru_tail);
    }
    if (nentries + 1 > table_size)
        table_grow();
    e->db = d;
    e->chain = table[h & (table_size - 1)];
    table[h & (table_size - 1)] = e;
    e->lru_next = lru_head;
    if (lru_head)
        lru_head->lru_prev = e;
    lru_head = e;
    if (!lru_tail)
        lru_tail = e;
    e->db_next = d->entries;
    if (d->entries)
        d->entries->db_prev = e;
    d->entries = e;
    d->nentries++;
    d->bytes += cost;
    nentries++;
    total_bytes += cost;
    pthread_mutex_unlock(&lock);
}

void rescache_write_begin(int64_t db_id)
{
    pthread_mutex_lock(&lock);
    Db *d = db_get(db_id);
    d->writers++;
    db_invalidate(d);
    pthread_mutex_unlock(&lock);
}

void rescache_write_end(int64_t db_id)
{
    pthread_mutex_lock(&lock);
    Db *d = db_get(db_id);
    if (d->writers > 0)
        d->writers--;
    /* Entries cannot have been stored meanwhile; the generation moves on
     * again so that no reader that started during the write stores. */
    db_invalidate(d);
    pthread_mutex_unlock(&lock);
}

void rescache_invalidate_db(int64_t db_id)
{
    rescache_write_begin(db_id);
    rescache_functions_changed(db_id); /* a reopened or reused file: check again */
    rescache_write_end(db_id);
}

void rescache_stats_json(Buf *out)
{
    pthread_mutex_lock(&lock);
    buf_printf(out,
               "{\"enabled\":%s,\"limit\":%lld,\"max_entry\":%lld,\"ttl\":%d,\"entries\":%zu,"
               "\"bytes\":%zu,\"databases\":[",
               (names_ready && config.memory_bytes > 0) ? "true" : "false",
               (long long)config.memory_bytes, (long long)config.max_entry_bytes, config.ttl_sec,
               nentries, total_bytes);
    bool first = true;
    for (size_t b = 0; b < DB_BUCKETS; b++) {
        for (Db *d = dbs[b]; d; d = d->chain) {
            uint64_t lookups = d->hits + d->misses;
            buf_printf(out,
                       "%s{\"id\":%lld,\"entries\":%zu,\"bytes\":%zu,\"hits\":%llu,"
                       "\"misses\":%llu,\"evictions\":%llu,\"invalidations\":%llu,"
                       "\"hit_ratio\":%.4f}",
                       first ? "" : ",", (long long)d->id, d->nentries, d->bytes,
                       (unsigned long long)d->hits, (unsigned long long)d->misses,
                       (unsigned long long)d->evictions, (unsigned long long)d->invalidations,
                       lookups ? (double)d->hits / (double)lookups : 0.0);
            first = false;
        }
    }
    buf_append_str(out, "]}");
    pthread_mutex_unlock(&lock);
}

void rescache_stats(RescacheStats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&lock);
    out->enabled = names_ready && config.memory_bytes > 0;
    out->limit = config.memory_bytes;
    out->entries = nentries;
    out->bytes = total_bytes;
    size_t n = 0;
    for (size_t b = 0; b < DB_BUCKETS; b++)
        for (Db *d = dbs[b]; d; d = d->chain)
            n++;
    out->dbs = n ? xcalloc(n, sizeof(*out->dbs)) : NULL;
    for (size_t b = 0; b < DB_BUCKETS; b++) {
        for (Db *d = dbs[b]; d; d = d->chain) {
            RescacheDbStats *o = &out->dbs[out->ndbs++];
            o->id = d->id;
            o->entries = d->nentries;
            o->bytes = d->bytes;
            o->hits = d->hits;
            o->misses = d->misses;
            o->evictions = d->evictions;
            o->invalidations = d->invalidations;
        }
    }
    pthread_mutex_unlock(&lock);
}

void rescache_reset(void)
{
    pthread_mutex_lock(&lock);
    while (lru_head)
        entry_unlink(lru_head);
    for (size_t b = 0; b < DB_BUCKETS; b++) {
        while (dbs[b]) {
            Db *d = dbs[b];
            dbs[b] = d->chain;
            free(d);
        }
    }
    free(table);
    table = NULL;
    table_size = 0;
    pthread_mutex_unlock(&lock);
}
