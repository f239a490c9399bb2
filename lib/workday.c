/*
 * workday.c - working days in the force's time zone and deadlines
 * counted in them
 *
 * SYNOPSIS
 *	See cm_workday.h.
 *
 * DESCRIPTION
 *	Dates are handled as day numbers (days since 1970-01-01 in the
 *	proleptic Gregorian calendar, Hinnant's civil-from-days algorithm),
 *	so that walking forward a day never meets a summer time change.
 *	Only the two conversions between an instant and a local date go
 *	through the C library: localtime_r and mktime under the zone set
 *	in TZ for the call (glibc reads the zoneinfo file once and caches
 *	it while TZ stays the same).
 *
 *	The bank holidays of England and Wales follow the Banking and
 *	Financial Dealings Act 1971 as the proclamations have applied it
 *	every year since 1978: New Year's Day, Good Friday, Easter Monday,
 *	the first and last Mondays of May, the last Monday of August,
 *	Christmas and Boxing Day; a holiday on a Saturday or Sunday is
 *	replaced by the next weekday that is not a holiday already.
 *
 * DIAGNOSTICS
 *	Errors name the bad zone or date; they live in a static buffer.
 *
 * SECURITY
 *	The zone name comes from the configuration and is checked against
 *	a whitelist of characters (no "..", no leading '/') before it
 *	names a file.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cm_log.h"
#include "cm_workday.h"

#define DEFAULT_TZ "Europe/London"
#define ZONEINFO "/usr/share/zoneinfo"
#define MIN_YEAR 1900
#define MAX_YEAR 2199
#define MAX_EXTRA 1024 /* extra days off in the list */
#define MAX_TZ 64      /* bytes of a zone name */

struct cm_workday {
	char tz[MAX_TZ + 1];
	int64_t *extra; /* day numbers, ascending */
	size_t n_extra;
};

static char errbuf[256];

/* days_from_civil - day number of y-m-d (m 1..12) */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* civil_from_days - y-m-d of day number z */
static void
civil_from_days(int64_t z, int *y_r, int *m_r, int *d_r)
{
	int64_t era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*y_r = (int)(y + (m <= 2));
	*m_r = (int)m;
	*d_r = (int)d;
}

