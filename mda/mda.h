/*
 * mda.h - casemail-mda's internal interfaces
 *
 * DESCRIPTION
 *	deliver.c places one message (parse, route, store) inside the
 *	caller's transaction; guard.c runs deliveries in a child process
 *	and quarantines what crashes it; maildir_in.c ingests a maildir in
 *	batches; main.c parses options and maps the outcome to an exit
 *	status (the only place that knows sysexits). casemail-lmtpd
 *	(lmtpd/) links deliver.c and guard.c too: one delivery path.
 */
#ifndef CM_MDA_H
#define CM_MDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cm_config.h"
#include "cm_store.h"
#include "cm_token.h"
#include "cm_util.h"

/* What came with the message from outside. Strings borrowed. */
struct mda_envelope {
	const char *sender;    /* envelope sender; "" for <>; NULL unknown */
	const char *recipient; /* original recipient; NULL: from headers */
	const char *queue_id;  /* Postfix queue id; may be NULL */
	const char *source;    /* "pipe", "maildir", "imap" */
	const char *origin;    /* for logs: file name, UID; may be NULL */
	/* LMTP: one message reaches several recipients in one session and
	 * may come without a queue id; the Message-ID and hash key then
	 * names the recipient too, so each recipient is stored once */
	bool key_rcpt;
	/* IMAP: recorded as seen in the same transaction as the message */
	const char *imap_mailbox; /* "user@host/MAILBOX"; NULL otherwise */
	int64_t imap_uidvalidity;
	int64_t imap_uid;
};

/* The outcome of one message. */
enum mda_outcome {
	MDA_POSTED = 0, /* in a thread, visible as routed */
	MDA_HELD,       /* in a thread, held for review */
	MDA_QUARANTINED,
	MDA_DUPLICATE,
	MDA_EVENT, /* auto-reply or bounce recorded on the case */
};

struct mda_result {
	enum cm_dstatus status; /* OK, or TEMP (retry) */
	enum mda_outcome outcome;
	char reason[256];  /* for the log and, on TEMP, stderr */
	char case_ref[80]; /* "-" when none */
	int64_t id;        /* message or quarantine row */
};

/* Long-lived state of one mda process. */
struct mda {
	const struct cm_config *cfg;
	const struct cm_secret *secret;
	struct cm_store *store; /* opened lazily in the worker */
	bool verbose;
	long kill_after_us; /* test hook: child SIGKILLs itself */
	const char *kill_marker; /* test hook: the child SIGKILLs itself
				    on a message holding this text */
	char reason[300];   /* batch modes: why the run could not finish */
};

/* mda_open_store - open the store if not open yet; 0 or CM_ETEMP/CM_ERR */
int mda_open_store(struct mda *m, const char **error_r);
/* mda_log_anchor - log "audit anchor count=N head=HEX" for the audit
 * chain as committed, right after a commit on m->store (open, no
 * transaction); a store that cannot be read is a warning */
void mda_log_anchor(struct mda *m);

/*
 * mda_dedupe_key - the duplicate-suppression key for a message:
 * "q:QUEUEID:RECIPIENT" when both are known, else "m:MSGID:SHA256",
 * else "h:SHA256" (with ":RECIPIENT" appended when env->key_rcpt is
 * set and the recipient is known); caller frees.
 */
char *mda_dedupe_key(const struct mda_envelope *env, const char *data,
		     size_t len, const char *sha_hex);

/*
 * mda_deliver - place one message inside the open transaction. Fills
 * *res. Returns 0 (res->status OK: placed, quarantined or duplicate) or
 * CM_ETEMP (the transaction must be rolled back and retried later).
 */
int mda_deliver(struct mda *m, const char *data, size_t len,
		const struct mda_envelope *env, struct mda_result *res);

/*
 * mda_quarantine - keep data whole in quarantine with reason, inside the
 * open transaction (used for crashes and limits). Honours the dedupe key.
 */
int mda_quarantine(struct mda *m, const char *data, size_t len,
		   const struct mda_envelope *env, const char *reason,
		   struct mda_result *res);

/* mda_log_result - one key=value log line for a result */
void mda_log_result(const struct mda_envelope *env,
		    const struct mda_result *res);

/* One job for the guarded worker. */
struct mda_job {
	const char *data;
	size_t len;
	struct mda_envelope env;
	struct mda_result res;
	bool done;      /* processed (committed when committed is set) */
	bool committed; /* its batch is durable */
};

/* A delivery in progress in a child (mda_guard_start/wait). */
struct mda_guard {
	struct mda_job *jobs;
	size_t n;
	size_t batch;
	size_t first; /* jobs before it are committed */
	pid_t pid;    /* the worker, or -1 */
	FILE *fp;     /* its report */
	int deaths_without_start;
	bool failed;
};

/*
 * mda_guard_start - fork a child that delivers jobs[0..n) and return at
 * once (jobs must stay put until mda_guard_wait); mda_guard_wait reads
 * its report, reaps it and carries on exactly as mda_guard_run. Used to
 * fetch the next batch while a child stores this one.
 */
int mda_guard_start(struct mda *m, struct mda_job *jobs, size_t n,
		    size_t batch, struct mda_guard *g);
int mda_guard_wait(struct mda *m, struct mda_guard *g);

/*
 * mda_guard_run - process jobs[0..n) in child processes, batch commits
 * of at most batch jobs. A job that crashes, hangs or exhausts its child
 * is quarantined by the parent. Returns 0 when every job is committed,
 * or CM_ETEMP when the store refused (jobs not committed keep
 * committed == false and res.status TEMP).
 */
int mda_guard_run(struct mda *m, struct mda_job *jobs, size_t n,
		  size_t batch);

/*
 * Pieces of the guard that casemail-lmtpd's resident workers share:
 * mda_guard_limit sets the child's memory limit (and the test hook's
 * timer); mda_guard_death describes how a child ended into buf;
 * mda_guard_rescue quarantines job (committed in its own transaction,
 * m->store closed afterwards) after its child died on it: 0, or
 * CM_ETEMP with job->res.reason set.
 */
void mda_guard_limit(const struct mda *m);
void mda_guard_death(int status, char *buf, size_t size);
int mda_guard_rescue(struct mda *m, struct mda_job *job, const char *why);

/* mda_maildir_ingest - --maildir DIR; fills the counters; 0 or -1 */
struct mda_counts {
	long ingested, duplicates, held, quarantined, events, failed;
};
int mda_maildir_ingest(struct mda *m, const char *dir,
		       struct mda_counts *counts);
/* mda_count - add a committed job's outcome to the counters */
void mda_count(struct mda_counts *c, const struct mda_job *job);

/*
 * mda_imap_run - --imap URL: poll (once) or hold the mailbox open with
 * IDLE until SIGTERM. 0, or -1 when --once could not finish (the rest
 * waits on the server for the next run).
 */
int mda_imap_run(struct mda *m, const char *url, bool once,
		 struct mda_counts *counts);

#endif
