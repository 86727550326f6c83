/*
 * marketctl --db SRC migrate-to DEST: copies a deployment from one
 * database to another, SQLite to PostgreSQL or back (issue 13). DEST is
 * made (or migrated) to this binary's schema and must hold no rows. Every
 * table is copied whole, its rows with their ids, in an order in which
 * every foreign key finds its row already there, inside one transaction
 * on DEST and one read snapshot of SRC: DEST gets all of it or nothing.
 * Then each identity moves past the ids copied (db_sync_ids), and the
 * same checks as `marketctl check` run on DEST.
 *
 * The copy goes through the engine-neutral interface: values are
 * integers, text, bytes (tokens.hash) or NULL on both engines, and
 * audit_log.object_id, an integer or a text id, keeps which it was
 * (db_bind_json).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "db/db.h"
#include "util.h"

/* Every table of the schema (version 12), each after the tables its
 * foreign keys name; with the column of its identity, if any.
 * pg.test_migrate_to checks that the list names every table. */
static const struct {
	const char *name;
	const char *id;
} tables[] = {
    {"regions", NULL},
    {"venues", "id"},
    {"institutions", "id"},
    {"users", "id"},
    {"tokens", NULL},
    {"login_failures", "id"},
    {"market_days", "id"},
    {"producers", "id"},
    {"stalls", "id"},
    {"orders", "id"},
    {"order_events", "id"},
    {"idempotency_keys", NULL},
    {"audit_log", "id"},
    {"products", "id"},
    {"price_history", "id"},
    {"sales", "seq"},
    {"sale_lines", NULL},
    {"order_lines", NULL},
    {"payments", NULL},
    {"report_day", NULL},
    {"report_product_day", NULL},
    {"report_product_month", NULL},
    {"report_region_day", NULL},
    {"institution_plans", NULL},
    {"payouts", "id"},
    {"lots", "id"},
    {"lot_draws", "id"},
    {"stock_movements", "id"},
    {"webhook_endpoints", "id"},
    {"webhook_events", "id"},
    {"webhook_deliveries", "id"},
    {"webhook_attempts", "id"},
    {"report_institution_year", NULL},
    {"report_market_day", NULL},
};

/* The statements' text: the databases cache statements by the address of
 * their text, so each stays allocated (and reachable) for good. */
static char *texts[3 * nitems(tables)];
static size_t ntexts;

static const char *
keep(char *sql)
{
	if (ntexts < nitems(texts))
		texts[ntexts++] = sql;
	return sql;
}

/* The INSERT of table t for the columns of src's current row. */
static const char *
insert_sql(const char *t, struct db_stmt *src)
{
	int n = db_col_count(src);
	size_t cap = 64 + strlen(t);
	for (int i = 0; i < n; i++)
		cap += strlen(db_col_name(src, i)) + 16;
	char *sql = xmalloc(cap);
	size_t len = (size_t)snprintf(sql, cap, "INSERT INTO %s (", t);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(
		    sql + len, cap - len, "%s%s", i ? ", " : "", db_col_name(src, i));
	len += (size_t)snprintf(sql + len, cap - len, ") VALUES (");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(
		    sql + len, cap - len, "%s?%d", i ? ", " : "", i + 1);
	snprintf(sql + len, cap - len, ")");
	return keep(sql);
}

/* Binds column i of src's row to parameter i + 1 of ins. */
static void
bind_value(struct db_stmt *ins, struct db_stmt *src, int i, bool json_id)
{
	if (db_col_is_null(src, i)) {
		db_bind_null(ins, i + 1);
	} else if (db_col_is_blob(src, i)) {
		int len = 0;
		const void *p = db_col_blob(src, i, &len);
		db_bind_blob(ins, i + 1, p, len);
	} else if (json_id) {
		json_t *v = db_col_is_int(src, i) ? json_integer(db_col_int64(src, i))
		                                  : json_string(db_col_text(src, i));
		db_bind_json(ins, i + 1, v);
		json_decref(v);
	} else if (db_col_is_int(src, i)) {
		db_bind_int64(ins, i + 1, db_col_int64(src, i));
	} else {
		db_bind_text(ins, i + 1, db_col_text(src, i));
	}
}

