/*
 * The price history (schema/0006_price_history.sql). Every change of a
 * product's price_fen goes through price_set(), which appends the entry
 * of the new price; call it inside the write transaction of the change,
 * so both land or neither does. A stall sale reads the price in effect at
 * its recorded_at from here (store/sales.c).
 */
#ifndef MARKET_STORE_PRICES_H
#define MARKET_STORE_PRICES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"
#include "util.h"

/* Why a price was set; the names stored in price_history.reason (the
 * migration's own entries are "backfill"). */
enum price_reason {
	PRICE_INITIAL, /* a new product's first price */
	PRICE_CHANGE,  /* a coordinator changed it */
};

/*
 * Records that product_id's price is price_fen from now on, set by
 * user_id (0 for none): appends an entry unless the product's newest
 * entry holds that price already (so an unchanged price records
 * nothing). The entry's instant is now, or the newest entry's when the
 * clock has gone back behind it, so the newest entry stays the last one
 * written.
 */
enum db_status price_set(struct db *db, int64_t product_id, fen_t price_fen,
    enum price_reason reason, int64_t user_id, int64_t now);

/*
 * The key of an entry in a product's history, newest first: from_at
 * descending, then id descending.
 */
struct price_key {
	int64_t from_at;
	int64_t id;
};

/*
 * Up to limit + 1 entries of product_id's history after *after (NULL for
 * the first), newest first, as {id, price_fen, from}; *out is a new
 * array the caller owns. DB_NOT_FOUND when there is no such product.
 */
enum db_status store_price_list(struct db *db, int64_t product_id,
    const struct price_key *after, int limit, json_t **out);

/*
 * Calls bad() for each product whose price_fen is not the price of its
 * newest history entry (has_entry false when it has none); returns the
 * number of such products, or -1 on a database error.
 */
int price_verify(struct db *db,
    void (*bad)(
        int64_t product_id, fen_t price_fen, bool has_entry, fen_t newest, void *arg),
    void *arg);

#endif
