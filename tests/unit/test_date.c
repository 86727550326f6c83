/* server/date.c: day numbers, date validation, the Asia/Shanghai day of
 * an instant, and proration of a year's amount by day. */
#include <stdint.h>

#include "date.h"
#include "unit.h"
#include "util.h"

static void
test_validation(void)
{
	CHECK(date_valid("2020-02-29")); /* leap year */
	CHECK(date_valid("2000-02-29")); /* divisible by 400 */
	CHECK(date_valid("2026-12-31"));
	CHECK(date_valid("2026-01-01"));
	CHECK(date_valid("0001-01-01"));
	CHECK(date_valid("9999-12-31"));
	CHECK(!date_valid("1900-02-29")); /* divisible by 100, not 400 */
	CHECK(!date_valid("2100-02-29"));
	CHECK(!date_valid("2021-02-29"));
	CHECK(!date_valid("2021-04-31"));
	CHECK(!date_valid("2021-12-32"));
	CHECK(!date_valid("2021-13-01"));
	CHECK(!date_valid("2021-00-10"));
	CHECK(!date_valid("2021-01-00"));
	CHECK(!date_valid("0000-01-01"));
	CHECK(!date_valid("2021-1-01"));
	CHECK(!date_valid("20210101"));
	CHECK(!date_valid("2021/01/01"));
	CHECK(!date_valid("2021-01-01T00:00:00Z"));
	CHECK(!date_valid("2021-01-0a"));
	CHECK(!date_valid("+021-01-01"));
	CHECK(!date_valid(" 2021-01-01"));
	CHECK(!date_valid(""));
	CHECK(!date_valid(NULL));

	/* Market days start with the epoch. */
	CHECK(date_valid_since("1970-01-01", 1970));
	CHECK(date_valid_since("2020-05-01", 1970));
	CHECK(!date_valid_since("1969-12-31", 1970));
	CHECK(!date_valid_since("2021-02-29", 1970));
}

static void
test_day_numbers(void)
{
	CHECK(date_days_from_civil(1970, 1, 1) == 0);
	CHECK(date_days_from_civil(1969, 12, 31) == -1);
	CHECK(date_days_from_civil(2000, 3, 1) == 11017);
	/* The 13th month is the next January; day 32 the next month's 1st. */
	CHECK(date_days_from_civil(2024, 13, 1) == date_days_from_civil(2025, 1, 1));
	CHECK(date_days_from_civil(2024, 1, 32) == date_days_from_civil(2024, 2, 1));
	CHECK(
	    date_days_from_civil(2025, 1, 1) - date_days_from_civil(2024, 1, 1) == 366);
	CHECK(
	    date_days_from_civil(2026, 1, 1) - date_days_from_civil(2025, 1, 1) == 365);
	/* Round trips over four centuries, 1900 and 2100 included. */
	int bad = 0;
	for (int64_t z = date_days_from_civil(1899, 1, 1);
	     z < date_days_from_civil(2301, 1, 1); z++) {
		int y, m, d;
		date_civil_from_days(z, &y, &m, &d);
		if (date_days_from_civil(y, m, d) != z || d < 1 ||
		    d > date_month_days(y, m))
			bad++;
	}
	CHECK(bad == 0);
	char s[11];
	date_format(date_days_from_civil(2024, 2, 29), s);
	CHECK_STR(s, "2024-02-29");
	date_format(date_days_from_civil(2026, 12, 31), s);
	CHECK_STR(s, "2026-12-31");
	int64_t days = 0;
	CHECK(date_to_days("2026-01-01", &days) &&
	      days == date_days_from_civil(2026, 1, 1));
	CHECK(!date_to_days("2026-02-29", &days));
	CHECK(date_year_days(2024) == 366 && date_year_days(2026) == 365);
	CHECK(date_year_days(2000) == 366 && date_year_days(2100) == 365);
	CHECK(date_month_days(2024, 2) == 29 && date_month_days(2026, 2) == 28);
	CHECK(date_month_days(2026, 0) == 0 && date_month_days(2026, 13) == 0);
}

static void
test_local_day(void)
{
	char s[11];
	int64_t t;
	/* 2025-12-31T16:00:00Z is midnight of 1 January in Asia/Shanghai. */
	CHECK(parse_rfc3339("2025-12-31T15:59:59Z", &t));
	date_local(t, s);
	CHECK_STR(s, "2025-12-31");
	date_local(t + 1, s);
	CHECK_STR(s, "2026-01-01");
	CHECK(date_local_days(t + 1) == date_days_from_civil(2026, 1, 1));
	/* 29 February of a leap year, in the evening UTC. */
	CHECK(parse_rfc3339("2024-02-28T16:00:00Z", &t));
	date_local(t, s);
	CHECK_STR(s, "2024-02-29");
	date_local(0, s);
	CHECK_STR(s, "1970-01-01");
	date_local(-8 * 3600 - 1, s);
	CHECK_STR(s, "1969-12-31");
}

static void
test_prorate(void)
{
	int64_t jan1 = date_days_from_civil(2024, 1, 1);
	int64_t dec31 = date_days_from_civil(2024, 12, 31);
	/* A leap year: 366 days. 1 January counts itself. */
	CHECK(date_prorate_year(36600, 2024, jan1) == 100);
	CHECK(date_prorate_year(36600, 2024, jan1 + 59) == 6000); /* 29 Feb: day 60 */
	CHECK(date_prorate_year(36600, 2024, dec31) == 36600);
	CHECK(date_prorate_year(36599, 2024, dec31 - 1) == 36499); /* floor */
	/* A common year: 365 days. */
	int64_t c1 = date_days_from_civil(2026, 1, 1);
	CHECK(date_prorate_year(365, 2026, c1) == 1);
	CHECK(date_prorate_year(364, 2026, c1) == 0); /* floor(364 / 365) */
	CHECK(date_prorate_year(365, 2026, date_days_from_civil(2026, 12, 31)) == 365);
	CHECK(date_prorate_year(1000, 2026, date_days_from_civil(2026, 3, 1)) ==
	      1000 * 60 / 365);
	/* Past and future years. */
	CHECK(date_prorate_year(777, 2025, c1) == 777);
	CHECK(date_prorate_year(777, 2027, c1) == 0);
	CHECK(date_prorate_year(777, 2026, c1 - 1) == 0);
	/* 85 million yuan, and the largest amount, without overflow. */
	int64_t big = 8500000000LL * 100; /* 850 million yuan in fen */
	CHECK(date_prorate_year(big, 2026, date_days_from_civil(2026, 7, 2)) ==
	      (int64_t)((__int128)big * 183 / 365));
	CHECK(date_prorate_year(INT64_MAX, 2024, dec31 - 1) ==
	      (int64_t)((__int128)INT64_MAX * 365 / 366));
	CHECK(date_prorate_year(INT64_MAX, 2024, dec31) == INT64_MAX);
}

UNIT_MAIN(test_validation, test_day_numbers, test_local_day, test_prorate)
