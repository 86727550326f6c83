/* Storage of the audit log: append an entry, list entries newest first. */
#ifndef MARKET_STORE_AUDIT_H
#define MARKET_STORE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"

struct audit_entry {
	int64_t at; /* seconds since the epoch */
	int64_t user_id;
	const char *username;
	const char *action;      /* "POST /api/v1/products" */
	const char *object_type; /* "product" */
	json_t *object_id;       /* integer, string or NULL/null; borrowed */
	const char *remote_addr;
};

/* Appends e; call inside the write transaction it records. */
enum db_status store_audit_append(struct db *db, const struct audit_entry *e);

struct audit_filter {
	bool has_from, has_to;
	int64_t from, to; /* at >= from, at <= to (seconds) */
	int64_t user_id;  /* 0: every user */
};

/*
 * Up to limit + 1 entries matching f with an id below before_id (0 for
 * the first page), newest (highest id) first, as JSON objects {id, at,
 * user_id, username, action, object_type, object_id, remote_addr}. *out
 * is a new array the caller owns.
 */
enum db_status store_audit_list(struct db *db, const struct audit_filter *f,
    int64_t before_id, int limit, json_t **out);

#endif
