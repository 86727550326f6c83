#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

typedef int (*parse_fn)(struct config *, size_t off, const char *value, char **err);

struct option_def {
	const char *key; /* flag --key, file key, env MARKETD_KEY */
	parse_fn parse;
	size_t off;      /* where in struct config */
	const char *def; /* default, parsed like any other value */
	const char *help;
};

static int
parse_string(struct config *c, size_t off, const char *v, char **err)
{
	char **slot = (char **)((char *)c + off);
	if (*v == '\0') {
		*err = xstrdup("must not be empty");
		return -1;
	}
	free(*slot);
	*slot = xstrdup(v);
	return 0;
}

static int
parse_int_range(const char *v, long lo, long hi, int *out, char **err)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
		*err = xasprintf("must be an integer from %ld to %ld", lo, hi);
		return -1;
	}
	*out = (int)n;
	return 0;
}

/* 1..64, or "auto": one worker per online core. */
static int
parse_threads(struct config *c, size_t off, const char *v, char **err)
{
	int *slot = (int *)((char *)c + off);
	if (strcmp(v, "auto") == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		*slot = n < 1 ? 1 : n > 64 ? 64 : (int)n;
		return 0;
	}
	if (parse_int_range(v, 1, 64, slot, err) < 0) {
		free(*err);
		*err = xstrdup("must be auto or an integer from 1 to 64");
		return -1;
	}
	return 0;
}

static int
parse_seconds(struct config *c, size_t off, const char *v, char **err)
{
	return parse_int_range(v, 1, 365 * 86400, (int *)((char *)c + off), err);
}

static int
parse_count(struct config *c, size_t off, const char *v, char **err)
{
	return parse_int_range(v, 1, 1000000, (int *)((char *)c + off), err);
}

/* Password-hashing threads: each scrypt (N = 2^15, r = 8) holds 32 MiB
 * while it runs, so 64 of them are already 2 GiB. */
static int
parse_hash_threads(struct config *c, size_t off, const char *v, char **err)
{
	return parse_int_range(v, 1, 64, (int *)((char *)c + off), err);
}

/* Database threads on PostgreSQL: each holds a connection. */
static int
parse_db_pool(struct config *c, size_t off, const char *v, char **err)
{
	return parse_int_range(v, 1, 256, (int *)((char *)c + off), err);
}

/* Days finished webhook deliveries are kept: a day to ten years. */
static int
parse_retention_days(struct config *c, size_t off, const char *v, char **err)
{
	return parse_int_range(v, 1, 3650, (int *)((char *)c + off), err);
}

/* Bytes of the WAL file kept after a checkpoint: 1 MiB to 1 GiB. */
static int
parse_wal_limit(struct config *c, size_t off, const char *v, char **err)
{
	return parse_int_range(v, 1 << 20, 1 << 30, (int *)((char *)c + off), err);
}

