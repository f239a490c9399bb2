/*
 * sender.h - casemail-send: shared state of the program logic
 *
 * SYNOPSIS
 *	#include "sender.h"
 *
 * DESCRIPTION
 *	main.c reads the options and the configuration, opens the secret,
 *	the store and the transports into struct sender and runs the queue
 *	(queue.c): claim a batch of due notices under a lease in one short
 *	transaction (minting each email's login token and recording its
 *	Message-ID there), build and send each outside any transaction
 *	(notice.c builds, transport.c sends), then record every outcome in
 *	one more transaction. Every transition writes an audit row.
 *
 * DIAGNOSTICS
 *	Functions return 0, CM_ETEMP (store trouble: the program exits 75)
 *	or CM_ERR (anything else: exit 1), and log their own failures once.
 */
#ifndef SENDER_H
#define SENDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cm_compose.h"
#include "cm_config.h"
#include "cm_http.h"
#include "cm_smtp.h"
#include "cm_store.h"
#include "cm_template.h"
#include "cm_token.h"

#define SEND_ACTOR "sender"

/* outcomes of one attempt */
enum outcome {
	OUT_NONE = 0,   /* not tried (released when stopping) */
	OUT_SENT,
	OUT_DEFER,      /* temporary: retry with backoff */
	OUT_FAIL,       /* permanent */
	OUT_SUPPRESS,   /* not to be sent at all */
};

/* the templates, loaded and checked at start */
enum tpl_id {
	TPL_UPDATE = 0,
	TPL_UPDATE_DISCREET,
	TPL_FRESH,
	TPL_FRESH_DISCREET,
	TPL_OFFICER,
	TPL_OFFICER_HELD,
	TPL_BOUNCE,
	TPL_MS_WARNING,
	TPL_MS_OVERDUE,
	TPL_MS_DIGEST,
	TPL_SMS,
	TPL_SMS_DISCREET,
	TPL_COUNT,
};

struct sender {
	const struct cm_config *cfg;
	const struct cm_secret *secret;
	struct cm_store *st;
	struct cm_smtp *smtp;    /* NULL: write into outbox_dir */
	struct cm_http *http;    /* NULL: SMS not configured */
	char *sms_why;           /* why http is NULL */
	struct cm_template *tpl[TPL_COUNT];
	struct cm_composer *composer; /* transport_build's: one thread */
	bool dry_run;
	bool once;
	long connections;        /* --connections; 0: smtp_connections */
	int64_t run_start;
	volatile sig_atomic_t *stop;
	/* counters for the closing log line */
	long n_sent, n_deferred, n_failed, n_suppressed, n_released;
};

/*
 * struct job - one claimed notice with everything needed to build and
 * send it, copied out of the store (owned strings).
 */
struct job {
	int64_t id, case_id, victim_id, officer_id, message_id;
	int64_t created_at;
	long attempts;
	char *kind, *channel, *prev_status;
	char *ref;
	/* recipient */
	char *to_name, *to_addr, *phone, *officer_name;
	bool discreet;
	/* the victim, for officer notices */
	char *victim_name, *victim_email, *victim_phone;
	/* the thread message */
	char *text;
	bool held;
	bool officer_held; /* held mail in an officer's name */
	int64_t about_victim; /* its victim: the officer answers them */
	char *sender, *placement, *subject;
	/* made at claim time */
	char *token; /* wiped on free */
	int64_t expires_at;
	char *msgid;
	char *why; /* suppression reason */
	/* an SMTP email built ahead (transport_build): wiped on free */
	char *data, *from;
	size_t len;
	/* the attempt */
	enum outcome outcome;
	char *detail; /* server reply or error */
	char *provider_id;
};

/* queue.c */
int queue_run(struct sender *s);
void job_free(struct job *j);

/* notice.c */
int notice_load_templates(struct sender *s);
void notice_free_templates(struct sender *s);
/*
 * notice_build_email - the message for j into *data_r and *len_r (caller
 * frees), envelope sender into *from_r (caller frees). crlf for SMTP;
 * built with composer z (one thread at a time) when not NULL.
 * 0 or CM_ERR (logged; the notice fails).
 */
int notice_build_email(struct sender *s, const struct job *j, bool crlf,
		       struct cm_composer *z, char **data_r, size_t *len_r,
		       char **from_r);
/* notice_sms_text - the SMS body for j (caller frees), or NULL */
char *notice_sms_text(struct sender *s, const struct job *j);
/*
 * notice_build_failure - the reason the latest build of notice id failed
 * ("compose: ..." or "template: ..."), copied into why[size] and
 * forgotten; false when none is kept. Safe from any thread.
 */
bool notice_build_failure(int64_t id, char *why, size_t size);
/* notice_link - portal_url/l/TOKEN (caller frees) */
char *notice_link(const struct sender *s, const char *token);

/* transport.c */
/* transport_send - one attempt at j: sets j->outcome and j->detail */
void transport_send(struct sender *s, struct job *j);
/*
 * transport_send_all - one attempt at each job of v[0..n) that is not
 * suppressed, SMTP email over all the connections at once; on a stop
 * request the messages in flight finish and the rest keep OUT_NONE
 */
void transport_send_all(struct sender *s, struct job *v, size_t n);
/* transport_build - build the SMTP email of each of v[0..n) that is to
 * be sent (no store access; with s->composer, so one thread at a time);
 * a message that cannot be built fails its job */
void transport_build(struct sender *s, struct job *v, size_t n);
/* transport_thread_setup - name a helper thread; leave SIGTERM and
 * SIGINT to the sending thread */
void transport_thread_setup(const char *name);
/* transport_dry_run - print what j would send on stdout */
void transport_dry_run(struct sender *s, struct job *j);

#endif
