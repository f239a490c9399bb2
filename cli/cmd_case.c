/*
 * cmd_case.c - casemail case add|list|show|close|reopen
 *
 * SYNOPSIS
 *	casemail case add REF --oic EMAIL [--title T]
 *	casemail case list [--json]
 *	casemail case show REF [--json]
 *	casemail case close REF
 *	casemail case reopen REF
 *
 * DESCRIPTION
 *	A case is known by its reference, checked against ref_pattern and
 *	stored upper case; every lookup canonicalises the reference first,
 *	so "hu-20261128-0042" finds "HU-20261128-0042". The officer in
 *	charge must be an active officer. A closed case takes no updates.
 *
 * DIAGNOSTICS
 *	"invalid case reference", "case REF already exists", "no case REF",
 *	"no active officer E", store errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_TITLE 200 /* bytes of a case title */

/* cmd_case_add - open a new case */
int
cmd_case_add(struct cli *c, struct args *a)
{
	const char *oic = arg_opt(a, "oic"), *title = arg_opt(a, "title");
	const char *err = NULL;
	struct cm_officer o = { 0 };
	struct cm_case old = { 0 };
	char *ref = NULL, *detail = NULL;
	int64_t id = 0;
	int rc, ret = CLI_EXIT_ERR;

	if (oic == NULL) {
		ret = cli_usage(c);
		goto out;
	}
	if ((ref = cli_ref(c, a->pos[0], &ret)) == NULL)
		goto out;
	if (title != NULL && (title[0] == '\0' || strlen(title) > MAX_TITLE ||
			      !cli_plain_text(title))) {
		ret = cli_fail(CLI_EXIT_ERR, "title must be 1 to %d "
			       "characters of text without control "
			       "characters", MAX_TITLE);
		goto out;
	}
	if ((ret = cli_begin(c)) != 0)
		goto out;
	if ((ret = cli_active_officer(c, oic, &o)) != 0) {
		cm_store_rollback(c->st);
		goto out;
	}
	rc = cm_store_case_get(c->st, ref, &old, &err);
	if (rc == 0) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "case %s already exists", ref);
		goto out;
	}
	if (rc != CM_ENOENT) {
		ret = cli_store_fail(c, rc, "cannot read cases", err);
		goto out;
	}
	rc = cm_store_case_add(c->st, ref, title, o.id, &id, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot add case", err);
		goto out;
	}
	detail = cm_xasprintf("case=%lld oic=%lld", (long long)id,
			      (long long)o.id);
	if ((ret = cli_finish(c, "case.add", ref, detail)) != 0)
		goto out;
	printf("added case %s, officer in charge %s\n", ref, o.email);
	ret = 0;
out:
	free(detail);
	free(ref);
	cm_case_clear(&old);
	cm_officer_clear(&o);
	return ret;
}

struct cases {
	struct cm_case *v;
	size_t n, cap;
};

/* collect_case - copy one case (store callbacks may not re-enter) */
static int
collect_case(const struct cm_case *cs, void *ctx)
{
	struct cases *l = ctx;
	struct cm_case *d;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = cm_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	d = &l->v[l->n++];
	*d = *cs;
	d->ref = cm_xstrdup(cs->ref);
	d->title = cm_xstrdup(cs->title);
	d->status = cm_xstrdup(cs->status);
	return 0;
}

/* cmd_case_list - every case with its officer in charge */
int
cmd_case_list(struct cli *c, struct args *a)
{
	struct cases l = { NULL, 0, 0 };
	struct out *o = out_new(arg_flag(a, "json"));
	struct cm_officer off = { 0 };
	const char *err = NULL;
	int rc, ret = CLI_EXIT_ERR;

	rc = cm_store_case_list(c->st, collect_case, &l, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot list cases", err);
		goto out;
	}
	out_list(o, "cases");
	for (size_t i = 0; i < l.n; i++) {
		const struct cm_case *cs = &l.v[i];

		if (off.id != cs->oic_id) {
			cm_officer_clear(&off);
			rc = cm_store_officer_get_id(c->st, cs->oic_id, &off,
						     &err);
			if (rc < 0 && rc != CM_ENOENT) {
				ret = cli_store_fail(c, rc, "cannot read "
						     "officer", err);
				goto out;
			}
		}
		out_begin(o, NULL);
		out_int(o, "id", cs->id);
		out_str(o, "ref", cs->ref);
		out_str(o, "status", cs->status);
		out_str(o, "oic", off.email);
		out_str(o, "title", cs->title);
		out_time(o, "created", cs->created_at);
		out_end(o);
	}
	out_end(o);
	ret = out_flush(&o);
out:
	out_free(&o);
	cm_officer_clear(&off);
	for (size_t i = 0; i < l.n; i++)
		cm_case_clear(&l.v[i]);
	free(l.v);
	return ret;
}

