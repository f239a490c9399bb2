/*
 * metrics.c - the store's counts in the OpenMetrics text format
 *
 * SYNOPSIS
 *	cm_metrics_render(st, now, &buf, &err); cm_metrics_eof(&buf);
 *
 * DESCRIPTION
 *	Reads the counts with cm_store_metrics (one read transaction) into
 *	a small table, then writes each family in a fixed order: TYPE,
 *	UNIT when it has one, HELP, then its samples. Counter families are
 *	named without _total and their samples with it, as OpenMetrics 1.0
 *	requires. The label sets of the notices are the schema's statuses
 *	and channels, the outcomes, statuses and authors the schema
 *	allows, each present with 0 when the store has none.
 *
 * DIAGNOSTICS
 *	Nothing is logged; store errors go back with *error_r.
 *
 * SECURITY
 *	Label values come from CHECK-constrained columns, and are escaped
 *	all the same.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_metrics.h"

#define ROWS_MAX 128 /* rows of one reading (the schema has ~40) */
#define LABEL_MAX 32 /* bytes of one label value kept */

struct mrow {
	const char *key; /* static: cm_store_metrics' key */
	char a[LABEL_MAX], b[LABEL_MAX];
	bool has_a, has_b;
	int64_t value;
};

struct mtab {
	struct mrow row[ROWS_MAX];
	size_t n;
};

static const char *const notice_status[] = {
	"queued", "sending", "sent", "deferred", "failed", "suppressed",
};
static const char *const notice_channel[] = { "email", "sms" };
static const char *const delivery_what[] = { "message", "quarantine",
					     "event" };
static const char *const message_status[] = { "posted", "held",
					      "rejected" };
static const char *const message_author[] = { "victim", "officer",
					      "system" };
static const char *const quarantine_status[] = { "held", "released",
						 "deleted" };

#define V(a) a, CM_ARRAY_SIZE(a)

/* keep - cm_store_metrics' callback: one row into the table */
static int
keep(const char *key, const char *a, const char *b, int64_t value,
     void *ctx)
{
	struct mtab *t = ctx;
	struct mrow *r;

	if (t->n == ROWS_MAX)
		return -1;
	r = &t->row[t->n++];
	r->key = key;
	r->has_a = a != NULL;
	r->has_b = b != NULL;
	cm_strlcpy(r->a, a != NULL ? a : "", sizeof(r->a));
	cm_strlcpy(r->b, b != NULL ? b : "", sizeof(r->b));
	r->value = value;
	return 0;
}

/* find - the row of key with labels a and b (NULL: any), or NULL */
static const struct mrow *
find(const struct mtab *t, const char *key, const char *a, const char *b)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct mrow *r = &t->row[i];

		if (strcmp(r->key, key) == 0 &&
		    (a == NULL || strcmp(r->a, a) == 0) &&
		    (b == NULL || strcmp(r->b, b) == 0))
			return r;
	}
	return NULL;
}

/* listed - is s one of v[0..n) */
static bool
listed(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return true;
	return false;
}

/* cm_metrics_label - a label value, escaped */
void
cm_metrics_label(struct cm_buf *out, const char *s)
{
	(void)cm_buf_putc(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			(void)cm_buf_printf(out, "\\%c", *s);
		else if (*s == '\n')
			(void)cm_buf_puts(out, "\\n");
		else
			(void)cm_buf_putc(out, *s);
	}
	(void)cm_buf_putc(out, '"');
}

/* family - the TYPE, UNIT and HELP lines of one family */
static void
family(struct cm_buf *o, const char *name, const char *type,
       const char *unit, const char *help)
{
	(void)cm_buf_printf(o, "# TYPE %s %s\n", name, type);
	if (unit != NULL)
		(void)cm_buf_printf(o, "# UNIT %s %s\n", name, unit);
	(void)cm_buf_printf(o, "# HELP %s %s\n", name, help);
}

/* sample - one line NAME[{la="a"[,lb="b"]}] VALUE */
static void
sample(struct cm_buf *o, const char *name, const char *la, const char *a,
       const char *lb, const char *b, int64_t v)
{
	(void)cm_buf_puts(o, name);
	if (la != NULL) {
		(void)cm_buf_printf(o, "{%s=", la);
		cm_metrics_label(o, a);
		if (lb != NULL) {
			(void)cm_buf_printf(o, ",%s=", lb);
			cm_metrics_label(o, b);
		}
		(void)cm_buf_putc(o, '}');
	}
	(void)cm_buf_printf(o, " %lld\n", (long long)v);
}

