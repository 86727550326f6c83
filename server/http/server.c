#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/thread.h>

#include "config.h"
#include "db/checkpoint.h"
#include "db/db.h"
#include "http/conns.h"
#include "http/dbpool.h"
#include "http/errors.h"
#include "http/hasher.h"
#include "http/router.h"
#include "http/writer.h"
#include "webhook_worker.h"
#include "log.h"
#include "tls.h"
#include "util.h"

/* libevent refuses header blocks beyond this itself; the router refuses
 * those over 16 KiB with a proper 431 before that. */
#define LIBEVENT_MAX_HEADERS (64 * 1024)
#define SHUTDOWN_GRACE_MS 250
#define SHUTDOWN_WAIT_S 10
#define WORKER_CACHE_KIB (8 * 1024) /* reports read many pages */

struct worker {
	struct server *srv;
	int index;
	pthread_t thread;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct db *db;
	struct event *stop_ev;
	struct conns *conns;   /* deadlines and the connection count */
	struct event *done_ev; /* the writer gave requests back */
	pthread_mutex_t done_mu;
	struct request *done;    /* ... these, newest first */
	struct event *hashed_ev; /* the hashers gave requests back */
	struct request *hashed;  /* ... these (under done_mu) */
	atomic_int inflight;     /* requests handed to the writer */
	int64_t stop_deadline;   /* shutdown: give up waiting then */
};

struct server {
	const struct config *cfg;
	int fd;
	struct sockaddr_storage addr; /* as bound */
	socklen_t addr_len;
	char where[128];
	struct worker *workers;
	struct dbpool *pool; /* PostgreSQL: the database threads */
	int nworkers;
	struct writer *writer;
	struct hasher *hasher;
	struct webhook_worker *webhooks;
	atomic_bool stopping;
};

struct db *
worker_db(struct worker *w)
{
	return w->db;
}

const struct config *
worker_config(struct worker *w)
{
	return w->srv->cfg;
}

bool
server_stopping(struct worker *w)
{
	return atomic_load(&w->srv->stopping);
}

void
worker_submit_write(struct worker *w, struct request *r)
{
	atomic_fetch_add(&w->inflight, 1);
	writer_submit(w->srv->writer, r);
}

bool
worker_submit_hash(struct worker *w, struct request *r)
{
	atomic_fetch_add(&w->inflight, 1);
	if (hasher_submit(w->srv->hasher, r))
		return true;
	atomic_fetch_sub(&w->inflight, 1);
	return false;
}

/* The hashers' done(): on a hashing thread, back to r's worker. */
static void
hash_done(struct request *r)
{
	struct worker *w = r->w;
	pthread_mutex_lock(&w->done_mu);
	r->next = w->hashed;
	w->hashed = r;
	pthread_mutex_unlock(&w->done_mu);
	event_active(w->hashed_ev, EV_READ, 0);
}

/* On the worker thread: what the hashers finished goes on to the writer. */
static void
on_hashed(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	pthread_mutex_lock(&w->done_mu);
	struct request *list = w->hashed;
	w->hashed = NULL;
	pthread_mutex_unlock(&w->done_mu);
	for (struct request *r = list, *next; r != NULL; r = next) {
		next = r->next;
		r->next = NULL;
		if (r->hash_abandoned) {
			/* The client hung up before its password was hashed: the
			 * answer goes nowhere, and nothing is written. */
			reply_header(r, "Retry-After", "1");
			reply_error(r, E_UNAVAILABLE, NULL,
			    "the connection closed before the password was checked");
			router_finish(r);
		} else {
			worker_submit_write(w, r);
		}
		atomic_fetch_sub(&w->inflight, 1);
	}
}

/* The writer's done(): on the writer thread, back to r's worker. */
static void write_done(struct request *r);

bool
worker_pooled(struct worker *w)
{
	return w->srv->pool != NULL;
}

void
worker_submit_db(struct worker *w, struct request *r)
{
	atomic_fetch_add(&w->inflight, 1);
	r->pooled = true;
	dbpool_submit(w->srv->pool, r);
}

