/*
 * queue.c - casemail-send: claim, send, record
 *
 * SYNOPSIS
 *	rc = queue_run(&sender);
 *
 * DESCRIPTION
 *	One batch is three steps:
 *	  1. one transaction: claim up to send_batch due notices with a
 *	     lease (cm_store_notice_claim: queued or deferred and due, or
 *	     sending with the lease run out), copy what building needs,
 *	     suppress what must not go (victim opted out of email, address
 *	     undeliverable, channel none, officer inactive), mint one login
 *	     token per victim notice and record each email's Message-ID
 *	     before it is sent, so that a reply to it threads;
 *	  2. no transaction: build and send each message (SMTP email over
 *	     smtp_connections sessions at once, see transport.c);
 *	  3. one transaction: record every outcome (sent with the server's
 *	     reply, deferred with backoff, failed) with its audit row.
 *	A notice stays "sending" under its lease until step 3 commits, so a
 *	sender that dies can only cause the messages of its batch that were
 *	sent but not recorded to go twice; nothing is lost. Several senders
 *	may run at once (claims serialise on the write lock), but one
 *	sender with smtp_connections > 1 is faster: it alone writes.
 *
 *	Retries: a deferred notice is due again after retry_base_delay *
 *	2^(attempts-1) seconds (at most 6 hours), of which a random half is
 *	jitter; it fails once it has had retry_max_attempts attempts or is
 *	older than retry_max_age.
 *
 *	--once takes the notices due when the run started (so a notice
 *	deferred during the run waits for the next run) and stops claiming
 *	when half a lease has passed. On a stop request (SIGTERM) the
 *	message being sent is finished, the rest of the batch is released
 *	(back to its previous status, still due) and recorded.
 *
 * DIAGNOSTICS
 *	Store trouble returns CM_ETEMP after logging once.
 *
 * SECURITY
 *	Tokens exist in memory only between claim and send and are wiped;
 *	audit details carry ids, kinds and server replies, never content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_compose.h"
#include "cm_log.h"
#include "cm_login.h"
#include "sender.h"

#define MAX_DELAY 21600 /* seconds: the longest backoff step */

/* struct batch - the jobs of one batch */
struct batch {
	struct job *v;
	size_t n, cap;
};

/* job_free - free the strings of j (wiping the token) */
void
job_free(struct job *j)
{
	if (j->token != NULL)
		cm_token_wipe(j->token, strlen(j->token));
	free(j->token);
	free(j->kind);
	free(j->channel);
	free(j->prev_status);
	free(j->ref);
	free(j->to_name);
	free(j->to_addr);
	free(j->phone);
	free(j->officer_name);
	free(j->victim_name);
	free(j->victim_email);
	free(j->victim_phone);
	free(j->text);
	free(j->msgid);
	free(j->why);
	free(j->detail);
	free(j->provider_id);
	memset(j, 0, sizeof(*j));
}

/* batch_free - free every job */
static void
batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		job_free(&b->v[i]);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* batch_add - a new zeroed job at the end */
static struct job *
batch_add(struct batch *b)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->v = cm_xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	memset(&b->v[b->n], 0, sizeof(b->v[0]));
	return &b->v[b->n++];
}

/* job_from_notice - copy the queue row into j */
static void
job_from_notice(struct job *j, const struct cm_notice *n,
		const char *prev_status)
{
	j->id = n->id;
	j->case_id = n->case_id;
	j->victim_id = n->victim_id;
	j->officer_id = n->officer_id;
	j->message_id = n->message_id;
	j->created_at = n->created_at;
	j->attempts = n->attempts;
	j->kind = cm_xstrdup(n->kind);
	j->channel = cm_xstrdup(n->channel);
	j->prev_status = cm_xstrdup(prev_status);
}

/* store_trouble - log a store error once; returns CM_ETEMP */
static int
store_trouble(const char *what, const char *err)
{
	char san[300];

	cm_log_err("store: %s: %s", what,
		   cm_log_sanitize(san, sizeof(san), err, 250));
	return CM_ETEMP;
}

