#include "store/sales.h"
#include "store/rollup.h"
#include "store/stock.h"
#include "store/webhooks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "date.h"

/* A sale's webhook data: the sale as the API shows it (arg: its id). */
static enum db_status
sale_data(struct db *db, const void *arg, json_t **out)
{
	return store_sale_get(db, arg, out);
}

/* A sale just recorded, built from what was recorded, as the reply is:
 * no read back, which a batch of 500 would feel. */
struct recorded {
	const struct sale *s;
	int64_t now;
};

static enum db_status
recorded_data(struct db *db, const void *arg, json_t **out)
{
	const struct recorded *rec = arg;
	*out = sale_json(rec->s, rec->now);
	return *out != NULL ? DB_OK : DB_ERROR;
}

bool
sale_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n < SALE_ID_MIN || n > SALE_ID_MAX)
		return false;
	for (; *id; id++)
		if (!((*id >= 'A' && *id <= 'Z') || (*id >= 'a' && *id <= 'z') ||
		        (*id >= '0' && *id <= '9') || *id == '-' || *id == '_'))
			return false;
	return true;
}

char *
sale_canonical(const struct sale *s)
{
	/* Each line is at most 3 * 20 digits and signs plus 3 bytes. */
	size_t cap = 128 + strlen(s->id) + strlen(s->payment) + s->nlines * 72;
	char *buf = xmalloc(cap);
	int n = snprintf(buf, cap, "sale/1\n%s\n%" PRId64 "\n%" PRId64 "\n%s\n", s->id,
	    s->stall_id, s->recorded_at, s->payment);
	size_t len = (size_t)n;
	for (size_t i = 0; i < s->nlines; i++) {
		const struct sale_line *l = &s->lines[i];
		if (l->price_sent)
			n = snprintf(buf + len, cap - len,
			    "%" PRId64 " %" PRId64 " %" PRId64 "\n", l->product_id,
			    l->quantity, l->unit_price_fen);
		else
			n = snprintf(buf + len, cap - len,
			    "%" PRId64 " %" PRId64 " -\n", l->product_id, l->quantity);
		len += (size_t)n;
	}
	return buf;
}

void
sale_fingerprint(const struct sale *s, char out[65])
{
	char *c = sale_canonical(s);
	sha256_hex(c, strlen(c), out);
	free(c);
}

enum db_status
store_sale_fingerprint(struct db *db, const char *id, char fingerprint[65])
{
	struct db_stmt *st = db_stmt(db, "SELECT fingerprint FROM sales WHERE id = ?1");
	db_bind_text_static(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		snprintf(fingerprint, 65, "%s", db_col_text(st, 0));
	db_reset(st);
	return s;
}

enum db_status
store_sale_state(struct db *db, const char *id, int64_t *stall_id, bool *voided)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT stall_id, voided FROM sales WHERE id = ?1");
	db_bind_text_static(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		*stall_id = db_col_int64(st, 0);
		*voided = db_col_int(st, 1) != 0;
	}
	db_reset(st);
	return s;
}

/* The sales row of s, the first write of a sale: DB_CONSTRAINT (and
 * nothing written) when the id is taken. Sets s->seq. */
