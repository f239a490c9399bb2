/*
 * cmd_milestone.c - casemail milestone, milestone list, milestone check
 * and victim enhanced
 *
 * SYNOPSIS
 *	casemail milestone REF KIND --officer EMAIL [--at TIME]
 *		[--victim ID|--all]
 *	casemail milestone list [REF] [--json]
 *	casemail milestone check [--now TIME] [--json]
 *	casemail victim enhanced ID on|off
 *
 * DESCRIPTION
 *	milestone records that KIND (one of milestone_kinds) happened on a
 *	case at TIME (default now), for one victim or for every victim; a
 *	case with one victim needs neither option. Its deadline is
 *	milestone_days working days later, or milestone_days_enhanced for
 *	a victim with enhanced rights (for every victim: when any has
 *	them), counted in force_timezone.
 *
 *	milestone list prints the milestones of a case (or of every case)
 *	with their deadline and status: pending, met (an update was sent to
 *	the victim by the deadline), late (after it) or overdue.
 *
 *	milestone check is for cron: it brings every status up to date and
 *	queues the officer's warnings, overdue alerts and the supervisor's
 *	digest, and the reminders of the update rhythm agreed with victims
 *	(cm_rhythm_check). TIME for --now, or CM_NOW in the environment
 *	when --now is not given, stands in for the clock in tests.
 *
 *	TIME is YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (force_timezone),
 *	the same with Z (UTC), or @SECONDS.
 *
 * DIAGNOSTICS
 *	"unknown milestone K (milestone_kinds: ...)", "bad time ...",
 *	"case REF has N victims: say --victim ID or --all", "no victim ID".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cm_log.h"
#include "cm_milestone.h"
#include "cm_rhythm.h"

/* calendar - the force's working days, or a printed error */
static struct cm_workday *
calendar(struct cli *c, int *status_r)
{
	const char *err = NULL;
	struct cm_workday *wd = cm_milestone_calendar(c->cfg, &err);

	if (wd == NULL)
		*status_r = cli_fail(CLI_EXIT_ERR, "force_timezone or "
				     "bank_holidays_extra: %s", err);
	return wd;
}

/* parse_when - TIME from an option; 0 or a printed usage error */
static int
parse_when(const struct cm_workday *wd, const char *s, const char *what,
	   int64_t *t_r)
{
	const char *err = NULL;

	if (cm_workday_parse_time(wd, s, t_r, &err) < 0)
		return cli_fail(CLI_EXIT_USAGE, "%s: %s", what, cli_san(err));
	return 0;
}

/* cmd_milestone - record a milestone on a case */
int
cmd_milestone(struct cli *c, struct args *a)
{
	const char *email = arg_opt(a, "officer"), *at = arg_opt(a, "at");
	const char *kind = a->pos[1], *err = NULL;
	struct cm_workday *wd = NULL;
	struct cm_officer o = { 0 };
	struct cm_case cs = { 0 };
	struct cm_milestone_rec r;
	char dl[32], detail[64];
	int64_t id = 0, deadline = 0, to = 0, when = cm_now();
	bool enhanced = false;
	int rc, days = 0, edays = 0, ret = CLI_EXIT_ERR;

	if ((wd = calendar(c, &ret)) == NULL)
		goto out;
	if (cm_milestone_kind(c->cfg, kind, &days, &edays, &err) < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "%s", cli_san(err));
		goto out;
	}
	if (at != NULL && (ret = parse_when(wd, at, "--at", &when)) != 0)
		goto out;
	if ((ret = cli_begin(c)) != 0)
		goto out;
	if ((ret = cli_case(c, a->pos[0], &cs)) != 0 ||
	    (ret = cli_active_officer(c, email, &o)) != 0 ||
	    (ret = cli_addressee(c, a, &cs, false, &to)) != 0) {
		cm_store_rollback(c->st);
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.case_id = cs.id;
	r.victim_id = to;
	r.kind = kind;
	r.at = when;
	r.officer_id = o.id;
	rc = cm_milestone_record(&c->work, wd, &r, &id, &deadline, &enhanced,
				 &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot record the milestone",
				     err);
		goto out;
	}
	(void)snprintf(detail, sizeof(detail), "milestone=%lld",
		       (long long)id);
	if ((ret = cli_finish(c, NULL, cs.ref, detail)) != 0)
		goto out;
	if (to != 0)
		printf("milestone %lld: %s on %s for victim %lld, update due "
		       "by %s (%d working day%s)\n", (long long)id, kind,
		       cs.ref, (long long)to,
		       cm_workday_format(wd, deadline, dl),
		       enhanced ? edays : days,
		       (enhanced ? edays : days) == 1 ? "" : "s");
	else
		printf("milestone %lld: %s on %s for every victim, update due "
		       "by %s (%d working day%s)\n", (long long)id, kind,
		       cs.ref, cm_workday_format(wd, deadline, dl),
		       enhanced ? edays : days,
		       (enhanced ? edays : days) == 1 ? "" : "s");
