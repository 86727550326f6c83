/*
 * The payment callback's signature check: HMAC-SHA256 in lower-case hex
 * and the constant-time comparison, on any key and data; and the
 * callback route itself with a signature from the input or one made
 * right (then the body's fields are checked). A wrong or missing
 * signature is always 401, a right one never is.
 *
 * Input: a flags byte (bit 0: sign the body right; bit 1: in upper-case
 * hex), then the X-Signature header up to the first newline (when not
 * signing), then the body.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init();
	return 0;
}

static void
check_crypto(const uint8_t *data, size_t size)
{
	/* key | data, split at the middle */
	size_t half = size / 2;
	char a[65], b[65];
	hmac_sha256_hex((const char *)data, half, data + half, size - half, a);
	hmac_sha256_hex((const char *)data, half, data + half, size - half, b);
	if (strlen(a) != 64 || strcmp(a, b) != 0 || !ct_equal(a, b, 64))
		abort();
	for (size_t i = 0; i < 64; i++)
		if (!isdigit((unsigned char)a[i]) && (a[i] < 'a' || a[i] > 'f'))
			abort();
	/* ct_equal agrees with memcmp on the two halves. */
	if (ct_equal(data, data + half, half) != (memcmp(data, data + half, half) == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	check_crypto(data, size);
	const struct route *rt =
	    fuzz_route(EVHTTP_REQ_POST, "/api/v1/payments/callback");
	if (rt == NULL)
		return 0;
	uint8_t flags = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	char sig[65], *given = NULL;
	bool right;
	if (flags & 1) {
		hmac_sha256_hex(FUZZ_PAYMENT_SECRET, strlen(FUZZ_PAYMENT_SECRET), p,
		    (size_t)(end - p), sig);
		if (flags & 2)
			for (char *c = sig; *c; c++)
				*c = (char)toupper((unsigned char)*c);
		right = true;
	} else {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return 0;
		given = xstrndup((const char *)p, (size_t)(nl - p));
		p = nl + 1;
		hmac_sha256_hex(FUZZ_PAYMENT_SECRET, strlen(FUZZ_PAYMENT_SECRET), p,
		    (size_t)(end - p), sig);
		right = strlen(given) == 64 && strcasecmp(given, sig) == 0;
	}
	struct fuzz_req q = {.route = rt,
	    .role = ROLE_ANON,
	    .body = p,
	    .body_len = (size_t)(end - p),
	    .signature = given ? given : sig};
	int status = fuzz_run(&q);
	/* A body that is not a JSON object is refused before the handler. */
	if (status == 401 ? right
	                  : !right && status != 400 && status != 413 && status != 415)
		abort();
	free(given);
	return 0;
}
