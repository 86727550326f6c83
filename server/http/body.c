/* What a request carries before any handler sees it: its header block's
 * size, its query string (text only), and its JSON body (typed, bounded,
 * not too deep, an object). */
#include "http/router.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "csv.h"
#include "util.h"

bool
json_too_deep(const char *text, size_t len, int max)
{
	int depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return true;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return false;
}

static bool
content_type_is_json(const char *ct)
{
	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	static const char want[] = "application/json";
	if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return false;
	const char *p = ct + sizeof(want) - 1;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return true;
	if (*p != ';')
		return false;
	p++;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return false;
	p += 8;
	if (*p == '"')
		p++;
	return strncasecmp(p, "utf-8", 5) == 0 &&
	       (p[5] == '\0' || p[5] == '"' || p[5] == ' ' || p[5] == ';');
}

bool
read_body(struct request *r)
{
	if (!content_type_is_json(req_header(r, "Content-Type"))) {
		reply_error(r, E_UNSUPPORTED_MEDIA_TYPE, NULL,
		    "send the body as application/json");
		return false;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	size_t len = evbuffer_get_length(in);
	if (len > HTTP_MAX_BODY) {
		reply_error(
		    r, E_PAYLOAD_TOO_LARGE, NULL, "the body may be at most 1 MiB");
		return false;
	}
	r->raw_body = (const char *)evbuffer_pullup(in, -1);
	r->raw_len = len;
	if (len == 0) {
		reply_error(r, E_BAD_JSON, NULL, "the body is empty");
		return false;
	}
	if (json_too_deep(r->raw_body, len, JSON_MAX_DEPTH)) {
		reply_error(r, E_BAD_JSON, NULL, "JSON nests deeper than %d levels",
		    JSON_MAX_DEPTH);
		return false;
	}
	json_error_t err;
	r->body = json_loadb(r->raw_body, len, JSON_REJECT_DUPLICATES, &err);
	if (r->body == NULL && json_error_code(&err) == json_error_numeric_overflow) {
		/* An integer beyond 64 bits is a validation error of its field,
		 * not bad JSON: read integers as reals so f_int can name it. */
		r->body = json_loadb(r->raw_body, len,
		    JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &err);
		r->ints_as_reals = true;
	}
	if (r->body == NULL) {
		reply_error(r, E_BAD_JSON, NULL, "%s at line %d column %d", err.text,
		    err.line, err.column);
		return false;
	}
	if (!json_is_object(r->body)) {
		reply_error(r, E_BAD_JSON, NULL, "the body must be a JSON object");
		return false;
	}
	return true;
}

size_t
header_block_size(struct evhttp_request *ev)
{
	/* A request that failed to parse may have no URI. */
	const char *uri = evhttp_request_get_uri(ev);
	size_t n = (uri ? strlen(uri) : 0) + 16;
	struct evkeyvalq *h = evhttp_request_get_input_headers(ev);
	for (struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next)
		n += strlen(kv->key) + strlen(kv->value) + 4;
	return n;
}

/* True when every parameter of the raw query string q, name and value,
 * percent-decoded, is valid UTF-8 without a NUL. */
bool
query_is_text(const char *q)
{
	while (*q != '\0') {
		size_t n = strcspn(q, "&");
		char *piece = xstrndup(q, n);
		size_t len = 0;
		char *text = evhttp_uridecode(piece, 1, &len);
		bool ok = text != NULL && strlen(text) == len && utf8_valid(text, len);
		free(text);
		free(piece);
		if (!ok)
			return false;
		q += n;
		if (*q == '&')
			q++;
	}
	return true;
}
