#include "store/orders.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "store/rollup.h"
#include "store/sales.h"
#include "store/stock.h"
#include "store/webhooks.h"

static const char *const status_names[] = {
    [ORDER_PLACED] = "placed",
    [ORDER_PAID] = "paid",
    [ORDER_READY] = "ready",
    [ORDER_FULFILLED] = "fulfilled",
    [ORDER_CANCELLED] = "cancelled",
};

const char *
order_status_name(enum order_status s)
{
	return status_names[s];
}

bool
order_status_from_name(const char *name, enum order_status *out)
{
	for (size_t i = 0; i < nitems(status_names); i++)
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum order_status)i;
			return true;
		}
	return false;
}

bool
order_transition_allowed(enum order_status from, enum order_status to)
{
	switch (to) {
	case ORDER_PAID:
		return from == ORDER_PLACED;
	case ORDER_READY:
		return from == ORDER_PAID;
	case ORDER_FULFILLED:
		return from == ORDER_READY;
	case ORDER_CANCELLED:
		return from == ORDER_PLACED || from == ORDER_PAID ||
		       from == ORDER_READY;
	case ORDER_PLACED:
		break;
	}
	return false;
}

bool
idempotency_key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n < 1 || n > IDEMPOTENCY_KEY_MAX)
		return false;
	for (; *key; key++)
		if (*key < 0x20 || *key > 0x7e)
			return false;
	return true;
}

enum db_status
store_pickup_day_open(struct db *db, int64_t id, int64_t now, bool *open)
{
	char today[11];
	date_local(now, today);
	struct db_stmt *st = db_stmt(db,
	    "SELECT CASE WHEN status IN ('scheduled', 'open') "
	    "AND date >= ?2 THEN 1 ELSE 0 END FROM market_days WHERE id = ?1");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, today);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		*open = db_col_int(st, 0) != 0;
	db_reset(st);
	return s;
}

/* An order's webhook data: the order as staff see it (arg: its id). */
static enum db_status
order_data(struct db *db, const void *arg, json_t **out)
{
	return store_order_get(db, *(const int64_t *)arg, true, out);
}

/* The price of product id, when it is active. */
static enum db_status
active_price(struct db *db, int64_t id, fen_t *price)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT price_fen FROM products WHERE id = ?1 AND active = 1");
	db_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		*price = db_col_int64(st, 0);
	db_reset(st);
	return s;
}

static enum db_status
product_stock(struct db *db, int64_t id, int64_t *stock)
{
	struct db_stmt *st = db_stmt(db, "SELECT stock FROM products WHERE id = ?1");
	db_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		*stock = db_col_int64(st, 0);
	db_reset(st);
	return s;
}

/* Appends order id's event from → to; from < 0 when it was placed. */
static enum db_status
add_event(struct db *db, int64_t id, int from, enum order_status to, int64_t user_id,
    int64_t now)
{
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO order_events (order_id, "
	    "from_status, to_status, user_id, at) VALUES (?1, ?2, ?3, ?4, ?5)");
	db_bind_int64(st, 1, id);
	db_bind_text_static(st, 2, from < 0 ? NULL : status_names[from]);
	db_bind_text_static(st, 3, status_names[to]);
	if (user_id > 0)
		db_bind_int64(st, 4, user_id);
	db_bind_int64(st, 5, now);
	return db_exec_stmt(db, st);
}

static enum order_outcome
price_lines(struct db *db, struct order_in *o, size_t *bad)
{
	fen_t total = 0;
	for (size_t i = 0; i < o->nlines; i++) {
		struct order_line_in *l = &o->lines[i];
		*bad = i;
		enum db_status s = active_price(db, l->product_id, &l->unit_price_fen);
		if (s == DB_NOT_FOUND)
			return ORDER_UNKNOWN_PRODUCT;
		if (s != DB_OK)
			return ORDER_FAILED;
		if (!fen_mul(l->unit_price_fen, l->quantity, &l->amount_fen))
			return ORDER_AMOUNT_TOO_LARGE;
		if (!fen_add(total, l->amount_fen, &total))
			return ORDER_TOTAL_TOO_LARGE;
	}
	o->total_fen = total;
	return ORDER_OK;
}

