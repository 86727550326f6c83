/*
 * marketctl report: the impact report of GET /api/v1/reports/impact, for
 * offline use, made by the same code (store/reports.c):
 *
 *   marketctl --db FILE report --from YYYY-MM-DD --to YYYY-MM-DD
 *       [--region CODE] [--csv] [--group-by month]
 *
 * JSON (indented) or, with --csv, the same CSV bytes the API sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "db/db.h"
#include "store/reports.h"

static int
report_usage(void)
{
	fprintf(stderr, "usage: marketctl --db FILE report --from YYYY-MM-DD "
	                "--to YYYY-MM-DD [--region CODE] [--csv] [--group-by month]\n");
	return 2;
}

int
ctl_report(struct db *db, int argc, char **argv)
{
	struct impact_query q = {0};
	bool csv = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--csv") == 0) {
			csv = true;
			continue;
		}
		if (v == NULL)
			return report_usage();
		if (strcmp(a, "--from") == 0)
			q.from = v;
		else if (strcmp(a, "--to") == 0)
			q.to = v;
		else if (strcmp(a, "--region") == 0)
			q.region = v;
		else if (strcmp(a, "--group-by") == 0 && strcmp(v, "month") == 0)
			q.by_month = true;
		else {
			fprintf(stderr, "marketctl: unknown option %s %s\n", a, v);
			return 2;
		}
		i++;
	}
	if (q.from == NULL || q.to == NULL)
		return report_usage();
	const char *why, *field = report_range_check(q.from, q.to, &why);
	if (field != NULL) {
		fprintf(stderr, "marketctl: --%s %s\n", field, why);
		return 2;
	}
	json_t *report = NULL;
	enum db_status s = report_impact(db, &q, &report);
	if (s == DB_NOT_FOUND) {
		fprintf(stderr, "marketctl: no region %s\n", q.region);
		return 2;
	}
	if (s != DB_OK) {
		fprintf(stderr, "marketctl: cannot read the report's rows\n");
		return 1;
	}
	if (csv) {
		size_t len;
		char *text = report_impact_csv(report, q.by_month, &len);
		fwrite(text, 1, len, stdout);
		free(text);
	} else {
		json_dumpf(report, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(report);
	return fflush(stdout) == 0 ? 0 : 1;
}
