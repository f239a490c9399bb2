/*
 * tokens.c - login tokens and portal sessions, kept as keyed hashes
 *
 * SYNOPSIS
 *	cm_store_token_add(st, hash, &t, &id, &error);
 *	cm_store_token_use(st, id, now, &error);
 *	cm_store_session_find(st, hash, &s, &error);
 *
 * DESCRIPTION
 *	A login token is used once: cm_store_token_use marks it only if
 *	it is still unused, in one statement. A session records activity
 *	(idle timeout) and its end (log out); expiry is the caller's
 *	decision.
 *
 * DIAGNOSTICS
 *	A token used already, or a session ended already, gives
 *	CM_ENOENT.
 *
 * SECURITY
 *	Token and session values are never stored, only their keyed
 *	hashes (cm_token_hash), CM_HASH_LEN bytes each.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* the columns rows are read with, in the order the code below
 * reads them */
#define TOKEN_COLS                                                      \
	"id, kind, notice_id, victim_id, case_id, created_at, expires_at," \
	" used_at"
#define SESSION_COLS                                                    \
	"id, victim_id, case_id, token_id, created_at, seen_at,"        \
	" expires_at, ended_at"

/* ---- login tokens ---- */

/* cm_store_token_add - keep the hash of a new token */
int
cm_store_token_add(struct cm_store *st, const unsigned char *hash,
		   const struct cm_token_row *t, int64_t *id_r,
		   const char **error_r)
{
	static const char sql[] =
		"INSERT INTO tokens (hash, kind, notice_id,"
		" victim_id, case_id, created_at, expires_at,"
		" used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		" NULL)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_blob(st, s, 1, hash, CM_HASH_LEN);
	store_bind_text(st, s, 2, t->kind);
	store_bind_id(st, s, 3, t->notice_id);
	store_bind_int(st, s, 4, t->victim_id);
	store_bind_int(st, s, 5, t->case_id);
	store_bind_int(st, s, 6, t->created_at ? t->created_at : cm_now());
	store_bind_int(st, s, 7, t->expires_at);
	ret = store_insert(st, s, "token add", id_r, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR,
				  "token add: the token exists already");
out:
	store_done(s);
	return ret;
}

/* cm_store_token_find - a token row by hash */
int
cm_store_token_find(struct cm_store *st, const unsigned char *hash,
		    struct cm_token_row *t_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " TOKEN_COLS " FROM tokens WHERE hash = ?1";
	sqlite3_stmt *s = NULL;
	struct cell *c;
	int ret;

	memset(t_r, 0, sizeof(*t_r));
	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_blob(st, s, 1, hash, CM_HASH_LEN);
	if ((ret = store_fetch(st, s, "token find", &st->scratch, error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no such token");
		goto out;
	}
	c = store_row(&st->scratch, 0);
	t_r->id = c[0].i;
	t_r->kind = c[1].s;
	t_r->notice_id = c[2].i;
	t_r->victim_id = c[3].i;
	t_r->case_id = c[4].i;
	t_r->created_at = c[5].i;
	t_r->expires_at = c[6].i;
	t_r->used_at = c[7].i;
out:
	store_done(s);
	return ret;
}

/* cm_store_token_use - mark used unless it already was (single use) */
int
cm_store_token_use(struct cm_store *st, int64_t id, int64_t now,
		   const char **error_r)
{
	static const char sql[] =
		"UPDATE tokens SET used_at = ?2"
		" WHERE id = ?1 AND used_at IS NULL";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_int(st, s, 2, now ? now : cm_now());
	ret = store_run(st, s, "token use", error_r);
	if (ret == 0 && sqlite3_changes(st->db) != 1)
		ret = store_error(st, error_r, CM_ENOENT,
				  "token was used already");
out:
	store_done(s);
	return ret;
}

/* ---- portal sessions ---- */

/* cm_store_session_add - a new session row under its hash */
int
cm_store_session_add(struct cm_store *st, const unsigned char *hash,
		     const struct cm_session *ss, int64_t *id_r,
		     const char **error_r)
{
	static const char sql[] =
		"INSERT INTO sessions (hash, victim_id, case_id,"
		" token_id, created_at, seen_at, expires_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)";
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_blob(st, s, 1, hash, CM_HASH_LEN);
	store_bind_int(st, s, 2, ss->victim_id);
	store_bind_int(st, s, 3, ss->case_id);
	store_bind_id(st, s, 4, ss->token_id);
	store_bind_int(st, s, 5, ss->created_at ? ss->created_at : cm_now());
	store_bind_int(st, s, 6, ss->expires_at);
	ret = store_insert(st, s, "session add", id_r, error_r);
	if (ret == CM_STORE_DUPLICATE)
		ret = store_error(st, error_r, CM_ERR,
				  "session add: the session exists already");
out:
	store_done(s);
	return ret;
}

/* cm_store_session_find - a session row by hash */
int
cm_store_session_find(struct cm_store *st, const unsigned char *hash,
		      struct cm_session *s_r, const char **error_r)
{
	static const char sql[] =
		"SELECT " SESSION_COLS " FROM sessions"
		" WHERE hash = ?1";
	sqlite3_stmt *s = NULL;
	struct cell *c;
	int ret;

	memset(s_r, 0, sizeof(*s_r));
	store_rows_free(&st->scratch);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_blob(st, s, 1, hash, CM_HASH_LEN);
	if ((ret = store_fetch(st, s, "session find", &st->scratch,
			       error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = store_error(st, error_r, CM_ENOENT, "no such session");
		goto out;
	}
	c = store_row(&st->scratch, 0);
	s_r->id = c[0].i;
	s_r->victim_id = c[1].i;
	s_r->case_id = c[2].i;
	s_r->token_id = c[3].i;
	s_r->created_at = c[4].i;
	s_r->seen_at = c[5].i;
	s_r->expires_at = c[6].i;
	s_r->ended_at = c[7].i;
out:
	store_done(s);
	return ret;
}

/* session_set - touch or end session id at now (sql says which) */
static int
session_set(struct cm_store *st, const char *sql, int64_t id,
	    int64_t now, const char *what, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	store_need_txn(st);
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, id);
	store_bind_int(st, s, 2, now ? now : cm_now());
	ret = store_run_changed(st, s, what, error_r);
out:
	store_done(s);
	return ret;
}

/* cm_store_session_touch - record activity on a live session */
int
cm_store_session_touch(struct cm_store *st, int64_t id, int64_t now,
		       const char **error_r)
{
	static const char sql[] =
		"UPDATE sessions SET seen_at = ?2"
		" WHERE id = ?1 AND ended_at IS NULL";

	return session_set(st, sql, id, now, "session touch", error_r);
}

/* cm_store_session_end - end a live session (log out) */
int
cm_store_session_end(struct cm_store *st, int64_t id, int64_t now,
		     const char **error_r)
{
	static const char sql[] =
		"UPDATE sessions SET ended_at = ?2"
		" WHERE id = ?1 AND ended_at IS NULL";

	return session_set(st, sql, id, now, "session end", error_r);
}
