/*
 * The PostgreSQL engine (see pg.h for what it does differently and why).
 */
#include "db/pg.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "embedded.h"
#include "log.h"
#include "util.h"

/* Advisory lock keys (any 64-bit numbers, the same in every marketd):
 * the write lock of BEGIN IMMEDIATE, and the one migrations hold. */
#define LOCK_WRITE 0x6d61726b657401ll   /* "market" 01 */
#define LOCK_MIGRATE 0x6d61726b657402ll /* "market" 02 */
#define SLOTS_MIN 256                   /* a power of two */

/* Type OIDs (pg_type.dat), for pg_col_is_int and jsonb text. */
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_NUMERIC 1700
#define OID_JSONB 3802
#define OID_BYTEA 17

struct pg_stmt {
	struct pg *pg;
	const char *sql; /* the literal the store gave (the cache's key) */
	char *text;      /* with $N placeholders, or the simple query */
	char name[24];   /* of the prepared statement */
	bool utility;    /* transaction control: a simple query, no parameters */
	bool writes;     /* INSERT, UPDATE or DELETE */
	bool insert;     /* an INSERT */
	bool returns_id; /* an INSERT given RETURNING its table's identity */
	bool prepared;   /* on the current connection */
	int nparams;
	unsigned *types; /* per parameter: 0 (inferred), or text for a number the
	                    SQL skips, which PostgreSQL cannot type */
	int cap;
	char **vals;
	int *lens;
	int *fmts;
	bool *owned;
	PGresult *res;
	bool ran;
	bool rows;             /* the result is a set of rows (a query) */
	int nrows, row;        /* row: the current one, -1 before the first */
	enum db_status status; /* of the last run */
	char **decoded;        /* per column: a jsonb string's text, decoded */
	int ndecoded;
};

struct slot {
	const char *sql;
	struct pg_stmt *st;
};

struct pg {
	PGconn *c;
	char *uri;
	struct slot *slots;
	size_t nslots, used;
	unsigned next_name;
	int changes;
	int64_t total_changes;
	bool dirty; /* the open transaction has run a writing statement */
	/* Bulk mode (pg_bulk_begin): statements queued in the pipeline
	 * whose results are not yet read, and whether one failed. */
	bool bulk;
	int queued;
	bool bulk_failed;
	/* The identity the last INSERT took, when it returned it (see
	 * pg_last_insert_id); the tables with one and its column. */
	int64_t last_id;
	bool has_last_id;
	char **identity; /* table, column, table, column, ..., NULL */
};

/* Statements a bulk pipeline holds before its results are read. */
#define BULK_QUEUE 1000

/*
 * The catalog's version across nodes (pg_data_version): every commit
 * that wrote sends NOTIFY market_changed with it (NOTIFY is delivered
 * when, and only if, its transaction commits), and one listener thread
 * a process bumps the version for each notification. A commit of this
 * process bumps it at once, before any reply of it is sent, so a client
 * reads its own writes on the node that made them; other nodes see the
 * change as soon as the notification arrives. While the listener is not
 * connected (starting, or reconnecting after PostgreSQL went away), the
 * version is never trusted: it changes on every call, so nothing is
 * cached.
 */
#define CHANNEL "market_changed"
static atomic_ullong catalog_version = 1;
static atomic_bool listening;
static pthread_once_t listener_once = PTHREAD_ONCE_INIT;
static char *listener_uri;

static void
bump(void)
{
	atomic_fetch_add(&catalog_version, 1);
}

bool
pg_is_uri(const char *path)
{
	return strncmp(path, "postgresql://", 13) == 0 ||
	       strncmp(path, "postgres://", 11) == 0;
}

static void
quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Runs a simple query (several statements allowed); false (logged)
 * when it fails. */
