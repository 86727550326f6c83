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

#endif
