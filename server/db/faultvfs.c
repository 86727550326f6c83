/* TEST ONLY: the fault-injecting VFS; see faultvfs.h. */
#include "db/faultvfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "util.h"

enum op { OP_NONE, OP_WRITE, OP_SYNC, OP_ALLOC };
enum fault { F_IOERR, F_FULL, F_NOMEM, F_POWERLOSS };

/* The old bytes of one unsynced change, to put back on a power loss. */
struct undo {
	struct undo *prev;
	sqlite3_int64 off;
	size_t n;
	unsigned char data[];
};

/* A database file, shared by every handle open on its path. */
struct node {
	struct node *next;
	char *path;
	bool dirty;                /* changed since its last sync */
	sqlite3_int64 synced_size; /* its size at that sync */
	struct undo *log;          /* newest first */
};

struct ffile {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct, in the same allocation */
	struct node *node;  /* NULL: not a database, WAL or journal file */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static sqlite3_mem_methods real_mem;
static pthread_mutex_t mu; /* recursive: an allocation may come from inside */
static char *control, *state;
static struct node *nodes;

/* The armed line. */
static long seq = -1;
static enum op plan_op = OP_NONE;
static enum fault plan_fault;
static long plan_nth, plan_count, seen, fired;
static bool dead;
static struct stat control_st;
static bool control_seen;
static int64_t alloc_checked_ms;

/* Set on a thread once it writes to a database file: only its
 * allocations are counted, so reader threads never fail. */
static _Thread_local bool writer_thread;

static bool
parse(const char *line)
{
	char opname[16], faultname[16];
	long s, nth, count = 1;
	int n =
	    sscanf(line, "%ld %15s %ld %15s %ld", &s, opname, &nth, faultname, &count);
	if (n == 2 && strcmp(opname, "off") == 0) {
		seq = s;
		plan_op = OP_NONE;
		seen = fired = 0;
		return true;
	}
	if (n < 4 || nth < 1 || count < 0)
		return false;
	enum op o;
	if (strcmp(opname, "write") == 0)
		o = OP_WRITE;
	else if (strcmp(opname, "sync") == 0)
		o = OP_SYNC;
	else if (strcmp(opname, "alloc") == 0)
		o = OP_ALLOC;
	else
		return false;
	enum fault f;
	if (strcmp(faultname, "ioerr") == 0)
		f = F_IOERR;
	else if (strcmp(faultname, "full") == 0)
		f = F_FULL;
	else if (strcmp(faultname, "nomem") == 0)
		f = F_NOMEM;
	else if (strcmp(faultname, "powerloss") == 0)
		f = F_POWERLOSS;
	else
		return false;
	if ((o == OP_ALLOC) != (f == F_NOMEM))
		return false;
	seq = s;
	plan_op = o;
	plan_fault = f;
	plan_nth = nth;
	plan_count = count;
	seen = fired = 0;
	return true;
}

/* Rewrites the state file; no SQLite call, so safe from the allocator. */
static void
write_state(void)
{
	if (state == NULL)
		return;
	char tmp[4096], buf[96];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", state) >= sizeof(tmp))
		return;
	int len = snprintf(buf, sizeof(buf), "%ld %ld %d\n", seq, fired, dead);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	bool ok = write(fd, buf, (size_t)len) == len;
	close(fd);
	if (ok)
		rename(tmp, state);
}

/* Re-reads the control file when it changed (a new inode, size or time). */
static void
check_control(void)
{
	if (control == NULL)
		return;
	struct stat st;
	if (stat(control, &st) < 0) {
		if (control_seen && plan_op != OP_NONE) {
			plan_op = OP_NONE;
			write_state();
		}
		control_seen = false;
		return;
	}
	if (control_seen && st.st_ino == control_st.st_ino &&
	    st.st_size == control_st.st_size &&
	    st.st_mtim.tv_sec == control_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == control_st.st_mtim.tv_nsec)
		return;
	control_seen = true;
	control_st = st;
	char line[256];
	int fd = open(control, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, line, sizeof(line) - 1);
	close(fd);
	line[n > 0 ? n : 0] = '\0';
	if (parse(line))
		write_state();
}

static void
restore_all(void)
{
	for (struct node *nd = nodes; nd != NULL; nd = nd->next) {
		if (!nd->dirty)
			continue;
		int fd = open(nd->path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			for (struct undo *u = nd->log; u != NULL; u = u->prev)
				if (pwrite(fd, u->data, u->n, u->off) != (ssize_t)u->n)
					break;
			if (ftruncate(fd, nd->synced_size) == 0)
				fsync(fd);
			close(fd);
		}
		while (nd->log != NULL) {
			struct undo *u = nd->log;
			nd->log = u->prev;
			free(u);
		}
		nd->dirty = false;
	}
}

/*
 * Counts one operation of kind o: true when it must fail (and then
 * *fault says how). A power loss is carried out here.
 */
static bool
should_fail(enum op o, enum fault *fault)
{
	check_control();
	if (plan_op != o)
		return false;
	seen++;
	if (seen < plan_nth || (plan_count > 0 && fired >= plan_count))
		return false;
	fired++;
	*fault = plan_fault;
	if (plan_fault == F_POWERLOSS) {
		restore_all();
		dead = true;
	}
	write_state();
	return true;
}

static int
io_code(enum fault f, int ioerr)
{
	return f == F_FULL ? SQLITE_FULL : ioerr;
}

/* Before a change of nd at [off, off + n): keep the bytes it overwrites. */
static int
remember(struct ffile *f, sqlite3_int64 off, sqlite3_int64 n)
{
	struct node *nd = f->node;
	sqlite3_int64 size = 0;
	int rc = f->real->pMethods->xFileSize(f->real, &size);
	if (rc != SQLITE_OK)
		return rc;
	if (!nd->dirty) {
		nd->synced_size = size;
		nd->dirty = true;
	}
	if (off >= size)
		return SQLITE_OK;
	size_t keep = (size_t)(off + n < size ? n : size - off);
	struct undo *u = malloc(sizeof(*u) + keep);
	if (u == NULL)
		return SQLITE_IOERR_NOMEM;
	u->off = off;
	u->n = keep;
	rc = f->real->pMethods->xRead(f->real, u->data, (int)keep, off);
	if (rc != SQLITE_OK) {
		free(u);
		return rc;
	}
	u->prev = nd->log;
	nd->log = u;
	return SQLITE_OK;
}

static void
forget(struct node *nd)
{
	while (nd->log != NULL) {
		struct undo *u = nd->log;
		nd->log = u->prev;
		free(u);
	}
	nd->dirty = false;
}

/* --- the file methods ------------------------------------------------ */

static int
f_close(sqlite3_file *file)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xClose(f->real);
}

