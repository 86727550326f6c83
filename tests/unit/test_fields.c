/* server/http/fields.c: the helpers that need no request. */
#include "http/fields.h"
#include "text.h"
#include "unit.h"

static void
test_utf8_length(void)
{
	CHECK(utf8_length("") == 0);
	CHECK(utf8_length("abc") == 3);
	CHECK(utf8_length("贞丰李子") == 4); /* 3 bytes each */
	CHECK(utf8_length("a李b") == 3);
	CHECK(utf8_length("é") == 1);                /* 2 bytes */
	CHECK(utf8_length("\xF0\x9F\x8D\x91") == 1); /* a 4-byte emoji */
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

UNIT_MAIN(test_utf8_length, test_valid_clock)
