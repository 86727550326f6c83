#include "http/messages.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HOLES 8
/* Matching backtracks over where each hole ends; the budget bounds it
 * for a detail that repeats a pattern's literals many times. */
#define MATCH_BUDGET 20000
/* A translated hole may hold another translated message, not deeper. */
#define MAX_DEPTH 3

const char *
lang_tag(enum lang l)
{
	return l == LANG_ZH ? "zh-CN" : "en";
}

/* The q of one Accept-Language element's parameters; 1 when absent,
 * -1 when malformed. */
static int
quality(const char *p, const char *end)
{
	while (p < end) {
		while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			p += 2;
			if (p >= end || (*p != '0' && *p != '1'))
				return -1;
			int q = (*p++ - '0') * 1000;
			if (p < end && *p == '.') {
				p++;
				for (int scale = 100;
				     p < end && isdigit((unsigned char)*p);
				     p++, scale /= 10)
					q += (*p - '0') * scale;
			}
			return q > 1000 ? -1 : q;
		}
		while (p < end && *p != ';')
			p++;
	}
	return 1000;
}

enum lang
lang_from_accept(const char *h)
{
	if (h == NULL)
		return LANG_EN;
	enum lang best = LANG_EN;
	int best_q = 0;
	for (const char *p = h; *p;) {
		const char *end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		size_t n = 0;
		while (p + n < end && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
			n++;
		int q = quality(p + n, end);
		int lang = -1;
		if ((n == 2 || (n > 2 && p[2] == '-')) && strncasecmp(p, "zh", 2) == 0)
			lang = LANG_ZH;
		else if ((n == 2 || (n > 2 && p[2] == '-')) &&
		         strncasecmp(p, "en", 2) == 0)
			lang = LANG_EN;
		else if (n == 1 && *p == '*')
			lang = LANG_EN;
		/* The first of the highest q wins; q=0 means "not this one". */
		if (lang >= 0 && q > best_q) {
			best = (enum lang)lang;
			best_q = q;
		}
		p = *end ? end + 1 : end;
	}
	return best;
}

/* Length of the printf conversion at p (p[0] == '%'), 0 when it is "%%"
 * or not a conversion. */
static size_t
conversion_len(const char *p)
{
	size_t i = 1;
	while (p[i] && strchr("-+ #0123456789.", p[i]))
		i++;
	while (p[i] && strchr("hljzt", p[i]))
		i++;
	return p[i] && strchr("sdiuxXc", p[i]) ? i + 1 : 0;
}

/* The pattern's next literal run from p: its bytes (with "%%" as "%")
 * copied to lit, and where it ends. */
static const char *
literal(const char *p, char *lit, size_t cap, size_t *len)
{
	size_t n = 0;
	while (*p) {
		if (p[0] == '%' && p[1] == '%') {
			if (n + 1 < cap)
				lit[n++] = '%';
			p += 2;
			continue;
		}
		if (p[0] == '%' && conversion_len(p) > 0)
			break;
		if (n + 1 < cap)
			lit[n++] = *p;
		p++;
	}
	lit[n] = '\0';
	*len = n;
	return p;
}

struct holes {
	const char *at[MAX_HOLES];
	size_t len[MAX_HOLES];
	int n;
	int budget;
};

/* Does s match the pattern from pat, holes being 1 or more bytes? */
static bool
match(const char *pat, const char *s, struct holes *h)
{
	if (--h->budget < 0)
		return false;
	char lit[256];
	size_t litlen;
	const char *rest = literal(pat, lit, sizeof(lit), &litlen);
	if (strncmp(s, lit, litlen) != 0)
		return false;
	s += litlen;
	if (*rest == '\0')
		return *s == '\0';
	/* A hole, then the next literal (or the end). */
	if (h->n == MAX_HOLES)
		return false;
	const char *after = rest + conversion_len(rest);
	char next[256];
	size_t nextlen;
	literal(after, next, sizeof(next), &nextlen);
	int k = h->n++;
	h->at[k] = s;
	if (nextlen == 0) { /* the hole runs to the end */
		h->len[k] = strlen(s);
		if (h->len[k] > 0 && *after == '\0')
			return true;
		h->n--;
		return false;
	}
	for (const char *e = strstr(s + 1, next); e != NULL && *s;
	     e = strstr(e + 1, next)) {
		/* A hole holds a word or a phrase, never the punctuation or
		 * space around it: "%s must be" does not take "x: must be". */
		if (e[-1] == ':' || e[-1] == ' ')
			continue;
		h->len[k] = (size_t)(e - s);
		if (match(after, e, h))
			return true;
		h->n = k + 1;
		if (h->budget < 0)
			break;
	}
	h->n = k;
	return false;
}

static size_t
literal_weight(const char *pat)
{
	size_t n = 0;
	for (const char *p = pat; *p; p++) {
		size_t c = p[0] == '%' ? conversion_len(p) : 0;
		if (c > 0)
			p += c - 1;
		else
			n++;
	}
	return n;
}

static int
count_holes(const char *pat, bool *adjacent)
{
	int n = 0;
	bool prev_hole = false;
	*adjacent = false;
	for (const char *p = pat; *p; p++) {
		size_t c = p[0] == '%' ? conversion_len(p) : 0;
		if (p[0] == '%' && p[1] == '%') {
			p++;
			prev_hole = false;
		} else if (c > 0) {
			*adjacent |= prev_hole;
			prev_hole = true;
			n++;
			p += c - 1;
		} else {
			prev_hole = false;
		}
	}
	return n;
}

bool
msg_entry_ok(const struct msg_entry *m)
{
	bool adj_en, adj_zh;
	int en = count_holes(m->en, &adj_en);
	int zh = count_holes(m->zh, &adj_zh);
	return en == zh && en <= MAX_HOLES && !adj_en && literal_weight(m->en) > 0;
}

struct out {
	char *p;
	size_t n, cap;
	bool full;
};

/* Appends len bytes of s; what does not fit is cut at a character
 * boundary, so the detail stays valid UTF-8, and nothing is added after
 * a cut. */
static void
put(struct out *o, const char *s, size_t len)
{
	if (o->full)
		return;
	if (o->n + len + 1 > o->cap) {
		len = o->cap - 1 - o->n;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
		o->full = true;
	}
	memcpy(o->p + o->n, s, len);
	o->n += len;
	o->p[o->n] = '\0';
}

static bool translate(
    const struct msg_entry *table, const char *s, size_t len, struct out *o, int depth);

/* The best entry for s: of those that match, the one with the most
 * literal text, so that "%s: %s" yields to anything more specific. */
static const struct msg_entry *
best_entry(const struct msg_entry *table, const char *s, struct holes *h)
{
	const struct msg_entry *best = NULL;
	size_t weight = 0;
	for (const struct msg_entry *m = table; m->en != NULL; m++) {
		struct holes t = {.budget = MATCH_BUDGET};
		if (!msg_entry_ok(m) || !match(m->en, s, &t))
			continue;
		size_t w = literal_weight(m->en);
		if (best == NULL || w > weight) {
			best = m;
			weight = w;
			*h = t;
		}
	}
	return best;
}

static bool
translate(
    const struct msg_entry *table, const char *s, size_t len, struct out *o, int depth)
{
	char *copy = strndup(s, len);
	if (copy == NULL)
		return false;
	struct holes h;
	const struct msg_entry *m =
	    depth < MAX_DEPTH ? best_entry(table, copy, &h) : NULL;
	if (m == NULL) {
		put(o, copy, len);
		free(copy);
		return false;
	}
	int k = 0;
	for (const char *p = m->zh; *p;) {
		size_t c = p[0] == '%' ? conversion_len(p) : 0;
		if (p[0] == '%' && p[1] == '%') {
			put(o, "%", 1);
			p += 2;
		} else if (c > 0) {
			translate(table, h.at[k], h.len[k], o, depth + 1);
			k++;
			p += c;
		} else {
			size_t run = strcspn(p + 1, "%") + 1;
			put(o, p, run);
			p += run;
		}
	}
	free(copy);
	return true;
}

bool
msg_translate(enum lang l, const char *detail, char *out, size_t n)
{
	if (n == 0)
		return false;
	struct out o = {out, 0, n, false};
	out[0] = '\0';
	if (l != LANG_ZH) {
		put(&o, detail, strlen(detail));
		return false;
	}
	return translate(messages_zh, detail, strlen(detail), &o, 0);
}
