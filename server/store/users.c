#include "store/users.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

bool
username_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		        *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

enum db_status
store_user_by_token(
    struct db *db, const unsigned char hash[32], int64_t now, struct user *out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT u.id, u.username, u.role, coalesce(u.region_code, ''), "
	                "coalesce(u.institution_id, 0) "
	                "FROM tokens t JOIN users u ON u.id = t.user_id "
	                "WHERE t.hash = ?1 AND t.revoked = 0 AND t.expires_at > ?2 AND "
	                "u.active = 1");
	db_bind_blob_static(st, 1, hash, 32);
	db_bind_int64(st, 2, now);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		out->id = db_col_int64(st, 0);
		snprintf(
		    out->username, sizeof(out->username), "%s", db_col_text(st, 1));
		out->role = role_from_name(db_col_text(st, 2));
		snprintf(out->region_code, sizeof(out->region_code), "%s",
		    db_col_text(st, 3));
		out->institution_id = db_col_int64(st, 4);
	}
	db_reset(st);
	return s;
}

enum db_status
store_user_create(struct db *db, const char *username, const char *display_name,
    const char *role, const char *region_code, const char *password_hash, int64_t now,
    int64_t *id)
{
	struct db_stmt *st =
	    db_stmt(db, "INSERT INTO users (username, display_name, role, region_code, "
	                "password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	db_bind_text(st, 1, username);
	db_bind_text(st, 2, display_name);
	db_bind_text(st, 3, role);
	db_bind_text(st, 4, region_code);
	db_bind_text(st, 5, password_hash);
	db_bind_int64(st, 6, now);
	enum db_status s = db_exec_stmt(db, st);
	if (s == DB_OK)
		*id = db_last_insert_id(db);
	return s;
}

#define USER_COLS                                                                      \
	"id, username, display_name, role, region_code, active, "                      \
	"institution_id"

/* The API JSON of a row of USER_COLS. */
static json_t *
user_row(struct db_stmt *st)
{
	const char *region = db_col_text(st, 4);
	json_t *institution =
	    db_col_is_null(st, 6) ? json_null() : json_integer(db_col_int64(st, 6));
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:b, s:o}", "id",
	    (json_int_t)db_col_int64(st, 0), "username", db_col_text(st, 1),
	    "display_name", db_col_text(st, 2), "role", db_col_text(st, 3),
	    "region_code", region ? json_string(region) : json_null(), "active",
	    db_col_int(st, 5), "institution_id", institution);
}

enum db_status
store_user_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " USER_COLS " FROM users WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, user_row, out);
}

enum db_status
store_user_list(struct db *db, int64_t after_id, int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db, "SELECT " USER_COLS " FROM users "
	                                 "WHERE id > ?1 ORDER BY id LIMIT ?2");
	db_bind_int64(st, 1, after_id);
	db_bind_int64(st, 2, limit + 1);
	return db_rows(db, st, user_row, out);
}

enum db_status
store_user_update(struct db *db, int64_t id, const char *display_name, const char *role,
    const char *region_code, bool active, int64_t institution_id)
{
	struct db_stmt *st =
	    db_stmt(db, "UPDATE users SET display_name = ?2, "
	                "role = ?3, region_code = ?4, active = ?5, institution_id = ?6 "
	                "WHERE id = ?1");
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, display_name);
	db_bind_text(st, 3, role);
	db_bind_text(st, 4, region_code);
	db_bind_int64(st, 5, active ? 1 : 0);
	if (institution_id > 0)
		db_bind_int64(st, 6, institution_id);
	return db_exec_change(db, st);
}

enum db_status
store_user_credentials(
    struct db *db, const char *username, int64_t *id, char **hash, bool *active)
{
	struct db_stmt *st = db_stmt(
	    db, "SELECT id, password_hash, active FROM users WHERE username = ?1");
	db_bind_text(st, 1, username);
	enum db_status s = db_step_one(db, st);
	*hash = NULL;
	if (s == DB_OK) {
		*id = db_col_int64(st, 0);
		*hash = xstrdup(db_col_text(st, 1));
		*active = db_col_int(st, 2) == 1;
	}
	db_reset(st);
	return s;
}

/* The number of failures of username after since, into *count. */
static enum db_status
failures_since(struct db *db, const char *username, int64_t since, int64_t *count)
{
	struct db_stmt *st = db_stmt(db, "SELECT count(*) FROM login_failures "
	                                 "WHERE username = ?1 AND at > ?2");
	db_bind_text(st, 1, username);
	db_bind_int64(st, 2, since);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		*count = db_col_int64(st, 0);
	db_reset(st);
	return s;
}

