/*
 * The web pages (server/web): the shop at /, the stall operators' page at
 * /stall/, the coordinators' pages at /coordinator/. They are static
 * files, compiled into the binary (tools/embed-web), or read from a
 * folder given by --web-root while developing.
 *
 * Every page response carries a strong ETag (304 on If-None-Match), a
 * Cache-Control (files under /v/<build id>/ immutable, everything else
 * revalidated), the gzip copy when the client accepts it, the media type
 * of its extension, a Content-Security-Policy that allows nothing inline
 * and no other origin, and a Referrer-Policy. An unknown page path is a
 * page 404; no path leaves the page tree.
 */
#ifndef MARKET_HTTP_PAGES_H
#define MARKET_HTTP_PAGES_H

#include <stdbool.h>

#include "http/request.h"

/* True when the decoded path belongs to the pages, not the API: every
 * path outside /api/ that no route serves. */
bool pages_path(const char *path);

/* Sets r's reply: the page, a 304, a redirect (/stall → /stall/), a page
 * 404, or 405 for a method other than GET and HEAD. */
void pages_serve(struct request *r);

/* Exposed for tests: true when an Accept-Encoding value accepts gzip. */
bool pages_accepts_gzip(const char *accept_encoding);
/* Exposed for tests: true when name (the path without its leading '/')
 * may be looked up: no empty, "." or ".." segment, no segment starting
 * with '.', no backslash or control character. */
bool pages_name_ok(const char *name);

#endif
