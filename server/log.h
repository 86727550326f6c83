/* One place decides how the server logs: a line on standard error with
 * the time and level. Safe to call from any thread. */
#ifndef MARKET_LOG_H
#define MARKET_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits with status 1. */
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Turns off log_info (for tools and quiet tests). */
void log_set_quiet(int quiet);

#endif
