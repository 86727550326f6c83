/*
 * The languages of problem objects (shared/API.md, "Languages").
 *
 * Handlers write their details in English, as they always have. A reply
 * to a client that prefers Chinese passes each detail through the
 * Chinese table in messages_zh.c: every entry is an English pattern in
 * which each printf conversion (%s, %d, %lld, ...) stands for any text,
 * and its Chinese form, whose conversions take that text in the same
 * order. Text a conversion stood for is itself translated when another
 * entry matches it, so "price_fen: must be ..." needs one entry for
 * "%s: %s" and one for the rule. What no entry matches stays as it is:
 * identifiers, numbers and what the client sent.
 */
#ifndef MARKET_HTTP_MESSAGES_H
#define MARKET_HTTP_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>

enum lang {
	LANG_EN = 0,
	LANG_ZH,
};

/* The language an Accept-Language header (may be NULL) prefers among
 * those we write: the first by descending q of zh..., en... and *; a
 * range with q=0 is refused. English when nothing matches. */
enum lang lang_from_accept(const char *accept_language);

/* "en" or "zh-CN", for Content-Language. */
const char *lang_tag(enum lang l);

/* detail in language l, written to out (size n, always terminated).
 * Returns false when no entry matched (out then holds detail as it is). */
bool msg_translate(enum lang l, const char *detail, char *out, size_t n);

struct msg_entry {
	const char *en;
	const char *zh;
};
/* The Chinese table, ended by {NULL, NULL} (messages_zh.c). */
extern const struct msg_entry messages_zh[];

/* True when a pattern's conversions agree with its translation's, in
 * number and order: checked once for every entry by the unit tests, and
 * by msg_translate() before it uses an entry. */
bool msg_entry_ok(const struct msg_entry *m);

#endif
