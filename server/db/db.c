#include "db/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sqlite3.h>

#include "db/pg.h"
#include "db/sqlite.h"
#include "embedded.h"
#include "log.h"
#include "util.h"

#define STMT_SLOTS_MIN 256        /* a power of two; the cache doubles when 3/4 full */
#define WALINDEX_VERSION 3007000u /* the WAL-index header's iVersion */
#define SHM_MAP_BYTES 4096        /* power of two, more than the statements we have */

struct stmt_slot {
	const char *sql;
	struct db_stmt *st;
};

struct db {
	sqlite3 *h;
	struct pg *pg; /* a PostgreSQL database instead (db/pg.h): h is NULL */
	/* The WAL-index header, SQLite's own mapping of the -shm file, for
	 * db_data_version(); MAP_FAILED until looked up, NULL when it cannot
	 * be (then the PRAGMA answers). */
	const void *shm;
	bool writing;            /* holds write_lock */
	bool batch;              /* the writer's batch transaction is open */
	bool committing;         /* db_batch_end() is committing it */
	int depth;               /* open "req" savepoints inside the batch */
	struct stmt_slot *slots; /* open addressing, keyed by the SQL's address */
	size_t nslots, used;
	/* What db_stmt() gives for SQL that does not prepare: a statement
	 * whose every step fails, so the caller answers 500. */
	struct db_stmt broken;
	bool undo_failed; /* a "req" savepoint could not be undone (out of
	                   * memory, I/O error): the batch must not commit */
	bool flat;        /* the job runs without savepoints (db_job_begin_flat) */
};

/*
 * Writers of this process queue here before BEGIN IMMEDIATE. SQLite
 * alone would make the second writer sleep and poll (its busy handler
 * backs off in milliseconds), which halved the throughput of single
 * sales with two worker threads; a mutex wakes the next writer the
 * moment the lock is free. Other processes (marketctl) still meet the
 * busy timeout.
 */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * The mutex is not fair: the writer thread, with a queue of batches,
 * unlocks and locks again before a waiting checkpointer is even
 * scheduled, so on a quiet machine a held TRUNCATE could wait for the
 * whole load (the WAL grew to 64 MiB in CI). A checkpoint that waits
 * for the lock says so here, and writers let it go first.
 */
static atomic_int checkpoint_waiting;
static pthread_cond_t checkpoint_done = PTHREAD_COND_INITIALIZER;

/* Takes the write lock for a writer, after any checkpoint waiting. */
static void
write_lock_take(void)
{
	pthread_mutex_lock(&write_lock);
	while (atomic_load(&checkpoint_waiting) > 0)
		pthread_cond_wait(&checkpoint_done, &write_lock);
}

/*
 * While a batch is open, only db_batch_end() commits. SQLite may roll
 * the batch's transaction back by itself (out of memory, I/O errors);
 * the handler's next statement would then run in autocommit mode, or its
 * SAVEPOINT begin a transaction of its own that its RELEASE commits: a
 * change saved while the batch it belonged to answers 503 (test_faults'
 * out-of-memory case saw sales stored that had been refused). Any such
 * commit is turned into a rollback here, and the statement fails.
 */
static int
commit_guard(void *arg)
{
	const struct db *db = arg;
	return db->batch && !db->committing;
}

sqlite3 *
db_handle(struct db *db)
{
	return db->h;
}

static int
migration_number(const char *name)
{
	return atoi(name);
}

int
db_schema_version_known(void)
{
	int v = 0;
	for (const struct embedded_file *m = embedded_migrations; m->name; m++)
		v = migration_number(m->name);
	return v;
}

int
db_schema_version(struct db *db)
{
	if (db->pg)
		return pg_schema_version(db->pg);
	struct db_stmt *st = db_stmt(db, "PRAGMA user_version");
	int v = db_step(st) == DB_ROW ? db_col_int(st, 0) : -1;
	db_reset(st);
	return v;
}

