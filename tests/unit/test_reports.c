/* server/store/reports.c: report ranges, and the CSV form of an
 * impact report (RFC 4180 quoting, byte-order mark, column order). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "csv.h"
#include "store/reports.h"
#include "unit.h"

static void
test_ranges(void)
{
	const char *why = NULL;
	CHECK(report_range_check("2020-01-01", "2020-12-31", &why) == NULL);
	CHECK(report_range_check("2020-05-01", "2020-05-01", &why) == NULL);
	CHECK_STR(report_range_check("2020-13-01", "2020-12-31", &why), "from");
	CHECK_STR(report_range_check("2020-01-01", "2020-02-30", &why), "to");
	CHECK_STR(report_range_check("2020-01-02", "2020-01-01", &why), "from");
	CHECK_STR(why, "must not be after to");
	/* At most 3 years: up to the day before the same date 3 years on. */
	CHECK(report_range_check("2020-01-01", "2022-12-31", &why) == NULL);
	CHECK_STR(report_range_check("2020-01-01", "2023-01-01", &why), "to");
	CHECK(report_range_check("2020-03-15", "2023-03-14", &why) == NULL);
	CHECK_STR(report_range_check("2020-03-15", "2023-03-15", &why), "to");
	/* From 29 February, 3 years on is 1 March. */
	CHECK(report_range_check("2020-02-29", "2023-02-28", &why) == NULL);
	CHECK_STR(report_range_check("2020-02-29", "2023-03-01", &why), "to");
}

static json_t *
figures(json_int_t base)
{
	return json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:I, "
	                 "s:I, s:I, s:I, s:I, s:I}",
	    "sales_fen", base, "stall_sales_fen", base + 1, "online_sales_fen",
	    base + 2, "by_channel", "holiday_market", base + 3, "caravan", base + 4,
	    "counter", base + 5, "five_into", base + 6, "online", base + 7, "orders",
	    base + 8, "stall_sales", base + 9, "units", base + 10,
	    "producers_with_sales", base + 11, "households", base + 12,
	    "poor_households", base + 13, "sales_per_poor_household_fen", base + 14);
}

static json_t *
report(void)
{
	json_t *a = figures(100), *b = figures(200);
	json_object_set_new(a, "region_code", json_string("qingyuan"));
	json_object_set_new(a, "region_name", json_string("庆元县"));
	json_object_set_new(
	    a, "months", json_pack("[o, o]", figures(1000), figures(2000)));
	json_object_set_new(json_array_get(json_object_get(a, "months"), 0), "month",
	    json_string("2020-01"));
	json_object_set_new(json_array_get(json_object_get(a, "months"), 1), "month",
	    json_string("2020-02"));
	json_object_set_new(b, "region_code", json_string("zhenfeng"));
	json_object_set_new(
	    b, "region_name", json_string("Zhenfeng \"Green\", Ltd\r\nline two"));
	json_object_set_new(b, "months", json_array());
	return json_pack("{s:s, s:s, s:[o, o], s:o}", "from", "2020-01-01", "to",
	    "2020-02-29", "regions", a, b, "totals", figures(0));
}

static const char header[] =
    "region_code,region_name,sales_fen,stall_sales_fen,online_sales_fen,"
    "by_channel.holiday_market,by_channel.caravan,by_channel.counter,"
    "by_channel.five_into,by_channel.online,orders,stall_sales,units,"
    "producers_with_sales,households,poor_households,"
    "sales_per_poor_household_fen\r\n";

static void
test_csv(void)
{
	json_t *r = report();
	size_t len;
	char *text = report_impact_csv(r, false, &len);
	CHECK(len == strlen(text));
	CHECK(memcmp(text, "\xEF\xBB\xBF", 3) == 0);
	CHECK(strncmp(text + 3, header, strlen(header)) == 0);
	const char *rows = text + 3 + strlen(header);
	CHECK_STR(rows, "qingyuan,庆元县,100,101,102,103,104,105,106,107,108,109,110,"
	                "111,112,113,114\r\n"
	                "zhenfeng,\"Zhenfeng \"\"Green\"\", Ltd\r\nline two\",200,201,"
	                "202,203,204,205,206,207,208,209,210,211,212,213,214\r\n");

	/* What a CSV reader makes of it. */
	struct csv c;
	struct csv_record rec = {0};
	const char *err;
	csv_init(&c, text, len);
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD && rec.n == 17);
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD && rec.n == 17);
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD && rec.n == 17);
	if (rec.n == 17)
		CHECK_STR(rec.fields[1], "Zhenfeng \"Green\", Ltd\r\nline two");
	CHECK(csv_next(&c, &rec, &err) == CSV_END);
	csv_record_free(&rec);
	free(text);

	text = report_impact_csv(r, true, &len);
	CHECK(strncmp(text + 3, "region_code,region_name,month,sales_fen,", 40) == 0);
	rows = strstr(text, "\r\n") + 2;
	CHECK_STR(rows, "qingyuan,庆元县,2020-01,1000,1001,1002,1003,1004,1005,1006,"
	                "1007,1008,1009,1010,1011,1012,1013,1014\r\n"
	                "qingyuan,庆元县,2020-02,2000,2001,2002,2003,2004,2005,2006,"
	                "2007,2008,2009,2010,2011,2012,2013,2014\r\n");
	free(text);
	json_decref(r);
}

UNIT_MAIN(test_ranges, test_csv)
