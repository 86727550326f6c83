/*
 * What the fuzz targets share: a database made once per process (a
 * temporary file, migrated by db_open, with a user of each role and a
 * small catalogue made through the API's own handlers), and a way to run
 * one route's handler on a request built in memory, as the router would
 * after matching the path: the body read by the router's read_body(),
 * the query parsed as the router parses it, the prepare hook, then the
 * handler. A reply of 500 is a bug, and fuzz_run() aborts on it so that
 * libFuzzer keeps the input.
 *
 * Each target is one file tests/fuzz/<name>.c defining
 * LLVMFuzzerTestOneInput; its seeds are in tests/fuzz/corpus/<name>/.
 */
#ifndef MARKET_FUZZ_H
#define MARKET_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"
#include "http/router.h"

/* What every target defines (libFuzzer's entry points). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The payment secret the fuzz configuration uses. */
#define FUZZ_PAYMENT_SECRET "fuzz-payment-secret-0123456789abcdef"

/* Makes the database and the seed data, once; later calls do nothing. */
void fuzz_init(void);

/* The routes of every table with method m (0: any) and, when body is
 * true, only those that take a JSON body; n set to their number. The
 * array is made once and lives until exit. */
const struct route *const *fuzz_routes(enum evhttp_cmd_type m, bool body, size_t *n);
/* The route for method and pattern path, NULL when there is none. */
const struct route *fuzz_route(enum evhttp_cmd_type m, const char *pattern);

struct fuzz_req {
	const struct route *route;
	enum role role; /* ROLE_ANON or one of the seeded users' */
	const char *params[REQUEST_MAX_PARAMS]; /* path parameters, NULL: "1" */
	const char *query;                      /* the raw query string, or NULL */
	const uint8_t *body; /* the raw body (for routes that take one) */
	size_t body_len;
	const char *signature; /* an X-Signature header, or NULL */
};

/* Runs the request; returns the reply's status. Aborts on a 500. */
int fuzz_run(const struct fuzz_req *q);

/*
 * The route an input names by its first line, "METHOD /pattern" (so
 * seeds keep naming the same route as tables grow); any other first line
 * picks one of routes by its bytes. *data and *size are moved past the
 * line. NULL when there is no newline.
 */
const struct route *fuzz_pick_route(
    const struct route *const *routes, size_t n, const uint8_t **data, size_t *size);

/* A role from a byte: anonymous, buyer, operator, coordinator or admin. */
enum role fuzz_role(uint8_t b);
/* A path parameter from a byte: a seeded id, an unknown one, or junk. */
const char *fuzz_param(uint8_t b);

#endif
