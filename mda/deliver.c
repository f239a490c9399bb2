/*
 * deliver.c - place one message: parse, route, store
 *
 * SYNOPSIS
 *	cm_store_begin(st); mda_deliver(m, data, len, &env, &res);
 *	cm_store_commit(st);
 *
 * DESCRIPTION
 *	Who wrote a message is decided by proof, never by From alone:
 *	  reply+KEY   valid KEY and From is the victim (and no trusted
 *		      border says the From failed DMARC/DKIM): posted as
 *		      the victim, officer notified; any other sender:
 *		      held; forged KEY: quarantined
 *	  officer+KEY valid KEY (officer, case, victim) and From is that
 *		      active officer (no trusted fail): the answer is
 *		      posted to that one victim alone; other sender: held;
 *		      forged KEY: quarantined
 *	  case+REF    an active officer's From AND a trusted border's
 *		      DMARC pass aligned with the From domain or DKIM pass
 *		      for it (cm_authres): an update to every victim of the
 *		      case (the one victim of a one-victim case); an active
 *		      officer's From without that proof: held for an
 *		      officer to approve; anyone else: quarantined
 *	  note+REF    the same proof: an internal note, else held
 *	  bounce+KEY  a permanent failure fails the notice and scores the
 *		      address once, only while the notice is out and only
 *		      when the report names the notice's address; delays
 *		      and auto-replies are only recorded
 *	  otherwise   In-Reply-To/References against Message-IDs we sent,
 *		      then a [REF] subject tag, both only for a victim
 *		      already on that case and always held, since nothing
 *		      proves the sender; else quarantine
 *	With no envelope recipient (maildir, IMAP) the routing address is
 *	Delivered-To (the receiving server's own, the topmost), then
 *	X-Original-To, then the first address under mail_domain in To,
 *	then in Cc (mailboxes on Exchange carry only To and Cc).
 *	Each message records how it was placed (cm_message.placement).
 *	Auto-replies (RFC 3834 and vendor forms) are recorded on the case
 *	as system events and queue nothing, so nothing loops.
 *	The raw message is always kept (evidence) with its SHA-256.
 *
 * DIAGNOSTICS
 *	Store trouble returns CM_ETEMP with res->reason; the caller rolls
 *	back and the MTA retries. Anything the message itself causes ends
 *	in quarantine, never in an error.
 *
 * SECURITY
 *	Every header is hostile. The From header decides identity only
 *	together with a MAC-protected address, or for bare officer mail
 *	with an Authentication-Results verdict of a trusted border.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cm_addr.h"
#include "cm_authres.h"
#include "cm_log.h"
#include "cm_inspect.h"
#include "cm_mline.h"
#include "cm_work.h"
#include "mda.h"

/* Per-message state while routing. */
struct dctx {
	struct mda *m;
	struct cm_work w;
	const char *data;
	size_t len;
	const struct mda_envelope *env;
	struct mda_result *res;
	struct cm_inspect *in; /* the one inspect path (cm_inspect) */
	struct cm_msg *msg;    /* in->msg */
	char *key; /* dedupe key (owned) */
	char sha[65];
	int64_t raw_id;
	const char *err;
};

