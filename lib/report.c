/*
 * report.c - the Victims' Code compliance report: milestones due, met,
 * late and overdue per month and kind, for all victims and for those
 * with enhanced rights
 *
 * SYNOPSIS
 *	See cm_report.h.
 *
 * DESCRIPTION
 *	The store hands over the milestones whose deadline lies near the
 *	period, each with the time its meeting update was sent; this file
 *	keeps those whose deadline date (in the force's time zone) is in
 *	the period, judges each as of now and adds it to eight cells: its
 *	kind and every kind, its month and the whole period, all and (when
 *	its deadline was the enhanced one) enhanced. The delays of late
 *	milestones are kept per cell until the end, when their median and
 *	maximum are taken.
 *
 * DIAGNOSTICS
 *	Bad dates give CM_ERR with a static message; store errors are
 *	passed up unchanged.
 *
 * SECURITY
 *	Nothing from a victim or an officer is read: ids, kinds and times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_report.h"
#include "cm_rhythm.h"

#define GROUPS 2          /* all, enhanced */
#define SLACK (3 * 86400) /* around the period, before the local check */

/* struct delays - working days late of each late milestone in a cell */
struct delays {
	long *v;
	size_t n, cap;
};

struct cm_report {
	size_t nmonths;
	char (*months)[16];   /* "YYYY-MM", nmonths + 1 ("total") */
	int first_y, first_m; /* the period's first month */
	long from_day, to_day; /* YYYYMMDD */
	size_t nkinds;
	char *kinds[CM_REPORT_KINDS_MAX];
	/* [(month * GROUPS + group) * (CM_REPORT_KINDS_MAX + 1) + kind] */
	struct cm_report_cell *cells;
	struct delays *delays;
	const struct cm_workday *wd;
	int64_t now;
	struct cm_report_rhythm rhythm[CM_REPORT_RHYTHMS];
	int error;            /* from the callback */
	const char *errmsg;
};

/* at - the index of a cell */
static size_t
at(size_t month, int group, size_t kind)
{
	return (month * GROUPS + (size_t)group) * (CM_REPORT_KINDS_MAX + 1) +
	       kind;
}

/* parse_day - "YYYY-MM-DD" into *y_r, *m_r and YYYYMMDD; 0 or CM_ERR */
static int
parse_day(const struct cm_workday *wd, const char *s, int *y_r, int *m_r,
	  long *day_r, int64_t *t_r, const char **error_r)
{
	int d = 0;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    cm_workday_parse_time(wd, s, t_r, error_r) < 0 ||
	    cm_workday_local_date(wd, *t_r, y_r, m_r, &d, error_r) < 0) {
		*error_r = "expected a date YYYY-MM-DD";
		return CM_ERR;
	}
	*day_r = *y_r * 10000L + *m_r * 100L + d;
	return 0;
}

/* kind_index - the index of kind, added when new; -1 when full */
static int
kind_index(struct cm_report *r, const char *kind, size_t len)
{
	size_t k;

	for (k = 0; k < r->nkinds; k++)
		if (strlen(r->kinds[k]) == len &&
		    strncmp(r->kinds[k], kind, len) == 0)
			return (int)k;
	if (r->nkinds == CM_REPORT_KINDS_MAX)
		return -1;
	r->kinds[r->nkinds] = cm_xstrndup(kind, len);
	return (int)r->nkinds++;
}

/* add_to - count m's outcome in one cell */
static void
add_to(struct cm_report *r, size_t idx, const char *state, long late)
{
	struct cm_report_cell *c = &r->cells[idx];
	struct delays *d = &r->delays[idx];

	c->due++;
	if (strcmp(state, "met") == 0)
		c->met++;
	else if (strcmp(state, "overdue") == 0)
		c->overdue++;
	else if (strcmp(state, "pending") == 0)
		c->pending++;
	else {
		c->late++;
		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 8;
			d->v = cm_xrealloc(d->v, d->cap * sizeof(*d->v));
		}
		d->v[d->n++] = late;
	}
}

/* count - one milestone from the store */
static int
count(const struct cm_milestone *m, void *ctx)
{
	struct cm_report *r = ctx;
	const char *state;
	int y, mo, d, g, k;
	long day, late = 0;
	size_t month;

	if (cm_workday_local_date(r->wd, m->deadline, &y, &mo, &d,
				  &r->errmsg) < 0) {
		r->error = CM_ERR;
		return -1;
	}
	day = y * 10000L + mo * 100L + d;
	if (day < r->from_day || day > r->to_day)
		return 0;
	month = (size_t)((y - r->first_y) * 12 + (mo - r->first_m));
	k = kind_index(r, m->kind, strlen(m->kind));
	if (k < 0) {
		r->error = CM_ERR;
		r->errmsg = "too many milestone kinds for one report";
		return -1;
	}
	if (m->met_at != 0 && m->met_at <= r->now) {
		state = m->met_at <= m->deadline ? "met" : "late";
		if (m->met_at > m->deadline &&
		    cm_workday_late_by(r->wd, m->deadline, m->met_at, &late,
				       &r->errmsg) < 0) {
			r->error = CM_ERR;
			return -1;
		}
	} else
		state = r->now > m->deadline ? "overdue" : "pending";
	for (g = 0; g < GROUPS; g++) {
		if (g == 1 && !m->enhanced)
			break;
		add_to(r, at(month, g, (size_t)k), state, late);
		add_to(r, at(month, g, CM_REPORT_KINDS_MAX), state, late);
		add_to(r, at(r->nmonths, g, (size_t)k), state, late);
		add_to(r, at(r->nmonths, g, CM_REPORT_KINDS_MAX), state,
		       late);
	}
	return 0;
}

