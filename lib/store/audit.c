/*
 * audit.c - the hash-chained audit log: appending rows, the meta rows
 * that hold the chain's end, verifying the chain and its anchor
 *
 * SYNOPSIS
 *	cm_store_audit(st, actor, "case.add", ref, detail, &error);
 *	cm_store_audit_verify(st, &rows, &bad_id, &error);
 *
 * DESCRIPTION
 *	Row hash = keyed_hash(CM_KEY_AUDIT, tag, prev_hash, id, at, actor,
 *	action, case_ref, detail), every field length prefixed (and NULL
 *	told apart from ""). The meta rows audit_count, audit_head and
 *	audit_meta_mac (a keyed hash of count and head) are written in the
 *	same transaction as the rows: read at a transaction's first audit
 *	row, kept in memory while it appends more (the write lock is
 *	held, nobody else can append), and written once by
 *	store_audit_flush, which cm_store_commit calls before COMMIT.
 *	Triggers refuse UPDATE and DELETE on audit rows. A meta MAC found
 *	invalid when appending is not re-blessed: the new MAC is written
 *	as zeros so the tampering keeps showing in cm_store_audit_verify.
 *
 * DIAGNOSTICS
 *	cm_store_audit_verify and cm_store_audit_check_anchor say which
 *	row breaks the chain and how (altered, inserted, deleted, cut,
 *	rolled back).
 *
 * SECURITY
 *	The audit key never leaves lib/token.c; this file only asks for
 *	keyed hashes under it.
 */

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* the columns rows are read with, in the order the code below
 * reads them */
#define AUDIT_COLS "id, at, actor, action, case_ref, detail"

/* audit serialisation tags (bump to change the format) */
static const char audit_row_tag[] = "casemail-audit-row-v1";
static const char audit_meta_tag[] = "casemail-audit-meta-v1";
static const unsigned char zero_hash[CM_HASH_LEN];

/* ---- the row hash ---- */

/* put_u64 - 8 bytes big-endian */
static int
put_u64(struct cm_buf *b, uint64_t v)
{
	unsigned char p[8];
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	return cm_buf_append(b, p, sizeof(p));
}

/* put_field - presence byte, then length and bytes when present */
static int
put_field(struct cm_buf *b, const void *p, size_t len, bool present)
{
	if (!present)
		return cm_buf_putc(b, 0);
	if (cm_buf_putc(b, 1) < 0 || put_u64(b, len) < 0)
		return -1;
	return cm_buf_append(b, p, len);
}

/* put_str - a string field (NULL told apart from "") */
static int
put_str(struct cm_buf *b, const char *s, size_t len)
{
	return put_field(b, s, s ? len : 0, s != NULL);
}

/* audit_hash - the keyed hash of one row into out */
static int
audit_hash(const struct cm_secret *secret, const unsigned char *prev,
	   int64_t id, int64_t at, const char *actor, size_t actor_n,
	   const char *action, size_t action_n, const char *case_ref,
	   size_t case_ref_n, const char *detail, size_t detail_n,
	   unsigned char *out)
{
	struct cm_buf b;
	int ret = -1;

	cm_buf_init(&b, 0);
	if (put_field(&b, audit_row_tag, sizeof(audit_row_tag) - 1, true) <
		    0 ||
	    put_field(&b, prev, CM_HASH_LEN, true) < 0 ||
	    put_u64(&b, (uint64_t)id) < 0 || put_u64(&b, (uint64_t)at) < 0 ||
	    put_str(&b, actor, actor_n) < 0 ||
	    put_str(&b, action, action_n) < 0 ||
	    put_str(&b, case_ref, case_ref_n) < 0 ||
	    put_str(&b, detail, detail_n) < 0)
		goto out;
	cm_token_keyed_hash(secret, CM_KEY_AUDIT, b.data, b.len, out);
	ret = 0;
out:
	cm_buf_free(&b);
	return ret;
}

