#include "store/webhooks.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

const char *const webhook_type_names[] = {
    [WEBHOOK_ORDER_PLACED] = "order.placed",
    [WEBHOOK_ORDER_PAID] = "order.paid",
    [WEBHOOK_ORDER_READY] = "order.ready",
    [WEBHOOK_ORDER_FULFILLED] = "order.fulfilled",
    [WEBHOOK_ORDER_CANCELLED] = "order.cancelled",
    [WEBHOOK_SALE_RECORDED] = "sale.recorded",
    [WEBHOOK_SALE_VOIDED] = "sale.voided",
    [WEBHOOK_MARKET_DAY_UPDATED] = "market_day.updated",
    [WEBHOOK_PRODUCT_UPDATED] = "product.updated",
    [WEBHOOK_LOT_RECEIVED] = "lot.received",
    [WEBHOOK_TYPES] = NULL,
};

static atomic_bool emitted;

bool
webhook_take_emitted(void)
{
	return atomic_load_explicit(&emitted, memory_order_relaxed) &&
	       atomic_exchange(&emitted, false);
}

enum db_status
webhook_emit(struct db *db, enum webhook_type type, int64_t now, webhook_data_fn make,
    const void *arg)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT 1 FROM webhook_endpoints "
	                "WHERE active = 1 AND (event_mask & ?1) != 0 LIMIT 1");
	db_bind_int64(st, 1, (int64_t)1 << type);
	enum db_status s = db_exists(db, st);
	if (s != DB_OK)
		return s == DB_NOT_FOUND ? DB_OK : s;

	json_t *data = NULL;
	if ((s = make(db, arg, &data)) != DB_OK)
		return s;
	char at[21];
	format_rfc3339(now, at);
	json_t *body = json_pack("{s:s, s:s, s:o}", "type", webhook_type_names[type],
	    "timestamp", at, "data", data);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL)
		return DB_ERROR;
	st = db_stmt(
	    db, "INSERT INTO webhook_events (type, at, body) VALUES (?1, ?2, ?3)");
	db_bind_text_static(st, 1, webhook_type_names[type]);
	db_bind_int64(st, 2, now);
	db_bind_text_owned(st, 3, text);
	if ((s = db_exec_stmt(db, st)) != DB_OK)
		return s;
	int64_t event_id = db_last_insert_id(db);
	/* Due at once: the worker is woken after the commit. */
	st = db_stmt(db,
	    "INSERT INTO webhook_deliveries (event_id, endpoint_id, due_ms) "
	    "SELECT ?1, id, ?2 FROM webhook_endpoints "
	    "WHERE active = 1 AND (event_mask & ?3) != 0");
	db_bind_int64(st, 1, event_id);
	db_bind_int64(st, 2, now * 1000);
	db_bind_int64(st, 3, (int64_t)1 << type);
	if ((s = db_exec_stmt(db, st)) == DB_OK)
		atomic_store(&emitted, true);
	return s;
}

bool
webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1])
{
	unsigned char raw[32];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return false;
	memcpy(out, "whsec_", 6);
	/* 32 bytes are 44 base64 characters with one '=' of padding. */
	EVP_EncodeBlock((unsigned char *)out + 6, raw, sizeof(raw));
	out[WEBHOOK_SECRET_LEN] = '\0';
	return true;
}

#define ENDPOINT_COLS "id, url, events, description, active, created_at"

static json_t *
endpoint_row(struct db_stmt *st)
{
	char at[21];
	format_rfc3339(db_col_int64(st, 5), at);
	const char *desc = db_col_text(st, 3);
	json_t *events = json_loads(db_col_text(st, 2), 0, NULL);
	return json_pack("{s:I, s:s, s:o, s:o, s:b, s:s}", "id",
	    (json_int_t)db_col_int64(st, 0), "url", db_col_text(st, 1), "events",
	    events ? events : json_array(), "description",
	    desc ? json_string(desc) : json_null(), "active", db_col_int(st, 4) != 0,
	    "created_at", at);
}

