#include "store/picklist.h"

#include <string.h>

#include "csv.h"
#include "store/market_days.h"
#include "store/reports.h"

enum db_status
store_operator_has_stall(struct db *db, int64_t market_day_id, int64_t operator_id)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT 1 FROM stalls "
	                "WHERE market_day_id = ?1 AND operator_id = ?2");
	db_bind_int64(st, 1, market_day_id);
	db_bind_int64(st, 2, operator_id);
	return db_exists(db, st);
}

static json_t *
product_row(struct db_stmt *st)
{
	return json_pack("{s:I, s:s, s:s, s:I}", "product_id",
	    (json_int_t)db_col_int64(st, 0), "name", db_col_text(st, 1), "unit",
	    db_col_text(st, 2), "units", (json_int_t)db_col_int64(st, 3));
}

static json_t *
order_row(struct db_stmt *st)
{
	return json_pack("{s:I, s:s, s:s}", "order_id", (json_int_t)db_col_int64(st, 0),
	    "buyer_display_name", db_col_text(st, 1), "status", db_col_text(st, 2));
}

static json_t *
line_row(struct db_stmt *st)
{
	return json_pack("{s:I, s:s, s:I}", "product_id",
	    (json_int_t)db_col_int64(st, 0), "name", db_col_text(st, 1), "quantity",
	    (json_int_t)db_col_int64(st, 2));
}

enum db_status
report_picklist(struct db *db, int64_t id, json_t **out)
{
	json_t *day = NULL, *products = NULL, *orders = NULL;
	*out = NULL;
	bool began;
	enum db_status s = snapshot_begin(db, &began);
	if (s != DB_OK)
		return s;
	s = store_market_day_get(db, id, &day);
	if (s == DB_OK) {
		struct db_stmt *st =
		    db_stmt(db, "SELECT l.product_id, x.name, x.unit, sum(l.quantity) "
		                "FROM orders o "
		                "JOIN order_lines l ON l.order_id = o.id "
		                "JOIN products x ON x.id = l.product_id "
		                "WHERE o.market_day_id = ?1 AND (o.status = 'paid' OR "
		                "o.status = 'ready') "
		                "GROUP BY l.product_id, x.name, x.unit "
		                "ORDER BY l.product_id");
		db_bind_int64(st, 1, id);
		s = db_rows(db, st, product_row, &products);
	}
	if (s == DB_OK) {
		struct db_stmt *st =
		    db_stmt(db, "SELECT o.id, coalesce(nullif(u.display_name, ''), "
		                "u.username), o.status "
		                "FROM orders o JOIN users u ON u.id = o.buyer_id "
		                "WHERE o.market_day_id = ?1 AND (o.status = 'paid' OR "
		                "o.status = 'ready') "
		                "ORDER BY o.id");
		db_bind_int64(st, 1, id);
		s = db_rows(db, st, order_row, &orders);
	}
	size_t i;
	json_t *order;
	json_array_foreach(orders, i, order)
	{
		if (s != DB_OK)
			break;
		struct db_stmt *st = db_stmt(db,
		    "SELECT l.product_id, x.name, l.quantity, x.unit FROM order_lines "
		    "l "
		    "JOIN products x ON x.id = l.product_id WHERE l.order_id = ?1 "
		    "ORDER BY l.line_no");
		db_bind_int64(
		    st, 1, json_integer_value(json_object_get(order, "order_id")));
		json_t *lines;
		s = db_rows(db, st, line_row, &lines);
		if (s == DB_OK)
			json_object_set_new(order, "lines", lines);
	}
	snapshot_end(db, began);
	if (s != DB_OK) {
		json_decref(day);
		json_decref(products);
		json_decref(orders);
		return s;
	}
	*out = json_pack("{s:o, s:o, s:o}", "market_day", day, "products", products,
	    "orders", orders);
	return DB_OK;
}

char *
report_picklist_csv(json_t *picklist, size_t *len)
{
	static const char *const cols[] = {"order_id", "buyer_display_name", "status",
	    "product_id", "name", "unit", "quantity"};
	struct csv_out c;
	csv_out_open(&c);
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		csv_out_field(&c, cols[i]);
	csv_out_row(&c);
	/* The units come from the products list. */
	json_t *products = json_object_get(picklist, "products");
	size_t i, k, j;
	json_t *order, *line, *p;
	json_array_foreach(json_object_get(picklist, "orders"), i, order)
	{
		json_array_foreach(json_object_get(order, "lines"), k, line)
		{
			const char *unit = "";
			json_int_t pid =
			    json_integer_value(json_object_get(line, "product_id"));
			json_array_foreach(products, j, p)
			{
				if (json_integer_value(
				        json_object_get(p, "product_id")) == pid)
					unit = json_string_value(
					    json_object_get(p, "unit"));
			}
			csv_out_int(
			    &c, json_integer_value(json_object_get(order, "order_id")));
			csv_out_field(&c, json_string_value(json_object_get(
			                      order, "buyer_display_name")));
			csv_out_field(
			    &c, json_string_value(json_object_get(order, "status")));
			csv_out_int(&c, pid);
			csv_out_field(
			    &c, json_string_value(json_object_get(line, "name")));
			csv_out_field(&c, unit);
			csv_out_int(
			    &c, json_integer_value(json_object_get(line, "quantity")));
			csv_out_row(&c);
		}
	}
	return csv_out_close(&c, len);
}
