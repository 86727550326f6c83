/* The router's core: a request from evhttp through routing, access and
 * its body (http/match.c, http/access.c, http/body.c) to its handler, on
 * the worker for reads and on the writer for writes (http/writer.c), and
 * its one reply back, with the headers every answer carries and the
 * access log line. */
#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config.h"
#include "db/db.h"
#include "http/cache.h"
#include "http/access.h"
#include "http/access_log.h"
#include "http/hasher.h"
#include "http/ratelimit.h"
#include "http/metrics.h"
#include "http/pages.h"
#include "http/server.h"
#include "log.h"
#include "util.h"

/* Replies up to this size go out as one TLS record (a record holds at
 * most 16 KiB). */
#define JOIN_MAX 16000

bool
route_writes(const struct route *route)
{
	return route->method != EVHTTP_REQ_GET && route->method != EVHTTP_REQ_HEAD;
}

/* Everything before the handler. True when the request goes on to its
 * handler, false when a reply is set already. */
static bool
route_request(struct request *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->ev);
	if (header_block_size(r->ev) > HTTP_MAX_HEADER_BLOCK) {
		reply_error(r, E_HEADERS_TOO_LARGE, NULL,
		    "the header block may be at most 16 KiB");
		return false;
	}
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	size_t path_len = 0;
	r->path = raw_path ? evhttp_uridecode(raw_path, 0, &path_len) : NULL;
	r->path_len = r->path ? path_len : 0;
	if (r->path == NULL || strlen(r->path) != path_len) {
		reply_error(r, E_BAD_REQUEST, NULL, "the request target is malformed");
		return false;
	}
	const char *q = evhttp_uri_get_query(uri);
	if (q != NULL && !query_is_text(q)) {
		reply_error(r, E_BAD_JSON, NULL,
		    "a query parameter is not UTF-8 text (or holds a NUL)");
		return false;
	}
	if (q != NULL && evhttp_parse_query_str(q, &r->query) != 0) {
		reply_error(r, E_BAD_REQUEST, NULL, "the query string is malformed");
		return false;
	}
	unsigned allow;
	r->route = route_match(r->method, r->path, r->params, &allow);
	if (r->route == NULL) {
		if (allow == 0 && pages_path(r->path)) {
			pages_serve(r);
		} else if (allow == 0) {
			reply_error(r, E_NOT_FOUND, NULL, "no such resource");
		} else {
			route_set_allow(r, allow);
			reply_error(r, E_METHOD_NOT_ALLOWED, NULL,
			    "%s is not allowed here", method_name(r->method));
		}
		return false;
	}
	if (!access_authenticate(r))
		return false;
	if ((r->route->roles & r->user.role) == 0) {
		if (r->user.id == 0)
			reply_error(r, E_UNAUTHORIZED, NULL, "log in first");
		else
			reply_error(r, E_FORBIDDEN, NULL, "a %s may not do this",
			    role_name(r->user.role));
		return false;
	}
	if (r->route->body && !read_body(r))
		return false;
	/* A write's region checks run on the writer, in the transaction
	 * that acts on what they read (router_run_handler). */
	if (!route_writes(r->route) && !access_check_scope(r))
		return false;
	return true;
}

bool
router_run_handler(struct request *r)
{
	/* For a write, r->db is the writer's, inside the request's job
	 * savepoint: the region a check reads cannot change before the
	 * handler writes (a producer moved to another region meanwhile). */
	if (!route_writes(r->route) || access_check_scope(r))
		r->route->handler(r);
	db_rollback(r->db); /* a no-op unless a handler left a transaction open */
	if (!replied(r)) {
		log_warn(
		    "bug: %s %s gave no reply", method_name(r->method), r->route->path);
		reply_error(r, E_INTERNAL, NULL, NULL);
	}
	/* The audit entry joins the change in the writer's transaction:
	 * both are kept, or (returning false) both are undone. */
	if (route_writes(r->route) && !router_services.audit(r)) {
		log_warn("%s %s: the audit entry could not be written",
		    method_name(r->method), r->route->path);
		return false;
	}
	return true;
}

