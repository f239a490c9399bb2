/*
 * notice.c - casemail-send: what a notice says
 *
 * SYNOPSIS
 *	notice_load_templates(&s);
 *	notice_build_email(&s, job, crlf, composer, &data, &len, &from);
 *
 * DESCRIPTION
 *	Fills the template variables of a job, renders the template of its
 *	kind and builds the message with cm_compose:
 *	  update, fresh_link  to the victim: From the force (or
 *			      discreet_name), Reply-To reply+KEY@D, a login
 *			      link, List-Unsubscribe (mailto to the reply
 *			      address with subject "unsubscribe", and
 *			      https portal_url/unsubscribe/KEY with an
 *			      unsubscribe KEY of its own kind, for the
 *			      portal's RFC 8058 POST: a URL never carries
 *			      the reply KEY); case content only with
 *			      notice_include_text
 *	  officer_notify      to the officer in charge, internal, Reply-To
 *			      officer+KEY@D naming the officer, the case and
 *			      the victim whose message it is (the answer
 *			      reaches that victim alone); the victim's
 *			      trimmed text, its sender and how it was placed
 *	  bounce_alert        to the officer in charge, internal, no
 *			      Reply-To
 *	  milestone_warning,  to the officer in charge, internal: a
 *	  milestone_overdue   milestone's update is due soon, or overdue
 *	  milestone_digest    to milestone_supervisor, internal: every
 *			      overdue milestone
 *	The envelope sender is always bounce+KEY@D for the notice (VERP).
 *	Victims marked discreet get the "-discreet" templates, which name
 *	neither the force nor a crime.
 *
 *	With a portal_url that is not https, victim notices carry the
 *	mailto: unsubscribe target alone: one-click needs https.
 *
 * DIAGNOSTICS
 *	A template that does not load or render is reported at start
 *	(notice_load_templates renders each once with every variable). A
 *	notice that cannot be built is logged as an error (stderr and
 *	syslog) with the reason, which notice_build_failure hands to
 *	queue.c for the notice's last_error.
 *
 * SECURITY
 *	Every value goes through the template module's neutralisation and
 *	every header through GMime (cm_compose).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm_addr.h"
#include "cm_compose.h"
#include "cm_log.h"
#include "cm_trim.h"
#include "sender.h"

static const char *const tpl_names[TPL_COUNT] = {
	[TPL_UPDATE] = "update",
	[TPL_UPDATE_DISCREET] = "update-discreet",
	[TPL_FRESH] = "fresh_link",
	[TPL_FRESH_DISCREET] = "fresh_link-discreet",
	[TPL_OFFICER] = "officer_notify",
	[TPL_OFFICER_HELD] = "officer_held",
	[TPL_BOUNCE] = "bounce_alert",
	[TPL_MS_WARNING] = "milestone_warning",
	[TPL_MS_OVERDUE] = "milestone_overdue",
	[TPL_MS_DIGEST] = "milestone_digest",
	[TPL_SMS] = "sms",
	[TPL_SMS_DISCREET] = "sms-discreet",
};

/* the variables every template may use, in this order */
enum var_id {
	V_FORCE, V_REF, V_FIRST, V_VICTIM, V_LINK, V_EXPIRY, V_PORTAL,
	V_UNSUB, V_UPDATE, V_OFFICER, V_VTEXT, V_HELD, V_VEMAIL, V_VPHONE,
	V_MSGID, V_REASON, V_SENDER, V_PLACED, V_MILESTONE, V_FWD,
	V_FWD_FROM, V_FWD_DATE, V_FWD_SUBJECT, V_COUNT
};

static const char *const var_names[V_COUNT] = {
	[V_FORCE] = "force_name",     [V_REF] = "case_ref",
	[V_FIRST] = "first_name",     [V_VICTIM] = "victim_name",
	[V_LINK] = "link",            [V_EXPIRY] = "link_expiry",
	[V_PORTAL] = "portal_url",    [V_UNSUB] = "unsubscribe_url",
	[V_UPDATE] = "update_text",   [V_OFFICER] = "officer_name",
	[V_VTEXT] = "victim_text",    [V_HELD] = "held",
	[V_VEMAIL] = "victim_email",  [V_VPHONE] = "victim_phone",
	[V_MSGID] = "message_id",     [V_REASON] = "reason",
	[V_SENDER] = "sender",        [V_PLACED] = "placed_by",
	[V_MILESTONE] = "milestone",  [V_FWD] = "forwarded",
	[V_FWD_FROM] = "forwarded_from", [V_FWD_DATE] = "forwarded_date",
	[V_FWD_SUBJECT] = "forwarded_subject",
};

/* placed_words - how a victim's message found its case, for the officer
 * (static) */
