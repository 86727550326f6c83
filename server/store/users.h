/* Storage of users, login tokens and failed logins. */
#ifndef MARKET_STORE_USERS_H
#define MARKET_STORE_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"
#include "roles.h"

/* The rules of a username, shared by the API and marketctl: 3 to 32 of
 * a-z, 0-9, '_', '.' and '-'. */
#define USERNAME_RULE "3 to 32 of a-z, 0-9, _, . and -"
bool username_valid(const char *s);

/* The active user holding the unexpired, unrevoked token whose hash is
 * given. DB_NOT_FOUND otherwise. */
enum db_status store_user_by_token(
    struct db *db, const unsigned char hash[32], int64_t now, struct user *out);

/*
 * Creates a user; password_hash from password_hash(). region_code may be
 * NULL. *id is the new id. DB_CONSTRAINT when the username is taken or
 * the region does not exist.
 */
enum db_status store_user_create(struct db *db, const char *username,
    const char *display_name, const char *role, const char *region_code,
    const char *password_hash, int64_t now, int64_t *id);

/* The user as API JSON {id, username, display_name, role, region_code,
 * active}; *out is new. */
enum db_status store_user_get(struct db *db, int64_t id, json_t **out);

/* Up to limit + 1 users with id > after_id (0 for the first page), by
 * id, as API JSON; the caller owns the array. */
enum db_status store_user_list(
    struct db *db, int64_t after_id, int limit, json_t **out);

/*
 * Sets every writable column of user id. region_code may be NULL.
 * DB_NOT_FOUND when there is no such user. Call inside a transaction
 * together with store_token_revoke_user when deactivating.
 */
enum db_status store_user_update(struct db *db, int64_t id, const char *display_name,
    const char *role, const char *region_code, bool active,
    int64_t institution_id /* 0: none */);

/*
 * What login needs of the user called username: its id, stored password
 * hash (*hash is new, the caller frees it) and whether it is active.
 * DB_NOT_FOUND when there is no such user (*hash is then NULL).
 */
enum db_status store_user_credentials(
    struct db *db, const char *username, int64_t *id, char **hash, bool *active);

/*
 * Failed logins. A login attempt for username is first checked against
 * the failures of the last window seconds (at > now - window). When
 * there are max or more, *retry_after is the number of seconds until
 * enough of them have left the window for a new attempt (at least 1),
 * and nothing is written. Otherwise the attempt is recorded as a failure
 * in advance, so concurrent attempts cannot get past max between check
 * and record, *attempt is its row id and *retry_after is 0; failures
 * older than the window (of any username) are pruned at the same time.
 * Runs its own write transaction: call it outside one.
 */
enum db_status store_login_attempt(struct db *db, const char *username, int64_t now,
    int window, int max, int64_t *attempt, int64_t *retry_after);
/* Only the check of store_login_attempt(), writing nothing. */
enum db_status store_login_blocked(struct db *db, const char *username, int64_t now,
    int window, int max, int64_t *retry_after);
/* Forgets the failure recorded in advance for attempt: it succeeded.
 * Earlier failures stay. */
enum db_status store_login_succeeded(struct db *db, int64_t attempt);

/* Stores a login token by its hash (TOKEN_HASH_LEN bytes). */
enum db_status store_token_create(struct db *db, const unsigned char hash[32],
    int64_t user_id, int64_t now, int64_t expires_at);
/* Revokes the token whose hash is given; DB_NOT_FOUND when there is no
 * live token with that hash. */
enum db_status store_token_revoke(struct db *db, const unsigned char hash[32]);
/* Revokes every token of user id (none is fine). */
enum db_status store_token_revoke_user(struct db *db, int64_t user_id);

/* The number of active admins. */
enum db_status store_active_admins(struct db *db, int64_t *count);

#endif