/* A database thread's request is replied: on_done sends it (and ends
 * its count in inflight). */
void
worker_reply_later(struct request *r)
{
	r->pooled = false;
	write_done(r);
}

void
worker_pooled_done(struct worker *w)
{
	/* after whatever r was handed to counted itself in */
	atomic_fetch_sub(&w->inflight, 1);
}

static void
write_done(struct request *r)
{
	struct worker *w = r->w;
	pthread_mutex_lock(&w->done_mu);
	r->next = w->done;
	w->done = r;
	pthread_mutex_unlock(&w->done_mu);
	event_active(w->done_ev, EV_READ, 0);
}

/* On the worker thread: send what the writer finished, oldest first. */
static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	pthread_mutex_lock(&w->done_mu);
	struct request *list = w->done, *rev = NULL;
	w->done = NULL;
	pthread_mutex_unlock(&w->done_mu);
	while (list != NULL) {
		struct request *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	for (struct request *r = rev, *next; r != NULL; r = next) {
		next = r->next;
		router_finish(r);
		atomic_fetch_sub(&w->inflight, 1);
	}
}

/*
 * libevent answers some requests by itself (a body over the limit, a
 * malformed request line, an unknown method) through evhttp_send_error(),
 * with an HTML page. libevent calls it through the PLT, so this
 * definition takes its place, and every such answer is a problem object
 * like the rest of the API's errors.
 */
