/* Routing: the method names, matching a path against the route table's
 * patterns, and the Allow header of a 405. */
#include "http/router.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const struct {
	enum evhttp_cmd_type m;
	const char *name;
} methods[] = {
    {EVHTTP_REQ_GET, "GET"},
    {EVHTTP_REQ_POST, "POST"},
    {EVHTTP_REQ_PUT, "PUT"},
    {EVHTTP_REQ_PATCH, "PATCH"},
    {EVHTTP_REQ_DELETE, "DELETE"},
    {EVHTTP_REQ_HEAD, "HEAD"},
    {EVHTTP_REQ_OPTIONS, "OPTIONS"},
    {EVHTTP_REQ_TRACE, "TRACE"},
    {EVHTTP_REQ_CONNECT, "CONNECT"},
};

const char *
method_name(enum evhttp_cmd_type m)
{
	for (size_t i = 0; i < nitems(methods); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return "?";
}

/* A parameter's place in the path. */
struct span {
	const char *s;
	size_t n;
};

/* Matches path against pattern; on success fills params (places in
 * path, nothing allocated: most patterns fail) and returns a score that
 * is higher the more (and the earlier) segments are literal. */
static long
match_pattern(
    const char *pattern, const char *path, struct span params[REQUEST_MAX_PARAMS])
{
	long score = 0;
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p == '/' && *s == '/') {
		p++, s++;
		const char *pe = strchrnul(p, '/'), *se = strchrnul(s, '/');
		size_t plen = (size_t)(pe - p), slen = (size_t)(se - s);
		score <<= 1;
		if (plen > 1 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0 || np == REQUEST_MAX_PARAMS)
				return -1;
			params[np++] = (struct span){s, slen};
		} else if (plen == slen && memcmp(p, s, plen) == 0) {
			score |= 1;
		} else {
			return -1;
		}
		p = pe, s = se;
	}
	if (*p != '\0' || *s != '\0')
		return -1;
	for (; np < REQUEST_MAX_PARAMS; np++)
		params[np] = (struct span){NULL, 0};
	return score;
}

static bool demo_routes;

void
router_set_demo(bool on)
{
	demo_routes = on;
}

const struct route *
route_match(enum evhttp_cmd_type method, const char *path,
    char *params[REQUEST_MAX_PARAMS], unsigned *allow)
{
	const struct route *found = NULL;
	struct span spans[REQUEST_MAX_PARAMS];
	long best = -1;
	*allow = 0;
	if (method == EVHTTP_REQ_HEAD)
		method = EVHTTP_REQ_GET;
	for (const struct route *const *t = route_tables; *t; t++) {
		for (const struct route *rt = *t; rt->path; rt++) {
			struct span tmp[REQUEST_MAX_PARAMS];
			if (rt->demo && !demo_routes)
				continue;
			long score = match_pattern(rt->path, path, tmp);
			if (score < 0 || score < best)
				continue;
			if (score > best) {
				/* A more literal pattern wins over what we had. */
				best = score;
				*allow = 0;
				found = NULL;
			}
			*allow |= rt->method;
			if (rt->method == method && found == NULL) {
				found = rt;
				memcpy(spans, tmp, sizeof(tmp));
			}
		}
	}
	for (int i = 0; i < REQUEST_MAX_PARAMS; i++)
		params[i] = found != NULL && spans[i].s != NULL
		                ? xstrndup(spans[i].s, spans[i].n)
		                : NULL;
	if (*allow & EVHTTP_REQ_GET)
		*allow |= EVHTTP_REQ_HEAD;
	return found;
}

void
route_set_allow(struct request *r, unsigned allow)
{
	char buf[128] = "";
	for (size_t i = 0; i < nitems(methods); i++)
		if (allow & methods[i].m) {
			if (buf[0])
				strcat(buf, ", ");
			strcat(buf, methods[i].name);
		}
	reply_header(r, "Allow", buf);
}
