/*
 * nameset: a set of names compared as DuckDB compares identifiers, ASCII
 * letters case-insensitively, each with flags and one number for its user
 * (an open-addressing hash table over one text buffer). The first spelling
 * added is the one kept. Lookups are O(length of the name).
 *
 * A set belongs to its user: no locking. A set that is no longer changed
 * may be read by any number of threads at once (authz's cache of DuckDB's
 * built-in names is such a set).
 */
#ifndef TCPDUCKDB_NAMESET_H
#define TCPDUCKDB_NAMESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* One name of a set. */
typedef struct NameEntry {
    uint32_t off, len; /* the name as first added, in NameSet.text */
    uint32_t hash;
    uint32_t flags;
    uint32_t aux;
} NameEntry;

/* A set; zero-initialise it (NAMESET_INIT), free it with nameset_free(). */
typedef struct NameSet {
    NameEntry *entries;
    uint32_t n, cap;
    uint32_t *slots; /* entry index + 1; 0 is empty */
    uint32_t nslots; /* a power of two, at least twice n */
    Buf text;
} NameSet;

#define NAMESET_INIT                                                                               \
    {                                                                                              \
        0                                                                                          \
    }

/* Whether names a and b are equal as DuckDB compares identifiers. */
bool nameset_eq(const char *a, size_t alen, const char *b, size_t blen);

/* nameset_eq() with a NUL-terminated `lit`. */
bool nameset_eq_str(const char *a, size_t alen, const char *lit);

/* The name of entry i (i < ns->n), NUL-terminated, as first added; valid until the next add. */
const char *nameset_name(const NameSet *ns, uint32_t i);

/* The index of `s`, or -1. */
long nameset_find(const NameSet *ns, const char *s, size_t len);

/* The index of `s`, adding it (flags 0, aux UINT32_MAX) if absent. Aborts when out of memory. */
uint32_t nameset_add(NameSet *ns, const char *s, size_t len);

/* Frees the set's memory; it is then empty and reusable. Accepts NULL. */
void nameset_free(NameSet *ns);

#endif
