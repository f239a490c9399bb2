/*
 * thread.c - the thread of a case: raw messages as received, the
 * messages shown, their attachments, and the deliveries recorded to
 * tell a message delivered twice
 *
 * SYNOPSIS
 *	cm_store_raw_put(st, data, len, &raw_id, sha_hex, &error);
 *	cm_store_message_add(st, &m, &message_id, &error);
 *	cm_store_delivery_add(st, key, "message", message_id, &error);
 *
 * DESCRIPTION
 *	Raw bytes are kept once per SHA-256. Messages are listed oldest
 *	first (by time, then id); a get's strings live in the store's
 *	scratch until the next call.
 *
 * DIAGNOSTICS
 *	A delivery key recorded twice gives CM_ERR naming it.
 *
 * SECURITY
 *	Message bodies are stored as given and never logged.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* the columns rows are read with, in the order the code below
 * reads them */
#define MSG_COLS                                                        \
	"id, case_id, at, author, victim_id, officer_id, visibility,"   \
	" status, kind, body, body_full, quoted, subject, sender,"      \
	" message_id, in_reply_to, source, raw_id, placement"
#define ATT_COLS "message_id, filename, content_type, size, sha256"

/* ---- raw messages ---- */

/* cm_store_raw_put - keep raw bytes once per SHA-256 */
int
cm_store_raw_put(struct cm_store *st, const void *data, size_t len,
		 int64_t *raw_id_r, char *sha_hex_r, const char **error_r)
{
	char hex[65];

	cm_token_sha256_hex(data, len, hex);
	if (sha_hex_r != NULL)
		memcpy(sha_hex_r, hex, sizeof(hex));
	return cm_store_raw_put_sha(st, data, len, hex, raw_id_r, error_r);
}

