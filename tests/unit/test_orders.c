/* server/store/orders.c: the status names and the transition table, the
 * Idempotency-Key rule, which market days take pickups, placing an order
 * (catalog prices, all lines or none) and the one status function (refund
 * and stock back on cancel). Runs on a fresh database in a temporary
 * folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/sqlite.h"
#include "log.h"
#include "store/orders.h"
#include "unit.h"
#include "util.h"

static char dir[] = "/tmp/market-unit-orders-XXXXXX";
static char path[64];

/* 2026-05-01T00:00:00Z, 08:00 in Ningbo. */
#define MAY_DAY 1777593600

static const char catalog[] =
    "INSERT INTO regions VALUES ('zhenfeng', '贞丰县', 'Zhenfeng', 'p', 'east_west');"
    "INSERT INTO users (id, username, display_name, role, password_hash, created_at)"
    " VALUES (1, 'op1', 'op1', 'operator', 'x', 0), (2, 'buyer1', 'b', 'buyer', 'x', "
    "0);"
    "INSERT INTO producers VALUES (1, 'Z1', 'zhenfeng', 'cooperative', 100, 40, NULL);"
    "INSERT INTO products (id, name, category, unit, price_fen, stock, producer_id,"
    " updated_at, active) VALUES (1, 'plums', 'fruit', 'kg', 1500, 10, 1, 0, 1),"
    " (2, 'tea', 'tea', 'kg', 8800, 3, 1, 0, 1), (3, 'old', 'tea', 'kg', 100, 9, 1, 0, "
    "0);"
    "INSERT INTO stock_movements (product_id, delta, stock_after, reason, at)"
    " VALUES (1, 10, 10, 'initial', 0), (2, 3, 3, 'initial', 0), (3, 9, 9, 'initial', "
    "0);"
    "INSERT INTO venues VALUES (1, 'Gulou', 'street_market', 'Gulou', NULL);"
    "INSERT INTO market_days (id, venue_id, date, opens_at, closes_at, channel, uid,"
    " status) VALUES (1, 1, '2026-04-30', '09:00', '17:00', 'holiday_market', 'u1',"
    " 'scheduled'), (2, 1, '2026-05-01', '09:00', '17:00', 'holiday_market', 'u2',"
    " 'open'), (3, 1, '2026-05-02', '09:00', '17:00', 'holiday_market', 'u3', "
    "'closed'),"
    " (4, 1, '2026-05-03', '09:00', '17:00', 'holiday_market', 'u4', 'cancelled'),"
    " (5, 1, '2026-05-04', '09:00', '17:00', 'holiday_market', 'u5', 'scheduled');";

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

