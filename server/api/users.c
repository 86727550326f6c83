/* User management by admins: POST/GET /api/v1/users, PATCH
 * /api/v1/users/{id}. */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

#include "api/users.h"
#include "crypto.h"
#include "store/catalog.h"
#include "store/institutions.h"
#include "store/users.h"

static const char *const roles[] = {"buyer", "operator", "coordinator", "admin", NULL};

bool
user_fields_valid(struct fields f, struct new_user *u)
{
	u->display_name = NULL;
	return f_string(f, "username", F_REQUIRED, 3, 32, &u->username, NULL) &&
	       (username_valid(u->username) ||
	           f_fail(f, "username", "must be " USERNAME_RULE)) &&
	       f_string(f, "password", F_REQUIRED, 8, 128, &u->password, NULL) &&
	       f_string(f, "display_name", F_OPTIONAL, 1, DISPLAY_NAME_MAX,
	           &u->display_name, NULL);
}

/* A region_code is given only for a coordinator, and names a region. */
static bool
region_valid(struct fields f, const char *role, const char *region_code)
{
	if (region_code == NULL)
		return true;
	if (strcmp(role, "coordinator") != 0)
		return f_fail(f, "region_code", "only a coordinator has a region");
	enum db_status s = store_region_exists(f.r->db, region_code);
	if (s == DB_NOT_FOUND)
		return f_fail(f, "region_code", "no such region");
	return db_ok(f.r, s);
}

void
user_prepare_password(struct request *r)
{
	json_t *pw = json_object_get(r->body, "password");
	/* Not for a password the handler will refuse (8..128 characters,
	 * so 8..512 bytes of UTF-8). */
	size_t n = json_is_string(pw) ? json_string_length(pw) : 0;
	if (n >= 8 && n <= 512)
		r->hash_password = xstrdup(json_string_value(pw)); /* http/hasher.h */
}

void
user_create(struct request *r, const struct new_user *u)
{
	char *hash = r->prep_hash;
	json_t *user = NULL;
	r->prep_hash = NULL;
	if (hash == NULL && (hash = password_hash(u->password)) == NULL) {
		reply_error(r, E_INTERNAL, NULL, NULL);
		goto out;
	}
	int64_t id;
	enum db_status s = store_user_create(r->db, u->username,
	    u->display_name ? u->display_name : u->username, u->role, u->region_code,
	    hash, r->now, &id);
	if (s == DB_CONSTRAINT) {
		reply_error(
		    r, E_CONFLICT, "username", "username %s is taken", u->username);
		goto out;
	}
	if (!db_ok(r, s) || !db_ok(r, store_user_get(r->db, id, &user)))
		goto out;
	reply_json(r, 201, user);
	user = NULL;
out:
	json_decref(user);
	free(hash);
}

static void
create_user(struct request *r)
{
	struct fields f = fields_of(r);
	struct new_user u = {0};
	if (user_fields_valid(f, &u) &&
	    f_enum(f, "role", F_REQUIRED, roles, &u.role, NULL) &&
	    f_string(f, "region_code", F_NULLABLE, 1, 64, &u.region_code, NULL) &&
	    region_valid(f, u.role, u.region_code))
		user_create(r, &u);
}

static void
list_users(struct request *r)
{
	struct page p;
	json_t *items = NULL;
	if (!page_parse(r, &p, 1))
		return;
	json_t *after = p.after ? json_array_get(p.after, 0) : NULL;
	if (after != NULL && !json_is_integer(after)) {
		reply_error(
		    r, E_VALIDATION, "cursor", "cursor is not one this server gave");
		goto out;
	}
	if (!db_ok(r, store_user_list(r->db, after ? json_integer_value(after) : 0,
	                  p.limit, &items)))
		goto out;
	page_reply(r, &p, items, page_key_id);
	items = NULL;
out:
	json_decref(items);
	page_free(&p);
}

/*
 * Changes display_name, role, region_code, active and institution_id. A
 * region_code is kept only for a coordinator: moving a user to another
 * role clears it, and naming one for a non-coordinator is a validation
 * error. An institution_id is only a buyer's: setting one on another
 * role, or moving a member to another role without clearing it, is a
 * validation error. Setting
 * active to false also revokes the user's tokens, so that they do not
 * come back to life if the user is made active again.
 */
