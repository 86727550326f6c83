#include "store/audit.h"

#include <stdint.h>

#include "util.h"

enum db_status
store_audit_append(struct db *db, const struct audit_entry *e)
{
	/* The strings outlive the step: bound without a copy (NULL binds
	 * NULL). */
	struct db_stmt *st =
	    db_stmt(db, "INSERT INTO audit_log (at, user_id, "
	                "username, action, object_type, object_id, remote_addr) "
	                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	db_bind_int64(st, 1, e->at);
	db_bind_int64(st, 2, e->user_id);
	db_bind_text_static(st, 3, e->username);
	db_bind_text_static(st, 4, e->action);
	db_bind_text_static(st, 5, e->object_type);
	db_bind_json(st, 6, e->object_id); /* an integer id, a text id, or NULL */
	db_bind_text_static(st, 7, e->remote_addr);
	return db_exec_stmt(db, st);
}

static json_t *
audit_row(struct db_stmt *st)
{
	char at[21];
	format_rfc3339(db_col_int64(st, 1), at);
	json_t *object_id;
	if (db_col_is_int(st, 6))
		object_id = json_integer(db_col_int64(st, 6));
	else if (db_col_is_null(st, 6))
		object_id = json_null();
	else
		object_id = json_string(db_col_text(st, 6));
	return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:o, s:s}", "id",
	    (json_int_t)db_col_int64(st, 0), "at", at, "user_id",
	    (json_int_t)db_col_int64(st, 2), "username", db_col_text(st, 3), "action",
	    db_col_text(st, 4), "object_type", db_col_text(st, 5), "object_id",
	    object_id, "remote_addr", db_col_text(st, 7));
}

enum db_status
store_audit_list(struct db *db, const struct audit_filter *f, int64_t before_id,
    int limit, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT id, at, user_id, username, action, "
	                "object_type, object_id, remote_addr FROM audit_log "
	                "WHERE id < ?1 AND at BETWEEN ?2 AND ?3 "
	                "AND (CAST(?4 AS BIGINT) = 0 OR user_id = ?4) "
	                "ORDER BY id DESC LIMIT ?5");
	db_bind_int64(st, 1, before_id > 0 ? before_id : INT64_MAX);
	db_bind_int64(st, 2, f->has_from ? f->from : INT64_MIN);
	db_bind_int64(st, 3, f->has_to ? f->to : INT64_MAX);
	db_bind_int64(st, 4, f->user_id);
	db_bind_int64(st, 5, limit + 1);
	return db_rows(db, st, audit_row, out);
}
