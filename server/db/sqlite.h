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

/* The underlying handle (NULL on PostgreSQL). */
sqlite3 *db_handle(struct db *db);

/* A statement of either engine (db/db.c): lite on SQLite, pg on
 * PostgreSQL (db/pg.h), the other NULL. */
struct pg_stmt;
struct db_stmt {
	sqlite3_stmt *lite;
	struct pg_stmt *pg;
};

/* The SQLite statement of a struct db_stmt (NULL on PostgreSQL). */
static inline sqlite3_stmt *
db_sqlite_stmt(struct db_stmt *st)
{
	return st->lite;
}

/*
 * A checkpoint (sqlite3_wal_checkpoint_v2's mode, log and done) while
 * this process's writers wait on the write lock, as db_begin_write()
 * takes it: a RESTART or TRUNCATE then gets SQLite's writer lock at
 * once instead of polling for it between the writer's batches.
 */
int db_checkpoint_held(struct db *db, int mode, int *log, int *done);

#endif