void
evhttp_send_error(struct evhttp_request *req, int error, const char *reason)
{
	enum api_error e = api_error_for_status(error);
	/* Was it a header block over the limit? */
	if (error == 400 && header_block_size(req) > HTTP_MAX_HEADER_BLOCK)
		e = E_HEADERS_TOO_LARGE;
	const struct api_error_def *d = api_error_def(e);
	enum lang lang = lang_from_accept(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Accept-Language"));
	json_t *p = problem_new(e, lang, NULL,
	    e == E_PAYLOAD_TOO_LARGE ? "the body may be at most 1 MiB"
	    : e == E_NOT_IMPLEMENTED ? "this method is not supported"
	                             : "the request is malformed");
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_clear_headers(out);
	evhttp_add_header(out, "Content-Type", "application/problem+json");
	evhttp_add_header(out, "Content-Language", lang_tag(lang));
	evhttp_add_header(out, "Vary", "Accept-Language");
	evhttp_add_header(out, "Connection", "close");
	evhttp_add_header(out, "Strict-Transport-Security", "max-age=63072000");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	struct evbuffer *buf = evbuffer_new();
	if (buf == NULL) {
		free(text);
		evhttp_connection_free(evhttp_request_get_connection(req));
		return;
	}
	evbuffer_add(buf, text, strlen(text));
	free(text);
	/* A request line that did not parse leaves the version at 0.0, which
	 * libevent's own error page repairs the same way (http_struct.h is
	 * libevent's public, if discouraged, view of the request). */
	if (req->major == 0) {
		req->major = 1;
		req->minor = 1;
	}
	evhttp_send_reply(req, d->status, reason ? reason : d->title, buf);
	evbuffer_free(buf);
}

/*
 * Test-only fault hooks (never set them in production): with
 * MARKETD_TEST_FAIL_SSL_NEW=N the first N accepted connections behave as
 * if SSL_new had failed, with MARKETD_TEST_FAIL_BEV_NEW=N as if
 * bufferevent_openssl_socket_new had. tests/api/test_tls_fail_closed.py
 * uses them.
 */
static atomic_long fail_ssl_left, fail_bev_left;

static void
read_test_faults(void)
{
	const char *s = getenv("MARKETD_TEST_FAIL_SSL_NEW");
	const char *b = getenv("MARKETD_TEST_FAIL_BEV_NEW");
	atomic_store(&fail_ssl_left, s ? strtol(s, NULL, 10) : 0);
	atomic_store(&fail_bev_left, b ? strtol(b, NULL, 10) : 0);
}

static bool
test_fault(atomic_long *left)
{
	long n = atomic_load(left);
	while (n > 0)
		if (atomic_compare_exchange_weak(left, &n, n - 1))
			return true;
	return false;
}

struct refusal {
	struct event *ev;
	struct bufferevent *bev;
};

/* Closes a refused connection the way evhttp closes one that ended. */
static void
close_refused(evutil_socket_t fd, short what, void *arg)
{
	struct refusal *r = arg;
	struct bufferevent *bev = r->bev;
	event_free(r->ev);
	free(r);
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;
	void *cbarg;
	bufferevent_getcb(bev, &rd, &wr, &ev, &cbarg);
	if (ev != NULL)
		ev(bev, BEV_EVENT_READING | BEV_EVENT_EOF, cbarg);
}

/*
 * A connection that cannot have TLS: evhttp, given no bufferevent, would
 * make a plain one and serve HTTP in the clear on the HTTPS port. It gets
 * a plain bufferevent that can never hold a request (a read high-water
 * mark of one byte, so no request line is ever complete), closed as soon
 * as evhttp has taken it over: an event made active now runs in this turn
 * of the loop, after the accept, before the socket is polled.
 */
static struct bufferevent *
refused_bev(struct event_base *base, const char *what)
{
	static atomic_long logged;
	if (atomic_fetch_add(&logged, 1) % 1000 == 0)
		log_warn("TLS: %s failed; the connection is closed", what);
	struct refusal *r = xmalloc(sizeof(*r));
	r->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	r->ev = event_new(base, -1, 0, close_refused, r);
	if (r->bev == NULL || r->ev == NULL)
		fatal("TLS: %s failed, and so did closing the connection", what);
	bufferevent_setwatermark(r->bev, EV_READ, 0, 1);
	event_active(r->ev, EV_TIMEOUT, 0);
	return r->bev;
}

/* Every accepted connection gets a TLS bufferevent; libevent sets its fd.
 * Never NULL: libevent would serve the connection without TLS. */
static struct bufferevent *
make_bev(struct event_base *base, void *arg)
{
	SSL *ssl = test_fault(&fail_ssl_left) ? NULL : tls_new_ssl();
	if (ssl == NULL)
		return refused_bev(base, "SSL_new");
	struct bufferevent *bev = NULL;
	if (test_fault(&fail_bev_left))
		SSL_free(ssl);
	else
		bev = bufferevent_openssl_socket_new(
		    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return refused_bev(base, "bufferevent_openssl_socket_new");
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	conns_track(((struct worker *)arg)->conns, bev);
	return bev;
}

/* A complete request: its connection's deadlines stop until the reply is
 * out (see http/conns.h), and the router takes it. */
static void
dispatch(struct evhttp_request *ev, void *arg)
{
	conns_dispatched(ev);
	router_dispatch(ev, arg);
}

/*
 * Shutdown of a worker: stop accepting, wait until the writer has given
 * back every request this worker handed it (bounded), then let the loop
 * run a grace period so that replies already queued reach their clients
 * before the connections close.
 */
static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	if (w->bound != NULL) {
		evhttp_del_accept_socket(w->http, w->bound);
		w->bound = NULL;
		w->stop_deadline = now_unix() + SHUTDOWN_WAIT_S;
	}
	if (atomic_load(&w->inflight) > 0 && now_unix() < w->stop_deadline) {
		event_add(w->stop_ev, &(struct timeval){0, 10000});
		return;
	}
	event_base_loopexit(w->base, &(struct timeval){0, SHUTDOWN_GRACE_MS * 1000});
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	event_base_dispatch(w->base);
	return NULL;
}

/*
 * A listening socket on addr. SO_REUSEPORT lets every worker have a
 * socket of its own on the same port: the kernel spreads new connections
 * over them, and no two threads wake for the same one.
 */
static int
listen_on(const struct sockaddr *addr, socklen_t len)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	/* TCP_NODELAY is inherited by accepted sockets on Linux: a reply
	 * goes out as several TLS records, and Nagle would hold the last one
	 * back for the client's delayed ACK (40 ms a request). */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    bind(fd, addr, len) < 0 || listen(fd, 511) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	return fd;
}

