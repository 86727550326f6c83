#include "http/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "db/db.h"
#include "util.h"

#define SLOTS 256                   /* per thread, a power of two */
#define BYTES_MAX (8 * 1024 * 1024) /* per thread */

/* A reply body, shared by the cache and the replies still being sent
 * (evbuffer references): freed when the last lets go. Only its worker
 * thread touches it, so the count needs no atomics. */
struct blob {
	unsigned refs;
	size_t len;
	char data[];
};

struct entry {
	char *key;      /* path '?' query; NULL when the slot is free */
	struct blob *body;
	size_t len;
	char etag[68];
	const char *type;
};

struct cache {
	uint64_t version;
	size_t bytes;
	struct entry slots[SLOTS];
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void
blob_release(const void *data, size_t len, void *arg)
{
	struct blob *b = arg;
	if (--b->refs == 0)
		free(b);
}

static void
entry_clear(struct cache *c, struct entry *e)
{
	if (e->key == NULL)
		return;
	c->bytes -= e->len;
	free(e->key);
	blob_release(NULL, 0, e->body);
	memset(e, 0, sizeof(*e));
}

static void
cache_destroy(void *arg)
{
	struct cache *c = arg;
	for (size_t i = 0; i < SLOTS; i++)
		entry_clear(c, &c->slots[i]);
	free(c);
}

static void
cache_init(void)
{
	pthread_key_create(&cache_key, cache_destroy);
}

/* This thread's cache, emptied when the database's version moved on. */
static struct cache *
thread_cache(uint64_t version)
{
	pthread_once(&cache_once, cache_init);
	struct cache *c = pthread_getspecific(cache_key);
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->version = version;
		pthread_setspecific(cache_key, c);
	}
	if (c->version != version) {
		for (size_t i = 0; i < SLOTS; i++)
			entry_clear(c, &c->slots[i]);
		c->version = version;
	}
	return c;
}

static char *
request_key(struct request *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->ev);
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	return xasprintf("%s?%s", r->path, q ? q : "");
}

static struct entry *
slot_of(struct cache *c, const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return &c->slots[h & (SLOTS - 1)];
}

bool
cache_reply(struct request *r, uint64_t *version)
{
	*version = db_data_version(r->db);
	struct cache *c = thread_cache(*version);
	char *key = request_key(r);
	struct entry *e = slot_of(c, key);
	bool hit = e->key != NULL && strcmp(e->key, key) == 0;
	free(key);
	if (!hit)
		return false;
	reply_header(r, "ETag", e->etag);
	if (req_etag_matches(r, e->etag)) {
		reply_empty(r, 304);
	} else {
		/* The reply refers to the cached bytes: no copy. */
		struct evbuffer *b = evbuffer_new();
		e->body->refs++;
		if (evbuffer_add_reference(b, e->body->data, e->len, blob_release,
		    e->body) != 0)
			e->body->refs--;
		reply_raw(r, 200, e->type, b);
		evbuffer_free(b);
	}
	return true;
}

void
cache_store(struct request *r, uint64_t version)
{
	const char *etag = evhttp_find_header(
	    evhttp_request_get_output_headers(r->ev), "ETag");
	if (r->status != 200 || r->reply_raw == NULL || etag == NULL ||
	    strlen(etag) >= sizeof(((struct entry *)0)->etag))
		return;
	size_t len = evbuffer_get_length(r->reply_raw);
	struct cache *c = thread_cache(version);
	/* Tagged with an older version than the database's now: it may
	 * hold what a commit since changed. */
	if (c->version != version)
		return;
	char *key = request_key(r);
	struct entry *e = slot_of(c, key);
	entry_clear(c, e);
	if (c->bytes + len > BYTES_MAX) {
		free(key);
		return;
	}
	e->key = key;
	e->body = xmalloc(sizeof(*e->body) + len);
	e->body->refs = 1;
	e->body->len = len;
	evbuffer_copyout(r->reply_raw, e->body->data, len);
	e->len = len;
	strcpy(e->etag, etag);
	e->type = r->reply_type;
	c->bytes += len;
}
