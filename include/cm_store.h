/*
 * cm_store.h - the SQLite store: cases, victims, officers, the thread,
 * raw messages, attachments, the notice queue, tokens, quarantine and
 * the hash-chained audit log
 *
 * SYNOPSIS
 *	struct cm_store *st;
 *	if (cm_store_open(cfg->database, secret, cfg->busy_timeout,
 *			  CM_STORE_CREATE, &st, &error) < 0) ...
 *	cm_store_begin(st, &error);
 *	cm_store_case_add(st, ...);
 *	cm_store_audit(st, actor, "case.add", ref, detail, &error);
 *	cm_store_commit(st, &error);
 *
 * DESCRIPTION
 *	The only module that includes sqlite3.h (R1). One database file in
 *	WAL mode, synchronous=FULL, foreign keys on, a busy timeout,
 *	journal_size_limit bounded. The schema is versioned by
 *	PRAGMA user_version and migrated forward, one step per version,
 *	inside one transaction, when the file is opened. Every statement is
 *	prepared with bound parameters (R17). Writes happen between
 *	cm_store_begin (BEGIN IMMEDIATE) and cm_store_commit; the write
 *	functions below assert that a transaction is open.
 *
 *	List functions (*_list, cm_store_thread, cm_store_stats) read all
 *	matching rows first and then call fn once per row, in order; fn
 *	returns 0 to go on or -1 to stop (the list call still returns 0).
 *	fn must not call back into the store: copy what it needs and act
 *	after the list call returns. The object passed to fn is borrowed
 *	for that call only.
 *
 *	Strings in structs with const char * members (cm_message,
 *	cm_notice, cm_token_row, cm_quarantine, cm_attachment_row) filled
 *	by a get/find are owned by the store and valid until the next
 *	cm_store_* call on the same store. cm_officer, cm_case and
 *	cm_victim filled by a get own their strings (cm_*_clear frees).
 *
 *	Message-IDs given to cm_store_notice_set_msgid are stored without
 *	angle brackets.
 *
 *	The audit log is append-only: every row carries
 *	hash = keyed_hash(prev_hash | id | at | actor | action | case_ref |
 *	detail) under the audit subkey, and the store keeps the count and
 *	the head hash in a meta row under the same key, so that editing,
 *	inserting, deleting or truncating rows shows in cm_store_audit_verify.
 *
 * DIAGNOSTICS
 *	Every action returns 0, CM_ERR (permanent, e.g. constraint,
 *	corrupt file), CM_ETEMP (SQLITE_BUSY/LOCKED past the timeout, FULL,
 *	IOERR, CANTOPEN of a directory that may appear, NOMEM) or CM_ENOENT
 *	(lookups), with *error_r set (borrowed until the next call on the
 *	same store) for CM_ERR and CM_ETEMP. A unique-constraint violation
 *	on add gives CM_ERR with an error naming what already exists.
 *
 * SECURITY
 *	Token and session values are never stored, only their keyed
 *	hashes. Text is stored as given; callers pass valid UTF-8.
 */
#ifndef CM_STORE_H
#define CM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cm_token.h"
#include "cm_util.h"

#define CM_STORE_CREATE 0x01   /* create the file if missing */
#define CM_STORE_READONLY 0x02 /* open read-only (no migration) */
#define CM_STORE_RESIDENT 0x04 /* a long-running program: a page cache
				* of 16 MiB instead of SQLite's 2 MiB */

/* The schema version this build writes (PRAGMA user_version). */
#define CM_STORE_VERSION 5

struct cm_store;

/*
 * cm_store_open - open (and with CM_STORE_CREATE create) the database,
 * set the pragmas and migrate the schema forward. secret is borrowed for
 * the life of the store (needed for audit rows; may be NULL only with
 * CM_STORE_READONLY). On success *store_r is set (caller frees with
 * cm_store_close). A file newer than CM_STORE_VERSION is refused
 * (CM_ERR).
 */
int cm_store_open(const char *path, const struct cm_secret *secret,
		  long busy_timeout_ms, int flags, struct cm_store **store_r,
		  const char **error_r);
/* cm_store_close - finalize statements, close; sets *st to NULL */
void cm_store_close(struct cm_store **st);
/* cm_store_version - PRAGMA user_version of the open file */
int cm_store_version(struct cm_store *st);