/* meta_mac - keyed hash of (count, head) into out */
static void
meta_mac(const struct cm_secret *secret, int64_t count,
	 const unsigned char *head, unsigned char *out)
{
	unsigned char msg[sizeof(audit_meta_tag) + 8 + CM_HASH_LEN];
	uint64_t v = (uint64_t)count;
	size_t off = sizeof(audit_meta_tag); /* tag and its NUL */
	int i;

	memcpy(msg, audit_meta_tag, sizeof(audit_meta_tag));
	for (i = 7; i >= 0; i--) {
		msg[off + (size_t)i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	memcpy(msg + off + 8, head, CM_HASH_LEN);
	cm_token_keyed_hash(secret, CM_KEY_AUDIT, msg, sizeof(msg), out);
}

/* ---- the meta rows ---- */

/* the audit meta rows as read */
struct audit_meta {
	int64_t count;
	unsigned char head[CM_HASH_LEN];
	unsigned char mac[CM_HASH_LEN];
	int found; /* how many of the three rows exist and are well formed */
};

/* meta_read - the audit meta rows into *m */
static int
meta_read(struct cm_store *st, struct audit_meta *m, const char **error_r)
{
	static const char sql[] =
		"SELECT key, value FROM meta WHERE key IN"
		" ('audit_count', 'audit_head', 'audit_meta_mac')";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cell *c;
	size_t i;
	int ret;

	memset(m, 0, sizeof(*m));
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	if ((ret = store_fetch(st, s, "audit meta", &r, error_r)) < 0)
		goto out;
	for (i = 0; i < r.nrows; i++) {
		c = store_row(&r, i);
		if (c[0].s == NULL)
			continue;
		if (strcmp(c[0].s, "audit_count") == 0 && c[1].s == NULL) {
			m->count = c[1].i;
			m->found++;
		} else if (strcmp(c[0].s, "audit_head") == 0 &&
			   c[1].s != NULL && c[1].n == CM_HASH_LEN) {
			memcpy(m->head, c[1].s, CM_HASH_LEN);
			m->found++;
		} else if (strcmp(c[0].s, "audit_meta_mac") == 0 &&
			   c[1].s != NULL && c[1].n == CM_HASH_LEN) {
			memcpy(m->mac, c[1].s, CM_HASH_LEN);
			m->found++;
		}
	}
	ret = 0;
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* meta_put - one meta row: an integer, or a blob when p is not NULL */
static int
meta_put(struct cm_store *st, const char *key, int64_t v,
	 const unsigned char *p, size_t len, const char **error_r)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO meta (key, value)"
		" VALUES (?1, ?2)";
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, key);
	if (p != NULL)
		store_bind_blob(st, s, 2, p, len);
	else
		store_bind_int(st, s, 2, v);
	ret = store_run(st, s, "audit meta", error_r);
out:
	store_done(s);
	return ret;
}

/* meta_write - count, head and their MAC (zeros when !bless) */
static int
meta_write(struct cm_store *st, int64_t count, const unsigned char *head,
	   bool bless, const char **error_r)
{
	unsigned char mac[CM_HASH_LEN];
	int ret;

	memset(mac, 0, sizeof(mac));
	if (bless)
		meta_mac(st->secret, count, head, mac);
	if ((ret = meta_put(st, "audit_count", count, NULL, 0, error_r)) < 0)
		goto out;
	if ((ret = meta_put(st, "audit_head", 0, head, CM_HASH_LEN,
			    error_r)) < 0)
		goto out;
	ret = meta_put(st, "audit_meta_mac", 0, mac, sizeof(mac), error_r);
out:
	return ret;
}

/* meta_ok - are the meta rows all there with a MAC that verifies */
static bool
meta_ok(struct cm_store *st, const struct audit_meta *m)
{
	unsigned char mac[CM_HASH_LEN];

	if (m->found != 3)
		return false;
	meta_mac(st->secret, m->count, m->head, mac);
	return memcmp(mac, m->mac, CM_HASH_LEN) == 0;
}

/* store_audit_init - migration step 1: an empty chain */
int
store_audit_init(struct cm_store *st, const char **error_r)
{
	if (st->secret == NULL)
		return store_error(st, error_r, CM_ERR,
				   "a secret is needed to create the store");
	return meta_write(st, 0, zero_hash, true, error_r);
}

/* chain_read - the end of the audit chain into st->chain (in a txn) */
static int
chain_read(struct cm_store *st, const char **error_r)
{
	static const char sql[] =
		"SELECT coalesce(max(id), 0) + 1 FROM audit";
	sqlite3_stmt *s = NULL;
	struct audit_meta m;
	int ret, rc;

	if ((ret = meta_read(st, &m, error_r)) < 0)
		goto out;
	/* never re-bless meta rows that somebody else wrote */
	st->chain.bless = meta_ok(st, &m);
	if (m.found != 3)
		memset(m.head, 0, sizeof(m.head));
	memcpy(st->chain.head, m.head, CM_HASH_LEN);
	st->chain.count = m.count;
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	rc = store_step(st, s);
	if (rc != SQLITE_ROW) {
		ret = store_fail(st, rc, "audit", error_r);
		goto out;
	}
	st->chain.next_id = sqlite3_column_int64(s, 0);
	st->chain.valid = true;
out:
	store_done(s);
	return ret;
}

/* store_audit_flush - write the chain's end, kept since the
 * transaction's first audit row, to the meta rows (before COMMIT) */
int
store_audit_flush(struct cm_store *st, const char **error_r)
{
	if (!st->chain.valid)
		return 0;
	return meta_write(st, st->chain.count, st->chain.head,
			  st->chain.bless, error_r);
}

/* ---- appending and verifying ---- */

/* cm_store_audit - append a hash-chained row; the meta rows follow at
 * commit */
int
cm_store_audit(struct cm_store *st, const char *actor, const char *action,
	       const char *case_ref, const char *detail,
	       const char **error_r)
{
	static const char sql[] =
		"INSERT INTO audit (id, at, actor, action, case_ref,"
		" detail, prev_hash, hash)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	sqlite3_stmt *s = NULL;
	unsigned char hash[CM_HASH_LEN];
	int64_t at = cm_now();
	int ret;

	store_need_txn(st);
	if (st->secret == NULL) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit: the store was opened without a "
				  "secret");
		goto out;
	}
	if (actor == NULL || action == NULL) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit: actor and action are required");
		goto out;
	}
	if (!st->chain.valid && (ret = chain_read(st, error_r)) < 0)
		goto out;
	if (audit_hash(st->secret, st->chain.head, st->chain.next_id, at,
		       actor, strlen(actor),
		       action, strlen(action), case_ref,
		       case_ref ? strlen(case_ref) : 0, detail,
		       detail ? strlen(detail) : 0, hash) < 0) {
		ret = store_error(st, error_r, CM_ERR, "audit: row too large");
		goto out;
	}
	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_int(st, s, 1, st->chain.next_id);
	store_bind_int(st, s, 2, at);
	store_bind_text(st, s, 3, actor);
	store_bind_text(st, s, 4, action);
	store_bind_text(st, s, 5, case_ref);
	store_bind_text(st, s, 6, detail);
	store_bind_blob(st, s, 7, st->chain.head, CM_HASH_LEN);
	store_bind_blob(st, s, 8, hash, CM_HASH_LEN);
	if ((ret = store_run(st, s, "audit", error_r)) < 0)
		goto out;
	memcpy(st->chain.head, hash, CM_HASH_LEN);
	st->chain.count++;
	st->chain.next_id++;
