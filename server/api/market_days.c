/*
 * Market days: GET/POST /api/v1/market-days, POST .../batch,
 * GET/PATCH /api/v1/market-days/{id}, and the calendar
 * GET /api/v1/market-days.ics.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "date.h"

#include "ical.h"
#include "store/market_days.h"

/* The domain of the calendar UIDs given to market days. */
#define UID_DOMAIN "market.haishu"
/* The most market days one batch may create. */
#define BATCH_MAX 500

static const char *const channels[] = {
    "holiday_market", "caravan", "counter", "five_into", NULL};
static const char *const statuses[] = {
    "scheduled", "open", "closed", "cancelled", NULL};

/* A market day as a client sends it. */
struct md_in {
	int64_t venue_id;
	const char *date, *opens_at, *closes_at, *channel, *title;
};

static bool
is_channel(const char *s)
{
	for (const char *const *c = channels; *c; c++)
		if (strcmp(*c, s) == 0)
			return true;
	return false;
}

static bool
f_clock(struct fields f, const char *key, int flags, const char **out, bool *present)
{
	bool given = false;
	if (!f_string(f, key, flags, 1, 16, out, &given))
		return false;
	if (present != NULL)
		*present = given;
	return !given || valid_clock(*out) ||
	       f_fail(f, key, "must be a clock time HH:MM");
}

/* Reads and checks one market day of the body (or of a batch item). */
static bool
md_read(struct fields f, struct md_in *in)
{
	memset(in, 0, sizeof(*in));
	return f_int(f, "venue_id", F_REQUIRED, 1, INT64_MAX, &in->venue_id, NULL) &&
	       f_date(f, "date", F_REQUIRED, 1970, &in->date) &&
	       f_clock(f, "opens_at", F_REQUIRED, &in->opens_at, NULL) &&
	       f_clock(f, "closes_at", F_REQUIRED, &in->closes_at, NULL) &&
	       (strcmp(in->opens_at, in->closes_at) < 0 ||
	           f_fail(f, "closes_at", "must be after opens_at")) &&
	       f_enum(f, "channel", F_REQUIRED, channels, &in->channel, NULL) &&
	       f_string(f, "title", F_NULLABLE, 1, 200, &in->title, NULL);
}

/*
 * Stores one market day with a new calendar UID. prefix is "" or
 * "items[3]." (for an unknown venue), clash_field what a venue-and-date
 * clash names. Replies and returns false on any error.
 */
static bool
md_store(struct request *r, const struct md_in *in, const char *prefix,
    const char *clash_field, int64_t *id)
{
	char field[64], uid[80];
	enum db_status s = store_venue_exists(r->db, in->venue_id);
	if (s == DB_NOT_FOUND) {
		snprintf(field, sizeof(field), "%svenue_id", prefix);
		reply_error(
		    r, E_VALIDATION, field, "no venue %lld", (long long)in->venue_id);
		return false;
	}
	if (!db_ok(r, s))
		return false;
	if (!ical_uid_new(uid, sizeof(uid), UID_DOMAIN)) {
		reply_error(r, E_INTERNAL, NULL, NULL);
		return false;
	}
	s = store_market_day_create(r->db, in->venue_id, in->date, in->opens_at,
	    in->closes_at, in->channel, in->title, uid, id);
	if (s == DB_CONSTRAINT) {
		reply_error(r, E_CONFLICT, clash_field,
		    "venue %lld already has a market day on %s",
		    (long long)in->venue_id, in->date);
		return false;
	}
	return db_ok(r, s);
}

static json_t *
md_key(json_t *md)
{
	return json_pack("[O, O, O]", json_object_get(md, "date"),
	    json_object_get(md, "opens_at"), json_object_get(md, "id"));
}

/*
 * The filters of a list or calendar: ?from=&to= (YYYY-MM-DD, inclusive),
 * ?venue= (an id), ?channel=. false (error set) when one is malformed.
 */