/* cm_store_begin - BEGIN IMMEDIATE; CM_ETEMP if locked past timeout */
int cm_store_begin(struct cm_store *st, const char **error_r);
/* cm_store_commit - COMMIT; on failure the transaction is rolled back */
int cm_store_commit(struct cm_store *st, const char **error_r);
/* cm_store_rollback - ROLLBACK if a transaction is open; never fails */
void cm_store_rollback(struct cm_store *st);
/* cm_store_in_txn - true inside begin..commit */
bool cm_store_in_txn(struct cm_store *st);

/* ---- audit ---- */

/*
 * cm_store_audit - append one audit row in the open transaction.
 * actor: "cli:USER", "mda", "sender", "officer:EMAIL"...; action: dotted
 * verb ("case.add"); case_ref and detail may be NULL. detail is a short
 * key=value text, never a message body.
 */
int cm_store_audit(struct cm_store *st, const char *actor,
		   const char *action, const char *case_ref,
		   const char *detail, const char **error_r);
/*
 * cm_store_audit_verify - walk the chain. 0 if intact (*rows_r rows), or
 * CM_ERR with *bad_id_r the first row that does not verify (0 when the
 * fault is a missing tail) and *error_r saying what is wrong.
 */
int cm_store_audit_verify(struct cm_store *st, int64_t *rows_r,
			  int64_t *bad_id_r, const char **error_r);

struct cm_audit {
	int64_t id;
	int64_t at;
	char *actor;
	char *action;
	char *case_ref; /* may be NULL */
	char *detail;   /* may be NULL */
};
/* cm_store_audit_list - rows newest first, at most limit (0: all),
 * filtered by case_ref when not NULL; fn returns 0 to go on, -1 to stop */
int cm_store_audit_list(struct cm_store *st, const char *case_ref,
			long limit,
			int (*fn)(const struct cm_audit *a, void *ctx),
			void *ctx, const char **error_r);

/* ---- officers ---- */

struct cm_officer {
	int64_t id;
	char *email; /* stored lower case */
	char *name;
	char *collar; /* may be NULL */
	bool active;
	int64_t created_at;
};
/* cm_officer_clear - free the strings of o and zero it */
void cm_officer_clear(struct cm_officer *o);

/* cm_store_officer_add - email stored lower case; CM_ERR "officer
 * EMAIL already exists" on a duplicate */
int cm_store_officer_add(struct cm_store *st, const char *email,
			 const char *name, const char *collar,
			 int64_t *id_r, const char **error_r);
/* cm_store_officer_get - by email (case-blind) into *o_r (caller
 * clears with cm_officer_clear); CM_ENOENT if none */
int cm_store_officer_get(struct cm_store *st, const char *email,
			 struct cm_officer *o_r, const char **error_r);
int cm_store_officer_get_id(struct cm_store *st, int64_t id,
			    struct cm_officer *o_r, const char **error_r);
/* cm_store_officer_set_active - enable or disable; CM_ENOENT if none */
int cm_store_officer_set_active(struct cm_store *st, const char *email,
				bool active, const char **error_r);
/* fn's object is borrowed for the call; fn returns 0 or -1 to stop */
int cm_store_officer_list(struct cm_store *st,
			  int (*fn)(const struct cm_officer *o, void *ctx),
			  void *ctx, const char **error_r);

/* ---- cases ---- */

struct cm_case {
	int64_t id;
	char *ref; /* canonical, upper case */
	char *title; /* may be NULL */
	int64_t oic_id; /* officer in charge */
	char *status;   /* "open" or "closed" */
	int64_t created_at;
	int64_t closed_at; /* 0 while open */
};
void cm_case_clear(struct cm_case *c);

/* cm_store_case_add - ref is stored upper-cased; oic_id 0 for none;
 * CM_ERR "case REF already exists" on a duplicate */
int cm_store_case_add(struct cm_store *st, const char *ref,
		      const char *title, int64_t oic_id, int64_t *id_r,
		      const char **error_r);
/* cm_store_case_get - by canonical ref; CM_ENOENT if none */
int cm_store_case_get(struct cm_store *st, const char *ref,
		      struct cm_case *c_r, const char **error_r);
int cm_store_case_get_id(struct cm_store *st, int64_t id,
			 struct cm_case *c_r, const char **error_r);
/* cm_store_case_set_status - "open"/"closed" (sets closed_at) */
int cm_store_case_set_status(struct cm_store *st, int64_t case_id,
			     const char *status, const char **error_r);
