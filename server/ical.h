/*
 * An iCalendar (RFC 5545) writer: content lines ending in CRLF, folded at
 * 75 octets without splitting a UTF-8 character, and TEXT values escaped.
 * It knows nothing of market days; the calendar is put together by
 * server/api/market_days.c.
 */
#ifndef MARKET_ICAL_H
#define MARKET_ICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* The most octets of one physical line, CRLF not counted (RFC 5545 3.1). */
#define ICAL_LINE_MAX 75

/*
 * s as an iCalendar TEXT value: backslash, semicolon and comma escaped
 * with a backslash, a newline (LF, CR or CRLF) as "\n", other control
 * characters but tab dropped. The caller frees the result.
 */
char *ical_escape(const char *s);

/*
 * The content line `line` (no CRLF) folded: every physical line ends in
 * CRLF and holds at most ICAL_LINE_MAX octets, continuation lines start
 * with one space, and no UTF-8 sequence is split. The caller frees it.
 */
char *ical_fold(const char *line);

/* Appends "name:value" folded, value taken as is (already escaped or not
 * TEXT). */
void ical_line(struct evbuffer *out, const char *name, const char *value);
/* Appends "name:text" with text escaped as TEXT, folded. */
void ical_text(struct evbuffer *out, const char *name, const char *text);

/* A new UID: 32 hex digits of random bytes + "@" + domain into out
 * (at least 34 + strlen(domain) octets). false if the random generator
 * failed. */
bool ical_uid_new(char *out, size_t len, const char *domain);

/* t (seconds since the epoch) as a UTC DATE-TIME "YYYYMMDDTHHMMSSZ" into
 * buf[17]. */
void ical_utc(int64_t t, char buf[17]);

/* A local DATE-TIME "YYYYMMDDTHHMMSS" from date "YYYY-MM-DD" and clock
 * "HH:MM" into buf[16]. */
void ical_local(const char *date, const char *clock, char buf[16]);

#endif
