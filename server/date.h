/*
 * Calendar dates, the one place that knows them: proleptic Gregorian
 * day numbers (days since 1970-01-01), dates written YYYY-MM-DD, the
 * Asia/Shanghai day of an instant (UTC+8; China has kept no daylight
 * saving since 1991) and a year's share of an amount prorated by day.
 */
#ifndef MARKET_DATE_H
#define MARKET_DATE_H

#include <stdbool.h>
#include <stdint.h>

/* Seconds Asia/Shanghai is ahead of UTC. */
#define DATE_LOCAL_OFFSET (8 * 3600)

bool date_leap(int64_t y);
/* Days in month m (1..12) of year y. */
int date_month_days(int64_t y, int m);
/* Days in year y: 365 or 366. */
int date_year_days(int64_t y);

/* Days since 1970-01-01 of y-m-d (Howard Hinnant's days_from_civil);
 * d may run past the month's end and m may be 13 (the next January). */
int64_t date_days_from_civil(int64_t y, int64_t m, int64_t d);
/* The date of day number z. */
void date_civil_from_days(int64_t z, int *y, int *m, int *d);

/* YYYY-MM-DD (years 0001 to 9999) into *y, *m, *d; false when s is not
 * written so or is no real date (2023-02-29, 2024-04-31). */
bool date_parse(const char *s, int *y, int *m, int *d);
/* True when s is a real date YYYY-MM-DD, years 0001 to 9999. */
bool date_valid(const char *s);
/* True when s is a real date YYYY-MM-DD in year min_year or later. */
bool date_valid_since(const char *s, int min_year);
/* The day number of date s (checked with date_parse); false when it is
 * not one. */
bool date_to_days(const char *s, int64_t *days);
/* Day number days as YYYY-MM-DD. */
void date_format(int64_t days, char out[11]);

/* The Asia/Shanghai day number, and date, of instant t (seconds since
 * the epoch). */
int64_t date_local_days(int64_t t);
void date_local(int64_t t, char out[11]);

/*
 * The part of amount (>= 0) due by day number as_of in year y, prorated
 * by day: amount for a year that ended before as_of, 0 for one that
 * starts after it, and floor(amount * days elapsed / days in the year)
 * for the year of as_of, counting as_of itself (1 January is 1 day, 31
 * December the whole year). Exact for every int64_t amount.
 */
int64_t date_prorate_year(int64_t amount, int64_t y, int64_t as_of);

#endif
