#include "store/payouts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "date.h"
#include "log.h"
#include "store/catalog.h"
#include "store/reports.h"
#include "util.h"

/* ---- Payouts --------------------------------------------------------- */

#define PAYOUT_COLS                                                                    \
	"id, producer_id, amount_fen, paid_on, reference, note, created_at, "          \
	"created_by"

static json_t *
payout_row(struct db_stmt *st)
{
	char at[21];
	format_rfc3339(db_col_int64(st, 6), at);
	const char *note = db_col_text(st, 5);
	return json_pack("{s:I, s:I, s:I, s:s, s:s, s:o, s:s, s:I}", "id",
	    (json_int_t)db_col_int64(st, 0), "producer_id",
	    (json_int_t)db_col_int64(st, 1), "amount_fen",
	    (json_int_t)db_col_int64(st, 2), "paid_on", db_col_text(st, 3), "reference",
	    db_col_text(st, 4), "note", note ? json_string(note) : json_null(),
	    "created_at", at, "created_by", (json_int_t)db_col_int64(st, 7));
}

enum db_status
store_payout_create(struct db *db, const struct payout_in *p, int64_t *id)
{
	struct db_stmt *st =
	    db_stmt(db, "INSERT INTO payouts (producer_id, amount_fen, "
	                "paid_on, reference, note, created_at, created_by) "
	                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	db_bind_int64(st, 1, p->producer_id);
	db_bind_int64(st, 2, p->amount_fen);
	db_bind_text(st, 3, p->paid_on);
	db_bind_text(st, 4, p->reference);
	db_bind_text(st, 5, p->note);
	db_bind_int64(st, 6, p->created_at);
	db_bind_int64(st, 7, p->created_by);
	enum db_status s = db_exec_stmt(db, st);
	if (s == DB_OK)
		*id = db_last_insert_id(db);
	return s;
}

enum db_status
store_payout_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " PAYOUT_COLS " FROM payouts WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, payout_row, out);
}

enum db_status
store_payout_list(struct db *db, int64_t producer_id, const char *after_date,
    int64_t after_id, int limit, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " PAYOUT_COLS " FROM payouts "
	                "WHERE producer_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
	                "(paid_on, id) > (?2, ?3)) "
	                "ORDER BY paid_on, id LIMIT ?4");
	db_bind_int64(st, 1, producer_id);
	db_bind_text(st, 2, after_date);
	db_bind_int64(st, 3, after_id);
	db_bind_int64(st, 4, limit + 1);
	return db_rows(db, st, payout_row, out);
}

/* ---- Balances -------------------------------------------------------- */

/* What one producer earned and was paid before the range (0) and before
 * the day after it (1). */
struct owed {
	int64_t id;
	char *name, *region;
	fen_t earned[2], paid[2];
};

struct owed_set {
	struct owed *p;
	size_t n;
	int64_t producer; /* one producer, or 0 */
	const char *region;
	bool overflow;
};

static void
owed_free(struct owed_set *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->p[i].name);
		free(o->p[i].region);
	}
	free(o->p);
}

