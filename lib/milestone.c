/*
 * milestone.c - milestones of the Victims' Code: recording them with
 * their working-day deadlines, and the check that warns and alerts
 *
 * SYNOPSIS
 *	See cm_milestone.h.
 *
 * DESCRIPTION
 *	Deadlines come from lib/workday.c in the force's time zone. The
 *	check runs in one transaction: the store finds the updates that
 *	met milestones and sets every status, then the open milestones
 *	are read and, for each warning or alert due, an internal event is
 *	posted on the case (author "system", so nothing is queued for
 *	victims) and a notice to the officer in charge points at it.
 *
 * DIAGNOSTICS
 *	Store errors are passed up unchanged.
 *
 * SECURITY
 *	Audit details and events carry ids, kinds and times, never text
 *	from a victim or an officer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_milestone.h"

#define SECONDS_PER_HOUR 3600
#define DIGEST_EVERY (24 * 3600)
#define DIGEST_MAX (1024 * 1024) /* bytes of a digest's text */

/* cm_milestone_calendar - the configured working days */
struct cm_workday *
cm_milestone_calendar(const struct cm_config *cfg, const char **error_r)
{
	return cm_workday_new(cfg->force_timezone, cfg->bank_holidays_extra,
			      error_r);
}

/* cm_milestone_kind - look a kind up in milestone_kinds */
int
cm_milestone_kind(const struct cm_config *cfg, const char *kind, int *days_r,
		  int *enhanced_days_r, const char **error_r)
{
	static char errbuf[512];
	const char *p = cfg->milestone_kinds;
	size_t n, want = strlen(kind);
	long d[2];
	int k;

	for (;;) {
		p += strspn(p, " ,");
		if (*p == '\0')
			break;
		n = strcspn(p, " ,:");
		d[0] = cfg->milestone_days;
		d[1] = cfg->milestone_days_enhanced;
		if (n == want && strncmp(p, kind, n) == 0) {
			p += n;
			for (k = 0; k < 2 && *p == ':'; k++)
				d[k] = strtol(p + 1, (char **)&p, 10);
			if (days_r != NULL)
				*days_r = (int)d[0];
			if (enhanced_days_r != NULL)
				*enhanced_days_r = (int)d[1];
			return 0;
		}
		p += strcspn(p, " ,");
	}
	(void)snprintf(errbuf, sizeof(errbuf),
		       "unknown milestone \"%.40s\" (milestone_kinds: %.400s)",
		       kind, cfg->milestone_kinds);
	if (error_r != NULL)
		*error_r = errbuf;
	return CM_ENOENT;
}

/* cm_milestone_record - a milestone with its deadline */
int
cm_milestone_record(struct cm_work *w, const struct cm_workday *wd,
		    const struct cm_milestone_rec *r, int64_t *id_r,
		    int64_t *deadline_r, bool *enhanced_r,
		    const char **error_r)
{
	struct cm_milestone m;
	struct cm_case c = { 0 };
	char detail[200], when[32];
	int days = 0, edays = 0, ret;
	bool enhanced = false;
	int64_t id = 0;

	memset(&m, 0, sizeof(m));
	ret = cm_milestone_kind(w->cfg, r->kind, &days, &edays, error_r);
	if (ret < 0)
		goto out;
	ret = cm_store_case_get_id(w->store, r->case_id, &c, error_r);
	if (ret < 0)
		goto out;
	ret = cm_store_milestone_enhanced(w->store, r->case_id, r->victim_id,
					  &enhanced, error_r);
	if (ret < 0)
		goto out;
	m.case_id = r->case_id;
	m.victim_id = r->victim_id;
	m.kind = r->kind;
	m.at = r->at;
	m.officer_id = r->officer_id;
	m.enhanced = enhanced;
	ret = cm_workday_deadline(wd, r->at, enhanced ? edays : days,
				  &m.deadline, error_r);
	if (ret < 0)
		goto out;
	ret = cm_store_milestone_add(w->store, &m, &id, error_r);
	if (ret < 0)
		goto out;
	(void)snprintf(detail, sizeof(detail),
		       "milestone=%lld kind=%s victim=%lld enhanced=%s "
		       "deadline=%s",
		       (long long)id, r->kind, (long long)r->victim_id,
		       enhanced ? "yes" : "no",
		       cm_time_iso(m.deadline, when));
	ret = cm_store_audit(w->store, w->actor, "milestone.add", c.ref,
			     detail, error_r);
	if (ret < 0)
		goto out;
	if (id_r != NULL)
		*id_r = id;
	if (deadline_r != NULL)
		*deadline_r = m.deadline;
	if (enhanced_r != NULL)
		*enhanced_r = enhanced;
out:
	cm_case_clear(&c);
	return ret;
}