int
db_peek_schema_version(const char *path)
{
	if (pg_is_uri(path))
		return pg_peek_schema_version(path);
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

enum db_status
db_exec(struct db *db, const char *sql)
{
	if (db->pg)
		return pg_exec(db->pg, sql);
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warn("db: %s", msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return DB_ERROR;
	}
	return DB_OK;
}

/* True when the database has no table yet (a new file). */
static bool
db_empty(struct db *db)
{
	return db_exists(db, db_stmt(db, "SELECT 1 FROM sqlite_schema")) ==
	       DB_NOT_FOUND;
}

/* True when PRAGMA foreign_key_check finds no row that breaks one. */
static bool
foreign_keys_hold(struct db *db)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, "PRAGMA foreign_key_check", -1, &st, NULL) !=
	    SQLITE_OK)
		return false;
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE;
}

/*
 * Runs the migrations the database lacks, each in its own transaction.
 * Foreign keys are off meanwhile (a migration may rebuild a table, as
 * SQLite's ALTER TABLE documentation says to: with them on, dropping the
 * old table would delete through the references), and each migration must
 * leave them all holding before it commits.
 */
static int
migrate(struct db *db, bool may_migrate, bool *outdated, char **err)
{
	int have = db_schema_version(db), known = db_schema_version_known();
	if (have > known) {
		*err = xasprintf("database schema version %d is newer than this "
		                 "marketd knows (%d): use a newer marketd",
		    have, known);
		return -1;
	}
	/* A new database is made whole; an existing one of an older schema
	 * is left as it is (a running marketd may be using it). */
	if (!may_migrate && have < known && (have > 0 || !db_empty(db))) {
		*outdated = true;
		*err = xasprintf("database schema version %d is older than this "
		                 "tool's (%d): run `marketctl --db FILE migrate` "
		                 "(stop marketd first), or start the new marketd, "
		                 "which migrates at start",
		    have, known);
		return -1;
	}
	if (have == known)
		return 0;
	int result = -1;
	if (db_exec(db, "PRAGMA foreign_keys = OFF") != DB_OK) {
		*err = xstrdup("migration: cannot turn foreign keys off");
		return -1;
	}
	for (const struct embedded_file *m = embedded_migrations; m->name; m++) {
		int n = migration_number(m->name);
		if (n <= have)
			continue;
		char *sql = xasprintf(
		    "BEGIN IMMEDIATE;\n%s\n;PRAGMA user_version = %d;", m->data, n);
		char *msg = NULL;
		int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
		free(sql);
		if (rc == SQLITE_OK && !foreign_keys_hold(db)) {
			*err = xasprintf(
			    "migration %s failed: it breaks a foreign key", m->name);
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db->h, "COMMIT", NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			*err = xasprintf("migration %s failed: %s", m->name,
			    msg ? msg : sqlite3_errmsg(db->h));
			sqlite3_free(msg);
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
		log_info("database migrated to %s", m->name);
	}
	result = 0;
out:
	if (db_exec(db, "PRAGMA foreign_keys = ON") != DB_OK && result == 0) {
		*err = xstrdup("migration: cannot turn foreign keys back on");
		result = -1;
	}
	return result;
}

bool
db_is_postgres(const char *path)
{
	return pg_is_uri(path);
}

struct db *
db_open(const char *path, const char *synchronous, char **err)
{
	return db_open_as(path, synchronous, true, NULL, err);
}

struct db *
db_open_as(const char *path, const char *synchronous, bool may_migrate, bool *outdated,
    char **err)
{
	bool old = false;
	if (outdated == NULL)
		outdated = &old;
	*outdated = false;
	*err = NULL;
	if (pg_is_uri(path)) {
		struct pg *pg = pg_open(path, may_migrate, outdated, err);
		if (pg == NULL)
			return NULL;
		struct db *db = xcalloc(1, sizeof(*db));
		db->pg = pg;
		db->shm = NULL;
		db->nslots = STMT_SLOTS_MIN;
		db->slots = xcalloc(db->nslots, sizeof(*db->slots));
		return db;
	}
	/* The value goes into a PRAGMA's text: only the known words. */
	if (strcmp(synchronous, "full") != 0 && strcmp(synchronous, "extra") != 0 &&
	    strcmp(synchronous, "normal") != 0) {
		*err = xasprintf(
		    "synchronous must be full, extra or normal, not %s", synchronous);
		return NULL;
	}
	struct db *db = xcalloc(1, sizeof(*db));
	db->shm = MAP_FAILED;
	db->nslots = STMT_SLOTS_MIN;
	db->slots = xcalloc(db->nslots, sizeof(*db->slots));
	int rc = sqlite3_open_v2(path, &db->h,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*err = xasprintf("cannot open database %s: %s", path,
		    db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_commit_hook(db->h, commit_guard, db);
	/* Writers wait for each other rather than fail. */
	sqlite3_busy_timeout(db->h, 10000);
	char *pragmas = xasprintf("PRAGMA journal_mode = WAL;"
	                          "PRAGMA synchronous = %s;"
	                          "PRAGMA foreign_keys = ON;"
	                          "PRAGMA trusted_schema = OFF;"
	                          "PRAGMA temp_store = MEMORY;",
	    synchronous);
	char *msg = NULL;
	rc = sqlite3_exec(db->h, pragmas, NULL, NULL, &msg);
	free(pragmas);
	if (rc != SQLITE_OK) {
		*err = xasprintf("cannot use database %s: %s", path,
		    msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		goto fail;
	}
	/* journal_mode=WAL silently stays "delete" on some file systems. */
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &st, NULL);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		sqlite3_finalize(st);
		*err = xasprintf("database %s: cannot switch to WAL mode", path);
		goto fail;
	}
	sqlite3_finalize(st);
	if (migrate(db, may_migrate, outdated, err) < 0)
		goto fail;
	return db;
fail:
	db_close(db);
	return NULL;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	pg_close(db->pg);
	for (size_t i = 0; i < db->nslots; i++) {
		if (db->slots[i].st != NULL) {
			sqlite3_finalize(db->slots[i].st->lite);
			free(db->slots[i].st);
		}
	}
	free(db->slots);
	sqlite3_finalize(db->broken.lite);
	if (db->h != NULL)
		sqlite3_close(db->h);
	free(db);
}

static size_t
slot_hash(const char *sql)
{
	/* Keyed by the literal's address, not its text. */
	return (size_t)hash_bytes(HASH_INIT, &sql, sizeof(sql));
}

/* The slot of sql, or the empty slot where it goes. */
static struct stmt_slot *
slot_find(struct stmt_slot *slots, size_t nslots, const char *sql)
{
	size_t h = slot_hash(sql);
	for (size_t n = 0;; n++) {
		struct stmt_slot *s = &slots[(h + n) & (nslots - 1)];
		if (s->sql == sql || s->sql == NULL)
			return s;
	}
}

/* Doubles the cache. The statements stay where they are in memory, so
 * callers that hold one keep using it. */
static void
slots_grow(struct db *db)
{
	size_t n = db->nslots * 2;
	struct stmt_slot *slots = xcalloc(n, sizeof(*slots));
	for (size_t i = 0; i < db->nslots; i++)
		if (db->slots[i].sql != NULL)
			*slot_find(slots, n, db->slots[i].sql) = db->slots[i];
	free(db->slots);
	db->slots = slots;
	db->nslots = n;
}

/* A statement whose every step fails ("integer overflow"); NULL, which
 * SQLite's step and reset also refuse safely, if even it does not
 * prepare. */
static struct db_stmt *
broken_stmt(struct db *db)
{
	if (db->broken.lite == NULL)
		sqlite3_prepare_v3(db->h, "SELECT abs(-9223372036854775808)", -1,
		    SQLITE_PREPARE_PERSISTENT, &db->broken.lite, NULL);
	if (db->broken.lite != NULL)
		sqlite3_reset(db->broken.lite);
	return &db->broken;
}

struct db_stmt *
db_stmt(struct db *db, const char *sql)
{
	if (db->pg) {
		/* The statement itself is the engine's; the wrapper is its
		 * place in this cache. */
		struct stmt_slot *s = slot_find(db->slots, db->nslots, sql);
		if (s->sql != sql) {
			if ((db->used + 1) * 4 > db->nslots * 3) {
				slots_grow(db);
				s = slot_find(db->slots, db->nslots, sql);
			}
			s->sql = sql;
			s->st = xcalloc(1, sizeof(*s->st));
			db->used++;
		}
		s->st->pg = pg_stmt(db->pg, sql);
		return s->st;
	}
	struct stmt_slot *s = slot_find(db->slots, db->nslots, sql);
	if (s->sql == sql) {
		sqlite3_reset(s->st->lite);
		sqlite3_clear_bindings(s->st->lite);
		return s->st;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	        SQLITE_OK ||
	    st == NULL) {
		log_warn("db: cannot prepare %s: %s", sql, sqlite3_errmsg(db->h));
		sqlite3_finalize(st);
		return broken_stmt(db);
	}
	if ((db->used + 1) * 4 > db->nslots * 3) {
		slots_grow(db);
		s = slot_find(db->slots, db->nslots, sql);
	}
	s->sql = sql;
	s->st = xcalloc(1, sizeof(*s->st));
	s->st->lite = st;
	db->used++;
	return s->st;
}

void
db_reset_all(struct db *db)
{
	if (db->pg) {
		pg_reset_all(db->pg);
		return;
	}
	for (size_t i = 0; i < db->nslots; i++)
		if (db->slots[i].st != NULL)
			sqlite3_reset(db->slots[i].st->lite);
}

/* True when no transaction is open (SQLite's autocommit mode; on
 * PostgreSQL, a failed transaction is still open until it is rolled
 * back). */
static bool
autocommit(struct db *db)
{
	return db->pg ? !pg_in_transaction(db->pg) : sqlite3_get_autocommit(db->h) != 0;
}

/* Runs SQL text (transaction control) and says whether it worked. */
static bool
raw(struct db *db, const char *sql)
{
	if (db->pg)
		return pg_exec(db->pg, sql) == DB_OK;
	return sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK;
}

enum db_status
db_begin_write(struct db *db)
{
	if (db->batch && db->flat) {
		db->depth++; /* nothing to undo it with: see db_job_begin_flat */
		return DB_OK;
	}
	if (db->batch) {
		/* Inside the writer's batch, a handler's transaction is a
		 * savepoint: it commits with the batch, or is undone alone. */
		enum db_status s = db_exec_stmt(db, db_stmt(db, "SAVEPOINT req"));
		if (s == DB_OK)
			db->depth++;
		return s;
	}
	write_lock_take();
	db->writing = true;
	enum db_status s = db_exec_stmt(db, db_stmt(db, "BEGIN IMMEDIATE"));
	if (s != DB_OK)
		db_rollback(db);
	return s;
}

enum db_status
db_commit(struct db *db)
{
	if (db->batch) {
		if (db->depth == 0)
			return DB_OK;
		if (db->flat) {
			db->depth--;
			return DB_OK;
		}
		enum db_status s = db_exec_stmt(db, db_stmt(db, "RELEASE req"));
		if (s != DB_OK) {
			db_rollback(db);
			return s;
		}
		db->depth--;
		return DB_OK;
	}
	enum db_status s = db_exec_stmt(db, db_stmt(db, "COMMIT"));
	if (s != DB_OK)
		db_rollback(db);
	if (db->writing) {
		db->writing = false;
		pthread_mutex_unlock(&write_lock);
	}
	return s;
}

void
db_rollback(struct db *db)
{
	db_reset_all(db);
	if (db->batch && db->flat) {
		/* A flat job cannot undo: if it began a transaction it now
		 * gives up, the batch goes (db_job_end returns false). */
		if (db->depth > 0)
			db->undo_failed = true;
		db->depth = 0;
		return;
	}
	if (db->batch) {
		/* Undo the handler's open savepoints, not the batch. */
		for (; db->depth > 0; db->depth--)
			if (!raw(db, "ROLLBACK TO req; RELEASE req"))
				db->undo_failed = true;
		return;
	}
	if (!autocommit(db))
		raw(db, "ROLLBACK");
	if (db->writing) {
		db->writing = false;
		pthread_mutex_unlock(&write_lock);
	}
}

int
db_checkpoint_held(struct db *db, int mode, int *log, int *done)
{
	atomic_fetch_add(&checkpoint_waiting, 1);
	pthread_mutex_lock(&write_lock);
	atomic_fetch_sub(&checkpoint_waiting, 1);
	int rc = sqlite3_wal_checkpoint_v2(db->h, "main", mode, log, done);
	pthread_cond_broadcast(&checkpoint_done);
	pthread_mutex_unlock(&write_lock);
	return rc;
}

enum db_status
db_batch_begin(struct db *db)
{
	write_lock_take();
	db->writing = true;
	/* A batch whose rollback failed (out of memory) left its
	 * transaction open: undo it now, before anything else is written. */
	if (!autocommit(db))
		raw(db, "ROLLBACK");
	db->undo_failed = false;
	enum db_status s = db_exec_stmt(db, db_stmt(db, "BEGIN IMMEDIATE"));
	if (s != DB_OK) {
		db->writing = false;
		pthread_mutex_unlock(&write_lock);
		return s;
	}
	db->batch = true;
	db->depth = 0;
	return DB_OK;
}

enum db_status
db_job_begin(struct db *db)
{
	db->flat = false;
	return db_exec_stmt(db, db_stmt(db, "SAVEPOINT job"));
}

void
db_job_begin_flat(struct db *db)
{
	db->flat = true;
}

bool
db_job_end(struct db *db, bool keep)
{
	db_rollback(db); /* a savepoint the handler left open */
	bool undo_failed = db->undo_failed, flat = db->flat;
	db->undo_failed = false;
	db->flat = false;
	if (autocommit(db))
		return false; /* SQLite rolled the whole batch back (I/O error, full
		                 disk) */
	if (flat)
		return keep && !undo_failed;
	/* A change the handler undid, or this request's, that could not be
	 * undone (out of memory) must not be committed with the batch: the
	 * caller gives the whole batch up. */
	if (undo_failed || (!keep && !raw(db, "ROLLBACK TO job")))
		return false;
	return raw(db, "RELEASE job") && !autocommit(db);
}

bool
db_batch_alive(struct db *db)
{
	return db->batch && !autocommit(db);
}

enum db_status
db_batch_end(struct db *db, bool commit)
{
	db_reset_all(db);
	enum db_status s = DB_OK;
	if (!autocommit(db)) {
		if (commit) {
			db->committing = true;
			s = db_exec_stmt(db, db_stmt(db, "COMMIT"));
			db->committing = false;
		} else
			s = DB_ERROR;
		if (s != DB_OK && !autocommit(db))
			raw(db, "ROLLBACK");
	} else if (commit) {
		s = DB_ERROR; /* the batch was lost before the commit */
	}
	db->batch = false;
	db->depth = 0;
	if (db->writing) {
		db->writing = false;
		pthread_mutex_unlock(&write_lock);
	}
	return s;
}

/*
 * The WAL-index header (https://www.sqlite.org/walformat.html, "The
 * WAL-Index Header"): two copies of 48 bytes at the start of the -shm
 * file, in native byte order, 32-bit words. Word 0 is iVersion (3007000)
 * and byte 12 isInit (1) once initialized. A commit appends frames to
 * the WAL, so it moves mxFrame (word 4), unless the WAL was restarted,
 * which gives it new salts (words 8 and 9); iChange (word 2) counts
 * commits too, but a connection that rebuilds the index starts it
 * again. Together they change with every commit of every connection,
 * and reading them needs neither a lock nor a system call.
 */
/*
 * The header through SQLite's own mapping of the WAL index, from the
 * VFS's xShmMap (region 0, not extended): opening the -shm file here
 * and closing it again would drop every POSIX lock this process holds
 * on it, SQLite's included, and let another process reset the index
 * under the server's feet.
 */
static void
map_shm(struct db *db)
{
	db->shm = NULL;
	sqlite3_file *f = NULL;
	if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_FILE_POINTER, &f) !=
	        SQLITE_OK ||
	    f == NULL || f->pMethods == NULL || f->pMethods->iVersion < 2 ||
	    f->pMethods->xShmMap == NULL)
		return;
	volatile void *p = NULL;
	if (f->pMethods->xShmMap(f, 0, 32768, 0, &p) != SQLITE_OK || p == NULL)
		return;
	const uint32_t *hdr = (const uint32_t *)p;
	const unsigned char *bytes = (const unsigned char *)p;
	if (__atomic_load_n(&hdr[0], __ATOMIC_ACQUIRE) != WALINDEX_VERSION ||
	    __atomic_load_n(&bytes[12], __ATOMIC_ACQUIRE) != 1)
		return;
	db->shm = (const void *)p;
}

