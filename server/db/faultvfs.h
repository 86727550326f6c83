/*
 * TEST ONLY. A fault-injecting SQLite VFS, as SQLite's own tests do it:
 * it wraps the default (unix) VFS and SQLite's allocator and can make the
 * Nth write, sync or allocation from now fail with an I/O error, a full
 * disk (SQLITE_FULL), an out-of-memory, or a simulated power loss.
 *
 * marketd installs it only when the environment names a control file,
 * MARKETD_TEST_FAULT=<path> (see main.c): otherwise nothing of this file
 * is registered and it costs nothing. Never set it in production.
 *
 * The control file holds one line, written atomically by the test
 * (write a temporary file, rename it over the control file):
 *
 *   <seq> off
 *   <seq> <op> <nth> <fault> [<count>]
 *
 * op is write (xWrite), sync (xSync) or alloc (an allocation by a thread
 * that writes to the database: reads on other threads never fail); fault
 * is ioerr, full, nomem (alloc only) or powerloss (write or sync). The
 * nth matching operation after the shim sees the line fails, and so do
 * the next count - 1 (count 1 by default; 0: every one until the line
 * changes). seq is any number that changes with each line. The shim
 * checks the file before each write and sync of a database file (and at
 * most every millisecond before an allocation) and reports in
 * <path>.state, as "<seq> <fired> <dead>\n" (rewritten atomically), the
 * line it acts on, how many operations it made fail, and 1 after a
 * power loss.
 *
 * A power loss discards everything written to the database, WAL and
 * rollback journal since that file's last successful xSync (the shim
 * keeps the old bytes of each unsynced write), then fails every write,
 * sync and truncate of the process, as a machine that lost power would
 * do nothing more. The test then kills the server and restarts it on the
 * same files without faults.
 */
#ifndef MARKET_FAULTVFS_H
#define MARKET_FAULTVFS_H

#include <stdbool.h>

/*
 * Wraps SQLite's allocator and registers the "fault" VFS over the
 * default one, as the new default. Call before any other SQLite call
 * (the allocator can only be replaced before sqlite3_initialize()).
 * control is the control file's path, or NULL (then only faultvfs_arm()
 * arms it). Returns 0, or -1 with *err set (caller frees).
 */
int faultvfs_install(const char *control, char **err);

/* Arms as the control file's line would (for the unit tests); false
 * when the line does not parse. */
bool faultvfs_arm(const char *line);
/* Operations made to fail since the last line was armed. */
long faultvfs_fired(void);
/* Whether a power loss happened. */
bool faultvfs_dead(void);
/* Brings the process back to life after a power loss (unit tests; only
 * once every connection is closed). */
void faultvfs_revive(void);

#endif
