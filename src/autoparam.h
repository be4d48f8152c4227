/*
 * autoparam: finds the literal constants of a SELECT that can become
 * parameters without changing its answer, so that requests differing only
 * in those constants (`... WHERE id = 17`, `... WHERE id = 42`) share one
 * prepared statement (docs/architecture.md, "Auto-parameterisation").
 *
 * Only the lexer is used (sqllex.h): this module decides on the text alone
 * and fails closed. A literal is taken only where its value can do nothing
 * but be compared: it is the right operand of a comparison (= == <> != < <=
 * > >=) whose left operand is a bare column name (a word or quoted name,
 * dotted or not) standing right after WHERE, AND, OR, NOT, or a parenthesis
 * opened in such a place, and it is followed by nothing that could bind to
 * it (the end, a closing parenthesis, AND, OR, ORDER, GROUP, LIMIT, ...).
 * A literal is a plain decimal integer up to 2^63 - 1 (no sign, fraction,
 * exponent, separator or leading zero) or a plain '...' string. Anything
 * else stays literal: select lists (a literal names its column), LIMIT,
 * OFFSET, ORDER BY and GROUP BY constants, function arguments, negative
 * numbers, decimals, typed literals, BETWEEN, and every text that is not
 * one SELECT, already has parameters, or calls a sequence function. The
 * caller then verifies with DuckDB that each parameter takes its value
 * exactly (query.h, QueryRequest.autoparam) and falls back to the literal
 * text on any doubt.
 *
 * Pure functions over the text, linear in its length; any thread.
 */
#ifndef TCPDUCKDB_AUTOPARAM_H
#define TCPDUCKDB_AUTOPARAM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "params.h"

/* Most literals taken from one text, and the longest text looked at. */
#define AUTOPARAM_MAX_LITERALS 16
#define AUTOPARAM_MAX_SQL 4096

/*
 * A text's shape: the text with $1..$n in place of its literals, and the
 * literals as parameters (PARAM_INT or PARAM_TEXT, in order).
 * `request.sql` points into `text` and `request.params` into `values`; the
 * PARAM_TEXT bytes point into `strings`. Owned by whoever declared it; free
 * with autoparam_shape_free().
 */
typedef struct AutoparamShape {
    Buf text;
    Buf strings;
    Param values[AUTOPARAM_MAX_LITERALS];
    TypedRequest request;
} AutoparamShape;

/*
 * Fills *out (zeroed by the caller) with the shape of `sql` (`len` bytes)
 * and returns true when it has at least one literal to take; otherwise
 * returns false and *out holds nothing to free.
 */
bool autoparam_shape(const char *sql, size_t len, AutoparamShape *out)
    __attribute__((warn_unused_result));

/* Frees what autoparam_shape() filled and zeroes it. Accepts a zeroed shape. */
void autoparam_shape_free(AutoparamShape *sh);

#endif
