/*
 * decfmt: integers written in decimal into a caller's buffer, for the hot
 * paths that encode result values (json.c for the line protocol, pgwire.c
 * for PostgreSQL's text format and COPY). Header-only and inline: each call
 * sits inside a per-value loop where a function call would cost as much as
 * the digits.
 *
 * Two digits per division step, and 128-bit values split into 64-bit parts
 * (a 128-bit division by 10 is a library call, ~10x a 64-bit one).
 * Every function writes at `w`, which must have room for the longest form
 * (20 bytes for 64 bits, 40 for 128 with the sign), and returns the end.
 * No NUL is written.
 */
#ifndef TCPDUCKDB_DECFMT_H
#define TCPDUCKDB_DECFMT_H

#include <stdint.h>
#include <string.h>

static const char DECFMT_PAIRS[] = "00010203040506070809"
                                   "10111213141516171819"
                                   "20212223242526272829"
                                   "30313233343536373839"
                                   "40414243444546474849"
                                   "50515253545556575859"
                                   "60616263646566676869"
                                   "70717273747576777879"
                                   "80818283848586878889"
                                   "90919293949596979899";

/* v in decimal, at most 20 bytes. */
static inline char *decfmt_u64(char *w, uint64_t v)
{
    char tmp[20];
    char *p = tmp + sizeof(tmp);
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, DECFMT_PAIRS + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, DECFMT_PAIRS + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(w, p, n);
    return w + n;
}

/* v in decimal with a leading '-' when negative, at most 20 bytes. */
static inline char *decfmt_i64(char *w, int64_t v)
{
    if (v < 0) {
        *w++ = '-';
        return decfmt_u64(w, 0 - (uint64_t)v);
    }
    return decfmt_u64(w, (uint64_t)v);
}

/* Exactly `width` digits of v (v < 10^width), zero-padded. */
static inline char *decfmt_padded(char *w, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        w[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return w + width;
}

/* v < 100 as exactly two digits. */
static inline char *decfmt_2digits(char *w, unsigned v)
{
    memcpy(w, DECFMT_PAIRS + 2 * v, 2);
    return w + 2;
}

#define DECFMT_TEN19 10000000000000000000ULL

/* v in decimal, at most 39 bytes. */
static inline char *decfmt_u128(char *w, unsigned __int128 v)
{
    if (v <= UINT64_MAX)
        return decfmt_u64(w, (uint64_t)v);
    uint64_t low = (uint64_t)(v % DECFMT_TEN19);
    v /= DECFMT_TEN19;
    if (v <= UINT64_MAX) {
        w = decfmt_u64(w, (uint64_t)v);
    } else {
        uint64_t mid = (uint64_t)(v % DECFMT_TEN19);
        w = decfmt_u64(w, (uint64_t)(v / DECFMT_TEN19));
        w = decfmt_padded(w, mid, 19);
    }
    return decfmt_padded(w, low, 19);
}

/* v in decimal with a leading '-' when negative, at most 40 bytes. */
static inline char *decfmt_i128(char *w, __int128 v)
{
    if (v < 0) {
        *w++ = '-';
        return decfmt_u128(w, 0 - (unsigned __int128)v);
    }
    return decfmt_u128(w, (unsigned __int128)v);
}

#endif
