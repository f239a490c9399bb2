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
 *	all (cm_work_queue_update); and for an officer's update the
 *	milestones its "Milestone: KIND" lines name, at the time the
 *	message arrived, found again by the mda's own path (the raw
 *	message through cm_inspect_parse, the officer's text only), as a
 *	proven update would have recorded them on delivery.
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
#include "cm_inspect.h"
#include "cm_mline.h"

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

/*
 * approve_milestones - the milestone lines of an approved officer's
 * update, read from its raw message the way the mda read them, into
 * rec's case for rec's victim at rec's time; *res_r says what was done
 */
static int
approve_milestones(struct cli *c, int64_t raw_id,
		   const struct cm_mline_rec *rec,
		   struct cm_mline_result *res_r, const char **error_r)
{
	struct cm_inspect *in = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc;

	memset(res_r, 0, sizeof(*res_r));
	if (raw_id == 0)
		return 0; /* not from mail: no lines to read */
	rc = cm_store_raw_get(c->st, raw_id, &data, &len, error_r);
	if (rc < 0)
		goto out;
	/* it parsed on delivery; if it no longer does, nothing to read */
	if (cm_inspect_parse(data, len, &c->cfg->limits, NULL, &in,
			     error_r) < 0 ||
	    in->trim.body == NULL) {
		rc = 0;
		goto out;
	}
	rc = cm_mline_record(&c->work, rec, in->trim.body, res_r, error_r);
out:
	cm_inspect_free(&in);
	free(data);
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
	struct cm_mline_rec rec;
	struct cm_mline_result ms;
	char *detail = NULL;
	int64_t id, victim_id, raw_id;
	int rc, n = 0, ret;

	memset(&ms, 0, sizeof(ms));
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
	memset(&rec, 0, sizeof(rec));
	rec.case_id = m.case_id;
	rec.victim_id = m.victim_id;
	rec.officer_id = m.officer_id;
	rec.at = m.at;
	rec.message_id = id;
	rec.source = "cli";
	raw_id = m.raw_id;
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
	if (rc == 0 && approve && strcmp(author, "officer") == 0 &&
	    strcmp(visibility, "victim") == 0 && strcmp(kind, "message") == 0)
		rc = approve_milestones(c, raw_id, &rec, &ms, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot change message", err);
		goto out;
	}
	detail = cm_xasprintf("message=%lld author=%s notices=%d "
			      "milestones=%d", (long long)id, author, n,
			      ms.recorded);
	ret = cli_finish(c, approve ? "held.approve" : "held.reject", cs.ref,
			 detail);
	if (ret != 0)
		goto out;
	if (approve && (ms.recorded > 0 || ms.refused > 0))
		printf("approved message %lld on %s, %d notices queued, %d "
		       "milestones recorded (%s), %d refused%s%s\n",
		       (long long)id, cs.ref, n, ms.recorded,
		       ms.first_recorded, ms.refused,
		       ms.refused > 0 ? ": " : "", ms.first_refused);
	else if (approve)
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
