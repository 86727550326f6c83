#include "http/cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "db/db.h"
#include "util.h"

/* Slots per thread (a power of two): enough for every product of a
 * national catalog by id, and its list pages. An empty slot is 24 bytes. */
#define SLOTS 16384
#define BYTES_MAX (8 * 1024 * 1024) /* of bodies, per thread */

/* A reply body, shared by the cache and the replies still being sent
 * (evbuffer references): freed when the last lets go. Only its worker
 * thread touches it, so the count needs no atomics. */
struct blob {
	unsigned refs;
	size_t len;
	const char *type;
	char etag[68];
	char data[];
};

struct entry {
	char *key; /* path '?' query; NULL when the slot is free */
	struct blob *body;
	bool listed; /* its index is in used[] */
};

struct cache {
	uint64_t version;
	size_t bytes;
	size_t nused;
	uint16_t used[SLOTS]; /* the slots in use, to empty them quickly */
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

/* Frees slot e's contents (its index stays in used[] until emptied). */
static void
entry_clear(struct cache *c, struct entry *e)
{
	if (e->key == NULL)
		return;
	c->bytes -= e->body->len;
	free(e->key);
	blob_release(NULL, 0, e->body);
	e->key = NULL;
	e->body = NULL;
}

static void
cache_empty(struct cache *c)
{
	for (size_t i = 0; i < c->nused; i++) {
		entry_clear(c, &c->slots[c->used[i]]);
		c->slots[c->used[i]].listed = false;
	}
	c->nused = 0;
}

static void
cache_destroy(void *arg)
{
	struct cache *c = arg;
	cache_empty(c);
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
		cache_empty(c);
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
	return &c->slots[hash_bytes(HASH_INIT, key, strlen(key)) & (SLOTS - 1)];
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
	reply_header(r, "ETag", e->body->etag);
	if (req_etag_matches(r, e->body->etag)) {
		reply_empty(r, 304);
	} else {
		/* The reply refers to the cached bytes: no copy. */
		struct evbuffer *b = evbuffer_new();
		e->body->refs++;
		if (evbuffer_add_reference(
		        b, e->body->data, e->body->len, blob_release, e->body) != 0)
			e->body->refs--;
		reply_raw(r, 200, e->body->type, b);
		evbuffer_free(b);
	}
	return true;
}

void
cache_store(struct request *r, uint64_t version)
{
	const char *etag =
	    evhttp_find_header(evhttp_request_get_output_headers(r->ev), "ETag");
	if (r->status != 200 || r->reply_raw == NULL || etag == NULL ||
	    strlen(etag) >= sizeof(((struct blob *)0)->etag))
		return;
	size_t len = evbuffer_get_length(r->reply_raw);
	/* The version now, not the reply's: a reply read before a commit
	 * that happened since is not kept (it may hold what the commit
	 * changed). */
	struct cache *c = thread_cache(db_data_version(r->db));
	if (c->version != version)
		return;
	char *key = request_key(r);
	struct entry *e = slot_of(c, key);
	entry_clear(c, e);
	if (c->bytes + len > BYTES_MAX) {
		free(key);
		return;
	}
	if (!e->listed) {
		e->listed = true;
		c->used[c->nused++] = (uint16_t)(e - c->slots);
	}
	e->key = key;
	e->body = xmalloc(sizeof(*e->body) + len);
	e->body->refs = 1;
	e->body->len = len;
	e->body->type = r->reply_type;
	strcpy(e->body->etag, etag);
	evbuffer_copyout(r->reply_raw, e->body->data, len);
	c->bytes += len;
}
