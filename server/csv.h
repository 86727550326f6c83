/*
 * CSV, RFC 4180. The reader works over a buffer in memory: fields separated by
 * commas, records ended by CRLF or LF, fields in double quotes may hold
 * commas, line breaks and doubled quotes. A UTF-8 byte-order mark at the
 * start is skipped. Empty lines are skipped. Text must be UTF-8.
 */
#ifndef MARKET_CSV_H
#define MARKET_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

struct csv {
	const char *p, *end;
	size_t line; /* the line the next record starts on (1-based) */
};

/* One record. fields[i] are NUL-terminated; owned by the record. */
struct csv_record {
	char **fields;
	size_t n, cap;
	size_t line; /* the line it started on */
};

/* A reader over buf[0..len), which must outlive it. */
void csv_init(struct csv *c, const char *buf, size_t len);

enum csv_status {
	CSV_RECORD, /* *rec holds the next record */
	CSV_END,    /* no more records */
	CSV_ERROR,  /* malformed: *err says why (static), rec->line where */
};

/* Reads the next record into rec (its previous fields are freed). */
enum csv_status csv_next(struct csv *c, struct csv_record *rec, const char **err);

/* Frees the record's fields; rec itself may be reused. Accepts an
 * all-zero record. */
void csv_record_free(struct csv_record *rec);

/*
 * The writer, for every CSV the API and marketctl send (reports,
 * statements, pick lists): UTF-8 with a byte-order mark first (so
 * spreadsheet programs show Chinese), fields quoted when they hold a
 * comma, a quote or a line break (quotes doubled), lines ended by CRLF.
 *
 *   struct csv_out c; csv_out_open(&c);
 *   csv_out_field(&c, "name"); csv_out_int(&c, 12); csv_out_row(&c);
 *   char *text = csv_out_close(&c, &len);   (the caller frees it)
 */
struct csv_out {
	struct text t;
	bool row_started;
};
void csv_out_open(struct csv_out *c);
void csv_out_field(struct csv_out *c, const char *s);
void csv_out_int(struct csv_out *c, int64_t v);
/* Ends the current record. */
void csv_out_row(struct csv_out *c);
/* The text written (*len bytes, NUL-terminated); the caller frees it. */
char *csv_out_close(struct csv_out *c, size_t *len);

/* True when s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t len);

#endif
