/*
 * The database threads (PostgreSQL only): on PostgreSQL every query is
 * a network round trip, and a query may wait on a lock another session
 * holds, so no event loop runs one. The router hands each request, once
 * its headers and body are read, to dbpool_submit(); one of a fixed
 * number of threads, each with its own connection, runs it as the
 * worker would (authentication, the handler or the hand-over to the
 * hashers or the writer) and gives the reply back to the request's
 * worker, which sends it. A request waiting on a lock holds up its own
 * thread, never an event loop or the other requests. The queue has no
 * bound of its own: the connection limit bounds it.
 *
 * On SQLite there is no pool: a read there is a local file access, and
 * the event loops run it directly.
 */
#ifndef MARKET_HTTP_DBPOOL_H
#define MARKET_HTTP_DBPOOL_H

#include "config.h"
#include "http/request.h"

struct dbpool;

/* threads threads, each with a connection of its own to cfg->db_path;
 * run(r) is called on one of them for each request submitted, with
 * r->db set to that thread's connection. NULL with one line in *err
 * when a connection cannot be opened. */
struct dbpool *dbpool_new(
    const struct config *cfg, int threads, void (*run)(struct request *r), char **err);
/* Queues r; any thread. */
void dbpool_submit(struct dbpool *p, struct request *r);
/* Runs what is queued, then stops the threads. Accepts NULL. */
void dbpool_free(struct dbpool *p);

#endif
