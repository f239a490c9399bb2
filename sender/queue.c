/*
 * queue.c - casemail-send: claim, send, record
 *
 * SYNOPSIS
 *	rc = queue_run(&sender);
 *
 * DESCRIPTION
 *	One batch is three steps:
 *	  1. in a transaction: claim up to send_batch due notices with a
 *	     lease (cm_store_notice_claim_many: queued or deferred and due, or
 *	     sending with the lease run out), copy what building needs,
 *	     suppress what must not go (victim opted out of email, address
 *	     undeliverable, channel none, officer inactive), mint one login
 *	     token per victim notice and record each email's Message-ID
 *	     before it is sent, so that a reply to it threads;
 *	  2. no transaction: build each SMTP email (transport_build, on
 *	     the store thread right after the claim commits) and send each
 *	     message (SMTP email over smtp_connections sessions at once,
 *	     see transport.c);
 *	  3. in a transaction: record every outcome (sent with the server's
 *	     reply, deferred with backoff, failed) with its audit row;
 *	     a victim's address refused for good at SMTP time (5.1.x,
 *	     5.2.1, or 550/551/553 without an enhanced status) counts as a
 *	     hard bounce (cm_work_bounce), as one that comes back by mail.
 *	The steps overlap: this thread only sends while one store thread,
 *	the only user of the store connection during the run, records the
 *	batches sent so far and claims up to AHEAD (2) batches ahead,
 *	recording and claiming in one transaction (one commit; the pages of
 *	the notices written once where two transactions would write them
 *	twice; if it fails, neither happened), then builds the claimed
 *	batch's messages outside the transaction. So the store's work with
 *	the building, and the network, each keep a thread busy, and the
 *	connections do not idle while a batch is claimed, built, recorded
 *	or fsynced. Claiming stops at a batch that was not
 *	full (nothing more was due then), a store error, a stop request,
 *	or, with --once, half a lease after the start.
 *	A notice stays "sending" under its lease until its outcome commits,
 *	so a sender that dies can only cause messages that were sent but
 *	not yet recorded to go twice; nothing is lost. The batches claimed
 *	ahead are not sent twice either: they wait for their lease to run
 *	out and go then. Several senders may run at once (claims serialise
 *	on the write lock), but one sender with smtp_connections > 1 is
 *	faster: it alone writes.
 *
 *	Retries: a deferred notice is due again after retry_base_delay *
 *	2^(attempts-1) seconds (at most 6 hours), of which a random half is
 *	jitter; it fails once it has had retry_max_attempts attempts or is
 *	older than retry_max_age.
 *
 *	--once takes the notices due when the run started (so a notice
 *	deferred during the run waits for the next run) and stops claiming
 *	when half a lease has passed. On a stop request (SIGTERM) the
 *	message being sent is finished, the rest of the batch and the batch
 *	claimed ahead are released (back to their previous status, still
 *	due) and recorded.
 *
 * DIAGNOSTICS
 *	Store trouble returns CM_ETEMP after logging once. After each
 *	commit that wrote audit rows: "audit anchor count=N head=HEX".
 *
 * SECURITY
 *	Tokens exist in memory only between claim and send and are wiped;
 *	audit details carry ids, kinds and server replies, never content.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm_compose.h"
#include "cm_log.h"
#include "cm_login.h"
#include "cm_work.h"
#include "cm_milestone.h"
#include "sender.h"

#define MAX_DELAY 21600 /* seconds: the longest backoff step */

/* struct batch - the jobs of one batch */
struct batch {
	struct job *v;
	size_t n, cap;
	int64_t claimed_ms; /* mono_ms() when claimed */
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
	free(j->sender);
	free(j->placement);
	free(j->subject);
	free(j->victim_email);
	free(j->victim_phone);
	free(j->text);
	free(j->msgid);
	free(j->why);
	if (j->data != NULL)
		cm_token_wipe(j->data, j->len);
	free(j->data);
	free(j->from);
	free(j->detail);
	free(j->provider_id);
	memset(j, 0, sizeof(*j));
}

/* mono_ms - milliseconds on the monotonic clock */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* audit rows written in the open transaction: after its commit the
 * chain's anchor is logged (only the store thread writes) */
static long audited;

/* log_anchor - "audit anchor count=N head=HEX" for the chain as
 * committed, to be kept outside the database */
