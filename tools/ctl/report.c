/*
 * marketctl report: the reports of the API, for offline use, made by the
 * same code (store/reports.c, store/institutions.c, store/payouts.c):
 *
 *   marketctl --db FILE report [impact] --from YYYY-MM-DD --to YYYY-MM-DD
 *       [--region CODE] [--csv] [--group-by month]
 *   marketctl --db FILE report procurement [--year YYYY] [--kind KIND]
 *       [--as-of YYYY-MM-DD] [--csv]
 *   marketctl --db FILE report payouts --from YYYY-MM-DD --to YYYY-MM-DD
 *       [--region CODE] [--csv]
 *
 * JSON (indented) or, with --csv, the same CSV bytes the API sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "date.h"
#include "db/db.h"
#include "store/institutions.h"
#include "store/payouts.h"
#include "store/reports.h"
#include "util.h"

static int
report_usage(void)
{
	fprintf(stderr,
	    "usage: marketctl --db FILE report [impact] --from YYYY-MM-DD "
	    "--to YYYY-MM-DD [--region CODE] [--csv] [--group-by month]\n"
	    "       marketctl --db FILE report procurement [--year YYYY] [--kind KIND] "
	    "[--as-of YYYY-MM-DD] [--csv]\n"
	    "       marketctl --db FILE report payouts --from YYYY-MM-DD --to "
	    "YYYY-MM-DD "
	    "[--region CODE] [--csv]\n");
	return 2;
}

/* Prints report as indented JSON, or the CSV text csv (taken). */
static int
report_print(json_t *report, char *csv, size_t len)
{
	if (csv != NULL) {
		fwrite(csv, 1, len, stdout);
		free(csv);
	} else {
		json_dumpf(report, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(report);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
report_procurement_cmd(struct db *db, int argc, char **argv)
{
	int64_t year = 0, as_of = date_local_days(now_unix());
	const char *kind = NULL;
	bool csv = false, has_year = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--csv") == 0) {
			csv = true;
			continue;
		}
		if (v == NULL)
			return report_usage();
		if (strcmp(a, "--year") == 0) {
			if (!parse_int64(v, &year) || year < PLAN_YEAR_MIN ||
			    year > PLAN_YEAR_MAX) {
				fprintf(
				    stderr, "marketctl: --year must be 2000 to 2100\n");
				return 2;
			}
			has_year = true;
		} else if (strcmp(a, "--kind") == 0) {
			kind = v;
		} else if (strcmp(a, "--as-of") == 0) {
			if (!date_to_days(v, &as_of)) {
				fprintf(stderr,
				    "marketctl: --as-of must be a date YYYY-MM-DD\n");
				return 2;
			}
		} else {
			fprintf(stderr, "marketctl: unknown option %s %s\n", a, v);
			return 2;
		}
		i++;
	}
	if (!has_year) {
		int y, m, d;
		date_civil_from_days(as_of, &y, &m, &d);
		year = y;
	}
	json_t *report = NULL;
	if (report_procurement(db, year, kind, as_of, &report) != DB_OK) {
		fprintf(stderr, "marketctl: cannot read the report's rows\n");
		return 1;
	}
	size_t len = 0;
	char *text = csv ? report_procurement_csv(report, &len) : NULL;
	return report_print(report, text, len);
}

static int
report_payouts_cmd(struct db *db, int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *region = NULL;
	bool csv = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--csv") == 0) {
			csv = true;
			continue;
		}
		if (v == NULL)
			return report_usage();
		if (strcmp(a, "--from") == 0)
			from = v;
		else if (strcmp(a, "--to") == 0)
			to = v;
		else if (strcmp(a, "--region") == 0)
			region = v;
		else {
			fprintf(stderr, "marketctl: unknown option %s %s\n", a, v);
			return 2;
		}
		i++;
	}
	if (from == NULL || to == NULL)
		return report_usage();
	const char *why, *field = report_range_check(from, to, &why);
	if (field != NULL) {
		fprintf(stderr, "marketctl: --%s %s\n", field, why);
		return 2;
	}
	json_t *report = NULL;
	enum db_status s = report_payouts(db, from, to, region, &report);
	if (s == DB_NOT_FOUND) {
		fprintf(stderr, "marketctl: no region %s\n", region);
		return 2;
	}
	if (s != DB_OK) {
		fprintf(stderr, "marketctl: cannot read the report's rows\n");
		return 1;
	}
	size_t len = 0;
	char *text = csv ? report_payouts_csv(report, &len) : NULL;
	return report_print(report, text, len);
}

int
ctl_report(struct db *db, int argc, char **argv)
{
	if (argc > 0 && strcmp(argv[0], "procurement") == 0)
		return report_procurement_cmd(db, argc - 1, argv + 1);
	if (argc > 0 && strcmp(argv[0], "payouts") == 0)
		return report_payouts_cmd(db, argc - 1, argv + 1);
	if (argc > 0 && strcmp(argv[0], "impact") == 0) {
		argc--;
		argv++;
	}
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
