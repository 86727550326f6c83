/*
 * Counters behind GET /metrics: requests by route and status, request
 * latency by route, database commit latency and batch size (and the open
 * connections, which http/conns.c counts). Every call is safe from any
 * thread and takes no lock: each thread counts into a shard of its own,
 * and a scrape adds the shards up.
 */
#ifndef MARKET_HTTP_METRICS_H
#define MARKET_HTTP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

/* One answered request: method ("GET"), route pattern as in the route
 * table ("/api/v1/products/{id}"; NULL when no route matched), status,
 * and the time from arrival to the reply, in microseconds. */
void metrics_request(
    const char *method, const char *route_pattern, int status, int64_t usec);
/* One commit of the database's write batch: how long it took (from
 * COMMIT to durable) and how many requests it held. */
void metrics_commit(int64_t usec, int batch_size);
/* The password hashers (http/hasher.c): a request queued, one done (its
 * hash made or checked), one refused because the queue was full. */
void metrics_hash_queued(void);
/* A read of a cached route: answered from the response cache or not. */
void metrics_cache(bool hit);
/* A hashing thread is done with a password: hashed or checked, or
 * abandoned (its client had hung up, so it was not). */
void metrics_hash_done(bool abandoned);
void metrics_hash_refused(void);

/* The Prometheus text exposition (version 0.0.4) of every counter, as a
 * new string the caller frees. */
char *metrics_text(void);
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4"

/* True when addr, a peer's address as libevent prints it, is a loopback
 * address (127.0.0.0/8, ::1, or 127.x mapped into IPv6). */
bool metrics_loopback(const char *addr);

#endif