/* set_reason - printf into res->reason */
static void CM_ATTR_PRINTF(2, 3)
set_reason(struct mda_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

/* store_fail - a store call failed: the delivery must be retried */
static int
store_fail(struct dctx *d, const char *what)
{
	d->res->status = CM_DS_TEMP;
	set_reason(d->res, "store: %s: %s", what,
		   d->err != NULL ? d->err : "error");
	return CM_ETEMP;
}

/* mda_open_store - open the store once per process (or child) */
int
mda_open_store(struct mda *m, const char **error_r)
{
	if (m->store != NULL)
		return 0;
	return cm_store_open(m->cfg->database, m->secret,
			     m->cfg->busy_timeout, 0, &m->store, error_r);
}

/* mda_log_anchor - log the audit chain's count and head as committed,
 * on the connection that has just committed (it holds no transaction
 * now): no second connection per delivery */
void
mda_log_anchor(struct mda *m)
{
	unsigned char head[CM_HASH_LEN];
	char hex[2 * CM_HASH_LEN + 1];
	const char *err = NULL;
	int64_t count = 0;

	if (cm_store_audit_anchor(m->store, &count, head, &err) < 0) {
		cm_log_warnx("audit anchor: %s", err != NULL ? err : "?");
		return;
	}
	cm_token_hex(head, sizeof(head), hex);
	cm_log_info("audit anchor count=%lld head=%s", (long long)count, hex);
}

/* mda_dedupe_key - duplicate-suppression key */
char *
mda_dedupe_key(const struct mda_envelope *env, const char *data, size_t len,
	       const char *sha_hex)
{
	char *msgid, *key;

	if (env->queue_id != NULL && *env->queue_id != '\0' &&
	    env->recipient != NULL && *env->recipient != '\0') {
		char *rcpt = cm_xstrdup(env->recipient);

		key = cm_xasprintf("q:%s:%s", env->queue_id,
				   cm_str_lower(rcpt));
		free(rcpt);
		return key;
	}
	msgid = cm_mime_header(data, len, "Message-ID");
	if (msgid != NULL) {
		cm_str_trim(msgid);
		if (*msgid != '\0' && strlen(msgid) < 1000)
			key = cm_xasprintf("m:%s:%s", msgid, sha_hex);
		else
			key = cm_xasprintf("h:%s", sha_hex);
	} else {
		key = cm_xasprintf("h:%s", sha_hex);
	}
	free(msgid);
	if (env->key_rcpt && env->recipient != NULL &&
	    *env->recipient != '\0') {
		char *rcpt = cm_str_lower(cm_xstrdup(env->recipient));
		char *k2 = cm_xasprintf("%s:%s", key, rcpt);

		free(rcpt);
		free(key);
		key = k2;
	}
	return key;
}

/* keep_raw - store the raw bytes once per delivery */
static int
keep_raw(struct dctx *d)
{
	if (d->raw_id != 0)
		return 0;
	if (cm_store_raw_put_sha(d->m->store, d->data, d->len, d->sha,
				 &d->raw_id, &d->err) < 0)
		return store_fail(d, "raw");
	return 0;
}

/* note_imap - record the IMAP UID as seen (once) in this transaction;
 * what may be borrowed from the store: it is copied first */
static int
note_imap(struct dctx *d, const char *what_in, int64_t id)
{
	const struct mda_envelope *e = d->env;
	char what[16];
	int rc;

	if (e->imap_mailbox == NULL)
		return 0;
	cm_strlcpy(what, what_in, sizeof(what));
	rc = cm_store_imap_seen_find(d->m->store, e->imap_mailbox,
				     e->imap_uidvalidity, e->imap_uid, NULL,
				     NULL, &d->err);
	if (rc == 0)
		return 0;
	if (rc != CM_ENOENT ||
	    cm_store_imap_seen_add(d->m->store, e->imap_mailbox,
				   e->imap_uidvalidity, e->imap_uid, what, id,
				   &d->err) < 0)
		return store_fail(d, "imap seen");
	return 0;
}

/* record - remember the delivery key, pointing at what was made */
static int
record(struct dctx *d, const char *what, int64_t id)
{
	if (cm_store_delivery_add(d->m->store, d->key, what, id, &d->err) < 0)
		return store_fail(d, "delivery");
	d->res->id = id;
	return note_imap(d, what, id);
}

static const char *recipient_of(const struct dctx *d);

/* quarantine - keep the message whole with the reason */
static int
quarantine(struct dctx *d, const char *reason)
{
	struct cm_quarantine q;
	char *hdr_subject = NULL, *hdr_msgid = NULL, *hdr_from = NULL;
	char detail[320];
	int64_t id = 0;
	int rc;

	if (keep_raw(d) < 0)
		return CM_ETEMP;
	memset(&q, 0, sizeof(q));
	q.reason = reason;
	q.sender = d->msg != NULL && d->msg->from != NULL ? d->msg->from
							  : d->env->sender;
	q.recipient = d->msg != NULL ? recipient_of(d) : d->env->recipient;
	q.queue_id = d->env->queue_id;
	q.message_id = d->msg != NULL ? d->msg->message_id : NULL;
	q.subject = d->msg != NULL ? d->msg->subject : NULL;
	q.raw_id = d->raw_id;
	if (d->msg == NULL) {
		/* unparsed (limits, a crash): the raw scan still names it
		 * for whoever reviews the quarantine */
		hdr_subject = cm_mime_header(d->data, d->len, "Subject");
		hdr_msgid = cm_mime_header(d->data, d->len, "Message-ID");
		hdr_from = cm_mime_header(d->data, d->len, "From");
		q.subject = hdr_subject;
		if (hdr_msgid != NULL) {
			char *id_s = cm_str_trim(hdr_msgid);
			size_t n = strlen(id_s);

			if (n > 2 && id_s[0] == '<' && id_s[n - 1] == '>') {
				memmove(id_s, id_s + 1, n - 2);
				id_s[n - 2] = '\0';
			}
			q.message_id = id_s;
		}
		if (q.sender == NULL)
			q.sender = hdr_from;
	}
	rc = cm_store_quarantine_add(d->m->store, &q, &id, &d->err);
	free(hdr_subject);
	free(hdr_msgid);
	free(hdr_from);
	if (rc < 0)
		return store_fail(d, "quarantine");
	snprintf(detail, sizeof(detail), "quarantine=%lld source=%s reason=%s",
		 (long long)id, d->env->source, reason);
	if (cm_store_audit(d->m->store, "mda", "mail.quarantine", NULL,
			   detail, &d->err) < 0)
		return store_fail(d, "audit");
	d->res->outcome = MDA_QUARANTINED;
	set_reason(d->res, "%s", reason);
	return record(d, "quarantine", id);
}

/* sender_of - the address that speaks for the message: From, else the
 * envelope sender */
static const char *
sender_of(const struct dctx *d)
{
	if (d->msg->from != NULL)
		return d->msg->from;
	if (d->env->sender != NULL && *d->env->sender != '\0')
		return d->env->sender;
	return NULL;
}

/* auto_reason - why the message is automatic (kind not reply), else
 * NULL; *event_r tells the event kind to record */
static const char *
auto_reason(const struct dctx *d, const char **event_r)
{
	*event_r = "auto_reply";
	switch (d->in->kind) {
	case CM_KIND_REPLY:
		return NULL;
	case CM_KIND_AUTO_REPLY:
	case CM_KIND_OTHER:
		return d->in->kind_why;
	default:
		*event_r = "event";
		return cm_kind_name(d->in->kind);
	}
}

/* post - add the message to a thread with attachments; what follows
 * (notices) is cm_work_post's business */
static int
post(struct dctx *d, struct cm_post *p, enum mda_outcome outcome)
{
	int64_t id = 0;
	int ret = CM_ETEMP;

	if (keep_raw(d) < 0)
		return CM_ETEMP;
	if (p->body == NULL) {
		/* trimmed by cm_inspect_parse, the same path as inspect */
		p->body = d->in->trim.body;
		p->quoted = d->in->trim.quoted;
	}
	p->body_full = d->msg->body;
	p->subject = d->msg->subject;
	p->sender = sender_of(d);
	p->message_id = d->msg->message_id;
	p->in_reply_to = d->msg->in_reply_to;
	p->source = d->env->source;
	p->raw_id = d->raw_id;
	if (cm_work_post(&d->w, p, &id, NULL, &d->err) < 0) {
		store_fail(d, "post");
		goto out;
	}
	for (size_t i = 0; i < d->msg->n_attachments; i++) {
		const struct cm_msg_attachment *a = &d->msg->attachments[i];
		struct cm_attachment_row row = {
			id, a->filename, a->content_type, (int64_t)a->size,
			a->sha256,
		};

		if (cm_store_attachment_add(d->m->store, &row, &d->err) < 0) {
			store_fail(d, "attachment");
			goto out;
		}
	}
	d->res->outcome = outcome;
	ret = record(d, "message", id);
out:
	return ret;
}

/* post_event - an automatic message recorded on the case, nothing queued */
static int
post_event(struct dctx *d, int64_t case_id, const char *kind,
	   const char *why)
{
	struct cm_post p;

	memset(&p, 0, sizeof(p));
	p.case_id = case_id;
	p.author = "system";
	p.visibility = "internal";
	p.status = "posted";
	p.kind = kind;
	p.body = d->msg->body;
	set_reason(d->res, "%s (%s)", kind, why);
	return post(d, &p, MDA_EVENT);
}

/* set_case_ref - remember the case for the log line */
static int
set_case_ref(struct dctx *d, int64_t case_id)
{
	struct cm_case c = { 0 };
	int rc;

	rc = cm_store_case_get_id(d->m->store, case_id, &c, &d->err);
	if (rc == 0)
		cm_strlcpy(d->res->case_ref, c.ref, sizeof(d->res->case_ref));
	cm_case_clear(&c);
	return rc;
}

/* border - what a trusted border said about the From domain */
static enum cm_auth
border(const struct dctx *d, const char **why_r)
{
	return cm_authres_verdict(d->msg, d->m->cfg->trusted_authserv_ids,
				  why_r);
}

/*
 * as_victim - a message placed on victim v's conversation. Posted only
 * when keyed (it came through v's reply KEY) and From is v's address and
 * no trusted border says that From failed; otherwise held for the
 * officer with the placement saying how it got here.
 */
static int
as_victim(struct dctx *d, const struct cm_victim *v, const char *placement,
	  bool keyed)
{
	const char *event, *why = auto_reason(d, &event), *bwhy = NULL;
	const char *from = sender_of(d);
	struct cm_post p;
	bool same, proven;

	if (why != NULL)
		return post_event(d, v->case_id, event, why);
	same = from != NULL && v->email != NULL &&
	       cm_addr_equal(from, v->email);
	proven = keyed && same && border(d, &bwhy) != CM_AUTH_FAIL;
	memset(&p, 0, sizeof(p));
	p.case_id = v->case_id;
	p.victim_id = v->id;
	p.author = "victim";
	p.visibility = "victim";
	p.status = proven ? "posted" : "held";
	p.kind = "message";
	p.placement = placement;
	if (proven)
		set_reason(d->res, "victim reply");
	else if (!keyed)
		set_reason(d->res, "placed by %s only: sender not proven",
			   strcmp(placement, "thread") == 0 ?
				   "threading headers" : "a subject tag");
	else if (!same)
		set_reason(d->res, "sender is not the victim");
	else
		set_reason(d->res, "border: %s", bwhy != NULL ? bwhy : "fail");
	return post(d, &p, proven ? MDA_POSTED : MDA_HELD);
}

/* route_reply - reply+KEY */
static int
route_reply(struct dctx *d, const char *key)
{
	struct cm_victim v = { 0 };
	int64_t victim_id, case_id;
	int rc, ret;

	if (cm_addr_reply_decode(d->m->secret, key, &victim_id, &case_id) < 0)
		return quarantine(d, "forged or altered reply address");
	rc = cm_store_victim_get(d->m->store, victim_id, &v, &d->err);
	if (rc == CM_ENOENT || (rc == 0 && v.case_id != case_id)) {
		ret = quarantine(d, "reply address for an unknown victim");
		goto out;
	}
	if (rc < 0) {
		ret = store_fail(d, "victim");
		goto out;
	}
	if (set_case_ref(d, case_id) < 0) {
		ret = store_fail(d, "case");
		goto out;
	}
	ret = as_victim(d, &v, "reply_key", true);
out:
	cm_victim_clear(&v);
	return ret;
}

/* open_case - case_id into *c_r and the log line; 0, 1 when the case is
 * gone or closed (quarantined), CM_ETEMP */
static int
open_case(struct dctx *d, int64_t case_id, struct cm_case *c_r)
{
	int rc;

	rc = cm_store_case_get_id(d->m->store, case_id, c_r, &d->err);
	if (rc == CM_ENOENT)
		return quarantine(d, "unknown case") < 0 ? CM_ETEMP : 1;
	if (rc < 0)
		return store_fail(d, "case");
	cm_strlcpy(d->res->case_ref, c_r->ref, sizeof(d->res->case_ref));
	return 0;
}

/* count_victims - store callback: ctx[0] counts the victims of a case,
 * ctx[1] keeps the last id (the one victim when the count is 1) */
static int
count_victims(const struct cm_victim *v, void *ctx)
{
	int64_t *w = ctx;

	w[0]++;
	w[1] = v->id;
	return 0;
}

/*
 * milestones - record the "Milestone: KIND" lines of an officer's
 * posted update (the officer's own text, not the quote) at the time
 * the message was stored, for the victim it is addressed to, in this
 * delivery's transaction; the log's reason says what was recorded
 */
static int
milestones(struct dctx *d, const struct cm_case *c, int64_t officer_id,
	   int64_t victim_id)
{
	struct cm_mline_rec rec;
	struct cm_mline_result res;
	struct cm_message m;
	int rc;

	rc = cm_store_message_get(d->m->store, d->res->id, &m, &d->err);
	if (rc < 0)
		return store_fail(d, "message");
	memset(&rec, 0, sizeof(rec));
	rec.case_id = c->id;
	rec.victim_id = victim_id;
	rec.officer_id = officer_id;
	rec.at = m.at;
	rec.message_id = d->res->id;
	rec.source = d->env->source;
	if (cm_mline_record(&d->w, &rec, d->in->trim.body, &res, &d->err) < 0)
		return store_fail(d, "milestone");
	if (res.recorded > 0 || res.refused > 0)
		set_reason(d->res, "officer update%s; milestones recorded %d "
			   "(%s), refused %d%s%s", victim_id != 0 ?
			   " to one victim" : "", res.recorded,
			   res.first_recorded, res.refused,
			   res.refused > 0 ? ": " : "", res.first_refused);
	return 0;
}

/* officer_post - an officer's message: posted when proven, else held.
 * Milestone lines leave the text the victim reads; a proven update
 * records them at once, a held one only when approved */
static int
officer_post(struct dctx *d, const struct cm_case *c, int64_t officer_id,
	     int64_t victim_id, bool note, bool proven, const char *placement,
	     const char *held_why)
{
	const char *why, *event;
	struct cm_post p;
	char *body = NULL;
	size_t lines = 0;
	int ret;

	why = auto_reason(d, &event);
	if (why != NULL)
		return post_event(d, c->id, event, why);
	if (!note && strcmp(c->status, "open") != 0)
		return quarantine(d, "update for a closed case");
	memset(&p, 0, sizeof(p));
	if (!note && d->in->trim.body != NULL) {
		body = cm_mline_strip(d->in->trim.body, &lines);
		p.body = body;
		p.quoted = d->in->trim.quoted;
	}
	p.case_id = c->id;
	p.officer_id = officer_id;
	p.victim_id = note ? 0 : victim_id;
	p.author = "officer";
	p.visibility = note ? "internal" : "victim";
	p.status = proven ? "posted" : "held";
	p.kind = "message";
	p.placement = placement;
	if (note) /* a forwarded note is kept whole: nothing is trimmed */
		p.body = d->msg->body;
	if (proven)
		set_reason(d->res, note ? "internal note" : victim_id != 0 ?
			   "officer update to one victim" : "officer update");
	else
		set_reason(d->res, "%s", held_why);
	ret = post(d, &p, proven ? MDA_POSTED : MDA_HELD);
	if (ret == 0 && proven && lines > 0)
		ret = milestones(d, c, officer_id, victim_id);
	free(body);
	return ret;
}

/* route_officer - officer+KEY: an officer answering one victim */
static int
route_officer(struct dctx *d, const char *key)
{
	struct cm_officer o = { 0 };
	struct cm_victim v = { 0 };
	struct cm_case c = { 0 };
	const char *from = d->msg->from, *bwhy = NULL, *held_why;
	int64_t officer_id, case_id, victim_id;
	bool same;
	int rc, ret;

	if (cm_addr_officer_decode(d->m->secret, key, &officer_id, &case_id,
				   &victim_id) < 0)
		return quarantine(d, "forged or altered officer address");
	rc = cm_store_victim_get(d->m->store, victim_id, &v, &d->err);
	if (rc == 0)
		rc = cm_store_officer_get_id(d->m->store, officer_id, &o,
					     &d->err);
	if (rc == CM_ENOENT || (rc == 0 && v.case_id != case_id)) {
		ret = quarantine(d, "officer address for an unknown officer "
				 "or victim");
		goto out;
	}
	if (rc < 0) {
		ret = store_fail(d, "officer");
		goto out;
	}
	if ((ret = open_case(d, case_id, &c)) != 0)
		goto out;
	same = from != NULL && cm_addr_equal(from, o.email);
	held_why = !same ? "sender is not the officer of the address" :
		   !o.active ? "officer is not active" :
		   "border: From failed";
	ret = officer_post(d, &c, o.id, v.id, false,
			   same && o.active &&
				   border(d, &bwhy) != CM_AUTH_FAIL,
			   "officer_key", held_why);
out:
	cm_case_clear(&c);
	cm_officer_clear(&o);
	cm_victim_clear(&v);
	return ret;
}

/* route_case - case+REF (update to the case) and note+REF (internal
 * note): posted only for an active officer the border vouched for */
static int
route_case(struct dctx *d, const char *ref_in, bool note)
{
	struct cm_officer o = { 0 };
	struct cm_case c = { 0 };
	const char *err = NULL, *bwhy = NULL;
	int64_t victims[2] = { 0, 0 };
	enum cm_auth verdict;
	char held_why[160];
	char *ref;
	int rc, ret;

	ref = cm_addr_ref_canon(ref_in, d->m->cfg->ref_pattern, &err);
	if (ref == NULL)
		return quarantine(d, "malformed case reference");
	rc = cm_store_case_get(d->m->store, ref, &c, &d->err);
	if (rc == CM_ENOENT) {
		ret = quarantine(d, "unknown case");
		goto out;
	}
	if (rc < 0) {
		ret = store_fail(d, "case");
		goto out;
	}
	cm_strlcpy(d->res->case_ref, c.ref, sizeof(d->res->case_ref));
	rc = d->msg->from != NULL ?
		     cm_store_officer_get(d->m->store, d->msg->from, &o,
					  &d->err) : CM_ENOENT;
	if (rc == CM_ENOENT || (rc == 0 && !o.active)) {
		ret = quarantine(d, "sender is not an active officer");
		goto out;
	}
	if (rc < 0 || cm_store_victim_list(d->m->store, c.id, count_victims,
					   victims, &d->err) < 0) {
		ret = store_fail(d, "officer");
		goto out;
	}
	verdict = border(d, &bwhy);
	snprintf(held_why, sizeof(held_why), "officer mail not proven: %s",
		 verdict == CM_AUTH_NONE ? "no trusted border result" :
		 bwhy != NULL ? bwhy : "border says fail");
	ret = officer_post(d, &c, o.id, victims[0] == 1 ? victims[1] : 0,
			   note, verdict == CM_AUTH_PASS, "case_address",
			   held_why);
out:
	cm_officer_clear(&o);
	cm_case_clear(&c);
	free(ref);
	return ret;
}

/* bounce_notice - a report about notice n: a permanent failure fails
 * it and scores the address (once); a delay or an auto-reply is
 * recorded */
static int
bounce_notice(struct dctx *d, const struct cm_notice *n)
{
	const struct cm_bounce *b = &d->in->bounce;
	const char *failed[32];
	size_t n_failed = 0;
	char reason[300];
	const char *diag = NULL, *why = NULL;
	int64_t notice_id = n->id, case_id = n->case_id;

	if (set_case_ref(d, case_id) < 0)
		return store_fail(d, "case");
	switch (d->in->kind) {
	case CM_KIND_DELAY:
		return post_event(d, case_id, "event", "delivery delayed");
	case CM_KIND_AUTO_REPLY:
		return post_event(d, case_id, "auto_reply", d->in->kind_why);
	case CM_KIND_BOUNCE:
		break;
	default:
		return post_event(d, case_id, "event",
				  "mail to a bounce address");
	}
	for (size_t i = 0; i < b->n_rcpts; i++) {
		if (!b->rcpts[i].permanent)
			continue;
		if (diag == NULL)
			diag = b->rcpts[i].diagnostic != NULL ?
				       b->rcpts[i].diagnostic :
				       b->rcpts[i].status;
		if (n_failed < CM_ARRAY_SIZE(failed))
			failed[n_failed++] = b->rcpts[i].address;
	}
	snprintf(reason, sizeof(reason), "bounced: %s",
		 diag != NULL ? diag : d->msg->subject != NULL ?
		 d->msg->subject : "(no subject)");
	if (cm_work_bounce(&d->w, notice_id, reason, failed, n_failed, NULL,
			   &why, &d->err) < 0)
		return store_fail(d, "bounce");
	return post_event(d, case_id, "bounce", why);
}

/* route_bounce - bounce+KEY: the VERP address of one notice */
static int
route_bounce(struct dctx *d, const char *key)
{
	struct cm_notice n;
	int64_t notice_id;
	int rc;

	if (cm_addr_bounce_decode(d->m->secret, key, &notice_id) < 0)
		return quarantine(d, "forged or altered bounce address");
	rc = cm_store_notice_get(d->m->store, notice_id, &n, &d->err);
	if (rc == CM_ENOENT)
		return quarantine(d, "bounce for an unknown notice");
	if (rc < 0)
		return store_fail(d, "notice");
	return bounce_notice(d, &n);
}

/* route_returned - a bounce or delay not sent to bounce+KEY whose
 * returned headers carry the Message-ID of one of our notices; 1 when
 * no notice matches (route on), else the result */
static int
route_returned(struct dctx *d)
{
	struct cm_notice n;
	const char *id = d->in->bounce.orig_message_id;
	int rc;

	if ((d->in->kind != CM_KIND_BOUNCE && d->in->kind != CM_KIND_DELAY) ||
	    id == NULL)
		return 1;
	rc = cm_store_notice_find_msgid(d->m->store, id, &n, &d->err);
	if (rc == CM_ENOENT)
		return 1;
	if (rc < 0)
		return store_fail(d, "notice");
	return bounce_notice(d, &n);
}

/* find_victim - a victim of case_id whose address is the sender */
static int
find_victim(struct dctx *d, int64_t case_id, struct cm_victim *v_r)
{
	const char *from = sender_of(d);
	int rc;

	if (from == NULL)
		return CM_ENOENT;
	rc = cm_store_victim_find_email(d->m->store, case_id, from, v_r,
					&d->err);
	if (rc < 0 && rc != CM_ENOENT)
		return store_fail(d, "victim");
	return rc;
}

/* route_fallback - threading headers, then a [REF] subject tag: held */
static int
route_fallback(struct dctx *d)
{
	struct cm_victim v = { 0 };
	struct cm_case c = { 0 };
	struct cm_notice n;
	const char *placement = "thread";
	int64_t case_id = 0;
	char *ref = NULL;
	int rc, ret;

	/* In-Reply-To first, then References newest first */
	for (long i = -1; case_id == 0 && i < (long)d->msg->n_references;
	     i++) {
		const char *id;

		if (i < 0)
			id = d->msg->in_reply_to;
		else
			id = d->msg->references[d->msg->n_references - 1 -
						(size_t)i];
		if (id == NULL)
			continue;
		rc = cm_store_notice_find_msgid(d->m->store, id, &n, &d->err);
		if (rc == 0)
			case_id = n.case_id;
		else if (rc != CM_ENOENT)
			return store_fail(d, "notice");
	}
	if (case_id == 0 && d->msg->subject != NULL) {
		placement = "subject_tag";
		ref = cm_addr_subject_ref(d->msg->subject,
					  d->m->cfg->ref_pattern);
		if (ref != NULL) {
			rc = cm_store_case_get(d->m->store, ref, &c, &d->err);
			if (rc == 0)
				case_id = c.id;
			else if (rc != CM_ENOENT) {
				ret = store_fail(d, "case");
				goto out;
			}
		}
	}
	if (case_id == 0) {
		ret = quarantine(d, "no case address");
		goto out;
	}
	rc = find_victim(d, case_id, &v);
	if (rc == CM_ENOENT) {
		ret = quarantine(d, "sender not known on the case");
		goto out;
	}
	if (rc < 0) {
		ret = rc;
		goto out;
	}
	if (set_case_ref(d, case_id) < 0) {
		ret = store_fail(d, "case");
		goto out;
	}
	ret = as_victim(d, &v, placement, false);
out:
	cm_victim_clear(&v);
	cm_case_clear(&c);
	free(ref);
	return ret;
}

/* ours - is addr under mail_domain (case-blind) */
static bool
ours(const struct dctx *d, const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL && d->m->cfg->mail_domain != NULL &&
	       strcasecmp(at + 1, d->m->cfg->mail_domain) == 0;
}

/* first_ours - the first address of list[0..n) under mail_domain */
static const char *
first_ours(const struct dctx *d, char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ours(d, list[i]))
			return list[i];
	return NULL;
}

