/* server/config.c: defaults, precedence (file < environment < flags), and
 * one clear reason for each bad value. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static int
load(struct config *c, char **err, int argc, char **argv)
{
	return config_load(c, argc, argv, err);
}

static void
test_defaults(void)
{
	struct config c;
	char *err = NULL;
	char *argv[] = {"marketd"};
	CHECK(load(&c, &err, 1, argv) == 0);
	CHECK_STR(c.listen_host, "127.0.0.1");
	CHECK(c.listen_port == 8443);
	CHECK_STR(c.synchronous, "full");
	CHECK(c.threads == (sysconf(_SC_NPROCESSORS_ONLN) > 64 ? 64
	                       : sysconf(_SC_NPROCESSORS_ONLN) < 1
	                           ? 1
	                           : sysconf(_SC_NPROCESSORS_ONLN)));
	CHECK(c.login_max_failures == 5 && c.login_window == 900);
	CHECK(c.payment_secret == NULL);
	config_free(&c);
}

static void
test_flags(void)
{
	struct config c;
	char *err = NULL;
	char *argv[] = {
	    "marketd", "--listen", "[::1]:9000", "--threads=4", "--db", "x.db"};
	CHECK(load(&c, &err, 6, argv) == 0);
	CHECK_STR(c.listen_host, "::1");
	CHECK(c.listen_port == 9000);
	CHECK(c.threads == 4);
	CHECK_STR(c.db_path, "x.db");
	config_free(&c);
}

static void
test_bad_values(void)
{
	struct {
		char *argv[3];
		const char *words;
	} cases[] = {
	    {{"marketd", "--threads", "0"}, "threads"},
	    {{"marketd", "--threads", "65"}, "threads"},
	    {{"marketd", "--hash-threads", "65"}, "hash-threads"},
	    {{"marketd", "--hash-threads", "0"}, "hash-threads"},
	    {{"marketd", "--timeout", "-1"}, "timeout"},
	    {{"marketd", "--listen", "8443"}, "listen"},
	    {{"marketd", "--listen", "h:99999"}, "port"},
	    {{"marketd", "--synchronous", "off"}, "synchronous"},
	    {{"marketd", "--colour", "red"}, "unknown option"},
	    {{"marketd", "--db", ""}, "empty"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		char *err = NULL;
		CHECK(load(&c, &err, 3, cases[i].argv) == -1);
		CHECK(err != NULL && strstr(err, cases[i].words) != NULL);
		CHECK(err != NULL && strchr(err, '\n') == NULL);
		free(err);
		config_free(&c);
	}
}

static void
test_precedence(void)
{
	char path[] = "/tmp/market-config-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(
	    f, "# comment\nthreads = 3\ntimeout = 11\npayment_secret = from-file\n");
	fclose(f);

	setenv("MARKETD_TIMEOUT", "12", 1);
	struct config c;
	char *err = NULL;
	char *argv[] = {"marketd", "--config", path, "--payment-secret", "from-flag"};
	CHECK(load(&c, &err, 5, argv) == 0);
	CHECK(c.threads == 3);                    /* file */
	CHECK(c.timeout == 12);                   /* environment over file */
	CHECK_STR(c.payment_secret, "from-flag"); /* flag over file */
	config_free(&c);
	unsetenv("MARKETD_TIMEOUT");

	/* A bad line names the file and line. */
	f = fopen(path, "w");
	fprintf(f, "threads = 2\nnot a setting\n");
	fclose(f);
	char *argv2[] = {"marketd", "--config", path};
	CHECK(load(&c, &err, 3, argv2) == -1);
	CHECK(err != NULL && strstr(err, ":2:") != NULL);
	free(err);
	config_free(&c);
	unlink(path);
}

UNIT_MAIN(test_defaults, test_flags, test_bad_values, test_precedence)
