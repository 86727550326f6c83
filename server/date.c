#include "date.h"

#include <stdio.h>
#include <string.h>

bool
date_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
date_month_days(int64_t y, int m)
{
	static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && date_leap(y) ? 29 : n[m - 1];
}

int
date_year_days(int64_t y)
{
	return date_leap(y) ? 366 : 365;
}

int64_t
date_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
date_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool
digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool
date_parse(const char *s, int *y, int *m, int *d)
{
	if (s == NULL || strlen(s) != 10 || !digits(s, 4, y) || s[4] != '-' ||
	    !digits(s + 5, 2, m) || s[7] != '-' || !digits(s + 8, 2, d))
		return false;
	return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1 &&
	       *d <= date_month_days(*y, *m);
}

bool
date_valid(const char *s)
{
	int y, m, d;
	return date_parse(s, &y, &m, &d);
}

bool
date_valid_since(const char *s, int min_year)
{
	int y, m, d;
	return date_parse(s, &y, &m, &d) && y >= min_year;
}

bool
date_to_days(const char *s, int64_t *days)
{
	int y, m, d;
	if (!date_parse(s, &y, &m, &d))
		return false;
	*days = date_days_from_civil(y, m, d);
	return true;
}

void
date_format(int64_t days, char out[11])
{
	int y, m, d;
	date_civil_from_days(days, &y, &m, &d);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
	    (unsigned)d % 100u);
}

int64_t
date_local_days(int64_t t)
{
	int64_t s = t + DATE_LOCAL_OFFSET;
	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

void
date_local(int64_t t, char out[11])
{
	date_format(date_local_days(t), out);
}

int64_t
date_prorate_year(int64_t amount, int64_t y, int64_t as_of)
{
	int64_t first = date_days_from_civil(y, 1, 1);
	int64_t days = date_year_days(y);
	if (as_of < first)
		return 0;
	if (as_of >= first + days)
		return amount;
	int64_t elapsed = as_of - first + 1;
	return (int64_t)((__int128)amount * elapsed / days);
}