static bool
simple(struct pg *pg, const char *sql)
{
	PGresult *r = PQexec(pg->c, sql);
	ExecStatusType s = PQresultStatus(r);
	bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
	if (!ok)
		log_warn("db: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

/* The one integer a simple query answers, or fallback. */
static int64_t
simple_int(struct pg *pg, const char *sql, int64_t fallback)
{
	PGresult *r = PQexec(pg->c, sql);
	int64_t v = fallback;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

bool
pg_in_transaction(struct pg *pg)
{
	PGTransactionStatusType t = PQtransactionStatus(pg->c);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

bool
pg_unreachable(struct pg *pg)
{
	return PQstatus(pg->c) != CONNECTION_OK;
}

int
pg_schema_version(struct pg *pg)
{
	if (simple_int(pg,
	        "SELECT count(*) FROM pg_class WHERE oid = "
	        "to_regclass('schema_version')",
	        0) == 0)
		return 0;
	return (int)simple_int(pg, "SELECT version FROM schema_version", -1);
}

int
pg_peek_schema_version(const char *uri)
{
	struct pg pg = {.c = PQconnectdb(uri)};
	int v = -1;
	if (pg.c != NULL && PQstatus(pg.c) == CONNECTION_OK) {
		PQsetNoticeProcessor(pg.c, quiet_notice, NULL);
		v = pg_schema_version(&pg);
	}
	if (pg.c != NULL)
		PQfinish(pg.c);
	return v;
}

/*
 * The migrations of schema/pg the database lacks, under a session lock
 * so that nodes starting together migrate one after the other. A new
 * database is made by the baseline (the first file); each later one
 * runs in its own transaction and moves schema_version.
 */
static int
migrate(struct pg *pg, int known, bool may_migrate, bool *outdated, char **err)
{
	char lock[96];
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%lld)", LOCK_MIGRATE);
	if (!simple(pg, lock)) {
		*err = xstrdup("PostgreSQL: cannot take the migration lock");
		return -1;
	}
	int result = -1;
	int have = pg_schema_version(pg);
	if (have == 0 && simple_int(pg,
	                     "SELECT count(*) FROM pg_tables "
	                     "WHERE schemaname = current_schema()",
	                     0) > 0) {
		*err = xstrdup("PostgreSQL: the database has tables but no "
		               "schema_version: not a marketd database");
		goto out;
	}
	if (have > known) {
		*err = xasprintf("database schema version %d is newer than this "
		                 "marketd knows (%d): use a newer marketd",
		    have, known);
		goto out;
	}
	if (!may_migrate && have > 0 && have < known) {
		*outdated = true;
		*err = xasprintf("database schema version %d is older than this "
		                 "tool's (%d): run `marketctl --db URI migrate` "
		                 "(with every marketd stopped), or start the new "
		                 "marketd, which migrates at start",
		    have, known);
		goto out;
	}
	for (const struct embedded_file *m = embedded_pg_migrations; m->name; m++) {
		int n = atoi(m->name);
		if (n <= have)
			continue;
		bool baseline = have == 0;
		char *sql = baseline ? xasprintf("BEGIN;\n%s\n;COMMIT;", m->data)
		                     : xasprintf("BEGIN;\n%s\n;UPDATE schema_version "
		                                 "SET version = %d;COMMIT;",
		                           m->data, n);
		bool ok = simple(pg, sql);
		free(sql);
		if (!ok) {
			simple(pg, "ROLLBACK");
			*err = xasprintf("migration pg/%s failed: %s", m->name,
			    PQerrorMessage(pg->c));
			goto out;
		}
		log_info("database migrated to pg/%s", m->name);
		have = pg_schema_version(pg);
	}
	if (have != known) {
		*err = xasprintf("PostgreSQL: this marketd has no migration from "
		                 "version %d to %d in schema/pg",
		    have, known);
		goto out;
	}
	result = 0;
out:
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_unlock(%lld)", LOCK_MIGRATE);
	simple(pg, lock);
	return result;
}

/* db_schema_version_known(): SQLite's list (db.c); the pairs keep them
 * equal. */
int db_schema_version_known(void);

/* Which tables have an identity column, and its name: their INSERTs
 * return it (RETURNING), which saves the round trip of lastval(). */
static void
load_identities(struct pg *pg)
{
	PGresult *r = PQexec(pg->c,
	    "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON "
	    "c.oid = a.attrelid WHERE a.attidentity <> '' AND c.relnamespace = "
	    "current_schema()::regnamespace AND NOT a.attisdropped");
	int n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : 0;
	pg->identity = xcalloc((size_t)(2 * n + 1), sizeof(*pg->identity));
	for (int i = 0; i < n; i++) {
		pg->identity[2 * i] = xstrdup(PQgetvalue(r, i, 0));
		pg->identity[2 * i + 1] = xstrdup(PQgetvalue(r, i, 1));
	}
	PQclear(r);
}

/* The identity column of the table an INSERT names, or NULL. */
static const char *
identity_of(const struct pg *pg, const char *sql)
{
	const char *p = sql;
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "INSERT INTO ", 12) != 0 || pg->identity == NULL)
		return NULL;
	p += 12;
	while (isspace((unsigned char)*p))
		p++;
	size_t n = strcspn(p, " \t\n(");
	for (char **t = pg->identity; *t != NULL; t += 2)
		if (strlen(*t) == n && strncmp(*t, p, n) == 0)
			return t[1];
	return NULL;
}

struct pg *
pg_open(const char *uri, bool may_migrate, bool *outdated, char **err)
{
	struct pg *pg = xcalloc(1, sizeof(*pg));
	pg->uri = xstrdup(uri);
	pg->nslots = SLOTS_MIN;
	pg->slots = xcalloc(pg->nslots, sizeof(*pg->slots));
	pg->c = PQconnectdb(uri);
	if (pg->c == NULL || PQstatus(pg->c) != CONNECTION_OK) {
		const char *m = pg->c ? PQerrorMessage(pg->c) : "out of memory";
		*err = xasprintf(
		    "cannot connect to PostgreSQL: %.*s", (int)strcspn(m, "\n"), m);
		pg_close(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg->c, quiet_notice, NULL);
	/* A commit that returned is on disk, whatever the server's default;
	 * text comes and goes as UTF-8, as the API's. */
	if (!simple(pg, "SET synchronous_commit = on; SET client_encoding = 'UTF8';"
	                "SET standard_conforming_strings = on; SET TIME ZONE 'UTC'")) {
		*err = xstrdup("PostgreSQL: cannot set the session's settings");
		pg_close(pg);
		return NULL;
	}
	if (migrate(pg, db_schema_version_known(), may_migrate, outdated, err) < 0) {
		pg_close(pg);
		return NULL;
	}
	load_identities(pg);
	return pg;
}

static void
clear_bindings(struct pg_stmt *st)
{
	for (int i = 0; i < st->cap; i++) {
		if (st->owned[i])
			free(st->vals[i]);
		st->vals[i] = NULL;
		st->owned[i] = false;
		st->lens[i] = 0;
		st->fmts[i] = 0;
	}
}

static void
clear_decoded(struct pg_stmt *st)
{
	for (int i = 0; i < st->ndecoded; i++) {
		free(st->decoded[i]);
		st->decoded[i] = NULL;
	}
}

void
pg_reset(struct pg_stmt *st)
{
	if (st == NULL)
		return;
	PQclear(st->res);
	st->res = NULL;
	st->ran = false;
	st->rows = false;
	st->nrows = 0;
	st->row = -1;
	clear_decoded(st);
}

static void
stmt_free(struct pg_stmt *st)
{
	pg_reset(st);
	clear_bindings(st);
	free(st->vals);
	free(st->lens);
	free(st->fmts);
	free(st->owned);
	free(st->decoded);
	free(st->types);
	free(st->text);
	free(st);
}

void
pg_close(struct pg *pg)
{
	if (pg == NULL)
		return;
	for (size_t i = 0; i < pg->nslots; i++)
		if (pg->slots[i].st != NULL)
			stmt_free(pg->slots[i].st);
	free(pg->slots);
	if (pg->c != NULL)
		PQfinish(pg->c);
	for (char **t = pg->identity; t != NULL && *t != NULL; t++)
		free(*t);
	free(pg->identity);
	free(pg->uri);
	free(pg);
}

/* A ROLLBACK of the whole transaction (not ROLLBACK TO a savepoint). */
static bool
ends_transaction(const char *sql)
{
	while (isspace((unsigned char)*sql))
		sql++;
	if (strncasecmp(sql, "ROLLBACK", 8) != 0)
		return false;
	sql += 8;
	while (isspace((unsigned char)*sql))
		sql++;
	return strncasecmp(sql, "TO", 2) != 0;
}

enum db_status
pg_exec(struct pg *pg, const char *sql)
{
	bool ok = simple(pg, sql);
	if (ends_transaction(sql))
		pg->dirty = false;
	return ok ? DB_OK : DB_ERROR;
}

int64_t
pg_total_changes(struct pg *pg)
{
	return pg->total_changes;
}

int
pg_changes(struct pg *pg)
{
	return pg->changes;
}

int64_t
pg_last_insert_id(struct pg *pg)
{
	/* The identity the last INSERT of this session took (the store asks
	 * right after one): returned by the INSERT itself when its table has
	 * one, else asked for. */
	if (pg->has_last_id)
		return pg->last_id;
	return simple_int(pg, "SELECT lastval()", 0);
}

/* Whether s starts with the keyword k (case-insensitive, then a
 * non-letter). */
static bool
starts_with_word(const char *s, const char *k)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(k);
	return strncasecmp(s, k, n) == 0 && !isalpha((unsigned char)s[n]);
}

/*
 * SQLite's SQL as PostgreSQL takes it: ?N placeholders become $N (a bare
 * ? the next number, as SQLite numbers it), outside quotes; sets
 * *nparams to the highest.
 */
static char *
translate(const char *sql, int *nparams, unsigned **types)
{
	size_t n = strlen(sql);
	char *out = xmalloc(n * 2 + 1), *o = out;
	int max = 0;
	bool used[1000] = {false};
	char quote = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			*o++ = *p;
			if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			*o++ = *p;
			continue;
		}
		if (*p != '?') {
			*o++ = *p;
			continue;
		}
		int k = 0;
		const char *q = p + 1;
		while (isdigit((unsigned char)*q))
			k = k * 10 + (*q++ - '0');
		if (q == p + 1)
			k = max + 1;
		if (k > max)
			max = k;
		if (k < (int)nitems(used))
			used[k] = true;
		o += sprintf(o, "$%d", k);
		p = q - 1;
	}
	*o = '\0';
	*nparams = max;
	*types = xcalloc(max > 0 ? (size_t)max : 1, sizeof(**types));
	for (int k = 1; k <= max; k++)
		if (k >= (int)nitems(used) || !used[k])
			(*types)[k - 1] = 25; /* text */
	return out;
}

