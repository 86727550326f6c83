/*
 * Payouts to producers and what they are owed: the append-only payouts
 * table, a producer's statement and the payouts report. Every json_t
 * returned through an out parameter is a new reference the caller owns.
 *
 * Earned money follows the impact report's rule exactly and is read from
 * the same rollups (store/rollup.h): a line counts on its Asia/Shanghai
 * day for its product's producer (as the catalog stands now) when it is
 * a stall-sale line that is not voided, or an order line of a paid, ready
 * or fulfilled order. So a region's impact sales_fen over a range is the
 * sum of its producers' earned_fen over it, and a void or a cancel after
 * a payout lowers what the producer earned (its balance may go below 0).
 *
 * The balance before day X is everything earned before X less every
 * payout with paid_on before X; a statement's closing balance is its
 * opening balance + earned_fen - paid_out_fen.
 */
#ifndef MARKET_STORE_PAYOUTS_H
#define MARKET_STORE_PAYOUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"
#include "util.h"

#define PAYOUT_REFERENCE_MAX 64
#define PAYOUT_NOTE_MAX 500

struct payout_in {
	int64_t producer_id;
	int64_t amount_fen;  /* non-zero; negative is a correction */
	const char *paid_on; /* YYYY-MM-DD, checked */
	const char *reference;
	const char *note; /* may be NULL; required when amount_fen < 0 */
	int64_t created_by;
	int64_t created_at;
};

/* Appends p; *id is the new payout's. */
enum db_status store_payout_create(
    struct db *db, const struct payout_in *p, int64_t *id);
/* {id, producer_id, amount_fen, paid_on, reference, note, created_at,
 * created_by}. */
enum db_status store_payout_get(struct db *db, int64_t id, json_t **out);
/* Up to limit + 1 payouts of the producer after (paid_on, id) = (after_date,
 * after_id) (after_date NULL: from the first), by paid_on then id. */
enum db_status store_payout_list(struct db *db, int64_t producer_id,
    const char *after_date, int64_t after_id, int limit, json_t **out);

/*
 * The statement of producer id for days from..to (checked, inclusive):
 * {producer_id, producer_name, from, to, opening_balance_fen, earned_fen,
 * paid_out_fen, closing_balance_fen, days: [{date, stall_sales_fen,
 * online_sales_fen, earned_fen}], payouts: [payout]}, days with earnings
 * and payouts with paid_on in the range, by date. DB_NOT_FOUND when there
 * is no such producer; DB_ERROR when a sum is beyond 64 bits.
 */
enum db_status report_statement(
    struct db *db, int64_t id, const char *from, const char *to, json_t **out);
/* The statement as CSV: date, stall_sales_fen, online_sales_fen,
 * earned_fen, paid_out_fen, balance_fen, one row per day with earnings or
 * payouts (balance_fen the balance at the end of that day). Caller frees. */
char *report_statement_csv(json_t *statement, size_t *len);

/*
 * The payouts report for days from..to (checked): {from, to, producers:
 * [{producer_id, producer_name, region_code, opening_balance_fen,
 * earned_fen, paid_out_fen, closing_balance_fen}], totals:
 * {opening_balance_fen, earned_fen, paid_out_fen, closing_balance_fen}},
 * every producer of region (NULL: of every region) by id. DB_NOT_FOUND
 * when region names no region.
 */
enum db_status report_payouts(
    struct db *db, const char *from, const char *to, const char *region, json_t **out);
/* One row per producer with the fields above. Caller frees. */
char *report_payouts_csv(json_t *report, size_t *len);

/*
 * marketctl check's part: for every producer, what its statement over all
 * time says it earned against the raw sale and order lines that count,
 * and its closing balance (opening + earned - paid out) against those
 * lines less the sum of its payouts; for every region, what the impact
 * report adds up (the month rollups of its producers' products) against
 * the sum of its producers' earnings from the raw lines. report(what,
 * key, statement, raw, arg) is called for each difference. Returns how
 * many, or -1 when the rows cannot be read.
 */
int payouts_verify(struct db *db,
    void (*report)(const char *what, const char *key, fen_t got, fen_t want, void *arg),
    void *arg);

#endif
