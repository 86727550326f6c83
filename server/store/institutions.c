#include "store/institutions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "date.h"
#include "text.h"
#include "log.h"
#include "store/reports.h"
#include "util.h"

const char *const institution_kinds[] = {
    "agency", "enterprise", "school", "hospital", "community", NULL};

#define FAIL(f, why)                                                                   \
	do {                                                                           \
		*field = (f);                                                          \
		*reason = (why);                                                       \
		return false;                                                          \
	} while (0)

static bool
one_of(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (strcmp(s, *values) == 0)
			return true;
	return false;
}

bool
institution_check(
    const struct institution_in *in, const char **field, const char **reason)
{
	if (in->name == NULL || utf8_length(in->name) < 1 ||
	    utf8_length(in->name) > INSTITUTION_NAME_MAX)
		FAIL("name", "must be 1 to 200 characters long");
	if (in->kind == NULL || !one_of(in->kind, institution_kinds))
		FAIL("kind", "must be one of agency, enterprise, school, hospital, "
		             "community");
	if (in->subdistrict == NULL || utf8_length(in->subdistrict) < 1 ||
	    utf8_length(in->subdistrict) > INSTITUTION_SUBDISTRICT_MAX)
		FAIL("subdistrict", "must be 1 to 100 characters long");
	if (in->venue_id < 0)
		FAIL("venue_id", "must name a venue of kind institution");
	return true;
}

#define INSTITUTION_COLS "id, name, kind, subdistrict, venue_id"

static json_t *
institution_row(struct db_stmt *st)
{
	json_t *venue =
	    db_col_is_null(st, 4) ? json_null() : json_integer(db_col_int64(st, 4));
	return json_pack("{s:I, s:s, s:s, s:s, s:o}", "id",
	    (json_int_t)db_col_int64(st, 0), "name", db_col_text(st, 1), "kind",
	    db_col_text(st, 2), "subdistrict", db_col_text(st, 3), "venue_id", venue);
}

enum db_status
store_institution_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " INSTITUTION_COLS " FROM institutions WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, institution_row, out);
}

void
institution_from_json(json_t *obj, struct institution_in *in)
{
	in->name = json_string_value(json_object_get(obj, "name"));
	in->kind = json_string_value(json_object_get(obj, "kind"));
	in->subdistrict = json_string_value(json_object_get(obj, "subdistrict"));
	in->venue_id = json_integer_value(json_object_get(obj, "venue_id"));
}

enum db_status
store_institution_list(
    struct db *db, const char *kind, int64_t after_id, int limit, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " INSTITUTION_COLS " FROM institutions "
	                "WHERE id > ?1 AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2) "
	                "ORDER BY id LIMIT ?3");
	db_bind_int64(st, 1, after_id);
	db_bind_text(st, 2, kind);
	db_bind_int64(st, 3, limit + 1);
	return db_rows(db, st, institution_row, out);
}

enum db_status
store_institution_venue_ok(struct db *db, int64_t venue_id)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT 1 FROM venues WHERE id = ?1 AND kind = 'institution'");
	db_bind_int64(st, 1, venue_id);
	return db_exists(db, st);
}

enum db_status
store_institution_exists(struct db *db, int64_t id)
{
	struct db_stmt *st = db_stmt(db, "SELECT 1 FROM institutions WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_exists(db, st);
}

/* Binds the fields to ?b .. ?b+3. */
static void
bind_institution(struct db_stmt *st, const struct institution_in *in, int b)
{
	db_bind_text(st, b, in->name);
	db_bind_text(st, b + 1, in->kind);
	db_bind_text(st, b + 2, in->subdistrict);
	if (in->venue_id > 0)
		db_bind_int64(st, b + 3, in->venue_id);
	else
		db_bind_null(st, b + 3);
}

enum db_status
store_institution_create(struct db *db, const struct institution_in *in, int64_t *id)
{
	struct db_stmt *st = db_stmt(db, "INSERT INTO institutions "
	                                 "(name, kind, subdistrict, venue_id) "
	                                 "VALUES (?1, ?2, ?3, ?4)");
	bind_institution(st, in, 1);
	enum db_status s = db_exec_stmt(db, st);
	if (s == DB_OK)
		*id = db_last_insert_id(db);
	return s;
}

enum db_status
store_institution_update(struct db *db, int64_t id, const struct institution_in *in)
{
	struct db_stmt *st =
	    db_stmt(db, "UPDATE institutions SET name = ?2, kind = ?3, "
	                "subdistrict = ?4, venue_id = ?5 WHERE id = ?1");
	db_bind_int64(st, 1, id);
	bind_institution(st, in, 2);
	return db_exec_change(db, st);
}

/* ---- Plans ---------------------------------------------------------- */

int64_t
plan_reserved_fen(int64_t food_budget_fen, int64_t share_bp)
{
	__int128 n = (__int128)food_budget_fen * share_bp;
	return (int64_t)((n + 9999) / 10000);
}

static json_t *
plan_row(struct db_stmt *st)
{
	int64_t budget = db_col_int64(st, 2), bp = db_col_int64(st, 3);
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "institution_id",
	    (json_int_t)db_col_int64(st, 0), "year", (json_int_t)db_col_int64(st, 1),
	    "food_budget_fen", (json_int_t)budget, "reserved_share_bp", (json_int_t)bp,
	    "reserved_fen", (json_int_t)plan_reserved_fen(budget, bp));
}