/* single - the value of a one-row key (0 when absent) */
static int64_t
single(const struct mtab *t, const char *key)
{
	const struct mrow *r = find(t, key, NULL, NULL);

	return r != NULL ? r->value : 0;
}

/*
 * grid - the samples of key as name: every combination of the known
 * label values va x vb (vb NULL: one label), 0 where the store has
 * none, then any row with a value not known here
 */
static void
grid(struct cm_buf *o, const struct mtab *t, const char *key,
     const char *name, const char *la, const char *const *va, size_t na,
     const char *lb, const char *const *vb, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		for (size_t k = 0; k < (vb != NULL ? nb : 1); k++) {
			const char *b = vb != NULL ? vb[k] : NULL;
			const struct mrow *r = find(t, key, va[i], b);

			sample(o, name, la, va[i], vb != NULL ? lb : NULL, b,
			       r != NULL ? r->value : 0);
		}
	for (size_t i = 0; i < t->n; i++) {
		const struct mrow *r = &t->row[i];

		if (strcmp(r->key, key) != 0 || (listed(r->a, va, na) &&
		    (vb == NULL || listed(r->b, vb, nb))))
			continue;
		sample(o, name, la, r->a, vb != NULL ? lb : NULL, r->b,
		       r->value);
	}
}

/* cm_metrics_render - the store's families */
int
cm_metrics_render(struct cm_store *st, int64_t now, struct cm_buf *out,
		  const char **error_r)
{
	struct mtab *t = cm_xcalloc(1, sizeof(*t)); /* 10 KiB */
	int ret;

	ret = cm_store_metrics(st, now, keep, t, error_r);
	if (ret < 0)
		goto out;
	family(out, "casemail_notices", "gauge", NULL,
	       "Notices by status and channel.");
	grid(out, t, "notices", "casemail_notices", "status",
	     V(notice_status), "channel", V(notice_channel));
	family(out, "casemail_notice_oldest_due_age_seconds", "gauge",
	       "seconds", "Time since the oldest notice waiting to be sent "
	       "fell due (0 when none waits).");
	sample(out, "casemail_notice_oldest_due_age_seconds", NULL, NULL,
	       NULL, NULL, single(t, "notice_oldest_due_age"));
	family(out, "casemail_deliveries", "counter", NULL,
	       "Mail delivered by Postfix or fetched, by outcome.");
	grid(out, t, "deliveries", "casemail_deliveries_total", "outcome",
	     V(delivery_what), NULL, NULL, 0);
	family(out, "casemail_messages", "gauge", NULL,
	       "Messages in the case threads by status (held: waiting for "
	       "an officer) and author.");
	grid(out, t, "messages", "casemail_messages", "status",
	     V(message_status), "author", V(message_author));
	family(out, "casemail_quarantine", "gauge", NULL,
	       "Quarantined messages by status (held: waiting for review).");
	grid(out, t, "quarantine", "casemail_quarantine", "status",
	     V(quarantine_status), NULL, NULL, 0);
	family(out, "casemail_bounces", "counter", NULL,
	       "Bounces of notices recorded.");
	sample(out, "casemail_bounces_total", NULL, NULL, NULL, NULL,
	       single(t, "bounces"));
	family(out, "casemail_addresses_undeliverable", "gauge", NULL,
	       "Victims' email addresses given up after hard bounces.");
	sample(out, "casemail_addresses_undeliverable", NULL, NULL, NULL,
	       NULL, single(t, "addresses_undeliverable"));
	family(out, "casemail_login_links_issued", "counter", NULL,
	       "One-time login links issued.");
	sample(out, "casemail_login_links_issued_total", NULL, NULL, NULL,
	       NULL, single(t, "login_links_issued"));
	family(out, "casemail_login_links_redeemed", "counter", NULL,
	       "One-time login links redeemed.");
	sample(out, "casemail_login_links_redeemed_total", NULL, NULL, NULL,
	       NULL, single(t, "login_links_redeemed"));
	if (find(t, "milestones_overdue", NULL, NULL) != NULL) {
		family(out, "casemail_milestones_overdue", "gauge", NULL,
		       "Victims' Code milestones past their deadline and "
		       "not met.");
		sample(out, "casemail_milestones_overdue", NULL, NULL, NULL,
		       NULL, single(t, "milestones_overdue"));
	}
	if (out->len + 16 >= out->max) {
		*error_r = "metrics: the exposition is too large";
		ret = CM_ERR;
	}
out:
	free(t);
	return ret;
}

/* cm_metrics_eof - the end of the exposition */
void
cm_metrics_eof(struct cm_buf *out)
{
	(void)cm_buf_puts(out, "# EOF\n");
}
