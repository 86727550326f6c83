/*
 * Each thread counts into its own shard: a counter has one writer, which
 * adds with a relaxed load and store (a plain move on common hardware, no
 * locked instruction), and a scrape reads the shards with relaxed loads.
 * What a counter means is interned once in global tables (a route's
 * label, a status), lock-free by compare-and-swap; a shard's counters are
 * indexed by those tables' slots.
 */
#include "http/metrics.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/cache.h"
#include "http/conns.h"
#include "util.h"

#define ROUTES_MAX 128  /* distinct "METHOD pattern" labels; a power of 2 */
#define STATUSES_MAX 32 /* distinct statuses */

typedef _Atomic uint64_t counter;

/* Upper bounds of the histograms' buckets, in the unit counted, and the
 * same as the "le" label says it. The last bucket, +Inf, is implicit. */
static const int64_t latency_le[] = {500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
    250000, 500000, 1000000, 2500000, 5000000};
static const char *const latency_label[] = {"0.0005", "0.001", "0.0025", "0.005",
    "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5"};
static const int64_t commit_le[] = {100, 250, 500, 1000, 2500, 5000, 10000, 25000,
    50000, 100000, 250000, 500000, 1000000};
static const char *const commit_label[] = {"0.0001", "0.00025", "0.0005", "0.001",
    "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1"};
static const int64_t batch_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
static const char *const batch_label[] = {
    "1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"};

#define LATENCY_NB (nitems(latency_le) + 1)
#define COMMIT_NB (nitems(commit_le) + 1)
#define BATCH_NB (nitems(batch_le) + 1)

struct shard {
	struct shard *next;
	counter requests[ROUTES_MAX][STATUSES_MAX];
	counter latency[ROUTES_MAX][LATENCY_NB]; /* per bucket, not cumulative */
	counter latency_sum[ROUTES_MAX];         /* microseconds */
	counter commit[COMMIT_NB];
	counter commit_sum; /* microseconds */
	counter batch[BATCH_NB];
	counter batch_sum;
	counter dropped; /* requests beyond the tables */
	counter cache_hits, cache_misses;
};

/* A route label: "GET /api/v1/products", or "GET (unmatched)". */
static _Atomic(char *) routes[ROUTES_MAX];
/* A status: 0 while the slot is free. */
static atomic_int statuses[STATUSES_MAX];

static _Atomic(struct shard *) shards;
static _Thread_local struct shard *mine;

static struct shard *
my_shard(void)
{
	if (mine == NULL) {
		mine = xcalloc(1, sizeof(*mine));
		struct shard *head = atomic_load(&shards);
		do
			mine->next = head;
		while (!atomic_compare_exchange_weak(&shards, &head, mine));
	}
	return mine;
}

