/*
 * Connection accounting and deadlines, for slow and greedy clients.
 *
 * evhttp's own timeout (timeout-idle) is one inactivity timer: a client
 * that sends a byte every few seconds never trips it, and could hold a
 * connection forever while it "sends" its headers (slowloris). So every
 * connection also has deadlines measured from the start of a phase:
 *
 *   head  from the accept (TLS handshake included) or from the first byte
 *         of a later request, until the blank line that ends its header
 *         block: timeout-header
 *   body  from there until the whole request is in: timeout-body
 *
 * While the request is with the router and its reply is being written,
 * no deadline runs (evhttp's write timeout catches a client that does not
 * read); once the reply is out the connection is idle until its next byte.
 * A connection past its deadline is closed as evhttp closes one whose read
 * timed out. A sweep on each worker's loop checks the deadlines once a
 * second, so a deadline is kept to within about a second.
 *
 * max-connections bounds the open connections of the whole process: one
 * accepted beyond it is closed at once, before its TLS handshake.
 */
#ifndef MARKET_HTTP_CONNS_H
#define MARKET_HTTP_CONNS_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

struct config;
struct conns;

/* The connections of one worker's event loop. Never NULL. */
struct conns *conns_new(struct event_base *base, const struct config *cfg);
/* Call before the event base is freed (after evhttp_free); accepts NULL.
 * Connections that the base frees later are still counted out. */
void conns_free(struct conns *c);

/* A new connection's TLS bufferevent (its SSL not yet handshaken): counts
 * it and starts its head deadline, or marks it to be closed at once when
 * max-connections are open. */
void conns_track(struct conns *c, struct bufferevent *bev);

/* The request is complete and goes to the router: its connection's
 * deadlines stop until the reply has been written. */
void conns_dispatched(struct evhttp_request *req);

/* Connections open in the whole process (for tests and logs). */
int conns_open(void);

/* Why connections were closed here, since start (for /metrics): over
 * max-connections, past the head deadline, past the body deadline, idle
 * too long between requests. */
enum conns_close {
	CONNS_REFUSED,
	CONNS_HEAD_DEADLINE,
	CONNS_BODY_DEADLINE,
	CONNS_IDLE,
	CONNS_CLOSE_REASONS
};
long long conns_closed(enum conns_close why);

#endif
