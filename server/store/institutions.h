/*
 * Storage of institutions (agencies, enterprises, schools, hospitals and
 * communities buying for their canteens), their yearly plans (the food
 * budget and the share reserved for partner-region products), and the
 * procurement progress report. Every json_t returned through an out
 * parameter is a new reference the caller owns.
 */
#ifndef MARKET_STORE_INSTITUTIONS_H
#define MARKET_STORE_INSTITUTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

/* The rule texts of institution_check() say these numbers. */
#define INSTITUTION_NAME_MAX 200
#define INSTITUTION_SUBDISTRICT_MAX 100
#define PLAN_YEAR_MIN 2000
#define PLAN_YEAR_MAX 2100
#define PLAN_SHARE_DEFAULT 1000 /* basis points: 10 % */

/* The institution kinds, NULL-terminated. */
extern const char *const institution_kinds[];

/* An institution's writable fields. Strings are borrowed. */
struct institution_in {
	const char *name;
	const char *kind;
	const char *subdistrict;
	int64_t venue_id; /* 0: none */
};

/* The rules of a whole institution (the venue aside): true, or false with
 * *field and *reason (static strings). */
bool institution_check(
    const struct institution_in *in, const char **field, const char **reason);

/* {id, name, kind, subdistrict, venue_id}; DB_NOT_FOUND when none. */
enum db_status store_institution_get(struct db *db, int64_t id, json_t **out);
/* The writable fields of an object of store_institution_get(), borrowing. */
void institution_from_json(json_t *obj, struct institution_in *in);
/* Up to limit + 1 institutions with id > after_id of kind (NULL: all), by id. */
enum db_status store_institution_list(
    struct db *db, const char *kind, int64_t after_id, int limit, json_t **out);
/* DB_OK when venue id exists and is of kind institution, else DB_NOT_FOUND. */
enum db_status store_institution_venue_ok(struct db *db, int64_t venue_id);
enum db_status store_institution_create(
    struct db *db, const struct institution_in *in, int64_t *id);
enum db_status store_institution_update(
    struct db *db, int64_t id, const struct institution_in *in);
/* DB_OK when institution id exists. */
enum db_status store_institution_exists(struct db *db, int64_t id);

/* ceil(food_budget_fen * share_bp / 10000), exact for every budget >= 0
 * and share 1..10000 (the result is at most the budget). */
int64_t plan_reserved_fen(int64_t food_budget_fen, int64_t share_bp);

/* Creates or replaces institution id's plan for year. */
enum db_status store_plan_put(struct db *db, int64_t institution_id, int64_t year,
    int64_t food_budget_fen, int64_t share_bp, int64_t now);
/* {institution_id, year, food_budget_fen, reserved_share_bp, reserved_fen}. */
enum db_status store_plan_get(
    struct db *db, int64_t institution_id, int64_t year, json_t **out);
/* Up to limit + 1 plans of the institution with year > after_year, by year. */
enum db_status store_plan_list(
    struct db *db, int64_t institution_id, int64_t after_year, int limit, json_t **out);

/*
 * The procurement progress of year as of day number as_of (Asia/Shanghai):
 * {year, as_of, institutions: [{institution_id, name, kind,
 * food_budget_fen, reserved_share_bp, reserved_fen, purchased_fen,
 * completion_bp, expected_fen, on_track, orders, five_into_sales_fen}],
 * totals: {institutions, on_track, reserved_fen, purchased_fen}}, only
 * institutions with a plan for the year (of kind, unless NULL), by
 * completion_bp then institution_id. DB_ERROR when a sum is beyond 64 bits.
 */
enum db_status report_procurement(
    struct db *db, int64_t year, const char *kind, int64_t as_of, json_t **out);
/* The same report as JSON text, written as it is read: a year of 10,000
 * institutions is 2.7 MB, and building it as jansson objects and dumping
 * them took most of the request's time. *out is the caller's to free. */
enum db_status report_procurement_text(struct db *db, int64_t year, const char *kind,
    int64_t as_of, char **out, size_t *len);
/* The report as CSV: a header row, then one row per institution with its
 * scalar fields in the order above. The caller frees it. */
char *report_procurement_csv(json_t *report, size_t *len);

#endif
