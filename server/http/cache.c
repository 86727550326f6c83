#include "http/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <zlib.h>

#include "db/db.h"
#include "http/metrics.h"
#include "http/pages.h"
#include "util.h"

/* Slots per thread (a power of two, at most 65536: used[] holds their
 * indexes), in sets of WAYS: a key may sit in any slot of the set its
 * hash names. With one slot a key (direct-mapped), 10,000 products by id
 * over 16,384 slots kept only three in four of them: a quarter of the
 * reads missed for good. In sets of 8 over 32,768 slots, every product
 * of a 10,000-product catalog stays, with room for its list pages. An
 * empty slot is 32 bytes. */
#define SLOTS 32768
#define WAYS 8
#define BYTES_MAX (8 * 1024 * 1024) /* of bodies, per thread */
/* A body shorter than this is always sent as it is: gzip would save
 * less than a TCP segment. */
#define GZIP_MIN 1024

/* A reply body, shared by the cache and the replies still being sent
 * (evbuffer references): freed when the last lets go. The count is
 * atomic: with a pool of database threads (PostgreSQL), the cache and
 * its references are taken on a database thread while the worker's
 * event loop lets a reply's reference go when the bytes are written.
 * Counted plainly, the two lost updates: a body never freed (a leak
 * LeakSanitizer saw in bench.smoke_postgresql), or freed twice. */
struct blob {
	atomic_uint refs;
	size_t len;
	const char *type;
	char etag[72]; /* a SHA-256 in hex, quoted, and "-gz" */
	/* The same body gzipped, with an ETag of its own (a strong tag names
	 * one representation): made the first time a client that accepts
	 * gzip asks, so a cache emptied by every commit never compresses
	 * for nothing. NULL until then, and when gzip would not be smaller
	 * (gz_tried tells the two apart). The entry holds one reference. */
	struct blob *gz;
	bool gz_tried;
	char data[];
};

struct entry {
	char *key;     /* path '?' query; NULL when the slot is free */
	uint64_t hash; /* of key */
	struct blob *body;
	bool listed; /* its index is in used[] */
};

struct cache {
	uint64_t version;
	size_t bytes;
	size_t nused;
	unsigned evict;       /* turns through a full set's slots */
	uint16_t used[SLOTS]; /* the slots in use, to empty them quickly */
	struct entry slots[SLOTS];
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static atomic_long bodies; /* blobs in memory, for cache_bodies() */

static struct blob *
blob_new(size_t room)
{
	struct blob *b = xmalloc(sizeof(*b) + room);
	atomic_init(&b->refs, 1);
	b->gz = NULL;
	b->gz_tried = false;
	atomic_fetch_add_explicit(&bodies, 1, memory_order_relaxed);
	return b;
}

static void
blob_ref(struct blob *b)
{
	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

/* Lets a reference go. The last one, on whichever thread, sees every
 * write the others made before they let theirs go (b->gz included). */
static void
blob_release(const void *data, size_t len, void *arg)
{
	struct blob *b = arg;
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
		if (b->gz != NULL)
			blob_release(NULL, 0, b->gz);
		free(b);
		atomic_fetch_sub_explicit(&bodies, 1, memory_order_relaxed);
	}
}

long
cache_bodies(void)
{
	return atomic_load_explicit(&bodies, memory_order_relaxed);
}

/* b's body gzipped (RFC 1952), or NULL when it would not be smaller or
 * zlib fails. Its ETag is b's with "-gz" inside the quotes. */
static struct blob *
blob_gzip(const struct blob *b)
{
	size_t taglen = strlen(b->etag);
	if (taglen < 2 || b->etag[taglen - 1] != '"' || taglen + 3 >= sizeof(b->etag))
		return NULL;
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* 15 + 16: the largest window, with a gzip header and trailer. */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	        Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t bound = deflateBound(&z, (uLong)b->len);
	struct blob *g = blob_new(bound);
	z.next_in = (Bytef *)b->data;
	z.avail_in = (uInt)b->len;
	z.next_out = (Bytef *)g->data;
	z.avail_out = (uInt)bound;
	int rc = deflate(&z, Z_FINISH);
	size_t len = bound - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END || len >= b->len) {
		blob_release(NULL, 0, g);
		return NULL;
	}
	g->len = len;
	g->type = b->type;
	g->gz_tried = true;
	memcpy(g->etag, b->etag, taglen - 1);
	memcpy(g->etag + taglen - 1, "-gz\"", 5);
	return g;
}

