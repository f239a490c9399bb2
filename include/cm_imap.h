/*
 * cm_imap.h - an IMAP client for ingesting one mailbox (libetpan)
 *
 * SYNOPSIS
 *	#include "cm_imap.h"
 *
 *	struct cm_imap_params p = { .host = "imap.example.org",
 *		.user = "cases", .password = pw, .mailbox = "INBOX" };
 *	struct cm_imap *imap;
 *	const char *err;
 *
 *	if (cm_imap_connect(&p, &imap, &err) < 0) ...
 *	cm_imap_uids_since(imap, last, &uids, &n, &err);
 *	cm_imap_fetch(imap, uids[i], &data, &len, &err);
 *	... store it durably, then:
 *	cm_imap_done(imap, uids[i], "Processed", &err);
 *	cm_imap_idle(imap, 600, &changed, &err);
 *	cm_imap_close(&imap);
 *
 * DESCRIPTION
 *	One connection to one selected mailbox. Messages are found by UID
 *	(UID SEARCH), read without touching their flags (BODY.PEEK[]) and,
 *	once the caller has stored them, marked \Seen and moved to a
 *	folder (MOVE, or COPY + \Deleted + UID EXPUNGE with UIDPLUS).
 *	UIDVALIDITY and UIDNEXT of the selected mailbox are kept so the
 *	caller can tell when its remembered UIDs have become meaningless.
 *	New mail is waited for with IDLE, or by polling with NOOP when the
 *	server has no IDLE. RFC 3501 (IMAP4rev1), RFC 2177 (IDLE), RFC 4315
 *	(UIDPLUS), RFC 6851 (MOVE), RFC 2595/8314 (STARTTLS, implicit TLS),
 *	RFC 6125 (server identity).
 *
 *	lib/imap.c is the only file that includes libetpan (R1). It also
 *	uses GnuTLS directly, for one job libetpan does not do: verifying
 *	the server's certificate chain (system CA store plus ca_file) and
 *	its name, right after the TLS handshake and before anything is
 *	sent (libetpan here is built against GnuTLS; its TLS accepts any
 *	certificate by itself).
 *
 *	Not thread-safe per handle; distinct handles may be used by
 *	distinct threads.
 *
 * DIAGNOSTICS
 *	Actions return 0, CM_ERR or CM_ETEMP (cm_util.h), and some
 *	CM_ENOENT as stated, with a one-line reason in *error_r, borrowed
 *	until the next call on the same handle (for cm_imap_connect: until
 *	the next cm_imap_connect in the same thread). The reason quotes
 *	server text with control bytes replaced, never the password.
 *	CM_ERR is permanent (a retry cannot help): authentication refused,
 *	certificate not trusted or not for this host, mailbox missing,
 *	plain text refused by policy, message larger than the maximum.
 *	CM_ETEMP is anything a later retry may fix: connection refused,
 *	dropped or timed out, a server NO to a command, a response that
 *	does not parse. After a CM_ETEMP that broke the connection every
 *	further call fails with CM_ETEMP at once: close and reconnect.
 *
 * SECURITY
 *	Certificates are always verified; there is no switch to turn that
 *	off. CM_IMAP_PLAIN is refused unless the host is a loopback address
 *	(127.0.0.0/8, ::1 or "localhost", and then only the loopback
 *	addresses it resolves to are tried) and allow_plain is set. After
 *	STARTTLS, bytes that arrived before the handshake are an injection
 *	attempt and fail the connection. Everything from the server is
 *	hostile input: sizes are bounded, UIDs are checked against what
 *	was asked for.
 *	A write on a connection the server closed must not kill the
 *	process: cm_imap_connect sets SIGPIPE to SIG_IGN when it is at its
 *	default (the programs that use this module ignore it anyway).
 */
#ifndef CM_IMAP_H
#define CM_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cm_util.h"

/* struct cm_imap - an open, logged-in connection with a mailbox selected */
struct cm_imap;

/* enum cm_imap_tls - how the connection is protected */
enum cm_imap_tls {
	CM_IMAP_TLS = 0,  /* implicit TLS ("imaps"), default port 993 */
	CM_IMAP_STARTTLS, /* plain connect, then STARTTLS; port 143 */
	CM_IMAP_PLAIN     /* no TLS: loopback and allow_plain only; 143 */
};

#define CM_IMAP_DEFAULT_TIMEOUT 60 /* network seconds */
#define CM_IMAP_DEFAULT_POLL 30    /* NOOP interval without IDLE */
#define CM_IMAP_MAX_FOLDER 200     /* bytes in a folder name */

/*
 * struct cm_imap_params - what to connect to. Strings are borrowed for
 * the duration of cm_imap_connect only (the handle keeps copies of what
 * it needs; it never keeps the password).
 */
struct cm_imap_params {
	const char *host;     /* DNS name or IP address literal */
	unsigned int port;    /* 0: 993 (CM_IMAP_TLS) or 143 */
	const char *user;
	const char *password;
	const char *mailbox;  /* NULL: "INBOX" */
	enum cm_imap_tls tls;
	bool allow_plain;     /* CM_IMAP_PLAIN to loopback is allowed */
	const char *ca_file;  /* PEM CAs trusted besides the system's */
	unsigned int timeout; /* network timeout, seconds; 0: default */
	size_t max_message_size; /* cm_imap_fetch bound; 0: limits.h */
	bool no_idle;         /* poll with NOOP even if IDLE is offered */
	unsigned int poll_interval; /* NOOP polling seconds; 0: default */
};

/*
 * cm_imap_connect - connect, check the certificate, log in (LOGIN) and
 * SELECT the mailbox. On success *imap_r is a new handle: caller frees
 * with cm_imap_close(). Returns 0, CM_ERR or CM_ETEMP (see DIAGNOSTICS);
 * on failure *imap_r is NULL.
 */
