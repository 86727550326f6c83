/*
 * Stall sales: POST /api/v1/sales, POST /api/v1/sales/batch,
 * GET /api/v1/sales, GET /api/v1/sales/{id}, POST /api/v1/sales/{id}/void.
 *
 * A sale's id is chosen by the client, so a re-send is safe. The writing
 * routes run on the writer thread (http/writer.h), one request after the
 * other inside the writer's batch transaction: db_begin_write() there is
 * a savepoint of the batch, db_commit() its release, and the reply waits
 * until the whole batch is durable. Everything a sale does (the id check,
 * the sale and its lines, one stock movement a line, the rollups) happens
 * in that savepoint, so a refused sale leaves nothing and requests never
 * interleave. Of two sends of one id, the first is stored (201) and the
 * second, in the same batch or a later one, finds it (200, or 409 when
 * the content differs); the UNIQUE id is the backstop. A batch of sales
 * has no savepoint at all (its route is .flat): each of its sales is
 * checked whole before anything of it is written, so a refused sale
 * leaves nothing, and a database failure midway gives up the writer's
 * whole transaction (every request in it is answered 5xx). Its sales'
 * rollups are summed in memory and written once (store/sales.h,
 * sale_tally). When the batch's commit fails, every request in it is
 * answered 5xx instead, whatever it read.
 *
 * A region-scoped coordinator works with the stalls of its region's
 * producers only, and records only its region's products: anything else
 * is 403, as for its producers and products.
 */
#include "api/api.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/catalog.h"
#include "store/market_days.h"
#include "store/sales.h"

#define BATCH_MAX 500
#define FUTURE_MAX 600       /* seconds a recorded_at may lie ahead */
#define QUANTITY_MAX 1000000 /* units on one line */

static const char *const payments[] = {
    "cash", "wechat", "alipay", "card", "other", NULL};

/* May the caller record or see sales at a stall whose operator is
 * operator_id? Operators only at their own stalls; staff everywhere. */
static bool
may_use_stall(const struct request *r, int64_t operator_id)
{
	return r->user.role != ROLE_OPERATOR || r->user.id == operator_id;
}

static bool
scoped(const struct request *r)
{
	return r->user.role == ROLE_COORDINATOR && r->user.region_code[0] != '\0';
}

/* false with 403 (naming field, which may be NULL) when the caller is
 * a scoped coordinator and stall_id is another region's; an unknown
 * stall is left to the caller. */
static bool
stall_in_scope(struct request *r, int64_t stall_id, const char *field)
{
	char region[72];
	if (!scoped(r))
		return true;
	enum db_status st = store_stall_region(r->db, stall_id, region, sizeof(region));
	if (st == DB_NOT_FOUND)
		return true;
	if (!db_ok(r, st))
		return false;
	if (strcmp(region, r->user.region_code) == 0)
		return true;
	reply_error(r, E_FORBIDDEN, field, "stall %" PRId64 " is outside your region",
	    stall_id);
	return false;
}

/* false with 403 when the caller is a scoped coordinator and a line of s
 * is another region's product; unknown products are left to pricing. */
static bool
lines_in_scope(struct request *r, const struct sale *s)
{
	char region[72], field[64];
	if (!scoped(r))
		return true;
	for (size_t i = 0; i < s->nlines; i++) {
		enum db_status st = store_product_region(
		    r->db, s->lines[i].product_id, region, sizeof(region));
		if (st == DB_NOT_FOUND)
			continue;
		if (!db_ok(r, st))
			return false;
		if (strcmp(region, r->user.region_code) != 0) {
			snprintf(field, sizeof(field), "lines[%zu].product_id", i);
			reply_error(r, E_FORBIDDEN, field,
			    "%s: product %" PRId64 " is outside your region", field,
			    s->lines[i].product_id);
			return false;
		}
	}
	return true;
}

/* The lines of a sale from the array lines into s->lines (allocated;
 * the caller frees). false with the error set. */
