#include "http/writer.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/checkpoint.h"
#include "db/db.h"
#include "http/metrics.h"
#include "http/router.h"
#include "log.h"
#include "util.h"
#include "webhook_worker.h"

/* At most this many requests share a transaction; more wait for the next. */
#define BATCH_MAX 512
#define WRITER_CACHE_KIB (64 * 1024)

struct writer {
	struct db *db;
	void (*done)(struct request *r);
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct request *head, **tail; /* the queue, oldest first */
	bool stop;
	/* Test only (MARKETD_TEST_FAIL_COMMIT): while this file exists,
	 * every batch is lost at its commit, as on a failing disk. */
	char *fail_commit_flag;
	/* Test only (MARKETD_TEST_FAIL_REPLY): "POST /api/v1/producers"
	 * and the like, comma-separated: after the handler of such a route
	 * ran, its reply becomes a 500, as if it had failed at its end. */
	char *fail_reply;
};

struct writer *
writer_new(const struct config *cfg, void (*done)(struct request *r), char **err)
{
	struct writer *wr = xcalloc(1, sizeof(*wr));
	wr->db = db_open(cfg->db_path, cfg->synchronous, err);
	if (wr->db == NULL) {
		free(wr);
		return NULL;
	}
	/* A batch's transaction touches many pages: with SQLite's default
	 * 2 MiB cache it would spill them into the WAL mid-transaction and
	 * read them back. */
	db_tune(wr->db, WRITER_CACHE_KIB, DB_MMAP_BYTES);
	/* Its commits never checkpoint: the checkpoint thread does. */
	checkpoint_watch(wr->db);
	wr->done = done;
	const char *flag = getenv("MARKETD_TEST_FAIL_COMMIT");
	if (flag != NULL && flag[0] != '\0') {
		wr->fail_commit_flag = xstrdup(flag);
		log_warn("writer: MARKETD_TEST_FAIL_COMMIT is set (a test hook): "
		         "commits fail while %s exists",
		    flag);
	}
	const char *fail = getenv("MARKETD_TEST_FAIL_REPLY");
	if (fail != NULL && fail[0] != '\0') {
		wr->fail_reply = xstrdup(fail);
		log_warn("writer: MARKETD_TEST_FAIL_REPLY is set (a test hook): "
		         "%s answer 500",
		    fail);
	}
	wr->tail = &wr->head;
	pthread_mutex_init(&wr->mu, NULL);
	pthread_cond_init(&wr->cv, NULL);
	return wr;
}

void
writer_submit(struct writer *wr, struct request *r)
{
	r->next = NULL;
	pthread_mutex_lock(&wr->mu);
	*wr->tail = r;
	wr->tail = &r->next;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
}

/* Takes up to BATCH_MAX queued requests; NULL once stopped and empty. */
static struct request *
take(struct writer *wr, int *n)
{
	pthread_mutex_lock(&wr->mu);
	while (wr->head == NULL && !wr->stop)
		pthread_cond_wait(&wr->cv, &wr->mu);
	struct request *list = wr->head, **end = &wr->head;
	*n = 0;
	while (*end != NULL && *n < BATCH_MAX) {
		end = &(*end)->next;
		(*n)++;
	}
	wr->head = *end;
	*end = NULL;
	if (wr->head == NULL)
		wr->tail = &wr->head;
	pthread_mutex_unlock(&wr->mu);
	return list;
}

static int64_t
monotonic_us(void)
{
	return monotonic_ns() / 1000;
}

/*
 * The batch that held requests first..last (excluded) was lost: every
 * one of them fails, not only those that changed rows. A request that
 * read only what an earlier one of the batch wrote (a re-sent sale
 * answered as a duplicate, an Idempotency-Key replay, a repeated
 * payment callback) would otherwise keep a success reply about rows
 * that were never saved.
 */
static void
fail_batch(struct request *first, struct request *last)
{
	for (struct request *r = first; r != last; r = r->next) {
		reply_clear(r);
		reply_error(r, E_UNAVAILABLE, NULL,
		    "the change could not be saved; send it again");
	}
}

