/* What every handler file includes, and the route tables they export. */
#ifndef MARKET_API_H
#define MARKET_API_H

#include <jansson.h>

#include "db/db.h"
#include "http/errors.h"
#include "http/fields.h"
#include "http/request.h"
#include "http/router.h"
#include "util.h"

extern const struct route service_routes[];
extern const struct route auth_routes[];
extern const struct route users_routes[];
extern const struct route regions_routes[];
extern const struct route producers_routes[];
extern const struct route products_routes[];
extern const struct route venues_routes[];
extern const struct route market_days_routes[];
extern const struct route stalls_routes[];
extern const struct route sales_routes[];
extern const struct route metrics_routes[];
extern const struct route audit_routes[];
extern const struct route reports_routes[];
extern const struct route orders_routes[];
extern const struct route payments_routes[];
extern const struct route lots_routes[];
extern const struct route institutions_routes[];
extern const struct route payouts_routes[];
extern const struct route picklist_routes[];
extern const struct route webhooks_routes[];

/* Replies 500 (or 503) for a store status that is neither OK nor an
 * expected outcome; returns false so handlers can write
 * "if (!db_ok(r, s)) goto out;". */
bool db_ok(struct request *r, enum db_status s);

#endif
