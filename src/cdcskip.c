/*
 * cdcskip: the per-table resync positions. See cdcskip.h and docs/cdc.md.
 */
#include "cdcskip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgload.h"
#include "xalloc.h"

int cdcskip_read(PgJob *pg, duckdb_connection con, CdcSkips *out)
{
    duckdb_result res;
    *out = (CdcSkips){0};
    if (duckdb_query(con,
                     "SELECT count(*) FROM duckdb_tables() WHERE table_name = '" CDCSKIP_TABLE
                     "' AND schema_name = current_schema()",
                     &res) != DuckDBSuccess) {
        pgjob_fail(pg, "%s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return -1;
    }
    int64_t exists = duckdb_value_int64(&res, 0, 0);
    duckdb_destroy_result(&res);
    if (!exists)
        return 0;
    if (duckdb_query(con, "SELECT table_name, below_lsn FROM " CDCSKIP_TABLE, &res) !=
        DuckDBSuccess) {
        pgjob_fail(pg, "%s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return -1;
    }
    idx_t n = duckdb_row_count(&res);
    out->table = xcalloc(n ? n : 1, sizeof(*out->table));
    out->below = xcalloc(n ? n : 1, sizeof(*out->below));
    for (idx_t i = 0; i < n; i++) {
        char *t = duckdb_value_varchar(&res, 0, i);
        out->table[out->n] = xstrdup(t ? t : "");
        duckdb_free(t);
        out->below[out->n++] = (uint64_t)duckdb_value_int64(&res, 1, i);
    }
    duckdb_destroy_result(&res);
    return 0;
}

uint64_t cdcskip_below(const CdcSkips *s, const char *table)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->table[i], table) == 0)
            return s->below[i];
    return 0;
}

void cdcskip_free(CdcSkips *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->table[i]);
    free(s->table);
    free(s->below);
    *s = (CdcSkips){0};
}

int cdcskip_set(PgJob *pg, duckdb_connection con, const char *table, uint64_t below)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    int rc = -1;
    if (pgload_exec(pg, con,
                    "CREATE TABLE IF NOT EXISTS " CDCSKIP_TABLE
                    " (table_name VARCHAR NOT NULL, below_lsn BIGINT NOT NULL)") != 0)
        return -1;
    const char *sqls[2] = {"DELETE FROM " CDCSKIP_TABLE " WHERE table_name = $1",
                           "INSERT INTO " CDCSKIP_TABLE " VALUES ($1, $2)"};
    for (int s = 0; s < 2; s++) {
        if (duckdb_prepare(con, sqls[s], &prep) != DuckDBSuccess) {
            pgjob_fail(pg, "%s", duckdb_prepare_error(prep));
            goto out;
        }
        duckdb_bind_varchar(prep, 1, table);
        if (s == 1)
            duckdb_bind_int64(prep, 2, (int64_t)below);
        if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
            pgjob_fail(pg, "%s", duckdb_result_error(&res));
            duckdb_destroy_result(&res);
            goto out;
        }
        duckdb_destroy_result(&res);
        duckdb_destroy_prepare(&prep);
    }
    rc = 0;
out:
    duckdb_destroy_prepare(&prep);
    return rc;
}

int cdcskip_prune(PgJob *pg, duckdb_connection con, uint64_t applied)
{
    char sql[160];
    if (applied == UINT64_MAX)
        snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS " CDCSKIP_TABLE);
    else
        snprintf(sql, sizeof(sql), "DELETE FROM " CDCSKIP_TABLE " WHERE below_lsn <= %lld",
                 (long long)applied);
    return pgload_exec(pg, con, sql);
}

int cdcskip_drop(PgJob *pg, duckdb_connection con)
{
    return pgload_exec(pg, con, "DROP TABLE IF EXISTS " CDCSKIP_TABLE);
}
