/* server/http/fields.c: the helpers that need no request. */
#include "http/fields.h"
#include "text.h"
#include "unit.h"

static void
test_utf8_length(void)
{
	CHECK(utf8_length("") == 0);
	CHECK(utf8_length("abc") == 3);
	CHECK(utf8_length("贞丰李子") == 4);      /* 3 bytes each */
	CHECK(utf8_length("a李b") == 3);
	CHECK(utf8_length("é") == 1);            /* 2 bytes */
	CHECK(utf8_length("\xF0\x9F\x8D\x91") == 1); /* a 4-byte emoji */
}

static void
test_valid_date(void)
{
	CHECK(valid_date("2020-05-01"));
	CHECK(valid_date("1970-01-01"));
	CHECK(valid_date("2020-02-29"));  /* leap year */
	CHECK(valid_date("2000-02-29"));  /* divisible by 400 */
	CHECK(valid_date("2021-12-31"));
	CHECK(!valid_date("2021-02-29"));
	CHECK(!valid_date("1900-02-29"));
	CHECK(!valid_date("2100-02-29")); /* divisible by 100, not 400 */
	CHECK(!valid_date("2020-04-31"));
	CHECK(!valid_date("2020-13-01"));
	CHECK(!valid_date("2020-00-10"));
	CHECK(!valid_date("2020-01-00"));
	CHECK(!valid_date("2020-01-32"));
	CHECK(!valid_date("1969-12-31"));
	CHECK(!valid_date("2020-5-01"));
	CHECK(!valid_date("2020/05/01"));
	CHECK(!valid_date("2020-05-01T00:00:00Z"));
	CHECK(!valid_date("2020-05-0a"));
	CHECK(!valid_date(""));
	CHECK(!valid_date(" 2020-05-01"));
}

static void
test_valid_clock(void)
{
	CHECK(valid_clock("00:00"));
	CHECK(valid_clock("09:30"));
	CHECK(valid_clock("23:59"));
	CHECK(!valid_clock("24:00"));
	CHECK(!valid_clock("12:60"));
	CHECK(!valid_clock("9:30"));
	CHECK(!valid_clock("09:30:00"));
	CHECK(!valid_clock("09-30"));
	CHECK(!valid_clock("ab:cd"));
	CHECK(!valid_clock(""));
}

UNIT_MAIN(test_utf8_length, test_valid_date, test_valid_clock)
