/*
 * cm_mline.h - "Milestone: KIND" lines in an officer's mail: found,
 * taken out of what the victim reads, and recorded as milestones
 *
 * SYNOPSIS
 *	body = cm_mline_strip(trimmed, &n);
 *	... post the message with body ...
 *	cm_mline_record(&w, &rec, trimmed, &res, &err);
 *
 * DESCRIPTION
 *	A milestone line is a line of the officer's own text (the trimmed
 *	body, never the quoted part) that starts, after blanks, with the
 *	word "milestone" in any case, then blanks, a colon, blanks and a
 *	kind, ending with blanks or a full stop: "Milestone: charged",
 *	"MILESTONE : Charged.". Kinds are matched case-blind against
 *	milestone_kinds. Any other line starting "milestone:" is a
 *	malformed milestone line: taken out of the text all the same and
 *	reported, never recorded.
 *
 *	cm_mline_record records each valid kind once, through
 *	cm_milestone_record (the same code as "casemail milestone"), at
 *	the time given (the message's own), for the victim the message is
 *	addressed to (0: every victim of the case), each with its audit
 *	row; a kind not configured or a malformed line is written as an
 *	internal event on the case's thread ("not recorded: ...") and an
 *	audit row "milestone.refused", so that the officer can see it.
 *	It runs in the caller's transaction.
 *
 * DIAGNOSTICS
 *	cm_mline_record returns 0, or CM_ETEMP/CM_ERR from the store or
 *	from force_timezone (with *error_r); unknown kinds are not errors.
 *
 * SECURITY
 *	Bounded: at most CM_MLINE_MAX lines are read a message; kinds are
 *	checked against the configuration before they reach the store.
 */
#ifndef CM_MLINE_H
#define CM_MLINE_H

#include <stddef.h>
#include <stdint.h>

#include "cm_work.h"

#define CM_MLINE_MAX 8 /* milestone lines read in one message */

/* struct cm_mline_rec - where and when the lines' milestones go */
struct cm_mline_rec {
	int64_t case_id;
	int64_t victim_id;  /* 0: every victim of the case */
	int64_t officer_id; /* who wrote the message */
	int64_t at;         /* the message's time */
	int64_t message_id; /* the message, for the audit rows */
	const char *source; /* of a refusal's event, as cm_post's */
};

/* struct cm_mline_result - what cm_mline_record did */
struct cm_mline_result {
	int recorded; /* milestones recorded */
	int refused;  /* lines not recorded (unknown kind, malformed) */
	char first_recorded[40]; /* the first kind recorded, or "" */
	char first_refused[40];  /* the first refused, as written, or "" */
};

/*
 * cm_mline_strip - a copy of text without its milestone lines (caller
 * frees), *n_r getting how many there were (the copy is text itself
 * when there are none)
 */
char *cm_mline_strip(const char *text, size_t *n_r);

/* cm_mline_record - record the milestones text names (see above) */
int cm_mline_record(struct cm_work *w, const struct cm_mline_rec *rec,
		    const char *text, struct cm_mline_result *res_r,
		    const char **error_r);

#endif