static enum db_status
insert_sale(struct db *db, struct sale *s, const char *date, const char *fingerprint,
    int64_t now)
{
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO sales (id, stall_id, "
	    "market_day_id, operator_id, recorded_at, recorded_date, received_at, "
	    "payment, total_fen, fingerprint) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	db_bind_text_static(st, 1, s->id);
	db_bind_int64(st, 2, s->stall_id);
	db_bind_int64(st, 3, s->market_day_id);
	db_bind_int64(st, 4, s->operator_id);
	db_bind_int64(st, 5, s->recorded_at);
	db_bind_text_static(st, 6, date);
	db_bind_int64(st, 7, now);
	db_bind_text_static(st, 8, s->payment);
	db_bind_int64(st, 9, s->total_fen);
	db_bind_text_static(st, 10, fingerprint);
	enum db_status rc = db_exec_stmt(db, st);
	if (rc == DB_OK)
		s->seq = db_last_insert_id(db);
	return rc;
}

static enum db_status
insert_lines(struct db *db, const struct sale *s)
{
	enum db_status rc = DB_OK;
	for (size_t i = 0; i < s->nlines && rc == DB_OK; i++) {
		const struct sale_line *l = &s->lines[i];
		struct db_stmt *st = db_stmt(db,
		    "INSERT INTO sale_lines (sale_seq, "
		    "line_no, product_id, quantity, unit_price_fen, amount_fen) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
		db_bind_int64(st, 1, s->seq);
		db_bind_int64(st, 2, (int64_t)i);
		db_bind_int64(st, 3, l->product_id);
		db_bind_int64(st, 4, l->quantity);
		db_bind_int64(st, 5, l->unit_price_fen);
		db_bind_int64(st, 6, l->amount_fen);
		rc = db_exec_stmt(db, st);
	}
	return rc;
}

/*
 * The catalog price of product id in effect at instant at, and its
 * producer's region: the newest entry of its price history from at or
 * before, else (at precedes them all) its earliest, else (a product
 * without history, which marketctl check reports) its price_fen. One
 * seek into the history's index; the earliest is looked up only when
 * the first finds nothing (coalesce() stops at its first value).
 */
static enum db_status
price_and_region(struct db *db, int64_t id, int64_t at, fen_t *price, char region[])
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT coalesce("
	    "(SELECT h.price_fen FROM price_history h WHERE h.product_id = x.id "
	    "AND h.from_at <= ?2 ORDER BY h.from_at DESC, h.id DESC LIMIT 1), "
	    "(SELECT h.price_fen FROM price_history h WHERE h.product_id = x.id "
	    "ORDER BY h.from_at, h.id LIMIT 1), x.price_fen), p.region_code "
	    "FROM products x LEFT JOIN producers p ON p.id = x.producer_id "
	    "WHERE x.id = ?1");
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, at);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		const char *r = db_col_text(st, 1);
		*price = db_col_int64(st, 0);
		snprintf(region, SALE_REGION_MAX + 1, "%s", r ? r : "");
	}
	db_reset(st);
	return s;
}

/* Sets each line's price (the catalog's at recorded_at unless a lower
 * one was sent), amount and region, and the total. */
static enum sale_outcome
price_lines(struct db *db, struct sale *s, size_t *bad, fen_t *price)
{
	fen_t total = 0;
	for (size_t i = 0; i < s->nlines; i++) {
		struct sale_line *l = &s->lines[i];
		*bad = i;
		enum db_status st = price_and_region(
		    db, l->product_id, s->recorded_at, price, l->region);
		if (st != DB_OK)
			return st == DB_NOT_FOUND ? SALE_UNKNOWN_PRODUCT
			                          : SALE_DB_ERROR;
		if (!l->price_sent)
			l->unit_price_fen = *price;
		else if (l->unit_price_fen > *price)
			return SALE_PRICE_ABOVE;
		if (!fen_mul(l->unit_price_fen, l->quantity, &l->amount_fen))
			return SALE_AMOUNT_TOO_LARGE;
		if (!fen_add(total, l->amount_fen, &total))
			return SALE_TOTAL_TOO_LARGE;
	}
	s->total_fen = total;
	return SALE_RECORDED;
}

static enum db_status
market_day_channel(struct db *db, int64_t id, char *out, size_t len)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT channel FROM market_days WHERE id = ?1");
	db_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		snprintf(out, len, "%s", db_col_text(st, 0));
	db_reset(st);
	return s;
}

/* A product's figures on a day, as the tally sums them. */
struct tally_product {
	int64_t product_id;
	char date[11];
	struct rollup_figures f;
};

/* Stall sales on a day in a region, or ("") the day's overall. */
struct tally_count {
	char date[11];
	char region[SALE_REGION_MAX + 1];
	int64_t n;
};

/* Stall sales at a market day, recorded on a day, and their takings. */
struct tally_day {
	int64_t market_day_id;
	char date[11];
	int64_t n;
	fen_t fen;
};

static struct tally_product *
tally_product_new(struct sale_tally *t)
{
	if (t->nproducts == t->capproducts) {
		t->capproducts = t->capproducts ? 2 * t->capproducts : 64;
		t->products =
		    xrealloc(t->products, t->capproducts * sizeof(*t->products));
	}
	return &t->products[t->nproducts++];
}