static enum db_status
insert_order(struct db *db, const struct order_in *o, int64_t now, int64_t *id)
{
	char date[11];
	date_local(now, date);
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO orders (buyer_id, status, "
	    "total_fen, fulfillment, market_day_id, address, note, created_at, "
	    "created_date, updated_at, institution_id) "
	    "VALUES (?1, 'placed', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, "
	    "(SELECT institution_id FROM users WHERE id = ?1))");
	db_bind_int64(st, 1, o->buyer_id);
	db_bind_int64(st, 2, o->total_fen);
	/* The strings outlive the step: bound without a copy. */
	db_bind_text_static(st, 3, o->market_day_id > 0 ? "pickup" : "delivery");
	if (o->market_day_id > 0)
		db_bind_int64(st, 4, o->market_day_id);
	db_bind_text_static(st, 5, o->market_day_id > 0 ? NULL : o->address);
	db_bind_text_static(st, 6, o->note);
	db_bind_int64(st, 7, now);
	db_bind_text_static(st, 8, date);
	enum db_status s = db_exec_stmt(db, st);
	if (s != DB_OK)
		return s;
	*id = db_last_insert_id(db);
	for (size_t i = 0; i < o->nlines && s == DB_OK; i++) {
		const struct order_line_in *l = &o->lines[i];
		st = db_stmt(db, "INSERT INTO order_lines (order_id, line_no, "
		                 "product_id, quantity, unit_price_fen, amount_fen) "
		                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
		db_bind_int64(st, 1, *id);
		db_bind_int64(st, 2, (int64_t)i);
		db_bind_int64(st, 3, l->product_id);
		db_bind_int64(st, 4, l->quantity);
		db_bind_int64(st, 5, l->unit_price_fen);
		db_bind_int64(st, 6, l->amount_fen);
		s = db_exec_stmt(db, st);
	}
	if (s == DB_OK)
		s = add_event(db, *id, -1, ORDER_PLACED, o->buyer_id, now);
	return s;
}

enum order_outcome
order_place(struct db *db, struct order_in *o, int64_t now, size_t *bad, int64_t *left,
    int64_t *id)
{
	enum order_outcome out = price_lines(db, o, bad);
	if (out != ORDER_OK)
		return out;
	if (insert_order(db, o, now, id) != DB_OK)
		return ORDER_FAILED;
	char ref[24];
	snprintf(ref, sizeof(ref), "%" PRId64, *id);
	for (size_t i = 0; i < o->nlines; i++) {
		/* The floor check and the change are one statement: of any
		 * number of concurrent orders, none takes stock below zero. */
		enum db_status s =
		    stock_move(db, o->lines[i].product_id, -o->lines[i].quantity,
		        STOCK_ORDER, ref, o->buyer_id, now, true, NULL);
		if (s == DB_CONSTRAINT) {
			*bad = i;
			if (product_stock(db, o->lines[i].product_id, left) != DB_OK)
				return ORDER_FAILED;
			if (*left < 0)
				*left = 0;
			return ORDER_OUT_OF_STOCK;
		}
		if (s != DB_OK)
			return ORDER_FAILED;
		/* The units reserved come from the product's lots as far as
		 * they go (stock set by hand may exceed them). */
		s = lots_draw(db, LOT_ORDER, *id, i, o->lines[i].product_id,
		    o->lines[i].quantity, now, &o->takes);
		if (s != DB_OK)
			return ORDER_FAILED;
	}
	if (webhook_emit(db, WEBHOOK_ORDER_PLACED, now, order_data, id) != DB_OK)
		return ORDER_FAILED;
	return ORDER_OK;
}

/* Which orders a scope may see, for a statement whose orders are "o" and
 * whose parameters b, b + 1 and b + 2 (b a placeholder number, b1 and b2
 * the next two as text) are bound by bind_scope(st, scope, b). Every
 * placeholder up to the highest is used: PostgreSQL infers each one's
 * type from its use. */
#define ORDER_SCOPE(b, b1, b2)                                                         \
	"(CAST(?" b " AS BIGINT) = 0 OR o.buyer_id = ?" b ") "                         \
	"AND (CAST(?" b1 " AS BIGINT) = 0 OR o.market_day_id IN "                      \
	"(SELECT market_day_id FROM stalls WHERE operator_id = ?" b1 ")) "             \
	"AND (CAST(?" b2 " AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM order_lines l "   \
	"JOIN products p ON p.id = l.product_id "                                      \
	"JOIN producers r ON r.id = p.producer_id "                                    \
	"WHERE l.order_id = o.id AND r.region_code = ?" b2 ")) "

static void
bind_scope(struct db_stmt *st, const struct order_scope *scope, int b)
{
	db_bind_int64(st, b, scope->buyer_id);
	db_bind_int64(st, b + 1, scope->operator_id);
	db_bind_text(st, b + 2, scope->region);
}

enum db_status
store_order_state(
    struct db *db, int64_t id, const struct order_scope *scope, struct order_state *out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT o.id, o.buyer_id, o.status, "
	                "o.total_fen, coalesce(o.market_day_id, 0) FROM orders o "
	                "WHERE o.id = ?1 AND " ORDER_SCOPE("2", "3", "4"));
	db_bind_int64(st, 1, id);
	bind_scope(st, scope, 2);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		out->id = db_col_int64(st, 0);
		out->buyer_id = db_col_int64(st, 1);
		if (!order_status_from_name(db_col_text(st, 2), &out->status))
			s = DB_ERROR;
		out->total_fen = db_col_int64(st, 3);
		out->market_day_id = db_col_int64(st, 4);
	}
	db_reset(st);
	return s;
}