static bool
parse_lines(struct fields f, json_t *lines, struct sale *s)
{
	s->nlines = json_array_size(lines);
	s->lines = xcalloc(s->nlines, sizeof(*s->lines));
	for (size_t i = 0; i < s->nlines; i++) {
		char key[32], prefix[32];
		snprintf(key, sizeof(key), "lines[%zu]", i);
		snprintf(prefix, sizeof(prefix), "lines[%zu].", i);
		json_t *obj = json_array_get(lines, i);
		if (!json_is_object(obj))
			return f_fail(f, key, "must be an object");
		struct fields lf = {f.r, obj, prefix};
		struct sale_line *l = &s->lines[i];
		bool sent;
		if (!f_int(lf, "product_id", F_REQUIRED, 1, INT64_MAX, &l->product_id,
		        NULL) ||
		    !f_int(lf, "quantity", F_REQUIRED, 1, QUANTITY_MAX, &l->quantity,
		        NULL) ||
		    !f_int(lf, "unit_price_fen", F_NULLABLE, 0, INT64_MAX,
		        &l->unit_price_fen, &sent))
			return false;
		/* null is the same as leaving the price out. */
		l->price_sent =
		    sent && !json_is_null(json_object_get(obj, "unit_price_fen"));
	}
	return true;
}

/* The sale in obj into *s (strings borrowed from obj; s->lines is the
 * caller's to free, also on failure). false with the error set. */
static bool
parse_sale(struct request *r, json_t *obj, struct sale *s)
{
	struct fields f = {r, obj, ""};
	const char *recorded;
	json_t *lines;
	memset(s, 0, sizeof(*s));
	if (!f_string(f, "id", F_REQUIRED, SALE_ID_MIN, SALE_ID_MAX, &s->id, NULL) ||
	    (!sale_id_valid(s->id) &&
	        !f_fail(f, "id", "must be 8 to 64 of A-Z, a-z, 0-9, - and _")) ||
	    !f_int(f, "stall_id", F_REQUIRED, 1, INT64_MAX, &s->stall_id, NULL) ||
	    !f_string(f, "recorded_at", F_REQUIRED, 1, 64, &recorded, NULL) ||
	    ((!parse_rfc3339(recorded, &s->recorded_at) || s->recorded_at < 0) &&
	        !f_fail(f, "recorded_at", "must be an RFC 3339 time")) ||
	    (s->recorded_at > r->now + FUTURE_MAX &&
	        !f_fail(f, "recorded_at", "lies more than 10 minutes in the future")) ||
	    !f_enum(f, "payment", F_REQUIRED, payments, &s->payment, NULL) ||
	    !f_array(f, "lines", F_REQUIRED, 1, SALE_LINES_MAX, &lines))
		return false;
	return parse_lines(f, lines, s);
}

/* The answer to a sale whose id is stored already with fingerprint
 * stored: 200 with the stored sale when it is the same sale, else 409. */
static void
answer_resend(struct request *r, const char *id, const char *fp, const char *stored)
{
	json_t *sale = NULL;
	if (strcmp(fp, stored) != 0)
		reply_error(r, E_IDEMPOTENCY_MISMATCH, "id",
		    "sale %s was recorded before with other content", id);
	else if (db_ok(r, store_sale_get(r->db, id, &sale)))
		reply_json(r, 200, sale);
}

/*
 * Records the parsed sale s for the caller and sets the reply: 201 with
 * the sale when new, 200 with the stored sale when re-sent, or the
 * problem. batch NULL: the sale has a transaction of its own. Else the
 * caller holds a write transaction (a batch) that the sale joins, and
 * the sale's rollups go to batch, for the caller to flush before it
 * commits.
 *
 * A batch's sale has no savepoint of its own: everything that can refuse
 * it is checked before sale_record() writes anything, so a refused sale
 * leaves nothing to undo. Only a database failure can stop it midway;
 * then the function returns false and the caller must undo its whole
 * transaction. Otherwise it returns true.
 */
