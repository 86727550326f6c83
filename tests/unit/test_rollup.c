/* server/store/rollup.c: the report rollups follow every sale, void and
 * order status change, and every move of a product or producer to another
 * region; rollup_verify() finds a corrupted row and rollup_rebuild()
 * repairs it. Runs on a fresh database in a temporary folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/sqlite.h"
#include "log.h"
#include "store/reports.h"
#include "store/rollup.h"
#include "store/sales.h"
#include "unit.h"
#include "util.h"

static char dir[] = "/tmp/market-unit-rollup-XXXXXX";
static char path[64];

static const char catalog[] =
    "INSERT INTO regions VALUES ('qingyuan', '庆元县', 'Qingyuan', 'p', 'other'),"
    " ('zhenfeng', '贞丰县', 'Zhenfeng', 'p', 'east_west');"
    "INSERT INTO users (id, username, display_name, role, password_hash, created_at)"
    " VALUES (1, 'op1', 'op1', 'operator', 'x', 0), (2, 'buyer1', 'b', 'buyer', 'x', "
    "0);"
    "INSERT INTO producers VALUES (1, 'Z1', 'zhenfeng', 'cooperative', 100, 40, NULL),"
    " (2, 'Z2', 'zhenfeng', 'workshop', 50, 10, NULL),"
    " (3, 'Q1', 'qingyuan', 'household', 30, 5, NULL);"
    "INSERT INTO products (id, name, category, unit, price_fen, stock, producer_id,"
    " updated_at) VALUES (1, 'plums', 'fruit', 'kg', 1000, 100, 1, 0),"
    " (2, 'tea', 'tea', 'kg', 2500, 100, 2, 0), (3, 'mushrooms', 'vegetable', 'kg',"
    " 800, 100, 3, 0);"
    "INSERT INTO venues VALUES (1, 'Gulou', 'street_market', 'Gulou', NULL),"
    " (2, 'Baiyun', 'community', 'Baiyun', NULL);"
    "INSERT INTO market_days (id, venue_id, date, opens_at, closes_at, channel, uid)"
    " VALUES (1, 1, '2026-05-01', '09:00', '17:00', 'holiday_market', 'u1'),"
    " (2, 2, '2026-05-01', '09:00', '17:00', 'caravan', 'u2');"
    "INSERT INTO stalls VALUES (1, 1, 1, 1, 'A1'), (2, 2, 1, 3, 'C1');";

static struct db *
fresh(void)
{
	char *err = NULL;
	snprintf(path, sizeof(path), "%s/market.db", dir);
	unlink(path);
	struct db *db = db_open(path, "normal", &err);
	if (db == NULL) {
		fprintf(stderr, "db_open: %s\n", err);
		exit(1);
	}
	CHECK(db_exec(db, catalog) == DB_OK);
	return db;
}

/* Records a sale of lines (product, quantity) pairs at stall at t. */
static void
record(struct db *db, const char *id, int64_t stall, int64_t day, int64_t t,
    const int64_t (*lines)[2], size_t n)
{
	struct sale_line l[8] = {0};
	for (size_t i = 0; i < n; i++) {
		l[i].product_id = lines[i][0];
		l[i].quantity = lines[i][1];
	}
	struct sale s = {.id = id,
	    .stall_id = stall,
	    .recorded_at = t,
	    .payment = "cash",
	    .nlines = n,
	    .lines = l,
	    .market_day_id = day,
	    .operator_id = 1};
	char fp[65];
	size_t bad;
	fen_t price;
	sale_fingerprint(&s, fp);
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(sale_record(db, &s, fp, 1, t, &bad, &price) == SALE_RECORDED);
	CHECK(db_commit(db) == DB_OK);
}

/* An order placed (status placed) at created_date with lines. */
static void
order(struct db *db, int64_t id, const char *date, const int64_t (*lines)[3], size_t n)
{
	sqlite3 *h = db_handle(db);
	char sql[512];
	fen_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += lines[i][1] * lines[i][2];
	snprintf(sql, sizeof(sql),
	    "INSERT INTO orders (id, buyer_id, total_fen, fulfillment, address, "
	    "created_at, created_date, updated_at) VALUES (%lld, 2, %lld, "
	    "'delivery', '{}', 0, '%s', 0)",
	    (long long)id, (long long)total, date);
	CHECK(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
	for (size_t i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql),
		    "INSERT INTO order_lines VALUES (%lld, %zu, %lld, %lld, %lld, "
		    "%lld)",
		    (long long)id, i, (long long)lines[i][0], (long long)lines[i][1],
		    (long long)lines[i][2], (long long)(lines[i][1] * lines[i][2]));
		CHECK(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
	}
}

/* Order id goes from → to, as the orders store does it. */
static void
set_status(struct db *db, int64_t id, const char *from, const char *to)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE orders SET status = '%s' WHERE id = %lld",
	    to, (long long)id);
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(sqlite3_exec(db_handle(db), sql, NULL, NULL, NULL) == SQLITE_OK);
	CHECK(rollup_order_status(db, id, from, to) == DB_OK);
	CHECK(db_commit(db) == DB_OK);
}

