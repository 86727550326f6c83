/* Venues: GET /api/v1/venues, GET /api/v1/venues/{id}, POST /api/v1/venues. */
#include "api/api.h"

#include "store/venues.h"

static void
list_venues(struct request *r)
{
	struct page p;
	json_t *items = NULL;
	if (!page_parse(r, &p, 1))
		return;
	json_t *after = json_array_get(p.after, 0);
	if (p.after && !json_is_integer(after)) {
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		goto out;
	}
	if (!db_ok(r, store_venue_list(r->db, after ? json_integer_value(after) : 0,
	                  p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
get_venue(struct request *r)
{
	json_t *venue = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status s = id < 0 ? DB_NOT_FOUND : store_venue_get(r->db, id, &venue);
	if (s == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no venue %s", r->params[0]);
	else if (db_ok(r, s))
		reply_json(r, 200, venue);
}

static void
create_venue(struct request *r)
{
	struct fields f = fields_of(r);
	const char *name, *kind, *subdistrict, *address = NULL;
	json_t *venue = NULL;
	int64_t id;
	if (!f_string(f, "name", F_REQUIRED, 1, VENUE_NAME_MAX, &name, NULL) ||
	    !f_enum(f, "kind", F_REQUIRED, venue_kinds, &kind, NULL) ||
	    !f_string(f, "subdistrict", F_REQUIRED, 1, VENUE_SUBDISTRICT_MAX,
	        &subdistrict, NULL) ||
	    !f_string(f, "address", F_NULLABLE, 0, VENUE_ADDRESS_MAX, &address, NULL))
		return;
	if (db_ok(
	        r, store_venue_create(r->db, name, kind, subdistrict, address, &id)) &&
	    db_ok(r, store_venue_get(r->db, id, &venue)))
		reply_json(r, 201, venue);
}

const struct route venues_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/venues",
        .handler = list_venues,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/venues/{id}",
        .handler = get_venue,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/venues",
        .handler = create_venue,
        .roles = ROLES_STAFF,
        .body = true},
    {0},
};
