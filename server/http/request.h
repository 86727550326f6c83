/*
 * The request context: everything a handler needs, and the one reply it
 * makes. A handler sets the reply with one of the reply_* calls; the
 * router sends it after the handler returns, exactly once, and frees the
 * context. So a handler never sends, and never leaks on an early return.
 */
#ifndef MARKET_HTTP_REQUEST_H
#define MARKET_HTTP_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "http/errors.h"
#include "roles.h"

struct worker;
struct route;

#define REQUEST_MAX_PARAMS 4

struct request {
	struct evhttp_request *ev;
	struct worker *w;
	bool pooled;   /* running on a database thread (http/dbpool.h) */
	struct db *db; /* this thread's connection */
	const struct config *cfg;
	const struct route *route;
	enum evhttp_cmd_type method;
	char *path;                       /* decoded path; owned */
	size_t path_len;                  /* its length (a %00 decodes to a NUL) */
	char *params[REQUEST_MAX_PARAMS]; /* path parameters in route order; owned */
	struct evkeyvalq query;           /* decoded query string */
	json_t *body;         /* the JSON object, when the route takes one */
	const char *raw_body; /* the body bytes (not NUL-terminated) */
	size_t raw_len;
	bool ints_as_reals; /* body had an integer beyond 64 bits and
	                       was parsed with integers as reals */
	struct user user;
	unsigned char token_hash[32]; /* SHA-256 of the caller's token, when
	                                 user.id != 0 (logout revokes it) */
	char remote_addr[64];
	int64_t now;    /* seconds since the epoch at arrival */
	enum lang lang; /* of its problem objects (Accept-Language) */

	/* What a route's prepare hook worked out on the worker thread
	 * before the handler runs on the writer (see router.h). */
	bool prepared;
	char *prep_hash; /* a new password's hash; owned */
	/* The scrypt work prepare asks of the hashers (http/hasher.h):
	 * hash hash_password, or check it against hash_stored. Owned. */
	char *hash_password;
	char *hash_stored;
	bool prep_account_ok; /* the account may log in, if the
	                         password matches */
	bool prep_verified;   /* the password given matched */
	int64_t prep_user_id; /* whose it is */
	/* The client's socket, for the hashers to see whether it is still
	 * there (0 or less: unknown), and whether it was gone, so its scrypt was
	 * not run: the request is then answered 503 and never reaches the
	 * writer (a login refused so must not count as a failed one). */
	int peer_fd;
	bool hash_abandoned;

	/* What the audit entry of a write names (api/audit.h): set by
	 * audit_object(), else derived from the reply or the path. */
	const char *audit_type;
	json_t *audit_id; /* owned */

	/* Bookkeeping of the router and the writer. */
	struct request *next; /* the writer's queues */
	int64_t t0_ns;        /* monotonic arrival */
	bool wrote;           /* its handler changed rows */

	/* The reply. Set by reply_*; the first one set wins. */
	int status;
	json_t *reply_body;         /* owned */
	struct evbuffer *reply_raw; /* owned; for text/calendar, text/csv */
	const char *reply_type;
};

/* The reply is body (the reference is stolen) with status. */
void reply_json(struct request *r, int status, json_t *body);
/* A reply with no body (204, 304). */
void reply_empty(struct request *r, int status);
/* A non-JSON reply; buf's contents are moved out. */
void reply_raw(
    struct request *r, int status, const char *content_type, struct evbuffer *buf);
/* An error reply: a problem object naming field (may be NULL) with a
 * detail built from fmt (may be NULL). */
void reply_error(struct request *r, enum api_error e, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A 200 with body (stolen) and a strong ETag (the SHA-256 of the body
 * as sent), or a 304 when the request's If-None-Match holds that tag. */
void reply_json_tagged(struct request *r, json_t *body);
/* True when the request's If-None-Match lists etag (or is "*"). */
bool req_etag_matches(struct request *r, const char *etag);
/* Forgets the reply set so far (its body and headers), so that another
 * can be set: the writer's answer when a commit fails. */
void reply_clear(struct request *r);
/* True once a reply is set. */
bool replied(const struct request *r);
/* Adds a response header. */
void reply_header(struct request *r, const char *key, const char *value);

/* The request header key, or NULL. */
const char *req_header(struct request *r, const char *key);
/* The query parameter key, or NULL. An empty value counts as absent. */
const char *req_query(struct request *r, const char *key);
/* The query parameter key as an integer in min..max; false (error set,
 * validation_failed naming key) when malformed; *present says whether given. */
bool req_query_int(struct request *r, const char *key, int64_t min, int64_t max,
    int64_t *out, bool *present);
/* Does the caller ask for CSV? ?format= decides (json or csv), else an
 * Accept header naming text/csv. false with the error set (400
 * validation_failed, field format) when format is neither. */
bool req_wants_csv(struct request *r, bool *csv);
/* Path parameter i as a positive id; -1 when it is not one (reply 404). */
int64_t req_param_id(struct request *r, int i);

/*
 * Pagination: ?limit= (1..200, default 50) and ?cursor=. A cursor is the
 * sort key of the last item of a page, a JSON array, opaque to clients.
 */
struct page {
	int limit;
	json_t *after; /* the decoded key, NULL on the first page; owned */
};
/* Parses limit and cursor; a cursor must decode to an array of key_len
 * elements. false (error set) when malformed. */
bool page_parse(struct request *r, struct page *p, size_t key_len);
void page_free(struct page *p);
/*
 * Replies 200 {"items": items, "next_cursor": ...}. items holds up to
 * p->limit + 1 elements (the store fetches one more than asked); when it
 * has more than the limit, the extra is dropped and next_cursor is made
 * from key(last kept item). items is stolen.
 */
void page_reply(struct request *r, const struct page *p, json_t *items,
    json_t *(*key)(json_t *item));
/* The object page_reply() sends, as a new reference (items is stolen),
 * for a handler that replies otherwise (with an ETag, say). */
json_t *page_body(const struct page *p, json_t *items, json_t *(*key)(json_t *item));
/* The key of a list in id order: [item.id], a new reference. */
json_t *page_key_id(json_t *item);
/* Cursor encoding, exposed for tests: base64url of the key's JSON. */
char *cursor_encode(json_t *key);
json_t *cursor_decode(const char *s);

#endif
