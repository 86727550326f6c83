/* Who may: the caller's token (through the router's services) and the
 * region scope of a coordinator, from each route's scope bits. */
#include "http/access.h"

#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "http/router.h"

/* Authorization: Bearer <token>. Sets r->user, or an error. */
bool
access_authenticate(struct request *r)
{
	r->user.id = 0;
	r->user.role = ROLE_ANON;
	const char *h = req_header(r, "Authorization");
	if (h == NULL)
		return true;
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		reply_error(
		    r, E_UNAUTHORIZED, NULL, "use Authorization: Bearer <token>");
		return false;
	}
	const char *token = h + 7;
	while (*token == ' ')
		token++;
	token_hash(token, r->token_hash);
	switch (router_services.user_by_token(r->db, r->token_hash, r->now, &r->user)) {
	case DB_OK:
		return true;
	case DB_NOT_FOUND:
		reply_error(r, E_UNAUTHORIZED, NULL,
		    "the token is unknown, expired or revoked");
		return false;
	default:
		reply_error(r, E_INTERNAL, NULL, NULL);
		return false;
	}
}

/* 403 when a scoped coordinator names something outside its region. */
static bool
check_region(struct request *r, const char *region, const char *what)
{
	if (region == NULL || strcmp(region, r->user.region_code) == 0)
		return true;
	reply_error(r, E_FORBIDDEN, NULL, "%s is outside your region", what);
	return false;
}

bool
access_check_scope(struct request *r)
{
	unsigned scope = r->route->scope;
	if (r->user.role != ROLE_COORDINATOR || r->user.region_code[0] == '\0' ||
	    scope == 0)
		return true;
	char region[72];
	int64_t id;
	if (scope & (SCOPE_PATH_PRODUCER | SCOPE_PATH_PRODUCT)) {
		id = req_param_id(r, 0);
		enum db_status s = id < 0 ? DB_NOT_FOUND
		                   : (scope & SCOPE_PATH_PRODUCER)
		                       ? router_services.producer_region(
		                             r->db, id, region, sizeof(region))
		                       : router_services.product_region(
		                             r->db, id, region, sizeof(region));
		if (s == DB_OK && !check_region(r, region, "this resource"))
			return false;
	}
	if (scope & SCOPE_BODY_REGION) {
		json_t *v = json_object_get(r->body, "region_code");
		if (json_is_string(v) &&
		    !check_region(r, json_string_value(v), "region_code"))
			return false;
	}
	if (scope & SCOPE_BODY_PRODUCER) {
		/* A body with an integer beyond 64 bits is read with every
		 * integer as a real (see read_body), so take either. */
		json_t *v = json_object_get(r->body, "producer_id");
		double d = json_number_value(v);
		if (json_is_number(v) && d >= 1 && d < 9.2e18 &&
		    router_services.producer_region(
		        r->db, (int64_t)d, region, sizeof(region)) == DB_OK &&
		    !check_region(r, region, "producer_id"))
			return false;
	}
	if (scope & SCOPE_QUERY_REGION) {
		if (!check_region(r, req_query(r, "region"), "region"))
			return false;
	}
	return true;
}
