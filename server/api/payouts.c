/*
 * Producer payouts and statements: POST/GET
 * /api/v1/producers/{id}/payouts, GET /api/v1/producers/{id}/statement
 * (JSON, or CSV with one row per day), and GET /api/v1/reports/payouts
 * (JSON, or CSV with one row per producer). Payouts are append-only: no
 * route changes or deletes one (and the table refuses it too).
 *
 * Scope: a region-scoped coordinator gets 403 for another region's
 * producer (the router's SCOPE_PATH_PRODUCER) and for another region in
 * the payouts report (SCOPE_QUERY_REGION); its report covers its own
 * region when it names none.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "date.h"
#include "store/payouts.h"
#include "store/producers.h"
#include "store/reports.h"

/* 404 unless path parameter 0 is a producer; false with the reply set. */
static bool
producer_exists(struct request *r, int64_t *id)
{
	json_t *p = NULL;
	*id = req_param_id(r, 0);
	enum db_status s = *id < 0 ? DB_NOT_FOUND : store_producer_get(r->db, *id, &p);
	json_decref(p);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no producer %s", r->params[0]);
		return false;
	}
	return db_ok(r, s);
}

static void
create_payout(struct request *r)
{
	struct fields f = fields_of(r);
	struct payout_in p = {.created_by = r->user.id, .created_at = r->now};
	json_t *payout = NULL;
	int64_t id;
	if (!f_int(f, "amount_fen", F_REQUIRED, INT64_MIN + 1, INT64_MAX, &p.amount_fen,
	        NULL) ||
	    !f_string(f, "paid_on", F_REQUIRED, 0, SIZE_MAX, &p.paid_on, NULL) ||
	    !f_string(f, "reference", F_REQUIRED, 1, PAYOUT_REFERENCE_MAX, &p.reference,
	        NULL) ||
	    !f_string(f, "note", F_NULLABLE, 1, PAYOUT_NOTE_MAX, &p.note, NULL))
		return;
	if (p.amount_fen == 0) {
		f_fail(f, "amount_fen", "must not be 0");
		return;
	}
	if (!date_valid_since(p.paid_on, 2000)) {
		f_fail(f, "paid_on", "must be a date YYYY-MM-DD");
		return;
	}
	if (p.amount_fen < 0 && p.note == NULL) {
		f_fail(f, "note", "a correction (a negative amount_fen) needs a note");
		return;
	}
	if (!db_ok(r, db_begin_write(r->db)) || !producer_exists(r, &p.producer_id))
		return;
	if (db_ok(r, store_payout_create(r->db, &p, &id)) &&
	    db_ok(r, store_payout_get(r->db, id, &payout)) &&
	    db_ok(r, db_commit(r->db))) {
		reply_json(r, 201, payout);
		payout = NULL;
	}
	json_decref(payout);
}

static json_t *
page_key_payout(json_t *item)
{
	return json_pack(
	    "[O, O]", json_object_get(item, "paid_on"), json_object_get(item, "id"));
}

static void
list_payouts(struct request *r)
{
	struct page p;
	json_t *items = NULL;
	int64_t id;
	if (!page_parse(r, &p, 2))
		return;
	json_t *date = json_array_get(p.after, 0), *after = json_array_get(p.after, 1);
	if (p.after && (!json_is_string(date) || !json_is_integer(after))) {
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		goto out;
	}
	if (!producer_exists(r, &id) ||
	    !db_ok(r, store_payout_list(r->db, id, json_string_value(date),
	                  json_integer_value(after), p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_payout);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

/* from and to, required and checked; false with the error set. */
static bool
read_range(struct request *r, const char **from, const char **to)
{
	const char *field, *why;
	*from = req_query(r, "from");
	*to = req_query(r, "to");
	if (*from == NULL || *to == NULL) {
		field = *from == NULL ? "from" : "to";
		reply_error(
		    r, E_VALIDATION, field, "%s is required (YYYY-MM-DD)", field);
		return false;
	}
	if ((field = report_range_check(*from, *to, &why)) != NULL) {
		reply_error(r, E_VALIDATION, field, "%s: %s", field, why);
		return false;
	}
	return true;
}

/* Replies text (len bytes, taken) as a CSV attachment named name. */
static void
reply_csv(struct request *r, char *text, size_t len, const char *name)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, text, len);
	free(text);
	char disposition[160];
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", name);
	reply_header(r, "Content-Disposition", disposition);
	reply_raw(r, 200, "text/csv; charset=utf-8", b);
	evbuffer_free(b);
}

static void
statement(struct request *r)
{
	const char *from, *to;
	json_t *st = NULL;
	int64_t id;
	bool as_csv;
	if (!read_range(r, &from, &to) || !req_wants_csv(r, &as_csv) ||
	    !producer_exists(r, &id))
		return;
	enum db_status s = report_statement(r->db, id, from, to, &st);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no producer %s", r->params[0]);
		return;
	}
	if (!db_ok(r, s))
		return;
	if (!as_csv) {
		reply_json(r, 200, st);
		return;
	}
	size_t len;
	char *csv = report_statement_csv(st, &len), name[96];
	snprintf(
	    name, sizeof(name), "statement-%lld-%s-%s.csv", (long long)id, from, to);
	reply_csv(r, csv, len, name);
	json_decref(st);
}

static void
payouts_report(struct request *r)
{
	const char *from, *to, *region = req_query(r, "region");
	json_t *report = NULL;
	bool as_csv;
	if (!read_range(r, &from, &to) || !req_wants_csv(r, &as_csv))
		return;
	/* The router has refused another region to a scoped coordinator. */
	if (region == NULL && r->user.region_code[0] != '\0')
		region = r->user.region_code;
	enum db_status s = report_payouts(r->db, from, to, region, &report);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_VALIDATION, "region", "no region %s", region);
		return;
	}
	if (!db_ok(r, s))
		return;
	if (!as_csv) {
		reply_json(r, 200, report);
		return;
	}
	size_t len;
	char *csv = report_payouts_csv(report, &len), name[96];
	snprintf(name, sizeof(name), "payouts-%s-%s.csv", from, to);
	reply_csv(r, csv, len, name);
	json_decref(report);
}

const struct route payouts_routes[] = {
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/producers/{id}/payouts",
        .handler = create_payout,
        .roles = ROLES_STAFF,
        .body = true,
        .scope = SCOPE_PATH_PRODUCER},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/producers/{id}/payouts",
        .handler = list_payouts,
        .roles = ROLES_STAFF,
        .scope = SCOPE_PATH_PRODUCER},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/producers/{id}/statement",
        .handler = statement,
        .roles = ROLES_STAFF,
        .scope = SCOPE_PATH_PRODUCER},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/reports/payouts",
        .handler = payouts_report,
        .roles = ROLES_STAFF,
        .scope = SCOPE_QUERY_REGION},
    {0},
};
