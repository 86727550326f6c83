/*
 * Accounts of one's own: POST /api/v1/auth/register, /auth/login,
 * /auth/logout and GET /api/v1/me.
 *
 * Failed logins are kept in the database (shared by all threads, kept
 * over a restart) per username, known or not, so that the answer never
 * tells whether a username exists. After cfg->login_max_failures of them
 * within cfg->login_window seconds, attempts get 429 until enough have
 * left the window; refused attempts are not counted. A successful login
 * does not erase earlier failures: the limit depends only on how many
 * failures the window holds, which is simple to predict and cannot be
 * reset by whoever knows one password from a list of guesses.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "http/hasher.h"
#include "store/users.h"
#include "api/users.h"

/*
 * A well-formed stored hash that no password matches (its hash part is
 * not the scrypt of anything known): an unknown username is checked
 * against it, so that answering takes as long as for a known one.
 */
static const char dummy_hash[] =
    "scrypt$15$8$1$"
    "00000000000000000000000000000000$"
    "0000000000000000000000000000000000000000000000000000000000000000";

static void
register_buyer(struct request *r)
{
	struct new_user u = {.role = "buyer"};
	if (user_fields_valid(fields_of(r), &u))
		user_create(r, &u);
}

/* A login's rate check and password check are read-only and slow (the
 * scrypt): they run on the worker thread before the handler. */
static void
login_prepare(struct request *r)
{
	struct fields f = fields_of(r);
	const char *username, *password;
	char *hash = NULL;
	free(r->hash_password); /* when called again (no prepare ran) */
	free(r->hash_stored);
	r->hash_password = r->hash_stored = NULL;
	if (!f_string(f, "username", F_REQUIRED, 1, 64, &username, NULL) ||
	    !f_string(f, "password", F_REQUIRED, 1, 1024, &password, NULL))
		goto out;
	/* A username over its limit is refused before any scrypt. */
	int64_t retry_after;
	if (!db_ok(r, store_login_blocked(r->db, username, r->now, r->cfg->login_window,
	                  r->cfg->login_max_failures, &retry_after)))
		goto out;
	if (retry_after > 0)
		goto out; /* the handler answers 429 */
	int64_t id = 0;
	bool active = false;
	enum db_status s = store_user_credentials(r->db, username, &id, &hash, &active);
	if (s != DB_NOT_FOUND && !db_ok(r, s))
		goto out;
	/* Verify even for an unknown or inactive user: same work, same
	 * time. A hashing thread does it (http/hasher.h). */
	r->hash_password = xstrdup(password);
	r->hash_stored = hash ? hash : xstrdup(dummy_hash);
	hash = NULL;
	r->prep_account_ok = s == DB_OK && active;
	r->prep_user_id = id;
out:
	free(hash);
}

static void
login(struct request *r)
{
	struct fields f = fields_of(r);
	const char *username, *password;
	json_t *user = NULL;
	if (!r->prepared) {
		login_prepare(r);
		hasher_run(r);
	}
	if (replied(r) ||
	    !f_string(f, "username", F_REQUIRED, 1, 64, &username, NULL) ||
	    !f_string(f, "password", F_REQUIRED, 1, 1024, &password, NULL))
		goto out;

	/* Checked again and recorded here, on the writer, so that
	 * concurrent attempts cannot get past the limit. */
	int64_t attempt, retry_after;
	if (!db_ok(r, store_login_attempt(r->db, username, r->now, r->cfg->login_window,
	                  r->cfg->login_max_failures, &attempt, &retry_after)))
		goto out;
	if (retry_after > 0) {
		char secs[24];
		snprintf(secs, sizeof(secs), "%lld", (long long)retry_after);
		reply_header(r, "Retry-After", secs);
		reply_error(r, E_RATE_LIMITED, NULL,
		    "too many failed logins; try again in %s seconds", secs);
		goto out;
	}
	if (!r->prep_verified) {
		reply_error(
		    r, E_INVALID_CREDENTIALS, NULL, "wrong username or password");
		goto out;
	}

	char token[TOKEN_TEXT_LEN + 1], expires[21];
	unsigned char th[TOKEN_HASH_LEN];
	if (!token_new(token)) {
		reply_error(r, E_INTERNAL, NULL, NULL);
		goto out;
	}
	token_hash(token, th);
	int64_t id = r->prep_user_id, expires_at = r->now + r->cfg->token_ttl;
	if (!db_ok(r, db_begin_write(r->db)) ||
	    !db_ok(r, store_login_succeeded(r->db, attempt)) ||
	    !db_ok(r, store_token_create(r->db, th, id, r->now, expires_at)) ||
	    !db_ok(r, store_user_get(r->db, id, &user)) || !db_ok(r, db_commit(r->db)))
		goto out;
	format_rfc3339(expires_at, expires);
	reply_header(r, "Cache-Control", "no-store");
	reply_json(r, 200,
	    json_pack("{s:s, s:s, s:O}", "token", token, "expires_at", expires, "user",
	        user));
out:
	json_decref(user);
}

static void
logout(struct request *r)
{
	/* The router has hashed the token it accepted. */
	if (db_ok(r, store_token_revoke(r->db, r->token_hash)))
		reply_empty(r, 204);
}

static void
me(struct request *r)
{
	json_t *user = NULL;
	if (db_ok(r, store_user_get(r->db, r->user.id, &user)))
		reply_json(r, 200, user);
}

const struct route auth_routes[] = {
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/auth/register",
        .handler = register_buyer,
        .roles = ROLES_ANYONE,
        .body = true,
        .prepare = user_prepare_password,
        .addr_limited = true},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/auth/login",
        .handler = login,
        .roles = ROLES_ANYONE,
        .body = true,
        .prepare = login_prepare,
        .addr_limited = true},
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/auth/logout",
        .handler = logout,
        .roles = ROLES_USER},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/me",
        .handler = me,
        .roles = ROLES_USER},
    {0},
};
