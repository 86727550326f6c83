/*
 * bench-sqlite: the reference for marketd's durable writes, SQLite's own
 * rate of one-row commits on a given disk. tools/bench runs it in the
 * folder of its benchmark database, so both write to the same disk.
 *
 *   bench-sqlite DIR SECONDS
 *
 * Opens DIR/bench-sqlite.db in WAL mode with synchronous=FULL (as marketd
 * opens its database) and, for SECONDS, commits one transaction per row:
 * BEGIN IMMEDIATE, one INSERT of an order-sized row, COMMIT. Prints one
 * JSON object: {"commits", "seconds", "per_second", "p50_ms", "p99_ms"}.
 * The database is removed at the end.
 *
 *   bench-sqlite --sales DB DIR SECONDS
 *
 * The limit for stall sales: copies marketd's database DB (the bench's
 * dataset) to DIR and, for SECONDS, writes there the rows that one
 * POST /sales/batch of 100 sales writes, with SQLite alone, in one
 * transaction a batch: each sale's row, its 1 to 3 lines, each line's
 * stock update and stock movement; then the batch's rollups (product by
 * day and by month, region by day, market day by day, day), summed in
 * memory first as the writer sums them, and the request's audit entry.
 * Same schema, indexes, triggers and synchronous=FULL as marketd; no
 * HTTP, JSON, validation or price lookups. Prints {"sales", "batches",
 * "seconds", "per_second", "p50_ms", "p99_ms"} (the latencies a batch's).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Latencies in seconds, growing as they come. */
struct latencies {
	double *v;
	size_t n, cap;
};

static void die(sqlite3 *db, const char *what);

static void
lat_add(struct latencies *l, double seconds)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1 << 14;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL)
			die(NULL, "out of memory");
	}
	l->v[l->n++] = seconds;
}

/* The p50 and p99, in milliseconds (sorts l). */
static void
lat_ms(struct latencies *l, double *p50, double *p99)
{
	qsort(l->v, l->n, sizeof(*l->v), cmp_double);
	size_t i = l->n * 99 / 100 < l->n ? l->n * 99 / 100 : l->n - 1;
	*p50 = l->v[l->n / 2] * 1000;
	*p99 = l->v[i] * 1000;
}

/* A database and its -wal and -shm files, gone. */
static void
remove_db(const char *path)
{
	char side[4200];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

static void
die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench-sqlite: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
	exit(1);
}

static void
exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(db, sql);
}

static sqlite3_stmt *
prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(db, sql);
	return st;
}

static void
step(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		die(db, sqlite3_sql(st));
	sqlite3_reset(st);
}

struct product {
	int64_t id, price;
	char region[32];
};

struct stall {
	int64_t id, day, operator_id;
	int channel; /* index into the rollups' channel columns */
};

struct tally {
	int64_t product, units, fen;
	int channel;
};

struct region_count {
	const char *code;
	int64_t n;
};

/* A batch's sales at one market day. */
struct day_count {
	int64_t day, n, fen;
};

static int
cmp_day_count(const void *a, const void *b)
{
	const struct day_count *x = a, *y = b;
	return (x->day > y->day) - (x->day < y->day);
}

static int
cmp_tally(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;
	return (x->product > y->product) - (x->product < y->product);
}