/* Frees slot e's contents (its index stays in used[] until emptied). */
static void
entry_clear(struct cache *c, struct entry *e)
{
	if (e->key == NULL)
		return;
	c->bytes -= e->body->len + (e->body->gz ? e->body->gz->len : 0);
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

/* key's entry in c, or NULL. */
static struct entry *
lookup(struct cache *c, const char *key, uint64_t h)
{
	struct entry *set = &c->slots[h & (SLOTS - WAYS)];
	for (int w = 0; w < WAYS; w++)
		if (set[w].key != NULL && set[w].hash == h &&
		    strcmp(set[w].key, key) == 0)
			return &set[w];
	return NULL;
}

/* Where key goes: its entry, else a free slot of its set, else one to
 * evict (in turn). */
static struct entry *
place(struct cache *c, const char *key, uint64_t h)
{
	struct entry *e = lookup(c, key, h);
	if (e != NULL)
		return e;
	struct entry *set = &c->slots[h & (SLOTS - WAYS)];
	for (int w = 0; w < WAYS; w++)
		if (set[w].key == NULL)
			return &set[w];
	return &set[c->evict++ % WAYS];
}

static uint64_t
key_hash(const char *key)
{
	return hash_bytes(HASH_INIT, key, strlen(key));
}

/* The representation of b to send to r: gzipped when r accepts it and
 * that is smaller (made now if not yet tried), else b as it is. c, when
 * b is in it, counts the gzipped bytes. */
static struct blob *
representation(struct cache *c, struct blob *b, struct request *r)
{
	if (b->len < GZIP_MIN || !pages_accepts_gzip(req_header(r, "Accept-Encoding")))
		return b;
	if (!b->gz_tried) {
		b->gz_tried = true;
		b->gz = blob_gzip(b);
		if (b->gz != NULL && c != NULL)
			c->bytes += b->gz->len;
	}
	return b->gz != NULL ? b->gz : b;
}

/* Sends b as a 200 that refers to the cached bytes (no copy). */
static void
send_blob(struct request *r, struct blob *b, bool gzipped)
{
	reply_header(r, "ETag", b->etag);
	if (gzipped)
		reply_header(r, "Content-Encoding", "gzip");
	struct evbuffer *buf = evbuffer_new();
	blob_ref(b);
	if (evbuffer_add_reference(buf, b->data, b->len, blob_release, b) != 0)
		blob_release(NULL, 0, b);
	reply_raw(r, 200, b->type, buf);
	evbuffer_free(buf);
}

/* Answers r from body b, as every request for it is answered, hit or
 * miss: 304 when r holds either representation's tag (a client holding
 * either holds a current copy), else the representation r accepts. */
static void
answer(struct cache *c, struct blob *b, struct request *r)
{
	struct blob *rep = representation(c, b, r);
	if (req_etag_matches(r, b->etag)) {
		reply_header(r, "ETag", b->etag);
		reply_empty(r, 304);
	} else if (rep != b && req_etag_matches(r, rep->etag)) {
		reply_header(r, "ETag", rep->etag);
		reply_empty(r, 304);
	} else {
		send_blob(r, rep, rep != b);
	}
}

bool
cache_reply(struct request *r, uint64_t *version)
{
	*version = db_data_version(r->db);
	struct cache *c = thread_cache(*version);
	char *key = request_key(r);
	struct entry *e = lookup(c, key, key_hash(key));
	bool hit = e != NULL;
	free(key);
	/* Whether or not it is cached, the reply depends on the request's
	 * Accept-Encoding. */
	reply_header(r, "Vary", "Accept-Encoding");
	metrics_cache(hit);
	if (!hit)
		return false;
	answer(c, e->body, r);
	return true;
}

void
cache_store(struct request *r, uint64_t version)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->ev);
	const char *etag = evhttp_find_header(out, "ETag");
	if (r->status != 200 || r->reply_raw == NULL || etag == NULL ||
	    strlen(etag) >= sizeof(((struct blob *)0)->etag))
		return;
	size_t len = evbuffer_get_length(r->reply_raw);
	struct blob *b = blob_new(len);
	b->len = len;
	b->type = r->reply_type;
	strcpy(b->etag, etag);
	evbuffer_copyout(r->reply_raw, b->data, len);
	/* The version now, not the reply's: a reply read before a commit
	 * that happened since is not kept (it may hold what the commit
	 * changed), though it is still the right answer to this request. */
	struct cache *c = thread_cache(db_data_version(r->db));
	char *key = request_key(r);
	uint64_t h = key_hash(key);
	struct entry *e = place(c, key, h);
	bool keep = c->version == version && c->bytes + len <= BYTES_MAX;
	if (keep) {
		entry_clear(c, e);
		if (!e->listed) {
			e->listed = true;
			c->used[c->nused++] = (uint16_t)(e - c->slots);
		}
		e->key = key;
		e->hash = h;
		e->body = b;
		c->bytes += len;
	} else {
		free(key);
	}
	/* This first reply goes out as a hit would: the handler's reply is
	 * replaced by the blob's (one code path for every answer). */
	evhttp_remove_header(out, "ETag");
	evbuffer_free(r->reply_raw);
	r->reply_raw = NULL;
	r->status = 0;
	answer(keep ? c : NULL, b, r);
	if (!keep)
		blob_release(NULL, 0, b);
}
