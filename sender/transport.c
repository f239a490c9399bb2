/*
 * transport.c - casemail-send: one attempt over SMTP, the outbox or SMS
 *
 * SYNOPSIS
 *	transport_send(&sender, job);	-> job->outcome, job->detail
 *	transport_build(&sender, jobs, n);	(one thread at a time)
 *	transport_send_all(&sender, jobs, n);
 *
 * DESCRIPTION
 *	Email goes over SMTP (cm_smtp) when smtp_url is set: the messages
 *	are built ahead by transport_build (GMime, templates, keys: nothing
 *	that touches the store or the connections; queue.c runs it on its
 *	store thread as soon as a batch is claimed, so building overlaps
 *	the sending of the batch before) and cm_smtp_send_many sends them,
 *	one in flight on each of smtp_connections sessions; on a stop
 *	request the messages in flight finish and the rest stay unsent
 *	(released).
 *	Without smtp_url it goes into the outbox maildir
 *	(cm_maildir_deliver: tmp, fsync, new, fsync) with a Return-Path
 *	line giving the VERP envelope sender first, as a local delivery
 *	would write it. SMS goes to the gateway (cm_http) with the
 *	personalisation body, link and force.
 *	Outcomes: accepted -> sent (with the server's reply or the file
 *	name, or the gateway's id); 4xx, connection trouble, a full disk,
 *	an unconfigured SMS gateway -> deferred; 5xx or a gateway 4xx, a
 *	message that cannot be built -> failed.
 *
 * DIAGNOSTICS
 *	Nothing is logged here: queue.c logs one line per notice with the
 *	outcome and its detail.
 *
 * SECURITY
 *	The SMS carries no case content: only what sms.txt says, which has
 *	the force name and the link. Dry runs print with a dummy token.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_compose.h"
#include "cm_log.h"
#include "cm_maildir.h"
#include "sender.h"

/* set_detail - the outcome and its detail (copied) */
static void
set_detail(struct job *j, enum outcome o, const char *detail)
{
	j->outcome = o;
	free(j->detail);
	j->detail = cm_xstrdup(detail != NULL ? detail : "");
}

/* smtp_outcome - j's outcome from the SMTP attempt m */
static void
smtp_outcome(struct job *j, const struct cm_smtp_msg *m)
{
	char buf[CM_SMTP_REPLY_MAX + CM_SMTP_ERROR_MAX + 20];

	if (m->rc == 0) {
		set_detail(j, OUT_SENT, m->reply);
		return;
	}
	/* the server's refusal, else what broke (and the last thing the
	 * server said) */
	if (m->code >= 400)
		(void)snprintf(buf, sizeof(buf), "%s", m->reply);
	else
		(void)snprintf(buf, sizeof(buf), "%s%s%s%s", m->error,
			       m->reply[0] != '\0' ? " (after \"" : "",
			       m->reply, m->reply[0] != '\0' ? "\")" : "");
	set_detail(j, m->rc == CM_ERR ? OUT_FAIL : OUT_DEFER, buf);
}

/* send_email - one email attempt */
static void
send_email(struct sender *s, struct job *j)
{
	struct cm_smtp_msg m;
	char *data = NULL, *from = NULL, *path = NULL, buf[600];
	const char *err = NULL;
	size_t len = 0;
	int rc;

	if (notice_build_email(s, j, s->smtp != NULL, NULL, &data, &len,
			       &from) < 0) {
		set_detail(j, OUT_FAIL, "cannot build the message");
		goto out;
	}
	if (s->smtp == NULL) {
		rc = cm_maildir_deliver(s->cfg->outbox_dir, data, len, &path,
					&err);
		if (rc < 0) {
			(void)snprintf(buf, sizeof(buf), "outbox: %s", err);
			set_detail(j, OUT_DEFER, buf);
		} else {
			const char *slash = strrchr(path, '/');

			(void)snprintf(buf, sizeof(buf), "outbox %s",
				       slash != NULL ? slash + 1 : path);
			set_detail(j, OUT_SENT, buf);
		}
		goto out;
	}
	memset(&m, 0, sizeof(m));
	m.from = from;
	m.to = j->to_addr;
	m.data = data;
	m.len = len;
	(void)cm_smtp_send_many(s->smtp, &m, 1, NULL);
	smtp_outcome(j, &m);
out:
	free(path);
	free(from);
	if (data != NULL)
		cm_token_wipe(data, len);
	free(data);
}

