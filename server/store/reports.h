/*
 * The impact report per partner region (read from the rollups of
 * store/rollup.h), as JSON or CSV, and the read snapshot every report
 * reads in (a market day's close-out is in store/closeout.h). The API
 * and marketctl both make them here. Every json_t returned through an
 * out parameter is a new reference the caller owns.
 *
 * What counts in the impact report, per region, for days from..to
 * (Asia/Shanghai): stall sales that are not voided, by their
 * recorded_date, and orders that are paid, ready or fulfilled, by their
 * created_date; a line counts for the region of its product's producer
 * as the catalog stands when the report is made.
 */
#ifndef MARKET_STORE_REPORTS_H
#define MARKET_STORE_REPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

/* The longest range a report may cover: to is before the day that is
 * this many years after from. */
#define REPORT_YEARS_MAX 3

/*
 * Checks a report's range: from and to are dates, from is not after to,
 * and the range is at most REPORT_YEARS_MAX years. NULL when it holds;
 * else the field to blame ("from" or "to") with *why saying what is
 * wrong (static text).
 */
const char *report_range_check(const char *from, const char *to, const char **why);

/*
 * A report reads with several statements; in one read transaction they
 * all see the same committed state. snapshot_begin() begins one unless
 * the connection is already in a transaction (*began says whether it
 * did); snapshot_end() ends what it began.
 */
enum db_status snapshot_begin(struct db *db, bool *began);
void snapshot_end(struct db *db, bool began);

struct impact_query {
	const char *from; /* YYYY-MM-DD, inclusive, checked */
	const char *to;
	const char *region; /* one region's code, or NULL for every region */
	bool by_month;      /* add "months" to each region */
};

/*
 * The impact report:
 *   {from, to, regions: [{region_code, region_name, FIGURES,
 *     top_products: [{product_id, name, units, sales_fen}],
 *     months: [{month: "YYYY-MM", FIGURES}] (when by_month)}],
 *    totals: {FIGURES}}
 * where FIGURES are sales_fen, stall_sales_fen, online_sales_fen,
 * by_channel {holiday_market, caravan, counter, five_into, online},
 * orders, stall_sales, units, producers_with_sales, households,
 * poor_households, sales_per_poor_household_fen, in that order. Regions
 * are ordered by code; every month of the range is present, the first
 * and last counting only the range's days. DB_NOT_FOUND when q->region
 * names no region.
 */
enum db_status report_impact(struct db *db, const struct impact_query *q, json_t **out);

/*
 * The impact report made by report_impact() as CSV (RFC 4180): a UTF-8
 * byte-order mark, a header row, then one row per region with the
 * scalar FIGURES (by_channel as by_channel.holiday_market, ...) after
 * region_code and region_name; with by_month, one row per region and
 * month instead, with a month column after region_name. No totals row.
 * Lines end in CRLF. Returns the text (*len bytes, NUL-terminated); the
 * caller frees it.
 */
char *report_impact_csv(json_t *report, bool by_month, size_t *len);

#endif
