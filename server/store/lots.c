#include "store/lots.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "store/stock.h"
#include "store/webhooks.h"
#include "util.h"

void
lot_takes_free(struct lot_takes *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

bool
lot_code_valid(const char *code)
{
	size_t n = strlen(code);
	if (n < 1 || n > LOT_CODE_MAX)
		return false;
	for (; *code; code++)
		if (!((*code >= 'A' && *code <= 'Z') ||
		        (*code >= 'a' && *code <= 'z') ||
		        (*code >= '0' && *code <= '9') || *code == '-' ||
		        *code == '.' || *code == '/'))
			return false;
	return true;
}

static struct lot_take *
take_new(struct lot_takes *t)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 8;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	return &t->v[t->n++];
}

enum db_status
lots_draw(struct db *db, enum lot_owner kind, int64_t owner, size_t line_no,
    int64_t product_id, int64_t quantity, int64_t now, struct lot_takes *takes)
{
	enum db_status s = DB_OK;
	while (quantity > 0) {
		/* The next lot in allocation order: one seek into the partial
		 * index lots_draw_order (its ORDER BY is the index's). */
		struct db_stmt *st = db_stmt(db,
		    "SELECT id, remaining, code FROM lots WHERE product_id = ?1 "
		    "AND remaining > 0 "
		    "ORDER BY best_before IS NULL, best_before, packed_on, id LIMIT 1");
		db_bind_int64(st, 1, product_id);
		s = db_step_one(db, st);
		if (s != DB_OK) {
			db_reset(st);
			/* No lot has units left: the rest comes from no lot. */
			return s == DB_NOT_FOUND ? DB_OK : s;
		}
		int64_t lot_id = db_col_int64(st, 0);
		int64_t left = db_col_int64(st, 1);
		int64_t take = left < quantity ? left : quantity;
		if (takes != NULL) {
			struct lot_take *t = take_new(takes);
			t->line = line_no;
			t->lot_id = lot_id;
			t->quantity = take;
			snprintf(t->code, sizeof(t->code), "%s", db_col_text(st, 2));
		}
		db_reset(st);

		st = db_stmt(db, "UPDATE lots SET remaining = remaining - ?2 "
		                 "WHERE id = ?1 AND remaining >= ?2");
		db_bind_int64(st, 1, lot_id);
		db_bind_int64(st, 2, take);
		s = db_exec_change(db, st);
		if (s != DB_OK)
			return s == DB_NOT_FOUND ? DB_ERROR : s;
		st = db_stmt(
		    db, kind == LOT_SALE
		            ? "INSERT INTO lot_draws (lot_id, sale_seq, line_no, "
		              "quantity, drawn_at) VALUES (?1, ?2, ?3, ?4, ?5)"
		            : "INSERT INTO lot_draws (lot_id, order_id, line_no, "
		              "quantity, drawn_at) VALUES (?1, ?2, ?3, ?4, ?5)");
		db_bind_int64(st, 1, lot_id);
		db_bind_int64(st, 2, owner);
		db_bind_int64(st, 3, (int64_t)line_no);
		db_bind_int64(st, 4, take);
		db_bind_int64(st, 5, now);
		s = db_exec_stmt(db, st);
		if (s != DB_OK)
			return s;
		quantity -= take;
	}
	return s;
}

