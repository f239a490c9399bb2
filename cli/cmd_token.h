/*
 * cmd_token.h - casemail token check|redeem
 *
 * SYNOPSIS
 *	#include "cmd_token.h"
 *	static const struct command commands[] = {
 *		...
 *		CMD_TOKEN_COMMANDS,
 *	};
 *
 * DESCRIPTION
 *	The two commands and their rows for the command table of main.c
 *	(struct command: word, sub, function, needs, min and max
 *	positional arguments, options, usage).
 */
#ifndef CMD_TOKEN_H
#define CMD_TOKEN_H

#include "cli.h"

/* cmd_token_check - print the state of a login token; exit 0 if valid */
int cmd_token_check(struct cli *c, struct args *a);
/* cmd_token_redeem - use a login token once; exit 0 only if this call
 * redeemed it */
int cmd_token_redeem(struct cli *c, struct args *a);

#define CMD_TOKEN_COMMANDS                                                \
	{ "token", "check", cmd_token_check, NEED_STORE, 1, 1, "json",    \
	  "token check TOKEN|- [--json]" },                               \
	{ "token", "redeem", cmd_token_redeem, NEED_STORE, 1, 1, "json",  \
	  "token redeem TOKEN|- [--json]" }

#endif
