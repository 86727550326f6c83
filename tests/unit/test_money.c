/* server/util.c: checked fen arithmetic, integer parsing, RFC 3339 times
 * and the growing text. */
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "util.h"

static void
test_fen_mul(void)
{
	fen_t r = 7;
	CHECK(fen_mul(1200, 3, &r) && r == 3600);
	CHECK(fen_mul(-5, 4, &r) && r == -20);
	CHECK(fen_mul(INT64_MAX, 1, &r) && r == INT64_MAX);
	r = 7;
	CHECK(!fen_mul(INT64_MAX, 2, &r));
	CHECK(r == 7); /* untouched on overflow */
	CHECK(!fen_mul(INT64_MIN, -1, &r));
	CHECK(!fen_mul((fen_t)1 << 32, (int64_t)1 << 31, &r));
	CHECK(fen_mul((fen_t)1 << 31, (int64_t)1 << 31, &r) && r == (fen_t)1 << 62);
}

static void
test_fen_add(void)
{
	fen_t r = 7;
	CHECK(fen_add(100, 250, &r) && r == 350);
	CHECK(fen_add(INT64_MAX - 1, 1, &r) && r == INT64_MAX);
	r = 7;
	CHECK(!fen_add(INT64_MAX, 1, &r));
	CHECK(r == 7);
	CHECK(!fen_add(INT64_MIN, -1, &r));
	CHECK(fen_add(INT64_MIN, INT64_MAX, &r) && r == -1);
}

static void
test_parse_int64(void)
{
	int64_t v = 7;
	CHECK(parse_int64("0", &v) && v == 0);
	CHECK(parse_int64("42", &v) && v == 42);
	CHECK(parse_int64("-42", &v) && v == -42);
	CHECK(parse_int64("007", &v) && v == 7);
	CHECK(parse_int64("9223372036854775807", &v) && v == INT64_MAX);
	CHECK(parse_int64("-9223372036854775808", &v) && v == INT64_MIN);

	v = 7;
	CHECK(!parse_int64("9223372036854775808", &v));
	CHECK(!parse_int64("-9223372036854775809", &v));
	CHECK(!parse_int64("99999999999999999999", &v));
	CHECK(!parse_int64("", &v));
	CHECK(!parse_int64("-", &v));
	CHECK(!parse_int64("+5", &v));
	CHECK(!parse_int64("--5", &v));
	CHECK(!parse_int64(" 5", &v));
	CHECK(!parse_int64("5 ", &v));
	CHECK(!parse_int64("1.0", &v));
	CHECK(!parse_int64("1e3", &v));
	CHECK(!parse_int64("0x10", &v));
	CHECK(v == 7); /* untouched on failure */
}

static void
test_rfc3339_format(void)
{
	char buf[21];
	format_rfc3339(0, buf);
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
	format_rfc3339(1588298400, buf);
	CHECK_STR(buf, "2020-05-01T02:00:00Z");
	format_rfc3339(951782400, buf); /* a leap day in a year divisible by 400 */
	CHECK_STR(buf, "2000-02-29T00:00:00Z");
}

static void
test_rfc3339_parse(void)
{
	int64_t t = 0;
	CHECK(parse_rfc3339("2020-05-01T02:00:00Z", &t) && t == 1588298400);
	CHECK(parse_rfc3339("2020-05-01t02:00:00z", &t) && t == 1588298400);
	CHECK(parse_rfc3339("2020-05-01T10:00:00+08:00", &t) && t == 1588298400);
	CHECK(parse_rfc3339("2020-04-30T21:30:00-04:30", &t) && t == 1588298400);
	CHECK(parse_rfc3339("2020-05-01T02:00:00.123456Z", &t) && t == 1588298400);
	CHECK(parse_rfc3339("1970-01-01T00:00:00Z", &t) && t == 0);
	CHECK(parse_rfc3339("2000-02-29T00:00:00Z", &t) && t == 951782400);

	CHECK(!parse_rfc3339("2020-05-01", &t));
	CHECK(!parse_rfc3339("2020-05-01T02:00:00", &t)); /* no offset */
	CHECK(!parse_rfc3339("2020-05-01 02:00:00Z", &t));
	CHECK(!parse_rfc3339("2020-13-01T02:00:00Z", &t));
	CHECK(!parse_rfc3339("2019-02-29T00:00:00Z", &t)); /* not a leap year */
	CHECK(!parse_rfc3339("1900-02-29T00:00:00Z", &t)); /* nor is 1900 */
	CHECK(!parse_rfc3339("2020-05-01T24:00:00Z", &t));
	CHECK(!parse_rfc3339("2020-05-01T02:00:00.Z", &t));
	CHECK(!parse_rfc3339("2020-05-01T02:00:00Zjunk", &t));
	CHECK(!parse_rfc3339("2020-05-01T02:00:00+0800", &t));
}

static void
test_rfc3339_round_trip(void)
{
	static const int64_t times[] = {0, 1, 59, 86399, 86400, 951782400, 1588298400,
	    1700000000, 4102444799 /* 2099-12-31T23:59:59Z */};
	for (size_t i = 0; i < nitems(times); i++) {
		char buf[21];
		int64_t back = -1;
		format_rfc3339(times[i], buf);
		CHECK(parse_rfc3339(buf, &back));
		CHECK(back == times[i]);
	}
	/* Every day of a leap year, at a second before midnight. */
	int64_t start = 1577836800; /* 2020-01-01T00:00:00Z */
	int bad = 0;
	for (int d = 0; d < 366; d++) {
		int64_t t = start + (int64_t)d * 86400 + 86399, back;
		char buf[21];
		format_rfc3339(t, buf);
		if (!parse_rfc3339(buf, &back) || back != t)
			bad++;
	}
	CHECK(bad == 0);
}

/* struct text: pieces of any size, printf past the room reserved, the
 * NUL after the last byte, and nothing lost when it grows. */
static void
test_text(void)
{
	struct text t = {0};
	text_reserve(&t, 0);
	CHECK(t.p != NULL && t.len == 0 && t.cap > 0);
	text_addc(&t, '[');
	text_add(&t, "ab", 2);
	text_printf(&t, "%d|%s", 42, "x");
	CHECK_STR(t.p, "[ab42|x");
	CHECK(t.len == 7);
	/* A printf longer than the first guess of room, then many small
	 * pieces across several doublings. */
	char big[1000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	text_printf(&t, "<%s>", big);
	CHECK(t.len == 7 + 1001);
	CHECK(t.p[7] == '<' && t.p[8 + 998] == 'z' && t.p[t.len - 1] == '>');
	CHECK(t.p[t.len] == '\0');
	for (int i = 0; i < 100000; i++)
		text_addc(&t, (char)('0' + i % 10));
	CHECK(t.len == 1008 + 100000);
	CHECK(t.p[1008] == '0' && t.p[t.len - 1] == '9' && t.p[t.len] == '\0');
	CHECK(t.cap > t.len);
	free(t.p);
}

UNIT_MAIN(test_text, test_fen_mul, test_fen_add, test_parse_int64, test_rfc3339_format,
    test_rfc3339_parse, test_rfc3339_round_trip)
