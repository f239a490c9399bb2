/*
 * cmd_held.c - casemail held list|approve|reject
 *
 * SYNOPSIS
 *	casemail held list [--json]
 *	casemail held approve ID
 *	casemail held reject ID
 *
 * DESCRIPTION
 *	A message is held for review when nothing proves who wrote it: a
 *	victim's reply address used by another sender, a message placed on
 *	a case only by its threading headers or a [REF] subject tag, an
 *	officer's key address used by another sender, or mail to case+REF
 *	or note+REF that no trusted border vouched for. list shows how each
 *	was placed. approve makes it "posted" and queues what posting it
 *	queues: for a victim's message an officer_notify notice to the
 *	officer in charge (unless one was already queued for it when it was
 *	held), for an officer's victim-visible message the notices to the
 *	victim it is addressed to, or to every victim for one addressed to
 *	all (cm_work_queue_update).
 *	reject makes it "rejected": it stays in the store as evidence but
 *	out of the thread shown to anyone.
 *
 * DIAGNOSTICS
 *	"no message ID", "message ID is not held (status S)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* cmd_held_list - messages waiting for review */
int
cmd_held_list(struct cli *c, struct args *a)
{
	struct cli_msgs l = { NULL, 0, 0 };
	struct out *o = out_new(arg_flag(a, "json"));
	struct cm_case cs = { 0 };
	const char *err = NULL;
	int rc, ret;

	rc = cm_store_held_list(c->st, cli_msgs_collect, &l, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot list held messages", err);
		goto out;
	}
	out_list(o, "held");
	for (size_t i = 0; i < l.n; i++) {
		const struct cm_message *m = &l.v[i];

		if (cs.id != m->case_id) {
			cm_case_clear(&cs);
			rc = cm_store_case_get_id(c->st, m->case_id, &cs,
						  &err);
			if (rc < 0) {
				ret = cli_store_fail(c, rc, "cannot read case",
						     err);
				goto out;
			}
		}
		out_begin(o, NULL);
		out_int(o, "id", m->id);
		out_str(o, "case", cs.ref);
		out_time(o, "at", m->at);
		out_str(o, "author", m->author);
		out_str(o, "sender", m->sender);
		out_str(o, "placement", m->placement);
		if (m->victim_id != 0)
			out_int(o, "victim_id", m->victim_id);
		else
			out_str(o, "victim_id", NULL);
		out_str(o, "subject", m->subject);
		out_str(o, "body", m->body);
		out_end(o);
	}
	out_end(o);
	ret = out_flush(&o);
out:
	out_free(&o);
	cm_case_clear(&cs);
	cli_msgs_free(&l);
	return ret;
}

/* find_notify - ctx[0] message id; sets ctx[1] when an officer_notify
 * notice for it exists */
static int
find_notify(const struct cm_notice *n, void *ctx)
{
	int64_t *want = ctx;

	if (n->message_id == want[0] && strcmp(n->kind, "officer_notify") == 0)
		want[1] = 1;
	return 0;
}

/* queue_after_approve - the notices posting this message queues */
static int
queue_after_approve(struct cli *c, const struct cm_case *cs, int64_t id,
		    int64_t victim_id, const char *author,
		    const char *visibility, const char *kind, int *n_r,
		    const char **error_r)
{
	struct cm_notice n;
	int64_t seen[2] = { id, 0 };
	int rc;

	*n_r = 0;
	if (strcmp(kind, "message") != 0)
		return 0;
	if (strcmp(author, "officer") == 0 &&
	    strcmp(visibility, "victim") == 0)
		return cm_work_queue_update(&c->work, cs->id, id, victim_id,
					    n_r, error_r);
	if (strcmp(author, "victim") != 0)
		return 0;
	rc = cm_store_notice_list(c->st, NULL, find_notify, seen, error_r);
	if (rc < 0 || seen[1] != 0)
		return rc;
	memset(&n, 0, sizeof(n));
	n.case_id = cs->id;
	n.officer_id = cs->oic_id;
	n.message_id = id;
	n.kind = "officer_notify";
	n.channel = "email";
	rc = cm_store_notice_add(c->st, &n, NULL, error_r);
	if (rc == 0)
		*n_r = 1;
	return rc;
}

/* decide - approve (posted) or reject (rejected) a held message */
static int
decide(struct cli *c, const char *arg, bool approve)
{
	struct cm_message m;
	struct cm_case cs = { 0 };
	const char *err = NULL;
	char author[16], visibility[16], kind[16], status[16];
	char *detail = NULL;
	int64_t id, victim_id;
	int rc, n = 0, ret;

	if ((ret = cli_id(arg, "message id", &id)) != 0)
		goto out;
	if ((ret = cli_begin(c)) != 0)
		goto out;
	rc = cm_store_message_get(c->st, id, &m, &err);
	if (rc == CM_ENOENT) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "no message %lld", (long long)id);
		goto out;
	}
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read message", err);
		goto out;
	}
	/* m's strings die at the next store call: keep what we need */
	cm_strlcpy(author, m.author, sizeof(author));
	cm_strlcpy(visibility, m.visibility, sizeof(visibility));
	cm_strlcpy(kind, m.kind, sizeof(kind));
	cm_strlcpy(status, m.status, sizeof(status));
	victim_id = m.victim_id;
	if (strcmp(status, "held") != 0) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "message %lld is not held (status "
			       "%s)", (long long)id, status);
		goto out;
	}
	rc = cm_store_case_get_id(c->st, m.case_id, &cs, &err);
	if (rc == 0)
		rc = cm_store_message_set_status(c->st, id,
						 approve ? "posted" :
							   "rejected", &err);
	if (rc == 0 && approve)
		rc = queue_after_approve(c, &cs, id, victim_id, author,
					 visibility, kind, &n, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot change message", err);
		goto out;
	}
	detail = cm_xasprintf("message=%lld author=%s notices=%d",
			      (long long)id, author, n);
	ret = cli_finish(c, approve ? "held.approve" : "held.reject", cs.ref,
			 detail);
	if (ret != 0)
		goto out;
	if (approve)
		printf("approved message %lld on %s, %d notices queued\n",
		       (long long)id, cs.ref, n);
	else
		printf("rejected message %lld on %s\n", (long long)id, cs.ref);
out:
	free(detail);
	cm_case_clear(&cs);
	return ret;
}

/* cmd_held_approve - post a held message */
int
cmd_held_approve(struct cli *c, struct args *a)
{
	return decide(c, a->pos[0], true);
}

/* cmd_held_reject - keep a held message out of the thread */
int
cmd_held_reject(struct cli *c, struct args *a)
{
	return decide(c, a->pos[0], false);
}