static int
f_read(sqlite3_file *file, void *buf, int n, sqlite3_int64 off)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xRead(f->real, buf, n, off);
}

static int
f_write(sqlite3_file *file, const void *buf, int n, sqlite3_int64 off)
{
	struct ffile *f = (struct ffile *)file;
	if (f->node == NULL)
		return f->real->pMethods->xWrite(f->real, buf, n, off);
	writer_thread = true;
	pthread_mutex_lock(&mu);
	enum fault fault;
	int rc = SQLITE_OK;
	if (dead)
		rc = SQLITE_IOERR_WRITE;
	else if (should_fail(OP_WRITE, &fault))
		rc = io_code(fault, SQLITE_IOERR_WRITE);
	else if ((rc = remember(f, off, n)) == SQLITE_OK)
		rc = f->real->pMethods->xWrite(f->real, buf, n, off);
	pthread_mutex_unlock(&mu);
	return rc;
}

static int
f_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct ffile *f = (struct ffile *)file;
	if (f->node == NULL)
		return f->real->pMethods->xTruncate(f->real, size);
	pthread_mutex_lock(&mu);
	int rc = SQLITE_OK;
	sqlite3_int64 cur = 0;
	if (dead)
		rc = SQLITE_IOERR_TRUNCATE;
	else if ((rc = f->real->pMethods->xFileSize(f->real, &cur)) == SQLITE_OK &&
	         (size >= cur || (rc = remember(f, size, cur - size)) == SQLITE_OK))
		rc = f->real->pMethods->xTruncate(f->real, size);
	pthread_mutex_unlock(&mu);
	return rc;
}

static int
f_sync(sqlite3_file *file, int flags)
{
	struct ffile *f = (struct ffile *)file;
	if (f->node == NULL)
		return f->real->pMethods->xSync(f->real, flags);
	writer_thread = true;
	pthread_mutex_lock(&mu);
	enum fault fault;
	int rc;
	if (dead)
		rc = SQLITE_IOERR_FSYNC;
	else if (should_fail(OP_SYNC, &fault))
		rc = io_code(fault, SQLITE_IOERR_FSYNC);
	else if ((rc = f->real->pMethods->xSync(f->real, flags)) == SQLITE_OK)
		forget(f->node);
	pthread_mutex_unlock(&mu);
	return rc;
}

static int
f_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xFileSize(f->real, size);
}

static int
f_lock(sqlite3_file *file, int lock)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xLock(f->real, lock);
}

static int
f_unlock(sqlite3_file *file, int lock)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xUnlock(f->real, lock);
}

