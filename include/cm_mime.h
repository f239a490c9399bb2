/*
 * cm_mime.h - reading a message with GMime into plain UTF-8 facts
 *
 * SYNOPSIS
 *	struct cm_msg *m;
 *	if (cm_mime_parse(data, len, &limits, &m, &error) < 0)
 *		quarantine(error);
 *	...
 *	cm_msg_free(&m);
 *
 * DESCRIPTION
 *	The only module that includes GMime (R1). Before GMime sees the
 *	bytes, a linear pre-scan enforces the limits in struct cm_limits
 *	(message size, header bytes per part, MIME nesting depth, part
 *	count) so that known GMime crashers (100,000-colon headers, deep
 *	nesting) never reach it. Then every header is decoded (RFC 2047,
 *	RFC 2231, undeclared 8-bit as UTF-8 else windows-1252) to UTF-8;
 *	the body is the first text/plain part outside attachments, else the
 *	text made from the first text/html part by cm_html; attachments are
 *	listed with a sanitised filename, type, decoded size and SHA-256.
 *	RFC 5322, 2045-2049, 2047, 2231, 3834 (auto-reply signals).
 *
 * DIAGNOSTICS
 *	cm_mime_parse returns CM_ERR with *error_r naming the limit passed
 *	("mime depth 101 exceeds 100"); anything GMime tolerates is parsed
 *	and its oddities listed in defects.
 *
 * SECURITY
 *	Input is hostile: every string out of here is valid UTF-8 without
 *	NUL; header values have CR/LF folded away.
 */
#ifndef CM_MIME_H
#define CM_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "cm_limits.h"

struct cm_msg_attachment {
	char *filename;     /* sanitised: no '/', '\\', control bytes,
			       leading '.'; "attachment" if none */
	char *content_type; /* "type/subtype", lower case */
	size_t size;        /* decoded bytes */
	char sha256[65];    /* hex of the decoded bytes */
};

struct cm_msg {
	/* addresses: first addr-spec, lower-cased domain; NULL if absent */
	char *from;
	char *from_name; /* display name, decoded; may be NULL */
	char *to;        /* first To address */
	char **to_all;   /* every To addr-spec, in order (at most 100) */
	size_t n_to_all;
	char **cc_all;   /* every Cc addr-spec, in order (at most 100) */
	size_t n_cc_all;
	char *reply_to;
	char *return_path; /* "" for the null path "<>" (a bounce) */
	char *x_original_to;
	char *delivered_to; /* the topmost one: the receiving server's */
	char *subject;     /* decoded; may be NULL */
	char *date;        /* as given; may be NULL */
	char *message_id;  /* without angle brackets */
	char *in_reply_to; /* first id, without angle brackets */
	char **references; /* ids without angle brackets, in order */
	size_t n_references;

	char *body;      /* full text body, UTF-8 ("" if none) */
	char *body_html; /* the HTML part it came from, UTF-8, or NULL */
	bool body_from_html;

	struct cm_msg_attachment *attachments;
	size_t n_attachments;

	/* auto-reply signals (RFC 3834 and vendor forms) */
	char *auto_submitted;  /* header value or NULL */
	char *precedence;      /* header value or NULL */
	bool x_autoreply;      /* X-Autoreply / X-Autorespond present */
	char *x_auto_response_suppress;
	char *list_id;

	/* Authentication-Results header values, top-down, and for each
	 * the number of Received headers standing above it */
	char **auth_results;
	size_t *auth_results_above;
	size_t n_auth_results;

	/* the "by" host of each top-level Received header, top-down (the
	 * first 1000), lower case; "" when it has no parsable by clause */
	char **received_by;
	size_t n_received;

	/* content type of the top part, "multipart/report" etc. */
	char *content_type;
	char *report_type; /* report-type parameter, lower case, or NULL */

	char **defects; /* short descriptions of oddities found */
	size_t n_defects;
	size_t n_parts;
	size_t depth;

	/* reports (RFC 6522) and returned messages, for cm_bounce and
	 * cm_classify; all UTF-8 with LF line ends, or NULL if absent */
	char *report_status;    /* first message/delivery-status (or
				   global-delivery-status) part, decoded */
	char *report_feedback;  /* first message/feedback-report part */
	char *returned_headers; /* header block of the returned message:
				   text/rfc822-headers or the first
				   message/rfc822 part outside others */
	char *text_all;   /* every inline text/plain part outside embedded
			     messages, joined by blank lines (bounded) */
	bool has_mdn;     /* a message/disposition-notification part */
	char *x_failed_recipients; /* X-Failed-Recipients value or NULL */
};

/* cm_mime_init - g_mime_init(); call once per process */
void cm_mime_init(void);

/*
 * cm_mime_parse - parse data[0..len). On 0, *msg_r is set (caller frees
 * with cm_msg_free). On CM_ERR (a limit passed: quarantine it), *error_r
 * is set, borrowed until the next call.
 */
int cm_mime_parse(const char *data, size_t len,
		  const struct cm_limits *limits, struct cm_msg **msg_r,
		  const char **error_r);

/* cm_msg_free - free everything; sets *m to NULL; NULL is fine */
void cm_msg_free(struct cm_msg **m);

/*
 * cm_mime_header - the first raw header named name (case-blind) of the
 * top-level header block of data, unfolded, decoded to UTF-8 (caller
 * frees), or NULL. Linear scan, no GMime, bounded by the header limit.
 */
char *cm_mime_header(const char *data, size_t len, const char *name);

#endif