enum db_status
store_webhook_create(struct db *db, const struct webhook_in *w, const char *secret,
    int64_t user_id, int64_t now, int64_t *id)
{
	char *events = json_dumps(w->events, JSON_COMPACT);
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO webhook_endpoints (url, secret, "
	    "events, event_mask, description, active, created_at, created_by) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	db_bind_text(st, 1, w->url);
	db_bind_text(st, 2, secret);
	db_bind_text_owned(st, 3, events);
	db_bind_int64(st, 4, w->mask);
	db_bind_text(st, 5, w->description);
	db_bind_int64(st, 6, w->active);
	db_bind_int64(st, 7, now);
	if (user_id > 0)
		db_bind_int64(st, 8, user_id);
	enum db_status s = db_exec_stmt(db, st);
	if (s == DB_OK)
		*id = db_last_insert_id(db);
	return s;
}

enum db_status
store_webhook_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st = db_stmt(
	    db, "SELECT " ENDPOINT_COLS " FROM webhook_endpoints WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, endpoint_row, out);
}

enum db_status
store_webhook_list(struct db *db, int64_t after_id, int limit, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " ENDPOINT_COLS
	                " FROM webhook_endpoints WHERE id > ?1 ORDER BY id LIMIT ?2");
	db_bind_int64(st, 1, after_id);
	db_bind_int64(st, 2, limit + 1);
	return db_rows(db, st, endpoint_row, out);
}

enum db_status
store_webhook_update(struct db *db, int64_t id, const struct webhook_in *w)
{
	char *events = json_dumps(w->events, JSON_COMPACT);
	struct db_stmt *st = db_stmt(db, "UPDATE webhook_endpoints SET url = ?2, "
	                                 "events = ?3, event_mask = ?4, description = "
	                                 "?5, active = ?6 WHERE id = ?1");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, w->url);
	db_bind_text_owned(st, 3, events);
	db_bind_int64(st, 4, w->mask);
	db_bind_text(st, 5, w->description);
	db_bind_int64(st, 6, w->active);
	return db_exec_change(db, st);
}

enum db_status
store_webhook_delete(struct db *db, int64_t id)
{
	struct db_stmt *st = db_stmt(db, "DELETE FROM webhook_endpoints WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_exec_change(db, st);
}

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
attempt_row(struct db_stmt *st)
{
	char at[21];
	format_rfc3339(db_col_int64(st, 7), at);
	const char *error = db_col_text(st, 5);
	return json_pack("{s:I, s:I, s:s, s:i, s:o, s:o, s:I, s:s, s:o}", "id",
	    (json_int_t)db_col_int64(st, 0), "event_id",
	    (json_int_t)db_col_int64(st, 1), "type", db_col_text(st, 2), "attempt",
	    db_col_int(st, 3), "status_code",
	    db_col_is_null(st, 4) ? json_null() : json_integer(db_col_int(st, 4)),
	    "error", error ? json_string(error) : json_null(), "duration_ms",
	    (json_int_t)db_col_int64(st, 6), "at", at, "next_attempt_at",
	    time_or_null(st, 8));
}

enum db_status
store_webhook_attempts(
    struct db *db, int64_t endpoint_id, int64_t before_id, int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT a.id, a.event_id, e.type, a.attempt, "
	    "a.status_code, a.error, a.duration_ms, a.at, a.next_attempt_at "
	    "FROM webhook_attempts a JOIN webhook_events e ON e.id = a.event_id "
	    "WHERE a.endpoint_id = ?1 AND a.id < ?2 ORDER BY a.id DESC LIMIT ?3");
	db_bind_int64(st, 1, endpoint_id);
	db_bind_int64(st, 2, before_id > 0 ? before_id : INT64_MAX);
	db_bind_int64(st, 3, limit + 1);
	return db_rows(db, st, attempt_row, out);
}

void
webhook_job_clear(struct webhook_job *j)
{
	free(j->url);
	free(j->secret);
	free(j->body);
	memset(j, 0, sizeof(*j));
}

enum db_status
store_webhook_due(struct db *db, int64_t now_ms, size_t max, struct webhook_job *jobs,
    size_t *n, int64_t *next_ms)
{
	*n = 0;
	*next_ms = -1;
	struct db_stmt *st =
	    db_stmt(db, "SELECT d.id, d.event_id, d.endpoint_id, "
	                "d.attempts, p.url, p.secret, e.body FROM webhook_deliveries d "
	                "JOIN webhook_endpoints p ON p.id = d.endpoint_id "
	                "JOIN webhook_events e ON e.id = d.event_id "
	                "WHERE d.state = 'pending' AND d.due_ms <= ?1 AND p.active = 1 "
	                "ORDER BY d.due_ms, d.id LIMIT ?2");
	db_bind_int64(st, 1, now_ms);
	db_bind_int64(st, 2, (int64_t)max);
	int rc;
	while (*n < max && (rc = db_step(st)) == DB_ROW) {
		struct webhook_job *j = &jobs[(*n)++];
		j->delivery_id = db_col_int64(st, 0);
		j->event_id = db_col_int64(st, 1);
		j->endpoint_id = db_col_int64(st, 2);
		j->attempts = db_col_int(st, 3);
		j->url = xstrdup(db_col_text(st, 4));
		j->secret = xstrdup(db_col_text(st, 5));
		j->body = xstrdup(db_col_text(st, 6));
	}
	db_reset(st);
	if (*n > 0)
		return DB_OK;
	st = db_stmt(db, "SELECT min(d.due_ms) FROM webhook_deliveries d "
	                 "JOIN webhook_endpoints p ON p.id = d.endpoint_id "
	                 "WHERE d.state = 'pending' AND p.active = 1");
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK && !db_col_is_null(st, 0))
		*next_ms = db_col_int64(st, 0);
	db_reset(st);
	return s == DB_NOT_FOUND ? DB_OK : s;
}

