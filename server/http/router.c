#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api/audit.h"
#include "config.h"
#include "crypto.h"
#include "csv.h"
#include "db/db.h"
#include "http/cache.h"
#include "http/access_log.h"
#include "http/hasher.h"
#include "http/ratelimit.h"
#include "http/metrics.h"
#include "http/pages.h"
#include "http/server.h"
#include "log.h"
#include "store/catalog.h"
#include "store/users.h"
#include "util.h"

static const struct {
	enum evhttp_cmd_type m;
	const char *name;
} methods[] = {
    {EVHTTP_REQ_GET, "GET"},
    {EVHTTP_REQ_POST, "POST"},
    {EVHTTP_REQ_PUT, "PUT"},
    {EVHTTP_REQ_PATCH, "PATCH"},
    {EVHTTP_REQ_DELETE, "DELETE"},
    {EVHTTP_REQ_HEAD, "HEAD"},
    {EVHTTP_REQ_OPTIONS, "OPTIONS"},
    {EVHTTP_REQ_TRACE, "TRACE"},
    {EVHTTP_REQ_CONNECT, "CONNECT"},
};

const char *
method_name(enum evhttp_cmd_type m)
{
	for (size_t i = 0; i < nitems(methods); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return "?";
}

/* Matches path against pattern; on success fills params and returns a
 * score that is higher the more (and the earlier) segments are literal. */
static long
match_pattern(const char *pattern, const char *path, char *params[REQUEST_MAX_PARAMS])
{
	long score = 0;
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p == '/' && *s == '/') {
		p++, s++;
		const char *pe = strchrnul(p, '/'), *se = strchrnul(s, '/');
		size_t plen = (size_t)(pe - p), slen = (size_t)(se - s);
		score <<= 1;
		if (plen > 1 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0 || np == REQUEST_MAX_PARAMS)
				goto nomatch;
			params[np++] = xstrndup(s, slen);
		} else if (plen == slen && memcmp(p, s, plen) == 0) {
			score |= 1;
		} else {
			goto nomatch;
		}
		p = pe, s = se;
	}
	if (*p != '\0' || *s != '\0')
		goto nomatch;
	return score;
nomatch:
	for (int i = 0; i < np; i++) {
		free(params[i]);
		params[i] = NULL;
	}
	return -1;
}

static bool demo_routes;

void
router_set_demo(bool on)
{
	demo_routes = on;
}

const struct route *
route_match(enum evhttp_cmd_type method, const char *path,
    char *params[REQUEST_MAX_PARAMS], unsigned *allow)
{
	const struct route *found = NULL;
	long best = -1;
	*allow = 0;
	if (method == EVHTTP_REQ_HEAD)
		method = EVHTTP_REQ_GET;
	for (const struct route *const *t = route_tables; *t; t++) {
		for (const struct route *rt = *t; rt->path; rt++) {
			char *tmp[REQUEST_MAX_PARAMS] = {0};
			if (rt->demo && !demo_routes)
				continue;
			long score = match_pattern(rt->path, path, tmp);
			if (score < 0 || score < best) {
				for (int i = 0; i < REQUEST_MAX_PARAMS; i++)
					free(tmp[i]);
				continue;
			}
			if (score > best) {
				/* A more literal pattern wins over what we had. */
				best = score;
				*allow = 0;
				if (found != NULL)
					for (int i = 0; i < REQUEST_MAX_PARAMS; i++) {
						free(params[i]);
						params[i] = NULL;
					}
				found = NULL;
			}
			*allow |= rt->method;
			if (rt->method == method && found == NULL) {
				found = rt;
				memcpy(params, tmp, sizeof(tmp));
			} else {
				for (int i = 0; i < REQUEST_MAX_PARAMS; i++)
					free(tmp[i]);
			}
		}
	}
	if (*allow & EVHTTP_REQ_GET)
		*allow |= EVHTTP_REQ_HEAD;
	return found;
}

bool
json_too_deep(const char *text, size_t len, int max)
{
	int depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return true;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return false;
}