static struct slot *
slot_find(struct slot *slots, size_t nslots, const char *sql)
{
	size_t h = (size_t)hash_bytes(HASH_INIT, &sql, sizeof(sql));
	for (size_t n = 0;; n++) {
		struct slot *s = &slots[(h + n) & (nslots - 1)];
		if (s->sql == sql || s->sql == NULL)
			return s;
	}
}

static void
slots_grow(struct pg *pg)
{
	size_t n = pg->nslots * 2;
	struct slot *slots = xcalloc(n, sizeof(*slots));
	for (size_t i = 0; i < pg->nslots; i++)
		if (pg->slots[i].sql != NULL)
			*slot_find(slots, n, pg->slots[i].sql) = pg->slots[i];
	free(pg->slots);
	pg->slots = slots;
	pg->nslots = n;
}

static void
ensure_params(struct pg_stmt *st, int n)
{
	if (n <= st->cap)
		return;
	st->vals = xrealloc(st->vals, n * sizeof(*st->vals));
	st->lens = xrealloc(st->lens, n * sizeof(*st->lens));
	st->fmts = xrealloc(st->fmts, n * sizeof(*st->fmts));
	st->owned = xrealloc(st->owned, n * sizeof(*st->owned));
	for (int i = st->cap; i < n; i++) {
		st->vals[i] = NULL;
		st->lens[i] = st->fmts[i] = 0;
		st->owned[i] = false;
	}
	st->cap = n;
}

