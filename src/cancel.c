/*
 * cancel: the registry of cancel keys and the cancel request. See cancel.h
 * for the contract and the lock.
 *
 * The table has a fixed number of buckets indexed by id modulo their
 * count: ids are consecutive, so logged-in sessions spread evenly, and a
 * client cannot aim at a bucket with ids it does not choose.
 */
#include "cancel.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "textnum.h"
#include "watchdog.h"

#define BUCKETS 1024

/* The registry: every registered CancelKey by id, and the last id given. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static CancelKey *buckets[BUCKETS];
static uint64_t last_id;

/* Fills `buf` from the kernel's random source; -1 when it cannot (logged). */
static int random_bytes(unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = getrandom(buf + got, len - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            log_error("getrandom failed: %s", r < 0 ? strerror(errno) : "no bytes");
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

int cancel_register(CancelKey *k)
{
    *k = (CancelKey){0};
    unsigned char key[CANCEL_KEY_BYTES];
    if (random_bytes(key, sizeof(key)) != 0)
        return -1;
    pthread_mutex_lock(&lock);
    k->id = ++last_id;
    memcpy(k->key, key, sizeof(key));
    CancelKey **b = &buckets[k->id % BUCKETS];
    k->next = *b;
    *b = k;
    pthread_mutex_unlock(&lock);
    return 0;
}

void cancel_unregister(CancelKey *k)
{
    if (!k || k->id == 0)
        return;
    pthread_mutex_lock(&lock);
    for (CancelKey **p = &buckets[k->id % BUCKETS]; *p; p = &(*p)->next) {
        if (*p == k) {
            *p = k->next;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    k->id = 0;
    k->next = NULL;
}

void cancel_key_text(const CancelKey *k, char out[CANCEL_KEY_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < CANCEL_KEY_BYTES; i++) {
        out[2 * i] = hex[k->key[i] >> 4];
        out[2 * i + 1] = hex[k->key[i] & 15];
    }
    out[CANCEL_KEY_HEX] = '\0';
}

/* Exactly CANCEL_KEY_HEX hex digits into `out`; -1 otherwise. */
static int parse_key(const char *text, unsigned char out[CANCEL_KEY_BYTES])
{
    if (strlen(text) != CANCEL_KEY_HEX)
        return -1;
    for (size_t i = 0; i < CANCEL_KEY_BYTES; i++) {
        int hi = textnum_hex_digit(text[2 * i]), lo = textnum_hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* Checks `key`'s first `n` bytes against session `id`'s and cancels on a match. */
static CancelResult request_by_id(uint64_t id, const unsigned char *key, size_t n)
{
    bool matched = false;
    pthread_mutex_lock(&lock);
    for (CancelKey *k = buckets[id % BUCKETS]; k; k = k->next) {
        if (k->id == id) {
            volatile unsigned char diff = 0;
            for (size_t i = 0; i < n; i++)
                diff |= k->key[i] ^ key[i];
            matched = diff == 0;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    if (!matched)
        return CANCEL_NO_MATCH;
    /* Unlocked (cancel.h): an id that ended meanwhile runs nothing any more. */
    watchdog_cancel(id);
    return CANCEL_MATCHED;
}

CancelResult cancel_request(const char *id_text, const char *key_text)
{
    unsigned char key[CANCEL_KEY_BYTES];
    uint64_t id = textnum_id(id_text);
    if (id == 0 || parse_key(key_text, key) != 0)
        return CANCEL_MALFORMED;
    return request_by_id(id, key, CANCEL_KEY_BYTES);
}

void cancel_key_pg(const CancelKey *k, uint32_t *out_pid, uint32_t *out_secret)
{
    *out_pid = (uint32_t)k->id;
    *out_secret = (uint32_t)k->key[0] << 24 | (uint32_t)k->key[1] << 16 | (uint32_t)k->key[2] << 8 |
                  k->key[3];
}

CancelResult cancel_request_pg(uint32_t pid, uint32_t secret)
{
    unsigned char key[4] = {(unsigned char)(secret >> 24), (unsigned char)(secret >> 16),
                            (unsigned char)(secret >> 8), (unsigned char)secret};
    if (pid == 0)
        return CANCEL_MALFORMED;
    return request_by_id(pid, key, sizeof(key));
}