static void
tally_count_add(struct sale_tally *t, const char *date, const char *region)
{
	if (t->ncounts == t->capcounts) {
		t->capcounts = t->capcounts ? 2 * t->capcounts : 64;
		t->counts = xrealloc(t->counts, t->capcounts * sizeof(*t->counts));
	}
	struct tally_count *c = &t->counts[t->ncounts++];
	memcpy(c->date, date, sizeof(c->date));
	snprintf(c->region, sizeof(c->region), "%s", region);
	c->n = 1;
}

static void
tally_day_add(struct sale_tally *t, int64_t market_day_id, const char *date, fen_t fen)
{
	if (t->ndays == t->capdays) {
		t->capdays = t->capdays ? 2 * t->capdays : 16;
		t->days = xrealloc(t->days, t->capdays * sizeof(*t->days));
	}
	struct tally_day *d = &t->days[t->ndays++];
	d->market_day_id = market_day_id;
	memcpy(d->date, date, sizeof(d->date));
	d->n = 1;
	d->fen = fen;
}

/* Sale s, just inserted, into tally t: a product's figures a line, one
 * sale for the day, one for each distinct region of its lines, and one
 * with its total for its market day. */
static enum db_status
tally_sale(struct db *db, const struct sale *s, const char *date, struct sale_tally *t)
{
	char looked_up[32];
	const char *channel = s->channel;
	if (channel == NULL) {
		enum db_status st = market_day_channel(
		    db, s->market_day_id, looked_up, sizeof(looked_up));
		if (st != DB_OK)
			return st == DB_NOT_FOUND ? DB_ERROR : st;
		channel = looked_up;
	}
	/* A market day's channel; stall sales have no online money. */
	int c = rollup_channel(channel);
	if (c == ROLLUP_CHANNELS - 1)
		c = -1;
	for (size_t i = 0; i < s->nlines; i++) {
		struct tally_product *p = tally_product_new(t);
		memset(p, 0, sizeof(*p));
		p->product_id = s->lines[i].product_id;
		memcpy(p->date, date, sizeof(p->date));
		p->f.units = s->lines[i].quantity;
		if (c >= 0)
			p->f.fen[c] = s->lines[i].amount_fen;
	}
	tally_count_add(t, date, "");
	tally_day_add(t, s->market_day_id, date, s->total_fen);
	for (size_t i = 0; i < s->nlines; i++) {
		const char *r = s->lines[i].region;
		size_t j = 0;
		while (j < i && strcmp(s->lines[j].region, r) != 0)
			j++;
		if (j == i && r[0] != '\0')
			tally_count_add(t, date, r);
	}
	return DB_OK;
}

static int
product_order(const void *a, const void *b)
{
	const struct tally_product *x = a, *y = b;
	if (x->product_id != y->product_id)
		return x->product_id < y->product_id ? -1 : 1;
	return strcmp(x->date, y->date);
}

static int
count_order(const void *a, const void *b)
{
	const struct tally_count *x = a, *y = b;
	int d = strcmp(x->date, y->date);
	return d != 0 ? d : strcmp(x->region, y->region);
}

static int
day_order(const void *a, const void *b)
{
	const struct tally_day *x = a, *y = b;
	if (x->market_day_id != y->market_day_id)
		return x->market_day_id < y->market_day_id ? -1 : 1;
	return strcmp(x->date, y->date);
}

/* Adds b into a; false (a unchanged) when a sum would overflow. */
static bool
figures_add(struct rollup_figures *a, const struct rollup_figures *b)
{
	struct rollup_figures sum;
	if (__builtin_add_overflow(a->units, b->units, &sum.units))
		return false;
	for (int c = 0; c < ROLLUP_CHANNELS; c++)
		if (!fen_add(a->fen[c], b->fen[c], &sum.fen[c]))
			return false;
	*a = sum;
	return true;
}

