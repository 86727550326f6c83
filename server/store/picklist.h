/*
 * A market day's pick list: what the stalls must bring and hand over for
 * the day's pickup orders that are paid or ready. The json_t returned is
 * a new reference the caller owns.
 */
#ifndef MARKET_STORE_PICKLIST_H
#define MARKET_STORE_PICKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

/* DB_OK when operator_id has a stall at market day id, else DB_NOT_FOUND. */
enum db_status store_operator_has_stall(
    struct db *db, int64_t market_day_id, int64_t operator_id);

/*
 * {market_day, products: [{product_id, name, unit, units}], orders:
 * [{order_id, buyer_display_name, status, lines: [{product_id, name,
 * quantity}]}]} of market day id's pickup orders with status paid or
 * ready; products by product_id, orders by order_id, lines in order.
 * DB_NOT_FOUND when there is no such market day.
 */
enum db_status report_picklist(struct db *db, int64_t id, json_t **out);

/* One row per order line: order_id, buyer_display_name, status,
 * product_id, name, unit, quantity. The caller frees the text. */
char *report_picklist_csv(json_t *picklist, size_t *len);

#endif
