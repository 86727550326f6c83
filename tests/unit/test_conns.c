/* server/http/conns.c: max-connections closes a connection beyond the
 * limit at once and counts it out when it is freed; a header block must
 * be complete within timeout-header from the accept, however the bytes
 * trickle in; a complete head moves the connection on to the body
 * deadline. Connections are TLS bufferevents on socketpairs whose peer
 * never speaks, as evhttp gets them; "closed" is what evhttp is told. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "config.h"
#include "http/conns.h"
#include "log.h"
#include "unit.h"
#include "util.h"

static SSL_CTX *ctx;

struct client {
	struct bufferevent *bev;
	int peer; /* the other end of the socketpair */
	bool closed;
	short events;
	int64_t closed_ms;
};

static int64_t
now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* What evhttp does with a connection it is told timed out: frees it. */
static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *k = arg;
	k->closed = true;
	k->events = what;
	k->closed_ms = now_ms();
	bufferevent_free(k->bev);
	k->bev = NULL;
}

static void
connect_one(struct event_base *base, struct conns *c, struct client *k)
{
	int sv[2];
	memset(k, 0, sizeof(*k));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		perror("socketpair");
		exit(1);
	}
	evutil_make_socket_nonblocking(sv[0]);
	k->peer = sv[1];
	k->bev = bufferevent_openssl_socket_new(base, sv[0], SSL_new(ctx),
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	CHECK(k->bev != NULL);
	conns_track(c, k->bev);
	bufferevent_setcb(k->bev, NULL, NULL, on_event, k);
}

static void
hang_up(struct client *k)
{
	if (k->bev != NULL)
		bufferevent_free(k->bev);
	k->bev = NULL;
	close(k->peer);
}

/* Runs the loop until cond(arg) or deadline_ms pass: a bound for a
 * failing test, not a margin a passing one depends on. */
static void
run_until(struct event_base *base, bool (*cond)(void *), void *arg, int64_t deadline_ms)
{
	int64_t end = now_ms() + deadline_ms;
	while (!cond(arg) && now_ms() < end) {
		struct timeval tv = {0, 50 * 1000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static int want_open;

/* libevent frees a bufferevent (and with it the SSL) from the loop. */
static bool
open_is_wanted(void *arg)
{
	return conns_open() == want_open;
}

static void
wait_open(struct event_base *base, int n)
{
	want_open = n;
	run_until(base, open_is_wanted, NULL, 10000);
	CHECK(conns_open() == n);
}

static bool
is_closed(void *arg)
{
	return ((struct client *)arg)->closed;
}

static struct config
settings(int head, int body, int max)
{
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.timeout = 60;
	cfg.timeout_header = head;
	cfg.timeout_body = body;
	cfg.max_connections = max;
	return cfg;
}

static void
test_max_connections(void)
{
	struct event_base *base = event_base_new();
	struct config cfg = settings(60, 60, 2);
	struct conns *c = conns_new(base, &cfg);
	int before = conns_open();
	struct client k[3];
	for (int i = 0; i < 3; i++)
		connect_one(base, c, &k[i]);
	CHECK(conns_open() == before + 3);
	run_until(base, is_closed, &k[2], 10000);
	CHECK(k[2].closed);
	CHECK(k[2].events & BEV_EVENT_TIMEOUT);
	CHECK(!k[0].closed && !k[1].closed);
	wait_open(base, before + 2); /* the refused one is counted out */
	hang_up(&k[0]);
	wait_open(base, before + 1);
	/* A slot is free again: a new connection is kept. */
	connect_one(base, c, &k[0]);
	struct timeval tv = {0, 100 * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	CHECK(!k[0].closed);
	for (int i = 0; i < 3; i++)
		hang_up(&k[i]);
	wait_open(base, before);
	conns_free(c);
	event_base_free(base);
}

struct trickle {
	struct client *k;
	struct event *ev;
	int sent;
};

/* One header byte, never a blank line, every 100 ms. */
static void
trickle_byte(evutil_socket_t fd, short what, void *arg)
{
	struct trickle *t = arg;
	if (t->k->bev == NULL)
		return;
	const char *line = t->sent % 10 == 9 ? "\n" : "a";
	evbuffer_add(bufferevent_get_input(t->k->bev), line, 1);
	t->sent++;
}

static void
test_head_deadline_is_not_extended_by_trickling(void)
{
	struct event_base *base = event_base_new();
	struct config cfg = settings(1, 30, 100);
	struct conns *c = conns_new(base, &cfg);
	struct client silent, trickler, complete;
	int64_t t0 = now_ms();
	connect_one(base, c, &silent);
	connect_one(base, c, &trickler);
	connect_one(base, c, &complete);
	/* A whole header block arrives: the head deadline no longer runs. */
	static const char head[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	evbuffer_add(bufferevent_get_input(complete.bev), head, strlen(head));
	struct trickle t = {&trickler, NULL, 0};
	t.ev = event_new(base, -1, EV_PERSIST, trickle_byte, &t);
	event_add(t.ev, &(struct timeval){0, 100 * 1000});

	run_until(base, is_closed, &trickler, 15000);
	CHECK(trickler.closed);
	CHECK(trickler.closed_ms - t0 >= 1000);
	CHECK(t.sent >= 3);
	run_until(base, is_closed, &silent, 15000);
	CHECK(silent.closed);
	CHECK(silent.closed_ms - t0 >= 1000);
	/* Still in its body phase (30 s), so still open. */
	CHECK(!complete.closed);
	event_free(t.ev);
	hang_up(&silent);
	hang_up(&trickler);
	hang_up(&complete);
	conns_free(c);
	event_base_free(base);
}

/* The body deadline runs from the end of the head. */
static void
test_body_deadline(void)
{
	struct event_base *base = event_base_new();
	struct config cfg = settings(30, 1, 100);
	struct conns *c = conns_new(base, &cfg);
	struct client k;
	connect_one(base, c, &k);
	static const char head[] = "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n";
	evbuffer_add(bufferevent_get_input(k.bev), head, strlen(head));
	int64_t t0 = now_ms();
	run_until(base, is_closed, &k, 15000);
	CHECK(k.closed);
	CHECK(k.closed_ms - t0 >= 1000);
	hang_up(&k);
	conns_free(c);
	event_base_free(base);
}

static void
setup(void)
{
	log_set_quiet(1);
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		exit(1);
}

static void
cleanup(void)
{
	SSL_CTX_free(ctx);
}

UNIT_MAIN(setup, test_max_connections, test_head_deadline_is_not_extended_by_trickling,
    test_body_deadline, cleanup)
