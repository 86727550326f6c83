#include "ical.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/rand.h>

#include "util.h"

char *
ical_escape(const char *s)
{
	/* Each input octet becomes at most two. */
	char *out = xmalloc(2 * strlen(s) + 1), *o = out;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\' || c == ';' || c == ',') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\r' || c == '\n') {
			if (c == '\r' && s[1] == '\n')
				s++;
			*o++ = '\\';
			*o++ = 'n';
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			continue;
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}

char *
ical_fold(const char *line)
{
	size_t n = strlen(line);
	/* At worst one fold per 73 octets (a 74-octet room less a split
	 * 4-octet character), each adding CRLF and a space. */
	char *out = xmalloc(n + 3 * (n / 70 + 2) + 1), *o = out;
	size_t room = ICAL_LINE_MAX;
	while (n > room) {
		size_t cut = room;
		/* Do not cut inside a UTF-8 sequence: step back to its lead
		 * octet. A run of more than 3 continuation octets is not
		 * UTF-8; cut where the room ends then. */
		while (cut > room - 3 && ((unsigned char)line[cut] & 0xc0) == 0x80)
			cut--;
		if (((unsigned char)line[cut] & 0xc0) == 0x80)
			cut = room;
		memcpy(o, line, cut);
		o += cut;
		memcpy(o, "\r\n ", 3);
		o += 3;
		line += cut;
		n -= cut;
		room = ICAL_LINE_MAX - 1; /* the leading space takes one */
	}
	memcpy(o, line, n);
	o += n;
	memcpy(o, "\r\n", 3);
	return out;
}

void
ical_line(struct evbuffer *out, const char *name, const char *value)
{
	char *line = xasprintf("%s:%s", name, value);
	char *folded = ical_fold(line);
	evbuffer_add(out, folded, strlen(folded));
	free(folded);
	free(line);
}

void
ical_text(struct evbuffer *out, const char *name, const char *text)
{
	char *esc = ical_escape(text);
	ical_line(out, name, esc);
	free(esc);
}

bool
ical_uid_new(char *out, size_t len, const char *domain)
{
	unsigned char rnd[16];
	char hex[33];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return false;
	hex_encode(rnd, sizeof(rnd), hex);
	return (size_t)snprintf(out, len, "%s@%s", hex, domain) < len;
}

void
ical_utc(int64_t t, char buf[17])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void
ical_local(const char *date, const char *clock, char buf[16])
{
	snprintf(buf, 16, "%.4s%.2s%.2sT%.2s%.2s00", date, date + 5, date + 8, clock,
	    clock + 3);
}
