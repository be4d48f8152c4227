/*
 * pgwire_catnode: postgres.js's array-type query. See pgwire_catnode.h and
 * docs/pgwire.md#catalog. postgres.js 3.4 (src/connection.js,
 * fetchArrayTypes) sends, through the extended protocol:
 *
 *   select b.oid, b.typarray
 *   from pg_catalog.pg_type a
 *   left join pg_catalog.pg_type b on b.oid = a.typelem
 *   where a.typcategory = 'A'
 *   group by b.oid, b.typarray
 *   order by b.oid
 *
 * and registers, for each row, a parser and a serializer of the array type
 * `typarray` built from those of the element type `oid`. The answer is one
 * row per type the front end sends (pgwire_type), with the array OID
 * RowDescription gives a LIST of it. Both columns are of type oid (26), as
 * in PostgreSQL, so postgres.js reads numbers, not strings.
 */
#include "pgwire_catnode.h"

#include <stdio.h>
#include <string.h>

#include "pgwire.h"
#include "pgwire_catmodel.h"

/* Markers quoted from the query; no other query the front end answers has them. */
static const char *const markers[] = {
    "select b.oid, b.typarray",
    "left join pg_catalog.pg_type b on b.oid = a.typelem",
    "where a.typcategory = 'A'",
};

#define OID_TYPE 26

/* The RowDescription of `n` columns `names` of type oid (4 bytes, text format). */
static void oid_row_description(Buf *out, const char *const *names, int n)
{
    size_t m = pgwire_begin(out, 'T');
    pgwire_put_i16(out, (int16_t)n);
    for (int i = 0; i < n; i++) {
        pgwire_put_str(out, names[i]);
        pgwire_put_i32(out, 0); /* no table */
        pgwire_put_i16(out, 0); /* no column number */
        pgwire_put_i32(out, OID_TYPE);
        pgwire_put_i16(out, 4);  /* typlen */
        pgwire_put_i32(out, -1); /* typmod */
        pgwire_put_i16(out, 0);  /* text */
    }
    pgwire_end(out, m);
}

bool catnode_answer(const char *sql, Buf *out, bool *out_ok)
{
    static const char *const names[] = {"oid", "typarray"};
    for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
        if (!strstr(sql, markers[i]))
            return false;
    CatAnswer a = {.out = out, .ncols = 2, .rows = 0};
    oid_row_description(out, names, 2);
    long long oid = 0, array = 0;
    for (size_t i = 0; catmodel_type_at(i, &oid, &array); i++) {
        char elem[24], arr[24];
        snprintf(elem, sizeof(elem), "%lld", oid);
        snprintf(arr, sizeof(arr), "%lld", array);
        const char *row[] = {elem, arr};
        catmodel_row(&a, row);
    }
    catmodel_end(&a);
    *out_ok = true;
    return true;
}
