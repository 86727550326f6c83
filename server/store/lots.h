/*
 * Lots and traceability (schema/0010_lots.sql): receiving a lot, the
 * allocation of stall-sale lines and order lines to a product's lots,
 * putting units back on a void or a cancel, and the trace of a lot.
 *
 * Allocation: a line draws its units from the product's lots that have
 * units left, earliest best_before first (lots without one last), then
 * earliest packed_on, then lowest id; one line may draw from several
 * lots, and units beyond every lot's remainder are drawn from no lot.
 * Each step is one seek into the index lots_draw_order, so a line costs
 * one statement when the product has no lots, and three per lot drawn
 * from otherwise. Call the write functions inside the write transaction
 * of the line (or the savepoint of one), so the line and its draws land
 * or are undone together.
 *
 * A lot as JSON: {id, product_id, code, quantity, remaining, packed_on,
 * harvested_on, best_before, origin, created_at}. A line's lots as JSON:
 * [{lot_id, code, quantity}], by line order of drawing. Every json_t
 * returned through an out parameter is a new reference the caller owns.
 */
#ifndef MARKET_STORE_LOTS_H
#define MARKET_STORE_LOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

#define LOT_CODE_MAX 32

/* Whose line draws: a stall sale (by seq) or an order (by id). */
enum lot_owner {
	LOT_SALE,
	LOT_ORDER,
};

/* Units line `line` took from lot lot_id. */
struct lot_take {
	size_t line;
	int64_t lot_id;
	char code[LOT_CODE_MAX + 1];
	int64_t quantity;
};

/* The takes of one sale or order, in the order drawn. Zeroed, it is
 * empty; lot_takes_free() frees what it holds and accepts an empty one. */
struct lot_takes {
	struct lot_take *v;
	size_t n, cap;
};
void lot_takes_free(struct lot_takes *t);

/* True when code is 1..LOT_CODE_MAX of A-Z a-z 0-9 - . / */
bool lot_code_valid(const char *code);

/*
 * Draws quantity units of product_id for line line_no of owner's sale
 * (seq) or order (id) at now, appending what it took to takes (may be
 * NULL). Units beyond every lot's remainder come from no lot: that is
 * not an error.
 */
enum db_status lots_draw(struct db *db, enum lot_owner kind, int64_t owner,
    size_t line_no, int64_t product_id, int64_t quantity, int64_t now,
    struct lot_takes *takes);

/*
 * Puts every unit the lines of owner's sale or order took, and did not
 * put back already, back into the lots they came from, at now. A second
 * call finds nothing left to put back and changes nothing.
 */
enum db_status lots_put_back(
    struct db *db, enum lot_owner kind, int64_t owner, int64_t now);

/* The takes of line `line` as a new JSON array [{lot_id, code, quantity}]. */
json_t *lot_takes_json(const struct lot_takes *takes, size_t line);

/*
 * Sets "lots" of each object of lines (a sale's or an order's lines, in
 * line order) from what owner's lines drew, as stored (also what was put
 * back since: where the units came from).
 */
enum db_status store_line_lots(
    struct db *db, enum lot_owner kind, int64_t owner, json_t *lines);

/* A lot as received. Strings are borrowed; NULL for an absent one. */
struct lot_in {
	int64_t product_id;
	const char *code;
	int64_t quantity;
	const char *packed_on, *harvested_on, *best_before, *origin;
};

/*
 * Receives lot l by user_id at now: inserts it with all its units left
 * and raises the product's stock by its quantity in the stock ledger.
 * *id is the new lot's. DB_NOT_FOUND when there is no such product,
 * DB_CONSTRAINT (nothing written) when the product has a lot of that
 * code already.
 */
enum db_status store_lot_receive(
    struct db *db, const struct lot_in *l, int64_t user_id, int64_t now, int64_t *id);

/* Lot id. DB_NOT_FOUND when there is none. */
enum db_status store_lot_get(struct db *db, int64_t id, json_t **out);
/* The product a lot is of. DB_NOT_FOUND when there is no such lot. */
enum db_status store_lot_product(struct db *db, int64_t id, int64_t *product_id);

/* Product product_id's lots with an id above after_id, by id, up to
 * limit + 1. DB_NOT_FOUND when there is no such product. */
enum db_status store_lot_list(
    struct db *db, int64_t product_id, int64_t after_id, int limit, json_t **out);

/*
 * The trace of lot id: {lot, product_id, product_name, unit, producer_id,
 * region_code, events: [{at, kind, quantity, sale_id?, order_id?,
 * market_day_id?, channel, place}]} in time order (the instant the
 * server drew or put back the units; at one instant: received, then
 * draws, then returns, each by the order written). kind is received,
 * sold, ordered or returned. DB_NOT_FOUND when there is no such lot.
 */
enum db_status store_lot_trace(struct db *db, int64_t id, json_t **out);

/*
 * The trace as CSV (RFC 4180, UTF-8 with a byte-order mark): a header
 * row, then one row per event: at, kind, lot_code, product, quantity,
 * unit, place, reference. A new buffer of *len bytes the caller frees.
 */
char *lot_trace_csv(json_t *trace, size_t *len);

/*
 * Verifies the lot arithmetic, calling bad() with one line for each
 * problem: every lot's remaining is its quantity less the units of its
 * draws not put back; no line's lots give more units than its quantity,
 * or units of another product; the draws of a voided sale or cancelled
 * order are put back, and only those. Returns the number of problems, or
 * -1 on a database error.
 */
int lots_verify(struct db *db, void (*bad)(const char *problem, void *arg), void *arg);

#endif
