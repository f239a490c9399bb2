/*
 * cm_report.h - the Victims' Code compliance report: for each month of a
 * period and each kind of milestone, how many fell due, how many were
 * met by their deadline, how many late and by how much, how many are
 * still overdue
 *
 * SYNOPSIS
 *	struct cm_report *r = NULL;
 *	cm_report_compliance(st, cfg, wd, "2026-01-01", "2026-03-31", now,
 *			     &r, &error);
 *	c = cm_report_cell(r, month, enhanced, kind);
 *	cm_report_free(&r);
 *
 * DESCRIPTION
 *	A milestone belongs to the month (in the force's time zone) its
 *	deadline falls in, and to the period when that date lies between
 *	from and to, both included. Its state is taken as of now: met when
 *	the update that meets it was sent by the deadline, late when it
 *	was sent after (the delay counted in working days as
 *	cm_workday_late_by counts it), overdue when none was sent and the
 *	deadline has passed, pending when the deadline is still to come.
 *	An update sent after now does not count. A milestone of every
 *	victim of a case counts once.
 *
 *	Each figure is kept for all milestones and again for those whose
 *	deadline was the enhanced-rights one. Month index nmonths is the
 *	whole period and kind index nkinds is every kind together. The
 *	kinds are those configured (milestone_kinds, in that order), then
 *	any other kind found among the milestones (one since taken out of
 *	the configuration), in order of appearance.
 *
 *	The agreed update rhythm: for each victim of the period's cases
 *	who agreed weekly, fortnightly or monthly updates, each whole
 *	period of that length from the victim's registration (or from
 *	from, when later) that ended in the report's period and by now
 *	counts as one period due, kept when an update addressed to that
 *	victim (or to all) was sent within it.
 *
 * DIAGNOSTICS
 *	cm_report_compliance returns 0, CM_ERR with *error_r (static, or
 *	the store's) for a malformed date, to before from or a period of
 *	more than CM_REPORT_MONTHS_MAX months, or the store's CM_ERR or
 *	CM_ETEMP.
 */
#ifndef CM_REPORT_H
#define CM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cm_config.h"
#include "cm_store.h"
#include "cm_workday.h"

#define CM_REPORT_MONTHS_MAX 120 /* months in one report */
#define CM_REPORT_KINDS_MAX 64   /* kinds in one report */

/* struct cm_report_cell - the figures of one kind in one month */
struct cm_report_cell {
	long due;           /* deadline in the month */
	long met;           /* update sent by the deadline */
	long late;          /* sent after it */
	long overdue;       /* none sent, deadline passed */
	long pending;       /* none sent yet, deadline to come */
	double late_median; /* working days late, median; 0 if none */
	long late_worst;    /* working days late, most; 0 if none */
};

/* struct cm_report_rhythm - agreed update rhythm, one line */
struct cm_report_rhythm {
	long victims; /* victims who agreed this rhythm */
	long periods; /* whole periods due in the report's period */
	long kept;    /* of which an update was sent within */
};

/* the rhythms counted, in the order of cm_report_rhythm_name */
#define CM_REPORT_RHYTHMS 3

struct cm_report;

/*
 * cm_report_compliance - the report for dates from and to
 * ("YYYY-MM-DD", force's time zone, both included) as of now into
 * *report_r (caller frees with cm_report_free). 0 or an error above.
 */
int cm_report_compliance(struct cm_store *st, const struct cm_config *cfg,
			 const struct cm_workday *wd, const char *from,
			 const char *to, int64_t now,
			 struct cm_report **report_r, const char **error_r);

/*
 * cm_report_period_check - 0 when from and to make a period
 * cm_report_compliance takes, else CM_ERR with *error_r (static)
 */
int cm_report_period_check(const struct cm_workday *wd, const char *from,
			   const char *to, const char **error_r);

/* cm_report_nmonths - months in the period (the index of the total) */
size_t cm_report_nmonths(const struct cm_report *r);
/* cm_report_month - "YYYY-MM" of month i, "total" for nmonths
 * (borrowed until cm_report_free) */
const char *cm_report_month(const struct cm_report *r, size_t i);
/* cm_report_nkinds - kinds reported (the index of every kind) */
size_t cm_report_nkinds(const struct cm_report *r);
/* cm_report_kind - the name of kind k, "all" for nkinds (borrowed) */
const char *cm_report_kind(const struct cm_report *r, size_t k);
/*
 * cm_report_cell - the figures of kind k (nkinds: every kind) in month
 * i (nmonths: the whole period), of enhanced-rights milestones only
 * when enhanced (borrowed until cm_report_free)
 */
const struct cm_report_cell *cm_report_cell(const struct cm_report *r,
					    size_t i, bool enhanced,
					    size_t k);
/* cm_report_rhythm_name - "weekly", "fortnightly", "monthly" for 0..2 */
const char *cm_report_rhythm_name(size_t i);
/* cm_report_rhythm - the agreed-rhythm figures of rhythm i (borrowed) */
const struct cm_report_rhythm *cm_report_rhythm(const struct cm_report *r,
						size_t i);
/* cm_report_free - release *r and set it to NULL; NULL is fine */
void cm_report_free(struct cm_report **r);

#endif
