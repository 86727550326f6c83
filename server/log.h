/* One place decides how the server logs: a line on standard error with
 * the time and level. Safe to call from any thread. */
#ifndef MARKET_LOG_H
#define MARKET_LOG_H

#include <stddef.h>

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits with status 1. */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Turns off log_info (for tools and quiet tests). */
void log_set_quiet(int quiet);

/* Writes the n bytes of in into out[outsz] as one log field that nothing
 * can forge a line or a field with: bytes below 0x21 (controls, space),
 * 0x7f, '"', '\\' and every byte from 0x80 become \\xHH. Cuts at a whole
 * escape when out is full and always terminates out (outsz >= 1).
 * Returns the length written. */
size_t log_escape(char *out, size_t outsz, const char *in, size_t n);
/* Rewrites, in place, every control byte of s (below 0x20 and 0x7f, the
 * line's own newline excepted: s has none) as '?': a last guard for lines
 * whose fields were not escaped one by one. */
void log_scrub(char *s);

#endif