int cm_imap_connect(const struct cm_imap_params *p, struct cm_imap **imap_r,
		    const char **error_r);

/* cm_imap_uidvalidity - UIDVALIDITY of the selected mailbox (never 0) */
uint32_t cm_imap_uidvalidity(const struct cm_imap *imap);
/* cm_imap_uidnext - UIDNEXT at SELECT time (0 if the server gave none) */
uint32_t cm_imap_uidnext(const struct cm_imap *imap);
/* cm_imap_mailbox - name of the selected mailbox; borrowed, handle's */
const char *cm_imap_mailbox(const struct cm_imap *imap);

/* cm_imap_has_idle - true if the server offers IDLE (RFC 2177) */
bool cm_imap_has_idle(const struct cm_imap *imap);
/* cm_imap_has_move - true if the server offers MOVE (RFC 6851) */
bool cm_imap_has_move(const struct cm_imap *imap);
/* cm_imap_has_uidplus - true if the server offers UIDPLUS (RFC 4315) */
bool cm_imap_has_uidplus(const struct cm_imap *imap);

/*
 * cm_imap_uids_since - UIDs greater than last_uid in the mailbox, in
 * ascending order without duplicates (UID SEARCH UID last+1:*; the
 * highest UID that "*" always matches is filtered out when it is not
 * above last_uid). *uids_r: caller frees with free(); NULL when *n_r
 * is 0. Returns 0, CM_ETEMP.
 */
int cm_imap_uids_since(struct cm_imap *imap, uint32_t last_uid,
		       uint32_t **uids_r, size_t *n_r, const char **error_r);

/*
 * cm_imap_fetch - the whole message uid, exactly as the server holds it
 * (UID FETCH uid BODY.PEEK[], so \Seen is not set). *data_r is
 * NUL-terminated (the NUL not counted in *len_r; the message itself may
 * hold NULs only if the server sent them): caller frees with free().
 * Returns 0; CM_ENOENT if there is no message uid (expunged meanwhile);
 * CM_ERR if it is larger than max_message_size; CM_ETEMP.
 */
int cm_imap_fetch(struct cm_imap *imap, uint32_t uid, char **data_r,
		  size_t *len_r, const char **error_r);

/*
 * cm_imap_sizes - RFC822.SIZE of each of uids[0..n) (ascending) with one
 * command, into sizes_r[0..n) (0 for a UID that is gone). Returns 0,
 * CM_ETEMP.
 */
int cm_imap_sizes(struct cm_imap *imap, const uint32_t *uids, size_t n,
		  uint32_t *sizes_r, const char **error_r);

/*
 * cm_imap_fetch_many - cm_imap_fetch for uids[0..n) (ascending) with one
 * UID FETCH over UID ranges: data_r[i] (caller frees each with free())
 * and len_r[i] where rc_r[i] is 0; rc_r[i] is CM_ENOENT for a UID that
 * is gone, CM_ERR for one larger than max_message_size. The whole
 * response is held in memory: keep the sum of sizes (cm_imap_sizes)
 * bounded. Returns 0, or CM_ETEMP (nothing kept).
 */
int cm_imap_fetch_many(struct cm_imap *imap, const uint32_t *uids,
		       size_t n, char **data_r, size_t *len_r, int *rc_r,
		       const char **error_r);

/*
 * cm_imap_done - the caller has the message: flag uid \Seen and move it
 * to folder (created when missing): UID MOVE if offered, else UID COPY,
 * \Deleted and UID EXPUNGE of that UID only (UIDPLUS). Without either
 * the message is copied and stays, flagged \Seen, and CM_ETEMP says so
 * (nothing is expunged that this module did not flag). folder is
 * printable ASCII, at most CM_IMAP_MAX_FOLDER bytes, without the
 * characters * % & \ " and without ".." (CM_ERR otherwise); NULL only
 * flags \Seen. Returns 0, CM_ERR, CM_ETEMP.
 */
int cm_imap_done(struct cm_imap *imap, uint32_t uid, const char *folder,
		 const char **error_r);

/*
 * cm_imap_done_many - cm_imap_done for uids[0..n) (ascending) at once:
 * one UID STORE and one UID MOVE (or COPY, STORE, UID EXPUNGE) over UID
 * ranges, so that the server commits once for the whole batch.
 * Returns 0, CM_ERR, CM_ETEMP.
 */
int cm_imap_done_many(struct cm_imap *imap, const uint32_t *uids, size_t n,
		      const char *folder, const char **error_r);

/*
 * cm_imap_idle - wait at most timeout seconds for new mail: IDLE until
 * the server reports EXISTS or RECENT, then DONE; without IDLE (or with
 * no_idle) a NOOP every poll_interval seconds. *changed_r is true when
 * new mail was reported, also by any command since the last
 * cm_imap_uids_since (so nothing that arrived in between is missed; a
 * spurious true costs one search). Returns 0, CM_ETEMP.
 */
int cm_imap_idle(struct cm_imap *imap, unsigned int timeout,
		 bool *changed_r, const char **error_r);

/*
 * cm_imap_close - LOGOUT (skipped when the connection is broken) and
 * free; sets *imap to NULL; accepts NULL and *imap NULL.
 */
void cm_imap_close(struct cm_imap **imap);

/*
 * cm_imap_host_is_loopback - true if host is "localhost" or an IPv4
 * address in 127.0.0.0/8 or the IPv6 address ::1 (the literal only; no
 * name is resolved).
 */
bool cm_imap_host_is_loopback(const char *host);

/*
 * cm_imap_folder_valid - true if name is acceptable as a folder for
 * cm_imap_done (see there).
 */
bool cm_imap_folder_valid(const char *name);

#endif
