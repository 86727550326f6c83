/* Files compiled into the binaries by tools/embed.cmake. */
#ifndef MARKET_EMBEDDED_H
#define MARKET_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name;
	const char *data; /* NUL-terminated; static, never freed */
	size_t len;
};

/* Migrations in file-name order, ended by an entry whose name is NULL. */
extern const struct embedded_file embedded_migrations[];
/* PostgreSQL's (schema/pg): a baseline, then the pairs of later ones. */
extern const struct embedded_file embedded_pg_migrations[];
/* openapi.yaml, converted to JSON at build time. */
extern const struct embedded_file embedded_openapi;

/*
 * The web pages of server/web (tools/embed-web): each file with its
 * media type, its bytes, a gzip copy made at build time (gz NULL when
 * compressing does not pay) and a strong ETag for each representation.
 * HTML files name the other files by their versioned path,
 * /v/<web_build_id>/<name>. Ended by an entry whose name is NULL.
 */
struct web_file {
	const char *name; /* "stall/index.html": relative to server/web */
	const char *type; /* "text/html; charset=utf-8" */
	const unsigned char *data;
	size_t len;
	const unsigned char *gz;
	size_t gz_len;
	const char *etag;    /* "\"<hex>\"" */
	const char *gz_etag; /* "\"<hex>-gz\"" */
};
extern const struct web_file web_files[];
extern const char web_build_id[];

#endif
