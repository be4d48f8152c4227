/*
 * reload: see reload.h for the contract and the publishing rule.
 */
#include "reload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reply.h"
#include "xalloc.h"

/* A Config that was in force and may still be read; freed by reload_free(). */
typedef struct Retired Retired;
struct Retired {
    Config *cfg;
    Retired *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static SessionEnv *live_env;
static TlsServer *live_tls;
static int saved_argc;
static char **saved_argv;
static const char *saved_env_file;
static Retired *retired;      /* under lock */
static Config *owned_current; /* the Config in force if a reload made it, under lock */

void reload_init(SessionEnv *env, TlsServer *tls, int argc, char **argv, const char *env_file)
{
    live_env = env;
    live_tls = tls;
    saved_argc = argc;
    saved_argv = argv;
    saved_env_file = env_file;
}

/* True when `list` (a JSON array of names) holds "name". */
static bool names_hold(const char *list, const char *name)
{
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "\"%s\"", name);
    return strstr(list, quoted) != NULL;
}

void reload_run(Buf *out)
{
    char err[1024] = "";
    char changed[1024], restart[1024];
    Config *loaded = xcalloc(1, sizeof(*loaded));
    Config *next = xcalloc(1, sizeof(*next));
    pthread_mutex_lock(&lock);
    const Config *running = atomic_load(&live_env->cfg);
    ConfigResult r = config_load(loaded, saved_argc, saved_argv, saved_env_file, err, sizeof(err));
    if (r != CONFIG_OK) {
        if (r == CONFIG_EXIT)
            snprintf(err, sizeof(err), "the arguments ask for --help or --version");
        goto refused;
    }
    config_merge_live(running, loaded, next, changed, sizeof(changed), restart, sizeof(restart));
    bool tls_changed = names_hold(changed, "TLSCertFile") || names_hold(changed, "TLSKeyFile") ||
                       names_hold(changed, "TLSCAFile") || names_hold(changed, "TLSMinVersion");
    /* The last step that can fail: after it, nothing refuses the reload. */
    if (tls_changed && tls_server_reload(live_tls, next, err, sizeof(err)) != 0)
        goto refused;
    log_set_level(log_parse_level(next->log_level));
    log_set_json(strcmp(next->log_format, "json") == 0);
    if (strcmp(changed, "[]") == 0) {
        free(next); /* nothing live changed: the Config in force stays */
    } else {
        atomic_store(&live_env->cfg, next);
        if (owned_current) {
            Retired *old = xcalloc(1, sizeof(*old));
            old->cfg = owned_current;
            old->next = retired;
            retired = old;
        }
        owned_current = next;
    }
    pthread_mutex_unlock(&lock);
    log_info("reload: changed %s; changed but in force only after a restart %s%s", changed, restart,
             tls_changed && live_tls ? "; new TLS handshakes use the new certificate" : "");
    buf_printf(out, "{\"changed\":%s,\"restart\":%s}\n", changed, restart);
    free(loaded);
    return;
refused:
    pthread_mutex_unlock(&lock);
    log_warn("reload refused: %s; the configuration in force is unchanged", err);
    reply_config_invalid(out, err);
    free(loaded);
    free(next);
}

void reload_free(void)
{
    pthread_mutex_lock(&lock);
    while (retired) {
        Retired *r = retired;
        retired = r->next;
        free(r->cfg);
        free(r);
    }
    free(owned_current);
    owned_current = NULL;
    pthread_mutex_unlock(&lock);
}