static struct pg_stmt *
stmt_new(struct pg *pg, const char *sql)
{
	struct pg_stmt *st = xcalloc(1, sizeof(*st));
	st->pg = pg;
	st->sql = sql;
	st->row = -1;
	if (starts_with_word(sql, "BEGIN")) {
		st->utility = true;
		/* IMMEDIATE: the write lock (see pg.h) */
		if (strstr(sql, "IMMEDIATE") != NULL)
			st->text = xasprintf(
			    "BEGIN; SELECT pg_advisory_xact_lock(%lld)", LOCK_WRITE);
		else
			st->text = xstrdup("BEGIN");
	} else if (starts_with_word(sql, "COMMIT") || starts_with_word(sql, "END") ||
	           starts_with_word(sql, "ROLLBACK") ||
	           starts_with_word(sql, "SAVEPOINT") ||
	           starts_with_word(sql, "RELEASE")) {
		st->utility = true;
		st->text = xstrdup(sql);
	} else {
		st->text = translate(sql, &st->nparams, &st->types);
		st->writes = starts_with_word(sql, "INSERT") ||
		             starts_with_word(sql, "UPDATE") ||
		             starts_with_word(sql, "DELETE") ||
		             starts_with_word(sql, "WITH");
		st->insert = starts_with_word(sql, "INSERT");
		/* An upsert's UPDATE takes no new id (nor does it on SQLite). */
		const char *id = identity_of(pg, sql);
		if (id != NULL && strstr(sql, "RETURNING") == NULL &&
		    strstr(sql, "ON CONFLICT") == NULL) {
			char *t = xasprintf("%s RETURNING %s", st->text, id);
			free(st->text);
			st->text = t;
			st->returns_id = true;
		}
		snprintf(st->name, sizeof(st->name), "m%u", pg->next_name++);
	}
	ensure_params(st, st->nparams > 0 ? st->nparams : 1);
	return st;
}

struct pg_stmt *
pg_stmt(struct pg *pg, const char *sql)
{
	struct slot *s = slot_find(pg->slots, pg->nslots, sql);
	if (s->sql == sql) {
		pg_reset(s->st);
		clear_bindings(s->st);
		return s->st;
	}
	if ((pg->used + 1) * 4 > pg->nslots * 3) {
		slots_grow(pg);
		s = slot_find(pg->slots, pg->nslots, sql);
	}
	s->sql = sql;
	s->st = stmt_new(pg, sql);
	pg->used++;
	return s->st;
}

