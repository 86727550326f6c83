/* server/db/db.c: a database opens migrated with the pragmas that make a
 * write durable; a transaction commits or rolls back whole; in the
 * writer's batch a request's savepoint is undone alone and the batch
 * commits the rest with one COMMIT; statuses are classified (not found,
 * constraint); db_data_version moves with every commit, of this
 * connection or another one. Runs on fresh databases in a temporary
 * folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/sqlite.h"
#include "log.h"
#include "unit.h"
#include "util.h"

static char dir[] = "/tmp/market-unit-db-XXXXXX";
static char path[64];

static struct db *
open_db(const char *sync)
{
	char *err = NULL;
	struct db *db = db_open(path, sync, &err);
	if (db == NULL) {
		fprintf(stderr, "db_open: %s\n", err);
		exit(1);
	}
	return db;
}

static struct db *
fresh(void)
{
	char *p;
	snprintf(path, sizeof(path), "%s/market.db", dir);
	unlink(path);
	p = xasprintf("%s-wal", path);
	unlink(p);
	free(p);
	p = xasprintf("%s-shm", path);
	unlink(p);
	free(p);
	return open_db("full");
}

static int64_t
one(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *
text(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;
	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void
insert_region(struct db *db, const char *code)
{
	struct db_stmt *st =
	    db_stmt(db, "INSERT INTO regions VALUES (?, ?, ?, 'p', 'east_west')");
	db_bind_text(st, 1, code);
	db_bind_text(st, 2, code);
	db_bind_text(st, 3, code);
	CHECK(db_exec_stmt(db, st) == DB_OK);
}

static int64_t
regions(struct db *db)
{
	return one(db, "SELECT count(*) FROM regions");
}

/* A new file is migrated to the newest schema, in WAL mode, with
 * synchronous=FULL (2) when asked for and foreign keys enforced; opening
 * it again keeps its version and does not run a migration twice. */
static void
test_open_migrates_with_durable_pragmas(void)
{
	struct db *db = fresh();
	CHECK(db_schema_version(db) == db_schema_version_known());
	CHECK(db_schema_version_known() >= 6);
	char *mode = text(db, "PRAGMA journal_mode");
	CHECK_STR(mode, "wal");
	free(mode);
	CHECK(one(db, "PRAGMA synchronous") == 2);
	CHECK(one(db, "PRAGMA foreign_keys") == 1);
	CHECK(db_ping(db) == DB_OK);
	db_close(db);

	db = open_db("extra");
	CHECK(db_schema_version(db) == db_schema_version_known());
	CHECK(one(db, "PRAGMA synchronous") == 3);
	db_close(db);

	char *err = NULL;
	CHECK(db_open(path, "sometimes", &err) == NULL);
	CHECK(err != NULL);
	free(err);
	db_close(NULL);
}

/* A file that is not a database is refused with a message, not opened. */
static void
test_open_refuses_garbage(void)
{
	char *p = xasprintf("%s/garbage.db", dir);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	for (int i = 0; i < 512; i++)
		fputs("not a database ", f);
	fclose(f);
	char *err = NULL;
	struct db *db = db_open(p, "full", &err);
	CHECK(db == NULL);
	CHECK(err != NULL && strlen(err) > 0);
	free(err);
	unlink(p);
	free(p);
}

/* A plain transaction: a rollback leaves nothing, a commit keeps all;
 * rollback outside a transaction is harmless. */
static void
test_transaction(void)
{
	struct db *db = fresh();
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "a");
	insert_region(db, "b");
	db_rollback(db);
	CHECK(regions(db) == 0);
	db_rollback(db);

	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "a");
	CHECK(db_commit(db) == DB_OK);
	CHECK(regions(db) == 1);
	db_close(db);
}

/* Statuses: a second row with the same key is DB_CONSTRAINT, an UPDATE
 * that changes nothing is DB_NOT_FOUND for db_exec_change, a query with no
 * row is DB_NOT_FOUND for db_step_one and db_exists. */