out:
	store_done(s);
	return ret;
}

/* text_of - column k as text and its length (NULL for NULL) */
static const char *
text_of(sqlite3_stmt *s, int k, size_t *n_r)
{
	const char *p = NULL;

	*n_r = 0;
	if (sqlite3_column_type(s, k) != SQLITE_NULL) {
		p = (const char *)sqlite3_column_text(s, k);
		*n_r = (size_t)sqlite3_column_bytes(s, k);
	}
	return p;
}

/* hash_col - column k as a CM_HASH_LEN blob, or NULL */
static const unsigned char *
hash_col(sqlite3_stmt *s, int k)
{
	const void *p = sqlite3_column_blob(s, k);

	if (sqlite3_column_bytes(s, k) != CM_HASH_LEN)
		return NULL;
	return p;
}

/* every audit row with its hashes, oldest first */
static const char sql_audit_walk[] =
	"SELECT " AUDIT_COLS ", prev_hash, hash FROM audit"
	" ORDER BY id";

/* cm_store_audit_verify - walk the chain, then check count and head */
int
cm_store_audit_verify(struct cm_store *st, int64_t *rows_r,
		      int64_t *bad_id_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct audit_meta m;
	unsigned char prev[CM_HASH_LEN], hash[CM_HASH_LEN];
	const unsigned char *row_prev, *row_hash;
	const char *actor, *action, *ref, *detail;
	size_t actor_n, action_n, ref_n, detail_n;
	int64_t n = 0, id = 0, last_id = 0, extra_id = 0;
	int ret, rc;

	*rows_r = 0;
	*bad_id_r = 0;
	if (st->secret == NULL) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit verify: the store was opened without "
				  "a secret");
		goto out;
	}
	if ((ret = meta_read(st, &m, error_r)) < 0)
		goto out;
	memset(prev, 0, sizeof(prev));
	if ((ret = store_prep(st, sql_audit_walk, &s, error_r)) < 0)
		goto out;
	while ((rc = store_step(st, s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		actor = text_of(s, 2, &actor_n);
		action = text_of(s, 3, &action_n);
		ref = text_of(s, 4, &ref_n);
		detail = text_of(s, 5, &detail_n);
		row_prev = hash_col(s, 6);
		row_hash = hash_col(s, 7);
		if (row_prev == NULL ||
		    memcmp(row_prev, prev, CM_HASH_LEN) != 0) {
			*bad_id_r = id;
			if (last_id == 0)
				ret = store_error(st, error_r, CM_ERR,
						  "audit row %lld does not "
						  "follow the start of the log"
						  " (a row was deleted or "
						  "inserted)", (long long)id);
			else
				ret = store_error(st, error_r, CM_ERR,
						  "audit row %lld does not "
						  "follow row %lld (a row was "
						  "deleted or inserted)",
						  (long long)id,
						  (long long)last_id);
			goto out;
		}
		if (audit_hash(st->secret, prev, id,
			       sqlite3_column_int64(s, 1), actor, actor_n,
			       action, action_n, ref, ref_n, detail,
			       detail_n, hash) < 0 ||
		    row_hash == NULL ||
		    memcmp(row_hash, hash, CM_HASH_LEN) != 0) {
			*bad_id_r = id;
			ret = store_error(st, error_r, CM_ERR,
					  "audit row %lld does not verify (it "
					  "was altered or forged)",
					  (long long)id);
			goto out;
		}
		memcpy(prev, row_hash, CM_HASH_LEN);
		n++;
		last_id = id;
		if (n == m.count + 1)
			extra_id = id;
	}
	if (rc != SQLITE_DONE) {
		ret = store_fail(st, rc, "audit verify", error_r);
		goto out;
	}
	if (m.found != 3) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit meta rows are missing");
		goto out;
	}
	if (!meta_ok(st, &m)) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit meta rows do not verify (count or "
				  "head was altered)");
		goto out;
	}
	if (n < m.count) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit log has %lld rows but %lld were "
				  "written (rows removed from the end)",
				  (long long)n, (long long)m.count);
		goto out;
	}
	if (n > m.count) {
		*bad_id_r = extra_id;
		ret = store_error(st, error_r, CM_ERR,
				  "audit log has %lld rows but %lld were "
				  "written (rows added from row %lld)",
				  (long long)n, (long long)m.count,
				  (long long)extra_id);
		goto out;
	}
	if (memcmp(prev, m.head, CM_HASH_LEN) != 0) {
		*bad_id_r = last_id;
		ret = store_error(st, error_r, CM_ERR,
				  "audit row %lld is not the head written",
				  (long long)last_id);
		goto out;
	}
	*rows_r = n;
	ret = 0;