static void
send_reply(struct request *r)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->ev);
	evhttp_add_header(out, "Strict-Transport-Security", "max-age=63072000");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	if (r->user.id != 0 && evhttp_find_header(out, "Cache-Control") == NULL)
		evhttp_add_header(out, "Cache-Control", "no-store");
	if (server_stopping(r->w))
		evhttp_add_header(out, "Connection", "close");
	struct evbuffer *body = evbuffer_new();
	if (r->reply_body != NULL) {
		bool problem =
		    json_object_get(r->reply_body, "code") != NULL && r->status >= 400;
		evhttp_add_header(out, "Content-Type",
		    problem ? "application/problem+json"
		            : "application/json; charset=utf-8");
		/* A problem's title and detail are in the language asked for. */
		if (problem) {
			evhttp_add_header(out, "Content-Language", lang_tag(r->lang));
			evhttp_add_header(out, "Vary", "Accept-Language");
		}
		char *text = json_dumps(r->reply_body, JSON_COMPACT);
		evbuffer_add(body, text, strlen(text));
		free(text);
	} else if (r->reply_raw != NULL) {
		evhttp_add_header(out, "Content-Type", r->reply_type);
		evbuffer_add_buffer(body, r->reply_raw);
	}
	/* A HEAD answer says what a GET would send, and sends none of it
	 * (libevent would send the body). */
	if (r->method == EVHTTP_REQ_HEAD && evbuffer_get_length(body) > 0) {
		char len[24];
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(out, "Content-Length", len);
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	const struct api_error_def *d = api_error_def(api_error_for_status(r->status));
	const char *reason = r->status < 300    ? NULL
	                     : r->status == 304 ? "Not Modified"
	                     : r->status == 301 ? "Moved Permanently"
	                                        : d->title;
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev);
	struct bufferevent *bev =
	    evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evhttp_send_reply(r->ev, r->status, reason, body);
	evbuffer_free(body);
	/* The head and the body are two pieces of the connection's output,
	 * and the TLS layer sends each piece as a record of its own, with a
	 * write(2) of its own: a small reply went out as two records in two
	 * TCP segments. Joined, it is one of each. The bytes are written
	 * later, from the event loop. */
	if (bev != NULL) {
		struct evbuffer *o = bufferevent_get_output(bev);
		size_t n = evbuffer_get_length(o);
		if (n > 0 && n <= JOIN_MAX)
			evbuffer_pullup(o, -1);
	}
}

void
router_finish(struct request *r)
{
	send_reply(r);
	int64_t us = (monotonic_ns() - r->t0_ns) / 1000;
	metrics_request(
	    method_name(r->method), r->route ? r->route->path : NULL, r->status, us);
	/* The access log: never the query string or a body (they may hold
	 * names or passwords), only what identifies the request. The path is
	 * the one field a client chooses: escaped, so that it cannot end the
	 * line or fake a field (access_log scrubs the line as a last guard). */
	if (r->cfg->access_log) {
		char path[512];
		if (r->path != NULL)
			log_escape(path, sizeof(path), r->path, r->path_len);
		else
			strcpy(path, "-");
		access_log("%s %s %d %ldus user=%lld %s", method_name(r->method), path,
		    r->status, (long)us, (long long)r->user.id, r->remote_addr);
	}
	router_discard(r);
}

void
router_discard(struct request *r)
{
	free(r->path);
	for (int i = 0; i < REQUEST_MAX_PARAMS; i++)
		free(r->params[i]);
	evhttp_clear_headers(&r->query);
	json_decref(r->body);
	json_decref(r->reply_body);
	if (r->reply_raw != NULL)
		evbuffer_free(r->reply_raw);
	free(r->prep_hash);
	if (r->hash_password != NULL)
		explicit_bzero(r->hash_password, strlen(r->hash_password));
	free(r->hash_password);
	free(r->hash_stored);
	json_decref(r->audit_id);
	free(r);
}

/* r's client: the peer, or behind a trusted proxy the address its
 * X-Forwarded-For headers name (proxies.h). */
