/* A market day's close-out, read from the raw sales and orders (not the
 * rollups): what each stall sold, by payment method and product, and the
 * day's pickups. */
#include "store/closeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/market_days.h"
#include "store/reports.h"
#include "util.h"

static const char *const payments[] = {"cash", "wechat", "alipay", "card", "other"};

static json_t *
stall_row(struct db_stmt *st)
{
	return json_pack("{s:I, s:s}", "stall_id", (json_int_t)db_col_int64(st, 0),
	    "label", db_col_text(st, 1));
}

static json_t *
stall_product_row(struct db_stmt *st)
{
	return json_pack("{s:I, s:s, s:I, s:I}", "product_id",
	    (json_int_t)db_col_int64(st, 0), "name", db_col_text(st, 1), "units",
	    (json_int_t)db_col_int64(st, 2), "sales_fen",
	    (json_int_t)db_col_int64(st, 3));
}

/* Fills stall's sales, total_fen, by_payment and products. */
static enum db_status
stall_figures(struct db *db, json_t *stall)
{
	int64_t id = json_integer_value(json_object_get(stall, "stall_id"));
	int64_t count = 0;
	fen_t total = 0;
	json_t *by = json_object();
	for (size_t i = 0; i < nitems(payments); i++)
		json_object_set_new(by, payments[i], json_integer(0));
	struct db_stmt *st =
	    db_stmt(db, "SELECT payment, count(*), sum(total_fen) "
	                "FROM sales WHERE stall_id = ?1 AND voided = 0 "
	                "GROUP BY payment");
	db_bind_int64(st, 1, id);
	int rc;
	bool overflow = false;
	while ((rc = db_step(st)) == DB_ROW) {
		fen_t fen = db_col_int64(st, 2);
		count += db_col_int64(st, 1);
		if (!fen_add(total, fen, &total))
			overflow = true;
		json_object_set_new(by, db_col_text(st, 0), json_integer(fen));
	}
	db_reset(st);
	if (rc != DB_DONE || overflow) {
		json_decref(by);
		return DB_ERROR;
	}
	json_object_set_new(stall, "sales", json_integer(count));
	json_object_set_new(stall, "total_fen", json_integer(total));
	json_object_set_new(stall, "by_payment", by);
	st = db_stmt(db, "SELECT l.product_id, x.name, sum(l.quantity), "
	                 "sum(l.amount_fen) FROM sales s "
	                 "JOIN sale_lines l ON l.sale_seq = s.seq "
	                 "JOIN products x ON x.id = l.product_id "
	                 "WHERE s.stall_id = ?1 AND s.voided = 0 "
	                 "GROUP BY l.product_id, x.name ORDER BY l.product_id");
	db_bind_int64(st, 1, id);
	json_t *products;
	enum db_status s = db_rows(db, st, stall_product_row, &products);
	if (s == DB_OK)
		json_object_set_new(stall, "products", products);
	return s;
}

static enum db_status
pickups(struct db *db, int64_t id, const char *region, json_t **out)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT count(*), "
	    "coalesce(sum(CASE WHEN o.status = 'fulfilled' THEN 1 ELSE 0 END), 0) "
	    "FROM orders o "
	    "WHERE o.market_day_id = ?1 AND o.status <> 'cancelled' "
	    "AND (CAST(?2 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM order_lines l "
	    "JOIN products x ON x.id = l.product_id "
	    "JOIN producers p ON p.id = x.producer_id "
	    "WHERE l.order_id = o.id AND p.region_code = ?2))");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, region);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		int64_t total = db_col_int64(st, 0);
		int64_t fulfilled = db_col_int64(st, 1);
		*out = json_pack("{s:I, s:I, s:I}", "total", (json_int_t)total,
		    "fulfilled", (json_int_t)fulfilled, "outstanding",
		    (json_int_t)(total - fulfilled));
	}
	db_reset(st);
	return s;
}

enum db_status
report_closeout(
    struct db *db, int64_t id, const struct closeout_scope *scope, json_t **out)
{
	json_t *day = NULL, *stalls = NULL, *pick = NULL;
	bool began;
	*out = NULL;
	enum db_status s = snapshot_begin(db, &began);
	if (s != DB_OK)
		return s;
	s = store_market_day_get(db, id, &day);
	if (s != DB_OK) {
		snapshot_end(db, began);
		return s;
	}
	struct db_stmt *st = db_stmt(db,
	    "SELECT st.id, st.label FROM stalls st "
	    "JOIN producers p ON p.id = st.producer_id WHERE st.market_day_id = ?1 "
	    "AND (CAST(?2 AS BIGINT) = 0 OR st.operator_id = ?2) "
	    "AND (CAST(?3 AS TEXT) IS NULL OR p.region_code = ?3) ORDER BY st.id");
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, scope->operator_id);
	db_bind_text(st, 3, scope->region);
	s = db_rows(db, st, stall_row, &stalls);
	size_t i;
	json_t *stall;
	json_array_foreach(stalls, i, stall)
	{
		if (s == DB_OK)
			s = stall_figures(db, stall);
	}
	if (s == DB_OK)
		s = pickups(db, id, scope->region, &pick);
	snapshot_end(db, began);
	if (s != DB_OK) {
		json_decref(day);
		json_decref(stalls);
		return s == DB_NOT_FOUND ? DB_ERROR : s;
	}
	*out = json_pack(
	    "{s:o, s:o, s:o}", "market_day", day, "stalls", stalls, "pickups", pick);
	return DB_OK;
}
