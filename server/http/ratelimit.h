/*
 * A per-client-address limit on logins and registrations (in memory,
 * shared by all threads): at most max attempts from one address in a
 * fixed window of window seconds. It comes on top of the failed-login
 * limit per username (api/auth.c), which one address trying many
 * usernames would not meet.
 */
#ifndef MARKET_HTTP_RATELIMIT_H
#define MARKET_HTTP_RATELIMIT_H

#include <stdint.h>

/* Counts an attempt from addr at now; 0 when allowed, else the seconds
 * until the address may try again (the attempt is not counted). */
int64_t ratelimit_take(const char *addr, int64_t now, int window, int max);

#endif
