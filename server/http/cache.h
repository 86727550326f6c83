/*
 * The response cache of hot reads: GET routes marked .cached (the
 * product list and product by id) are answered from the encoded reply
 * of an earlier identical request (same path and query) while the
 * database is unchanged, without running a query.
 *
 * Each worker thread has its own cache, so a lookup takes no lock. An
 * entry is tagged with the thread's connection's db_data_version() taken
 * before its reply was read; any commit since, by the writer or by
 * another process (marketctl import-products), changes that number, and
 * the first lookup that sees a new one empties the thread's cache. So a
 * reply is never older than the last commit before the request. Writes
 * that do not touch the catalog (a login) empty it too: simple and
 * exact, at the price of some misses under mixed load.
 */
#ifndef MARKET_HTTP_CACHE_H
#define MARKET_HTTP_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"

/* Replies to r from the cache (200 with its ETag, or 304 when the client
 * holds that ETag): true when it did. Sets *version to tag a miss with. */
bool cache_reply(struct request *r, uint64_t *version);
/* Keeps r's reply, a 200 with a body, for requests like r. */
void cache_store(struct request *r, uint64_t version);
/* Reply bodies in memory, in every thread's cache or held by a reply
 * still being sent (a gauge of /metrics; a test's leak check). */
long cache_bodies(void);

#endif
