/*
 * marketctl import-products FILE.csv: products from a spreadsheet. The
 * header row names the columns (any order): name, category, unit,
 * price_fen, stock, producer_id, and optionally certified,
 * certificate_no, description. Every row is checked by the same rules as
 * the API (store/products.c); one bad row and nothing is imported.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "ctl/ctl.h"
#include "db/db.h"
#include "store/products.h"
#include "util.h"

#define MAX_FILE (64 * 1024 * 1024)

enum column {
	COL_NAME,
	COL_CATEGORY,
	COL_UNIT,
	COL_PRICE_FEN,
	COL_STOCK,
	COL_PRODUCER_ID,
	COL_CERTIFIED,
	COL_CERTIFICATE_NO,
	COL_DESCRIPTION,
	COL_COUNT
};

static const struct {
	const char *name;
	bool required;
} columns[COL_COUNT] = {
    [COL_NAME] = {"name", true},
    [COL_CATEGORY] = {"category", true},
    [COL_UNIT] = {"unit", true},
    [COL_PRICE_FEN] = {"price_fen", true},
    [COL_STOCK] = {"stock", true},
    [COL_PRODUCER_ID] = {"producer_id", true},
    [COL_CERTIFIED] = {"certified", false},
    [COL_CERTIFICATE_NO] = {"certificate_no", false},
    [COL_DESCRIPTION] = {"description", false},
};

/* The file's contents (caller frees), or NULL with a message printed. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "marketctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *buf = xmalloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			if (cap >= MAX_FILE) {
				fprintf(stderr, "marketctl: %s: larger than 64 MiB\n",
				    path);
				goto out;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "marketctl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	fclose(f);
	*len = n;
	return buf;
out:
	fclose(f);
	free(buf);
	return NULL;
}

/* A decimal integer, optionally signed ('+' as well as '-'), and
 * nothing else. */
static bool
parse_int(const char *s, int64_t *out)
{
	if (s[0] == '+' && s[1] >= '0' && s[1] <= '9')
		s++;
	return parse_int64(s, out);
}

static bool
parse_bool(const char *s, bool *out)
{
	if (*s == '\0' || strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
		*out = false;
		return true;
	}
	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
		*out = true;
		return true;
	}
	return false;
}

/* Maps each header field to its column into col_of[]; false with a
 * message printed when a column is unknown, repeated or missing. */
static bool
read_header(const char *path, const struct csv_record *h, int *col_of)
{
	bool seen[COL_COUNT] = {0}, ok = true;
	for (size_t i = 0; i < h->n; i++) {
		col_of[i] = -1;
		for (int c = 0; c < COL_COUNT; c++)
			if (strcmp(h->fields[i], columns[c].name) == 0)
				col_of[i] = c;
		if (col_of[i] < 0) {
			fprintf(stderr, "%s:%zu: column %s: is not a product column\n",
			    path, h->line, h->fields[i]);
			ok = false;
		} else if (seen[col_of[i]]) {
			fprintf(stderr, "%s:%zu: column %s: appears twice\n", path,
			    h->line, h->fields[i]);
			ok = false;
		} else {
			seen[col_of[i]] = true;
		}
	}
	for (int c = 0; c < COL_COUNT; c++)
		if (columns[c].required && !seen[c]) {
			fprintf(stderr,
			    "%s:%zu: column %s: is missing from the header\n", path,
			    h->line, columns[c].name);
			ok = false;
		}
	return ok;
}

/* The row's fields into *p; false with a message printed. The strings
 * borrow from rec. */
