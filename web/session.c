/*
 * session.c - casemail-web: sessions, CSRF tokens and the audit queue
 *
 * SYNOPSIS
 *	sess_get(w, req->sid, now, &s, &err);
 *	csrf_make(secret, "s", s.hash, sizeof(s.hash), s.csrf);
 *	audit_view(w, s.actor, "web.view", ref, "page=case ip=...", now);
 *
 * DESCRIPTION
 *	A session cookie is a fresh login-style token (32 random bytes,
 *	base64url: cm_token_mint); the store keeps only its keyed hash
 *	with the victim, the case, when it started, when it was last used
 *	and its absolute end (portal_session_max). It is live while not
 *	ended, before its end and within portal_session_idle of its last
 *	use; the last use is written at most every WEB_TOUCH_EVERY seconds
 *	so that reading a page does not cost a disk write.
 *
 *	CSRF tokens are a MAC (crypto_auth under the token subkey) of a
 *	purpose and what they are bound to: the session's hash for a
 *	signed-in form, the random pre-session cookie for the sign-in and
 *	fresh-link forms (a double-submit cookie), cut to 16 bytes,
 *	base64url.
 *
 *	The audit queue: every view is written to the audit log (who, what,
 *	when) in a group commit at most WEB_AUDIT_DELAY seconds later, or
 *	sooner when WEB_AUDIT_MAX rows wait or a post opens a transaction
 *	(which writes them first, keeping the order). Identical views
 *	(same actor, page, case and client address) waiting in the queue
 *	become one row with "n=COUNT", so a reload loop cannot flood the
 *	chain. Posts write their own rows in their own transaction.
 *
 * DIAGNOSTICS
 *	Store errors come back with *error_r; audit_flush logs its own.
 *
 * SECURITY
 *	Cookie values are never stored or logged; they are wiped after
 *	hashing. CSRF comparison is constant-time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_log.h"
#include "web.h"

/* sess_get - the live session of a cookie value */
int
sess_get(struct web *w, const char *sid, int64_t now, struct sess *s,
	 const char **error_r)
{
	const struct cm_config *cfg = w->cfg;
	int ret = CM_ENOENT, rc;

	memset(s, 0, sizeof(*s));
	if (sid == NULL || cm_token_hash(w->secret, sid, s->hash) < 0)
		goto out;
	rc = cm_store_session_find(w->st, s->hash, &s->row, error_r);
	if (rc < 0) {
		ret = rc;
		goto out;
	}
	if (s->row.ended_at != 0 || now >= s->row.expires_at ||
	    now - s->row.seen_at >= cfg->portal_session_idle)
		goto out;
	if (now - s->row.seen_at >= WEB_TOUCH_EVERY) {
		if ((rc = cm_store_begin(w->st, error_r)) < 0 ||
		    (rc = cm_store_session_touch(w->st, s->row.id, now,
						 error_r)) < 0 ||
		    (rc = cm_store_commit(w->st, error_r)) < 0) {
			cm_store_rollback(w->st);
			ret = rc;
			goto out;
		}
		s->row.seen_at = now;
	}
	csrf_make(w->secret, "s", s->hash, sizeof(s->hash), s->csrf);
	(void)snprintf(s->actor, sizeof(s->actor), "web:victim:%lld",
		       (long long)s->row.victim_id);
	ret = 0;
out:
	if (ret != 0)
		cm_token_wipe(s->hash, sizeof(s->hash));
	return ret;
}

/* sess_start - a new session row; returns the cookie value */
char *
sess_start(struct web *w, int64_t victim_id, int64_t case_id,
	   int64_t token_id, int64_t now, int64_t *id_r,
	   const char **error_r)
{
	unsigned char hash[CM_HASH_LEN];
	struct cm_session row;
	char *tok = cm_token_mint(w->secret, hash);

	memset(&row, 0, sizeof(row));
	row.victim_id = victim_id;
	row.case_id = case_id;
	row.token_id = token_id;
	row.created_at = now;
	row.expires_at = now + w->cfg->portal_session_max;
	if (cm_store_session_add(w->st, hash, &row, id_r, error_r) < 0) {
		cm_token_wipe(tok, strlen(tok));
		free(tok);
		tok = NULL;
	}
	cm_token_wipe(hash, sizeof(hash));
	return tok;
}

