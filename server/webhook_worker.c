#include "webhook_worker.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "db/db.h"
#include "log.h"
#include "netguard.h"
#include "store/webhooks.h"
#include "util.h"

/* Deliveries taken from the database at a time, and recorded in one
 * transaction: each round's commit is a sync that holds the writer's
 * lock, so rounds of 16 under a load of orders cost the orders 16 to
 * 24 % (tools/bench webhooks). */
#define JOBS_MAX 128
/* The contract: a 2xx within 15 s. */
#define DELIVERY_TIMEOUT_MS 15000
#define CONNECT_TIMEOUT_MS 10000
/* Without a wake-up, the worker looks at the outbox at least this often. */
#define IDLE_MS 60000
/* Events past the retention are deleted this often, PURGE_CHUNK to a
 * transaction, so the write lock is never held long. */
#define PURGE_EVERY_MS (10 * 60 * 1000)
#define PURGE_CHUNK 1000

struct webhook_worker {
	const struct config *cfg;
	struct db *db;
	CURL *curl;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool kicked;
	atomic_bool stop;
};

static _Atomic(struct webhook_worker *) running;

static const int64_t retry_seconds[WEBHOOK_ATTEMPTS_MAX - 1] = {
    5,
    300,
    1800,
    7200,
    18000,
    36000,
    50400,
    72000,
    86400,
};

int64_t
webhook_retry_delay_ms(int n, int scale)
{
	if (n < 1 || n >= WEBHOOK_ATTEMPTS_MAX)
		return -1;
	int64_t ms = retry_seconds[n - 1] * 1000 / (scale > 0 ? scale : 1);
	return ms > 0 ? ms : 1;
}

/* d ± 10 %. */
static int64_t
jitter(int64_t d)
{
	uint32_t r = 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)random();
	int64_t span = d / 5;
	return span > 0 ? d - d / 10 + (int64_t)(r % (uint64_t)(span + 1)) : d;
}

static int64_t
wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t
monotonic_ms(void)
{
	return monotonic_ns() / 1000000;
}

static void
curl_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("cannot initialise libcurl");
}

struct webhook_worker *
webhook_worker_new(const struct config *cfg, char **err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, curl_init_once);
	struct webhook_worker *w = xcalloc(1, sizeof(*w));
	w->cfg = cfg;
	w->db = db_open(cfg->db_path, cfg->synchronous, err);
	if (w->db == NULL) {
		free(w);
		return NULL;
	}
	w->curl = curl_easy_init();
	if (w->curl == NULL) {
		*err = xstrdup("cannot start the webhook client");
		db_close(w->db);
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	return w;
}

/* What one transfer needs in libcurl's callbacks. */
struct transfer {
	struct webhook_worker *w;
	char refused[96]; /* "127.0.0.1 (loopback)" when the guard refused */
};

static size_t
discard(char *ptr, size_t size, size_t n, void *arg)
{
	return size * n;
}

static int
progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct transfer *t = arg;
	return atomic_load(&t->w->stop) ? 1 : 0;
}

/* The SSRF guard on the address actually connected to. */
static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct transfer *t = arg;
	if (!t->w->cfg->webhook_allow_insecure) {
		const char *kind = addr_refusal(&a->addr);
		if (kind != NULL) {
			char ip[INET6_ADDRSTRLEN] = "?";
			if (a->family == AF_INET)
				inet_ntop(AF_INET,
				    &((struct sockaddr_in *)&a->addr)->sin_addr, ip,
				    sizeof(ip));
			else if (a->family == AF_INET6)
				inet_ntop(AF_INET6,
				    &((struct sockaddr_in6 *)&a->addr)->sin6_addr, ip,
				    sizeof(ip));
			snprintf(t->refused, sizeof(t->refused), "%s (%s)", ip, kind);
			return CURL_SOCKET_BAD;
		}
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* "v1," + base64 HMAC-SHA256 of "{id}.{ts}.{body}" under the decoded
 * secret, into out; false when the secret does not decode. */
static bool
sign(const char *secret, const char *id, const char *ts, const char *body, char out[64])
{
	if (strncmp(secret, "whsec_", 6) != 0)
		return false;
	const char *b64 = secret + 6;
	size_t len = strlen(b64);
	unsigned char key[64];
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(key))
		return false;
	int n = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)len);
	if (n < 0)
		return false;
	n -= (b64[len - 1] == '=') + (b64[len - 2] == '=');
	char *msg = xasprintf("%s.%s.%s", id, ts, body);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	bool ok = HMAC(EVP_sha256(), key, n, (unsigned char *)msg, strlen(msg), mac,
	              &maclen) != NULL;
	free(msg);
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok)
		return false;
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)maclen);
	return true;
}

