/*
 * cmd_victim.c - casemail victim add|list|show
 *
 * SYNOPSIS
 *	casemail victim add REF --name N [--email E] [--phone P]
 *		[--channel email|sms|both|none]
 *	casemail victim list REF [--json]
 *	casemail victim show ID [--json]
 *
 * DESCRIPTION
 *	A victim belongs to one case. The channel decides how notices
 *	reach them; by default email when an address is given, else sms
 *	when a phone number is given, else none. A victim with an email
 *	address is opted in to email automatically. Phone numbers are
 *	E.164-ish: '+' and 7 to 15 digits; spaces and dashes are dropped.
 *	"victim add" prints the new id alone, for scripts.
 *
 * DIAGNOSTICS
 *	Invalid address, phone, channel or name; a channel without the
 *	address or number it needs; "no case REF"; "no victim ID".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cm_addr.h"

#define MAX_NAME 200

/* cli_victim_copy - deep copy of a victim (clear with cm_victim_clear) */
void
cli_victim_copy(struct cm_victim *d, const struct cm_victim *v)
{
	*d = *v;
	d->name = cm_xstrdup(v->name);
	d->email = cm_xstrdup(v->email);
	d->phone = cm_xstrdup(v->phone);
	d->channel = cm_xstrdup(v->channel);
	d->email_status = cm_xstrdup(v->email_status);
}

/* cli_put_victim - one victim as an object in the open list */
void
cli_put_victim(struct out *o, const struct cm_victim *v, const char *ref)
{
	out_begin(o, NULL);
	out_int(o, "id", v->id);
	if (ref != NULL)
		out_str(o, "case", ref);
	out_str(o, "name", v->name);
	out_str(o, "email", v->email);
	out_str(o, "phone", v->phone);
	out_str(o, "channel", v->channel);
	out_bool(o, "opted_in", v->opted_in);
	out_str(o, "email_status", v->email_status);
	out_int(o, "bounce_score", v->bounce_score);
	out_bool(o, "registered", v->registered);
	out_bool(o, "discreet", v->discreet);
	out_time(o, "created", v->created_at);
	out_end(o);
}

/* phone_norm - "+" and 7..15 digits from s, spaces and dashes dropped;
 * caller frees; NULL if not a phone number */
static char *
phone_norm(const char *s)
{
	char buf[32];
	size_t n = 0, digits = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '-')
			continue;
		if (n == 0 && *s == '+') {
			buf[n++] = '+';
			continue;
		}
		if (n == 0 || *s < '0' || *s > '9' || digits == 15)
			return NULL;
		buf[n++] = *s;
		digits++;
	}
	if (digits < 7)
		return NULL;
	buf[n] = '\0';
	return cm_xstrdup(buf);
}

/* check_channel - the channel, chosen or checked against what is given */
static int
check_channel(const char *chosen, const char *email, const char *phone,
	      const char **channel_r)
{
	static const char *const names[] = { "email", "sms", "both", "none" };
	bool known = false;

	if (chosen == NULL) {
		*channel_r = email != NULL ? "email" :
			     phone != NULL ? "sms" : "none";
		return 0;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(names); i++)
		if (strcmp(chosen, names[i]) == 0) {
			known = true;
			*channel_r = names[i];
		}
	if (!known)
		return cli_fail(CLI_EXIT_USAGE, "channel must be email, sms, "
				"both or none, not \"%s\"", cli_san(chosen));
	if ((strcmp(chosen, "email") == 0 || strcmp(chosen, "both") == 0) &&
	    email == NULL)
		return cli_fail(CLI_EXIT_ERR, "channel %s needs --email",
				chosen);
	if ((strcmp(chosen, "sms") == 0 || strcmp(chosen, "both") == 0) &&
	    phone == NULL)
		return cli_fail(CLI_EXIT_ERR, "channel %s needs --phone",
				chosen);
	return 0;
}

