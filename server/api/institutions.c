/*
 * Institutions and their reserved procurement shares:
 * GET/POST /api/v1/institutions, GET/PATCH /api/v1/institutions/{id},
 * PUT /api/v1/institutions/{id}/plans/{year},
 * GET /api/v1/institutions/{id}/plans, and the progress report
 * GET /api/v1/reports/procurement?year=&kind=&format=&as_of= (JSON, or
 * CSV as the impact report).
 *
 * Scope: a buyer that is a member of an institution may read that
 * institution and its plans; any other institution is 404 to it (as
 * another buyer's order is), like every institution to a buyer that is a
 * member of none.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api/audit.h"
#include "date.h"
#include "store/institutions.h"

/* May the caller see institution id? Staff see all; a buyer its own. */
static bool
may_see(const struct request *r, int64_t id)
{
	return r->user.role != ROLE_BUYER || r->user.institution_id == id;
}

static void
list_institutions(struct request *r)
{
	struct page p;
	json_t *items = NULL;
	const char *kind = req_query(r, "kind");
	if (!page_parse(r, &p, 1))
		return;
	json_t *after = json_array_get(p.after, 0);
	if (p.after && !json_is_integer(after)) {
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		goto out;
	}
	if (kind != NULL) {
		bool known = false;
		for (const char *const *k = institution_kinds; *k; k++)
			known = known || strcmp(*k, kind) == 0;
		if (!known) {
			reply_error(r, E_VALIDATION, "kind",
			    "kind must be one of agency, enterprise, school, hospital, "
			    "community");
			goto out;
		}
	}
	if (!db_ok(r, store_institution_list(r->db, kind,
	                  after ? json_integer_value(after) : 0, p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
get_institution(struct request *r)
{
	json_t *obj = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status s = id < 0 || !may_see(r, id)
	                       ? DB_NOT_FOUND
	                       : store_institution_get(r->db, id, &obj);
	if (s == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no institution %s", r->params[0]);
	else if (db_ok(r, s))
		reply_json(r, 200, obj);
}

/* Reads the body over *in (absent fields keep their value; all but
 * venue_id are required when creating) and checks the result, the venue
 * included. false with the error set. */
static bool
read_institution(struct request *r, struct institution_in *in, bool create)
{
	struct fields f = fields_of(r);
	int req = create ? F_REQUIRED : F_OPTIONAL;
	const char *field, *reason;
	bool has_venue = false;
	json_t *venue = json_object_get(r->body, "venue_id");
	if (!f_string(f, "name", req, 0, SIZE_MAX, &in->name, NULL) ||
	    !f_string(f, "kind", req, 0, SIZE_MAX, &in->kind, NULL) ||
	    !f_string(f, "subdistrict", req, 0, SIZE_MAX, &in->subdistrict, NULL))
		return false;
	if (json_is_null(venue)) {
		in->venue_id = 0;
	} else if (venue != NULL) {
		if (!f_int(
		        f, "venue_id", F_OPTIONAL, 1, INT64_MAX, &in->venue_id, NULL))
			return false;
		has_venue = true;
	}
	if (!institution_check(in, &field, &reason))
		return f_fail(f, field, reason);
	if (has_venue) {
		enum db_status s = store_institution_venue_ok(r->db, in->venue_id);
		if (s == DB_NOT_FOUND)
			return f_fail(
			    f, "venue_id", "must name a venue of kind institution");
		if (!db_ok(r, s))
			return false;
	}
	return true;
}

static void
create_institution(struct request *r)
{
	struct institution_in in = {0};
	json_t *obj = NULL;
	int64_t id;
	if (!db_ok(r, db_begin_write(r->db)))
		return;
	if (!read_institution(r, &in, true))
		return;
	if (db_ok(r, store_institution_create(r->db, &in, &id)) &&
	    db_ok(r, store_institution_get(r->db, id, &obj)) &&
	    db_ok(r, db_commit(r->db))) {
		reply_json(r, 201, obj);
		obj = NULL;
	}
	json_decref(obj);
}

static void
patch_institution(struct request *r)
{
	struct institution_in in;
	json_t *old = NULL, *obj = NULL;
	int64_t id = req_param_id(r, 0);
	if (!db_ok(r, db_begin_write(r->db)))
		goto out;
	enum db_status s =
	    id < 0 ? DB_NOT_FOUND : store_institution_get(r->db, id, &old);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no institution %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	institution_from_json(old, &in);
	if (!read_institution(r, &in, false))
		goto out;
	if (!db_ok(r, store_institution_update(r->db, id, &in)) ||
	    !db_ok(r, store_institution_get(r->db, id, &obj)) ||
	    !db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 200, obj);
	obj = NULL;
out:
	json_decref(old);
	json_decref(obj);
}

static void
put_plan(struct request *r)
{
	struct fields f = fields_of(r);
	json_t *plan = NULL;
	int64_t id = req_param_id(r, 0), year, budget, bp = PLAN_SHARE_DEFAULT;
	if (!parse_int64(r->params[1], &year) || year < PLAN_YEAR_MIN ||
	    year > PLAN_YEAR_MAX) {
		reply_error(r, E_VALIDATION, "year",
		    "year must be an integer from 2000 to 2100");
		goto out;
	}
	if (!f_int(f, "food_budget_fen", F_REQUIRED, 0, INT64_MAX, &budget, NULL) ||
	    !f_int(f, "reserved_share_bp", F_OPTIONAL, 1, 10000, &bp, NULL))
		goto out;
	if (!db_ok(r, db_begin_write(r->db)))
		goto out;
	enum db_status s = id < 0 ? DB_NOT_FOUND : store_institution_exists(r->db, id);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no institution %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s) ||
	    !db_ok(r, store_plan_put(r->db, id, year, budget, bp, r->now)) ||
	    !db_ok(r, store_plan_get(r->db, id, year, &plan)) ||
	    !db_ok(r, db_commit(r->db)))
		goto out;
	audit_object(
	    r, "plan", json_sprintf("%lld/%lld", (long long)id, (long long)year));
	reply_json(r, 200, plan);
	plan = NULL;
out:
	json_decref(plan);
}

static json_t *
page_key_year(json_t *item)
{
	return json_pack("[O]", json_object_get(item, "year"));
}

static void
list_plans(struct request *r)
{
	struct page p;
	json_t *items = NULL;
	int64_t id = req_param_id(r, 0);
	if (!page_parse(r, &p, 1))
		return;
	json_t *after = json_array_get(p.after, 0);
	if (p.after && !json_is_integer(after)) {
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		goto out;
	}
	enum db_status s = id < 0 || !may_see(r, id)
	                       ? DB_NOT_FOUND
	                       : store_institution_exists(r->db, id);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no institution %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s) ||
	    !db_ok(r, store_plan_list(r->db, id, after ? json_integer_value(after) : 0,
	                  p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_year);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
free_text(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

static void
procurement(struct request *r)
{
	json_t *report = NULL;
	struct evbuffer *b = NULL;
	char *csv = NULL;
	const char *kind = req_query(r, "kind"), *as_of_text = req_query(r, "as_of");
	int64_t as_of = date_local_days(r->now), year;
	bool has_year, as_csv;
	if (as_of_text != NULL && !date_to_days(as_of_text, &as_of)) {
		reply_error(
		    r, E_VALIDATION, "as_of", "as_of must be a date YYYY-MM-DD");
		goto out;
	}
	int y, m, d;
	date_civil_from_days(as_of, &y, &m, &d);
	if (!req_query_int(r, "year", PLAN_YEAR_MIN, PLAN_YEAR_MAX, &year, &has_year))
		goto out;
	if (!has_year)
		year = y;
	if (kind != NULL) {
		bool known = false;
		for (const char *const *k = institution_kinds; *k; k++)
			known = known || strcmp(*k, kind) == 0;
		if (!known) {
			reply_error(r, E_VALIDATION, "kind",
			    "kind must be one of agency, enterprise, school, hospital, "
			    "community");
			goto out;
		}
	}
	if (!req_wants_csv(r, &as_csv))
		goto out;
	if (!as_csv) {
		/* Written as text: see report_procurement_text(). */
		char *text;
		size_t n;
		if (!db_ok(r,
		        report_procurement_text(r->db, year, kind, as_of, &text, &n)))
			goto out;
		b = evbuffer_new();
		evbuffer_add_reference(b, text, n, free_text, NULL);
		reply_raw(r, 200, "application/json; charset=utf-8", b);
		goto out;
	}
	if (!db_ok(r, report_procurement(r->db, year, kind, as_of, &report)))
		goto out;
	size_t len;
	csv = report_procurement_csv(report, &len);
	b = evbuffer_new();
	evbuffer_add(b, csv, len);
	char disposition[96];
	snprintf(disposition, sizeof(disposition),
	    "attachment; filename=\"procurement-%lld.csv\"", (long long)year);
	reply_header(r, "Content-Disposition", disposition);
	reply_raw(r, 200, "text/csv; charset=utf-8", b);
out:
	if (b != NULL)
		evbuffer_free(b);
	free(csv);
	json_decref(report);
}

const struct route institutions_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/institutions",
        .handler = list_institutions,
        .roles = ROLES_STAFF},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/institutions/{id}",
        .handler = get_institution,
        .roles = ROLES_STAFF | ROLE_BUYER},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/institutions",
        .handler = create_institution,
        .roles = ROLES_STAFF,
        .body = true},
    {.method = EVHTTP_REQ_PATCH,
        .path = "/api/v1/institutions/{id}",
        .handler = patch_institution,
        .roles = ROLES_STAFF,
        .body = true},
    {.method = EVHTTP_REQ_PUT,
        .path = "/api/v1/institutions/{id}/plans/{year}",
        .handler = put_plan,
        .roles = ROLES_STAFF,
        .body = true},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/institutions/{id}/plans",
        .handler = list_plans,
        .roles = ROLES_STAFF | ROLE_BUYER},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/reports/procurement",
        .handler = procurement,
        .roles = ROLES_STAFF},
    {0},
};