enum db_status
store_plan_put(struct db *db, int64_t institution_id, int64_t year,
    int64_t food_budget_fen, int64_t share_bp, int64_t now)
{
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO institution_plans (institution_id, year, food_budget_fen, "
	    "reserved_share_bp, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (institution_id, year) DO UPDATE SET "
	    "food_budget_fen = excluded.food_budget_fen, "
	    "reserved_share_bp = excluded.reserved_share_bp, "
	    "updated_at = excluded.updated_at");
	db_bind_int64(st, 1, institution_id);
	db_bind_int64(st, 2, year);
	db_bind_int64(st, 3, food_budget_fen);
	db_bind_int64(st, 4, share_bp);
	db_bind_int64(st, 5, now);
	return db_exec_stmt(db, st);
}

enum db_status
store_plan_get(struct db *db, int64_t institution_id, int64_t year, json_t **out)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT institution_id, year, food_budget_fen, reserved_share_bp "
	    "FROM institution_plans WHERE institution_id = ?1 AND year = ?2");
	db_bind_int64(st, 1, institution_id);
	db_bind_int64(st, 2, year);
	return db_row(db, st, plan_row, out);
}

enum db_status
store_plan_list(
    struct db *db, int64_t institution_id, int64_t after_year, int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT institution_id, year, food_budget_fen, reserved_share_bp "
	    "FROM institution_plans WHERE institution_id = ?1 AND year > ?2 "
	    "ORDER BY year LIMIT ?3");
	db_bind_int64(st, 1, institution_id);
	db_bind_int64(st, 2, after_year);
	db_bind_int64(st, 3, limit + 1);
	return db_rows(db, st, plan_row, out);
}

/* ---- Procurement progress -------------------------------------------- */

struct progress {
	int64_t id, venue_id;
	char *name;
	const char *kind; /* one of institution_kinds */
	int64_t budget, bp, reserved, purchased, completion, expected, orders,
	    five_into;
};

static const char *
kind_literal(const char *kind)
{
	for (const char *const *k = institution_kinds; *k; k++)
		if (strcmp(*k, kind) == 0)
			return *k;
	return "agency"; /* the schema allows no other */
}

/* The index of institution id in p[0..n) (sorted by id), or n. */
static size_t
progress_index(const struct progress *p, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p[mid].id == id)
			return mid;
		if (p[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return n;
}

static int
progress_cmp(const void *a, const void *b)
{
	const struct progress *x = a, *y = b;
	if (x->completion != y->completion)
		return x->completion < y->completion ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static enum db_status
load_plans(
    struct db *db, int64_t year, const char *kind, struct progress **out, size_t *n)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT i.id, i.name, i.kind, coalesce(i.venue_id, 0), p.food_budget_fen, "
	    "p.reserved_share_bp FROM institution_plans p "
	    "JOIN institutions i ON i.id = p.institution_id "
	    "WHERE p.year = ?1 AND (CAST(?2 AS TEXT) IS NULL OR i.kind = ?2) ORDER BY "
	    "i.id");
	db_bind_int64(st, 1, year);
	db_bind_text(st, 2, kind);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		struct progress *p = &(*out)[(*n)++];
		memset(p, 0, sizeof(*p));
		p->id = db_col_int64(st, 0);
		p->name = xstrdup(db_col_text(st, 1));
		p->kind = kind_literal(db_col_text(st, 2));
		p->venue_id = db_col_int64(st, 3);
		p->budget = db_col_int64(st, 4);
		p->bp = db_col_int64(st, 5);
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

/* The institutions' counted orders of the year, from their rollup
 * (schema/0012_institution_rollup.sql): a row an institution. */
static enum db_status
add_orders(struct db *db, int64_t year, struct progress *p, size_t n)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT institution_id, orders, purchased_fen FROM report_institution_year "
	    "WHERE year = ?1 ORDER BY institution_id");
	db_bind_int64(st, 1, year);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		size_t i = progress_index(p, n, db_col_int64(st, 0));
		if (i == n)
			continue; /* no plan this year, or another kind */
		p[i].orders = db_col_int64(st, 1);
		p[i].purchased = db_col_int64(st, 2);
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

