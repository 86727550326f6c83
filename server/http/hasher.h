/*
 * The password hashers: a few threads that run scrypt (a new password's
 * hash, or a login's check) so that no worker's event loop waits for it.
 *
 * A route's prepare hook (on the worker) names the work: r->hash_password
 * and, to check a login, r->hash_stored. The router hands r to
 * hasher_submit(); a hasher thread does the work and gives r back through
 * done(), which resumes it on its worker. The queue is bounded: when it
 * is full hasher_submit() returns false and the router answers 503 with
 * Retry-After, so a burst of logins costs memory and time in proportion
 * to the pool, not to the burst.
 */
#ifndef MARKET_HTTP_HASHER_H
#define MARKET_HTTP_HASHER_H

#include <stdbool.h>

#include "http/request.h"

struct hasher;

/* threads hashing threads, at most queue requests waiting. */
struct hasher *hasher_new(int threads, int queue, void (*done)(struct request *r));
/* Queues r; false (r untouched) when the queue is full. Any thread. */
bool hasher_submit(struct hasher *h, struct request *r);
/* Runs what is queued, then stops the threads. Accepts NULL. */
void hasher_free(struct hasher *h);

/* The work itself, on the calling thread: sets r->prep_hash (a new
 * hash) or r->prep_verified, and clears the hash_* fields. A no-op when
 * r names no work. */
void hasher_run(struct request *r);

#endif