/* audit - one audit row for notice j */
static int
audit(struct sender *s, const struct job *j, const char *action,
      const char *extra)
{
	char detail[400], san[260];
	const char *err = NULL;

	(void)snprintf(detail, sizeof(detail),
		       "notice=%lld kind=%s channel=%s attempt=%ld%s%s",
		       (long long)j->id, j->kind, j->channel, j->attempts,
		       extra != NULL ? " " : "",
		       extra != NULL ? cm_log_sanitize(san, sizeof(san), extra,
						       240)
				     : "");
	if (cm_store_audit(s->st, SEND_ACTOR, action, j->ref, detail, &err) <
	    0)
		return store_trouble("audit", err);
	return 0;
}

/* suppress - j must not be sent: say why */
static void
suppress(struct job *j, const char *why)
{
	if (j->why == NULL)
		j->why = cm_xstrdup(why);
}

/* victim_for_notice - the addressee victim of a victim notice */
static int
victim_for_notice(struct sender *s, struct job *j)
{
	struct cm_victim v = { 0 };
	const char *err = NULL;
	bool sms = strcmp(j->channel, "sms") == 0;
	int rc;

	rc = cm_store_victim_get(s->st, j->victim_id, &v, &err);
	if (rc == CM_ENOENT) {
		suppress(j, "victim no longer on file");
		return 0;
	}
	if (rc < 0)
		return store_trouble("victim", err);
	j->to_name = cm_xstrdup(v.name);
	j->to_addr = cm_xstrdup(v.email);
	j->phone = cm_xstrdup(v.phone);
	j->discreet = v.discreet;
	if (strcmp(v.channel, "none") == 0)
		suppress(j, "channel none");
	else if (sms && v.phone == NULL)
		suppress(j, "no phone number");
	else if (!sms && v.email == NULL)
		suppress(j, "no email address");
	else if (!sms && !v.opted_in)
		suppress(j, "opted out of email");
	else if (!sms && strcmp(v.email_status, "undeliverable") == 0)
		suppress(j, "email address undeliverable");
	else if (!sms && strcmp(v.channel, "sms") == 0)
		suppress(j, "victim chose sms");
	cm_victim_clear(&v);
	return 0;
}

/* struct dead - the first undeliverable victim of a case */
struct dead {
	char *name, *email, *phone;
};

/* find_dead - victim list callback */
static int
find_dead(const struct cm_victim *v, void *ctx)
{
	struct dead *d = ctx;

	if (d->name != NULL || v->email == NULL ||
	    strcmp(v->email_status, "undeliverable") != 0)
		return 0;
	d->name = cm_xstrdup(v->name);
	d->email = cm_xstrdup(v->email);
	d->phone = cm_xstrdup(v->phone);
	return -1;
}

/* officer_for_notice - the addressee officer, and the victim the notice
 * is about */
static int
officer_for_notice(struct sender *s, struct job *j, int64_t about_victim)
{
	struct cm_officer o = { 0 };
	struct cm_victim v = { 0 };
	struct dead d = { NULL, NULL, NULL };
	const char *err = NULL;
	int rc, ret = 0;

	rc = cm_store_officer_get_id(s->st, j->officer_id, &o, &err);
	if (rc == CM_ENOENT) {
		suppress(j, "officer no longer on file");
		goto out;
	}
	if (rc < 0) {
		ret = store_trouble("officer", err);
		goto out;
	}
	j->to_name = cm_xstrdup(o.name);
	j->to_addr = cm_xstrdup(o.email);
	j->officer_name = cm_xstrdup(o.name);
	if (!o.active)
		suppress(j, "officer not active");
	if (about_victim != 0) {
		rc = cm_store_victim_get(s->st, about_victim, &v, &err);
		if (rc < 0 && rc != CM_ENOENT) {
			ret = store_trouble("victim", err);
			goto out;
		}
		if (rc == 0) {
			j->victim_name = cm_xstrdup(v.name);
			j->victim_email = cm_xstrdup(v.email);
			j->victim_phone = cm_xstrdup(v.phone);
		}
	} else if (strcmp(j->kind, "bounce_alert") == 0) {
		rc = cm_store_victim_list(s->st, j->case_id, find_dead, &d,
					  &err);
		if (rc < 0) {
			ret = store_trouble("victims", err);
			goto out;
		}
		j->victim_name = d.name;
		j->victim_email = d.email;
		j->victim_phone = d.phone;
	}
out:
	cm_victim_clear(&v);
	cm_officer_clear(&o);
	return ret;
}

