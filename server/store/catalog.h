/* Storage of the partner-region catalog: regions, producers, products,
 * and the stock ledger. */
#ifndef MARKET_STORE_CATALOG_H
#define MARKET_STORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

/* The region code of producer id / of product id's producer, into buf. */
enum db_status store_producer_region(struct db *db, int64_t id, char *buf, size_t len);
enum db_status store_product_region(struct db *db, int64_t id, char *buf, size_t len);

/*
 * Regions. A region as JSON: {code, name, name_en, province, partnership}.
 * Lists return up to limit + 1 items after the key `after_code` (NULL for
 * the first page), ordered by code; the caller owns the array.
 */
enum db_status store_region_list(
    struct db *db, const char *after_code, int limit, json_t **out);
/* *out is a new object; DB_NOT_FOUND when there is no such region. */
enum db_status store_region_get(struct db *db, const char *code, json_t **out);
/* DB_CONSTRAINT when the code is taken. */
enum db_status store_region_create(struct db *db, const char *code, const char *name,
    const char *name_en, const char *province, const char *partnership);
/* DB_OK when the region exists. */
enum db_status store_region_exists(struct db *db, const char *code);

#endif
