/*
 * imap_seen.c - what the IMAP poller has stored, by mailbox,
 * UIDVALIDITY and UID
 *
 * SYNOPSIS
 *	cm_store_imap_seen_find(st, box, uidvalidity, uid, &what, &ref,
 *				&error);
 *	cm_store_imap_seen_add(st, box, uidvalidity, uid, "message", id,
 *			       &error);
 *
 * DESCRIPTION
 *	Recorded in the same transaction as the message it stored, so
 *	that a poller killed between the two stores it again or never.
 *	The highest UID seen lets the poller ask only for newer mail.
 *
 * DIAGNOSTICS
 *	A UID recorded twice gives CM_ERR naming it.
 *
 * SECURITY
 *	Mailbox names come from the configuration, bound as text.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* cm_store_imap_seen_find - was this IMAP message stored */
int
cm_store_imap_seen_find(struct cm_store *st, const char *mailbox,
			int64_t uidvalidity, int64_t uid,
			const char **what_r, int64_t *ref_id_r,
			const char **error_r)
{
	static const char sql[] =
		"SELECT what, ref_id FROM imap_seen"
		" WHERE mailbox = ?1 AND uidvalidity = ?2"
		" AND uid = ?3";
	sqlite3_stmt *s = NULL;
	int ret;

	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, mailbox);
	store_bind_int(st, s, 2, uidvalidity);
	store_bind_int(st, s, 3, uid);
	if ((ret = store_fetch(st, s, "imap seen", &st->scratch, error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "not seen");
		goto out;
	}
	if (what_r != NULL)
		*what_r = store_row(&st->scratch, 0)[0].s;
	if (ref_id_r != NULL)
		*ref_id_r = store_row(&st->scratch, 0)[1].i;
out:
	store_done(s);
	return ret;
}

/* cm_store_imap_seen_add - record an IMAP message as stored */
int
cm_store_imap_seen_add(struct cm_store *st, const char *mailbox,
		       int64_t uidvalidity, int64_t uid, const char *what,
		       int64_t ref_id, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO imap_seen (mailbox, uidvalidity, uid,"
		" what, ref_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, mailbox);
	store_bind_int(st, s, 2, uidvalidity);
	store_bind_int(st, s, 3, uid);
	store_bind_text(st, s, 4, what);
	store_bind_id(st, s, 5, ref_id);
	store_bind_int(st, s, 6, cm_now());
	rc = store_step(st, s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		ret = store_error(st, error_r, CM_ERR,
				  "imap %s %lld/%lld is already recorded",
				  mailbox, (long long)uidvalidity,
				  (long long)uid);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_fail(st, rc, "imap seen add", error_r);
		goto out;
	}
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* cm_store_imap_last_uid - the highest uid seen under uidvalidity */
int
cm_store_imap_last_uid(struct cm_store *st, const char *mailbox,
		       int64_t uidvalidity, int64_t *uid_r,
		       const char **error_r)
{
	static const char sql[] =
		"SELECT coalesce(max(uid), 0) FROM imap_seen"
		" WHERE mailbox = ?1 AND uidvalidity = ?2";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*uid_r = 0;
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, mailbox);
	store_bind_int(st, s, 2, uidvalidity);
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "imap last uid", error_r);
		goto out;
	}
	*uid_r = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	store_done(s);
	return ret;
}
