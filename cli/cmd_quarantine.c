/*
 * cmd_quarantine.c - casemail quarantine list|show|release|delete
 *
 * SYNOPSIS
 *	casemail quarantine list [--status held|released|deleted] [--json]
 *	casemail quarantine show ID [--json] [--raw]
 *	casemail quarantine release ID --case REF --as victim|officer|note
 *		[--victim ID|--all]
 *	casemail quarantine delete ID
 *
 * DESCRIPTION
 *	Mail the mda could not place is kept whole in quarantine. release
 *	parses the kept raw message again (cm_mime_parse under the
 *	configured limits; if that still fails, the raw text made valid
 *	UTF-8 is the body), trims it, and posts it on the case through
 *	cm_work_post with source "quarantine":
 *	  victim   as the victim named by --victim ID, else the victim of
 *	           the case whose address matches From; when From matches
 *	           no victim, --victim is required (a stranger's mail is
 *	           never credited to a victim by default); the officer is
 *	           notified;
 *	  officer  as the officer whose address matches From, else the
 *	           officer in charge, addressed as "casemail update" is
 *	           (--victim ID or --all, required when the case has more
 *	           than one victim); the addressed victims are notified;
 *	  note     the same officer, internal.
 *	delete marks the row deleted; the raw message is kept (evidence).
 *
 * DIAGNOSTICS
 *	"no quarantined message ID", "quarantined message ID is already
 *	released", "the sender matches no victim of case REF: name one with
 *	--victim ID", "no victim ID on case REF", store errors.
 *
 * SECURITY
 *	--raw writes the bytes as received; on a terminal they are shown
 *	sanitised instead, so a hostile message cannot drive the terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cm_html.h"
#include "cm_mime.h"
#include "cm_trim.h"

struct qrows {
	struct cm_quarantine *v;
	size_t n, cap;
};

/* collect_q - deep copy of one quarantine row */
static int
collect_q(const struct cm_quarantine *q, void *ctx)
{
	struct qrows *l = ctx;
	struct cm_quarantine *d;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = cm_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	d = &l->v[l->n++];
	*d = *q;
	d->reason = cm_xstrdup(q->reason);
	d->sender = cm_xstrdup(q->sender);
	d->recipient = cm_xstrdup(q->recipient);
	d->queue_id = cm_xstrdup(q->queue_id);
	d->message_id = cm_xstrdup(q->message_id);
	d->subject = cm_xstrdup(q->subject);
	d->status = cm_xstrdup(q->status);
	d->released_as = cm_xstrdup(q->released_as);
	return 0;
}

/* qrows_free - release copied rows */
static void
qrows_free(struct qrows *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct cm_quarantine *q = &l->v[i];

		free((char *)q->reason);
		free((char *)q->sender);
		free((char *)q->recipient);
		free((char *)q->queue_id);
		free((char *)q->message_id);
		free((char *)q->subject);
		free((char *)q->status);
		free((char *)q->released_as);
	}
	free(l->v);
}

/* put_q - one row as an object; ref is the case it went to or NULL;
 * full adds the ids and the release role (show) */
static void
put_q(struct out *o, const char *key, const struct cm_quarantine *q,
      const char *ref, bool full)
{
	out_begin(o, key);
	out_int(o, "id", q->id);
	out_time(o, "at", q->at);
	out_str(o, "status", q->status);
	out_str(o, "sender", q->sender);
	out_str(o, "recipient", q->recipient);
	out_str(o, "subject", q->subject);
	out_int(o, "size", q->size);
	out_str(o, "reason", q->reason);
	out_str(o, "case", ref);
	if (full) {
		out_str(o, "released_as", q->released_as);
		out_str(o, "queue_id", q->queue_id);
		out_str(o, "message_id", q->message_id);
		out_int(o, "raw_id", q->raw_id);
	}
	out_end(o);
}

/* case_ref - the reference of case_id into *cs (0: none) */
static int
case_ref(struct cli *c, int64_t case_id, struct cm_case *cs)
{
	const char *err = NULL;
	int rc;

	if (case_id == 0 || case_id == cs->id)
		return 0;
	cm_case_clear(cs);
	rc = cm_store_case_get_id(c->st, case_id, cs, &err);
	if (rc < 0 && rc != CM_ENOENT)
		return cli_store_fail(c, rc, "cannot read case", err);
	return 0;
}

