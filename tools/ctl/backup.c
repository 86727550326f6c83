/*
 * marketctl backup DEST: a consistent copy of the database made with
 * SQLite's online backup API, safe while marketd runs (WAL readers do
 * not block writers). It is written to DEST.tmp, synced, checked, and
 * renamed over DEST, so DEST is always either the old or the new copy.
 * The copy holds what the database holds (password hashes, phone
 * numbers), so it is made 0600 like the database, whatever the umask.
 *
 * SQLite-only (the raw handle, through db/sqlite.h): a PostgreSQL
 * deployment is backed up with pg_dump or pg_basebackup instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "db/db.h"
#include "db/sqlite.h"
#include "util.h"

/* Makes a rename in path's directory durable. */
static void
sync_dir_of(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int
ctl_backup(struct db *db, const char *dest)
{
	if (db_handle(db) == NULL) {
		fprintf(stderr,
		    "marketctl: backup copies a SQLite file; a PostgreSQL database "
		    "is backed up by PostgreSQL's own tools: pg_dump -Fc URI > %s "
		    "(a consistent logical copy, pg_restore to restore), or "
		    "pg_basebackup with WAL archiving for point-in-time recovery\n",
		    dest);
		return 2;
	}
	char *tmp = xasprintf("%s.tmp", dest);
	sqlite3 *out = NULL;
	int rc = 1;
	remove(tmp);
	/* SQLite gives its journal the mode of the file it journals. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(
		    stderr, "marketctl: cannot create %s: %s\n", tmp, strerror(errno));
		goto done;
	}
	close(fd);
	if (sqlite3_open(tmp, &out) != SQLITE_OK) {
		fprintf(stderr, "marketctl: cannot create %s: %s\n", tmp,
		    sqlite3_errmsg(out));
		goto done;
	}
	sqlite3_exec(out, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	sqlite3_backup *b = sqlite3_backup_init(out, "main", db_handle(db), "main");
	if (b == NULL) {
		fprintf(stderr, "marketctl: cannot start the backup: %s\n",
		    sqlite3_errmsg(out));
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
	/* A -wal or hot -journal left beside an older copy (opened, and
	 * not closed cleanly) would be replayed into this one: they belong
	 * to the file being replaced, so they go first. */
	static const char *const stale[] = {"-wal", "-shm", "-journal"};
	for (size_t i = 0; i < nitems(stale); i++) {
		char *p = xasprintf("%s%s", dest, stale[i]);
		if (remove(p) != 0 && errno != ENOENT) {
			fprintf(stderr, "marketctl: cannot remove %s: %s\n", p,
			    strerror(errno));
			free(p);
			goto done;
		}
		free(p);
	}
	if (rename(tmp, dest) != 0) {
		perror("marketctl: rename");
		goto done;
	}
	sync_dir_of(dest);
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
