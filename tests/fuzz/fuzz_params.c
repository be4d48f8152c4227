/*
 * fuzz_params: the typed request's JSON (src/params.c), the text a client
 * sends after "query ". Any input must give either a parsed request or a
 * one-line reason, and params_free() must release everything (LeakSanitizer
 * checks it at exit).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    TypedRequest req;
    char err[256];
    err[0] = '\0';
    int rc = params_parse((const char *)data, size, &req, err, sizeof(err));
    if (rc != 0) {
        assert(err[0] != '\0');
        assert(strchr(err, '\n') == NULL);
    }
    params_free(&req);
    return 0;
}
