/*
 * Storage of stall sales: the sale as sent (struct sale), its fingerprint
 * (what tells a re-send from a clash of ids), and the sales and
 * sale_lines tables.
 *
 * A sale as JSON: {id, seq, stall_id, market_day_id, operator_id,
 * recorded_at, recorded_date, received_at, payment, total_fen, voided,
 * void_reason, voided_at, lines: [{product_id, quantity, unit_price_fen,
 * amount_fen, lots: [{lot_id, code, quantity}]}]}; void_reason and voided_at are null
 * unless voided, seq is the order of arrival. Every json_t returned through an out
 * parameter is a new reference the caller owns.
 *
 * The write functions change several rows: call them inside a write
 * transaction (or a savepoint of one).
 */
#ifndef MARKET_STORE_SALES_H
#define MARKET_STORE_SALES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"
#include "store/lots.h"
#include "util.h"

#define SALE_ID_MIN 8
#define SALE_ID_MAX 64
#define SALE_LINES_MAX 100

/* A region code is 1..64 bytes (schema/0001_foundation.sql). */
#define SALE_REGION_MAX 64

struct sale_line {
	int64_t product_id;
	int64_t quantity;
	bool price_sent;      /* unit_price_fen was in the request */
	fen_t unit_price_fen; /* as sent; the price stored once priced */
	fen_t amount_fen;     /* quantity * unit_price_fen, once priced */
	/* The region of the product's producer, once priced ("" for none). */
	char region[SALE_REGION_MAX + 1];
};

/* A sale as sent, and what recording it adds. Strings are borrowed. */
struct sale {
	const char *id;
	int64_t stall_id;
	int64_t recorded_at; /* seconds since the epoch */
	const char *payment;
	size_t nlines;
	struct sale_line *lines;
	/* Set by the caller before recording: */
	int64_t market_day_id;
	int64_t operator_id;
	const char *channel;  /* the market day's channel; NULL to look it up */
	char channel_buf[32]; /* where a caller may keep it, so that channel
	                         never outlives what it points to */
	/* Filled in when recorded: */
	fen_t total_fen;
	int64_t seq;
	/* The lots the lines drew from; the caller frees them with
	 * lot_takes_free() (zeroed when the sale is, empty until drawn). */
	struct lot_takes takes;
};

/* True when id is SALE_ID_MIN..SALE_ID_MAX of A-Z a-z 0-9 - _. */
bool sale_id_valid(const char *id);

/*
 * The canonical form of the sale as sent, one field a line:
 * "sale/1", id, stall_id, recorded_at as epoch seconds, payment, then per
 * line "product_id quantity unit_price_fen" with "-" for a price not sent.
 * So the same sale re-sent with other spelling of the same instant (an
 * offset, a fraction) has the same form. The caller frees it.
 */
char *sale_canonical(const struct sale *s);
/* Lower-case hex SHA-256 of the canonical form into out[65]. */
void sale_fingerprint(const struct sale *s, char out[65]);

/* The stored fingerprint of sale id into fingerprint[65]. DB_NOT_FOUND
 * when there is no such sale. */
enum db_status store_sale_fingerprint(
    struct db *db, const char *id, char fingerprint[65]);
/* The sale id as JSON. DB_NOT_FOUND when there is none. */
enum db_status store_sale_get(struct db *db, const char *id, json_t **out);
/* The stall of sale id and whether it is voided. DB_NOT_FOUND when none. */
enum db_status store_sale_state(
    struct db *db, const char *id, int64_t *stall_id, bool *voided);

/* What sale_record() made of a sale. */
enum sale_outcome {
	SALE_RECORDED,
	SALE_ID_TAKEN,         /* the id is stored already */
	SALE_UNKNOWN_PRODUCT,  /* line *bad names no product */
	SALE_PRICE_ABOVE,      /* line *bad's price is above *price, the catalog's
	                          at recorded_at */
	SALE_AMOUNT_TOO_LARGE, /* line *bad's amount is beyond 64 bits */
	SALE_TOTAL_TOO_LARGE,  /* the total is beyond 64 bits */
	SALE_DB_ERROR,
};

/*
 * Records sale s, whose market_day_id and operator_id (and channel, or
 * NULL) are set: prices each line (the catalog price in effect at
 * recorded_at, from the price history, unless a lower one was sent),
 * inserts the sale and its lines with fingerprint, moves the stock of
 * each line (a sale is never refused for stock: it may go below zero) as
 * user_id at now, draws each line's units from the product's lots (into
 * s->takes; units beyond them from no lot, store/lots.h), and adds the sale to the
 * report rollups. The API and marketctl demo both record sales through it. Call inside
 * a write transaction or savepoint.
 *
 * Everything that can refuse the sale is checked before anything is
 * written: on any outcome but SALE_RECORDED and SALE_DB_ERROR nothing
 * was changed (so a caller that has looked the id up in its transaction
 * needs no savepoint for a sale). On SALE_DB_ERROR part of the sale may
 * be written: the caller undoes the transaction or savepoint.
 */
enum sale_outcome sale_record(struct db *db, struct sale *s, const char *fingerprint,
    int64_t user_id, int64_t now, size_t *bad, fen_t *price);

/*
 * What recorded sales add to the report rollups, summed in memory until
 * sale_tally_flush() writes it: a batch of sales then writes each
 * (product, day), (region, day), (market day, day) and day once, in key
 * order, instead of a few upserts a sale. A tally belongs to the write
 * transaction of its sales: flush it before that commits (the rollups
 * are behind until then), or just free it when the transaction is
 * undone. Zeroed, it is empty; sale_tally_free() accepts an empty one.
 */
struct tally_product;
struct tally_count;
struct tally_day;
struct sale_tally {
	struct tally_product *products;
	size_t nproducts, capproducts;
	struct tally_count *counts;
	size_t ncounts, capcounts;
	struct tally_day *days;
	size_t ndays, capdays;
};
/* sale_record() with the sale's rollups added to tally, not written. */
enum sale_outcome sale_record_tallied(struct db *db, struct sale *s,
    const char *fingerprint, int64_t user_id, int64_t now, size_t *bad, fen_t *price,
    struct sale_tally *tally);
/* Writes tally's sums to the rollups and empties it. */
enum db_status sale_tally_flush(struct db *db, struct sale_tally *tally);
void sale_tally_free(struct sale_tally *tally);

/* Sale s as recorded by sale_record() at now, as JSON: what
 * store_sale_get() then gives, built without reading it back. */
json_t *sale_json(const struct sale *s, int64_t now);

/* Marks sale id voided by user_id at now, takes it out of the rollups,
 * puts each line's goods back in stock and its units back into the lots
 * they came from. DB_NOT_FOUND (nothing changed) when there is no such
 * sale that is not voided already. */
enum db_status store_sale_void(
    struct db *db, const char *id, const char *reason, int64_t user_id, int64_t now);

/* Filters of a sale list; 0 or NULL means "any". */
struct sale_filter {
	int64_t stall_id;
	int64_t market_day_id;
	int64_t operator_id; /* only sales at stalls of this operator */
	const char *region;  /* only sales at stalls of this region's producers */
};

/* Sales matching f with seq above after_seq, by seq; up to limit + 1. */
enum db_status store_sale_list(struct db *db, const struct sale_filter *f,
    int64_t after_seq, int limit, json_t **out);

#endif
