#include "http/pages.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "config.h"
#include "crypto.h"
#include "embedded.h"
#include "http/mime.h"
#include "http/router.h"
#include "log.h"
#include "util.h"

/* What a page may load: its own origin, nothing inline, no frames. */
static const char csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* A file disk-read in --web-root mode is at most this big. */
#define PAGE_MAX_FILE (16 * 1024 * 1024)

/* One file to send: embedded (static bytes) or read from disk (owned). */
struct page_file {
	const char *type;
	const unsigned char *data;
	size_t len;
	const unsigned char *gz;
	size_t gz_len;
	char etag[72];
	char gz_etag[72];
	unsigned char *owned;
};

bool
pages_path(const char *path)
{
	return strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0;
}

bool
pages_name_ok(const char *name)
{
	const char *s = name;
	for (;;) {
		const char *e = strchr(s, '/');
		if (e == NULL)
			e = s + strlen(s);
		if (e == s || s[0] == '.')
			return false;
		for (const char *p = s; p < e; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
				return false;
		if (*e == '\0')
			return true;
		s = e + 1;
	}
}

bool
pages_accepts_gzip(const char *ae)
{
	if (ae == NULL)
		return false;
	bool star = false;
	char *copy = xstrdup(ae), *save = NULL;
	for (char *el = strtok_r(copy, ",", &save); el;
	     el = strtok_r(NULL, ",", &save)) {
		el += strspn(el, " \t");
		size_t len = strcspn(el, "; \t");
		/* A q-value of 0 refuses the coding (RFC 9110, 12.5.3). */
		bool refused = false;
		for (char *q = strchr(el, ';'); q != NULL; q = strchr(q + 1, ';')) {
			char *v = q + 1 + strspn(q + 1, " \t");
			if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
				refused = strtod(v + 2, NULL) <= 0;
		}
		if (len == 4 && strncasecmp(el, "gzip", 4) == 0) {
			free(copy);
			return !refused;
		}
		if (len == 1 && el[0] == '*')
			star = !refused;
	}
	free(copy);
	return star;
}

static const struct web_file *
find_embedded(const char *name)
{
	for (const struct web_file *f = web_files; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static bool
load_embedded(const char *name, struct page_file *pg)
{
	const struct web_file *f = find_embedded(name);
	if (f == NULL)
		return false;
	pg->type = f->type;
	pg->data = f->data;
	pg->len = f->len;
	pg->gz = f->gz;
	pg->gz_len = f->gz_len;
	snprintf(pg->etag, sizeof(pg->etag), "%s", f->etag);
	snprintf(pg->gz_etag, sizeof(pg->gz_etag), "%s", f->gz_etag);
	return true;
}

/* --web-root: the file root/name, when it is a regular file inside root
 * (after every symbolic link is followed). */
static bool
load_disk(const char *root, const char *name, struct page_file *pg)
{
	bool compress;
	pg->type = mime_type(name, &compress);
	if (pg->type == NULL)
		return false;
	char *path = xasprintf("%s/%s", root, name);
	char real[PATH_MAX], real_root[PATH_MAX];
	bool ok = false;
	int fd = -1;
	if (realpath(path, real) == NULL || realpath(root, real_root) == NULL)
		goto out;
	size_t n = strlen(real_root);
	if (strncmp(real, real_root, n) != 0 || real[n] != '/')
		goto out;
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > PAGE_MAX_FILE)
		goto out;
	pg->owned = xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, pg->owned + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	pg->data = pg->owned;
	pg->len = got;
	char hex[65];
	sha256_hex(pg->data, pg->len, hex);
	snprintf(pg->etag, sizeof(pg->etag), "\"%.32s\"", hex);
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return ok;
}

static bool
load(const struct config *cfg, const char *name, struct page_file *pg)
{
	memset(pg, 0, sizeof(*pg));
	if (!pages_name_ok(name))
		return false;
	return cfg->web_root ? load_disk(cfg->web_root, name, pg)
	                     : load_embedded(name, pg);
}

/* The headers every page response carries, 304 and 404 included. */
static void
page_headers(struct request *r)
{
	reply_header(r, "Content-Security-Policy", csp);
	reply_header(r, "Referrer-Policy", "no-referrer");
	reply_header(r, "X-Frame-Options", "DENY");
	reply_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	reply_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	reply_header(
	    r, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

static void
send_page(struct request *r, int status, struct page_file *pg, const char *cache)
{
	bool gz =
	    pg->gz != NULL && pages_accepts_gzip(req_header(r, "Accept-Encoding"));
	const char *tag = gz ? pg->gz_etag : pg->etag;
	page_headers(r);
	reply_header(r, "Cache-Control", cache);
	if (pg->gz != NULL)
		reply_header(r, "Vary", "Accept-Encoding");
	if (status == 200) {
		reply_header(r, "ETag", tag);
		if (req_etag_matches(r, pg->etag) ||
		    (pg->gz != NULL && req_etag_matches(r, pg->gz_etag))) {
			reply_empty(r, 304);
			return;
		}
	}
	if (gz)
		reply_header(r, "Content-Encoding", "gzip");
	struct evbuffer *b = evbuffer_new();
	if (pg->owned != NULL)
		evbuffer_add(b, pg->data, pg->len);
	else if (gz)
		evbuffer_add_reference(b, pg->gz, pg->gz_len, NULL, NULL);
	else
		evbuffer_add_reference(b, pg->data, pg->len, NULL, NULL);
	reply_raw(r, status, pg->type, b);
	evbuffer_free(b);
}

static void
not_found(struct request *r)
{
	struct page_file pg;
	if (load(r->cfg, "404.html", &pg)) {
		send_page(r, 404, &pg, "no-cache");
		free(pg.owned);
		return;
	}
	page_headers(r);
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "not found\n");
	reply_raw(r, 404, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* True when the raw (still encoded) path hides a separator or a NUL. */
static bool
raw_path_ok(struct request *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->ev);
	const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
	if (raw == NULL)
		return false;
	for (const char *p = raw; (p = strchr(p, '%')) != NULL; p++)
		if (strncasecmp(p, "%2f", 3) == 0 || strncasecmp(p, "%5c", 3) == 0 ||
		    strncmp(p, "%00", 3) == 0)
			return false;
	return strchr(raw, '\\') == NULL;
}

void
pages_serve(struct request *r)
{
	if (r->method != EVHTTP_REQ_GET && r->method != EVHTTP_REQ_HEAD) {
		page_headers(r);
		reply_header(r, "Allow", "GET, HEAD");
		reply_error(r, E_METHOD_NOT_ALLOWED, NULL, "%s is not allowed here",
		    method_name(r->method));
		return;
	}
	if (!raw_path_ok(r)) {
		not_found(r);
		return;
	}
	/* /v/<build>/<name>: the versioned copy of name. Another build's
	 * path still answers (an open page may ask for a module after a
	 * deployment), but is only revalidated, never kept. */
	const char *name = r->path + 1;
	const char *cache = "no-cache";
	if (strncmp(r->path, "/v/", 3) == 0) {
		const char *id = r->path + 3, *slash = strchr(id, '/');
		if (slash == NULL) {
			not_found(r);
			return;
		}
		if (r->cfg->web_root == NULL &&
		    (size_t)(slash - id) == strlen(web_build_id) &&
		    strncmp(id, web_build_id, strlen(web_build_id)) == 0)
			cache = "public, max-age=31536000, immutable";
		name = slash + 1;
	}
	char *want = name[0] == '\0' || name[strlen(name) - 1] == '/'
	                 ? xasprintf("%sindex.html", name)
	                 : xstrdup(name);
	struct page_file pg;
	if (load(r->cfg, want, &pg)) {
		send_page(r, 200, &pg, cache);
		free(pg.owned);
	} else {
		/* /stall is the folder /stall/: send the browser there, so
		 * the page's relative links resolve inside it. */
		char *index = xasprintf("%s/index.html", want);
		if (strchr(strrchr(r->path, '/'), '.') == NULL &&
		    load(r->cfg, index, &pg)) {
			free(pg.owned);
			char *to = xasprintf("%s/", r->path);
			page_headers(r);
			reply_header(r, "Location", to);
			reply_header(r, "Cache-Control", "no-cache");
			reply_empty(r, 301);
			free(to);
		} else {
			not_found(r);
		}
		free(index);
	}
	free(want);
}
