#include "privs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "config.h"
#include "db/db.h"
#include "log.h"
#include "util.h"

/* Descriptors beside the connections: the database files, the listening
 * socket, the event loops' own. */
#define FD_RESERVE 64

static void
raise_fd_limit(int max_connections)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)max_connections + FD_RESERVE > rl.rlim_cur)
		log_warn(
		    "max-connections %d needs more open files than the limit "
		    "of %llu allows: connections beyond it are refused by the kernel",
		    max_connections, (unsigned long long)rl.rlim_cur);
}

static int
lookup(const char *user, struct passwd *out, char **err)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		*err = errno ? xasprintf(
		                   "cannot look up user %s: %s", user, strerror(errno))
		             : xasprintf("no such user: %s", user);
		return -1;
	}
	*out = *pw;
	return 0;
}

/* Gives path (created if missing) and its -wal and -shm to uid:gid. */
static int
give_database(const char *path, uid_t uid, gid_t gid, char **err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0; /* db_open says what is wrong with it */
	int rc = fchown(fd, uid, gid);
	int e = errno;
	close(fd);
	if (rc != 0) {
		*err = xasprintf(
		    "cannot give %s to uid %d: %s", path, (int)uid, strerror(e));
		return -1;
	}
	static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
	for (size_t i = 0; i < nitems(suffixes); i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);
		rc = chown(p, uid, gid);
		e = errno;
		if (rc != 0 && e != ENOENT) {
			*err = xasprintf(
			    "cannot give %s to uid %d: %s", p, (int)uid, strerror(e));
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

int
privs_prepare(const struct config *cfg, char **err)
{
	umask(077);
	raise_fd_limit(cfg->max_connections);
	if (cfg->user == NULL || geteuid() != 0)
		return 0;
	struct passwd pw;
	if (lookup(cfg->user, &pw, err) < 0)
		return -1;
	if (db_is_postgres(cfg->db_path))
		return 0; /* PostgreSQL's files are its own */
	return give_database(cfg->db_path, pw.pw_uid, pw.pw_gid, err);
}

int
privs_drop(const struct config *cfg, char **err)
{
	if (cfg->user == NULL)
		return 0;
	struct passwd pw;
	if (lookup(cfg->user, &pw, err) < 0)
		return -1;
	if (getuid() == pw.pw_uid && geteuid() == pw.pw_uid && getgid() == pw.pw_gid &&
	    getegid() == pw.pw_gid)
		return 0;
	/* setgroups before setgid before setuid: each needs the privilege
	 * the next one gives up. */
	if (setgroups(1, &pw.pw_gid) != 0 || setgid(pw.pw_gid) != 0 ||
	    setuid(pw.pw_uid) != 0) {
		*err =
		    xasprintf("cannot become user %s: %s", cfg->user, strerror(errno));
		return -1;
	}
	if (pw.pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		*err =
		    xasprintf("still able to regain root after becoming %s", cfg->user);
		return -1;
	}
	log_info("running as user %s (uid %d, gid %d)", cfg->user, (int)pw.pw_uid,
	    (int)pw.pw_gid);
	return 0;
}
