#include "store/audit.h"

#include <stdint.h>

#include "util.h"

enum db_status
store_audit_append(struct db *db, const struct audit_entry *e)
{
	/* The strings outlive the step: bound without a copy (NULL binds
	 * NULL). */
	sqlite3_stmt *st =
	    db_stmt(db, "INSERT INTO audit_log (at, user_id, "
	                "username, action, object_type, object_id, remote_addr) "
	                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	sqlite3_bind_int64(st, 1, e->at);
	sqlite3_bind_int64(st, 2, e->user_id);
	sqlite3_bind_text(st, 3, e->username, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->object_type, -1, SQLITE_STATIC);
	if (json_is_integer(e->object_id))
		sqlite3_bind_int64(st, 6, json_integer_value(e->object_id));
	else if (json_is_string(e->object_id))
		sqlite3_bind_text(
		    st, 6, json_string_value(e->object_id), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e->remote_addr, -1, SQLITE_STATIC);
	return db_exec_stmt(db, st);
}

static json_t *
audit_row(sqlite3_stmt *st)
{
	char at[21];
	format_rfc3339(sqlite3_column_int64(st, 1), at);
	json_t *object_id;
	switch (sqlite3_column_type(st, 6)) {
	case SQLITE_INTEGER:
		object_id = json_integer(sqlite3_column_int64(st, 6));
		break;
	case SQLITE_NULL:
		object_id = json_null();
		break;
	default:
		object_id = json_string(db_col_text(st, 6));
		break;
	}
	return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:o, s:s}", "id",
	    (json_int_t)sqlite3_column_int64(st, 0), "at", at, "user_id",
	    (json_int_t)sqlite3_column_int64(st, 2), "username", db_col_text(st, 3),
	    "action", db_col_text(st, 4), "object_type", db_col_text(st, 5),
	    "object_id", object_id, "remote_addr", db_col_text(st, 7));
}

enum db_status
store_audit_list(struct db *db, const struct audit_filter *f, int64_t before_id,
    int limit, json_t **out)
{
	sqlite3_stmt *st = db_stmt(db,
	    "SELECT id, at, user_id, username, action, "
	    "object_type, object_id, remote_addr FROM audit_log "
	    "WHERE id < ?1 AND at BETWEEN ?2 AND ?3 AND (?4 = 0 OR user_id = ?4) "
	    "ORDER BY id DESC LIMIT ?5");
	sqlite3_bind_int64(st, 1, before_id > 0 ? before_id : INT64_MAX);
	sqlite3_bind_int64(st, 2, f->has_from ? f->from : INT64_MIN);
	sqlite3_bind_int64(st, 3, f->has_to ? f->to : INT64_MAX);
	sqlite3_bind_int64(st, 4, f->user_id);
	sqlite3_bind_int(st, 5, limit + 1);
	return db_rows(db, st, audit_row, out);
}