enum db_status
lots_put_back(struct db *db, enum lot_owner kind, int64_t owner, int64_t now)
{
	/* What is still out, by lot, read first: the lots are changed after
	 * the statement that reads the draws is reset. */
	struct db_stmt *st = db_stmt(
	    db, kind == LOT_SALE ? "SELECT lot_id, sum(quantity) FROM lot_draws "
	                           "WHERE sale_seq = ?1 AND returned_at IS NULL "
	                           "GROUP BY lot_id ORDER BY lot_id"
	                         : "SELECT lot_id, sum(quantity) FROM lot_draws "
	                           "WHERE order_id = ?1 AND returned_at IS NULL "
	                           "GROUP BY lot_id ORDER BY lot_id");
	db_bind_int64(st, 1, owner);
	int64_t(*back)[2] = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			back = xrealloc(back, cap * sizeof(*back));
		}
		back[n][0] = db_col_int64(st, 0);
		back[n][1] = db_col_int64(st, 1);
		n++;
	}
	db_reset(st);
	enum db_status s = rc == DB_DONE ? DB_OK : DB_ERROR;
	for (size_t i = 0; i < n && s == DB_OK; i++) {
		st = db_stmt(
		    db, "UPDATE lots SET remaining = remaining + ?2 WHERE id = ?1");
		db_bind_int64(st, 1, back[i][0]);
		db_bind_int64(st, 2, back[i][1]);
		s = db_exec_change(db, st);
		if (s == DB_NOT_FOUND)
			s = DB_ERROR;
	}
	free(back);
	if (s != DB_OK || n == 0)
		return s;
	st = db_stmt(db, kind == LOT_SALE
	                     ? "UPDATE lot_draws SET returned_at = ?2 "
	                       "WHERE sale_seq = ?1 AND returned_at IS NULL"
	                     : "UPDATE lot_draws SET returned_at = ?2 "
	                       "WHERE order_id = ?1 AND returned_at IS NULL");
	db_bind_int64(st, 1, owner);
	db_bind_int64(st, 2, now);
	return db_exec_stmt(db, st);
}

static json_t *
take_json(int64_t lot_id, const char *code, int64_t quantity)
{
	json_t *o = json_object();
	json_object_set_new_nocheck(o, "lot_id", json_integer(lot_id));
	/* A code is ASCII (lot_code_valid()). */
	json_object_set_new_nocheck(o, "code", json_string_nocheck(code));
	json_object_set_new_nocheck(o, "quantity", json_integer(quantity));
	return o;
}

json_t *
lot_takes_json(const struct lot_takes *takes, size_t line)
{
	json_t *a = json_array();
	for (size_t i = 0; i < takes->n; i++)
		if (takes->v[i].line == line)
			json_array_append_new(
			    a, take_json(takes->v[i].lot_id, takes->v[i].code,
			           takes->v[i].quantity));
	return a;
}

