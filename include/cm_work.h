/*
 * cm_work.h - casework: the state changes that span several tables
 *
 * SYNOPSIS
 *	struct cm_work w = { cfg, secret, store, "cli:root" };
 *	cm_store_begin(st, &err);
 *	cm_work_post(&w, &post, &message_id, &notices, &err);
 *	cm_store_commit(st, &err);
 *
 * DESCRIPTION
 *	Shared by the command line, the mda and the portal, so that an
 *	update posted by mail or by command queues exactly the same
 *	notices. Every function runs inside the caller's open transaction
 *	and writes its audit rows there; the caller commits.
 *
 *	Notices for an update: one per opted-in victim and channel:
 *	email when the channel is email/both, the victim is opted in and
 *	the address is not undeliverable; sms when the channel is sms/both
 *	(or the email is undeliverable) and there is a phone number.
 *
 * DIAGNOSTICS
 *	0, CM_ERR, CM_ETEMP or CM_ENOENT with *error_r as in cm_store.h.
 */
#ifndef CM_WORK_H
#define CM_WORK_H

#include <stdbool.h>
#include <stdint.h>

#include "cm_config.h"
#include "cm_store.h"
#include "cm_token.h"

struct cm_work {
	const struct cm_config *cfg;
	const struct cm_secret *secret;
	struct cm_store *store;
	const char *actor; /* audit actor: "cli:USER", "mda", "web"... */
};

/*
 * struct cm_post - a message entering a thread. Strings borrowed.
 */
struct cm_post {
	int64_t case_id;
	int64_t victim_id;  /* author when a victim wrote; for an
			       officer's message the victim it is
			       addressed to, 0 for every victim */
	int64_t officer_id; /* author when an officer wrote; else 0 */
	const char *author;     /* "victim", "officer", "system" */
	const char *visibility; /* "victim" or "internal" */
	const char *status;     /* "posted" or "held" */
	const char *kind;       /* "message", "auto_reply", "bounce", "event" */
	const char *body;       /* trimmed text */
	const char *body_full;
	const char *quoted;
	const char *subject;
	const char *sender;
	const char *message_id;
	const char *in_reply_to;
	const char *source;
	int64_t raw_id;
	const char *placement;  /* how it was placed (cm_message); may be
				   NULL */
};

/*
 * cm_work_post - add p to the thread and queue what follows from it:
 * an officer's victim-visible posted update queues notices to the victim
 * it is addressed to (or to every victim of the case); a victim's
 * message (posted or held) queues an officer_notify notice to the
 * officer in charge, or makes the one still waiting for that officer
 * about that victim point at it (one pending notification per case,
 * officer and victim, however many messages); a held message in an
 * officer's name (nothing proved its sender) queues an officer_notify
 * to the officer in charge, who approves, rejects or reports it;
 * internal notes, auto-replies, bounces and events queue nothing.
 * *message_id_r (may be NULL) gets the row id, *notices_r (may be NULL)
 * the count of notices queued.
 */
int cm_work_post(struct cm_work *w, const struct cm_post *p,
		 int64_t *message_id_r, int *notices_r,
		 const char **error_r);

/*
 * cm_work_queue_update - queue notices for message_id of case_id to
 * victim_id, or to every victim of the case when victim_id is 0 (used by
 * cm_work_post and by held approve). *n_r gets the count.
 */
int cm_work_queue_update(struct cm_work *w, int64_t case_id,
			 int64_t message_id, int64_t victim_id, int *n_r,
			 const char **error_r);

/*
 * cm_work_queue_notify - the officer_notify for a victim's message
 * message_id (victim_id, on case_id) to the officer in charge: a new
 * notice, or the one still waiting for them about that victim made to
 * point at it. *n_r gets 1 when a notice was queued, 0 when coalesced.
 */
int cm_work_queue_notify(struct cm_work *w, int64_t case_id,
			 int64_t victim_id, int64_t message_id, int *n_r,
			 const char **error_r);

/*
 * cm_work_bounce - a permanent failure for notice_id. It counts only
 * once per notice, only while the notice is "sent" or "sending", and only
 * when failed[0..n_failed) (the recipients the report names as failed;
 * n_failed 0 when it names none) holds the address the notice went to;
 * otherwise nothing changes and *why_r says why. When it counts, the
 * notice fails with reason, the victim's address is scored, and when it
 * reaches cfg->bounce_limit the address becomes undeliverable, the
 * officer in charge gets a bounce_alert notice and, where the victim has
 * a phone, an sms notice replaces the failed email. *why_r (static, may
 * be NULL) gets "address now undeliverable", "notice failed" or the
 * reason it did not count; *undeliverable_r may be NULL.
 */
int cm_work_bounce(struct cm_work *w, int64_t notice_id, const char *reason,
		   const char *const *failed, size_t n_failed,
		   bool *undeliverable_r, const char **why_r,
		   const char **error_r);

#endif
