/*
 * nameset: a case-insensitive set of names. See nameset.h.
 *
 * Entries live in an array in order of addition, their names in one Buf;
 * slots hold entry index + 1 (0 is empty), with linear probing, and are at
 * most half full. No state outside the set.
 */
#include "nameset.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static char fold(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool nameset_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (fold(a[i]) != fold(b[i]))
            return false;
    return true;
}

bool nameset_eq_str(const char *a, size_t alen, const char *lit)
{
    return nameset_eq(a, alen, lit, strlen(lit));
}

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)fold(s[i]);
        h *= 16777619u;
    }
    return h;
}

const char *nameset_name(const NameSet *ns, uint32_t i)
{
    return ns->text.data + ns->entries[i].off;
}

long nameset_find(const NameSet *ns, const char *s, size_t len)
{
    if (ns->n == 0)
        return -1;
    uint32_t h = name_hash(s, len);
    for (uint32_t k = h & (ns->nslots - 1);; k = (k + 1) & (ns->nslots - 1)) {
        uint32_t e = ns->slots[k];
        if (e == 0)
            return -1;
        const NameEntry *ent = &ns->entries[e - 1];
        if (ent->hash == h && nameset_eq(nameset_name(ns, e - 1), ent->len, s, len))
            return (long)(e - 1);
    }
}

static void rehash(NameSet *ns, uint32_t nslots)
{
    free(ns->slots);
    ns->slots = xrealloc(NULL, nslots * sizeof(*ns->slots));
    memset(ns->slots, 0, nslots * sizeof(*ns->slots));
    ns->nslots = nslots;
    for (uint32_t i = 0; i < ns->n; i++) {
        uint32_t k = ns->entries[i].hash & (nslots - 1);
        while (ns->slots[k])
            k = (k + 1) & (nslots - 1);
        ns->slots[k] = i + 1;
    }
}

uint32_t nameset_add(NameSet *ns, const char *s, size_t len)
{
    long found = nameset_find(ns, s, len);
    if (found >= 0)
        return (uint32_t)found;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 64;
        ns->entries = xrealloc(ns->entries, ns->cap * sizeof(*ns->entries));
    }
    if ((ns->n + 1) * 2 > ns->nslots)
        rehash(ns, ns->nslots ? ns->nslots * 2 : 128);
    uint32_t i = ns->n++;
    ns->entries[i] = (NameEntry){.off = (uint32_t)ns->text.len,
                                 .len = (uint32_t)len,
                                 .hash = name_hash(s, len),
                                 .aux = UINT32_MAX};
    buf_append(&ns->text, s, len);
    buf_putc(&ns->text, '\0');
    uint32_t k = ns->entries[i].hash & (ns->nslots - 1);
    while (ns->slots[k])
        k = (k + 1) & (ns->nslots - 1);
    ns->slots[k] = i + 1;
    return i;
}

void nameset_free(NameSet *ns)
{
    if (!ns)
        return;
    free(ns->entries);
    free(ns->slots);
    buf_free(&ns->text);
    *ns = (NameSet){0};
}