static bool
read_filter(struct request *r, struct md_filter *f)
{
	memset(f, 0, sizeof(*f));
	bool present;
	f->from = req_query(r, "from");
	f->to = req_query(r, "to");
	f->channel = req_query(r, "channel");
	if (f->from != NULL && !date_valid_since(f->from, 1970))
		reply_error(r, E_VALIDATION, "from", "from must be a date YYYY-MM-DD");
	else if (f->to != NULL && !date_valid_since(f->to, 1970))
		reply_error(r, E_VALIDATION, "to", "to must be a date YYYY-MM-DD");
	else if (f->from != NULL && f->to != NULL && strcmp(f->from, f->to) > 0)
		reply_error(r, E_VALIDATION, "to", "to must not be before from");
	else if (f->channel != NULL && !is_channel(f->channel))
		reply_error(
		    r, E_VALIDATION, "channel", "unknown channel %s", f->channel);
	else
		(void)req_query_int(r, "venue", 1, INT64_MAX, &f->venue_id, &present);
	return !replied(r);
}

static void
list_market_days(struct request *r)
{
	struct page p = {0};
	struct md_filter f;
	json_t *items = NULL;
	if (!read_filter(r, &f) || !page_parse(r, &p, 3))
		goto out;
	struct md_key after, *a = NULL;
	if (p.after != NULL) {
		json_t *d = json_array_get(p.after, 0), *o = json_array_get(p.after, 1),
		       *i = json_array_get(p.after, 2);
		if (!json_is_string(d) || !json_is_string(o) || !json_is_integer(i)) {
			reply_error(r, E_VALIDATION, "cursor",
			    "cursor is not one this server gave");
			goto out;
		}
		after = (struct md_key){
		    json_string_value(d), json_string_value(o), json_integer_value(i)};
		a = &after;
	}
	if (!db_ok(r, store_market_day_list(r->db, &f, a, p.limit, &items)))
		goto out;
	page_reply(r, &p, items, md_key);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

static void
get_market_day(struct request *r)
{
	json_t *md = NULL;
	int64_t id = req_param_id(r, 0);
	enum db_status s = id < 0 ? DB_NOT_FOUND : store_market_day_get(r->db, id, &md);
	if (s == DB_NOT_FOUND)
		reply_error(r, E_NOT_FOUND, NULL, "no market day %s", r->params[0]);
	else if (db_ok(r, s))
		reply_json(r, 200, md);
}

static void
create_market_day(struct request *r)
{
	struct md_in in;
	json_t *md = NULL;
	int64_t id;
	if (!md_read(fields_of(r), &in) || !db_ok(r, db_begin_write(r->db)) ||
	    !md_store(r, &in, "", "date", &id) || !db_ok(r, db_commit(r->db)) ||
	    !db_ok(r, store_market_day_get(r->db, id, &md)))
		goto out;
	reply_json(r, 201, md);
	md = NULL;
out:
	json_decref(md);
}

/* All or nothing: every item is stored in one transaction, and the first
 * bad item rejects the batch, naming its index ("items[37].date"). A
 * clash of venue and date, with the database or with an earlier item of
 * the batch, is 409 conflict naming the item ("items[37]"). */
static void
create_batch(struct request *r)
{
	struct fields f = fields_of(r);
	json_t *items, *created = NULL;
	int64_t *ids = NULL;
	if (!f_array(f, "items", F_REQUIRED, 1, BATCH_MAX, &items))
		goto out;
	size_t n = json_array_size(items);
	ids = xcalloc(n, sizeof(*ids));
	if (!db_ok(r, db_begin_write(r->db)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		char item_field[32], prefix[32];
		snprintf(item_field, sizeof(item_field), "items[%zu]", i);
		snprintf(prefix, sizeof(prefix), "items[%zu].", i);
		json_t *item = json_array_get(items, i);
		if (!json_is_object(item)) {
			reply_error(r, E_VALIDATION, item_field, "must be an object");
			goto out;
		}
		struct fields fi = {.r = r, .obj = item, .prefix = prefix};
		struct md_in in;
		if (!md_read(fi, &in) || !md_store(r, &in, prefix, item_field, &ids[i]))
			goto out;
	}
	if (!db_ok(r, db_commit(r->db)))
		goto out;
	created = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *md;
		if (!db_ok(r, store_market_day_get(r->db, ids[i], &md)))
			goto out;
		json_array_append_new(created, md);
	}
	reply_json(r, 201, json_pack("{s:o}", "items", created));
	created = NULL;
out:
	json_decref(created);
	free(ids);
}

/*
 * PATCH {opens_at?, closes_at?, title?, status?}. The merged opening
 * hours must still have opens_at < closes_at. Any status may follow any
 * other (a cancelled day may be scheduled again, a closed one reopened to
 * correct a mistake): the contract names no transitions for market days,
 * and the sales and orders code checks the status where it matters.
 */
static void
update_market_day(struct request *r)
{
	struct fields f = fields_of(r);
	json_t *md = NULL;
	const char *opens = NULL, *closes = NULL, *title = NULL, *status = NULL;
	bool has_opens, has_closes, has_title, has_status;
	int64_t id = req_param_id(r, 0);
	enum db_status s = DB_NOT_FOUND;
	if (id > 0) {
		if (!db_ok(r, db_begin_write(r->db)))
			goto out;
		s = store_market_day_get(r->db, id, &md);
	}
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no market day %s", r->params[0]);
		goto out;
	}
	if (!db_ok(r, s) || !f_clock(f, "opens_at", F_OPTIONAL, &opens, &has_opens) ||
	    !f_clock(f, "closes_at", F_OPTIONAL, &closes, &has_closes) ||
	    !f_string(f, "title", F_NULLABLE, 1, 200, &title, &has_title) ||
	    !f_enum(f, "status", F_OPTIONAL, statuses, &status, &has_status))
		goto out;
	if (!has_opens)
		opens = json_string_value(json_object_get(md, "opens_at"));
	if (!has_closes)
		closes = json_string_value(json_object_get(md, "closes_at"));
	if (!has_title)
		title =
		    json_string_value(json_object_get(md, "title")); /* NULL for null */
	if (!has_status)
		status = json_string_value(json_object_get(md, "status"));
	if (strcmp(opens, closes) >= 0) {
		reply_error(r, E_VALIDATION, has_closes ? "closes_at" : "opens_at",
		    "closes_at must be after opens_at");
		goto out;
	}
	if (!db_ok(
	        r, store_market_day_update(r->db, id, opens, closes, title, status)) ||
	    !db_ok(r, db_commit(r->db)))
		goto out;
	json_decref(md);
	md = NULL;
	if (!db_ok(r, store_market_day_get(r->db, id, &md)))
		goto out;
	reply_json(r, 200, md);
	md = NULL;
out:
	json_decref(md);
}

