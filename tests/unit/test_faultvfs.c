/* server/db/faultvfs.c, the test-only fault-injecting VFS: the Nth write,
 * sync or allocation from the arming fails with the fault asked for and
 * the next ones succeed; a power loss puts back every file as it was at
 * its last sync (a commit made with synchronous=FULL survives, one made
 * with synchronous=OFF does not) and fails every write after it; the
 * control file arms it and the state file reports it. Runs on a WAL
 * database in a temporary folder, as marketd uses it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/faultvfs.h"
#include "unit.h"

static char dir[] = "/tmp/market-unit-faultvfs-XXXXXX";
static char path[96], ctl[96], ctl_state[112];

static sqlite3 *
open_db(const char *synchronous)
{
	sqlite3 *h = NULL;
	CHECK(sqlite3_open(path, &h) == SQLITE_OK);
	char sql[128];
	snprintf(sql, sizeof(sql),
	    "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s;", synchronous);
	CHECK(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
	return h;
}

static int
insert(sqlite3 *h, int v)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (%d)", v);
	return sqlite3_exec(h, sql, NULL, NULL, NULL);
}

static int
count(sqlite3 *h)
{
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(h, "SELECT count(*) FROM t", -1, &st, NULL) ==
	        SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
fresh(void)
{
	char side[112];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	sqlite3 *h = open_db("full");
	CHECK(sqlite3_exec(h, "CREATE TABLE t (v INTEGER)", NULL, NULL, NULL) ==
	      SQLITE_OK);
	sqlite3_close(h);
}

static void
test_parse(void)
{
	CHECK(faultvfs_arm("1 off"));
	CHECK(faultvfs_arm("2 sync 3 full 2"));
	CHECK(faultvfs_arm("3 write 1 ioerr"));
	CHECK(faultvfs_arm("4 alloc 1 nomem 0"));
	CHECK(faultvfs_arm("5 sync 1 powerloss"));
	CHECK(!faultvfs_arm("6 sync 0 full"));   /* nth from 1 */
	CHECK(!faultvfs_arm("7 alloc 1 ioerr")); /* alloc fails with nomem only */
	CHECK(!faultvfs_arm("8 write 1 nomem"));
	CHECK(!faultvfs_arm("9 read 1 ioerr"));
	CHECK(!faultvfs_arm("x"));
	CHECK(faultvfs_arm("10 off"));
}

/* The 2nd sync from now fails with SQLITE_FULL, once; the commit that
 * met it is not there, the next one is. */
static void
test_sync_full(void)
{
	fresh();
	sqlite3 *h = open_db("full");
	CHECK(insert(h, 1) == SQLITE_OK);
	CHECK(faultvfs_arm("20 sync 2 full 1"));
	CHECK(insert(h, 2) == SQLITE_OK); /* the 1st sync */
	CHECK(insert(h, 3) == SQLITE_FULL);
	CHECK(faultvfs_fired() == 1);
	CHECK(insert(h, 4) == SQLITE_OK);
	CHECK(count(h) == 3);
	sqlite3_close(h);
	h = open_db("full");
	CHECK(count(h) == 3);
	sqlite3_close(h);
	CHECK(faultvfs_arm("21 off"));
}

/* Every write fails while armed with count 0, with an I/O error; reads
 * go on; writes succeed again once it is off. */
static void
test_write_ioerr(void)
{
	fresh();
	sqlite3 *h = open_db("full");
	CHECK(insert(h, 1) == SQLITE_OK);
	CHECK(faultvfs_arm("30 write 1 ioerr 0"));
	for (int i = 0; i < 3; i++)
		CHECK((insert(h, 2) & 0xff) == SQLITE_IOERR);
	CHECK(faultvfs_fired() == 3);
	CHECK(count(h) == 1);
	CHECK(faultvfs_arm("31 off"));
	CHECK(insert(h, 3) == SQLITE_OK);
	CHECK(count(h) == 2);
	sqlite3_close(h);
}

/* An allocation of this (writing) thread fails: the statement reports
 * SQLITE_NOMEM, and the next one works. */
