/*
 * The request target as the router sees it: parsed as libevent parses a
 * request line's URI, its path percent-decoded, then matched against
 * every route pattern. A match has the method asked for (HEAD serves GET)
 * and one non-empty parameter, without '/', per {name} of its pattern.
 * A path no route has goes to the pages: a name the page lookup accepts
 * never climbs out of the tree. The target also serves as an
 * Accept-Encoding value.
 * Input: a byte choosing the method, then the target (up to a NUL).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "fuzz.h"
#include "http/pages.h"
#include "util.h"

static const enum evhttp_cmd_type methods[] = {EVHTTP_REQ_GET, EVHTTP_REQ_POST,
    EVHTTP_REQ_PATCH, EVHTTP_REQ_PUT, EVHTTP_REQ_DELETE, EVHTTP_REQ_HEAD,
    EVHTTP_REQ_OPTIONS};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void
check(enum evhttp_cmd_type m, const char *path)
{
	char *params[REQUEST_MAX_PARAMS] = {0};
	unsigned allow;
	const struct route *rt = route_match(m, path, params, &allow);
	int np = 0;
	for (int i = 0; i < REQUEST_MAX_PARAMS; i++)
		if (params[i] != NULL) {
			np++;
			if (params[i][0] == '\0' || strchr(params[i], '/') != NULL)
				abort();
		}
	if (rt != NULL) {
		enum evhttp_cmd_type want = m == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : m;
		int braces = 0;
		for (const char *p = rt->path; *p; p++)
			braces += *p == '{';
		if (rt->method != want || (allow & m) == 0 || np != braces)
			abort();
	} else if (np != 0) {
		abort();
	}
	/* The pages: an accepted name has no "..", "." or empty segment. */
	if (path[0] == '/' && pages_name_ok(path + 1) &&
	    (strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//") ||
	        strcmp(path, "/..") == 0 || strstr(path, "\\")))
		abort();
	(void)pages_accepts_gzip(path);
	for (int i = 0; i < REQUEST_MAX_PARAMS; i++)
		free(params[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	enum evhttp_cmd_type m = methods[data[0] % nitems(methods)];
	char *target = xstrndup((const char *)data + 1, size - 1);
	/* The path bytes as they are, and as the router gets them. */
	check(m, target);
	struct evhttp_uri *uri =
	    evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
	const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
	size_t len = 0;
	char *path = raw ? evhttp_uridecode(raw, 0, &len) : NULL;
	if (path != NULL && strlen(path) == len)
		check(m, path);
	free(path);
	if (uri != NULL)
		evhttp_uri_free(uri);
	free(target);
	return 0;
}
