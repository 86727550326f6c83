/*
 * The reports' rollups (schema/0004_reports.sql and later): per product
 * and day or month, units and money by channel; per region and day, and
 * per day, the counted sales and orders; per institution and year, its
 * counted orders (0012); per market day and date, its stall sales and
 * their takings (0013). They are kept in the same
 * transaction as the change they follow, by the write paths that count
 * or uncount something:
 *
 *   sale_record()            rollup_product_add(), rollup_stall_sales_add(),
 *                            rollup_market_day_add()
 *                            (a batch's sales summed; store/sales.h)
 *   store_sale_void()        rollup_sale(db, id, -1)
 *   store_order_set_status() rollup_order_status(db, id, from, to)
 *
 * and, for a product or producer that moves to another region, by
 * triggers in the schema. rollup_verify() recomputes them from the raw
 * rows; rollup_rebuild() replaces them with that recomputation (after a
 * bulk load of raw rows, or a repair).
 */
#ifndef MARKET_STORE_ROLLUP_H
#define MARKET_STORE_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "util.h"

/* Adds (sign +1) or takes away (sign -1) stall sale id, with all its
 * lines, from the rollups. Call inside the write transaction that
 * records or voids it. */
enum db_status rollup_sale(struct db *db, const char *id, int sign);

/*
 * The same from figures the caller knows (nothing is read back), as a
 * sale being recorded adds them. The money columns by channel, in
 * table order; rollup_channel() is a channel name's index, -1 for none.
 */
#define ROLLUP_CHANNELS 5 /* holiday_market caravan counter five_into online */
struct rollup_figures {
	int64_t units;
	fen_t fen[ROLLUP_CHANNELS];
};
int rollup_channel(const char *channel);
/* Adds f to product_id's rows of day date (YYYY-MM-DD) and its month. */
enum db_status rollup_product_add(struct db *db, int64_t product_id, const char *date,
    const struct rollup_figures *f);
/* Adds n stall sales to day date, in region's row (report_region_day)
 * or, region NULL, the day's (report_day). */
enum db_status rollup_stall_sales_add(
    struct db *db, const char *date, const char *region, int64_t n);

/* Adds n stall sales worth fen to market day market_day_id's row of
 * date (report_market_day). */
enum db_status rollup_market_day_add(
    struct db *db, int64_t market_day_id, const char *date, int64_t n, fen_t fen);

/* The same as rollup_sale() for online order id. */
enum db_status rollup_order(struct db *db, int64_t id, int sign);

/* True when an order in status counts in reports: paid, ready, fulfilled. */
bool rollup_order_counts(const char *status);

/* Order id goes from status from to status to: adds it when it starts
 * to count, takes it away when it stops (placed → paid: +1; paid or
 * ready → cancelled: -1), else nothing. */
enum db_status rollup_order_status(
    struct db *db, int64_t id, const char *from, const char *to);

/*
 * Recomputes every rollup from the raw rows and compares: calls
 * bad(table, key, rollup, raw, arg) for each row that differs (rollup or
 * raw is "-" where that side has no row; all-zero rows count as none)
 * and returns how many, or -1 on a database error.
 */
typedef void rollup_bad_fn(
    const char *table, const char *key, const char *rollup, const char *raw, void *arg);
int rollup_verify(struct db *db, rollup_bad_fn *bad, void *arg);

/* Replaces every rollup with its recomputation from the raw rows, in
 * one write transaction of its own. */
enum db_status rollup_rebuild(struct db *db);

#endif
