#include "http/conns.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define SWEEP_MS 1000
#define REFUSED_LOG_EVERY_MS 10000

enum phase {
	PH_HEAD,       /* TLS handshake or header block under way */
	PH_BODY,       /* header block in, body under way */
	PH_DISPATCHED, /* with the router, or its reply being written */
	PH_IDLE,       /* reply written, no byte of the next request yet */
};

struct conn {
	struct conns *owner;      /* NULL once the owner is gone */
	struct conn *prev, *next; /* the owner's list */
	struct bufferevent *bev;
	enum phase phase;
	int64_t since_ms; /* when the phase began */
	int scan;         /* end-of-head scanner state, see scan_head */
	bool refused;     /* over max-connections: close at once */
	bool closing;     /* closed; waiting for libevent to free it */
};

struct conns {
	struct event_base *base;
	struct event *sweep;
	struct conn *list;
	int64_t head_ms, body_ms, idle_ms;
	int max;
	int64_t refused_logged_ms;
	long refused_since_log;
};

static atomic_int nopen;
static atomic_llong nclosed[CONNS_CLOSE_REASONS];
static int ex_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static int64_t
now_ms(void)
{
	return monotonic_ns() / 1000000;
}

static void
unlink_conn(struct conn *k)
{
	if (k->owner == NULL)
		return;
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		k->owner->list = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	k->prev = k->next = NULL;
}

/* OpenSSL calls this when a connection's SSL is freed, which libevent
 * does when it frees the connection's bufferevent, whatever the path. */
static void
conn_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct conn *k = ptr;
	if (k == NULL)
		return;
	unlink_conn(k);
	atomic_fetch_sub(&nopen, 1);
	free(k);
}

static void
make_ex_index(void)
{
	ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_gone);
	if (ex_index < 0)
		fatal("cannot make an SSL ex_data index");
}

static struct conn *
conn_of(struct bufferevent *bev)
{
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	return ssl ? SSL_get_ex_data(ssl, ex_index) : NULL;
}

static void
enter(struct conn *k, enum phase p)
{
	k->phase = p;
	k->since_ms = now_ms();
	k->scan = 0;
}

/*
 * Finds the end of a header block in the request's bytes as they arrive:
 * an empty line, "\r\n" or a bare "\n" as libevent reads lines. scan is
 * 0 inside a line, 1 at the start of a line, 2 after a '\r' at its start.
 * Returns true at the end of the block.
 */
static bool
scan_head(int *scan, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (*scan != 0)
				return true;
			*scan = 1;
		} else if (p[i] == '\r' && *scan == 1) {
			*scan = 2;
		} else {
			*scan = 0;
		}
	}
	return false;
}

/* Scans buf from offset from for the end of the head. */
static void
scan_from(struct conn *k, struct evbuffer *buf, size_t from)
{
	struct evbuffer_ptr pos;
	if (evbuffer_ptr_set(buf, &pos, from, EVBUFFER_PTR_SET) < 0)
		return;
	unsigned char chunk[2048];
	size_t left = evbuffer_get_length(buf) - from;
	while (left > 0) {
		ev_ssize_t got = evbuffer_copyout_from(
		    buf, &pos, chunk, left < sizeof(chunk) ? left : sizeof(chunk));
		if (got <= 0)
			return;
		if (scan_head(&k->scan, chunk, (size_t)got)) {
			enter(k, PH_BODY);
			return;
		}
		left -= (size_t)got;
		if (evbuffer_ptr_set(buf, &pos, (size_t)got, EVBUFFER_PTR_ADD) < 0)
			return;
	}
}

/* Every change of the connection's input buffer (decrypted bytes added
 * by the TLS layer, bytes consumed by evhttp). */
static void
on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *k = arg;
	if (info->n_added == 0 || k->closing)
		return;
	if (k->phase == PH_IDLE)
		enter(k, PH_HEAD);
	if (k->phase != PH_HEAD)
		return;
	size_t len = evbuffer_get_length(buf);
	scan_from(k, buf, info->n_added < len ? len - info->n_added : 0);
}

/* The reply is written: the connection waits for its next request. */
static void
on_complete(struct evhttp_request *req, void *arg)
{
	struct conn *k = arg;
	enter(k, PH_IDLE);
	/* Bytes of a pipelined request may be waiting already. */
	struct evbuffer *in = bufferevent_get_input(k->bev);
	if (evbuffer_get_length(in) > 0) {
		enter(k, PH_HEAD);
		scan_from(k, in, 0);
	}
}

