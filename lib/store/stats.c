/*
 * stats.c - the counts behind casemail stats and the metrics
 *
 * SYNOPSIS
 *	cm_store_stats(st, fn, ctx, &error);
 *	cm_store_metrics(st, now, fn, ctx, &error);
 *
 * DESCRIPTION
 *	cm_store_stats reads its counts in one statement; cm_store_metrics
 *	runs one query per metric inside one read transaction (or the
 *	caller's), so that the counts agree with each other. Label
 *	values come from the schema's CHECK constraints.
 *
 * DIAGNOSTICS
 *	A callback that stops cm_store_metrics makes it return CM_ERR.
 *
 * SECURITY
 *	Counts only: no personal data leaves here.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- the counts of casemail stats ---- */

/* the names cm_store_stats reports, in its statement's column order */
static const char *const stat_names[] = {
	"cases",
	"cases_open",
	"officers",
	"victims",
	"messages",
	"messages_held",
	"notices_queued",
	"notices_sending",
	"notices_sent",
	"notices_deferred",
	"notices_failed",
	"notices_suppressed",
	"quarantine_held",
	"raw_bytes",
	"audit_rows",
};

/* cm_store_stats - counts from one consistent read */
int
cm_store_stats(struct cm_store *st,
	       int (*fn)(const char *name, int64_t value, void *ctx),
	       void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT"
		" (SELECT count(*) FROM cases),"
		" (SELECT count(*) FROM cases WHERE status = 'open'),"
		" (SELECT count(*) FROM officers),"
		" (SELECT count(*) FROM victims),"
		" (SELECT count(*) FROM messages),"
		" (SELECT count(*) FROM messages WHERE status = 'held'),"
		" (SELECT count(*) FROM notices WHERE status = 'queued'),"
		" (SELECT count(*) FROM notices WHERE status = 'sending'),"
		" (SELECT count(*) FROM notices WHERE status = 'sent'),"
		" (SELECT count(*) FROM notices"
		"  WHERE status = 'deferred'),"
		" (SELECT count(*) FROM notices WHERE status = 'failed'),"
		" (SELECT count(*) FROM notices"
		"  WHERE status = 'suppressed'),"
		" (SELECT count(*) FROM quarantine WHERE status = 'held'),"
		" (SELECT coalesce(sum(size), 0) FROM raw_messages),"
		" (SELECT count(*) FROM audit)";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	if ((ret = store_fetch(st, s, "stats", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	if (r.nrows != 1 || r.ncols != CM_ARRAY_SIZE(stat_names)) {
		ret = store_error(st, error_r, CM_ERR, "stats: bad result");
		goto out;
	}
	for (i = 0; i < r.ncols; i++)
		if (fn(stat_names[i], store_row(&r, 0)[i].i, ctx) != 0)
			break;
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* ---- the metrics ---- */

/*
 * The metric queries: each row is (label a, label b, value), a label
 * NULL when the metric has fewer. ?1 is the time "now".
 */
static const struct {
	const char *key;
	const char *sql;
} metric_sql[] = {
	{ "notices", "SELECT status, channel, count(*) FROM notices"
		     " GROUP BY status, channel" },
	{ "notice_oldest_due_age",
	  "SELECT NULL, NULL, coalesce(max(0, ?1 - min(next_attempt_at)), 0)"
	  " FROM notices WHERE status IN ('queued', 'deferred')"
	  " AND next_attempt_at <= ?1" },
	{ "deliveries", "SELECT what, NULL, count(*) FROM deliveries"
			" GROUP BY what" },
	{ "messages", "SELECT status, author, count(*) FROM messages"
		      " WHERE kind = 'message' GROUP BY status, author" },
	{ "quarantine", "SELECT status, NULL, count(*) FROM quarantine"
			" GROUP BY status" },
	{ "bounces", "SELECT NULL, NULL, count(*) FROM messages"
		     " WHERE kind = 'bounce'" },
	{ "addresses_undeliverable",
	  "SELECT NULL, NULL, count(*) FROM victims"
	  " WHERE email_status = 'undeliverable'" },
	{ "login_links_issued", "SELECT NULL, NULL, count(*) FROM tokens"
				" WHERE kind = 'login'" },
	{ "login_links_redeemed",
	  "SELECT NULL, NULL, count(*) FROM tokens"
	  " WHERE kind = 'login' AND used_at IS NOT NULL" },
	{ "milestones_overdue",
	  "SELECT NULL, NULL, count(*) FROM milestones"
	  " WHERE status IN ('pending', 'overdue') AND deadline < ?1" },
};

/* cm_store_metrics - every metric query in one read transaction */
int
cm_store_metrics(struct cm_store *st, int64_t now,
		 int (*fn)(const char *key, const char *a, const char *b,
			   int64_t value, void *ctx),
		 void *ctx, const char **error_r)
{
	static const char has_milestones[] =
		"SELECT count(*) FROM sqlite_master WHERE type = 'table'"
		" AND name = 'milestones'";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	bool began = false, milestones = false;
	int ret, rc;

	if (sqlite3_get_autocommit(st->db)) {
		rc = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			ret = store_fail(st, rc, "metrics", error_r);
			goto out;
		}
		began = true;
	}
	if ((ret = store_prep_once(st, has_milestones, "metrics", &s,
				   error_r)) < 0 ||
	    (ret = store_fetch(st, s, "metrics", &r, error_r)) < 0)
		goto out;
	milestones = r.nrows == 1 && store_row(&r, 0)[0].i > 0;
	sqlite3_finalize(s);
	s = NULL;
	store_rows_free(&r);
	for (size_t q = 0; q < CM_ARRAY_SIZE(metric_sql); q++) {
		if (strcmp(metric_sql[q].key, "milestones_overdue") == 0 &&
		    !milestones)
			continue;
		if ((ret = store_prep_once(st, metric_sql[q].sql, "metrics", &s,
					   error_r)) < 0)
			goto out;
		if (sqlite3_bind_parameter_count(s) > 0)
			store_bind_int(st, s, 1, now);
		if ((ret = store_fetch(st, s, "metrics", &r, error_r)) < 0)
			goto out;
		sqlite3_finalize(s);
		s = NULL;
		for (size_t i = 0; i < r.nrows; i++) {
			const struct cell *c = store_row(&r, i);

			if (fn(metric_sql[q].key, c[0].s, c[1].s, c[2].i,
			       ctx) != 0) {
				ret = store_error(st, error_r, CM_ERR,
						  "metrics: stopped");
				goto out;
			}
		}
		store_rows_free(&r);
	}
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	if (began)
		(void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return ret;
}