static int
parse_listen(struct config *c, size_t off, const char *v, char **err)
{
	const char *colon = strrchr(v, ':');
	int port;
	if (colon == NULL || colon == v) {
		*err = xstrdup("must be ADDRESS:PORT, such as 127.0.0.1:8443");
		return -1;
	}
	if (parse_int_range(colon + 1, 0, 65535, &port, err) < 0) {
		free(*err);
		*err = xstrdup("port must be a number from 0 to 65535");
		return -1;
	}
	const char *host = v;
	size_t len = (size_t)(colon - v);
	if (host[0] == '[' && len >= 2 && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	free(c->listen_host);
	c->listen_host = xstrndup(host, len);
	c->listen_port = port;
	return 0;
}

static const char *const bool_words[][2] = {
    {"true", "false"},
    {"yes", "no"},
    {"on", "off"},
    {"1", "0"},
};

/* 1 when v says true, 0 when it says false, -1 when neither. */
static int
bool_word(const char *v)
{
	for (size_t i = 0; i < nitems(bool_words); i++)
		for (int j = 0; j < 2; j++)
			if (strcmp(v, bool_words[i][j]) == 0)
				return j == 0;
	return -1;
}

static int
parse_bool(struct config *c, size_t off, const char *v, char **err)
{
	int b = bool_word(v);
	if (b < 0) {
		*err = xstrdup("must be true or false (or on/off, yes/no, 1/0)");
		return -1;
	}
	*(bool *)((char *)c + off) = b == 1;
	return 0;
}

static int
parse_synchronous(struct config *c, size_t off, const char *v, char **err)
{
	if (strcmp(v, "full") != 0 && strcmp(v, "normal") != 0 &&
	    strcmp(v, "extra") != 0) {
		*err = xstrdup("must be full, extra or normal");
		return -1;
	}
	return parse_string(c, off, v, err);
}

static int
parse_proxies(struct config *c, size_t off, const char *v, char **err)
{
	(void)off;
	return proxies_parse(&c->proxies, v, err);
}

/* A folder that exists: the pages are read from it at each request. */
static int
parse_web_root(struct config *c, size_t off, const char *v, char **err)
{
	struct stat st;
	if (stat(v, &st) != 0 || !S_ISDIR(st.st_mode)) {
		*err = xasprintf("%s is not a folder", v);
		return -1;
	}
	return parse_string(c, off, v, err);
}

/* A file that can be read. */
static int
parse_file(struct config *c, size_t off, const char *v, char **err)
{
	if (access(v, R_OK) != 0) {
		*err = xasprintf("cannot read %s", v);
		return -1;
	}
	return parse_string(c, off, v, err);
}

#define OFF(f) offsetof(struct config, f)

static const struct option_def options[] = {
    {"listen", parse_listen, 0, "127.0.0.1:8443", "ADDR:PORT to serve HTTPS on"},
    {"db", parse_string, OFF(db_path), "market.db",
        "SQLite database file, or a PostgreSQL URI (postgresql://...)"},
    {"db-pool", parse_db_pool, OFF(db_pool), "8",
        "on PostgreSQL: database threads, each with its own connection, that "
        "run the requests off the event loops (1..256)"},
    {"cert", parse_string, OFF(cert_path), "certs/localhost.crt",
        "PEM certificate chain"},
    {"key", parse_string, OFF(key_path), "certs/localhost.key", "PEM private key"},
    {"threads", parse_threads, OFF(threads), "auto",
        "worker threads (1..64; auto: one per core)"},
    {"payment-secret", parse_string, OFF(payment_secret), NULL,
        "HMAC secret of payment callbacks (32 bytes or more)"},
    {"demo", parse_bool, OFF(demo), "false",
        "demo mode: allow a missing or short payment secret (a flag: --demo)"},
    {"synchronous", parse_synchronous, OFF(synchronous), "full",
        "SQLite synchronous mode"},
    {"wal-size-limit", parse_wal_limit, OFF(wal_size_limit), "67108864",
        "bytes of the -wal file kept after a checkpoint (checkpoints run off the "
        "writer thread; one starts once the WAL holds half of this)"},
    {"token-ttl", parse_seconds, OFF(token_ttl), "43200",
        "seconds a login token lives"},
    {"timeout-idle", parse_seconds, OFF(timeout), "30",
        "seconds a connection may stay silent (idle, or not reading its reply)"},
    {"timeout", parse_seconds, OFF(timeout), NULL, "the older name of timeout-idle"},
    {"timeout-header", parse_seconds, OFF(timeout_header), "20",
        "seconds from a request's first byte (or the accept) to the end of its "
        "headers"},
    {"timeout-body", parse_seconds, OFF(timeout_body), "60",
        "seconds from the end of a request's headers to the end of its body"},
    {"max-connections", parse_count, OFF(max_connections), "1024",
        "open connections at most; more are closed at once"},
    {"user", parse_string, OFF(user), NULL,
        "after binding and opening the database, run as this user"},
    {"tls-ticket-rotate", parse_seconds, OFF(tls_ticket_rotate), "3600",
        "seconds between session-ticket key rotations (a ticket opens for up to "
        "two of them)"},
    {"login-window", parse_seconds, OFF(login_window), "900",
        "seconds of the failed-login window"},
    {"login-max-failures", parse_count, OFF(login_max_failures), "5",
        "failed logins before 429"},
    {"hash-threads", parse_hash_threads, OFF(hash_threads), "2",
        "threads that hash and check passwords (scrypt; 1..64)"},
    {"hash-queue", parse_count, OFF(hash_queue), "64",
        "passwords waiting for a hashing thread at most; more get 503"},
    {"auth-address-max", parse_count, OFF(auth_address_max), "300",
        "logins and registrations from one client address per auth-address-window; "
        "more get 429"},
    {"auth-address-window", parse_seconds, OFF(auth_address_window), "60",
        "seconds of the per-address login and registration window"},
    {"trusted-proxies", parse_proxies, 0, NULL,
        "addresses and CIDR ranges of reverse proxies (load balancers) whose "
        "X-Forwarded-For names the client (comma-separated; default: none)"},
    {"access-log", parse_bool, OFF(access_log), "on",
        "a line per request on standard error (on or off)"},
    {"webhook-ca", parse_file, OFF(webhook_ca), NULL,
        "PEM CA bundle the webhook client verifies receivers with (default: the "
        "system's)"},
    {"webhook-allow-insecure", parse_bool, OFF(webhook_allow_insecure), "false",
        "TESTS ONLY: webhooks may use http:// and loopback, private or link-local "
        "hosts (a flag)"},
    {"webhook-retention", parse_retention_days, OFF(webhook_retention), "30",
        "days a webhook event is kept once every delivery of it has ended "
        "(delivered or failed), with its attempts (1..3650)"},
    {"webhook-retry-scale", parse_count, OFF(webhook_retry_scale), "1",
        "TESTS ONLY: divide webhook retry delays by this"},
    {"web-root", parse_web_root, OFF(web_root), NULL,
        "serve the web pages from this folder (server/web, while developing) instead "
        "of the copy compiled in"},
};

/*
 * The value of the command-line option argv[*i] whose '=' is eq (NULL
 * when none), advancing *i past a separate value; NULL when it lacks one.
 * A true-or-false option may stand alone: --demo is --demo=true, and
 * --demo off takes the next argument only when it is a boolean word.
 */
static const char *
arg_value(const struct option_def *o, const char *eq, int argc, char **argv, int *i)
{
	if (eq != NULL)
		return eq + 1;
	if (o != NULL && o->parse == parse_bool &&
	    (*i + 1 >= argc || bool_word(argv[*i + 1]) < 0))
		return "true";
	return *i + 1 < argc ? argv[++*i] : NULL;
}

static const struct option_def *
find_option(const char *key, size_t len)
{
	for (size_t i = 0; i < nitems(options); i++) {
		const char *k = options[i].key;
		if (strlen(k) != len)
			continue;
		/* Accept "payment_secret" for "payment-secret" in files. */
		size_t j;
		for (j = 0; j < len; j++) {
			char a = key[j] == '_' ? '-' : key[j];
			if (a != k[j])
				break;
		}
		if (j == len)
			return &options[i];
	}
	return NULL;
}

static int
apply(struct config *c, const struct option_def *o, const char *value,
    const char *origin, char **err)
{
	char *why = NULL;
	if (o->parse(c, o->off, value, &why) == 0)
		return 0;
	*err = xasprintf("%s: bad value for %s: %s", origin, o->key, why);
	free(why);
	return -1;
}

static char *
trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
load_file(struct config *c, const char *path, char **err)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		*err =
		    xasprintf("cannot read config file %s: %s", path, strerror(errno));
		return -1;
	}
	char line[4096];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			*err = xasprintf("%s:%d: expected key = value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *key = trim(s), *value = trim(eq + 1);
		const struct option_def *o = find_option(key, strlen(key));
		if (o == NULL || strcmp(key, "config") == 0) {
			*err =
			    xasprintf("%s:%d: unknown setting %s", path, lineno, key);
			rc = -1;
			break;
		}
		char *origin = xasprintf("%s:%d", path, lineno);
		rc = apply(c, o, value, origin, err);
		free(origin);
	}
	fclose(f);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: marketd [--config FILE] [--OPTION VALUE ...]\n\noptions:\n");
	for (size_t i = 0; i < nitems(options); i++)
		fprintf(stderr, "  --%-20s %s (default %s)\n", options[i].key,
		    options[i].help, options[i].def ? options[i].def : "unset");
	fprintf(stderr,
	    "\nEach option may also come from the environment as "
	    "MARKETD_<OPTION> (upper case, '_' for '-')\nor from the config file "
	    "as 'option = value'.\n");
}

