/*
 * work.c - casework: the state changes that span several tables
 *
 * SYNOPSIS
 *	See cm_work.h.
 *
 * DESCRIPTION
 *	A message entering a thread, the notices that follow from it, and
 *	what a hard bounce does to a victim's address. Shared by the
 *	command line, the mda and the portal so that every path queues the
 *	same notices. Runs inside the caller's transaction and writes its
 *	audit rows there (R17: one transaction per delivery).
 *
 * DIAGNOSTICS
 *	Store errors are passed up unchanged (0, CM_ERR, CM_ETEMP,
 *	CM_ENOENT with *error_r).
 *
 * SECURITY
 *	Audit details carry ids and kinds, never message text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm_work.h"

/* collected victims of a case (store callbacks may not re-enter) */
struct victims {
	struct cm_victim *v;
	size_t n;
	size_t cap;
};

/* collect_victim - copy one victim into the list */
static int
collect_victim(const struct cm_victim *v, void *ctx)
{
	struct victims *vs = ctx;
	struct cm_victim *c;

	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? vs->cap * 2 : 8;
		vs->v = cm_xrealloc(vs->v, vs->cap * sizeof(*vs->v));
	}
	c = &vs->v[vs->n++];
	*c = *v;
	c->name = cm_xstrdup(v->name);
	c->email = cm_xstrdup(v->email);
	c->phone = cm_xstrdup(v->phone);
	c->channel = cm_xstrdup(v->channel);
	c->email_status = cm_xstrdup(v->email_status);
	return 0;
}

/* victims_free - release a collected list */
static void
victims_free(struct victims *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		cm_victim_clear(&vs->v[i]);
	free(vs->v);
	vs->v = NULL;
	vs->n = vs->cap = 0;
}

/* wants_email - is email a channel this victim gets notices on */
static bool
wants_email(const struct cm_victim *v)
{
	return v->email != NULL && v->opted_in &&
	       (strcmp(v->channel, "email") == 0 ||
		strcmp(v->channel, "both") == 0) &&
	       strcmp(v->email_status, "undeliverable") != 0;
}

/* wants_sms - is sms a channel this victim gets notices on; SMS takes
 * over when the email address has become undeliverable */
static bool
wants_sms(const struct cm_victim *v)
{
	bool email_dead;

	if (v->phone == NULL || strcmp(v->channel, "none") == 0)
		return false;
	if (strcmp(v->channel, "sms") == 0 || strcmp(v->channel, "both") == 0)
		return true;
	email_dead = v->email != NULL &&
		     strcmp(v->email_status, "undeliverable") == 0;
	return strcmp(v->channel, "email") == 0 && email_dead;
}

/* queue_one - add one notice */
static int
queue_one(struct cm_work *w, int64_t case_id, int64_t victim_id,
	  int64_t officer_id, int64_t message_id, const char *kind,
	  const char *channel, int64_t *id_r, const char **error_r)
{
	struct cm_notice n;

	memset(&n, 0, sizeof(n));
	n.case_id = case_id;
	n.victim_id = victim_id;
	n.officer_id = officer_id;
	n.message_id = message_id;
	n.kind = kind;
	n.channel = channel;
	return cm_store_notice_add(w->store, &n, id_r, error_r);
}

/* cm_work_queue_update - notices for an officer's update, to the victim
 * it is addressed to or to every victim of the case */
int
cm_work_queue_update(struct cm_work *w, int64_t case_id, int64_t message_id,
		     int64_t victim_id, int *n_r, const char **error_r)
{
	struct victims vs = { NULL, 0, 0 };
	struct cm_case c = { 0 };
	char detail[128];
	int ret, n = 0;

	ret = cm_store_case_get_id(w->store, case_id, &c, error_r);
	if (ret < 0)
		goto out;
	ret = cm_store_victim_list(w->store, case_id, collect_victim, &vs,
				   error_r);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < vs.n; i++) {
		const struct cm_victim *v = &vs.v[i];

		if (victim_id != 0 && v->id != victim_id)
			continue;
		if (wants_email(v)) {
			ret = queue_one(w, case_id, v->id, 0, message_id,
					"update", "email", NULL, error_r);
			if (ret < 0)
				goto out;
			n++;
		}
		if (wants_sms(v)) {
			ret = queue_one(w, case_id, v->id, 0, message_id,
					"update", "sms", NULL, error_r);
			if (ret < 0)
				goto out;
			n++;
		}
	}
	if (victim_id != 0)
		snprintf(detail, sizeof(detail),
			 "message=%lld to=victim:%lld notices=%d",
			 (long long)message_id, (long long)victim_id, n);
	else
		snprintf(detail, sizeof(detail),
			 "message=%lld to=all notices=%d",
			 (long long)message_id, n);
	ret = cm_store_audit(w->store, w->actor, "notice.queue", c.ref,
			     detail, error_r);
	if (ret < 0)
		goto out;
	if (n_r != NULL)
		*n_r = n;