/* struct mlist - milestones copied out of a store callback */
struct mlist {
	struct cm_milestone *v; /* case_ref, kind, status owned */
	size_t n, cap;
};

/* collect - copy one milestone */
static int
collect(const struct cm_milestone *m, void *ctx)
{
	struct mlist *l = ctx;
	struct cm_milestone *d;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = cm_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	d = &l->v[l->n++];
	*d = *m;
	d->case_ref = cm_xstrdup(m->case_ref);
	d->kind = cm_xstrdup(m->kind);
	d->status = cm_xstrdup(m->status);
	return 0;
}

/* mlist_free - release the copies */
static void
mlist_free(struct mlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->v[i].case_ref);
		free((char *)l->v[i].kind);
		free((char *)l->v[i].status);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* victim_words - "victim N" or "every victim" into buf */
static const char *
victim_words(int64_t victim_id, char *buf, size_t size)
{
	if (victim_id == 0)
		return "every victim";
	(void)snprintf(buf, size, "victim %lld", (long long)victim_id);
	return buf;
}

/* tell_officer - an internal event on the case saying what is due, and
 * a notice of kind to the officer in charge about it */
static int
tell_officer(struct cm_work *w, const struct cm_workday *wd,
	     const struct cm_milestone *m, const char *kind,
	     const char **error_r)
{
	struct cm_post p;
	struct cm_notice n;
	char text[512], at[32], dl[32], who[32], detail[160];
	int64_t msg = 0;
	int ret;

	(void)snprintf(text, sizeof(text),
		       "Milestone: %s on %s (%s, recorded for %s). %s %s "
		       "must be sent an update by %s%s.",
		       m->kind, m->case_ref, cm_workday_format(wd, m->at, at),
		       victim_words(m->victim_id, who, sizeof(who)),
		       strcmp(kind, "milestone_overdue") == 0
			       ? "OVERDUE:"
			       : "Due soon:",
		       m->victim_id == 0 ? "Every victim" : "The victim",
		       cm_workday_format(wd, m->deadline, dl),
		       m->enhanced ? " (enhanced rights: 1 working day)" : "");
	memset(&p, 0, sizeof(p));
	p.case_id = m->case_id;
	p.victim_id = m->victim_id;
	p.author = "system";
	p.visibility = "internal";
	p.status = "posted";
	p.kind = "event";
	p.body = text;
	p.body_full = text;
	p.source = "cli";
	ret = cm_work_post(w, &p, &msg, NULL, error_r);
	if (ret < 0 || m->oic_id == 0)
		goto out;
	memset(&n, 0, sizeof(n));
	n.case_id = m->case_id;
	n.officer_id = m->oic_id;
	n.message_id = msg;
	n.kind = kind;
	n.channel = "email";
	ret = cm_store_notice_add(w->store, &n, NULL, error_r);
	if (ret < 0)
		goto out;
	(void)snprintf(detail, sizeof(detail),
		       "milestone=%lld kind=%s officer=%lld message=%lld",
		       (long long)m->id, kind, (long long)m->oic_id,
		       (long long)msg);
	ret = cm_store_audit(w->store, w->actor, "notice.queue", m->case_ref,
			     detail, error_r);
out:
	return ret;
}

