/*
 * Trusted reverse proxies (--trusted-proxies): the addresses and ranges
 * whose X-Forwarded-For header marketd believes.
 *
 * Behind a load balancer every connection comes from the balancer. The
 * client's own address, which the access log records and the per-address
 * login limit counts, is then the rightmost X-Forwarded-For entry that is
 * not itself a trusted proxy: each proxy appends the address it was
 * connected from, so what lies left of that entry is the client's to
 * write, and may be forged. A connection from any other address keeps its
 * own address, whatever header it sends.
 */
#ifndef MARKET_PROXIES_H
#define MARKET_PROXIES_H

#include <stdbool.h>
#include <stddef.h>

struct proxy_net {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int bits; /* prefix length */
};

struct proxies {
	struct proxy_net *nets;
	size_t n;
};

/*
 * Parses a comma-separated list of addresses and CIDR ranges
 * ("10.0.0.0/8, 192.168.1.5, fd00::/8") into p (replacing what it held).
 * On a bad entry returns -1 and sets *err (caller frees), p unchanged.
 */
int proxies_parse(struct proxies *p, const char *spec, char **err);

void proxies_free(struct proxies *p);

/* addr (text, IPv4 or IPv6) is in one of p's ranges. */
bool proxies_trust(const struct proxies *p, const char *addr);

/*
 * The client's address for a connection from peer that sent the
 * X-Forwarded-For values xff (all of the request's X-Forwarded-For
 * headers joined with commas; NULL when none): written to out (size
 * len, at least 46). peer itself unless peer is trusted and xff names a
 * valid address. An entry that is not an address stops the walk at the
 * last address it read (the peer's, when it is the rightmost).
 */
void proxies_client(
    const struct proxies *p, const char *peer, const char *xff, char *out, size_t len);

#endif
