/*
 * textnum: numbers written as text in the protocol's words: decimal ids
 * (session ids of `cancel`, `terminate`) and hexadecimal digits (cancel
 * keys, blob parameters). One home for these small parsers, which several
 * modules need, so that every command accepts exactly the same spellings.
 */
#ifndef TCPDUCKDB_TEXTNUM_H
#define TCPDUCKDB_TEXTNUM_H

#include <stdint.h>

/* A decimal id from 1 to UINT64_MAX, digits only (no sign, no blanks); 0 when `text` is not one. */
uint64_t textnum_id(const char *text);

/* The value of one hexadecimal digit (either case), or -1. */
int textnum_hex_digit(char ch);

#endif