/* valid_qstatus - a quarantine status name */
static bool
valid_qstatus(const char *s)
{
	return strcmp(s, "held") == 0 || strcmp(s, "released") == 0 ||
	       strcmp(s, "deleted") == 0;
}

/* cmd_quarantine_list - quarantined mail */
int
cmd_quarantine_list(struct cli *c, struct args *a)
{
	const char *status = arg_opt(a, "status"), *err = NULL;
	struct out *o = out_new(arg_flag(a, "json"));
	struct qrows l = { NULL, 0, 0 };
	struct cm_case cs = { 0 };
	int rc, ret;

	if (status != NULL && !valid_qstatus(status)) {
		ret = cli_fail(CLI_EXIT_USAGE, "status must be held, released "
			       "or deleted, not \"%s\"", cli_san(status));
		goto out;
	}
	rc = cm_store_quarantine_list(c->st, status, collect_q, &l, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot list quarantine", err);
		goto out;
	}
	out_list(o, "quarantine");
	for (size_t i = 0; i < l.n; i++) {
		if ((ret = case_ref(c, l.v[i].case_id, &cs)) != 0)
			goto out;
		put_q(o, NULL, &l.v[i], l.v[i].case_id != 0 ? cs.ref : NULL,
		      false);
	}
	out_end(o);
	ret = out_flush(&o);
out:
	out_free(&o);
	cm_case_clear(&cs);
	qrows_free(&l);
	return ret;
}

/* get_q - one row, copied into l (so it survives further store calls) */
static int
get_q(struct cli *c, const char *arg, struct qrows *l)
{
	struct cm_quarantine q;
	const char *err = NULL;
	int64_t id;
	int rc, ret;

	if ((ret = cli_id(arg, "quarantine id", &id)) != 0)
		return ret;
	rc = cm_store_quarantine_get(c->st, id, &q, &err);
	if (rc == CM_ENOENT)
		return cli_fail(CLI_EXIT_ERR, "no quarantined message %lld",
				(long long)id);
	if (rc < 0)
		return cli_store_fail(c, rc, "cannot read quarantine", err);
	return collect_q(&q, l);
}

/* write_raw - the raw bytes to stdout; sanitised on a terminal */
static void
write_raw(const char *data, size_t len)
{
	char *clean;

	if (!isatty(STDOUT_FILENO)) {
		fwrite(data, 1, len, stdout);
		return;
	}
	clean = cm_utf8_clean(data, len);
	out_text(clean);
	free(clean);
}

/* cmd_quarantine_show - one quarantined message, or its raw bytes */
int
cmd_quarantine_show(struct cli *c, struct args *a)
{
	struct out *o = out_new(arg_flag(a, "json"));
	struct qrows l = { NULL, 0, 0 };
	struct cm_case cs = { 0 };
	const char *err = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc, ret;

	if ((ret = get_q(c, a->pos[0], &l)) != 0)
		goto out;
	if (arg_flag(a, "raw")) {
		rc = cm_store_raw_get(c->st, l.v[0].raw_id, &data, &len, &err);
		if (rc < 0) {
			ret = cli_store_fail(c, rc, "cannot read the raw "
					     "message", err);
			goto out;
		}
		write_raw(data, len);
		ret = out_close_stdout();
		goto out;
	}
	if ((ret = case_ref(c, l.v[0].case_id, &cs)) != 0)
		goto out;
	put_q(o, "quarantine", &l.v[0], l.v[0].case_id != 0 ? cs.ref : NULL,
	      true);
	ret = out_flush(&o);
out:
	free(data);
	out_free(&o);
	cm_case_clear(&cs);
	qrows_free(&l);
	return ret;
}

/* parsed - what release takes from the raw message */
struct parsed {
	struct cm_msg *msg; /* NULL when the parse failed */
	char *text;         /* full text */
	struct cm_trim trim;
};

