/*
 * A market day's pick list: GET /api/v1/market-days/{id}/picklist
 * (JSON, or CSV with one row per order line) for operators with a stall
 * that day, coordinators and admins. An operator without a stall that
 * day gets 403; an unknown market day is 404 to everyone allowed.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "store/picklist.h"

static void
picklist(struct request *r)
{
	json_t *list = NULL;
	int64_t id = req_param_id(r, 0);
	bool as_csv;
	if (!req_wants_csv(r, &as_csv))
		return;
	enum db_status s = id < 0 ? DB_NOT_FOUND : report_picklist(r->db, id, &list);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no market day %s", r->params[0]);
		return;
	}
	if (!db_ok(r, s))
		return;
	if (r->user.role == ROLE_OPERATOR) {
		s = store_operator_has_stall(r->db, id, r->user.id);
		if (s == DB_NOT_FOUND) {
			reply_error(r, E_FORBIDDEN, NULL,
			    "you have no stall at market day %s", r->params[0]);
			goto out;
		}
		if (!db_ok(r, s))
			goto out;
	}
	if (!as_csv) {
		reply_json(r, 200, list);
		list = NULL;
		goto out;
	}
	size_t len;
	char *csv = report_picklist_csv(list, &len), disposition[96];
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, csv, len);
	free(csv);
	snprintf(disposition, sizeof(disposition),
	    "attachment; filename=\"picklist-%lld.csv\"", (long long)id);
	reply_header(r, "Content-Disposition", disposition);
	reply_raw(r, 200, "text/csv; charset=utf-8", b);
	evbuffer_free(b);
out:
	json_decref(list);
}

const struct route picklist_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/market-days/{id}/picklist",
        .handler = picklist,
        .roles = ROLE_OPERATOR | ROLES_STAFF},
    {0},
};
