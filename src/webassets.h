/*
 * webassets: the admin page's static files (web/), embedded in the binary
 * at build time (scripts/embed-web.sh writes build/gen/web_assets.c), so
 * the page needs no file on disk, no CDN and nothing downloaded.
 */
#ifndef TCPDUCKDB_WEBASSETS_H
#define TCPDUCKDB_WEBASSETS_H

#include <stddef.h>

typedef struct WebAsset {
    const char *path; /* "/index.html" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
} WebAsset;

/* Ends with an entry whose path is NULL. */
extern const WebAsset web_assets[];

#endif
