/* server/store/prices.c: price_set() appends an entry only for a price
 * that differs from the newest, and never before the newest when the
 * clock goes back; a stall sale (store/sales.c) is priced at the entry in
 * effect at its recorded_at, ties going to the later entry; price_verify()
 * finds a price that is not its newest entry's. Runs on a fresh database
 * in a temporary folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/sqlite.h"
#include "log.h"
#include "store/prices.h"
#include "store/sales.h"
#include "unit.h"
#include "util.h"

static char dir[] = "/tmp/market-unit-prices-XXXXXX";
static char path[64];

static const char catalog[] =
    "INSERT INTO regions VALUES ('zhenfeng', '贞丰县', 'Zhenfeng', 'p', 'east_west');"
    "INSERT INTO users (id, username, display_name, role, password_hash, created_at)"
    " VALUES (1, 'op1', 'op1', 'operator', 'x', 0);"
    "INSERT INTO producers VALUES (1, 'Z1', 'zhenfeng', 'cooperative', 100, 40, NULL);"
    "INSERT INTO products (id, name, category, unit, price_fen, stock, producer_id,"
    " updated_at) VALUES (1, 'plums', 'fruit', 'kg', 1000, 100, 1, 0),"
    " (2, 'tea', 'tea', 'kg', 2500, 100, 1, 0);"
    "INSERT INTO venues VALUES (1, 'Gulou', 'street_market', 'Gulou', NULL);"
    "INSERT INTO market_days (id, venue_id, date, opens_at, closes_at, channel, uid)"
    " VALUES (1, 1, '2026-05-01', '09:00', '17:00', 'holiday_market', 'u1');"
    "INSERT INTO stalls VALUES (1, 1, 1, 1, 'A1');";

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

static void
set(struct db *db, int64_t product, fen_t price, int64_t now)
{
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(price_set(db, product, price, PRICE_CHANGE, 1, now) == DB_OK);
	CHECK(db_commit(db) == DB_OK);
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

/* The price a sale of product 1 recorded at t without a price gets;
 * -1 when it is not recorded. */
static fen_t
sold_at(struct db *db, int64_t t)
{
	static int n;
	char id[32], fp[65];
	snprintf(id, sizeof(id), "unit-sale-%04d", ++n);
	struct sale_line l = {.product_id = 1, .quantity = 1};
	struct sale s = {.id = id,
	    .stall_id = 1,
	    .recorded_at = t,
	    .payment = "cash",
	    .nlines = 1,
	    .lines = &l,
	    .market_day_id = 1,
	    .operator_id = 1};
	size_t bad;
	fen_t price;
	sale_fingerprint(&s, fp);
	CHECK(db_begin_write(db) == DB_OK);
	enum sale_outcome o = sale_record(db, &s, fp, 1, t, &bad, &price);
	CHECK(db_commit(db) == DB_OK);
	return o == SALE_RECORDED ? l.unit_price_fen : -1;
}

static void
test_set(void)
{
	struct db *db = fresh();
	set(db, 1, 1000, 100);
	set(db, 1, 1000, 200); /* unchanged: nothing */
	CHECK(one(db, "SELECT count(*) FROM price_history") == 1);
	set(db, 1, 1200, 300);
	CHECK(one(db, "SELECT count(*) FROM price_history") == 2);
	/* The clock went back: the entry keeps to the newest's instant. */
	set(db, 1, 1100, 250);
	CHECK(one(db, "SELECT from_at FROM price_history ORDER BY id DESC LIMIT 1") ==
	      300);
	CHECK(
	    one(db, "SELECT user_id FROM price_history ORDER BY id DESC LIMIT 1") == 1);
	CHECK(
	    one(db, "SELECT count(*) FROM price_history WHERE reason = 'change'") == 3);
	db_close(db);
}

static void
test_price_in_effect(void)
{
	struct db *db = fresh();
	/* No history at all: the catalog price. */
	CHECK(sold_at(db, 50) == 1000);
	set(db, 1, 1500, 100);
	set(db, 1, 1200, 200);
	set(db, 1, 1300, 200);          /* the same instant: the later one holds */
	CHECK(sold_at(db, 99) == 1500); /* before every entry: the earliest */
	CHECK(sold_at(db, 100) == 1500);
	CHECK(sold_at(db, 199) == 1500);
	CHECK(sold_at(db, 200) == 1300);
	CHECK(sold_at(db, 5000) == 1300);

	/* A price above the one in effect is refused, naming it. */
	char fp[65];
	struct sale_line l = {
	    .product_id = 1, .quantity = 1, .price_sent = true, .unit_price_fen = 1500};
	struct sale s = {.id = "unit-sale-high",
	    .stall_id = 1,
	    .recorded_at = 200,
	    .payment = "cash",
	    .nlines = 1,
	    .lines = &l,
	    .market_day_id = 1,
	    .operator_id = 1};
	size_t bad = 9;
	fen_t price = 0;
	sale_fingerprint(&s, fp);
	CHECK(db_begin_write(db) == DB_OK);
	CHECK(sale_record(db, &s, fp, 1, 200, &bad, &price) == SALE_PRICE_ABOVE);
	CHECK(bad == 0 && price == 1300);
	s.recorded_at = 150;
	CHECK(sale_record(db, &s, fp, 1, 200, &bad, &price) == SALE_RECORDED);
	CHECK(l.unit_price_fen == 1500 && s.total_fen == 1500);
	CHECK(db_commit(db) == DB_OK);
	db_close(db);
}

static int bad_products;

static void
count_bad(int64_t product, fen_t price, bool has_entry, fen_t newest, void *arg)
{
	bad_products++;
	CHECK(product == 1 || product == 2);
	if (product == 1)
		CHECK(price == 1000 && has_entry && newest == 900);
	else
		CHECK(price == 2500 && !has_entry);
}

static void
test_verify(void)
{
	struct db *db = fresh();
	set(db, 1, 1000, 100);
	set(db, 2, 2500, 100);
	bad_products = 0;
	CHECK(price_verify(db, count_bad, NULL) == 0);
	CHECK(bad_products == 0);
	/* The history is append-only. */
	CHECK(db_exec(db, "DELETE FROM price_history WHERE product_id = 2") != DB_OK);
	CHECK(db_exec(db, "UPDATE price_history SET price_fen = 1") != DB_OK);
	CHECK(one(db, "SELECT count(*) FROM price_history") == 2);
	db_close(db);

	/* Product 1's newest entry is not its price; product 2 has none. */
	db = fresh();
	set(db, 1, 1000, 100);
	set(db, 1, 900, 200);
	bad_products = 0;
	CHECK(price_verify(db, count_bad, NULL) == 2);
	CHECK(bad_products == 2);
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
	char f[96];
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < nitems(suffix); i++) {
		snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
		unlink(f);
	}
	rmdir(dir);
}

UNIT_MAIN(setup, test_set, test_price_in_effect, test_verify, teardown)