void
db_tune(struct db *db, int cache_kib, int64_t mmap_bytes)
{
	if (db->pg)
		return; /* the server's own cache */
	char *sql = xasprintf("PRAGMA cache_size = -%d; PRAGMA mmap_size = %lld;",
	    cache_kib, (long long)mmap_bytes);
	db_exec(db, sql);
	free(sql);
}

enum db_status
db_load_settings(struct db *db, bool loading)
{
	if (db->pg != NULL)
		return DB_OK;
	return db_exec(db, loading ? "PRAGMA cache_size = -1048576; PRAGMA synchronous "
	                             "= OFF; PRAGMA foreign_keys = OFF"
	                           : "PRAGMA foreign_keys = ON; PRAGMA synchronous = "
	                             "FULL; PRAGMA wal_checkpoint(TRUNCATE)");
}

enum db_status
db_indexes_drop(struct db *db, const char *const *tables, size_t n, json_t *saved)
{
	if (db->pg != NULL)
		return DB_OK;
	/* sql IS NULL: a UNIQUE constraint's own index, which stays. */
	struct db_stmt *st = db_stmt(db,
	    "SELECT name, sql, tbl_name FROM sqlite_master WHERE type = 'index' AND "
	    "sql IS NOT NULL");
	json_t *names = json_array();
	enum db_step_rc rc;
	while ((rc = db_step(st)) == DB_ROW) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(db_col_text(st, 2), tables[i]) == 0) {
				json_array_append_new(
				    names, json_string(db_col_text(st, 0)));
				json_array_append_new(
				    saved, json_string(db_col_text(st, 1)));
			}
	}
	db_reset(st);
	enum db_status s = rc == DB_DONE ? DB_OK : DB_ERROR;
	size_t i;
	json_t *name;
	json_array_foreach(names, i, name)
	{
		char *sql = xasprintf("DROP INDEX \"%s\"", json_string_value(name));
		if (s == DB_OK)
			s = db_exec(db, sql);
		free(sql);
	}
	json_decref(names);
	return s;
}