static const char *
placed_words(const char *placement)
{
	static const struct {
		const char *name, *words;
	} w[] = {
		{ "reply_key", "the victim's own reply address" },
		{ "thread", "threading headers only (sender not proven)" },
		{ "subject_tag", "a [REF] subject tag only (sender not "
				 "proven)" },
		{ "released", "released from quarantine by an officer" },
		{ "portal", "written in the portal after a login" },
		{ "case_address", "the case address (case+ or note+) with no "
				  "trusted DMARC/DKIM pass for the From" },
		{ "officer_key", "an officer's key address, from another "
				 "sender" },
	};

	for (size_t i = 0; placement != NULL && i < CM_ARRAY_SIZE(w); i++)
		if (strcmp(placement, w[i].name) == 0)
			return w[i].words;
	return "unknown";
}

/* struct vars - values for one job; owned strings in own[] */
struct vars {
	struct cm_tpl_var v[V_COUNT];
	char *own[V_COUNT];
};

/* vars_set - value of variable id (copied) */
static void
vars_set(struct vars *vs, enum var_id id, const char *value)
{
	free(vs->own[id]);
	vs->own[id] = cm_xstrdup(value != NULL ? value : "");
	vs->v[id].value = vs->own[id];
}

/* vars_init - every variable present and empty */
static void
vars_init(struct vars *vs)
{
	memset(vs, 0, sizeof(*vs));
	for (int i = 0; i < V_COUNT; i++) {
		vs->v[i].name = var_names[i];
		vs->v[i].value = "";
	}
}

/* vars_free - free the owned values */
static void
vars_free(struct vars *vs)
{
	for (int i = 0; i < V_COUNT; i++)
		free(vs->own[i]);
	memset(vs, 0, sizeof(*vs));
}

/* notice_link - the login link */
char *
notice_link(const struct sender *s, const char *token)
{
	return cm_xasprintf("%s/l/%s", s->cfg->portal_url,
			    token != NULL ? token : "DRY-RUN");
}

/* first_word - the first word of a name (caller frees) */
static char *
first_word(const char *name)
{
	size_t n;

	if (name == NULL)
		return cm_xstrdup("");
	name += strspn(name, " \t");
	n = strcspn(name, " \t");
	return cm_xstrndup(name, n);
}

/* set_forwarded - when the victim's text passes on a forwarded message
 * (kept whole in it), its sender, date and subject read apart for the
 * officer: evidence the victim hands over */
static void
set_forwarded(struct vars *vs, const char *text, const char *subject)
{
	struct cm_trim t;

	memset(&t, 0, sizeof(t));
	/* the subject tells an Outlook forward (FW:) from a reply */
	if (text != NULL && cm_trim_text_subject(text, subject, &t) == 0 &&
	    t.forwarded) {
		vars_set(vs, V_FWD, "yes");
		vars_set(vs, V_FWD_FROM, t.fwd_from != NULL ? t.fwd_from : "?");
		vars_set(vs, V_FWD_DATE, t.fwd_date != NULL ? t.fwd_date : "?");
		vars_set(vs, V_FWD_SUBJECT,
			 t.fwd_subject != NULL ? t.fwd_subject : "?");
	}
	cm_trim_clear(&t);
}

/* fill_vars - the variables of job j */
static void
fill_vars(struct sender *s, const struct job *j, struct vars *vs)
{
	char when[64], id[32], *p;
	struct tm tm;
	time_t t = (time_t)j->expires_at;

	vars_init(vs);
	vars_set(vs, V_FORCE, j->discreet ? s->cfg->discreet_name
					  : s->cfg->force_name);
	vars_set(vs, V_REF, j->ref);
	vars_set(vs, V_PORTAL, s->cfg->portal_url);
	if (j->victim_id != 0) {
		/* the unsubscribe URL has a key of its own kind: a URL
		 * is logged and scanned, and must not carry the reply
		 * key that posts mail as the victim */
		char *key = cm_addr_unsub_key(s->secret, j->victim_id,
					      j->case_id);

		p = first_word(j->to_name);
		vars_set(vs, V_FIRST, p);
		free(p);
		vars_set(vs, V_VICTIM, j->to_name);
		p = notice_link(s, j->token);
		vars_set(vs, V_LINK, p);
		free(p);
		if (j->expires_at == 0)
			t = (time_t)(cm_now() + s->cfg->token_ttl);
		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(when, sizeof(when), "%A %d %B %Y, %H:%M UTC",
			     &tm) > 0)
			vars_set(vs, V_EXPIRY, when);
		p = cm_xasprintf("%s/unsubscribe/%s", s->cfg->portal_url, key);
		vars_set(vs, V_UNSUB, p);
		free(p);
		free(key);
		if (s->cfg->notice_include_text && !j->discreet)
			vars_set(vs, V_UPDATE, j->text);
	} else {
		vars_set(vs, V_OFFICER, j->officer_name);
		vars_set(vs, V_VICTIM, j->victim_name != NULL
					       ? j->victim_name
					       : "the victim");
		vars_set(vs, V_VEMAIL, j->victim_email);
		vars_set(vs, V_VPHONE, j->victim_phone);
		vars_set(vs, V_VTEXT, j->text);
		vars_set(vs, V_HELD, j->held ? "yes" : "");
		(void)snprintf(id, sizeof(id), "%lld",
			       (long long)j->message_id);
		vars_set(vs, V_MSGID, id);
		vars_set(vs, V_REASON, "hard bounces reached bounce_limit");
		vars_set(vs, V_SENDER, j->sender);
		vars_set(vs, V_PLACED, placed_words(j->placement));
		if (strcmp(j->kind, "officer_notify") == 0)
			set_forwarded(vs, j->text, j->subject);
		/* what a milestone warning, alert or digest says */
		vars_set(vs, V_MILESTONE, j->text);
	}
}

