/* server/proxies.c: which addresses are trusted proxies, and which
 * address a request's client has behind them. */
#include <stdlib.h>

#include "proxies.h"
#include "unit.h"

static struct proxies p;

static const char *
client(const char *peer, const char *xff)
{
	static char out[64];
	proxies_client(&p, peer, xff, out, sizeof(out));
	return out;
}

static void
test_parse(void)
{
	char *err = NULL;
	CHECK(proxies_parse(&p, "10.0.0.0/8, 192.168.1.5,fd00::/8 ,::ffff:172.16.0.1",
	          &err) == 0);
	CHECK(p.n == 4);
	CHECK(proxies_trust(&p, "10.255.1.2"));
	CHECK(!proxies_trust(&p, "11.0.0.1"));
	CHECK(proxies_trust(&p, "192.168.1.5"));
	CHECK(!proxies_trust(&p, "192.168.1.6"));
	CHECK(proxies_trust(&p, "fdab::1"));
	CHECK(!proxies_trust(&p, "fe80::1"));
	/* A mapped IPv6 address is its IPv4 address, either way. */
	CHECK(proxies_trust(&p, "172.16.0.1"));
	CHECK(proxies_trust(&p, "::ffff:10.1.1.1"));
	CHECK(!proxies_trust(&p, "not an address"));
	CHECK(!proxies_trust(&p, ""));

	static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x",
	    "fd00::/129", "example.org", "10.0.0.0/8, 1.2.3", "1.2.3.4/-1", "/8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		CHECK(proxies_parse(&p, bad[i], &err) == -1);
		CHECK(err != NULL && strstr(err, "is not an address") != NULL);
		free(err);
		CHECK(p.n == 4); /* unchanged */
	}
	/* Odd prefix lengths. */
	err = NULL;
	CHECK(proxies_parse(&p, "10.0.0.128/25, 0.0.0.0/0", &err) == 0);
	CHECK(proxies_trust(&p, "8.8.8.8")); /* /0: everything IPv4 */
	CHECK(!proxies_trust(&p, "::1"));
	CHECK(proxies_parse(&p, "10.0.0.128/25", &err) == 0);
	CHECK(proxies_trust(&p, "10.0.0.200"));
	CHECK(!proxies_trust(&p, "10.0.0.127"));
	CHECK(proxies_parse(&p, "", &err) == 0);
	CHECK(p.n == 0);
}

static void
test_client(void)
{
	char *err = NULL;
	CHECK(proxies_parse(&p, "127.0.0.2, 10.0.0.0/8", &err) == 0);
	/* Not from a proxy: its own address, whatever it claims. */
	CHECK_STR(client("127.0.0.3", "9.9.9.9"), "127.0.0.3");
	CHECK_STR(client("127.0.0.3", NULL), "127.0.0.3");
	/* From a proxy: the rightmost entry that is not one. */
	CHECK_STR(client("127.0.0.2", "9.9.9.9"), "9.9.9.9");
	CHECK_STR(client("127.0.0.2", "forged, 9.9.9.9, 8.8.8.8"), "8.8.8.8");
	CHECK_STR(client("127.0.0.2", "9.9.9.9, 10.1.2.3, 127.0.0.2"), "9.9.9.9");
	CHECK_STR(client("127.0.0.2", " 9.9.9.9 ,  "), "9.9.9.9");
	CHECK_STR(client("127.0.0.2", "2001:db8::1"), "2001:db8::1");
	CHECK_STR(client("127.0.0.2", "::ffff:9.9.9.9"), "9.9.9.9");
	/* Only proxies: the leftmost of them. */
	CHECK_STR(client("127.0.0.2", "10.0.0.1, 10.0.0.2"), "10.0.0.1");
	/* No header, or garbage: the peer, or the last address read. */
	CHECK_STR(client("127.0.0.2", NULL), "127.0.0.2");
	CHECK_STR(client("127.0.0.2", ""), "127.0.0.2");
	CHECK_STR(client("127.0.0.2", "unknown"), "127.0.0.2");
	CHECK_STR(client("127.0.0.2", "9.9.9.9, <script>"), "127.0.0.2");
	CHECK_STR(client("127.0.0.2", "garbage, 10.0.0.7"), "10.0.0.7");
	CHECK_STR(client("127.0.0.2", "9.9.9.9:1234"), "127.0.0.2");
	/* Nothing trusted: the header is never read. */
	CHECK(proxies_parse(&p, "", &err) == 0);
	CHECK_STR(client("127.0.0.2", "9.9.9.9"), "127.0.0.2");
	proxies_free(&p);
}

UNIT_MAIN(test_parse, test_client)
