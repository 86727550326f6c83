/*
 * Products: GET /api/v1/products (filters region, category, producer, q,
 * active; answers a strong ETag and honours If-None-Match),
 * GET /api/v1/products/{id} (with an ETag too), POST /api/v1/products,
 * PATCH /api/v1/products/{id}, and GET /api/v1/products/{id}/prices (its
 * price history, newest first). The first two GETs are served from the
 * response cache (http/cache.h) while the catalog is unchanged. The rules
 * of a product live in store/products.c, shared with the CSV import.
 */
#include "api/api.h"

#include <event2/buffer.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "store/catalog.h"
#include "store/prices.h"
#include "store/products.h"

static void
list_products(struct request *r)
{
	struct page p;
	struct product_filter pf = {
	    .region = req_query(r, "region"),
	    .category = req_query(r, "category"),
	    .q = req_query(r, "q"),
	    .active = 1,
	};
	json_t *items = NULL;
	if (!page_parse(r, &p, 1))
		return;
	const char *active = req_query(r, "active");
	json_t *after = json_array_get(p.after, 0);
	if (p.after && !json_is_integer(after)) {
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		goto out;
	}
	if (pf.category != NULL && !product_category_valid(pf.category)) {
		reply_error(r, E_VALIDATION, "category", "no category %s", pf.category);
		goto out;
	}
	if (active == NULL || strcmp(active, "true") == 0)
		pf.active = 1;
	else if (strcmp(active, "false") == 0)
		pf.active = 0;
	else if (strcmp(active, "all") == 0)
		pf.active = -1;
	else {
		reply_error(
		    r, E_VALIDATION, "active", "active must be true, false or all");
		goto out;
	}
	if (!req_query_int(r, "producer", 1, INT64_MAX, &pf.producer_id, NULL))
		goto out;
	if (!db_ok(r, store_product_list(r->db, &pf,
	                  after ? json_integer_value(after) : 0, p.limit, &items)))
		goto out;
	reply_json_tagged(r, page_body(&p, items, page_key_id));
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
get_product(struct request *r)
{
	json_t *product = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status s =
	    id < 0 ? DB_NOT_FOUND : store_product_get(r->db, id, &product);
	if (s == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no product %s", r->params[0]);
	else if (db_ok(r, s))
		reply_json_tagged(r, product);
}

/*
 * The router checks a scoped coordinator's region for an integer
 * producer_id; this repeats it for the producer actually stored, so a
 * body whose integers were read as reals cannot slip by.
 */
static bool
producer_in_scope(struct request *r, int64_t producer_id)
{
	char region[72];
	if (r->user.role != ROLE_COORDINATOR || r->user.region_code[0] == '\0')
		return true;
	enum db_status s =
	    store_producer_region(r->db, producer_id, region, sizeof(region));
	if (s == DB_OK && strcmp(region, r->user.region_code) != 0) {
		reply_error(r, E_FORBIDDEN, NULL, "producer_id is outside your region");
		return false;
	}
	return s == DB_NOT_FOUND || db_ok(r, s);
}

/*
 * Reads the body's fields over *p (absent fields keep their value; the
 * contract's required ones are required when creating) and checks the
 * result. *set_stock says whether stock was given. false with the error
 * set.
 */
static bool
read_product(struct request *r, struct product_in *p, bool create, bool *set_stock)
{
	struct fields f = fields_of(r);
	int req = create ? F_REQUIRED : F_OPTIONAL;
	const char *field, *reason;
	if (!f_string(f, "name", req, 0, SIZE_MAX, &p->name, NULL) ||
	    !f_string(f, "category", req, 0, SIZE_MAX, &p->category, NULL) ||
	    !f_string(f, "unit", req, 0, SIZE_MAX, &p->unit, NULL) ||
	    !f_int(f, "price_fen", req, INT64_MIN, INT64_MAX, &p->price_fen, NULL) ||
	    !f_int(f, "stock", req, INT64_MIN, INT64_MAX, &p->stock, set_stock) ||
	    !f_int(
	        f, "producer_id", req, INT64_MIN, INT64_MAX, &p->producer_id, NULL) ||
	    !f_bool(f, "certified", F_OPTIONAL, &p->certified, NULL) ||
	    !f_string(f, "certificate_no", F_NULLABLE, 0, SIZE_MAX, &p->certificate_no,
	        NULL) ||
	    !f_string(
	        f, "description", F_NULLABLE, 0, SIZE_MAX, &p->description, NULL) ||
	    (!create && !f_bool(f, "active", F_OPTIONAL, &p->active, NULL)))
		return false;
	if (!product_check(p, *set_stock, &field, &reason))
		return f_fail(f, field, reason);
	return producer_in_scope(r, p->producer_id);
}

static void
create_product(struct request *r)
{
	struct product_in p = {.active = true};
	json_t *product = NULL;
	bool set_stock;
	int64_t id;
	if (!read_product(r, &p, true, &set_stock) || !db_ok(r, db_begin_write(r->db)))
		goto out;
	enum db_status s = store_product_create(r->db, &p, r->user.id, r->now, &id);
	if (s == DB_NOT_FOUND) {
		f_fail(fields_of(r), "producer_id", "names no producer");
		goto out;
	}
	if (!db_ok(r, s) || !db_ok(r, store_product_get(r->db, id, &product)) ||
	    !db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 201, product);
	product = NULL;
out:
	json_decref(product);
}

static void
patch_product(struct request *r)
{
	struct product_in p;
	json_t *old = NULL, *product = NULL;
	bool set_stock;
	int64_t id = req_param_id(r, 0);
	if (!db_ok(r, db_begin_write(r->db)))
		goto out;
	enum db_status s = id < 0 ? DB_NOT_FOUND : store_product_get(r->db, id, &old);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no product %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	product_from_json(old, &p);
	if (!read_product(r, &p, false, &set_stock))
		goto out;
	s = store_product_update(r->db, id, &p, set_stock, r->user.id, r->now);
	if (s == DB_NOT_FOUND) {
		f_fail(fields_of(r), "producer_id", "names no producer");
		goto out;
	}
	if (s == DB_CONSTRAINT) {
		f_fail(fields_of(r), "stock", "is too far from the current stock");
		goto out;
	}
	if (!db_ok(r, s) || !db_ok(r, store_product_get(r->db, id, &product)) ||
	    !db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 200, product);
	product = NULL;
out:
	json_decref(old);
	json_decref(product);
}

static json_t *
price_key(json_t *entry)
{
	return json_pack(
	    "[O, O]", json_object_get(entry, "from"), json_object_get(entry, "id"));
}

/* A product's price history, newest first (from descending, then id
 * descending). */
static void
list_prices(struct request *r)
{
	struct page p = {0};
	struct price_key after, *a = NULL;
	json_t *items = NULL;
	int64_t id = req_param_id(r, 0);
	if (!page_parse(r, &p, 2))
		goto out;
	if (p.after != NULL) {
		json_t *f = json_array_get(p.after, 0), *i = json_array_get(p.after, 1);
		if (!json_is_string(f) || !json_is_integer(i) ||
		    !parse_rfc3339(json_string_value(f), &after.from_at)) {
			reply_error(r, E_VALIDATION, "cursor",
			    "cursor is not one this server gave");
			goto out;
		}
		after.id = json_integer_value(i);
		a = &after;
	}
	enum db_status s =
	    id < 0 ? DB_NOT_FOUND : store_price_list(r->db, id, a, p.limit, &items);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no product %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	page_reply(r, &p, items, price_key);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

const struct route products_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/products",
        .handler = list_products,
        .cached = true,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/products/{id}",
        .handler = get_product,
        .cached = true,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/products",
        .handler = create_product,
        .roles = ROLES_STAFF,
        .body = true,
        .scope = SCOPE_BODY_PRODUCER},
    {.method = EVHTTP_REQ_PATCH,
        .path = "/api/v1/products/{id}",
        .handler = patch_product,
        .roles = ROLES_STAFF,
        .body = true,
        .scope = SCOPE_PATH_PRODUCT | SCOPE_BODY_PRODUCER},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/products/{id}/prices",
        .handler = list_prices,
        .roles = ROLES_ANYONE},
    {0},
};