enum db_status
db_bulk_begin(struct db *db)
{
	return db->pg != NULL ? pg_bulk_begin(db->pg) : DB_OK;
}

enum db_status
db_bulk_end(struct db *db)
{
	return db->pg != NULL ? pg_bulk_end(db->pg) : DB_OK;
}

bool
db_unreachable(struct db *db)
{
	return db != NULL && db->pg != NULL && pg_unreachable(db->pg);
}

uint64_t
db_data_version(struct db *db)
{
	if (db->pg)
		return pg_data_version(db->pg);
	if (db->shm == MAP_FAILED)
		map_shm(db);
	if (db->shm != NULL) {
		const uint32_t *w = db->shm;
		static const int words[] = {2, 4, 8, 9};
		uint32_t now[4];
		for (size_t i = 0; i < nitems(words); i++)
			now[i] = __atomic_load_n(&w[words[i]], __ATOMIC_ACQUIRE);
		return hash_bytes(HASH_INIT, now, sizeof(now)) & ~(1ull << 63);
	}
	struct db_stmt *st = db_stmt(db, "PRAGMA data_version");
	uint64_t v = db_step(st) == DB_ROW ? (uint64_t)db_col_int64(st, 0) : 0;
	db_reset(st);
	return v | 1ull << 63; /* never equal to a header's counter */
}