static int
sales(const char *src, const char *dir, double seconds)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench-sqlite-sales.db", dir);
	unlink(path);
	sqlite3 *from, *db;
	if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die(from, src);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(db, path);
	sqlite3_backup *b = sqlite3_backup_init(db, "main", from, "main");
	if (b == NULL || sqlite3_backup_step(b, -1) != SQLITE_DONE)
		die(db, "backup");
	sqlite3_backup_finish(b);
	sqlite3_close(from);
	exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
	         "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536");

	static const char *const channels[] = {
	    "holiday_market", "caravan", "counter", "five_into", "online"};
	size_t np = 0, ns = 0;
	struct product *products = calloc(20000, sizeof(*products));
	struct stall *stalls = calloc(200, sizeof(*stalls));
	sqlite3_stmt *q = prep(db,
	    "SELECT x.id, x.price_fen, coalesce(p.region_code, '') FROM products x "
	    "LEFT JOIN producers p ON p.id = x.producer_id WHERE x.active = 1 ORDER BY "
	    "x.id LIMIT 20000");
	while (sqlite3_step(q) == SQLITE_ROW) {
		products[np].id = sqlite3_column_int64(q, 0);
		products[np].price = sqlite3_column_int64(q, 1);
		snprintf(products[np].region, sizeof(products[np].region), "%s",
		    (const char *)sqlite3_column_text(q, 2));
		np++;
	}
	sqlite3_finalize(q);
	q = prep(db,
	    "SELECT s.id, s.market_day_id, s.operator_id, d.channel FROM stalls "
	    "s JOIN market_days d ON d.id = s.market_day_id WHERE d.status <> "
	    "'cancelled' ORDER BY d.date DESC, s.id LIMIT 200");
	while (sqlite3_step(q) == SQLITE_ROW) {
		stalls[ns].id = sqlite3_column_int64(q, 0);
		stalls[ns].day = sqlite3_column_int64(q, 1);
		stalls[ns].operator_id = sqlite3_column_int64(q, 2);
		stalls[ns].channel = 0;
		for (int c = 0; c < 5; c++)
			if (strcmp((const char *)sqlite3_column_text(q, 3),
			        channels[c]) == 0)
				stalls[ns].channel = c;
		ns++;
	}
	sqlite3_finalize(q);
	if (np == 0 || ns == 0)
		die(NULL, "the dataset has no products or no stalls");

	sqlite3_stmt *begin = prep(db, "BEGIN IMMEDIATE"), *commit = prep(db, "COMMIT");
	sqlite3_stmt *sale = prep(db,
	    "INSERT INTO sales (id, stall_id, market_day_id, operator_id, recorded_at, "
	    "recorded_date, received_at, payment, total_fen, fingerprint) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	sqlite3_stmt *line =
	    prep(db, "INSERT INTO sale_lines (sale_seq, line_no, product_id, quantity, "
	             "unit_price_fen, amount_fen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	sqlite3_stmt *stock = prep(db,
	    "UPDATE products SET stock = stock + ?2, updated_at = ?3 WHERE id = ?1");
	sqlite3_stmt *move = prep(db,
	    "INSERT INTO stock_movements (product_id, delta, stock_after, reason, ref, "
	    "user_id, at) VALUES (?1, ?2, (SELECT stock FROM products WHERE id = ?1), "
	    "'sale', ?3, ?4, ?5)");
	/* The product rollups, by day and by month: the same figures. */
#define FIGURES                                                                        \
	"units, holiday_market_fen, caravan_fen, counter_fen, five_into_fen, "         \
	"online_fen) VALUES (?1, %s, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT "             \
	"(product_id, "                                                                \
	"%s) DO UPDATE SET units = units + excluded.units, holiday_market_fen = "      \
	"holiday_market_fen + excluded.holiday_market_fen, caravan_fen = caravan_fen " \
	"+ "                                                                           \
	"excluded.caravan_fen, counter_fen = counter_fen + excluded.counter_fen, "     \
	"five_into_fen = five_into_fen + excluded.five_into_fen, online_fen = "        \
	"online_fen + excluded.online_fen"
	char sql[1024];
	snprintf(sql, sizeof(sql),
	    "INSERT INTO report_product_day (product_id, date, " FIGURES, "?2", "date");
	sqlite3_stmt *pday = prep(db, sql);
	snprintf(sql, sizeof(sql),
	    "INSERT INTO report_product_month (product_id, month, " FIGURES,
	    "substr(?2, 1, 7)", "month");
	sqlite3_stmt *pmonth = prep(db, sql);
#undef FIGURES
	sqlite3_stmt *rday = prep(db,
	    "INSERT INTO report_region_day (region_code, date, stall_sales, orders) "
	    "VALUES (?1, ?2, ?3, 0) ON CONFLICT (region_code, date) DO UPDATE SET "
	    "stall_sales = stall_sales + excluded.stall_sales");
	sqlite3_stmt *day = prep(db,
	    "INSERT INTO report_day (date, stall_sales, orders) VALUES (?1, ?2, 0) ON "
	    "CONFLICT (date) DO UPDATE SET stall_sales = stall_sales + "
	    "excluded.stall_sales");
	sqlite3_stmt *mday = prep(db,
	    "INSERT INTO report_market_day (market_day_id, date, sales, total_fen) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (market_day_id, date) DO UPDATE SET "
	    "sales = sales + excluded.sales, total_fen = total_fen + "
	    "excluded.total_fen");
	sqlite3_stmt *audit = prep(db,
	    "INSERT INTO audit_log (at, user_id, username, action, object_type, "
	    "object_id, remote_addr) VALUES (?1, 1, 'admin', 'POST "
	    "/api/v1/sales/batch', "
	    "'sale', NULL, '127.0.0.1')");

	static const char *const payments[] = {
	    "wechat", "alipay", "cash", "card", "other"};
	static const char fingerprint[] =
	    "3f5a9c0e8d7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877";
	uint64_t rnd = 88172645463325252ull;
#define RND() (rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17, rnd)
	struct tally t[300];
	struct region_count regions[300];
	struct day_count days[100];
	size_t nsales = 0;
	struct latencies lat = {0};
	int64_t now = (int64_t)time(NULL);
	const char *date = "2026-12-01";
	double start = now_s(), end = start + seconds, tnow = start;
	while (tnow < end) {
		double t0 = tnow;
		size_t nt = 0, nr = 0, nd = 0;
		step(db, begin);
		for (int i = 0; i < 100; i++) {
			const struct stall *st = &stalls[RND() % ns];
			int nl = 1 + (int)(RND() % 3);
			const struct product *lp[3];
			int64_t qty[3], total = 0;
			for (int l = 0; l < nl; l++) {
				lp[l] = &products[RND() % np];
				qty[l] = 1 + (int64_t)(RND() % 4);
				total += lp[l]->price * qty[l];
			}
			char id[48];
			snprintf(id, sizeof(id), "ref-%.0f-%zu", start, nsales);
			sqlite3_bind_text(sale, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(sale, 2, st->id);
			sqlite3_bind_int64(sale, 3, st->day);
			sqlite3_bind_int64(sale, 4, st->operator_id);
			sqlite3_bind_int64(sale, 5, now);
			sqlite3_bind_text(sale, 6, date, -1, SQLITE_STATIC);
			sqlite3_bind_int64(sale, 7, now);
			sqlite3_bind_text(
			    sale, 8, payments[RND() % 5], -1, SQLITE_STATIC);
			sqlite3_bind_int64(sale, 9, total);
			sqlite3_bind_text(sale, 10, fingerprint, -1, SQLITE_STATIC);
			step(db, sale);
			int64_t seq = sqlite3_last_insert_rowid(db);
			for (int l = 0; l < nl; l++) {
				sqlite3_bind_int64(line, 1, seq);
				sqlite3_bind_int64(line, 2, l);
				sqlite3_bind_int64(line, 3, lp[l]->id);
				sqlite3_bind_int64(line, 4, qty[l]);
				sqlite3_bind_int64(line, 5, lp[l]->price);
				sqlite3_bind_int64(line, 6, lp[l]->price * qty[l]);
				step(db, line);
				sqlite3_bind_int64(stock, 1, lp[l]->id);
				sqlite3_bind_int64(stock, 2, -qty[l]);
				sqlite3_bind_int64(stock, 3, now);
				step(db, stock);
				sqlite3_bind_int64(move, 1, lp[l]->id);
				sqlite3_bind_int64(move, 2, -qty[l]);
				sqlite3_bind_text(move, 3, id, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(move, 4, st->operator_id);
				sqlite3_bind_int64(move, 5, now);
				step(db, move);
				t[nt++] = (struct tally){lp[l]->id, qty[l],
				    lp[l]->price * qty[l], st->channel};
			}
			/* The sale counts once in each region of its lines. */
			for (int l = 0; l < nl; l++) {
				const char *r = lp[l]->region;
				bool again = r[0] == '\0';
				for (int k = 0; k < l && !again; k++)
					again = strcmp(lp[k]->region, r) == 0;
				size_t j = 0;
				while (
				    !again && j < nr && strcmp(regions[j].code, r) != 0)
					j++;
				if (again)
					continue;
				if (j == nr)
					regions[nr++] = (struct region_count){r, 0};
				regions[j].n++;
			}
			/* And once at its market day, with its total. */
			size_t d = 0;
			while (d < nd && days[d].day != st->day)
				d++;
			if (d == nd)
				days[nd++] = (struct day_count){st->day, 0, 0};
			days[d].n++;
			days[d].fen += total;
			nsales++;
		}
		/* The batch's rollups, each key once. */
		qsort(t, nt, sizeof(*t), cmp_tally);
		for (size_t i = 0; i < nt;) {
			int64_t fen[5] = {0}, units = 0, product = t[i].product;
			for (; i < nt && t[i].product == product; i++) {
				units += t[i].units;
				fen[t[i].channel] += t[i].fen;
			}
			sqlite3_stmt *up[2] = {pday, pmonth};
			for (int k = 0; k < 2; k++) {
				sqlite3_bind_int64(up[k], 1, product);
				sqlite3_bind_text(up[k], 2, date, -1, SQLITE_STATIC);
				sqlite3_bind_int64(up[k], 3, units);
				for (int c = 0; c < 5; c++)
					sqlite3_bind_int64(up[k], 4 + c, fen[c]);
				step(db, up[k]);
			}
		}
		/* Sales by region, each region of the batch once. */
		for (size_t i = 0; i < nr; i++) {
			sqlite3_bind_text(rday, 1, regions[i].code, -1, SQLITE_STATIC);
			sqlite3_bind_text(rday, 2, date, -1, SQLITE_STATIC);
			sqlite3_bind_int64(rday, 3, regions[i].n);
			step(db, rday);
		}
		/* Sales by market day (in key order, as the writer sorts them). */
		qsort(days, nd, sizeof(*days), cmp_day_count);
		for (size_t i = 0; i < nd; i++) {
			sqlite3_bind_int64(mday, 1, days[i].day);
			sqlite3_bind_text(mday, 2, date, -1, SQLITE_STATIC);
			sqlite3_bind_int64(mday, 3, days[i].n);
			sqlite3_bind_int64(mday, 4, days[i].fen);
			step(db, mday);
		}
		sqlite3_bind_text(day, 1, date, -1, SQLITE_STATIC);
		sqlite3_bind_int64(day, 2, 100);
		step(db, day);
		sqlite3_bind_int64(audit, 1, now);
		step(db, audit);
		step(db, commit);
		tnow = now_s();
		lat_add(&lat, tnow - t0);
	}
	double took = tnow - start, p50, p99;
	lat_ms(&lat, &p50, &p99);
	printf("{\"sales\": %zu, \"batches\": %zu, \"seconds\": %.3f, "
	       "\"per_second\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f}\n",
	    nsales, lat.n, took, (double)nsales / took, p50, p99);
	sqlite3_stmt *all[] = {begin, commit, sale, line, stock, move, pday, pmonth,
	    rday, mday, day, audit};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(db);
	free(lat.v);
	free(products);
	free(stalls);
	remove_db(path);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--sales") == 0 && atof(argv[4]) > 0)
		return sales(argv[2], argv[3], atof(argv[4]));
	if (argc != 3 || atof(argv[2]) <= 0) {
		fprintf(stderr, "usage: bench-sqlite DIR SECONDS\n"
		                "       bench-sqlite --sales DB DIR SECONDS\n");
		return 2;
	}
	double seconds = atof(argv[2]);
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench-sqlite.db", argv[1]);
	unlink(path);
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(db, path);
	exec(db,
	    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	    "CREATE TABLE rows (id INTEGER PRIMARY KEY, buyer_id INTEGER NOT NULL, "
	    "total_fen INTEGER NOT NULL, created_at INTEGER NOT NULL, body TEXT NOT "
	    "NULL)");
	sqlite3_stmt *begin, *insert, *commit;
	if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	        "INSERT INTO rows (buyer_id, total_fen, created_at, "
	        "body) VALUES (?1, ?2, ?3, ?4)",
	        -1, &insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK)
		die(db, "prepare");
	/* About what an order's row and lines take. */
	static const char body[] = "{\"lines\":[{\"product_id\":1234,\"quantity\":2,"
	                           "\"unit_price_fen\":1500,\"amount_fen\":3000}],"
	                           "\"fulfillment\":{\"type\":\"delivery\"}}";
	struct latencies lat = {0};
	double start = now_s(), end = start + seconds, t = start;
	while (t < end) {
		double t0 = t;
		sqlite3_bind_int64(insert, 1, (int64_t)(lat.n % 1000) + 1);
		sqlite3_bind_int64(insert, 2, 3000);
		sqlite3_bind_int64(insert, 3, (int64_t)time(NULL));
		sqlite3_bind_text(insert, 4, body, -1, SQLITE_STATIC);
		if (sqlite3_step(begin) != SQLITE_DONE ||
		    sqlite3_step(insert) != SQLITE_DONE ||
		    sqlite3_step(commit) != SQLITE_DONE)
			die(db, "commit");
		sqlite3_reset(begin);
		sqlite3_reset(insert);
		sqlite3_reset(commit);
		t = now_s();
		lat_add(&lat, t - t0);
	}
	double took = t - start, p50, p99;
	lat_ms(&lat, &p50, &p99);
	printf("{\"commits\": %zu, \"seconds\": %.3f, \"per_second\": %.1f, "
	       "\"p50_ms\": %.3f, \"p99_ms\": %.3f}\n",
	    lat.n, took, (double)lat.n / took, p50, p99);
	free(lat.v);
	sqlite3_finalize(begin);
	sqlite3_finalize(insert);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	remove_db(path);
	return 0;
}
