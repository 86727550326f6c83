#include "proxies.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "util.h"

/* text as an address: false when it is not one. An IPv4-mapped IPv6
 * address is its IPv4 address. */
static bool
addr_parse(const char *text, size_t n, int *family, unsigned char addr[16])
{
	char buf[INET6_ADDRSTRLEN];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return false;
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		*family = AF_INET;
	} else {
		*family = AF_INET6;
	}
	return true;
}

static bool
net_contains(const struct proxy_net *net, int family, const unsigned char *addr)
{
	if (net->family != family)
		return false;
	int full = net->bits / 8, rest = net->bits % 8;
	if (memcmp(net->addr, addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr[full] & mask);
}

static bool
trusted(const struct proxies *p, int family, const unsigned char *addr)
{
	for (size_t i = 0; i < p->n; i++)
		if (net_contains(&p->nets[i], family, addr))
			return true;
	return false;
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

int
proxies_parse(struct proxies *p, const char *spec, char **err)
{
	struct proxies out = {NULL, 0};
	for (const char *s = spec; *s;) {
		const char *end = s + strcspn(s, ",");
		const char *a = s, *b = end;
		trim(&a, &b);
		s = *end ? end + 1 : end;
		if (a == b)
			continue;
		const char *slash = memchr(a, '/', (size_t)(b - a));
		struct proxy_net net;
		memset(&net, 0, sizeof(net));
		bool ok = addr_parse(
		    a, (size_t)((slash ? slash : b) - a), &net.family, net.addr);
		int max = net.family == AF_INET ? 32 : 128;
		net.bits = max;
		if (ok && slash != NULL) {
			char *stop;
			long bits = strtol(slash + 1, &stop, 10);
			ok = stop == b && slash + 1 < b && bits >= 0 && bits <= max;
			net.bits = (int)bits;
		}
		if (!ok) {
			*err =
			    xasprintf("\"%.*s\" is not an address or a range such as "
			              "10.0.0.0/8",
			        (int)(b - a), a);
			free(out.nets);
			return -1;
		}
		out.nets = xrealloc(out.nets, (out.n + 1) * sizeof(*out.nets));
		out.nets[out.n++] = net;
	}
	proxies_free(p);
	*p = out;
	return 0;
}

void
proxies_free(struct proxies *p)
{
	free(p->nets);
	p->nets = NULL;
	p->n = 0;
}

bool
proxies_trust(const struct proxies *p, const char *addr)
{
	int family;
	unsigned char a[16];
	return addr_parse(addr, strlen(addr), &family, a) && trusted(p, family, a);
}

void
proxies_client(
    const struct proxies *p, const char *peer, const char *xff, char *out, size_t len)
{
	snprintf(out, len, "%s", peer);
	if (p->n == 0 || xff == NULL || !proxies_trust(p, peer))
		return;
	/* From the right: skip the proxies, stop at the first other entry. */
	const char *end = xff + strlen(xff);
	while (end > xff) {
		const char *start = end;
		while (start > xff && start[-1] != ',')
			start--;
		const char *a = start, *b = end;
		trim(&a, &b);
		end = start > xff ? start - 1 : xff;
		if (a == b)
			continue;
		int family;
		unsigned char addr[16];
		if (!addr_parse(a, (size_t)(b - a), &family, addr))
			return;
		char text[INET6_ADDRSTRLEN];
		inet_ntop(family, addr, text, sizeof(text));
		snprintf(out, len, "%s", text);
		if (!trusted(p, family, addr))
			return;
	}
}