/* The time of username's failure number nth (from 0, oldest first)
 * after since. */
static enum db_status
failure_at(struct db *db, const char *username, int64_t since, int64_t nth, int64_t *at)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT at FROM login_failures "
	    "WHERE username = ?1 AND at > ?2 ORDER BY at, id LIMIT 1 OFFSET ?3");
	db_bind_text(st, 1, username);
	db_bind_int64(st, 2, since);
	db_bind_int64(st, 3, nth);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		*at = db_col_int64(st, 0);
	db_reset(st);
	return s;
}

enum db_status
store_login_blocked(struct db *db, const char *username, int64_t now, int window,
    int max, int64_t *retry_after)
{
	int64_t since = now - window, count = 0, at = 0;
	*retry_after = 0;
	enum db_status s = failures_since(db, username, since, &count);
	if (s == DB_OK && count >= max) {
		/* Attempts are allowed again once count - max + 1 of the
		 * failures have left the window, that is when failure number
		 * count - max (oldest first) does. */
		s = failure_at(db, username, since, count - max, &at);
		if (s == DB_OK) {
			*retry_after = at + window - now;
			if (*retry_after < 1)
				*retry_after = 1;
		}
	}
	return s;
}

enum db_status
store_login_attempt(struct db *db, const char *username, int64_t now, int window,
    int max, int64_t *attempt, int64_t *retry_after)
{
	int64_t since = now - window;
	*attempt = 0;
	enum db_status s = db_begin_write(db);
	if (s == DB_OK)
		s = store_login_blocked(db, username, now, window, max, retry_after);
	if (s != DB_OK || *retry_after > 0) {
		db_rollback(db);
		return s;
	}
	struct db_stmt *st = db_stmt(db, "DELETE FROM login_failures WHERE at <= ?1");
	db_bind_int64(st, 1, since);
	s = db_exec_stmt(db, st);
	if (s == DB_OK) {
		st = db_stmt(
		    db, "INSERT INTO login_failures (username, at) VALUES (?1, ?2)");
		db_bind_text(st, 1, username);
		db_bind_int64(st, 2, now);
		s = db_exec_stmt(db, st);
	}
	if (s == DB_OK) {
		*attempt = db_last_insert_id(db);
		s = db_commit(db);
	}
	if (s != DB_OK)
		db_rollback(db);
	return s;
}

enum db_status
store_login_succeeded(struct db *db, int64_t attempt)
{
	struct db_stmt *st = db_stmt(db, "DELETE FROM login_failures WHERE id = ?1");
	db_bind_int64(st, 1, attempt);
	return db_exec_stmt(db, st);
}

enum db_status
store_token_create(struct db *db, const unsigned char hash[32], int64_t user_id,
    int64_t now, int64_t expires_at)
{
	struct db_stmt *st = db_stmt(db,
	    "INSERT INTO tokens "
	    "(hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)");
	db_bind_blob(st, 1, hash, 32);
	db_bind_int64(st, 2, user_id);
	db_bind_int64(st, 3, now);
	db_bind_int64(st, 4, expires_at);
	enum db_status s = db_exec_stmt(db, st);
	if (s != DB_OK)
		return s;
	/* A login is a good moment to forget this user's dead tokens, so the
	 * table holds live ones and the recently expired only. */
	st = db_stmt(db, "DELETE FROM tokens WHERE user_id = ?1 AND expires_at < ?2");
	db_bind_int64(st, 1, user_id);
	db_bind_int64(st, 2, now - 86400);
	return db_exec_stmt(db, st);
}

enum db_status
store_active_admins(struct db *db, int64_t *count)
{
	struct db_stmt *st = db_stmt(
	    db, "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1");
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		*count = db_col_int64(st, 0);
	db_reset(st);
	return s;
}

enum db_status
store_token_revoke(struct db *db, const unsigned char hash[32])
{
	struct db_stmt *st = db_stmt(
	    db, "UPDATE tokens SET revoked = 1 WHERE hash = ?1 AND revoked = 0");
	db_bind_blob(st, 1, hash, 32);
	return db_exec_change(db, st);
}

enum db_status
store_token_revoke_user(struct db *db, int64_t user_id)
{
	struct db_stmt *st = db_stmt(
	    db, "UPDATE tokens SET revoked = 1 WHERE user_id = ?1 AND revoked = 0");
	db_bind_int64(st, 1, user_id);
	return db_exec_stmt(db, st);
}
