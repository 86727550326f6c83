#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "util.h"

/* Sessions kept for id-based TLS 1.2 resumption (about 1 KiB each),
 * and how long a session or ticket may be resumed, in seconds. */
#define SESSION_CACHE_SIZE 10000
#define SESSION_LIFETIME (2 * 3600)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *current;
static char *cert_file, *key_file;

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
		const char *missing = access(cert_file, R_OK) != 0 ? cert_file : key_file;
		*err = xasprintf("cannot read %s (%s); make a development certificate "
		    "with certs/make-dev-cert, or pass --cert and --key", missing,
		    strerror(errno));
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
	 * resumes on any thread. A reload makes new keys: sessions from
	 * before it take one full handshake.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"marketd", 7);
	SSL_CTX_sess_set_cache_size(ctx, SESSION_CACHE_SIZE);
	SSL_CTX_set_timeout(ctx, SESSION_LIFETIME);
	/* One ticket per handshake: a client needs one for its next
	 * connection, and each costs an encryption and a record. */
	SSL_CTX_set_num_tickets(ctx, 1);
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
}