/* recipient_of - the envelope recipient, else Delivered-To (written by
 * the receiving server, above anything the sender wrote), else
 * X-Original-To, else the first of our addresses in To, then in Cc */
static const char *
recipient_of(const struct dctx *d)
{
	const char *r;

	if (d->env->recipient != NULL && *d->env->recipient != '\0')
		return d->env->recipient;
	if (d->msg->delivered_to != NULL)
		return d->msg->delivered_to;
	if (d->msg->x_original_to != NULL)
		return d->msg->x_original_to;
	r = first_ours(d, d->msg->to_all, d->msg->n_to_all);
	if (r == NULL)
		r = first_ours(d, d->msg->cc_all, d->msg->n_cc_all);
	return r;
}

/* route - decide by the recipient address */
static int
route(struct dctx *d)
{
	enum cm_addr_kind kind = CM_ADDR_OTHER;
	const char *rcpt = recipient_of(d);
	char *ext = NULL;
	int ret;

	if (rcpt != NULL &&
	    cm_addr_classify(rcpt, d->m->cfg->mail_domain, &kind, &ext) < 0)
		kind = CM_ADDR_OTHER;
	switch (kind) {
	case CM_ADDR_REPLY:
		ret = route_reply(d, ext);
		break;
	case CM_ADDR_OFFICER:
		ret = route_officer(d, ext);
		break;
	case CM_ADDR_CASE:
		ret = route_case(d, ext, false);
		break;
	case CM_ADDR_NOTE:
		ret = route_case(d, ext, true);
		break;
	case CM_ADDR_BOUNCE:
		ret = route_bounce(d, ext);
		break;
	default:
		ret = route_returned(d);
		if (ret == 1)
			ret = route_fallback(d);
		break;
	}
	free(ext);
	return ret;
}