/* Stall sales (not voided) of the year at five-into market days at the
 * venues of institutions, from the market days' rollup
 * (schema/0013_market_day_rollup.sql): a row a market day and date, not
 * a row a sale. */
static enum db_status
add_five_into(
    struct db *db, const char *first, const char *last, struct progress *p, size_t n)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT m.venue_id, sum(r.total_fen) FROM market_days m "
	    "JOIN report_market_day r ON r.market_day_id = m.id "
	    "WHERE m.channel = 'five_into' AND m.venue_id IN "
	    "(SELECT venue_id FROM institutions WHERE venue_id IS NOT NULL) "
	    "AND r.date BETWEEN ?1 AND ?2 "
	    "GROUP BY m.venue_id");
	db_bind_text(st, 1, first);
	db_bind_text(st, 2, last);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t venue = db_col_int64(st, 0);
		for (size_t i = 0; i < n; i++)
			if (p[i].venue_id == venue)
				p[i].five_into = db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

static int64_t
completion_bp(int64_t purchased, int64_t reserved)
{
	if (reserved == 0)
		return 10000;
	__int128 c = (__int128)purchased * 10000 / reserved;
	return c > INT64_MAX ? INT64_MAX : (int64_t)c;
}

/* The report's rows, sorted, and its totals (see report_procurement). */
struct procurement {
	struct progress *p;
	size_t n;
	int64_t on_track;
	fen_t reserved, purchased;
	char today[11];
};

static void
procurement_free(struct procurement *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->p[i].name);
	free(q->p);
}

static enum db_status
procurement_load(
    struct db *db, int64_t year, const char *kind, int64_t as_of, struct procurement *q)
{
	char first[11], last[11];
	memset(q, 0, sizeof(*q));
	date_format(date_days_from_civil(year, 1, 1), first);
	date_format(date_days_from_civil(year, 12, 31), last);
	date_format(as_of, q->today);
	bool began;
	enum db_status s = snapshot_begin(db, &began);
	if (s != DB_OK)
		return s;
	s = load_plans(db, year, kind, &q->p, &q->n);
	if (s == DB_OK)
		s = add_orders(db, year, q->p, q->n);
	if (s == DB_OK)
		s = add_five_into(db, first, last, q->p, q->n);
	snapshot_end(db, began);

	bool overflow = false;
	for (size_t i = 0; i < q->n && s == DB_OK; i++) {
		struct progress *p = &q->p[i];
		p->reserved = plan_reserved_fen(p->budget, p->bp);
		p->completion = completion_bp(p->purchased, p->reserved);
		p->expected = date_prorate_year(p->reserved, year, as_of);
		q->on_track += p->purchased >= p->expected;
		if (!fen_add(q->reserved, p->reserved, &q->reserved) ||
		    !fen_add(q->purchased, p->purchased, &q->purchased))
			overflow = true;
	}
	if (s == DB_OK && overflow) {
		log_warn("procurement report %lld: a sum is beyond 64 bits",
		    (long long)year);
		s = DB_ERROR;
	}
	if (s == DB_OK && q->n > 1) /* qsort() of NULL (no institution) is undefined */
		qsort(q->p, q->n, sizeof(*q->p), progress_cmp);
	if (s != DB_OK)
		procurement_free(q);
	return s;
}

enum db_status
report_procurement(
    struct db *db, int64_t year, const char *kind, int64_t as_of, json_t **out)
{
	struct procurement q;
	*out = NULL;
	enum db_status s = procurement_load(db, year, kind, as_of, &q);
	if (s != DB_OK)
		return s;
	json_t *items = json_array();
	for (size_t i = 0; i < q.n; i++) {
		const struct progress *p = &q.p[i];
		json_array_append_new(items,
		    json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
		              "s:b, s:I, s:I}",
		        "institution_id", (json_int_t)p->id, "name", p->name, "kind",
		        p->kind, "food_budget_fen", (json_int_t)p->budget,
		        "reserved_share_bp", (json_int_t)p->bp, "reserved_fen",
		        (json_int_t)p->reserved, "purchased_fen",
		        (json_int_t)p->purchased, "completion_bp",
		        (json_int_t)p->completion, "expected_fen",
		        (json_int_t)p->expected, "on_track",
		        p->purchased >= p->expected, "orders", (json_int_t)p->orders,
		        "five_into_sales_fen", (json_int_t)p->five_into));
	}
	*out = json_pack("{s:I, s:s, s:o, s:{s:I, s:I, s:I, s:I}}", "year",
	    (json_int_t)year, "as_of", q.today, "institutions", items, "totals",
	    "institutions", (json_int_t)q.n, "on_track", (json_int_t)q.on_track,
	    "reserved_fen", (json_int_t)q.reserved, "purchased_fen",
	    (json_int_t)q.purchased);
	procurement_free(&q);
	return DB_OK;
}

