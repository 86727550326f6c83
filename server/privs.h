/*
 * The process as a service: file modes, the open-file limit, and
 * dropping root after the port is bound and the database opened.
 */
#ifndef MARKET_PRIVS_H
#define MARKET_PRIVS_H

struct config;

/*
 * Before anything is opened: files are created private (umask 077, so
 * the database and its -wal and -shm files are 0600), the open-file limit
 * is raised to its hard limit, and, when --user is given and the process
 * is root, the database file is created (if need be) and given to that
 * user, so that the files SQLite makes beside it are its too. On failure
 * returns -1 with one line in *err (caller frees).
 */
int privs_prepare(const struct config *cfg, char **err);

/*
 * After binding and opening: becomes --user (groups, gid, uid) and makes
 * sure root cannot be regained. Nothing to do without --user, or when the
 * process is that user already. On failure returns -1 with one line in
 * *err (caller frees): marketd must not go on as root.
 */
int privs_drop(const struct config *cfg, char **err);

#endif
