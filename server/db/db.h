/*
 * The database: one SQLite connection per thread, opened with the pragmas
 * that make an acknowledged write durable (WAL, synchronous=FULL by
 * default, foreign keys on), migrated at open, with a cache of prepared
 * statements. Only server/store/ uses this header: handlers never see SQL.
 *
 * This is the storage seam: nothing outside server/db/ knows the engine.
 * Statements are struct db_stmt, bound, stepped and read through the
 * db_bind_*, db_step and db_col_* functions below (thin: on SQLite each
 * is one call of the library). The few SQLite-only tools that need the
 * raw handle include db/sqlite.h.
 */
#ifndef MARKET_DB_H
#define MARKET_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct db;
/* A prepared statement (opaque; on SQLite, the library's own). */
struct db_stmt;

enum db_status {
	DB_OK = 0,
	DB_NOT_FOUND,  /* no such row */
	DB_CONSTRAINT, /* a UNIQUE, CHECK or FOREIGN KEY clash */
	DB_ERROR,      /* anything else; already logged */
};

/*
 * Opens (creating if needed) and migrates the database at path.
 * synchronous is "full", "extra" or "normal". On failure returns NULL and
 * sets *err to one line for the user (caller frees).
 */
struct db *db_open(const char *path, const char *synchronous, char **err);
/* True when path is a PostgreSQL URI (postgresql://, postgres://): the
 * database is then PostgreSQL's (db/pg.h), and the SQLite-only tasks
 * (WAL checkpoints, file ownership, marketctl backup) do not apply. */
bool db_is_postgres(const char *path);
/*
 * As db_open, but with may_migrate false an existing database whose
 * schema is older than this binary's is not migrated: NULL, *err says
 * so and *outdated (may be NULL) is set. A new, empty database is made
 * whole either way. marketctl opens so: a newer marketctl must not change
 * the schema of a database a running marketd uses.
 */
struct db *db_open_as(const char *path, const char *synchronous, bool may_migrate,
    bool *outdated, char **err);
/* Finalizes cached statements and closes. Accepts NULL. */
void db_close(struct db *db);

/* The highest migration this binary knows. */
int db_schema_version_known(void);
/* The version recorded in the database. */
int db_schema_version(struct db *db);
/* The version recorded in the database at path (a file or a URI), read
 * without opening it as db_open does (nothing is made or migrated); 0
 * for an empty database, -1 when it cannot be read. */
int db_peek_schema_version(const char *path);

/*
 * The cached prepared statement for sql. sql must be a string literal
 * (the cache is keyed by its address). The statement is reset and its
 * bindings cleared: bind, step, and leave it; the next db_stmt() call
 * for the same sql resets it again. The cache grows as needed. SQL that
 * does not prepare (a bug, or a schema changed behind the server's back)
 * is logged with the SQLite message and gives a statement whose every
 * step fails, so the caller's db_* call returns DB_ERROR (a 500), and
 * the server goes on.
 */
struct db_stmt *db_stmt(struct db *db, const char *sql);
/* Resets every cached statement (releases read locks). */
void db_reset_all(struct db *db);

/*
 * Transactions. db_begin_write() takes the write lock at once (a
 * process-wide mutex, then BEGIN IMMEDIATE) so concurrent writers queue
 * instead of failing midway; db_commit() and db_rollback() release it.
 * db_commit() returns DB_OK or DB_ERROR (and has rolled back);
 * db_rollback() never fails and is a no-op outside a transaction.
 */
enum db_status db_begin_write(struct db *db);
enum db_status db_commit(struct db *db);
void db_rollback(struct db *db);

/*
 * The writer's batch (group commit, see server/http/writer.c): one
 * transaction holds many requests' changes and commits them with one
 * sync. db_batch_begin() takes the write lock and begins it; each request
 * runs between db_job_begin() and db_job_end(), and inside it
 * db_begin_write()/db_commit()/db_rollback() are a savepoint, its release
 * and its undo, so a failed request is undone alone. db_job_end(keep)
 * keeps or undoes the request's changes and returns false when the batch
 * is lost (SQLite rolls a whole transaction back on some I/O errors).
 * db_batch_end(commit) commits (DB_OK once durable) or rolls back, and
 * releases the write lock.
 */
