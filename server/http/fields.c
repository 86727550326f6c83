#include "http/fields.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "date.h"
#include "http/request.h"
#include "text.h"

struct fields
fields_of(struct request *r)
{
	return (struct fields){r, r->body, ""};
}

bool
f_fail(struct fields f, const char *key, const char *detail)
{
	char name[256];
	snprintf(name, sizeof(name), "%s%s", f.prefix, key);
	reply_error(f.r, E_VALIDATION, name, "%s: %s", name, detail);
	return false;
}

/* The value of key; NULL when absent. Handles required and null. Returns
 * false when it has set an error; *done when there is nothing more to
 * check (absent, or an accepted null). */
static bool
lookup(
    struct fields f, const char *key, int flags, json_t **v, bool *present, bool *done)
{
	*v = json_object_get(f.obj, key);
	*done = false;
	if (present != NULL)
		*present = *v != NULL;
	if (*v == NULL || json_is_null(*v)) {
		if (*v != NULL && (flags & F_NULLABLE)) {
			*done = true;
			return true;
		}
		if (flags & F_REQUIRED)
			return f_fail(
			    f, key, *v == NULL ? "is required" : "must not be null");
		if (*v != NULL)
			return f_fail(f, key, "must not be null");
		*done = true;
	}
	return true;
}

bool
f_string(struct fields f, const char *key, int flags, size_t minlen, size_t maxlen,
    const char **out, bool *present)
{
	json_t *v;
	bool done;
	if (!lookup(f, key, flags, &v, present, &done))
		return false;
	if (done) {
		if (v != NULL)
			*out = NULL;
		return true;
	}
	if (!json_is_string(v))
		return f_fail(f, key, "must be a string");
	size_t n = utf8_length(json_string_value(v));
	if (n < minlen || n > maxlen) {
		char d[96];
		snprintf(
		    d, sizeof(d), "must be %zu to %zu characters long", minlen, maxlen);
		return f_fail(f, key, d);
	}
	*out = json_string_value(v);
	return true;
}

bool
f_int(struct fields f, const char *key, int flags, int64_t min, int64_t max,
    int64_t *out, bool *present)
{
	json_t *v;
	bool done;
	if (!lookup(f, key, flags, &v, present, &done))
		return false;
	if (done)
		return true;
	char d[128];
	snprintf(d, sizeof(d), "must be an integer from %lld to %lld", (long long)min,
	    (long long)max);
	int64_t n;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_real(v) && f.r->ints_as_reals) {
		/* The body held an integer beyond 64 bits, so every integer was
		 * read as a real: accept those that are exact integers. */
		double x = json_real_value(v);
		if (x != floor(x) || fabs(x) > 9007199254740992.0)
			return f_fail(f, key, d);
		n = (int64_t)x;
	} else {
		return f_fail(f, key, d);
	}
	if (n < min || n > max)
		return f_fail(f, key, d);
	*out = n;
	return true;
}

bool
f_bool(struct fields f, const char *key, int flags, bool *out, bool *present)
{
	json_t *v;
	bool done;
	if (!lookup(f, key, flags, &v, present, &done))
		return false;
	if (done)
		return true;
	if (!json_is_boolean(v))
		return f_fail(f, key, "must be true or false");
	*out = json_is_true(v);
	return true;
}

bool
f_enum(struct fields f, const char *key, int flags, const char *const *values,
    const char **out, bool *present)
{
	json_t *v;
	bool done;
	if (!lookup(f, key, flags, &v, present, &done))
		return false;
	if (done) {
		if (v != NULL)
			*out = NULL;
		return true;
	}
	if (json_is_string(v))
		for (const char *const *e = values; *e; e++)
			if (strcmp(*e, json_string_value(v)) == 0) {
				*out = *e;
				return true;
			}
	char d[256] = "must be one of";
	for (const char *const *e = values; *e; e++) {
		size_t len = strlen(d);
		snprintf(d + len, sizeof(d) - len, "%s %s", e == values ? "" : ",", *e);
	}
	return f_fail(f, key, d);
}

bool
f_object(struct fields f, const char *key, int flags, json_t **out)
{
	json_t *v;
	bool done;
	if (!lookup(f, key, flags, &v, NULL, &done))
		return false;
	if (done) {
		*out = NULL;
		return true;
	}
	if (!json_is_object(v))
		return f_fail(f, key, "must be an object");
	*out = v;
	return true;
}

bool
f_array(
    struct fields f, const char *key, int flags, size_t min, size_t max, json_t **out)
{
	json_t *v;
	bool done;
	if (!lookup(f, key, flags, &v, NULL, &done))
		return false;
	if (done) {
		*out = NULL;
		return true;
	}
	if (!json_is_array(v))
		return f_fail(f, key, "must be an array");
	if (json_array_size(v) < min || json_array_size(v) > max) {
		char d[96];
		snprintf(d, sizeof(d), "must hold %zu to %zu items", min, max);
		return f_fail(f, key, d);
	}
	*out = v;
	return true;
}

static bool
two_digits(const char *s, int *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return false;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return true;
}

bool
valid_clock(const char *s)
{
	int h, m;
	return strlen(s) == 5 && s[2] == ':' && two_digits(s, &h) &&
	       two_digits(s + 3, &m) && h < 24 && m < 60;
}

bool
f_date(struct fields f, const char *key, int flags, int min_year, const char **out)
{
	*out = NULL;
	if (!f_string(f, key, flags, 0, 64, out, NULL))
		return false;
	if (*out != NULL && !date_valid_since(*out, min_year))
		return f_fail(f, key, "must be a date YYYY-MM-DD");
	return true;
}