/* One attempt of job; false when it was cut short by shutdown (nothing
 * to record). res->error points into errbuf or at a literal. */
static bool
deliver(struct webhook_worker *w, const struct webhook_job *job,
    struct webhook_result *res, char *errbuf, size_t errlen)
{
	CURL *c = w->curl;
	struct transfer t = {.w = w};
	char id[24], ts[24], sig[64], h_id[48], h_ts[48], h_sig[96];
	int64_t now = now_unix();
	snprintf(id, sizeof(id), "%" PRId64, job->event_id);
	snprintf(ts, sizeof(ts), "%" PRId64, now);
	memset(res, 0, sizeof(*res));
	res->at = now;
	res->next_ms = -1;
	if (!sign(job->secret, id, ts, job->body, sig)) {
		res->error = "the endpoint's secret is malformed";
		return true;
	}
	snprintf(h_id, sizeof(h_id), "webhook-id: %s", id);
	snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %s", ts);
	snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
	struct curl_slist *hdrs = NULL;
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, h_id);
	hdrs = curl_slist_append(hdrs, h_ts);
	hdrs = curl_slist_append(hdrs, h_sig);
	hdrs = curl_slist_append(hdrs, "Expect:");

	/* Reset keeps the connection cache: a receiver's connection is
	 * used again (it was checked by open_socket when it was opened). */
	curl_easy_reset(c);
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, job->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    w->cfg->webhook_allow_insecure ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never the environment's proxy */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (w->cfg->webhook_ca != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, w->cfg->webhook_ca);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)DELIVERY_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "marketd-webhooks/1");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, job->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(job->body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

	int64_t t0 = monotonic_ms();
	CURLcode rc = curl_easy_perform(c);
	res->duration_ms = monotonic_ms() - t0;
	curl_slist_free_all(hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	if (rc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&w->stop))
		return false;

	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK && code > 0) {
		res->status_code = (int)code;
		res->delivered = code >= 200 && code <= 299;
	}
	char msg[CURL_ERROR_SIZE + 128];
	if (res->delivered) {
		res->error = NULL;
	} else if (t.refused[0] != '\0') {
		snprintf(msg, sizeof(msg), "refused to connect to %s", t.refused);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(msg, sizeof(msg), "no answer within %d s",
		    DELIVERY_TIMEOUT_MS / 1000);
	} else if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "%.255s",
		    errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else if (code == 410) {
		snprintf(msg, sizeof(msg), "410 Gone: the endpoint is deactivated");
		res->gone = true;
	} else {
		snprintf(msg, sizeof(msg), "the receiver answered %ld", code);
	}
	if (!res->delivered) {
		snprintf(errbuf, errlen, "%s", msg);
		res->error = errbuf;
		int64_t d = res->gone ? -1
		                      : webhook_retry_delay_ms(job->attempts + 1,
		                            w->cfg->webhook_retry_scale);
		if (d >= 0)
			res->next_ms = wall_ms() + jitter(d);
	}
	return true;
}

/* Waits until due_ms (-1: none known), a wake-up or stop. */
static void
wait_until(struct webhook_worker *w, int64_t due_ms)
{
	int64_t now = wall_ms(), until = now + IDLE_MS;
	if (due_ms >= 0 && due_ms < until)
		until = due_ms;
	struct timespec ts = {
	    .tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000};
	pthread_mutex_lock(&w->mu);
	while (!w->kicked && !atomic_load(&w->stop) && wall_ms() < until)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
			break;
	w->kicked = false;
	pthread_mutex_unlock(&w->mu);
}

