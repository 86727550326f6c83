#include "store/stock.h"

#include <stddef.h>

#include "log.h"

static const char *const reason_names[] = {
    [STOCK_INITIAL] = "initial",
    [STOCK_CORRECTION] = "correction",
    [STOCK_SALE] = "sale",
    [STOCK_SALE_VOID] = "sale_void",
    [STOCK_ORDER] = "order",
    [STOCK_ORDER_CANCEL] = "order_cancel",
    [STOCK_LOT] = "lot",
};

enum db_status
stock_move(struct db *db, int64_t product_id, int64_t delta, enum stock_reason reason,
    const char *ref, int64_t user_id, int64_t now, bool floor_zero,
    int64_t *stock_after)
{
	/* One statement reads and changes the stock, so two writers can
	 * never both pass the floor check on the same old value. (Not
	 * UPDATE ... RETURNING: RETURNING makes SQLite open a statement
	 * journal, which inside the writer's batch costs more than the
	 * update itself.) */
	struct db_stmt *st = db_stmt(db,
	    "UPDATE products SET stock = stock + ?2, updated_at = ?3 "
	    "WHERE id = ?1 AND (CAST(?4 AS BIGINT) = 0 OR stock + ?2 >= 0)");
	db_bind_int64(st, 1, product_id);
	db_bind_int64(st, 2, delta);
	db_bind_int64(st, 3, now);
	db_bind_int64(st, 4, floor_zero);
	enum db_status s = db_exec_change(db, st);
	if (s == DB_CONSTRAINT) {
		/* Only the integer CHECK of schema 0007 can refuse it: the new
		 * stock left 64 bits. An error, never "out of stock". */
		log_warn("stock of product %lld: a change of %lld leaves 64 bits",
		    (long long)product_id, (long long)delta);
		return DB_ERROR;
	}
	if (s == DB_NOT_FOUND) {
		/* No such product, or the floor refused it. */
		st = db_stmt(db, "SELECT 1 FROM products WHERE id = ?1");
		db_bind_int64(st, 1, product_id);
		s = db_exists(db, st);
		return s == DB_OK ? DB_CONSTRAINT : s;
	}
	if (s != DB_OK)
		return s;
	if (stock_after != NULL) {
		st = db_stmt(db, "SELECT stock FROM products WHERE id = ?1");
		db_bind_int64(st, 1, product_id);
		s = db_step_one(db, st);
		*stock_after = s == DB_OK ? db_col_int64(st, 0) : 0;
		db_reset(st);
		if (s != DB_OK)
			return s == DB_NOT_FOUND ? DB_ERROR : s;
	}
	if (delta == 0)
		return DB_OK;
	/* The stock just set, read back in the same statement. */
	st = db_stmt(db,
	    "INSERT INTO stock_movements (product_id, delta, stock_after, reason, "
	    "ref, user_id, at) VALUES (?1, ?2, "
	    "(SELECT stock FROM products WHERE id = ?1), ?3, ?4, ?5, ?6)");
	db_bind_int64(st, 1, product_id);
	db_bind_int64(st, 2, delta);
	db_bind_text_static(st, 3, reason_names[reason]);
	db_bind_text_static(st, 4, ref);
	if (user_id > 0)
		db_bind_int64(st, 5, user_id);
	else
		db_bind_null(st, 5);
	db_bind_int64(st, 6, now);
	return db_exec_stmt(db, st);
}

int
stock_verify(struct db *db, void (*bad)(int64_t, int64_t, int64_t, void *), void *arg)
{
	struct db_stmt *st = db_stmt(db,
	    "SELECT p.id, p.stock, coalesce(sum(m.delta), 0) AS ledger "
	    "FROM products p LEFT JOIN stock_movements m ON m.product_id = p.id "
	    "GROUP BY p.id HAVING p.stock <> coalesce(sum(m.delta), 0) ORDER BY p.id");
	int n = 0, rc;
	while ((rc = db_step(st)) == DB_ROW) {
		n++;
		bad(db_col_int64(st, 0), db_col_int64(st, 1), db_col_int64(st, 2), arg);
	}
	db_reset(st);
	return rc == DB_DONE ? n : -1;
}
