/*
 * cm_bounce.h - delivery status notifications and their failed recipients
 *
 * SYNOPSIS
 *	struct cm_bounce b;
 *	cm_bounce_parse(msg, &b);
 *	for (i = 0; i < b.n_rcpts; i++)
 *		use(b.rcpts[i].address, b.rcpts[i].permanent);
 *	cm_bounce_clear(&b);
 *
 * DESCRIPTION
 *	Reads a parsed message (struct cm_msg) as a non-delivery report:
 *	RFC 3464 message/delivery-status (also base64-encoded, also a
 *	malformed report whose per-recipient fields sit in a text part),
 *	and the common free-text forms (Postfix, Exim, qmail, Sendmail,
 *	Exchange/Notes/GroupWise, Yahoo, Gmail, SMTP32...), read by
 *	structural signals: an introduction sentence that says delivery
 *	failed, then addresses on their own lines or in "<addr>:" form,
 *	SMTP replies, enhanced status codes. Linear in the input, no
 *	regular expressions.
 *
 * SECURITY
 *	Everything read is hostile. Addresses are at most CM_MAX_ADDRESS
 *	bytes, printable, with one '@'; at most CM_BOUNCE_MAX_RCPTS are
 *	kept.
 */
#ifndef CM_BOUNCE_H
#define CM_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>

#include "cm_mime.h"

#define CM_BOUNCE_MAX_RCPTS 100

/* One recipient the report is about. */
struct cm_bounce_rcpt {
	char *address;    /* addr-spec as written (never NULL) */
	char *status;     /* enhanced status "5.1.1", or NULL */
	char *action;     /* "failed", "delayed"... lower case, or NULL */
	char *diagnostic; /* SMTP reply or explanation, one line, or NULL */
	bool permanent;   /* a hard failure (5.x.x, action failed) */
};

/* What the report says. */
struct cm_bounce {
	bool is_dsn;      /* an RFC 3464 report (or its fields) was read */
	bool is_bounce;   /* a failure notice: something was not delivered */
	bool is_delay;    /* a delay warning only: nothing failed yet */
	const char *format; /* "dsn", "x-failed-recipients",
			       "returned-headers", "text", "none" (static) */
	struct cm_bounce_rcpt *rcpts;
	size_t n_rcpts;
	char *orig_message_id; /* Message-ID of the returned message
				  (without <>), or NULL */
};

/*
 * cm_bounce_parse - read m as a delivery report into *b (caller frees
 * with cm_bounce_clear). Returns 0; a message that is no report gives
 * is_bounce and is_delay false and no recipients.
 */
int cm_bounce_parse(const struct cm_msg *m, struct cm_bounce *b);

/*
 * cm_bounce_text - the free-text part of cm_bounce_parse on its own:
 * read text (UTF-8) for failed recipients into *b, which must be zeroed
 * or cleared. Returns the number of recipients added.
 */
size_t cm_bounce_text(const char *text, struct cm_bounce *b);

/*
 * cm_bounce_dsn - the RFC 3464 part of cm_bounce_parse on its own: read
 * the fields of a message/delivery-status body into *b. Returns the
 * number of recipients added.
 */
size_t cm_bounce_dsn(const char *status, struct cm_bounce *b);

/* cm_bounce_clear - free everything in b and zero it; NULL is fine */
void cm_bounce_clear(struct cm_bounce *b);

#endif
