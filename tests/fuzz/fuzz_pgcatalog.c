/*
 * Fuzzes what the PostgreSQL catalog emulation reads from a client's query
 * (pgwire_catalog.c, pgwire_catmodel.c): recognising a catalog statement,
 * the literal after a marker, an OID, and LIKE matching. Checks: a literal
 * is never longer than the text it came from, an OID is -1 or digits'
 * value, and a name always matches its own exact LIKE pattern.
 * The input is `name \n pattern \n query` (missing parts empty).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire_catalog.h"
#include "pgwire_catmodel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = strlen(text); /* the parts end at a zero byte */
    char *pattern = strchr(text, '\n');
    char *query = pattern ? strchr(pattern + 1, '\n') : NULL;
    if (pattern)
        *pattern++ = '\0';
    else
        pattern = text + len;
    if (query)
        *query++ = '\0';
    else
        query = pattern + strlen(pattern);

    (void)pgcat_is_catalog_query(query, strlen(query));
    Buf b = BUF_INIT;
    if (catmodel_literal_after(query, "LIKE", &b))
        assert(b.len <= strlen(query));
    long long oid = catmodel_oid_after(query, "oid =");
    assert(oid >= -1);
    (void)catmodel_like_match(text, pattern);
    buf_reset(&b, 0);
    assert(catmodel_like_match(text, catmodel_like_exact(text, &b)));
    buf_free(&b);
    free(text);
    return 0;
}