/*
 * begin - set d up for one message and look its key up: 0 when it is
 * new, 1 when it was stored already (res says where; its IMAP UID is
 * noted), CM_ETEMP. The caller frees d->key.
 */
static int
begin(struct dctx *d, struct mda *m, const char *data, size_t len,
      const struct mda_envelope *env, struct mda_result *res)
{
	const char *what = NULL;
	int64_t ref_id = 0;
	int rc;

	memset(d, 0, sizeof(*d));
	memset(res, 0, sizeof(*res));
	cm_strlcpy(res->case_ref, "-", sizeof(res->case_ref));
	d->m = m;
	d->w.cfg = m->cfg;
	d->w.secret = m->secret;
	d->w.store = m->store;
	d->w.actor = "mda";
	d->data = data;
	d->len = len;
	d->env = env;
	d->res = res;
	cm_token_sha256_hex(data, len, d->sha);
	d->key = mda_dedupe_key(env, data, len, d->sha);
	rc = cm_store_delivery_find(m->store, d->key, &what, &ref_id,
				    &d->err);
	if (rc == CM_ENOENT)
		return 0;
	if (rc < 0)
		return store_fail(d, "dedupe");
	/* a retry, a second copy, or a child that committed and died */
	res->outcome = MDA_DUPLICATE;
	res->id = ref_id;
	set_reason(res, "duplicate of %s %lld", what, (long long)ref_id);
	return note_imap(d, what, ref_id) < 0 ? CM_ETEMP : 1;
}

