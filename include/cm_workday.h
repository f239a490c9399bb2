/*
 * cm_workday.h - working days in the force's time zone: weekends, the
 * bank holidays of England and Wales and a configured list of extra
 * days off, and deadlines counted in working days
 *
 * SYNOPSIS
 *	struct cm_workday *wd = cm_workday_new("Europe/London",
 *					       "2026-06-15", &error);
 *	cm_workday_deadline(wd, at, 5, &deadline, &error);
 *	cm_workday_free(&wd);
 *
 * DESCRIPTION
 *	A day is a working day when it is Monday to Friday, not a bank
 *	holiday of England and Wales and not in the extra list. The bank
 *	holidays are computed for any year from 1900 to 2199: New Year's
 *	Day (the Monday after when it falls on a weekend), Good Friday and
 *	Easter Monday (Easter by the Gregorian computus), the early May
 *	bank holiday (first Monday of May), the spring bank holiday (last
 *	Monday of May), the summer bank holiday (last Monday of August),
 *	Christmas Day and Boxing Day (with the substitute days that follow
 *	a weekend). One-off days (a coronation, a jubilee, a moved early
 *	May) belong in the extra list.
 *
 *	Days are local dates in the force's time zone: an instant belongs
 *	to the date it has on a clock in that zone, summer time included.
 *
 *	The deadline of N working days after an instant is the last second
 *	(23:59:59 local) of the Nth working day after the instant's own
 *	date, whatever that date is: an event on Monday at 10:00 has a
 *	1-day deadline of Tuesday 23:59:59 and a 5-day deadline of the
 *	following Monday 23:59:59; an event on a Saturday has a 1-day
 *	deadline of Monday 23:59:59.
 *
 *	The conversions set the TZ environment variable for the call and
 *	put back what was there: not for threaded programs.
 *
 * DIAGNOSTICS
 *	cm_workday_new returns NULL with *error_r (static, valid until the
 *	next call) for an unknown time zone or a malformed date in the
 *	list. The others return 0 or CM_ERR with *error_r for an instant
 *	outside the years handled.
 */
#ifndef CM_WORKDAY_H
#define CM_WORKDAY_H

#include <stdbool.h>
#include <stdint.h>

#include "cm_util.h"

#define CM_WORKDAY_MAX_DAYS 60 /* the largest deadline, in working days */

struct cm_workday;

/*
 * cm_workday_new - a calendar for time zone tz (an IANA name such as
 * "Europe/London", found under the system's zoneinfo; NULL or "" for
 * Europe/London) with the extra days off in extra ("YYYY-MM-DD" dates
 * separated by spaces or commas; NULL or "" for none). Caller frees with
 * cm_workday_free; NULL with *error_r on a bad zone or date.
 */
struct cm_workday *cm_workday_new(const char *tz, const char *extra,
				  const char **error_r);
/* cm_workday_free - release wd and set *wd to NULL; NULL is fine */
void cm_workday_free(struct cm_workday **wd);

/* cm_workday_bank_holiday - is y-m-d a bank holiday of England and
 * Wales (computed; the extra list is not consulted) */
bool cm_workday_bank_holiday(int y, int m, int d);
/* cm_workday_is_working - is y-m-d a working day for wd */
bool cm_workday_is_working(const struct cm_workday *wd, int y, int m,
			   int d);

/*
 * cm_workday_local_date - the date of instant t in wd's zone into
 * *y_r, *m_r (1..12) and *d_r (1..31). 0 or CM_ERR.
 */
int cm_workday_local_date(const struct cm_workday *wd, int64_t t, int *y_r,
			  int *m_r, int *d_r, const char **error_r);

/*
 * cm_workday_deadline - the last second of the days-th working day
 * after the date of instant at (days 1..CM_WORKDAY_MAX_DAYS) into
 * *deadline_r. 0 or CM_ERR.
 */
int cm_workday_deadline(const struct cm_workday *wd, int64_t at, int days,
			int64_t *deadline_r, const char **error_r);

/*
 * cm_workday_late_by - how many working days instant t comes after
 * instant deadline, counting the working days after the deadline's date
 * up to t's date, and t's date itself when it is not a working day (an
 * update on the Saturday after a Friday deadline is one day late, as is
 * one on the Monday); 0 when t is not after deadline. 0 or CM_ERR.
 */
int cm_workday_late_by(const struct cm_workday *wd, int64_t deadline,
		       int64_t t, long *days_r, const char **error_r);

/*
 * cm_workday_parse_time - an instant from text: "@SECONDS" since the
 * epoch, "YYYY-MM-DDTHH:MM[:SS]Z" (UTC), "YYYY-MM-DDTHH:MM[:SS]" or
 * "YYYY-MM-DD HH:MM[:SS]" (local to wd's zone), or "YYYY-MM-DD" (local
 * midnight). 0 with *t_r, or CM_ERR with *error_r.
 */
int cm_workday_parse_time(const struct cm_workday *wd, const char *s,
			  int64_t *t_r, const char **error_r);

/*
 * cm_workday_format - instant t as "YYYY-MM-DD HH:MM" local to wd's
 * zone into buf (at least 32 bytes); returns buf ("?" when out of
 * range).
 */
const char *cm_workday_format(const struct cm_workday *wd, int64_t t,
			      char buf[32]);

#endif