static void
client_address(struct request *r, const char *peer)
{
	const struct proxies *p = &r->cfg->proxies;
	if (p->n == 0 || !proxies_trust(p, peer)) {
		snprintf(r->remote_addr, sizeof(r->remote_addr), "%s", peer);
		return;
	}
	struct evkeyvalq *in = evhttp_request_get_input_headers(r->ev);
	struct evbuffer *xff = evbuffer_new();
	for (struct evkeyval *h = in->tqh_first; h != NULL; h = h->next.tqe_next)
		if (strcasecmp(h->key, "X-Forwarded-For") == 0)
			evbuffer_add_printf(xff, "%s%s",
			    evbuffer_get_length(xff) > 0 ? "," : "", h->value);
	const char *joined = NULL;
	if (evbuffer_get_length(xff) > 0) {
		evbuffer_add(xff, "", 1);
		joined = (const char *)evbuffer_pullup(xff, -1);
	}
	proxies_client(p, peer, joined, r->remote_addr, sizeof(r->remote_addr));
	evbuffer_free(xff);
}

void
router_dispatch(struct evhttp_request *ev, void *arg)
{
	struct worker *w = arg;
	struct request *r = xcalloc(1, sizeof(*r));
	r->ev = ev;
	r->w = w;
	r->db = worker_db(w);
	r->cfg = worker_config(w);
	r->method = evhttp_request_get_command(ev);
	r->now = now_unix();
	r->t0_ns = monotonic_ns();
	r->lang = lang_from_accept(evhttp_find_header(
	    evhttp_request_get_input_headers(ev), "Accept-Language"));
	r->query.tqh_first = NULL;
	r->query.tqh_last = &r->query.tqh_first;
	struct evhttp_connection *conn = evhttp_request_get_connection(ev);
	if (conn != NULL) {
		char *addr;
		ev_uint16_t port;
		evhttp_connection_get_peer(conn, &addr, &port);
		client_address(r, addr ? addr : "");
		struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
		r->peer_fd = bev != NULL ? (int)bufferevent_getfd(bev) : -1;
	}

	if (worker_pooled(w)) {
		worker_submit_db(w, r); /* router_continue, on a database thread */
		return;
	}
	router_continue(r);
}

/* Sends r's reply: at once on its worker, or, from a database thread,
 * by handing r back to its worker. */
static void
complete(struct request *r)
{
	if (r->pooled)
		worker_reply_later(r);
	else
		router_finish(r);
}

void
router_continue(struct request *r)
{
	struct worker *w = r->w;
	if (!route_request(r)) {
		db_rollback(r->db);
		complete(r);
		return;
	}
	/* The token lookup's statement is left stepped: reset it, or this
	 * worker's connection would keep its read snapshot, and with it the
	 * WAL's frames, until its next request (db/checkpoint.h). */
	db_reset_all(r->db);
	if (!route_writes(r->route)) {
		uint64_t version = 0;
		if (!r->route->cached || !cache_reply(r, &version)) {
			router_run_handler(r);
			if (r->route->cached)
				cache_store(r, version);
		}
		complete(r);
		return;
	}
	if (r->route->addr_limited && r->remote_addr[0] != '\0') {
		int64_t retry = ratelimit_take(r->remote_addr, r->now,
		    r->cfg->auth_address_window, r->cfg->auth_address_max);
		if (retry > 0) {
			char secs[24];
			snprintf(secs, sizeof(secs), "%lld", (long long)retry);
			reply_header(r, "Retry-After", secs);
			reply_error(r, E_RATE_LIMITED, NULL,
			    "too many logins or registrations from your address; try "
			    "again in %s seconds",
			    secs);
			complete(r);
			return;
		}
	}
	if (r->route->prepare != NULL) {
		r->route->prepare(r);
		r->prepared = true;
		db_rollback(r->db);
		if (replied(r)) {
			complete(r);
			return;
		}
		/* The scrypt work prepare asked for runs on a hashing thread;
		 * r comes back to this worker and goes on to the writer. */
		if (r->hash_password != NULL) {
			/* Once handed on, r may be done with before this
			 * returns: nothing of it is read after. */
			bool pooled = r->pooled;
			r->pooled = false;
			if (worker_submit_hash(w, r)) {
				if (pooled)
					worker_pooled_done(w);
				return;
			}
			r->pooled = pooled; /* refused: r is still this thread's */
			metrics_hash_refused();
			reply_header(r, "Retry-After", "1");
			reply_error(r, E_UNAVAILABLE, NULL,
			    "too many passwords are being checked; try again in a "
			    "second");
			complete(r);
			return;
		}
	}
	/* The writer runs the handler and hands r back to this worker. */
	bool pooled = r->pooled;
	r->pooled = false;
	worker_submit_write(w, r);
	if (pooled)
		worker_pooled_done(w);
}
