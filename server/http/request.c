#include "http/request.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "db/db.h"
#include "log.h"
#include "util.h"

bool
replied(const struct request *r)
{
	return r->status != 0;
}

static bool
claim_reply(struct request *r, int status)
{
	if (replied(r)) {
		char path[256] = "?";
		if (r->path != NULL)
			log_escape(path, sizeof(path), r->path, r->path_len);
		log_warn(
		    "bug: second reply (%d after %d) to %s", status, r->status, path);
		return false;
	}
	r->status = status;
	return true;
}

void
reply_json(struct request *r, int status, json_t *body)
{
	if (!claim_reply(r, status)) {
		json_decref(body);
		return;
	}
	r->reply_body = body;
}

void
reply_empty(struct request *r, int status)
{
	claim_reply(r, status);
}

void
reply_raw(struct request *r, int status, const char *content_type, struct evbuffer *buf)
{
	if (!claim_reply(r, status))
		return;
	r->reply_raw = evbuffer_new();
	evbuffer_add_buffer(r->reply_raw, buf);
	r->reply_type = content_type;
}

void
reply_error(
    struct request *r, enum api_error e, const char *field, const char *fmt, ...)
{
	char detail[512];
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	/* A failure because the database cannot be reached (PostgreSQL
	 * restarting, say) is not the server's fault: 503, to be sent again
	 * once it is back. */
	bool unreachable = e == E_INTERNAL && db_unreachable(r->db);
	if (unreachable) {
		e = E_UNAVAILABLE;
		fmt = "the database cannot be reached; send the request again";
		snprintf(detail, sizeof(detail), "%s", fmt);
	}
	const struct api_error_def *d = api_error_def(e);
	if (!claim_reply(r, d->status))
		return;
	if (unreachable)
		reply_header(r, "Retry-After", "1");
	r->reply_body = problem_new(e, r->lang, field, fmt ? detail : NULL);
}

/* True when the If-None-Match header lists etag (or is "*"); weak
 * comparison, as RFC 9110 asks for If-None-Match. */
bool
req_etag_matches(struct request *r, const char *etag)
{
	const char *p = req_header(r, "If-None-Match");
	size_t n = strlen(etag);
	while (p != NULL && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

static void
free_text(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

void
reply_json_tagged(struct request *r, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char hex[65], etag[68];
	sha256_hex(text, strlen(text), hex);
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	reply_header(r, "ETag", etag);
	if (req_etag_matches(r, etag)) {
		free(text);
		reply_empty(r, 304);
	} else {
		/* The buffer frees text once it is sent. */
		struct evbuffer *b = evbuffer_new();
		evbuffer_add_reference(b, text, strlen(text), free_text, NULL);
		reply_raw(r, 200, "application/json; charset=utf-8", b);
		evbuffer_free(b);
	}
}

void
reply_clear(struct request *r)
{
	r->status = 0;
	json_decref(r->reply_body);
	r->reply_body = NULL;
	if (r->reply_raw != NULL)
		evbuffer_free(r->reply_raw);
	r->reply_raw = NULL;
	r->reply_type = NULL;
	if (r->ev != NULL)
		evhttp_clear_headers(evhttp_request_get_output_headers(r->ev));
}

void
reply_header(struct request *r, const char *key, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), key, value);
}

const char *
req_header(struct request *r, const char *key)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->ev), key);
}

const char *
req_query(struct request *r, const char *key)
{
	const char *v = evhttp_find_header(&r->query, key);
	return v != NULL && *v != '\0' ? v : NULL;
}

bool
req_query_int(struct request *r, const char *key, int64_t min, int64_t max,
    int64_t *out, bool *present)
{
	const char *v = req_query(r, key);
	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return true;
	int64_t n;
	if (!parse_int64(v, &n) || n < min || n > max) {
		reply_error(r, E_VALIDATION, key,
		    "%s must be an integer from %lld to %lld", key, (long long)min,
		    (long long)max);
		return false;
	}
	*out = n;
	return true;
}

int64_t
req_param_id(struct request *r, int i)
{
	int64_t id;
	if (i < 0 || i >= REQUEST_MAX_PARAMS || r->params[i] == NULL ||
	    !parse_int64(r->params[i], &id) || id < 1)
		return -1;
	return id;
}

char *
cursor_encode(json_t *key)
{
	char *json = json_dumps(key, JSON_COMPACT);
	size_t n = strlen(json);
	char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	int len = EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)json, (int)n);
	free(json);
	/* base64url without padding */
	for (int i = 0; i < len; i++) {
		if (b64[i] == '+')
			b64[i] = '-';
		else if (b64[i] == '/')
			b64[i] = '_';
	}
	while (len > 0 && b64[len - 1] == '=')
		b64[--len] = '\0';
	return b64;
}

json_t *
cursor_decode(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 1024)
		return NULL;
	char *b64 = xmalloc(n + 4);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		             (c >= '0' && c <= '9'))) {
			free(b64);
			return NULL;
		}
		b64[i] = c;
	}
	while (n % 4 != 0)
		b64[n++] = '=';
	b64[n] = '\0';
	unsigned char *raw = xmalloc(n);
	int len = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)n);
	free(b64);
	json_t *key = NULL;
	if (len > 0) {
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		while (len > 0 && raw[len - 1] == '\0')
			len--;
		key = json_loadb(
		    (const char *)raw, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
	}
	free(raw);
	if (key != NULL && !json_is_array(key)) {
		json_decref(key);
		key = NULL;
	}
	return key;
}

bool
page_parse(struct request *r, struct page *p, size_t key_len)
{
	int64_t limit = 50;
	p->after = NULL;
	if (!req_query_int(r, "limit", 1, 200, &limit, NULL))
		return false;
	p->limit = (int)limit;
	const char *c = req_query(r, "cursor");
	if (c == NULL)
		return true;
	p->after = cursor_decode(c);
	if (p->after == NULL || json_array_size(p->after) != key_len) {
		json_decref(p->after);
		p->after = NULL;
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		return false;
	}
	return true;
}

void
page_free(struct page *p)
{
	json_decref(p->after);
	p->after = NULL;
}

json_t *
page_key_id(json_t *item)
{
	return json_pack("[O]", json_object_get(item, "id"));
}

json_t *
page_body(const struct page *p, json_t *items, json_t *(*key)(json_t *item))
{
	json_t *next = json_null();
	if (json_array_size(items) > (size_t)p->limit) {
		while (json_array_size(items) > (size_t)p->limit)
			json_array_remove(items, json_array_size(items) - 1);
		json_t *k = key(json_array_get(items, json_array_size(items) - 1));
		char *c = cursor_encode(k);
		json_decref(k);
		next = json_string(c);
		free(c);
	}
	return json_pack("{s:o, s:o}", "items", items, "next_cursor", next);
}

void
page_reply(struct request *r, const struct page *p, json_t *items,
    json_t *(*key)(json_t *item))
{
	reply_json(r, 200, page_body(p, items, key));
}

bool
req_wants_csv(struct request *r, bool *csv)
{
	const char *format = req_query(r, "format");
	const char *accept = req_header(r, "Accept");
	if (format == NULL) {
		*csv = accept != NULL && strstr(accept, "text/csv") != NULL;
		return true;
	}
	*csv = strcmp(format, "csv") == 0;
	if (*csv || strcmp(format, "json") == 0)
		return true;
	reply_error(r, E_VALIDATION, "format", "format must be json or csv");
	return false;
}
