/*
 * cm_login.h - one-time login links: mint, check, redeem
 *
 * SYNOPSIS
 *	cm_store_begin(st, &err);
 *	tok = cm_login_mint(st, secret, victim_id, case_id, notice_id, now,
 *			    cfg->token_ttl, &expires, &err);
 *	cm_store_commit(st, &err);
 *	...
 *	cm_login_redeem(st, secret, tok, now, "web", &state, &info, &err);
 *
 * DESCRIPTION
 *	A login token is 32 random bytes in base64url (cm_token_mint); only
 *	its keyed hash is stored (cm_store_token_add), with the victim,
 *	case and notice it was made for and an expiry. Checking hashes the
 *	presented token and looks the hash up; redeeming marks it used in
 *	the caller's transaction with cm_store_token_use, which succeeds
 *	once only, so two requests racing for one link cannot both win.
 *	The command line (casemail token check|redeem) and the portal call
 *	these same functions.
 *
 * DIAGNOSTICS
 *	Store errors: CM_ERR / CM_ETEMP with *error_r (borrowed until the
 *	next store call). A token that is malformed, unknown, expired or
 *	used is not an error: the call returns 0 and says so in *state_r.
 *
 * SECURITY
 *	Tokens are never stored or logged; the lookup is by keyed hash, so
 *	a copy of the database does not yield working links. A malformed
 *	and an unknown token look the same to the caller.
 */
#ifndef CM_LOGIN_H
#define CM_LOGIN_H

#include <stdint.h>

#include "cm_store.h"
#include "cm_token.h"

enum cm_login_state {
	CM_LOGIN_VALID = 0, /* usable (check) / redeemed now (redeem) */
	CM_LOGIN_UNKNOWN,   /* malformed or never issued */
	CM_LOGIN_EXPIRED,   /* past expires_at (and not used) */
	CM_LOGIN_USED,      /* redeemed before */
};

/* struct cm_login_info - what a known token is for */
struct cm_login_info {
	int64_t token_id;
	int64_t victim_id;
	int64_t case_id;
	int64_t notice_id; /* 0 if none */
	int64_t created_at;
	int64_t expires_at;
	int64_t used_at; /* 0 while unused */
};

/*
 * cm_login_mint - a new login token for victim_id on case_id (notice_id
 * may be 0), valid until now + ttl, its hash stored in the open
 * transaction. Returns the token (caller frees with free(), wipes
 * first) or NULL with *error_r.
 */
char *cm_login_mint(struct cm_store *st, const struct cm_secret *s,
		    int64_t victim_id, int64_t case_id, int64_t notice_id,
		    int64_t now, long ttl, int64_t *expires_r,
		    const char **error_r);

/* cm_login_check - the state of token at now, without changing it;
 * *info_r is filled for a known token (zeroed otherwise) */
int cm_login_check(struct cm_store *st, const struct cm_secret *s,
		   const char *token, int64_t now,
		   enum cm_login_state *state_r, struct cm_login_info *info_r,
		   const char **error_r);

/*
 * cm_login_redeem - use token once, in the open transaction: *state_r
 * is CM_LOGIN_VALID only for the one call that redeemed it; an audit
 * row "login.redeem" (or "login.refused" with the reason) is written
 * with actor.
 */
int cm_login_redeem(struct cm_store *st, const struct cm_secret *s,
		    const char *token, int64_t now, const char *actor,
		    enum cm_login_state *state_r,
		    struct cm_login_info *info_r, const char **error_r);

/* cm_login_state_name - "valid", "unknown", "expired", "used" */
const char *cm_login_state_name(enum cm_login_state state);

#endif
