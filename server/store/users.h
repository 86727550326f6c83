/* Storage of users, login tokens and failed logins. */
#ifndef MARKET_STORE_USERS_H
#define MARKET_STORE_USERS_H

#include <stdint.h>

#include <jansson.h>

#include "db/db.h"
#include "http/request.h"

/* The active user holding the unexpired, unrevoked token whose hash is
 * given. DB_NOT_FOUND otherwise. */
enum db_status store_user_by_token(struct db *db,
    const unsigned char hash[32], int64_t now, struct user *out);

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

#endif
