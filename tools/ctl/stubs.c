/* Subcommands not written yet; each says so and fails. */
#include <stdio.h>

#include "ctl/ctl.h"

int
ctl_demo(struct db *db)
{
	fprintf(stderr, "marketctl: demo is not written yet\n");
	return 1;
}

int
ctl_check(struct db *db)
{
	fprintf(stderr, "marketctl: check is not written yet\n");
	return 1;
}

int
ctl_backup(struct db *db, const char *dest)
{
	fprintf(stderr, "marketctl: backup is not written yet\n");
	return 1;
}

int
ctl_import_products(struct db *db, const char *path)
{
	fprintf(stderr, "marketctl: import-products is not written yet\n");
	return 1;
}
