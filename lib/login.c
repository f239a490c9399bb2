/*
 * login.c - one-time login links: mint, check, redeem
 *
 * SYNOPSIS
 *	See cm_login.h.
 *
 * DESCRIPTION
 *	Glue between the token module (randomness, keyed hashes) and the
 *	store (the tokens table): a token is minted with its hash stored,
 *	checked by hash, and redeemed with the store's race-free single
 *	use. Expiry is decided here against the caller's clock, so tests
 *	can move time.
 *
 * DIAGNOSTICS
 *	Store errors are passed up; token states are results, not errors.
 *
 * SECURITY
 *	The raw token is wiped from the stack; only hashes reach the
 *	store. Audit rows name the token row id, never the token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_login.h"

/* cm_login_mint - a fresh token with its hash stored */
char *
cm_login_mint(struct cm_store *st, const struct cm_secret *s,
	      int64_t victim_id, int64_t case_id, int64_t notice_id,
	      int64_t now, long ttl, int64_t *expires_r, const char **error_r)
{
	unsigned char hash[CM_HASH_LEN];
	struct cm_token_row row;
	char *tok;

	tok = cm_token_mint(s, hash);
	memset(&row, 0, sizeof(row));
	row.kind = "login";
	row.notice_id = notice_id;
	row.victim_id = victim_id;
	row.case_id = case_id;
	row.created_at = now;
	row.expires_at = now + ttl;
	if (cm_store_token_add(st, hash, &row, NULL, error_r) < 0) {
		cm_token_wipe(tok, strlen(tok));
		free(tok);
		tok = NULL;
	} else if (expires_r != NULL) {
		*expires_r = row.expires_at;
	}
	cm_token_wipe(hash, sizeof(hash));
	return tok;
}

/* lookup - hash and find token; 0 with state and info, or a store
 * error */
static int
lookup(struct cm_store *st, const struct cm_secret *s, const char *token,
       int64_t now, enum cm_login_state *state_r,
       struct cm_login_info *info_r, const char **error_r)
{
	unsigned char hash[CM_HASH_LEN];
	struct cm_token_row t;
	int rc, ret = 0;

	memset(info_r, 0, sizeof(*info_r));
	*state_r = CM_LOGIN_UNKNOWN;
	if (cm_token_hash(s, token, hash) < 0)
		goto out;
	rc = cm_store_token_find(st, hash, &t, error_r);
	if (rc == CM_ENOENT)
		goto out;
	if (rc < 0) {
		ret = rc;
		goto out;
	}
	if (strcmp(t.kind, "login") != 0)
		goto out;
	info_r->token_id = t.id;
	info_r->victim_id = t.victim_id;
	info_r->case_id = t.case_id;
	info_r->notice_id = t.notice_id;
	info_r->created_at = t.created_at;
	info_r->expires_at = t.expires_at;
	info_r->used_at = t.used_at;
	if (t.used_at != 0)
		*state_r = CM_LOGIN_USED;
	else if (now >= t.expires_at)
		*state_r = CM_LOGIN_EXPIRED;
	else
		*state_r = CM_LOGIN_VALID;
out:
	cm_token_wipe(hash, sizeof(hash));
	return ret;
}

/* cm_login_check - the state of a token, unchanged */
int
cm_login_check(struct cm_store *st, const struct cm_secret *s,
	       const char *token, int64_t now, enum cm_login_state *state_r,
	       struct cm_login_info *info_r, const char **error_r)
{
	return lookup(st, s, token, now, state_r, info_r, error_r);
}

/* cm_login_redeem - use a token once */
int
cm_login_redeem(struct cm_store *st, const struct cm_secret *s,
		const char *token, int64_t now, const char *actor,
		enum cm_login_state *state_r, struct cm_login_info *info_r,
		const char **error_r)
{
	struct cm_case c = { 0 };
	char detail[160];
	int rc, ret;

	ret = lookup(st, s, token, now, state_r, info_r, error_r);
	if (ret < 0)
		goto out;
	if (*state_r == CM_LOGIN_VALID) {
		rc = cm_store_token_use(st, info_r->token_id, now, error_r);
		if (rc == CM_ENOENT) {
			*state_r = CM_LOGIN_USED; /* lost a race */
		} else if (rc < 0) {
			ret = rc;
			goto out;
		} else {
			info_r->used_at = now;
		}
	}
	if (*state_r == CM_LOGIN_UNKNOWN) {
		/* nothing to point at: no audit row for noise */
		goto out;
	}
	ret = cm_store_case_get_id(st, info_r->case_id, &c, error_r);
	if (ret < 0)
		goto out;
	(void)snprintf(detail, sizeof(detail),
		       "token=%lld victim=%lld notice=%lld%s%s",
		       (long long)info_r->token_id,
		       (long long)info_r->victim_id,
		       (long long)info_r->notice_id,
		       *state_r == CM_LOGIN_VALID ? "" : " reason=",
		       *state_r == CM_LOGIN_VALID
			       ? ""
			       : cm_login_state_name(*state_r));
	ret = cm_store_audit(st, actor,
			     *state_r == CM_LOGIN_VALID ? "login.redeem"
							: "login.refused",
			     c.ref, detail, error_r);
out:
	cm_case_clear(&c);
	return ret;
}

/* cm_login_state_name - the state as a word */
const char *
cm_login_state_name(enum cm_login_state state)
{
	switch (state) {
	case CM_LOGIN_VALID:
		return "valid";
	case CM_LOGIN_EXPIRED:
		return "expired";
	case CM_LOGIN_USED:
		return "used";
	case CM_LOGIN_UNKNOWN:
	default:
		return "unknown";
	}
}
