/* server/tls.c: the session-ticket key ring, on a clock of the test's own. */
#include <string.h>

#include "tls.h"
#include "unit.h"

static void
test_rotation(void)
{
	struct ticket_keys k;
	struct ticket_key a, b, c, got;
	ticket_keys_init(&k, 1000, 3600);
	CHECK(ticket_keys_seal(&k, 1000, &a));
	/* Within the period: one key. */
	CHECK(ticket_keys_seal(&k, 1000 + 3599, &got));
	CHECK(memcmp(got.name, a.name, 16) == 0 && memcmp(got.aes, a.aes, 32) == 0);
	CHECK(ticket_keys_open(&k, 1000 + 3599, a.name, &got) == 1);
	/* The next period seals with a new key; the old one still opens,
	 * asking for a renewal. */
	CHECK(ticket_keys_seal(&k, 1000 + 3600, &b));
	CHECK(memcmp(b.name, a.name, 16) != 0);
	CHECK(memcmp(b.aes, a.aes, 32) != 0 && memcmp(b.hmac, a.hmac, 32) != 0);
	CHECK(ticket_keys_open(&k, 1000 + 3600, a.name, &got) == 2);
	CHECK(memcmp(got.aes, a.aes, 32) == 0 && memcmp(got.hmac, a.hmac, 32) == 0);
	CHECK(ticket_keys_open(&k, 1000 + 3600, b.name, &got) == 1);
	/* Two rotations on: a's tickets are refused, b's renewed. */
	CHECK(ticket_keys_seal(&k, 1000 + 2 * 3600 + 5, &c));
	CHECK(ticket_keys_open(&k, 1000 + 2 * 3600 + 5, a.name, &got) == 0);
	CHECK(ticket_keys_open(&k, 1000 + 2 * 3600 + 5, b.name, &got) == 2);
	CHECK(ticket_keys_open(&k, 1000 + 2 * 3600 + 5, c.name, &got) == 1);
}

static void
test_rotation_without_traffic(void)
{
	/* The ring moves with the clock, not with handshakes: a ticket
	 * opened first after a long quiet spell is refused, and so is one of
	 * the period before when two periods passed unseen. */
	struct ticket_keys k;
	struct ticket_key a, b, got;
	ticket_keys_init(&k, 0, 60);
	CHECK(ticket_keys_seal(&k, 10, &a));
	CHECK(ticket_keys_open(&k, 119, a.name, &got) == 2);
	CHECK(ticket_keys_open(&k, 120, a.name, &got) == 0);
	CHECK(ticket_keys_seal(&k, 130, &b));
	CHECK(ticket_keys_open(&k, 10000, b.name, &got) == 0);
	CHECK(ticket_keys_open(&k, 10000, a.name, &got) == 0);
	/* A name no key has. */
	unsigned char none[16] = {0};
	CHECK(ticket_keys_open(&k, 10000, none, &got) == 0);
}

static void
test_two_rings_differ(void)
{
	struct ticket_keys k1, k2;
	struct ticket_key a, b, got;
	ticket_keys_init(&k1, 0, 3600);
	ticket_keys_init(&k2, 0, 3600);
	CHECK(ticket_keys_seal(&k1, 1, &a));
	CHECK(ticket_keys_seal(&k2, 1, &b));
	CHECK(memcmp(a.name, b.name, 16) != 0 && memcmp(a.aes, b.aes, 32) != 0);
	CHECK(ticket_keys_open(&k2, 1, a.name, &got) == 0);
}

UNIT_MAIN(test_rotation, test_rotation_without_traffic, test_two_rings_differ)