/*
 * prepare - fill j from the store; with mint (inside the claim
 * transaction) also mint its token and record its Message-ID. 0 or
 * CM_ETEMP.
 */
static int
prepare(struct sender *s, struct job *j, bool mint)
{
	struct cm_case c = { 0 };
	struct cm_message m;
	const char *err = NULL;
	int64_t about = 0;
	int rc, ret = CM_ETEMP;

	rc = cm_store_case_get_id(s->st, j->case_id, &c, &err);
	if (rc < 0) {
		store_trouble("case", err);
		goto out;
	}
	j->ref = cm_xstrdup(c.ref);
	if (j->message_id != 0) {
		rc = cm_store_message_get(s->st, j->message_id, &m, &err);
		if (rc < 0 && rc != CM_ENOENT) {
			store_trouble("message", err);
			goto out;
		}
		if (rc == 0) {
			j->text = cm_xstrdup(m.body);
			j->held = strcmp(m.status, "held") == 0;
			about = m.victim_id;
		}
	}
	if (j->victim_id != 0)
		rc = victim_for_notice(s, j);
	else
		rc = officer_for_notice(s, j, about);
	if (rc < 0)
		goto out;
	if (j->why != NULL || !mint) {
		ret = 0;
		goto out;
	}
	if (j->victim_id != 0) {
		j->token = cm_login_mint(s->st, s->secret, j->victim_id,
					 j->case_id, j->id, cm_now(),
					 s->cfg->token_ttl, &j->expires_at,
					 &err);
		if (j->token == NULL) {
			store_trouble("token", err);
			goto out;
		}
	}
	if (strcmp(j->channel, "email") == 0) {
		j->msgid = cm_compose_message_id(s->cfg->mail_domain,
						 cm_now());
		if (cm_store_notice_set_msgid(s->st, j->id, j->msgid, &err) <
		    0) {
			store_trouble("message-id", err);
			goto out;
		}
	}
	ret = 0;
out:
	cm_case_clear(&c);
	return ret;
}

/* claim_batch - step 1; *n_r gets the number claimed */
static int
claim_batch(struct sender *s, int64_t now, struct batch *b, size_t *n_r)
{
	struct cm_notice n;
	const char *err = NULL;
	int rc, ret = CM_ETEMP;

	*n_r = 0;
	if (cm_store_begin(s->st, &err) < 0)
		return store_trouble("begin", err);
	while (b->n < (size_t)s->cfg->send_batch) {
		struct job *j;
		char prev[16];

		rc = cm_store_notice_claim(s->st, now, s->cfg->lease_seconds,
					   &n, &err);
		if (rc == CM_ENOENT)
			break;
		if (rc < 0) {
			store_trouble("claim", err);
			goto out;
		}
		/* claimed rows read "sending"; attempts > 1 means a retry
		 * (deferred) or a dead sender's lease */
		cm_strlcpy(prev, n.attempts > 1 ? "deferred" : "queued",
			   sizeof(prev));
		j = batch_add(b);
		job_from_notice(j, &n, prev);
		if (prepare(s, j, true) < 0)
			goto out;
		if (audit(s, j, "notice.sending", NULL) < 0)
			goto out;
		if (j->why != NULL) {
			j->outcome = OUT_SUPPRESS;
			if (cm_store_notice_set_status(s->st, j->id,
						       "suppressed", j->why,
						       &err) < 0) {
				store_trouble("suppress", err);
				goto out;
			}
			if (audit(s, j, "notice.suppressed", j->why) < 0)
				goto out;
		}
	}
	if (cm_store_commit(s->st, &err) < 0) {
		store_trouble("commit", err);
		goto out;
	}
	*n_r = b->n;
	ret = 0;
out:
	if (ret < 0)
		cm_store_rollback(s->st);
	return ret;
}