/* cmp_long - qsort order of longs */
static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* summarise - the median and the worst delay of every cell */
static void
summarise(struct cm_report *r)
{
	size_t i, n = (r->nmonths + 1) * GROUPS * (CM_REPORT_KINDS_MAX + 1);

	for (i = 0; i < n; i++) {
		struct delays *d = &r->delays[i];
		struct cm_report_cell *c = &r->cells[i];

		if (d->n == 0)
			continue;
		qsort(d->v, d->n, sizeof(*d->v), cmp_long);
		c->late_worst = d->v[d->n - 1];
		if (d->n % 2 == 1)
			c->late_median = (double)d->v[d->n / 2];
		else
			c->late_median =
				(double)(d->v[d->n / 2 - 1] + d->v[d->n / 2]) /
				2.0;
	}
}

/* configured_kinds - the kinds of milestone_kinds, in order */
static void
configured_kinds(struct cm_report *r, const char *p)
{
	size_t n;

	for (;;) {
		p += strspn(p, " ,");
		if (*p == '\0')
			break;
		n = strcspn(p, " ,:");
		if (n > 0 && kind_index(r, p, n) < 0)
			break;
		p += strcspn(p, " ,");
	}
}

/* period - parse and check from and to into r */
static int
period(struct cm_report *r, const struct cm_workday *wd, const char *from,
       const char *to, int64_t *lo_r, int64_t *hi_r, const char **error_r)
{
	int ty = 0, tm = 0, ret;
	long months;

	ret = parse_day(wd, from, &r->first_y, &r->first_m, &r->from_day,
			lo_r, error_r);
	if (ret == 0)
		ret = parse_day(wd, to, &ty, &tm, &r->to_day, hi_r, error_r);
	if (ret < 0)
		goto out;
	months = (ty - r->first_y) * 12L + (tm - r->first_m) + 1;
	if (r->to_day < r->from_day || months > CM_REPORT_MONTHS_MAX) {
		*error_r = r->to_day < r->from_day
				   ? "the period ends before it starts"
				   : "a report covers at most 120 months";
		ret = CM_ERR;
		goto out;
	}
	r->nmonths = (size_t)months;
out:
	return ret;
}

/* cm_report_period_check - are from and to a period to report on */
int
cm_report_period_check(const struct cm_workday *wd, const char *from,
		       const char *to, const char **error_r)
{
	struct cm_report r;
	int64_t lo, hi;

	memset(&r, 0, sizeof(r));
	return period(&r, wd, from, to, &lo, &hi, error_r);
}

/* struct rlist - victims with a rhythm, copied out of the store */
struct rlist {
	struct {
		int64_t victim_id, since;
		size_t rhythm;
	} *v;
	size_t n, cap;
};

/* collect_rhythm - keep one victim with a rhythm the report counts */
static int
collect_rhythm(const struct cm_rhythm_row *r, void *ctx)
{
	struct rlist *l = ctx;
	size_t i;

	for (i = 0; i < CM_REPORT_RHYTHMS; i++)
		if (strcmp(r->rhythm, cm_report_rhythm_name(i)) == 0)
			break;
	if (i == CM_REPORT_RHYTHMS)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = cm_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].victim_id = r->victim_id;
	l->v[l->n].since = r->since;
	l->v[l->n].rhythm = i;
	l->n++;
	return 0;
}

/* struct times - send times of one victim's updates */
struct times {
	int64_t *v;
	size_t n, cap;
};

/* collect_time - keep one send time */
static int
collect_time(int64_t at, void *ctx)
{
	struct times *t = ctx;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = cm_xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n++] = at;
	return 0;
}

/*
 * rhythms - the agreed-rhythm figures: each victim added before the
 * period's end counts; each whole period from when they were added
 * (or from the period's start, when later) that ended by the period's
 * end and by now counts as due, and as kept when an update was sent
 * to them within it
 */
