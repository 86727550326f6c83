/*
 * Webhooks (shared/API.md 1.1, "Webhooks"), admins only:
 * POST /api/v1/webhooks, GET /api/v1/webhooks, PATCH and DELETE
 * /api/v1/webhooks/{id}, GET /api/v1/webhooks/{id}/deliveries.
 *
 * A url is checked by the SSRF guard (netguard.h), which resolves its
 * host: that runs in the route's prepare hook on the worker thread, not
 * on the writer, so a slow name server holds up one admin request's
 * event loop for the lookup and never every write. Deliveries are made
 * by the delivery worker (webhook_worker.h).
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "netguard.h"
#include "store/webhooks.h"

/* The url of the body, when it has one, through the SSRF guard. */
static void
check_url(struct request *r)
{
	struct fields f = fields_of(r);
	const char *url;
	bool present;
	int flags = r->method == EVHTTP_REQ_POST ? F_REQUIRED : F_OPTIONAL;
	if (!f_string(f, "url", flags, 1, WEBHOOK_URL_MAX, &url, &present) || !present)
		return;
	char *why = NULL;
	if (!webhook_url_check(url, r->cfg->webhook_allow_insecure, &why))
		f_fail(f, "url", why);
	free(why);
}

/* events: a non-empty array of the contract's types, into w (in the
 * contract's order, each once). */
static bool
parse_events(struct fields f, int flags, struct webhook_in *w, bool *present)
{
	json_t *arr, *v;
	*present = false;
	if (!f_array(f, "events", flags, 1, 64, &arr))
		return false;
	if (arr == NULL)
		return true;
	*present = true;
	unsigned mask = 0;
	size_t i;
	json_array_foreach(arr, i, v)
	{
		const char *name = json_string_value(v);
		int t = WEBHOOK_TYPES;
		for (int k = 0; name != NULL && k < WEBHOOK_TYPES; k++)
			if (strcmp(name, webhook_type_names[k]) == 0)
				t = k;
		if (t == WEBHOOK_TYPES) {
			char key[32], d[512] = "must be one of";
			snprintf(key, sizeof(key), "events[%zu]", i);
			for (int k = 0; k < WEBHOOK_TYPES; k++) {
				size_t len = strlen(d);
				snprintf(d + len, sizeof(d) - len, "%s %s",
				    k ? "," : "", webhook_type_names[k]);
			}
			return f_fail(f, key, d);
		}
		mask |= 1u << t;
	}
	w->mask = mask;
	w->events = json_array();
	for (int k = 0; k < WEBHOOK_TYPES; k++)
		if (mask & (1u << k))
			json_array_append_new(
			    w->events, json_string(webhook_type_names[k]));
	return true;
}

static void
create_webhook(struct request *r)
{
	if (!r->prepared) {
		check_url(r);
		if (replied(r))
			return;
	}
	struct fields f = fields_of(r);
	struct webhook_in w = {.active = true};
	bool has_events;
	json_t *endpoint = NULL;
	char secret[WEBHOOK_SECRET_LEN + 1];
	int64_t id;
	if (!f_string(f, "url", F_REQUIRED, 1, WEBHOOK_URL_MAX, &w.url, NULL) ||
	    !parse_events(f, F_REQUIRED, &w, &has_events) ||
	    !f_string(f, "description", F_NULLABLE, 0, WEBHOOK_DESCRIPTION_MAX,
	        &w.description, NULL))
		goto out;
	if (!webhook_secret_new(secret)) {
		reply_error(r, E_INTERNAL, NULL, NULL);
		goto out;
	}
	if (db_ok(
	        r, store_webhook_create(r->db, &w, secret, r->user.id, r->now, &id)) &&
	    db_ok(r, store_webhook_get(r->db, id, &endpoint))) {
		json_object_set_new(endpoint, "secret", json_string(secret));
		reply_json(r, 201, endpoint);
		endpoint = NULL;
	}
out:
	json_decref(w.events);
	json_decref(endpoint);
}