/* What a channel is called in a calendar entry without a title. */
static const char *
channel_label(const char *channel)
{
	if (strcmp(channel, "holiday_market") == 0)
		return "扶贫集市";
	if (strcmp(channel, "caravan") == 0)
		return "大篷车";
	if (strcmp(channel, "counter") == 0)
		return "专柜";
	return "五进";
}

static const char *
str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void
write_event(struct evbuffer *b, json_t *md, const char *dtstamp)
{
	char start[16], end[16];
	ical_local(str(md, "date"), str(md, "opens_at"), start);
	ical_local(str(md, "date"), str(md, "closes_at"), end);
	char *summary = str(md, "title") ? xstrdup(str(md, "title"))
	                                 : xasprintf("%s %s", str(md, "venue_name"),
	                                       channel_label(str(md, "channel")));
	char *location =
	    str(md, "venue_address")
	        ? xasprintf("%s, %s, %s", str(md, "venue_name"),
	              str(md, "venue_subdistrict"), str(md, "venue_address"))
	        : xasprintf(
	              "%s, %s", str(md, "venue_name"), str(md, "venue_subdistrict"));
	ical_line(b, "BEGIN", "VEVENT");
	ical_line(b, "UID", str(md, "uid"));
	ical_line(b, "DTSTAMP", dtstamp);
	ical_line(b, "DTSTART;TZID=Asia/Shanghai", start);
	ical_line(b, "DTEND;TZID=Asia/Shanghai", end);
	ical_text(b, "SUMMARY", summary);
	ical_text(b, "LOCATION", location);
	ical_text(b, "CATEGORIES", str(md, "channel"));
	ical_line(b, "STATUS", "CONFIRMED");
	ical_line(b, "END", "VEVENT");
	free(location);
	free(summary);
}