static int bad_rows;

static void
count_bad(
    const char *table, const char *key, const char *rollup, const char *raw, void *arg)
{
	bad_rows++;
	if (arg != NULL)
		fprintf(
		    stderr, "  %s %s: rollup %s, raw %s\n", table, key, rollup, raw);
}

static int
verify(struct db *db, bool quiet)
{
	bad_rows = 0;
	int n = rollup_verify(db, count_bad, quiet ? NULL : (void *)1);
	CHECK(n == bad_rows);
	return n;
}

static int64_t
one(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The figure key of region code in a report made for from..to. */
static int64_t
figure(
    struct db *db, const char *from, const char *to, const char *code, const char *key)
{
	struct impact_query q = {.from = from, .to = to};
	json_t *report = NULL, *region;
	size_t i;
	int64_t v = -1;
	CHECK(report_impact(db, &q, &report) == DB_OK);
	json_array_foreach(json_object_get(report, "regions"), i, region)
	{
		if (strcmp(json_string_value(json_object_get(region, "region_code")),
		        code) == 0)
			v = json_integer_value(json_object_get(region, key));
	}
	json_decref(report);
	return v;
}

static const int64_t plums_and_mushrooms[][2] = {{1, 3}, {3, 2}};
static const int64_t tea[][2] = {{2, 1}, {2, 2}, {1, 1}};

static void
test_sales_and_voids(void)
{
	struct db *db = fresh();
	/* 2026-04-30T15:30:00Z is 23:30 on 30 April in Shanghai. */
	record(db, "sale-0001", 1, 1, 1777563000, plums_and_mushrooms, 2);
	/* 2026-04-30T16:00:00Z is already 1 May. */
	record(db, "sale-0002", 2, 2, 1777564800, tea, 3);
	CHECK(verify(db, false) == 0);
	CHECK(one(db, "SELECT units FROM report_product_day WHERE product_id = 1 "
	              "AND date = '2026-04-30'") == 3);
	CHECK(one(db, "SELECT caravan_fen FROM report_product_month WHERE "
	              "product_id = 2 AND month = '2026-05'") == 7500);
	CHECK(one(db, "SELECT stall_sales FROM report_region_day WHERE "
	              "region_code = 'qingyuan' AND date = '2026-04-30'") == 1);
	CHECK(one(db, "SELECT stall_sales FROM report_day WHERE date = '2026-05-01'") ==
	      1);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "zhenfeng", "sales_fen") ==
	      3000 + 8500);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "zhenfeng", "stall_sales") == 2);
	CHECK(figure(db, "2026-05-01", "2026-05-01", "zhenfeng", "units") == 4);
	CHECK(figure(db, "2026-04-30", "2026-04-30", "qingyuan", "sales_fen") == 1600);
	/* A market day's takings on the day each sale was recorded. */
	CHECK(one(db, "SELECT total_fen FROM report_market_day WHERE "
	              "market_day_id = 1 AND date = '2026-04-30'") == 3000 + 1600);
	CHECK(one(db, "SELECT sales FROM report_market_day WHERE "
	              "market_day_id = 2 AND date = '2026-05-01'") == 1);

	CHECK(db_begin_write(db) == DB_OK);
	CHECK(store_sale_void(db, "sale-0001", "wrong", 1, 0) == DB_OK);
	CHECK(db_commit(db) == DB_OK);
	CHECK(verify(db, false) == 0);
	CHECK(one(db, "SELECT sales FROM report_market_day WHERE "
	              "market_day_id = 1") == 0);
	CHECK(one(db, "SELECT total_fen FROM report_market_day WHERE "
	              "market_day_id = 1") == 0);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "qingyuan", "sales_fen") == 0);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "qingyuan", "stall_sales") == 0);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "zhenfeng",
	          "producers_with_sales") == 2);
	CHECK(figure(db, "2026-04-30", "2026-04-30", "zhenfeng",
	          "producers_with_sales") == 0);
	db_close(db);
}

static const int64_t order_lines[][3] = {{1, 2, 1000}, {3, 1, 800}};

static void
test_orders(void)
{
	struct db *db = fresh();
	order(db, 1, "2026-05-02", order_lines, 2);
	order(db, 2, "2026-05-02", order_lines, 2);
	CHECK(verify(db, false) == 0); /* placed orders do not count */
	set_status(db, 1, "placed", "paid");
	set_status(db, 2, "placed", "cancelled");
	CHECK(verify(db, false) == 0);
	CHECK(figure(db, "2026-05-01", "2026-05-31", "zhenfeng", "online_sales_fen") ==
	      2000);
	CHECK(figure(db, "2026-05-01", "2026-05-31", "qingyuan", "orders") == 1);
	set_status(db, 1, "paid", "ready");
	set_status(db, 1, "ready", "fulfilled");
	CHECK(figure(db, "2026-05-01", "2026-05-31", "zhenfeng", "orders") == 1);
	order(db, 3, "2026-05-03", order_lines, 2);
	set_status(db, 3, "placed", "paid");
	set_status(db, 3, "paid", "cancelled");
	CHECK(verify(db, false) == 0);
	CHECK(figure(db, "2026-05-01", "2026-05-31", "zhenfeng", "orders") == 1);
	CHECK(figure(db, "2026-05-01", "2026-05-31", "zhenfeng", "units") == 2);
	db_close(db);
}