void
pg_reset_all(struct pg *pg)
{
	for (size_t i = 0; i < pg->nslots; i++)
		if (pg->slots[i].st != NULL)
			pg_reset(pg->slots[i].st);
}

/* A lost connection outside a transaction is made again (every
 * statement is prepared anew on it); inside one, the transaction is
 * gone with it and its statements fail until it ends. */
static void
reconnect_if_lost(struct pg *pg)
{
	if (PQstatus(pg->c) != CONNECTION_BAD)
		return;
	PQreset(pg->c);
	if (PQstatus(pg->c) != CONNECTION_OK)
		return;
	PQsetNoticeProcessor(pg->c, quiet_notice, NULL);
	simple(pg, "SET synchronous_commit = on; SET client_encoding = 'UTF8';"
	           "SET standard_conforming_strings = on; SET TIME ZONE 'UTC'");
	for (size_t i = 0; i < pg->nslots; i++)
		if (pg->slots[i].st != NULL)
			pg->slots[i].st->prepared = false;
	log_info("db: reconnected to PostgreSQL");
}

/* What a failed result means to the store. */
static enum db_status
classify(const PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	/* Class 23 (integrity constraint violation); 22003, a value out of
	 * bigint's range, is what SQLite's integer-only CHECKs refuse. */
	if (state != NULL &&
	    (strncmp(state, "23", 2) == 0 || strcmp(state, "22003") == 0))
		return DB_CONSTRAINT;
	log_warn("db: %s", r != NULL ? PQresultErrorMessage(r) : "no result");
	return DB_ERROR;
}

/*
 * st run inside a savepoint of its own, so that its failure (a
 * constraint the store expects, such as a sale id already taken) undoes
 * the statement only, as on SQLite, not the whole transaction. SAVEPOINT,
 * the statement and RELEASE go in one round trip (libpq's pipeline
 * mode); only a failure costs a second one, to roll back to the
 * savepoint. Returns the statement's result (NULL when the connection
 * failed before it).
 */
static PGresult *
exec_guarded(struct pg *pg, struct pg_stmt *st)
{
	PGconn *c = pg->c;
	if (PQenterPipelineMode(c) != 1)
		return NULL;
	bool sent = PQsendQueryParams(
	                c, "SAVEPOINT pg_statement", 0, NULL, NULL, NULL, NULL, 0) &&
	            PQsendQueryPrepared(c, st->name, st->nparams,
	                (const char *const *)st->vals, st->lens, st->fmts, 0) &&
	            PQsendQueryParams(
	                c, "RELEASE pg_statement", 0, NULL, NULL, NULL, NULL, 0) &&
	            PQpipelineSync(c);
	/* The results come query by query, each followed by a NULL, then
	 * the sync's; a lost connection ends them early. */
	PGresult *res = NULL;
	bool ok = false;
	int query = 0, nulls = 0;
	while (sent) {
		PGresult *r = PQgetResult(c);
		if (r == NULL) {
			query++;
			if (PQstatus(c) != CONNECTION_OK || ++nulls > 8)
				break;
			continue;
		}
		nulls = 0;
		ExecStatusType s = PQresultStatus(r);
		if (s == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (query == 1 && res == NULL) {
			res = r;
			ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
		} else {
			if (s == PGRES_FATAL_ERROR)
				log_warn("db: %s", PQresultErrorMessage(r));
			PQclear(r);
		}
	}
	PQexitPipelineMode(c);
	if (!ok && PQstatus(c) == CONNECTION_OK)
		simple(pg, "ROLLBACK TO pg_statement; RELEASE pg_statement");
	return res;
}

/* Runs st once (its whole result kept): sets st->status. */
static void
run(struct pg_stmt *st)
{
	struct pg *pg = st->pg;
	st->ran = true;
	st->row = -1;
	if (!pg_in_transaction(pg))
		reconnect_if_lost(pg);
	if (st->utility) {
		bool commit = starts_with_word(st->sql, "COMMIT") ||
		              starts_with_word(st->sql, "END");
		bool ends = commit || ends_transaction(st->sql);
		if (commit && pg->dirty)
			st->res = PQexec(pg->c, "NOTIFY " CHANNEL "; COMMIT");
		else
			st->res = PQexec(pg->c, st->text);
		if (ends) {
			ExecStatusType r = PQresultStatus(st->res);
			if (commit && pg->dirty && r == PGRES_COMMAND_OK)
				bump();
			pg->dirty = false;
		}
	} else {
		if (!st->prepared) {
			PGresult *p = PQprepare(
			    pg->c, st->name, st->text, st->nparams, st->types);
			bool ok = PQresultStatus(p) == PGRES_COMMAND_OK;
			if (!ok)
				log_warn("db: cannot prepare %s: %s", st->sql,
				    PQresultErrorMessage(p));
			PQclear(p);
			if (!ok) {
				st->status = DB_ERROR;
				return;
			}
			st->prepared = true;
		}
		/* In a transaction, a writing statement that fails must not
		 * take the transaction with it (as on SQLite). */
		if (st->writes && pg_in_transaction(pg))
			st->res = exec_guarded(pg, st);
		else
			st->res = PQexecPrepared(pg->c, st->name, st->nparams,
			    (const char *const *)st->vals, st->lens, st->fmts, 0);
	}
	ExecStatusType s = PQresultStatus(st->res);
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
		st->status = DB_OK;
		st->rows = s == PGRES_TUPLES_OK && PQnfields(st->res) > 0;
		st->nrows = st->rows ? PQntuples(st->res) : 0;
		if (st->returns_id) {
			/* Its RETURNING is ours, not the store's: no rows to it.
			 * The last row's id, as SQLite's last_insert_rowid. */
			if (st->nrows > 0) {
				pg->last_id = strtoll(
				    PQgetvalue(st->res, st->nrows - 1, 0), NULL, 10);
				pg->has_last_id = true;
			}
			st->rows = false;
			st->nrows = 0;
		} else if (st->insert) {
			pg->has_last_id = false; /* lastval() knows */
		}
		if (st->writes) {
			const char *n = PQcmdTuples(st->res);
			pg->changes = n[0] ? atoi(n) : 0;
			pg->total_changes += pg->changes;
			if (pg_in_transaction(pg))
				pg->dirty = true;
			else if (pg->changes > 0 && simple(pg, "NOTIFY " CHANNEL))
				bump(); /* a write outside a transaction */
		}
	} else {
		st->status = classify(st->res);
	}
}

