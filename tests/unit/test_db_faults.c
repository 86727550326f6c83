/* server/db/db.c, the writer's batch when SQLite runs out of memory
 * (through the test-only fault VFS, db/faultvfs.h): a request whose undo
 * fails never has its changes committed with the batch (the batch is
 * given up instead), and a batch whose own rollback failed is undone
 * before the next one begins. Runs on a fresh database in a temporary
 * folder. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db/db.h"
#include "db/faultvfs.h"
#include "db/sqlite.h"
#include "log.h"
#include "unit.h"

static char dir[] = "/tmp/market-unit-dbfaults-XXXXXX";
static char path[96];
static struct db *db;

static int
regions(void)
{
	struct db_stmt *st = db_stmt(db, "SELECT count(*) FROM regions");
	int n = db_step(st) == DB_ROW ? db_col_int(st, 0) : -1;
	db_reset(st);
	return n;
}

static enum db_status
add_region(const char *code)
{
	struct db_stmt *st =
	    db_stmt(db, "INSERT INTO regions VALUES (?, 'n', 'n', 'p', 'other')");
	db_bind_text(st, 1, code);
	return db_exec_stmt(db, st);
}

/* The handler's savepoint cannot be rolled back (no memory): the batch
 * must not commit what the handler meant to undo. */
static void
test_failed_undo_of_a_savepoint(void)
{
	int before = regions();
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_job_begin(db) == DB_OK);
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(add_region("undo1") == DB_OK);
	CHECK(faultvfs_arm("1 alloc 1 nomem 0"));
	db_rollback(db); /* fails: ROLLBACK TO needs memory */
	CHECK(faultvfs_fired() > 0);
	CHECK(faultvfs_arm("2 off"));
	CHECK(!db_job_end(db, true)); /* the batch is lost ... */
	db_batch_end(db, false);      /* ... and the writer rolls it back */
	CHECK(regions() == before);
}

/* The request is to be undone (keep false) and ROLLBACK TO fails. */
static void
test_failed_undo_of_a_job(void)
{
	int before = regions();
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_job_begin(db) == DB_OK);
	CHECK(add_region("undo2") == DB_OK);
	CHECK(faultvfs_arm(
	    "3 alloc 1 nomem 1")); /* ROLLBACK TO fails, RELEASE would not */
	bool alive = db_job_end(db, false);
	CHECK(faultvfs_arm("4 off"));
	CHECK(!alive);
	db_batch_end(db, false);
	CHECK(regions() == before);
}

/* The batch's own rollback fails: the next batch undoes it first, and
 * only its own changes are committed. */
static void
test_failed_rollback_of_a_batch(void)
{
	int before = regions();
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_job_begin(db) == DB_OK);
	CHECK(add_region("lost") == DB_OK);
	CHECK(db_job_end(db, true));
	CHECK(faultvfs_arm("5 alloc 1 nomem 0"));
	CHECK(db_batch_end(db, false) != DB_OK);
	CHECK(faultvfs_arm("6 off"));
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_job_begin(db) == DB_OK);
	CHECK(add_region("kept") == DB_OK);
	CHECK(db_job_end(db, true));
	CHECK(db_batch_end(db, true) == DB_OK);
	CHECK(regions() == before + 1);
}

/* SQLite rolled the whole batch back by itself (as it may on running
 * out of memory or an I/O error) while a handler was running: the
 * handler's next writes, in autocommit mode or in a savepoint that now
 * begins a transaction of its own, must not be committed on their own,
 * since the batch they belong to answers 503. */
static void
test_writes_after_the_batch_was_rolled_back(void)
{
	int before = regions();
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_job_begin(db) == DB_OK);
	CHECK(add_region("gone1") == DB_OK);
	/* What SQLite does on such an error: the transaction is gone. */
	CHECK(sqlite3_exec(db_handle(db), "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(add_region("alone1") != DB_OK); /* autocommit: refused */
	CHECK(db_begin_write(db) == DB_OK);   /* SAVEPOINT req: a new transaction */
	CHECK(add_region("alone2") == DB_OK);
	CHECK(db_commit(db) != DB_OK); /* its RELEASE would commit: refused */
	CHECK(!db_job_end(db, true));  /* the batch is lost */
	db_batch_end(db, false);
	CHECK(regions() == before);
	/* And the next batch commits as ever. */
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_job_begin(db) == DB_OK);
	CHECK(add_region("next1") == DB_OK);
	CHECK(db_job_end(db, true));
	CHECK(db_batch_end(db, true) == DB_OK);
	CHECK(regions() == before + 1);
}

static void
setup(void)
{
	char *err = NULL;
	if (mkdtemp(dir) == NULL || faultvfs_install(NULL, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err ? err : "mkdtemp");
		exit(1);
	}
	log_set_quiet(1);
	snprintf(path, sizeof(path), "%s/market.db", dir);
	db = db_open(path, "full", &err);
	if (db == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	/* The statements the tests use are prepared before any fault. */
	CHECK(regions() == 0);
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(add_region("first") == DB_OK);
	CHECK(db_commit(db) == DB_OK);
	CHECK(db_batch_begin(db) == DB_OK);
	CHECK(db_job_begin(db) == DB_OK);
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(db_commit(db) == DB_OK);
	CHECK(db_job_end(db, true));
	CHECK(db_batch_end(db, true) == DB_OK);
}

static void
teardown(void)
{
	db_close(db);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

UNIT_MAIN(setup, test_failed_undo_of_a_savepoint, test_failed_undo_of_a_job,
    test_failed_rollback_of_a_batch, test_writes_after_the_batch_was_rolled_back,
    teardown)
