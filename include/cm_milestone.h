/*
 * cm_milestone.h - milestones of the Victims' Code: recorded on a case,
 * each with a deadline in working days by which the victim must be
 * sent an update, and the check that warns and alerts the officer in
 * charge and a supervisor
 *
 * SYNOPSIS
 *	struct cm_workday *wd = cm_milestone_calendar(cfg, &err);
 *	cm_store_begin(st, &err);
 *	cm_milestone_record(&w, wd, &rec, &id, &deadline, &err);
 *	cm_milestone_check(&w, wd, now, &counts, &err);
 *	cm_store_commit(st, &err);
 *
 * DESCRIPTION
 *	The kinds and their deadlines come from the configuration
 *	(milestone_kinds, milestone_days, milestone_days_enhanced): a kind
 *	is data, so a revised Code needs no new program. A milestone for
 *	a victim with enhanced rights (or, for every victim of a case, when
 *	any of them has them) takes the enhanced deadline.
 *
 *	A milestone is met when an update addressed to its victim (or to
 *	all) is sent after it (cm_store_milestone_refresh says exactly
 *	which). The check refreshes every milestone, then for each one
 *	still open: within milestone_warning_hours of its deadline a
 *	milestone_warning to the officer in charge, once; past its deadline
 *	a milestone_overdue to them, once; and when any is overdue and
 *	milestone_supervisor is set, a milestone_digest at most once a day.
 *	Each warning and alert is also an internal event on the case's
 *	thread, whose text the officer's mail carries.
 *
 *	Every function runs inside the caller's transaction and writes its
 *	own audit rows.
 *
 * DIAGNOSTICS
 *	0, CM_ERR, CM_ETEMP or CM_ENOENT with *error_r as in cm_store.h;
 *	cm_milestone_kind gives CM_ENOENT for a kind not configured.
 */
#ifndef CM_MILESTONE_H
#define CM_MILESTONE_H

#include <stdbool.h>
#include <stdint.h>

#include "cm_config.h"
#include "cm_work.h"
#include "cm_workday.h"

#define CM_MILESTONE_KIND_MAX 32 /* bytes of a kind's name */

/*
 * cm_milestone_calendar - the force's working days from cfg
 * (force_timezone, bank_holidays_extra); caller frees with
 * cm_workday_free; NULL with *error_r
 */
struct cm_workday *cm_milestone_calendar(const struct cm_config *cfg,
					 const char **error_r);

/*
 * cm_milestone_kind - the deadlines of kind in working days into
 * *days_r and *enhanced_days_r (either may be NULL): 0, or CM_ENOENT
 * with *error_r naming the configured kinds (static)
 */
int cm_milestone_kind(const struct cm_config *cfg, const char *kind,
		      int *days_r, int *enhanced_days_r,
		      const char **error_r);

/* struct cm_milestone_rec - a milestone to record (strings borrowed) */
struct cm_milestone_rec {
	int64_t case_id;
	int64_t victim_id;  /* 0: every victim of the case */
	const char *kind;
	int64_t at;
	int64_t officer_id; /* who recorded it */
};

/*
 * cm_milestone_record - record r with its deadline (*id_r, *deadline_r
 * and *enhanced_r may be NULL)
 */
int cm_milestone_record(struct cm_work *w, const struct cm_workday *wd,
			const struct cm_milestone_rec *r, int64_t *id_r,
			int64_t *deadline_r, bool *enhanced_r,
			const char **error_r);

/* struct cm_milestone_counts - what one check did */
struct cm_milestone_counts {
	long changed;  /* milestones whose status changed */
	long warnings; /* milestone_warning notices queued */
	long alerts;   /* milestone_overdue notices queued */
	long overdue;  /* milestones overdue after the check */
	bool digest;   /* a milestone_digest was queued */
};

/* cm_milestone_check - refresh, warn, alert and digest as of now */
int cm_milestone_check(struct cm_work *w, const struct cm_workday *wd,
		       int64_t now, struct cm_milestone_counts *counts_r,
		       const char **error_r);

/*
 * cm_milestone_digest_text - the supervisor's digest: one line per
 * overdue milestone (case, kind, victim, deadline, working days late as
 * of now), oldest deadline first; caller frees. NULL with *error_r on
 * store trouble.
 */
char *cm_milestone_digest_text(struct cm_store *st,
			       const struct cm_workday *wd, int64_t now,
			       const char **error_r);

#endif
