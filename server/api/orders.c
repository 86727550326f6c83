/*
 * Online orders: POST /api/v1/orders, GET /api/v1/orders[/{id}],
 * POST /api/v1/orders/{id}/cancel, /ready and /fulfil.
 *
 * Placing an order runs on the writer thread (http/writer.h), in a
 * savepoint of the writer's batch transaction: the Idempotency-Key
 * look-up, the checks that need the database, the order, its lines, one
 * stock movement a line (each a single statement that refuses to take
 * stock below zero) and the key with the first response. The writer runs
 * one request after the other, so of two requests with one key the second
 * finds the first's key (committed or still in the batch); of any number
 * of buyers racing for the last units, only as many as there are units
 * get them. Replies are sent once the batch is durable; a batch whose
 * commit fails answers every request in it 5xx, key replays included.
 *
 * Who sees an order: its buyer; an operator, the pickups at market days
 * where it has a stall; a region-scoped coordinator, the orders with a
 * line of its region; other coordinators and admins, all. An order the
 * caller may not see is 404, never 403.
 */
#include "api/api.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "store/orders.h"

/* The orders the caller may see. */
static struct order_scope
scope_of(const struct request *r)
{
	struct order_scope s = {0};
	if (r->user.role == ROLE_BUYER)
		s.buyer_id = r->user.id;
	else if (r->user.role == ROLE_OPERATOR)
		s.operator_id = r->user.id;
	else if (r->user.role == ROLE_COORDINATOR && r->user.region_code[0] != '\0')
		s.region = r->user.region_code;
	return s;
}

/* A delivery address holds a phone: its buyer, coordinators and admins
 * see it (operators never see deliveries anyway). */
static bool
sees_phone(const struct request *r)
{
	return r->user.role != ROLE_OPERATOR;
}

/* A phone number: 3 to 32 of 0-9, space, + - ( ). */
static bool
phone_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || strchr(" +-()", *s) != NULL))
			return false;
	return true;
}

/* The lines of the order into o->lines (allocated; the caller frees). */
static bool
parse_lines(struct fields f, json_t *lines, struct order_in *o)
{
	o->nlines = json_array_size(lines);
	o->lines = xcalloc(o->nlines, sizeof(*o->lines));
	for (size_t i = 0; i < o->nlines; i++) {
		char key[32], prefix[32];
		snprintf(key, sizeof(key), "lines[%zu]", i);
		snprintf(prefix, sizeof(prefix), "lines[%zu].", i);
		json_t *obj = json_array_get(lines, i);
		if (!json_is_object(obj))
			return f_fail(f, key, "must be an object");
		struct fields lf = {f.r, obj, prefix};
		struct order_line_in *l = &o->lines[i];
		if (!f_int(lf, "product_id", F_REQUIRED, 1, INT64_MAX, &l->product_id,
		        NULL) ||
		    !f_int(lf, "quantity", F_REQUIRED, 1, ORDER_QUANTITY_MAX,
		        &l->quantity, NULL))
			return false;
		for (size_t j = 0; j < i; j++)
			if (o->lines[j].product_id == l->product_id)
				return f_fail(lf, "product_id",
				    "names a product of an earlier line");
	}
	return true;
}

/* The delivery address in ff (prefix "fulfillment.") as JSON text into
 * *address (the caller frees). */
static bool
parse_address(struct fields ff, char **address)
{
	json_t *obj;
	const char *name, *phone, *line1, *city;
	if (!f_object(ff, "address", F_REQUIRED, &obj))
		return false;
	struct fields af = {ff.r, obj, "fulfillment.address."};
	if (!f_string(af, "name", F_REQUIRED, 1, 100, &name, NULL) ||
	    !f_string(af, "phone", F_REQUIRED, 3, 32, &phone, NULL) ||
	    (!phone_valid(phone) &&
	        !f_fail(af, "phone", "must be 3 to 32 of 0-9, space, +, -, ( and )")) ||
	    !f_string(af, "line1", F_REQUIRED, 1, 200, &line1, NULL) ||
	    !f_string(af, "city", F_REQUIRED, 1, 100, &city, NULL))
		return false;
	json_t *a = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "phone", phone,
	    "line1", line1, "city", city);
	*address = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return true;
}

/* The order in the body into *o (strings borrowed from the body, or from
 * *address, which the caller frees with o->lines). */