/* cm_milestone_check - statuses, warnings, alerts and the digest */
int
cm_milestone_check(struct cm_work *w, const struct cm_workday *wd,
		   int64_t now, struct cm_milestone_counts *counts_r,
		   const char **error_r)
{
	struct cm_milestone_counts k;
	struct mlist l = { NULL, 0, 0 };
	int64_t changed = 0, warn = w->cfg->milestone_warning_hours *
				     SECONDS_PER_HOUR;
	bool recent = false;
	char detail[160];
	int ret;

	memset(&k, 0, sizeof(k));
	ret = cm_store_milestone_refresh(w->store, now, &changed, error_r);
	if (ret < 0)
		goto out;
	k.changed = (long)changed;
	ret = cm_store_milestone_list(w->store, 0, true, collect, &l,
				      error_r);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const struct cm_milestone *m = &l.v[i];
		bool overdue = strcmp(m->status, "overdue") == 0;

		if (overdue)
			k.overdue++;
		if (overdue && m->alerted_at == 0) {
			ret = tell_officer(w, wd, m, "milestone_overdue",
					   error_r);
			if (ret == 0)
				ret = cm_store_milestone_mark(w->store, m->id,
							      true, now,
							      error_r);
			if (ret < 0)
				goto out;
			k.alerts++;
		} else if (!overdue && warn > 0 && m->warned_at == 0 &&
			   now >= m->deadline - warn) {
			ret = tell_officer(w, wd, m, "milestone_warning",
					   error_r);
			if (ret == 0)
				ret = cm_store_milestone_mark(w->store, m->id,
							      false, now,
							      error_r);
			if (ret < 0)
				goto out;
			k.warnings++;
		}
	}
	if (k.overdue > 0 && w->cfg->milestone_supervisor[0] != '\0') {
		ret = cm_store_notice_digest_since(w->store,
						   cm_now() - DIGEST_EVERY,
						   &recent, error_r);
		if (ret < 0)
			goto out;
		if (!recent) {
			ret = cm_store_notice_add_digest(w->store, NULL,
							 error_r);
			if (ret < 0)
				goto out;
			k.digest = true;
		}
	}
	(void)snprintf(detail, sizeof(detail),
		       "changed=%ld warnings=%ld alerts=%ld overdue=%ld "
		       "digest=%s",
		       k.changed, k.warnings, k.alerts, k.overdue,
		       k.digest ? "yes" : "no");
	ret = cm_store_audit(w->store, w->actor, "milestone.check", NULL,
			     detail, error_r);
	if (ret == 0 && counts_r != NULL)
		*counts_r = k;
out:
	mlist_free(&l);
	return ret;
}

/* cm_milestone_digest_text - the overdue milestones, one per line */
char *
cm_milestone_digest_text(struct cm_store *st, const struct cm_workday *wd,
			 int64_t now, const char **error_r)
{
	struct mlist l = { NULL, 0, 0 };
	struct cm_buf b;
	char dl[32], who[32];
	long late;
	size_t n = 0;
	char *ret = NULL;

	cm_buf_init(&b, DIGEST_MAX);
	if (cm_store_milestone_list(st, 0, true, collect, &l, error_r) < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const struct cm_milestone *m = &l.v[i];

		if (strcmp(m->status, "overdue") != 0)
			continue;
		if (cm_workday_late_by(wd, m->deadline, now, &late, error_r) <
		    0)
			goto out;
		cm_buf_printf(&b, "%s  %s  %s  due %s  %ld working day%s "
			      "late%s\n",
			      m->case_ref, m->kind,
			      victim_words(m->victim_id, who, sizeof(who)),
			      cm_workday_format(wd, m->deadline, dl), late,
			      late == 1 ? "" : "s",
			      m->enhanced ? "  (enhanced rights)" : "");
		n++;
	}
	if (n == 0)
		cm_buf_puts(&b, "No milestone is overdue now.\n");
	ret = cm_buf_steal(&b);
out:
	cm_buf_free(&b);
	mlist_free(&l);
	return ret;
}
