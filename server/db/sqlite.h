/*
 * SQLite-only: the raw handle and statement behind struct db, for the
 * code that only makes sense on SQLite (the WAL checkpointer, marketctl's
 * backup and integrity check, unit tests of db/ itself). Nothing else
 * includes this header; on PostgreSQL those tasks are the server's own
 * (pg_dump, pg_basebackup, autovacuum).
 */
#ifndef MARKET_DB_SQLITE_H
#define MARKET_DB_SQLITE_H

#include <sqlite3.h>

#include "db/db.h"

/* The underlying handle. */
sqlite3 *db_handle(struct db *db);

/* The SQLite statement a struct db_stmt is. */
static inline sqlite3_stmt *
db_sqlite_stmt(struct db_stmt *st)
{
	return (sqlite3_stmt *)st;
}

/*
 * A checkpoint (sqlite3_wal_checkpoint_v2's mode, log and done) while
 * this process's writers wait on the write lock, as db_begin_write()
 * takes it: a RESTART or TRUNCATE then gets SQLite's writer lock at
 * once instead of polling for it between the writer's batches.
 */
int db_checkpoint_held(struct db *db, int mode, int *log, int *done);

#endif