enum db_status
sale_tally_flush(struct db *db, struct sale_tally *t)
{
	enum db_status st = DB_OK;
	/* Sorted, so equal keys are neighbours and written once, and the
	 * rollups' b-trees are walked in key order. */
	if (t->nproducts > 1) /* qsort() of NULL (nothing tallied) is undefined */
		qsort(t->products, t->nproducts, sizeof(*t->products), product_order);
	for (size_t i = 0; i < t->nproducts && st == DB_OK;) {
		struct tally_product *p = &t->products[i++];
		while (i < t->nproducts && product_order(p, &t->products[i]) == 0 &&
		       figures_add(&p->f, &t->products[i].f))
			i++;
		st = rollup_product_add(db, p->product_id, p->date, &p->f);
	}
	if (t->ncounts > 1)
		qsort(t->counts, t->ncounts, sizeof(*t->counts), count_order);
	for (size_t i = 0; i < t->ncounts && st == DB_OK;) {
		struct tally_count *c = &t->counts[i++];
		for (; i < t->ncounts && count_order(c, &t->counts[i]) == 0; i++)
			c->n += t->counts[i].n;
		st = rollup_stall_sales_add(
		    db, c->date, c->region[0] != '\0' ? c->region : NULL, c->n);
	}
	if (t->ndays > 1)
		qsort(t->days, t->ndays, sizeof(*t->days), day_order);
	for (size_t i = 0; i < t->ndays && st == DB_OK;) {
		struct tally_day *d = &t->days[i++];
		/* A sum beyond 64 bits is written as it stands, and the next
		 * upsert refuses it (rollup.c, loud()). */
		for (; i < t->ndays && day_order(d, &t->days[i]) == 0 &&
		       fen_add(d->fen, t->days[i].fen, &d->fen);
		     i++)
			d->n += t->days[i].n;
		st = rollup_market_day_add(db, d->market_day_id, d->date, d->n, d->fen);
	}
	t->nproducts = t->ncounts = t->ndays = 0;
	return st;
}

void
sale_tally_free(struct sale_tally *t)
{
	free(t->products);
	free(t->counts);
	free(t->days);
	memset(t, 0, sizeof(*t));
}

enum sale_outcome
sale_record_tallied(struct db *db, struct sale *s, const char *fingerprint,
    int64_t user_id, int64_t now, size_t *bad, fen_t *price, struct sale_tally *tally)
{
	char date[11];
	enum sale_outcome o = price_lines(db, s, bad, price);
	if (o != SALE_RECORDED)
		return o;
	/* From here on only the database can fail. */
	date_local(s->recorded_at, date);
	enum db_status st = insert_sale(db, s, date, fingerprint, now);
	if (st == DB_CONSTRAINT)
		return SALE_ID_TAKEN;
	if (st == DB_OK)
		st = insert_lines(db, s);
	for (size_t i = 0; i < s->nlines && st == DB_OK; i++) {
		/* The goods are handed over: stock may go below zero, and
		 * units beyond the lots' come from no lot. */
		st = stock_move(db, s->lines[i].product_id, -s->lines[i].quantity,
		    STOCK_SALE, s->id, user_id, now, false, NULL);
		if (st == DB_OK)
			st = lots_draw(db, LOT_SALE, s->seq, i, s->lines[i].product_id,
			    s->lines[i].quantity, now, &s->takes);
	}
	if (st == DB_OK)
		st = tally_sale(db, s, date, tally);
	if (st == DB_OK)
		st = webhook_emit(db, WEBHOOK_SALE_RECORDED, now, recorded_data,
		    &(struct recorded){s, now});
	return st == DB_OK ? SALE_RECORDED : SALE_DB_ERROR;
}

enum sale_outcome
sale_record(struct db *db, struct sale *s, const char *fingerprint, int64_t user_id,
    int64_t now, size_t *bad, fen_t *price)
{
	struct sale_tally t = {0};
	enum sale_outcome o =
	    sale_record_tallied(db, s, fingerprint, user_id, now, bad, price, &t);
	if (o == SALE_RECORDED && sale_tally_flush(db, &t) != DB_OK)
		o = SALE_DB_ERROR;
	sale_tally_free(&t);
	return o;
}

/* Sets key of obj to value, a new reference; keys here are literals. */
static void
put(json_t *obj, const char *key, json_t *value)
{
	json_object_set_new_nocheck(obj, key, value);
}

