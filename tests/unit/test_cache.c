/* server/http/cache.c: a cached reply is the stored bytes with their ETag,
 * or a 304 for a client that holds the tag; any commit (of this
 * connection or another) empties the cache; a reply read before a commit
 * is not kept; only a 200 with a body is kept; a reply still being sent
 * keeps its bytes after the cache let them go; each thread has its own
 * cache; a reply let go on another thread (a database thread's cache,
 * its worker's event loop) is counted right. Requests are built as the router builds
 * them, on evhttp requests that are never sent. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "db/db.h"
#include "http/cache.h"
#include "http/request.h"
#include "log.h"
#include "unit.h"
#include "util.h"

static char dir[] = "/tmp/market-unit-cache-XXXXXX";
static char path[64];
static struct db *db;    /* the worker's connection */
static struct db *other; /* another connection that commits */
static int commits;

static struct request *
req(const char *p, const char *if_none_match)
{
	struct request *r = xcalloc(1, sizeof(*r));
	r->ev = evhttp_request_new(NULL, NULL);
	r->db = db;
	r->path = xstrdup(p);
	TAILQ_INIT(&r->query);
	if (if_none_match != NULL)
		evhttp_add_header(evhttp_request_get_input_headers(r->ev),
		    "If-None-Match", if_none_match);
	return r;
}

static void
req_free(struct request *r)
{
	reply_clear(r);
	evhttp_request_free(r->ev);
	free(r->path);
	free(r);
}

/* The body of a reply, as a new string. */
static char *
body_of(struct request *r)
{
	if (r->reply_raw == NULL)
		return NULL;
	size_t n = evbuffer_get_length(r->reply_raw);
	char *s = xmalloc(n + 1);
	evbuffer_copyout(r->reply_raw, s, n);
	s[n] = '\0';
	return s;
}

static const char *
etag_of(struct request *r)
{
	return evhttp_find_header(evhttp_request_get_output_headers(r->ev), "ETag");
}

/* What the router does for a .cached route: a hit, or the handler (a
 * tagged JSON reply of text) and then cache_store. */
static bool
serve(struct request *r, const char *text)
{
	uint64_t version;
	if (cache_reply(r, &version))
		return true;
	reply_json_tagged(r, json_pack("{ss}", "text", text));
	cache_store(r, version);
	return false;
}

static void
commit_elsewhere(void)
{
	char sql[160];
	snprintf(sql, sizeof(sql),
	    "INSERT INTO regions VALUES ('r%d', 'r', 'r', 'p', 'east_west')",
	    ++commits);
	CHECK(db_exec(other, sql) == DB_OK);
}

static void
test_hit_is_the_stored_reply(void)
{
	struct request *a = req("/api/v1/products/1", NULL);
	CHECK(!serve(a, "one"));
	char *first = body_of(a);
	char *tag = xstrdup(etag_of(a));

	struct request *b = req("/api/v1/products/1", NULL);
	CHECK(serve(b, "not asked"));
	CHECK(b->status == 200);
	char *second = body_of(b);
	CHECK_STR(second, first);
	CHECK_STR(etag_of(b), tag);

	/* A client holding the tag gets a 304 with it, and no body. */
	struct request *c = req("/api/v1/products/1", tag);
	CHECK(serve(c, "not asked"));
	CHECK(c->status == 304);
	CHECK(c->reply_raw == NULL);
	CHECK_STR(etag_of(c), tag);

	/* Another path is another entry. */
	struct request *d = req("/api/v1/products/2", NULL);
	CHECK(!serve(d, "two"));

	free(first);
	free(second);
	free(tag);
	req_free(a);
	req_free(b);
	req_free(c);
	req_free(d);
}

