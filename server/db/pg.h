/*
 * The PostgreSQL engine behind db.h (issue 13), through libpq. Only
 * server/db/db.c includes this header: it hands every db_* call on a
 * PostgreSQL database to the pg_* function of the same name.
 *
 * What differs from SQLite, and how it is made the same:
 * - SQL: the store writes ?N placeholders; they become $N. Statements
 *   are prepared once per connection (PQprepare, types inferred) and
 *   cached by the address of their literal, as on SQLite. Transaction
 *   control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) is not
 *   preparable and runs as a simple query.
 * - Locking: SQLite's BEGIN IMMEDIATE takes the database's one write
 *   lock; here it is BEGIN plus a transaction-level advisory lock, so
 *   writers queue across every process and node exactly as on SQLite,
 *   and every rule that reads before it writes holds unchanged.
 * - Errors: on SQLite a statement that fails (a UNIQUE clash the store
 *   expects) leaves its transaction usable; PostgreSQL aborts the whole
 *   transaction. Inside a transaction each writing statement therefore
 *   runs in a savepoint of its own, undone when it fails.
 * - Results come whole (PQexecPrepared) at the first step, in text;
 *   integers, booleans (t/f) and integral numerics (sum() of bigint)
 *   read as int64.
 * - Durability: synchronous_commit is on for every connection, whatever
 *   the server's default, so a commit that returned is on disk.
 * - The response cache's version (db_data_version): SQLite's changes with
 *   every commit of any process through the shared WAL index; here every
 *   commit that wrote sends NOTIFY market_changed, and a listener thread
 *   bumps the process's version for each one, so every node drops its
 *   cached catalog as soon as the notification arrives (see pg.c).
 * - The schema: schema/pg/0012_baseline.sql makes a new database at
 *   version 12; later migrations come in pairs (schema/pg/NNNN_x.sql).
 *
 * Calls block: on PostgreSQL the event loops wait on the database's
 * round trips (a pool of database threads is still to be built).
 */
#ifndef MARKET_DB_PG_H
#define MARKET_DB_PG_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

struct pg;
struct pg_stmt;

/* True when path names a PostgreSQL database (a postgresql:// or
 * postgres:// URI) rather than a SQLite file. */
bool pg_is_uri(const char *path);

struct pg *pg_open(const char *uri, bool may_migrate, bool *outdated, char **err);
void pg_close(struct pg *pg);

int pg_schema_version(struct pg *pg);
/* The version at uri, read on a connection of its own; -1 on failure. */
int pg_peek_schema_version(const char *uri);
enum db_status pg_exec(struct pg *pg, const char *sql);
/* True inside a transaction (also a failed one). */
bool pg_in_transaction(struct pg *pg);
/* Bulk mode: see db_bulk_begin. */
enum db_status pg_bulk_begin(struct pg *pg);
enum db_status pg_bulk_end(struct pg *pg);
/* The connection is lost (see db_unreachable). */
bool pg_unreachable(struct pg *pg);
int64_t pg_total_changes(struct pg *pg);
int pg_changes(struct pg *pg);
int64_t pg_last_insert_id(struct pg *pg);
/* The catalog version of this process (see pg.c); starts the listener. */
uint64_t pg_data_version(struct pg *pg);

/* The cached statement for the literal sql, reset, bindings cleared. */
struct pg_stmt *pg_stmt(struct pg *pg, const char *sql);
void pg_reset_all(struct pg *pg);

enum db_status pg_step_one(struct pg_stmt *st);
enum db_status pg_exec_stmt(struct pg_stmt *st);
enum db_status pg_exists(struct pg_stmt *st);
/* The status of st's last run (why pg_step gave DB_STEP_ERROR). */
enum db_status pg_status(struct pg_stmt *st);
enum db_step_rc pg_step(struct pg_stmt *st);
void pg_reset(struct pg_stmt *st);

void pg_bind_int64(struct pg_stmt *st, int i, int64_t v);
void pg_bind_null(struct pg_stmt *st, int i);
void pg_bind_text(struct pg_stmt *st, int i, const char *s, bool copy);
void pg_bind_text_owned(struct pg_stmt *st, int i, char *s);
void pg_bind_blob(struct pg_stmt *st, int i, const void *p, int n, bool copy);

int64_t pg_col_int64(struct pg_stmt *st, int i);
const char *pg_col_text(struct pg_stmt *st, int i);
bool pg_col_is_null(struct pg_stmt *st, int i);
bool pg_col_is_int(struct pg_stmt *st, int i);
int pg_col_count(struct pg_stmt *st);
const char *pg_col_name(struct pg_stmt *st, int i);
bool pg_col_is_blob(struct pg_stmt *st, int i);
const void *pg_col_blob(struct pg_stmt *st, int i, int *len);
enum db_status pg_sync_ids(struct pg *pg, const char *table, const char *column);

#endif