static void
log_anchor(struct sender *s)
{
	unsigned char head[CM_HASH_LEN];
	char hex[2 * CM_HASH_LEN + 1];
	const char *err = NULL;
	int64_t count = 0;

	if (cm_store_audit_anchor(s->st, &count, head, &err) < 0) {
		store_trouble("audit anchor", err);
		return;
	}
	cm_token_hex(head, sizeof(head), hex);
	cm_log_info("audit anchor count=%lld head=%s", (long long)count, hex);
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
	audited++;
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

/* digest_for_notice - the supervisor's digest of overdue milestones:
 * its address from the configuration, its text as of now */
static int
digest_for_notice(struct sender *s, struct job *j)
{
	struct cm_workday *wd = NULL;
	const char *err = NULL;
	int ret = 0;

	j->to_name = cm_xstrdup("Supervisor");
	j->officer_name = cm_xstrdup("Supervisor");
	if (s->cfg->milestone_supervisor[0] == '\0') {
		suppress(j, "no milestone_supervisor configured");
		goto out;
	}
	j->to_addr = cm_xstrdup(s->cfg->milestone_supervisor);
	wd = cm_milestone_calendar(s->cfg, &err);
	if (wd == NULL) {
		suppress(j, "force_timezone or bank_holidays_extra is bad");
		goto out;
	}
	j->text = cm_milestone_digest_text(s->st, wd, cm_now(), &err);
	if (j->text == NULL)
		ret = store_trouble("digest", err);
out:
	cm_workday_free(&wd);
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

	/* the supervisor's digest belongs to no case */
	rc = j->case_id != 0 ? cm_store_case_get_id(s->st, j->case_id, &c,
						    &err)
			     : 0;
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
			j->officer_held = j->held &&
					  strcmp(m.author, "officer") == 0;
			j->sender = cm_xstrdup(m.sender);
			j->placement = cm_xstrdup(m.placement);
			j->subject = cm_xstrdup(m.subject);
			about = m.victim_id;
			j->about_victim = about;
		}
	}
	if (strcmp(j->kind, "milestone_digest") == 0)
		rc = digest_for_notice(s, j);
	else if (j->victim_id != 0)
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

/* struct claiming - claim_jobs' context */
struct claiming {
	struct sender *s;
	struct batch *b;
};

/* claim_one - a claimed notice into a job: prepared, audited,
 * suppressed if it must not go; 0 or CM_ETEMP (stops the claim) */
static int
claim_one(const struct cm_notice *n, void *ctx)
{
	struct claiming *c = ctx;
	struct sender *s = c->s;
	const char *err = NULL;
	struct job *j;

	/* claimed rows read "sending"; attempts > 1 means a retry
	 * (deferred) or a dead sender's lease */
	j = batch_add(c->b);
	job_from_notice(j, n, n->attempts > 1 ? "deferred" : "queued");
	if (prepare(s, j, true) < 0)
		return CM_ETEMP;
	if (audit(s, j, "notice.sending", NULL) < 0)
		return CM_ETEMP;
	if (j->why == NULL)
		return 0;
	j->outcome = OUT_SUPPRESS;
	if (cm_store_notice_set_status(s->st, j->id, "suppressed", j->why,
				       &err) < 0)
		return store_trouble("suppress", err);
	if (audit(s, j, "notice.suppressed", j->why) < 0)
		return CM_ETEMP;
	return 0;
}

/* claim_jobs - step 1 inside the open transaction: up to send_batch
 * notices claimed in one statement */
