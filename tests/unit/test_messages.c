/* server/http/messages.c: choosing the language, matching details
 * against the Chinese table, and the table itself. */
#include <stdbool.h>
#include <string.h>

#include "http/errors.h"
#include "http/messages.h"
#include "unit.h"

static void
test_accept_language(void)
{
	CHECK(lang_from_accept(NULL) == LANG_EN);
	CHECK(lang_from_accept("") == LANG_EN);
	CHECK(lang_from_accept("zh") == LANG_ZH);
	CHECK(lang_from_accept("zh-CN") == LANG_ZH);
	CHECK(lang_from_accept("zh-Hans-CN") == LANG_ZH);
	CHECK(lang_from_accept("ZH-cn;q=0.8") == LANG_ZH);
	CHECK(lang_from_accept("fr-FR, zh;q=0.3") == LANG_ZH);
	CHECK(lang_from_accept("en;q=0.5 , zh ; q=0.6") == LANG_ZH);
	CHECK(lang_from_accept("en-US,en;q=0.9,zh-CN;q=0.8") == LANG_EN);
	CHECK(lang_from_accept("zh;q=0.5, en;q=0.5") == LANG_ZH); /* first wins */
	CHECK(lang_from_accept("zh;q=0") == LANG_EN);
	CHECK(lang_from_accept("zh;q=0.000") == LANG_EN);
	CHECK(lang_from_accept("zh;q=1.5") == LANG_EN); /* malformed q */
	CHECK(lang_from_accept("zh;q=abc") == LANG_EN);
	CHECK(lang_from_accept("zhx, zh_CN") == LANG_EN);
	CHECK(lang_from_accept("*") == LANG_EN);
	CHECK(lang_from_accept(",,,;;;q=") == LANG_EN);
	CHECK_STR(lang_tag(LANG_ZH), "zh-CN");
	CHECK_STR(lang_tag(LANG_EN), "en");
}

static void
check_zh(const char *en, const char *want)
{
	char out[512];
	bool hit = msg_translate(LANG_ZH, en, out, sizeof(out));
	CHECK(hit);
	CHECK_STR(out, want);
}

static void
test_translate(void)
{
	char out[512];
	check_zh("log in first", "请先登录");
	check_zh("no product 42", "没有商品 42");
	/* A hole that holds a message of its own is translated too. */
	check_zh("lines[0].quantity: must be an integer from 1 to 100000",
	    "lines[0].quantity：须为 1 到 100000 之间的整数");
	check_zh("'[' or '{' expected near 'x' at line 1 column 1",
	    "应为 '[' 或 '{'（在 'x' 附近）（第 1 行第 1 列）");
	/* The most specific entry wins over "%s: %s". */
	check_zh("sales[3]: a sale must be an object", "sales[3]：每笔销售须为对象");
	/* English stays English; unknown text stays as it is. */
	CHECK(!msg_translate(LANG_EN, "log in first", out, sizeof(out)));
	CHECK_STR(out, "log in first");
	CHECK(!msg_translate(LANG_ZH, "something new", out, sizeof(out)));
	CHECK_STR(out, "something new");
	/* Holes are never empty. */
	CHECK(!msg_translate(LANG_ZH, "no product ", out, sizeof(out)));
}

/* A detail that repeats an entry's literals many times is answered in
 * bounded work (the budget), and the output is cut on a character
 * boundary. */
static void
test_bounds(void)
{
	char big[4096] = "order ";
	for (int i = 0; i < 300; i++)
		strcat(big, " is x: ");
	strcat(big, "z");
	char out[64];
	msg_translate(LANG_ZH, big, out, sizeof(out));
	CHECK(strlen(out) < sizeof(out));
	/* Cut inside 须 (3 bytes): the partial character is dropped. */
	char small[9];
	CHECK(msg_translate(LANG_ZH, "is required", small, sizeof(small)));
	CHECK_STR(small, "为必");
	char one[1];
	msg_translate(LANG_ZH, "is required", one, sizeof(one));
	CHECK_STR(one, "");
}

static void
test_table(void)
{
	size_t n = 0;
	for (const struct msg_entry *m = messages_zh; m->en != NULL; m++, n++) {
		CHECK(msg_entry_ok(m));
		/* Every entry matches its own pattern with a word in its holes,
		 * unless a more specific one takes it. */
		for (const struct msg_entry *o = messages_zh; o < m; o++)
			CHECK(strcmp(o->en, m->en) != 0); /* no duplicates */
	}
	CHECK(n > 100);
	struct msg_entry bad = {"%s%s", "%s%s"};
	CHECK(!msg_entry_ok(&bad));
	struct msg_entry uneven = {"no product %s", "没有商品"};
	CHECK(!msg_entry_ok(&uneven));
	for (int e = E_NONE; e < E_COUNT; e++)
		CHECK(api_error_def((enum api_error)e)->title_zh != NULL);
}

static void
test_problem(void)
{
	json_t *p = problem_new(E_NOT_FOUND, LANG_ZH, "id", "no order 7");
	CHECK_STR(json_string_value(json_object_get(p, "title")), "未找到");
	CHECK_STR(json_string_value(json_object_get(p, "detail")), "没有订单 7");
	CHECK_STR(json_string_value(json_object_get(p, "code")), "not_found");
	CHECK_STR(json_string_value(json_object_get(p, "field")), "id");
	json_decref(p);
	p = problem_new(E_NOT_FOUND, LANG_EN, NULL, "no order 7");
	CHECK_STR(json_string_value(json_object_get(p, "title")), "Not found");
	CHECK_STR(json_string_value(json_object_get(p, "detail")), "no order 7");
	json_decref(p);
}

UNIT_MAIN(test_accept_language, test_translate, test_bounds, test_table, test_problem)