/* The MARKETD_TEST_FAIL_REPLY hook names r's route. */
static bool
fail_reply_of(const struct writer *wr, const struct request *r)
{
	if (wr->fail_reply == NULL)
		return false;
	char route[256];
	snprintf(route, sizeof(route), "%s %s", method_name(r->method), r->route->path);
	size_t n = strlen(route);
	for (const char *p = wr->fail_reply; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && memcmp(p, route, n) == 0)
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

static void
run_batch(struct writer *wr, struct request *list, int n)
{
	int64_t t0 = monotonic_us();
	/* Requests from batch_start on belong to the open transaction. */
	struct request *batch_start = list;
	bool open = db_batch_begin(wr->db) == DB_OK;
	for (struct request *r = list; r != NULL; r = r->next) {
		r->db = wr->db;
		if (open && r->route->flat)
			db_job_begin_flat(wr->db);
		else if (!open || db_job_begin(wr->db) != DB_OK) {
			reply_error(
			    r, E_UNAVAILABLE, NULL, "the database is unavailable");
			continue;
		}
		int64_t before = db_total_changes(wr->db);
		bool ok = router_run_handler(r);
		if (ok && fail_reply_of(wr, r)) {
			reply_clear(r);
			reply_error(r, E_INTERNAL, NULL, NULL);
		}
		if (!ok) {
			reply_clear(r);
			reply_error(r, E_INTERNAL, NULL, NULL);
		}
		/* A request answered 500 or more leaves nothing behind, even
		 * what its handler wrote before it failed. */
		bool keep = ok && r->status < 500;
		r->wrote = keep && db_total_changes(wr->db) != before;
		if (!db_job_end(wr->db, keep)) {
			/* SQLite gave the whole transaction up: nothing of it
			 * is saved. Start again for the requests after r. */
			log_warn("writer: a batch was rolled back by the database");
			fail_batch(batch_start, r->next);
			db_batch_end(wr->db, false);
			batch_start = r->next;
			open = db_batch_begin(wr->db) == DB_OK;
		}
	}
	int64_t t1 = monotonic_us();
	if (open && wr->fail_commit_flag != NULL &&
	    access(wr->fail_commit_flag, F_OK) == 0) {
		db_batch_end(wr->db, false);
		log_warn("writer: a commit failed (MARKETD_TEST_FAIL_COMMIT); "
		         "%d requests are refused",
		    n);
		fail_batch(batch_start, NULL);
	} else if (open && db_batch_end(wr->db, true) != DB_OK) {
		log_warn("writer: a commit failed; %d requests are refused", n);
		fail_batch(batch_start, NULL);
	}
	int64_t t2 = monotonic_us();
	/* Events written by this batch are committed: deliver them. */
	webhook_worker_notify();
	metrics_commit(t2 - t1, n);
	if (t2 - t0 > 1000000)
		log_warn("writer: a batch of %d requests took %lld ms", n,
		    (long long)(t2 - t0) / 1000);
	for (struct request *r = list, *next; r != NULL; r = next) {
		next = r->next;
		r->next = NULL;
		wr->done(r);
	}
}

static void *
writer_main(void *arg)
{
	struct writer *wr = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	struct request *list;
	int n;
	while ((list = take(wr, &n)) != NULL)
		run_batch(wr, list, n);
	return NULL;
}

void
writer_start(struct writer *wr)
{
	wr->started = pthread_create(&wr->thread, NULL, writer_main, wr) == 0;
	if (!wr->started)
		fatal("cannot start the writer thread");
}

void
writer_stop(struct writer *wr)
{
	if (wr == NULL || !wr->started)
		return;
	pthread_mutex_lock(&wr->mu);
	wr->stop = true;
	pthread_cond_signal(&wr->cv);
	pthread_mutex_unlock(&wr->mu);
	pthread_join(wr->thread, NULL);
	wr->started = false;
}

void
writer_free(struct writer *wr)
{
	if (wr == NULL)
		return;
	writer_stop(wr);
	db_close(wr->db);
	pthread_mutex_destroy(&wr->mu);
	pthread_cond_destroy(&wr->cv);
	free(wr->fail_commit_flag);
	free(wr->fail_reply);
	free(wr);
}