json_t *
sale_json(const struct sale *s, int64_t now)
{
	char recorded[21], received[21], date[11];
	format_rfc3339(s->recorded_at, recorded);
	format_rfc3339(now, received);
	date_local(s->recorded_at, date);
	/* Built by hand (a batch makes one a sale): json_pack would parse
	 * its format and check every key's UTF-8 again. The strings are
	 * ASCII: an id of A-Z a-z 0-9 - _, a payment of the fixed list, and
	 * times and a date formatted here. The keys in the order of
	 * sale_row(). */
	json_t *sale = json_object();
	put(sale, "id", json_string_nocheck(s->id));
	put(sale, "seq", json_integer(s->seq));
	put(sale, "stall_id", json_integer(s->stall_id));
	put(sale, "market_day_id", json_integer(s->market_day_id));
	put(sale, "operator_id", json_integer(s->operator_id));
	put(sale, "recorded_at", json_string_nocheck(recorded));
	put(sale, "recorded_date", json_string_nocheck(date));
	put(sale, "received_at", json_string_nocheck(received));
	put(sale, "payment", json_string_nocheck(s->payment));
	put(sale, "total_fen", json_integer(s->total_fen));
	put(sale, "voided", json_false());
	put(sale, "void_reason", json_null());
	put(sale, "voided_at", json_null());
	json_t *lines = json_array();
	for (size_t i = 0; i < s->nlines; i++) {
		const struct sale_line *l = &s->lines[i];
		json_t *line = json_object();
		put(line, "product_id", json_integer(l->product_id));
		put(line, "quantity", json_integer(l->quantity));
		put(line, "unit_price_fen", json_integer(l->unit_price_fen));
		put(line, "amount_fen", json_integer(l->amount_fen));
		put(line, "lots", lot_takes_json(&s->takes, i));
		json_array_append_new(lines, line);
	}
	put(sale, "lines", lines);
	return sale;
}

enum db_status
store_sale_void(
    struct db *db, const char *id, const char *reason, int64_t user_id, int64_t now)
{
	struct db_stmt *st =
	    db_stmt(db, "UPDATE sales SET voided = 1, "
	                "void_reason = ?2, voided_at = ?3, voided_by = ?4 "
	                "WHERE id = ?1 AND voided = 0");
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, reason);
	db_bind_int64(st, 3, now);
	db_bind_int64(st, 4, user_id);
	enum db_status rc = db_exec_change(db, st);
	if (rc == DB_OK)
		rc = rollup_sale(db, id, -1);
	if (rc != DB_OK)
		return rc;
	st = db_stmt(db, "SELECT seq FROM sales WHERE id = ?1");
	db_bind_text(st, 1, id);
	rc = db_step_one(db, st);
	int64_t seq = rc == DB_OK ? db_col_int64(st, 0) : 0;
	db_reset(st);
	if (rc != DB_OK)
		return rc == DB_NOT_FOUND ? DB_ERROR : rc;
	/* Each line's goods go back on the shelf: read the lines first,
	 * then move the stock (a statement is not stepped while another
	 * changes the rows it reads). */
	st = db_stmt(db, "SELECT product_id, quantity FROM sale_lines "
	                 "WHERE sale_seq = ?1 ORDER BY line_no");
	db_bind_int64(st, 1, seq);
	int64_t lines[SALE_LINES_MAX][2];
	size_t n = 0;
	int step;
	while ((step = db_step(st)) == DB_ROW && n < SALE_LINES_MAX) {
		lines[n][0] = db_col_int64(st, 0);
		lines[n][1] = db_col_int64(st, 1);
		n++;
	}
	db_reset(st);
	if (step != DB_DONE)
		return DB_ERROR; /* a failure, or more lines than a sale may have */
	for (size_t i = 0; i < n && rc == DB_OK; i++)
		rc = stock_move(db, lines[i][0], lines[i][1], STOCK_SALE_VOID, id,
		    user_id, now, false, NULL);
	if (rc == DB_OK)
		rc = lots_put_back(db, LOT_SALE, seq, now);
	if (rc == DB_OK)
		rc = webhook_emit(db, WEBHOOK_SALE_VOIDED, now, sale_data, id);
	return rc;
}

#define SALE_COLS                                                                      \
	"s.seq, s.id, s.stall_id, s.market_day_id, s.operator_id, "                    \
	"s.recorded_at, s.recorded_date, s.received_at, s.payment, s.total_fen, "      \
	"s.voided, s.void_reason, s.voided_at"

static json_t *
time_or_null(struct db_stmt *st, int i)
{
	if (db_col_is_null(st, i))
		return json_null();
	char buf[21];
	format_rfc3339(db_col_int64(st, i), buf);
	return json_string(buf);
}