int cm_store_case_list(struct cm_store *st,
		       int (*fn)(const struct cm_case *c, void *ctx),
		       void *ctx, const char **error_r);

/* ---- victims ---- */

struct cm_victim {
	int64_t id;
	int64_t case_id;
	char *name;
	char *email; /* lower case, may be NULL */
	char *phone; /* may be NULL */
	char *channel; /* "email", "sms", "both", "none" */
	bool opted_in; /* to email; automatic when an email is given */
	bool registered; /* has registered on the portal */
	char *email_status; /* "ok" or "undeliverable" */
	long bounce_score; /* hard bounces counted */
	bool discreet;
	int64_t created_at;
};
void cm_victim_clear(struct cm_victim *v);

/* cm_store_victim_add - email (lower-cased) and phone may be NULL;
 * channel NULL picks "email", else "sms" with a phone, else "none" */
int cm_store_victim_add(struct cm_store *st, int64_t case_id,
			const char *name, const char *email,
			const char *phone, const char *channel,
			bool opted_in, int64_t *id_r, const char **error_r);
int cm_store_victim_get(struct cm_store *st, int64_t id,
			struct cm_victim *v_r, const char **error_r);
/* cm_store_victim_list - victims of a case, by id */
int cm_store_victim_list(struct cm_store *st, int64_t case_id,
			 int (*fn)(const struct cm_victim *v, void *ctx),
			 void *ctx, const char **error_r);
/* cm_store_victim_find_email - a victim of case_id with this email
 * (case-blind); CM_ENOENT if none */
int cm_store_victim_find_email(struct cm_store *st, int64_t case_id,
			       const char *email, struct cm_victim *v_r,
			       const char **error_r);
/*
 * cm_store_victim_bounce - count a hard bounce on the victim's address;
 * when the score reaches limit, email_status becomes "undeliverable".
 * *undeliverable_r (may be NULL) tells whether this call made it so.
 */
int cm_store_victim_bounce(struct cm_store *st, int64_t victim_id,
			   long limit, bool *undeliverable_r,
			   const char **error_r);
/* cm_store_victim_update - write name, email, phone, channel, opted_in,
 * registered, email_status, bounce_score, discreet back from *v */
int cm_store_victim_update(struct cm_store *st, const struct cm_victim *v,
			   const char **error_r);

/* ---- raw messages ---- */

/*
 * cm_store_raw_put - keep the raw bytes (deduplicated by SHA-256);
 * *raw_id_r is the row, new or existing; sha_hex_r (may be NULL, 65
 * bytes) gets the hex digest.
 */
int cm_store_raw_put(struct cm_store *st, const void *data, size_t len,
		     int64_t *raw_id_r, char *sha_hex_r,
		     const char **error_r);
/*
 * cm_store_raw_put_sha - the same, with the SHA-256 (64 lower-case hex
 * digits) the caller computed already: hashing a large message twice is
 * the costliest part of a batch ingest.
 */
int cm_store_raw_put_sha(struct cm_store *st, const void *data, size_t len,
			 const char *sha_hex, int64_t *raw_id_r,
			 const char **error_r);
/* cm_store_raw_get - the bytes (caller frees with free()) */
int cm_store_raw_get(struct cm_store *st, int64_t raw_id, char **data_r,
		     size_t *len_r, const char **error_r);

/* ---- the thread ---- */

struct cm_message {
	int64_t id;
	int64_t case_id;
	int64_t at; /* received or posted */
	const char *author;     /* "victim", "officer", "system" */
	int64_t victim_id;      /* a victim's message: its author; an
				   officer's: the victim it is addressed
				   to; 0 if none (an officer's: to every
				   victim of the case) */
	int64_t officer_id;     /* 0 if none */
	const char *visibility; /* "victim" or "internal" */
	const char *status;     /* "posted", "held", "rejected" */
	const char *kind; /* "message", "auto_reply", "bounce", "event" */
	const char *body;       /* trimmed text shown */
	const char *body_full;  /* full text */
	const char *quoted;     /* what trimming removed; may be NULL */
	const char *subject;    /* may be NULL */
	const char *sender;     /* envelope or From address; may be NULL */
	const char *message_id; /* may be NULL */
	const char *in_reply_to; /* may be NULL */
	const char *source; /* "cli", "pipe", "maildir", "imap", "web",
			       "quarantine" */
	int64_t raw_id; /* 0 if none */
	const char *placement; /* how it found its case: "reply_key",
				  "officer_key", "case_address", "thread",
				  "subject_tag", "released", "portal",
				  "cli"; NULL for messages stored before
				  placements were recorded */
};

