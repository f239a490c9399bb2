/*
 * transport.c - casemail-send: one attempt over SMTP, the outbox or SMS
 *
 * SYNOPSIS
 *	transport_send(&sender, job);	-> job->outcome, job->detail
 *
 * DESCRIPTION
 *	Email goes over the one SMTP connection (cm_smtp) when smtp_url is
 *	set, else into the outbox maildir (cm_maildir_deliver: tmp, fsync,
 *	new, fsync) with a Return-Path line giving the VERP envelope sender
 *	first, as a local delivery would write it. SMS goes to the gateway
 *	(cm_http) with the personalisation body, link and force.
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

/* send_email - one email attempt */
static void
send_email(struct sender *s, struct job *j)
{
	char *data = NULL, *from = NULL, *path = NULL, buf[600];
	const char *err = NULL, *reply = NULL;
	size_t len = 0;
	int rc;

	if (notice_build_email(s, j, s->smtp != NULL, &data, &len, &from) <
	    0) {
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
	rc = cm_smtp_send(s->smtp, from, j->to_addr, data, len, &reply, &err);
	if (rc == 0) {
		set_detail(j, OUT_SENT, reply);
	} else {
		/* the server's refusal, else what broke (and the last
		 * thing the server said) */
		if (cm_smtp_code(s->smtp) >= 400)
			(void)snprintf(buf, sizeof(buf), "%s", reply);
		else
			(void)snprintf(buf, sizeof(buf), "%s%s%s%s", err,
				       reply[0] != '\0' ? " (after \"" : "",
				       reply, reply[0] != '\0' ? "\")" : "");
		set_detail(j, rc == CM_ERR ? OUT_FAIL : OUT_DEFER, buf);
	}
out:
	free(path);
	free(from);
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
	if (notice_build_email(s, j, false, &data, &len, &from) < 0) {
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