#define ORDER_COLS                                                                     \
	"o.id, o.buyer_id, o.status, o.total_fen, o.refund_fen, o.created_at, "        \
	"o.updated_at, o.fulfillment, o.market_day_id, o.address, o.note, "            \
	"(SELECT coalesce(nullif(u.display_name, ''), u.username) FROM users u "       \
	"WHERE u.id = o.buyer_id), o.institution_id"

static json_t *
order_line_row(struct db_stmt *st)
{
	return json_pack("{s:I, s:s, s:I, s:I, s:I}", "product_id",
	    (json_int_t)db_col_int64(st, 0), "name", db_col_text(st, 1), "quantity",
	    (json_int_t)db_col_int64(st, 2), "unit_price_fen",
	    (json_int_t)db_col_int64(st, 3), "amount_fen",
	    (json_int_t)db_col_int64(st, 4));
}

static json_t *
fulfillment_of(struct db_stmt *st, bool with_phone)
{
	if (strcmp(db_col_text(st, 7), "pickup") == 0)
		return json_pack("{s:s, s:I}", "type", "pickup", "market_day_id",
		    (json_int_t)db_col_int64(st, 8));
	const char *text = db_col_text(st, 9);
	json_t *address = text ? json_loads(text, 0, NULL) : NULL;
	if (!json_is_object(address)) {
		json_decref(address);
		address = json_object();
	}
	if (!with_phone)
		json_object_del(address, "phone");
	return json_pack("{s:s, s:o}", "type", "delivery", "address", address);
}

/* The order of the current row of st (ORDER_COLS) with its lines. */
static enum db_status
order_row(struct db *db, struct db_stmt *st, bool with_phone, json_t **out)
{
	char created[21], updated[21];
	format_rfc3339(db_col_int64(st, 5), created);
	format_rfc3339(db_col_int64(st, 6), updated);
	const char *note = db_col_text(st, 10);
	int64_t id = db_col_int64(st, 0);
	json_t *order = json_pack("{s:I, s:I, s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:o}",
	    "id", (json_int_t)id, "buyer_id", (json_int_t)db_col_int64(st, 1), "status",
	    db_col_text(st, 2), "channel", "online", "total_fen",
	    (json_int_t)db_col_int64(st, 3), "refund_fen",
	    (json_int_t)db_col_int64(st, 4), "created_at", created, "updated_at",
	    updated, "fulfillment", fulfillment_of(st, with_phone), "note",
	    note ? json_string(note) : json_null());

	/* A different statement from st, so st keeps its place. */
	struct db_stmt *ls =
	    db_stmt(db, "SELECT l.product_id, p.name, l.quantity, "
	                "l.unit_price_fen, l.amount_fen FROM order_lines l "
	                "JOIN products p ON p.id = l.product_id WHERE l.order_id = ?1 "
	                "ORDER BY l.line_no");
	db_bind_int64(ls, 1, id);
	json_t *lines;
	enum db_status s = db_rows(db, ls, order_line_row, &lines);
	if (s == DB_OK)
		s = store_line_lots(db, LOT_ORDER, id, lines);
	if (s != DB_OK) {
		json_decref(lines);
		json_decref(order);
		*out = NULL;
		return s;
	}
	json_object_set_new(order, "lines", lines);
	/* Who picks it up: the stall's operator hands it over by name. */
	const char *buyer = db_col_text(st, 11);
	json_object_set_new(
	    order, "buyer_display_name", buyer ? json_string(buyer) : json_null());
	json_object_set_new(order, "institution_id",
	    db_col_is_null(st, 12) ? json_null() : json_integer(db_col_int64(st, 12)));
	*out = order;
	return DB_OK;
}

