/*
 * userlimits: names, defaults and ranges of the per-user limits. See limits.h.
 */
#include "userlimits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "memstat.h"

typedef struct LimitDef {
    const char *name;
    int64_t min, max;
} LimitDef;

/* Ranges as the Config settings they override (config.c). */
static const LimitDef defs[USERLIMIT_COUNT] = {
    [USERLIMIT_STATEMENT_TIMEOUT] = {"statement_timeout", 0, 31536000},
    [USERLIMIT_IDLE_IN_TX_TIMEOUT] = {"idle_in_transaction_timeout", 0, 31536000},
    [USERLIMIT_MAX_STATEMENTS] = {"max_statements", 1, 1000000},
    [USERLIMIT_STATEMENT_MEMORY] = {"statement_memory", 1024 * 1024, INT64_MAX},
};

void userlimits_defaults(UserLimits *out, const Config *cfg)
{
    *out = (UserLimits){0};
    out->value[USERLIMIT_STATEMENT_TIMEOUT] = cfg->statement_timeout_sec;
    out->value[USERLIMIT_IDLE_IN_TX_TIMEOUT] = cfg->idle_in_tx_timeout_sec;
    out->value[USERLIMIT_MAX_STATEMENTS] = cfg->max_user_statements;
    out->value[USERLIMIT_STATEMENT_MEMORY] = cfg->statement_memory_limit_bytes;
}

int userlimits_find(const char *name)
{
    for (int i = 0; i < USERLIMIT_COUNT; i++)
        if (strcasecmp(name, defs[i].name) == 0)
            return i;
    return -1;
}

const char *userlimits_name(UserLimitId id)
{
    return defs[id].name;
}

bool userlimits_parse(UserLimitId id, const char *text, int64_t *out, char *why, size_t whylen)
{
    const LimitDef *d = &defs[id];
    if (id == USERLIMIT_STATEMENT_MEMORY) {
        int64_t bytes = 0;
        if (strchr(text, '%') || !memstat_parse_size(text, 0, &bytes) || bytes < d->min) {
            snprintf(why, whylen, "%s is a size of 1MB or more, such as 512MB or 2GB", d->name);
            return false;
        }
        *out = bytes;
        return true;
    }
    char *end = NULL;
    errno = 0;
    long long v = text[0] >= '0' && text[0] <= '9' ? strtoll(text, &end, 10) : -1;
    if (v < d->min || v > d->max || errno != 0 || !end || *end != '\0') {
        snprintf(why, whylen, "%s is an integer from %lld to %lld", d->name, (long long)d->min,
                 (long long)d->max);
        return false;
    }
    *out = v;
    return true;
}

const char *userlimits_names(void)
{
    return "statement_timeout, idle_in_transaction_timeout, max_statements, statement_memory";
}