static int64_t
stock_of(struct db *db, int64_t id)
{
	int64_t n = -999;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db_handle(db),
	        "SELECT stock FROM products WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return n;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
test_names_and_transitions(void)
{
	static const char *const names[] = {
	    "placed", "paid", "ready", "fulfilled", "cancelled"};
	for (int i = 0; i < 5; i++) {
		enum order_status s;
		CHECK_STR(order_status_name((enum order_status)i), names[i]);
		CHECK(order_status_from_name(names[i], &s) && (int)s == i);
	}
	enum order_status s;
	CHECK(!order_status_from_name("PAID", &s));
	CHECK(!order_status_from_name("", &s));
	/* The contract's table: exactly these six moves are allowed. */
	int allowed = 0;
	for (int from = 0; from < 5; from++)
		for (int to = 0; to < 5; to++)
			allowed += order_transition_allowed(from, to);
	CHECK(allowed == 6);
	CHECK(order_transition_allowed(ORDER_PLACED, ORDER_PAID));
	CHECK(order_transition_allowed(ORDER_PAID, ORDER_READY));
	CHECK(order_transition_allowed(ORDER_READY, ORDER_FULFILLED));
	CHECK(order_transition_allowed(ORDER_PLACED, ORDER_CANCELLED));
	CHECK(order_transition_allowed(ORDER_PAID, ORDER_CANCELLED));
	CHECK(order_transition_allowed(ORDER_READY, ORDER_CANCELLED));
	CHECK(!order_transition_allowed(ORDER_FULFILLED, ORDER_CANCELLED));
	CHECK(!order_transition_allowed(ORDER_PLACED, ORDER_READY));
}

static void
test_idempotency_keys(void)
{
	char long_key[66];
	memset(long_key, 'k', 65);
	long_key[65] = '\0';
	CHECK(!idempotency_key_valid(""));
	CHECK(!idempotency_key_valid(long_key));
	long_key[64] = '\0';
	CHECK(idempotency_key_valid(long_key));
	CHECK(idempotency_key_valid("a"));
	CHECK(idempotency_key_valid("with space ~!"));
	CHECK(!idempotency_key_valid("tab\there"));
	CHECK(!idempotency_key_valid("del\x7f"));
	CHECK(!idempotency_key_valid("caf\xc3\xa9"));
}

static void
test_pickup_days(void)
{
	struct db *db = fresh();
	bool open = true;
	/* At 08:00 on 1 May in Ningbo. */
	int64_t now = MAY_DAY;
	CHECK(store_pickup_day_open(db, 1, now, &open) == DB_OK && !open); /* past */
	CHECK(store_pickup_day_open(db, 2, now, &open) == DB_OK &&
	      open); /* today, open */
	CHECK(store_pickup_day_open(db, 3, now, &open) == DB_OK && !open); /* closed */
	CHECK(
	    store_pickup_day_open(db, 4, now, &open) == DB_OK && !open); /* cancelled */
	CHECK(store_pickup_day_open(db, 5, now, &open) == DB_OK && open);
	CHECK(store_pickup_day_open(db, 99, now, &open) == DB_NOT_FOUND);
	/* 23:00Z on 30 April is 07:00 on 1 May in Ningbo: 30 April is past. */
	CHECK(store_pickup_day_open(db, 1, now - 3600, &open) == DB_OK && !open);
	/* 15:59Z on 30 April is 23:59 on 30 April in Ningbo: not past yet. */
	CHECK(
	    store_pickup_day_open(db, 1, now - 8 * 3600 - 60, &open) == DB_OK && open);
	db_close(db);
}

static void
test_place_all_or_nothing(void)
{
	struct db *db = fresh();
	struct order_line_in lines[2] = {
	    {.product_id = 1, .quantity = 4}, {.product_id = 2, .quantity = 5}};
	struct order_in o = {
	    .buyer_id = 2, .nlines = 2, .lines = lines, .market_day_id = 5};
	size_t bad = 9;
	int64_t left = -1, id = 0;

	CHECK(db_begin_write(db) == DB_OK);
	CHECK(order_place(db, &o, MAY_DAY, &bad, &left, &id) == ORDER_OUT_OF_STOCK);
	CHECK(bad == 1 && left == 3);
	db_rollback(db);
	CHECK(stock_of(db, 1) == 10 && stock_of(db, 2) == 3);

	lines[1].quantity = 3;
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(order_place(db, &o, MAY_DAY, &bad, &left, &id) == ORDER_OK);
	CHECK(db_commit(db) == DB_OK);
	CHECK(o.total_fen == 4 * 1500 + 3 * 8800);
	CHECK(lines[0].unit_price_fen == 1500 && lines[1].amount_fen == 3 * 8800);
	CHECK(stock_of(db, 1) == 6 && stock_of(db, 2) == 0);

	json_t *order = NULL;
	CHECK(store_order_get(db, id, true, &order) == DB_OK);
	CHECK_STR(json_string_value(json_object_get(order, "status")), "placed");
	CHECK(json_integer_value(json_object_get(order, "total_fen")) == o.total_fen);
	CHECK(json_is_null(json_object_get(order, "note")));
	json_decref(order);

	/* An inactive product is no product. */
	struct order_line_in old = {.product_id = 3, .quantity = 1};
	struct order_in o2 = {.buyer_id = 2,
	    .nlines = 1,
	    .lines = &old,
	    .address =
	        "{\"name\":\"n\",\"phone\":\"123\",\"line1\":\"l\",\"city\":\"c\"}"};
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(order_place(db, &o2, MAY_DAY, &bad, &left, &id) == ORDER_UNKNOWN_PRODUCT);
	db_rollback(db);
	db_close(db);
}

static void
test_status_changes(void)
{
	struct db *db = fresh();
	struct order_line_in line = {.product_id = 1, .quantity = 4};
	struct order_in o = {
	    .buyer_id = 2, .nlines = 1, .lines = &line, .market_day_id = 5};
	size_t bad;
	int64_t left, id, id2;
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(order_place(db, &o, MAY_DAY, &bad, &left, &id) == ORDER_OK);
	CHECK(order_place(db, &o, MAY_DAY, &bad, &left, &id2) == ORDER_OK);
	CHECK(db_commit(db) == DB_OK);
	CHECK(stock_of(db, 1) == 2);

	struct order_scope all = {0}, buyer = {.buyer_id = 2}, other = {.buyer_id = 1},
	                   op = {.operator_id = 1};
	struct order_state st;
	CHECK(
	    store_order_state(db, id, &all, &st) == DB_OK && st.status == ORDER_PLACED);
	CHECK(store_order_state(db, id, &buyer, &st) == DB_OK);
	CHECK(store_order_state(db, id, &other, &st) == DB_NOT_FOUND);
	CHECK(store_order_state(db, id, &op, &st) ==
	      DB_NOT_FOUND); /* no stall that day */

	/* From a status the order is not in: nothing changes. */
	CHECK(store_order_set_status(db, id, ORDER_PAID, ORDER_READY, 1, MAY_DAY) ==
	      DB_NOT_FOUND);
	CHECK(store_order_set_status(db, id, ORDER_PLACED, ORDER_PAID, 0, MAY_DAY) ==
	      DB_OK);
	CHECK(store_order_set_status(db, id, ORDER_PAID, ORDER_CANCELLED, 1, MAY_DAY) ==
	      DB_OK);
	CHECK(store_order_set_status(
	          db, id2, ORDER_PLACED, ORDER_CANCELLED, 2, MAY_DAY) == DB_OK);
	CHECK(stock_of(db, 1) == 10);
	/* A second cancel finds the order cancelled and puts nothing back. */
	CHECK(store_order_set_status(db, id, ORDER_PAID, ORDER_CANCELLED, 1, MAY_DAY) ==
	      DB_NOT_FOUND);
	CHECK(stock_of(db, 1) == 10);

	json_t *a = NULL, *b = NULL;
	CHECK(store_order_get(db, id, true, &a) == DB_OK);
	CHECK(store_order_get(db, id2, true, &b) == DB_OK);
	CHECK(json_integer_value(json_object_get(a, "refund_fen")) == 6000);
	CHECK(json_integer_value(json_object_get(b, "refund_fen")) == 0);
	json_decref(a);
	json_decref(b);
	db_close(db);
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
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

UNIT_MAIN(setup, test_names_and_transitions, test_idempotency_keys, test_pickup_days,
    test_place_all_or_nothing, test_status_changes, teardown)
