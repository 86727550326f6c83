/* server/http/metrics.c: counting, the exposition, the loopback rule. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"
#include "unit.h"

/* The value of the line that starts with prefix followed by a space. */
static long long
value_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
			return atoll(p + n + 1);
	return -1;
}

static void
test_loopback(void)
{
	CHECK(metrics_loopback("127.0.0.1"));
	CHECK(metrics_loopback("127.1.2.3"));
	CHECK(metrics_loopback("::1"));
	CHECK(metrics_loopback("::ffff:127.0.0.1"));
	CHECK(!metrics_loopback("192.0.2.2"));
	CHECK(!metrics_loopback("128.0.0.1"));
	CHECK(!metrics_loopback("10.127.0.1"));
	CHECK(!metrics_loopback("::2"));
	CHECK(!metrics_loopback("::ffff:10.0.0.1"));
	CHECK(!metrics_loopback("fd00::2"));
	CHECK(!metrics_loopback("localhost"));
	CHECK(!metrics_loopback(""));
	CHECK(!metrics_loopback("127.0.0.1 "));
	CHECK(!metrics_loopback(NULL));
}

static void
test_requests(void)
{
	metrics_request("GET", "/api/v1/products", 200, 300);     /* le 0.0005 */
	metrics_request("GET", "/api/v1/products", 200, 700);     /* le 0.001 */
	metrics_request("GET", "/api/v1/products", 304, 9000000); /* +Inf */
	metrics_request("POST", "/api/v1/products", 400, 1000);   /* le 0.001 */
	metrics_request("GET", NULL, 404, 10);
	char *t = metrics_text();
	CHECK(value_of(t, "marketd_http_requests_total{route=\"GET "
	                  "/api/v1/products\",status=\"200\"}") == 2);
	CHECK(value_of(t, "marketd_http_requests_total{route=\"GET "
	                  "/api/v1/products\",status=\"304\"}") == 1);
	CHECK(value_of(t, "marketd_http_requests_total{route=\"POST "
	                  "/api/v1/products\",status=\"400\"}") == 1);
	CHECK(value_of(t, "marketd_http_requests_total{route=\"GET "
	                  "(unmatched)\",status=\"404\"}") == 1);
	/* No line for a pair never seen. */
	CHECK(value_of(t, "marketd_http_requests_total{route=\"POST "
	                  "/api/v1/products\",status=\"200\"}") == -1);
	/* Buckets are cumulative, +Inf is the count. */
	const char *h = "marketd_http_request_duration_seconds";
	char key[256];
	snprintf(key, sizeof(key),
	    "%s_bucket{route=\"GET /api/v1/products\",le=\"0.0005\"}", h);
	CHECK(value_of(t, key) == 1);
	snprintf(key, sizeof(key),
	    "%s_bucket{route=\"GET /api/v1/products\",le=\"0.001\"}", h);
	CHECK(value_of(t, key) == 2);
	snprintf(
	    key, sizeof(key), "%s_bucket{route=\"GET /api/v1/products\",le=\"5\"}", h);
	CHECK(value_of(t, key) == 2);
	snprintf(key, sizeof(key),
	    "%s_bucket{route=\"GET /api/v1/products\",le=\"+Inf\"}", h);
	CHECK(value_of(t, key) == 3);
	snprintf(key, sizeof(key), "%s_count{route=\"GET /api/v1/products\"}", h);
	CHECK(value_of(t, key) == 3);
	snprintf(key, sizeof(key), "%s_sum{route=\"GET /api/v1/products\"}", h);
	CHECK(strstr(t, key) != NULL && strstr(strstr(t, key), " 9.001000\n") != NULL);
	CHECK(strstr(t, "# TYPE marketd_http_requests_total counter\n") != NULL);
	CHECK(strstr(t, "# TYPE marketd_http_request_duration_seconds histogram\n") !=
	      NULL);
	CHECK(strstr(t, "# TYPE marketd_http_connections_open gauge\n") != NULL);
	free(t);
}

static void
test_label_escaping(void)
{
	metrics_request("GET", "/a\"b\\c\nd", 200, 1);
	char *t = metrics_text();
	CHECK(value_of(t, "marketd_http_requests_total{route=\"GET "
	                  "/a\\\"b\\\\c\\nd\",status=\"200\"}") == 1);
	free(t);
}

static void
test_commit(void)
{
	metrics_commit(80, 1);         /* le 0.0001, batch le 1 */
	metrics_commit(3000, 3);       /* le 0.005, batch le 4 */
	metrics_commit(2000000, 5000); /* +Inf both */
	char *t = metrics_text();
	CHECK(value_of(t, "marketd_db_commit_duration_seconds_bucket{le=\"0.0001\"}") ==
	      1);
	CHECK(value_of(t, "marketd_db_commit_duration_seconds_bucket{le=\"0.005\"}") ==
	      2);
	CHECK(value_of(t, "marketd_db_commit_duration_seconds_bucket{le=\"1\"}") == 2);
	CHECK(
	    value_of(t, "marketd_db_commit_duration_seconds_bucket{le=\"+Inf\"}") == 3);
	CHECK(value_of(t, "marketd_db_commit_duration_seconds_count") == 3);
	CHECK(value_of(t, "marketd_db_commit_batch_size_bucket{le=\"1\"}") == 1);
	CHECK(value_of(t, "marketd_db_commit_batch_size_bucket{le=\"2\"}") == 1);
	CHECK(value_of(t, "marketd_db_commit_batch_size_bucket{le=\"4\"}") == 2);
	CHECK(value_of(t, "marketd_db_commit_batch_size_bucket{le=\"+Inf\"}") == 3);
	CHECK(value_of(t, "marketd_db_commit_batch_size_sum") == 5004);
	free(t);
}

#define THREADS 4
#define PER_THREAD 10000

static void *
hammer(void *arg)
{
	for (int i = 0; i < PER_THREAD; i++)
		metrics_request("GET", "/threads", 200 + (i % 2), 1);
	return NULL;
}

/* Counts made by several threads at once all arrive. */
static void
test_threads(void)
{
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	char *s = metrics_text();
	CHECK(
	    value_of(s,
	        "marketd_http_requests_total{route=\"GET /threads\",status=\"200\"}") ==
	    THREADS * PER_THREAD / 2);
	CHECK(
	    value_of(s,
	        "marketd_http_requests_total{route=\"GET /threads\",status=\"201\"}") ==
	    THREADS * PER_THREAD / 2);
	CHECK(value_of(s, "marketd_http_request_duration_seconds_count{route=\"GET "
	                  "/threads\"}") == THREADS * PER_THREAD);
	free(s);
}

/* More routes than the table holds are counted as uncounted, not lost
 * silently, and never crash. */
static void
test_overflow(void)
{
	char path[32];
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/many/%d", i);
		metrics_request("GET", path, 200, 1);
	}
	char *t = metrics_text();
	CHECK(value_of(t, "marketd_http_requests_uncounted_total") > 0);
	free(t);
}

UNIT_MAIN(test_loopback, test_requests, test_label_escaping, test_commit, test_threads,
    test_overflow)
