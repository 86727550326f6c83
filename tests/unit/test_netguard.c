/* server/netguard.c: which addresses a webhook may reach; and the retry
 * schedule of server/webhook_worker.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "netguard.h"
#include "unit.h"
#include "webhook_worker.h"

/* addr_refusal() of a literal address ("" for allowed). */
static const char *
judge(const char *ip)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, ip, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	else
		return "bad test address";
	const char *k = addr_refusal((struct sockaddr *)&ss);
	return k ? k : "";
}

static void
test_v4(void)
{
	CHECK_STR(judge("127.0.0.1"), "loopback");
	CHECK_STR(judge("127.255.255.254"), "loopback");
	CHECK_STR(judge("10.0.0.1"), "private");
	CHECK_STR(judge("172.16.0.1"), "private");
	CHECK_STR(judge("172.31.255.255"), "private");
	CHECK_STR(judge("172.32.0.1"), "");
	CHECK_STR(judge("172.15.255.255"), "");
	CHECK_STR(judge("192.168.0.1"), "private");
	CHECK_STR(judge("100.64.0.1"), "private");
	CHECK_STR(judge("100.128.0.1"), "");
	CHECK_STR(judge("169.254.169.254"), "link-local");
	CHECK_STR(judge("0.0.0.0"), "unspecified");
	CHECK_STR(judge("224.0.0.251"), "multicast");
	CHECK_STR(judge("255.255.255.255"), "reserved");
	CHECK_STR(judge("192.0.2.1"), "reserved");
	CHECK_STR(judge("8.8.8.8"), "");
	CHECK_STR(judge("93.184.216.34"), "");
}

static void
test_v6(void)
{
	CHECK_STR(judge("::1"), "loopback");
	CHECK_STR(judge("::"), "unspecified");
	CHECK_STR(judge("fe80::1"), "link-local");
	CHECK_STR(judge("febf::1"), "link-local");
	CHECK_STR(judge("fc00::1"), "private");
	CHECK_STR(judge("fd12:3456::1"), "private");
	CHECK_STR(judge("fec0::1"), "private");
	CHECK_STR(judge("ff02::1"), "multicast");
	CHECK_STR(judge("2001:db8::1"), "reserved");
	/* IPv4 inside IPv6 is judged as IPv4. */
	CHECK_STR(judge("::ffff:127.0.0.1"), "loopback");
	CHECK_STR(judge("::ffff:10.1.1.1"), "private");
	CHECK_STR(judge("::ffff:169.254.0.1"), "link-local");
	CHECK_STR(judge("::ffff:8.8.8.8"), "");
	CHECK_STR(judge("::127.0.0.1"), "loopback");
	CHECK_STR(judge("64:ff9b::192.168.1.1"), "private");
	CHECK_STR(judge("64:ff9b::8.8.8.8"), "");
	CHECK_STR(judge("2606:4700:4700::1111"), "");
	CHECK_STR(judge("2400:3200::1"), "");
}

static void
test_url(void)
{
	char *why = NULL;
	CHECK(webhook_url_check("https://8.8.8.8/x", false, &why) && why == NULL);
	CHECK(!webhook_url_check("http://8.8.8.8/x", false, &why));
	CHECK_STR(why, "must be an https:// URL");
	free(why);
	CHECK(webhook_url_check("http://127.0.0.1:9/x", true, &why));
	CHECK(!webhook_url_check("ftp://8.8.8.8/x", true, &why));
	CHECK_STR(why, "must be an http:// or https:// URL");
	free(why);
	CHECK(!webhook_url_check("https://a:b@8.8.8.8/", false, &why));
	CHECK_STR(why, "must not hold a user name or password");
	free(why);
	CHECK(!webhook_url_check("https://[::ffff:127.0.0.1]:8443/", false, &why));
	CHECK_STR(why, "host [::ffff:127.0.0.1] is or resolves to a loopback address");
	free(why);
	CHECK(!webhook_url_check("https://localhost/", false, &why));
	CHECK_STR(why, "host localhost is or resolves to a loopback address");
	free(why);
}

static void
test_retry_schedule(void)
{
	/* 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then none. */
	static const int64_t want[] = {
	    5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400};
	for (int n = 1; n <= 9; n++)
		CHECK(webhook_retry_delay_ms(n, 1) == want[n - 1] * 1000);
	CHECK(webhook_retry_delay_ms(10, 1) == -1);
	CHECK(webhook_retry_delay_ms(0, 1) == -1);
	CHECK(webhook_retry_delay_ms(1, 1000) == 5);
	CHECK(webhook_retry_delay_ms(1, 1000000) == 1); /* never 0 */
}

UNIT_MAIN(test_v4, test_v6, test_url, test_retry_schedule)