enum db_status
store_order_get(struct db *db, int64_t id, bool with_phone, json_t **out)
{
	*out = NULL;
	struct db_stmt *st =
	    db_stmt(db, "SELECT " ORDER_COLS " FROM orders o WHERE o.id = ?1");
	db_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		s = order_row(db, st, with_phone, out);
	db_reset(st);
	return s;
}

/* Sets key (a literal) of obj to value, a new reference. */
static void
put(json_t *obj, const char *key, json_t *value)
{
	json_object_set_new_nocheck(obj, key, value);
}

enum db_status
store_order_placed(
    struct db *db, const struct order_in *o, int64_t id, int64_t now, json_t **out)
{
	/* Built key by key, in the order of order_row() (json_pack would
	 * parse its format and re-check the literal keys). */
	*out = NULL;
	json_t *lines = json_array();
	enum db_status s = DB_OK;
	for (size_t i = 0; i < o->nlines && s == DB_OK; i++) {
		const struct order_line_in *l = &o->lines[i];
		struct db_stmt *st =
		    db_stmt(db, "SELECT name FROM products WHERE id = ?1");
		db_bind_int64(st, 1, l->product_id);
		s = db_step_one(db, st);
		if (s == DB_OK) {
			json_t *line = json_object();
			put(line, "product_id", json_integer(l->product_id));
			put(line, "name", json_string(db_col_text(st, 0)));
			put(line, "quantity", json_integer(l->quantity));
			put(line, "unit_price_fen", json_integer(l->unit_price_fen));
			put(line, "amount_fen", json_integer(l->amount_fen));
			put(line, "lots", lot_takes_json(&o->takes, i));
			json_array_append_new(lines, line);
		}
		db_reset(st);
	}
	if (s != DB_OK) {
		json_decref(lines);
		return s == DB_NOT_FOUND ? DB_ERROR : s;
	}
	json_t *ful = json_object();
	if (o->market_day_id > 0) {
		put(ful, "type", json_string_nocheck("pickup"));
		put(ful, "market_day_id", json_integer(o->market_day_id));
	} else {
		/* As fulfillment_of() reads the stored text back. */
		json_t *address = o->address ? json_loads(o->address, 0, NULL) : NULL;
		if (!json_is_object(address)) {
			json_decref(address);
			address = json_object();
		}
		put(ful, "type", json_string_nocheck("delivery"));
		put(ful, "address", address);
	}
	char at[21];
	format_rfc3339(now, at);
	json_t *order = json_object();
	put(order, "id", json_integer(id));
	put(order, "buyer_id", json_integer(o->buyer_id));
	put(order, "status", json_string_nocheck(status_names[ORDER_PLACED]));
	put(order, "channel", json_string_nocheck("online"));
	put(order, "total_fen", json_integer(o->total_fen));
	put(order, "refund_fen", json_integer(0));
	put(order, "created_at", json_string_nocheck(at));
	put(order, "updated_at", json_string_nocheck(at));
	put(order, "fulfillment", ful);
	put(order, "note", o->note ? json_string(o->note) : json_null());
	put(order, "lines", lines);
	struct db_stmt *st =
	    db_stmt(db, "SELECT coalesce(nullif(display_name, ''), "
	                "username), institution_id FROM users WHERE id = ?1");
	db_bind_int64(st, 1, o->buyer_id);
	s = db_step_one(db, st);
	if (s == DB_OK) {
		put(order, "buyer_display_name", json_string(db_col_text(st, 0)));
		put(order, "institution_id",
		    db_col_is_null(st, 1) ? json_null()
		                          : json_integer(db_col_int64(st, 1)));
	}
	db_reset(st);
	if (s != DB_OK) {
		json_decref(order);
		return s == DB_NOT_FOUND ? DB_ERROR : s;
	}
	*out = order;
	return DB_OK;
}