/* cm_store_raw_put_sha - keep raw bytes whose SHA-256 the caller has */
int
cm_store_raw_put_sha(struct cm_store *st, const void *data, size_t len,
		     const char *sha_hex, int64_t *raw_id_r,
		     const char **error_r)
{
	static const char sql_raw_add[] =
		"INSERT OR IGNORE INTO raw_messages (sha256, size,"
		" data, at) VALUES (?1, ?2, ?3, ?4)";
	static const char sql_raw_id[] =
		"SELECT id FROM raw_messages WHERE sha256 = ?1";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	store_need_txn(st);
	if ((ret = store_prep(st, sql_raw_add, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, sha_hex);
	store_bind_int(st, s, 2, (int64_t)len);
	store_bind_blob(st, s, 3, data, len);
	store_bind_int(st, s, 4, cm_now());
	if ((ret = store_run(st, s, "raw message", error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	if ((ret = store_prep(st, sql_raw_id, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, sha_hex);
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc,
				 "raw message", error_r);
		goto out;
	}
	if (raw_id_r != NULL)
		*raw_id_r = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* cm_store_raw_get - a copy of the raw bytes (NUL-terminated) */
int
cm_store_raw_get(struct cm_store *st, int64_t raw_id, char **data_r,
		 size_t *len_r, const char **error_r)
{
	static const char sql[] =
		"SELECT data FROM raw_messages WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	const void *p;
	size_t n;
	int ret, rc;

	*data_r = NULL;
	*len_r = 0;
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, raw_id);
	rc = store_step(st, s);
	if (rc == SQLITE_DONE) {
		ret = store_error(st, error_r, CM_ENOENT,
				  "no raw message %lld", (long long)raw_id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "raw message", error_r);
		goto out;
	}
	p = sqlite3_column_blob(s, 0);
	n = (size_t)sqlite3_column_bytes(s, 0);
	*data_r = cm_xmalloc(n + 1); /* UNSAFE: n < 2^31 */
	if (n > 0 && p != NULL)
		memcpy(*data_r, p, n);
	(*data_r)[n] = '\0';
	*len_r = n;
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* ---- messages ---- */

/* message_fill - m from a row (strings borrowed from the row) */
static void
message_fill(const struct cell *c, struct cm_message *m)
{
	m->id = c[0].i;
	m->case_id = c[1].i;
	m->at = c[2].i;
	m->author = c[3].s;
	m->victim_id = c[4].i;
	m->officer_id = c[5].i;
	m->visibility = c[6].s;
	m->status = c[7].s;
	m->kind = c[8].s;
	m->body = c[9].s;
	m->body_full = c[10].s;
	m->quoted = c[11].s;
	m->subject = c[12].s;
	m->sender = c[13].s;
	m->message_id = c[14].s;
	m->in_reply_to = c[15].s;
	m->source = c[16].s;
	m->raw_id = c[17].i;
	m->placement = c[18].s;
}

/* cm_store_message_add - append a message to a thread */
int
cm_store_message_add(struct cm_store *st, const struct cm_message *m,
		     int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO messages (case_id, at, author, victim_id,"
		" officer_id, visibility, status, kind, body,"
		" body_full, quoted, subject, sender, message_id,"
		" in_reply_to, source, raw_id, placement) VALUES (?1,"
		" ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14, ?15, ?16, ?17, ?18)";
	sqlite3_stmt *s = NULL;
	const char *body = m->body ? m->body : "";
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, m->case_id);
	store_bind_int(st, s, 2, m->at ? m->at : cm_now());
	store_bind_text(st, s, 3, m->author);
	store_bind_id(st, s, 4, m->victim_id);
	store_bind_id(st, s, 5, m->officer_id);
	store_bind_text(st, s, 6, m->visibility);
	store_bind_text(st, s, 7, m->status ? m->status : "posted");
	store_bind_text(st, s, 8, m->kind ? m->kind : "message");
	store_bind_text(st, s, 9, body);
	store_bind_text(st, s, 10, m->body_full ? m->body_full : body);
	store_bind_text(st, s, 11, m->quoted);
	store_bind_text(st, s, 12, m->subject);
	store_bind_text(st, s, 13, m->sender);
	store_bind_text(st, s, 14, m->message_id);
	store_bind_text(st, s, 15, m->in_reply_to);
	store_bind_text(st, s, 16, m->source);
	store_bind_id(st, s, 17, m->raw_id);
	store_bind_text(st, s, 18, m->placement);
	if ((ret = store_run(st, s, "message add", error_r)) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
out:
	store_done(s);
	return ret;
}

/* cm_store_message_get - one message, strings in the store's scratch */
int
cm_store_message_get(struct cm_store *st, int64_t id,
		     struct cm_message *m_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " MSG_COLS " FROM messages WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	memset(m_r, 0, sizeof(*m_r));
	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	if ((ret = store_fetch(st, s, "message get", &st->scratch,
			       error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no message %lld",
				  (long long)id);
		goto out;
	}
	message_fill(store_row(&st->scratch, 0), m_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_message_set_status - posted, held or rejected */
int
cm_store_message_set_status(struct cm_store *st, int64_t id,
			    const char *status, const char **error_r)
{
	static const char sql[] =
		"UPDATE messages SET status = ?2 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_text(st, s, 2, status);
	ret = store_run_changed(st, s, "message set status", error_r);
out:
	store_done(s);
	return ret;
}

/* message_list - run a prepared message query and call fn per row */
static int
message_list(struct cm_store *st, sqlite3_stmt *s,
	     int (*fn)(const struct cm_message *m, void *ctx), void *ctx,
	     const char **error_r)
{
	struct rows r = { 0 };
	struct cm_message m;
	size_t i;
	int ret;

	ret = store_fetch(st, s, "thread", &r, error_r);
	store_done(s);
	if (ret < 0)
		goto out;
	for (i = 0; i < r.nrows; i++) {
		message_fill(store_row(&r, i), &m);
		if (fn(&m, ctx) != 0)
			break;
	}
out:
	store_rows_free(&r);
	return ret;
}

/* cm_store_thread - the messages of a case, oldest first */
int
cm_store_thread(struct cm_store *st, int64_t case_id,
		int (*fn)(const struct cm_message *m, void *ctx), void *ctx,
		const char **error_r)
{
	static const char sql[] =
		"SELECT " MSG_COLS " FROM messages WHERE case_id = ?1"
		" ORDER BY at, id";
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		return ret;
	store_bind_int(st, s, 1, case_id);
	return message_list(st, s, fn, ctx, error_r);
}

/* cm_store_held_list - held messages, oldest first */
int
cm_store_held_list(struct cm_store *st,
		   int (*fn)(const struct cm_message *m, void *ctx),
		   void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " MSG_COLS " FROM messages WHERE status = 'held'"
		" ORDER BY at, id";
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		return ret;
	return message_list(st, s, fn, ctx, error_r);
}

/* ---- attachments ---- */

/* cm_store_attachment_add - describe one attachment of a message */
int
cm_store_attachment_add(struct cm_store *st,
			const struct cm_attachment_row *a,
			const char **error_r)
{
	static const char sql[] =
		"INSERT INTO attachments (message_id, filename,"
		" content_type, size, sha256)"
		" VALUES (?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, a->message_id);
	store_bind_text(st, s, 2, a->filename);
	store_bind_text(st, s, 3, a->content_type);
	store_bind_int(st, s, 4, a->size);
	store_bind_text(st, s, 5, a->sha256);
	ret = store_run(st, s, "attachment add", error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_attachment_list - the attachments of a message */
int
cm_store_attachment_list(struct cm_store *st, int64_t message_id,
			 int (*fn)(const struct cm_attachment_row *a,
				   void *ctx),
			 void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " ATT_COLS " FROM attachments"
		" WHERE message_id = ?1 ORDER BY id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_attachment_row a;
	struct cell *c;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, message_id);
	if ((ret = store_fetch(st, s, "attachment list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		c = store_row(&r, i);
		a.message_id = c[0].i;
		a.filename = c[1].s;
		a.content_type = c[2].s;
		a.size = c[3].i;
		a.sha256 = c[4].s;
		if (fn(&a, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* ---- deliveries ---- */

/* cm_store_delivery_find - was this delivery key recorded */
int
cm_store_delivery_find(struct cm_store *st, const char *key,
		       const char **what_r, int64_t *ref_id_r,
		       const char **error_r)
{
	static const char sql[] =
		"SELECT what, ref_id FROM deliveries"
		" WHERE key = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, key);
	if ((ret = store_fetch(st, s, "delivery find", &st->scratch, error_r)) <
	    0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no such delivery");
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

/* cm_store_delivery_add - record a delivery key (unique) */
int
cm_store_delivery_add(struct cm_store *st, const char *key,
		      const char *what, int64_t ref_id,
		      const char **error_r)
{
	static const char sql[] =
		"INSERT INTO deliveries (key, what, ref_id, at)"
		" VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, key);
	store_bind_text(st, s, 2, what);
	store_bind_id(st, s, 3, ref_id);
	store_bind_int(st, s, 4, cm_now());
	ret = store_insert(st, s, "delivery add", NULL, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR,
				  "delivery %s is already recorded", key);
out:
	store_done(s);
	return ret;
}