enum db_status db_batch_begin(struct db *db);
enum db_status db_job_begin(struct db *db);
/*
 * As db_job_begin, for a request that writes nothing until every check
 * that can refuse it has passed: no savepoints, neither the job's nor
 * the handler's (db_begin_write, db_commit are then no-ops). Savepoints
 * copy every page a request first touches; a batch of 100 sales touches
 * hundreds. Such a request cannot be undone alone: db_job_end(keep
 * false), or a db_rollback() of an open db_begin_write, gives the
 * whole batch up (db_job_end returns false).
 */
void db_job_begin_flat(struct db *db);
bool db_job_end(struct db *db, bool keep);
bool db_batch_alive(struct db *db);
enum db_status db_batch_end(struct db *db, bool commit);
/* The page cache of this connection (KiB) and how much of the database
 * file it may read through mmap(2) instead of read(2) (0: none). */
void db_tune(struct db *db, int cache_kib, int64_t mmap_bytes);
/* What every connection of marketd maps: reads of a big database then
 * copy no pages from the kernel's cache. */
#define DB_MMAP_BYTES (256ll * 1024 * 1024)
/* Rows changed by this connection since it opened. */
int64_t db_total_changes(struct db *db);

/*
 * A number that changes whenever any connection (the writer, or another
 * process) commits: what a reader tags cached replies with. It is read
 * from the header of the WAL index shared by all connections (through
 * SQLite's own mapping of the -shm file), with no lock and no system
 * call; where that is not available, from PRAGMA data_version.
 */
uint64_t db_data_version(struct db *db);

/*
 * True when the database cannot be reached: the PostgreSQL connection
 * was lost (the server restarted, crashed or is unreachable) and not
 * made again yet. What failed meanwhile is answered 503, not 500: the
 * client sends it again later. Never true on SQLite.
 */
bool db_unreachable(struct db *db);

/*
 * Bulk writing inside an open write transaction (marketctl migrate-to):
 * on PostgreSQL, until db_bulk_end, writing statements are sent without
 * waiting for their answers (libpq's pipeline mode) and without a
 * savepoint each; db_exec_stmt then reports only failures seen so far,
 * db_bulk_end whether every one succeeded. A failure loses the whole
 * transaction: roll it back. Only writes may run in between. On SQLite
 * both are no-ops (DB_OK).
 */
enum db_status db_bulk_begin(struct db *db);
enum db_status db_bulk_end(struct db *db);

/*
 * A generated load in one transaction (marketctl gen). db_load_settings
 * (db, true) before it: on SQLite a page cache that holds it, no syncs
 * and no foreign-key checks; (db, false) after: durable again, the WAL
 * folded into the file. db_indexes_drop drops the secondary indexes of
 * tables (n names), appending their definitions to saved (a JSON array
 * of strings) to be built once from the loaded rows. Both do nothing on
 * PostgreSQL, whose load keeps its indexes and settings.
 */
enum db_status db_load_settings(struct db *db, bool loading);
enum db_status db_indexes_drop(
    struct db *db, const char *const *tables, size_t n, json_t *saved);

/* Step a statement that changes rows or returns at most one row:
 * DB_OK (a row is ready, or done), DB_NOT_FOUND (no row), DB_CONSTRAINT. */
enum db_status db_step_one(struct db *db, struct db_stmt *st);
/* Step a statement that returns no rows. */
enum db_status db_exec_stmt(struct db *db, struct db_stmt *st);
/* Step a query for whether it gives a row: DB_OK (it does), DB_NOT_FOUND
 * (it does not), or the failure's status. The statement is reset. */
enum db_status db_exists(struct db *db, struct db_stmt *st);
/* Step an UPDATE or DELETE as db_exec_stmt, but DB_NOT_FOUND when it
 * changed no row. */
enum db_status db_exec_change(struct db *db, struct db_stmt *st);

/*
 * Step a query to the end and return its rows as a JSON array, one
 * row(st) per row: DB_OK, or the failure's status (logged as for
 * db_step_one). *out is a new reference the caller owns (json_decref),
 * NULL on failure. The statement is reset.
 */
