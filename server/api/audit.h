/*
 * The audit log's writing side. The writer calls audit_record() right
 * after a write handler returns, inside that request's transaction, so an
 * entry stands or falls with the change it records.
 */
#ifndef MARKET_API_AUDIT_H
#define MARKET_API_AUDIT_H

#include <stdbool.h>

#include <jansson.h>

#include "http/request.h"

/*
 * Appends r's entries to the audit log when r is a write (not GET or
 * HEAD) by an operator, coordinator or admin that answered 2xx; does
 * nothing otherwise. Returns false on a database error (the caller
 * undoes the request and answers 500).
 *
 * The entry's action is "METHOD /route/pattern". Its object is, first
 * found: what the handler named with audit_object(); for the batch
 * routes, each object the batch stored (one entry each); the reply's
 * "id" (or a region's "code"); path parameter 0; else none (null). Its
 * type follows the route's path ("/api/v1/market-days/{id}/stalls" is a
 * "stall"). A sale re-sent (200, nothing stored) has no entry.
 */
bool audit_record(struct request *r);

/*
 * Names the object r wrote, for a handler whose reply does not say:
 * type is a string literal ("order"), id an integer, a string, or an
 * array of those (one entry each); the reference to id is stolen and
 * released with r.
 */
void audit_object(struct request *r, const char *type, json_t *id);

#endif
