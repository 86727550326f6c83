/* POLLRDHUP: the peer shut its side down (Linux). */
#define _GNU_SOURCE
#include "http/hasher.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crypto.h"
#include "http/metrics.h"
#include "log.h"
#include "util.h"

/* The nice value of the hashing threads (the event loops run at 0). */
#define HASHER_NICE 10

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

/*
 * True when r's client has hung up (its socket has seen the peer's FIN
 * or a reset). Clients that give up while their password waits (a
 * phone out of signal, a login button pressed again) must not keep the
 * hashers busy: 64 abandoned logins take a 2-core machine 16 s to hash,
 * and until then every new login is refused 503 (tools/bench logins saw
 * it). The connection cannot be freed meanwhile, since evhttp holds it
 * until its request is answered, so the descriptor is still its own.
 */
static bool
peer_gone(const struct request *r)
{
	if (r->peer_fd <= 0) /* unknown (0: a request made outside the router) */
		return false;
	struct pollfd p = {.fd = r->peer_fd, .events = POLLRDHUP};
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

void
hasher_run(struct request *r)
{
	if (r->hash_password == NULL)
		return;
	if (peer_gone(r)) {
		r->hash_abandoned = true;
	} else if (r->hash_stored == NULL)
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
	/* A login may wait; a stall's sale or a product page should not. At
	 * nice 10 a hashing thread gets about a tenth of a core the event
	 * loops want (the kernel's weights: 110 against 1024), and all of an
	 * idle one, so 64 logins at once no longer double the p99 of reads
	 * on a 2-core machine. Raising one's own nice needs no privilege;
	 * on Linux it applies to this thread alone. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HASHER_NICE) != 0)
		log_warn("hashing thread: cannot lower its priority");
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
		metrics_hash_done(r->hash_abandoned);
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
