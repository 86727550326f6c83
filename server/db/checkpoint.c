/* The WAL checkpointer thread; see checkpoint.h. */
#include "db/checkpoint.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

#include "db/db.h"
#include "db/sqlite.h"
#include "log.h"
#include "util.h"

#define MAX_THRESHOLD_PAGES 1000 /* SQLite's own auto-checkpoint */
#define RETRY_SECONDS 1          /* while readers pin frames */
#define TRUNCATE_WAIT_MS 20      /* a TRUNCATE waits this long for readers */
#define MAX_BACKOFF_MS 1000      /* between TRUNCATEs that readers foil */

struct checkpointer {
	struct db *db;
	int64_t limit;
	int64_t frame_bytes; /* a page and its frame header */
	int threshold;       /* frames that start a checkpoint */
	atomic_int next;     /* the commit that reaches this many frames wakes it */
	atomic_int frames;   /* in the WAL at the last commit */
	atomic_uint commits; /* watched commits so far */
	int64_t retry_at_ms; /* no waiting RESTART before then */
	int64_t backoff_ms;  /* doubles with each that readers foil */
	/* The last round's RESTART left the file over the limit for the
	 * writer's next commit to cut back; restarted_commits is the count
	 * of commits when it ran. */
	bool restarted;
	unsigned restarted_commits;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool wake, stop;
};

static struct checkpointer *ck;
static void (*round_hook)(void);