enum db_status
store_order_list(struct db *db, const struct order_scope *scope, const char *status,
    int64_t market_day_id, bool with_phone, int64_t after_id, int limit, json_t **out)
{
	struct db_stmt *st;
	/* A market day's pickups come by its index, a buyer's orders by
	 * its own; everyone else's in id order. */
	if (market_day_id != 0)
		st = db_stmt(db,
		    "SELECT " ORDER_COLS " FROM orders o "
		    "WHERE o.market_day_id = ?7 AND o.id > ?1 AND "
		    "(CAST(?2 AS TEXT) IS NULL "
		    "OR o.status = ?2) "
		    "AND " ORDER_SCOPE("3", "4", "5") "ORDER BY o.id LIMIT ?6");
	else if (scope->buyer_id != 0)
		st = db_stmt(db,
		    "SELECT " ORDER_COLS " FROM orders o "
		    "WHERE o.buyer_id = ?3 AND o.id > ?1 AND (CAST(?2 AS TEXT) IS NULL "
		    "OR o.status = ?2) "
		    "AND " ORDER_SCOPE("3", "4", "5") "ORDER BY o.id LIMIT ?6");
	else
		st = db_stmt(db,
		    "SELECT " ORDER_COLS " FROM orders o "
		    "WHERE o.id > ?1 AND (CAST(?2 AS TEXT) IS NULL OR o.status = ?2) "
		    "AND " ORDER_SCOPE("3", "4", "5") "ORDER BY o.id LIMIT ?6");
	db_bind_int64(st, 1, after_id);
	db_bind_text(st, 2, status);
	bind_scope(st, scope, 3);
	db_bind_int64(st, 6, limit + 1);
	if (market_day_id != 0)
		db_bind_int64(st, 7, market_day_id);
	*out = json_array();
	enum db_status s = DB_OK;
	int rc = DB_DONE;
	while (s == DB_OK && (rc = db_step(st)) == DB_ROW) {
		json_t *order;
		s = order_row(db, st, with_phone, &order);
		if (s == DB_OK)
			json_array_append_new(*out, order);
	}
	db_reset(st);
	if (s == DB_OK && rc != DB_DONE)
		s = DB_ERROR;
	if (s != DB_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return s;
}

/* Puts the stock of every line of order id back. */
static enum db_status
restock(struct db *db, int64_t id, int64_t user_id, int64_t now)
{
	char ref[24];
	snprintf(ref, sizeof(ref), "%" PRId64, id);
	struct db_stmt *st = db_stmt(db, "SELECT product_id, quantity FROM order_lines "
	                                 "WHERE order_id = ?1 ORDER BY line_no");
	db_bind_int64(st, 1, id);
	int64_t lines[ORDER_LINES_MAX][2];
	size_t n = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW && n < ORDER_LINES_MAX) {
		lines[n][0] = db_col_int64(st, 0);
		lines[n][1] = db_col_int64(st, 1);
		n++;
	}
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		return DB_ERROR;
	if (rc == DB_ROW)
		return DB_ERROR; /* more lines than an order may have */
	enum db_status s = DB_OK;
	for (size_t i = 0; i < n && s == DB_OK; i++)
		s = stock_move(db, lines[i][0], lines[i][1], STOCK_ORDER_CANCEL, ref,
		    user_id, now, false, NULL);
	/* And the units back into the lots they came from (once: the
	 * status moved from a live one to cancelled just before). */
	return s == DB_OK ? lots_put_back(db, LOT_ORDER, id, now) : s;
}