/* weekday - 0 Sunday .. 6 Saturday of day number z */
static int
weekday(int64_t z)
{
	return (int)(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

/* is_weekend - Saturday or Sunday */
static bool
is_weekend(int64_t z)
{
	int w = weekday(z);

	return w == 0 || w == 6;
}

/* days_in_month - 28..31 */
static int
days_in_month(int y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
				 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : n[m - 1];
}

/* easter - day number of Easter Sunday (anonymous Gregorian computus) */
static int64_t
easter(int y)
{
	int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
	int f = (b + 8) / 25, g = (b - f + 1) / 3;
	int h = (19 * a + b - d - g + 15) % 30;
	int i = c / 4, k = c % 4;
	int l = (32 + 2 * e + 2 * i - h - k) % 7;
	int m = (a + 11 * h + 22 * l) / 451;
	int month = (h + l - 7 * m + 114) / 31;
	int day = (h + l - 7 * m + 114) % 31 + 1;

	return days_from_civil(y, month, day);
}

/* first_monday - day number of the first Monday of y-m */
static int64_t
first_monday(int y, int m)
{
	int64_t z = days_from_civil(y, m, 1);

	return z + (8 - weekday(z)) % 7;
}

/* last_monday - day number of the last Monday of y-m */
static int64_t
last_monday(int y, int m)
{
	int64_t z = days_from_civil(y, m, days_in_month(y, m));

	return z - (weekday(z) + 6) % 7;
}

/* next_weekday - the first weekday after z */
static int64_t
next_weekday(int64_t z)
{
	do
		z++;
	while (is_weekend(z));
	return z;
}

/* christmas - is z one of the Christmas holidays of year y: the 25th and
 * 26th when weekdays, and a substitute weekday after the 26th for each
 * of them that falls on a weekend */
static bool
christmas(int y, int64_t z)
{
	int64_t c = days_from_civil(y, 12, 25), last = c + 1;
	int subs = is_weekend(c) + is_weekend(c + 1);

	if ((z == c || z == c + 1) && !is_weekend(z))
		return true;
	for (int i = 0; i < subs; i++) {
		last = next_weekday(last);
		if (z == last)
			return true;
	}
	return false;
}

/* cm_workday_bank_holiday - computed England and Wales bank holiday */
bool
cm_workday_bank_holiday(int y, int m, int d)
{
	int64_t z, ny, e;

	if (y < MIN_YEAR || y > MAX_YEAR || m < 1 || m > 12 || d < 1 ||
	    d > days_in_month(y, m))
		return false;
	z = days_from_civil(y, m, d);
	ny = days_from_civil(y, 1, 1);
	if (is_weekend(ny))
		ny = next_weekday(ny);
	if (z == ny)
		return true;
	e = easter(y);
	if (z == e - 2 || z == e + 1)
		return true;
	if (m == 5 && (z == first_monday(y, 5) || z == last_monday(y, 5)))
		return true;
	if (m == 8 && z == last_monday(y, 8))
		return true;
	return m == 12 && christmas(y, z);
}

/* working_day - is day number z a working day for wd */
static bool
working_day(const struct cm_workday *wd, int64_t z)
{
	int y, m, d;

	if (is_weekend(z))
		return false;
	for (size_t i = 0; i < wd->n_extra; i++)
		if (wd->extra[i] == z)
			return false;
	civil_from_days(z, &y, &m, &d);
	return !cm_workday_bank_holiday(y, m, d);
}

/* cm_workday_is_working - a working day for wd */
bool
cm_workday_is_working(const struct cm_workday *wd, int y, int m, int d)
{
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	return working_day(wd, days_from_civil(y, m, d));
}

/* ---- the zone ---- */

/* zone_ok - a plausible IANA name whose file exists */
static bool
zone_ok(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	struct stat sb;
	size_t n = strlen(tz);

	if (n == 0 || n > MAX_TZ || tz[0] == '/' || tz[0] == '.' ||
	    strstr(tz, "..") != NULL ||
	    strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		       "0123456789_+-/") != n)
		return false;
	if (dir == NULL || dir[0] != '/')
		dir = ZONEINFO;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, tz) >=
	    sizeof(path))
		return false;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* struct tzsave - the TZ variable as it was before a conversion */
struct tzsave {
	char *old;
};

/* tz_enter - set TZ to wd's zone */
static void
tz_enter(const struct cm_workday *wd, struct tzsave *s)
{
	const char *o = getenv("TZ");

	s->old = o != NULL ? cm_xstrdup(o) : NULL;
	if (s->old == NULL || strcmp(s->old, wd->tz) != 0) {
		if (setenv("TZ", wd->tz, 1) < 0)
			cm_fatal("workday: setenv TZ: out of memory");
		tzset();
	}
}

/* tz_leave - put TZ back */
static void
tz_leave(const struct cm_workday *wd, struct tzsave *s)
{
	if (s->old == NULL) {
		(void)unsetenv("TZ");
		tzset();
	} else if (strcmp(s->old, wd->tz) != 0) {
		if (setenv("TZ", s->old, 1) < 0)
			cm_fatal("workday: setenv TZ: out of memory");
		tzset();
	}
	free(s->old);
	s->old = NULL;
}

/* local_day - the local day number of instant t; false when out of
 * range */
static bool
local_day(const struct cm_workday *wd, int64_t t, int64_t *z_r)
{
	struct tzsave s;
	struct tm tm;
	time_t tt = (time_t)t;
	bool ok;

	tz_enter(wd, &s);
	ok = localtime_r(&tt, &tm) != NULL;
	tz_leave(wd, &s);
	if (!ok || tm.tm_year + 1900 < MIN_YEAR ||
	    tm.tm_year + 1900 > MAX_YEAR)
		return false;
	*z_r = days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return true;
}