/* backoff - when a notice deferred after attempts tries is due again */
static int64_t
backoff(const struct sender *s, int64_t now, long attempts)
{
	int64_t delay = s->cfg->retry_base_delay;

	for (long i = 1; i < attempts && delay < MAX_DELAY; i++)
		delay *= 2;
	if (delay > MAX_DELAY)
		delay = MAX_DELAY;
	return now + (delay + 1) / 2 +
	       (int64_t)cm_token_uniform((uint32_t)(delay / 2 + 1));
}

/* record_one - step 3 for one job, inside the transaction */
static int
record_one(struct sender *s, struct job *j, int64_t now)
{
	const char *err = NULL, *why = j->detail;
	char extra[300], iso[32];
	int64_t next;
	int rc = 0;

	switch (j->outcome) {
	case OUT_SENT:
		if (j->provider_id != NULL)
			rc = cm_store_notice_set_provider(
				s->st, j->id, j->provider_id, &err);
		if (rc == 0)
			rc = cm_store_notice_set_status(s->st, j->id, "sent",
							j->detail, &err);
		(void)snprintf(extra, sizeof(extra), "reply=%s%s%s",
			       j->detail != NULL ? j->detail : "-",
			       j->provider_id != NULL ? " id=" : "",
			       j->provider_id != NULL ? j->provider_id : "");
		if (rc == 0)
			rc = audit(s, j, "notice.sent", extra);
		s->n_sent++;
		break;
	case OUT_DEFER:
		if (j->attempts >= s->cfg->retry_max_attempts ||
		    now - j->created_at >= s->cfg->retry_max_age) {
			j->outcome = OUT_FAIL;
			(void)snprintf(extra, sizeof(extra),
				       "retries exhausted: %s",
				       why != NULL ? why : "-");
			free(j->detail);
			j->detail = cm_xstrdup(extra);
			return record_one(s, j, now);
		}
		next = backoff(s, now, j->attempts);
		rc = cm_store_notice_defer(s->st, j->id, next, j->detail,
					   &err);
		(void)snprintf(extra, sizeof(extra), "next=%s reason=%s",
			       cm_time_iso(next, iso),
			       why != NULL ? why : "-");
		if (rc == 0)
			rc = audit(s, j, "notice.deferred", extra);
		s->n_deferred++;
		break;
	case OUT_FAIL:
		rc = cm_store_notice_set_status(s->st, j->id, "failed",
						j->detail, &err);
		(void)snprintf(extra, sizeof(extra), "reason=%s",
			       why != NULL ? why : "-");
		if (rc == 0)
			rc = audit(s, j, "notice.failed", extra);
		s->n_failed++;
		break;
	case OUT_NONE:
		rc = cm_store_notice_set_status(s->st, j->id, j->prev_status,
						NULL, &err);
		if (rc == 0)
			rc = audit(s, j, "notice.released", NULL);
		s->n_released++;
		break;
	case OUT_SUPPRESS:
		s->n_suppressed++;
		break;
	}
	if (rc < 0 && err != NULL)
		return store_trouble("record", err);
	return rc;
}

