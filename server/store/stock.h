/*
 * The stock ledger. Every change of a product's stock goes through
 * stock_move(), which updates products.stock and appends one
 * stock_movements row; call it inside the write transaction of the
 * change it belongs to, so both land or neither does.
 */
#ifndef MARKET_STORE_STOCK_H
#define MARKET_STORE_STOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* Why stock changed; the names stored in stock_movements.reason. */
enum stock_reason {
	STOCK_INITIAL,      /* a product's first stock */
	STOCK_CORRECTION,   /* a coordinator set the stock */
	STOCK_SALE,         /* a stall sale (may take stock below zero) */
	STOCK_SALE_VOID,    /* a voided sale puts its goods back */
	STOCK_ORDER,        /* an online order reserves stock */
	STOCK_ORDER_CANCEL, /* a cancelled order puts it back */
	STOCK_LOT,          /* a lot received (ref: the lot's id) */
};

/*
 * Adds delta to product_id's stock and records the movement with ref (the
 * sale or order it belongs to; may be NULL) and user_id (0 for none).
 * When floor_zero is true the change is refused (DB_CONSTRAINT, nothing
 * changed) if it would take stock below zero. delta 0 records nothing.
 * *stock_after, when not NULL, receives the new stock. DB_NOT_FOUND when
 * there is no such product; DB_ERROR (nothing changed) when the new stock
 * would leave 64 bits.
 */
enum db_status stock_move(struct db *db, int64_t product_id, int64_t delta,
    enum stock_reason reason, const char *ref, int64_t user_id, int64_t now,
    bool floor_zero, int64_t *stock_after);

/*
 * Calls bad() for each product whose stock differs from the sum of its
 * movements; returns the number of such products, or -1 on a database
 * error.
 */
int stock_verify(struct db *db,
    void (*bad)(int64_t product_id, int64_t stock, int64_t ledger, void *arg),
    void *arg);

#endif
