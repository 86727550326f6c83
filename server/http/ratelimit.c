#include "http/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Addresses tracked at once. When they are all in use (a flood from
 * many addresses), the entry with the oldest window is reused: its
 * address starts afresh, which errs towards letting people log in. */
#define SLOTS 4096
#define PROBES 16

struct slot {
	char addr[64];
	int64_t start; /* the window's first second */
	int count;
};

static struct slot slots[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
hash(const char *s)
{
	return hash_bytes(HASH_INIT, s, strlen(s));
}

int64_t
ratelimit_take(const char *addr, int64_t now, int window, int max)
{
	uint64_t h = hash(addr);
	int64_t retry = 0;
	pthread_mutex_lock(&mu);
	struct slot *found = NULL, *oldest = NULL;
	for (int i = 0; i < PROBES && found == NULL; i++) {
		struct slot *s = &slots[(h + (uint64_t)i) % SLOTS];
		if (s->addr[0] != '\0' && strcmp(s->addr, addr) == 0)
			found = s;
		else if (oldest == NULL || s->addr[0] == '\0' ||
		         s->start < oldest->start)
			if (oldest == NULL || oldest->addr[0] != '\0')
				oldest = s;
	}
	if (found == NULL) {
		found = oldest;
		snprintf(found->addr, sizeof(found->addr), "%s", addr);
		found->start = now;
		found->count = 0;
	}
	if (now - found->start >= window) {
		found->start = now;
		found->count = 0;
	}
	if (found->count >= max)
		retry = found->start + window - now;
	else
		found->count++;
	pthread_mutex_unlock(&mu);
	return retry > 0 ? retry : 0;
}