static json_t *
sale_line_row(struct db_stmt *st)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "product_id",
	    (json_int_t)db_col_int64(st, 0), "quantity",
	    (json_int_t)db_col_int64(st, 1), "unit_price_fen",
	    (json_int_t)db_col_int64(st, 2), "amount_fen",
	    (json_int_t)db_col_int64(st, 3));
}

/* The sale of the current row of st (SALE_COLS) with its lines. */
static enum db_status
sale_row(struct db *db, struct db_stmt *st, json_t **out)
{
	char recorded[21], received[21];
	format_rfc3339(db_col_int64(st, 5), recorded);
	format_rfc3339(db_col_int64(st, 7), received);
	const char *reason = db_col_text(st, 11);
	json_t *sale = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, "
	                         "s:I, s:b, s:o, s:o}",
	    "id", db_col_text(st, 1), "seq", (json_int_t)db_col_int64(st, 0),
	    "stall_id", (json_int_t)db_col_int64(st, 2), "market_day_id",
	    (json_int_t)db_col_int64(st, 3), "operator_id",
	    (json_int_t)db_col_int64(st, 4), "recorded_at", recorded, "recorded_date",
	    db_col_text(st, 6), "received_at", received, "payment", db_col_text(st, 8),
	    "total_fen", (json_int_t)db_col_int64(st, 9), "voided",
	    db_col_int(st, 10) != 0, "void_reason",
	    reason ? json_string(reason) : json_null(), "voided_at",
	    time_or_null(st, 12));
	int64_t seq = db_col_int64(st, 0);

	/* A different statement from st, so st keeps its place. */
	struct db_stmt *ls = db_stmt(db,
	    "SELECT product_id, quantity, "
	    "unit_price_fen, amount_fen FROM sale_lines WHERE sale_seq = ?1 "
	    "ORDER BY line_no");
	db_bind_int64(ls, 1, seq);
	json_t *lines;
	enum db_status s = db_rows(db, ls, sale_line_row, &lines);
	if (s == DB_OK)
		s = store_line_lots(db, LOT_SALE, seq, lines);
	if (s != DB_OK) {
		json_decref(lines);
		json_decref(sale);
		*out = NULL;
		return s;
	}
	json_object_set_new(sale, "lines", lines);
	*out = sale;
	return DB_OK;
}

enum db_status
store_sale_get(struct db *db, const char *id, json_t **out)
{
	*out = NULL;
	struct db_stmt *st =
	    db_stmt(db, "SELECT " SALE_COLS " FROM sales s WHERE s.id = ?1");
	db_bind_text(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		s = sale_row(db, st, out);
	db_reset(st);
	return s;
}

enum db_status
store_sale_list(struct db *db, const struct sale_filter *f, int64_t after_seq,
    int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT " SALE_COLS " FROM sales s "
	    "WHERE s.seq > ?1 AND (CAST(?2 AS BIGINT) = 0 OR s.stall_id = ?2) "
	    "AND (CAST(?3 AS BIGINT) = 0 OR s.market_day_id = ?3) "
	    "AND (CAST(?4 AS BIGINT) = 0 OR s.stall_id IN (SELECT id FROM stalls WHERE "
	    "operator_id = ?4)) "
	    "AND (CAST(?6 AS TEXT) IS NULL OR s.stall_id IN (SELECT t.id FROM stalls t "
	    "JOIN producers p ON p.id = t.producer_id WHERE "
	    "p.region_code = ?6)) "
	    "ORDER BY s.seq LIMIT ?5");
	db_bind_int64(st, 1, after_seq);
	db_bind_int64(st, 2, f->stall_id);
	db_bind_int64(st, 3, f->market_day_id);
	db_bind_int64(st, 4, f->operator_id);
	db_bind_int64(st, 5, limit + 1);
	if (f->region != NULL)
		db_bind_text(st, 6, f->region);
	*out = json_array();
	enum db_status s = DB_OK;
	int rc = DB_DONE;
	while (s == DB_OK && (rc = db_step(st)) == DB_ROW) {
		json_t *sale;
		s = sale_row(db, st, &sale);
		if (s == DB_OK)
			json_array_append_new(*out, sale);
	}
	db_reset(st);
	if (s == DB_OK && rc != DB_DONE)
		s = DB_ERROR;
	if (s != DB_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return s;
}
