/*
 * Text helpers for UTF-8 strings, used by http/ (field checks) and
 * store/ (names the catalog limits) alike.
 */
#ifndef MARKET_TEXT_H
#define MARKET_TEXT_H

#include <stddef.h>

/* Number of UTF-8 code points in s (s is valid UTF-8). */
size_t utf8_length(const char *s);

#endif
