/*
 * rhythm.c - the update rhythm agreed with a victim, and the officer's
 * reminder when a period passes with no update sent
 *
 * SYNOPSIS
 *	See cm_rhythm.h.
 *
 * DESCRIPTION
 *	The store lists the victims with a rhythm, each with the last
 *	update sent to them and the last reminder (the newest "Update
 *	rhythm:" event for them), so no column keeps the state: a
 *	reminder is due when k >= 1 whole periods have passed since the
 *	start and none was written after the start of the k-th.
 *
 * DIAGNOSTICS
 *	Store errors are passed up unchanged.
 *
 * SECURITY
 *	The event names the rhythm and times only, never a victim's words.
 */
#include <stdio.h>
#include <string.h>

#include "cm_rhythm.h"

#define DAY (24 * 3600)

/* struct check - what the callback needs and counts */
struct check {
	struct cm_work *w;
	const struct cm_workday *wd;
	int64_t now;
	long reminders;
	int error;
	const char *errmsg;
};

/* cm_rhythm_period - seconds in one period */
int64_t
cm_rhythm_period(const char *s)
{
	if (strcmp(s, "weekly") == 0)
		return 7 * DAY;
	if (strcmp(s, "fortnightly") == 0)
		return 14 * DAY;
	if (strcmp(s, "monthly") == 0)
		return 30 * DAY;
	return 0;
}

/* cm_rhythm_valid - a rhythm the store takes */
bool
cm_rhythm_valid(const char *s)
{
	return cm_rhythm_period(s) > 0 || strcmp(s, "milestones") == 0;
}

/* remind - the event and the officer's notice for one victim */
static int
remind(struct check *k, const struct cm_rhythm_row *r, int64_t start,
       int64_t due)
{
	struct cm_post p;
	struct cm_notice n;
	char text[400], t0[32], t1[32], detail[160];
	int64_t msg = 0;
	int ret;

	(void)snprintf(text, sizeof(text),
		       "Update rhythm: victim %lld agreed %s updates and "
		       "%s %s; the next was due by %s. Post an update to "
		       "them (casemail update, or mail to the case address).",
		       (long long)r->victim_id, r->rhythm,
		       r->last_sent != 0 ? "the last was sent"
					 : "none has been sent since they "
					   "were added,",
		       cm_workday_format(k->wd, start, t0),
		       cm_workday_format(k->wd, due, t1));
	memset(&p, 0, sizeof(p));
	p.case_id = r->case_id;
	p.victim_id = r->victim_id;
	p.author = "system";
	p.visibility = "internal";
	p.status = "posted";
	p.kind = "event";
	p.body = text;
	p.body_full = text;
	p.source = "cli";
	ret = cm_work_post(k->w, &p, &msg, NULL, &k->errmsg);
	if (ret < 0 || r->oic_id == 0)
		goto out;
	memset(&n, 0, sizeof(n));
	n.case_id = r->case_id;
	n.officer_id = r->oic_id;
	n.message_id = msg;
	n.kind = "milestone_warning";
	n.channel = "email";
	ret = cm_store_notice_add(k->w->store, &n, NULL, &k->errmsg);
	if (ret < 0)
		goto out;
	(void)snprintf(detail, sizeof(detail),
		       "victim=%lld rhythm=%s officer=%lld message=%lld",
		       (long long)r->victim_id, r->rhythm,
		       (long long)r->oic_id, (long long)msg);
	ret = cm_store_audit(k->w->store, k->w->actor, "rhythm.remind",
			     r->case_ref, detail, &k->errmsg);
out:
	return ret;
}

/* one - is a reminder due for r; send it */
static int
one(const struct cm_rhythm_row *r, void *ctx)
{
	struct check *k = ctx;
	int64_t p = cm_rhythm_period(r->rhythm), start, periods;
	int ret;

	if (p == 0 || !r->case_open)
		return 0;
	start = r->last_sent > r->since ? r->last_sent : r->since;
	if (k->now <= start)
		return 0;
	periods = (k->now - start) / p;
	if (periods < 1 || r->last_reminder >= start + periods * p)
		return 0;
	ret = remind(k, r, start, start + periods * p);
	if (ret < 0) {
		k->error = ret;
		return -1;
	}
	k->reminders++;
	return 0;
}

/* cm_rhythm_check - remind the officers whose victims wait */
int
cm_rhythm_check(struct cm_work *w, const struct cm_workday *wd, int64_t now,
		long *reminders_r, const char **error_r)
{
	struct check k;
	int ret;

	memset(&k, 0, sizeof(k));
	k.w = w;
	k.wd = wd;
	k.now = now;
	ret = cm_store_rhythm_list(w->store, one, &k, error_r);
	if (ret == 0 && k.error != 0) {
		ret = k.error;
		*error_r = k.errmsg;
	}
	if (ret == 0 && reminders_r != NULL)
		*reminders_r = k.reminders;
	return ret;
}
