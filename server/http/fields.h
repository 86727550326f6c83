/*
 * Validation of a JSON object's fields. Each getter returns true when the
 * field is fine, or absent and optional (then *present is false, when
 * present is not NULL). Otherwise it sets the reply to 400
 * validation_failed naming "<prefix><key>" and returns false, so a
 * handler writes: if (!f_int(...) || !f_string(...)) goto out;
 */
#ifndef MARKET_HTTP_FIELDS_H
#define MARKET_HTTP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct request;

struct fields {
	struct request *r;
	json_t *obj;        /* a JSON object (borrowed) */
	const char *prefix; /* "" or, for nested objects, "lines[2]." */
};

/* The request body's fields. */
struct fields fields_of(struct request *r);

enum {
	F_OPTIONAL = 0,
	F_REQUIRED = 1 << 0,
	F_NULLABLE = 1 << 1, /* null is accepted: *out = NULL / *present true */
};

/* A string of minlen..maxlen characters (code points). *out borrows. */
bool f_string(struct fields f, const char *key, int flags, size_t minlen, size_t maxlen,
    const char **out, bool *present);
/* An integer in min..max (a real, or a number beyond 64 bits, fails). */
bool f_int(struct fields f, const char *key, int flags, int64_t min, int64_t max,
    int64_t *out, bool *present);
bool f_bool(struct fields f, const char *key, int flags, bool *out, bool *present);
/* A string that is one of values (NULL-terminated). */
bool f_enum(struct fields f, const char *key, int flags, const char *const *values,
    const char **out, bool *present);
/* A nested object or array (borrowed), checked for type only. */
bool f_object(struct fields f, const char *key, int flags, json_t **out);
bool f_array(
    struct fields f, const char *key, int flags, size_t min, size_t max, json_t **out);

/* A date YYYY-MM-DD that exists, in min_year or later; absent or null
 * (when flags allow) leaves *out NULL. */
bool f_date(
    struct fields f, const char *key, int flags, int min_year, const char **out);

/* Sets validation_failed naming "<prefix><key>" with detail; returns false. */
bool f_fail(struct fields f, const char *key, const char *detail);

/* True when s is a clock time HH:MM (00:00..23:59). */
bool valid_clock(const char *s);

#endif
