/*
 * cmd_rhythm.c - casemail victim rhythm: the update rhythm agreed with
 * a victim
 *
 * SYNOPSIS
 *	casemail victim rhythm ID weekly|fortnightly|monthly|milestones
 *
 * DESCRIPTION
 *	Sets how often the victim agreed to be updated; "milestones" (the
 *	default) means only when a milestone falls. milestone check then
 *	reminds the officer in charge once for each period that passes
 *	without an update sent to the victim (see cm_rhythm.h). The
 *	victim can choose it in the portal too.
 *
 * DIAGNOSTICS
 *	"say weekly, fortnightly, monthly or milestones" (exit 2), "no
 *	victim ID".
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cm_rhythm.h"

/* cmd_victim_rhythm - set a victim's update rhythm */
int
cmd_victim_rhythm(struct cli *c, struct args *a)
{
	const char *err = NULL, *rhythm = a->pos[1];
	struct cm_victim vic = { 0 };
	struct cm_case cs = { 0 };
	char detail[80];
	int64_t id = 0;
	int rc, ret;

	if ((ret = cli_id(a->pos[0], "victim id", &id)) != 0)
		goto out;
	if (!cm_rhythm_valid(rhythm)) {
		ret = cli_fail(CLI_EXIT_USAGE, "say weekly, fortnightly, "
			       "monthly or milestones, not \"%s\"",
			       cli_san(rhythm));
		goto out;
	}
	if ((ret = cli_begin(c)) != 0)
		goto out;
	rc = cm_store_victim_get(c->st, id, &vic, &err);
	if (rc == CM_ENOENT) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "no victim %lld", (long long)id);
		goto out;
	}
	if (rc == 0)
		rc = cm_store_case_get_id(c->st, vic.case_id, &cs, &err);
	if (rc == 0)
		rc = cm_store_victim_set_rhythm(c->st, id, rhythm, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot set the rhythm", err);
		goto out;
	}
	(void)snprintf(detail, sizeof(detail), "victim=%lld rhythm=%s",
		       (long long)id, rhythm);
	if ((ret = cli_finish(c, "victim.rhythm", cs.ref, detail)) != 0)
		goto out;
	printf("victim %lld on %s: updates %s\n", (long long)id, cs.ref,
	       strcmp(rhythm, "milestones") == 0 ? "when a milestone falls"
						 : rhythm);
out:
	cm_case_clear(&cs);
	cm_victim_clear(&vic);
	return ret;
}