static int
claim_jobs(struct sender *s, int64_t now, struct batch *b)
{
	struct claiming c = { s, b };
	const char *err = NULL;
	int rc;

	b->claimed_ms = mono_ms();
	rc = cm_store_notice_claim_many(s->st, now, s->cfg->lease_seconds,
					s->cfg->send_batch, claim_one, &c,
					&err);
	if (rc < 0 && err != NULL)
		return store_trouble("claim", err);
	return rc < 0 ? CM_ETEMP : 0;
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

/*
 * rejects_address - did the SMTP server refuse j's victim address for
 * good? Only the reply to an email notice to a victim counts, and only
 * when it speaks of the address: an enhanced status 5.1.x (bad
 * mailbox, bad domain) or 5.2.1 (mailbox disabled), or, without one,
 * the basic codes 550, 551 and 553. A refusal of the message or of us
 * (5.7.x policy, 5.3.4 too big, 535 authentication, 500 syntax) is the
 * relay's or the message's, not the victim's, and must not score every
 * address it was tried on.
 */
static bool
rejects_address(const struct sender *s, const struct job *j)
{
	const char *r = j->detail, *e;

	if (s->smtp == NULL || j->victim_id == 0 || r == NULL ||
	    strcmp(j->channel, "email") != 0)
		return false;
	if (r[0] != '5' || r[1] < '0' || r[1] > '9' || r[2] < '0' ||
	    r[2] > '9' || (r[3] != ' ' && r[3] != '-'))
		return false;
	e = r + 4;
	if (e[0] == '5' && e[1] == '.') {
		if (e[2] == '1' && e[3] == '.')
			return true;
		return e[2] == '2' && e[3] == '.' && e[4] == '1' &&
		       (e[5] == ' ' || e[5] == '\0');
	}
	return strncmp(r, "550", 3) == 0 || strncmp(r, "551", 3) == 0 ||
	       strncmp(r, "553", 3) == 0;
}

/*
 * record_rejection - j's victim address was refused at SMTP time: a
 * hard bounce, as one that comes back by mail would be (the address is
 * scored once for the notice; at bounce_limit it becomes undeliverable,
 * the officer is alerted and SMS takes over). The notice fails either
 * way; the log line says whether the bounce counted.
 */
static int
record_rejection(struct sender *s, struct job *j)
{
	struct cm_work w = { s->cfg, s->secret, s->st, SEND_ACTOR };
	const char *err = NULL, *why = NULL, *to = j->to_addr;
	char extra[400];
	bool dead = false;
	char *d;
	int rc;

	rc = cm_work_bounce(&w, j->id, j->detail, &to, to != NULL ? 1 : 0,
			    &dead, &why, &err);
	if (rc == 0 && why != NULL && strstr(why, "not counted") != NULL)
		rc = cm_store_notice_set_status(s->st, j->id, "failed",
						j->detail, &err);
	if (rc < 0)
		return err != NULL ? store_trouble("record", err) : rc;
	d = cm_xasprintf("%s (hard bounce: %s)", j->detail,
			 why != NULL ? why : "-");
	free(j->detail);
	j->detail = d;
	(void)snprintf(extra, sizeof(extra), "reason=%s", j->detail);
	rc = audit(s, j, "notice.failed", extra);
	s->n_failed++;
	return rc;
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
		if (rejects_address(s, j))
			return record_rejection(s, j);
		/* a message that could not be built: keep why on the
		 * notice, not only that it could not */
		if (notice_build_failure(j->id, extra, sizeof(extra))) {
			char *d = cm_xasprintf("%s (%s)",
					       j->detail != NULL
						       ? j->detail
						       : "cannot build",
					       extra);

			free(j->detail);
			j->detail = d;
			why = d;
		}
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

/*
 * store_step - one transaction: record the nrec batches rec[] (step 3:
 * their outcomes), then claim into claim (step 1; NULL: none). Log
 * lines follow the commit. On failure nothing of it happened: claim is
 * emptied (the notices of rec[] stay "sending" until their lease runs
 * out). 0 or CM_ETEMP.
 */
static int
store_step(struct sender *s, struct batch *const *rec, size_t nrec,
	   struct batch *claim, int64_t now)
{
	const char *err = NULL;
	int64_t at = cm_now();
	int ret = CM_ETEMP;

	audited = 0;
	if (cm_store_begin(s->st, &err) < 0) {
		store_trouble("transaction", err);
		goto out;
	}
	for (size_t k = 0; k < nrec; k++)
		for (size_t i = 0; i < rec[k]->n; i++)
			if (record_one(s, &rec[k]->v[i], at) < 0)
				goto out;
	if (claim != NULL && claim_jobs(s, now, claim) < 0)
		goto out;
	if (cm_store_commit(s->st, &err) < 0) {
		store_trouble("commit", err);
		goto out;
	}
	if (audited > 0)
		log_anchor(s);
	for (size_t k = 0; k < nrec; k++)
		for (size_t i = 0; i < rec[k]->n; i++)
			log_one(&rec[k]->v[i]);
	ret = 0;
out:
	if (ret < 0) {
		cm_store_rollback(s->st);
		if (claim != NULL)
			batch_free(claim);
	}
	return ret;
}

/* send_batch - step 2: send every job of b, then wipe the tokens */
static void
send_batch(struct sender *s, struct batch *b)
{
	transport_send_all(s, b->v, b->n);
	for (size_t i = 0; i < b->n; i++) {
		struct job *j = &b->v[i];

		/* the token is no longer needed */
		if (j->token != NULL)
			cm_token_wipe(j->token, strlen(j->token));
	}
}

/* may_claim - may another batch be claimed now */
static bool
may_claim(const struct sender *s)
{
	if (*s->stop)
		return false;
	return !s->once ||
	       cm_now() - s->run_start <= s->cfg->lease_seconds / 2;
}

/* due_now - the claim's notion of due: --once takes what was due when
 * the run started */
static int64_t
due_now(const struct sender *s)
{
	return s->once ? s->run_start : cm_now();
}

#define AHEAD 2 /* batches claimed and not yet being sent, at most */
#define STALE 4 /* a batch claimed ahead waits at most lease/STALE */

/*
 * struct pipeline - the batches between the sending thread and the
 * store thread. Everything below mu is under mu.
 */
struct pipeline {
	struct sender *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *ready[AHEAD]; /* claimed, to be sent, oldest first */
	size_t nready;
	size_t ahead;               /* claim while nready < ahead */
	int64_t stale_ms;           /* a ready batch older is released */
	struct batch **done;        /* sent (or released): to record */
	size_t ndone, capdone;
	bool want;      /* the sender waits for a batch */
	bool exhausted; /* no more batches will be claimed */
	bool quit;      /* the sender is finished: record and stop */
	int rc;         /* the first store error */
};

/* push_done - hand b to the store thread for recording (under mu) */
static void
push_done(struct pipeline *p, struct batch *b)
{
	if (p->ndone == p->capdone) {
		p->capdone = p->capdone ? 2 * p->capdone : 4;
		p->done = cm_xrealloc(p->done,
				      p->capdone * sizeof(*p->done));
	}
	p->done[p->ndone++] = b;
}

/* batch_destroy - free a heap batch */
static void
batch_destroy(struct batch *b)
{
	if (b == NULL)
		return;
	batch_free(b);
	free(b);
}

/*
 * drop_stale - release the ready batches that waited longer than
 * stale_ms (under mu): sending is slow (a slow server, retries), so a
 * batch claimed ahead could see its lease run out, and another sender
 * take it, before this one gets to it. They are released while the
 * lease still holds (they are due again, so more may be claimed), and
 * from then on batches are claimed only when the sender asks.
 */
static void
drop_stale(struct pipeline *p, int64_t now_ms)
{
	if (p->nready > 0 &&
	    now_ms - p->ready[0]->claimed_ms >= p->stale_ms)
		pthread_cond_broadcast(&p->cv);
	while (p->nready > 0 &&
	       now_ms - p->ready[0]->claimed_ms >= p->stale_ms) {
		push_done(p, p->ready[0]);
		memmove(p->ready, p->ready + 1,
			(p->nready - 1) * sizeof(p->ready[0]));
		p->nready--;
		p->ahead = 0;
		p->exhausted = false;
	}
}

/* can_claim - should the store thread claim a batch now (under mu) */
static bool
can_claim(const struct pipeline *p)
{
	return !p->quit && !p->exhausted && p->rc == 0 &&
	       (p->nready < p->ahead || (p->nready == 0 && p->want));
}

/* wait_work - wait on p->cv until there is store work or the sender
 * quits, releasing stale batches meanwhile (under mu) */
static void
wait_work(struct pipeline *p)
{
	for (;;) {
		struct timespec ts;
		int64_t at;

		drop_stale(p, mono_ms());
		if (p->quit || p->ndone > 0 || can_claim(p))
			return;
		if (p->nready == 0) {
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		at = p->ready[0]->claimed_ms + p->stale_ms;
		ts.tv_sec = (time_t)(at / 1000);
		ts.tv_nsec = (long)(at % 1000) * 1000000;
		(void)pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	}
}

/* store_loop - the store thread: record what was sent and claim ahead,
 * one transaction for both, until the sender quits */
static void *
store_loop(void *arg)
{
	struct pipeline *p = arg;
	struct sender *s = p->s;
	struct batch **rec = NULL, *claim;
	size_t nrec, caprec = 0;
	int rc;

	transport_thread_setup("send-store");
	pthread_mutex_lock(&p->mu);
	for (;;) {
		wait_work(p);
		if (p->quit && p->ndone == 0)
			break;
		/* take every sent batch */
		if (caprec < p->ndone) {
			caprec = p->capdone;
			rec = cm_xrealloc(rec, caprec * sizeof(*rec));
		}
		nrec = p->ndone;
		if (nrec > 0)
			memcpy(rec, p->done, nrec * sizeof(*rec));
		p->ndone = 0;
		claim = NULL;
		if (can_claim(p)) {
			if (may_claim(s))
				claim = cm_xcalloc(1, sizeof(*claim));
			else
				p->exhausted = true;
		}
		pthread_mutex_unlock(&p->mu);

		rc = 0;
		if (nrec > 0 || claim != NULL)
			rc = store_step(s, rec, nrec, claim, due_now(s));
		if (rc == 0 && claim != NULL)
			transport_build(s, claim->v, claim->n);
		for (size_t k = 0; k < nrec; k++)
			batch_destroy(rec[k]);

		pthread_mutex_lock(&p->mu);
		if (rc < 0) {
			if (p->rc == 0)
				p->rc = rc;
			p->exhausted = true;
		}
		if (claim != NULL && claim->n < (size_t)s->cfg->send_batch)
			p->exhausted = true; /* nothing more was due */
		if (claim != NULL && claim->n == 0)
			batch_destroy(claim);
		else if (claim != NULL && p->quit)
			push_done(p, claim); /* too late: release it */
		else if (claim != NULL)
			p->ready[p->nready++] = claim;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	free(rec);
	return NULL;
}

/* run_serial - claim, send, record, one after the other: when no store
 * thread can be had */
static int
run_serial(struct sender *s)
{
	struct batch b;
	struct batch *one = &b;
	int ret = 0;

	while (ret == 0 && may_claim(s)) {
		memset(&b, 0, sizeof(b));
		if ((ret = store_step(s, NULL, 0, &b, due_now(s))) < 0 ||
		    b.n == 0)
			break;
		transport_build(s, b.v, b.n);
		send_batch(s, &b);
		ret = store_step(s, &one, 1, NULL, 0);
		batch_free(&b);
	}
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
	struct pipeline p;
	struct batch *b;
	pthread_condattr_t ca;
	pthread_t tid;
	int ret;

	if (s->dry_run)
		return dry_run(s);
	s->run_start = cm_now();
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.ahead = AHEAD;
	p.stale_ms = s->cfg->lease_seconds * 1000 / STALE;
	p.want = true;
	pthread_mutex_init(&p.mu, NULL);
	pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p.cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&tid, NULL, store_loop, &p) != 0) {
		ret = run_serial(s);
		goto out;
	}
	pthread_mutex_lock(&p.mu);
	for (;;) {
		p.want = true;
		pthread_cond_broadcast(&p.cv);
		drop_stale(&p, mono_ms());
		while (p.nready == 0 && !p.exhausted && !*s->stop) {
			pthread_cond_wait(&p.cv, &p.mu);
			drop_stale(&p, mono_ms());
		}
		p.want = false;
		if (p.nready == 0 || *s->stop || p.rc != 0)
			break;
		b = p.ready[0];
		memmove(p.ready, p.ready + 1,
			(p.nready - 1) * sizeof(p.ready[0]));
		p.nready--;
		/* room for the store thread to claim ahead while b goes */
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);
		send_batch(s, b);
		pthread_mutex_lock(&p.mu);
		push_done(&p, b);
		pthread_cond_broadcast(&p.cv);
	}
	/* what was claimed and not sent (a stop, an error) is released:
	 * its jobs have no outcome, or were suppressed when claimed */
	while (p.nready > 0)
		push_done(&p, p.ready[--p.nready]);
	p.quit = true;
	pthread_cond_broadcast(&p.cv);
	pthread_mutex_unlock(&p.mu);
	(void)pthread_join(tid, NULL);
	ret = p.rc;
out:
	free(p.done);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	return ret;
}