static int
f_check_reserved(sqlite3_file *file, int *out)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
f_file_control(sqlite3_file *file, int op, void *arg)
{
	struct ffile *f = (struct ffile *)file;
	/* With mmap on, the unix VFS grows a file for a size hint with
	 * ftruncate(2), not through xWrite: note the size it had. */
	if (op == SQLITE_FCNTL_SIZE_HINT && f->node != NULL) {
		pthread_mutex_lock(&mu);
		sqlite3_int64 size = 0;
		if (!f->node->dirty &&
		    f->real->pMethods->xFileSize(f->real, &size) == SQLITE_OK) {
			f->node->synced_size = size;
			f->node->dirty = true;
		}
		int rc = dead ? SQLITE_IOERR_TRUNCATE
		              : f->real->pMethods->xFileControl(f->real, op, arg);
		pthread_mutex_unlock(&mu);
		return rc;
	}
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
f_sector_size(sqlite3_file *file)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xSectorSize(f->real);
}

static int
f_device_characteristics(sqlite3_file *file)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int
f_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **p)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xShmMap(f->real, region, size, extend, p);
}

static int
f_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void
f_shm_barrier(sqlite3_file *file)
{
	struct ffile *f = (struct ffile *)file;
	f->real->pMethods->xShmBarrier(f->real);
}

static int
f_shm_unmap(sqlite3_file *file, int delete_flag)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int
f_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **p)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xFetch(f->real, off, n, p);
}

static int
f_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct ffile *f = (struct ffile *)file;
	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods fault_methods = {
    .iVersion = 3,
    .xClose = f_close,
    .xRead = f_read,
    .xWrite = f_write,
    .xTruncate = f_truncate,
    .xSync = f_sync,
    .xFileSize = f_file_size,
    .xLock = f_lock,
    .xUnlock = f_unlock,
    .xCheckReservedLock = f_check_reserved,
    .xFileControl = f_file_control,
    .xSectorSize = f_sector_size,
    .xDeviceCharacteristics = f_device_characteristics,
    .xShmMap = f_shm_map,
    .xShmLock = f_shm_lock,
    .xShmBarrier = f_shm_barrier,
    .xShmUnmap = f_shm_unmap,
    .xFetch = f_fetch,
    .xUnfetch = f_unfetch,
};

/* --- the VFS ------------------------------------------------------------ */

static struct node *
node_for(const char *path)
{
	for (struct node *nd = nodes; nd != NULL; nd = nd->next)
		if (strcmp(nd->path, path) == 0)
			return nd;
	struct node *nd = calloc(1, sizeof(*nd));
	char *copy = strdup(path);
	if (nd == NULL || copy == NULL) {
		free(nd);
		free(copy);
		return NULL;
	}
	nd->path = copy;
	nd->next = nodes;
	nodes = nd;
	return nd;
}

static int
v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out)
{
	struct ffile *f = (struct ffile *)file;
	f->real = (sqlite3_file *)(f + 1);
	f->node = NULL;
	int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out);
	f->base.pMethods = f->real->pMethods != NULL ? &fault_methods : NULL;
	if (rc == SQLITE_OK && name != NULL &&
	    (flags &
	        (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL))) {
		pthread_mutex_lock(&mu);
		f->node = node_for(name);
		pthread_mutex_unlock(&mu);
		if (f->node == NULL) {
			f->real->pMethods->xClose(f->real);
			f->base.pMethods = NULL;
			return SQLITE_NOMEM;
		}
	}
	return rc;
}

