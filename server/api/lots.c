/*
 * Lots and traceability: POST /api/v1/products/{id}/lots (receive a lot),
 * GET /api/v1/products/{id}/lots (a product's lots, by id),
 * GET /api/v1/lots/{id} and GET /api/v1/lots/{id}/trace?format= (where
 * its units went, JSON or CSV; staff only, a scoped coordinator for its
 * region's products).
 *
 * Receiving a lot is one transaction: the lot and the stock movement
 * that raises the product's stock by its quantity. How sale and order
 * lines draw from lots is in store/lots.h.
 */
#include "api/api.h"

#include <event2/buffer.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"
#include "store/lots.h"

#define LOT_QUANTITY_MAX 1000000000 /* units in one lot */
#define ORIGIN_MAX 200              /* characters */

static bool
read_lot(struct request *r, struct lot_in *l)
{
	struct fields f = fields_of(r);
	if (!f_string(f, "code", F_REQUIRED, 1, LOT_CODE_MAX, &l->code, NULL) ||
	    (!lot_code_valid(l->code) &&
	        !f_fail(f, "code", "must be 1 to 32 of A-Z, a-z, 0-9, -, . and /")) ||
	    !f_int(
	        f, "quantity", F_REQUIRED, 1, LOT_QUANTITY_MAX, &l->quantity, NULL) ||
	    !f_date(f, "packed_on", F_REQUIRED, 1, &l->packed_on) ||
	    !f_date(f, "harvested_on", F_NULLABLE, 1, &l->harvested_on) ||
	    !f_date(f, "best_before", F_NULLABLE, 1, &l->best_before) ||
	    !f_string(f, "origin", F_NULLABLE, 0, ORIGIN_MAX, &l->origin, NULL))
		return false;
	/* Dates YYYY-MM-DD compare as strings. */
	if (l->harvested_on != NULL && strcmp(l->harvested_on, l->packed_on) > 0)
		return f_fail(f, "harvested_on", "may not be after packed_on");
	if (l->best_before != NULL && strcmp(l->best_before, l->packed_on) < 0)
		return f_fail(f, "best_before", "may not be before packed_on");
	return true;
}

static void
receive_lot(struct request *r)
{
	struct lot_in l = {.product_id = req_param_id(r, 0)};
	json_t *lot = NULL;
	int64_t id;
	if (l.product_id < 0) {
		reply_error(r, E_NOT_FOUND, NULL, "no product %s", r->params[0]);
		goto out;
	}
	if (!read_lot(r, &l) || !db_ok(r, db_begin_write(r->db)))
		goto out;
	enum db_status s = store_lot_receive(r->db, &l, r->user.id, r->now, &id);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no product %s", r->params[0]);
		goto out;
	}
	if (s == DB_CONSTRAINT) {
		reply_error(r, E_CONFLICT, "code",
		    "product %" PRId64 " has a lot %s already", l.product_id, l.code);
		goto out;
	}
	if (!db_ok(r, s) || !db_ok(r, store_lot_get(r->db, id, &lot)) ||
	    !db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 201, lot);
	lot = NULL;
out:
	db_rollback(r->db); /* a no-op once committed */
	json_decref(lot);
}

static void
list_lots(struct request *r)
{
	struct page p;
	json_t *items = NULL;
	int64_t product_id = req_param_id(r, 0), after = 0;
	if (!page_parse(r, &p, 1))
		return;
	if (p.after != NULL) {
		json_t *k = json_array_get(p.after, 0);
		if (!json_is_integer(k) || json_integer_value(k) < 0) {
			reply_error(r, E_VALIDATION, "cursor",
			    "cursor is not one this server gave");
			goto out;
		}
		after = json_integer_value(k);
	}
	enum db_status s =
	    product_id < 0 ? DB_NOT_FOUND
	                   : store_lot_list(r->db, product_id, after, p.limit, &items);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no product %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
get_lot(struct request *r)
{
	json_t *lot = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status s = id < 0 ? DB_NOT_FOUND : store_lot_get(r->db, id, &lot);
	if (s == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no lot %s", r->params[0]);
	else if (db_ok(r, s))
		reply_json(r, 200, lot);
}

/* Does the caller ask for CSV? ?format= decides, else the Accept header
 * (as the reports do). false with the error set for another format. */
static bool
wants_csv(struct request *r, bool *csv)
{
	const char *format = req_query(r, "format");
	const char *accept = req_header(r, "Accept");
	if (format == NULL) {
		*csv = accept != NULL && strstr(accept, "text/csv") != NULL;
		return true;
	}
	*csv = strcmp(format, "csv") == 0;
	if (*csv || strcmp(format, "json") == 0)
		return true;
	reply_error(r, E_VALIDATION, "format", "format must be json or csv");
	return false;
}

static void
trace_lot(struct request *r)
{
	json_t *trace = NULL;
	struct evbuffer *b = NULL;
	char *csv = NULL, region[72];
	int64_t id = req_param_id(r, 0), product_id;
	bool as_csv;
	enum db_status s =
	    id < 0 ? DB_NOT_FOUND : store_lot_product(r->db, id, &product_id);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no lot %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	if (r->user.role == ROLE_COORDINATOR && r->user.region_code[0] != '\0') {
		s = store_product_region(r->db, product_id, region, sizeof(region));
		if (!db_ok(r, s))
			goto out;
		if (strcmp(region, r->user.region_code) != 0) {
			reply_error(r, E_FORBIDDEN, NULL,
			    "lot %" PRId64 " is outside your region", id);
			goto out;
		}
	}
	if (!wants_csv(r, &as_csv))
		goto out;
	s = store_lot_trace(r->db, id, &trace);
	if (!db_ok(r, s == DB_NOT_FOUND ? DB_ERROR : s))
		goto out;
	if (!as_csv) {
		reply_json(r, 200, trace);
		trace = NULL;
		goto out;
	}
	size_t len;
	csv = lot_trace_csv(trace, &len);
	b = evbuffer_new();
	evbuffer_add(b, csv, len);
	char disposition[96];
	snprintf(disposition, sizeof(disposition),
	    "attachment; filename=\"lot-%" PRId64 "-trace.csv\"", id);
	reply_header(r, "Content-Disposition", disposition);
	reply_raw(r, 200, "text/csv; charset=utf-8", b);
out:
	if (b != NULL)
		evbuffer_free(b);
	free(csv);
	json_decref(trace);
}

const struct route lots_routes[] = {
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/products/{id}/lots",
        .handler = receive_lot,
        .roles = ROLES_STAFF,
        .body = true,
        .scope = SCOPE_PATH_PRODUCT},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/products/{id}/lots",
        .handler = list_lots,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/lots/{id}",
        .handler = get_lot,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/lots/{id}/trace",
        .handler = trace_lot,
        .roles = ROLES_STAFF},
    {0},
};
