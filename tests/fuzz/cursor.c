/*
 * Pagination input: ?limit= and ?cursor= through page_parse() (and so
 * req_query_int() and cursor_decode()) for keys of one to three
 * elements, and cursor_decode() alone. A cursor that decodes encodes
 * back to one that decodes to the same key. Input: a byte choosing the
 * key length, then a query string (up to its first NUL).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "fuzz.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void
check_round_trip(const char *text)
{
	json_t *key = cursor_decode(text);
	if (key == NULL)
		return;
	if (!json_is_array(key))
		abort();
	char *again = cursor_encode(key);
	json_t *key2 = cursor_decode(again);
	if (key2 == NULL || !json_equal(key, key2))
		abort();
	json_decref(key2);
	free(again);
	json_decref(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	char *text = xstrndup((const char *)data + 1, size - 1);
	check_round_trip(text);

	struct request r = {0};
	r.query.tqh_first = NULL;
	r.query.tqh_last = &r.query.tqh_first;
	if (evhttp_parse_query_str(text, &r.query) == 0) {
		struct page p;
		size_t key_len = (size_t)(data[0] % 3) + 1;
		if (page_parse(&r, &p, key_len)) {
			if (p.limit < 1 || p.limit > 200 ||
			    (p.after != NULL && json_array_size(p.after) != key_len))
				abort();
			page_free(&p);
		} else if (r.status != 400) {
			abort();
		}
	}
	evhttp_clear_headers(&r.query);
	json_decref(r.reply_body);
	free(text);
	return 0;
}
