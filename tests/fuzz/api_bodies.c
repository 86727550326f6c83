/*
 * The JSON body of every route that takes one, through the router's body
 * reader and the route's own field validation and handler, as a user the
 * route admits. Input: a line naming the route ("POST /api/v1/products"),
 * a byte choosing the role, a byte choosing the path parameters, then
 * the body.
 */
#include "fuzz.h"

/* The first role at or after the one b names that the route admits. */
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
	const struct route *const *routes = fuzz_routes(0, true, &n);
	const struct route *rt = fuzz_pick_route(routes, n, &data, &size);
	if (rt == NULL || size < 2)
		return 0;
	struct fuzz_req q = {.route = rt,
	    .role = admitted(rt, data[0]),
	    .params = {fuzz_param(data[1]), fuzz_param((uint8_t)(data[1] >> 4))},
	    .body = data + 2,
	    .body_len = size - 2};
	fuzz_run(&q);
	return 0;
}