static void
update_user(struct request *r)
{
	struct fields f = fields_of(r);
	const char *display_name = NULL, *role = NULL, *region_code = NULL;
	bool has_name, has_role, has_region, has_active, has_inst, active = true;
	int64_t institution_id = 0;
	json_t *cur = NULL, *user = NULL;
	int64_t id = req_param_id(r, 0);
	if (id < 0) {
		reply_error(r, E_NOT_FOUND, NULL, "no such user");
		goto out;
	}
	if (!f_string(f, "display_name", F_OPTIONAL, 1, DISPLAY_NAME_MAX, &display_name,
	        &has_name) ||
	    !f_enum(f, "role", F_OPTIONAL, roles, &role, &has_role) ||
	    !f_string(f, "region_code", F_NULLABLE, 1, 64, &region_code, &has_region) ||
	    !f_bool(f, "active", F_OPTIONAL, &active, &has_active))
		goto out;
	json_t *inst = json_object_get(r->body, "institution_id");
	has_inst = inst != NULL;
	if (json_is_null(inst))
		institution_id = 0;
	else if (!f_int(f, "institution_id", F_OPTIONAL, 1, INT64_MAX, &institution_id,
	             NULL))
		goto out;
	if (!db_ok(r, db_begin_write(r->db)))
		goto out;
	enum db_status s = store_user_get(r->db, id, &cur);
	if (s == DB_NOT_FOUND) {
		reply_error(r, E_NOT_FOUND, NULL, "no user %lld", (long long)id);
		goto out;
	}
	if (!db_ok(r, s))
		goto out;
	if (!has_name)
		display_name = json_string_value(json_object_get(cur, "display_name"));
	if (!has_role)
		role = json_string_value(json_object_get(cur, "role"));
	if (!has_region && strcmp(role, "coordinator") == 0)
		region_code = json_string_value(json_object_get(cur, "region_code"));
	if (!has_active)
		active = json_is_true(json_object_get(cur, "active"));
	if (!has_inst)
		institution_id =
		    json_integer_value(json_object_get(cur, "institution_id"));
	if (institution_id != 0 && strcmp(role, "buyer") != 0) {
		f_fail(f, "institution_id",
		    "only a buyer may be a member of an institution");
		goto out;
	}
	if (has_inst && institution_id != 0) {
		s = store_institution_exists(r->db, institution_id);
		if (s == DB_NOT_FOUND) {
			f_fail(f, "institution_id", "names no institution");
			goto out;
		}
		if (!db_ok(r, s))
			goto out;
	}
	int64_t admins = 0;
	if ((has_region && !region_valid(f, role, region_code)) ||
	    !db_ok(r, store_user_update(r->db, id, display_name, role, region_code,
	                  active, institution_id)) ||
	    (!active && !db_ok(r, store_token_revoke_user(r->db, id))) ||
	    !db_ok(r, store_active_admins(r->db, &admins)))
		goto out;
	/* Nobody could manage users any more: refuse (the router rolls back). */
	if (admins == 0) {
		reply_error(r, E_INVALID_STATE, has_active ? "active" : "role",
		    "user %lld is the last active admin", (long long)id);
		goto out;
	}
	if (!db_ok(r, store_user_get(r->db, id, &user)) || !db_ok(r, db_commit(r->db)))
		goto out;
	reply_json(r, 200, user);
	user = NULL;
out:
	json_decref(cur);
	json_decref(user);
}

const struct route users_routes[] = {
    {.method = EVHTTP_REQ_POST,
        .path = "/api/v1/users",
        .handler = create_user,
        .roles = ROLE_ADMIN,
        .body = true,
        .prepare = user_prepare_password},
    {.method = EVHTTP_REQ_GET,
        .path = "/api/v1/users",
        .handler = list_users,
        .roles = ROLE_ADMIN},
    {.method = EVHTTP_REQ_PATCH,
        .path = "/api/v1/users/{id}",
        .handler = update_user,
        .roles = ROLE_ADMIN,
        .body = true},
    {0},
};
