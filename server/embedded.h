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
/* openapi.yaml, converted to JSON at build time. */
extern const struct embedded_file embedded_openapi;

#endif
