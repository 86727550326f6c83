/* marketd: start-up and tear-down, nothing else. */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "db/db.h"
#include "db/faultvfs.h"
#include "http/server.h"
#include "log.h"
#include "privs.h"
#include "tls.h"

int
main(int argc, char **argv)
{
	struct config cfg;
	char *err = NULL;
	/* Tests only: SQLite's writes, syncs and allocations fail on demand
	 * (db/faultvfs.h). Installed before anything else touches SQLite. */
	const char *fault = getenv("MARKETD_TEST_FAULT");
	if (fault != NULL && *fault != '\0') {
		if (faultvfs_install(fault, &err) < 0) {
			fprintf(stderr, "marketd: %s\n", err);
			free(err);
			return 2;
		}
		log_warn("fault injection on (MARKETD_TEST_FAULT): for tests only");
	}
	int rc = config_load(&cfg, argc, argv, &err);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "marketd: %s\n", err);
		free(err);
		config_free(&cfg);
		return rc < 0 ? 2 : 0;
	}
	if (privs_prepare(&cfg, &err) < 0) {
		fprintf(stderr, "marketd: %s\n", err);
		free(err);
		config_free(&cfg);
		return 2;
	}
	tls_set_ticket_rotation(cfg.tls_ticket_rotate);
	if (tls_init(cfg.cert_path, cfg.key_path, &err) < 0) {
		fprintf(stderr, "marketd: %s\n", err);
		free(err);
		tls_shutdown();
		config_free(&cfg);
		return 2;
	}
	struct server *srv = server_new(&cfg, &err);
	if (srv == NULL || privs_drop(&cfg, &err) < 0) {
		fprintf(stderr, "marketd: %s\n", err);
		free(err);
		server_free(srv);
		tls_shutdown();
		config_free(&cfg);
		return 2;
	}
	/* Checked after the certificate and the database, so their errors
	 * are reported first. */
	rc = config_check_payment_secret(&cfg, &err);
	if (rc < 0) {
		fprintf(stderr, "marketd: %s\n", err);
		free(err);
		server_free(srv);
		tls_shutdown();
		config_free(&cfg);
		return 2;
	}
	if (rc > 0)
		log_warn("%s", err);
	free(err);
	rc = server_run(srv);
	server_free(srv);
	tls_shutdown();
	config_free(&cfg);
	return rc;
}