static void
test_statuses(void)
{
	struct db *db = fresh();
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "a");
	struct db_stmt *st =
	    db_stmt(db, "INSERT INTO regions VALUES (?, ?, ?, 'p', 'east_west')");
	db_bind_text(st, 1, "a");
	db_bind_text(st, 2, "a");
	db_bind_text(st, 3, "a");
	CHECK(db_exec_stmt(db, st) == DB_CONSTRAINT);
	st = db_stmt(db, "UPDATE regions SET name_en = 'x' WHERE code = ?");
	db_bind_text(st, 1, "nowhere");
	CHECK(db_exec_change(db, st) == DB_NOT_FOUND);
	st = db_stmt(db, "UPDATE regions SET name_en = 'x' WHERE code = ?");
	db_bind_text(st, 1, "a");
	CHECK(db_exec_change(db, st) == DB_OK);
	CHECK(db_changes(db) == 1);
	CHECK(db_commit(db) == DB_OK);

	st = db_stmt(db, "SELECT name_en FROM regions WHERE code = ?");
	db_bind_text(st, 1, "a");
	CHECK(db_step_one(db, st) == DB_OK);
	CHECK_STR(db_col_text(st, 0), "x");
	st = db_stmt(db, "SELECT name_en FROM regions WHERE code = ?");
	db_bind_text(st, 1, "b");
	CHECK(db_step_one(db, st) == DB_NOT_FOUND);
	st = db_stmt(db, "SELECT 1 FROM regions WHERE code = ?");
	db_bind_text(st, 1, "b");
	CHECK(db_exists(db, st) == DB_NOT_FOUND);
	st = db_stmt(db, "SELECT 1 FROM regions WHERE code = ?");
	db_bind_text(st, 1, "a");
	CHECK(db_exists(db, st) == DB_OK);
	db_close(db);
}

static json_t *
code_row(struct db_stmt *st)
{
	return json_string(db_col_text(st, 0));
}

/* db_rows gives every row in order; db_row the one row or NOT_FOUND. */
static void
test_rows(void)
{
	struct db *db = fresh();
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "c");
	insert_region(db, "a");
	insert_region(db, "b");
	CHECK(db_commit(db) == DB_OK);
	json_t *out = NULL;
	CHECK(db_rows(db, db_stmt(db, "SELECT code FROM regions ORDER BY code"),
	          code_row, &out) == DB_OK);
	CHECK(json_array_size(out) == 3);
	CHECK_STR(json_string_value(json_array_get(out, 0)), "a");
	CHECK_STR(json_string_value(json_array_get(out, 2)), "c");
	json_decref(out);
	struct db_stmt *st = db_stmt(db, "SELECT code FROM regions WHERE code = ?");
	db_bind_text(st, 1, "zz");
	CHECK(db_row(db, st, code_row, &out) == DB_NOT_FOUND);
	CHECK(out == NULL);
	db_close(db);
}

/* The writer's batch: a job whose handler keeps its changes survives, a
 * job undone (keep = false) leaves nothing, and a savepoint a handler
 * rolls back inside a kept job undoes only its own rows. Nothing is
 * visible to another connection before the batch commits, and all of
 * the kept jobs are after it. */
static void
test_batch_jobs(void)
{
	struct db *db = fresh();
	struct db *other = open_db("full");
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_batch_alive(db));

	CHECK(db_job_begin(db) == DB_OK);
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "kept");
	CHECK(db_commit(db) == DB_OK);
	CHECK(db_job_end(db, true));

	CHECK(db_job_begin(db) == DB_OK);
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "undone");
	CHECK(db_commit(db) == DB_OK);
	CHECK(db_job_end(db, false));

	CHECK(db_job_begin(db) == DB_OK);
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "inner-undone");
	db_rollback(db);
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "second");
	/* left open by the handler: db_job_end undoes an open savepoint */
	CHECK(db_job_end(db, true));

	CHECK(regions(other) == 0);
	CHECK(db_batch_end(db, true) == DB_OK);
	CHECK(!db_batch_alive(db));
	CHECK(regions(other) == 1);
	CHECK(one(other, "SELECT count(*) FROM regions WHERE code = 'kept'") == 1);

	/* A batch ended without commit keeps nothing and releases the lock:
	 * a plain transaction can begin after it. */
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_job_begin(db) == DB_OK);
	insert_region(db, "dropped");
	CHECK(db_job_end(db, true));
	CHECK(db_batch_end(db, false) != DB_OK);
	CHECK(regions(other) == 1);
	CHECK(db_begin_write(other) == DB_OK);
	insert_region(other, "after");
	CHECK(db_commit(other) == DB_OK);
	CHECK(regions(db) == 2);
	db_close(other);
	db_close(db);
}

