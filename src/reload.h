/*
 * reload: `reload` (super user) and SIGHUP: re-reads the settings from the
 * same sources as at start-up (the flags, the environment, the .env file)
 * and puts the ones that can change live into force (docs/operations.md,
 * "Reload"): limits and timeouts, the log level and format, and the TLS
 * certificate, key, CA file and minimum version (new handshakes use the
 * new context; connections keep theirs). The others keep their running
 * value and are reported as needing a restart. A setting that does not
 * load (a bad value, an unreadable .env, a TLS file that does not work)
 * refuses the whole reload: nothing changes, and the answer and the log
 * say why.
 *
 * Publishing. The configuration in force is SessionEnv.cfg, an atomic
 * pointer that every thread reads where it needs a setting. A reload
 * builds a complete new Config, then stores the pointer (release; a
 * reader's load is acquire), so a reader sees either the old Config or
 * the new one, each whole and never changed in place. Readers do not
 * announce when they are done with a Config, so an old one is never freed
 * while the server runs (the RCU rule without a grace period): it is kept
 * on a list and freed by reload_free() after the server has stopped. A
 * reload that changes nothing live keeps no copy; one that does costs
 * sizeof(Config) (about 12 KB) until exit.
 *
 * One reload runs at a time (a mutex private to reload.c); the I/O thread
 * (SIGHUP) and workers (`reload`) may ask at once.
 */
#ifndef TCPDUCKDB_RELOAD_H
#define TCPDUCKDB_RELOAD_H

#include "buf.h"
#include "session.h"
#include "tls.h"

/*
 * Remembers what a reload needs: the environment whose `cfg` it replaces
 * (borrowed until reload_free()), the TLS context to reload (NULL:
 * TLSMode=off), and the arguments and .env path config_load() read at
 * start-up (borrowed for the life of the process). Call before the server
 * starts.
 */
void reload_init(SessionEnv *env, TlsServer *tls, int argc, char **argv, const char *env_file);

/*
 * Reloads (see the top of this file) and appends the answer line to `out`:
 * {"changed":[names],"restart":[names]} or Error: Invalid Configuration.
 * Logs the outcome either way. SessionEnv.reload; any thread.
 */
void reload_run(Buf *out);

/* Frees the Configs retired by reloads. Call after the server has stopped. */
void reload_free(void);

#endif
