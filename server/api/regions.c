/* Partner regions: GET /api/v1/regions[/{code}], POST /api/v1/regions. */
#include "api/api.h"

#include <string.h>

#include "store/catalog.h"

static const char *const partnerships[] = {"east_west", "mountain_sea", "other", NULL};

static json_t *
region_key(json_t *region)
{
	return json_pack("[O]", json_object_get(region, "code"));
}

static void
list_regions(struct request *r)
{
	struct page p;
	json_t *items = NULL;
	if (!page_parse(r, &p, 1))
		return;
	const char *after =
	    p.after ? json_string_value(json_array_get(p.after, 0)) : NULL;
	if (p.after && after == NULL) {
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		goto out;
	}
	if (!db_ok(r, store_region_list(r->db, after, p.limit, &items)))
		goto out;
	page_reply(r, &p, items, region_key);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
get_region(struct request *r)
{
	json_t *region = NULL;
	enum db_status s = store_region_get(r->db, r->params[0], &region);
	if (s == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no region %s", r->params[0]);
	else if (db_ok(r, s))
		reply_json(r, 200, region);
}

/* A region code is a slug: 1..64 of a-z, 0-9 and '-'. */
static bool
valid_code(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		        *s == '-' || *s == '_'))
			return false;
	return true;
}

static void
create_region(struct request *r)
{
	struct fields f = fields_of(r);
	const char *code, *name, *name_en, *province, *partnership;
	if (!f_string(f, "code", F_REQUIRED, 1, 64, &code, NULL) ||
	    (!valid_code(code) &&
	        !f_fail(f, "code", "must be 1 to 64 of a-z, 0-9, - and _")) ||
	    !f_string(f, "name", F_REQUIRED, 1, 200, &name, NULL) ||
	    !f_string(f, "name_en", F_REQUIRED, 1, 200, &name_en, NULL) ||
	    !f_string(f, "province", F_REQUIRED, 1, 200, &province, NULL) ||
	    !f_enum(f, "partnership", F_REQUIRED, partnerships, &partnership, NULL))
		return;
	enum db_status s =
	    store_region_create(r->db, code, name, name_en, province, partnership);
	if (s == DB_CONSTRAINT) {
		reply_error(r, E_CONFLICT, "code", "region %s exists", code);
		return;
	}
	json_t *region = NULL;
	if (db_ok(r, s) && db_ok(r, store_region_get(r->db, code, &region)))
		reply_json(r, 201, region);
}

const struct route regions_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/regions",
        .handler = list_regions,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/regions/{code}",
        .handler = get_region,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/regions",
        .handler = create_region,
        .roles = ROLE_ADMIN,
        .body = true},
    {0},
};
