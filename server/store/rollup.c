#include "store/rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* The five money columns of a product rollup, in table order. */
#define FEN_COLS                                                                       \
	"holiday_market_fen, caravan_fen, counter_fen, five_into_fen, online_fen"

/* Adds a new row's figures to table's row: the target's columns named by
 * table (PostgreSQL finds a bare name ambiguous with excluded's). */
#define ADD_FIGURES(table)                                                             \
	"units = " table ".units + excluded.units, "                                   \
	"holiday_market_fen = " table ".holiday_market_fen + "                         \
	"excluded.holiday_market_fen, "                                                \
	"caravan_fen = " table ".caravan_fen + excluded.caravan_fen, "                 \
	"counter_fen = " table ".counter_fen + excluded.counter_fen, "                 \
	"five_into_fen = " table ".five_into_fen + excluded.five_into_fen, "           \
	"online_fen = " table ".online_fen + excluded.online_fen"

/* Adds a new row's figures to a market day's row. */
#define ADD_MARKET_DAY                                                                 \
	"SET sales = report_market_day.sales + excluded.sales, "                       \
	"total_fen = report_market_day.total_fen + excluded.total_fen"

/* The sign bound as ?2, typed for PostgreSQL (which infers a parameter's
 * type from its use, and finds none in a select list); SQLite keeps the
 * integer as it is. */
#define SIGN "CAST(?2 AS BIGINT)"

#define ORDER_COUNTED "o.status IN ('paid', 'ready', 'fulfilled')"

/* One stall sale's lines in the rollups, times sign, a row a product: a
 * product on two lines is summed into one row (an upsert may not meet the
 * same row twice on PostgreSQL). The period is the sale's, one value. */
#define SALE_FIGURES(period)                                                           \
	"SELECT l.product_id, " period ", sum(" SIGN " * l.quantity), "                \
	"sum(CASE d.channel WHEN 'holiday_market' THEN " SIGN " * l.amount_fen "       \
	"ELSE 0 END), "                                                                \
	"sum(CASE d.channel WHEN 'caravan' THEN " SIGN " * l.amount_fen ELSE 0 END), " \
	"sum(CASE d.channel WHEN 'counter' THEN " SIGN " * l.amount_fen ELSE 0 END), " \
	"sum(CASE d.channel WHEN 'five_into' THEN " SIGN " * l.amount_fen "            \
	"ELSE 0 END), 0 "                                                              \
	"FROM sales s JOIN market_days d ON d.id = s.market_day_id "                   \
	"JOIN sale_lines l ON l.sale_seq = s.seq WHERE s.id = ?1 "                     \
	"GROUP BY l.product_id, " period " "

#define ORDER_FIGURES(period)                                                          \
	"SELECT l.product_id, " period ", sum(" SIGN " * l.quantity), 0, 0, 0, 0, "    \
	"sum(" SIGN " * l.amount_fen) "                                                \
	"FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.id = ?1 "       \
	"GROUP BY l.product_id, " period " "

/* A rollup row's CHECK (typeof(x) = 'integer') refuses a sum that left
 * 64 bits (SQLite would make it a REAL): an error that undoes the write,
 * never a constraint a caller could read as a duplicate or a conflict. */
static enum db_status
loud(enum db_status s)
{
	if (s == DB_CONSTRAINT) {
		log_warn(
		    "report rollups: a sum is beyond 64 bits; the write is refused");
		return DB_ERROR;
	}
	return s;
}

static enum db_status
step_all(struct db *db, struct db_stmt *const *st, size_t n)
{
	enum db_status s = DB_OK;
	for (size_t i = 0; i < n && s == DB_OK; i++)
		s = loud(db_exec_stmt(db, st[i]));
	return s;
}

