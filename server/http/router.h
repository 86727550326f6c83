/*
 * The route table and the router. Each resource file in server/api/
 * exports a const array of routes (ended by an entry whose path is NULL);
 * server/api/routes.c collects them. The router answers 404, 405, 401,
 * 403 (roles and region scope), 415, 413 and bad_json itself, so a
 * handler sees only requests it can serve.
 */
#ifndef MARKET_HTTP_ROUTER_H
#define MARKET_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/http.h>

#include "db/db.h"
#include "http/request.h"

typedef void (*handler_fn)(struct request *r);

/*
 * Region scope: which inputs name something in a region. For a
 * coordinator with a region_code, the router answers 403 when any of them
 * lies in another region. Unknown ids are left to the handler (404 or
 * validation_failed).
 */
enum scope {
	SCOPE_PATH_PRODUCER = 1 << 0, /* path parameter 0 is a producer id */
	SCOPE_PATH_PRODUCT = 1 << 1,  /* path parameter 0 is a product id */
	SCOPE_BODY_REGION = 1 << 2,   /* body "region_code", when present */
	SCOPE_BODY_PRODUCER = 1 << 3, /* body "producer_id", when present */
	SCOPE_QUERY_REGION = 1 << 4,  /* query "region", when present */
};

struct route {
	enum evhttp_cmd_type method;
	const char *path; /* "/api/v1/products/{id}": {name} matches a segment */
	handler_fn handler;
	unsigned roles; /* ROLE_* bits that may call it */
	bool body;      /* takes a JSON object body */
	unsigned scope; /* enum scope bits */
	/*
	 * Every route whose method is not GET or HEAD writes: its handler
	 * runs on the writer thread inside the writer's batch transaction,
	 * and its reply is sent once that batch is durable. prepare, when
	 * set, runs first on the worker thread for work too slow to hold
	 * the writer up (a password's scrypt); it sets r->prepared and the
	 * prep_* fields, or a reply (an error), which ends the request.
	 */
	handler_fn prepare;
	/* Logins and registrations: limited per client address
	 * (http/ratelimit.h); 429 with Retry-After beyond the limit. */
	bool addr_limited;
	/* A GET whose 200 replies (with an ETag) depend only on the path,
	 * the query and the catalog: served from the response cache. */
	bool cached;
	/* A write whose handler checks everything that can refuse it
	 * before it writes anything, so a refusal leaves nothing to undo:
	 * it runs without savepoints (db_job_begin_flat), and a failure
	 * after its first write (5xx) gives up the writer's whole batch. */
	bool flat;
	/* Exists only in demo mode (--demo): without it the router does not
	 * match the route, so its path is a 404 like any unknown one. */
	bool demo;
};

/* Whether demo-only routes are matched (false until set; server_new sets
 * it from the configuration, before any request). */
void router_set_demo(bool on);

/* The part of router_dispatch after the request is read: on the
 * worker's thread, or on PostgreSQL on a database thread (r->db is
 * then that thread's connection; http/dbpool.h). */
void router_continue(struct request *r);

/* True when the route's handler runs on the writer. */
bool route_writes(const struct route *route);

/*
 * The writer's side (server/http/writer.c): runs r's handler (r->db is
 * the writer's connection, inside a job savepoint) and makes sure a
 * reply is set. For a write, the region-scope checks run here first, in
 * the same transaction as the handler (reads check them in the router). Returns false
 * when the request's changes must be undone (its audit entry could not be written).
 */
bool router_run_handler(struct request *r);
/* Back on r's worker thread: sends r's reply, logs it and frees r. */
void router_finish(struct request *r);
/* Frees r without a reply (its connection is gone). */
void router_discard(struct request *r);

/* All route tables, ended by NULL (server/api/routes.c). */
extern const struct route *const route_tables[];

/*
 * What the router asks of the layers above it, so that http/ reaches no
 * resource by name (server/api/routes.c fills it in): the user behind a
 * token's hash (DB_OK, DB_NOT_FOUND when unknown, expired or revoked),
 * the region of a producer or a product (for the scope bits), and the
 * audit entry of a write, which joins the write's transaction (false
 * when it could not be written: the request is then undone).
 */
struct router_services {
	enum db_status (*user_by_token)(
	    struct db *db, const unsigned char hash[32], int64_t now, struct user *out);
	enum db_status (*producer_region)(
	    struct db *db, int64_t id, char *buf, size_t len);
	enum db_status (*product_region)(
	    struct db *db, int64_t id, char *buf, size_t len);
	bool (*audit)(struct request *r);
};
extern const struct router_services router_services;

/* Sets the Allow header of a 405: the methods in allow. */
void route_set_allow(struct request *r, unsigned allow);

/* The evhttp generic callback: arg is the struct worker. */
void router_dispatch(struct evhttp_request *ev, void *arg);

/* "GET" for EVHTTP_REQ_GET. */
const char *method_name(enum evhttp_cmd_type m);

/*
 * Matching, exposed for tests: the route for method and path (params
 * filled, caller frees them), or NULL with *allow set to the methods the
 * path has (0 when the path is unknown: 404).
 */
const struct route *route_match(enum evhttp_cmd_type method, const char *path,
    char *params[REQUEST_MAX_PARAMS], unsigned *allow);

/* The contract's limits: a body of at most 1 MiB, a header block of at
 * most 16 KiB. */
#define HTTP_MAX_BODY (1024 * 1024)
#define HTTP_MAX_HEADER_BLOCK (16 * 1024)

/* The size of a request's header block as received (request line and
 * header lines with their separators), so far as libevent has read it. */
size_t header_block_size(struct evhttp_request *ev);

/* Reads r's body as the router does before a handler that takes one:
 * application/json, at most HTTP_MAX_BODY bytes, UTF-8 JSON, an object
 * nesting at most JSON_MAX_DEPTH levels, into r->body. false with the
 * error reply set. (Exposed for the fuzz targets in tests/fuzz/.) */
bool read_body(struct request *r);

/* True when every parameter of the raw query string q, name and value,
 * percent-decoded, is valid UTF-8 without a NUL. */
bool query_is_text(const char *q);

/* The deepest JSON nesting the API accepts. */
#define JSON_MAX_DEPTH 32
/* True when the JSON text nests arrays and objects deeper than max. */
bool json_too_deep(const char *text, size_t len, int max);

#endif