enum db_status
store_line_lots(struct db *db, enum lot_owner kind, int64_t owner, json_t *lines)
{
	size_t i;
	json_t *line;
	json_array_foreach(lines, i, line)
	    json_object_set_new_nocheck(line, "lots", json_array());
	struct db_stmt *st = db_stmt(
	    db, kind == LOT_SALE ? "SELECT d.line_no, d.lot_id, l.code, d.quantity "
	                           "FROM lot_draws d JOIN lots l ON l.id = d.lot_id "
	                           "WHERE d.sale_seq = ?1 ORDER BY d.line_no, d.id"
	                         : "SELECT d.line_no, d.lot_id, l.code, d.quantity "
	                           "FROM lot_draws d JOIN lots l ON l.id = d.lot_id "
	                           "WHERE d.order_id = ?1 ORDER BY d.line_no, d.id");
	db_bind_int64(st, 1, owner);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *lots = json_object_get(
		    json_array_get(lines, (size_t)db_col_int64(st, 0)), "lots");
		if (lots != NULL)
			json_array_append_new(
			    lots, take_json(db_col_int64(st, 1), db_col_text(st, 2),
			              db_col_int64(st, 3)));
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

/* A received lot's webhook data: the lot as the API shows it (arg: its
 * id). */
static enum db_status
lot_data(struct db *db, const void *arg, json_t **out)
{
	return store_lot_get(db, *(const int64_t *)arg, out);
}

enum db_status
store_lot_receive(
    struct db *db, const struct lot_in *l, int64_t user_id, int64_t now, int64_t *id)
{
	struct db_stmt *st = db_stmt(db, "SELECT 1 FROM products WHERE id = ?1");
	db_bind_int64(st, 1, l->product_id);
	enum db_status s = db_exists(db, st);
	if (s != DB_OK)
		return s;
	st = db_stmt(db, "INSERT INTO lots (product_id, code, quantity, remaining, "
	                 "packed_on, harvested_on, best_before, origin, created_at, "
	                 "created_by) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	db_bind_int64(st, 1, l->product_id);
	db_bind_text(st, 2, l->code);
	db_bind_int64(st, 3, l->quantity);
	db_bind_text(st, 4, l->packed_on);
	db_bind_text(st, 5, l->harvested_on);
	db_bind_text(st, 6, l->best_before);
	db_bind_text(st, 7, l->origin);
	db_bind_int64(st, 8, now);
	if (user_id > 0)
		db_bind_int64(st, 9, user_id);
	else
		db_bind_null(st, 9);
	s = db_exec_stmt(db, st);
	if (s != DB_OK)
		return s;
	*id = db_last_insert_id(db);
	char ref[24];
	snprintf(ref, sizeof(ref), "%" PRId64, *id);
	s = stock_move(
	    db, l->product_id, l->quantity, STOCK_LOT, ref, user_id, now, false, NULL);
	if (s == DB_OK)
		s = webhook_emit(db, WEBHOOK_LOT_RECEIVED, now, lot_data, id);
	return s;
}

#define LOT_COLS                                                                       \
	"l.id, l.product_id, l.code, l.quantity, l.remaining, l.packed_on, "           \
	"l.harvested_on, l.best_before, l.origin, l.created_at"

static json_t *
text_or_null(struct db_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	return s ? json_string(s) : json_null();
}

static json_t *
lot_row(struct db_stmt *st)
{
	char created[21];
	format_rfc3339(db_col_int64(st, 9), created);
	json_t *o = json_object();
	json_object_set_new_nocheck(o, "id", json_integer(db_col_int64(st, 0)));
	json_object_set_new_nocheck(o, "product_id", json_integer(db_col_int64(st, 1)));
	json_object_set_new_nocheck(o, "code", text_or_null(st, 2));
	json_object_set_new_nocheck(o, "quantity", json_integer(db_col_int64(st, 3)));
	json_object_set_new_nocheck(o, "remaining", json_integer(db_col_int64(st, 4)));
	json_object_set_new_nocheck(o, "packed_on", text_or_null(st, 5));
	json_object_set_new_nocheck(o, "harvested_on", text_or_null(st, 6));
	json_object_set_new_nocheck(o, "best_before", text_or_null(st, 7));
	json_object_set_new_nocheck(o, "origin", text_or_null(st, 8));
	json_object_set_new_nocheck(o, "created_at", json_string(created));
	return o;
}

enum db_status
store_lot_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " LOT_COLS " FROM lots l WHERE l.id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, lot_row, out);
}

enum db_status
store_lot_product(struct db *db, int64_t id, int64_t *product_id)
{
	struct db_stmt *st = db_stmt(db, "SELECT product_id FROM lots WHERE id = ?1");
	db_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		*product_id = db_col_int64(st, 0);
	db_reset(st);
	return s;
}

enum db_status
store_lot_list(
    struct db *db, int64_t product_id, int64_t after_id, int limit, json_t **out)
{
	*out = NULL;
	struct db_stmt *st = db_stmt(db, "SELECT 1 FROM products WHERE id = ?1");
	db_bind_int64(st, 1, product_id);
	enum db_status s = db_exists(db, st);
	if (s != DB_OK)
		return s;
	st = db_stmt(db, "SELECT " LOT_COLS " FROM lots l WHERE l.product_id = ?1 "
	                 "AND l.id > ?2 ORDER BY l.id LIMIT ?3");
	db_bind_int64(st, 1, product_id);
	db_bind_int64(st, 2, after_id);
	db_bind_int64(st, 3, limit + 1);
	return db_rows(db, st, lot_row, out);
}

/*
 * The events of a lot, in time order. rank puts, at one instant, the
 * receipt first, then draws, then returns; rid (the draw's id) keeps
 * the order they were written in. A delivery's place is the city of its
 * address, read from the address JSON by the caller (address column).
 */
