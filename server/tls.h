/*
 * The server's TLS context: TLS 1.2 and 1.3 only, forward-secret AEAD
 * ciphers, no compression, no renegotiation; session resumption by
 * ticket or session id for two hours. tls_reload() swaps in a new
 * context built from the same files (SIGHUP); connections already open
 * keep the context they started with.
 */
#ifndef MARKET_TLS_H
#define MARKET_TLS_H

#include <openssl/ssl.h>

/* Loads cert and key. On failure returns -1 with one line in *err
 * (caller frees), saying how to make a development certificate when the
 * files are missing. */
int tls_init(const char *cert_path, const char *key_path, char **err);
/* Rebuilds the context from the files given to tls_init(); on failure
 * keeps the old one and returns -1 with *err set. */
int tls_reload(char **err);
/* A new SSL for an accepted connection (caller owns it). Thread-safe. */
SSL *tls_new_ssl(void);
void tls_shutdown(void);

#endif
