#include "csv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
csv_init(struct csv *c, const char *buf, size_t len)
{
	c->p = buf;
	c->end = buf + len;
	c->line = 1;
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		c->p += 3;
}

void
csv_record_free(struct csv_record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		free(rec->fields[i]);
	free(rec->fields);
	rec->fields = NULL;
	rec->n = rec->cap = 0;
}

static void
add_field(struct csv_record *rec, struct text *t)
{
	text_reserve(t, 0); /* an empty field too is a string */
	t->p[t->len] = '\0';
	if (rec->n == rec->cap) {
		rec->cap = rec->cap ? rec->cap * 2 : 16;
		rec->fields = xrealloc(rec->fields, rec->cap * sizeof(*rec->fields));
	}
	rec->fields[rec->n++] = t->p;
	*t = (struct text){0};
}

/* At a line end (CRLF or LF) at p: its length, else 0. */
static size_t
eol(const struct csv *c, const char *p)
{
	if (p < c->end && *p == '\n')
		return 1;
	if (p + 1 < c->end && p[0] == '\r' && p[1] == '\n')
		return 2;
	return 0;
}

enum csv_status
csv_next(struct csv *c, struct csv_record *rec, const char **err)
{
	csv_record_free(rec);
	/* Skip empty lines. */
	size_t n;
	while ((n = eol(c, c->p)) > 0) {
		c->p += n;
		c->line++;
	}
	rec->line = c->line;
	if (c->p >= c->end)
		return CSV_END;
	const char *start = c->p;
	struct text t = {0};
	for (;;) {
		if (c->p < c->end && *c->p == '"') {
			/* A quoted field: up to the closing quote. */
			c->p++;
			for (;;) {
				if (c->p >= c->end) {
					*err = "a quoted field is not closed";
					goto fail;
				}
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						text_addc(&t, '"');
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->line++;
				text_addc(&t, *c->p++);
			}
			if (c->p < c->end && *c->p != ',' && eol(c, c->p) == 0) {
				*err = "text after a closing quote";
				goto fail;
			}
		} else {
			while (c->p < c->end && *c->p != ',' && eol(c, c->p) == 0) {
				if (*c->p == '"') {
					*err = "a quote inside an unquoted field";
					goto fail;
				}
				if (*c->p == '\r') {
					*err = "a carriage return without a line feed";
					goto fail;
				}
				text_addc(&t, *c->p++);
			}
		}
		if (t.p != NULL && memchr(t.p, '\0', t.len) != NULL) {
			*err = "a NUL byte";
			goto fail;
		}
		add_field(rec, &t);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		/* End of the record: a line end or the end of the buffer. */
		n = eol(c, c->p);
		c->p += n;
		if (n > 0)
			c->line++;
		break;
	}
	if (!utf8_valid(start, (size_t)(c->p - start))) {
		*err = "text that is not UTF-8";
		return CSV_ERROR;
	}
	return CSV_RECORD;
fail:
	free(t.p);
	/* Nothing after a malformed record can be trusted. */
	c->p = c->end;
	return CSV_ERROR;
}

bool
utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + len;
	while (s < end) {
		unsigned char b = *s;
		size_t n;
		unsigned int cp, min;
		if (b < 0x80) {
			s++;
			continue;
		} else if ((b & 0xE0) == 0xC0) {
			n = 1, cp = b & 0x1F, min = 0x80;
		} else if ((b & 0xF0) == 0xE0) {
			n = 2, cp = b & 0x0F, min = 0x800;
		} else if ((b & 0xF8) == 0xF0) {
			n = 3, cp = b & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if ((size_t)(end - s) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		s += n + 1;
	}
	return true;
}

/* ---- The writer ---------------------------------------------------- */

void
csv_out_open(struct csv_out *c)
{
	c->t = (struct text){0};
	c->row_started = false;
	text_add(&c->t, "\xEF\xBB\xBF", 3);
}

void
csv_out_field(struct csv_out *c, const char *s)
{
	if (c->row_started)
		text_addc(&c->t, ',');
	c->row_started = true;
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		text_add(&c->t, s, strlen(s));
		return;
	}
	text_addc(&c->t, '"');
	for (; *s; s++) {
		if (*s == '"')
			text_addc(&c->t, '"');
		text_addc(&c->t, *s);
	}
	text_addc(&c->t, '"');
}

void
csv_out_int(struct csv_out *c, int64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%" PRId64, v);
	csv_out_field(c, num);
}

void
csv_out_row(struct csv_out *c)
{
	text_add(&c->t, "\r\n", 2);
	c->row_started = false;
}

char *
csv_out_close(struct csv_out *c, size_t *len)
{
	*len = c->t.len;
	char *out = c->t.p;
	c->t = (struct text){0};
	return out;
}
