#include "store/catalog.h"

#include <stdio.h>

static enum db_status
region_of(struct db *db, const char *sql, int64_t id, char *buf, size_t len)
{
	struct db_stmt *st = db_stmt(db, sql);
	db_bind_int64(st, 1, id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK)
		snprintf(buf, len, "%s", db_col_text(st, 0));
	db_reset(st);
	return s;
}

enum db_status
store_producer_region(struct db *db, int64_t id, char *buf, size_t len)
{
	return region_of(
	    db, "SELECT region_code FROM producers WHERE id = ?1", id, buf, len);
}

enum db_status
store_product_region(struct db *db, int64_t id, char *buf, size_t len)
{
	return region_of(db,
	    "SELECT p.region_code FROM products x "
	    "JOIN producers p ON p.id = x.producer_id WHERE x.id = ?1",
	    id, buf, len);
}

#define REGION_COLS "code, name, name_en, province, partnership"

static json_t *
region_row(struct db_stmt *st)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", db_col_text(st, 0),
	    "name", db_col_text(st, 1), "name_en", db_col_text(st, 2), "province",
	    db_col_text(st, 3), "partnership", db_col_text(st, 4));
}

enum db_status
store_region_list(struct db *db, const char *after_code, int limit, json_t **out)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT " REGION_COLS " FROM regions "
	    "WHERE CAST(?1 AS TEXT) IS NULL OR code > ?1 ORDER BY code LIMIT ?2");
	db_bind_text(st, 1, after_code);
	db_bind_int64(st, 2, limit + 1);
	return db_rows(db, st, region_row, out);
}

enum db_status
store_region_get(struct db *db, const char *code, json_t **out)
{
	struct db_stmt *st =
	    db_stmt(db, "SELECT " REGION_COLS " FROM regions WHERE code = ?1");
	db_bind_text(st, 1, code);
	return db_row(db, st, region_row, out);
}

enum db_status
store_region_exists(struct db *db, const char *code)
{
	struct db_stmt *st = db_stmt(db, "SELECT 1 FROM regions WHERE code = ?1");
	db_bind_text(st, 1, code);
	return db_exists(db, st);
}

enum db_status
store_region_create(struct db *db, const char *code, const char *name,
    const char *name_en, const char *province, const char *partnership)
{
	struct db_stmt *st = db_stmt(db, "INSERT INTO regions (" REGION_COLS ") "
	                                 "VALUES (?1, ?2, ?3, ?4, ?5)");
	db_bind_text(st, 1, code);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, name_en);
	db_bind_text(st, 4, province);
	db_bind_text(st, 5, partnership);
	return db_exec_stmt(db, st);
}
