#include <stdio.h>

#include "ctl/ctl.h"

int
ctl_backup(struct db *db, const char *dest)
{
	fprintf(stderr, "marketctl: not written yet\n");
	return 1;
}
