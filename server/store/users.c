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