#define TRACE_SQL                                                                      \
	"SELECT at, kind, quantity, sale_id, order_id, market_day_id, channel, "       \
	"place, address FROM ("                                                        \
	"SELECT l.created_at AS at, 0 AS rank, 0 AS rid, 'received' AS kind, "         \
	"l.quantity AS quantity, NULL AS sale_id, CAST(NULL AS BIGINT) AS order_id, "  \
	"NULL AS market_day_id, NULL AS channel, l.origin AS place, NULL AS address "  \
	"FROM lots l WHERE l.id = ?1 "                                                 \
	"UNION ALL "                                                                   \
	"SELECT d.drawn_at, 1, d.id, 'sold', d.quantity, s.id, NULL, "                 \
	"s.market_day_id, "                                                            \
	"m.channel, v.name, NULL FROM lot_draws d JOIN sales s ON s.seq = d.sale_seq " \
	"JOIN market_days m ON m.id = s.market_day_id "                                \
	"JOIN venues v ON v.id = m.venue_id WHERE d.lot_id = ?1 "                      \
	"UNION ALL "                                                                   \
	"SELECT d.returned_at, 2, d.id, 'returned', d.quantity, s.id, NULL, "          \
	"s.market_day_id, m.channel, v.name, NULL FROM lot_draws d "                   \
	"JOIN sales s ON s.seq = d.sale_seq "                                          \
	"JOIN market_days m ON m.id = s.market_day_id "                                \
	"JOIN venues v ON v.id = m.venue_id "                                          \
	"WHERE d.lot_id = ?1 AND d.returned_at IS NOT NULL "                           \
	"UNION ALL "                                                                   \
	"SELECT d.drawn_at, 1, d.id, 'ordered', d.quantity, NULL, o.id, "              \
	"o.market_day_id, 'online', v.name, o.address FROM lot_draws d "               \
	"JOIN orders o ON o.id = d.order_id "                                          \
	"LEFT JOIN market_days m ON m.id = o.market_day_id "                           \
	"LEFT JOIN venues v ON v.id = m.venue_id WHERE d.lot_id = ?1 "                 \
	"UNION ALL "                                                                   \
	"SELECT d.returned_at, 2, d.id, 'returned', d.quantity, NULL, o.id, "          \
	"o.market_day_id, 'online', v.name, o.address FROM lot_draws d "               \
	"JOIN orders o ON o.id = d.order_id "                                          \
	"LEFT JOIN market_days m ON m.id = o.market_day_id "                           \
	"LEFT JOIN venues v ON v.id = m.venue_id "                                     \
	"WHERE d.lot_id = ?1 AND d.returned_at IS NOT NULL"                            \
	") t ORDER BY at, rank, rid"

/* The city of a delivery address (JSON text), as a new reference. */
static json_t *
city_of(const char *address)
{
	json_t *a = address ? json_loads(address, 0, NULL) : NULL;
	json_t *city = json_object_get(a, "city");
	json_t *out = json_is_string(city) ? json_incref(city) : json_null();
	json_decref(a);
	return out;
}

static json_t *
event_row(struct db_stmt *st)
{
	char at[21];
	format_rfc3339(db_col_int64(st, 0), at);
	json_t *e = json_object();
	json_object_set_new_nocheck(e, "at", json_string(at));
	json_object_set_new_nocheck(e, "kind", text_or_null(st, 1));
	json_object_set_new_nocheck(e, "quantity", json_integer(db_col_int64(st, 2)));
	if (!db_col_is_null(st, 3))
		json_object_set_new_nocheck(e, "sale_id", text_or_null(st, 3));
	if (!db_col_is_null(st, 4))
		json_object_set_new_nocheck(
		    e, "order_id", json_integer(db_col_int64(st, 4)));
	if (!db_col_is_null(st, 5))
		json_object_set_new_nocheck(
		    e, "market_day_id", json_integer(db_col_int64(st, 5)));
	json_object_set_new_nocheck(e, "channel", text_or_null(st, 6));
	json_object_set_new_nocheck(e, "place",
	    !db_col_is_null(st, 7) ? text_or_null(st, 7) : city_of(db_col_text(st, 8)));
	return e;
}

