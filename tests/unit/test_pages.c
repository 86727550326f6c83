/* server/http/pages.c and mime.c: the parts that need no request, and
 * the embedded table tools/embed-web made. */
#include <stdbool.h>

#include "embedded.h"
#include "http/mime.h"
#include "http/pages.h"
#include "unit.h"

static void
test_accepts_gzip(void)
{
	CHECK(pages_accepts_gzip("gzip"));
	CHECK(pages_accepts_gzip("gzip, deflate, br"));
	CHECK(pages_accepts_gzip("br;q=1.0, gzip;q=0.8"));
	CHECK(pages_accepts_gzip("GZip"));
	CHECK(pages_accepts_gzip("*"));
	CHECK(pages_accepts_gzip("br, *;q=0.1"));
	CHECK(pages_accepts_gzip(" gzip ;q=0.5"));
	CHECK(!pages_accepts_gzip(NULL));
	CHECK(!pages_accepts_gzip(""));
	CHECK(!pages_accepts_gzip("identity"));
	CHECK(!pages_accepts_gzip("br, deflate"));
	CHECK(!pages_accepts_gzip("gzip;q=0"));
	CHECK(!pages_accepts_gzip("gzip;q=0.000"));
	CHECK(!pages_accepts_gzip("gzip; q=0, *")); /* named refusal wins over * */
	CHECK(!pages_accepts_gzip("*;q=0"));
	CHECK(!pages_accepts_gzip("x-gzip2"));
}

static void
test_name_ok(void)
{
	CHECK(pages_name_ok("stall/index.html"));
	CHECK(pages_name_ok("index.html"));
	CHECK(pages_name_ok("common/base.css"));
	CHECK(!pages_name_ok(""));
	CHECK(!pages_name_ok("/etc/passwd"));
	CHECK(!pages_name_ok("../etc/passwd"));
	CHECK(!pages_name_ok("stall/../../x"));
	CHECK(!pages_name_ok("stall/./index.html"));
	CHECK(!pages_name_ok("stall//index.html"));
	CHECK(!pages_name_ok("stall/"));
	CHECK(!pages_name_ok(".git/config"));
	CHECK(!pages_name_ok("stall/.env"));
	CHECK(!pages_name_ok("stall\\..\\x"));
	CHECK(!pages_name_ok("stall/a\nb"));
	CHECK(!pages_name_ok("stall/\x7f"));
}

static void
test_mime_types(void)
{
	bool z;
	CHECK_STR(mime_type("a/b.html", &z), "text/html; charset=utf-8");
	CHECK(!z); /* documents are never compressed (BREACH) */
	CHECK_STR(mime_type("x.js", &z), "text/javascript; charset=utf-8");
	CHECK(z);
	CHECK_STR(mime_type("x.webmanifest", &z), "application/manifest+json");
	CHECK_STR(mime_type("i.svg", &z), "image/svg+xml");
	CHECK_STR(mime_type("i.png", &z), "image/png");
	CHECK(!z);
	CHECK(mime_type("x.exe", &z) == NULL);
	CHECK(mime_type("js", &z) == NULL);
	CHECK(mime_type(".js", &z) == NULL);
}

/* Every page the contract names is compiled in, each gzip copy is
 * smaller than its file (tests/api/test_pages.py checks it decompresses
 * to the same bytes), and the two representations have different tags. */
static void
test_embedded_table(void)
{
	const char *want[] = {"index.html", "stall/index.html",
	    "coordinator/index.html", "404.html", "stall/sw.js",
	    "stall/manifest.webmanifest"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;
		for (const struct web_file *f = web_files; f->name; f++)
			found |= strcmp(f->name, want[i]) == 0;
		CHECK(found);
	}
	for (const struct web_file *f = web_files; f->name; f++) {
		CHECK(f->data != NULL && f->type != NULL);
		CHECK(f->gz == NULL || f->gz_len < f->len);
		CHECK(f->gz == NULL || strstr(f->type, "text/html") == NULL);
		CHECK(strcmp(f->etag, f->gz_etag) != 0);
		CHECK(f->etag[0] == '"' && f->etag[strlen(f->etag) - 1] == '"');
	}
	CHECK(strlen(web_build_id) == 12);
}

UNIT_MAIN(test_accepts_gzip, test_name_ok, test_mime_types, test_embedded_table)