out:
	victims_free(&vs);
	cm_case_clear(&c);
	return ret;
}

/* cm_work_queue_notify - tell the officer in charge of a victim's
 * message: one notice waiting per case, officer and victim */
int
cm_work_queue_notify(struct cm_work *w, int64_t case_id, int64_t victim_id,
		     int64_t message_id, int *n_r, const char **error_r)
{
	struct cm_case c = { 0 };
	char detail[160];
	int ret, n = 0;

	ret = cm_store_case_get_id(w->store, case_id, &c, error_r);
	if (ret < 0)
		goto out;
	ret = cm_store_notice_coalesce(w->store, case_id, c.oic_id, victim_id,
				       message_id, error_r);
	if (ret == CM_ENOENT) {
		ret = queue_one(w, case_id, 0, c.oic_id, message_id,
				"officer_notify", "email", NULL, error_r);
		n = 1;
	}
	if (ret < 0)
		goto out;
	snprintf(detail, sizeof(detail),
		 "message=%lld kind=officer_notify officer=%lld%s",
		 (long long)message_id, (long long)c.oic_id,
		 n == 0 ? " coalesced=yes" : "");
	ret = cm_store_audit(w->store, w->actor, "notice.queue", c.ref,
			     detail, error_r);
	if (ret == 0 && n_r != NULL)
		*n_r = n;
out:
	cm_case_clear(&c);
	return ret;
}

/* cm_work_post - a message enters the thread, with what follows */
int
cm_work_post(struct cm_work *w, const struct cm_post *p,
	     int64_t *message_id_r, int *notices_r, const char **error_r)
{
	struct cm_message m;
	struct cm_case c = { 0 };
	char detail[256];
	int64_t id = 0;
	int ret, n = 0;

	ret = cm_store_case_get_id(w->store, p->case_id, &c, error_r);
	if (ret < 0)
		goto out;
	memset(&m, 0, sizeof(m));
	m.case_id = p->case_id;
	m.at = cm_now();
	m.author = p->author;
	m.victim_id = p->victim_id;
	m.officer_id = p->officer_id;
	m.visibility = p->visibility;
	m.status = p->status;
	m.kind = p->kind != NULL ? p->kind : "message";
	m.body = p->body;
	m.body_full = p->body_full != NULL ? p->body_full : p->body;
	m.quoted = p->quoted;
	m.subject = p->subject;
	m.sender = p->sender;
	m.message_id = p->message_id;
	m.in_reply_to = p->in_reply_to;
	m.source = p->source;
	m.raw_id = p->raw_id;
	m.placement = p->placement;
	ret = cm_store_message_add(w->store, &m, &id, error_r);
	if (ret < 0)
		goto out;
	snprintf(detail, sizeof(detail),
		 "message=%lld author=%s visibility=%s status=%s kind=%s "
		 "source=%s placement=%s victim=%lld",
		 (long long)id, m.author, m.visibility, m.status, m.kind,
		 m.source, m.placement != NULL ? m.placement : "-",
		 (long long)m.victim_id);
	ret = cm_store_audit(w->store, w->actor, "message.add", c.ref, detail,
			     error_r);
	if (ret < 0)
		goto out;

	if (strcmp(m.kind, "message") != 0) {
		/* auto-replies, bounces, events: recorded, nothing queued */
	} else if (strcmp(m.author, "officer") == 0 &&
		   strcmp(m.visibility, "victim") == 0 &&
		   strcmp(m.status, "posted") == 0) {
		ret = cm_work_queue_update(w, p->case_id, id, p->victim_id,
					   &n, error_r);
		if (ret < 0)
			goto out;
	} else if (strcmp(m.author, "victim") == 0) {
		ret = cm_work_queue_notify(w, p->case_id, p->victim_id, id, &n,
					   error_r);
		if (ret < 0)
			goto out;
	} else if (strcmp(m.author, "officer") == 0 &&
		   strcmp(m.status, "held") == 0 && c.oic_id != 0) {
		/* mail in an officer's name that nothing proves: the
		 * officer in charge learns of it (and of a forgery) */
		ret = queue_one(w, p->case_id, 0, c.oic_id, id,
				"officer_notify", "email", NULL, error_r);
		if (ret < 0)
			goto out;
		n = 1;
		snprintf(detail, sizeof(detail),
			 "message=%lld kind=officer_notify officer=%lld "
			 "held=officer", (long long)id, (long long)c.oic_id);
		ret = cm_store_audit(w->store, w->actor, "notice.queue",
				     c.ref, detail, error_r);
		if (ret < 0)
			goto out;
	}
	if (message_id_r != NULL)
		*message_id_r = id;
	if (notices_r != NULL)
		*notices_r = n;
	ret = 0;
out:
	cm_case_clear(&c);
	return ret;
}

