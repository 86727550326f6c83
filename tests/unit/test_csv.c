/* server/csv.c: RFC 4180 records, quotes, line ends, BOM, errors. */
#include <string.h>

#include "csv.h"
#include "unit.h"

/* Reads all records of text; returns how many, or -1 on an error. */
static int
count(const char *text)
{
	struct csv c;
	struct csv_record rec = {0};
	const char *err;
	enum csv_status s;
	int n = 0;
	csv_init(&c, text, strlen(text));
	while ((s = csv_next(&c, &rec, &err)) == CSV_RECORD)
		n++;
	csv_record_free(&rec);
	return s == CSV_END ? n : -1;
}

static void
test_simple(void)
{
	const char *text = "name,price_fen\n贞丰李子,1200\nrice,800";
	struct csv c;
	struct csv_record rec = {0};
	const char *err = NULL;
	csv_init(&c, text, strlen(text));
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK(rec.n == 2 && rec.line == 1);
	CHECK_STR(rec.fields[0], "name");
	CHECK_STR(rec.fields[1], "price_fen");
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK(rec.n == 2 && rec.line == 2);
	CHECK_STR(rec.fields[0], "贞丰李子");
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK(rec.line == 3);
	CHECK_STR(rec.fields[1], "800");
	CHECK(csv_next(&c, &rec, &err) == CSV_END);
	CHECK(csv_next(&c, &rec, &err) == CSV_END);
	csv_record_free(&rec);
}

static void
test_quotes_and_crlf(void)
{
	const char *text = "\xEF\xBB\xBF"
	                   "a,b,c\r\n"
	                   "\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n"
	                   ",,\r\n"
	                   "last,\"\",end\r\n";
	struct csv c;
	struct csv_record rec = {0};
	const char *err = NULL;
	csv_init(&c, text, strlen(text));
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK_STR(rec.fields[0], "a"); /* the BOM is skipped */
	CHECK(rec.n == 3);
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK(rec.n == 3 && rec.line == 2);
	CHECK_STR(rec.fields[0], "x, y");
	CHECK_STR(rec.fields[1], "say \"hi\"");
	CHECK_STR(rec.fields[2], "two\r\nlines");
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK(rec.n == 3 && rec.line == 4); /* the quoted line break counts */
	CHECK_STR(rec.fields[0], "");
	CHECK_STR(rec.fields[2], "");
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK(rec.line == 5);
	CHECK_STR(rec.fields[1], "");
	CHECK_STR(rec.fields[2], "end");
	CHECK(csv_next(&c, &rec, &err) == CSV_END);
	csv_record_free(&rec);
}

static void
test_blank_lines_and_trailing_comma(void)
{
	CHECK(count("a\n\n\nb\n") == 2);
	CHECK(count("") == 0);
	CHECK(count("\xEF\xBB\xBF") == 0);
	struct csv c;
	struct csv_record rec = {0};
	const char *err;
	csv_init(&c, "a,", 2);
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK(rec.n == 2);
	CHECK_STR(rec.fields[1], "");
	csv_record_free(&rec);
}

static void
test_errors(void)
{
	CHECK(count("\"open") == -1);
	CHECK(count("\"a\"b,c") == -1);
	CHECK(count("a\"b,c") == -1);
	CHECK(count("a\rb") == -1);
	CHECK(count("ok\n\xff\xfe\n") == -1);
	CHECK(count("ok\n\xed\xa0\x80\n") == -1); /* a surrogate */
	CHECK(count("ok\n\xc0\xaf\n") == -1);     /* an overlong '/' */
	struct csv c;
	struct csv_record rec = {0};
	const char *err = NULL;
	const char *text = "a\nb\n\"c\nd";
	csv_init(&c, text, strlen(text));
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK(csv_next(&c, &rec, &err) == CSV_RECORD);
	CHECK(csv_next(&c, &rec, &err) == CSV_ERROR);
	CHECK(rec.line == 3 && err != NULL);
	CHECK(csv_next(&c, &rec, &err) == CSV_END);
	csv_record_free(&rec);
	/* A NUL byte inside a field. */
	csv_init(&c, "a\0b\n", 4);
	CHECK(csv_next(&c, &rec, &err) == CSV_ERROR);
	csv_record_free(&rec);
}

static void
test_utf8(void)
{
	CHECK(utf8_valid("贞丰李子", strlen("贞丰李子")));
	CHECK(utf8_valid("\xf0\x9f\x8d\x91", 4));  /* U+1F351 */
	CHECK(!utf8_valid("\xf0\x9f\x8d", 3));     /* cut short */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* beyond U+10FFFF */
	CHECK(!utf8_valid("\x80", 1));
}

UNIT_MAIN(test_simple, test_quotes_and_crlf, test_blank_lines_and_trailing_comma,
    test_errors, test_utf8)