static bool
record_sale(struct request *r, struct sale *s, struct sale_tally *batch)
{
	bool nested = batch != NULL;
	char fp[65], stored[65], day_status[16];
	json_t *sale = NULL;
	bool open = false, intact = true;
	enum db_status st;

	sale_fingerprint(s, fp);
	if (!nested) {
		if (!db_ok(r, db_begin_write(r->db)))
			goto out;
		open = true;
	}
	st = store_stall_info(r->db, s->stall_id, &s->market_day_id, &s->operator_id,
	    day_status, sizeof(day_status), s->channel_buf, sizeof(s->channel_buf));
	if (st == DB_NOT_FOUND) {
		reply_error(
		    r, E_VALIDATION, "stall_id", "no stall %" PRId64, s->stall_id);
		goto out;
	}
	if (!db_ok(r, st))
		goto out;
	s->channel = s->channel_buf;
	if (!may_use_stall(r, s->operator_id)) {
		reply_error(r, E_FORBIDDEN, "stall_id",
		    "stall %" PRId64 " is not yours", s->stall_id);
		goto out;
	}
	if (!stall_in_scope(r, s->stall_id, "stall_id") || !lines_in_scope(r, s))
		goto out;
	st = store_sale_fingerprint(r->db, s->id, stored);
	if (st == DB_OK) {
		answer_resend(r, s->id, fp, stored);
		goto out;
	}
	if (st != DB_NOT_FOUND && !db_ok(r, st))
		goto out;
	if (strcmp(day_status, "cancelled") == 0) {
		reply_error(r, E_INVALID_STATE, "stall_id",
		    "market day %" PRId64 " is cancelled", s->market_day_id);
		goto out;
	}
	size_t bad = 0;
	fen_t price = 0;
	char field[64];
	enum sale_outcome o =
	    nested ? sale_record_tallied(
	                 r->db, s, fp, r->user.id, r->now, &bad, &price, batch)
	           : sale_record(r->db, s, fp, r->user.id, r->now, &bad, &price);
	switch (o) {
	case SALE_RECORDED:
		break;
	case SALE_ID_TAKEN:
		/* Someone stored the id after we looked (a writer outside
		 * this transaction): nothing was written; answer as to a
		 * re-send. */
		st = store_sale_fingerprint(r->db, s->id, stored);
		if (st == DB_OK)
			answer_resend(r, s->id, fp, stored);
		else
			db_ok(r, st == DB_NOT_FOUND ? DB_ERROR : st);
		goto out;
	case SALE_UNKNOWN_PRODUCT:
		snprintf(field, sizeof(field), "lines[%zu].product_id", bad);
		reply_error(r, E_VALIDATION, field, "no product %" PRId64,
		    s->lines[bad].product_id);
		goto out;
	case SALE_PRICE_ABOVE:
		snprintf(field, sizeof(field), "lines[%zu].unit_price_fen", bad);
		reply_error(r, E_VALIDATION, field,
		    "%s: above the catalog price "
		    "of %" PRId64 " fen at recorded_at",
		    field, price);
		goto out;
	case SALE_AMOUNT_TOO_LARGE:
		snprintf(field, sizeof(field), "lines[%zu].quantity", bad);
		reply_error(
		    r, E_VALIDATION, field, "%s: the amount is too large", field);
		goto out;
	case SALE_TOTAL_TOO_LARGE:
		reply_error(r, E_VALIDATION, "lines", "lines: the total is too large");
		goto out;
	case SALE_DB_ERROR:
		intact = false;
		reply_error(r, E_INTERNAL, NULL, NULL);
		goto out;
	}
	/* The reply is the sale as stored, built from what was stored. */
	sale = sale_json(s, r->now);
	if (!nested) {
		if (!db_ok(r, db_commit(r->db)))
			goto out; /* db_commit has rolled back */
		open = false;
	}
	reply_json(r, 201, sale);
	sale = NULL;
out:
	if (open)
		db_rollback(r->db);
	json_decref(sale);
	return intact;
}

static void
create_sale(struct request *r)
{
	struct sale s;
	if (parse_sale(r, r->body, &s))
		record_sale(r, &s, NULL);
	free(s.lines);
	lot_takes_free(&s.takes);
}