/* cm_store_message_add - append to the thread; fields of m borrowed */
int cm_store_message_add(struct cm_store *st, const struct cm_message *m,
			 int64_t *id_r, const char **error_r);
/*
 * cm_store_message_get - one message; the strings in *m_r are owned by
 * the store and valid until the next cm_store_* call.
 */
int cm_store_message_get(struct cm_store *st, int64_t id,
			 struct cm_message *m_r, const char **error_r);
/* cm_store_message_set_status - for held approve/reject */
int cm_store_message_set_status(struct cm_store *st, int64_t id,
				const char *status, const char **error_r);
/* cm_store_thread - messages of a case oldest first (by at, then id);
 * fn's message is borrowed for the call */
int cm_store_thread(struct cm_store *st, int64_t case_id,
		    int (*fn)(const struct cm_message *m, void *ctx),
		    void *ctx, const char **error_r);
/* cm_store_held_list - messages with status "held", oldest first */
int cm_store_held_list(struct cm_store *st,
		       int (*fn)(const struct cm_message *m, void *ctx),
		       void *ctx, const char **error_r);

struct cm_attachment_row {
	int64_t message_id;
	const char *filename;     /* sanitised */
	const char *content_type;
	int64_t size;
	const char *sha256; /* hex */
};
int cm_store_attachment_add(struct cm_store *st,
			    const struct cm_attachment_row *a,
			    const char **error_r);
int cm_store_attachment_list(struct cm_store *st, int64_t message_id,
			     int (*fn)(const struct cm_attachment_row *a,
				       void *ctx),
			     void *ctx, const char **error_r);

/* ---- deliveries (duplicate suppression) ---- */

/*
 * cm_store_delivery_find - has a delivery with this key been recorded?
 * 0 with *what_r ("message"/"quarantine"/"event") and *ref_id_r, or
 * CM_ENOENT. *what_r is borrowed until the next call.
 */
int cm_store_delivery_find(struct cm_store *st, const char *key,
			   const char **what_r, int64_t *ref_id_r,
			   const char **error_r);
/* cm_store_delivery_add - record key (unique) in the open transaction */
int cm_store_delivery_add(struct cm_store *st, const char *key,
			  const char *what, int64_t ref_id,
			  const char **error_r);

/* ---- notices (the outbound queue) ---- */

struct cm_notice {
	int64_t id;
	int64_t case_id;
	int64_t victim_id;  /* 0 if to an officer */
	int64_t officer_id; /* 0 if to a victim */
	int64_t message_id; /* the thread message it is about; 0 if none */
	const char *kind;    /* "update", "officer_notify", "bounce_alert",
				"fresh_link" */
	const char *channel; /* "email" or "sms" */
	const char *status;  /* "queued", "sending", "sent", "deferred",
				"failed", "suppressed" */
	long attempts;
	int64_t next_attempt_at;
	int64_t lease_until;
	const char *last_error;      /* may be NULL */
	const char *sent_message_id; /* our Message-ID once built */
	const char *provider_id;     /* SMS gateway id; may be NULL */
	int64_t created_at;
	int64_t updated_at;
};

/* cm_store_notice_add - queue a notice (status "queued", due now);
 * only case_id, victim_id, officer_id, message_id, kind, channel used */
int cm_store_notice_add(struct cm_store *st, const struct cm_notice *n,
			int64_t *id_r, const char **error_r);
/*
 * cm_store_notice_coalesce - when an officer_notify notice to officer_id
 * about a message of victim_id (0: none) on case_id is still queued or
 * deferred, point it at message_id instead of queuing another: 0, or
 * CM_ENOENT when none is waiting (queue one).
 */
int cm_store_notice_coalesce(struct cm_store *st, int64_t case_id,
			     int64_t officer_id, int64_t victim_id,
			     int64_t message_id, const char **error_r);
/* cm_store_notice_get - strings valid until the next cm_store_* call */
int cm_store_notice_get(struct cm_store *st, int64_t id,
			struct cm_notice *n_r, const char **error_r);
/* cm_store_notice_list - by id; status NULL for all */
int cm_store_notice_list(struct cm_store *st, const char *status,
			 int (*fn)(const struct cm_notice *n, void *ctx),
			 void *ctx, const char **error_r);
