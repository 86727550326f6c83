/*
 * embed-web OUT.c ROOT FILE...: compiles the web pages under ROOT
 * (server/web) into the binary, so a deployment stays one file.
 *
 * For each FILE (a path relative to ROOT, or NAME=PATH for a file read
 * from elsewhere that is named NAME in the tree) it writes the bytes, a gzip
 * copy when that is smaller (made here, once, at level 9), the media type
 * and strong ETags (a SHA-256 prefix of each representation). The build
 * id is a hash of every file: assets are served immutable under
 * /v/<build id>/, and each HTML file's src= and href= attributes that
 * name a file of the tree are rewritten to that versioned path. Relative
 * imports between ES modules then resolve inside the same version, so a
 * page never mixes two builds and a new build needs no cache purge.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "http/mime.h"

struct file {
	char *name;
	unsigned char *data;
	size_t len;
	unsigned char *gz;
	size_t gz_len;
	const char *type;
	bool compress;
};

static void
die(const char *what, const char *name)
{
	fprintf(stderr, "embed-web: %s: %s\n", what, name);
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("out of memory", "");
	return p;
}

static unsigned char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		die(strerror(errno), path);
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		die("read error", path);
	fclose(f);
	*len = n;
	return buf;
}

static void
set_type(struct file *f)
{
	f->type = mime_type(f->name, &f->compress);
	if (f->type == NULL)
		die("no media type known for", f->name);
}

static bool
is_html(const struct file *f)
{
	size_t n = strlen(f->name);
	return n > 5 && strcmp(f->name + n - 5, ".html") == 0;
}

static struct file *files;
static size_t nfiles;

static const struct file *
find(const char *name, size_t len)
{
	for (size_t i = 0; i < nfiles; i++)
		if (strlen(files[i].name) == len &&
		    memcmp(files[i].name, name, len) == 0)
			return &files[i];
	return NULL;
}

/* Resolves ref (an attribute value) against the directory of base, the
 * way a browser would, into out; false when ref is not a path into the
 * tree (a scheme, a fragment, a query, or leaving the root). */
static bool
resolve(const char *base, const char *ref, size_t reflen, char *out, size_t outsz)
{
	if (reflen == 0 || reflen >= outsz / 2 || ref[0] == '#' ||
	    memchr(ref, ':', reflen) != NULL || memchr(ref, '?', reflen) != NULL ||
	    (reflen >= 2 && ref[0] == '/' && ref[1] == '/'))
		return false;
	char path[4096] = "";
	if (ref[0] != '/') {
		const char *slash = strrchr(base, '/');
		if (slash != NULL)
			snprintf(
			    path, sizeof(path), "%.*s/", (int)(slash - base), base);
	}
	size_t n = strlen(path);
	snprintf(path + n, sizeof(path) - n, "%.*s", (int)reflen,
	    ref[0] == '/' ? ref + 1 : ref);
	/* Fold "." and ".." segments. */
	char *segs[256];
	int ns = 0;
	for (char *save, *s = strtok_r(path, "/", &save); s;
	     s = strtok_r(NULL, "/", &save)) {
		if (strcmp(s, ".") == 0)
			continue;
		if (strcmp(s, "..") == 0) {
			if (ns == 0)
				return false;
			ns--;
			continue;
		}
		if (ns == 256)
			return false;
		segs[ns++] = s;
	}
	out[0] = '\0';
	for (int i = 0; i < ns; i++) {
		size_t used = strlen(out);
		snprintf(out + used, outsz - used, "%s%s", i ? "/" : "", segs[i]);
	}
	return ns > 0;
}

/* Appends n bytes of p to the buffer *out of *len (capacity *cap). */
static void
append(unsigned char **out, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		*cap = (*len + n) * 2;
		*out = xrealloc(*out, *cap);
	}
	memcpy(*out + *len, p, n);
	*len += n;
}

/* Rewrites src="X" and href="X" in an HTML file where X names a file of
 * the tree (not a page) to /v/<id>/<path>. */
static void
rewrite_html(struct file *f, const char *id)
{
	unsigned char *out = NULL;
	size_t n = 0, cap = 0;
	const char *s = (const char *)f->data, *end = s + f->len;
	while (s < end) {
		const char *val = NULL;
		for (const char *p = s; p + 7 <= end && val == NULL; p++)
			if (memcmp(p, " src=\"", 6) == 0)
				val = p + 6;
			else if (memcmp(p, " href=\"", 7) == 0)
				val = p + 7;
		const char *close = val ? memchr(val, '"', (size_t)(end - val)) : NULL;
		if (close == NULL) {
			append(&out, &n, &cap, s, (size_t)(end - s));
			break;
		}
		append(&out, &n, &cap, s, (size_t)(val - s));
		char target[2048], repl[2200];
		const struct file *t = NULL;
		if (resolve(
		        f->name, val, (size_t)(close - val), target, sizeof(target)) &&
		    (t = find(target, strlen(target))) != NULL && !is_html(t)) {
			snprintf(repl, sizeof(repl), "/v/%s/%s", id, t->name);
			append(&out, &n, &cap, repl, strlen(repl));
		} else {
			append(&out, &n, &cap, val, (size_t)(close - val));
		}
		s = close;
	}
	free(f->data);
	f->data = out;
	f->len = n;
}

