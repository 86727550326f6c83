/*
 * Storage of market days and their stalls.
 *
 * A market day as JSON: {id, venue_id, venue_name, date, opens_at,
 * closes_at, channel, title, status}. A stall as JSON: {id, market_day_id,
 * operator_id, producer_id, producer_name, label}. Every json_t returned
 * through an out parameter is a new reference the caller owns; lists
 * return up to limit + 1 items (the caller pages).
 */
#ifndef MARKET_STORE_MARKET_DAYS_H
#define MARKET_STORE_MARKET_DAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

/*
 * What the sales code needs to know of a stall: its market day, its
 * operator, the market day's status ("scheduled", "open", "closed",
 * "cancelled") and channel, copied into the caller's buffers.
 * DB_NOT_FOUND when there is no such stall.
 */
enum db_status store_stall_info(struct db *db, int64_t stall_id, int64_t *market_day_id,
    int64_t *operator_id, char *market_day_status, size_t len, char *channel,
    size_t chlen);

/* The region_code of the producer of stall_id, copied into buf.
 * DB_NOT_FOUND when there is no such stall. */
enum db_status store_stall_region(
    struct db *db, int64_t stall_id, char *buf, size_t len);

/* Filters of a market-day list; NULL / 0 means "any". Dates are
 * YYYY-MM-DD, inclusive. */
struct md_filter {
	const char *from;
	const char *to;
	int64_t venue_id;
	const char *channel;
};

/* The sort key of a market-day list: date, opens_at, id. */
struct md_key {
	const char *date;
	const char *opens_at;
	int64_t id;
};

/* Market days matching f after key `after` (NULL for the first page),
 * ordered by date, opens_at, id. */
enum db_status store_market_day_list(struct db *db, const struct md_filter *f,
    const struct md_key *after, int limit, json_t **out);

/*
 * Every market day matching f that is not cancelled, in list order, for
 * the calendar: the market day JSON plus "uid", "venue_subdistrict" and
 * "venue_address" (null when none).
 */
enum db_status store_market_day_calendar(
    struct db *db, const struct md_filter *f, json_t **out);

/* DB_NOT_FOUND when there is no such market day. */
enum db_status store_market_day_get(struct db *db, int64_t id, json_t **out);

/* DB_OK when venue id exists, DB_NOT_FOUND when not. */
enum db_status store_venue_exists(struct db *db, int64_t id);

/*
 * Creates a market day with status "scheduled" and the calendar UID uid;
 * title may be NULL. *id is the new id. DB_CONSTRAINT when the venue
 * already has a market day that date. Call inside a write transaction
 * when creating several.
 */
enum db_status store_market_day_create(struct db *db, int64_t venue_id,
    const char *date, const char *opens_at, const char *closes_at, const char *channel,
    const char *title, const char *uid, int64_t *id);

/* Sets every field of market day id (title may be NULL). DB_NOT_FOUND
 * when there is none. */
enum db_status store_market_day_update(struct db *db, int64_t id, const char *opens_at,
    const char *closes_at, const char *title, const char *status);

/* The role of user id ("operator", ...) into buf; DB_NOT_FOUND when no
 * such user. */
enum db_status store_user_role(struct db *db, int64_t id, char *buf, size_t len);

/* Creates a stall; *id is the new id. DB_CONSTRAINT when the label is
 * taken at that market day. */
enum db_status store_stall_create(struct db *db, int64_t market_day_id,
    int64_t operator_id, int64_t producer_id, const char *label, int64_t *id);

/* DB_NOT_FOUND when there is no such stall. */
enum db_status store_stall_get(struct db *db, int64_t id, json_t **out);

/* The stalls of a market day after stall id after_id (0 for the first
 * page), by id. */
enum db_status store_stall_list_day(
    struct db *db, int64_t market_day_id, int64_t after_id, int limit, json_t **out);

/* An operator's stalls, newest market day first: by market-day date
 * descending, then stall id ascending, after (after_date, after_id)
 * (after_date NULL for the first page). Each item also carries the
 * market day's "date". */
enum db_status store_stall_list_operator(struct db *db, int64_t operator_id,
    const char *after_date, int64_t after_id, int limit, json_t **out);

#endif
