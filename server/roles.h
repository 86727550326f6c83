/*
 * Who a user is: the role bits (a user's role, and a route's allowed
 * roles) and the authenticated user. Below both http/ and store/, which
 * both use them.
 */
#ifndef MARKET_ROLES_H
#define MARKET_ROLES_H

#include <stdint.h>

/* Role bits, used both for a user's role and a route's allowed roles. */
enum role {
	ROLE_ANON = 1 << 0, /* no token: only in route masks */
	ROLE_BUYER = 1 << 1,
	ROLE_OPERATOR = 1 << 2,
	ROLE_COORDINATOR = 1 << 3,
	ROLE_ADMIN = 1 << 4,
};
#define ROLES_USER (ROLE_BUYER | ROLE_OPERATOR | ROLE_COORDINATOR | ROLE_ADMIN)
#define ROLES_ANYONE (ROLE_ANON | ROLES_USER)
#define ROLES_STAFF (ROLE_COORDINATOR | ROLE_ADMIN)

/* "buyer" → ROLE_BUYER; 0 when unknown. */
enum role role_from_name(const char *name);
/* ROLE_BUYER → "buyer". */
const char *role_name(enum role role);

struct user {
	int64_t id;     /* 0 when anonymous */
	enum role role; /* ROLE_ANON when anonymous */
	char username[40];
	char region_code[72];   /* "" unless a region-scoped coordinator */
	int64_t institution_id; /* 0 unless a buyer that is a member of one */
};

#endif
