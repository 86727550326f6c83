#include "http/hasher.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "http/metrics.h"
#include "log.h"
#include "util.h"

struct hasher {
	void (*done)(struct request *r);
	pthread_t *threads;
	int nthreads, started;
	int cap, queued; /* waiting requests: at most cap */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct request *head, **tail;
	bool stop;
};

void
hasher_run(struct request *r)
{
	if (r->hash_password == NULL)
		return;
	if (r->hash_stored == NULL)
		r->prep_hash = password_hash(r->hash_password);
	else
		r->prep_verified = password_verify(r->hash_password, r->hash_stored) &&
		                   r->prep_account_ok;
	explicit_bzero(r->hash_password, strlen(r->hash_password));
	free(r->hash_password);
	free(r->hash_stored);
	r->hash_password = r->hash_stored = NULL;
}

static void *
hasher_main(void *arg)
{
	struct hasher *h = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&h->mu);
		while (h->head == NULL && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		struct request *r = h->head;
		if (r == NULL) {
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		h->head = r->next;
		if (h->head == NULL)
			h->tail = &h->head;
		h->queued--;
		pthread_mutex_unlock(&h->mu);
		r->next = NULL;
		hasher_run(r);
		metrics_hash_done();
		h->done(r);
	}
}

struct hasher *
hasher_new(int threads, int queue, void (*done)(struct request *r))
{
	struct hasher *h = xcalloc(1, sizeof(*h));
	h->done = done;
	h->cap = queue;
	h->tail = &h->head;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->nthreads = threads;
	h->threads = xcalloc((size_t)threads, sizeof(*h->threads));
	for (; h->started < threads; h->started++)
		if (pthread_create(&h->threads[h->started], NULL, hasher_main, h) != 0)
			fatal("cannot start a password hashing thread");
	return h;
}

bool
hasher_submit(struct hasher *h, struct request *r)
{
	pthread_mutex_lock(&h->mu);
	bool ok = h->queued < h->cap && !h->stop;
	if (ok) {
		r->next = NULL;
		*h->tail = r;
		h->tail = &r->next;
		h->queued++;
		metrics_hash_queued();
		pthread_cond_signal(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return ok;
}

void
hasher_free(struct hasher *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for (int i = 0; i < h->started; i++)
		pthread_join(h->threads[i], NULL);
	free(h->threads);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}