static int
rhythms(struct cm_report *r, struct cm_store *st, int64_t lo, int64_t end,
	const char **error_r)
{
	struct rlist l = { NULL, 0, 0 };
	struct times t = { NULL, 0, 0 };
	int64_t limit = end < r->now ? end : r->now, start, p, a;
	size_t i, j;
	int ret;

	ret = cm_store_rhythm_list(st, collect_rhythm, &l, error_r);
	for (i = 0; ret == 0 && i < l.n; i++) {
		struct cm_report_rhythm *h = &r->rhythm[l.v[i].rhythm];

		if (l.v[i].since >= end)
			continue;
		h->victims++;
		p = cm_rhythm_period(cm_report_rhythm_name(l.v[i].rhythm));
		start = l.v[i].since > lo ? l.v[i].since : lo;
		if (p == 0 || start + p > limit)
			continue;
		t.n = 0;
		ret = cm_store_rhythm_sent(st, l.v[i].victim_id, start, limit,
					   collect_time, &t, error_r);
		/* at most 120 months of weeks: bounded */
		for (a = start, j = 0; ret == 0 && a + p <= limit; a += p) {
			h->periods++;
			while (j < t.n && t.v[j] < a)
				j++;
			if (j < t.n && t.v[j] < a + p)
				h->kept++;
		}
	}
	free(t.v);
	free(l.v);
	return ret;
}

/* cm_report_compliance - build the report */
int
cm_report_compliance(struct cm_store *st, const struct cm_config *cfg,
		     const struct cm_workday *wd, const char *from,
		     const char *to, int64_t now, struct cm_report **report_r,
		     const char **error_r)
{
	struct cm_report *r = cm_xcalloc(1, sizeof(*r));
	int64_t lo = 0, hi = 0;
	size_t i, ncells;
	int ret;

	*report_r = NULL;
	r->wd = wd;
	r->now = now;
	if ((ret = period(r, wd, from, to, &lo, &hi, error_r)) < 0)
		goto out;
	r->months = cm_xcalloc(r->nmonths + 1, sizeof(*r->months));
	for (i = 0; i < r->nmonths; i++) {
		int y = r->first_y + (r->first_m - 1 + (int)i) / 12;
		int m = (r->first_m - 1 + (int)i) % 12 + 1;

		(void)snprintf(r->months[i], sizeof(r->months[i]),
			       "%04d-%02d", y, m);
	}
	cm_strlcpy(r->months[r->nmonths], "total", sizeof(r->months[0]));
	ncells = (r->nmonths + 1) * GROUPS * (CM_REPORT_KINDS_MAX + 1);
	r->cells = cm_xcalloc(ncells, sizeof(*r->cells));
	r->delays = cm_xcalloc(ncells, sizeof(*r->delays));
	configured_kinds(r, cfg->milestone_kinds);
	ret = cm_store_milestone_report(st, lo - SLACK, hi + SLACK, count, r,
					error_r);
	if (ret == 0 && r->error != 0) {
		ret = r->error;
		*error_r = r->errmsg;
	}
	if (ret == 0)
		ret = rhythms(r, st, lo, hi + 86400, error_r);
	if (ret < 0)
		goto out;
	summarise(r);
	*report_r = r;
	r = NULL;
out:
	cm_report_free(&r);
	return ret;
}

/* cm_report_nmonths - months in the period */
size_t
cm_report_nmonths(const struct cm_report *r)
{
	return r->nmonths;
}

/* cm_report_month - the name of month i */
const char *
cm_report_month(const struct cm_report *r, size_t i)
{
	return i <= r->nmonths ? r->months[i] : "total";
}

/* cm_report_nkinds - kinds reported */
size_t
cm_report_nkinds(const struct cm_report *r)
{
	return r->nkinds;
}

/* cm_report_kind - the name of kind k */
const char *
cm_report_kind(const struct cm_report *r, size_t k)
{
	return k < r->nkinds ? r->kinds[k] : "all";
}

/* cm_report_cell - the figures of one kind in one month */
const struct cm_report_cell *
cm_report_cell(const struct cm_report *r, size_t i, bool enhanced, size_t k)
{
	if (i > r->nmonths)
		i = r->nmonths;
	if (k >= r->nkinds)
		k = CM_REPORT_KINDS_MAX;
	return &r->cells[at(i, enhanced ? 1 : 0, k)];
}

/* cm_report_rhythm_name - the name of rhythm i */
const char *
cm_report_rhythm_name(size_t i)
{
	static const char *const names[CM_REPORT_RHYTHMS] = {
		"weekly", "fortnightly", "monthly"
	};

	return i < CM_REPORT_RHYTHMS ? names[i] : "milestones";
}

/* cm_report_rhythm - the agreed-rhythm figures of rhythm i */
const struct cm_report_rhythm *
cm_report_rhythm(const struct cm_report *r, size_t i)
{
	return &r->rhythm[i < CM_REPORT_RHYTHMS ? i : 0];
}

/* cm_report_free - release a report */
void
cm_report_free(struct cm_report **rp)
{
	struct cm_report *r = *rp;
	size_t i, ncells;

	if (r == NULL)
		return;
	if (r->delays != NULL) {
		ncells = (r->nmonths + 1) * GROUPS * (CM_REPORT_KINDS_MAX + 1);
		for (i = 0; i < ncells; i++)
			free(r->delays[i].v);
	}
	free(r->delays);
	free(r->cells);
	for (i = 0; i < r->nkinds; i++)
		free(r->kinds[i]);
	free(r->months);
	free(r);
	*rp = NULL;
}
