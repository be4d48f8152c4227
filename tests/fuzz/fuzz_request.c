/*
 * fuzz_request: request framing and word splitting (src/request.c).
 *
 * The input is a byte stream a client might send. It is fed to one
 * RequestReader in chunks whose sizes come from the input's first byte, so
 * requests are cut at every possible place; each request is split into
 * words. Checks the contracts of request.h: a text never exceeds the limit,
 * never holds a NUL byte, and the reader never keeps more than one partial
 * request plus its length line. When the first byte's high bit is set, the
 * client falls silent after every chunk (drop-in framing, request_silence()).
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "request.h"

#define MAX_REQUEST 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)(data[0] % 17) + 1;
    bool silences = data[0] & 0x80;
    data++;
    size--;
    RequestReader r = {0};
    RequestFraming framing = REQUEST_FRAMING_UNKNOWN;
    size_t off = 0;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        char *space = request_space(&r, n);
        memcpy(space, data + off, n);
        request_commit(&r, n);
        off += n;
        for (bool silent = false;; silent = false) {
            char *text = NULL;
            size_t len = 0;
            RequestStatus st = request_next(&r, MAX_REQUEST, &text, &len);
            if (st == REQUEST_NONE && silences && request_awaits_silence(&r)) {
                st = request_silence(&r, MAX_REQUEST, &text, &len);
                silent = true;
            }
            /* The framing is chosen once. */
            assert(framing == REQUEST_FRAMING_UNKNOWN || r.framing == framing);
            framing = r.framing;
            if (st == REQUEST_NONE)
                break;
            if (st != REQUEST_OK) {
                assert(text == NULL && len == 0);
                continue;
            }
            assert(len <= MAX_REQUEST);
            assert(strlen(text) == len);
            RequestWords w;
            if (request_split(text, &w) == 0)
                assert(w.n >= 0 && w.n <= REQUEST_MAX_WORDS);
            else
                assert(w.n == 0);
            if (silent)
                break; /* one request per silence */
        }
        /* One partial request (its length line included) at most. */
        assert(request_pending(&r) <= MAX_REQUEST + 24);
    }
    request_reader_free(&r);
    return 0;
}
