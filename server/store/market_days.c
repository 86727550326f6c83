#include "store/market_days.h"

#include <stdio.h>

#include "store/webhooks.h"
#include "util.h"

enum db_status
store_stall_info(struct db *db, int64_t stall_id, int64_t *market_day_id,
    int64_t *operator_id, char *market_day_status, size_t len, char *channel,
    size_t chlen)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT s.market_day_id, s.operator_id, "
	                "m.status, m.channel FROM stalls s "
	                "JOIN market_days m ON m.id = s.market_day_id WHERE s.id = ?1");
	db_bind_int64(st, 1, stall_id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		*market_day_id = db_col_int64(st, 0);
		*operator_id = db_col_int64(st, 1);
		snprintf(market_day_status, len, "%s", db_col_text(st, 2));
		snprintf(channel, chlen, "%s", db_col_text(st, 3));
	}
	db_reset(st);
	return s;
}

enum db_status
store_stall_region(struct db *db, int64_t stall_id, char *buf, size_t len)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT p.region_code FROM stalls s "
	                "JOIN producers p ON p.id = s.producer_id WHERE s.id = ?1");
	db_bind_int64(st, 1, stall_id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		snprintf(buf, len, "%s", db_col_text(st, 0));
	db_reset(st);
	return s;
}

#define MD_COLS                                                                        \
	"m.id, m.venue_id, v.name, m.date, m.opens_at, m.closes_at, "                  \
	"m.channel, m.title, m.status"
#define MD_FROM " FROM market_days m JOIN venues v ON v.id = m.venue_id "

static json_t *
md_row(struct db_stmt *st)
{
	const char *title = db_col_text(st, 7);
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "id",
	    (json_int_t)db_col_int64(st, 0), "venue_id",
	    (json_int_t)db_col_int64(st, 1), "venue_name", db_col_text(st, 2), "date",
	    db_col_text(st, 3), "opens_at", db_col_text(st, 4), "closes_at",
	    db_col_text(st, 5), "channel", db_col_text(st, 6), "title",
	    title ? json_string(title) : json_null(), "status", db_col_text(st, 8));
}

static void
bind_filter(struct db_stmt *st, const struct md_filter *f)
{
	db_bind_text(st, 1, f->from);
	db_bind_text(st, 2, f->to);
	if (f->venue_id > 0)
		db_bind_int64(st, 3, f->venue_id);
	db_bind_text(st, 4, f->channel);
}

#define MD_WHERE                                                                       \
	"WHERE (CAST(?1 AS TEXT) IS NULL OR m.date >= ?1) AND (CAST(?2 AS TEXT) IS "   \
	"NULL OR m.date <= ?2) "                                                       \
	"AND (CAST(?3 AS BIGINT) IS NULL OR m.venue_id = ?3) AND (CAST(?4 AS TEXT) "   \
	"IS NULL OR m.channel = ?4) "

enum db_status
store_market_day_list(struct db *db, const struct md_filter *f,
    const struct md_key *after, int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db, "SELECT " MD_COLS MD_FROM MD_WHERE
	                                 "AND (CAST(?5 AS TEXT) IS NULL OR (m.date, "
	                                 "m.opens_at, m.id) > (?5, ?6, ?7)) "
	                                 "ORDER BY m.date, m.opens_at, m.id LIMIT ?8");
	bind_filter(st, f);
	if (after != NULL) {
		db_bind_text(st, 5, after->date);
		db_bind_text(st, 6, after->opens_at);
		db_bind_int64(st, 7, after->id);
	}
	db_bind_int64(st, 8, limit + 1);
	return db_rows(db, st, md_row, out);
}

static json_t *
md_calendar_row(struct db_stmt *st)
{
	json_t *md = md_row(st);
	const char *address = db_col_text(st, 11);
	json_object_set_new(md, "uid", json_string(db_col_text(st, 9)));
	json_object_set_new(md, "venue_subdistrict", json_string(db_col_text(st, 10)));
	json_object_set_new(
	    md, "venue_address", address ? json_string(address) : json_null());
	return md;
}

enum db_status
store_market_day_calendar(struct db *db, const struct md_filter *f, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " MD_COLS ", m.uid, v.subdistrict, "
	                "v.address" MD_FROM MD_WHERE "AND m.status <> 'cancelled' "
	                "ORDER BY m.date, m.opens_at, m.id");
	bind_filter(st, f);
	return db_rows(db, st, md_calendar_row, out);
}

enum db_status
store_market_day_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st = db_stmt(db, "SELECT " MD_COLS MD_FROM "WHERE m.id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, md_row, out);
}