enum db_status
rollup_sale(struct db *db, const char *id, int sign)
{
	struct db_stmt *st[5];
	st[0] = db_stmt(db,
	    "INSERT INTO report_product_day (product_id, date, "
	    "units, " FEN_COLS ") " SALE_FIGURES(
	        "s.recorded_date") "ON CONFLICT (product_id, date) DO "
	                           "UPDATE SET " ADD_FIGURES("report_product_day"));
	st[1] = db_stmt(db,
	    "INSERT INTO report_product_month (product_id, month, "
	    "units, " FEN_COLS ") " SALE_FIGURES(
	        "substr(s.recorded_date, 1, 7)") "ON CONFLICT (product_id, month) DO "
	                                         "UPDATE SET " ADD_FIGURES(
	                                             "report_product_month"));
	st[2] = db_stmt(db,
	    "INSERT INTO report_region_day (region_code, date, stall_sales, orders) "
	    "SELECT DISTINCT p.region_code, s.recorded_date, " SIGN ", 0 FROM sales s "
	    "JOIN sale_lines l ON l.sale_seq = s.seq "
	    "JOIN products x ON x.id = l.product_id "
	    "JOIN producers p ON p.id = x.producer_id WHERE s.id = ?1 "
	    "ON CONFLICT (region_code, date) DO UPDATE "
	    "SET stall_sales = report_region_day.stall_sales + excluded.stall_sales");
	st[3] = db_stmt(db,
	    "INSERT INTO report_day (date, stall_sales, orders) "
	    "SELECT recorded_date, " SIGN ", 0 FROM sales WHERE id = ?1 "
	    "ON CONFLICT (date) DO UPDATE "
	    "SET stall_sales = report_day.stall_sales + excluded.stall_sales");
	st[4] = db_stmt(db,
	    "INSERT INTO report_market_day (market_day_id, date, sales, total_fen) "
	    "SELECT market_day_id, recorded_date, " SIGN ", " SIGN " * total_fen "
	    "FROM sales WHERE id = ?1 "
	    "ON CONFLICT (market_day_id, date) DO UPDATE " ADD_MARKET_DAY);
	for (size_t i = 0; i < nitems(st); i++) {
		db_bind_text(st[i], 1, id);
		db_bind_int64(st[i], 2, sign);
	}
	return step_all(db, st, nitems(st));
}

enum db_status
rollup_product_add(
    struct db *db, int64_t product_id, const char *date, const struct rollup_figures *f)
{
	/* One-row upserts with the figures bound: no read back, no join,
	 * and no statement journal. */
	struct db_stmt *st[2];
	st[0] =
	    db_stmt(db, "INSERT INTO report_product_day (product_id, date, "
	                "units, " FEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	                "ON CONFLICT (product_id, date) DO UPDATE SET " ADD_FIGURES(
	                    "report_product_day"));
	st[1] =
	    db_stmt(db, "INSERT INTO report_product_month (product_id, month, "
	                "units, " FEN_COLS ") VALUES (?1, substr(?2, 1, 7), ?3, ?4, "
	                "?5, ?6, ?7, ?8) "
	                "ON CONFLICT (product_id, month) DO UPDATE SET " ADD_FIGURES(
	                    "report_product_month"));
	for (size_t i = 0; i < nitems(st); i++) {
		db_bind_int64(st[i], 1, product_id);
		db_bind_text_static(st[i], 2, date);
		db_bind_int64(st[i], 3, f->units);
		for (int c = 0; c < ROLLUP_CHANNELS; c++)
			db_bind_int64(st[i], 4 + c, f->fen[c]);
	}
	return step_all(db, st, nitems(st));
}

enum db_status
rollup_stall_sales_add(struct db *db, const char *date, const char *region, int64_t n)
{
	struct db_stmt *st;
	/* Every placeholder up to the highest is used (PostgreSQL infers each
	 * one's type from its use). */
	if (region != NULL) {
		st = db_stmt(db, "INSERT INTO report_region_day (region_code, date, "
		                 "stall_sales, orders) VALUES (?2, ?1, ?3, 0) "
		                 "ON CONFLICT (region_code, date) DO UPDATE "
		                 "SET stall_sales = report_region_day.stall_sales + "
		                 "excluded.stall_sales");
		db_bind_text_static(st, 2, region);
		db_bind_int64(st, 3, n);
	} else {
		st = db_stmt(db, "INSERT INTO report_day (date, stall_sales, orders) "
		                 "VALUES (?1, ?2, 0) ON CONFLICT (date) DO UPDATE "
		                 "SET stall_sales = report_day.stall_sales + "
		                 "excluded.stall_sales");
		db_bind_int64(st, 2, n);
	}
	db_bind_text_static(st, 1, date);
	return loud(db_exec_stmt(db, st));
}