/* send_sms - one SMS attempt */
static void
send_sms(struct sender *s, struct job *j)
{
	const char *keys[3] = { "body", "link", "force" };
	const char *vals[3];
	char *body = NULL, *link = NULL, *id = NULL, ref[40], buf[300];
	const char *err = NULL;
	long status = 0;
	int rc;

	if (s->http == NULL) {
		(void)snprintf(buf, sizeof(buf), "SMS not configured: %s",
			       s->sms_why != NULL ? s->sms_why : "-");
		set_detail(j, OUT_DEFER, buf);
		goto out;
	}
	body = notice_sms_text(s, j);
	if (body == NULL) {
		set_detail(j, OUT_FAIL, "cannot build the SMS");
		goto out;
	}
	link = notice_link(s, j->token);
	vals[0] = body;
	vals[1] = link;
	vals[2] = j->discreet ? s->cfg->discreet_name : s->cfg->force_name;
	(void)snprintf(ref, sizeof(ref), "notice-%lld", (long long)j->id);
	rc = cm_http_sms(s->http, j->phone, ref, keys, vals, 3, cm_now(),
			 &status, &id, &err);
	if (rc == 0) {
		(void)snprintf(buf, sizeof(buf), "%ld created", status);
		set_detail(j, OUT_SENT, buf);
		j->provider_id = id;
		id = NULL;
	} else {
		set_detail(j, rc == CM_ERR ? OUT_FAIL : OUT_DEFER, err);
	}
out:
	free(id);
	if (link != NULL)
		cm_token_wipe(link, strlen(link));
	free(link);
	if (body != NULL)
		cm_token_wipe(body, strlen(body));
	free(body);
}

/* transport_send - one attempt at j */
void
transport_send(struct sender *s, struct job *j)
{
	if (strcmp(j->channel, "sms") == 0)
		send_sms(s, j);
	else
		send_email(s, j);
}

/* smtp_email - is j an email to go over SMTP */
static bool
smtp_email(const struct sender *s, const struct job *j)
{
	return s->smtp != NULL && strcmp(j->channel, "sms") != 0;
}

/* transport_build - build the SMTP emails of v[0..n) ahead of sending */
void
transport_build(struct sender *s, struct job *v, size_t n)
{
	for (size_t i = 0; i < n && !*s->stop; i++) {
		struct job *j = &v[i];

		if (j->outcome != OUT_NONE || j->data != NULL ||
		    !smtp_email(s, j))
			continue;
		if (notice_build_email(s, j, true, s->composer, &j->data,
				       &j->len, &j->from) < 0)
			set_detail(j, OUT_FAIL, "cannot build the message");
	}
}

/* transport_thread_setup - a helper thread of the sender: named for
 * ps and top, and with SIGTERM and SIGINT left to the sending thread */
void
transport_thread_setup(const char *name)
{
	sigset_t sigs;

	(void)pthread_setname_np(pthread_self(), name);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	(void)pthread_sigmask(SIG_BLOCK, &sigs, NULL);
}

/* send_smtp - the n built SMTP email jobs who[], one in flight on each
 * connection; then their messages are wiped */
static void
send_smtp(struct sender *s, struct job **who, size_t n)
{
	struct cm_smtp_msg *m = cm_xcalloc(n, sizeof(*m));

	for (size_t i = 0; i < n; i++) {
		m[i].from = who[i]->from;
		m[i].to = who[i]->to_addr;
		m[i].data = who[i]->data;
		m[i].len = who[i]->len;
	}
	(void)cm_smtp_send_many(s->smtp, m, n, s->stop);
	for (size_t i = 0; i < n; i++) {
		struct job *j = who[i];

		if (m[i].tried)
			smtp_outcome(j, &m[i]);
		cm_token_wipe(j->data, j->len);
		free(j->data);
		j->data = NULL;
	}
	free(m);
}

/* transport_send_all - every job of v[0..n) that is to be sent */
void
transport_send_all(struct sender *s, struct job *v, size_t n)
{
	struct job **who = NULL;
	size_t k = 0;

	if (s->smtp != NULL && n > 0)
		who = cm_xcalloc(n, sizeof(*who));
	for (size_t i = 0; i < n; i++) {
		struct job *j = &v[i];

		if (j->outcome != OUT_NONE || *s->stop)
			continue; /* suppressed, not built; stop: released */
		if (!smtp_email(s, j))
			transport_send(s, j);
		else if (j->data != NULL)
			who[k++] = j;
		else
			set_detail(j, OUT_FAIL, "cannot build the message");
	}
	if (k > 0)
		send_smtp(s, who, k);
	free(who);
}

/* transport_dry_run - what j would send */
void
transport_dry_run(struct sender *s, struct job *j)
{
	char *data = NULL, *from = NULL, *body;
	size_t len = 0;

	printf("=== notice %lld case %s kind %s channel %s attempt %ld\n",
	       (long long)j->id, j->ref, j->kind, j->channel,
	       j->attempts + 1);
	if (j->why != NULL) {
		printf("would be suppressed: %s\n\n", j->why);
		return;
	}
	if (strcmp(j->channel, "sms") == 0) {
		body = notice_sms_text(s, j);
		printf("SMS to %s via %s: %s\n\n", j->phone,
		       s->http != NULL ? s->cfg->sms_url : "(not configured)",
		       body != NULL ? body : "(cannot build)");
		free(body);
		return;
	}
	free(j->msgid);
	j->msgid = cm_xasprintf("dry-run.%lld@%s", (long long)j->id,
				s->cfg->mail_domain);
	if (notice_build_email(s, j, false, NULL, &data, &len, &from) < 0) {
		printf("cannot build the message\n\n");
		return;
	}
	printf("envelope from %s to %s via %s\n", from, j->to_addr,
	       s->smtp != NULL ? "smtp" : s->cfg->outbox_dir);
	fwrite(data, 1, len, stdout);
	printf("\n");
	free(from);
	free(data);
}
