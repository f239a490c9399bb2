/*
 * quarantine.c - messages that found no place: held with the reason,
 * then released to a case or deleted
 *
 * SYNOPSIS
 *	cm_store_quarantine_add(st, &q, &id, &error);
 *	cm_store_quarantine_set(st, id, "released", case_id, "victim",
 *				&error);
 *
 * DESCRIPTION
 *	An entry points at the raw message (thread.c), whose size it
 *	records. A get's strings live in the store's scratch until the
 *	next call.
 *
 * DIAGNOSTICS
 *	A missing entry gives CM_ENOENT.
 *
 * SECURITY
 *	Sender, recipient and subject are as received: hostile text,
 *	bound and never interpreted.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* the columns rows are read with, in the order the code below
 * reads them */
#define QUAR_COLS                                                       \
	"id, at, reason, sender, recipient, queue_id, message_id, subject," \
	" status, case_id, released_as, raw_id, size"

/* quar_fill - q from a row (strings borrowed from the row) */
static void
quar_fill(const struct cell *c, struct cm_quarantine *q)
{
	q->id = c[0].i;
	q->at = c[1].i;
	q->reason = c[2].s;
	q->sender = c[3].s;
	q->recipient = c[4].s;
	q->queue_id = c[5].s;
	q->message_id = c[6].s;
	q->subject = c[7].s;
	q->status = c[8].s;
	q->case_id = c[9].i;
	q->released_as = c[10].s;
	q->raw_id = c[11].i;
	q->size = c[12].i;
}

/* cm_store_quarantine_add - hold a message that found no place */
int
cm_store_quarantine_add(struct cm_store *st, const struct cm_quarantine *q,
			int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO quarantine (at, reason, sender,"
		" recipient, queue_id, message_id, subject, status,"
		" raw_id, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		" 'held', ?8, coalesce((SELECT size FROM"
		" raw_messages WHERE id = ?8), 0))";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, cm_now());
	store_bind_text(st, s, 2, q->reason ? q->reason : "unknown");
	store_bind_text(st, s, 3, q->sender);
	store_bind_text(st, s, 4, q->recipient);
	store_bind_text(st, s, 5, q->queue_id);
	store_bind_text(st, s, 6, q->message_id);
	store_bind_text(st, s, 7, q->subject);
	store_bind_id(st, s, 8, q->raw_id);
	if ((ret = store_run(st, s, "quarantine add", error_r)) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
out:
	store_done(s);
	return ret;
}

/* cm_store_quarantine_get - one entry, strings in the store's scratch */
int
cm_store_quarantine_get(struct cm_store *st, int64_t id,
			struct cm_quarantine *q_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " QUAR_COLS " FROM quarantine WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	memset(q_r, 0, sizeof(*q_r));
	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	if ((ret = store_fetch(st, s, "quarantine get", &st->scratch,
			       error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT,
				  "no quarantine entry %lld", (long long)id);
		goto out;
	}
	quar_fill(store_row(&st->scratch, 0), q_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_quarantine_list - entries by id, all or of one status */
int
cm_store_quarantine_list(struct cm_store *st, const char *status,
			 int (*fn)(const struct cm_quarantine *q, void *ctx),
			 void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " QUAR_COLS " FROM quarantine"
		" WHERE ?1 IS NULL OR status = ?1 ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_quarantine q;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, status);
	if ((ret = store_fetch(st, s, "quarantine list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		quar_fill(store_row(&r, i), &q);
		if (fn(&q, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_quarantine_set - status, and case and role when released */
int
cm_store_quarantine_set(struct cm_store *st, int64_t id,
			const char *status, int64_t case_id,
			const char *released_as, const char **error_r)
{
	static const char sql[] =
		"UPDATE quarantine SET status = ?2, case_id = ?3,"
		" released_as = ?4 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, status);
	store_bind_id(st, s, 3, case_id);
	store_bind_text(st, s, 4, released_as);
	ret = store_run_changed(st, s, "quarantine set", error_r);
out:
	store_done(s);
	return ret;
}