/* Authorization: Bearer <token>. Sets r->user, or an error. */
static bool
authenticate(struct request *r)
{
	r->user.id = 0;
	r->user.role = ROLE_ANON;
	const char *h = req_header(r, "Authorization");
	if (h == NULL)
		return true;
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		reply_error(
		    r, E_UNAUTHORIZED, NULL, "use Authorization: Bearer <token>");
		return false;
	}
	const char *token = h + 7;
	while (*token == ' ')
		token++;
	token_hash(token, r->token_hash);
	switch (store_user_by_token(r->db, r->token_hash, r->now, &r->user)) {
	case DB_OK:
		return true;
	case DB_NOT_FOUND:
		reply_error(r, E_UNAUTHORIZED, NULL,
		    "the token is unknown, expired or revoked");
		return false;
	default:
		reply_error(r, E_INTERNAL, NULL, NULL);
		return false;
	}
}

static bool
content_type_is_json(const char *ct)
{
	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	static const char want[] = "application/json";
	if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return false;
	const char *p = ct + sizeof(want) - 1;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return true;
	if (*p != ';')
		return false;
	p++;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return false;
	p += 8;
	if (*p == '"')
		p++;
	return strncasecmp(p, "utf-8", 5) == 0 &&
	       (p[5] == '\0' || p[5] == '"' || p[5] == ' ' || p[5] == ';');
}

bool
read_body(struct request *r)
{
	if (!content_type_is_json(req_header(r, "Content-Type"))) {
		reply_error(r, E_UNSUPPORTED_MEDIA_TYPE, NULL,
		    "send the body as application/json");
		return false;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	size_t len = evbuffer_get_length(in);
	if (len > HTTP_MAX_BODY) {
		reply_error(
		    r, E_PAYLOAD_TOO_LARGE, NULL, "the body may be at most 1 MiB");
		return false;
	}
	r->raw_body = (const char *)evbuffer_pullup(in, -1);
	r->raw_len = len;
	if (len == 0) {
		reply_error(r, E_BAD_JSON, NULL, "the body is empty");
		return false;
	}
	if (json_too_deep(r->raw_body, len, JSON_MAX_DEPTH)) {
		reply_error(r, E_BAD_JSON, NULL, "JSON nests deeper than %d levels",
		    JSON_MAX_DEPTH);
		return false;
	}
	json_error_t err;
	r->body = json_loadb(r->raw_body, len, JSON_REJECT_DUPLICATES, &err);
	if (r->body == NULL && json_error_code(&err) == json_error_numeric_overflow) {
		/* An integer beyond 64 bits is a validation error of its field,
		 * not bad JSON: read integers as reals so f_int can name it. */
		r->body = json_loadb(r->raw_body, len,
		    JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &err);
		r->ints_as_reals = true;
	}
	if (r->body == NULL) {
		reply_error(r, E_BAD_JSON, NULL, "%s at line %d column %d", err.text,
		    err.line, err.column);
		return false;
	}
	if (!json_is_object(r->body)) {
		reply_error(r, E_BAD_JSON, NULL, "the body must be a JSON object");
		return false;
	}
	return true;
}

/* 403 when a scoped coordinator names something outside its region. */
static bool
check_region(struct request *r, const char *region, const char *what)
{
	if (region == NULL || strcmp(region, r->user.region_code) == 0)
		return true;
	reply_error(r, E_FORBIDDEN, NULL, "%s is outside your region", what);
	return false;
}

static bool
check_scope(struct request *r)
{
	unsigned scope = r->route->scope;
	if (r->user.role != ROLE_COORDINATOR || r->user.region_code[0] == '\0' ||
	    scope == 0)
		return true;
	char region[72];
	int64_t id;
	if (scope & (SCOPE_PATH_PRODUCER | SCOPE_PATH_PRODUCT)) {
		id = req_param_id(r, 0);
		enum db_status s =
		    id < 0 ? DB_NOT_FOUND
		    : (scope & SCOPE_PATH_PRODUCER)
		        ? store_producer_region(r->db, id, region, sizeof(region))
		        : store_product_region(r->db, id, region, sizeof(region));
		if (s == DB_OK && !check_region(r, region, "this resource"))
			return false;
	}
	if (scope & SCOPE_BODY_REGION) {
		json_t *v = json_object_get(r->body, "region_code");
		if (json_is_string(v) &&
		    !check_region(r, json_string_value(v), "region_code"))
			return false;
	}
	if (scope & SCOPE_BODY_PRODUCER) {
		/* A body with an integer beyond 64 bits is read with every
		 * integer as a real (see read_body), so take either. */
		json_t *v = json_object_get(r->body, "producer_id");
		double d = json_number_value(v);
		if (json_is_number(v) && d >= 1 && d < 9.2e18 &&
		    store_producer_region(r->db, (int64_t)d, region, sizeof(region)) ==
		        DB_OK &&
		    !check_region(r, region, "producer_id"))
			return false;
	}
	if (scope & SCOPE_QUERY_REGION) {
		if (!check_region(r, req_query(r, "region"), "region"))
			return false;
	}
	return true;
}

size_t
header_block_size(struct evhttp_request *ev)
{
	/* A request that failed to parse may have no URI. */
	const char *uri = evhttp_request_get_uri(ev);
	size_t n = (uri ? strlen(uri) : 0) + 16;
	struct evkeyvalq *h = evhttp_request_get_input_headers(ev);
	for (struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next)
		n += strlen(kv->key) + strlen(kv->value) + 4;
	return n;
}

/* True when every parameter of the raw query string q, name and value,
 * percent-decoded, is valid UTF-8 without a NUL. */
static bool
query_is_text(const char *q)
{
	while (*q != '\0') {
		size_t n = strcspn(q, "&");
		char *piece = xstrndup(q, n);
		size_t len = 0;
		char *text = evhttp_uridecode(piece, 1, &len);
		bool ok = text != NULL && strlen(text) == len && utf8_valid(text, len);
		free(text);
		free(piece);
		if (!ok)
			return false;
		q += n;
		if (*q == '&')
			q++;
	}
	return true;
}

static void
set_allow(struct request *r, unsigned allow)
{
	char buf[128] = "";
	for (size_t i = 0; i < nitems(methods); i++)
		if (allow & methods[i].m) {
			if (buf[0])
				strcat(buf, ", ");
			strcat(buf, methods[i].name);
		}
	reply_header(r, "Allow", buf);
}

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
			set_allow(r, allow);
			reply_error(r, E_METHOD_NOT_ALLOWED, NULL,
			    "%s is not allowed here", method_name(r->method));
		}
		return false;
	}
	if (!authenticate(r))
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
	if (!route_writes(r->route) && !check_scope(r))
		return false;
	return true;
}

