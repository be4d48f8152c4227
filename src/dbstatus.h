/*
 * dbstatus: what the admin page shows of each database besides its grant:
 * its size on disk, whether the pool has it open and how many sessions and
 * jobs pin it, the line-protocol and PostgreSQL sessions connected to it,
 * and its PostgreSQL link: its mode and, in CDC mode, the stream's state and
 * lag (docs/admin.md, "Databases").
 *
 * Read-only over the catalog, the pool and the sessions registry, each
 * under its own lock; a snapshot, not one consistent instant. Any thread.
 */
#ifndef TCPDUCKDB_DBSTATUS_H
#define TCPDUCKDB_DBSTATUS_H

#include "buf.h"
#include "catalog.h"
#include "pool.h"

/*
 * Appends one JSON object, a member per database (every database: the
 * super user's view):
 * {"NAME":{"bytes":N,"open":B,"pins":N,"sessions":N,"linked":B,"link_busy":B,
 *          "link_mode":"audit"|"cdc"|null,"cdc":{"state":S,"lag_bytes":N,"changes":N}|null},...}
 * ("cdc" for a database linked in CDC mode: its stream, cdc.h).
 */
void dbstatus_json(Catalog *catalog, Pool *pool, Buf *out);

#endif