/* Deletes the events past the retention (the config's days), a chunk a
 * transaction, until none is left or the worker stops. */
static void
purge(struct webhook_worker *w)
{
	int64_t before = wall_ms() / 1000 - (int64_t)w->cfg->webhook_retention * 86400;
	int deleted = PURGE_CHUNK;
	int64_t total = 0;
	while (deleted == PURGE_CHUNK && !atomic_load(&w->stop)) {
		if (store_webhook_purge(w->db, before, PURGE_CHUNK, &deleted) !=
		    DB_OK) {
			log_warn(
			    "webhooks: old events not deleted; trying again later");
			break;
		}
		total += deleted;
	}
	db_reset_all(w->db);
	if (total > 0)
		log_info("webhooks: %" PRId64 " events older than %d days deleted",
		    total, w->cfg->webhook_retention);
}

static void *
worker_main(void *arg)
{
	struct webhook_worker *w = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	struct webhook_job jobs[JOBS_MAX];
	memset(jobs, 0, sizeof(jobs));
	/* One thread: static, off its stack. */
	static struct webhook_result res[JOBS_MAX];
	static char errbuf[JOBS_MAX][CURL_ERROR_SIZE + 160];
	int64_t purge_due = 0;
	while (!atomic_load(&w->stop)) {
		size_t n = 0;
		int64_t next = -1;
		if (monotonic_ms() >= purge_due) {
			purge(w);
			purge_due = monotonic_ms() + PURGE_EVERY_MS;
		}
		/* Cleared before the look, so a wake-up during it is kept. */
		pthread_mutex_lock(&w->mu);
		w->kicked = false;
		pthread_mutex_unlock(&w->mu);
		if (store_webhook_due(w->db, wall_ms(), JOBS_MAX, jobs, &n, &next) !=
		    DB_OK) {
			wait_until(w, wall_ms() + 1000);
			continue;
		}
		db_reset_all(w->db);
		if (n == 0) {
			wait_until(w, next);
			continue;
		}
		/* Deliver them all, then record them in one transaction: the
		 * worker takes the write lock once a round, not once an
		 * attempt, so the writer hardly notices it. A crash before
		 * the record means those attempts are made again. */
		for (size_t i = 0; i < n; i++) {
			if (jobs[i].url == NULL)
				continue;
			if (atomic_load(&w->stop) ||
			    !deliver(
			        w, &jobs[i], &res[i], errbuf[i], sizeof(errbuf[i]))) {
				webhook_job_clear(
				    &jobs[i]); /* not made: not recorded */
				continue;
			}
			/* The endpoint is gone, or did not answer at all (down,
			 * or timed out): its other deliveries of the round wait
			 * for the next, so one dead receiver costs a round one
			 * timeout, not one a delivery. */
			bool unreachable = !res[i].delivered && res[i].status_code == 0;
			for (size_t k = i + 1; (res[i].gone || unreachable) && k < n;
			     k++)
				if (jobs[k].endpoint_id == jobs[i].endpoint_id)
					webhook_job_clear(&jobs[k]);
		}
		if (store_webhook_record(w->db, jobs, res, n) != DB_OK)
			log_warn(
			    "webhooks: %zu attempts not recorded; they are made again",
			    n);
		for (size_t i = 0; i < n; i++)
			webhook_job_clear(&jobs[i]);
	}
	return NULL;
}

void
webhook_worker_start(struct webhook_worker *w)
{
	w->started = pthread_create(&w->thread, NULL, worker_main, w) == 0;
	if (!w->started)
		fatal("cannot start the webhook worker");
	atomic_store(&running, w);
}

void
webhook_worker_notify(void)
{
	if (!webhook_take_emitted())
		return;
	struct webhook_worker *w = atomic_load(&running);
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->kicked = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
webhook_worker_stop(struct webhook_worker *w)
{
	if (w == NULL || !w->started)
		return;
	atomic_store(&running, NULL);
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stop, true);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->started = false;
}

void
webhook_worker_free(struct webhook_worker *w)
{
	if (w == NULL)
		return;
	webhook_worker_stop(w);
	curl_easy_cleanup(w->curl);
	db_close(w->db);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