out:
	store_done(s);
	return ret;
}

/* cm_store_audit_list - newest first, optionally for one case */
int
cm_store_audit_list(struct cm_store *st, const char *case_ref, long limit,
		    int (*fn)(const struct cm_audit *a, void *ctx),
		    void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT " AUDIT_COLS " FROM audit"
		" WHERE ?1 IS NULL OR case_ref = ?1"
		" ORDER BY id DESC LIMIT ?2";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_audit a;
	struct cell *c;
	size_t i;
	int ret;

	if ((ret = store_prep(st, sql, &s, error_r)) < 0)
		goto out;
	store_bind_text(st, s, 1, case_ref);
	store_bind_int(st, s, 2, limit > 0 ? limit : -1);
	if ((ret = store_fetch(st, s, "audit list", &r, error_r)) < 0)
		goto out;
	store_done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		c = store_row(&r, i);
		a.id = c[0].i;
		a.at = c[1].i;
		a.actor = c[2].s;
		a.action = c[3].s;
		a.case_ref = c[4].s;
		a.detail = c[5].s;
		if (fn(&a, ctx) != 0)
			break;
	}
out:
	store_done(s);
	store_rows_free(&r);
	return ret;
}

/* ---- the anchor kept outside the database ---- */

/* cm_store_audit_anchor - the committed chain's row count and head */
int
cm_store_audit_anchor(struct cm_store *st, int64_t *count_r,
		      unsigned char head_r[CM_HASH_LEN],
		      const char **error_r)
{
	struct audit_meta m;
	int ret;

	*count_r = 0;
	memset(head_r, 0, CM_HASH_LEN);
	if ((ret = meta_read(st, &m, error_r)) < 0)
		goto out;
	if (m.found != 3) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit meta rows are missing");
		goto out;
	}
	*count_r = m.count;
	memcpy(head_r, m.head, CM_HASH_LEN);
	ret = 0;