int64_t
db_total_changes(struct db *db)
{
	if (db->pg)
		return pg_total_changes(db->pg);
	return sqlite3_total_changes64(db->h);
}

static enum db_status
classify(struct db *db, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_ROW:
	case SQLITE_DONE:
	case SQLITE_OK:
		return DB_OK;
	case SQLITE_CONSTRAINT:
		return DB_CONSTRAINT;
	default:
		log_warn("db: %s", sqlite3_errmsg(db->h));
		return DB_ERROR;
	}
}

enum db_status
db_step_one(struct db *db, struct db_stmt *st)
{
	if (st->pg)
		return pg_step_one(st->pg);
	sqlite3_stmt *raw = db_sqlite_stmt(st);
	int rc = sqlite3_step(raw);
	/* A query, or an INSERT/UPDATE ... RETURNING, that gave no row. */
	if (rc == SQLITE_DONE && sqlite3_column_count(raw) > 0)
		return DB_NOT_FOUND;
	return classify(db, rc);
}

enum db_status
db_exec_stmt(struct db *db, struct db_stmt *st)
{
	if (st->pg)
		return pg_exec_stmt(st->pg);
	sqlite3_stmt *raw = db_sqlite_stmt(st);
	int rc = sqlite3_step(raw);
	enum db_status s = classify(db, rc);
	sqlite3_reset(raw);
	return s;
}