/* cmd_victim_add - add a victim to a case; prints the id */
int
cmd_victim_add(struct cli *c, struct args *a)
{
	const char *name = arg_opt(a, "name"), *email = arg_opt(a, "email");
	const char *phone = arg_opt(a, "phone"), *channel = NULL;
	const char *err = NULL;
	struct cm_case cs = { 0 };
	char *norm_email = NULL, *norm_phone = NULL, *detail = NULL;
	int64_t id = 0;
	int rc, ret = CLI_EXIT_ERR;

	if (name == NULL) {
		ret = cli_usage(c);
		goto out;
	}
	if (name[0] == '\0' || strlen(name) > MAX_NAME ||
	    !cli_plain_text(name)) {
		ret = cli_fail(CLI_EXIT_ERR, "name must be 1 to %d characters "
			       "of text without control characters",
			       MAX_NAME);
		goto out;
	}
	if (email != NULL) {
		norm_email = cm_addr_valid(email) ? cm_addr_normalize(email)
						  : NULL;
		if (norm_email == NULL) {
			ret = cli_fail(CLI_EXIT_ERR, "invalid email address "
				       "\"%s\"", cli_san(email));
			goto out;
		}
	}
	if (phone != NULL && (norm_phone = phone_norm(phone)) == NULL) {
		ret = cli_fail(CLI_EXIT_ERR, "invalid phone number \"%s\" "
			       "(want + and 7 to 15 digits)", cli_san(phone));
		goto out;
	}
	ret = check_channel(arg_opt(a, "channel"), norm_email, norm_phone,
			    &channel);
	if (ret != 0)
		goto out;
	if ((ret = cli_begin(c)) != 0)
		goto out;
	if ((ret = cli_case(c, a->pos[0], &cs)) != 0) {
		cm_store_rollback(c->st);
		goto out;
	}
	rc = cm_store_victim_add(c->st, cs.id, name, norm_email, norm_phone,
				 channel, norm_email != NULL, &id, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot add victim", err);
		goto out;
	}
	detail = cm_xasprintf("victim=%lld channel=%s email=%s phone=%s",
			      (long long)id, channel,
			      norm_email != NULL ? "yes" : "no",
			      norm_phone != NULL ? "yes" : "no");
	if ((ret = cli_finish(c, "victim.add", cs.ref, detail)) != 0)
		goto out;
	printf("%lld\n", (long long)id);
	ret = 0;
out:
	free(detail);
	free(norm_phone);
	free(norm_email);
	cm_case_clear(&cs);
	return ret;
}

/* put_victim_cb - list callback */
static int
put_victim_cb(const struct cm_victim *v, void *ctx)
{
	cli_put_victim(ctx, v, NULL);
	return 0;
}

/* cmd_victim_list - the victims of a case */
int
cmd_victim_list(struct cli *c, struct args *a)
{
	struct out *o = out_new(arg_flag(a, "json"));
	struct cm_case cs = { 0 };
	const char *err = NULL;
	int rc, ret;

	if ((ret = cli_case(c, a->pos[0], &cs)) != 0)
		goto out;
	out_list(o, "victims");
	rc = cm_store_victim_list(c->st, cs.id, put_victim_cb, o, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot list victims", err);
		goto out;
	}
	out_end(o);
	ret = out_flush(&o);
out:
	out_free(&o);
	cm_case_clear(&cs);
	return ret;
}

/* cmd_victim_show - one victim */
int
cmd_victim_show(struct cli *c, struct args *a)
{
	struct out *o = out_new(arg_flag(a, "json"));
	struct cm_victim v = { 0 };
	struct cm_case cs = { 0 };
	const char *err = NULL;
	int64_t id;
	int rc, ret;

	if ((ret = cli_id(a->pos[0], "victim id", &id)) != 0)
		goto out;
	rc = cm_store_victim_get(c->st, id, &v, &err);
	if (rc == CM_ENOENT) {
		ret = cli_fail(CLI_EXIT_ERR, "no victim %lld", (long long)id);
		goto out;
	}
	if (rc == 0)
		rc = cm_store_case_get_id(c->st, v.case_id, &cs, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read victim", err);
		goto out;
	}
	out_begin(o, "victim");
	out_int(o, "id", v.id);
	out_str(o, "case", cs.ref);
	out_str(o, "name", v.name);
	out_str(o, "email", v.email);
	out_str(o, "phone", v.phone);
	out_str(o, "channel", v.channel);
	out_bool(o, "opted_in", v.opted_in);
	out_str(o, "email_status", v.email_status);
	out_int(o, "bounce_score", v.bounce_score);
	out_bool(o, "registered", v.registered);
	out_bool(o, "discreet", v.discreet);
	out_time(o, "created", v.created_at);
	out_end(o);
	ret = out_flush(&o);
out:
	out_free(&o);
	cm_case_clear(&cs);
	cm_victim_clear(&v);
	return ret;
}
