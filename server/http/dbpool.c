#include "http/dbpool.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "db/db.h"
#include "log.h"
#include "util.h"

struct thread {
	struct dbpool *pool;
	pthread_t id;
	struct db *db;
	bool started;
};

struct dbpool {
	void (*run)(struct request *r);
	struct thread *threads;
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct request *head, **tail;
	bool stop;
};

static void *
thread_main(void *arg)
{
	struct thread *t = arg;
	struct dbpool *p = t->pool;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		struct request *r = p->head;
		if (r == NULL) { /* stopping, and nothing left */
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		p->head = r->next;
		if (p->head == NULL)
			p->tail = &p->head;
		pthread_mutex_unlock(&p->mu);
		r->next = NULL;
		r->db = t->db;
		p->run(r);
	}
}

struct dbpool *
dbpool_new(
    const struct config *cfg, int threads, void (*run)(struct request *r), char **err)
{
	struct dbpool *p = xcalloc(1, sizeof(*p));
	p->run = run;
	p->tail = &p->head;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->threads = xcalloc((size_t)threads, sizeof(*p->threads));
	p->n = threads;
	for (int i = 0; i < threads; i++) {
		struct thread *t = &p->threads[i];
		t->pool = p;
		t->db = db_open(cfg->db_path, cfg->synchronous, err);
		if (t->db == NULL) {
			dbpool_free(p);
			return NULL;
		}
	}
	for (int i = 0; i < threads; i++) {
		struct thread *t = &p->threads[i];
		t->started = pthread_create(&t->id, NULL, thread_main, t) == 0;
		if (!t->started)
			fatal("cannot start a database thread");
	}
	return p;
}

void
dbpool_submit(struct dbpool *p, struct request *r)
{
	r->next = NULL;
	pthread_mutex_lock(&p->mu);
	*p->tail = r;
	p->tail = &r->next;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
dbpool_free(struct dbpool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++) {
		if (p->threads[i].started)
			pthread_join(p->threads[i].id, NULL);
		db_close(p->threads[i].db);
	}
	free(p->threads);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
