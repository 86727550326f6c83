/*
 * Media types of the web pages' files, by extension. Shared by marketd
 * (serving from --web-root) and tools/embed-web (compiling them in).
 */
#ifndef MARKET_HTTP_MIME_H
#define MARKET_HTTP_MIME_H

#include <stdbool.h>

/* The media type of a file named name ("text/javascript; charset=utf-8"
 * for "stall/app.js"), or NULL when its extension is not one the pages
 * use. *compress says whether a gzip copy can pay (text, not PNG). */
const char *mime_type(const char *name, bool *compress);

#endif