/* The calendar of days (from store_market_day_calendar) into b. */
static void
write_calendar(struct evbuffer *b, json_t *days, int64_t now)
{
	char dtstamp[17];
	ical_utc(now, dtstamp);
	ical_line(b, "BEGIN", "VCALENDAR");
	ical_line(b, "VERSION", "2.0");
	ical_line(b, "PRODID", "-//Haishu consumption aid//marketd//ZH");
	ical_line(b, "CALSCALE", "GREGORIAN");
	ical_line(b, "METHOD", "PUBLISH");
	ical_text(b, "X-WR-CALNAME", "海曙消费帮扶集市");
	ical_line(b, "X-WR-TIMEZONE", "Asia/Shanghai");
	/* China has kept UTC+8 without daylight saving since 1991. */
	ical_line(b, "BEGIN", "VTIMEZONE");
	ical_line(b, "TZID", "Asia/Shanghai");
	ical_line(b, "BEGIN", "STANDARD");
	ical_line(b, "DTSTART", "19700101T000000");
	ical_line(b, "TZOFFSETFROM", "+0800");
	ical_line(b, "TZOFFSETTO", "+0800");
	ical_line(b, "TZNAME", "CST");
	ical_line(b, "END", "STANDARD");
	ical_line(b, "END", "VTIMEZONE");
	size_t i;
	json_t *md;
	json_array_foreach(days, i, md) write_event(b, md, dtstamp);
	ical_line(b, "END", "VCALENDAR");
}

/* The calendar is not paginated: it holds every matching day that is not
 * cancelled. Without from and to it starts 30 days before today
 * (Asia/Shanghai), so a subscription does not grow without end. */
static void
market_days_ics(struct request *r)
{
	struct md_filter f;
	char from[16];
	json_t *days = NULL;
	struct evbuffer *b = NULL;
	if (!read_filter(r, &f))
		goto out;
	if (f.from == NULL && f.to == NULL) {
		time_t t = (time_t)(r->now + 8 * 3600 - 30 * 86400);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(from, sizeof(from), "%Y-%m-%d", &tm);
		f.from = from;
	}
	if (!db_ok(r, store_market_day_calendar(r->db, &f, &days)))
		goto out;
	b = evbuffer_new();
	write_calendar(b, days, r->now);
	reply_header(r, "Content-Disposition", "inline; filename=\"market-days.ics\"");
	reply_raw(r, 200, "text/calendar; charset=utf-8", b);
out:
	if (b != NULL)
		evbuffer_free(b);
	json_decref(days);
}

const struct route market_days_routes[] = {
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/market-days",
        .handler = list_market_days,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/market-days.ics",
        .handler = market_days_ics,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/market-days/{id}",
        .handler = get_market_day,
        .roles = ROLES_ANYONE},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/market-days",
        .handler = create_market_day,
        .roles = ROLES_STAFF,
        .body = true},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/market-days/batch",
        .handler = create_batch,
        .roles = ROLES_STAFF,
        .body = true},
    {.method = EVHTTP_REQ_PATCH,
        .path = "/api/v1/market-days/{id}",
        .handler = update_market_day,
        .roles = ROLES_STAFF,
        .body = true},
    {0},
};
