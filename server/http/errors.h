/*
 * The API's errors as data: one enum, one table mapping each to its HTTP
 * status, contract code and title (see "Errors" in shared/API.md).
 * Handlers name an error; they never write status numbers.
 */
#ifndef MARKET_HTTP_ERRORS_H
#define MARKET_HTTP_ERRORS_H

#include <jansson.h>

#include "http/messages.h"

enum api_error {
	E_NONE = 0,
	E_BAD_JSON,
	E_VALIDATION,
	E_UNAUTHORIZED,
	E_INVALID_CREDENTIALS,
	E_FORBIDDEN,
	E_NOT_FOUND,
	E_METHOD_NOT_ALLOWED,
	E_CONFLICT,
	E_OUT_OF_STOCK,
	E_INVALID_STATE,
	E_IDEMPOTENCY_MISMATCH,
	E_PAYLOAD_TOO_LARGE,
	E_UNSUPPORTED_MEDIA_TYPE,
	E_RATE_LIMITED,
	E_INTERNAL,
	/* Added to the contract's list for what the HTTP layer refuses. */
	E_BAD_REQUEST,       /* 400: malformed request line or headers */
	E_HEADERS_TOO_LARGE, /* 431: header block over 16 KiB */
	E_NOT_IMPLEMENTED,   /* 501: a method this server does not know */
	E_UNAVAILABLE,       /* 503: the database does not answer */
	E_COUNT
};

struct api_error_def {
	int status;
	const char *code;
	const char *title;
	const char *title_zh; /* the title in Chinese (see http/messages.h) */
};

/* The table row of e; e must be below E_COUNT. */
const struct api_error_def *api_error_def(enum api_error e);

/* The error whose HTTP status is status (first match), E_INTERNAL when
 * none: for answers the HTTP layer gives by itself. */
enum api_error api_error_for_status(int status);

/*
 * A new RFC 9457 problem object (the caller owns the reference):
 * {type, title, status, code, detail?, field?}, its title and detail in
 * language l (detail written in English, translated by http/messages.h).
 * field and detail may be NULL.
 */
json_t *problem_new(
    enum api_error e, enum lang l, const char *field, const char *detail);

#endif