enum db_status
store_venue_exists(struct db *db, int64_t id)
{
	struct db_stmt *st = db_stmt(db, "SELECT 1 FROM venues WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_exists(db, st);
}

enum db_status
store_market_day_create(struct db *db, int64_t venue_id, const char *date,
    const char *opens_at, const char *closes_at, const char *channel, const char *title,
    const char *uid, int64_t *id)
{
	struct db_stmt *st = db_stmt(db, "INSERT INTO market_days (venue_id, date, "
	                                 "opens_at, closes_at, channel, title, uid) "
	                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	db_bind_int64(st, 1, venue_id);
	db_bind_text(st, 2, date);
	db_bind_text(st, 3, opens_at);
	db_bind_text(st, 4, closes_at);
	db_bind_text(st, 5, channel);
	db_bind_text(st, 6, title);
	db_bind_text(st, 7, uid);
	enum db_status s = db_exec_stmt(db, st);
	if (s == DB_OK)
		*id = db_last_insert_id(db);
	return s;
}

/* A market day's webhook data (arg: its id). */
static enum db_status
market_day_data(struct db *db, const void *arg, json_t **out)
{
	return store_market_day_get(db, *(const int64_t *)arg, out);
}

enum db_status
store_market_day_update(struct db *db, int64_t id, const char *opens_at,
    const char *closes_at, const char *title, const char *status)
{
	struct db_stmt *st =
	    db_stmt(db, "UPDATE market_days SET opens_at = ?2, "
	                "closes_at = ?3, title = ?4, status = ?5 WHERE id = ?1");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, opens_at);
	db_bind_text(st, 3, closes_at);
	db_bind_text(st, 4, title);
	db_bind_text(st, 5, status);
	enum db_status s = db_exec_change(db, st);
	if (s == DB_OK)
		s = webhook_emit(
		    db, WEBHOOK_MARKET_DAY_UPDATED, now_unix(), market_day_data, &id);
	return s;
}

enum db_status
store_user_role(struct db *db, int64_t id, char *buf, size_t len)
{
	struct db_stmt *st = db_stmt(db, "SELECT role FROM users WHERE id = ?1");
	db_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		snprintf(buf, len, "%s", db_col_text(st, 0));
	db_reset(st);
	return s;
}

#define STALL_COLS                                                                     \
	"s.id, s.market_day_id, s.operator_id, s.producer_id, p.name, "                \
	"s.label, m.date"
#define STALL_FROM                                                                     \
	" FROM stalls s JOIN producers p ON p.id = s.producer_id "                     \
	"JOIN market_days m ON m.id = s.market_day_id "

static json_t *
stall_row(struct db_stmt *st)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:s}", "id",
	    (json_int_t)db_col_int64(st, 0), "market_day_id",
	    (json_int_t)db_col_int64(st, 1), "operator_id",
	    (json_int_t)db_col_int64(st, 2), "producer_id",
	    (json_int_t)db_col_int64(st, 3), "producer_name", db_col_text(st, 4),
	    "label", db_col_text(st, 5), "market_day_date", db_col_text(st, 6));
}

enum db_status
store_stall_create(struct db *db, int64_t market_day_id, int64_t operator_id,
    int64_t producer_id, const char *label, int64_t *id)
{
	struct db_stmt *st =
	    db_stmt(db, "INSERT INTO stalls (market_day_id, "
	                "operator_id, producer_id, label) VALUES (?1, ?2, ?3, ?4)");
	db_bind_int64(st, 1, market_day_id);
	db_bind_int64(st, 2, operator_id);
	db_bind_int64(st, 3, producer_id);
	db_bind_text(st, 4, label);
	enum db_status s = db_exec_stmt(db, st);
	if (s == DB_OK)
		*id = db_last_insert_id(db);
	return s;
}

enum db_status
store_stall_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " STALL_COLS STALL_FROM "WHERE s.id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, stall_row, out);
}

enum db_status
store_stall_list_day(
    struct db *db, int64_t market_day_id, int64_t after_id, int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT " STALL_COLS STALL_FROM
	    "WHERE s.market_day_id = ?1 AND s.id > ?2 ORDER BY s.id LIMIT ?3");
	db_bind_int64(st, 1, market_day_id);
	db_bind_int64(st, 2, after_id);
	db_bind_int64(st, 3, limit + 1);
	return db_rows(db, st, stall_row, out);
}

enum db_status
store_stall_list_operator(struct db *db, int64_t operator_id, const char *after_date,
    int64_t after_id, int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT " STALL_COLS STALL_FROM
	    "WHERE s.operator_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR m.date < ?2 "
	    "OR (m.date = ?2 AND s.id > ?3)) ORDER BY m.date DESC, s.id LIMIT ?4");
	db_bind_int64(st, 1, operator_id);
	db_bind_text(st, 2, after_date);
	db_bind_int64(st, 3, after_id);
	db_bind_int64(st, 4, limit + 1);
	return db_rows(db, st, stall_row, out);
}
