/*
 * inproc_json: the in-process ceiling for large results. Runs one query
 * inside DuckDB (an in-memory database) with the streaming API, exactly as
 * the server's query module does (duckdb_execute_prepared_streaming, then
 * duckdb_fetch_chunk), and encodes every chunk with the server's own json.c
 * in the typed answer's row form into one reused buffer, emptied every
 * QUERY_FLUSH_BYTES as the server empties its buffer into the socket. The
 * bytes are those of the server's typed answer (header, rows, closing). No
 * network, no client: what the server could do at best on one connection.
 *
 * Usage: inproc_json "SELECT ..." [THREADS]   (THREADS: DuckDB's `threads`, 0 = default)
 * Prints one line of JSON (rows, bytes, seconds, rows/s, MB/s, CPU seconds);
 * exits 1 on any DuckDB error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "duckdb.h"
#include "json.h"
#include "query.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: inproc_json SQL [THREADS]\n");
        return 2;
    }
    int ret = 1;
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    duckdb_config config = NULL;
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool have_res = false;
    JsonRows *jr = NULL;
    Buf out = BUF_INIT;
    char *err = NULL;

    if (duckdb_create_config(&config) != DuckDBSuccess)
        goto out;
    if (argc > 2 && atoi(argv[2]) > 0 &&
        duckdb_set_config(config, "threads", argv[2]) != DuckDBSuccess)
        goto out;
    if (duckdb_open_ext(NULL, &db, config, &err) != DuckDBSuccess) {
        fprintf(stderr, "inproc_json: %s\n", err ? err : "cannot open DuckDB");
        goto out;
    }
    if (duckdb_connect(db, &con) != DuckDBSuccess)
        goto out;

    double cpu0 = cpu_s(), t0 = now_s();
    if (duckdb_prepare(con, argv[1], &prep) != DuckDBSuccess) {
        fprintf(stderr, "inproc_json: %s\n", duckdb_prepare_error(prep));
        goto out;
    }
    if (duckdb_execute_prepared_streaming(prep, &res) != DuckDBSuccess) {
        fprintf(stderr, "inproc_json: %s\n", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto out;
    }
    have_res = true;
    jr = json_rows_new_arrays(&res);
    if (!jr) {
        fprintf(stderr, "inproc_json: cannot encode this result\n");
        goto out;
    }
    /* The typed answer's header, as the server writes it, so the byte counts match. */
    buf_append_str(&out, "{\"columns\":[");
    for (idx_t c = 0; c < duckdb_column_count(&res); c++) {
        const char *name = duckdb_column_name(&res, c);
        buf_append_str(&out, c ? ",{\"name\":" : "{\"name\":");
        json_append_string(&out, name ? name : "", name ? strlen(name) : 0);
        buf_append_str(&out, ",\"type\":");
        duckdb_logical_type type = duckdb_column_logical_type(&res, c);
        json_append_type(&out, type);
        duckdb_destroy_logical_type(&type);
        buf_putc(&out, '}');
    }
    buf_append_str(&out, "],\"rows\":[");
    long long rows = 0, bytes = 0;
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        if (!chunk)
            break;
        rows += (long long)json_rows_append_chunk(jr, chunk, &out);
        duckdb_destroy_data_chunk(&chunk);
        if (out.len >= QUERY_FLUSH_BYTES) {
            bytes += (long long)out.len;
            buf_reset(&out, 4 * QUERY_FLUSH_BYTES);
        }
    }
    if (duckdb_result_error(&res)) {
        fprintf(stderr, "inproc_json: %s\n", duckdb_result_error(&res));
        goto out;
    }
    buf_append(&out, "]}\n", 3);
    bytes += (long long)out.len;
    double wall = now_s() - t0, cpu = cpu_s() - cpu0;
    printf("{\"rows\":%lld,\"bytes\":%lld,\"seconds\":%.3f,\"rows_per_s\":%.0f,"
           "\"mb_per_s\":%.1f,\"cpu_s\":%.3f}\n",
           rows, bytes, wall, (double)rows / wall, (double)bytes / wall / 1e6, cpu);
    ret = 0;
out:
    json_rows_free(jr);
    buf_free(&out);
    if (have_res)
        duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&prep);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    duckdb_destroy_config(&config);
    duckdb_free(err);
    return ret;
}