/* tpl_for - the template of job j */
static enum tpl_id
tpl_for(const struct job *j)
{
	if (strcmp(j->channel, "sms") == 0)
		return j->discreet ? TPL_SMS_DISCREET : TPL_SMS;
	if (strcmp(j->kind, "officer_notify") == 0)
		return j->officer_held ? TPL_OFFICER_HELD : TPL_OFFICER;
	if (strcmp(j->kind, "bounce_alert") == 0)
		return TPL_BOUNCE;
	if (strcmp(j->kind, "milestone_warning") == 0)
		return TPL_MS_WARNING;
	if (strcmp(j->kind, "milestone_overdue") == 0)
		return TPL_MS_OVERDUE;
	if (strcmp(j->kind, "milestone_digest") == 0)
		return TPL_MS_DIGEST;
	if (strcmp(j->kind, "fresh_link") == 0)
		return j->discreet ? TPL_FRESH_DISCREET : TPL_FRESH;
	return j->discreet ? TPL_UPDATE_DISCREET : TPL_UPDATE;
}

/* notice_load_templates - load every template and render it once */
int
notice_load_templates(struct sender *s)
{
	struct vars vs;
	const char *err = NULL;
	char *subj = NULL, *text = NULL, *html = NULL;
	int ret = CM_ERR;

	vars_init(&vs);
	for (int i = 0; i < V_COUNT; i++)
		vars_set(&vs, (enum var_id)i, "x");
	for (int i = 0; i < TPL_COUNT; i++) {
		s->tpl[i] = cm_template_load(s->cfg->template_dir,
					     tpl_names[i], &err);
		if (s->tpl[i] == NULL) {
			cm_log_err("template: %s", err);
			goto out;
		}
		if (i < TPL_SMS && !cm_template_has_subject(s->tpl[i])) {
			cm_log_err("template: %s/%s.subject: missing",
				   s->cfg->template_dir, tpl_names[i]);
			goto out;
		}
		if (cm_template_render(s->tpl[i], vs.v, V_COUNT, &subj, &text,
				       &html, &err) < 0) {
			cm_log_err("template: %s: %s", s->cfg->template_dir,
				   err);
			goto out;
		}
		free(subj);
		free(text);
		free(html);
		subj = text = html = NULL;
	}
	ret = 0;
out:
	vars_free(&vs);
	return ret;
}

/* notice_free_templates - release them */
void
notice_free_templates(struct sender *s)
{
	for (int i = 0; i < TPL_COUNT; i++)
		cm_template_free(&s->tpl[i]);
}

/*
 * The reasons of the builds that failed, by notice, until queue.c
 * records the outcome: the transport says only "cannot build the
 * message", and the postmaster needs to see why on the notice. Two
 * threads build (the store thread for SMTP, the sending thread for the
 * outbox), so the ring is locked; a reason not taken is overwritten
 * after FAILED_KEEP newer ones.
 */
#define FAILED_KEEP 256
static pthread_mutex_t failed_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int64_t id; /* 0: free */
	char why[240];
} failed[FAILED_KEEP];
static size_t failed_next;

/* build_failed - log why j could not be built (an error: stderr and
 * syslog) and keep the reason for notice_build_failure */
static void
build_failed(const struct job *j, const char *step, const char *err)
{
	char san[200];

	cm_log_sanitize(san, sizeof(san), err != NULL ? err : "failed", 190);
	cm_log_err("notice=%lld case=%s kind=%s status=unbuildable "
		   "reason=\"%s: %s\"",
		   (long long)j->id, j->ref != NULL ? j->ref : "-", j->kind,
		   step, san);
	pthread_mutex_lock(&failed_lock);
	failed[failed_next].id = j->id;
	(void)snprintf(failed[failed_next].why,
		       sizeof(failed[failed_next].why), "%s: %s", step, san);
	failed_next = (failed_next + 1) % FAILED_KEEP;
	pthread_mutex_unlock(&failed_lock);
}