/* Closes k the way evhttp closes a connection whose read timed out;
 * false when evhttp does not hold it (yet, or any more). */
static bool
close_conn(struct conn *k)
{
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;
	void *arg;
	bufferevent_getcb(k->bev, &rd, &wr, &ev, &arg);
	if (ev == NULL)
		return false; /* evhttp has not taken it over yet, or let it go */
	k->closing = true;
	ev(k->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, arg);
	return true;
}

static void
sweep(evutil_socket_t fd, short what, void *arg)
{
	struct conns *c = arg;
	int64_t now = now_ms();
	struct conn *next;
	for (struct conn *k = c->list; k != NULL; k = next) {
		next = k->next; /* close_conn may free k */
		if (k->closing)
			continue;
		int64_t limit = k->refused            ? 0
		                : k->phase == PH_HEAD ? c->head_ms
		                : k->phase == PH_BODY ? c->body_ms
		                : k->phase == PH_IDLE ? c->idle_ms
		                                      : -1;
		if (limit >= 0 && now - k->since_ms >= limit) {
			enum conns_close why =
			    k->refused            ? CONNS_REFUSED
			    : k->phase == PH_HEAD ? CONNS_HEAD_DEADLINE
			    : k->phase == PH_BODY ? CONNS_BODY_DEADLINE
			                          : CONNS_IDLE;
			if (close_conn(k))
				atomic_fetch_add(&nclosed[why], 1);
		}
	}
	if (c->refused_since_log > 0 &&
	    now - c->refused_logged_ms >= REFUSED_LOG_EVERY_MS) {
		log_warn("refused %ld connections: %d open (max-connections %d)",
		    c->refused_since_log, atomic_load(&nopen), c->max);
		c->refused_since_log = 0;
		c->refused_logged_ms = now;
	}
}

struct conns *
conns_new(struct event_base *base, const struct config *cfg)
{
	pthread_once(&ex_once, make_ex_index);
	struct conns *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->head_ms = (int64_t)cfg->timeout_header * 1000;
	c->body_ms = (int64_t)cfg->timeout_body * 1000;
	c->idle_ms = (int64_t)cfg->timeout * 1000;
	c->max = cfg->max_connections;
	c->sweep = event_new(base, -1, EV_PERSIST, sweep, c);
	if (c->sweep == NULL)
		fatal("cannot make the connection sweep event");
	event_add(c->sweep, &(struct timeval){SWEEP_MS / 1000, SWEEP_MS % 1000 * 1000});
	return c;
}

void
conns_free(struct conns *c)
{
	if (c == NULL)
		return;
	event_free(c->sweep);
	/* Connections freed after this are still counted out by conn_gone. */
	for (struct conn *k = c->list; k != NULL; k = k->next)
		k->owner = NULL;
	free(c);
}

void
conns_track(struct conns *c, struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	struct conn *k = xcalloc(1, sizeof(*k));
	k->owner = c;
	k->bev = bev;
	enter(k, PH_HEAD);
	k->next = c->list;
	if (c->list != NULL)
		c->list->prev = k;
	c->list = k;
	SSL_set_ex_data(ssl, ex_index, k);
	if (atomic_fetch_add(&nopen, 1) >= c->max) {
		k->refused = true;
		c->refused_since_log++;
		/* evhttp takes the bufferevent over when this returns; the
		 * sweep, made active now, runs after that and closes it. */
		event_active(c->sweep, EV_TIMEOUT, 0);
		return;
	}
	/* A bufferevent's input buffer runs its callbacks as bytes are
	 * added, before evhttp reads them. */
	evbuffer_add_cb(bufferevent_get_input(bev), on_input, k);
}

void
conns_dispatched(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct conn *k =
	    evcon ? conn_of(evhttp_connection_get_bufferevent(evcon)) : NULL;
	if (k == NULL)
		return;
	enter(k, PH_DISPATCHED);
	evhttp_request_set_on_complete_cb(req, on_complete, k);
}

int
conns_open(void)
{
	return atomic_load(&nopen);
}

long long
conns_closed(enum conns_close why)
{
	return atomic_load(&nclosed[why]);
}