/* names_address - does the list of failed recipients hold addr; an
 * empty list names no one and so does not contradict */
static bool
names_address(const char *const *failed, size_t n_failed, const char *addr)
{
	if (n_failed == 0)
		return true;
	for (size_t i = 0; i < n_failed; i++) {
		const char *f = failed[i];
		size_t len = f != NULL ? strlen(f) : 0;

		if (len == 0)
			continue;
		/* "rfc822;user@host" and "<user@host>" forms */
		if (strncasecmp(f, "rfc822;", 7) == 0) {
			f += 7;
			len -= 7;
		}
		while (len > 0 && (*f == ' ' || *f == '<')) {
			f++;
			len--;
		}
		while (len > 0 && (f[len - 1] == ' ' || f[len - 1] == '>'))
			len--;
		if (addr != NULL && strlen(addr) == len &&
		    strncasecmp(f, addr, len) == 0)
			return true;
	}
	return false;
}

/* cm_work_bounce - a hard bounce for a notice, counted once */
int
cm_work_bounce(struct cm_work *w, int64_t notice_id, const char *reason,
	       const char *const *failed, size_t n_failed,
	       bool *undeliverable_r, const char **why_r,
	       const char **error_r)
{
	struct cm_notice n;
	struct cm_victim v = { 0 };
	struct cm_case c = { 0 };
	int64_t case_id, victim_id, message_id;
	bool dead = false, live;
	const char *why = "notice failed";
	char detail[256];
	int ret;

	ret = cm_store_notice_get(w->store, notice_id, &n, error_r);
	if (ret < 0)
		goto out;
	/* copy what we need: n's strings die at the next store call */
	case_id = n.case_id;
	victim_id = n.victim_id;
	message_id = n.message_id;
	live = strcmp(n.status, "sent") == 0 ||
	       strcmp(n.status, "sending") == 0;
	if (!live || strcmp(n.channel, "email") != 0) {
		/* a replayed report, or one for a notice that never went
		 * out (or already failed): it says nothing new */
		why = "notice not out (or already failed): not counted";
		goto out;
	}
	if (victim_id != 0) {
		ret = cm_store_victim_get(w->store, victim_id, &v, error_r);
		if (ret < 0)
			goto out;
		if (!names_address(failed, n_failed, v.email)) {
			why = "report names another recipient: not counted";
			goto out;
		}
		cm_victim_clear(&v);
	}
	ret = cm_store_notice_set_status(w->store, notice_id, "failed",
					 reason, error_r);
	if (ret < 0)
		goto out;
	ret = cm_store_case_get_id(w->store, case_id, &c, error_r);
	if (ret < 0)
		goto out;
	snprintf(detail, sizeof(detail), "notice=%lld status=failed",
		 (long long)notice_id);
	ret = cm_store_audit(w->store, w->actor, "notice.bounce", c.ref,
			     detail, error_r);
	if (ret < 0 || victim_id == 0)
		goto out;

	ret = cm_store_victim_bounce(w->store, victim_id, w->cfg->bounce_limit,
				     &dead, error_r);
	if (ret < 0)
		goto out;
	snprintf(detail, sizeof(detail), "victim=%lld undeliverable=%s",
		 (long long)victim_id, dead ? "yes" : "no");
	ret = cm_store_audit(w->store, w->actor, "victim.bounce", c.ref,
			     detail, error_r);
	if (ret < 0 || !dead)
		goto out;

	/* the address is dead: tell the officer, fall back to SMS */
	ret = queue_one(w, case_id, 0, c.oic_id, message_id, "bounce_alert",
			"email", NULL, error_r);
	if (ret < 0)
		goto out;
	ret = cm_store_victim_get(w->store, victim_id, &v, error_r);
	if (ret < 0)
		goto out;
	if (v.phone != NULL && strcmp(v.channel, "email") == 0 &&
	    message_id != 0) {
		ret = queue_one(w, case_id, victim_id, 0, message_id, "update",
				"sms", NULL, error_r);
		if (ret < 0)
			goto out;
	}
	ret = cm_store_audit(w->store, w->actor, "notice.queue", c.ref,
			     "kind=bounce_alert", error_r);
out:
	if (dead)
		why = "address now undeliverable";
	if (ret == 0 && undeliverable_r != NULL)
		*undeliverable_r = dead;
	if (ret == 0 && why_r != NULL)
		*why_r = why;
	cm_victim_clear(&v);
	cm_case_clear(&c);
	return ret;
}
