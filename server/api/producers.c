/*
 * Producers: GET /api/v1/producers[?region=], GET /api/v1/producers/{id},
 * POST /api/v1/producers, PATCH /api/v1/producers/{id}. contact_phone is
 * shown to admins and to coordinators who may manage the producer; for
 * anyone else the field is absent.
 */
#include "api/api.h"

#include <stdint.h>
#include <string.h>

#include "store/producers.h"

static bool
may_see_phone(const struct request *r, json_t *producer)
{
	if (r->user.role == ROLE_ADMIN)
		return true;
	if (r->user.role != ROLE_COORDINATOR)
		return false;
	const char *region =
	    json_string_value(json_object_get(producer, "region_code"));
	return r->user.region_code[0] == '\0' ||
	       (region != NULL && strcmp(region, r->user.region_code) == 0);
}

static json_t *
shown(const struct request *r, json_t *producer)
{
	if (!may_see_phone(r, producer))
		json_object_del(producer, "contact_phone");
	return producer;
}

static void
list_producers(struct request *r)
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
	if (!db_ok(r, store_producer_list(r->db, req_query(r, "region"),
	                  after ? json_integer_value(after) : 0, p.limit, &items)))
		goto out;
	size_t i;
	json_t *v;
	json_array_foreach(items, i, v) shown(r, v);
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
get_producer(struct request *r)
{
	json_t *producer = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status s =
	    id < 0 ? DB_NOT_FOUND : store_producer_get(r->db, id, &producer);
	if (s == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no producer %s", r->params[0]);
	else if (db_ok(r, s))
		reply_json(r, 200, shown(r, producer));
}

/*
 * Reads the body's fields over *p (absent fields keep their value; all
 * are required when creating) and checks the result. false with the
 * error set.
 */
static bool
read_producer(struct request *r, struct producer_in *p, bool create)
{
	struct fields f = fields_of(r);
	int req = create ? F_REQUIRED : F_OPTIONAL;
	const char *field, *reason;
	if (!f_string(f, "name", req, 0, SIZE_MAX, &p->name, NULL) ||
	    !f_string(f, "region_code", req, 0, SIZE_MAX, &p->region_code, NULL) ||
	    !f_string(f, "kind", req, 0, SIZE_MAX, &p->kind, NULL) ||
	    !f_int(f, "households", req, INT64_MIN, INT64_MAX, &p->households, NULL) ||
	    !f_int(f, "poor_households", req, INT64_MIN, INT64_MAX, &p->poor_households,
	        NULL) ||
	    !f_string(
	        f, "contact_phone", F_NULLABLE, 0, SIZE_MAX, &p->contact_phone, NULL))
		return false;
	if (!producer_check(p, &field, &reason))
		return f_fail(f, field, reason);
	return true;
}

static void
create_producer(struct request *r)
{
	struct producer_in p = {0};
	json_t *producer = NULL;
	int64_t id;
	if (!read_producer(r, &p, true))
		return;
	enum db_status s = store_producer_create(r->db, &p, &id);
	if (s == DB_NOT_FOUND)
		f_fail(fields_of(r), "region_code", "names no region");
	else if (db_ok(r, s) && db_ok(r, store_producer_get(r->db, id, &producer)))
		reply_json(r, 201, shown(r, producer));
}

static void
patch_producer(struct request *r)
{
	struct producer_in p;
	json_t *old = NULL, *producer = NULL;
	int64_t id = req_param_id(r, 0);
	if (!db_ok(r, db_begin_write(r->db)))
		goto out;
	enum db_status s = id < 0 ? DB_NOT_FOUND : store_producer_get(r->db, id, &old);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no producer %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	producer_from_json(old, &p);
	if (!read_producer(r, &p, false))
		goto out;
	s = store_producer_update(r->db, id, &p);
	if (s == DB_NOT_FOUND) {
		f_fail(fields_of(r), "region_code", "names no region");
		goto out;
	}
	if (!db_ok(r, s) || !db_ok(r, store_producer_get(r->db, id, &producer)) ||
	    !db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 200, shown(r, producer));
	producer = NULL;
out:
	json_decref(old);
	json_decref(producer);
}

const struct route producers_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/producers",
        .handler = list_producers,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/producers/{id}",
        .handler = get_producer,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/producers",
        .handler = create_producer,
        .roles = ROLES_STAFF,
        .body = true,
        .scope = SCOPE_BODY_REGION},
    {.method = EVHTTP_REQ_PATCH,
        .path = "/api/v1/producers/{id}",
        .handler = patch_producer,
        .roles = ROLES_STAFF,
        .body = true,
        .scope = SCOPE_PATH_PRODUCER | SCOPE_BODY_REGION},
    {0},
};
