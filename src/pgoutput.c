/*
 * pgoutput: logical replication messages (protocol 2) and their envelope.
 * See pgoutput.h; the formats are PostgreSQL 15's proto.c and walsender.c.
 */
#include "pgoutput.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgvalue.h"
#include "xalloc.h"

/* A cursor over one message: every read checks the bytes left first. */
typedef struct Cur {
    const unsigned char *p, *end;
    bool bad;
} Cur;

static bool need(Cur *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        return false;
    }
    return true;
}

static uint8_t rd8(Cur *c)
{
    if (!need(c, 1))
        return 0;
    return *c->p++;
}

static uint16_t rd16(Cur *c)
{
    if (!need(c, 2))
        return 0;
    uint16_t v = pgvalue_rd16(c->p);
    c->p += 2;
    return v;
}

static uint32_t rd32(Cur *c)
{
    if (!need(c, 4))
        return 0;
    uint32_t v = pgvalue_rd32(c->p);
    c->p += 4;
    return v;
}

static uint64_t rd64(Cur *c)
{
    if (!need(c, 8))
        return 0;
    uint64_t v = pgvalue_rd64(c->p);
    c->p += 8;
    return v;
}

/* A NUL-terminated string inside the message, borrowed. */
static const char *rdstr(Cur *c)
{
    if (c->bad)
        return "";
    const unsigned char *z = memchr(c->p, 0, (size_t)(c->end - c->p));
    if (!z) {
        c->bad = true;
        return "";
    }
    const char *s = (const char *)c->p;
    c->p = z + 1;
    return s;
}

/* TupleData into the decoder's values, from offset `at` of its array. */
static int rd_tuple(PgoutputDecoder *d, Cur *c, int at, PgoutputTuple *t)
{
    int n = (int16_t)rd16(c);
    if (c->bad || n < 0 || n > c->end - c->p) /* each column takes at least its kind byte */
        return -1;
    if (at + n > d->vals_cap) {
        d->vals_cap = at + n + 16;
        d->vals = xrealloc(d->vals, (size_t)d->vals_cap * sizeof(*d->vals));
    }
    for (int i = 0; i < n; i++) {
        PgoutputValue *v = &d->vals[at + i];
        *v = (PgoutputValue){.kind = (char)rd8(c)};
        if (v->kind == 't' || v->kind == 'b') {
            uint32_t len = rd32(c);
            if (c->bad || len > (uint32_t)(c->end - c->p) || len > INT32_MAX)
                return -1;
            v->len = (int32_t)len;
            v->p = c->p;
            c->p += len;
        } else if (v->kind != 'n' && v->kind != 'u') {
            return -1;
        }
    }
    if (c->bad)
        return -1;
    t->ncols = n;
    /* The pointer is set once both tuples are read: the array may move. */
    t->cols = (PgoutputValue *)(intptr_t)at;
    return 0;
}

static void fix_tuple(PgoutputDecoder *d, PgoutputTuple *t)
{
    t->cols = t->ncols ? d->vals + (intptr_t)t->cols : NULL;
}

static int failf(PgoutputDecoder *d, const char *what, char tag)
{
    if (tag >= 0x20 && tag < 0x7f)
        snprintf(d->err, sizeof(d->err), "logical replication: %s message '%c'", what, tag);
    else
        snprintf(d->err, sizeof(d->err), "logical replication: %s message 0x%02x", what,
                 (unsigned char)tag);
    return -1;
}

