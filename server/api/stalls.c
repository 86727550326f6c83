/*
 * Stalls: POST/GET /api/v1/market-days/{id}/stalls, GET /api/v1/stalls/mine,
 * GET /api/v1/stalls/{id}.
 */
#include "api/api.h"

#include <string.h>

#include "store/catalog.h"
#include "store/market_days.h"

static json_t *
mine_key(json_t *stall)
{
	return json_pack("[O, O]", json_object_get(stall, "market_day_date"),
	    json_object_get(stall, "id"));
}

/* True when market day id exists; otherwise replies 404 (or 500) and
 * returns false. */
static bool
market_day_found(struct request *r, int64_t id)
{
	json_t *md = NULL;
	enum db_status s = id < 0 ? DB_NOT_FOUND : store_market_day_get(r->db, id, &md);
	json_decref(md);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no market day %s", r->params[0]);
		return false;
	}
	return db_ok(r, s);
}

static void
create_stall(struct request *r)
{
	struct fields f = fields_of(r);
	json_t *stall = NULL;
	int64_t md_id = req_param_id(r, 0), operator_id, producer_id, id;
	const char *label;
	char role[32], region[72];
	if (!db_ok(r, db_begin_write(r->db)) || !market_day_found(r, md_id) ||
	    !f_int(f, "operator_id", F_REQUIRED, 1, INT64_MAX, &operator_id, NULL) ||
	    !f_int(f, "producer_id", F_REQUIRED, 1, INT64_MAX, &producer_id, NULL) ||
	    !f_string(f, "label", F_REQUIRED, 1, 50, &label, NULL))
		goto out;
	enum db_status s = store_user_role(r->db, operator_id, role, sizeof(role));
	if (s == DB_NOT_FOUND || (s == DB_OK && strcmp(role, "operator") != 0)) {
		reply_error(r, E_VALIDATION, "operator_id",
		    "user %lld is not a stall operator", (long long)operator_id);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	s = store_producer_region(r->db, producer_id, region, sizeof(region));
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_VALIDATION, "producer_id", "no producer %lld",
		    (long long)producer_id);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	s = store_stall_create(r->db, md_id, operator_id, producer_id, label, &id);
	if (s == DB_CONSTRAINT) {
		reply_error(r, E_CONFLICT, "label",
		    "label %s is taken at this market day", label);
		goto out;
	}
	if (!db_ok(r, s) || !db_ok(r, db_commit(r->db)) ||
	    !db_ok(r, store_stall_get(r->db, id, &stall)))
		goto out;
	reply_json(r, 201, stall);
	stall = NULL;
out:
	json_decref(stall);
}

static void
list_day_stalls(struct request *r)
{
	struct page p = {0};
	json_t *items = NULL;
	int64_t md_id = req_param_id(r, 0), after = 0;
	if (!market_day_found(r, md_id) || !page_parse(r, &p, 1))
		goto out;
	if (p.after != NULL) {
		json_t *k = json_array_get(p.after, 0);
		if (!json_is_integer(k)) {
			reply_error(r, E_VALIDATION, "cursor",
			    "cursor is not one this server gave");
			goto out;
		}
		after = json_integer_value(k);
	}
	if (!db_ok(r, store_stall_list_day(r->db, md_id, after, p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

/* The caller's stalls, newest market day first (date descending, then
 * stall id ascending). */
static void
list_my_stalls(struct request *r)
{
	struct page p = {0};
	json_t *items = NULL;
	const char *after_date = NULL;
	int64_t after_id = 0;
	if (!page_parse(r, &p, 2))
		goto out;
	if (p.after != NULL) {
		json_t *d = json_array_get(p.after, 0), *i = json_array_get(p.after, 1);
		if (!json_is_string(d) || !json_is_integer(i)) {
			reply_error(r, E_VALIDATION, "cursor",
			    "cursor is not one this server gave");
			goto out;
		}
		after_date = json_string_value(d);
		after_id = json_integer_value(i);
	}
	if (!db_ok(r, store_stall_list_operator(
	                  r->db, r->user.id, after_date, after_id, p.limit, &items)))
		goto out;
	page_reply(r, &p, items, mine_key);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
get_stall(struct request *r)
{
	json_t *stall = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status s = id < 0 ? DB_NOT_FOUND : store_stall_get(r->db, id, &stall);
	if (s == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no stall %s", r->params[0]);
	else if (db_ok(r, s))
		reply_json(r, 200, stall);
}

const struct route stalls_routes[] = {
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/market-days/{id}/stalls",
        .handler = create_stall,
        .roles = ROLES_STAFF,
        .body = true,
        .scope = SCOPE_BODY_PRODUCER},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/market-days/{id}/stalls",
        .handler = list_day_stalls,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/stalls/mine",
        .handler = list_my_stalls,
        .roles = ROLE_OPERATOR},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/stalls/{id}",
        .handler = get_stall,
        .roles = ROLES_ANYONE},
    {0},
};