static void
gzip_file(struct file *f)
{
	if (!f->compress)
		return;
	z_stream z = {0};
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2 failed", f->name);
	size_t cap = deflateBound(&z, f->len) + 32;
	f->gz = xrealloc(NULL, cap);
	z.next_in = f->data;
	z.avail_in = (uInt)f->len;
	z.next_out = f->gz;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		die("deflate failed", f->name);
	f->gz_len = z.total_out;
	deflateEnd(&z);
	if (f->gz_len >= f->len) {
		free(f->gz);
		f->gz = NULL;
		f->gz_len = 0;
	}
}

static void
emit_bytes(FILE *out, const char *var, const unsigned char *p, size_t n)
{
	fprintf(out, "static const unsigned char %s[] = {", var);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%u,", i % 24 ? "" : "\n", p[i]);
	fprintf(out, "0};\n");
}

/* The hex of the first 16 bytes of p's SHA-256, and suffix. */
static void
etag(const unsigned char *p, size_t n, const char *suffix, char out[48])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	if (!EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL))
		die("SHA-256 failed", "");
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	snprintf(out + 32, 16, "%s", suffix);
}

int
main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: embed-web OUT.c ROOT FILE|NAME=PATH...\n");
		return 2;
	}
	nfiles = (size_t)argc - 3;
	files = xrealloc(NULL, nfiles * sizeof(*files));
	EVP_MD_CTX *all = EVP_MD_CTX_new();
	if (all == NULL || !EVP_DigestInit_ex(all, EVP_sha256(), NULL))
		die("SHA-256 failed", "");
	for (size_t i = 0; i < nfiles; i++) {
		struct file *f = &files[i];
		memset(f, 0, sizeof(*f));
		/* NAME=PATH: a file whose name in the tree is NAME, read from
		 * PATH (a library's file from node_modules, say). */
		char path[4096];
		char *eq = strchr(argv[i + 3], '=');
		f->name = argv[i + 3];
		if (eq != NULL) {
			*eq = '\0';
			snprintf(path, sizeof(path), "%s", eq + 1);
		} else {
			snprintf(path, sizeof(path), "%s/%s", argv[2], f->name);
		}
		f->data = read_file(path, &f->len);
		set_type(f);
		EVP_DigestUpdate(all, f->name, strlen(f->name) + 1);
		EVP_DigestUpdate(all, f->data, f->len);
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	if (!EVP_DigestFinal_ex(all, md, NULL))
		die("SHA-256 failed", "");
	EVP_MD_CTX_free(all);
	char id[13];
	for (int i = 0; i < 6; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);

	for (size_t i = 0; i < nfiles; i++) {
		if (is_html(&files[i]))
			rewrite_html(&files[i], id);
		gzip_file(&files[i]);
	}

	FILE *out = fopen(argv[1], "w");
	if (out == NULL)
		die(strerror(errno), argv[1]);
	fprintf(out, "/* generated by tools/embed-web from server/web; do not edit */\n"
	             "#include <stddef.h>\n#include \"embedded.h\"\n");
	for (size_t i = 0; i < nfiles; i++) {
		char var[32];
		snprintf(var, sizeof(var), "web_%zu", i);
		emit_bytes(out, var, files[i].data, files[i].len);
		if (files[i].gz) {
			snprintf(var, sizeof(var), "web_%zu_gz", i);
			emit_bytes(out, var, files[i].gz, files[i].gz_len);
		}
	}
	fprintf(out, "const char web_build_id[] = \"%s\";\n", id);
	fprintf(out, "const struct web_file web_files[] = {\n");
	for (size_t i = 0; i < nfiles; i++) {
		const struct file *f = &files[i];
		char tag[48], gztag[48];
		etag(f->data, f->len, "", tag);
		etag(f->data, f->len, "-gz", gztag);
		fprintf(out, "\t{\"%s\", \"%s\", web_%zu, %zu, ", f->name, f->type, i,
		    f->len);
		if (f->gz)
			fprintf(out, "web_%zu_gz, %zu, ", i, f->gz_len);
		else
			fprintf(out, "NULL, 0, ");
		fprintf(out, "\"\\\"%s\\\"\", \"\\\"%s\\\"\"},\n", tag, gztag);
	}
	fprintf(out, "\t{0},\n};\n");
	if (fclose(out) != 0)
		die("write error", argv[1]);
	return 0;
}