bool
router_run_handler(struct request *r)
{
	/* For a write, r->db is the writer's, inside the request's job
	 * savepoint: the region a check reads cannot change before the
	 * handler writes (a producer moved to another region meanwhile). */
	if (!route_writes(r->route) || check_scope(r))
		r->route->handler(r);
	db_rollback(r->db); /* a no-op unless a handler left a transaction open */
	if (!replied(r)) {
		log_warn(
		    "bug: %s %s gave no reply", method_name(r->method), r->route->path);
		reply_error(r, E_INTERNAL, NULL, NULL);
	}
	/* The audit entry joins the change in the writer's transaction:
	 * both are kept, or (returning false) both are undone. */
	if (route_writes(r->route) && !audit_record(r)) {
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
	evhttp_send_reply(r->ev, r->status, reason, body);
	evbuffer_free(body);
}

static int64_t
monotonic_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
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
		snprintf(
		    r->remote_addr, sizeof(r->remote_addr), "%s", addr ? addr : "");
	}

	if (!route_request(r)) {
		db_rollback(r->db);
		router_finish(r);
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
		router_finish(r);
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
			router_finish(r);
			return;
		}
	}
	if (r->route->prepare != NULL) {
		r->route->prepare(r);
		r->prepared = true;
		db_rollback(r->db);
		if (replied(r)) {
			router_finish(r);
			return;
		}
		/* The scrypt work prepare asked for runs on a hashing thread;
		 * r comes back to this worker and goes on to the writer. */
		if (r->hash_password != NULL) {
			if (worker_submit_hash(w, r))
				return;
			metrics_hash_refused();
			reply_header(r, "Retry-After", "1");
			reply_error(r, E_UNAVAILABLE, NULL,
			    "too many passwords are being checked; try again in a "
			    "second");
			router_finish(r);
			return;
		}
	}
	/* The writer runs the handler and hands r back to this worker. */
	worker_submit_write(w, r);
}