/* notice_build_failure - why notice id could not be built (its latest
 * failure), once */
bool
notice_build_failure(int64_t id, char *why, size_t size)
{
	bool found = false;

	pthread_mutex_lock(&failed_lock);
	for (size_t k = 0; k < FAILED_KEEP && !found; k++) {
		/* newest first */
		size_t i = (failed_next + FAILED_KEEP - 1 - k) % FAILED_KEEP;

		if (failed[i].id != id || id == 0)
			continue;
		(void)snprintf(why, size, "%s", failed[i].why);
		failed[i].id = 0;
		found = true;
	}
	pthread_mutex_unlock(&failed_lock);
	return found;
}

/* notice_build_email - the message of job j */
int
notice_build_email(struct sender *s, const struct job *j, bool crlf,
		   struct cm_composer *z, char **data_r, size_t *len_r,
		   char **from_r)
{
	struct cm_compose c;
	struct vars vs;
	char *subj = NULL, *text = NULL, *html = NULL, *bkey, *bounce;
	char *rkey = NULL, *reply = NULL, *mailto = NULL, *to_name = NULL;
	const char *err = NULL;
	bool victim = j->victim_id != 0;
	int ret = CM_ERR;

	fill_vars(s, j, &vs);
	bkey = cm_addr_bounce_key(s->secret, j->id);
	bounce = cm_addr_make("bounce", bkey, s->cfg->mail_domain);
	if (cm_template_render(s->tpl[tpl_for(j)], vs.v, V_COUNT, &subj,
			       &text, &html, &err) < 0) {
		build_failed(j, "template", err);
		goto out;
	}
	if (victim) {
		rkey = cm_addr_reply_key(s->secret, j->victim_id, j->case_id);
		reply = cm_addr_make("reply", rkey, s->cfg->mail_domain);
		mailto = cm_xasprintf("mailto:%s?subject=unsubscribe", reply);
	} else if (j->about_victim != 0 && j->officer_id != 0 &&
		   strcmp(j->kind, "officer_notify") == 0 && !j->officer_held) {
		/* the officer's answer goes to this one victim alone */
		rkey = cm_addr_officer_key(s->secret, j->officer_id,
					   j->case_id, j->about_victim);
		reply = cm_addr_make("officer", rkey, s->cfg->mail_domain);
	}
	to_name = cm_template_neutralise(j->to_name, CM_TPL_HEADER);
	memset(&c, 0, sizeof(c));
	c.return_path = crlf ? NULL : bounce;
	c.from_name = victim && j->discreet ? s->cfg->discreet_name
					    : s->cfg->force_name;
	c.from_addr = s->cfg->from_address;
	c.to_name = victim && j->discreet ? NULL : to_name;
	c.to_addr = j->to_addr;
	c.reply_to = reply;
	c.subject = subj;
	c.date = cm_now();
	c.message_id = j->msgid;
	c.unsub_mailto = mailto;
	/* one-click unsubscribe (RFC 8058) is for https only: with a
	 * portal_url on http:// (a trial on loopback) the mailto: target
	 * goes alone */
	c.unsub_https = victim && cm_str_has_prefix_ci(s->cfg->portal_url,
						       "https://")
				? vs.v[V_UNSUB].value
				: NULL;
	c.internal = !victim;
	c.text = text;
	c.html = html;
	c.crlf = crlf;
	if ((z != NULL ? cm_composer_build(z, &c, data_r, len_r, &err)
		       : cm_compose_build(&c, data_r, len_r, &err)) < 0) {
		build_failed(j, "compose", err);
		goto out;
	}
	*from_r = bounce;
	bounce = NULL;
	ret = 0;
out:
	free(to_name);
	free(mailto);
	free(reply);
	free(rkey);
	free(html);
	free(text);
	free(subj);
	free(bounce);
	free(bkey);
	vars_free(&vs);
	return ret;
}

/* notice_sms_text - the SMS body of job j */
char *
notice_sms_text(struct sender *s, const struct job *j)
{
	struct vars vs;
	char *subj = NULL, *text = NULL, *html = NULL;
	const char *err = NULL;
	size_t n;

	fill_vars(s, j, &vs);
	if (cm_template_render(s->tpl[tpl_for(j)], vs.v, V_COUNT, &subj,
			       &text, &html, &err) < 0) {
		cm_log_err("notice=%lld template: %s", (long long)j->id, err);
		text = NULL;
	}
	free(subj);
	free(html);
	vars_free(&vs);
	n = text != NULL ? strlen(text) : 0;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	return text;
}
