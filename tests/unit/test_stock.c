/* server/store/stock.c: a stock change whose sum would leave 64 bits is an
 * error (the integer CHECK of schema 0007), never a REAL, never "out of
 * stock", and changes nothing. Runs on a fresh database in a temporary
 * folder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db/db.h"
#include "log.h"
#include "store/stock.h"
#include "unit.h"

static char dir[] = "/tmp/market-unit-stock-XXXXXX";

static int64_t
one(struct db *db, const char *sql)
{
	struct db_stmt *st = db_stmt(db, sql);
	int64_t v = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	return v;
}

static void
test_overflow_is_an_error(void)
{
	char path[64], *err = NULL;
	snprintf(path, sizeof(path), "%s/market.db", dir);
	struct db *db = db_open(path, "normal", &err);
	CHECK(db != NULL);
	if (db == NULL)
		return;
	CHECK(db_exec(db,
	          "INSERT INTO regions VALUES ('zhenfeng', '贞丰县', 'Zhenfeng', 'p', "
	          "'east_west');"
	          "INSERT INTO producers VALUES (1, 'Z1', 'zhenfeng', 'cooperative', "
	          "100, 40, NULL);"
	          "INSERT INTO products (id, name, category, unit, price_fen, stock, "
	          "producer_id,"
	          " updated_at) VALUES (1, 'plums', 'fruit', 'kg', 1000, "
	          "9223372036854775806, 1, 0),"
	          " (2, 'tea', 'tea', 'kg', 1000, -9223372036854775807, 1, 0);") ==
	      DB_OK);
	int64_t after = 0;
	CHECK(stock_move(db, 1, 5, STOCK_CORRECTION, NULL, 0, 1, false, &after) ==
	      DB_ERROR);
	CHECK(one(db, "SELECT stock FROM products WHERE id = 1") == INT64_MAX - 1);
	CHECK(
	    one(db, "SELECT count(*) FROM products WHERE typeof(stock) <> 'integer'") ==
	    0);
	/* Below zero too, with and without the floor. */
	CHECK(stock_move(db, 2, -5, STOCK_SALE, "s", 0, 1, false, NULL) == DB_ERROR);
	CHECK(one(db, "SELECT stock FROM products WHERE id = 2") == -INT64_MAX);
	/* A change that fits still goes through. */
	CHECK(
	    stock_move(db, 1, 1, STOCK_CORRECTION, NULL, 0, 1, false, &after) == DB_OK);
	CHECK(after == INT64_MAX);
	CHECK(one(db, "SELECT count(*) FROM stock_movements") == 1);
	/* The column refuses a REAL outright. */
	CHECK(db_exec(db, "UPDATE products SET stock = 1.5 WHERE id = 1") == DB_ERROR);
	db_close(db);
	unlink(path);
}

int
main(void)
{
	log_set_quiet(1);
	if (mkdtemp(dir) == NULL)
		return 1;
	test_overflow_is_an_error();
	char wal[80];
	snprintf(wal, sizeof(wal), "%s/market.db-wal", dir);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s/market.db-shm", dir);
	unlink(wal);
	rmdir(dir);
	printf("%d checks, %d failed\n", unit_checks, unit_failures);
	return unit_failures != 0;
}