static int
bind_socket(struct server *s, char **err)
{
	const struct config *cfg = s->cfg;
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                    .ai_socktype = SOCK_STREAM,
	                    .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
	                *ai = NULL;
	char port[16];
	snprintf(port, sizeof(port), "%d", cfg->listen_port);
	int rc = getaddrinfo(cfg->listen_host, port, &hints, &ai);
	if (rc != 0) {
		*err = xasprintf("cannot resolve listen address %s: %s",
		    cfg->listen_host, gai_strerror(rc));
		return -1;
	}
	/* SO_REUSEPORT would also let a second marketd share the port: a
	 * plain bind first proves that nobody listens there. */
	struct sockaddr_storage want;
	socklen_t want_len = ai->ai_addrlen;
	memcpy(&want, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	int probe = socket(want.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (probe < 0 ||
	    setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(probe, (struct sockaddr *)&want, want_len) < 0 ||
	    getsockname(probe, (struct sockaddr *)&want, &want_len) < 0) {
		*err = xasprintf("cannot listen on %s:%d: %s", cfg->listen_host,
		    cfg->listen_port, strerror(errno));
		if (probe >= 0)
			close(probe);
		return -1;
	}
	close(probe);
	int fd = listen_on((struct sockaddr *)&want, want_len);
	if (fd < 0) {
		*err = xasprintf("cannot listen on %s:%d: %s", cfg->listen_host,
		    cfg->listen_port, strerror(errno));
		return -1;
	}
	/* The address as bound (port 0 became a real port): the other
	 * workers' sockets bind to it. */
	s->addr_len = sizeof(s->addr);
	getsockname(fd, (struct sockaddr *)&s->addr, &s->addr_len);
	char host[64];
	int p;
	if (s->addr.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->addr;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		p = ntohs(a->sin6_port);
		snprintf(s->where, sizeof(s->where), "[%s]:%d", host, p);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&s->addr;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		p = ntohs(a->sin_port);
		snprintf(s->where, sizeof(s->where), "%s:%d", host, p);
	}
	s->fd = fd;
	return 0;
}

struct server *
server_new(const struct config *cfg, char **err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, (void (*)(void))evthread_use_pthreads);
	struct server *s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	router_set_demo(cfg->demo);
	s->fd = -1;
	if (bind_socket(s, err) < 0)
		goto fail;
	/* Checkpoints run on a thread of their own (db/checkpoint.h). */
	if (checkpoint_start(cfg->db_path, cfg->synchronous, cfg->wal_size_limit, err) <
	    0)
		goto fail;
	s->writer = writer_new(cfg, write_done, err);
	if (s->writer == NULL)
		goto fail;
	s->hasher = hasher_new(cfg->hash_threads, cfg->hash_queue, hash_done);
	if (db_is_postgres(cfg->db_path)) {
		s->pool = dbpool_new(cfg, cfg->db_pool, router_continue, err);
		if (s->pool == NULL)
			goto fail;
	}
	s->webhooks = webhook_worker_new(cfg, err);
	if (s->webhooks == NULL)
		goto fail;
	s->nworkers = cfg->threads;
	s->workers = xcalloc((size_t)s->nworkers, sizeof(*s->workers));
	for (int i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];
		w->srv = s;
		w->index = i;
		/* On PostgreSQL the database threads hold the connections (a
		 * worker never queries): none is opened for the event loop. */
		if (s->pool == NULL) {
			w->db = db_open(cfg->db_path, cfg->synchronous, err);
			if (w->db == NULL)
				goto fail;
			db_tune(w->db, WORKER_CACHE_KIB, DB_MMAP_BYTES);
			checkpoint_watch(w->db);
		}
		/* The changelist folds a connection's add-then-delete of
		 * events within one loop turn into nothing: a TLS reply made
		 * four epoll_ctl calls a request without it. */
		struct event_config *ec = event_config_new();
		event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		w->base = event_base_new_with_config(ec);
		event_config_free(ec);
		w->http = evhttp_new(w->base);
		if (w->base == NULL || w->http == NULL) {
			*err = xstrdup("cannot create the event loop");
			goto fail;
		}
		w->conns = conns_new(w->base, cfg);
		evhttp_set_bevcb(w->http, make_bev, w);
		if (i == 0)
			read_test_faults();
		evhttp_set_gencb(w->http, dispatch, w);
		evhttp_set_max_body_size(w->http, HTTP_MAX_BODY);
		evhttp_set_max_headers_size(w->http, LIBEVENT_MAX_HEADERS);
		evhttp_set_timeout(w->http, cfg->timeout);
		evhttp_set_flags(w->http, EVHTTP_SERVER_LINGERING_CLOSE);
		evhttp_set_allowed_methods(
		    w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
		                 EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
		                 EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
		/* Each worker accepts on a socket of its own; the first
		 * worker's is the one bound first. */
		int fd = i == 0 ? dup(s->fd)
		                : listen_on((struct sockaddr *)&s->addr, s->addr_len);
		w->bound =
		    fd < 0 ? NULL : evhttp_accept_socket_with_handle(w->http, fd);
		if (w->bound == NULL) {
			*err = xasprintf("cannot accept on %s", s->where);
			goto fail;
		}
		w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
		w->done_ev = event_new(w->base, -1, 0, on_done, w);
		w->hashed_ev = event_new(w->base, -1, 0, on_hashed, w);
		pthread_mutex_init(&w->done_mu, NULL);
	}
	return s;
fail:
	server_free(s);
	return NULL;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	if (sig == SIGHUP) {
		char *err = NULL;
		if (tls_reload(&err) == 0)
			log_info("certificate reloaded");
		else
			log_warn("certificate not reloaded: %s", err);
		free(err);
		return;
	}
	log_info("stopping: no new connections; finishing requests in flight");
	atomic_store(&s->stopping, true);
	for (int i = 0; i < s->nworkers; i++)
		event_active(s->workers[i].stop_ev, EV_READ, 0);
}

int
server_run(struct server *s)
{
	struct event_base *main_base = event_base_new();
	struct event *sigs[3];
	int signos[3] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(main_base, signos[i], on_signal, s);
		evsignal_add(sigs[i], NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	writer_start(s->writer);
	webhook_worker_start(s->webhooks);
	for (int i = 0; i < s->nworkers; i++)
		pthread_create(
		    &s->workers[i].thread, NULL, worker_main, &s->workers[i]);
	fprintf(stderr, "listening on https://%s\n", s->where);
	fflush(stderr);
	while (!atomic_load(&s->stopping))
		event_base_loop(main_base, EVLOOP_ONCE);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i].thread, NULL);
	/* The database threads may still hand requests to the hashers or
	 * the writer: they stop first. */
	dbpool_free(s->pool);
	s->pool = NULL;
	hasher_free(s->hasher);
	s->hasher = NULL;
	writer_stop(s->writer);
	webhook_worker_stop(s->webhooks);
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_base_free(main_base);
	log_info("stopped");
	return 0;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	/* First: a database or hashing thread may still hand a request to a
	 * worker. */
	dbpool_free(s->pool);
	hasher_free(s->hasher);
	for (int i = 0; s->workers && i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];
		if (w->http)
			evhttp_free(w->http);
		conns_free(w->conns);
		if (w->stop_ev)
			event_free(w->stop_ev);
		if (w->hashed_ev)
			event_free(w->hashed_ev);
		if (w->done_ev) {
			event_free(w->done_ev);
			pthread_mutex_destroy(&w->done_mu);
		}
		/* Requests the writer finished after this loop stopped (the
		 * shutdown wait timed out): their connections are gone. */
		for (struct request *r = w->done, *next; r != NULL; r = next) {
			next = r->next;
			router_discard(r);
		}
		for (struct request *r = w->hashed, *next; r != NULL; r = next) {
			next = r->next;
			router_discard(r);
		}
		if (w->base)
			event_base_free(w->base);
		db_close(w->db);
	}
	free(s->workers);
	writer_free(s->writer);
	checkpoint_stop();
	webhook_worker_free(s->webhooks);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
