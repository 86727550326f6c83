#include "store/prices.h"

#include <stddef.h>

static const char *const reason_names[] = {
    [PRICE_INITIAL] = "initial",
    [PRICE_CHANGE] = "change",
};

enum db_status
price_set(struct db *db, int64_t product_id, fen_t price_fen, enum price_reason reason,
    int64_t user_id, int64_t now)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT price_fen, from_at FROM price_history WHERE product_id = ?1 "
	    "ORDER BY from_at DESC, id DESC LIMIT 1");
	db_bind_int64(st, 1, product_id);
	enum db_status s = db_step_one(db, st);
	fen_t newest = s == DB_OK ? db_col_int64(st, 0) : 0;
	int64_t from_at = s == DB_OK ? db_col_int64(st, 1) : now;
	db_reset(st);
	if (s == DB_OK && newest == price_fen)
		return DB_OK;
	if (s != DB_OK && s != DB_NOT_FOUND)
		return s;
	st = db_stmt(db,
	    "INSERT INTO price_history (product_id, price_fen, from_at, reason, "
	    "user_id) VALUES (?1, ?2, ?3, ?4, ?5)");
	db_bind_int64(st, 1, product_id);
	db_bind_int64(st, 2, price_fen);
	db_bind_int64(st, 3, now > from_at ? now : from_at);
	db_bind_text_static(st, 4, reason_names[reason]);
	if (user_id > 0)
		db_bind_int64(st, 5, user_id);
	else
		db_bind_null(st, 5);
	return db_exec_stmt(db, st);
}

static json_t *
price_row(struct db_stmt *st)
{
	char from[21];
	format_rfc3339(db_col_int64(st, 2), from);
	return json_pack("{s:I, s:I, s:s}", "id", (json_int_t)db_col_int64(st, 0),
	    "price_fen", (json_int_t)db_col_int64(st, 1), "from", from);
}

enum db_status
store_price_list(struct db *db, int64_t product_id, const struct price_key *after,
    int limit, json_t **out)
{
	*out = NULL;
	struct db_stmt *st = db_stmt(db, "SELECT 1 FROM products WHERE id = ?1");
	db_bind_int64(st, 1, product_id);
	enum db_status s = db_exists(db, st);
	if (s != DB_OK)
		return s;
	/* The first page starts after a key above every entry's. */
	st = db_stmt(db, "SELECT id, price_fen, from_at FROM price_history "
	                 "WHERE product_id = ?1 AND (from_at, id) < (?2, ?3) "
	                 "ORDER BY from_at DESC, id DESC LIMIT ?4");
	db_bind_int64(st, 1, product_id);
	db_bind_int64(st, 2, after ? after->from_at : INT64_MAX);
	db_bind_int64(st, 3, after ? after->id : INT64_MAX);
	db_bind_int64(st, 4, limit + 1);
	return db_rows(db, st, price_row, out);
}

int
price_verify(struct db *db, void (*bad)(int64_t, fen_t, bool, fen_t, void *), void *arg)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT id, price_fen, newest FROM (SELECT p.id AS id, "
	    "p.price_fen AS price_fen, (SELECT h.price_fen FROM price_history h "
	    "WHERE h.product_id = p.id ORDER BY h.from_at DESC, h.id DESC LIMIT 1) "
	    "AS newest FROM products p) n WHERE newest IS DISTINCT FROM price_fen "
	    "ORDER BY id");
	int n = 0, rc;
	while ((rc = db_step(st)) == DB_ROW) {
		n++;
		bad(db_col_int64(st, 0), db_col_int64(st, 1), !db_col_is_null(st, 2),
		    db_col_int64(st, 2), arg);
	}
	db_reset(st);
	return rc == DB_DONE ? n : -1;
}