/* csrf_make - MAC of purpose and bind, 16 bytes in base64url */
void
csrf_make(const struct cm_secret *secret, const char *purpose,
	  const void *bind, size_t len, char out[WEB_CSRF_LEN + 1])
{
	unsigned char msg[16 + 2 * CM_HASH_LEN + 64], mac[CM_HASH_LEN];
	size_t plen = strlen(purpose), n;
	char *b64;

	/* "casemail-csrf" NUL purpose NUL bind: no two inputs alike */
	n = sizeof("casemail-csrf");
	memcpy(msg, "casemail-csrf", n);
	if (plen > 16)
		plen = 16;
	memcpy(msg + n, purpose, plen);
	n += plen;
	msg[n++] = '\0';
	if (len > sizeof(msg) - n)
		len = sizeof(msg) - n;
	memcpy(msg + n, bind, len);
	n += len;
	cm_token_mac(secret, CM_KEY_TOKEN, msg, n, mac);
	b64 = cm_token_base64url(mac, 16);
	cm_strlcpy(out, b64, WEB_CSRF_LEN + 1);
	free(b64);
	cm_token_wipe(mac, sizeof(mac));
}

/* csrf_ok - compare with the expected token in constant time */
bool
csrf_ok(const struct cm_secret *secret, const char *purpose,
	const void *bind, size_t len, const char *given)
{
	char want[WEB_CSRF_LEN + 1];

	if (given == NULL || bind == NULL || len == 0)
		return false;
	csrf_make(secret, purpose, bind, len, want);
	return ct_equal(want, given);
}

/* same - strings equal, NULL equal to NULL */
static bool
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* audit_view - queue a view row, merging identical ones */
void
audit_view(struct web *w, const char *actor, const char *action,
	   const char *ref, const char *detail, int64_t now)
{
	struct aq_item *it;

	for (size_t i = 0; i < w->aq_n; i++) {
		it = &w->aq[i];
		if (same(it->actor, actor) && same(it->action, action) &&
		    same(it->ref, ref) && same(it->detail, detail)) {
			it->count++;
			return;
		}
	}
	if (w->aq_n == WEB_AUDIT_MAX)
		(void)audit_flush(w, true, now);
	if (w->aq_n == WEB_AUDIT_MAX)
		return; /* the store refuses: logged by audit_flush */
	if (w->aq_n == 0)
		w->aq_since = now;
	it = &w->aq[w->aq_n++];
	it->actor = cm_xstrdup(actor);
	it->action = cm_xstrdup(action);
	it->ref = cm_xstrdup(ref);
	it->detail = cm_xstrdup(detail);
	it->count = 1;
}

/* audit_drain - write the queue in the open transaction */
int
audit_drain(struct web *w, const char **error_r)
{
	char detail[512];
	int ret = 0;

	for (size_t i = 0; i < w->aq_n && ret == 0; i++) {
		const struct aq_item *it = &w->aq[i];
		const char *d = it->detail;

		if (it->count > 1) {
			(void)snprintf(detail, sizeof(detail), "%s n=%ld",
				       d != NULL ? d : "", it->count);
			d = detail;
		}
		ret = cm_store_audit(w->st, it->actor, it->action, it->ref,
				     d, error_r);
	}
	return ret;
}

/* audit_done - empty the queue */
void
audit_done(struct web *w)
{
	for (size_t i = 0; i < w->aq_n; i++) {
		free(w->aq[i].actor);
		free(w->aq[i].action);
		free(w->aq[i].ref);
		free(w->aq[i].detail);
	}
	memset(w->aq, 0, sizeof(w->aq));
	w->aq_n = 0;
}

/* audit_anchor - the chain as committed, to the log (read on the
 * connection that has just committed) */
void
audit_anchor(struct web *w)
{
	unsigned char head[CM_HASH_LEN];
	char hex[2 * CM_HASH_LEN + 1];
	const char *err = NULL;
	int64_t count = 0;

	if (cm_store_audit_anchor(w->st, &count, head, &err) < 0) {
		cm_log_warnx("audit anchor: %s", err != NULL ? err : "?");
		return;
	}
	cm_token_hex(head, sizeof(head), hex);
	cm_log_info("audit anchor count=%lld head=%s", (long long)count, hex);
}

/* audit_flush - group commit of the queued views when due */
int
audit_flush(struct web *w, bool force, int64_t now)
{
	const char *err = NULL;
	char san[300];
	int ret = 0;

	if (w->aq_n == 0)
		return 0;
	if (!force && w->aq_n < WEB_AUDIT_MAX &&
	    now - w->aq_since < WEB_AUDIT_DELAY)
		return 0;
	if ((ret = cm_store_begin(w->st, &err)) < 0 ||
	    (ret = audit_drain(w, &err)) < 0 ||
	    (ret = cm_store_commit(w->st, &err)) < 0) {
		cm_store_rollback(w->st);
		cm_log_err("audit: cannot write %zu view rows: %s", w->aq_n,
			   cm_log_sanitize(san, sizeof(san), err, 250));
		return ret;
	}
	audit_done(w);
	audit_anchor(w);
	return 0;
}
