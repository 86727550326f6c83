#include "store/market_days.h"

#include <stdio.h>

enum db_status
store_stall_info(struct db *db, int64_t stall_id, int64_t *market_day_id,
    int64_t *operator_id, char *market_day_status, size_t len, char *channel,
    size_t chlen)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT s.market_day_id, s.operator_id, "
	    "m.status, m.channel FROM stalls s "
	    "JOIN market_days m ON m.id = s.market_day_id WHERE s.id = ?1");
	sqlite3_bind_int64(st, 1, stall_id);
	enum db_status s = db_step_one(db, st);
	if (s == DB_OK) {
		*market_day_id = sqlite3_column_int64(st, 0);
		*operator_id = sqlite3_column_int64(st, 1);
		snprintf(market_day_status, len, "%s", db_col_text(st, 2));
		snprintf(channel, chlen, "%s", db_col_text(st, 3));
	}
	sqlite3_reset(st);
	return s;
}