static void
bump(counter *c, uint64_t n)
{
	atomic_store_explicit(
	    c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static uint64_t
get(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* The slot of "method pattern" in routes, interning it; -1 when full. */
static int
route_slot(const char *method, const char *pattern)
{
	if (pattern == NULL)
		pattern = "(unmatched)";
	size_t mlen = strlen(method), plen = strlen(pattern);
	uint64_t h = hash_bytes(hash_bytes(HASH_INIT, method, mlen), pattern, plen);
	char *made = NULL;
	int slot = -1;
	for (size_t i = 0; i < ROUTES_MAX; i++) {
		size_t s = (h + i) & (ROUTES_MAX - 1);
		char *k = atomic_load_explicit(&routes[s], memory_order_acquire);
		if (k == NULL) {
			if (made == NULL)
				made = xasprintf("%s %s", method, pattern);
			if (atomic_compare_exchange_strong(&routes[s], &k, made)) {
				made = NULL;
				slot = (int)s;
				break;
			}
			/* k is now the winner's label. */
		}
		if (strncmp(k, method, mlen) == 0 && k[mlen] == ' ' &&
		    strcmp(k + mlen + 1, pattern) == 0) {
			slot = (int)s;
			break;
		}
	}
	free(made);
	return slot;
}

/* The slot of status in statuses, interning it; -1 when full. */
static int
status_slot(int status)
{
	if (status <= 0)
		return -1;
	for (int s = 0; s < STATUSES_MAX; s++) {
		int k = atomic_load(&statuses[s]);
		if (k == 0 && atomic_compare_exchange_strong(&statuses[s], &k, status))
			return s;
		if (k == status)
			return s;
	}
	return -1;
}

static size_t
bucket(const int64_t *le, size_t n, int64_t v)
{
	size_t i = 0;
	while (i < n && v > le[i])
		i++;
	return i;
}

void
metrics_request(const char *method, const char *route_pattern, int status, int64_t usec)
{
	struct shard *sh = my_shard();
	int r = route_slot(method, route_pattern), s = status_slot(status);
	if (r < 0 || s < 0) {
		bump(&sh->dropped, 1);
		return;
	}
	if (usec < 0)
		usec = 0;
	bump(&sh->requests[r][s], 1);
	bump(&sh->latency[r][bucket(latency_le, nitems(latency_le), usec)], 1);
	bump(&sh->latency_sum[r], (uint64_t)usec);
}

static atomic_llong hash_pending, hash_total, hash_refused, hash_abandoned;

void
metrics_cache(bool hit)
{
	struct shard *sh = my_shard();
	bump(hit ? &sh->cache_hits : &sh->cache_misses, 1);
}

void
metrics_hash_queued(void)
{
	atomic_fetch_add(&hash_pending, 1);
}

void
metrics_hash_done(bool abandoned)
{
	atomic_fetch_sub(&hash_pending, 1);
	atomic_fetch_add(abandoned ? &hash_abandoned : &hash_total, 1);
}

void
metrics_hash_refused(void)
{
	atomic_fetch_add(&hash_refused, 1);
}

void
metrics_commit(int64_t usec, int batch_size)
{
	struct shard *sh = my_shard();
	if (usec < 0)
		usec = 0;
	if (batch_size < 0)
		batch_size = 0;
	bump(&sh->commit[bucket(commit_le, nitems(commit_le), usec)], 1);
	bump(&sh->commit_sum, (uint64_t)usec);
	bump(&sh->batch[bucket(batch_le, nitems(batch_le), batch_size)], 1);
	bump(&sh->batch_sum, (uint64_t)batch_size);
}

/* --- the exposition ---------------------------------------------------- */

/* A route label as seen so far, and its slot. */
struct seen {
	const char *label;
	int slot;
};

static int
cmp_seen(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->label, ((const struct seen *)b)->label);
}

/* {route="...",status="..."}-style labels: route (escaped: \, " and
 * newline) when not NULL, then name=value when name is not NULL. */
static void
put_labels(FILE *f, const char *route, const char *name, const char *value)
{
	if (route == NULL && name == NULL)
		return;
	fputc('{', f);
	if (route != NULL) {
		fputs("route=\"", f);
		for (const char *p = route; *p; p++) {
			if (*p == '\\' || *p == '"')
				fprintf(f, "\\%c", *p);
			else if (*p == '\n')
				fputs("\\n", f);
			else
				fputc(*p, f);
		}
		fputc('"', f);
	}
	if (name != NULL)
		fprintf(f, "%s%s=\"%s\"", route ? "," : "", name, value);
	fputc('}', f);
}

/* A histogram's lines from its per-bucket counts (n bounds, then +Inf). */
static void
put_histogram(FILE *f, const char *name, const char *route, const char *const *le,
    size_t n, const uint64_t *counts, double sum)
{
	uint64_t acc = 0;
	for (size_t i = 0; i <= n; i++) {
		acc += counts[i];
		fprintf(f, "%s_bucket", name);
		put_labels(f, route, "le", i < n ? le[i] : "+Inf");
		fprintf(f, " %llu\n", (unsigned long long)acc);
	}
	fprintf(f, "%s_sum", name);
	put_labels(f, route, NULL, NULL);
	fprintf(f, " %.6f\n%s_count", sum, name);
	put_labels(f, route, NULL, NULL);
	fprintf(f, " %llu\n", (unsigned long long)acc);
}

static void
put_requests(FILE *f, const struct seen *routes_seen, size_t nr)
{
	/* The statuses seen so far, by code, with their slots. */
	int codes[STATUSES_MAX], slots[STATUSES_MAX];
	size_t nc = 0;
	for (int s = 0; s < STATUSES_MAX; s++) {
		int code = atomic_load(&statuses[s]);
		if (code == 0)
			continue;
		size_t j = nc++;
		for (; j > 0 && codes[j - 1] > code; j--) {
			codes[j] = codes[j - 1];
			slots[j] = slots[j - 1];
		}
		codes[j] = code;
		slots[j] = s;
	}

	fputs("# HELP marketd_http_requests_total Requests answered, by route "
	      "and status.\n# TYPE marketd_http_requests_total counter\n",
	    f);
	for (size_t i = 0; i < nr; i++) {
		for (size_t c = 0; c < nc; c++) {
			uint64_t n = 0;
			for (struct shard *sh = atomic_load(&shards); sh; sh = sh->next)
				n += get(&sh->requests[routes_seen[i].slot][slots[c]]);
			if (n == 0)
				continue;
			char code[16];
			snprintf(code, sizeof(code), "%d", codes[c]);
			fputs("marketd_http_requests_total", f);
			put_labels(f, routes_seen[i].label, "status", code);
			fprintf(f, " %llu\n", (unsigned long long)n);
		}
	}

	fputs("# HELP marketd_http_request_duration_seconds Time from a "
	      "request's arrival to its reply, by route.\n"
	      "# TYPE marketd_http_request_duration_seconds histogram\n",
	    f);
	for (size_t i = 0; i < nr; i++) {
		int r = routes_seen[i].slot;
		uint64_t counts[LATENCY_NB] = {0}, sum = 0;
		for (struct shard *sh = atomic_load(&shards); sh; sh = sh->next) {
			for (size_t b = 0; b < LATENCY_NB; b++)
				counts[b] += get(&sh->latency[r][b]);
			sum += get(&sh->latency_sum[r]);
		}
		put_histogram(f, "marketd_http_request_duration_seconds",
		    routes_seen[i].label, latency_label, nitems(latency_le), counts,
		    (double)sum / 1e6);
	}
}

char *
metrics_text(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (f == NULL)
		abort(); /* out of memory, as xmalloc would */

	struct seen routes_seen[ROUTES_MAX];
	size_t nr = 0;
	for (int s = 0; s < ROUTES_MAX; s++) {
		const char *k = atomic_load_explicit(&routes[s], memory_order_acquire);
		if (k != NULL)
			routes_seen[nr++] = (struct seen){k, s};
	}
	qsort(routes_seen, nr, sizeof(routes_seen[0]), cmp_seen);
	put_requests(f, routes_seen, nr);

	uint64_t dropped = 0, commit[COMMIT_NB] = {0}, batch[BATCH_NB] = {0};
	uint64_t commit_sum = 0, batch_sum = 0, hits = 0, misses = 0;
	for (struct shard *sh = atomic_load(&shards); sh; sh = sh->next) {
		dropped += get(&sh->dropped);
		hits += get(&sh->cache_hits);
		misses += get(&sh->cache_misses);
		for (size_t b = 0; b < COMMIT_NB; b++)
			commit[b] += get(&sh->commit[b]);
		for (size_t b = 0; b < BATCH_NB; b++)
			batch[b] += get(&sh->batch[b]);
		commit_sum += get(&sh->commit_sum);
		batch_sum += get(&sh->batch_sum);
	}
	fprintf(f,
	    "# HELP marketd_response_cache_hits_total Catalog reads answered "
	    "from the response cache.\n"
	    "# TYPE marketd_response_cache_hits_total counter\n"
	    "marketd_response_cache_hits_total %llu\n"
	    "# HELP marketd_response_cache_misses_total Catalog reads the "
	    "database answered (nothing cached, or changed since).\n"
	    "# TYPE marketd_response_cache_misses_total counter\n"
	    "marketd_response_cache_misses_total %llu\n"
	    "# HELP marketd_response_cache_bodies Reply bodies in memory: "
	    "kept by the response cache or held by replies being sent.\n"
	    "# TYPE marketd_response_cache_bodies gauge\n"
	    "marketd_response_cache_bodies %ld\n",
	    (unsigned long long)hits, (unsigned long long)misses, cache_bodies());
	fprintf(f,
	    "# HELP marketd_http_requests_uncounted_total Requests left "
	    "out of the two above (more routes or statuses than their tables "
	    "hold).\n# TYPE marketd_http_requests_uncounted_total counter\n"
	    "marketd_http_requests_uncounted_total %llu\n",
	    (unsigned long long)dropped);
	fprintf(f,
	    "# HELP marketd_http_connections_open Client connections "
	    "open now.\n# TYPE marketd_http_connections_open gauge\n"
	    "marketd_http_connections_open %d\n",
	    conns_open());
	fprintf(f,
	    "# HELP marketd_http_connections_closed_total Connections the "
	    "server closed, by why: over max-connections, past timeout-header, "
	    "past timeout-body, idle between requests past timeout-idle.\n"
	    "# TYPE marketd_http_connections_closed_total counter\n"
	    "marketd_http_connections_closed_total{reason=\"refused\"} %lld\n"
	    "marketd_http_connections_closed_total{reason=\"header_deadline\"} %lld\n"
	    "marketd_http_connections_closed_total{reason=\"body_deadline\"} %lld\n"
	    "marketd_http_connections_closed_total{reason=\"idle\"} %lld\n",
	    conns_closed(CONNS_REFUSED), conns_closed(CONNS_HEAD_DEADLINE),
	    conns_closed(CONNS_BODY_DEADLINE), conns_closed(CONNS_IDLE));
	fprintf(f,
	    "# HELP marketd_password_hashes_pending Passwords waiting for "
	    "or in scrypt now.\n# TYPE marketd_password_hashes_pending gauge\n"
	    "marketd_password_hashes_pending %lld\n"
	    "# HELP marketd_password_hashes_total Passwords hashed or checked.\n"
	    "# TYPE marketd_password_hashes_total counter\n"
	    "marketd_password_hashes_total %lld\n"
	    "# HELP marketd_password_hashes_refused_total Requests answered 503 "
	    "because the hashing queue was full.\n"
	    "# TYPE marketd_password_hashes_refused_total counter\n"
	    "marketd_password_hashes_refused_total %lld\n"
	    "# HELP marketd_password_hashes_abandoned_total Passwords not hashed "
	    "because their client had hung up.\n"
	    "# TYPE marketd_password_hashes_abandoned_total counter\n"
	    "marketd_password_hashes_abandoned_total %lld\n",
	    (long long)atomic_load(&hash_pending), (long long)atomic_load(&hash_total),
	    (long long)atomic_load(&hash_refused),
	    (long long)atomic_load(&hash_abandoned));
	fputs("# HELP marketd_db_commit_duration_seconds Time a commit of the "
	      "write batch took to be durable.\n"
	      "# TYPE marketd_db_commit_duration_seconds histogram\n",
	    f);
	put_histogram(f, "marketd_db_commit_duration_seconds", NULL, commit_label,
	    nitems(commit_le), commit, (double)commit_sum / 1e6);
	fputs("# HELP marketd_db_commit_batch_size Requests a commit of the "
	      "write batch held.\n# TYPE marketd_db_commit_batch_size histogram\n",
	    f);
	put_histogram(f, "marketd_db_commit_batch_size", NULL, batch_label,
	    nitems(batch_le), batch, (double)batch_sum);
	if (fclose(f) != 0 || out == NULL)
		abort();
	return out;
}

bool
metrics_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (addr == NULL)
		return false;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}