/* One attempt's rows, inside the caller's transaction. */
static enum db_status
record_one(
    struct db *db, const struct webhook_job *job, const struct webhook_result *res)
{
	/* Nothing when the endpoint, and so the delivery, was deleted. */
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO webhook_attempts (delivery_id, "
	    "endpoint_id, event_id, attempt, status_code, error, duration_ms, at, "
	    "next_attempt_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 "
	    "WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = ?1)");
	db_bind_int64(st, 1, job->delivery_id);
	db_bind_int64(st, 2, job->endpoint_id);
	db_bind_int64(st, 3, job->event_id);
	db_bind_int64(st, 4, job->attempts + 1);
	if (res->status_code > 0)
		db_bind_int64(st, 5, res->status_code);
	db_bind_text(st, 6, res->error);
	db_bind_int64(st, 7, res->duration_ms);
	db_bind_int64(st, 8, res->at);
	if (res->next_ms >= 0)
		/* Rounded up: the time shown is never before the real one. */
		db_bind_int64(st, 9, (res->next_ms + 999) / 1000);
	enum db_status s = db_exec_stmt(db, st);
	if (s != DB_OK)
		return s;
	st = db_stmt(db, "UPDATE webhook_deliveries SET attempts = attempts + 1, "
	                 "state = ?2, due_ms = ?3 WHERE id = ?1");
	db_bind_int64(st, 1, job->delivery_id);
	db_bind_text_static(st, 2,
	    res->delivered      ? "delivered"
	    : res->next_ms >= 0 ? "pending"
	                        : "failed");
	db_bind_int64(st, 3, res->next_ms >= 0 ? res->next_ms : res->at * 1000);
	s = db_exec_stmt(db, st);
	if (s == DB_OK && res->gone) {
		st = db_stmt(
		    db, "UPDATE webhook_endpoints SET active = 0 WHERE id = ?1");
		db_bind_int64(st, 1, job->endpoint_id);
		s = db_exec_stmt(db, st);
	}
	return s;
}

enum db_status
store_webhook_purge(struct db *db, int64_t before_s, int max, int *deleted)
{
	*deleted = 0;
	enum db_status s = db_begin_write(db);
	if (s != DB_OK)
		return s;
	/* Events are taken oldest first by id, which grows with time, so
	 * the scan stops after max old ones. The attempts go with their
	 * deliveries (ON DELETE CASCADE). */
	struct db_stmt *st = db_stmt(db,
	    "DELETE FROM webhook_deliveries WHERE event_id IN ("
	    "SELECT e.id FROM webhook_events e WHERE e.at < ?1 AND NOT EXISTS ("
	    "SELECT 1 FROM webhook_deliveries p WHERE p.event_id = e.id "
	    "AND p.state = 'pending') ORDER BY e.id LIMIT ?2)");
	db_bind_int64(st, 1, before_s);
	db_bind_int64(st, 2, max);
	s = db_exec_stmt(db, st);
	if (s == DB_OK) {
		st = db_stmt(db,
		    "DELETE FROM webhook_events WHERE id IN ("
		    "SELECT e.id FROM webhook_events e WHERE e.at < ?1 AND NOT EXISTS ("
		    "SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) "
		    "ORDER BY e.id LIMIT ?2)");
		db_bind_int64(st, 1, before_s);
		db_bind_int64(st, 2, max);
		s = db_exec_stmt(db, st);
	}
	if (s != DB_OK) {
		db_rollback(db);
		return s;
	}
	*deleted = db_changes(db);
	return db_commit(db);
}

enum db_status
store_webhook_record(struct db *db, const struct webhook_job *jobs,
    const struct webhook_result *res, size_t n)
{
	enum db_status s = db_begin_write(db);
	for (size_t i = 0; i < n && s == DB_OK; i++)
		if (jobs[i].url != NULL)
			s = record_one(db, &jobs[i], &res[i]);
	if (s != DB_OK) {
		db_rollback(db);
		return s;
	}
	return db_commit(db);
}
