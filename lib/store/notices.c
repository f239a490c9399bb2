/*
 * notices.c - the outbound queue: notices to victims, officers and the
 * supervisor, claimed by the sender, deferred, sent or failed
 *
 * SYNOPSIS
 *	cm_store_notice_add(st, &n, &id, &error);
 *	cm_store_notice_claim_many(st, now, lease, max, fn, ctx, &error);
 *
 * DESCRIPTION
 *	A notice is queued due now. The sender claims a batch in one
 *	statement: queued or deferred notices that are due, and notices
 *	being sent whose lease ran out (a sender that died); each becomes
 *	"sending" under a lease. An officer_notify still waiting takes a
 *	newer message instead of a second notice. Message-IDs are kept
 *	without angle brackets.
 *
 * DIAGNOSTICS
 *	Updates of a missing notice give CM_ENOENT.
 *
 * SECURITY
 *	A notice carries no case content; the login link in it is a token
 *	(tokens.c) stored only as a keyed hash.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* the columns rows are read with, in the order the code below
 * reads them */
#define NOTICE_COLS                                                     \
	"id, case_id, victim_id, officer_id, message_id, kind, channel," \
	" status, attempts, next_attempt_at, lease_until, last_error,"  \
	" sent_message_id, provider_id, created_at, updated_at"

/* notice_fill - n from a row (strings borrowed from the row) */
static void
notice_fill(const struct cell *c, struct cm_notice *n)
{
	n->id = c[0].i;
	n->case_id = c[1].i;
	n->victim_id = c[2].i;
	n->officer_id = c[3].i;
	n->message_id = c[4].i;
	n->kind = c[5].s;
	n->channel = c[6].s;
	n->status = c[7].s;
	n->attempts = (long)c[8].i;
	n->next_attempt_at = c[9].i;
	n->lease_until = c[10].i;
	n->last_error = c[11].s;
	n->sent_message_id = c[12].s;
	n->provider_id = c[13].s;
	n->created_at = c[14].i;
	n->updated_at = c[15].i;
}

/* notice_one - run a prepared notice query into the scratch and *n_r */
static int
notice_one(struct cm_store *st, sqlite3_stmt *s, const char *what,
	   struct cm_notice *n_r, const char **error_r)
{
	int ret;

	memset(n_r, 0, sizeof(*n_r));
	store_rows_free(&st->scratch);
	if ((ret = store_fetch(st, s, what, &st->scratch, error_r)) < 0)
		return ret;
	if (st->scratch.nrows == 0)
		return store_error(st, error_r, CM_ENOENT, "%s: no such notice",
				   what);
	notice_fill(store_row(&st->scratch, 0), n_r);
	return 0;
}

