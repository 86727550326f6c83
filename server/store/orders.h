/*
 * Storage of online orders: the orders, order_lines, order_events,
 * payments and idempotency_keys tables, and the rules of an order's life.
 *
 * An order as JSON: {id, buyer_id, status, channel: "online", total_fen,
 * refund_fen, created_at, updated_at, fulfillment, note, lines:
 * [{product_id, name, quantity, unit_price_fen, amount_fen}]}, where
 * fulfillment is {"type": "pickup", "market_day_id": N} or {"type":
 * "delivery", "address": {name, phone, line1, city}}. Every json_t
 * returned through an out parameter is a new reference the caller owns.
 *
 * The write functions change several rows: call them inside a write
 * transaction, and roll it back on anything but success.
 */
#ifndef MARKET_STORE_ORDERS_H
#define MARKET_STORE_ORDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"
#include "store/lots.h"
#include "util.h"

#define ORDER_LINES_MAX 100
#define ORDER_QUANTITY_MAX 1000000 /* units on one line */
#define ORDER_NOTE_MAX 500
#define IDEMPOTENCY_KEY_MAX 64
/* Idempotency keys are kept at least 24 hours; older than this they are
 * deleted, a few at a time, when a new one is stored. */
#define IDEMPOTENCY_KEEP (48 * 3600)

enum order_status {
	ORDER_PLACED,
	ORDER_PAID,
	ORDER_READY,
	ORDER_FULFILLED,
	ORDER_CANCELLED,
};

/* "placed" for ORDER_PLACED. */
const char *order_status_name(enum order_status s);
/* The status called name into *out; false when there is none. */
bool order_status_from_name(const char *name, enum order_status *out);
/* True when the contract allows from → to: placed → paid → ready →
 * fulfilled, and placed, paid or ready → cancelled. */
bool order_transition_allowed(enum order_status from, enum order_status to);

/* True when key is 1..IDEMPOTENCY_KEY_MAX printable ASCII characters
 * (0x20..0x7e). */
bool idempotency_key_valid(const char *key);

struct order_line_in {
	int64_t product_id;
	int64_t quantity;
	/* Filled in when placed: */
	fen_t unit_price_fen;
	fen_t amount_fen;
};

/* An order as sent. Strings are borrowed. */
struct order_in {
	int64_t buyer_id;
	size_t nlines;
	struct order_line_in *lines;
	int64_t market_day_id; /* a pickup's market day; 0 for a delivery */
	const char *address;   /* a delivery's address as JSON text
	                          {name, phone, line1, city}; NULL for a pickup */
	const char *note;      /* may be NULL */
	/* Filled in when placed: */
	fen_t total_fen;
	/* The lots the lines drew from; the caller frees them with
	 * lot_takes_free() (zeroed when the order is, empty until drawn). */
	struct lot_takes takes;
};

/*
 * May a pickup be ordered for market day id at now? DB_OK and *open true
 * when the day is scheduled or open and its date (Asia/Shanghai) is not
 * before today's; *open false when it is past, closed or cancelled.
 * DB_NOT_FOUND when there is no such market day.
 */
enum db_status store_pickup_day_open(
    struct db *db, int64_t id, int64_t now, bool *open);

/* What order_place() made of an order. */
enum order_outcome {
	ORDER_OK,
	ORDER_UNKNOWN_PRODUCT,  /* line *bad names no product, or an inactive one */
	ORDER_AMOUNT_TOO_LARGE, /* line *bad's amount is beyond 64 bits */
	ORDER_TOTAL_TOO_LARGE,  /* the total is beyond 64 bits */
	ORDER_OUT_OF_STOCK,     /* line *bad asks for more than *left */
	ORDER_FAILED,           /* a database error (logged) */
};

/*
 * Places order o at now: prices every line from the catalog, inserts the
 * order (status placed, created_date the Asia/Shanghai day of now), its
 * lines and its first event, and reserves each line's stock with one
 * stock movement (never below zero) referring to the order's id. *id is
 * the new order. The pickup's market day is the caller's to check
 * (store_pickup_day_open). The API and marketctl demo both place orders
 * through it. On anything but ORDER_OK the caller rolls back.
 */
enum order_outcome order_place(struct db *db, struct order_in *o, int64_t now,
    size_t *bad, int64_t *left, int64_t *id);

/*
 * Who may see which orders; 0 / NULL means "no limit". A buyer sees its
 * own (buyer_id); an operator the pickups at market days where it has a
 * stall (operator_id); a region-scoped coordinator the orders with a line
 * of its region's products (region).
 */
struct order_scope {
	int64_t buyer_id;
	int64_t operator_id;
	const char *region;
};

/* What a transition needs to know of an order. */
struct order_state {
	int64_t id;
	int64_t buyer_id;
	enum order_status status;
	fen_t total_fen;
	int64_t market_day_id; /* 0 for a delivery */
};

/* The state of order id when the scope may see it; DB_NOT_FOUND when
 * there is no such order or the scope may not see it. */
enum db_status store_order_state(struct db *db, int64_t id,
    const struct order_scope *scope, struct order_state *out);

/*
 * Order id as JSON (no scope check). with_phone false leaves the phone
 * out of a delivery's address. DB_NOT_FOUND when there is no such order.
 */
enum db_status store_order_get(
    struct db *db, int64_t id, bool with_phone, json_t **out);

/*
 * Order o just placed by order_place() as id at now, as JSON with the
 * phone: what store_order_get() then gives, built from o (only the
 * products' names are read).
 */
enum db_status store_order_placed(
    struct db *db, const struct order_in *o, int64_t id, int64_t now, json_t **out);

/*
 * Up to limit + 1 orders that scope may see, with id > after_id, by id;
 * status NULL for any status, market_day_id 0 for pickups at any market
 * day and deliveries alike.
 */
enum db_status store_order_list(struct db *db, const struct order_scope *scope,
    const char *status, int64_t market_day_id, bool with_phone, int64_t after_id,
    int limit, json_t **out);

/*
 * THE one place where an order's status changes after it was placed:
 * from → to for order id, by user_id (0 for the payment provider) at
 * now, with its order_events row. Entering cancelled puts each line's
 * stock back (one movement a line) and, from paid or ready, records
 * refund_fen = total_fen. DB_NOT_FOUND when the order is not in status
 * from (nothing changed). The caller checks order_transition_allowed.
 */
enum db_status store_order_set_status(struct db *db, int64_t id, enum order_status from,
    enum order_status to, int64_t user_id, int64_t now);

/*
 * Payments. The order a transaction id paid, into *order_id.
 * DB_NOT_FOUND when the transaction id is new.
 */
enum db_status store_payment_order(
    struct db *db, const char *transaction_id, int64_t *order_id);
/* Records a payment. DB_CONSTRAINT when the transaction id is stored. */
enum db_status store_payment_add(struct db *db, const char *transaction_id,
    int64_t order_id, const char *provider, fen_t amount_fen, int64_t now);

/*
 * Idempotency keys. The fingerprint and first response (*response is
 * new JSON text the caller frees) stored for buyer_id's key.
 * DB_NOT_FOUND when the key is not stored.
 */
enum db_status store_idempotency_get(struct db *db, int64_t buyer_id, const char *key,
    char fingerprint[65], char **response);
/* Stores buyer_id's key with the order it placed, and first deletes up to
 * a hundred keys older than IDEMPOTENCY_KEEP. DB_CONSTRAINT when the key
 * is stored already. */
enum db_status store_idempotency_put(struct db *db, int64_t buyer_id, const char *key,
    const char *fingerprint, int64_t order_id, const char *response, int64_t now);

#endif