enum db_step_rc
pg_step(struct pg_stmt *st)
{
	if (!st->ran)
		run(st);
	if (st->status != DB_OK)
		return DB_STEP_ERROR;
	if (st->row + 1 < st->nrows) {
		st->row++;
		clear_decoded(st);
		return DB_ROW;
	}
	st->row = st->nrows;
	return DB_DONE;
}

enum db_status
pg_step_one(struct pg_stmt *st)
{
	enum db_step_rc rc = pg_step(st);
	if (rc == DB_STEP_ERROR)
		return st->status;
	if (rc == DB_DONE && st->rows)
		return DB_NOT_FOUND;
	return DB_OK;
}

/* Reads the results of every statement queued in the bulk pipeline. */
static void
bulk_collect(struct pg *pg)
{
	if (pg->queued == 0)
		return;
	if (!PQpipelineSync(pg->c)) {
		pg->bulk_failed = true;
		return;
	}
	int nulls = 0;
	for (;;) {
		PGresult *r = PQgetResult(pg->c);
		if (r == NULL) {
			if (PQstatus(pg->c) != CONNECTION_OK ||
			    ++nulls > 2 * BULK_QUEUE + 8) {
				pg->bulk_failed = true;
				break;
			}
			continue;
		}
		ExecStatusType s = PQresultStatus(r);
		if (s == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
			const char *n = PQcmdTuples(r);
			pg->total_changes += n[0] ? atoi(n) : 0;
		} else if (s != PGRES_PIPELINE_ABORTED) {
			log_warn("db: %s", PQresultErrorMessage(r));
			pg->bulk_failed = true;
		} else {
			pg->bulk_failed = true;
		}
		PQclear(r);
	}
	pg->queued = 0;
}

enum db_status
pg_bulk_begin(struct pg *pg)
{
	if (!pg_in_transaction(pg) || PQenterPipelineMode(pg->c) != 1)
		return DB_ERROR;
	pg->bulk = true;
	pg->queued = 0;
	pg->bulk_failed = false;
	return DB_OK;
}

enum db_status
pg_bulk_end(struct pg *pg)
{
	if (!pg->bulk)
		return DB_ERROR;
	bulk_collect(pg);
	PQexitPipelineMode(pg->c);
	pg->bulk = false;
	return pg->bulk_failed ? DB_ERROR : DB_OK;
}

/* st queued in the bulk pipeline: DB_OK, or DB_ERROR once any queued
 * statement failed (the transaction is then lost: see pg_bulk_begin). */