enum db_status
rollup_market_day_add(
    struct db *db, int64_t market_day_id, const char *date, int64_t n, fen_t fen)
{
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO report_market_day (market_day_id, date, sales, total_fen) "
	    "VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (market_day_id, date) DO UPDATE " ADD_MARKET_DAY);
	db_bind_int64(st, 1, market_day_id);
	db_bind_text_static(st, 2, date);
	db_bind_int64(st, 3, n);
	db_bind_int64(st, 4, fen);
	return loud(db_exec_stmt(db, st));
}

int
rollup_channel(const char *channel)
{
	static const char *const names[] = {
	    "holiday_market", "caravan", "counter", "five_into", "online"};
	for (int i = 0; i < ROLLUP_CHANNELS; i++)
		if (strcmp(channel, names[i]) == 0)
			return i;
	return -1;
}

enum db_status
rollup_order(struct db *db, int64_t id, int sign)
{
	struct db_stmt *st[5];
	st[0] = db_stmt(db,
	    "INSERT INTO report_product_day (product_id, date, "
	    "units, " FEN_COLS ") " ORDER_FIGURES(
	        "o.created_date") "ON CONFLICT (product_id, date) DO "
	                          "UPDATE SET " ADD_FIGURES("report_product_day"));
	st[1] = db_stmt(db,
	    "INSERT INTO report_product_month (product_id, month, "
	    "units, " FEN_COLS ") " ORDER_FIGURES(
	        "substr(o.created_date, 1, 7)") "ON CONFLICT (product_id, month) DO "
	                                        "UPDATE SET " ADD_FIGURES(
	                                            "report_product_month"));
	st[2] = db_stmt(db,
	    "INSERT INTO report_region_day (region_code, date, stall_sales, orders) "
	    "SELECT DISTINCT p.region_code, o.created_date, 0, " SIGN " FROM orders o "
	    "JOIN order_lines l ON l.order_id = o.id "
	    "JOIN products x ON x.id = l.product_id "
	    "JOIN producers p ON p.id = x.producer_id WHERE o.id = ?1 "
	    "ON CONFLICT (region_code, date) DO UPDATE "
	    "SET orders = report_region_day.orders + excluded.orders");
	st[3] =
	    db_stmt(db, "INSERT INTO report_day (date, stall_sales, orders) "
	                "SELECT created_date, 0, " SIGN " FROM orders WHERE id = ?1 "
	                "ON CONFLICT (date) DO UPDATE "
	                "SET orders = report_day.orders + excluded.orders");
	/* An institution's order: its procurement of the year. */
	st[4] = db_stmt(db,
	    "INSERT INTO report_institution_year (institution_id, year, orders, "
	    "purchased_fen) SELECT institution_id, "
	    "CAST(substr(created_date, 1, 4) AS BIGINT), " SIGN ", " SIGN
	    " * total_fen "
	    "FROM orders WHERE id = ?1 AND institution_id IS NOT NULL "
	    "ON CONFLICT (year, institution_id) DO UPDATE "
	    "SET orders = report_institution_year.orders + excluded.orders, "
	    "purchased_fen = report_institution_year.purchased_fen + "
	    "excluded.purchased_fen");
	for (size_t i = 0; i < nitems(st); i++) {
		db_bind_int64(st[i], 1, id);
		db_bind_int64(st[i], 2, sign);
	}
	return step_all(db, st, nitems(st));
}

bool
rollup_order_counts(const char *status)
{
	return strcmp(status, "paid") == 0 || strcmp(status, "ready") == 0 ||
	       strcmp(status, "fulfilled") == 0;
}