static bool
read_row(const char *path, const struct csv_record *rec, const int *col_of,
    struct product_in *p)
{
	*p = (struct product_in){.active = true};
	for (size_t i = 0; i < rec->n; i++) {
		const char *v = rec->fields[i], *why = NULL;
		switch (col_of[i]) {
		case COL_NAME:
			p->name = v;
			break;
		case COL_CATEGORY:
			p->category = v;
			break;
		case COL_UNIT:
			p->unit = v;
			break;
		case COL_PRICE_FEN:
			if (!parse_int(v, &p->price_fen))
				why = *v ? "must be an integer" : "is required";
			break;
		case COL_STOCK:
			if (!parse_int(v, &p->stock))
				why = *v ? "must be an integer" : "is required";
			break;
		case COL_PRODUCER_ID:
			if (!parse_int(v, &p->producer_id))
				why = *v ? "must be an integer" : "is required";
			break;
		case COL_CERTIFIED:
			if (!parse_bool(v, &p->certified))
				why = "must be true or false";
			break;
		case COL_CERTIFICATE_NO:
			p->certificate_no = *v ? v : NULL;
			break;
		case COL_DESCRIPTION:
			p->description = *v ? v : NULL;
			break;
		}
		if (why != NULL) {
			fprintf(stderr, "%s:%zu: column %s: %s\n", path, rec->line,
			    columns[col_of[i]].name, why);
			return false;
		}
	}
	const char *field, *reason;
	if (!product_check(p, true, &field, &reason)) {
		fprintf(
		    stderr, "%s:%zu: column %s: %s\n", path, rec->line, field, reason);
		return false;
	}
	return true;
}

int
ctl_import_products(struct db *db, const char *path)
{
	size_t len;
	char *buf = slurp(path, &len);
	if (buf == NULL)
		return 1;
	struct csv c;
	struct csv_record rec = {0};
	const char *err;
	int *col_of = NULL;
	size_t ncols = 0, imported = 0, bad = 0;
	bool in_tx = false, broken = false;
	int rc = 1;
	int64_t now = now_unix();

	csv_init(&c, buf, len);
	enum csv_status cs = csv_next(&c, &rec, &err);
	if (cs != CSV_RECORD) {
		fprintf(stderr, "%s:%zu: %s\n", path, rec.line,
		    cs == CSV_END ? "no header row" : err);
		goto out;
	}
	ncols = rec.n;
	col_of = xcalloc(ncols, sizeof(*col_of));
	if (!read_header(path, &rec, col_of))
		goto out;
	if (db_begin_write(db) != DB_OK) {
		fprintf(stderr, "marketctl: the database is busy or unwritable\n");
		goto out;
	}
	in_tx = true;
	while ((cs = csv_next(&c, &rec, &err)) == CSV_RECORD) {
		struct product_in p;
		int64_t id;
		if (rec.n != ncols) {
			fprintf(stderr,
			    "%s:%zu: has %zu fields where the header has %zu\n", path,
			    rec.line, rec.n, ncols);
			bad++;
			continue;
		}
		if (!read_row(path, &rec, col_of, &p)) {
			bad++;
			continue;
		}
		enum db_status s = store_product_create(db, &p, 0, now, &id);
		if (s == DB_NOT_FOUND) {
			fprintf(stderr,
			    "%s:%zu: column producer_id: names no producer\n", path,
			    rec.line);
			bad++;
		} else if (s != DB_OK) {
			fprintf(stderr, "%s:%zu: the database refused the row\n", path,
			    rec.line);
			broken = true;
			break;
		} else {
			imported++;
		}
	}
	if (cs == CSV_ERROR) {
		fprintf(stderr, "%s:%zu: %s\n", path, rec.line, err);
		goto out;
	}
	if (broken || bad > 0)
		goto out;
	if (db_commit(db) != DB_OK) {
		fprintf(stderr, "marketctl: the import could not be committed\n");
		goto out;
	}
	in_tx = false;
	printf("imported %zu products\n", imported);
	rc = 0;
out:
	if (in_tx)
		db_rollback(db);
	if (rc != 0)
		fprintf(stderr, "marketctl: nothing imported\n");
	csv_record_free(&rec);
	free(col_of);
	free(buf);
	return rc;
}
