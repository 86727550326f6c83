/* What registration (api/auth.c) and user management (api/users.c)
 * share: the checks of a new user's fields, and storing the user. */
#ifndef MARKET_API_USERS_H
#define MARKET_API_USERS_H

#include <stdbool.h>

#include "http/fields.h"

#define DISPLAY_NAME_MAX 100

/* A new user's fields; every pointer borrows from the request body. */
struct new_user {
	const char *username;
	const char *password;
	const char *display_name; /* NULL when not given */
	const char *role;
	const char *region_code; /* NULL when not given */
};

/*
 * Checks username (3..32 of a-z 0-9 _ . -), password (8..128
 * characters) and display_name (optional, 1..DISPLAY_NAME_MAX
 * characters) into u. false (400 validation_failed set) otherwise.
 */
bool user_fields_valid(struct fields f, struct new_user *u);

/* The prepare hook of routes that create users: hashes the body's
 * password on the worker thread, for user_create(). */
void user_prepare_password(struct request *r);

/*
 * Stores u (display_name defaults to the username) and replies 201 with
 * the new user, 409 conflict on username when it is taken, or 500.
 */
void user_create(struct request *r, const struct new_user *u);

#endif