enum db_status
store_lot_trace(struct db *db, int64_t id, json_t **out)
{
	json_t *lot = NULL, *events = NULL;
	*out = NULL;
	enum db_status s = store_lot_get(db, id, &lot);
	if (s != DB_OK)
		return s;
	struct db_stmt *st = db_stmt(db,
	    "SELECT x.id, x.name, x.unit, x.producer_id, p.region_code FROM lots l "
	    "JOIN products x ON x.id = l.product_id "
	    "JOIN producers p ON p.id = x.producer_id WHERE l.id = ?1");
	db_bind_int64(st, 1, id);
	s = db_step_one(db, st);
	json_t *trace = NULL;
	if (s == DB_OK)
		trace = json_pack("{s:O, s:I, s:s, s:s, s:I, s:s}", "lot", lot,
		    "product_id", (json_int_t)db_col_int64(st, 0), "product_name",
		    db_col_text(st, 1), "unit", db_col_text(st, 2), "producer_id",
		    (json_int_t)db_col_int64(st, 3), "region_code", db_col_text(st, 4));
	db_reset(st);
	json_decref(lot);
	if (s != DB_OK)
		return s == DB_NOT_FOUND ? DB_ERROR : s;
	st = db_stmt(db, TRACE_SQL);
	db_bind_int64(st, 1, id);
	s = db_rows(db, st, event_row, &events);
	if (s != DB_OK) {
		json_decref(trace);
		return s;
	}
	json_object_set_new_nocheck(trace, "events", events);
	*out = trace;
	return DB_OK;
}

static const char *
str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

char *
lot_trace_csv(json_t *trace, size_t *len)
{
	struct csv_out c;
	csv_out_open(&c);
	static const char *const header[] = {"at", "kind", "lot_code", "product",
	    "quantity", "unit", "place", "reference"};
	for (size_t i = 0; i < nitems(header); i++)
		csv_out_field(&c, header[i]);
	csv_out_row(&c);
	json_t *lot = json_object_get(trace, "lot"), *e;
	size_t i;
	json_array_foreach(json_object_get(trace, "events"), i, e)
	{
		char ref[96];
		json_t *order = json_object_get(e, "order_id");
		if (json_object_get(e, "sale_id") != NULL)
			snprintf(ref, sizeof(ref), "sale %s", str(e, "sale_id"));
		else if (order != NULL)
			snprintf(ref, sizeof(ref), "order %" JSON_INTEGER_FORMAT,
			    json_integer_value(order));
		else
			snprintf(ref, sizeof(ref), "lot %" JSON_INTEGER_FORMAT,
			    json_integer_value(json_object_get(lot, "id")));
		csv_out_field(&c, str(e, "at"));
		csv_out_field(&c, str(e, "kind"));
		csv_out_field(&c, str(lot, "code"));
		csv_out_field(&c, str(trace, "product_name"));
		csv_out_int(&c, json_integer_value(json_object_get(e, "quantity")));
		csv_out_field(&c, str(trace, "unit"));
		csv_out_field(&c, str(e, "place"));
		csv_out_field(&c, ref);
		csv_out_row(&c);
	}
	return csv_out_close(&c, len);
}

/* Each check: a query whose rows are problems, and how to say one. The
 * rows hold up to four integers (and, for the first, a text), put in the
 * message in column order. */
