/*
 * marketctl backup DEST: a consistent copy of the database made with
 * SQLite's online backup API, safe while marketd runs (WAL readers do
 * not block writers). It is written to DEST.tmp, synced, checked, and
 * renamed over DEST, so DEST is always either the old or the new copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "db/db.h"
#include "util.h"

int
ctl_backup(struct db *db, const char *dest)
{
	char *tmp = xasprintf("%s.tmp", dest);
	sqlite3 *out = NULL;
	int rc = 1;
	remove(tmp);
	if (sqlite3_open(tmp, &out) != SQLITE_OK) {
		fprintf(stderr, "marketctl: cannot create %s: %s\n", tmp, sqlite3_errmsg(out));
		goto done;
	}
	sqlite3_exec(out, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	sqlite3_backup *b = sqlite3_backup_init(out, "main", db_handle(db), "main");
	if (b == NULL) {
		fprintf(stderr, "marketctl: cannot start the backup: %s\n", sqlite3_errmsg(out));
		goto done;
	}
	/* One step copies every page inside one read transaction: a snapshot. */
	int s = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (s != SQLITE_DONE) {
		fprintf(stderr, "marketctl: backup failed: %s\n", sqlite3_errstr(s));
		goto done;
	}
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(out, "PRAGMA quick_check", -1, &st, NULL);
	bool ok = st && sqlite3_step(st) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		fprintf(stderr, "marketctl: the copy does not pass quick_check\n");
		goto done;
	}
	if (sqlite3_close(out) != SQLITE_OK) {
		fprintf(stderr, "marketctl: cannot close %s\n", tmp);
		out = NULL;
		goto done;
	}
	out = NULL;
	if (rename(tmp, dest) != 0) {
		perror("marketctl: rename");
		goto done;
	}
	printf("backed up to %s\n", dest);
	rc = 0;
done:
	if (out != NULL)
		sqlite3_close(out);
	if (rc != 0)
		remove(tmp);
	free(tmp);
	return rc;
}