/* A flat job (db_job_begin_flat) has no savepoint: kept, it commits
 * with the batch; undone (keep = false), or with a transaction its
 * handler rolled back, it cannot be undone alone, so db_job_end gives
 * the batch up (false) and the caller ends it without commit: nothing
 * of the batch is kept. The next job has its savepoint again. */
static void
test_flat_jobs(void)
{
	struct db *db = fresh();
	struct db *other = open_db("full");
	int64_t base = regions(other);

	CHECK(db_batch_begin(db) == DB_OK);
	db_job_begin_flat(db);
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "flat-kept");
	CHECK(db_commit(db) == DB_OK);
	CHECK(db_job_end(db, true));
	/* the next job undoes alone again */
	CHECK(db_job_begin(db) == DB_OK);
	insert_region(db, "undone-alone");
	CHECK(db_job_end(db, false));
	CHECK(db_batch_end(db, true) == DB_OK);
	CHECK(regions(other) == base + 1);
	CHECK(one(other, "SELECT count(*) FROM regions WHERE code = 'flat-kept'") == 1);

	/* A flat job undone: the batch, with the job before it, is lost. */
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_job_begin(db) == DB_OK);
	insert_region(db, "mate");
	CHECK(db_job_end(db, true));
	db_job_begin_flat(db);
	insert_region(db, "flat-undone");
	CHECK(!db_job_end(db, false));
	CHECK(db_batch_end(db, false) != DB_OK);
	CHECK(regions(other) == base + 1);

	/* A flat job whose handler rolled its transaction back: lost too. */
	CHECK(db_batch_begin(db) == DB_OK);
	db_job_begin_flat(db);
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "flat-rolled-back");
	db_rollback(db);
	CHECK(!db_job_end(db, true));
	CHECK(db_batch_end(db, false) != DB_OK);
	CHECK(regions(other) == base + 1);
	db_close(other);
	db_close(db);
}

/* db_data_version: unchanged while nothing commits; changed by a commit
 * of this connection and by one of another connection. */
static void
test_data_version(void)
{
	struct db *db = fresh();
	struct db *other = open_db("full");
	uint64_t v0 = db_data_version(db);
	CHECK(db_data_version(db) == v0);
	CHECK(db_begin_write(other) == DB_OK);
	insert_region(other, "a");
	CHECK(db_commit(other) == DB_OK);
	uint64_t v1 = db_data_version(db);
	CHECK(v1 != v0);
	CHECK(db_data_version(db) == v1);
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "b");
	CHECK(db_commit(db) == DB_OK);
	CHECK(db_data_version(db) != v1);
	CHECK(db_data_version(other) == db_data_version(db));
	/* a rolled back transaction is not a change */
	uint64_t v2 = db_data_version(db);
	CHECK(db_begin_write(db) == DB_OK);
	insert_region(db, "c");
	db_rollback(db);
	CHECK(db_data_version(other) == v2);
	db_close(other);
	db_close(db);
}

/* The same SQL text gives the same cached statement, reset and cleared;
 * db_reset_all releases a half-stepped read so another connection can
 * commit and this one then sees it. */
static void
test_statement_cache(void)
{
	struct db *db = fresh();
	static const char q[] = "SELECT count(*) FROM regions WHERE code <> ?";
	struct db_stmt *a = db_stmt(db, q);
	db_bind_text(a, 1, "x");
	CHECK(db_step(a) == DB_ROW);
	struct db_stmt *b = db_stmt(db, q);
	CHECK(a == b);
	CHECK(sqlite3_bind_parameter_count(db_sqlite_stmt(b)) == 1);
	CHECK(db_step(b) == DB_ROW); /* NULL bound: no row counts */
	CHECK(db_col_int64(b, 0) == 0);
	db_reset_all(db);
	db_close(db);
}

static void
cleanup(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
}

static void
setup(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	log_set_quiet(1);
}

UNIT_MAIN(setup, test_open_migrates_with_durable_pragmas, test_open_refuses_garbage,
    test_transaction, test_statuses, test_rows, test_batch_jobs, test_flat_jobs,
    test_data_version, test_statement_cache, cleanup)
