#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "util.h"

#define SCRYPT_LOGN 15
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SALT_LEN 16
#define HASH_LEN 32

static bool
scrypt(const char *password, const unsigned char *salt, size_t salt_len, int logn,
    int r, int p, unsigned char *out, size_t out_len)
{
	uint64_t n = (uint64_t)1 << logn;
	/* maxmem: the 128*N*r bytes scrypt needs, with room to spare. */
	uint64_t maxmem = 256 * n * (uint64_t)r + 1024 * 1024;
	return EVP_PBE_scrypt(password, strlen(password), salt, salt_len, n,
	           (uint64_t)r, (uint64_t)p, maxmem, out, out_len) == 1;
}

char *
password_hash(const char *password)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    !scrypt(password, salt, sizeof(salt), SCRYPT_LOGN, SCRYPT_R, SCRYPT_P, hash,
	        sizeof(hash)))
		return NULL;
	char salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];
	hex_encode(salt, sizeof(salt), salt_hex);
	hex_encode(hash, sizeof(hash), hash_hex);
	return xasprintf("scrypt$%d$%d$%d$%s$%s", SCRYPT_LOGN, SCRYPT_R, SCRYPT_P,
	    salt_hex, hash_hex);
}

static bool
hex_decode(const char *s, size_t len, unsigned char *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return false;
		}
		out[i] = (unsigned char)v;
	}
	return true;
}

bool
password_verify(const char *password, const char *stored)
{
	int logn, r, p, used = 0;
	char salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];
	if (sscanf(stored, "scrypt$%d$%d$%d$%32[0-9a-f]$%64[0-9a-f]%n", &logn, &r, &p,
	        salt_hex, hash_hex, &used) != 5 ||
	    stored[used] != '\0' || logn < 10 || logn > 22 || r < 1 || r > 32 ||
	    p < 1 || p > 16 || strlen(salt_hex) != 2 * SALT_LEN ||
	    strlen(hash_hex) != 2 * HASH_LEN)
		return false;
	unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	if (!hex_decode(salt_hex, SALT_LEN, salt) ||
	    !hex_decode(hash_hex, HASH_LEN, want) ||
	    !scrypt(password, salt, SALT_LEN, logn, r, p, got, sizeof(got)))
		return false;
	return ct_equal(got, want, HASH_LEN);
}

bool
token_new(char out[TOKEN_TEXT_LEN + 1])
{
	unsigned char raw[32];
	char b64[48];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return false;
	EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
	for (int i = 0; i < TOKEN_TEXT_LEN; i++)
		out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	out[TOKEN_TEXT_LEN] = '\0';
	return true;
}

void
token_hash(const char *token, unsigned char out[TOKEN_HASH_LEN])
{
	SHA256((const unsigned char *)token, strlen(token), out);
}

void
hmac_sha256_hex(
    const char *key, size_t key_len, const void *data, size_t len, char out[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	HMAC(EVP_sha256(), key, (int)key_len, data, len, mac, &mac_len);
	hex_encode(mac, mac_len, out);
}

void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256(data, len, d);
	hex_encode(d, sizeof(d), out);
}