out:
	return ret;
}

/* cm_store_audit_check_anchor - does row count of the chain end in head */
int
cm_store_audit_check_anchor(struct cm_store *st, int64_t count,
			    const unsigned char head[CM_HASH_LEN],
			    const char **error_r)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *row_hash = zero_hash;
	int64_t n = 0;
	int ret, rc = SQLITE_DONE;

	if (count < 0) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit anchor: a negative row count");
		goto out;
	}
	if ((ret = store_prep(st, sql_audit_walk, &s, error_r)) < 0)
		goto out;
	while (n < count && (rc = store_step(st, s)) == SQLITE_ROW) {
		n++;
		row_hash = hash_col(s, 7);
	}
	if (n < count && rc != SQLITE_DONE) {
		ret = store_fail(st, rc, "audit anchor", error_r);
		goto out;
	}
	if (n < count) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit log has %lld rows, fewer than the "
				  "%lld of the anchor: it was rolled back (an "
				  "older copy restored?) or cut short",
				  (long long)n, (long long)count);
		goto out;
	}
	if (row_hash == NULL ||
	    memcmp(row_hash, head, CM_HASH_LEN) != 0) {
		ret = store_error(st, error_r, CM_ERR,
				  "audit row %lld does not end in the anchor's "
				  "head: the log was rolled back to an older "
				  "copy and written again, or replaced",
				  (long long)count);
		goto out;
	}
	ret = 0;
out:
	store_done(s);
	return ret;
}
