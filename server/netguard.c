#include "netguard.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "util.h"

/* a.b.c.d in host order. */
static const char *
v4_refusal(uint32_t a)
{
	uint8_t b0 = a >> 24, b1 = (a >> 16) & 0xff, b2 = (a >> 8) & 0xff;
	if (b0 == 0)
		return "unspecified";
	if (b0 == 127)
		return "loopback";
	if (b0 == 10 || (b0 == 172 && (b1 & 0xf0) == 16) || (b0 == 192 && b1 == 168) ||
	    (b0 == 100 && (b1 & 0xc0) == 64))
		return "private";
	if (b0 == 169 && b1 == 254)
		return "link-local";
	if ((b0 & 0xf0) == 224)
		return "multicast";
	/* 240/4 and the broadcast address; the IETF protocol assignments
	 * 192.0.0/24; TEST-NETs; the benchmark range 198.18/15. */
	if ((b0 & 0xf0) == 240 || (b0 == 192 && b1 == 0 && (b2 == 0 || b2 == 2)) ||
	    (b0 == 198 && (b1 & 0xfe) == 18) || (b0 == 198 && b1 == 51 && b2 == 100) ||
	    (b0 == 203 && b1 == 0 && b2 == 113))
		return "reserved";
	return NULL;
}

static uint32_t
v4_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *
v6_refusal(const uint8_t a[16])
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
	if (memcmp(a, zero, 16) == 0)
		return "unspecified";
	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return "loopback";
	/* ::ffff:a.b.c.d, ::a.b.c.d (deprecated IPv4-compatible) and
	 * 64:ff9b::a.b.c.d reach an IPv4 address. */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 ||
	    memcmp(a, nat64, 12) == 0)
		return v4_refusal(v4_at(a + 12));
	if (a[0] == 0xff)
		return "multicast";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local";
	if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0))
		return "private";
	/* Documentation (2001:db8::/32) and discard-only (100::/64). */
	if ((a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) ||
	    (a[0] == 0x01 && a[1] == 0 && memcmp(a + 2, zero, 6) == 0))
		return "reserved";
	return NULL;
}

const char *
addr_refusal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return v4_refusal(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		return v6_refusal(in6->sin6_addr.s6_addr);
	}
	return "reserved";
}

static char *
refused(const char *host, const char *kind)
{
	if (strcmp(kind, "loopback") == 0)
		return xasprintf("host %s is or resolves to a loopback address", host);
	if (strcmp(kind, "private") == 0)
		return xasprintf("host %s is or resolves to a private address", host);
	if (strcmp(kind, "link-local") == 0)
		return xasprintf(
		    "host %s is or resolves to a link-local address", host);
	if (strcmp(kind, "unspecified") == 0)
		return xasprintf(
		    "host %s is or resolves to an unspecified address", host);
	if (strcmp(kind, "multicast") == 0)
		return xasprintf("host %s is or resolves to a multicast address", host);
	return xasprintf("host %s is or resolves to a reserved address", host);
}

bool
webhook_url_check(const char *url, bool insecure, char **why)
{
	*why = NULL;
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
	bool ok = false;
	if (u == NULL) {
		*why = xstrdup("must be an https:// URL");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "https") != 0 &&
	        !(insecure && strcasecmp(scheme, "http") == 0)) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		*why = xstrdup(insecure ? "must be an http:// or https:// URL"
		                        : "must be an https:// URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
		*why = xstrdup("must not hold a user name or password");
		goto out;
	}
	if (insecure) {
		ok = true;
		goto out;
	}
	/* An IPv6 literal comes back in brackets. */
	char name[256];
	size_t len = strlen(host);
	if (host[0] == '[' && len >= 2 && host[len - 1] == ']')
		snprintf(name, sizeof(name), "%.*s", (int)(len - 2), host + 1);
	else
		snprintf(name, sizeof(name), "%s", host);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	if (getaddrinfo(name, NULL, &hints, &res) != 0 || res == NULL) {
		*why = xasprintf("host %s does not resolve", host);
		goto out;
	}
	ok = true;
	for (struct addrinfo *ai = res; ai != NULL && ok; ai = ai->ai_next) {
		const char *kind = addr_refusal(ai->ai_addr);
		if (kind != NULL) {
			*why = refused(host, kind);
			ok = false;
		}
	}
	freeaddrinfo(res);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(u);
	return ok;
}
