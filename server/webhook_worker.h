/*
 * The webhook delivery worker: one thread with its own database
 * connection that POSTs the outbox's due deliveries (store/webhooks.h)
 * with libcurl and records each attempt, so the event loops and the
 * writer never wait for a receiver.
 *
 * Deliveries follow Standard Webhooks (shared/API.md, "Webhooks"): the
 * event's body as stored, headers webhook-id (the event id),
 * webhook-timestamp (Unix seconds of this attempt) and webhook-signature
 * ("v1," + base64 HMAC-SHA256 under the secret's decoded bytes of
 * "{id}.{timestamp}.{body}"). A 2xx within 15 s is success; anything else
 * is tried again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and
 * 24 h (each ±10 % jitter, divided by --webhook-retry-scale, a test
 * setting), then given up; 410 deactivates the endpoint. An attempt cut
 * short by shutdown is not recorded: it is made again after the restart.
 *
 * Certificates are verified (the system's CA store, or --webhook-ca).
 * Every address the worker connects to passes addr_refusal() unless
 * marketd runs with --webhook-allow-insecure (tests only).
 */
#ifndef MARKET_WEBHOOK_WORKER_H
#define MARKET_WEBHOOK_WORKER_H

#include <stdint.h>

#include "config.h"

struct webhook_worker;

/* Opens the worker's connection. NULL with one line in *err on failure. */
struct webhook_worker *webhook_worker_new(const struct config *cfg, char **err);
void webhook_worker_start(struct webhook_worker *w);
/* Stops the thread (an attempt in flight is abandoned at once). */
void webhook_worker_stop(struct webhook_worker *w);
/* Accepts NULL. */
void webhook_worker_free(struct webhook_worker *w);

/* After a commit, from any thread: wakes the running worker when an event
 * was written since the last call. Cheap when none was. */
void webhook_worker_notify(void);

/* The delay before attempt n + 1 after n failed attempts (1..9), in ms,
 * without jitter, divided by scale; -1 when n attempts are the last. */
int64_t webhook_retry_delay_ms(int n, int scale);

#endif