/* cm_store_notice_set_status - set status and last_error (may be NULL) */
int cm_store_notice_set_status(struct cm_store *st, int64_t id,
			       const char *status, const char *last_error,
			       const char **error_r);
/* cm_store_notice_set_msgid - record the Message-ID we sent it with */
int cm_store_notice_set_msgid(struct cm_store *st, int64_t id,
			      const char *message_id, const char **error_r);
/*
 * cm_store_notice_find_msgid - the notice sent with this Message-ID
 * (angle brackets optional); CM_ENOENT if none.
 */
int cm_store_notice_find_msgid(struct cm_store *st, const char *message_id,
			       struct cm_notice *n_r, const char **error_r);

/* ---- tokens (hashes only) ---- */

struct cm_token_row {
	int64_t id;
	const char *kind; /* "login" or "session" */
	int64_t notice_id; /* 0 if none */
	int64_t victim_id;
	int64_t case_id;
	int64_t created_at;
	int64_t expires_at;
	int64_t used_at; /* 0 while unused */
};
/* cm_store_token_add - hash is CM_HASH_LEN bytes */
int cm_store_token_add(struct cm_store *st, const unsigned char *hash,
		       const struct cm_token_row *t, int64_t *id_r,
		       const char **error_r);
/* cm_store_token_find - by hash; CM_ENOENT if none */
int cm_store_token_find(struct cm_store *st, const unsigned char *hash,
			struct cm_token_row *t_r, const char **error_r);
/* cm_store_token_use - set used_at = now only if still unused: 0, or
 * CM_ENOENT if it was already used (single use, race-free) */
int cm_store_token_use(struct cm_store *st, int64_t id, int64_t now,
		       const char **error_r);

/* ---- quarantine ---- */

struct cm_quarantine {
	int64_t id;
	int64_t at;
	const char *reason;
	const char *sender;    /* may be NULL */
	const char *recipient; /* may be NULL */
	const char *queue_id;  /* may be NULL */
	const char *message_id; /* may be NULL */
	const char *subject;   /* may be NULL */
	const char *status; /* "held", "released", "deleted" */
	int64_t case_id; /* set when released */
	const char *released_as; /* "victim", "officer", "note" */
	int64_t raw_id;
	int64_t size;
};
/* cm_store_quarantine_add - only reason, sender, recipient, queue_id,
 * message_id, subject, raw_id used */
int cm_store_quarantine_add(struct cm_store *st,
			    const struct cm_quarantine *q, int64_t *id_r,
			    const char **error_r);
int cm_store_quarantine_get(struct cm_store *st, int64_t id,
			    struct cm_quarantine *q_r, const char **error_r);
/* cm_store_quarantine_list - status NULL for all; by id */
int cm_store_quarantine_list(struct cm_store *st, const char *status,
			     int (*fn)(const struct cm_quarantine *q,
				       void *ctx),
			     void *ctx, const char **error_r);
/* cm_store_quarantine_set - status and, when released, case and role */
int cm_store_quarantine_set(struct cm_store *st, int64_t id,
			    const char *status, int64_t case_id,
			    const char *released_as, const char **error_r);

/* ---- statistics ---- */

/* cm_store_stats - fn(name, value) for: cases, cases_open, officers,
 * victims, messages, messages_held, notices_<status> for every status,
 * quarantine_held, raw_bytes, audit_rows */
int cm_store_stats(struct cm_store *st,
		   int (*fn)(const char *name, int64_t value, void *ctx),
		   void *ctx, const char **error_r);

/* ---- additions: the sender's claim on the queue ---- */

/*
 * cm_store_notice_claim_many - claim up to max due notices in one
 * statement: status "queued" or "deferred" with next_attempt_at <= now,
 * or "sending" whose lease has run out (a sender that died). Each becomes
 * "sending" with lease_until = now + lease_seconds and attempts + 1. fn
 * sees each (strings valid during the call; it may use the store),
 * oldest due first, and stops the walk by returning non-zero, which is
 * returned (the caller rolls back). 0 also when nothing was due. Write:
 * needs a transaction.
 */
int cm_store_notice_claim_many(struct cm_store *st, int64_t now,
			       long lease_seconds, long max,
			       int (*fn)(const struct cm_notice *n,
					 void *ctx),
			       void *ctx, const char **error_r);
/* cm_store_notice_defer - status "deferred", due again at
 * next_attempt_at, last_error recorded (may be NULL); CM_ENOENT if none */
