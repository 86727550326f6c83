/* server/store/sales.c: sale ids, the canonical form and fingerprint of a
 * sale as sent, and the Asia/Shanghai day of a sale. */
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "store/sales.h"
#include "unit.h"
#include "util.h"

static struct sale_line two_lines[] = {
    {.product_id = 7, .quantity = 2, .price_sent = false},
    {.product_id = 9, .quantity = 1, .price_sent = true, .unit_price_fen = 450},
};

static struct sale
base(void)
{
	struct sale s = {
	    .id = "sale-0001_ab",
	    .stall_id = 3,
	    .recorded_at = 1588298400, /* 2020-05-01T02:00:00Z */
	    .payment = "wechat",
	    .nlines = 2,
	    .lines = two_lines,
	};
	return s;
}

static void
test_id(void)
{
	CHECK(sale_id_valid("abcdefgh"));
	CHECK(sale_id_valid("6f1c2d3e-0000-4abc-8def-0123456789ab"));
	CHECK(sale_id_valid("A_Z-0_9-"));
	CHECK(!sale_id_valid("abcdefg")); /* 7: too short */
	CHECK(!sale_id_valid("abc defgh"));
	CHECK(!sale_id_valid("abcdefgh/"));
	CHECK(!sale_id_valid("abcdéfgh"));
	char long_id[66];
	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	CHECK(!sale_id_valid(long_id)); /* 65 */
	long_id[64] = '\0';
	CHECK(sale_id_valid(long_id)); /* 64 */
}

static void
test_canonical(void)
{
	struct sale s = base();
	char *c = sale_canonical(&s);
	CHECK_STR(c, "sale/1\nsale-0001_ab\n3\n1588298400\nwechat\n7 2 -\n9 1 450\n");
	free(c);
}

static void
test_fingerprint(void)
{
	struct sale s = base();
	char a[65], b[65];
	sale_fingerprint(&s, a);
	CHECK(strlen(a) == 64);
	sale_fingerprint(&s, b);
	CHECK_STR(a, b);

	/* What is filled in when recorded does not change it. */
	s.market_day_id = 5;
	s.operator_id = 6;
	s.total_fen = 1000;
	sale_fingerprint(&s, b);
	CHECK_STR(a, b);

	/* Each field as sent does. */
	struct sale t = base();
	t.id = "sale-0001_ac";
	sale_fingerprint(&t, b);
	CHECK(strcmp(a, b) != 0);
	t = base();
	t.stall_id = 4;
	sale_fingerprint(&t, b);
	CHECK(strcmp(a, b) != 0);
	t = base();
	t.recorded_at++;
	sale_fingerprint(&t, b);
	CHECK(strcmp(a, b) != 0);
	t = base();
	t.payment = "cash";
	sale_fingerprint(&t, b);
	CHECK(strcmp(a, b) != 0);
	t = base();
	t.nlines = 1;
	sale_fingerprint(&t, b);
	CHECK(strcmp(a, b) != 0);

	/* A price left out is not the same as a price sent, even 0. */
	struct sale_line l1[] = {{.product_id = 7, .quantity = 2}};
	struct sale_line l2[] = {{.product_id = 7, .quantity = 2, .price_sent = true}};
	t = base();
	t.nlines = 1;
	t.lines = l1;
	sale_fingerprint(&t, a);
	t.lines = l2;
	sale_fingerprint(&t, b);
	CHECK(strcmp(a, b) != 0);

	/* Line order counts. */
	struct sale_line swapped[] = {two_lines[1], two_lines[0]};
	t = base();
	sale_fingerprint(&t, a);
	t.lines = swapped;
	sale_fingerprint(&t, b);
	CHECK(strcmp(a, b) != 0);
}

static void
test_local_date(void)
{
	char d[11];
	int64_t t;
	/* 15:59:59 UTC is 23:59:59 in Shanghai; a second later is the next day. */
	CHECK(parse_rfc3339("2020-04-30T15:59:59Z", &t));
	date_local(t, d);
	CHECK_STR(d, "2020-04-30");
	date_local(t + 1, d);
	CHECK_STR(d, "2020-05-01");
	CHECK(parse_rfc3339("2020-12-31T16:00:00Z", &t));
	date_local(t, d);
	CHECK_STR(d, "2021-01-01");
	date_local(0, d);
	CHECK_STR(d, "1970-01-01");
}

UNIT_MAIN(test_id, test_canonical, test_fingerprint, test_local_date)