static void
list_webhooks(struct request *r)
{
	struct page p;
	json_t *items = NULL;
	if (!page_parse(r, &p, 1))
		return;
	json_t *after = json_array_get(p.after, 0);
	if (p.after && !json_is_integer(after)) {
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		goto out;
	}
	if (!db_ok(r, store_webhook_list(r->db, after ? json_integer_value(after) : 0,
	                  p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
update_webhook(struct request *r)
{
	if (!r->prepared) {
		check_url(r);
		if (replied(r))
			return;
	}
	struct fields f = fields_of(r);
	struct webhook_in w = {0};
	json_t *endpoint = NULL;
	bool has_url, has_events, has_desc, has_active;
	int64_t id = req_param_id(r, 0);
	enum db_status s =
	    id < 0 ? DB_NOT_FOUND : store_webhook_get(r->db, id, &endpoint);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no webhook %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s) ||
	    !f_string(f, "url", F_OPTIONAL, 1, WEBHOOK_URL_MAX, &w.url, &has_url) ||
	    !parse_events(f, F_OPTIONAL, &w, &has_events) ||
	    !f_string(f, "description", F_NULLABLE, 0, WEBHOOK_DESCRIPTION_MAX,
	        &w.description, &has_desc) ||
	    !f_bool(f, "active", F_OPTIONAL, &w.active, &has_active))
		goto out;
	if (!has_url)
		w.url = json_string_value(json_object_get(endpoint, "url"));
	if (!has_desc)
		w.description =
		    json_string_value(json_object_get(endpoint, "description"));
	if (!has_active)
		w.active = json_is_true(json_object_get(endpoint, "active"));
	if (!has_events) {
		json_t *v;
		size_t i;
		w.events = json_incref(json_object_get(endpoint, "events"));
		json_array_foreach(w.events, i,
		    v) for (int k = 0; k < WEBHOOK_TYPES;
		            k++) if (strcmp(json_string_value(v),
		                         webhook_type_names[k]) == 0) w.mask |= 1u << k;
	}
	if (!db_ok(r, store_webhook_update(r->db, id, &w)))
		goto out;
	json_decref(endpoint);
	endpoint = NULL;
	if (db_ok(r, store_webhook_get(r->db, id, &endpoint))) {
		reply_json(r, 200, endpoint);
		endpoint = NULL;
	}
out:
	json_decref(w.events);
	json_decref(endpoint);
}

static void
delete_webhook(struct request *r)
{
	int64_t id = req_param_id(r, 0);
	enum db_status s = id < 0 ? DB_NOT_FOUND : store_webhook_delete(r->db, id);
	if (s == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no webhook %s", r->params[0]);
	else if (db_ok(r, s))
		reply_empty(r, 204);
}

static void
list_deliveries(struct request *r)
{
	struct page p;
	json_t *items = NULL, *endpoint = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status s =
	    id < 0 ? DB_NOT_FOUND : store_webhook_get(r->db, id, &endpoint);
	json_decref(endpoint);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no webhook %s", r->params[0]);
		return;
	}
	if (!db_ok(r, s) || !page_parse(r, &p, 1))
		return;
	json_t *before = json_array_get(p.after, 0);
	if (p.after && (!json_is_integer(before) || json_integer_value(before) < 1)) {
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		goto out;
	}
	if (!db_ok(r, store_webhook_attempts(r->db, id,
	                  before ? json_integer_value(before) : 0, p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

const struct route webhooks_routes[] = {
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/webhooks",
        .handler = create_webhook,
        .roles = ROLE_ADMIN,
        .body = true,
        .prepare = check_url},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/webhooks",
        .handler = list_webhooks,
        .roles = ROLE_ADMIN},
    {.method = EVHTTP_REQ_PATCH,
        .path = "/api/v1/webhooks/{id}",
        .handler = update_webhook,
        .roles = ROLE_ADMIN,
        .body = true,
        .prepare = check_url},
    {.method = EVHTTP_REQ_DELETE,
        .path = "/api/v1/webhooks/{id}",
        .handler = delete_webhook,
        .roles = ROLE_ADMIN},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/webhooks/{id}/deliveries",
        .handler = list_deliveries,
        .roles = ROLE_ADMIN},
    {0},
};
