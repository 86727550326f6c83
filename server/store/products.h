/*
 * Storage of products, and the rules a product must follow: the API and
 * the CSV import (marketctl import-products) both check them here, so
 * there is one copy of them.
 */
#ifndef MARKET_STORE_PRODUCTS_H
#define MARKET_STORE_PRODUCTS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

/* Bounds of a price and of a stock set through the API or an import:
 * 10^11 fen (a billion yuan) and 10^9 units keep every product of them
 * (10^6 units a line) far inside 64 bits; the database refuses a sum that
 * leaves 64 bits all the same (schema/0007_integer_columns.sql). */
#define PRODUCT_PRICE_MAX 100000000000
#define PRODUCT_STOCK_MAX 1000000000
#define PRODUCT_NAME_MAX 200
#define PRODUCT_UNIT_MAX 32
#define PRODUCT_CERTIFICATE_MAX 64
#define PRODUCT_DESCRIPTION_MAX 4000

/* The product categories, NULL-terminated. */
extern const char *const product_categories[];

/* A product's writable fields. Strings are borrowed. */
struct product_in {
	const char *name;
	const char *category;
	const char *unit;
	int64_t price_fen;
	int64_t stock;
	int64_t producer_id;
	bool certified;
	const char *certificate_no; /* may be NULL */
	const char *description;    /* may be NULL */
	bool active;
};

/* True when s is one of product_categories. */
bool product_category_valid(const char *s);

/*
 * The rules of a whole product (existence of the producer aside); stock
 * is checked only when check_stock (it may lie below zero after sales,
 * but is never set so). True, or false with *field naming the offending
 * field and *reason saying why (static strings).
 */
bool product_check(const struct product_in *p, bool check_stock, const char **field,
    const char **reason);

/*
 * A product as JSON: {id, name, category, unit, price_fen, stock,
 * producer_id, producer_name, region_code, certified, certificate_no,
 * description, active, updated_at}; *out is a new object. DB_NOT_FOUND
 * when there is no such product.
 */
enum db_status store_product_get(struct db *db, int64_t id, json_t **out);
/* The writable fields of a product object from store_product_get(),
 * borrowing its strings. */
void product_from_json(json_t *obj, struct product_in *p);

/* List filters; NULL / 0 for "any". */
struct product_filter {
	const char *region;
	const char *category;
	int64_t producer_id;
	const char *q; /* substring of the name, taken literally */
	int active;    /* 1 active only, 0 inactive only, -1 both */
};
/* Up to limit + 1 products with id > after_id, ordered by id; the caller
 * owns the array. */
enum db_status store_product_list(struct db *db, const struct product_filter *f,
    int64_t after_id, int limit, json_t **out);

/*
 * Inserts p (checked) into *id with stock 0, then records p->price_fen
 * as the first entry of its price history and p->stock as the initial
 * stock movement, by user_id (0 for none) at now. Call inside a write
 * transaction. DB_NOT_FOUND when the producer does not exist.
 */
enum db_status store_product_create(struct db *db, const struct product_in *p,
    int64_t user_id, int64_t now, int64_t *id);
/*
 * Replaces every writable field of product id with p (checked); a price
 * other than the current one is appended to its price history, and when
 * set_stock, the difference to the current stock is recorded as a
 * correction, by user_id at now. Call inside a write transaction.
 * DB_NOT_FOUND when the producer does not exist.
 */
enum db_status store_product_update(struct db *db, int64_t id,
    const struct product_in *p, bool set_stock, int64_t user_id, int64_t now);

#endif