int cm_store_notice_defer(struct cm_store *st, int64_t id,
			  int64_t next_attempt_at, const char *last_error,
			  const char **error_r);
/* cm_store_notice_set_provider - record the SMS gateway's id */
int cm_store_notice_set_provider(struct cm_store *st, int64_t id,
				 const char *provider_id,
				 const char **error_r);

/* ---- additions: what the IMAP poller has seen (schema version 2) ---- */

/*
 * cm_store_imap_seen_find - was (mailbox, uidvalidity, uid) stored?
 * 0 with *what_r (borrowed until the next call) and *ref_id_r (either
 * may be NULL), or CM_ENOENT.
 */
int cm_store_imap_seen_find(struct cm_store *st, const char *mailbox,
			    int64_t uidvalidity, int64_t uid,
			    const char **what_r, int64_t *ref_id_r,
			    const char **error_r);
/* cm_store_imap_seen_add - record it in the open transaction (the same
 * one as the message); what is "message", "quarantine" or "event";
 * CM_ERR if already recorded */
int cm_store_imap_seen_add(struct cm_store *st, const char *mailbox,
			   int64_t uidvalidity, int64_t uid, const char *what,
			   int64_t ref_id, const char **error_r);
/* cm_store_imap_last_uid - highest uid seen in mailbox under uidvalidity
 * into *uid_r (0 when none) */
int cm_store_imap_last_uid(struct cm_store *st, const char *mailbox,
			   int64_t uidvalidity, int64_t *uid_r,
			   const char **error_r);

/* ---- additions: portal sessions (schema version 3) ---- */

/*
 * struct cm_session - a signed-in victim on the portal. Only the keyed
 * hash of the session cookie is stored (cm_token_mint/cm_token_hash).
 */
struct cm_session {
	int64_t id;
	int64_t victim_id;
	int64_t case_id;
	int64_t token_id;   /* the login token redeemed for it; 0 if none */
	int64_t created_at;
	int64_t seen_at;    /* last activity (idle timeout) */
	int64_t expires_at; /* absolute end */
	int64_t ended_at;   /* logged out at; 0 while live */
};
/* cm_store_session_add - store a session under hash (CM_HASH_LEN
 * bytes); seen_at starts at created_at (0: now). Write. */
int cm_store_session_add(struct cm_store *st, const unsigned char *hash,
			 const struct cm_session *s, int64_t *id_r,
			 const char **error_r);
/* cm_store_session_find - by hash into *s_r; CM_ENOENT if none. The
 * caller decides about expiry. */
int cm_store_session_find(struct cm_store *st, const unsigned char *hash,
			  struct cm_session *s_r, const char **error_r);
/* cm_store_session_touch - seen_at = now on a live session; CM_ENOENT
 * if none or ended. Write. */
int cm_store_session_touch(struct cm_store *st, int64_t id, int64_t now,
			   const char **error_r);
/* cm_store_session_end - ended_at = now on a live session; CM_ENOENT if
 * none or ended already. Write. */
int cm_store_session_end(struct cm_store *st, int64_t id, int64_t now,
			 const char **error_r);

/*
 * cm_store_data_version - PRAGMA data_version into *v_r: it changes when
 * another connection commits (not on this connection's own commits), so
 * a cache of rendered data stays valid while it and the caller's own
 * write count are unchanged.
 */
int cm_store_data_version(struct cm_store *st, int64_t *v_r,
			  const char **error_r);

/* The unit tests' own functions (opening a file at an older schema
 * version, raw SQL on the connection) are not in the library: they are
 * in tests/unit/store_test.h, built into the unit tests only. */

/*
 * struct cm_victim_prefs - what the portal's forms change on a victim:
 * name and channel NULL, opted_in, discreet and registered -1 leave the
 * column as it is (strings borrowed)
 */
struct cm_victim_prefs {
	const char *name;
	const char *channel; /* "email", "sms", "both" */
	int opted_in;        /* 0, 1 or -1 */
	int discreet;        /* 0, 1 or -1 */
	int registered;      /* 0, 1 or -1 */
};
/*
 * cm_store_victim_set_prefs - in the open transaction, write only the
 * columns of p that are set, leaving email_status, bounce_score and the
 * rest as other writers left them: 0, CM_ENOENT (no such victim) or a
 * store error with *error_r
 */
int cm_store_victim_set_prefs(struct cm_store *st, int64_t victim_id,
			      const struct cm_victim_prefs *p,
			      const char **error_r);

