/*
 * GET /metrics: the Prometheus text exposition of http/metrics.c's
 * counters. Anyone on the loopback interface may read it (a scraper on
 * the same machine, without a token); from elsewhere only an admin.
 */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "http/metrics.h"

static void
get_metrics(struct request *r)
{
	if (!metrics_loopback(r->remote_addr) && r->user.id == 0) {
		reply_error(r, E_UNAUTHORIZED, NULL,
		    "log in as an admin, or ask from the server's own machine");
		return;
	}
	if (!metrics_loopback(r->remote_addr) && r->user.role != ROLE_ADMIN) {
		reply_error(r, E_FORBIDDEN, NULL,
		    "only an admin may read the metrics from another machine");
		return;
	}
	char *text = metrics_text();
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, text, strlen(text));
	reply_raw(r, 200, METRICS_CONTENT_TYPE, b);
	evbuffer_free(b);
	free(text);
}

const struct route metrics_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/metrics",
        .handler = get_metrics,
        .roles = ROLES_ANYONE},
    {0},
};
