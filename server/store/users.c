#include "store/users.h"

#include <stdio.h>
#include <string.h>

enum db_status
store_user_by_token(struct db *db, const unsigned char hash[32], int64_t now,
    struct user *out)
{
	sqlite3_stmt *st = db_stmt(db,
	    "SELECT u.id, u.username, u.role, coalesce(u.region_code, '') "
	    "FROM tokens t JOIN users u ON u.id = t.user_id "
	    "WHERE t.hash = ?1 AND t.revoked = 0 AND t.expires_at > ?2 AND u.active = 1");
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->username, sizeof(out->username), "%s", db_col_text(st, 1));
		out->role = role_from_name(db_col_text(st, 2));
		snprintf(out->region_code, sizeof(out->region_code), "%s", db_col_text(st, 3));
	}
	sqlite3_reset(st);
	return s;
}

enum db_status
store_user_create(struct db *db, const char *username, const char *display_name,
    const char *role, const char *region_code, const char *password_hash,
    int64_t now, int64_t *id)
{
	sqlite3_stmt *st = db_stmt(db,
	    "INSERT INTO users (username, display_name, role, region_code, "
	    "password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	db_bind_text(st, 1, username);
	db_bind_text(st, 2, display_name);
	db_bind_text(st, 3, role);
	db_bind_text(st, 4, region_code);
	db_bind_text(st, 5, password_hash);
	sqlite3_bind_int64(st, 6, now);
	enum db_status s = db_exec_stmt(db, st);
	if (s == DB_OK)
		*id = db_last_insert_id(db);
	return s;
}

enum db_status
store_user_get(struct db *db, int64_t id, json_t **out)
{
	sqlite3_stmt *st = db_stmt(db,
	    "SELECT id, username, display_name, role, region_code, active "
	    "FROM users WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	*out = NULL;
	if (s == DB_OK) {
		const char *region = db_col_text(st, 4);
		*out = json_pack("{s:I, s:s, s:s, s:s, s:o, s:b}",
		    "id", (json_int_t)sqlite3_column_int64(st, 0),
		    "username", db_col_text(st, 1), "display_name", db_col_text(st, 2),
		    "role", db_col_text(st, 3),
		    "region_code", region ? json_string(region) : json_null(),
		    "active", sqlite3_column_int(st, 5));
	}
	sqlite3_reset(st);
	return s;
}