/* cm_store_notice_add - queue a notice, due now */
int
cm_store_notice_add(struct cm_store *st, const struct cm_notice *n,
		    int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO notices (case_id, victim_id,"
		" officer_id, message_id, kind, channel, status,"
		" attempts, next_attempt_at, lease_until,"
		" created_at, updated_at) VALUES (?1, ?2, ?3, ?4,"
		" ?5, ?6, 'queued', 0, ?7, 0, ?7, ?7)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, n->case_id);
	store_bind_id(st, s, 2, n->victim_id);
	store_bind_id(st, s, 3, n->officer_id);
	store_bind_id(st, s, 4, n->message_id);
	store_bind_text(st, s, 5, n->kind);
	store_bind_text(st, s, 6, n->channel);
	store_bind_int(st, s, 7, cm_now());
	if ((ret = store_run(st, s, "notice add", error_r)) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
out:
	store_done(s);
	return ret;
}

/* cm_store_notice_coalesce - point a waiting officer_notify at a newer
 * message; 0 when one was waiting, CM_ENOENT when none */
int
cm_store_notice_coalesce(struct cm_store *st, int64_t case_id,
			 int64_t officer_id, int64_t victim_id,
			 int64_t message_id, const char **error_r)
{
	/* an officer_notify still waiting for the same officer about the
	 * same victim of the case takes the newer message instead (never a
	 * notification about held mail in an officer's name) */
	static const char sql[] =
		"UPDATE notices SET message_id = ?4,"
		" updated_at = ?5 WHERE id = (SELECT n.id"
		" FROM notices n JOIN messages m"
		" ON m.id = n.message_id WHERE n.case_id = ?1"
		" AND n.officer_id = ?2"
		" AND n.kind = 'officer_notify'"
		" AND n.status IN ('queued', 'deferred')"
		" AND m.author = 'victim' AND m.victim_id IS ?3"
		" ORDER BY n.id LIMIT 1)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, case_id);
	store_bind_int(st, s, 2, officer_id);
	store_bind_id(st, s, 3, victim_id);
	store_bind_int(st, s, 4, message_id);
	store_bind_int(st, s, 5, cm_now());
	ret = store_run_changed(st, s, "notice coalesce", error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_notice_get - one notice, strings in the store's scratch */
int
cm_store_notice_get(struct cm_store *st, int64_t id, struct cm_notice *n_r,
		    const char **error_r)
{
	static const char sql[] =
		"SELECT " NOTICE_COLS " FROM notices WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	ret = notice_one(st, s, "notice get", n_r, error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_notice_list - notices by id, all or of one status */
int
cm_store_notice_list(struct cm_store *st, const char *status,
		     int (*fn)(const struct cm_notice *n, void *ctx),
		     void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " NOTICE_COLS " FROM notices"
		" WHERE ?1 IS NULL OR status = ?1 ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_notice n;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, status);
	if ((ret = store_fetch(st, s, "notice list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		notice_fill(store_row(&r, i), &n);
		if (fn(&n, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_notice_set_status - status and last error */
int
cm_store_notice_set_status(struct cm_store *st, int64_t id,
			   const char *status, const char *last_error,
			   const char **error_r)
{
	static const char sql[] =
		"UPDATE notices SET status = ?2,"
		" last_error = ?3, updated_at = ?4"
		" WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, status);
	store_bind_text(st, s, 3, last_error);
	store_bind_int(st, s, 4, cm_now());
	ret = store_run_changed(st, s, "notice set status", error_r);
out:
	store_done(s);
	return ret;
}

/* strip_brackets - copy of a Message-ID without <>; caller frees */
static char *
strip_brackets(const char *id)
{
	size_t n;

	if (id == NULL)
		return NULL;
	n = strlen(id);
	if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
		return cm_xstrndup(id + 1, n - 2);
	return cm_xstrdup(id);
}

/* cm_store_notice_set_msgid - the Message-ID it was sent with */
int
cm_store_notice_set_msgid(struct cm_store *st, int64_t id,
			  const char *message_id, const char **error_r)
{
	static const char sql[] =
		"UPDATE notices SET sent_message_id = ?2,"
		" updated_at = ?3 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	char *bare = strip_brackets(message_id);
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, bare);
	store_bind_int(st, s, 3, cm_now());
	ret = store_run_changed(st, s, "notice set message-id", error_r);
out:
	store_done(s);
	free(bare);
	return ret;
}

/* cm_store_notice_find_msgid - the notice sent with this Message-ID */
int
cm_store_notice_find_msgid(struct cm_store *st, const char *message_id,
			   struct cm_notice *n_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " NOTICE_COLS " FROM notices"
		" WHERE sent_message_id = ?1"
		" ORDER BY id LIMIT 1";
	sqlite3_stmt *s = NULL;
	char *bare = strip_brackets(message_id ? message_id : "");
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, bare);
	ret = notice_one(st, s, "notice find", n_r, error_r);
out:
	store_done(s);
	free(bare);
	return ret;
}

/* ---- the sender's claim on the queue ---- */

/* due_order - qsort: rows by next_attempt_at, then id */
static int
due_order(const void *a, const void *b)
{
	const struct cell *x = *(const struct cell *const *)a;
	const struct cell *y = *(const struct cell *const *)b;

	if (x[9].i != y[9].i)
		return x[9].i < y[9].i ? -1 : 1;
	if (x[0].i != y[0].i)
		return x[0].i < y[0].i ? -1 : 1;
	return 0;
}

/* cm_store_notice_claim_many - lease up to max due notices for sending,
 * handed to fn oldest due first */
int
cm_store_notice_claim_many(struct cm_store *st, int64_t now,
			   long lease_seconds, long max,
			   int (*fn)(const struct cm_notice *n, void *ctx),
			   void *ctx, const char **error_r)
{
	/* up to ?3 notices: three index-ordered probes (status,
	 * next_attempt_at) of ?3 rows each instead of sorting every due
	 * row; one statement for a whole batch, because the "sending"
	 * probe walks every notice being sent (RETURNING has no order:
	 * the caller sorts) */
	static const char sql[] =
		"UPDATE notices SET status = 'sending',"
		" lease_until = ?1 + ?2, attempts = attempts + 1,"
		" updated_at = ?1 WHERE id IN (SELECT id FROM ("
		" SELECT * FROM (SELECT id, next_attempt_at AS t"
		" FROM notices WHERE status = 'queued' AND"
		" next_attempt_at <= ?1 ORDER BY next_attempt_at,"
		" id LIMIT ?3) UNION ALL"
		" SELECT * FROM (SELECT id, next_attempt_at AS t"
		" FROM notices WHERE status = 'deferred' AND"
		" next_attempt_at <= ?1 ORDER BY next_attempt_at,"
		" id LIMIT ?3) UNION ALL"
		" SELECT * FROM (SELECT id, next_attempt_at AS t"
		" FROM notices WHERE status = 'sending' AND"
		" lease_until <= ?1 ORDER BY next_attempt_at, id"
		" LIMIT ?3)) ORDER BY t, id LIMIT ?3)"
		" RETURNING " NOTICE_COLS;
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	const struct cell **order = NULL;
	struct cm_notice n;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, now);
	store_bind_int(st, s, 2, lease_seconds);
	store_bind_int(st, s, 3, max);
	if ((ret = store_fetch(st, s, "notice claim", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	order = cm_xcalloc(r.nrows + 1, sizeof(*order));
	for (size_t i = 0; i < r.nrows; i++)
		order[i] = store_row(&r, i);
	qsort(order, r.nrows, sizeof(*order), due_order);
	for (size_t i = 0; i < r.nrows; i++) {
		notice_fill(order[i], &n);
		if ((ret = fn(&n, ctx)) != 0)
			break;
	}
out:
	free(order);
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* cm_store_notice_defer - try again later */
int
cm_store_notice_defer(struct cm_store *st, int64_t id,
		      int64_t next_attempt_at, const char *last_error,
		      const char **error_r)
{
	static const char sql[] =
		"UPDATE notices SET status = 'deferred',"
		" next_attempt_at = ?2, last_error = ?3,"
		" lease_until = 0, updated_at = ?4"
		" WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_int(st, s, 2, next_attempt_at);
	store_bind_text(st, s, 3, last_error);
	store_bind_int(st, s, 4, cm_now());
	ret = store_run_changed(st, s, "notice defer", error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_notice_set_provider - the SMS gateway's id for it */
int
cm_store_notice_set_provider(struct cm_store *st, int64_t id,
			     const char *provider_id, const char **error_r)
{
	static const char sql[] =
		"UPDATE notices SET provider_id = ?2,"
		" updated_at = ?3 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, provider_id);
	store_bind_int(st, s, 3, cm_now());
	ret = store_run_changed(st, s, "notice set provider", error_r);
out:
	store_done(s);
	return ret;
}

/* ---- the supervisor's digest ---- */

/* cm_store_notice_add_digest - queue the supervisor's digest */
int
cm_store_notice_add_digest(struct cm_store *st, int64_t *id_r,
			   const char **error_r)
{
	static const char sql[] =
		"INSERT INTO notices (kind, channel, status, attempts,"
		" next_attempt_at, lease_until, created_at, updated_at)"
		" VALUES ('milestone_digest', 'email', 'queued', 0, ?1, 0,"
		" ?1, ?1)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep_once(st, sql, "digest add", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, cm_now());
	ret = store_insert(st, s, "digest add", id_r, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR, "digest add: bug");
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_notice_digest_since - was a digest queued since then */
int
cm_store_notice_digest_since(struct cm_store *st, int64_t since,
			     bool *found_r, const char **error_r)
{
	static const char sql[] =
		"SELECT count(*) FROM notices WHERE kind = 'milestone_digest'"
		" AND created_at >= ?1";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*found_r = false;
	if ((ret = store_prep_once(st, sql, "digest find", &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, since);
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "digest find", error_r);
		goto out;
	}
	*found_r = sqlite3_column_int64(s, 0) > 0;
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}