/* parse_raw - parse, or fall back to the cleaned raw text */
static void
parse_raw(struct cli *c, const char *data, size_t len, struct parsed *p)
{
	const char *err = NULL;

	memset(p, 0, sizeof(*p));
	cm_mime_init();
	cm_html_init();
	if (cm_mime_parse(data, len, &c->cfg->limits, &p->msg, &err) < 0)
		p->msg = NULL;
	if (p->msg != NULL && p->msg->body != NULL)
		p->text = cm_xstrdup(p->msg->body);
	else
		p->text = cm_utf8_clean(data, len);
	/* the subject tells an Outlook forward (FW:) from a reply */
	cm_trim_text_subject(p->text, p->msg != NULL ? p->msg->subject : NULL,
			     &p->trim);
}

/* parsed_free - release what parse_raw made */
static void
parsed_free(struct parsed *p)
{
	cm_trim_clear(&p->trim);
	free(p->text);
	cm_msg_free(&p->msg);
}

/* pick_author - victim or officer id for the role, and for an officer
 * the victim addressed; 0 or a status */
static int
pick_author(struct cli *c, struct args *a, const struct cm_case *cs,
	    const char *role, const char *from, struct cm_post *post)
{
	struct cm_victim v = { 0 };
	struct cm_officer o = { 0 };
	const char *err = NULL;
	int rc = CM_ENOENT, ret = 0;

	if (strcmp(role, "victim") == 0) {
		if (arg_flag(a, "all")) {
			ret = cli_fail(CLI_EXIT_USAGE, "--all is for --as "
				       "officer");
			goto out;
		}
		if (arg_opt(a, "victim") != NULL) {
			/* named by the officer releasing it */
			ret = cli_addressee(c, a, cs, false,
					    &post->victim_id);
			goto out;
		}
		if (from != NULL)
			rc = cm_store_victim_find_email(c->st, cs->id, from,
							&v, &err);
		if (rc == 0)
			post->victim_id = v.id;
		else if (rc == CM_ENOENT)
			ret = cli_fail(CLI_EXIT_ERR, "the sender matches no "
				       "victim of case %s: name one with "
				       "--victim ID", cs->ref);
	} else {
		ret = cli_addressee(c, a, cs, strcmp(role, "note") == 0,
				    &post->victim_id);
		if (ret != 0)
			goto out;
		if (from != NULL)
			rc = cm_store_officer_get(c->st, from, &o, &err);
		if (rc == 0) {
			post->officer_id = o.id;
		} else if (rc == CM_ENOENT) {
			post->officer_id = cs->oic_id;
			rc = 0;
		}
	}
	if (rc < 0 && rc != CM_ENOENT && ret == 0)
		ret = cli_store_fail(c, rc, "cannot find the author", err);
out:
	cm_victim_clear(&v);
	cm_officer_clear(&o);
	return ret;
}

/* add_attachments - the parsed message's attachment rows */
static int
add_attachments(struct cli *c, const struct cm_msg *msg, int64_t id,
		const char **error_r)
{
	struct cm_attachment_row r;
	int rc = 0;

	for (size_t i = 0; msg != NULL && i < msg->n_attachments; i++) {
		const struct cm_msg_attachment *at = &msg->attachments[i];

		memset(&r, 0, sizeof(r));
		r.message_id = id;
		r.filename = at->filename;
		r.content_type = at->content_type;
		r.size = (int64_t)at->size;
		r.sha256 = at->sha256;
		rc = cm_store_attachment_add(c->st, &r, error_r);
		if (rc < 0)
			break;
	}
	return rc;
}

/* check_role - victim, officer or note */
static int
check_role(const char *as)
{
	if (as != NULL && (strcmp(as, "victim") == 0 ||
			   strcmp(as, "officer") == 0 ||
			   strcmp(as, "note") == 0))
		return 0;
	return cli_fail(CLI_EXIT_USAGE, "--as must be victim, officer or "
			"note");
}