static struct owed *
owed_find(struct owed_set *o, int64_t id)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->p[mid].id == id)
			return &o->p[mid];
		if (o->p[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static enum db_status
load_producers(struct db *db, struct owed_set *o)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT id, name, region_code FROM producers "
	    "WHERE (CAST(?1 AS BIGINT) = 0 OR id = ?1) "
	    "AND (CAST(?2 AS TEXT) IS NULL OR region_code = ?2) ORDER BY id");
	db_bind_int64(st, 1, o->producer);
	db_bind_text(st, 2, o->region);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (o->n == cap) {
			cap = cap ? 2 * cap : 64;
			o->p = xrealloc(o->p, cap * sizeof(*o->p));
		}
		struct owed *p = &o->p[o->n++];
		memset(p, 0, sizeof(*p));
		p->id = db_col_int64(st, 0);
		p->name = xstrdup(db_col_text(st, 1));
		p->region = xstrdup(db_col_text(st, 2));
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

/* Each channel summed apart: sum() fails loudly beyond 64 bits, where
 * adding the columns inside SQL would turn into a REAL. */
#define EARNED_SUMS                                                                    \
	"sum(t.holiday_market_fen), sum(t.caravan_fen), sum(t.counter_fen), "          \
	"sum(t.five_into_fen), sum(t.online_fen) "

/* Adds rows of (producer_id, five channel sums) into slot k's earned. */
static enum db_status
add_earned_rows(struct owed_set *o, struct db_stmt *st, int k)
{
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct owed *p = owed_find(o, db_col_int64(st, 0));
		if (p == NULL)
			continue;
		for (int c = 1; c <= 5; c++)
			if (!fen_add(p->earned[k], db_col_int64(st, c), &p->earned[k]))
				o->overflow = true;
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

/* Everything earned before day number x, into slot k: whole months from
 * the month rollup, the days of x's month before x from the day rollup. */
static enum db_status
add_earned_before(struct db *db, struct owed_set *o, int64_t x, int k)
{
	char date[11], first[11], month[8];
	int y, m, d;
	date_civil_from_days(x, &y, &m, &d);
	date_format(x, date);
	date_format(date_days_from_civil(y, m, 1), first);
	memcpy(month, date, 7);
	month[7] = '\0';
	struct db_stmt *ms, *ds;
	if (o->producer != 0) {
		ms = db_stmt(db, "SELECT x.producer_id, " EARNED_SUMS
		                 "FROM products x CROSS JOIN report_product_month t "
		                 "WHERE x.producer_id = ?2 AND t.product_id = x.id "
		                 "AND t.month < ?1 GROUP BY x.producer_id");
		ds = db_stmt(db,
		    "SELECT x.producer_id, " EARNED_SUMS
		    "FROM products x CROSS JOIN report_product_day t "
		    "WHERE x.producer_id = ?2 AND t.product_id = x.id "
		    "AND t.date >= ?3 AND t.date < ?1 GROUP BY x.producer_id");
		db_bind_int64(ms, 2, o->producer);
		db_bind_int64(ds, 2, o->producer);
	} else {
		ms = db_stmt(db,
		    "SELECT x.producer_id, " EARNED_SUMS
		    "FROM producers p CROSS JOIN products x "
		    "CROSS JOIN report_product_month t "
		    "WHERE (CAST(?2 AS TEXT) IS NULL OR p.region_code = ?2) "
		    "AND x.producer_id = p.id AND t.product_id = x.id "
		    "AND t.month < ?1 GROUP BY x.producer_id");
		ds = db_stmt(db,
		    "SELECT x.producer_id, " EARNED_SUMS
		    "FROM producers p CROSS JOIN products x "
		    "CROSS JOIN report_product_day t "
		    "WHERE (CAST(?2 AS TEXT) IS NULL OR p.region_code = ?2) "
		    "AND x.producer_id = p.id AND t.product_id = x.id "
		    "AND t.date >= ?3 AND t.date < ?1 GROUP BY x.producer_id");
		db_bind_text(ms, 2, o->region);
		db_bind_text(ds, 2, o->region);
	}
	db_bind_text(ms, 1, month);
	db_bind_text(ds, 1, date);
	db_bind_text(ds, 3, first);
	enum db_status s = add_earned_rows(o, ms, k);
	return s == DB_OK ? add_earned_rows(o, ds, k) : s;
}

/* Every payout with paid_on before day number x, into slot k. */
static enum db_status
add_paid_before(struct db *db, struct owed_set *o, int64_t x, int k)
{
	char date[11];
	date_format(x, date);
	struct db_stmt *st;
	if (o->producer != 0) {
		st = db_stmt(db,
		    "SELECT producer_id, sum(amount_fen) FROM payouts "
		    "WHERE producer_id = ?2 AND paid_on < ?1 GROUP BY producer_id");
		db_bind_int64(st, 2, o->producer);
	} else {
		st = db_stmt(db,
		    "SELECT y.producer_id, sum(y.amount_fen) FROM payouts y "
		    "JOIN producers p ON p.id = y.producer_id "
		    "WHERE (CAST(?2 AS TEXT) IS NULL OR p.region_code = ?2) AND "
		    "y.paid_on < ?1 "
		    "GROUP BY y.producer_id");
		db_bind_text(st, 2, o->region);
	}
	db_bind_text(st, 1, date);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct owed *p = owed_find(o, db_col_int64(st, 0));
		if (p != NULL)
			p->paid[k] = db_col_int64(st, 1);
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

/* The balances of o's producers before from and before the day after to. */
static enum db_status
owed_load(struct db *db, struct owed_set *o, const char *from, const char *to)
{
	int64_t f, t;
	if (!date_to_days(from, &f) || !date_to_days(to, &t))
		return DB_ERROR; /* report_range_check() was not called */
	enum db_status s = load_producers(db, o);
	if (s == DB_OK)
		s = add_earned_before(db, o, f, 0);
	if (s == DB_OK)
		s = add_earned_before(db, o, t + 1, 1);
	if (s == DB_OK)
		s = add_paid_before(db, o, f, 0);
	if (s == DB_OK)
		s = add_paid_before(db, o, t + 1, 1);
	return s;
}

/* opening, earned, paid out and closing of p; false beyond 64 bits. */
static bool
owed_figures(const struct owed *p, fen_t out[4])
{
	fen_t neg_e0, neg_p0, neg_p1;
	if (!fen_mul(p->earned[0], -1, &neg_e0) || !fen_mul(p->paid[0], -1, &neg_p0) ||
	    !fen_mul(p->paid[1], -1, &neg_p1))
		return false;
	return fen_add(p->earned[0], neg_p0, &out[0]) &&
	       fen_add(p->earned[1], neg_e0, &out[1]) &&
	       fen_add(p->paid[1], neg_p0, &out[2]) &&
	       fen_add(p->earned[1], neg_p1, &out[3]);
}

static const char *const balance_keys[] = {
    "opening_balance_fen", "earned_fen", "paid_out_fen", "closing_balance_fen"};

/* ---- The statement --------------------------------------------------- */

/* The producer's days with earnings in from..to, each with earned_fen;
 * *sum is what they add up to. */
static enum db_status
statement_days(struct db *db, int64_t id, const char *from, const char *to,
    json_t **out, fen_t *sum)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT t.date, " EARNED_SUMS
	                "FROM products x CROSS JOIN report_product_day t "
	                "WHERE x.producer_id = ?1 AND t.product_id = x.id "
	                "AND t.date BETWEEN ?2 AND ?3 GROUP BY t.date ORDER BY t.date");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, from);
	db_bind_text(st, 3, to);
	*out = json_array();
	*sum = 0;
	bool overflow = false;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		fen_t stall = 0, online = db_col_int64(st, 5), earned;
		for (int c = 1; c <= 4; c++)
			if (!fen_add(stall, db_col_int64(st, c), &stall))
				overflow = true;
		if (!fen_add(stall, online, &earned) || !fen_add(*sum, earned, sum))
			overflow = true;
		if (stall == 0 && online == 0)
			continue; /* a day emptied by voids and cancels */
		json_array_append_new(
		    *out, json_pack("{s:s, s:I, s:I, s:I}", "date", db_col_text(st, 0),
		              "stall_sales_fen", (json_int_t)stall, "online_sales_fen",
		              (json_int_t)online, "earned_fen", (json_int_t)earned));
	}
	db_reset(st);
	if (rc != DB_DONE || overflow) {
		json_decref(*out);
		*out = NULL;
		return DB_ERROR;
	}
	return DB_OK;
}

