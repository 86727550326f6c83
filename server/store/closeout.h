/*
 * A market day's close-out, read from the raw sales and orders, in one
 * read snapshot (store/reports.h). The json_t returned is a new
 * reference the caller owns.
 */
#ifndef MARKET_STORE_CLOSEOUT_H
#define MARKET_STORE_CLOSEOUT_H

#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

/* Whose view of a close-out: 0 / NULL means "no limit". */
struct closeout_scope {
	int64_t operator_id; /* only this operator's stalls */
	const char *region;  /* only stalls of this region's producers, and
	                        pickups with a line of its products */
};

/*
 * The close-out of market day id: {market_day, stalls: [{stall_id,
 * label, sales, total_fen, by_payment: {cash, wechat, alipay, card,
 * other}, products: [{product_id, name, units, sales_fen}]}], pickups:
 * {total, fulfilled, outstanding}}, counting the sales at each stall
 * that are not voided and the pickup orders at the day that are not
 * cancelled. Stalls by id, products by id. DB_NOT_FOUND when there is no
 * such market day.
 */
enum db_status report_closeout(
    struct db *db, int64_t id, const struct closeout_scope *scope, json_t **out);

#endif