/* log_one - the log line of one recorded job */
static void
log_one(const struct job *j)
{
	static const char *const names[] = {
		[OUT_NONE] = "released", [OUT_SENT] = "sent",
		[OUT_DEFER] = "deferred", [OUT_FAIL] = "failed",
		[OUT_SUPPRESS] = "suppressed",
	};
	char to[120], why[260];
	const char *t = strcmp(j->channel, "sms") == 0 ? j->phone : j->to_addr;

	cm_log_info("notice=%lld case=%s kind=%s channel=%s to=%s msgid=%s "
		    "status=%s reason=\"%s\"",
		    (long long)j->id, j->ref != NULL ? j->ref : "-", j->kind,
		    j->channel, cm_log_sanitize(to, sizeof(to), t, 100),
		    j->msgid != NULL ? j->msgid : "-", names[j->outcome],
		    cm_log_sanitize(why, sizeof(why),
				    j->outcome == OUT_SUPPRESS ? j->why
							       : j->detail,
				    240));
}

/* record_batch - step 3 */
static int
record_batch(struct sender *s, struct batch *b)
{
	const char *err = NULL;
	int64_t now = cm_now();
	int ret = CM_ETEMP;

	if (cm_store_begin(s->st, &err) < 0)
		return store_trouble("begin", err);
	for (size_t i = 0; i < b->n; i++)
		if (record_one(s, &b->v[i], now) < 0)
			goto out;
	if (cm_store_commit(s->st, &err) < 0) {
		store_trouble("commit", err);
		goto out;
	}
	for (size_t i = 0; i < b->n; i++)
		log_one(&b->v[i]);
	ret = 0;
out:
	if (ret < 0)
		cm_store_rollback(s->st);
	return ret;
}

/* one_batch - claim, send, record; *claimed_r gets the batch size */
static int
one_batch(struct sender *s, int64_t now, size_t *claimed_r)
{
	struct batch b = { NULL, 0, 0 };
	int ret;

	ret = claim_batch(s, now, &b, claimed_r);
	if (ret < 0 || b.n == 0)
		goto out;
	transport_send_all(s, b.v, b.n);
	for (size_t i = 0; i < b.n; i++) {
		struct job *j = &b.v[i];

		/* the token is no longer needed */
		if (j->token != NULL)
			cm_token_wipe(j->token, strlen(j->token));
	}
	ret = record_batch(s, &b);
out:
	batch_free(&b);
	return ret;
}

/* struct due - ids of due notices, for --dry-run */
struct due {
	int64_t now;
	struct batch b;
};

/* collect_due - notice list callback: copy the due ones */
static int
collect_due(const struct cm_notice *n, void *ctx)
{
	struct due *d = ctx;
	bool due = ((strcmp(n->status, "queued") == 0 ||
		     strcmp(n->status, "deferred") == 0) &&
		    n->next_attempt_at <= d->now) ||
		   (strcmp(n->status, "sending") == 0 &&
		    n->lease_until <= d->now);

	if (due)
		job_from_notice(batch_add(&d->b), n, n->status);
	return 0;
}

/* dry_run - show what would be sent; change nothing */
static int
dry_run(struct sender *s)
{
	struct due d;
	const char *err = NULL;
	int ret = CM_ETEMP;

	memset(&d, 0, sizeof(d));
	d.now = cm_now();
	if (cm_store_notice_list(s->st, NULL, collect_due, &d, &err) < 0) {
		store_trouble("notice list", err);
		goto out;
	}
	for (size_t i = 0; i < d.b.n; i++) {
		struct job *j = &d.b.v[i];

		if (prepare(s, j, false) < 0)
			goto out;
		transport_dry_run(s, j);
	}
	printf("%zu notice(s) due; nothing was sent or changed\n", d.b.n);
	ret = 0;
out:
	batch_free(&d.b);
	return ret;
}

/* queue_run - drain what is due (see DESCRIPTION) */
int
queue_run(struct sender *s)
{
	size_t claimed = 0;
	int64_t now;
	int ret = 0;

	if (s->dry_run)
		return dry_run(s);
	s->run_start = cm_now();
	while (!*s->stop) {
		if (s->once &&
		    cm_now() - s->run_start > s->cfg->lease_seconds / 2)
			break;
		now = s->once ? s->run_start : cm_now();
		ret = one_batch(s, now, &claimed);
		if (ret < 0 || claimed == 0)
			break;
	}
	return ret;
}
