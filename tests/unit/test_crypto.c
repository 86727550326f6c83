/* server/crypto.c: password hashing, tokens, HMAC and SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "unit.h"

static void
test_password(void)
{
	char *a = password_hash("correct horse");
	char *b = password_hash("correct horse");
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		goto out;
	CHECK(strncmp(a, "scrypt$15$8$1$", 14) == 0);
	/* A salt of its own: two hashes of one password differ. */
	CHECK(strcmp(a, b) != 0);
	CHECK(password_verify("correct horse", a));
	CHECK(password_verify("correct horse", b));
	CHECK(!password_verify("correct horsE", a));
	CHECK(!password_verify("correct horse ", a));
	CHECK(!password_verify("", a));
	/* Not a hash of the password itself in the clear. */
	CHECK(strstr(a, "correct") == NULL);
out:
	free(a);
	free(b);

	char *zh = password_hash("贞丰李子一二三四");
	CHECK(zh != NULL && password_verify("贞丰李子一二三四", zh));
	CHECK(zh != NULL && !password_verify("贞丰李子一二三", zh));
	free(zh);
}

static void
test_password_malformed(void)
{
	char *good = password_hash("password123");
	CHECK(good != NULL);
	if (good == NULL)
		return;
	size_t n = strlen(good);
	char buf[256];
	const char *bad[] = {
	    "",
	    "password123",
	    "scrypt$",
	    "bcrypt$15$8$1$00000000000000000000000000000000$"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    /* parameters out of range */
	    "scrypt$9$8$1$00000000000000000000000000000000$"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "scrypt$23$8$1$00000000000000000000000000000000$"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "scrypt$15$0$1$00000000000000000000000000000000$"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "scrypt$15$8$0$00000000000000000000000000000000$"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    /* salt and hash of the wrong length or alphabet */
	    "scrypt$15$8$1$0000000000000000000000000000000$"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "scrypt$15$8$1$00000000000000000000000000000000$"
	    "000000000000000000000000000000000000000000000000000000000000000",
	    "scrypt$15$8$1$0000000000000000000000000000000G$"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "scrypt$15$8$1$00000000000000000000000000000000$"
	    "000000000000000000000000000000000000000000000000000000000000000A",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!password_verify("password123", bad[i]));

	/* The good hash, truncated, extended or with a changed digit. */
	snprintf(buf, sizeof(buf), "%.*s", (int)(n - 1), good);
	CHECK(!password_verify("password123", buf));
	snprintf(buf, sizeof(buf), "%s0", good);
	CHECK(!password_verify("password123", buf));
	snprintf(buf, sizeof(buf), "%s", good);
	buf[n - 1] = buf[n - 1] == '0' ? '1' : '0';
	CHECK(!password_verify("password123", buf));
	snprintf(buf, sizeof(buf), "%s", good);
	buf[20] = buf[20] == '0' ? '1' : '0'; /* inside the salt */
	CHECK(!password_verify("password123", buf));
	CHECK(password_verify("password123", good));
	free(good);
}

static void
test_tokens(void)
{
	enum { N = 64 };
	char t[N][TOKEN_TEXT_LEN + 1];
	for (int i = 0; i < N; i++) {
		memset(t[i], 'x', sizeof(t[i]));
		CHECK(token_new(t[i]));
		CHECK(strlen(t[i]) == TOKEN_TEXT_LEN);
		CHECK(
		    strspn(t[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                 "0123456789-_") == TOKEN_TEXT_LEN);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(t[i], t[j]) != 0);
	}
	unsigned char h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
	token_hash(t[0], h1);
	token_hash(t[0], h2);
	token_hash(t[1], h3);
	CHECK(memcmp(h1, h2, TOKEN_HASH_LEN) == 0);
	CHECK(memcmp(h1, h3, TOKEN_HASH_LEN) != 0);
}

static void
test_hmac_sha256(void)
{
	char out[65];
	/* RFC 4231, test case 2. */
	const char *data = "what do ya want for nothing?";
	hmac_sha256_hex("Jefe", 4, data, strlen(data), out);
	CHECK_STR(
	    out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* RFC 4231, test case 1: key 0x0b * 20, "Hi There". */
	char key[20];
	memset(key, 0x0b, sizeof(key));
	hmac_sha256_hex(key, sizeof(key), "Hi There", 8, out);
	CHECK_STR(
	    out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* FIPS 180-2: SHA-256 of "abc". */
	sha256_hex("abc", 3, out);
	CHECK_STR(
	    out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

UNIT_MAIN(test_password, test_password_malformed, test_tokens, test_hmac_sha256)
