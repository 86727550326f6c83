/*
 * The audit log: audit_record() (the writer's hook, see audit.h) and
 * GET /api/v1/audit?from=&to=&user= for admins, newest first.
 *
 * from and to are each an RFC 3339 instant or a date YYYY-MM-DD (a day in
 * Asia/Shanghai, as everywhere in the API); both bounds are inclusive: a
 * date as "to" takes in its whole day. user is a user id.
 */
#include "api/audit.h"

#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "store/audit.h"

/* The path segments that name a resource, and the type they give. The
 * last such literal segment of a route's path wins, so
 * "/api/v1/market-days/{id}/stalls" writes a stall. */
static const struct {
	const char *segment, *type;
} resources[] = {
    {"auth", "session"},
    {"register", "user"},
    {"users", "user"},
    {"regions", "region"},
    {"producers", "producer"},
    {"products", "product"},
    {"venues", "venue"},
    {"market-days", "market_day"},
    {"stalls", "stall"},
    {"sales", "sale"},
    {"orders", "order"},
    {"payments", "payment"},
    {"lots", "lot"},
    {"institutions", "institution"},
    {"plans", "plan"},
    {"payouts", "payout"},
};

#define API_PREFIX "/api/v1/"

/* The object type of a route path, into buf. */
static const char *
type_of_path(const char *path, char *buf, size_t len)
{
	const char *type = NULL;
	const char *p = strncmp(path, API_PREFIX, strlen(API_PREFIX)) == 0
	                    ? path + strlen(API_PREFIX)
	                    : path + (path[0] == '/');
	const char *first = p;
	size_t first_len = strcspn(p, "/");
	while (*p) {
		size_t n = strcspn(p, "/");
		for (size_t i = 0; i < nitems(resources); i++)
			if (strlen(resources[i].segment) == n &&
			    memcmp(resources[i].segment, p, n) == 0)
				type = resources[i].type;
		p += n;
		p += *p == '/';
	}
	if (type != NULL)
		return type;
	/* A resource this table does not know: its first segment, singular,
	 * with '_' for '-'. */
	if (first_len > 1 && first[first_len - 1] == 's')
		first_len--;
	snprintf(buf, len, "%.*s", (int)first_len, first);
	for (char *c = buf; *c; c++)
		if (*c == '-')
			*c = '_';
	return buf;
}

/* The ids of what a batch stored, as a new array: the "id" of each item
 * of list (for sales/batch only those whose "status" is "created"). */
static json_t *
batch_ids(json_t *list, bool created_only)
{
	json_t *ids = json_array(), *item;
	size_t i;
	json_array_foreach(list, i, item)
	{
		const char *status = json_string_value(json_object_get(item, "status"));
		if (created_only && (status == NULL || strcmp(status, "created") != 0))
			continue;
		json_t *id = json_object_get(item, "id");
		json_array_append(ids, id ? id : json_null());
	}
	return ids;
}

/* The ids of the objects r wrote, as a new array (one entry each). */
static json_t *
object_ids(struct request *r, const char *action)
{
	json_t *body = r->reply_body, *id;
	if (r->audit_id != NULL)
		return json_is_array(r->audit_id) ? json_copy(r->audit_id)
		                                  : json_pack("[O]", r->audit_id);
	if (strcmp(action, "POST /api/v1/sales/batch") == 0)
		return batch_ids(json_object_get(body, "results"), true);
	if (strcmp(action, "POST /api/v1/market-days/batch") == 0)
		return batch_ids(json_object_get(body, "items"), false);
	if (strcmp(action, "POST /api/v1/sales") == 0 && r->status != 201)
		return json_array(); /* a re-sent sale: nothing was stored */
	if ((id = json_object_get(body, "id")) != NULL ||
	    (id = json_object_get(body, "code")) != NULL)
		if (json_is_integer(id) || json_is_string(id))
			return json_pack("[O]", id);
	if (r->params[0] != NULL) {
		int64_t n;
		return parse_int64(r->params[0], &n) && n > 0
		           ? json_pack("[I]", (json_int_t)n)
		           : json_pack("[s]", r->params[0]);
	}
	return json_pack("[n]");
}

bool
audit_record(struct request *r)
{
	if (r->route == NULL || r->method == EVHTTP_REQ_GET ||
	    r->method == EVHTTP_REQ_HEAD || r->status < 200 || r->status > 299 ||
	    (r->user.role & (ROLE_OPERATOR | ROLES_STAFF)) == 0)
		return true;
	char action[256], buf[64];
	snprintf(
	    action, sizeof(action), "%s %s", method_name(r->method), r->route->path);
	json_t *ids = object_ids(r, action), *id;
	struct audit_entry e = {
	    .at = r->now,
	    .user_id = r->user.id,
	    .username = r->user.username,
	    .action = action,
	    .object_type = r->audit_type
	                       ? r->audit_type
	                       : type_of_path(r->route->path, buf, sizeof(buf)),
	    .remote_addr = r->remote_addr,
	};
	bool ok = true;
	size_t i;
	json_array_foreach(ids, i, id)
	{
		e.object_id = id;
		if (store_audit_append(r->db, &e) != DB_OK) {
			ok = false;
			break;
		}
	}
	json_decref(ids);
	return ok;
}

void
audit_object(struct request *r, const char *type, json_t *id)
{
	json_decref(r->audit_id);
	r->audit_type = type;
	r->audit_id = id;
}

/*
 * The query parameter key as seconds since the epoch: an RFC 3339 instant,
 * or a date YYYY-MM-DD, which means its first second in Asia/Shanghai,
 * or its last when end_of_day. false (error set) when malformed.
 */
static bool
query_instant(
    struct request *r, const char *key, bool end_of_day, bool *present, int64_t *out)
{
	const char *v = req_query(r, key);
	*present = v != NULL;
	if (v == NULL)
		return true;
	bool ok;
	if (strlen(v) == 10) {
		char s[32];
		snprintf(s, sizeof(s), "%sT00:00:00+08:00", v);
		ok = parse_rfc3339(s, out);
		if (ok && end_of_day)
			*out += 86400 - 1;
	} else {
		ok = parse_rfc3339(v, out);
	}
	if (!ok)
		reply_error(r, E_VALIDATION, key,
		    "%s must be an RFC 3339 instant or a date YYYY-MM-DD", key);
	return ok;
}

static void
list_audit(struct request *r)
{
	struct page p;
	struct audit_filter f = {0};
	json_t *items = NULL;
	int64_t before = 0;
	if (!page_parse(r, &p, 1))
		return;
	if (!query_instant(r, "from", false, &f.has_from, &f.from) ||
	    !query_instant(r, "to", true, &f.has_to, &f.to) ||
	    !req_query_int(r, "user", 1, INT64_MAX, &f.user_id, NULL))
		goto out;
	if (f.has_from && f.has_to && f.to < f.from) {
		reply_error(r, E_VALIDATION, "to", "to lies before from");
		goto out;
	}
	if (p.after != NULL) {
		json_t *k = json_array_get(p.after, 0);
		if (!json_is_integer(k) || json_integer_value(k) < 1) {
			reply_error(r, E_VALIDATION, "cursor",
			    "cursor is not one this server gave");
			goto out;
		}
		before = json_integer_value(k);
	}
	if (!db_ok(r, store_audit_list(r->db, &f, before, p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

const struct route audit_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/audit",
        .handler = list_audit,
        .roles = ROLE_ADMIN},
    {0},
};