static enum db_status
statement_payouts(
    struct db *db, int64_t id, const char *from, const char *to, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " PAYOUT_COLS " FROM payouts "
	                "WHERE producer_id = ?1 AND paid_on BETWEEN ?2 AND ?3 "
	                "ORDER BY paid_on, id");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, from);
	db_bind_text(st, 3, to);
	return db_rows(db, st, payout_row, out);
}

enum db_status
report_statement(
    struct db *db, int64_t id, const char *from, const char *to, json_t **out)
{
	struct owed_set o = {.producer = id};
	json_t *days = NULL, *payouts = NULL;
	fen_t sum = 0, f[4];
	*out = NULL;
	bool began;
	enum db_status s = snapshot_begin(db, &began);
	if (s != DB_OK)
		return s;
	s = owed_load(db, &o, from, to);
	if (s == DB_OK && o.n == 0)
		s = DB_NOT_FOUND;
	if (s == DB_OK)
		s = statement_days(db, id, from, to, &days, &sum);
	if (s == DB_OK)
		s = statement_payouts(db, id, from, to, &payouts);
	snapshot_end(db, began);
	if (s == DB_OK && (o.overflow || !owed_figures(&o.p[0], f))) {
		log_warn("statement of producer %lld: a sum is beyond 64 bits",
		    (long long)id);
		s = DB_ERROR;
	}
	/* The days and the month rollup read apart must agree. */
	if (s == DB_OK && sum != f[1]) {
		log_warn("statement of producer %lld: days add up to %lld, the range "
		         "to %lld",
		    (long long)id, (long long)sum, (long long)f[1]);
		s = DB_ERROR;
	}
	if (s == DB_OK) {
		*out = json_pack("{s:I, s:s, s:s, s:s}", "producer_id", (json_int_t)id,
		    "producer_name", o.p[0].name, "from", from, "to", to);
		for (int k = 0; k < 4; k++)
			json_object_set_new(*out, balance_keys[k], json_integer(f[k]));
		json_object_set_new(*out, "days", days);
		json_object_set_new(*out, "payouts", payouts);
		days = payouts = NULL;
	}
	json_decref(days);
	json_decref(payouts);
	owed_free(&o);
	return s;
}

