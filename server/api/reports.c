/*
 * Reports: GET /api/v1/reports/impact (JSON, or CSV with Accept:
 * text/csv or ?format=csv) and GET /api/v1/reports/market-days/{id}
 * (a market day's close-out).
 *
 * Scope: a region-scoped coordinator's impact report covers its region
 * only; naming another region is 403 (the router's SCOPE_QUERY_REGION).
 * Its close-out shows the stalls of its region's producers and the
 * pickups with a line of its region's products, like an operator's shows
 * the operator's own stalls; either with no such stall that day is 403.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "store/closeout.h"
#include "store/reports.h"

static void
impact(struct request *r)
{
	struct impact_query q = {
	    .from = req_query(r, "from"),
	    .to = req_query(r, "to"),
	    .region = req_query(r, "region"),
	};
	const char *group_by = req_query(r, "group_by"), *field, *why;
	json_t *report = NULL;
	struct evbuffer *b = NULL;
	char *csv = NULL;
	bool as_csv;

	if (q.from == NULL || q.to == NULL) {
		field = q.from == NULL ? "from" : "to";
		reply_error(
		    r, E_VALIDATION, field, "%s is required (YYYY-MM-DD)", field);
		goto out;
	}
	if ((field = report_range_check(q.from, q.to, &why)) != NULL) {
		reply_error(r, E_VALIDATION, field, "%s: %s", field, why);
		goto out;
	}
	if (group_by != NULL && strcmp(group_by, "month") != 0) {
		reply_error(r, E_VALIDATION, "group_by", "group_by must be month");
		goto out;
	}
	q.by_month = group_by != NULL;
	if (!req_wants_csv(r, &as_csv))
		goto out;
	/* The router has refused another region to a scoped coordinator. */
	if (q.region == NULL && r->user.region_code[0] != '\0')
		q.region = r->user.region_code;
	enum db_status s = report_impact(r->db, &q, &report);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_VALIDATION, "region", "no region %s", q.region);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	if (!as_csv) {
		reply_json(r, 200, report);
		report = NULL;
		goto out;
	}
	size_t len;
	csv = report_impact_csv(report, q.by_month, &len);
	b = evbuffer_new();
	evbuffer_add(b, csv, len);
	char disposition[96];
	snprintf(disposition, sizeof(disposition),
	    "attachment; filename=\"impact-%s-%s.csv\"", q.from, q.to);
	reply_header(r, "Content-Disposition", disposition);
	reply_raw(r, 200, "text/csv; charset=utf-8", b);
out:
	if (b != NULL)
		evbuffer_free(b);
	free(csv);
	json_decref(report);
}

static void
closeout(struct request *r)
{
	int64_t id = req_param_id(r, 0);
	struct closeout_scope scope = {0};
	json_t *report = NULL;
	bool limited = false;
	if (id < 0) {
		reply_error(r, E_NOT_FOUND, NULL, "no market day %s", r->params[0]);
		goto out;
	}
	if (r->user.role == ROLE_OPERATOR) {
		scope.operator_id = r->user.id;
		limited = true;
	} else if (r->user.role == ROLE_COORDINATOR && r->user.region_code[0] != '\0') {
		scope.region = r->user.region_code;
		limited = true;
	}
	enum db_status s = report_closeout(r->db, id, &scope, &report);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no market day %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	if (limited && json_array_size(json_object_get(report, "stalls")) == 0) {
		reply_error(r, E_FORBIDDEN, NULL, "you have no stall at market day %s",
		    r->params[0]);
		goto out;
	}
	reply_json(r, 200, report);
	report = NULL;
out:
	json_decref(report);
}

const struct route reports_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/reports/impact",
        .handler = impact,
        .roles = ROLES_STAFF,
        .scope = SCOPE_QUERY_REGION},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/reports/market-days/{id}",
        .handler = closeout,
        .roles = ROLE_OPERATOR | ROLES_STAFF},
    {0},
};