/* mda_deliver - place one message inside the open transaction */
int
mda_deliver(struct mda *m, const char *data, size_t len,
	    const struct mda_envelope *env, struct mda_result *res)
{
	struct dctx d;
	const char *perr = NULL;
	int rc, ret;

	ret = begin(&d, m, data, len, env, res);
	if (ret != 0)
		goto out;
	alarm((unsigned)m->cfg->child_timeout);
	rc = cm_inspect_parse(data, len, &m->cfg->limits, env->sender, &d.in,
			      &perr);
	alarm(0);
	if (rc < 0) {
		char reason[256];

		snprintf(reason, sizeof(reason), "unparseable: %s",
			 perr != NULL ? perr : "error");
		ret = quarantine(&d, reason);
		goto out;
	}
	d.msg = d.in->msg;
	ret = route(&d);
out:
	if (ret < 0)
		res->status = CM_DS_TEMP;
	d.msg = NULL;
	cm_inspect_free(&d.in);
	free(d.key);
	return ret < 0 ? ret : 0;
}

/* mda_quarantine - keep a message the child could not handle */
int
mda_quarantine(struct mda *m, const char *data, size_t len,
	       const struct mda_envelope *env, const char *reason,
	       struct mda_result *res)
{
	struct dctx d;
	int ret;

