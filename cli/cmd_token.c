/*
 * cmd_token.c - casemail token check|redeem
 *
 * SYNOPSIS
 *	casemail token check TOKEN|- [--json]
 *	casemail token redeem TOKEN|- [--json]
 *
 * DESCRIPTION
 *	TOKEN is the last part of a login link (portal_url/l/TOKEN); "-"
 *	reads it from the first line of standard input, so that it does not
 *	show in the process list. check says whether the token is valid,
 *	expired, used or unknown, and for whom it was made, without
 *	changing anything. redeem uses it (single use, in one transaction
 *	with its audit row): the very call the portal makes when a victim
 *	presses "sign in". Both run the library code of cm_login.h.
 *
 * DIAGNOSTICS
 *	Prints "state: valid|expired|used|unknown" and, for a known token,
 *	its victim, case, notice and times. Exit 0 when the token is valid
 *	(check) or was redeemed by this call (redeem), 1 otherwise, 75 on
 *	store trouble.
 *
 * SECURITY
 *	The token is never printed or logged; it is wiped after hashing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_login.h"
#include "cmd_token.h"

#define TOKEN_MAX 256 /* bytes of a token read from stdin */

/* get_token - the token argument, or the first stdin line for "-";
 * caller wipes and frees */
static char *
get_token(const char *arg)
{
	char buf[TOKEN_MAX + 2];
	char *ret;

	if (strcmp(arg, "-") != 0)
		return cm_xstrdup(arg);
	if (fgets(buf, sizeof(buf), stdin) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	ret = cm_xstrdup(cm_str_trim(buf));
	cm_token_wipe(buf, sizeof(buf));
	return ret;
}

/* put_info - print the state and what the token is for */
static int
put_info(struct cli *c, struct args *a, enum cm_login_state state,
	 const struct cm_login_info *in)
{
	struct out *o = out_new(arg_flag(a, "json"));
	struct cm_case cs = { 0 };
	const char *err = NULL;
	int rc, ret;

	out_str(o, "state", cm_login_state_name(state));
	if (state != CM_LOGIN_UNKNOWN) {
		rc = cm_store_case_get_id(c->st, in->case_id, &cs, &err);
		if (rc < 0 && rc != CM_ENOENT) {
			ret = cli_store_fail(c, rc, "cannot read case", err);
			goto out;
		}
		out_str(o, "case", cs.ref);
		out_int(o, "victim", in->victim_id);
		out_int(o, "notice", in->notice_id);
		out_time(o, "created", in->created_at);
		out_time(o, "expires", in->expires_at);
		out_time(o, "used", in->used_at);
	}
	ret = out_flush(&o);
out:
	out_free(&o);
	cm_case_clear(&cs);
	return ret;
}

/* run - check or redeem */
static int
run(struct cli *c, struct args *a, bool redeem)
{
	struct cm_login_info in;
	enum cm_login_state state = CM_LOGIN_UNKNOWN;
	const char *err = NULL;
	char *tok = get_token(a->pos[0]);
	int rc, ret;

	memset(&in, 0, sizeof(in));
	if (redeem) {
		if ((ret = cli_begin(c)) != 0)
			goto out;
		rc = cm_login_redeem(c->st, c->secret, tok, cm_now(),
				     c->actor, &state, &in, &err);
		if (rc < 0) {
			ret = cli_store_fail(c, rc, "cannot redeem", err);
			goto out;
		}
		if ((ret = cli_finish(c, NULL, NULL, NULL)) != 0)
			goto out;
	} else {
		rc = cm_login_check(c->st, c->secret, tok, cm_now(), &state,
				    &in, &err);
		if (rc < 0) {
			ret = cli_store_fail(c, rc, "cannot check", err);
			goto out;
		}
	}
	ret = put_info(c, a, state, &in);
	if (ret == 0 && state != CM_LOGIN_VALID)
		ret = cli_fail(CLI_EXIT_ERR, "token %s",
			       redeem && state == CM_LOGIN_USED
				       ? "already used"
				       : cm_login_state_name(state));
out:
	cm_token_wipe(tok, strlen(tok));
	free(tok);
	return ret;
}

/* cmd_token_check - the state of a token */
int
cmd_token_check(struct cli *c, struct args *a)
{
	return run(c, a, false);
}

/* cmd_token_redeem - use a token once */
int
cmd_token_redeem(struct cli *c, struct args *a)
{
	return run(c, a, true);
}