static int
v_delete(sqlite3_vfs *vfs, const char *path, int sync_dir)
{
	pthread_mutex_lock(&mu);
	int rc;
	if (dead) {
		rc = SQLITE_IOERR_DELETE;
	} else {
		rc = real_vfs->xDelete(real_vfs, path, sync_dir);
		for (struct node *nd = nodes; nd != NULL; nd = nd->next)
			if (rc == SQLITE_OK && strcmp(nd->path, path) == 0)
				forget(nd);
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

static int
v_access(sqlite3_vfs *vfs, const char *path, int flags, int *out)
{
	return real_vfs->xAccess(real_vfs, path, flags, out);
}

static int
v_full_pathname(sqlite3_vfs *vfs, const char *path, int n, char *out)
{
	return real_vfs->xFullPathname(real_vfs, path, n, out);
}

static void *
v_dlopen(sqlite3_vfs *vfs, const char *path)
{
	return real_vfs->xDlOpen(real_vfs, path);
}

static void
v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	real_vfs->xDlError(real_vfs, n, out);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void
v_dlclose(sqlite3_vfs *vfs, void *h)
{
	real_vfs->xDlClose(real_vfs, h);
}

static int
v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int
v_sleep(sqlite3_vfs *vfs, int us)
{
	return real_vfs->xSleep(real_vfs, us);
}

static int
v_current_time(sqlite3_vfs *vfs, double *out)
{
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int
v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int
v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static int
v_set_syscall(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr p)
{
	return real_vfs->xSetSystemCall(real_vfs, name, p);
}

static sqlite3_syscall_ptr
v_get_syscall(sqlite3_vfs *vfs, const char *name)
{
	return real_vfs->xGetSystemCall(real_vfs, name);
}

static const char *
v_next_syscall(sqlite3_vfs *vfs, const char *name)
{
	return real_vfs->xNextSystemCall(real_vfs, name);
}

/* --- the allocator ------------------------------------------------------ */

static int64_t
now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool
alloc_fails(void)
{
	if (!writer_thread)
		return false;
	pthread_mutex_lock(&mu);
	bool fail = false;
	if (plan_op == OP_ALLOC || now_ms() != alloc_checked_ms) {
		alloc_checked_ms = now_ms();
		enum fault fault;
		fail = should_fail(OP_ALLOC, &fault);
	}
	pthread_mutex_unlock(&mu);
	return fail;
}

static void *
m_malloc(int n)
{
	return alloc_fails() ? NULL : real_mem.xMalloc(n);
}

static void *
m_realloc(void *p, int n)
{
	return alloc_fails() ? NULL : real_mem.xRealloc(p, n);
}

static void
m_free(void *p)
{
	real_mem.xFree(p);
}

static int
m_size(void *p)
{
	return real_mem.xSize(p);
}

static int
m_roundup(int n)
{
	return real_mem.xRoundup(n);
}

static int
m_init(void *arg)
{
	return real_mem.xInit(real_mem.pAppData);
}

static void
m_shutdown(void *arg)
{
	real_mem.xShutdown(real_mem.pAppData);
}

/* --- the interface ------------------------------------------------------ */

int
faultvfs_install(const char *control_path, char **err)
{
	*err = NULL;
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&mu, &attr);
	pthread_mutexattr_destroy(&attr);
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) != SQLITE_OK) {
		*err = xstrdup("fault injection: cannot read SQLite's allocator");
		return -1;
	}
	static sqlite3_mem_methods mem = {
	    .xMalloc = m_malloc,
	    .xFree = m_free,
	    .xRealloc = m_realloc,
	    .xSize = m_size,
	    .xRoundup = m_roundup,
	    .xInit = m_init,
	    .xShutdown = m_shutdown,
	};
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK) {
		*err =
		    xstrdup("fault injection: SQLite was initialized before the shim");
		return -1;
	}
	real_vfs = sqlite3_vfs_find(NULL);
	if (real_vfs == NULL || real_vfs->iVersion < 3) {
		*err = xstrdup("fault injection: no default VFS to wrap");
		return -1;
	}
	fault_vfs = (sqlite3_vfs){
	    .iVersion = 3,
	    .szOsFile = (int)sizeof(struct ffile) + real_vfs->szOsFile,
	    .mxPathname = real_vfs->mxPathname,
	    .zName = "fault",
	    .xOpen = v_open,
	    .xDelete = v_delete,
	    .xAccess = v_access,
	    .xFullPathname = v_full_pathname,
	    .xDlOpen = v_dlopen,
	    .xDlError = v_dlerror,
	    .xDlSym = v_dlsym,
	    .xDlClose = v_dlclose,
	    .xRandomness = v_randomness,
	    .xSleep = v_sleep,
	    .xCurrentTime = v_current_time,
	    .xGetLastError = v_last_error,
	    .xCurrentTimeInt64 = v_current_time64,
	    .xSetSystemCall = v_set_syscall,
	    .xGetSystemCall = v_get_syscall,
	    .xNextSystemCall = v_next_syscall,
	};
	if (control_path != NULL) {
		control = xstrdup(control_path);
		state = xasprintf("%s.state", control_path);
	}
	if (sqlite3_vfs_register(&fault_vfs, 1) != SQLITE_OK) {
		*err = xstrdup("fault injection: cannot register the VFS");
		return -1;
	}
	pthread_mutex_lock(&mu);
	check_control();
	write_state();
	pthread_mutex_unlock(&mu);
	return 0;
}

bool
faultvfs_arm(const char *line)
{
	pthread_mutex_lock(&mu);
	bool ok = parse(line);
	if (ok)
		write_state();
	pthread_mutex_unlock(&mu);
	return ok;
}

long
faultvfs_fired(void)
{
	pthread_mutex_lock(&mu);
	long n = fired;
	pthread_mutex_unlock(&mu);
	return n;
}

bool
faultvfs_dead(void)
{
	pthread_mutex_lock(&mu);
	bool d = dead;
	pthread_mutex_unlock(&mu);
	return d;
}

void
faultvfs_revive(void)
{
	pthread_mutex_lock(&mu);
	dead = false;
	plan_op = OP_NONE;
	pthread_mutex_unlock(&mu);
}