static void
test_commit_empties(void)
{
	struct request *a = req("/api/v1/products/3", NULL);
	CHECK(!serve(a, "before"));
	commit_elsewhere();
	struct request *b = req("/api/v1/products/3", NULL);
	CHECK(!serve(b, "after"));
	char *s = body_of(b);
	CHECK(s != NULL && strstr(s, "after") != NULL);
	free(s);
	/* This connection's own commit counts as well. */
	CHECK(db_exec(db, "INSERT INTO regions VALUES ('own', 'r', 'r', 'p', "
	                  "'east_west')") == DB_OK);
	struct request *c = req("/api/v1/products/3", NULL);
	CHECK(!serve(c, "own"));
	req_free(a);
	req_free(b);
	req_free(c);
}

/* A reply read, then a commit, then cache_store: the reply may hold what
 * the commit changed, so it is not kept. */
static void
test_reply_read_before_a_commit_is_not_kept(void)
{
	struct request *a = req("/api/v1/products/4", NULL);
	uint64_t version;
	CHECK(!cache_reply(a, &version));
	reply_json_tagged(a, json_pack("{ss}", "text", "stale"));
	commit_elsewhere();
	cache_store(a, version);
	struct request *b = req("/api/v1/products/4", NULL);
	CHECK(!serve(b, "fresh"));
	struct request *c = req("/api/v1/products/4", NULL);
	CHECK(serve(c, "unused"));
	char *s = body_of(c);
	CHECK(s != NULL && strstr(s, "fresh") != NULL);
	free(s);
	req_free(a);
	req_free(b);
	req_free(c);
}

/* Only a 200 with a body is kept: not an error, not a 304. */
static void
test_only_200_is_kept(void)
{
	struct request *a = req("/api/v1/products/5", NULL);
	uint64_t version;
	CHECK(!cache_reply(a, &version));
	reply_error(a, E_NOT_FOUND, NULL, NULL);
	cache_store(a, version);
	struct request *b = req("/api/v1/products/5", "*");
	CHECK(!serve(b, "x")); /* answered 304 by the handler */
	CHECK(b->status == 304);
	struct request *c = req("/api/v1/products/5", NULL);
	CHECK(!serve(c, "x"));
	CHECK(c->status == 200);
	req_free(a);
	req_free(b);
	req_free(c);
}

/* A hit still being sent keeps its bytes after the cache emptied. */
static void
test_reply_outlives_its_entry(void)
{
	struct request *a = req("/api/v1/products/6", NULL);
	CHECK(!serve(a, "kept while sending"));
	char *want = body_of(a);
	struct request *b = req("/api/v1/products/6", NULL);
	CHECK(serve(b, "unused"));
	commit_elsewhere();
	struct request *c = req("/api/v1/products/6", NULL);
	CHECK(!serve(c, "replaced"));
	char *got = body_of(b);
	CHECK_STR(got, want);
	free(want);
	free(got);
	req_free(a);
	req_free(b);
	req_free(c);
}

static bool other_thread_hit;

static void *
other_thread(void *arg)
{
	struct db *mine = arg;
	struct request *r = req("/api/v1/products/7", NULL);
	r->db = mine;
	uint64_t version;
	other_thread_hit = cache_reply(r, &version);
	req_free(r);
	return NULL;
}

static void
test_thread_has_its_own_cache(void)
{
	struct request *a = req("/api/v1/products/7", NULL);
	CHECK(!serve(a, "main thread"));
	struct request *b = req("/api/v1/products/7", NULL);
	CHECK(serve(b, "unused"));
	char *err = NULL;
	struct db *mine = db_open(path, "full", &err);
	CHECK(mine != NULL);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, other_thread, mine) == 0);
	pthread_join(t, NULL);
	CHECK(!other_thread_hit);
	db_close(mine);
	req_free(a);
	req_free(b);
}

/* Replies handed to a thread that lets them go, as a worker's event loop
 * does with what a database thread's cache answered (PostgreSQL). */
enum { HANDED = 1024 };
static struct request *handed[HANDED];
static size_t handed_in, handed_out; /* under handed_mu */
static bool handing_done;
static pthread_mutex_t handed_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t handed_cv = PTHREAD_COND_INITIALIZER;

