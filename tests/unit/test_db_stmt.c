/* server/db/db.c, db_stmt: the statement cache. SQL that does not prepare gives a
 * statement that fails (DB_ERROR, a 500 for the caller) instead of
 * aborting, and the cache grows past its first 256 slots, keeping the
 * statements callers hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "unit.h"

static char dir[] = "/tmp/market-unit-db-stmt-XXXXXX";
static char path[96];
static struct db *db;

#define MANY 1000
/* The cache is keyed by the SQL's address: one string each. */
static char sqls[MANY][40];

static void
test_prepare_failure_is_an_error(void)
{
	struct db_stmt *st = db_stmt(db, "SELECT nothing FROM no_such_table");
	CHECK(db_exists(db, st) == DB_ERROR);
	st = db_stmt(db, "SELECT nothing FROM no_such_table WHERE x = ?1");
	db_bind_int64(st, 1, 7); /* binding it is harmless */
	CHECK(db_step_one(db, st) == DB_ERROR);
	json_t *rows = NULL;
	CHECK(db_rows(db, db_stmt(db, "SELEC 1"), NULL, &rows) == DB_ERROR);
	CHECK(rows == NULL);
	CHECK(db_exec_stmt(db, db_stmt(db, "INSERT INTO nowhere VALUES (1)")) ==
	      DB_ERROR);
	/* The connection still works. */
	CHECK(db_ping(db) == DB_OK);
}

static void
test_cache_grows(void)
{
	struct db_stmt *first = NULL;
	for (int i = 0; i < MANY; i++) {
		snprintf(sqls[i], sizeof(sqls[i]), "SELECT %d", i);
		struct db_stmt *st = db_stmt(db, sqls[i]);
		if (i == 0)
			first = st;
		CHECK(db_step_one(db, st) == DB_OK);
		if (db_col_int(st, 0) != i) {
			CHECK(db_col_int(st, 0) == i);
			break;
		}
	}
	/* Each is cached once, and the first is the same statement still. */
	CHECK(db_stmt(db, sqls[0]) == first);
	int bad = 0;
	for (int i = 0; i < MANY; i++) {
		struct db_stmt *st = db_stmt(db, sqls[i]);
		if (db_step_one(db, st) != DB_OK || db_col_int(st, 0) != i)
			bad++;
	}
	CHECK(bad == 0);
	db_reset_all(db);
}

static void
setup(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	char *err = NULL;
	db = db_open(path, "normal", &err);
	if (db == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
}

static void
teardown(void)
{
	db_close(db);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

UNIT_MAIN(setup, test_prepare_failure_is_an_error, test_cache_grows, teardown)