char *
report_statement_csv(json_t *statement, size_t *len)
{
	struct csv_out c;
	csv_out_open(&c);
	static const char *const cols[] = {"date", "stall_sales_fen",
	    "online_sales_fen", "earned_fen", "paid_out_fen", "balance_fen"};
	for (size_t i = 0; i < nitems(cols); i++)
		csv_out_field(&c, cols[i]);
	csv_out_row(&c);
	json_t *days = json_object_get(statement, "days");
	json_t *payouts = json_object_get(statement, "payouts");
	size_t i = 0, k = 0;
	int64_t balance =
	    json_integer_value(json_object_get(statement, "opening_balance_fen"));
	/* Days and payouts are both by date: merge them. */
	while (i < json_array_size(days) || k < json_array_size(payouts)) {
		json_t *d = json_array_get(days, i);
		json_t *p = json_array_get(payouts, k);
		const char *dd =
		    d ? json_string_value(json_object_get(d, "date")) : NULL;
		const char *pd =
		    p ? json_string_value(json_object_get(p, "paid_on")) : NULL;
		const char *date =
		    dd == NULL || (pd != NULL && strcmp(pd, dd) < 0) ? pd : dd;
		int64_t stall = 0, online = 0, earned = 0, paid = 0;
		if (dd != NULL && strcmp(dd, date) == 0) {
			stall =
			    json_integer_value(json_object_get(d, "stall_sales_fen"));
			online =
			    json_integer_value(json_object_get(d, "online_sales_fen"));
			earned = json_integer_value(json_object_get(d, "earned_fen"));
			i++;
		}
		while (k < json_array_size(payouts)) {
			p = json_array_get(payouts, k);
			if (strcmp(json_string_value(json_object_get(p, "paid_on")),
			        date) != 0)
				break;
			paid += json_integer_value(json_object_get(p, "amount_fen"));
			k++;
		}
		/* The statement's figures fit in 64 bits, so every partial
		 * balance does too. */
		balance += earned - paid;
		csv_out_field(&c, date);
		csv_out_int(&c, stall);
		csv_out_int(&c, online);
		csv_out_int(&c, earned);
		csv_out_int(&c, paid);
		csv_out_int(&c, balance);
		csv_out_row(&c);
	}
	return csv_out_close(&c, len);
}

/* ---- The payouts report ---------------------------------------------- */

enum db_status
report_payouts(
    struct db *db, const char *from, const char *to, const char *region, json_t **out)
{
	struct owed_set o = {.region = region};
	fen_t totals[4] = {0}, f[4];
	*out = NULL;
	bool began;
	enum db_status s = snapshot_begin(db, &began);
	if (s != DB_OK)
		return s;
	if (region != NULL)
		s = store_region_exists(db, region);
	if (s == DB_OK)
		s = owed_load(db, &o, from, to);
	snapshot_end(db, began);
	json_t *producers = s == DB_OK ? json_array() : NULL;
	for (size_t i = 0; i < o.n && s == DB_OK; i++) {
		if (!owed_figures(&o.p[i], f)) {
			o.overflow = true;
			break;
		}
		json_t *row =
		    json_pack("{s:I, s:s, s:s}", "producer_id", (json_int_t)o.p[i].id,
		        "producer_name", o.p[i].name, "region_code", o.p[i].region);
		for (int k = 0; k < 4; k++) {
			json_object_set_new(row, balance_keys[k], json_integer(f[k]));
			if (!fen_add(totals[k], f[k], &totals[k]))
				o.overflow = true;
		}
		json_array_append_new(producers, row);
	}
	if (s == DB_OK && o.overflow) {
		log_warn("payouts report %s..%s: a sum is beyond 64 bits", from, to);
		s = DB_ERROR;
	}
	if (s == DB_OK) {
		json_t *t = json_object();
		for (int k = 0; k < 4; k++)
			json_object_set_new(
			    t, balance_keys[k], json_integer(totals[k]));
		*out = json_pack("{s:s, s:s, s:o, s:o}", "from", from, "to", to,
		    "producers", producers, "totals", t);
		producers = NULL;
	}
	json_decref(producers);
	owed_free(&o);
	return s;
}