/* count_msg - count thread messages, and held ones */
static int
count_msg(const struct cm_message *m, void *ctx)
{
	int64_t *n = ctx;

	n[0]++;
	if (strcmp(m->status, "held") == 0)
		n[1]++;
	return 0;
}

/* count_notice - count the notices of one case (ctx: id, count) */
static int
count_notice(const struct cm_notice *nt, void *ctx)
{
	int64_t *n = ctx;

	if (nt->case_id == n[0])
		n[1]++;
	return 0;
}

struct victims {
	struct cm_victim *v;
	size_t n, cap;
};

/* collect_victim - copy one victim */
static int
collect_victim(const struct cm_victim *v, void *ctx)
{
	struct victims *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = cm_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	cli_victim_copy(&l->v[l->n++], v);
	return 0;
}

/* cmd_case_show - one case in full */
int
cmd_case_show(struct cli *c, struct args *a)
{
	struct out *o = out_new(arg_flag(a, "json"));
	struct victims vl = { NULL, 0, 0 };
	struct cm_case cs = { 0 };
	struct cm_officer off = { 0 };
	const char *err = NULL;
	int64_t msgs[2] = { 0, 0 }, notices[2] = { 0, 0 };
	int rc, ret;

	if ((ret = cli_case(c, a->pos[0], &cs)) != 0)
		goto out;
	rc = cm_store_officer_get_id(c->st, cs.oic_id, &off, &err);
	if (rc < 0 && rc != CM_ENOENT) {
		ret = cli_store_fail(c, rc, "cannot read officer", err);
		goto out;
	}
	rc = cm_store_victim_list(c->st, cs.id, collect_victim, &vl, &err);
	if (rc == 0)
		rc = cm_store_thread(c->st, cs.id, count_msg, msgs, &err);
	notices[0] = cs.id;
	if (rc == 0)
		rc = cm_store_notice_list(c->st, NULL, count_notice, notices,
					  &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read case", err);
		goto out;
	}
	out_begin(o, "case");
	out_int(o, "id", cs.id);
	out_str(o, "ref", cs.ref);
	out_str(o, "title", cs.title);
	out_str(o, "status", cs.status);
	out_time(o, "created", cs.created_at);
	out_time(o, "closed", cs.closed_at);
	out_end(o);
	out_begin(o, "officer");
	out_int(o, "id", cs.oic_id);
	out_str(o, "email", off.email);
	out_str(o, "name", off.name);
	out_str(o, "collar", off.collar);
	out_bool(o, "active", off.active);
	out_end(o);
	out_int(o, "messages", msgs[0]);
	out_int(o, "held", msgs[1]);
	out_int(o, "notices", notices[1]);
	out_list(o, "victims");
	for (size_t i = 0; i < vl.n; i++) {
		const struct cm_victim *v = &vl.v[i];

		out_begin(o, NULL);
		out_int(o, "id", v->id);
		out_str(o, "name", v->name);
		out_str(o, "email", v->email);
		out_str(o, "phone", v->phone);
		out_str(o, "channel", v->channel);
		out_bool(o, "opted_in", v->opted_in);
		out_str(o, "email_status", v->email_status);
		out_end(o);
	}
	out_end(o);
	ret = out_flush(&o);
out:
	out_free(&o);
	for (size_t i = 0; i < vl.n; i++)
		cm_victim_clear(&vl.v[i]);
	free(vl.v);
	cm_officer_clear(&off);
	cm_case_clear(&cs);
	return ret;
}

/* set_status - close or reopen */
static int
set_status(struct cli *c, const char *userref, const char *status)
{
	struct cm_case cs = { 0 };
	const char *err = NULL;
	bool closing = strcmp(status, "closed") == 0;
	char detail[64];
	int rc, ret;

	if ((ret = cli_begin(c)) != 0)
		goto out;
	if ((ret = cli_case(c, userref, &cs)) != 0) {
		cm_store_rollback(c->st);
		goto out;
	}
	if (strcmp(cs.status, status) == 0) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "case %s is already %s", cs.ref,
			       closing ? "closed" : "open");
		goto out;
	}
	rc = cm_store_case_set_status(c->st, cs.id, status, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot change case", err);
		goto out;
	}
	snprintf(detail, sizeof(detail), "case=%lld status=%s",
		 (long long)cs.id, status);
	ret = cli_finish(c, closing ? "case.close" : "case.reopen", cs.ref,
			 detail);
	if (ret != 0)
		goto out;
	printf("%s case %s\n", closing ? "closed" : "reopened", cs.ref);
out:
	cm_case_clear(&cs);
	return ret;
}

/* cmd_case_close - close a case */
int
cmd_case_close(struct cli *c, struct args *a)
{
	return set_status(c, a->pos[0], "closed");
}

/* cmd_case_reopen - reopen a closed case */
int
cmd_case_reopen(struct cli *c, struct args *a)
{
	return set_status(c, a->pos[0], "open");
}