static enum db_status
bulk_exec(struct pg_stmt *st)
{
	struct pg *pg = st->pg;
	if (pg->bulk_failed)
		return DB_ERROR;
	if (!st->prepared) {
		/* Prepared outside the pipeline, once per statement. */
		bulk_collect(pg);
		PQexitPipelineMode(pg->c);
		PGresult *p =
		    PQprepare(pg->c, st->name, st->text, st->nparams, st->types);
		st->prepared = PQresultStatus(p) == PGRES_COMMAND_OK;
		if (!st->prepared)
			log_warn("db: cannot prepare %s: %s", st->sql,
			    PQresultErrorMessage(p));
		PQclear(p);
		if (PQenterPipelineMode(pg->c) != 1 || !st->prepared) {
			pg->bulk_failed = true;
			return DB_ERROR;
		}
	}
	if (!PQsendQueryPrepared(pg->c, st->name, st->nparams,
	        (const char *const *)st->vals, st->lens, st->fmts, 0)) {
		pg->bulk_failed = true;
		return DB_ERROR;
	}
	pg->dirty = true;
	if (++pg->queued >= BULK_QUEUE)
		bulk_collect(pg);
	return pg->bulk_failed ? DB_ERROR : DB_OK;
}

enum db_status
pg_exec_stmt(struct pg_stmt *st)
{
	if (st->pg->bulk && st->writes) {
		enum db_status s = bulk_exec(st);
		pg_reset(st);
		return s;
	}
	if (!st->ran)
		run(st);
	enum db_status s = st->status;
	pg_reset(st);
	return s;
}

enum db_status
pg_exists(struct pg_stmt *st)
{
	enum db_status s = pg_step_one(st);
	pg_reset(st);
	return s;
}

enum db_status
pg_status(struct pg_stmt *st)
{
	return st->status;
}

static void
set_param(struct pg_stmt *st, int i, char *v, int len, int fmt, bool owned)
{
	if (i < 1)
		return;
	ensure_params(st, i);
	if (st->owned[i - 1])
		free(st->vals[i - 1]);
	st->vals[i - 1] = v;
	st->lens[i - 1] = len;
	st->fmts[i - 1] = fmt;
	st->owned[i - 1] = owned;
	if (i > st->nparams && !st->utility)
		log_warn("db: parameter %d bound beyond the %d of %s", i, st->nparams,
		    st->sql);
}

void
pg_bind_int64(struct pg_stmt *st, int i, int64_t v)
{
	set_param(st, i, xasprintf("%lld", (long long)v), 0, 0, true);
}

void
pg_bind_null(struct pg_stmt *st, int i)
{
	set_param(st, i, NULL, 0, 0, false);
}

void
pg_bind_text(struct pg_stmt *st, int i, const char *s, bool copy)
{
	if (s == NULL)
		pg_bind_null(st, i);
	else
		set_param(st, i, copy ? xstrdup(s) : (char *)s, 0, 0, copy);
}

void
pg_bind_text_owned(struct pg_stmt *st, int i, char *s)
{
	if (s == NULL)
		pg_bind_null(st, i);
	else
		set_param(st, i, s, 0, 0, true);
}

void
pg_bind_blob(struct pg_stmt *st, int i, const void *p, int n, bool copy)
{
	char *v = (char *)p;
	if (copy) {
		v = xmalloc(n > 0 ? (size_t)n : 1);
		if (n > 0)
			memcpy(v, p, (size_t)n);
	}
	set_param(st, i, v, n, 1, copy); /* binary: bytea */
}

static bool
has_value(struct pg_stmt *st, int i)
{
	return st->res != NULL && st->row >= 0 && st->row < st->nrows && i >= 0 &&
	       i < PQnfields(st->res) && !PQgetisnull(st->res, st->row, i);
}

int64_t
pg_col_int64(struct pg_stmt *st, int i)
{
	if (!has_value(st, i))
		return 0;
	const char *v = PQgetvalue(st->res, st->row, i);
	if (strcmp(v, "t") == 0)
		return 1;
	if (strcmp(v, "f") == 0)
		return 0;
	errno = 0;
	long long n = strtoll(v, NULL, 10);
	if (errno == ERANGE)
		log_warn("db: %s leaves 64 bits (column %d of %s)", v, i, st->sql);
	return n;
}

/* One slot a column in st->decoded, for values decoded from their text
 * form (a jsonb string, bytea), freed at the next row. */
static void
decoded_slots(struct pg_stmt *st)
{
	int n = PQnfields(st->res);
	if (st->ndecoded >= n)
		return;
	st->decoded = xrealloc(st->decoded, n * sizeof(*st->decoded));
	for (int k = st->ndecoded; k < n; k++)
		st->decoded[k] = NULL;
	st->ndecoded = n;
}