/*
 * Item i of a batch, recorded as POST /api/v1/sales would record it but
 * inside the batch's transaction. It gets a request of its own, which
 * collects the reply that single endpoint would give; that reply becomes
 * the item's result.
 */
static json_t *
batch_item(
    struct request *r, json_t *obj, size_t i, struct sale_tally *tally, bool *intact)
{
	struct request one = {
	    .db = r->db,
	    .cfg = r->cfg,
	    .route = r->route,
	    .method = r->method,
	    .path = r->path,
	    .body = obj,
	    .ints_as_reals = r->ints_as_reals,
	    .user = r->user,
	    .now = r->now,
	    .lang = r->lang,
	};
	struct sale s = {0};
	if (!json_is_object(obj)) {
		char field[32];
		snprintf(field, sizeof(field), "sales[%zu]", i);
		reply_error(
		    &one, E_VALIDATION, field, "%s: a sale must be an object", field);
	} else if (parse_sale(&one, obj, &s)) {
		*intact = record_sale(&one, &s, tally);
	}
	free(s.lines);
	lot_takes_free(&s.takes);
	if (one.reply_body == NULL) {
		log_warn("bug: sale %zu of a batch gave no reply", i);
		one.status = 500;
		one.reply_body = problem_new(E_INTERNAL, one.lang, NULL, NULL);
	}
	json_t *id = json_object_get(obj, "id");
	bool ok = one.status == 200 || one.status == 201;
	json_t *result = json_pack("{s:O, s:s}", "id",
	    json_is_string(id) ? id : json_null(), "status",
	    one.status == 201   ? "created"
	    : one.status == 200 ? "duplicate"
	                        : "error");
	json_object_set_new(result, ok ? "sale" : "error", one.reply_body);
	return result;
}

static void
create_batch(struct request *r)
{
	json_t *sales, *results = NULL;
	struct sale_tally tally = {0};
	if (!f_array(fields_of(r), "sales", F_REQUIRED, 1, BATCH_MAX, &sales))
		goto out;
	/* One transaction for all: the batch costs one commit, and a sale
	 * refused leaves nothing in it (see record_sale()). */
	if (!db_ok(r, db_begin_write(r->db)))
		goto out;
	results = json_array();
	bool intact = true;
	for (size_t i = 0; i < json_array_size(sales) && intact; i++)
		json_array_append_new(results,
		    batch_item(r, json_array_get(sales, i), i, &tally, &intact));
	if (!intact) {
		/* A sale failed midway in the database: the batch is undone
		 * whole (the router rolls back), and the client sends it
		 * again; the sales it did store are re-sends then. */
		reply_error(r, E_INTERNAL, NULL, NULL);
		goto out;
	}
	/* The rollups of all its sales, each row once. */
	if (!db_ok(r, sale_tally_flush(r->db, &tally)) || !db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 200, json_pack("{s:o}", "results", results));
	results = NULL;
out:
	json_decref(results);
	sale_tally_free(&tally);
}

/*
 * Finds sale id for the caller: *stall_id and *voided. false with the
 * error set: 404 when there is no such sale, 403 when it is at another
 * operator's stall or outside a scoped coordinator's region.
 */
static bool
find_sale(struct request *r, const char *id, bool *voided)
{
	int64_t stall_id, market_day_id, operator_id;
	char day_status[16], channel[32];
	enum db_status st = sale_id_valid(id)
	                        ? store_sale_state(r->db, id, &stall_id, voided)
	                        : DB_NOT_FOUND;
	if (st == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no sale %s", id);
		return false;
	}
	if (!db_ok(r, st) ||
	    !db_ok(r, store_stall_info(r->db, stall_id, &market_day_id, &operator_id,
	                  day_status, sizeof(day_status), channel, sizeof(channel))))
		return false;
	if (!may_use_stall(r, operator_id)) {
		reply_error(
		    r, E_FORBIDDEN, NULL, "sale %s is at another operator's stall", id);
		return false;
	}
	return stall_in_scope(r, stall_id, NULL);
}

