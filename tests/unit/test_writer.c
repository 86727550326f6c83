/* server/http/writer.c: a lost batch fails every request in it (also
 * those that only read what another request of the batch wrote), and a
 * request answered 500 or more leaves nothing behind. Requests queued
 * before the writer starts form one batch, so the batches are exact. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db/db.h"
#include "db/sqlite.h"
#include "http/router.h"
#include "http/writer.h"
#include "unit.h"
#include "util.h"

static char dir[] = "/tmp/market-unit-writer-XXXXXX";
static char path[96], flag[96];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done_count;

static void
done(struct request *r)
{
	pthread_mutex_lock(&mu);
	done_count++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static void
wait_done(int n)
{
	pthread_mutex_lock(&mu);
	while (done_count < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static int64_t
count_rows(struct db *db, int v)
{
	sqlite3_stmt *st;
	sqlite3_prepare_v2(
	    db_handle(db), "SELECT count(*) FROM wt WHERE v = ?1", -1, &st, NULL);
	sqlite3_bind_int(st, 1, v);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return n;
}

/* Writes a row (201). */
static void
h_insert(struct request *r)
{
	if (db_exec(r->db, "INSERT INTO wt (v) VALUES (1)") == DB_OK)
		reply_json(r, 201, json_object());
	else
		reply_error(r, E_INTERNAL, NULL, NULL);
}

/* Only reads: 200 when it sees the row h_insert wrote ("duplicate"). */
static void
h_read(struct request *r)
{
	if (count_rows(r->db, 1) > 0)
		reply_json(r, 200, json_object());
	else
		reply_error(r, E_NOT_FOUND, NULL, NULL);
}

/* Writes a row, then fails. */
static void
h_partial(struct request *r)
{
	db_exec(r->db, "INSERT INTO wt (v) VALUES (2)");
	reply_error(r, E_INTERNAL, NULL, NULL);
}

static const struct route insert_route = {
    .method = EVHTTP_REQ_GET, .path = "/i", .handler = h_insert};
static const struct route read_route = {
    .method = EVHTTP_REQ_GET, .path = "/r", .handler = h_read};
static const struct route partial_route = {
    .method = EVHTTP_REQ_GET, .path = "/p", .handler = h_partial};

static struct request *
req(const struct route *rt)
{
	struct request *r = xcalloc(1, sizeof(*r));
	r->route = rt;
	r->method = rt->method;
	return r;
}

static void
free_req(struct request *r)
{
	json_decref(r->reply_body);
	free(r);
}

static struct config cfg;

/* Runs the requests as one batch; returns when all are done. */
static void
run(struct request **rs, int n)
{
	char *err = NULL;
	struct writer *wr = writer_new(&cfg, done, &err);
	CHECK(wr != NULL);
	if (wr == NULL)
		return;
	done_count = 0;
	for (int i = 0; i < n; i++)
		writer_submit(wr, rs[i]);
	writer_start(wr);
	wait_done(n);
	writer_free(wr);
}

static void
test_lost_batch_fails_every_request(void)
{
	FILE *f = fopen(flag, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	struct request *rs[] = {req(&insert_route), req(&read_route)};
	run(rs, 2);
	unlink(flag);
	/* The reader saw the uncommitted row, yet must not keep its 200. */
	CHECK(rs[0]->status == 503);
	CHECK(rs[1]->status == 503);
	CHECK_STR(json_string_value(json_object_get(rs[1]->reply_body, "code")),
	    "unavailable");
	char *err = NULL;
	struct db *db = db_open(path, "normal", &err);
	CHECK(db != NULL && count_rows(db, 1) == 0);
	db_close(db);
	free_req(rs[0]);
	free_req(rs[1]);

	/* Without the fault, the same batch keeps both replies. */
	struct request *ok[] = {req(&insert_route), req(&read_route)};
	run(ok, 2);
	CHECK(ok[0]->status == 201);
	CHECK(ok[1]->status == 200);
	free_req(ok[0]);
	free_req(ok[1]);
}

static void
test_5xx_leaves_nothing(void)
{
	struct request *rs[] = {req(&partial_route), req(&insert_route)};
	run(rs, 2);
	CHECK(rs[0]->status == 500);
	CHECK(rs[1]->status == 201);
	char *err = NULL;
	struct db *db = db_open(path, "normal", &err);
	CHECK(db != NULL);
	if (db != NULL) {
		CHECK(count_rows(db, 2) == 0); /* the failed request's row */
		CHECK(count_rows(db, 1) == 2); /* this batch's and the last test's */
	}
	db_close(db);
	free_req(rs[0]);
	free_req(rs[1]);
}

static void
setup(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	snprintf(flag, sizeof(flag), "%s/fail-commit", dir);
	setenv("MARKETD_TEST_FAIL_COMMIT", flag, 1);
	cfg.db_path = path;
	cfg.synchronous = "normal";
	char *err = NULL;
	struct db *db = db_open(path, "normal", &err);
	if (db == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	db_exec(db, "CREATE TABLE wt (v INTEGER)");
	db_close(db);
}

static void
teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

UNIT_MAIN(setup, test_lost_batch_fails_every_request, test_5xx_leaves_nothing, teardown)
