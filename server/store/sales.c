#include "store/sales.h"
#include "store/rollup.h"
#include "store/stock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"

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

void
sale_local_date(int64_t t, char out[11])
{
	time_t local = (time_t)(t + 8 * 3600);
	struct tm tm;
	gmtime_r(&local, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

enum db_status
store_sale_fingerprint(struct db *db, const char *id, char fingerprint[65])
{
	sqlite3_stmt *st = db_stmt(db, "SELECT fingerprint FROM sales WHERE id = ?1");
	db_bind_text(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		snprintf(fingerprint, 65, "%s", db_col_text(st, 0));
	sqlite3_reset(st);
	return s;
}

enum db_status
store_sale_state(struct db *db, const char *id, int64_t *stall_id, bool *voided)
{
	sqlite3_stmt *st =
	    db_stmt(db, "SELECT stall_id, voided FROM sales WHERE id = ?1");
	db_bind_text(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		*stall_id = sqlite3_column_int64(st, 0);
		*voided = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st);
	return s;
}

/* The sales row of s, the first write of a sale: DB_CONSTRAINT (and
 * nothing written) when the id is taken. Sets s->seq. */
static enum db_status
insert_sale(struct db *db, struct sale *s, const char *date,
    const char *fingerprint, int64_t now)
{
	sqlite3_stmt *st = db_stmt(db,
	    "INSERT INTO sales (id, stall_id, "
	    "market_day_id, operator_id, recorded_at, recorded_date, received_at, "
	    "payment, total_fen, fingerprint) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, s->stall_id);
	sqlite3_bind_int64(st, 3, s->market_day_id);
	sqlite3_bind_int64(st, 4, s->operator_id);
	sqlite3_bind_int64(st, 5, s->recorded_at);
	sqlite3_bind_text(st, 6, date, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_text(st, 8, s->payment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, s->total_fen);
	sqlite3_bind_text(st, 10, fingerprint, -1, SQLITE_STATIC);
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
		sqlite3_stmt *st = db_stmt(db, "INSERT INTO sale_lines (sale_seq, "
		    "line_no, product_id, quantity, unit_price_fen, amount_fen) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
		sqlite3_bind_int64(st, 1, s->seq);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sqlite3_bind_int64(st, 3, l->product_id);
		sqlite3_bind_int64(st, 4, l->quantity);
		sqlite3_bind_int64(st, 5, l->unit_price_fen);
		sqlite3_bind_int64(st, 6, l->amount_fen);
		rc = db_exec_stmt(db, st);
	}
	return rc;
}

/* The catalog price of product id and its producer's region. */
static enum db_status
price_and_region(struct db *db, int64_t id, fen_t *price, char region[])
{
	sqlite3_stmt *st = db_stmt(db, "SELECT x.price_fen, p.region_code "
	    "FROM products x LEFT JOIN producers p ON p.id = x.producer_id "
	    "WHERE x.id = ?1");
	sqlite3_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		const char *r = db_col_text(st, 1);
		*price = sqlite3_column_int64(st, 0);
		snprintf(region, SALE_REGION_MAX + 1, "%s", r ? r : "");
	}
	sqlite3_reset(st);
	return s;
}

/* Sets each line's price, amount and region, and the total. */
static enum sale_outcome
price_lines(struct db *db, struct sale *s, size_t *bad, fen_t *price)
{
	fen_t total = 0;
	for (size_t i = 0; i < s->nlines; i++) {
		struct sale_line *l = &s->lines[i];
		*bad = i;
		enum db_status st = price_and_region(db, l->product_id, price, l->region);
		if (st != DB_OK)
			return st == DB_NOT_FOUND ? SALE_UNKNOWN_PRODUCT : SALE_DB_ERROR;
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
	sqlite3_stmt *st = db_stmt(db, "SELECT channel FROM market_days WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		snprintf(out, len, "%s", db_col_text(st, 0));
	sqlite3_reset(st);
	return s;
}

/* Sale s, just inserted, in the report rollups: a row a line, then the
 * day and each distinct region of its lines once. */
static enum db_status
rollup_new_sale(struct db *db, const struct sale *s, const char *date)
{
	char looked_up[32];
	const char *channel = s->channel;
	enum db_status st = DB_OK;
	if (channel == NULL) {
		st = market_day_channel(db, s->market_day_id, looked_up, sizeof(looked_up));
		channel = looked_up;
	}
	for (size_t i = 0; i < s->nlines && st == DB_OK; i++)
		st = rollup_sale_line(db, s->lines[i].product_id, date, channel,
		    s->lines[i].quantity, s->lines[i].amount_fen);
	if (st != DB_OK)
		return st;
	const char *regions[SALE_LINES_MAX];
	size_t n = 0;
	for (size_t i = 0; i < s->nlines && n < nitems(regions); i++) {
		const char *r = s->lines[i].region;
		size_t j = 0;
		while (j < n && strcmp(regions[j], r) != 0)
			j++;
		if (j == n && r[0] != '\0')
			regions[n++] = r;
	}
	return rollup_sale_count(db, date, regions, n, +1);
}

enum sale_outcome
sale_record(struct db *db, struct sale *s, const char *fingerprint,
    int64_t user_id, int64_t now, size_t *bad, fen_t *price)
{
	char date[11];
	enum sale_outcome o = price_lines(db, s, bad, price);
	if (o != SALE_RECORDED)
		return o;
	/* From here on only the database can fail. */
	sale_local_date(s->recorded_at, date);
	enum db_status st = insert_sale(db, s, date, fingerprint, now);
	if (st == DB_CONSTRAINT)
		return SALE_ID_TAKEN;
	if (st == DB_OK)
		st = insert_lines(db, s);
	for (size_t i = 0; i < s->nlines && st == DB_OK; i++)
		/* The goods are handed over: stock may go below zero. */
		st = stock_move(db, s->lines[i].product_id, -s->lines[i].quantity,
		    STOCK_SALE, s->id, user_id, now, false, NULL);
	if (st == DB_OK)
		st = rollup_new_sale(db, s, date);
	return st == DB_OK ? SALE_RECORDED : SALE_DB_ERROR;
}

json_t *
sale_json(const struct sale *s, int64_t now)
{
	char recorded[21], received[21], date[11];
	format_rfc3339(s->recorded_at, recorded);
	format_rfc3339(now, received);
	sale_local_date(s->recorded_at, date);
	json_t *lines = json_array();
	for (size_t i = 0; i < s->nlines; i++) {
		const struct sale_line *l = &s->lines[i];
		json_array_append_new(lines, json_pack("{s:I, s:I, s:I, s:I}",
		    "product_id", (json_int_t)l->product_id, "quantity",
		    (json_int_t)l->quantity, "unit_price_fen",
		    (json_int_t)l->unit_price_fen, "amount_fen",
		    (json_int_t)l->amount_fen));
	}
	/* The keys in the order of sale_row(). */
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:b, "
	                 "s:n, s:n, s:o}",
	    "id", s->id, "seq", (json_int_t)s->seq, "stall_id",
	    (json_int_t)s->stall_id, "market_day_id", (json_int_t)s->market_day_id,
	    "operator_id", (json_int_t)s->operator_id, "recorded_at", recorded,
	    "recorded_date", date, "received_at", received, "payment", s->payment,
	    "total_fen", (json_int_t)s->total_fen, "voided", false, "void_reason",
	    "voided_at", "lines", lines);
}

enum db_status
store_sale_void(
    struct db *db, const char *id, const char *reason, int64_t user_id, int64_t now)
{
	sqlite3_stmt *st =
	    db_stmt(db, "UPDATE sales SET voided = 1, "
	                "void_reason = ?2, voided_at = ?3, voided_by = ?4 "
	                "WHERE id = ?1 AND voided = 0");
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, reason);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, user_id);
	enum db_status rc = db_exec_change(db, st);
	return rc == DB_OK ? rollup_sale(db, id, -1) : rc;
}

#define SALE_COLS                                                                      \
	"s.seq, s.id, s.stall_id, s.market_day_id, s.operator_id, "                    \
	"s.recorded_at, s.recorded_date, s.received_at, s.payment, s.total_fen, "      \
	"s.voided, s.void_reason, s.voided_at"

static json_t *
time_or_null(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	char buf[21];
	format_rfc3339(sqlite3_column_int64(st, i), buf);
	return json_string(buf);
}

static json_t *
sale_line_row(sqlite3_stmt *st)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "product_id",
	    (json_int_t)sqlite3_column_int64(st, 0), "quantity",
	    (json_int_t)sqlite3_column_int64(st, 1), "unit_price_fen",
	    (json_int_t)sqlite3_column_int64(st, 2), "amount_fen",
	    (json_int_t)sqlite3_column_int64(st, 3));
}

/* The sale of the current row of st (SALE_COLS) with its lines. */
static enum db_status
sale_row(struct db *db, sqlite3_stmt *st, json_t **out)
{
	char recorded[21], received[21];
	format_rfc3339(sqlite3_column_int64(st, 5), recorded);
	format_rfc3339(sqlite3_column_int64(st, 7), received);
	const char *reason = db_col_text(st, 11);
	json_t *sale = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, "
	                         "s:I, s:b, s:o, s:o}",
	    "id", db_col_text(st, 1), "seq", (json_int_t)sqlite3_column_int64(st, 0),
	    "stall_id", (json_int_t)sqlite3_column_int64(st, 2), "market_day_id",
	    (json_int_t)sqlite3_column_int64(st, 3), "operator_id",
	    (json_int_t)sqlite3_column_int64(st, 4), "recorded_at", recorded,
	    "recorded_date", db_col_text(st, 6), "received_at", received, "payment",
	    db_col_text(st, 8), "total_fen", (json_int_t)sqlite3_column_int64(st, 9),
	    "voided", sqlite3_column_int(st, 10) != 0, "void_reason",
	    reason ? json_string(reason) : json_null(), "voided_at",
	    time_or_null(st, 12));
	int64_t seq = sqlite3_column_int64(st, 0);

	/* A different statement from st, so st keeps its place. */
	sqlite3_stmt *ls = db_stmt(db,
	    "SELECT product_id, quantity, "
	    "unit_price_fen, amount_fen FROM sale_lines WHERE sale_seq = ?1 "
	    "ORDER BY line_no");
	sqlite3_bind_int64(ls, 1, seq);
	json_t *lines;
	enum db_status s = db_rows(db, ls, sale_line_row, &lines);
	if (s != DB_OK) {
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
	sqlite3_stmt *st =
	    db_stmt(db, "SELECT " SALE_COLS " FROM sales s WHERE s.id = ?1");
	db_bind_text(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		s = sale_row(db, st, out);
	sqlite3_reset(st);
	return s;
}

enum db_status
store_sale_list(struct db *db, const struct sale_filter *f, int64_t after_seq,
    int limit, json_t **out)
{
	sqlite3_stmt *st =
	    db_stmt(db, "SELECT " SALE_COLS " FROM sales s "
	                "WHERE s.seq > ?1 AND (?2 = 0 OR s.stall_id = ?2) "
	                "AND (?3 = 0 OR s.market_day_id = ?3) "
	                "AND (?4 = 0 OR s.stall_id IN (SELECT id FROM stalls WHERE "
	                "operator_id = ?4)) "
	                "AND (?6 IS NULL OR s.stall_id IN (SELECT t.id FROM stalls t "
	                "JOIN producers p ON p.id = t.producer_id WHERE "
	                "p.region_code = ?6)) "
	                "ORDER BY s.seq LIMIT ?5");
	sqlite3_bind_int64(st, 1, after_seq);
	sqlite3_bind_int64(st, 2, f->stall_id);
	sqlite3_bind_int64(st, 3, f->market_day_id);
	sqlite3_bind_int64(st, 4, f->operator_id);
	sqlite3_bind_int(st, 5, limit + 1);
	if (f->region != NULL)
		db_bind_text(st, 6, f->region);
	*out = json_array();
	enum db_status s = DB_OK;
	int rc = SQLITE_DONE;
	while (s == DB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *sale;
		s = sale_row(db, st, &sale);
		if (s == DB_OK)
			json_array_append_new(*out, sale);
	}
	sqlite3_reset(st);
	if (s == DB_OK && rc != SQLITE_DONE)
		s = DB_ERROR;
	if (s != DB_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return s;
}