const char *
pg_col_text(struct pg_stmt *st, int i)
{
	if (!has_value(st, i))
		return NULL;
	const char *v = PQgetvalue(st->res, st->row, i);
	if (PQftype(st->res, i) != OID_JSONB || v[0] != '"')
		return v;
	/* A jsonb string (audit_log.object_id): its text, as SQLite holds it. */
	decoded_slots(st);
	if (st->decoded[i] == NULL) {
		json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
		st->decoded[i] = xstrdup(json_is_string(j) ? json_string_value(j) : v);
		json_decref(j);
	}
	return st->decoded[i];
}

bool
pg_col_is_null(struct pg_stmt *st, int i)
{
	return !has_value(st, i);
}

bool
pg_col_is_int(struct pg_stmt *st, int i)
{
	if (!has_value(st, i))
		return false;
	const char *v = PQgetvalue(st->res, st->row, i);
	switch (PQftype(st->res, i)) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return true;
	case OID_NUMERIC:
		return strchr(v, '.') == NULL;
	case OID_JSONB:
		return v[0] == '-' || isdigit((unsigned char)v[0]);
	default:
		return false;
	}
}

/* The listener thread (see catalog_version above). */
static void *
listener_main(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		PGconn *c = PQconnectdb(listener_uri);
		PGresult *r = NULL;
		if (c != NULL && PQstatus(c) == CONNECTION_OK)
			r = PQexec(c, "LISTEN " CHANNEL);
		if (r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK) {
			/* Commits before the LISTEN were not heard: whatever
			 * was cached before now is stale. */
			bump();
			atomic_store(&listening, true);
			for (;;) {
				struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
				if (poll(&p, 1, 1000) < 0 && errno != EINTR)
					break;
				if (!PQconsumeInput(c))
					break;
				PGnotify *n;
				while ((n = PQnotifies(c)) != NULL) {
					bump();
					PQfreemem(n);
				}
			}
			atomic_store(&listening, false);
			bump();
			log_warn("db: lost the PostgreSQL notifications; "
			         "nothing is cached until they are back");
		}
		PQclear(r);
		if (c != NULL)
			PQfinish(c);
		sleep(1);
	}
	return NULL;
}

static void
listener_start(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, listener_main, NULL) == 0)
		pthread_detach(t);
	else
		log_warn("db: cannot start the PostgreSQL listener; nothing is cached");
}

uint64_t
pg_data_version(struct pg *pg)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&mu);
	if (listener_uri == NULL)
		listener_uri = xstrdup(pg->uri); /* once, before the thread */
	pthread_mutex_unlock(&mu);
	pthread_once(&listener_once, listener_start);
	if (!atomic_load(&listening))
		return atomic_fetch_add(&catalog_version, 1) + 1;
	return atomic_load(&catalog_version);
}

int
pg_col_count(struct pg_stmt *st)
{
	return st->res != NULL ? PQnfields(st->res) : 0;
}

const char *
pg_col_name(struct pg_stmt *st, int i)
{
	return st->res != NULL && i >= 0 && i < PQnfields(st->res) ? PQfname(st->res, i)
	                                                           : NULL;
}

bool
pg_col_is_blob(struct pg_stmt *st, int i)
{
	return has_value(st, i) && PQftype(st->res, i) == OID_BYTEA;
}

const void *
pg_col_blob(struct pg_stmt *st, int i, int *len)
{
	*len = 0;
	if (!pg_col_is_blob(st, i))
		return NULL;
	/* The text form (\x and hex), decoded into the column's slot of
	 * the row's decoded values. */
	decoded_slots(st);
	free(st->decoded[i]);
	size_t n = 0;
	unsigned char *raw =
	    PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, i), &n);
	st->decoded[i] = xmalloc(n > 0 ? n : 1);
	if (raw != NULL) {
		memcpy(st->decoded[i], raw, n);
		PQfreemem(raw);
	}
	*len = (int)n;
	return st->decoded[i];
}

enum db_status
pg_sync_ids(struct pg *pg, const char *table, const char *column)
{
	char *t = PQescapeIdentifier(pg->c, table, strlen(table));
	char *c = PQescapeIdentifier(pg->c, column, strlen(column));
	char *tl = PQescapeLiteral(pg->c, table, strlen(table));
	char *cl = PQescapeLiteral(pg->c, column, strlen(column));
	enum db_status s = DB_ERROR;
	if (t && c && tl && cl) {
		/* A column that is no identity has no sequence: nothing to do. */
		char *sql = xasprintf(
		    "SELECT setval(s, coalesce((SELECT max(%s) FROM %s), 0) + 1, "
		    "false) FROM pg_get_serial_sequence(%s, %s) AS s "
		    "WHERE s IS NOT NULL",
		    c, t, tl, cl);
		s = pg_exec(pg, sql);
		free(sql);
	}
	PQfreemem(t);
	PQfreemem(c);
	PQfreemem(tl);
	PQfreemem(cl);
	return s;
}