enum db_status
rollup_order_status(struct db *db, int64_t id, const char *from, const char *to)
{
	int sign = (int)rollup_order_counts(to) - (int)rollup_order_counts(from);
	return sign == 0 ? DB_OK : rollup_order(db, id, sign);
}

/*
 * The raw rows the rollups follow: every counted line as (product_id,
 * date, units, f1..f5 the money by channel in table order, kind, ref),
 * kind 0 for a stall sale (ref its seq) and 1 for an order (ref its id).
 */
#define COUNTED_LINES                                                                  \
	"SELECT l.product_id AS product_id, s.recorded_date AS date, "                 \
	"l.quantity AS units, "                                                        \
	"CASE d.channel WHEN 'holiday_market' THEN l.amount_fen ELSE 0 END AS f1, "    \
	"CASE d.channel WHEN 'caravan' THEN l.amount_fen ELSE 0 END AS f2, "           \
	"CASE d.channel WHEN 'counter' THEN l.amount_fen ELSE 0 END AS f3, "           \
	"CASE d.channel WHEN 'five_into' THEN l.amount_fen ELSE 0 END AS f4, "         \
	"0 AS f5, 0 AS kind, s.seq AS ref "                                            \
	"FROM sales s JOIN market_days d ON d.id = s.market_day_id "                   \
	"JOIN sale_lines l ON l.sale_seq = s.seq WHERE s.voided = 0 "                  \
	"UNION ALL "                                                                   \
	"SELECT l.product_id, o.created_date, l.quantity, 0, 0, 0, 0, l.amount_fen, "  \
	"1, o.id FROM orders o JOIN order_lines l ON l.order_id = o.id "               \
	"WHERE " ORDER_COUNTED

/* The recomputations, in table column order, named r0, r1, ... */
#define RAW_PRODUCT(period)                                                            \
	"SELECT product_id AS r0, " period " AS r1, sum(units) AS r2, "                \
	"sum(f1) AS r3, sum(f2) AS r4, sum(f3) AS r5, sum(f4) AS r6, sum(f5) AS r7 "   \
	"FROM (" COUNTED_LINES ") c GROUP BY product_id, " period
#define RAW_REGION_DAY                                                                 \
	"SELECT p.region_code AS r0, c.date AS r1, "                                   \
	"count(DISTINCT CASE c.kind WHEN 0 THEN c.ref END) AS r2, "                    \
	"count(DISTINCT CASE c.kind WHEN 1 THEN c.ref END) AS r3 "                     \
	"FROM (" COUNTED_LINES ") c JOIN products x ON x.id = c.product_id "           \
	"JOIN producers p ON p.id = x.producer_id GROUP BY p.region_code, c.date"
#define RAW_DAY                                                                        \
	"SELECT date AS r0, sum(CASE WHEN kind = 0 THEN 1 ELSE 0 END) AS r1, "         \
	"sum(CASE WHEN kind = 1 THEN 1 ELSE 0 END) AS r2 FROM ("                       \
	"SELECT recorded_date AS date, 0 AS kind FROM sales WHERE voided = 0 "         \
	"UNION ALL SELECT o.created_date, 1 FROM orders o WHERE " ORDER_COUNTED        \
	") c GROUP BY date"

#define RAW_INSTITUTION_YEAR                                                           \
	"SELECT o.institution_id AS r0, "                                              \
	"CAST(substr(o.created_date, 1, 4) AS BIGINT) AS r1, count(*) AS r2, "         \
	"sum(o.total_fen) AS r3 FROM orders o "                                        \
	"WHERE o.institution_id IS NOT NULL AND " ORDER_COUNTED                        \
	" GROUP BY o.institution_id, substr(o.created_date, 1, 4)"
#define RAW_MARKET_DAY                                                                 \
	"SELECT market_day_id AS r0, recorded_date AS r1, count(*) AS r2, "            \
	"sum(total_fen) AS r3 FROM sales WHERE voided = 0 "                            \
	"GROUP BY market_day_id, recorded_date"