	ret = begin(&d, m, data, len, env, res);
	if (ret == 0)
		ret = quarantine(&d, reason);
	if (ret < 0)
		res->status = CM_DS_TEMP;
	free(d.key);
	return ret < 0 ? ret : 0;
}

/*
 * quoted - s sanitised and in double quotes, with '"' and '\\' escaped,
 * into buf: a value from the envelope or the message can hold spaces
 * and "key=value" text, and must stay one field of the log line
 */
static const char *
quoted(char *buf, size_t size, const char *s, size_t max)
{
	char clean[320];
	size_t o = 0;

	cm_log_sanitize(clean, sizeof(clean), s != NULL ? s : "-", max);
	buf[o++] = '"';
	for (const char *p = clean; *p != '\0' && o + 4 < size; p++) {
		if (*p == '"' || *p == '\\')
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* mda_log_result - one log line per message; the free-text values
 * quoted */
void
mda_log_result(const struct mda_envelope *env, const struct mda_result *res)
{
	static const char *names[] = {
		"posted", "held", "quarantined", "duplicate", "event",
	};
	char s0[260], s1[260], s2[260], s3[260], s4[600];
	const char *status = res->status == CM_DS_OK ? names[res->outcome]
						     : "deferred";

	cm_log_info("qid=%s origin=%s from=%s to=%s case=%s status=%s "
		    "id=%lld reason=%s",
		    quoted(s0, sizeof(s0), env->queue_id, 100),
		    quoted(s1, sizeof(s1), env->origin, 100),
		    quoted(s2, sizeof(s2), env->sender, 100),
		    quoted(s3, sizeof(s3), env->recipient, 100),
		    res->case_ref, status, (long long)res->id,
		    quoted(s4, sizeof(s4), res->reason, 250));
}
