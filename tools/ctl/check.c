#include <stdio.h>

#include "ctl/ctl.h"

int
ctl_check(struct db *db)
{
	fprintf(stderr, "marketctl: not written yet\n");
	return 1;
}