/* An integer as decimal text: the digits printf('%d') gave, on both
 * engines (a sum is numeric on PostgreSQL, of scale 0). */
#define DEC(x) "CAST(" x " AS TEXT)"
#define INSTITUTION_V(a, b)                                                            \
	"'orders ' || " DEC(a) " || ', purchased_fen ' || " DEC(b) " AS v"
#define MARKET_DAY_V(a, b) "'sales ' || " DEC(a) " || ', total_fen ' || " DEC(b) " AS v"

/* Row text for the comparisons: a key k and the figures v. */
#define PRODUCT_K(id, period) DEC(id) " || ' ' || " period " AS k, "
#define PRODUCT_V(u, a, b, c, d, e)                                                    \
	"'units ' || " DEC(u) " || ', fen ' || " DEC(a) " || '/' || " DEC(             \
	    b) " || '/' || " DEC(c) " || '/' || " DEC(d) " || '/' || " DEC(e) " AS v"
#define PRODUCT_ROLLUP(table, period)                                                  \
	"SELECT " PRODUCT_K("product_id", period) PRODUCT_V("units",                   \
	    "holiday_market_fen", "caravan_fen", "counter_fen", "five_into_fen",       \
	    "online_fen") " FROM " table                                               \
	                  " WHERE units <> 0 OR holiday_market_fen <> 0 OR "           \
	                  "caravan_fen <> 0 OR counter_fen <> 0 OR five_into_fen <> "  \
	                  "0 OR online_fen <> 0"
#define PRODUCT_RAW(period)                                                            \
	"SELECT " PRODUCT_K("r0", "r1") PRODUCT_V(                                     \
	    "r2", "r3", "r4", "r5", "r6", "r7") " FROM (" RAW_PRODUCT(period) ") r"
#define COUNTS_V(a, b) "'stall_sales ' || " DEC(a) " || ', orders ' || " DEC(b) " AS v"

/*
 * Compares two (k, v) queries: the rows of each that the other lacks,
 * as (k, v, side) with side 0 for the rollup and 1 for the raw rows,
 * ordered by k then side. (EXCEPT sorts; a FULL JOIN of two subqueries
 * would compare every row with every other.)
 */
#define COMPARE(rollup, raw)                                                           \
	"WITH a AS MATERIALIZED (" rollup "), b AS MATERIALIZED (" raw ") "            \
	"SELECT k, v, 0 FROM (SELECT k, v FROM a EXCEPT SELECT k, v FROM b) x "        \
	"UNION ALL SELECT k, v, 1 FROM (SELECT k, v FROM b EXCEPT SELECT k, v FROM "   \
	"a) y "                                                                        \
	"ORDER BY 1, 3"

static const struct {
	const char *table;
	const char *sql;
} comparisons[] = {
    {"report_product_day",
        COMPARE(PRODUCT_ROLLUP("report_product_day", "date"), PRODUCT_RAW("date"))},
    {"report_product_month", COMPARE(PRODUCT_ROLLUP("report_product_month", "month"),
                                 PRODUCT_RAW("substr(date, 1, 7)"))},
    {"report_region_day",
        COMPARE("SELECT region_code || ' ' || date AS k, " COUNTS_V(
                    "stall_sales", "orders") " FROM report_region_day "
                                             "WHERE stall_sales <> 0 OR orders <> 0",
            "SELECT r0 || ' ' || r1 AS k, " COUNTS_V(
                "r2", "r3") " FROM (" RAW_REGION_DAY ") r")},
    {"report_day",
        COMPARE("SELECT date AS k, " COUNTS_V("stall_sales",
                    "orders") " FROM report_day WHERE stall_sales <> 0 OR orders <> 0",
            "SELECT r0 AS k, " COUNTS_V("r1", "r2") " FROM (" RAW_DAY ") r")},
    {"report_institution_year",
        COMPARE("SELECT " DEC("institution_id") " || ' ' || " DEC(
                    "year") " AS k, " INSTITUTION_V("orders",
                    "purchased_fen") " FROM report_institution_year "
                                     "WHERE orders <> 0 OR purchased_fen <> 0",
            "SELECT " DEC("r0") " || ' ' || " DEC("r1") " AS k, " INSTITUTION_V(
                "r2", "r3") " FROM (" RAW_INSTITUTION_YEAR ") r")},
    {"report_market_day",
        COMPARE("SELECT " DEC("market_day_id") " || ' ' || date AS k, " MARKET_DAY_V(
                    "sales", "total_fen") " FROM report_market_day "
                                          "WHERE sales <> 0 OR total_fen <> 0",
            "SELECT " DEC("r0") " || ' ' || r1 AS k, " MARKET_DAY_V(
                "r2", "r3") " FROM (" RAW_MARKET_DAY ") r")},
};