/*
 * cm_store_audit_anchor - the audit chain as last committed: its row
 * count and the hash of its last row (all zero for an empty chain), to
 * be kept outside the database (a program logs it after each commit
 * that wrote audit rows) so that a rollback to an older copy of the
 * database, consistent in itself, can be told. 0, or CM_ERR/CM_ETEMP
 * with *error_r.
 */
int cm_store_audit_anchor(struct cm_store *st, int64_t *count_r,
			  unsigned char head_r[CM_HASH_LEN],
			  const char **error_r);
/*
 * cm_store_audit_check_anchor - 0 when the chain's row number count (1
 * is the first; 0 the empty start) has the hash head, as an anchor
 * taken earlier says; CM_ERR with *error_r when the log has fewer rows
 * (rolled back or cut) or another hash there (rolled back and written
 * again); CM_ETEMP on store trouble. It compares the stored hashes
 * only: run cm_store_audit_verify as well.
 */
int cm_store_audit_check_anchor(struct cm_store *st, int64_t count,
				const unsigned char head[CM_HASH_LEN],
				const char **error_r);

/* ---- additions: milestones of the Victims' Code (schema version 5) ---- */

/*
 * struct cm_milestone - an event on a case that a victim must be told of
 * by a deadline. Strings are owned by the store, valid until the next
 * cm_store_* call (in a list: for the callback only).
 */
struct cm_milestone {
	int64_t id;
	int64_t case_id;
	const char *case_ref;
	int64_t oic_id;     /* the case's officer in charge; 0 if none */
	int64_t victim_id;  /* 0: every victim of the case */
	const char *kind;
	int64_t at;         /* when it happened */
	int64_t officer_id; /* who recorded it; 0 if none */
	bool enhanced;      /* the deadline is the enhanced-rights one */
	int64_t deadline;   /* the victim is told by then */
	int64_t met_at;     /* when the update was sent; 0 if not yet */
	int64_t met_message_id; /* that update; 0 if none */
	const char *status; /* "pending", "met", "late", "overdue" */
	int64_t warned_at;  /* officer warned before the deadline; 0: no */
	int64_t alerted_at; /* officer told it is overdue; 0: no */
	int64_t created_at;
};

/* cm_store_milestone_add - record m (case_id, victim_id, kind, at,
 * officer_id, enhanced, deadline used; status "pending"). Write. */
int cm_store_milestone_add(struct cm_store *st, const struct cm_milestone *m,
			   int64_t *id_r, const char **error_r);
/*
 * cm_store_milestone_list - milestones of case_id (0: every case) by
 * case, time and id; with open_only those pending or overdue only. fn's
 * object is borrowed for the call; fn returns 0 or -1 to stop.
 */
int cm_store_milestone_list(struct cm_store *st, int64_t case_id,
			    bool open_only,
			    int (*fn)(const struct cm_milestone *m,
				      void *ctx),
			    void *ctx, const char **error_r);
/*
 * cm_store_milestone_refresh - for every milestone not yet met, find
 * the first update that meets it: an officer's posted, victim-visible
 * message on the case, written at or after the milestone, addressed to
 * its victim (or to all) and whose update notice to that victim was
 * sent (for a milestone of every victim: a message to all with a notice
 * sent to any of them); met_at is when that notice was marked sent. Its
 * status becomes "met" (by the deadline) or "late", and those still
 * unmet become "overdue" once now is past the deadline. *changed_r (may
 * be NULL) gets the rows changed. Write.
 */
int cm_store_milestone_refresh(struct cm_store *st, int64_t now,
			       int64_t *changed_r, const char **error_r);
/* cm_store_milestone_mark - set warned_at (alerted false) or alerted_at
 * (alerted true) to at; CM_ENOENT if none. Write. */
int cm_store_milestone_mark(struct cm_store *st, int64_t id, bool alerted,
			    int64_t at, const char **error_r);
/*
 * cm_store_milestone_enhanced - does victim_id (0: any victim of
 * case_id) have enhanced rights, into *enhanced_r
 */
int cm_store_milestone_enhanced(struct cm_store *st, int64_t case_id,
				int64_t victim_id, bool *enhanced_r,
				const char **error_r);
/* cm_store_victim_set_enhanced - the victim's enhanced-rights flag;
 * CM_ENOENT if no such victim. Write. */