/* local_instant - the instant of local time h:mi:s on day z */
static bool
local_instant(const struct cm_workday *wd, int64_t z, int h, int mi, int sec,
	      int64_t *t_r)
{
	struct tzsave s;
	struct tm tm;
	time_t tt;
	int y, m, d;

	civil_from_days(z, &y, &m, &d);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	tz_enter(wd, &s);
	errno = 0;
	tt = mktime(&tm);
	tz_leave(wd, &s);
	if (tt == (time_t)-1 && errno != 0)
		return false;
	*t_r = (int64_t)tt;
	return true;
}

/* range_error - the error for an instant outside the years handled */
static int
range_error(int64_t t, const char **error_r)
{
	(void)snprintf(errbuf, sizeof(errbuf),
		       "time %lld is outside the years %d to %d",
		       (long long)t, MIN_YEAR, MAX_YEAR);
	if (error_r != NULL)
		*error_r = errbuf;
	return CM_ERR;
}

/* ---- the calendar ---- */

/* parse_digits - exactly n digits at s into *v */
static bool
parse_digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* parse_date - "YYYY-MM-DD" at s (exactly 10 bytes used) */
static bool
parse_date(const char *s, int *y, int *m, int *d)
{
	if (!parse_digits(s, 4, y) || s[4] != '-' ||
	    !parse_digits(s + 5, 2, m) || s[7] != '-' ||
	    !parse_digits(s + 8, 2, d))
		return false;
	return *y >= MIN_YEAR && *y <= MAX_YEAR && *m >= 1 && *m <= 12 &&
	       *d >= 1 && *d <= days_in_month(*y, *m);
}

/* cm_workday_new - a calendar for a zone and a list of days off */
struct cm_workday *
cm_workday_new(const char *tz, const char *extra, const char **error_r)
{
	struct cm_workday *wd = NULL, *ret = NULL;
	const char *p = extra != NULL ? extra : "";
	size_t n;
	int y, m, d;

	if (tz == NULL || tz[0] == '\0')
		tz = DEFAULT_TZ;
	if (!zone_ok(tz)) {
		(void)snprintf(errbuf, sizeof(errbuf),
			       "unknown time zone \"%.64s\"", tz);
		goto out;
	}
	wd = cm_xcalloc(1, sizeof(*wd));
	cm_strlcpy(wd->tz, tz, sizeof(wd->tz));
	for (;;) {
		p += strspn(p, " ,\t");
		if (*p == '\0')
			break;
		n = strcspn(p, " ,\t");
		if (n != 10 || !parse_date(p, &y, &m, &d)) {
			(void)snprintf(errbuf, sizeof(errbuf),
				       "bad date \"%.*s\" in the list of days "
				       "off (want YYYY-MM-DD, %d to %d)",
				       (int)(n > 40 ? 40 : n), p, MIN_YEAR,
				       MAX_YEAR);
			goto out;
		}
		if (wd->n_extra == MAX_EXTRA) {
			(void)snprintf(errbuf, sizeof(errbuf),
				       "more than %d days off in the list",
				       MAX_EXTRA);
			goto out;
		}
		wd->extra = cm_xrealloc(wd->extra, (wd->n_extra + 1) *
							   sizeof(int64_t));
		wd->extra[wd->n_extra++] = days_from_civil(y, m, d);
		p += n;
	}
	ret = wd;
	wd = NULL;
out:
	if (ret == NULL && error_r != NULL)
		*error_r = errbuf;
	cm_workday_free(&wd);
	return ret;
}

/* cm_workday_free - release the calendar */
void
cm_workday_free(struct cm_workday **wd)
{
	if (wd == NULL || *wd == NULL)
		return;
	free((*wd)->extra);
	free(*wd);
	*wd = NULL;
}

/* cm_workday_local_date - the local date of an instant */
int
cm_workday_local_date(const struct cm_workday *wd, int64_t t, int *y_r,
		      int *m_r, int *d_r, const char **error_r)
{
	int64_t z;

	if (!local_day(wd, t, &z))
		return range_error(t, error_r);
	civil_from_days(z, y_r, m_r, d_r);
	return 0;
}

