/* GET /healthz and GET /api/v1/openapi.json. */
#include "api/api.h"

#include <event2/buffer.h>

#include "embedded.h"

static void
healthz(struct request *r)
{
	if (db_ping(r->db) != DB_OK) {
		reply_error(r, E_UNAVAILABLE, NULL, "the database does not answer");
		return;
	}
	reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void
openapi(struct request *r)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_reference(
	    b, embedded_openapi.data, embedded_openapi.len, NULL, NULL);
	reply_raw(r, 200, "application/json; charset=utf-8", b);
	evbuffer_free(b);
}

const struct route service_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/healthz",
        .handler = healthz,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/openapi.json",
        .handler = openapi,
        .roles = ROLES_ANYONE},
    {0},
};