int cm_store_victim_set_enhanced(struct cm_store *st, int64_t victim_id,
				 bool enhanced, const char **error_r);
/* cm_store_notice_add_digest - queue a milestone_digest notice, which
 * belongs to no case, victim or officer (its address is configured) */
int cm_store_notice_add_digest(struct cm_store *st, int64_t *id_r,
			       const char **error_r);
/* cm_store_notice_digest_since - the newest milestone_digest notice
 * created at or after since into *found_r */
int cm_store_notice_digest_since(struct cm_store *st, int64_t since,
				 bool *found_r, const char **error_r);

/* ---- additions: the compliance report ---- */

/*
 * cm_store_milestone_report - milestones whose deadline lies in [lo, hi]
 * by deadline and id, met_at being when the update that meets each was
 * sent as the notices stand now (0: none yet), whatever the stored
 * status says (read only: no refresh needed). fn's object is borrowed
 * for the call; fn returns 0, or -1 to stop.
 */
int cm_store_milestone_report(struct cm_store *st, int64_t lo, int64_t hi,
			      int (*fn)(const struct cm_milestone *m,
					void *ctx),
			      void *ctx, const char **error_r);

/* ---- additions: casemail doctor and the metrics ---- */

/*
 * cm_store_quick_check - SQLite's PRAGMA quick_check over the file: 0
 * when it answers "ok", CM_ERR with *error_r the first fault it names
 * (or CM_ETEMP when the file could not be read). Read only.
 */
int cm_store_quick_check(struct cm_store *st, const char **error_r);

/*
 * cm_store_metrics - the counts the metrics are made of, read in one
 * read transaction (or the caller's): fn(key, a, b, value, ctx) once
 * per row, a and b the row's labels or NULL (borrowed for the call):
 *   notices                 a status, b channel
 *   notice_oldest_due_age   seconds since the oldest queued or deferred
 *                           notice fell due at now (0: none is due)
 *   deliveries              a what (message, quarantine, event)
 *   messages                a status (posted, held, rejected), b author
 *   quarantine              a status (held, released, deleted)
 *   bounces                 bounce messages recorded
 *   addresses_undeliverable victims' addresses given up after bounces
 *   login_links_issued, login_links_redeemed
 *   milestones_overdue      pending past the deadline at now (only
 *                           when the file has milestones)
 * A key with no rows is not called. fn returns 0, or non-zero to stop
 * (the call then returns CM_ERR). 0 or a store error.
 */
int cm_store_metrics(struct cm_store *st, int64_t now,
		     int (*fn)(const char *key, const char *a, const char *b,
			       int64_t value, void *ctx),
		     void *ctx, const char **error_r);

/* ---- additions: the update rhythm agreed with the victim ---- */

/* cm_store_victim_set_rhythm - "weekly", "fortnightly", "monthly" or
 * "milestones" (only when a milestone falls); CM_ENOENT if no such
 * victim. Write. */
int cm_store_victim_set_rhythm(struct cm_store *st, int64_t victim_id,
			       const char *rhythm, const char **error_r);
/* cm_store_victim_rhythm - the victim's rhythm into buf (size bytes);
 * CM_ENOENT if no such victim */
int cm_store_victim_rhythm(struct cm_store *st, int64_t victim_id,
			   char *buf, size_t size, const char **error_r);

/*
 * struct cm_rhythm_row - a victim who agreed a rhythm other than
 * "milestones". Strings owned by the store, for the callback only.
 */
struct cm_rhythm_row {
	int64_t victim_id;
	int64_t case_id;
	const char *case_ref;
	int64_t oic_id;
	bool case_open;
	const char *rhythm;
	int64_t since;         /* the victim was added */
	int64_t last_sent;     /* the last update sent to them; 0: none */
	int64_t last_reminder; /* the last "Update rhythm:" event; 0 */
};
/* cm_store_rhythm_list - every such victim by id; fn returns 0, or -1
 * to stop */
int cm_store_rhythm_list(struct cm_store *st,
			 int (*fn)(const struct cm_rhythm_row *r, void *ctx),
			 void *ctx, const char **error_r);
/* cm_store_rhythm_sent - the times (oldest first) in [lo, hi] at which
 * an update addressed to victim_id (or to all) was sent to them */
int cm_store_rhythm_sent(struct cm_store *st, int64_t victim_id,
			 int64_t lo, int64_t hi,
			 int (*fn)(int64_t at, void *ctx), void *ctx,
			 const char **error_r);

#endif
