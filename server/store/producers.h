/*
 * Storage of producers (the cooperatives, enterprises, associations,
 * households and workshops that supply the goods), and the rules a
 * producer must follow.
 */
#ifndef MARKET_STORE_PRODUCERS_H
#define MARKET_STORE_PRODUCERS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

#define PRODUCER_NAME_MAX 200
#define PRODUCER_PHONE_MAX 32
#define PRODUCER_HOUSEHOLDS_MAX 1000000000

/* The producer kinds, NULL-terminated. */
extern const char *const producer_kinds[];

/* A producer's writable fields. Strings are borrowed. */
struct producer_in {
	const char *name;
	const char *region_code;
	const char *kind;
	int64_t households;
	int64_t poor_households;
	const char *contact_phone; /* may be NULL */
};

/*
 * The rules of a whole producer (existence of the region aside): true,
 * or false with *field naming the offending field and *reason saying why
 * (both static strings).
 */
bool producer_check(
    const struct producer_in *p, const char **field, const char **reason);

/*
 * A producer as JSON: {id, name, region_code, kind, households,
 * poor_households, contact_phone}; *out is a new object. DB_NOT_FOUND when
 * there is no such producer.
 */
enum db_status store_producer_get(struct db *db, int64_t id, json_t **out);
/* The writable fields of a producer object from store_producer_get(),
 * borrowing its strings. */
void producer_from_json(json_t *obj, struct producer_in *p);
/*
 * Up to limit + 1 producers with id > after_id, ordered by id, in region
 * (NULL for all); the caller owns the array.
 */
enum db_status store_producer_list(
    struct db *db, const char *region, int64_t after_id, int limit, json_t **out);
/* Inserts p (checked) into *id. DB_NOT_FOUND when the region does not
 * exist. */
enum db_status store_producer_create(
    struct db *db, const struct producer_in *p, int64_t *id);
/* Replaces every writable field of producer id with p (checked).
 * DB_NOT_FOUND when the region does not exist. */
enum db_status store_producer_update(
    struct db *db, int64_t id, const struct producer_in *p);

#endif