static bool
parse_order(struct request *r, struct order_in *o, char **address)
{
	static const char *const types[] = {"pickup", "delivery", NULL};
	struct fields f = fields_of(r);
	json_t *lines, *ful;
	const char *type;
	memset(o, 0, sizeof(*o));
	*address = NULL;
	if (!f_array(f, "lines", F_REQUIRED, 1, ORDER_LINES_MAX, &lines) ||
	    !parse_lines(f, lines, o) || !f_object(f, "fulfillment", F_REQUIRED, &ful))
		return false;
	struct fields ff = {r, ful, "fulfillment."};
	if (!f_enum(ff, "type", F_REQUIRED, types, &type, NULL))
		return false;
	if (strcmp(type, "pickup") == 0) {
		if (!f_int(ff, "market_day_id", F_REQUIRED, 1, INT64_MAX,
		        &o->market_day_id, NULL))
			return false;
	} else if (!parse_address(ff, address)) {
		return false;
	}
	o->address = *address;
	return f_string(f, "note", F_NULLABLE, 0, ORDER_NOTE_MAX, &o->note, NULL);
}

/* The answer to a key stored before: the first response again when the
 * body is the same, else 409. */
static void
replay(struct request *r, const char *fp, const char *stored, const char *response)
{
	json_t *order;
	if (strcmp(fp, stored) != 0) {
		reply_error(r, E_IDEMPOTENCY_MISMATCH, "Idempotency-Key",
		    "the key was used before with another body");
	} else if ((order = json_loads(response, 0, NULL)) == NULL) {
		reply_error(r, E_INTERNAL, NULL, NULL);
	} else {
		reply_header(r, "Idempotent-Replayed", "true");
		reply_json(r, 201, order);
	}
}

/* Sets the reply for an outcome of order_place() other than ORDER_OK. */
static void
refuse(struct request *r, const struct order_in *o, enum order_outcome out, size_t bad,
    int64_t left)
{
	char field[64];
	switch (out) {
	case ORDER_UNKNOWN_PRODUCT:
		snprintf(field, sizeof(field), "lines[%zu].product_id", bad);
		reply_error(r, E_VALIDATION, field,
		    "%s: no product %" PRId64 " is for sale", field,
		    o->lines[bad].product_id);
		break;
	case ORDER_AMOUNT_TOO_LARGE:
		snprintf(field, sizeof(field), "lines[%zu].quantity", bad);
		reply_error(
		    r, E_VALIDATION, field, "%s: the amount is too large", field);
		break;
	case ORDER_TOTAL_TOO_LARGE:
		reply_error(r, E_VALIDATION, "lines", "lines: the total is too large");
		break;
	case ORDER_OUT_OF_STOCK:
		snprintf(field, sizeof(field), "lines[%zu].quantity", bad);
		reply_error(r, E_OUT_OF_STOCK, field,
		    "product %" PRId64 " has %" PRId64 " left",
		    o->lines[bad].product_id, left);
		break;
	case ORDER_OK:
	case ORDER_FAILED:
		reply_error(r, E_INTERNAL, NULL, NULL);
		break;
	}
}

static void
create_order(struct request *r)
{
	struct order_in o;
	char *address = NULL, *canon = NULL, *response = NULL, *text = NULL;
	char fp[65] = "", stored[65];
	json_t *order = NULL;
	enum db_status st;
	const char *key = req_header(r, "Idempotency-Key");

	memset(&o, 0, sizeof(o));
	if (key != NULL && !idempotency_key_valid(key)) {
		reply_error(r, E_VALIDATION, "Idempotency-Key",
		    "Idempotency-Key must be 1 to %d printable ASCII characters",
		    IDEMPOTENCY_KEY_MAX);
		goto out;
	}
	if (!parse_order(r, &o, &address))
		goto out;
	o.buyer_id = r->user.id;
	if (key != NULL) {
		/* The body as canonical JSON: the same order sent with its
		 * keys in another order or other spacing is the same. */
		canon = json_dumps(r->body, JSON_SORT_KEYS | JSON_COMPACT);
		sha256_hex(canon, strlen(canon), fp);
	}
	if (!db_ok(r, db_begin_write(r->db)))
		goto out;
	if (key != NULL) {
		st = store_idempotency_get(r->db, r->user.id, key, stored, &response);
		if (st == DB_OK) {
			replay(r, fp, stored, response);
			goto out;
		}
		if (st != DB_NOT_FOUND && !db_ok(r, st))
			goto out;
	}
	if (o.market_day_id > 0) {
		bool open = false;
		st = store_pickup_day_open(r->db, o.market_day_id, r->now, &open);
		if (st == DB_NOT_FOUND || (st == DB_OK && !open)) {
			reply_error(r, E_VALIDATION, "fulfillment.market_day_id",
			    st == DB_NOT_FOUND ? "no market day %" PRId64
			                       : "market day %" PRId64
			                         " is past, closed or cancelled",
			    o.market_day_id);
			goto out;
		}
		if (!db_ok(r, st))
			goto out;
	}
	size_t bad = 0;
	int64_t left = 0, id = 0;
	enum order_outcome placed = order_place(r->db, &o, r->now, &bad, &left, &id);
	if (placed != ORDER_OK) {
		refuse(r, &o, placed, bad, left);
		goto out;
	}
	if (!db_ok(r, store_order_placed(r->db, &o, id, r->now, &order)))
		goto out;
	if (key != NULL) {
		text = json_dumps(order, JSON_COMPACT);
		st =
		    store_idempotency_put(r->db, r->user.id, key, fp, id, text, r->now);
		if (!db_ok(r, st))
			goto out; /* DB_CONSTRAINT cannot be: the look-up was in
			             this transaction */
	}
	if (!db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 201, order);
	order = NULL;
out:
	db_rollback(r->db); /* a no-op once committed */
	json_decref(order);
	free(o.lines);
	lot_takes_free(&o.takes);
	free(address);
	free(canon);
	free(response);
	free(text);
}