out:
	cm_workday_free(&wd);
	cm_case_clear(&cs);
	cm_officer_clear(&o);
	return ret;
}

/* put_milestone - one milestone as an object in the open list */
static int
put_milestone(const struct cm_milestone *m, void *ctx)
{
	struct out *o = ctx;

	out_begin(o, NULL);
	out_int(o, "id", m->id);
	out_str(o, "case", m->case_ref);
	if (m->victim_id != 0)
		out_int(o, "victim", m->victim_id);
	else
		out_str(o, "victim", "all");
	out_str(o, "kind", m->kind);
	out_time(o, "at", m->at);
	out_time(o, "deadline", m->deadline);
	out_bool(o, "enhanced", m->enhanced);
	out_str(o, "status", m->status);
	out_time(o, "met_at", m->met_at);
	out_end(o);
	return 0;
}

/* cmd_milestone_list - milestones of a case or of every case */
int
cmd_milestone_list(struct cli *c, struct args *a)
{
	struct cm_case cs = { 0 };
	struct out *o = NULL;
	const char *err = NULL;
	int rc, ret = 0;

	if (a->npos == 1 && (ret = cli_case(c, a->pos[0], &cs)) != 0)
		goto out;
	o = out_new(arg_flag(a, "json"));
	out_list(o, "milestones");
	rc = cm_store_milestone_list(c->st, cs.id, false, put_milestone, o,
				     &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot list milestones", err);
		goto out;
	}
	out_end(o);
	ret = out_flush(&o);
out:
	out_free(&o);
	cm_case_clear(&cs);
	return ret;
}

/* cmd_milestone_check - statuses, warnings, alerts, digest (cron) */
int
cmd_milestone_check(struct cli *c, struct args *a)
{
	const char *now_s = arg_opt(a, "now"), *err = NULL;
	struct cm_milestone_counts k;
	struct cm_workday *wd = NULL;
	struct out *o = NULL;
	int64_t now = cm_now();
	long reminders = 0;
	int rc, ret = CLI_EXIT_ERR;

	if ((wd = calendar(c, &ret)) == NULL)
		goto out;
	/* a test clock: the environment only when no --now is given */
	if (now_s == NULL)
		now_s = getenv("CM_NOW");
	if (now_s != NULL && now_s[0] != '\0' &&
	    (ret = parse_when(wd, now_s, "--now", &now)) != 0)
		goto out;
	if ((ret = cli_begin(c)) != 0)
		goto out;
	rc = cm_milestone_check(&c->work, wd, now, &k, &err);
	if (rc == 0)
		rc = cm_rhythm_check(&c->work, wd, now, &reminders, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "milestone check", err);
		goto out;
	}
	if ((ret = cli_finish(c, NULL, NULL, NULL)) != 0)
		goto out;
	cm_log_info("actor=%s action=milestone.check changed=%ld "
		    "warnings=%ld alerts=%ld overdue=%ld digest=%s "
		    "reminders=%ld", c->actor, k.changed, k.warnings,
		    k.alerts, k.overdue, k.digest ? "yes" : "no", reminders);
	o = out_new(arg_flag(a, "json"));
	out_time(o, "now", now);
	out_int(o, "changed", k.changed);
	out_int(o, "warnings", k.warnings);
	out_int(o, "alerts", k.alerts);
	out_int(o, "overdue", k.overdue);
	out_bool(o, "digest", k.digest);
	out_int(o, "reminders", reminders);
	ret = out_flush(&o);
out:
	out_free(&o);
	cm_workday_free(&wd);
	return ret;
}

/* cmd_victim_enhanced - set or clear a victim's enhanced rights */
int
cmd_victim_enhanced(struct cli *c, struct args *a)
{
	const char *err = NULL, *v = a->pos[1];
	struct cm_victim vic = { 0 };
	struct cm_case cs = { 0 };
	char detail[64];
	int64_t id = 0;
	bool on;
	int rc, ret;

	if ((ret = cli_id(a->pos[0], "victim id", &id)) != 0)
		goto out;
	if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
		ret = cli_fail(CLI_EXIT_USAGE, "say on or off, not \"%s\"",
			       cli_san(v));
		goto out;
	}
	on = strcmp(v, "on") == 0;
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
		rc = cm_store_victim_set_enhanced(c->st, id, on, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot set enhanced rights", err);
		goto out;
	}
	(void)snprintf(detail, sizeof(detail), "victim=%lld enhanced=%s",
		       (long long)id, on ? "yes" : "no");
	if ((ret = cli_finish(c, "victim.enhanced", cs.ref, detail)) != 0)
		goto out;
	printf("victim %lld on %s: enhanced rights %s\n", (long long)id,
	       cs.ref, on ? "on" : "off");
out:
	cm_case_clear(&cs);
	cm_victim_clear(&vic);
	return ret;
}
