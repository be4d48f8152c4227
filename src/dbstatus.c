/*
 * dbstatus: per-database state for the admin page. See dbstatus.h.
 */
#include "dbstatus.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cdc.h"
#include "json.h"
#include "log.h"
#include "sessions.h"

/* catalog_list's callback: collects the names, NUL-separated (the catalog is locked meanwhile). */
static void name_row(void *ctx, const char *const *cols, int ncols)
{
    if (ncols >= 1 && cols[0])
        buf_append((Buf *)ctx, cols[0], strlen(cols[0]) + 1);
}

static const char *json_bool(bool b)
{
    return b ? "true" : "false";
}

void dbstatus_json(Catalog *catalog, Pool *pool, Buf *out)
{
    Buf names = BUF_INIT;
    size_t nsessions = 0;
    SessionsRow *sessions = sessions_snapshot(&nsessions);
    size_t nstreams = 0;
    CdcStreamInfo *streams = cdc_snapshot(&nstreams);
    if (catalog_list(catalog, CATALOG_LIST_DATABASES, 0, name_row, &names) != CATALOG_OK)
        log_error("admin: cannot list the databases");
    buf_putc(out, '{');
    bool first = true;
    for (size_t off = 0; off < names.len; off += strlen(names.data + off) + 1) {
        const char *name = names.data + off;
        int64_t id = 0;
        if (catalog_database_find(catalog, name, &id) != CATALOG_OK)
            continue; /* dropped meanwhile */
        PoolDbState st;
        pool_db_state(pool, id, &st);
        int connected = 0;
        for (size_t i = 0; i < nsessions; i++)
            connected += strcmp(sessions[i].database, name) == 0;
        unsigned char *blob = NULL;
        size_t blob_len = 0;
        bool linked = catalog_pglink_get(catalog, id, &blob, &blob_len) == CATALOG_OK;
        free(blob);
        const CdcStreamInfo *cdc = NULL;
        for (size_t i = 0; i < nstreams && linked; i++)
            if (streams[i].db_id == id)
                cdc = &streams[i];
        buf_append_str(out, first ? "" : ",");
        first = false;
        json_append_string(out, name, strlen(name));
        buf_printf(out,
                   ":{\"bytes\":%lld,\"open\":%s,\"pins\":%d,\"sessions\":%d,\"linked\":%s,"
                   "\"link_busy\":%s,\"link_mode\":%s,\"cdc\":",
                   (long long)pool_file_bytes(pool, id), json_bool(st.open), st.pins, connected,
                   json_bool(linked), json_bool(st.link_busy),
                   !linked ? "null"
                   : cdc   ? "\"cdc\""
                           : "\"audit\"");
        if (cdc)
            buf_printf(out, "{\"state\":\"%s\",\"lag_bytes\":%" PRIu64 ",\"changes\":%" PRId64 "}}",
                       cdc->state, cdc->lag_bytes, cdc->changes);
        else
            buf_append_str(out, "null}");
    }
    buf_putc(out, '}');
    free(sessions);
    free(streams);
    buf_free(&names);
}