static void *
letting_go(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&handed_mu);
	for (;;) {
		while (handed_out == handed_in && !handing_done)
			pthread_cond_wait(&handed_cv, &handed_mu);
		if (handed_out == handed_in)
			break;
		struct request *r = handed[handed_out++ % HANDED];
		pthread_cond_broadcast(&handed_cv);
		pthread_mutex_unlock(&handed_mu);
		req_free(r);
		pthread_mutex_lock(&handed_mu);
	}
	pthread_mutex_unlock(&handed_mu);
	return NULL;
}

/* 200,000 hits of one product, each reply let go on the other thread
 * while this one takes the next reference: once the cache is emptied,
 * no body is left (counted plainly, the two threads lost updates and
 * bodies stayed, or were freed twice). */
static void
test_replies_let_go_elsewhere(void)
{
	enum { HITS = 200000 };
	commit_elsewhere();
	struct request *first = req("/api/v1/products/8", NULL);
	CHECK(!serve(first, "shared between threads"));
	req_free(first);
	long before = cache_bodies(); /* the cache's own */
	CHECK(before == 1);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, letting_go, NULL) == 0);
	int hits = 0;
	for (int i = 0; i < HITS; i++) {
		struct request *r = req("/api/v1/products/8", NULL);
		hits += serve(r, "unused");
		pthread_mutex_lock(&handed_mu);
		while (handed_in - handed_out == HANDED)
			pthread_cond_wait(&handed_cv, &handed_mu);
		handed[handed_in++ % HANDED] = r;
		pthread_cond_broadcast(&handed_cv);
		pthread_mutex_unlock(&handed_mu);
	}
	pthread_mutex_lock(&handed_mu);
	handing_done = true;
	pthread_cond_broadcast(&handed_cv);
	pthread_mutex_unlock(&handed_mu);
	pthread_join(t, NULL);
	CHECK(hits == HITS);
	CHECK(cache_bodies() == before);
	commit_elsewhere();
	struct request *r = req("/api/v1/products/8", NULL);
	CHECK(!serve(r, "after the commit")); /* empties the cache */
	req_free(r);
	fprintf(stderr,
	    "bodies in memory after %d hits let go elsewhere: %ld (1 cached)\n", HITS,
	    cache_bodies());
	CHECK(cache_bodies() == 1);
}

/* A catalog of 10,000 products read by id stays in the cache: each is
 * read twice, and the second reads are hits (with slots in a set, not
 * one slot a key: direct-mapped, a quarter of them missed). */
static void
test_catalog_by_id_stays(void)
{
	enum { PRODUCTS = 10000 };
	char p[48];
	commit_elsewhere(); /* starts empty */
	for (int pass = 0; pass < 2; pass++) {
		int hits = 0;
		for (int i = 1; i <= PRODUCTS; i++) {
			snprintf(p, sizeof(p), "/api/v1/products/%d", i);
			struct request *r = req(p, NULL);
			hits += serve(r, p);
			req_free(r);
		}
		if (pass == 0)
			CHECK(hits == 0);
		else {
			fprintf(stderr,
			    "catalog by id: %d of %d read again were hits\n", hits,
			    PRODUCTS);
			CHECK(hits >= PRODUCTS * 995 / 1000);
		}
	}
}

static void
setup(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	log_set_quiet(1);
	snprintf(path, sizeof(path), "%s/market.db", dir);
	char *err = NULL;
	db = db_open(path, "full", &err);
	other = db_open(path, "full", &err);
	if (db == NULL || other == NULL) {
		fprintf(stderr, "db_open: %s\n", err);
		exit(1);
	}
}

static void
cleanup(void)
{
	db_close(other);
	db_close(db);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
}

UNIT_MAIN(setup, test_hit_is_the_stored_reply, test_commit_empties,
    test_reply_read_before_a_commit_is_not_kept, test_only_200_is_kept,
    test_reply_outlives_its_entry, test_thread_has_its_own_cache,
    test_replies_let_go_elsewhere, test_catalog_by_id_stays, cleanup)
