/*
 * The writer: one thread that runs every writing request's handler on
 * its own database connection and commits many requests together with
 * one sync (group commit).
 *
 * Worker threads hand it requests (writer_submit). It takes all that are
 * queued, opens one transaction, runs each request in a savepoint of its
 * own (so a failed request is undone alone and the others keep their
 * changes; a route marked .flat, which writes only once all its checks
 * passed, runs without one, and its failure gives the batch up), commits
 * once, and only then gives each request back to its
 * worker through done(), which sends the reply. While it syncs, new
 * requests queue up and form the next batch: the busier the server, the
 * more requests share one fsync. A request's 2xx therefore always
 * follows the durable commit of its changes.
 */
#ifndef MARKET_HTTP_WRITER_H
#define MARKET_HTTP_WRITER_H

#include "config.h"
#include "http/request.h"

struct writer;

/* Opens the writer's connection. NULL with one line in *err on failure. */
struct writer *writer_new(
    const struct config *cfg, void (*done)(struct request *r), char **err);
void writer_start(struct writer *wr);
/* Queues r; any thread. */
void writer_submit(struct writer *wr, struct request *r);
/* Runs what is queued, then stops the thread. */
void writer_stop(struct writer *wr);
/* Accepts NULL. */
void writer_free(struct writer *wr);

#endif