/* cm_workday_deadline - the end of the days-th working day after at */
int
cm_workday_deadline(const struct cm_workday *wd, int64_t at, int days,
		    int64_t *deadline_r, const char **error_r)
{
	int64_t z;
	int n = 0;

	if (days < 1 || days > CM_WORKDAY_MAX_DAYS) {
		(void)snprintf(errbuf, sizeof(errbuf),
			       "a deadline of %d working days (want 1 to %d)",
			       days, CM_WORKDAY_MAX_DAYS);
		if (error_r != NULL)
			*error_r = errbuf;
		return CM_ERR;
	}
	if (!local_day(wd, at, &z))
		return range_error(at, error_r);
	while (n < days) {
		z++;
		if (working_day(wd, z))
			n++;
	}
	if (!local_instant(wd, z, 23, 59, 59, deadline_r))
		return range_error(at, error_r);
	return 0;
}

/* cm_workday_late_by - working days from a deadline to a later instant */
int
cm_workday_late_by(const struct cm_workday *wd, int64_t deadline, int64_t t,
		   long *days_r, const char **error_r)
{
	int64_t zd, zt;
	long n = 0;

	*days_r = 0;
	if (t <= deadline)
		return 0;
	if (!local_day(wd, deadline, &zd))
		return range_error(deadline, error_r);
	if (!local_day(wd, t, &zt))
		return range_error(t, error_r);
	for (int64_t z = zd + 1; z <= zt; z++)
		if (working_day(wd, z))
			n++;
	if (!working_day(wd, zt) || n == 0)
		n++;
	*days_r = n;
	return 0;
}

/* cm_workday_parse_time - an instant from the forms cm_workday.h lists */
int
cm_workday_parse_time(const struct cm_workday *wd, const char *s,
		      int64_t *t_r, const char **error_r)
{
	size_t n = strlen(s);
	int y, m, d, h = 0, mi = 0, sec = 0;
	bool utc = false;
	int64_t v;

	if (s[0] == '@') {
		if (cm_parse_int64(s + 1, &v) < 0)
			goto bad;
		*t_r = v;
		return 0;
	}
	if (n > 0 && s[n - 1] == 'Z') {
		utc = true;
		n--;
	}
	if (n < 10 || !parse_date(s, &y, &m, &d))
		goto bad;
	if (n > 10) {
		if ((s[10] != 'T' && s[10] != ' ') || (n != 16 && n != 19) ||
		    !parse_digits(s + 11, 2, &h) || s[13] != ':' ||
		    !parse_digits(s + 14, 2, &mi) || h > 23 || mi > 59)
			goto bad;
		if (n == 19 &&
		    (s[16] != ':' || !parse_digits(s + 17, 2, &sec) ||
		     sec > 59))
			goto bad;
	} else if (utc) {
		goto bad;
	}
	if (utc) {
		*t_r = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 +
		       sec;
		return 0;
	}
	if (!local_instant(wd, days_from_civil(y, m, d), h, mi, sec, t_r))
		goto bad;
	return 0;
bad:
	(void)snprintf(errbuf, sizeof(errbuf),
		       "bad time \"%.40s\" (want YYYY-MM-DD, YYYY-MM-DDTHH:MM"
		       "[:SS][Z] or @SECONDS)", s);
	if (error_r != NULL)
		*error_r = errbuf;
	return CM_ERR;
}

/* cm_workday_format - "YYYY-MM-DD HH:MM ZONE" local to wd */
const char *
cm_workday_format(const struct cm_workday *wd, int64_t t, char buf[32])
{
	struct tzsave s;
	struct tm tm;
	time_t tt = (time_t)t;
	size_t n = 0;

	tz_enter(wd, &s);
	if (localtime_r(&tt, &tm) != NULL)
		n = strftime(buf, 32, "%Y-%m-%d %H:%M %Z", &tm);
	tz_leave(wd, &s);
	if (n == 0)
		cm_strlcpy(buf, "?", 32);
	return buf;
}