char *
report_payouts_csv(json_t *report, size_t *len)
{
	static const char *const cols[] = {"producer_id", "producer_name",
	    "region_code", "opening_balance_fen", "earned_fen", "paid_out_fen",
	    "closing_balance_fen"};
	struct csv_out c;
	csv_out_open(&c);
	for (size_t i = 0; i < nitems(cols); i++)
		csv_out_field(&c, cols[i]);
	csv_out_row(&c);
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(report, "producers"), i, row)
	{
		for (size_t k = 0; k < nitems(cols); k++) {
			json_t *v = json_object_get(row, cols[k]);
			if (json_is_string(v))
				csv_out_field(&c, json_string_value(v));
			else
				csv_out_int(&c, json_integer_value(v));
		}
		csv_out_row(&c);
	}
	return csv_out_close(&c, len);
}

/* ---- Verification ---------------------------------------------------- */

/* Raw earnings of every producer: the stall-sale lines not voided and the
 * order lines of paid, ready and fulfilled orders, by the catalog now. */
static enum db_status
raw_earned(struct db *db, struct owed_set *o, fen_t *raw)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT x.producer_id, sum(l.amount_fen) FROM sales s "
	    "JOIN sale_lines l ON l.sale_seq = s.seq "
	    "JOIN products x ON x.id = l.product_id WHERE s.voided = 0 "
	    "GROUP BY x.producer_id "
	    "UNION ALL "
	    "SELECT x.producer_id, sum(l.amount_fen) FROM orders r "
	    "JOIN order_lines l ON l.order_id = r.id "
	    "JOIN products x ON x.id = l.product_id "
	    "WHERE r.status = 'paid' OR r.status = 'ready' OR r.status = 'fulfilled' "
	    "GROUP BY x.producer_id");
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct owed *p = owed_find(o, db_col_int64(st, 0));
		if (p != NULL &&
		    !fen_add(raw[p - o->p], db_col_int64(st, 1), &raw[p - o->p]))
			o->overflow = true;
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : DB_ERROR;
}

int
payouts_verify(struct db *db,
    void (*report)(const char *what, const char *key, fen_t got, fen_t want, void *arg),
    void *arg)
{
	struct owed_set o = {0};
	fen_t *raw = NULL, f[4];
	int bad = 0;
	bool began;
	if (snapshot_begin(db, &began) != DB_OK)
		return -1;
	enum db_status s = owed_load(db, &o, "0001-01-01", "9999-12-30");
	if (s == DB_OK) {
		raw = xcalloc(o.n ? o.n : 1, sizeof(*raw));
		s = raw_earned(db, &o, raw);
	}
	for (size_t i = 0; i < o.n && s == DB_OK; i++) {
		char key[32];
		snprintf(key, sizeof(key), "%lld", (long long)o.p[i].id);
		if (!owed_figures(&o.p[i], f)) {
			o.overflow = true;
			break;
		}
		if (f[1] != raw[i]) {
			report("earned_fen of producer", key, f[1], raw[i], arg);
			bad++;
		}
		fen_t want, neg;
		if (!fen_mul(o.p[i].paid[1], -1, &neg) ||
		    !fen_add(raw[i], neg, &want)) {
			o.overflow = true;
			break;
		}
		fen_t sum, neg_paid;
		if (!fen_add(f[0], f[1], &sum) || !fen_mul(f[2], -1, &neg_paid) ||
		    !fen_add(sum, neg_paid, &sum)) {
			o.overflow = true;
			break;
		}
		if (sum != f[3] || f[3] != want) {
			report("closing_balance_fen of producer", key, f[3], want, arg);
			bad++;
		}
	}
	/* Per region: what the impact report adds up against its producers. */
	struct db_stmt *st =
	    db_stmt(db, "SELECT p.region_code, " EARNED_SUMS "FROM producers p "
	                "CROSS JOIN products x CROSS JOIN report_product_month t "
	                "WHERE x.producer_id = p.id AND t.product_id = x.id GROUP BY "
	                "p.region_code");
	int rc = DB_DONE;
	while (s == DB_OK && (rc = db_step(st)) == DB_ROW) {
		const char *region = db_col_text(st, 0);
		fen_t impact = 0, earned = 0;
		for (int c = 1; c <= 5; c++)
			if (!fen_add(impact, db_col_int64(st, c), &impact))
				o.overflow = true;
		for (size_t i = 0; i < o.n; i++)
			if (strcmp(o.p[i].region, region) == 0 &&
			    !fen_add(earned, raw[i], &earned))
				o.overflow = true;
		if (impact != earned) {
			report("sales_fen of region", region, impact, earned, arg);
			bad++;
		}
	}
	db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW)
		s = DB_ERROR;
	snapshot_end(db, began);
	free(raw);
	owed_free(&o);
	if (s != DB_OK || o.overflow)
		return -1;
	return bad;
}
