/*
 * The server's TLS context: TLS 1.2 and 1.3 only, forward-secret AEAD
 * ciphers, no compression, no renegotiation; session resumption by
 * ticket or session id for two hours. tls_reload() swaps in a new
 * context built from the same files (SIGHUP); connections already open
 * keep the context they started with.
 *
 * Session-ticket keys rotate on a schedule (tls-ticket-rotate seconds,
 * an hour by default): a new ticket is sealed with the key of the
 * current period; a ticket of the period before still opens (and is
 * replaced by a fresh one); an older one does not, so a stolen key opens
 * at most two periods of tickets. A reload starts over with new keys.
 */
#ifndef MARKET_TLS_H
#define MARKET_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* Loads cert and key. On failure returns -1 with one line in *err
 * (caller frees), saying how to make a development certificate when the
 * files are missing. */
int tls_init(const char *cert_path, const char *key_path, char **err);
/* Sets the ticket-key period in seconds (>= 1; before tls_init). */
void tls_set_ticket_rotation(int seconds);
/* Rebuilds the context from the files given to tls_init(); on failure
 * keeps the old one and returns -1 with *err set. */
int tls_reload(char **err);
/* A new SSL for an accepted connection (caller owns it). Thread-safe. */
SSL *tls_new_ssl(void);
void tls_shutdown(void);

/* The ticket-key ring itself, apart from OpenSSL and the clock (the unit
 * tests drive it with their own clock). now is in seconds of any clock
 * that does not go back; period n covers [start + n*interval, ...). */
struct ticket_key {
	unsigned char name[16]; /* sent in the ticket, picks the key */
	unsigned char aes[32];  /* AES-256-CBC */
	unsigned char hmac[32]; /* HMAC-SHA256 */
	int64_t period;
	bool set;
};
struct ticket_keys {
	int64_t start, interval;
	struct ticket_key cur, prev;
};
/* A fresh ring whose first key is made at start. */
void ticket_keys_init(struct ticket_keys *k, int64_t start, int64_t interval);
/* Brings the ring to the period of now: a key a period, the one before
 * kept; false when random bytes cannot be had (the ring is then empty). */
bool ticket_keys_advance(struct ticket_keys *k, int64_t now);
/* The key to seal a new ticket with at now; false when there is none. */
bool ticket_keys_seal(struct ticket_keys *k, int64_t now, struct ticket_key *out);
/* The key named name at now: 1 the current one, 2 the previous period's
 * (the ticket is to be renewed), 0 none (the ticket is refused). */
int ticket_keys_open(struct ticket_keys *k, int64_t now, const unsigned char name[16],
    struct ticket_key *out);

#endif
