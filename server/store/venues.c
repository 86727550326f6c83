#include "store/venues.h"

const char *const venue_kinds[] = {
    "street_market", "community", "counter", "institution", NULL};

#define VENUE_COLS "id, name, kind, subdistrict, address"

static json_t *
venue_row(struct db_stmt *st)
{
	const char *address = db_col_text(st, 4);
	return json_pack("{s:I, s:s, s:s, s:s, s:o}", "id",
	    (json_int_t)db_col_int64(st, 0), "name", db_col_text(st, 1), "kind",
	    db_col_text(st, 2), "subdistrict", db_col_text(st, 3), "address",
	    address ? json_string(address) : json_null());
}

enum db_status
store_venue_get(struct db *db, int64_t id, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " VENUE_COLS " FROM venues WHERE id = ?1");
	db_bind_int64(st, 1, id);
	return db_row(db, st, venue_row, out);
}

enum db_status
store_venue_list(struct db *db, int64_t after_id, int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db, "SELECT " VENUE_COLS " FROM venues "
	                                 "WHERE id > ?1 ORDER BY id LIMIT ?2");
	db_bind_int64(st, 1, after_id);
	db_bind_int64(st, 2, limit + 1);
	return db_rows(db, st, venue_row, out);
}

enum db_status
store_venue_create(struct db *db, const char *name, const char *kind,
    const char *subdistrict, const char *address, int64_t *id)
{
	struct db_stmt *st = db_stmt(db, "INSERT INTO venues (name, kind, subdistrict, "
	                                 "address) VALUES (?1, ?2, ?3, ?4)");
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, kind);
	db_bind_text(st, 3, subdistrict);
	db_bind_text(st, 4, address);
	enum db_status s = db_exec_stmt(db, st);
	if (s == DB_OK)
		*id = db_last_insert_id(db);
	return s;
}