/* s as a JSON string: quotes, backslashes and control characters
 * escaped, the rest (UTF-8, checked when it was stored) as it is, in
 * spans. */
static void
json_quote(struct text *t, const char *s)
{
	text_add(t, "\"", 1);
	const char *span = s;
	for (const unsigned char *c = (const unsigned char *)s;; c++) {
		if (*c != '\0' && *c != '"' && *c != '\\' && *c >= 0x20)
			continue;
		text_add(t, span, (size_t)((const char *)c - span));
		if (*c == '\0')
			break;
		if (*c == '"' || *c == '\\')
			text_printf(t, "\\%c", *c);
		else
			text_printf(t, "\\u%04x", *c);
		span = (const char *)c + 1;
	}
	text_add(t, "\"", 1);
}

enum db_status
report_procurement_text(struct db *db, int64_t year, const char *kind, int64_t as_of,
    char **out, size_t *len)
{
	struct procurement q;
	*out = NULL;
	enum db_status s = procurement_load(db, year, kind, as_of, &q);
	if (s != DB_OK)
		return s;
	/* About 270 bytes an institution: one allocation for most reports. */
	struct text t = {0};
	text_reserve(&t, 256 + 320 * q.n);
	text_printf(&t, "{\"year\":%lld,\"as_of\":\"%s\",\"institutions\":[",
	    (long long)year, q.today);
	for (size_t i = 0; i < q.n; i++) {
		const struct progress *p = &q.p[i];
		text_printf(&t, "%s{\"institution_id\":%lld,\"name\":", i ? "," : "",
		    (long long)p->id);
		json_quote(&t, p->name);
		text_printf(&t,
		    ",\"kind\":\"%s\",\"food_budget_fen\":%lld,"
		    "\"reserved_share_bp\":%lld,\"reserved_fen\":%lld,"
		    "\"purchased_fen\":%lld,\"completion_bp\":%lld,"
		    "\"expected_fen\":%lld,\"on_track\":%s,\"orders\":%lld,"
		    "\"five_into_sales_fen\":%lld}",
		    p->kind, (long long)p->budget, (long long)p->bp,
		    (long long)p->reserved, (long long)p->purchased,
		    (long long)p->completion, (long long)p->expected,
		    p->purchased >= p->expected ? "true" : "false",
		    (long long)p->orders, (long long)p->five_into);
	}
	text_printf(&t,
	    "],\"totals\":{\"institutions\":%zu,\"on_track\":%lld,"
	    "\"reserved_fen\":%lld,\"purchased_fen\":%lld}}",
	    q.n, (long long)q.on_track, (long long)q.reserved, (long long)q.purchased);
	procurement_free(&q);
	*out = t.p;
	*len = t.len;
	return DB_OK;
}

static const char *const procurement_cols[] = {"institution_id", "name", "kind",
    "food_budget_fen", "reserved_share_bp", "reserved_fen", "purchased_fen",
    "completion_bp", "expected_fen", "on_track", "orders", "five_into_sales_fen"};

char *
report_procurement_csv(json_t *report, size_t *len)
{
	struct csv_out c;
	csv_out_open(&c);
	for (size_t i = 0; i < nitems(procurement_cols); i++)
		csv_out_field(&c, procurement_cols[i]);
	csv_out_row(&c);
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(report, "institutions"), i, row)
	{
		for (size_t k = 0; k < nitems(procurement_cols); k++) {
			json_t *v = json_object_get(row, procurement_cols[k]);
			if (json_is_string(v))
				csv_out_field(&c, json_string_value(v));
			else if (json_is_boolean(v))
				csv_out_field(&c, json_is_true(v) ? "true" : "false");
			else
				csv_out_int(&c, json_integer_value(v));
		}
		csv_out_row(&c);
	}
	return csv_out_close(&c, len);
}
