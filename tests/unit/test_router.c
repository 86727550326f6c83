/* server/http/router.c: matching, specificity, 405 methods, JSON depth. */
#include <stdlib.h>

#include "http/router.h"
#include "unit.h"

static void
free_params(char *p[REQUEST_MAX_PARAMS])
{
	for (int i = 0; i < REQUEST_MAX_PARAMS; i++) {
		free(p[i]);
		p[i] = NULL;
	}
}

static void
test_match(void)
{
	char *p[REQUEST_MAX_PARAMS] = {0};
	unsigned allow;
	const struct route *r =
	    route_match(EVHTTP_REQ_GET, "/api/v1/regions/zhenfeng", p, &allow);
	CHECK(r != NULL);
	CHECK_STR(r ? r->path : NULL, "/api/v1/regions/{code}");
	CHECK_STR(p[0], "zhenfeng");
	free_params(p);

	r = route_match(EVHTTP_REQ_GET, "/api/v1/regions", p, &allow);
	CHECK(r != NULL && p[0] == NULL);

	/* HEAD is served by the GET route. */
	r = route_match(EVHTTP_REQ_HEAD, "/healthz", p, &allow);
	CHECK(r != NULL);
}

static void
test_not_found_and_405(void)
{
	char *p[REQUEST_MAX_PARAMS] = {0};
	unsigned allow;
	CHECK(route_match(EVHTTP_REQ_GET, "/api/v1/nothing", p, &allow) == NULL);
	CHECK(allow == 0);
	CHECK(route_match(EVHTTP_REQ_GET, "/api/v1/regions/", p, &allow) == NULL);
	CHECK(route_match(EVHTTP_REQ_GET, "/api/v1/regions/a/b", p, &allow) == NULL);
	CHECK(allow == 0);

	CHECK(route_match(EVHTTP_REQ_DELETE, "/api/v1/regions", p, &allow) == NULL);
	CHECK(allow & EVHTTP_REQ_GET);
	CHECK(allow & EVHTTP_REQ_POST);
	CHECK(!(allow & EVHTTP_REQ_DELETE));
	CHECK(p[0] == NULL);
}

static void
test_json_depth(void)
{
	CHECK(!json_too_deep("{\"a\":[1,2,{\"b\":3}]}", 19, 32));
	char deep[100];
	for (int i = 0; i < 33; i++)
		deep[i] = '[';
	CHECK(json_too_deep(deep, 33, 32));
	CHECK(!json_too_deep(deep, 32, 32));
	/* Brackets inside strings do not count. */
	CHECK(!json_too_deep("{\"a\":\"[[[[[[\"}", 14, 2));
	CHECK(!json_too_deep("{\"a\":\"\\\"[[[[\"}", 15, 2));
}

UNIT_MAIN(test_match, test_not_found_and_405, test_json_depth)