static void
test_alloc(void)
{
	fresh();
	sqlite3 *h = open_db("full");
	CHECK(insert(h, 1) == SQLITE_OK); /* marks this thread as a writer */
	CHECK(faultvfs_arm("40 alloc 1 nomem 1"));
	CHECK(insert(h, 2) == SQLITE_NOMEM);
	CHECK(faultvfs_fired() == 1);
	CHECK(insert(h, 3) == SQLITE_OK);
	CHECK(count(h) == 2);
	sqlite3_close(h);
	CHECK(faultvfs_arm("41 off"));
}

/* A power loss at a sync: what a synchronous=FULL commit wrote survives,
 * what later commits without a sync wrote (synchronous=OFF) is gone, and
 * nothing can be written until the "machine" comes back. */
static void
test_power_loss(void)
{
	fresh();
	sqlite3 *h = open_db("full");
	CHECK(insert(h, 1) == SQLITE_OK);
	CHECK(insert(h, 2) == SQLITE_OK);
	CHECK(
	    sqlite3_exec(h, "PRAGMA synchronous = OFF", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(insert(h, 3) == SQLITE_OK);
	CHECK(insert(h, 4) == SQLITE_OK);
	CHECK(count(h) == 4);
	CHECK(sqlite3_exec(h, "PRAGMA synchronous = FULL", NULL, NULL, NULL) ==
	      SQLITE_OK);
	CHECK(faultvfs_arm("50 sync 1 powerloss"));
	CHECK((insert(h, 5) & 0xff) == SQLITE_IOERR);
	CHECK(faultvfs_dead());
	CHECK((insert(h, 6) & 0xff) == SQLITE_IOERR);
	sqlite3_close(h);
	faultvfs_revive();
	h = open_db("full");
	CHECK(count(h) == 2);
	CHECK(insert(h, 7) == SQLITE_OK);
	CHECK(count(h) == 3);
	sqlite3_stmt *st = NULL;
	CHECK(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) ==
	      SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* A power loss after a checkpoint wrote the database file without its
 * sync: the file is put back and the WAL (synced) still holds the rows. */
static void
test_power_loss_in_checkpoint(void)
{
	fresh();
	sqlite3 *h = open_db("full");
	CHECK(sqlite3_exec(h, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL) ==
	      SQLITE_OK);
	for (int i = 0; i < 50; i++)
		CHECK(insert(h, i) == SQLITE_OK);
	/* A checkpoint syncs the WAL first, then writes and syncs the
	 * database: the 2nd sync is the database's. */
	CHECK(faultvfs_arm("60 sync 2 powerloss"));
	int log = -1, done = -1;
	CHECK((sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_FULL, &log, &done) &
	          0xff) == SQLITE_IOERR);
	CHECK(faultvfs_dead());
	sqlite3_close(h);
	faultvfs_revive();
	h = open_db("full");
	CHECK(count(h) == 50);
	sqlite3_close(h);
}

/* The control file arms it (read before the next counted operation),
 * and the state file says what fired. */
static void
test_control_file(void)
{
	fresh();
	sqlite3 *h = open_db("full");
	CHECK(insert(h, 1) == SQLITE_OK);
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s.tmp", ctl);
	FILE *f = fopen(tmp, "w");
	CHECK(f != NULL);
	fputs("70 sync 1 full 1\n", f);
	fclose(f);
	CHECK(rename(tmp, ctl) == 0);
	CHECK(insert(h, 2) == SQLITE_FULL);
	CHECK(insert(h, 3) == SQLITE_OK);
	char buf[64] = "";
	f = fopen(ctl_state, "r");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK(fgets(buf, sizeof(buf), f) != NULL);
		fclose(f);
	}
	CHECK_STR(buf, "70 1 0\n");
	unlink(ctl);
	sqlite3_close(h);
}

static void
setup(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	snprintf(ctl, sizeof(ctl), "%s/fault", dir);
	snprintf(ctl_state, sizeof(ctl_state), "%s/fault.state", dir);
	char *err = NULL;
	if (faultvfs_install(ctl, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
}

static void
teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

UNIT_MAIN(setup, test_parse, test_sync_full, test_write_ioerr, test_alloc,
    test_power_loss, test_power_loss_in_checkpoint, test_control_file, teardown)