int pgoutput_decode(PgoutputDecoder *d, const unsigned char *p, size_t len, PgoutputMsg *out)
{
    Cur c = {.p = p, .end = p + len};
    *out = (PgoutputMsg){0};
    d->err[0] = '\0';
    char tag = (char)rd8(&c);
    if (c.bad)
        return failf(d, "an empty", ' ');
    out->kind = (PgoutputKind)tag;
    /* Inside a streamed block, the data messages carry their transaction's xid. */
    bool xid_first = d->in_stream && (tag == 'R' || tag == 'Y' || tag == 'I' || tag == 'U' ||
                                      tag == 'D' || tag == 'T' || tag == 'M');
    if (xid_first) {
        out->xid = rd32(&c);
        out->has_xid = true;
    }
    switch (tag) {
    case 'B':
        out->lsn = rd64(&c);
        out->timestamp = (int64_t)rd64(&c);
        out->xid = rd32(&c);
        out->has_xid = true;
        break;
    case 'C':
        (void)rd8(&c); /* flags, unused */
        out->lsn = rd64(&c);
        out->end_lsn = rd64(&c);
        out->timestamp = (int64_t)rd64(&c);
        break;
    case 'O':
        out->lsn = rd64(&c);
        out->relname = rdstr(&c);
        break;
    case 'R': {
        out->relid = rd32(&c);
        out->nspname = rdstr(&c);
        out->relname = rdstr(&c);
        out->replident = (char)rd8(&c);
        int n = (int16_t)rd16(&c);
        /* A column takes at least 10 bytes: flags, an empty name, oid, typmod. */
        if (c.bad || n < 0 || n > (c.end - c.p) / 10)
            return failf(d, "a malformed", tag);
        if (n > d->rcols_cap) {
            d->rcols_cap = n + 16;
            d->rcols = xrealloc(d->rcols, (size_t)d->rcols_cap * sizeof(*d->rcols));
        }
        for (int i = 0; i < n; i++) {
            PgoutputColumn *col = &d->rcols[i];
            col->key = (rd8(&c) & 1) != 0;
            col->name = rdstr(&c);
            col->type_oid = rd32(&c);
            col->typmod = (int32_t)rd32(&c);
        }
        out->ncols = n;
        out->cols = n ? d->rcols : NULL;
        break;
    }
    case 'Y':
        out->relid = rd32(&c); /* the type's oid */
        out->nspname = rdstr(&c);
        out->relname = rdstr(&c);
        break;
    case 'I':
        out->relid = rd32(&c);
        if (rd8(&c) != 'N' || rd_tuple(d, &c, 0, &out->new_) != 0)
            return failf(d, "a malformed", tag);
        fix_tuple(d, &out->new_);
        break;
    case 'U': {
        out->relid = rd32(&c);
        char k = (char)rd8(&c);
        int at = 0;
        if (k == 'K' || k == 'O') {
            out->old_kind = k;
            if (rd_tuple(d, &c, 0, &out->old) != 0)
                return failf(d, "a malformed", tag);
            at = out->old.ncols;
            k = (char)rd8(&c);
        }
        if (k != 'N' || rd_tuple(d, &c, at, &out->new_) != 0)
            return failf(d, "a malformed", tag);
        fix_tuple(d, &out->old);
        fix_tuple(d, &out->new_);
        break;
    }
    case 'D': {
        out->relid = rd32(&c);
        char k = (char)rd8(&c);
        if ((k != 'K' && k != 'O') || rd_tuple(d, &c, 0, &out->old) != 0)
            return failf(d, "a malformed", tag);
        out->old_kind = k;
        fix_tuple(d, &out->old);
        break;
    }
    case 'T': {
        uint32_t n = rd32(&c);
        out->truncate_flags = rd8(&c);
        if (c.bad || n > (size_t)(c.end - c.p) / 4)
            return failf(d, "a malformed", tag);
        out->nrelids = (int)n;
        out->relids = c.p;
        c.p += 4 * (size_t)n;
        break;
    }
    case 'M': {
        (void)rd8(&c); /* flags */
        out->lsn = rd64(&c);
        out->relname = rdstr(&c); /* the prefix */
        uint32_t n = rd32(&c);
        if (c.bad || n > (size_t)(c.end - c.p))
            return failf(d, "a malformed", tag);
        out->content = c.p;
        out->content_len = n;
        c.p += n;
        break;
    }
    case 'S':
        if (d->in_stream)
            return failf(d, "a nested", tag);
        out->xid = rd32(&c);
        out->has_xid = true;
        out->first_segment = rd8(&c) == 1;
        if (!c.bad)
            d->in_stream = true;
        break;
    case 'E':
        if (!d->in_stream)
            return failf(d, "an unpaired", tag);
        d->in_stream = false;
        break;
    case 'c':
        out->xid = rd32(&c);
        out->has_xid = true;
        (void)rd8(&c);
        out->lsn = rd64(&c);
        out->end_lsn = rd64(&c);
        out->timestamp = (int64_t)rd64(&c);
        break;
    case 'A':
        out->xid = rd32(&c);
        out->has_xid = true;
        out->subxid = rd32(&c);
        break;
    default:
        return failf(d, "an unknown", tag);
    }
    if (c.bad || c.p != c.end)
        return failf(d, "a malformed", tag);
    return 0;
}

uint32_t pgoutput_relid(const PgoutputMsg *m, int i)
{
    return pgvalue_rd32(m->relids + 4 * (size_t)i);
}

void pgoutput_free(PgoutputDecoder *d)
{
    free(d->vals);
    free(d->rcols);
    d->vals = NULL;
    d->rcols = NULL;
    d->vals_cap = d->rcols_cap = 0;
}

int pgoutput_parse_copydata(const unsigned char *p, size_t len, PgoutputCopyData *out)
{
    Cur c = {.p = p, .end = p + len};
    *out = (PgoutputCopyData){.kind = (char)rd8(&c)};
    if (out->kind == 'w') {
        out->wal_start = rd64(&c);
        out->wal_end = rd64(&c);
        (void)rd64(&c); /* send time */
        if (c.bad)
            return -1;
        out->data = c.p;
        out->data_len = (size_t)(c.end - c.p);
        return 0;
    }
    if (out->kind == 'k') {
        out->wal_end = rd64(&c);
        (void)rd64(&c);
        out->reply = rd8(&c) != 0;
        return c.bad || c.p != c.end ? -1 : 0;
    }
    return -1;
}

static void wr64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

void pgoutput_status_update(unsigned char out[PGOUTPUT_STATUS_LEN], uint64_t write_lsn,
                            uint64_t flush_lsn, uint64_t apply_lsn, int64_t now_pg_us, bool reply)
{
    out[0] = 'r';
    wr64(out + 1, write_lsn);
    wr64(out + 9, flush_lsn);
    wr64(out + 17, apply_lsn);
    wr64(out + 25, (uint64_t)now_pg_us);
    out[33] = reply ? 1 : 0;
}

void pgoutput_lsn_format(uint64_t lsn, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

int pgoutput_lsn_parse(const char *s, uint64_t *out)
{
    unsigned hi = 0, lo = 0;
    int n = 0;
    if (!s || sscanf(s, "%8X/%8X%n", &hi, &lo, &n) != 2 || s[n] != '\0')
        return -1;
    *out = ((uint64_t)hi << 32) | lo;
    return 0;
}
