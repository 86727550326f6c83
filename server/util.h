/*
 * Small helpers used everywhere: allocation that dies on out-of-memory
 * (so error paths are kept for real errors), and checked money arithmetic.
 */
#ifndef MARKET_UTIL_H
#define MARKET_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* Never return NULL: they abort with a message when memory runs out.
 * The caller frees the result with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Text that grows as it is written, for a reply built piece by piece (a
 * report of thousands of rows): the buffer doubles, nothing is zeroed,
 * and nothing goes through stdio. (open_memstream() zeroes every block
 * it grows by and locks its stream on each putc: most of a 2.7 MB
 * report's CPU.) Zeroed, it is empty; p is NUL-terminated once anything
 * is written, and the caller takes it and frees it with free().
 */
struct text {
	char *p;
	size_t len, cap;
};
/* Room for at least n more bytes and the NUL after them. */
void text_reserve(struct text *t, size_t n);
void text_add(struct text *t, const void *s, size_t n);
void text_addc(struct text *t, char c);
void text_printf(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Money is counted in fen, as a signed 64-bit integer. */
typedef int64_t fen_t;

/* *out = a * b or a + b; false (and *out untouched) on overflow. */
bool fen_mul(fen_t a, int64_t b, fen_t *out);
bool fen_add(fen_t a, fen_t b, fen_t *out);

/* A decimal integer: an optional '-', then one or more digits and
 * nothing else, within int64_t. false (and *out untouched) otherwise. */
bool parse_int64(const char *s, int64_t *out);

/* Seconds since the epoch, UTC. */
int64_t now_unix(void);
/* Nanoseconds of the monotonic clock: for durations and deadlines, never
 * for dates. The one clock helper; callers divide for other units. */
int64_t monotonic_ns(void);

/* FNV-1a of the n bytes at p, continuing from h (HASH_INIT to start):
 * the one hash of the hash tables (cache, metrics, limits, statements). */
#define HASH_INIT 1469598103934665603ull
uint64_t hash_bytes(uint64_t h, const void *p, size_t n);
/* Format t as RFC 3339 UTC ("2020-05-01T02:00:00Z") into buf[21]. */
void format_rfc3339(int64_t t, char buf[21]);
/* Parse RFC 3339 (with Z or a numeric offset, optional fraction);
 * false when malformed. */
bool parse_rfc3339(const char *s, int64_t *out);

/* Constant-time comparison of two n-byte buffers. */
bool ct_equal(const void *a, const void *b, size_t n);

/* Lower-case hex of n bytes into out[2n+1]. */
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
