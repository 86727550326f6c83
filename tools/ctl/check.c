/* marketctl check: SQLite's integrity check, foreign keys, every
 * product's stock against the sum of its stock movements, every
 * product's price against the newest entry of its price history, the lot
 * arithmetic (store/lots.h), the
 * report rollups against the raw sales and orders (--repair-rollups
 * rebuilds them first), and the two money identities: each producer's
 * statement (opening + earned - paid out = closing, earned equal to its
 * raw lines) and each region's impact sales equal to the sum of its
 * producers' earnings. */
#include <inttypes.h>
#include <stdio.h>

#include "ctl/ctl.h"
#include "db/db.h"
#include "db/sqlite.h"
#include "store/lots.h"
#include "store/payouts.h"
#include "store/prices.h"
#include "store/rollup.h"
#include "store/stock.h"

static void
report(int64_t product, int64_t stock, int64_t ledger, void *arg)
{
	printf("product %" PRId64 ": stock %" PRId64
	       " but its movements add up to %" PRId64 "\n",
	    product, stock, ledger);
}

static void
price_report(int64_t product, fen_t price, bool has_entry, fen_t newest, void *arg)
{
	if (has_entry)
		printf("product %" PRId64 ": price_fen %" PRId64
		       " but its price history "
		       "ends at %" PRId64 "\n",
		    product, price, newest);
	else
		printf("product %" PRId64 ": price_fen %" PRId64 " but it has no price "
		       "history\n",
		    product, price);
}

static void
rollup_report(
    const char *table, const char *key, const char *rollup, const char *raw, void *arg)
{
	printf("%s %s: the rollup holds %s, the raw rows give %s\n", table, key, rollup,
	    raw);
}

static void
lot_report(const char *problem, void *arg)
{
	printf("%s\n", problem);
}

static void
money_report(const char *what, const char *key, fen_t got, fen_t want, void *arg)
{
	printf("%s %s: the statements give %" PRId64
	       ", the sales, orders and payouts %" PRId64 "\n",
	    what, key, got, want);
}

/*
 * SQLite-only: runs one of SQLite's own checks (PRAGMA integrity_check,
 * foreign_key_check) on the raw handle; "ok" rows pass. A PostgreSQL
 * database has no such file to check: there these two are skipped (the
 * server keeps its pages and constraints itself).
 */
static int
run_check(struct db *db, const char *sql, const char *what)
{
	sqlite3_stmt *st;
	int bad = 0;
	if (db_handle(db) == NULL)
		return 0; /* PostgreSQL (see above) */
	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(
		    stderr, "marketctl: %s: %s\n", what, sqlite3_errmsg(db_handle(db)));
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *row = (const char *)sqlite3_column_text(st, 0);
		if (row != NULL && sqlite3_column_count(st) == 1 &&
		    sqlite3_column_type(st, 0) == SQLITE_TEXT && row[0] == 'o' &&
		    row[1] == 'k' && row[2] == '\0')
			continue;
		printf("%s: %s\n", what, row ? row : "(row)");
		bad++;
	}
	sqlite3_finalize(st);
	return bad;
}

int
ctl_check(struct db *db)
{
	int problems = 0, n;

	n = run_check(db, "PRAGMA integrity_check", "integrity");
	if (n < 0)
		return 1;
	problems += n;
	n = run_check(db, "PRAGMA foreign_key_check", "foreign key");
	if (n < 0)
		return 1;
	problems += n;

	n = stock_verify(db, report, NULL);
	if (n < 0) {
		fprintf(stderr, "marketctl: cannot read the stock ledger\n");
		return 1;
	}
	problems += n;

	n = price_verify(db, price_report, NULL);
	if (n < 0) {
		fprintf(stderr, "marketctl: cannot read the price history\n");
		return 1;
	}
	problems += n;

	n = lots_verify(db, lot_report, NULL);
	if (n < 0) {
		fprintf(stderr, "marketctl: cannot read the lots\n");
		return 1;
	}
	problems += n;

	n = rollup_verify(db, rollup_report, NULL);
	if (n < 0) {
		fprintf(stderr, "marketctl: cannot read the report rollups\n");
		return 1;
	}
	problems += n;

	n = payouts_verify(db, money_report, NULL);
	if (n < 0) {
		fprintf(stderr, "marketctl: cannot read the statements\n");
		return 1;
	}
	problems += n;

	if (problems > 0) {
		printf(
		    "check failed: %d problem%s\n", problems, problems == 1 ? "" : "s");
		return 1;
	}
	printf("ok: integrity, foreign keys, stock ledger, price history, lots and "
	       "report rollups agree; statements and payouts add up\n");
	return 0;
}

int
ctl_repair_rollups(struct db *db)
{
	if (rollup_rebuild(db) != DB_OK) {
		fprintf(stderr, "marketctl: cannot rebuild the report rollups\n");
		return 1;
	}
	printf("rebuilt the report rollups from the sales and orders\n");
	return ctl_check(db);
}
