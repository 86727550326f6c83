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
 */
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

int
main(int argc, char **argv)
{
	if (argc != 3 || atof(argv[2]) <= 0) {
		fprintf(stderr, "usage: bench-sqlite DIR SECONDS\n");
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
	size_t cap = 1 << 16, n = 0;
	double *lat = malloc(cap * sizeof(*lat));
	double start = now_s(), end = start + seconds, t = start;
	while (t < end) {
		double t0 = t;
		sqlite3_bind_int64(insert, 1, (int64_t)(n % 1000) + 1);
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
		if (n == cap) {
			cap *= 2;
			lat = realloc(lat, cap * sizeof(*lat));
			if (lat == NULL)
				die(NULL, "out of memory");
		}
		lat[n++] = t - t0;
	}
	double took = t - start;
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("{\"commits\": %zu, \"seconds\": %.3f, \"per_second\": %.1f, "
	       "\"p50_ms\": %.3f, \"p99_ms\": %.3f}\n",
	    n, took, (double)n / took, lat[n / 2] * 1000,
	    lat[n * 99 / 100 < n ? n * 99 / 100 : n - 1] * 1000);
	free(lat);
	sqlite3_finalize(begin);
	sqlite3_finalize(insert);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	unlink(path);
	char side[4200];
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	return 0;
}