static void
wake(struct checkpointer *c)
{
	atomic_store(&c->next, INT_MAX); /* one wake until it re-arms */
	pthread_mutex_lock(&c->mu);
	c->wake = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* On the committing thread, after its commit: frames in the WAL. */
static int
on_commit(void *arg, sqlite3 *h, const char *name, int frames)
{
	struct checkpointer *c = arg;
	atomic_store(&c->frames, frames);
	atomic_fetch_add(&c->commits, 1);
	if (frames >= atomic_load(&c->next))
		wake(c);
	return SQLITE_OK;
}

static int64_t
now_ms(void)
{
	return monotonic_ns() / 1000000;
}

/* One round: true when it must look again in a second (frames are left
 * that readers still need, or a restarted file may need cutting). */
static bool
checkpoint_once(struct checkpointer *c)
{
	sqlite3 *h = db_handle(c->db);
	unsigned commits = atomic_load(&c->commits);
	int log = 0, done = 0;
	int rc = sqlite3_wal_checkpoint_v2(
	    h, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done);
	bool over = (int64_t)log * c->frame_bytes > c->limit;
	bool cut = false;
	bool idle = c->restarted && commits == c->restarted_commits;
	c->restarted = false;
	if (rc == SQLITE_OK && over && now_ms() >= c->retry_at_ms) {
		/* Over the limit: restart the WAL. The writer's batches follow
		 * each other closely, and readers that come and go can keep a
		 * passive checkpoint from ever finishing, so hold this
		 * process's writes back for a moment while the readers of old
		 * frames end (new ones then read the database file); when a
		 * long reader foils it, wait longer before trying again.
		 *
		 * RESTART, not TRUNCATE: the writer's next commit writes from
		 * the start of the file again and cuts it back to the limit
		 * (journal_size_limit), so the file keeps its blocks. Cut to
		 * nothing, it grew again under the load, and the kernel gave
		 * it new zeroed blocks: 12 % of the writer's time under stall
		 * sales in perf. Only when no commit came since the last
		 * round's RESTART (the load has stopped) does a TRUNCATE cut
		 * the file itself. */
		int mode =
		    idle ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_RESTART;
		sqlite3_busy_timeout(h, TRUNCATE_WAIT_MS);
		rc = db_checkpoint_held(c->db, mode, &log, &done);
		sqlite3_busy_timeout(h, 0);
		if (rc == SQLITE_OK && done == log) {
			c->backoff_ms = 0;
			cut = true;
			c->restarted = mode == SQLITE_CHECKPOINT_RESTART;
			c->restarted_commits = commits;
		} else {
			c->backoff_ms = c->backoff_ms == 0 ? 100
			                : c->backoff_ms >= MAX_BACKOFF_MS
			                    ? MAX_BACKOFF_MS
			                    : 2 * c->backoff_ms;
		}
		c->retry_at_ms = now_ms() + c->backoff_ms;
	}
	/* Behind, to be tried again in a second: frames not yet copied, or
	 * a WAL over the limit not cut (a TRUNCATE foiled, or put off by
	 * the backoff). The writer's next commit would cut a copied WAL
	 * back, but when the load has stopped there is none: the WAL stayed
	 * over the limit for good (api.test_wal, on a busy machine). */
	bool behind = rc != SQLITE_OK || done < log || (over && !cut);
	/* After a RESTART, look again in a second: to TRUNCATE if no
	 * commit came to cut the file back. */
	bool look_again = behind || c->restarted;
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
		log_warn("checkpoint: %s", sqlite3_errmsg(h));
	/* The writer restarts a fully copied WAL at its next write; one
	 * that readers hold keeps growing, so wake again a threshold on. */
	int next = behind && log > 0 ? log + c->threshold : c->threshold;
	if (round_hook != NULL)
		round_hook();
	atomic_store(&c->next, next);
	/* A commit during this round found no one to wake (next was out of
	 * reach): when it reached next, go round again now. Missed, a last
	 * commit that took the WAL over the limit while this round looked at
	 * a smaller one left it there for good once the load stopped. */
	if (atomic_load(&c->commits) != commits && atomic_load(&c->frames) >= next)
		wake(c);
	return look_again;
}

static void *
run(void *arg)
{
	struct checkpointer *c = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	bool behind = false;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		if (!c->wake && behind) {
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			t.tv_sec += RETRY_SECONDS;
			pthread_cond_timedwait(&c->cv, &c->mu, &t);
		} else if (!c->wake) {
			pthread_cond_wait(&c->cv, &c->mu);
		}
		if (c->stop)
			break;
		c->wake = false;
		pthread_mutex_unlock(&c->mu);
		behind = checkpoint_once(c);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int
checkpoint_start(const char *path, const char *synchronous, int64_t limit, char **err)
{
	if (db_is_postgres(path))
		return 0; /* no WAL of ours: PostgreSQL checkpoints itself */
	struct checkpointer *c = xcalloc(1, sizeof(*c));
	c->db = db_open(path, synchronous, err);
	if (c->db == NULL) {
		free(c);
		return -1;
	}
	sqlite3 *h = db_handle(c->db);
	/* Never wait: a checkpoint that meets the writer or a reader does
	 * what it can and is tried again. */
	sqlite3_busy_timeout(h, 0);
	sqlite3_stmt *st = NULL;
	int page = 4096;
	if (sqlite3_prepare_v2(h, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		page = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	c->limit = limit;
	c->frame_bytes = page + 24;
	int64_t t = limit / 2 / c->frame_bytes;
	c->threshold = t < 1                     ? 1
	               : t > MAX_THRESHOLD_PAGES ? MAX_THRESHOLD_PAGES
	                                         : (int)t;
	atomic_init(&c->next, c->threshold);
	atomic_init(&c->frames, 0);
	atomic_init(&c->commits, 0);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, run, c) != 0) {
		db_close(c->db);
		free(c);
		*err = xstrdup("cannot start the checkpoint thread");
		return -1;
	}
	ck = c;
	return 0;
}

void
checkpoint_watch(struct db *db)
{
	if (ck == NULL)
		return;
	char *sql = xasprintf("PRAGMA journal_size_limit = %lld", (long long)ck->limit);
	db_exec(db, sql);
	free(sql);
	/* The hook replaces SQLite's auto-checkpoint on this connection. */
	sqlite3_wal_hook(db_handle(db), on_commit, ck);
}

void
checkpoint_test_round_hook(void (*hook)(void))
{
	round_hook = hook;
}

void
checkpoint_stop(void)
{
	struct checkpointer *c = ck;
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	ck = NULL;
	db_close(c->db);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}