/* One differing key: its rollup and raw figures ("-" for no row). */
static void
report_key(rollup_bad_fn *bad, void *arg, const char *table, const char *key,
    const char *rollup, const char *raw)
{
	bad(table, key, rollup ? rollup : "-", raw ? raw : "-", arg);
}

int
rollup_verify(struct db *db, rollup_bad_fn *bad, void *arg)
{
	int n = 0;
	for (size_t i = 0; i < nitems(comparisons); i++) {
		/* A cached statement (the SQL is a literal of the table): one
		 * that does not prepare fails its first step. */
		struct db_stmt *st = db_stmt(db, comparisons[i].sql);
		/* Rows come by key, the rollup's before the raw rows': pair a
		 * key's two sides into one report. */
		char *key = NULL, *rollup = NULL;
		int rc;
		while ((rc = db_step(st)) == DB_ROW) {
			const char *k = db_col_text(st, 0);
			const char *v = db_col_text(st, 1);
			bool raw = db_col_int(st, 2) == 1;
			if (key != NULL && (raw ? strcmp(key, k) != 0 : true)) {
				report_key(
				    bad, arg, comparisons[i].table, key, rollup, NULL);
				n++;
				free(key);
				free(rollup);
				key = rollup = NULL;
			}
			if (!raw) {
				key = xstrdup(k);
				rollup = xstrdup(v);
				continue;
			}
			report_key(bad, arg, comparisons[i].table, k, rollup, v);
			n++;
			free(key);
			free(rollup);
			key = rollup = NULL;
		}
		if (key != NULL && rc == DB_DONE) {
			report_key(bad, arg, comparisons[i].table, key, rollup, NULL);
			n++;
		}
		free(key);
		free(rollup);
		db_reset(st);
		if (rc != DB_DONE)
			return -1;
	}
	return n;
}

enum db_status
rollup_rebuild(struct db *db)
{
	static const char *const sql[] = {
	    "DELETE FROM report_product_day",
	    "DELETE FROM report_product_month",
	    "DELETE FROM report_region_day",
	    "DELETE FROM report_day",
	    "DELETE FROM report_institution_year",
	    "DELETE FROM report_market_day",
	    "INSERT INTO report_product_day (product_id, date, units, " FEN_COLS
	    ") " RAW_PRODUCT("date"),
	    "INSERT INTO report_product_month (product_id, month, units, " FEN_COLS
	    ") " RAW_PRODUCT("substr(date, 1, 7)"),
	    "INSERT INTO report_region_day (region_code, date, stall_sales, "
	    "orders) " RAW_REGION_DAY,
	    "INSERT INTO report_day (date, stall_sales, orders) " RAW_DAY,
	    "INSERT INTO report_institution_year (institution_id, year, orders, "
	    "purchased_fen) " RAW_INSTITUTION_YEAR,
	    "INSERT INTO report_market_day (market_day_id, date, sales, "
	    "total_fen) " RAW_MARKET_DAY,
	};
	enum db_status s = db_begin_write(db);
	for (size_t i = 0; i < nitems(sql) && s == DB_OK; i++)
		s = db_exec(db, sql[i]);
	if (s != DB_OK) {
		db_rollback(db);
		return s;
	}
	return db_commit(db);
}
