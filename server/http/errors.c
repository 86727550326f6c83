#include "http/errors.h"

#include <assert.h>

static const struct api_error_def table[E_COUNT] = {
	[E_NONE] = {200, "ok", "OK"},
	[E_BAD_JSON] = {400, "bad_json", "Malformed JSON"},
	[E_VALIDATION] = {400, "validation_failed", "Validation failed"},
	[E_UNAUTHORIZED] = {401, "unauthorized", "Unauthorized"},
	[E_INVALID_CREDENTIALS] = {401, "invalid_credentials", "Invalid credentials"},
	[E_FORBIDDEN] = {403, "forbidden", "Forbidden"},
	[E_NOT_FOUND] = {404, "not_found", "Not found"},
	[E_METHOD_NOT_ALLOWED] = {405, "method_not_allowed", "Method not allowed"},
	[E_CONFLICT] = {409, "conflict", "Conflict"},
	[E_OUT_OF_STOCK] = {409, "out_of_stock", "Out of stock"},
	[E_INVALID_STATE] = {409, "invalid_state", "Invalid state"},
	[E_IDEMPOTENCY_MISMATCH] = {409, "idempotency_mismatch", "Idempotency mismatch"},
	[E_PAYLOAD_TOO_LARGE] = {413, "payload_too_large", "Payload too large"},
	[E_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type", "Unsupported media type"},
	[E_RATE_LIMITED] = {429, "rate_limited", "Too many requests"},
	[E_INTERNAL] = {500, "internal", "Internal error"},
	[E_BAD_REQUEST] = {400, "bad_request", "Bad request"},
	[E_HEADERS_TOO_LARGE] = {431, "headers_too_large", "Request header fields too large"},
	[E_NOT_IMPLEMENTED] = {501, "not_implemented", "Not implemented"},
	[E_UNAVAILABLE] = {503, "unavailable", "Service unavailable"},
};

const struct api_error_def *
api_error_def(enum api_error e)
{
	assert(e < E_COUNT);
	return &table[e];
}

enum api_error
api_error_for_status(int status)
{
	/* Prefer the generic error of a status over the specific ones. */
	switch (status) {
	case 400: return E_BAD_REQUEST;
	case 401: return E_UNAUTHORIZED;
	case 409: return E_CONFLICT;
	}
	for (int e = E_BAD_JSON; e < E_COUNT; e++)
		if (table[e].status == status)
			return (enum api_error)e;
	return E_INTERNAL;
}

json_t *
problem_new(enum api_error e, const char *field, const char *detail)
{
	const struct api_error_def *d = api_error_def(e);
	json_t *p = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank",
	    "title", d->title, "status", d->status, "code", d->code);
	if (detail != NULL)
		json_object_set_new(p, "detail", json_string(detail));
	if (field != NULL)
		json_object_set_new(p, "field", json_string(field));
	return p;
}
