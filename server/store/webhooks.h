/*
 * Storage of webhooks (schema/0011_webhooks.sql): endpoints, the outbox of
 * events, their deliveries and every attempt.
 *
 * webhook_emit() is THE one place an event is written: the store function
 * of each change that the contract reports calls it inside that change's
 * transaction (orders.c: placed and every status change; sales.c:
 * recorded and voided; market_days.c; products.c; lots.c: received). It writes nothing,
 * and builds no JSON, when no active endpoint subscribes to the type, so a server
 * without subscriptions pays one indexed lookup of a tiny table a change.
 *
 * Endpoint as JSON: {id, url, events, description, active, created_at}.
 * Attempt as JSON: {id, event_id, type, attempt, status_code, error,
 * duration_ms, at, next_attempt_at}.
 */
#ifndef MARKET_STORE_WEBHOOKS_H
#define MARKET_STORE_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

enum webhook_type {
	WEBHOOK_ORDER_PLACED,
	WEBHOOK_ORDER_PAID,
	WEBHOOK_ORDER_READY,
	WEBHOOK_ORDER_FULFILLED,
	WEBHOOK_ORDER_CANCELLED,
	WEBHOOK_SALE_RECORDED,
	WEBHOOK_SALE_VOIDED,
	WEBHOOK_MARKET_DAY_UPDATED,
	WEBHOOK_PRODUCT_UPDATED,
	WEBHOOK_LOT_RECEIVED,
	WEBHOOK_TYPES
};

/* The contract's names, in its order, NULL-terminated. */
extern const char *const webhook_type_names[];

#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_DESCRIPTION_MAX 500
#define WEBHOOK_SECRET_LEN 50 /* "whsec_" + base64 of 32 bytes */
/* Attempts of one delivery at most: the first and nine retries. */
#define WEBHOOK_ATTEMPTS_MAX 10

/* Builds the event's data (the object as the API shows it) into *out, a
 * new reference. */
typedef enum db_status (*webhook_data_fn)(struct db *db, const void *arg, json_t **out);

/*
 * Records event type at now, with data make(db, arg), and one pending
 * delivery for each active endpoint subscribed to it, due at once. Call
 * inside the transaction of the change it reports. Nothing is written
 * (and make is not called) when no active endpoint subscribes.
 */
enum db_status webhook_emit(struct db *db, enum webhook_type type, int64_t now,
    webhook_data_fn make, const void *arg);

/* True, once, after webhook_emit() wrote an event since the last call:
 * the writer then wakes the delivery worker after its commit. */
bool webhook_take_emitted(void);

/* A new secret, "whsec_" + base64 of 32 random bytes, into out. false
 * when the random generator failed. */
bool webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1]);

/* What an endpoint is made of. events is a JSON array of type names in
 * the contract's order (borrowed). */
struct webhook_in {
	const char *url;
	json_t *events;
	unsigned mask;           /* 1 << enum webhook_type, per subscribed type */
	const char *description; /* may be NULL */
	bool active;
};

enum db_status store_webhook_create(struct db *db, const struct webhook_in *w,
    const char *secret, int64_t user_id, int64_t now, int64_t *id);
/* DB_NOT_FOUND when there is no endpoint id. */
enum db_status store_webhook_get(struct db *db, int64_t id, json_t **out);
/* Up to limit + 1 endpoints with id > after_id, by id (no secrets). */
enum db_status store_webhook_list(
    struct db *db, int64_t after_id, int limit, json_t **out);
/* Replaces endpoint id's writable fields. DB_NOT_FOUND when none. */
enum db_status store_webhook_update(
    struct db *db, int64_t id, const struct webhook_in *w);
/* Deletes endpoint id with its deliveries and attempts. DB_NOT_FOUND
 * when none. */
enum db_status store_webhook_delete(struct db *db, int64_t id);
/* Up to limit + 1 attempts of endpoint id with id < before_id (0: from
 * the newest), newest first. */
enum db_status store_webhook_attempts(
    struct db *db, int64_t endpoint_id, int64_t before_id, int limit, json_t **out);

/* The delivery worker's side. */

/* A delivery that is due, copied out of the database (owned strings). */
struct webhook_job {
	int64_t delivery_id, event_id, endpoint_id;
	int attempts; /* made before this one */
	char *url, *secret, *body;
};
void webhook_job_clear(struct webhook_job *j);

/*
 * Up to max pending deliveries of active endpoints due at now_ms, oldest
 * due first, into jobs (*n of them). When none is due, *next_ms is the
 * earliest due time of a pending delivery of an active endpoint, or -1.
 */
enum db_status store_webhook_due(struct db *db, int64_t now_ms, size_t max,
    struct webhook_job *jobs, size_t *n, int64_t *next_ms);

/* How an attempt ended. */
struct webhook_result {
	int status_code;   /* 0 when no HTTP status came back */
	const char *error; /* NULL on success */
	int64_t duration_ms;
	int64_t at;      /* seconds since the epoch */
	bool delivered;  /* a 2xx */
	bool gone;       /* a 410: deactivate the endpoint */
	int64_t next_ms; /* when to try again; -1: never (delivered, given
	                    up, or gone) */
};

/* Records, for each i < n with jobs[i].url set, attempt jobs[i].attempts
 * + 1 with res[i], all in one transaction of its own (one sync, one turn
 * of the write lock for a round): the attempt row, the delivery's state,
 * attempts and due time, and for a 410 the endpoint's deactivation. A
 * delivery whose endpoint was deleted meanwhile is skipped. */
enum db_status store_webhook_record(struct db *db, const struct webhook_job *jobs,
    const struct webhook_result *res, size_t n);

/*
 * Retention: deletes up to max of the oldest events from before
 * before_s (seconds since the epoch) none of whose deliveries is still
 * pending, with their deliveries and attempts, in one write
 * transaction; *deleted is how many events went. A pending delivery
 * keeps its event whatever its age. Event ids are never given again
 * (AUTOINCREMENT), so a receiver's webhook-id stays unique.
 */
enum db_status store_webhook_purge(
    struct db *db, int64_t before_s, int max, int *deleted);

#endif