enum db_status
db_exec_change(struct db *db, struct db_stmt *st)
{
	enum db_status s = db_exec_stmt(db, st);
	if (s == DB_OK && db_changes(db) == 0)
		s = DB_NOT_FOUND;
	return s;
}

enum db_status
db_exists(struct db *db, struct db_stmt *st)
{
	enum db_status s = db_step_one(db, st);
	db_reset(st);
	return s;
}

enum db_status
db_rows(
    struct db *db, struct db_stmt *st, json_t *(*row)(struct db_stmt *), json_t **out)
{
	*out = json_array();
	enum db_status s;
	if (st->pg) {
		enum db_step_rc rc;
		while ((rc = pg_step(st->pg)) == DB_ROW)
			json_array_append_new(*out, row(st));
		s = rc == DB_DONE ? DB_OK : pg_status(st->pg);
	} else {
		int rc;
		while ((rc = sqlite3_step(st->lite)) == SQLITE_ROW)
			json_array_append_new(*out, row(st));
		s = classify(db, rc);
	}
	db_reset(st);
	if (s != DB_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return s;
}

enum db_status
db_row(
    struct db *db, struct db_stmt *st, json_t *(*row)(struct db_stmt *), json_t **out)
{
	enum db_status s = db_step_one(db, st);
	*out = s == DB_OK ? row(st) : NULL;
	db_reset(st);
	return s;
}

int64_t
db_last_insert_id(struct db *db)
{
	if (db->pg)
		return pg_last_insert_id(db->pg);
	return sqlite3_last_insert_rowid(db->h);
}

int
db_changes(struct db *db)
{
	if (db->pg)
		return pg_changes(db->pg);
	return sqlite3_changes(db->h);
}

/* ---- Statements: each one call of SQLite ---------------------------- */

void
db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	if (st->pg)
		pg_bind_int64(st->pg, i, v);
	else
		sqlite3_bind_int64(st->lite, i, v);
}

