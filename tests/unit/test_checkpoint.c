/* server/db/checkpoint.c: a commit made while a checkpoint round runs
 * (its wake-up disarmed) is not lost. The last commit of a load took
 * the WAL over the limit while the round looked at a smaller WAL; the
 * round then found nothing to do, and with no commit after it the WAL
 * stayed over the limit for good (api.test_wal, now and then in CI).
 * The round hook makes that interleaving certain. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/checkpoint.h"
#include "db/db.h"
#include "db/sqlite.h"
#include "unit.h"
#include "util.h"

#define LIMIT (1 << 20)
#define WAIT_SECONDS 30 /* a failure bound, never a pace */

static char dir[] = "/tmp/market-unit-checkpoint-XXXXXX";
static char path[96], wal[100];
static struct db *late;
static int rounds, grown_in_round;

static int64_t
wal_size(void)
{
	struct stat st;
	return stat(wal, &st) == 0 ? (int64_t)st.st_size : 0;
}

static void
insert_blob(struct db *db, int bytes)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(
	    db_handle(db), "INSERT INTO t (b) VALUES (?1)", -1, &st, NULL);
	sqlite3_bind_zeroblob(st, 1, bytes);
	CHECK(sqlite3_step(st) == SQLITE_DONE);
	sqlite3_finalize(st);
}

/* On the checkpointer's thread: in its first round (which saw a WAL
 * under the limit), another connection commits enough to pass it. */
static void
grow_during_round(void)
{
	if (rounds++ > 0)
		return;
	CHECK(wal_size() <= LIMIT);
	insert_blob(late, 3 * LIMIT / 2);
	grown_in_round = 1;
}

static void
test_commit_during_a_round(void)
{
	char *err = NULL;
	struct db *db = db_open(path, "normal", &err);
	CHECK(db != NULL);
	if (db == NULL)
		return;
	/* The schema's creation is in the WAL: start from an empty one. */
	CHECK(db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") == DB_OK);
	CHECK(wal_size() == 0);
	CHECK(checkpoint_start(path, "normal", LIMIT, &err) == 0);
	late = db_open(path, "normal", &err);
	CHECK(late != NULL);
	checkpoint_watch(db);
	checkpoint_watch(late);
	checkpoint_test_round_hook(grow_during_round);
	CHECK(db_exec(db, "CREATE TABLE t (b BLOB)") == DB_OK);
	/* Past half the limit: the commit wakes the checkpointer. */
	insert_blob(db, 3 * LIMIT / 5);
	int waited = 0;
	while (wal_size() > LIMIT || !grown_in_round) {
		if (waited++ > WAIT_SECONDS * 100)
			break;
		usleep(10000);
	}
	CHECK(grown_in_round);
	if (wal_size() > LIMIT)
		fprintf(stderr, "the WAL is still %lld bytes after %d s\n",
		    (long long)wal_size(), WAIT_SECONDS);
	CHECK(wal_size() <= LIMIT);
	checkpoint_test_round_hook(NULL);
	db_close(late);
	db_close(db);
	checkpoint_stop();
	free(err);
}

static atomic_int restart_rounds;

static void
count_round(void)
{
	atomic_fetch_add(&restart_rounds, 1);
}

static bool
wait_until(bool (*cond)(void))
{
	for (int waited = 0; !cond(); waited++) {
		if (waited > WAIT_SECONDS * 100)
			return false;
		usleep(10000);
	}
	return true;
}

static bool
a_round_ran(void)
{
	return atomic_load(&restart_rounds) > 0;
}

static bool
wal_empty(void)
{
	return wal_size() == 0;
}

/* A WAL over the limit is restarted, not cut to nothing, while commits
 * keep coming: the writer's next commit writes from the start of the
 * file again and cuts it back to the limit, so the file keeps its
 * blocks (a file cut to nothing grew again under the load, and the
 * kernel zeroed each new block). Once no commit comes, it is cut. */
static void
test_restart_keeps_the_file(void)
{
	char *err = NULL;
	struct db *db = db_open(path, "normal", &err);
	CHECK(db != NULL);
	if (db == NULL)
		return;
	CHECK(db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") == DB_OK);
	CHECK(wal_size() == 0);
	CHECK(checkpoint_start(path, "normal", LIMIT, &err) == 0);
	checkpoint_watch(db);
	checkpoint_test_round_hook(count_round);
	/* Over the limit in one commit: a round copies it all and restarts. */
	insert_blob(db, 3 * LIMIT / 2);
	CHECK(wait_until(a_round_ran));
	CHECK(wal_size() > LIMIT);
	/* The next commit starts the WAL again and cuts the file back to
	 * the limit, no further. */
	insert_blob(db, 100);
	if (wal_size() != LIMIT)
		fprintf(stderr, "after the restart, the WAL is %lld bytes, not %d\n",
		    (long long)wal_size(), LIMIT);
	CHECK(wal_size() == LIMIT);
	/* Over the limit again, and then no commit: the file is cut. */
	insert_blob(db, 3 * LIMIT / 2);
	CHECK(wal_size() > LIMIT);
	CHECK(wait_until(wal_empty));
	checkpoint_test_round_hook(NULL);
	db_close(db);
	checkpoint_stop();
	free(err);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	test_commit_during_a_round();
	test_restart_keeps_the_file();
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *f = xasprintf("%s%s", path, suffixes[i]);
		unlink(f);
		free(f);
	}
	rmdir(dir);
	fprintf(stderr, "%d checks, %d failed\n", unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}
