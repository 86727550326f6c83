/* server/http/request.c: pagination cursors and role names. */
#include <stdlib.h>

#include "http/request.h"
#include "unit.h"

static void
test_cursor_round_trip(void)
{
	json_t *key = json_pack("[s, s, I]", "2026-10-01", "09:00", (json_int_t)42);
	char *c = cursor_encode(key);
	/* base64url: no '+', '/' or '=' to escape in a query string. */
	CHECK(strpbrk(c, "+/=") == NULL);
	json_t *back = cursor_decode(c);
	CHECK(back != NULL && json_equal(key, back));
	free(c);
	json_decref(back);
	json_decref(key);

	/* Lengths that need padding round-trip too. */
	for (int i = 0; i < 5; i++) {
		json_t *k = json_pack("[s#]", "贞丰李子abcdefgh", 12 + i);
		char *e = cursor_encode(k);
		json_t *d = cursor_decode(e);
		CHECK(d != NULL && json_equal(k, d));
		free(e);
		json_decref(d);
		json_decref(k);
	}
}

static void
test_cursor_rejects_garbage(void)
{
	CHECK(cursor_decode("") == NULL);
	CHECK(cursor_decode("!!!") == NULL);
	CHECK(cursor_decode("a b") == NULL);
	/* Valid base64url of something that is not a JSON array. */
	json_t *obj = json_pack("{s:i}", "a", 1);
	char *e = cursor_encode(obj);
	CHECK(cursor_decode(e) == NULL);
	free(e);
	json_decref(obj);
	/* Base64 of text that is not JSON ("hello"). */
	CHECK(cursor_decode("aGVsbG8") == NULL);
	char big[2000];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(cursor_decode(big) == NULL);
}

static void
test_roles(void)
{
	CHECK(role_from_name("buyer") == ROLE_BUYER);
	CHECK(role_from_name("admin") == ROLE_ADMIN);
	CHECK(role_from_name("root") == 0);
	CHECK(role_from_name("") == 0);
	CHECK_STR(role_name(ROLE_COORDINATOR), "coordinator");
	CHECK_STR(role_name(ROLE_ANON), "anonymous");
}

UNIT_MAIN(test_cursor_round_trip, test_cursor_rejects_garbage, test_roles)