void
db_bind_null(struct db_stmt *st, int i)
{
	if (st->pg)
		pg_bind_null(st->pg, i);
	else
		sqlite3_bind_null(st->lite, i);
}

void
db_bind_text(struct db_stmt *st, int i, const char *s)
{
	/* SQLite binds NULL for a NULL pointer. */
	if (st->pg)
		pg_bind_text(st->pg, i, s, true);
	else
		sqlite3_bind_text(st->lite, i, s, -1, SQLITE_TRANSIENT);
}

void
db_bind_text_static(struct db_stmt *st, int i, const char *s)
{
	if (st->pg)
		pg_bind_text(st->pg, i, s, false);
	else
		sqlite3_bind_text(st->lite, i, s, -1, SQLITE_STATIC);
}

void
db_bind_text_owned(struct db_stmt *st, int i, char *s)
{
	if (st->pg)
		pg_bind_text_owned(st->pg, i, s);
	else
		sqlite3_bind_text(st->lite, i, s, -1, free);
}

void
db_bind_json(struct db_stmt *st, int i, const json_t *v)
{
	if (!json_is_integer(v) && !json_is_string(v))
		db_bind_null(st, i);
	else if (st->pg)
		pg_bind_text_owned(st->pg, i, json_dumps(v, JSON_ENCODE_ANY));
	else if (json_is_integer(v))
		sqlite3_bind_int64(st->lite, i, json_integer_value(v));
	else
		sqlite3_bind_text(
		    st->lite, i, json_string_value(v), -1, SQLITE_TRANSIENT);
}

