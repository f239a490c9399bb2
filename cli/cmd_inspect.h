/*
 * cmd_inspect.h - casemail inspect
 *
 * DESCRIPTION
 *	The command function of `casemail inspect FILE|- [--json]`, for the
 *	command table in main.c.
 */
#ifndef CMD_INSPECT_H
#define CMD_INSPECT_H

#include "cli.h"

/* cmd_inspect - print what casemail makes of a message; exit status */
int cmd_inspect(struct cli *c, struct args *a);

#endif