enum db_status
store_order_set_status(struct db *db, int64_t id, enum order_status from,
    enum order_status to, int64_t user_id, int64_t now)
{
	struct db_stmt *st = db_stmt(db,
	    "UPDATE orders SET status = ?3, updated_at = ?4, "
	    "refund_fen = CASE WHEN ?3 = 'cancelled' AND ?2 IN ('paid', 'ready') "
	    "THEN total_fen ELSE refund_fen END WHERE id = ?1 AND status = ?2");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, status_names[from]);
	db_bind_text(st, 3, status_names[to]);
	db_bind_int64(st, 4, now);
	enum db_status s = db_exec_change(db, st);
	if (s == DB_OK)
		s = add_event(db, id, (int)from, to, user_id, now);
	if (s == DB_OK && to == ORDER_CANCELLED)
		s = restock(db, id, user_id, now);
	/* Reports: an order enters or leaves a counted status (paid, ready,
	 * fulfilled) here and nowhere else. */
	if (s == DB_OK)
		s = rollup_order_status(db, id, status_names[from], status_names[to]);
	static const enum webhook_type events[] = {
	    [ORDER_PLACED] = WEBHOOK_ORDER_PLACED,
	    [ORDER_PAID] = WEBHOOK_ORDER_PAID,
	    [ORDER_READY] = WEBHOOK_ORDER_READY,
	    [ORDER_FULFILLED] = WEBHOOK_ORDER_FULFILLED,
	    [ORDER_CANCELLED] = WEBHOOK_ORDER_CANCELLED,
	};
	if (s == DB_OK)
		s = webhook_emit(db, events[to], now, order_data, &id);
	return s;
}

enum db_status
store_payment_order(struct db *db, const char *transaction_id, int64_t *order_id)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT order_id FROM payments WHERE transaction_id = ?1");
	db_bind_text(st, 1, transaction_id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		*order_id = db_col_int64(st, 0);
	db_reset(st);
	return s;
}

enum db_status
store_payment_add(struct db *db, const char *transaction_id, int64_t order_id,
    const char *provider, fen_t amount_fen, int64_t now)
{
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO payments (transaction_id, order_id, "
	    "provider, amount_fen, received_at) VALUES (?1, ?2, ?3, ?4, ?5)");
	db_bind_text(st, 1, transaction_id);
	db_bind_int64(st, 2, order_id);
	db_bind_text(st, 3, provider);
	db_bind_int64(st, 4, amount_fen);
	db_bind_int64(st, 5, now);
	return db_exec_stmt(db, st);
}

enum db_status
store_idempotency_get(struct db *db, int64_t buyer_id, const char *key,
    char fingerprint[65], char **response)
{
	*response = NULL;
	struct db_stmt *st =
	    db_stmt(db, "SELECT fingerprint, response "
	                "FROM idempotency_keys WHERE buyer_id = ?1 AND key = ?2");
	db_bind_int64(st, 1, buyer_id);
	db_bind_text(st, 2, key);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		snprintf(fingerprint, 65, "%s", db_col_text(st, 0));
		*response = xstrdup(db_col_text(st, 1));
	}
	db_reset(st);
	return s;
}

enum db_status
store_idempotency_put(struct db *db, int64_t buyer_id, const char *key,
    const char *fingerprint, int64_t order_id, const char *response, int64_t now)
{
	/* Forget a few old keys, so the table stays small without a sweeper
	 * and no insert pays for many. Most inserts find none: one probe of
	 * the created_at index tells, and the DELETE (its IN builds an
	 * ephemeral table, and it opens a statement journal) runs only when
	 * there is something to forget. */
	struct db_stmt *st = db_stmt(db, "SELECT 1 FROM idempotency_keys "
	                                 "WHERE created_at < ?1 LIMIT 1");
	db_bind_int64(st, 1, now - IDEMPOTENCY_KEEP);
	enum db_status s = db_exists(db, st);
	if (s == DB_OK) {
		st = db_stmt(db,
		    "DELETE FROM idempotency_keys "
		    "WHERE (buyer_id, key) IN (SELECT buyer_id, key FROM "
		    "idempotency_keys WHERE created_at < ?1 ORDER BY created_at "
		    "LIMIT 100)");
		db_bind_int64(st, 1, now - IDEMPOTENCY_KEEP);
		s = db_exec_stmt(db, st);
	} else if (s == DB_NOT_FOUND) {
		s = DB_OK;
	}
	if (s != DB_OK)
		return s;
	st = db_stmt(db,
	    "INSERT INTO idempotency_keys (buyer_id, key, fingerprint, "
	    "order_id, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	db_bind_int64(st, 1, buyer_id);
	db_bind_text(st, 2, key);
	db_bind_text(st, 3, fingerprint);
	db_bind_int64(st, 4, order_id);
	db_bind_text(st, 5, response);
	db_bind_int64(st, 6, now);
	return db_exec_stmt(db, st);
}