static void
test_moves(void)
{
	struct db *db = fresh();
	record(db, "sale-0001", 1, 1, 1777563000, plums_and_mushrooms, 2);
	record(db, "sale-0002", 2, 2, 1777564800, tea, 3);
	order(db, 1, "2026-05-02", order_lines, 2);
	set_status(db, 1, "placed", "paid");
	CHECK(verify(db, false) == 0);
	/* Mushrooms move to a Zhenfeng producer: sale 1 and order 1 leave
	 * Qingyuan and are in Zhenfeng already. */
	CHECK(db_exec(db, "UPDATE products SET producer_id = 2 WHERE id = 3") == DB_OK);
	CHECK(verify(db, false) == 0);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "qingyuan", "stall_sales") == 0);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "zhenfeng", "stall_sales") == 2);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "zhenfeng", "orders") == 1);
	/* Plums' producer moves to Qingyuan: sale 1 enters Qingyuan and
	 * stays in Zhenfeng (its mushrooms are there now). */
	CHECK(
	    db_exec(db, "UPDATE producers SET region_code = 'qingyuan' WHERE id = 1") ==
	    DB_OK);
	CHECK(verify(db, false) == 0);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "qingyuan", "stall_sales") == 2);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "qingyuan", "households") == 100);
	/* And back, and to the same producer again (no move). */
	CHECK(db_exec(db, "UPDATE producers SET region_code = 'zhenfeng' WHERE id = 1;"
	                  "UPDATE products SET producer_id = 3 WHERE id = 3;"
	                  "UPDATE products SET producer_id = 3 WHERE id = 3") == DB_OK);
	CHECK(verify(db, false) == 0);
	CHECK(figure(db, "2026-04-01", "2026-05-31", "qingyuan", "stall_sales") == 1);
	db_close(db);
}

static void
test_corruption_and_rebuild(void)
{
	struct db *db = fresh();
	record(db, "sale-0001", 1, 1, 1777563000, plums_and_mushrooms, 2);
	record(db, "sale-0002", 2, 2, 1777564800, tea, 3);
	CHECK(verify(db, false) == 0);
	CHECK(
	    db_exec(db, "UPDATE report_product_month SET caravan_fen = caravan_fen + 1 "
	                "WHERE product_id = 2") == DB_OK);
	CHECK(verify(db, true) == 1);
	CHECK(db_exec(db, "DELETE FROM report_region_day WHERE date = '2026-04-30'") ==
	      DB_OK);
	CHECK(verify(db, true) == 3); /* zhenfeng and qingyuan on 30 April */
	CHECK(
	    db_exec(db, "INSERT INTO report_day VALUES ('2020-01-01', 0, 1)") == DB_OK);
	CHECK(verify(db, true) == 4);
	/* A row of zeros is the same as no row. */
	CHECK(db_exec(db, "INSERT INTO report_product_day VALUES (3, '2020-01-01', "
	                  "0, 0, 0, 0, 0, 0)") == DB_OK);
	CHECK(verify(db, true) == 4);
	CHECK(db_exec(db, "UPDATE report_market_day SET total_fen = total_fen - 1 "
	                  "WHERE market_day_id = 2") == DB_OK);
	CHECK(verify(db, true) == 5);
	CHECK(rollup_rebuild(db) == DB_OK);
	CHECK(verify(db, false) == 0);
	CHECK(one(db, "SELECT caravan_fen FROM report_product_month WHERE "
	              "product_id = 2 AND month = '2026-05'") == 7500);
	/* Raw rows loaded in bulk, then rebuilt. */
	CHECK(db_exec(db, "DELETE FROM report_product_day; DELETE FROM report_day") ==
	      DB_OK);
	CHECK(verify(db, true) > 0);
	CHECK(rollup_rebuild(db) == DB_OK);
	CHECK(verify(db, false) == 0);
	db_close(db);
}

static void
test_order_counts(void)
{
	CHECK(!rollup_order_counts("placed"));
	CHECK(rollup_order_counts("paid"));
	CHECK(rollup_order_counts("ready"));
	CHECK(rollup_order_counts("fulfilled"));
	CHECK(!rollup_order_counts("cancelled"));
}

static void
setup(void)
{
	log_set_quiet(1);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static void
teardown(void)
{
	char f[96];
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < nitems(suffix); i++) {
		snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
		unlink(f);
	}
	rmdir(dir);
}

UNIT_MAIN(setup, test_order_counts, test_sales_and_voids, test_orders, test_moves,
    test_corruption_and_rebuild, teardown)