static void
get_sale(struct request *r)
{
	json_t *sale = NULL;
	bool voided;
	if (find_sale(r, r->params[0], &voided) &&
	    db_ok(r, store_sale_get(r->db, r->params[0], &sale)))
		reply_json(r, 200, sale);
}

static void
void_sale(struct request *r)
{
	const char *id = r->params[0], *reason;
	json_t *sale = NULL;
	bool voided;
	if (!sale_id_valid(id)) {
		reply_error(r, E_NOT_FOUND, NULL, "no sale %s", id);
		goto out;
	}
	if (!f_string(fields_of(r), "reason", F_REQUIRED, 1, 500, &reason, NULL))
		goto out;
	if (!db_ok(r, db_begin_write(r->db)) || !find_sale(r, id, &voided))
		goto out;
	if (voided) {
		reply_error(r, E_INVALID_STATE, NULL, "sale %s is voided already", id);
		goto out;
	}
	/* The store puts each line's goods back in stock and its units
	 * back into their lots, in this transaction. */
	if (!db_ok(r, store_sale_void(r->db, id, reason, r->user.id, r->now)) ||
	    !db_ok(r, store_sale_get(r->db, id, &sale)))
		goto out;
	if (!db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 200, sale);
	sale = NULL;
out:
	db_rollback(r->db); /* a no-op once committed */
	json_decref(sale);
}

static json_t *
sale_key(json_t *sale)
{
	return json_pack("[O]", json_object_get(sale, "seq"));
}

static void
list_sales(struct request *r)
{
	struct page p;
	struct sale_filter f = {0};
	json_t *items = NULL;
	int64_t after = 0;
	if (!page_parse(r, &p, 1))
		return;
	if (!req_query_int(r, "stall_id", 1, INT64_MAX, &f.stall_id, NULL) ||
	    !req_query_int(r, "market_day_id", 1, INT64_MAX, &f.market_day_id, NULL))
		goto out;
	if (p.after != NULL) {
		json_t *k = json_array_get(p.after, 0);
		if (!json_is_integer(k) || json_integer_value(k) < 0) {
			reply_error(r, E_VALIDATION, "cursor",
			    "cursor is not one this server gave");
			goto out;
		}
		after = json_integer_value(k);
	}
	if (r->user.role == ROLE_OPERATOR) {
		/* Only the operator's own stalls; naming another's is 403. An
		 * unknown stall simply has no sales. */
		if (f.stall_id != 0) {
			int64_t market_day_id, operator_id;
			char day_status[16], channel[32];
			enum db_status st = store_stall_info(r->db, f.stall_id,
			    &market_day_id, &operator_id, day_status,
			    sizeof(day_status), channel, sizeof(channel));
			if (st != DB_NOT_FOUND && !db_ok(r, st))
				goto out;
			if (st == DB_OK && !may_use_stall(r, operator_id)) {
				reply_error(r, E_FORBIDDEN, "stall_id",
				    "stall %" PRId64 " is not yours", f.stall_id);
				goto out;
			}
		}
		f.operator_id = r->user.id;
	} else if (scoped(r)) {
		if (f.stall_id != 0 && !stall_in_scope(r, f.stall_id, "stall_id"))
			goto out;
		f.region = r->user.region_code;
	}
	if (!db_ok(r, store_sale_list(r->db, &f, after, p.limit, &items)))
		goto out;
	page_reply(r, &p, items, sale_key);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

#define SELLERS (ROLE_OPERATOR | ROLES_STAFF)

const struct route sales_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/sales",
        .handler = list_sales,
        .roles = SELLERS},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/sales",
        .handler = create_sale,
        .roles = SELLERS,
        .body = true},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/sales/batch",
        .handler = create_batch,
        .roles = SELLERS,
        .body = true,
        .flat = true},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/sales/{id}",
        .handler = get_sale,
        .roles = SELLERS},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/sales/{id}/void",
        .handler = void_sale,
        .roles = SELLERS,
        .body = true},
    {0},
};