/* cmd_quarantine_release - post a quarantined message on a case */
int
cmd_quarantine_release(struct cli *c, struct args *a)
{
	const char *ref = arg_opt(a, "case"), *as = arg_opt(a, "as");
	const char *err = NULL, *from;
	struct qrows l = { NULL, 0, 0 };
	struct cm_case cs = { 0 };
	struct parsed p = { 0 };
	struct cm_post post;
	char *data = NULL, *detail = NULL;
	size_t len = 0;
	int64_t mid = 0;
	int rc, n = 0, ret;

	if (ref == NULL || as == NULL) {
		ret = cli_usage(c);
		goto out;
	}
	if ((ret = check_role(as)) != 0)
		goto out;
	if ((ret = cli_begin(c)) != 0)
		goto out;
	if ((ret = get_q(c, a->pos[0], &l)) != 0 ||
	    (ret = cli_case(c, ref, &cs)) != 0) {
		cm_store_rollback(c->st);
		goto out;
	}
	if (strcmp(l.v[0].status, "held") != 0) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "quarantined message %lld is "
			       "already %s", (long long)l.v[0].id,
			       l.v[0].status);
		goto out;
	}
	if (strcmp(cs.status, "open") != 0) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "case %s is closed (casemail case "
			       "reopen %s)", cs.ref, cs.ref);
		goto out;
	}
	rc = cm_store_raw_get(c->st, l.v[0].raw_id, &data, &len, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read the raw message", err);
		goto out;
	}
	parse_raw(c, data, len, &p);
	from = p.msg != NULL && p.msg->from != NULL ? p.msg->from :
						       l.v[0].sender;
	memset(&post, 0, sizeof(post));
	post.case_id = cs.id;
	if ((ret = pick_author(c, a, &cs, as, from, &post)) != 0) {
		cm_store_rollback(c->st);
		goto out;
	}
	post.author = strcmp(as, "victim") == 0 ? "victim" : "officer";
	post.visibility = strcmp(as, "note") == 0 ? "internal" : "victim";
	post.status = "posted";
	post.kind = "message";
	post.body = p.trim.body != NULL ? p.trim.body : p.text;
	post.body_full = p.text;
	post.quoted = p.trim.quoted;
	post.subject = p.msg != NULL ? p.msg->subject : l.v[0].subject;
	post.sender = from;
	post.message_id = p.msg != NULL ? p.msg->message_id :
					  l.v[0].message_id;
	post.in_reply_to = p.msg != NULL ? p.msg->in_reply_to : NULL;
	post.source = "quarantine";
	post.placement = "released";
	post.raw_id = l.v[0].raw_id;
	rc = cm_work_post(&c->work, &post, &mid, &n, &err);
	if (rc == 0)
		rc = add_attachments(c, p.msg, mid, &err);
	if (rc == 0)
		rc = cm_store_quarantine_set(c->st, l.v[0].id, "released",
					     cs.id, as, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot release", err);
		goto out;
	}
	detail = cm_xasprintf("quarantine=%lld message=%lld as=%s "
			      "notices=%d parsed=%s", (long long)l.v[0].id,
			      (long long)mid, as, n,
			      p.msg != NULL ? "yes" : "no");
	if ((ret = cli_finish(c, "quarantine.release", cs.ref, detail)) != 0)
		goto out;
	printf("released quarantined message %lld to %s as %s: message %lld, "
	       "%d notices queued\n", (long long)l.v[0].id, cs.ref, as,
	       (long long)mid, n);
out:
	free(detail);
	parsed_free(&p);
	free(data);
	cm_case_clear(&cs);
	qrows_free(&l);
	return ret;
}

/* cmd_quarantine_delete - mark deleted; the raw message is kept */
int
cmd_quarantine_delete(struct cli *c, struct args *a)
{
	struct qrows l = { NULL, 0, 0 };
	const char *err = NULL;
	char *detail = NULL;
	int rc, ret;

	if ((ret = cli_begin(c)) != 0)
		goto out;
	if ((ret = get_q(c, a->pos[0], &l)) != 0) {
		cm_store_rollback(c->st);
		goto out;
	}
	if (strcmp(l.v[0].status, "held") != 0) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "quarantined message %lld is "
			       "already %s", (long long)l.v[0].id,
			       l.v[0].status);
		goto out;
	}
	rc = cm_store_quarantine_set(c->st, l.v[0].id, "deleted", 0, NULL,
				     &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot delete", err);
		goto out;
	}
	detail = cm_xasprintf("quarantine=%lld raw=%lld", (long long)l.v[0].id,
			      (long long)l.v[0].raw_id);
	if ((ret = cli_finish(c, "quarantine.delete", NULL, detail)) != 0)
		goto out;
	printf("deleted quarantined message %lld (the raw message is kept)\n",
	       (long long)l.v[0].id);
out:
	free(detail);
	qrows_free(&l);
	return ret;
}
