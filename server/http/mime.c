#include "http/mime.h"

#include <string.h>

static const struct {
	const char *ext;
	const char *type;
	bool compress;
} types[] = {
    /* HTML is never compressed: a document is where a secret and text
     * from the request would meet (BREACH), and ours are a few KB. */
    {".html", "text/html; charset=utf-8", false},
    {".js", "text/javascript; charset=utf-8", true},
    {".mjs", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".json", "application/json; charset=utf-8", true},
    {".webmanifest", "application/manifest+json", true},
    {".svg", "image/svg+xml", true},
    {".txt", "text/plain; charset=utf-8", true},
    {".ico", "image/x-icon", true},
    {".png", "image/png", false},
    {".woff2", "font/woff2", false},
};

const char *
mime_type(const char *name, bool *compress)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && strcmp(name + n - e, types[i].ext) == 0) {
			*compress = types[i].compress;
			return types[i].type;
		}
	}
	*compress = false;
	return NULL;
}
