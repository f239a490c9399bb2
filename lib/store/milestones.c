/*
 * milestones.c - the Victims' Code: milestones and their deadlines, the
 * updates that meet them, the compliance report's rows, and the
 * victims whose agreed rhythm of updates is due
 *
 * SYNOPSIS
 *	cm_store_milestone_add(st, &m, &id, &error);
 *	cm_store_milestone_refresh(st, now, &changed, &error);
 *
 * DESCRIPTION
 *	A milestone is met by the first update sent after it: an
 *	officer's posted, victim-visible message on the case, addressed
 *	to its victim (or to all), whose update notice to that victim was
 *	sent (MET_BY below). The refresh records it and sets every open
 *	milestone's status; the report finds the same without writing.
 *	These statements run once per command and are not cached.
 *
 * DIAGNOSTICS
 *	A mark on a missing milestone gives CM_ENOENT.
 *
 * SECURITY
 *	Read and write only what the queries name; no text is pasted
 *	into SQL.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- milestones ---- */

/* cm_store_milestone_add - record a milestone */
int
cm_store_milestone_add(struct cm_store *st, const struct cm_milestone *m,
		       int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO milestones (case_id, victim_id, kind, at,"
		" officer_id, enhanced, deadline, status, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, sql, "milestone add", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, m->case_id);
	store_bind_id(st, s, 2, m->victim_id);
	store_bind_text(st, s, 3, m->kind);
	store_bind_int(st, s, 4, m->at);
	store_bind_id(st, s, 5, m->officer_id);
	store_bind_int(st, s, 6, m->enhanced ? 1 : 0);
	store_bind_int(st, s, 7, m->deadline);
	store_bind_int(st, s, 8, cm_now());
	ret = store_insert(st, s, "milestone add", id_r, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR, "milestone add: bug");
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_milestone_list - milestones of a case or of every case */
int
cm_store_milestone_list(struct cm_store *st, int64_t case_id, bool open_only,
			int (*fn)(const struct cm_milestone *m, void *ctx),
			void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT m.id, m.case_id, c.ref, c.oic_id, m.victim_id,"
		" m.kind, m.at, m.officer_id, m.enhanced, m.deadline,"
		" m.met_at, m.met_message_id, m.status, m.warned_at,"
		" m.alerted_at, m.created_at FROM milestones m"
		" JOIN cases c ON c.id = m.case_id"
		" WHERE (?1 IS NULL OR m.case_id = ?1)"
		" AND (?2 = 0 OR m.status IN ('pending', 'overdue'))"
		" ORDER BY m.case_id, m.at, m.id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_milestone m;
	size_t i;
	int ret;

	if ((ret = store_prep_once(st, sql, "milestone list", &s, error_r)) < 0)
		goto out;
	store_bind_id(st, s, 1, case_id);
	store_bind_int(st, s, 2, open_only ? 1 : 0);
	if ((ret = store_fetch(st, s, "milestone list", &r, error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		const struct cell *c = store_row(&r, i);

		memset(&m, 0, sizeof(m));
		m.id = c[0].i;
		m.case_id = c[1].i;
		m.case_ref = c[2].s;
		m.oic_id = c[3].i;
		m.victim_id = c[4].i;
		m.kind = c[5].s;
		m.at = c[6].i;
		m.officer_id = c[7].i;
		m.enhanced = c[8].i != 0;
		m.deadline = c[9].i;
		m.met_at = c[10].i;
		m.met_message_id = c[11].i;
		m.status = c[12].s;
		m.warned_at = c[13].i;
		m.alerted_at = c[14].i;
		m.created_at = c[15].i;
		if (fn(&m, ctx) != 0)
			break;
	}
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	return ret;
}

/* the update that meets milestone "milestones" (correlated): sent to
 * its victim, or for a milestone of every victim a message to all */
#define MET_BY                                                          \
	" FROM notices n JOIN messages g ON g.id = n.message_id"        \
	" WHERE n.kind = 'update' AND n.status = 'sent'"                \
	" AND g.case_id = milestones.case_id AND g.author = 'officer'"  \
	" AND g.visibility = 'victim' AND g.status = 'posted'"          \
	" AND g.kind = 'message' AND g.at >= milestones.at"             \
	" AND ((milestones.victim_id IS NULL AND g.victim_id IS NULL)"  \
	" OR (n.victim_id = milestones.victim_id"                       \
	" AND (g.victim_id IS NULL"                                     \
	" OR g.victim_id = milestones.victim_id)))"

/* the status a milestone has at ?1 */
#define MS_STATUS                                                       \
	"CASE WHEN met_at IS NOT NULL AND met_at <= deadline THEN 'met'" \
	" WHEN met_at IS NOT NULL THEN 'late'"                          \
	" WHEN ?1 > deadline THEN 'overdue' ELSE 'pending' END"

/* cm_store_milestone_refresh - find the updates that met milestones and
 * set every open milestone's status as of now */
int
cm_store_milestone_refresh(struct cm_store *st, int64_t now,
			   int64_t *changed_r, const char **error_r)
{
	static const char met[] =
		"UPDATE milestones SET met_at = (SELECT min(n.updated_at)"
		MET_BY "), met_message_id = (SELECT g.id" MET_BY
		" ORDER BY n.updated_at, g.id LIMIT 1) WHERE met_at IS NULL";
	static const char status[] =
		"UPDATE milestones SET status = " MS_STATUS
		" WHERE status IN ('pending', 'overdue')"
		" AND status <> " MS_STATUS;
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, met, "milestone refresh", &s,
				   error_r)) < 0)
		goto out;
	if ((ret = store_run(st, s, "milestone refresh", error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	if ((ret = store_prep_once(st, status, "milestone refresh", &s,
				   error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, now);
	if ((ret = store_run(st, s, "milestone refresh", error_r)) < 0)
		goto out;
	if (changed_r != NULL)
		*changed_r = sqlite3_changes(st->db);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_milestone_mark - the officer was warned, or alerted */
int
cm_store_milestone_mark(struct cm_store *st, int64_t id, bool alerted,
			int64_t at, const char **error_r)
{
	static const char warned_sql[] =
		"UPDATE milestones SET warned_at = ?2 WHERE id = ?1";
	static const char alerted_sql[] =
		"UPDATE milestones SET alerted_at = ?2 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, alerted ? alerted_sql : warned_sql,
				   "milestone mark", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_int(st, s, 2, at);
	ret = store_run_changed(st, s, "milestone mark", error_r);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_milestone_enhanced - enhanced rights of a victim, or of any
 * victim of the case */
int
cm_store_milestone_enhanced(struct cm_store *st, int64_t case_id,
			    int64_t victim_id, bool *enhanced_r,
			    const char **error_r)
{
	static const char sql[] =
		"SELECT coalesce(max(enhanced), 0) FROM victims"
		" WHERE case_id = ?1 AND (?2 IS NULL OR id = ?2)";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*enhanced_r = false;
	if ((ret = store_prep_once(st, sql, "enhanced rights", &s,
				   error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, case_id);
	store_bind_id(st, s, 2, victim_id);
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "enhanced rights", error_r);
		goto out;
	}
	*enhanced_r = sqlite3_column_int64(s, 0) != 0;
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---- the compliance report ---- */

/*
 * cm_store_milestone_report - milestones whose deadline lies in
 * [lo, hi], each with the time its meeting update was sent as far as
 * the notices tell now (met_at as stored, else found the way the
 * refresh finds it), so that the report needs no write transaction
 */
int
cm_store_milestone_report(struct cm_store *st, int64_t lo, int64_t hi,
			  int (*fn)(const struct cm_milestone *m, void *ctx),
			  void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT milestones.id, milestones.case_id, c.ref, c.oic_id,"
		" milestones.victim_id, milestones.kind, milestones.at,"
		" milestones.officer_id, milestones.enhanced,"
		" milestones.deadline, coalesce(milestones.met_at,"
		" (SELECT min(n.updated_at)" MET_BY ")),"
		" milestones.status, milestones.created_at"
		" FROM milestones JOIN cases c ON c.id = milestones.case_id"
		" WHERE milestones.deadline BETWEEN ?1 AND ?2"
		" ORDER BY milestones.deadline, milestones.id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_milestone m;
	size_t i;
	int ret;

	if ((ret = store_prep_once(st, sql, "milestone report", &s,
				   error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, lo);
	store_bind_int(st, s, 2, hi);
	if ((ret = store_fetch(st, s, "milestone report", &r, error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		const struct cell *c = store_row(&r, i);

		memset(&m, 0, sizeof(m));
		m.id = c[0].i;
		m.case_id = c[1].i;
		m.case_ref = c[2].s;
		m.oic_id = c[3].i;
		m.victim_id = c[4].i;
		m.kind = c[5].s;
		m.at = c[6].i;
		m.officer_id = c[7].i;
		m.enhanced = c[8].i != 0;
		m.deadline = c[9].i;
		m.met_at = c[10].i;
		m.status = c[11].s;
		m.created_at = c[12].i;
		if (fn(&m, ctx) != 0)
			break;
	}
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	return ret;
}

/* ---- the update rhythm agreed with the victim ---- */

/* an update sent to victim ?1: an officer's posted, victim-visible
 * message addressed to them or to all, its notice to them sent */
#define RHYTHM_SENT                                                     \
	" FROM notices n JOIN messages g ON g.id = n.message_id"        \
	" WHERE n.kind = 'update' AND n.status = 'sent'"                \
	" AND n.victim_id = v.id AND g.author = 'officer'"              \
	" AND g.visibility = 'victim' AND g.status = 'posted'"          \
	" AND g.kind = 'message'"                                       \
	" AND (g.victim_id IS NULL OR g.victim_id = v.id)"

/* cm_store_rhythm_list - the victims who agreed a rhythm of updates */
int
cm_store_rhythm_list(struct cm_store *st,
		     int (*fn)(const struct cm_rhythm_row *r, void *ctx),
		     void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT v.id, v.case_id, c.ref, c.oic_id, c.status,"
		" v.update_rhythm, v.created_at,"
		" (SELECT max(n.updated_at)" RHYTHM_SENT "),"
		" (SELECT max(e.at) FROM messages e WHERE e.case_id = v.case_id"
		"  AND e.victim_id = v.id AND e.author = 'system'"
		"  AND e.kind = 'event' AND e.body LIKE 'Update rhythm:%')"
		" FROM victims v JOIN cases c ON c.id = v.case_id"
		" WHERE v.update_rhythm <> 'milestones' ORDER BY v.id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_rhythm_row row;
	size_t i;
	int ret;

	if ((ret = store_prep_once(st, sql, "rhythm list", &s, error_r)) < 0)
		goto out;
	if ((ret = store_fetch(st, s, "rhythm list", &r, error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		const struct cell *c = store_row(&r, i);

		memset(&row, 0, sizeof(row));
		row.victim_id = c[0].i;
		row.case_id = c[1].i;
		row.case_ref = c[2].s;
		row.oic_id = c[3].i;
		row.case_open = c[4].s != NULL && strcmp(c[4].s, "open") == 0;
		row.rhythm = c[5].s;
		row.since = c[6].i;
		row.last_sent = c[7].i;
		row.last_reminder = c[8].i;
		if (fn(&row, ctx) != 0)
			break;
	}
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_rhythm_sent - when updates were sent to a victim */
int
cm_store_rhythm_sent(struct cm_store *st, int64_t victim_id, int64_t lo,
		     int64_t hi, int (*fn)(int64_t at, void *ctx), void *ctx,
		     const char **error_r)
{
	static const char sql[] =
		"SELECT n.updated_at FROM victims v JOIN notices n"
		" ON n.victim_id = v.id JOIN messages g ON g.id = n.message_id"
		" WHERE v.id = ?1 AND n.kind = 'update' AND n.status = 'sent'"
		" AND g.author = 'officer' AND g.visibility = 'victim'"
		" AND g.status = 'posted' AND g.kind = 'message'"
		" AND (g.victim_id IS NULL OR g.victim_id = v.id)"
		" AND n.updated_at BETWEEN ?2 AND ?3 ORDER BY n.updated_at";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	size_t i;
	int ret;

	if ((ret = store_prep_once(st, sql, "rhythm sent", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, victim_id);
	store_bind_int(st, s, 2, lo);
	store_bind_int(st, s, 3, hi);
	if ((ret = store_fetch(st, s, "rhythm sent", &r, error_r)) < 0)
		goto out;
	for (i = 0; i < r.nrows; i++)
		if (fn(store_row(&r, i)[0].i, ctx) != 0)
			break;
out:
	sqlite3_finalize(s);
	store_rows_free(&r);
	return ret;
}
