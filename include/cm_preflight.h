/*
 * cm_preflight.h - what would stop a program at run time, found before
 *
 * SYNOPSIS
 *	if (cm_preflight_become(cfg, &became, &err) < 0) ...
 *	n = cm_preflight(cfg, CM_PF_MDA, print_problem, NULL);
 *
 * DESCRIPTION
 *	casemail config check and the -n of casemail-mda, casemail-send and
 *	casemail-web read the configuration and then look at what the
 *	program will touch, as the user that runs it: the secret (there,
 *	a regular file, mode 0600, owned by that user, loadable), the
 *	database (there, private, owned, writable, its directory writable
 *	for SQLite's -wal and -shm, openable with this secret), the spool
 *	directory, the outbox maildir (when no smtp_url), the notice
 *	templates, the password and key files, and that portal_url can
 *	reach the portal at portal_listen. Each problem is one line: what
 *	is wrong and the command that fixes it.
 *
 *	cm_preflight_become lets root take the identity of run_user
 *	(casemail), so that root's checks see what that user will see and
 *	root's commands leave files that user owns; with mda_allow_root
 *	(test rigs) root stays root.
 *
 * DIAGNOSTICS
 *	Nothing is logged here: problems go to the caller's function.
 */
#ifndef CM_PREFLIGHT_H
#define CM_PREFLIGHT_H

#include <stdbool.h>

#include "cm_config.h"

/* What one program needs; or'ed together */
#define CM_PF_SECRET 0x01    /* the secret file */
#define CM_PF_DATABASE 0x02  /* the database (needs the secret) */
#define CM_PF_SPOOL 0x04     /* spool_dir */
#define CM_PF_OUTBOX 0x08    /* outbox_dir, when smtp_url is empty */
#define CM_PF_TEMPLATES 0x10 /* the notice templates */
#define CM_PF_FILES 0x20     /* smtp/sms/imap password and key files */
#define CM_PF_PORTAL 0x40    /* portal_url against portal_listen */

#define CM_PF_MDA (CM_PF_SECRET | CM_PF_DATABASE | CM_PF_SPOOL)
#define CM_PF_SEND (CM_PF_SECRET | CM_PF_DATABASE | CM_PF_OUTBOX | \
		    CM_PF_TEMPLATES | CM_PF_FILES)
#define CM_PF_WEB (CM_PF_SECRET | CM_PF_DATABASE | CM_PF_PORTAL)
#define CM_PF_ALL 0x7f

/*
 * cm_preflight - check what `need` names for cfg, as the effective
 * user; call fn(problem, ctx) once per problem (text borrowed for the
 * call: what is wrong, then after a colon the fix). Returns the
 * number of problems (0: the program should start).
 */
int cm_preflight(const struct cm_config *cfg, unsigned int need,
		 void (*fn)(const char *problem, void *ctx), void *ctx);

/*
 * cm_preflight_become - when running as root (and mda_allow_root is
 * off), become cfg->run_user: its group, no other groups, its uid.
 * *became_r (may be NULL) says whether it did. 0, or -1 with *error_r
 * (static) when the user does not exist or the change failed.
 */
int cm_preflight_become(const struct cm_config *cfg, bool *became_r,
			const char **error_r);

/*
 * cm_preflight_owner - the uid and gid of cfg->run_user into *uid_r and
 * *gid_r. 0, or -1 with *error_r (static) when there is no such user.
 */
int cm_preflight_owner(const struct cm_config *cfg, unsigned int *uid_r,
		       unsigned int *gid_r, const char **error_r);

#endif