static const struct {
	const char *sql, *fmt;
} lot_checks[] = {
    {"SELECT id, remaining, quantity, held FROM (SELECT l.id AS id, "
     "l.remaining AS remaining, l.quantity AS quantity, "
     "coalesce((SELECT sum(d.quantity) FROM lot_draws d WHERE d.lot_id = l.id "
     "AND d.returned_at IS NULL), 0) AS held FROM lots l) h "
     "WHERE remaining <> quantity - held ORDER BY id",
        "lot %" PRId64 ": remaining %" PRId64 " but quantity %" PRId64
        " less the %" PRId64 " units its lines hold"},
    {"SELECT d.sale_seq, d.line_no, sum(d.quantity), coalesce(max(x.quantity), 0) "
     "FROM lot_draws d LEFT JOIN sale_lines x ON x.sale_seq = d.sale_seq "
     "AND x.line_no = d.line_no WHERE d.sale_seq IS NOT NULL "
     "GROUP BY d.sale_seq, d.line_no "
     "HAVING max(x.quantity) IS NULL OR sum(d.quantity) > max(x.quantity) "
     "ORDER BY d.sale_seq, d.line_no",
        "sale seq %" PRId64 " line %" PRId64 ": its lots give %" PRId64
        " units, more than its quantity %" PRId64},
    {"SELECT d.order_id, d.line_no, sum(d.quantity), coalesce(max(x.quantity), 0) "
     "FROM lot_draws d LEFT JOIN order_lines x ON x.order_id = d.order_id "
     "AND x.line_no = d.line_no WHERE d.order_id IS NOT NULL "
     "GROUP BY d.order_id, d.line_no "
     "HAVING max(x.quantity) IS NULL OR sum(d.quantity) > max(x.quantity) "
     "ORDER BY d.order_id, d.line_no",
        "order %" PRId64 " line %" PRId64 ": its lots give %" PRId64
        " units, more than its quantity %" PRId64},
    {"SELECT d.id, d.lot_id, l.product_id, x.product_id FROM lot_draws d "
     "JOIN lots l ON l.id = d.lot_id JOIN sale_lines x ON x.sale_seq = d.sale_seq "
     "AND x.line_no = d.line_no WHERE l.product_id <> x.product_id "
     "UNION ALL "
     "SELECT d.id, d.lot_id, l.product_id, x.product_id FROM lot_draws d "
     "JOIN lots l ON l.id = d.lot_id JOIN order_lines x ON x.order_id = d.order_id "
     "AND x.line_no = d.line_no WHERE l.product_id <> x.product_id ORDER BY 1",
        "lot draw %" PRId64 ": lot %" PRId64 " is of product %" PRId64
        " but its line of product %" PRId64},
    {"SELECT d.id, d.sale_seq, s.voided, "
     "CASE WHEN d.returned_at IS NOT NULL THEN 1 ELSE 0 END FROM lot_draws d "
     "JOIN sales s ON s.seq = d.sale_seq "
     "WHERE (s.voided = 1) <> (d.returned_at IS NOT NULL) ORDER BY d.id",
        "lot draw %" PRId64 ": sale seq %" PRId64 " voided %" PRId64
        " but its units put back %" PRId64},
    {"SELECT d.id, d.order_id, CASE WHEN o.status = 'cancelled' THEN 1 ELSE 0 END, "
     "CASE WHEN d.returned_at IS NOT NULL THEN 1 ELSE 0 END "
     "FROM lot_draws d JOIN orders o ON o.id = d.order_id "
     "WHERE (o.status = 'cancelled') <> (d.returned_at IS NOT NULL) ORDER BY d.id",
        "lot draw %" PRId64 ": order %" PRId64 " cancelled %" PRId64
        " but its units put back %" PRId64},
};

int
lots_verify(struct db *db, void (*bad)(const char *problem, void *arg), void *arg)
{
	int n = 0;
	for (size_t c = 0; c < nitems(lot_checks); c++) {
		struct db_stmt *st = db_stmt(db, lot_checks[c].sql);
		int rc;
		while ((rc = db_step(st)) == DB_ROW) {
			char msg[256];
			n++;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(msg, sizeof(msg), lot_checks[c].fmt,
			    db_col_int64(st, 0), db_col_int64(st, 1),
			    db_col_int64(st, 2), db_col_int64(st, 3));
#pragma GCC diagnostic pop
			bad(msg, arg);
		}
		db_reset(st);
		if (rc != DB_DONE)
			return -1;
	}
	return n;
}
