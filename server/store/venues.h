/* Storage of venues: the streets, communities, counters and institutions
 * where market days take place. */
#ifndef MARKET_STORE_VENUES_H
#define MARKET_STORE_VENUES_H

#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

#define VENUE_NAME_MAX 200
#define VENUE_SUBDISTRICT_MAX 200
#define VENUE_ADDRESS_MAX 500

/* The venue kinds, NULL-terminated. */
extern const char *const venue_kinds[];

/* A venue as JSON: {id, name, kind, subdistrict, address}; *out is a new
 * object. DB_NOT_FOUND when there is no such venue. */
enum db_status store_venue_get(struct db *db, int64_t id, json_t **out);
/* Up to limit + 1 venues with id > after_id, ordered by id; the caller
 * owns the array. */
enum db_status store_venue_list(
    struct db *db, int64_t after_id, int limit, json_t **out);
/* Inserts a venue (address may be NULL) into *id. */
enum db_status store_venue_create(struct db *db, const char *name, const char *kind,
    const char *subdistrict, const char *address, int64_t *id);

#endif
