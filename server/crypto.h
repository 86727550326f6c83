/*
 * Passwords, tokens and signatures.
 *
 * Passwords are hashed with scrypt (memory-hard; N=2^15, r=8, p=1, 32 MiB)
 * and a 16-byte random salt per password, stored as
 * "scrypt$<logN>$<r>$<p>$<salt hex>$<hash hex>" so the parameters can be
 * raised later without breaking stored hashes. Tokens are 256 random bits,
 * given to the client in base64url; only their SHA-256 is stored.
 */
#ifndef MARKET_CRYPTO_H
#define MARKET_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_HASH_LEN 32
#define TOKEN_TEXT_LEN 43 /* base64url of 32 bytes, no padding */

/* A new password hash string (caller frees), NULL if scrypt failed. */
char *password_hash(const char *password);
/* True when password matches stored; the comparison is constant-time. */
bool password_verify(const char *password, const char *stored);

/* A new random token into out[TOKEN_TEXT_LEN + 1]; false if the random
 * generator failed. */
bool token_new(char out[TOKEN_TEXT_LEN + 1]);
/* SHA-256 of the token text. */
void token_hash(const char *token, unsigned char out[TOKEN_HASH_LEN]);

/* Lower-case hex HMAC-SHA256 of data under key into out[65]. */
void hmac_sha256_hex(
    const char *key, size_t key_len, const void *data, size_t len, char out[65]);
/* Lower-case hex SHA-256 of data into out[65]. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
