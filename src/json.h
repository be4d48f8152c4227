/*
 * json: encodes DuckDB result rows as the protocol's JSON row objects.
 *
 * A query answer is one line: `[` row `,` row ... `]`, each row an object
 * {"column": value, ...} in column order. This module writes the rows; the
 * query module writes the brackets and decides when to flush to the socket.
 * The encoding of every DuckDB type is specified in docs/protocol.md, and
 * the unit test tests/unit/test_json.c holds one case per type.
 *
 * Duplicate column names (SELECT 1 AS a, 2 AS a) would make objects with
 * duplicate keys, which JSON parsers silently collapse; the second and later
 * occurrences are renamed a_1, a_2, ... (skipping names already taken), the
 * rule DuckDB itself uses when it turns such a result into a table
 * (CREATE TABLE AS). Exactly: names are taken left to right and compared
 * ASCII-case-insensitively; a name not seen before is kept; a repeated name
 * N becomes N_k for the smallest k >= 1 (counting on from the last k used
 * for N) such that N_k was not taken by an earlier column. So a, a, a gives
 * a, a_1, a_2; a, a, a_1 gives a, a_1, a_1_1; a, A gives a, A_1. The fields
 * of a STRUCT follow the same rule (an unnamed struct's empty names become
 * "", "_1", ...).
 *
 * A type this module cannot encode (one added by a DuckDB newer than the
 * header, such as GEOMETRY or VARIANT in 1.5) is never silently null: each
 * non-NULL value is the JSON string "<unsupported type NAME>".
 *
 * Thread-safety: a JsonRows belongs to one thread; no global state.
 */
#ifndef TCPDUCKDB_JSON_H
#define TCPDUCKDB_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "duckdb.h"

typedef struct JsonRows JsonRows;

/*
 * Prepares to encode the rows of `result` (borrowed; must outlive the
 * JsonRows): reads column names and types once. Returns NULL only if the
 * result has an unusable shape (never for a successful query result).
 * Free with json_rows_free().
 */
JsonRows *json_rows_new(duckdb_result *result);

/*
 * Appends every row of `chunk` to `out` as JSON objects. A comma is written
 * before each row except the very first row this JsonRows has written, so
 * calling it for each chunk of a result produces a valid array body.
 * Returns the number of rows appended.
 */
size_t json_rows_append_chunk(JsonRows *jr, duckdb_data_chunk chunk, Buf *out);

/*
 * As json_rows_new(), but each row is written as an array of its values in
 * column order (the typed answer form of docs/protocol.md), so duplicate
 * column names need no renaming.
 */
JsonRows *json_rows_new_arrays(duckdb_result *result);

/* Accepts NULL. */
void json_rows_free(JsonRows *jr);

/*
 * Appends the SQL name of `type` as a JSON string: "INTEGER",
 * "DECIMAL(18,3)", "VARCHAR[]", "INTEGER[3]", "STRUCT(\"a\" INTEGER)",
 * "MAP(VARCHAR, INTEGER)", ... (`type` is borrowed).
 */
void json_append_type(Buf *out, duckdb_logical_type type);

/*
 * Appends `s` (n bytes) as a quoted JSON string: `"` and `\` escaped, control
 * characters as \n, \t, ... or \u00XX, and bytes that are not valid UTF-8
 * replaced by U+FFFD, so the output is always valid JSON and never contains
 * a raw newline.
 */
void json_append_string(Buf *out, const char *s, size_t n);

#endif
