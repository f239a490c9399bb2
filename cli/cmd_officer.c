/*
 * cmd_officer.c - casemail officer add|list|disable|enable
 *
 * SYNOPSIS
 *	casemail officer add --email E --name N [--collar C]
 *	casemail officer list [--json]
 *	casemail officer disable E
 *	casemail officer enable E
 *
 * DESCRIPTION
 *	Officers are known by their email address, stored lower case. A
 *	disabled officer stays on file (the thread names them) but can no
 *	longer post, be made officer in charge, or mail case+REF.
 *
 * DIAGNOSTICS
 *	"officer E already exists", "no officer E", invalid addresses and
 *	names, store errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cm_addr.h"

#define MAX_NAME 200 /* bytes of a name or collar number */

/* valid_label - a name or collar: plain text, 1..MAX_NAME bytes */
static int
valid_label(const char *what, const char *s)
{
	if (s[0] == '\0' || strlen(s) > MAX_NAME || !cli_plain_text(s))
		return cli_fail(CLI_EXIT_ERR, "%s must be 1 to %d characters "
				"of text without control characters", what,
				MAX_NAME);
	return 0;
}

/* cmd_officer_add - add an officer */
int
cmd_officer_add(struct cli *c, struct args *a)
{
	const char *email = arg_opt(a, "email"), *name = arg_opt(a, "name");
	const char *collar = arg_opt(a, "collar"), *err = NULL;
	struct cm_officer o = { 0 };
	char *norm = NULL, *detail = NULL;
	int64_t id = 0;
	int rc, ret = CLI_EXIT_ERR;

	if (email == NULL || name == NULL) {
		ret = cli_usage(c);
		goto out;
	}
	norm = cm_addr_valid(email) ? cm_addr_normalize(email) : NULL;
	if (norm == NULL) {
		ret = cli_fail(CLI_EXIT_ERR, "invalid email address \"%s\"",
			       cli_san(email));
		goto out;
	}
	if ((ret = valid_label("name", name)) != 0 ||
	    (collar != NULL && (ret = valid_label("collar", collar)) != 0))
		goto out;
	if ((ret = cli_begin(c)) != 0)
		goto out;
	rc = cm_store_officer_get(c->st, norm, &o, &err);
	if (rc == 0) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "officer %s already exists", norm);
		goto out;
	}
	if (rc != CM_ENOENT) {
		ret = cli_store_fail(c, rc, "cannot read officers", err);
		goto out;
	}
	rc = cm_store_officer_add(c->st, norm, name, collar, &id, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot add officer", err);
		goto out;
	}
	detail = cm_xasprintf("officer=%lld email=%s", (long long)id, norm);
	if ((ret = cli_finish(c, "officer.add", NULL, detail)) != 0)
		goto out;
	printf("added officer %s (id %lld)\n", norm, (long long)id);
	ret = 0;
out:
	free(detail);
	free(norm);
	cm_officer_clear(&o);
	return ret;
}

/* put_officer - one officer as an object in the open list */
static int
put_officer(const struct cm_officer *o, void *ctx)
{
	struct out *out = ctx;

	out_begin(out, NULL);
	out_int(out, "id", o->id);
	out_str(out, "email", o->email);
	out_str(out, "name", o->name);
	out_str(out, "collar", o->collar);
	out_bool(out, "active", o->active);
	out_time(out, "created", o->created_at);
	out_end(out);
	return 0;
}

/* cmd_officer_list - every officer */
int
cmd_officer_list(struct cli *c, struct args *a)
{
	struct out *o = out_new(arg_flag(a, "json"));
	const char *err = NULL;
	int rc, ret;

	out_list(o, "officers");
	rc = cm_store_officer_list(c->st, put_officer, o, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot list officers", err);
		goto out;
	}
	out_end(o);
	ret = out_flush(&o);
out:
	out_free(&o);
	return ret;
}

/* set_active - enable or disable */
static int
set_active(struct cli *c, const char *email, bool active)
{
	const char *err = NULL, *verb = active ? "enable" : "disable";
	struct cm_officer o = { 0 };
	char *detail = NULL, action[32];
	int rc, ret = CLI_EXIT_ERR;

	if ((ret = cli_begin(c)) != 0)
		goto out;
	rc = cm_store_officer_get(c->st, email, &o, &err);
	if (rc == CM_ENOENT) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "no officer %s", cli_san(email));
		goto out;
	}
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read officer", err);
		goto out;
	}
	if (o.active == active) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "officer %s is already %s",
			       o.email, active ? "enabled" : "disabled");
		goto out;
	}
	rc = cm_store_officer_set_active(c->st, o.email, active, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot change officer", err);
		goto out;
	}
	snprintf(action, sizeof(action), "officer.%s", verb);
	detail = cm_xasprintf("officer=%lld email=%s", (long long)o.id,
			      o.email);
	if ((ret = cli_finish(c, action, NULL, detail)) != 0)
		goto out;
	printf("%sd officer %s\n", verb, o.email);
	ret = 0;
out:
	free(detail);
	cm_officer_clear(&o);
	return ret;
}

/* cmd_officer_disable - an officer can no longer act */
int
cmd_officer_disable(struct cli *c, struct args *a)
{
	return set_active(c, a->pos[0], false);
}

/* cmd_officer_enable - an officer can act again */
int
cmd_officer_enable(struct cli *c, struct args *a)
{
	return set_active(c, a->pos[0], true);
}