static void
get_order(struct request *r)
{
	struct order_scope scope = scope_of(r);
	struct order_state state;
	json_t *order = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status st =
	    id < 0 ? DB_NOT_FOUND : store_order_state(r->db, id, &scope, &state);
	if (st == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no order %s", r->params[0]);
	else if (db_ok(r, st) &&
	         db_ok(r, store_order_get(r->db, id, sees_phone(r), &order)))
		reply_json(r, 200, order);
}

static void
list_orders(struct request *r)
{
	struct page p;
	struct order_scope scope = scope_of(r);
	enum order_status status;
	json_t *items = NULL;
	int64_t after = 0, market_day_id = 0;
	if (!page_parse(r, &p, 1))
		return;
	if (!req_query_int(r, "market_day_id", 1, INT64_MAX, &market_day_id, NULL))
		goto out;
	const char *filter = req_query(r, "status");
	if (filter != NULL && !order_status_from_name(filter, &status)) {
		reply_error(r, E_VALIDATION, "status",
		    "status must be placed, paid, "
		    "ready, fulfilled or cancelled");
		goto out;
	}
	if (p.after != NULL) {
		json_t *k = json_array_get(p.after, 0);
		if (!json_is_integer(k) || json_integer_value(k) < 0) {
			reply_error(r, E_VALIDATION, "cursor",
			    "cursor is not one this server gave");
			goto out;
		}
		after = json_integer_value(k);
	}
	if (!db_ok(r, store_order_list(r->db, &scope, filter, market_day_id,
	                  sees_phone(r), after, p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

/*
 * Moves the order in the path to status to, for the caller: 404 when it
 * may not see the order, 409 invalid_state when the contract does not
 * allow the change from its status (or, for a buyer cancelling, when
 * the order is ready or fulfilled), else 200 with the order.
 */
static void
change_status(struct request *r, enum order_status to)
{
	struct order_scope scope = scope_of(r);
	struct order_state state;
	json_t *order = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status st = DB_NOT_FOUND;
	if (id > 0) {
		if (!db_ok(r, db_begin_write(r->db)))
			goto out;
		st = store_order_state(r->db, id, &scope, &state);
	}
	if (st == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no order %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, st))
		goto out;
	/* A buyer may cancel its order only before it is made ready. */
	bool buyer_late = to == ORDER_CANCELLED && r->user.role == ROLE_BUYER &&
	                  state.status == ORDER_READY;
	if (buyer_late || !order_transition_allowed(state.status, to)) {
		reply_error(r, E_INVALID_STATE, NULL,
		    "order %" PRId64 " is %s: %s "
		    "cannot make it %s",
		    id, order_status_name(state.status),
		    buyer_late ? "its buyer" : "one", order_status_name(to));
		goto out;
	}
	if (!db_ok(r, store_order_set_status(
	                  r->db, id, state.status, to, r->user.id, r->now)) ||
	    !db_ok(r, store_order_get(r->db, id, sees_phone(r), &order)) ||
	    !db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 200, order);
	order = NULL;
out:
	db_rollback(r->db); /* a no-op once committed */
	json_decref(order);
}

static void
cancel_order(struct request *r)
{
	change_status(r, ORDER_CANCELLED);
}

static void
ready_order(struct request *r)
{
	change_status(r, ORDER_READY);
}

static void
fulfil_order(struct request *r)
{
	change_status(r, ORDER_FULFILLED);
}

#define SEERS (ROLE_BUYER | ROLE_OPERATOR | ROLES_STAFF)

const struct route orders_routes[] = {
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/orders",
        .handler = create_order,
        .roles = ROLE_BUYER,
        .body = true},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/orders",
        .handler = list_orders,
        .roles = SEERS},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/orders/{id}",
        .handler = get_order,
        .roles = SEERS},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/orders/{id}/cancel",
        .handler = cancel_order,
        .roles = ROLE_BUYER | ROLES_STAFF},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/orders/{id}/ready",
        .handler = ready_order,
        .roles = ROLE_OPERATOR | ROLES_STAFF},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/orders/{id}/fulfil",
        .handler = fulfil_order,
        .roles = ROLE_OPERATOR | ROLES_STAFF},
    {0},
};