void
db_bind_blob(struct db_stmt *st, int i, const void *p, int n)
{
	if (st->pg)
		pg_bind_blob(st->pg, i, p, n, true);
	else
		sqlite3_bind_blob(st->lite, i, p, n, SQLITE_TRANSIENT);
}

void
db_bind_blob_static(struct db_stmt *st, int i, const void *p, int n)
{
	if (st->pg)
		pg_bind_blob(st->pg, i, p, n, false);
	else
		sqlite3_bind_blob(st->lite, i, p, n, SQLITE_STATIC);
}

enum db_step_rc
db_step(struct db_stmt *st)
{
	if (st->pg)
		return pg_step(st->pg);
	switch (sqlite3_step(st->lite)) {
	case SQLITE_ROW:
		return DB_ROW;
	case SQLITE_DONE:
		return DB_DONE;
	default:
		return DB_STEP_ERROR;
	}
}

void
db_reset(struct db_stmt *st)
{
	if (st->pg)
		pg_reset(st->pg);
	else
		sqlite3_reset(st->lite);
}

int64_t
db_col_int64(struct db_stmt *st, int i)
{
	return st->pg ? pg_col_int64(st->pg, i) : sqlite3_column_int64(st->lite, i);
}

const char *
db_col_text(struct db_stmt *st, int i)
{
	return st->pg ? pg_col_text(st->pg, i)
	              : (const char *)sqlite3_column_text(st->lite, i);
}

bool
db_col_is_null(struct db_stmt *st, int i)
{
	return st->pg ? pg_col_is_null(st->pg, i)
	              : sqlite3_column_type(st->lite, i) == SQLITE_NULL;
}

bool
db_col_is_int(struct db_stmt *st, int i)
{
	return st->pg ? pg_col_is_int(st->pg, i)
	              : sqlite3_column_type(st->lite, i) == SQLITE_INTEGER;
}

int
db_col_count(struct db_stmt *st)
{
	return st->pg ? pg_col_count(st->pg) : sqlite3_column_count(st->lite);
}

const char *
db_col_name(struct db_stmt *st, int i)
{
	return st->pg ? pg_col_name(st->pg, i) : sqlite3_column_name(st->lite, i);
}

bool
db_col_is_blob(struct db_stmt *st, int i)
{
	return st->pg ? pg_col_is_blob(st->pg, i)
	              : sqlite3_column_type(st->lite, i) == SQLITE_BLOB;
}

const void *
db_col_blob(struct db_stmt *st, int i, int *len)
{
	if (st->pg)
		return pg_col_blob(st->pg, i, len);
	const void *p = sqlite3_column_blob(st->lite, i);
	*len = sqlite3_column_bytes(st->lite, i);
	return p;
}

enum db_status
db_sync_ids(struct db *db, const char *table, const char *column)
{
	return db->pg ? pg_sync_ids(db->pg, table, column) : DB_OK;
}

/* ---- Read snapshots ------------------------------------------------- */

enum db_status
db_snapshot_begin(struct db *db, bool *began)
{
	*began = autocommit(db);
	if (*began && db->pg) /* one committed state for every statement */
		return pg_exec(
		    db->pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	return *began ? db_exec_stmt(db, db_stmt(db, "BEGIN")) : DB_OK;
}

void
db_snapshot_end(struct db *db, bool began)
{
	if (!began)
		return;
	db_reset_all(db);
	if (db_exec_stmt(db, db_stmt(db, "COMMIT")) != DB_OK)
		raw(db, "ROLLBACK");
}

enum db_status
db_ping(struct db *db)
{
	if (db->pg)
		return pg_exec(db->pg, "SELECT 1");
	return db_exists(db, db_stmt(db, "SELECT count(*) FROM sqlite_schema"));
}
