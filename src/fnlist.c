/*
 * fnlist: the shared list of built-in names DuckDB's metadata does not
 * classify. See fnlist.h; the reasons for each name are next to it.
 */
#include "fnlist.h"

#include <string.h>
#include <strings.h>

static const FnlistEntry entries[] = {
    /* Rows from arguments alone. range/generate_series(start, stop, step) over numbers or
     * timestamps; unnest(list); repeat(value, n); repeat_row(values..., num_rows);
     * json_each/json_tree(json [, path]). */
    {"range", FNLIST_PURE_TABLE},
    {"generate_series", FNLIST_PURE_TABLE},
    {"unnest", FNLIST_PURE_TABLE},
    {"repeat", FNLIST_PURE_TABLE},
    {"repeat_row", FNLIST_PURE_TABLE},
    {"json_each", FNLIST_PURE_TABLE},
    {"json_tree", FNLIST_PURE_TABLE},
    /* Settings (SET), variables (SET VARIABLE), sequences (not granted objects), the secret
     * manager, another statement's plan. */
    {"current_setting", FNLIST_CONNECTION_STATE},
    {"getvariable", FNLIST_CONNECTION_STATE},
    {"currval", FNLIST_CONNECTION_STATE},
    {"nextval", FNLIST_CONNECTION_STATE | FNLIST_CHANGES_DATABASE},
    {"setval", FNLIST_CONNECTION_STATE | FNLIST_CHANGES_DATABASE},
    {"which_secret", FNLIST_CONNECTION_STATE},
    {"json_serialize_plan", FNLIST_CONNECTION_STATE},
    {"write_log", FNLIST_SIDE_EFFECT},
    /* A crafted tree raises an INTERNAL error, after which DuckDB 1.5.6 invalidates the
     * database for every session. */
    {"json_deserialize_sql", FNLIST_STATEMENT_INPUT},
    {"json_execute_serialized_sql", FNLIST_STATEMENT_INPUT},
    /* SQL value keywords: the moment or the session. */
    {"current_date", FNLIST_VALUE_KEYWORD},
    {"current_time", FNLIST_VALUE_KEYWORD},
    {"current_timestamp", FNLIST_VALUE_KEYWORD},
    {"localtime", FNLIST_VALUE_KEYWORD},
    {"localtimestamp", FNLIST_VALUE_KEYWORD},
    {"current_user", FNLIST_VALUE_KEYWORD},
    {"session_user", FNLIST_VALUE_KEYWORD},
    {"user", FNLIST_VALUE_KEYWORD},
    {"current_role", FNLIST_VALUE_KEYWORD},
    {"current_catalog", FNLIST_VALUE_KEYWORD},
    {"current_schema", FNLIST_VALUE_KEYWORD},
    {"current_database", FNLIST_VALUE_KEYWORD},
};

const FnlistEntry *fnlist_entries(size_t *out_n)
{
    *out_n = sizeof(entries) / sizeof(entries[0]);
    return entries;
}

unsigned fnlist_flags(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
        if (strlen(entries[i].name) == len && strncasecmp(entries[i].name, name, len) == 0)
            return entries[i].flags;
    return 0;
}