/* Copies table t; the rows copied, or -1 (said on stderr). */
static int64_t
copy_table(struct db *from, struct db *to, const char *t)
{
	struct db_stmt *sel = db_stmt(from, keep(xasprintf("SELECT * FROM %s", t)));
	const char *ins_sql = NULL;
	int64_t rows = 0;
	enum db_step_rc rc;
	if (db_bulk_begin(to) != DB_OK) {
		fprintf(stderr, "marketctl: migrate-to: cannot write %s\n", t);
		return -1;
	}
	while ((rc = db_step(sel)) == DB_ROW) {
		if (ins_sql == NULL)
			ins_sql = insert_sql(t, sel);
		struct db_stmt *ins = db_stmt(to, ins_sql);
		int n = db_col_count(sel);
		for (int i = 0; i < n; i++)
			bind_value(ins, sel, i,
			    strcmp(t, "audit_log") == 0 &&
			        strcmp(db_col_name(sel, i), "object_id") == 0);
		if (db_exec_stmt(to, ins) != DB_OK) {
			/* On PostgreSQL a refusal is seen some rows later. */
			fprintf(stderr,
			    "marketctl: migrate-to: a row of %s was refused (at or "
			    "before row %lld)\n",
			    t, (long long)rows + 1);
			db_reset(sel);
			db_bulk_end(to);
			return -1;
		}
		rows++;
	}
	db_reset(sel);
	if (db_bulk_end(to) != DB_OK) {
		fprintf(stderr, "marketctl: migrate-to: a row of %s was refused\n", t);
		return -1;
	}
	if (rc != DB_DONE) {
		fprintf(stderr, "marketctl: migrate-to: cannot read %s\n", t);
		return -1;
	}
	return rows;
}

static int64_t
count_rows(struct db *db, const char *t)
{
	struct db_stmt *st = db_stmt(db, keep(xasprintf("SELECT count(*) FROM %s", t)));
	int64_t n = db_step(st) == DB_ROW ? db_col_int64(st, 0) : -1;
	db_reset(st);
	return n;
}

int
ctl_migrate_to(struct db *from, const char *dest)
{
	char *err = NULL;
	struct db *to = db_open(dest, "full", &err);
	if (to == NULL) {
		fprintf(stderr, "marketctl: migrate-to: %s\n", err);
		free(err);
		return 1;
	}
	int rc = 1;
	if (db_schema_version(from) != db_schema_version(to)) {
		fprintf(stderr, "marketctl: migrate-to: the schemas differ (%d, %d)\n",
		    db_schema_version(from), db_schema_version(to));
		goto out;
	}
	for (size_t i = 0; i < nitems(tables); i++) {
		int64_t n = count_rows(to, tables[i].name);
		if (n != 0) {
			fprintf(stderr,
			    "marketctl: migrate-to: %s is not empty (%s: %lld rows); "
			    "copy "
			    "into a new database\n",
			    dest, tables[i].name, (long long)n);
			goto out;
		}
	}
	bool began = false;
	if (db_snapshot_begin(from, &began) != DB_OK || db_begin_write(to) != DB_OK) {
		fprintf(stderr, "marketctl: migrate-to: cannot begin\n");
		db_snapshot_end(from, began);
		goto out;
	}
	int64_t total = 0;
	for (size_t i = 0; i < nitems(tables); i++) {
		int64_t n = copy_table(from, to, tables[i].name);
		if (n < 0 || (tables[i].id != NULL && db_sync_ids(to, tables[i].name,
		                                          tables[i].id) != DB_OK)) {
			db_rollback(to);
			db_snapshot_end(from, began);
			goto out;
		}
		printf("%-24s %lld rows\n", tables[i].name, (long long)n);
		total += n;
	}
	db_snapshot_end(from, began);
	if (db_commit(to) != DB_OK) {
		fprintf(stderr,
		    "marketctl: migrate-to: the commit failed; nothing copied\n");
		goto out;
	}
	printf("copied %lld rows; checking the copy\n", (long long)total);
	rc = ctl_check(to);
out:
	db_close(to);
	return rc;
}
