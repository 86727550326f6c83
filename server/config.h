/*
 * marketd's settings. Each comes, in increasing precedence, from its
 * default, the config file (--config FILE, "key = value" lines), the
 * environment (MARKETD_<KEY>) and the command line (--key value).
 */
#ifndef MARKET_CONFIG_H
#define MARKET_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "proxies.h"

/* The shortest payment secret marketd serves with, unless in demo mode. */
#define PAYMENT_SECRET_MIN 32

struct config {
	char *listen_host;           /* "127.0.0.1" */
	int listen_port;             /* 8443 */
	char *db_path;               /* "market.db" */
	char *cert_path;             /* "certs/localhost.crt" */
	char *key_path;              /* "certs/localhost.key" */
	int threads;                 /* worker threads, 1..64 */
	char *payment_secret;        /* NULL when not configured */
	bool demo;                   /* demo mode: a missing or short payment
	                                secret is a warning, not an error */
	char *synchronous;           /* SQLite synchronous: "full" or "normal" */
	int wal_size_limit;          /* bytes of the -wal file kept after a
	                                checkpoint (journal_size_limit) */
	int token_ttl;               /* seconds a login token lives */
	int timeout;                 /* timeout-idle: seconds of silence before a
	                                connection is closed */
	int timeout_header;          /* seconds for a request's header block */
	int timeout_body;            /* seconds for a request's body */
	int max_connections;         /* open connections at most */
	char *user;                  /* drop root to this user; NULL: stay */
	int tls_ticket_rotate;       /* seconds a session-ticket key seals tickets */
	int login_window;            /* seconds of the failed-login window */
	int login_max_failures;      /* failures in the window before 429 */
	int hash_threads;            /* password hashing threads */
	int db_pool;                 /* database threads on PostgreSQL */
	int hash_queue;              /* passwords waiting to be hashed, at most */
	int auth_address_max;        /* logins and registrations per client
	                                address in auth_address_window, at most */
	int auth_address_window;     /* seconds */
	struct proxies proxies;      /* trusted reverse proxies (proxies.h) */
	bool access_log;             /* a line per request on standard error */
	char *web_root;              /* serve the pages from this folder (while
	                                developing); NULL: the copy compiled in */
	char *webhook_ca;            /* CA bundle the webhook client trusts; NULL:
	                                the system's */
	bool webhook_allow_insecure; /* tests only: http:// and private,
	                                loopback and link-local hosts */
	int webhook_retry_scale;     /* tests only: retry delays divided by it */
	int webhook_retention;       /* days an event is kept once its
	                                deliveries have ended */
};

/*
 * Fills cfg from defaults, file, environment and argv. On a bad option,
 * value or unreadable file, writes one line to *err (caller frees) and
 * returns -1; the caller exits with status 2. Returns 1 when --help was
 * asked for (usage already printed), 0 otherwise.
 */
int config_load(struct config *cfg, int argc, char **argv, char **err);

/*
 * The payment-secret rule: a secret of at least PAYMENT_SECRET_MIN bytes,
 * or demo mode. Returns 0 when the secret is fine; 1 when it is missing
 * or short but demo mode allows it (*msg says so, for a warning); -1
 * when marketd must not start (*msg says why, in one line). The caller
 * frees *msg.
 */
int config_check_payment_secret(const struct config *cfg, char **msg);

/* Frees the strings inside cfg (not cfg itself). */
void config_free(struct config *cfg);

#endif
