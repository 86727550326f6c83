#include <stdio.h>
#include <stdlib.h>

#include "crypto.h"
#include "ctl/ctl.h"
#include "db/db.h"
#include "store/users.h"
#include "util.h"

int
user_create_checked(struct db *db, const char *username, const char *display_name,
    const char *role, const char *region, const char *password)
{
	char *hash = password_hash(password);
	if (hash == NULL) {
		fprintf(stderr, "marketctl: cannot hash the password\n");
		return 1;
	}
	int64_t id;
	enum db_status s = store_user_create(
	    db, username, display_name, role, region, hash, now_unix(), &id);
	free(hash);
	if (s == DB_CONSTRAINT) {
		fprintf(stderr,
		    "marketctl: username %s is taken, or region %s does not exist\n",
		    username, region ? region : "-");
		return 1;
	}
	if (s != DB_OK) {
		fprintf(stderr, "marketctl: cannot create the user\n");
		return 1;
	}
	return 0;
}
