#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int quiet;

void
log_set_quiet(int q)
{
	quiet = q;
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
	char line[1024], when[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf per line so that lines from threads do not mix. */
	fprintf(stderr, "%s %s %s\n", when, level, line);
}

void
log_info(const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog("info", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("warn", fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