int
config_load(struct config *c, int argc, char **argv, char **err)
{
	memset(c, 0, sizeof(*c));
	*err = NULL;
	for (size_t i = 0; i < nitems(options); i++)
		if (options[i].def != NULL &&
		    apply(c, &options[i], options[i].def, "default", err) < 0)
			return -1;

	/* First pass over argv: validate its shape and find --config. */
	const char *config_path = getenv("MARKETD_CONFIG");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage();
			return 1;
		}
		if (strncmp(a, "--", 2) != 0) {
			*err = xasprintf("unexpected argument %s (try --help)", a);
			return -1;
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		bool is_config = len == 6 && strncmp(name, "config", 6) == 0;
		if (!is_config && find_option(name, len) == NULL) {
			*err = xasprintf(
			    "unknown option %.*s (try --help)", (int)len + 2, a);
			return -1;
		}
		const char *value =
		    arg_value(find_option(name, len), eq, argc, argv, &i);
		if (value == NULL) {
			*err = xasprintf("option %s needs a value", a);
			return -1;
		}
		if (is_config)
			config_path = value;
	}

	if (config_path != NULL && load_file(c, config_path, err) < 0)
		return -1;

	for (size_t i = 0; i < nitems(options); i++) {
		char env[64] = "MARKETD_";
		size_t n = strlen(env);
		for (const char *k = options[i].key; *k && n < sizeof(env) - 1; k++)
			env[n++] = *k == '-' ? '_' : (char)toupper((unsigned char)*k);
		env[n] = '\0';
		const char *v = getenv(env);
		if (v != NULL && apply(c, &options[i], v, env, err) < 0)
			return -1;
	}

	for (int i = 1; i < argc; i++) {
		const char *name = argv[i] + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct option_def *o = find_option(name, len);
		const char *value = arg_value(o, eq, argc, argv, &i);
		if (len == 6 && strncmp(name, "config", 6) == 0)
			continue;
		char *origin = xasprintf("--%.*s", (int)len, name);
		int rc = apply(c, o, value, origin, err);
		free(origin);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
config_check_payment_secret(const struct config *c, char **msg)
{
	*msg = NULL;
	size_t n = c->payment_secret ? strlen(c->payment_secret) : 0;
	if (n >= PAYMENT_SECRET_MIN)
		return 0;
	const char *what = n == 0 ? "no payment secret is configured"
	                          : "the payment secret is shorter than 32 bytes";
	if (c->demo) {
		*msg = xasprintf("demo mode: %s; payment callbacks are %s", what,
		    n == 0 ? "refused" : "checked against a weak secret");
		return 1;
	}
	*msg = xasprintf("%s: set MARKETD_PAYMENT_SECRET or payment-secret to %d "
	                 "bytes or more (or start with --demo)",
	    what, PAYMENT_SECRET_MIN);
	return -1;
}

void
config_free(struct config *c)
{
	free(c->listen_host);
	free(c->db_path);
	free(c->cert_path);
	free(c->key_path);
	free(c->payment_secret);
	free(c->synchronous);
	free(c->user);
	free(c->web_root);
	free(c->webhook_ca);
	proxies_free(&c->proxies);
	memset(c, 0, sizeof(*c));
}
