#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

/* Sessions kept for id-based TLS 1.2 resumption (about 1 KiB each),
 * and how long a session or ticket may be resumed, in seconds. */
#define SESSION_CACHE_SIZE 10000
#define SESSION_LIFETIME (2 * 3600)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *current;
static char *cert_file, *key_file;

/* The process's ticket keys (under keys_lock), shared by every context. */
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ticket_keys keys;
static int rotation_seconds = 3600;

static bool
new_key(struct ticket_key *key, int64_t period)
{
	if (RAND_bytes(key->name, sizeof(key->name)) != 1 ||
	    RAND_priv_bytes(key->aes, sizeof(key->aes)) != 1 ||
	    RAND_priv_bytes(key->hmac, sizeof(key->hmac)) != 1) {
		OPENSSL_cleanse(key, sizeof(*key));
		return false;
	}
	key->period = period;
	key->set = true;
	return true;
}

void
ticket_keys_init(struct ticket_keys *k, int64_t start, int64_t interval)
{
	OPENSSL_cleanse(k, sizeof(*k));
	k->start = start;
	k->interval = interval < 1 ? 1 : interval;
	k->cur.period = -1;
	ticket_keys_advance(k, start);
}

bool
ticket_keys_advance(struct ticket_keys *k, int64_t now)
{
	int64_t p = now < k->start ? 0 : (now - k->start) / k->interval;
	if (k->cur.set && p == k->cur.period)
		return true;
	if (k->cur.set && p == k->cur.period + 1)
		k->prev = k->cur;
	else
		OPENSSL_cleanse(&k->prev, sizeof(k->prev)); /* two periods or more */
	if (!new_key(&k->cur, p)) {
		OPENSSL_cleanse(&k->prev, sizeof(k->prev));
		return false;
	}
	return true;
}

bool
ticket_keys_seal(struct ticket_keys *k, int64_t now, struct ticket_key *out)
{
	if (!ticket_keys_advance(k, now))
		return false;
	*out = k->cur;
	return true;
}

int
ticket_keys_open(struct ticket_keys *k, int64_t now, const unsigned char name[16],
    struct ticket_key *out)
{
	ticket_keys_advance(k, now);
	if (k->cur.set && memcmp(name, k->cur.name, sizeof(k->cur.name)) == 0) {
		*out = k->cur;
		return 1;
	}
	if (k->prev.set && memcmp(name, k->prev.name, sizeof(k->prev.name)) == 0) {
		*out = k->prev;
		return 2;
	}
	return 0;
}

static int64_t
monotonic_s(void)
{
	return monotonic_ns() / 1000000000;
}

void
tls_set_ticket_rotation(int seconds)
{
	rotation_seconds = seconds < 1 ? 1 : seconds;
}

/* OpenSSL's ticket callback: seals (enc 1) or opens (enc 0) a ticket with
 * the ring's keys. Returns 1 (use), 2 (use and renew), 0 (not ours: a full
 * handshake) or -1 (an error). */
static int
ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	(void)ssl;
	struct ticket_key key;
	int rc;
	pthread_mutex_lock(&keys_lock);
	if (enc)
		rc = ticket_keys_seal(&keys, monotonic_s(), &key) ? 1 : -1;
	else
		rc = ticket_keys_open(&keys, monotonic_s(), key_name, &key);
	pthread_mutex_unlock(&keys_lock);
	if (rc <= 0)
		return rc;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(
	        OSSL_MAC_PARAM_KEY, key.hmac, sizeof(key.hmac)),
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};
	if (enc) {
		memcpy(key_name, key.name, sizeof(key.name));
		if (RAND_bytes(iv, 16) != 1 ||
		    EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, key.aes, iv) != 1)
			rc = -1;
	} else if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, key.aes, iv) !=
	           1) {
		rc = -1;
	}
	if (rc > 0 && EVP_MAC_CTX_set_params(hctx, params) != 1)
		rc = -1;
	OPENSSL_cleanse(&key, sizeof(key));
	return rc;
}

static void
reset_keys(void)
{
	pthread_mutex_lock(&keys_lock);
	ticket_keys_init(&keys, monotonic_s(), rotation_seconds);
	pthread_mutex_unlock(&keys_lock);
}

static char *
openssl_error(void)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	ERR_clear_error();
	if (e == 0)
		return xstrdup("unknown OpenSSL error");
	ERR_error_string_n(e, buf, sizeof(buf));
	return xstrdup(buf);
}

static SSL_CTX *
build(char **err)
{
	if (access(cert_file, R_OK) != 0 || access(key_file, R_OK) != 0) {
		const char *missing =
		    access(cert_file, R_OK) != 0 ? cert_file : key_file;
		*err = xasprintf("cannot read %s (%s); make a development certificate "
		                 "with certs/make-dev-cert, or pass --cert and --key",
		    missing, strerror(errno));
		return NULL;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		goto ssl_fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* An idle connection gives its record buffers (about 34 KiB) back:
	 * phones keep connections open for long between sales. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/*
	 * Session resumption, so a phone that reconnects skips the full
	 * handshake: stateless tickets (TLS 1.2 and 1.3; TLS 1.3 resumes
	 * with a fresh ECDHE exchange), and a server-side cache for TLS 1.2
	 * clients that resume by session id. One context, shared by every
	 * worker thread, holds the ticket keys and the cache, so a session
	 * resumes on any thread. The ticket keys are the process's ring
	 * (see tls.h), rotated on a schedule; a reload makes new keys:
	 * sessions from before it take one full handshake.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"marketd", 7);
	SSL_CTX_sess_set_cache_size(ctx, SESSION_CACHE_SIZE);
	SSL_CTX_set_timeout(ctx, SESSION_LIFETIME);
	/* One ticket per handshake: a client needs one for its next
	 * connection, and each costs an encryption and a record. */
	SSL_CTX_set_num_tickets(ctx, 1);
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb) != 1)
		goto ssl_fail;
	/* TLS 1.2: ECDHE with AEAD ciphers only. TLS 1.3 suites are all AEAD. */
	if (SSL_CTX_set_cipher_list(ctx,
	        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1)
		goto ssl_fail;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		char *why = openssl_error();
		*err = xasprintf("cannot use certificate %s: %s", cert_file, why);
		free(why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char *why = openssl_error();
		*err = xasprintf("cannot use key %s: %s", key_file, why);
		free(why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
ssl_fail:
	*err = openssl_error();
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_init(const char *cert_path, const char *key_path, char **err)
{
	cert_file = xstrdup(cert_path);
	key_file = xstrdup(key_path);
	reset_keys();
	current = build(err);
	return current ? 0 : -1;
}

int
tls_reload(char **err)
{
	SSL_CTX *ctx = build(err);
	if (ctx == NULL)
		return -1;
	pthread_mutex_lock(&lock);
	SSL_CTX *old = current;
	current = ctx;
	pthread_mutex_unlock(&lock);
	SSL_CTX_free(old); /* open connections hold their own references */
	reset_keys();
	return 0;
}

SSL *
tls_new_ssl(void)
{
	pthread_mutex_lock(&lock);
	SSL *ssl = SSL_new(current);
	pthread_mutex_unlock(&lock);
	return ssl;
}

void
tls_shutdown(void)
{
	SSL_CTX_free(current);
	current = NULL;
	free(cert_file);
	free(key_file);
	cert_file = key_file = NULL;
	pthread_mutex_lock(&keys_lock);
	OPENSSL_cleanse(&keys, sizeof(keys));
	pthread_mutex_unlock(&keys_lock);
}