enum db_status db_rows(
    struct db *db, struct db_stmt *st, json_t *(*row)(struct db_stmt *), json_t **out);
/*
 * Step a query for at most one row and return row(st) of it: the
 * status of db_step_one (DB_NOT_FOUND when there is no row). *out is a
 * new reference the caller owns, NULL unless DB_OK. The statement is
 * reset.
 */
enum db_status db_row(
    struct db *db, struct db_stmt *st, json_t *(*row)(struct db_stmt *), json_t **out);

int64_t db_last_insert_id(struct db *db);
int db_changes(struct db *db);

/* Runs SQL text with no bound values (pragmas, migrations, checks). */
enum db_status db_exec(struct db *db, const char *sql);

/* DB_OK when the database answers a query. */
enum db_status db_ping(struct db *db);

/*
 * Binding. Parameters count from 1, and every one left unbound is NULL.
 * Text is copied unless said otherwise; NULL text binds SQL NULL.
 */
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_null(struct db_stmt *st, int i);
void db_bind_text(struct db_stmt *st, int i, const char *s);
/* As db_bind_text, without a copy: s must stay valid until the
 * statement is stepped for the last time (reset, or db_stmt() again). */
void db_bind_text_static(struct db_stmt *st, int i, const char *s);
/* As db_bind_text, taking s (from malloc): the database frees it when
 * it is no longer needed, and at once if the bind fails. */
void db_bind_text_owned(struct db_stmt *st, int i, char *s);
/* A JSON integer or string (anything else binds NULL), for a column
 * that holds either and keeps them apart (audit_log.object_id): on
 * SQLite an integer or a text value, on PostgreSQL a jsonb. */
void db_bind_json(struct db_stmt *st, int i, const json_t *v);
/* n bytes from p, copied; or, _static, not copied (as text above). */
void db_bind_blob(struct db_stmt *st, int i, const void *p, int n);
void db_bind_blob_static(struct db_stmt *st, int i, const void *p, int n);

/* What db_step() gives. */
enum db_step_rc {
	DB_ROW = 1,    /* a row is ready for db_col_*() */
	DB_DONE,       /* no more rows (or the change is made) */
	DB_STEP_ERROR, /* it failed */
};
/* The next row. Failures are not logged here: db_step_one() and the
 * other helpers above classify and log them. */
enum db_step_rc db_step(struct db_stmt *st);
/* Ends the statement's run (releases what it holds); the bindings stay. */
void db_reset(struct db_stmt *st);

/*
 * Columns of the current row, counted from 0. Text lives until the next
 * step or reset, and is NULL for SQL NULL; integers of NULL are 0.
 */
int64_t db_col_int64(struct db_stmt *st, int i);
static inline int
db_col_int(struct db_stmt *st, int i)
{
	return (int)db_col_int64(st, i);
}
const char *db_col_text(struct db_stmt *st, int i);
bool db_col_is_null(struct db_stmt *st, int i);
/* True when the value is an integer (a column whose rows hold either
 * integers or text, as audit_log.object_id). */
bool db_col_is_int(struct db_stmt *st, int i);

/* The columns of a statement's rows (after a step on PostgreSQL, whose
 * result comes with the first one), and a column's name. */
int db_col_count(struct db_stmt *st);
const char *db_col_name(struct db_stmt *st, int i);
/* True when the value is bytes (BLOB, bytea); db_col_blob gives them,
 * *len their count, valid as db_col_text's. */
bool db_col_is_blob(struct db_stmt *st, int i);
const void *db_col_blob(struct db_stmt *st, int i, int *len);
/* After rows were written with the ids they had elsewhere (a copy): the
 * next id table.column gives is past them. SQLite's AUTOINCREMENT does
 * so by itself; a PostgreSQL identity's sequence is moved. */
enum db_status db_sync_ids(struct db *db, const char *table, const char *column);

/*
 * A read snapshot: several statements that see one committed state.
 * db_snapshot_begin() begins a read transaction unless one is open
 * already, and *began says whether it did; db_snapshot_end(began)
 * ends the one it began (a no-op otherwise).
 */
enum db_status db_snapshot_begin(struct db *db, bool *began);
void db_snapshot_end(struct db *db, bool began);

#endif
