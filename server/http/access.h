/*
 * Who may make a request (the router calls these before a handler):
 * the caller behind an Authorization: Bearer token, and, for a
 * region-scoped coordinator, that nothing the request names (by the
 * route's scope bits) lies in another region. Both ask the layers above
 * through router_services (http/router.h), so http/ names no resource.
 */
#ifndef MARKET_HTTP_ACCESS_H
#define MARKET_HTTP_ACCESS_H

#include <stdbool.h>

#include "http/request.h"

/* Sets r->user from the token (anonymous without one); false with 401
 * (or 500) set when the token is malformed, unknown, expired or revoked. */
bool access_authenticate(struct request *r);
/* False with 403 set when a scoped coordinator names something outside
 * its region; true otherwise (unknown ids are left to the handler). */
bool access_check_scope(struct request *r);

#endif
