/*
 * The query string of every GET route (filters, dates, ?limit= and
 * ?cursor=), parsed as the router parses it and read by the route's
 * handler, as a user the route admits. Input: a line naming the route
 * ("GET /api/v1/products"), a byte choosing the role, a byte choosing the
 * path parameters, then the query string (up to its first NUL).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

static enum role
admitted(const struct route *rt, uint8_t b)
{
	for (int i = 0; i < 5; i++) {
		enum role role = fuzz_role((uint8_t)(b + i));
		if (rt->roles & role)
			return role;
	}
	return ROLE_ADMIN;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	const struct route *const *routes = fuzz_routes(EVHTTP_REQ_GET, false, &n);
	if (size > 4096)
		return 0;
	const struct route *rt = fuzz_pick_route(routes, n, &data, &size);
	if (rt == NULL || size < 2)
		return 0;
	char *query = xstrndup((const char *)data + 2, size - 2);
	struct fuzz_req q = {.route = rt,
	    .role = admitted(rt, data[0]),
	    .params = {fuzz_param(data[1]), fuzz_param((uint8_t)(data[1] >> 4))},
	    .query = query};
	fuzz_run(&q);
	free(query);
	return 0;
}
