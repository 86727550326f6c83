/*
 * marketctl: the operator's tool. It opens the same database through the
 * same code as marketd (server/db, server/store), so there is one copy of
 * the schema and of every query.
 *
 *   marketctl --db FILE user add --username U --role ROLE [--region CODE]
 *                                [--display-name NAME]   (password on stdin)
 *   marketctl --db FILE demo
 *   marketctl --db FILE import-products FILE.csv
 *   marketctl --db FILE backup DEST
 *   marketctl --db FILE check [--repair-rollups]
 *   marketctl --db FILE report [impact] --from D --to D [--region CODE] [--csv]
 *   marketctl --db FILE report procurement [--year Y] [--kind K] [--as-of D] [--csv]
 *   marketctl --db FILE report payouts --from D --to D [--region CODE] [--csv]
 *                              [--group-by month]
 *   marketctl --db FILE gen --products N --buyers N --sale-lines N --orders N
 *                           [--days 365] [--institutions N]
 *                           [--institution-orders N] [--seed S] [--tokens FILE]
 *   marketctl --db FILE migrate
 *   marketctl routes
 *
 * Only migrate changes the schema of an existing database: every other
 * command refuses (exit 2) a database older than this tool, which a
 * running marketd of the older version may be using.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "crypto.h"
#include "ctl/ctl.h"
#include "db/db.h"
#include "db/sqlite.h"
#include "http/fields.h"
#include "http/request.h"
#include "http/router.h"
#include "log.h"
#include "store/users.h"
#include "text.h"
#include "util.h"

static int
usage(void)
{
	fprintf(stderr,
	    "usage: marketctl --db FILE user add --username U --role ROLE [--region "
	    "CODE] [--display-name NAME]\n"
	    "       marketctl --db FILE demo\n"
	    "       marketctl --db FILE import-products FILE.csv\n"
	    "       marketctl --db FILE backup DEST\n"
	    "       marketctl --db FILE check [--repair-rollups]\n"
	    "       marketctl --db FILE report [impact] --from YYYY-MM-DD --to "
	    "YYYY-MM-DD [--region CODE] [--csv] [--group-by month]\n"
	    "       marketctl --db FILE report procurement [--year YYYY] [--kind KIND] "
	    "[--as-of YYYY-MM-DD] [--csv]\n"
	    "       marketctl --db FILE report payouts --from YYYY-MM-DD --to "
	    "YYYY-MM-DD [--region CODE] [--csv]\n"
	    "       marketctl --db FILE gen --products N --buyers N --sale-lines N "
	    "--orders N\n"
	    "                               [--days 365] [--institutions N] "
	    "[--institution-orders N]\n"
	    "                               [--seed S] [--tokens FILE]\n"
	    "       marketctl --db FILE migrate\n"
	    "       marketctl --db FILE migrate-to DEST   (a new SQLite file or "
	    "postgresql:// URI)\n"
	    "       marketctl routes\n");
	return 2;
}

static const char *
opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int
user_add(struct db *db, int argc, char **argv)
{
	const char *username = opt(argc, argv, "--username");
	const char *role = opt(argc, argv, "--role");
	const char *region = opt(argc, argv, "--region");
	const char *display = opt(argc, argv, "--display-name");
	for (int i = 0; i < argc; i += 2)
		if (strcmp(argv[i], "--username") && strcmp(argv[i], "--role") &&
		    strcmp(argv[i], "--region") && strcmp(argv[i], "--display-name")) {
			fprintf(stderr, "marketctl: unknown option %s\n", argv[i]);
			return 2;
		}
	if (username == NULL || role == NULL)
		return usage();
	if (!username_valid(username)) {
		fprintf(stderr, "marketctl: the username must be %s\n", USERNAME_RULE);
		return 2;
	}
	if (role_from_name(role) == 0) {
		fprintf(stderr,
		    "marketctl: role must be buyer, operator, coordinator or admin\n");
		return 2;
	}
	if (region != NULL && strcmp(role, "coordinator") != 0) {
		fprintf(stderr, "marketctl: only a coordinator has a region\n");
		return 2;
	}
	char password[256];
	if (fgets(password, sizeof(password), stdin) == NULL) {
		fprintf(stderr, "marketctl: give the password on standard input\n");
		return 2;
	}
	password[strcspn(password, "\r\n")] = '\0';
	size_t n = utf8_length(password);
	if (n < 8 || n > 128) {
		fprintf(
		    stderr, "marketctl: the password must be 8 to 128 characters\n");
		return 2;
	}
	int rc = user_create_checked(
	    db, username, display ? display : username, role, region, password);
	if (rc == 0)
		printf("created %s user %s\n", role, username);
	return rc;
}

static int
routes(void)
{
	for (const struct route *const *t = route_tables; *t; t++)
		for (const struct route *r = *t; r->path; r++) {
			printf("%s %s", method_name(r->method), r->path);
			const char *sep = " ";
			static const enum role all[] = {ROLE_ANON, ROLE_BUYER,
			    ROLE_OPERATOR, ROLE_COORDINATOR, ROLE_ADMIN};
			for (size_t i = 0; i < nitems(all); i++)
				if (r->roles & all[i]) {
					printf("%s%s", sep,
					    all[i] == ROLE_ANON ? "anonymous"
					                        : role_name(all[i]));
					sep = ",";
				}
			printf("%s\n", r->scope ? " scoped" : "");
		}
	return 0;
}

int
main(int argc, char **argv)
{
	log_set_quiet(1);
	if (argc >= 2 && strcmp(argv[1], "routes") == 0)
		return routes();
	if (argc < 4 || strcmp(argv[1], "--db") != 0)
		return usage();
	const char *path = argv[2], *cmd = argv[3];
	/* The database holds password hashes and phone numbers: a file this
	 * tool creates is private to its owner, as the server's are. */
	umask(077);
	/* Reading commands on a mistyped path must not make an empty
	 * database there (and check or back it up). */
	if ((strcmp(cmd, "check") == 0 || strcmp(cmd, "backup") == 0 ||
	        strcmp(cmd, "report") == 0 || strcmp(cmd, "migrate") == 0 ||
	        strcmp(cmd, "migrate-to") == 0) &&
	    !db_is_postgres(path) && access(path, F_OK) != 0) {
		fprintf(stderr, "marketctl: no database at %s\n", path);
		return 1;
	}
	char *err = NULL;
	bool migrating = strcmp(cmd, "migrate") == 0, outdated = false;
	if (migrating && argc != 4)
		return usage();
	int before = migrating ? db_peek_schema_version(path) : -1;
	struct db *db = db_open_as(path, "full", migrating, &outdated, &err);
	if (db == NULL) {
		fprintf(stderr, "marketctl: %s\n", err);
		free(err);
		return outdated ? 2 : 1;
	}
	int rc;
	if (migrating) {
		int now = db_schema_version(db);
		if (before == now)
			printf("schema version %d: up to date\n", now);
		else
			printf("migrated from schema version %d to %d\n", before, now);
		rc = 0;
	} else if (strcmp(cmd, "user") == 0 && argc >= 5 && strcmp(argv[4], "add") == 0)
		rc = user_add(db, argc - 5, argv + 5);
	else if (strcmp(cmd, "demo") == 0 && argc == 4)
		rc = ctl_demo(db);
	else if (strcmp(cmd, "check") == 0 && argc == 4)
		rc = ctl_check(db);
	else if (strcmp(cmd, "check") == 0 && argc == 5 &&
	         strcmp(argv[4], "--repair-rollups") == 0)
		rc = ctl_repair_rollups(db);
	else if (strcmp(cmd, "report") == 0)
		rc = ctl_report(db, argc - 4, argv + 4);
	else if (strcmp(cmd, "backup") == 0 && argc == 5)
		rc = ctl_backup(db, argv[4]);
	else if (strcmp(cmd, "gen") == 0)
		rc = ctl_gen(db, argc - 4, argv + 4);
	else if (strcmp(cmd, "migrate-to") == 0 && argc == 5)
		rc = ctl_migrate_to(db, argv[4]);
	else if (strcmp(cmd, "import-products") == 0 && argc == 5)
		rc = ctl_import_products(db, argv[4]);
	else
		rc = usage();
	db_close(db);
	return rc;
}
