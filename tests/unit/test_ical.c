#include "ical.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "unit.h"
#include "util.h"

/* True when every physical line of s ends in CRLF, holds at most 75
 * octets, and starts with a UTF-8 lead octet (no split character), and
 * unfolding gives back want. */
static int
check_folded(const char *s, const char *want)
{
	char *unfolded = malloc(strlen(s) + 1), *u = unfolded;
	int ok = 1, first = 1;
	while (*s) {
		const char *crlf = strstr(s, "\r\n");
		if (crlf == NULL) {
			ok = 0;
			break;
		}
		size_t len = (size_t)(crlf - s);
		if (len > ICAL_LINE_MAX)
			ok = 0;
		/* No lone CR or LF inside a line. */
		if (memchr(s, '\n', len) != NULL || memchr(s, '\r', len) != NULL)
			ok = 0;
		const char *body = s;
		if (!first) {
			if (*s != ' ')
				ok = 0;
			body++;
			len--;
		}
		if (len > 0 && ((unsigned char)body[0] & 0xc0) == 0x80)
			ok = 0; /* a continuation octet opens the line */
		if (len > 0 && ((unsigned char)body[len - 1] & 0x80)) {
			/* The last character must be complete: find its lead. */
			size_t i = len - 1;
			while (i > 0 && ((unsigned char)body[i] & 0xc0) == 0x80)
				i--;
			unsigned char lead = (unsigned char)body[i];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
			if (len - i != need)
				ok = 0;
		}
		memcpy(u, body, len);
		u += len;
		s = crlf + 2;
		first = 0;
	}
	*u = '\0';
	if (strcmp(unfolded, want) != 0)
		ok = 0;
	free(unfolded);
	return ok;
}

static void
test_escape(void)
{
	char *e = ical_escape("a,b;c\\d\ne\r\nf\rg");
	CHECK_STR(e, "a\\,b\\;c\\\\d\\ne\\nf\\ng");
	free(e);
	e = ical_escape("鼓楼沿扶贫集市，第一天;白云庄,社区");
	CHECK_STR(e, "鼓楼沿扶贫集市，第一天\\;白云庄\\,社区");
	free(e);
	e = ical_escape("tab\tok\x01gone\x7f");
	CHECK_STR(e, "tab\tokgone");
	free(e);
	e = ical_escape("");
	CHECK_STR(e, "");
	free(e);
}

static void
test_fold_short(void)
{
	char *f = ical_fold("VERSION:2.0");
	CHECK_STR(f, "VERSION:2.0\r\n");
	free(f);
	/* Exactly 75 octets: no fold. */
	char line[76];
	memset(line, 'x', 75);
	line[75] = '\0';
	f = ical_fold(line);
	CHECK(strlen(f) == 77);
	CHECK(check_folded(f, line));
	free(f);
	/* 76 octets: one fold, the second line " x". */
	char line76[77];
	memset(line76, 'y', 76);
	line76[76] = '\0';
	f = ical_fold(line76);
	CHECK(check_folded(f, line76));
	CHECK(strcmp(f + 75, "\r\n y\r\n") == 0);
	free(f);
}

static void
test_fold_chinese(void)
{
	/* Every prefix length of "SUMMARY:" + Chinese text, so that each
	 * possible position of a fold inside a 3-octet character occurs. */
	const char *hanzi = "鼓楼沿扶贫集市贞丰李子新疆灰枣贵州大米白云庄社区大篷车";
	for (int pad = 0; pad < 8; pad++) {
		char *text = xasprintf("SUMMARY:%.*s%s%s%s%s%s", pad, "aaaaaaa", hanzi,
		    hanzi, hanzi, hanzi, hanzi);
		char *f = ical_fold(text);
		CHECK(check_folded(f, text));
		free(f);
		free(text);
	}
	/* 4-octet characters (an emoji) too. */
	char *text =
	    xasprintf("DESCRIPTION:%s", "🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑");
	for (int pad = 0; pad < 4; pad++) {
		char *t = xasprintf("%.*s%s", pad, "bbb", text);
		char *f = ical_fold(t);
		CHECK(check_folded(f, t));
		free(f);
		free(t);
	}
	free(text);
	/* A long line: many folds. */
	char *big = xmalloc(3 * 1000 + 1);
	big[0] = '\0';
	for (int i = 0; i < 1000; i++)
		strcat(big, "李");
	char *f = ical_fold(big);
	CHECK(check_folded(f, big));
	free(f);
	free(big);
}

static void
test_line_and_text(void)
{
	struct evbuffer *b = evbuffer_new();
	ical_text(b, "SUMMARY", "贞丰李子, 新疆灰枣; 第二行\n结束");
	ical_line(b, "DTSTART;TZID=Asia/Shanghai", "20240501T090000");
	size_t n = evbuffer_get_length(b);
	char *s = xmalloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	CHECK_STR(s, "SUMMARY:贞丰李子\\, 新疆灰枣\\; 第二行\\n结束\r\n"
	             "DTSTART;TZID=Asia/Shanghai:20240501T090000\r\n");
	free(s);
	evbuffer_free(b);
}

static void
test_times_and_uid(void)
{
	char utc[17], local[16];
	ical_utc(1588298400, utc); /* 2020-05-01T02:00:00Z */
	CHECK_STR(utc, "20200501T020000Z");
	ical_local("2024-10-01", "09:30", local);
	CHECK_STR(local, "20241001T093000");
	char a[80], b[80];
	CHECK(ical_uid_new(a, sizeof(a), "market.haishu"));
	CHECK(ical_uid_new(b, sizeof(b), "market.haishu"));
	CHECK(strlen(a) == 32 + 1 + strlen("market.haishu"));
	CHECK(strcmp(a, b) != 0);
	CHECK(strcmp(a + 32, "@market.haishu") == 0);
	char small[10];
	CHECK(!ical_uid_new(small, sizeof(small), "market.haishu"));
}

UNIT_MAIN(test_escape, test_fold_short, test_fold_chinese, test_line_and_text,
    test_times_and_uid)
