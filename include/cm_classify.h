/*
 * cm_classify.h - what kind of message this is
 *
 * SYNOPSIS
 *	const char *why;
 *	enum cm_kind k = cm_classify(msg, &bounce, env_sender, &why);
 *
 * DESCRIPTION
 *	Decides between a person's reply and the automatic kinds: a bounce
 *	(something failed), a delay warning, an auto-reply (RFC 3834
 *	Auto-Submitted, the vendor headers X-Autoreply, X-Autorespond,
 *	X-Auto-Response-Suppress with an automatic subject, Precedence
 *	with an automatic subject, and the subjects of out-of-office
 *	replies in several languages), an ARF feedback report (RFC 5965),
 *	and "other" (read receipts, list and bulk mail). A human reply is
 *	never classed as a bounce: that needs a report structure, a
 *	mailer-daemon sender or a null sender with failure text.
 */
#ifndef CM_CLASSIFY_H
#define CM_CLASSIFY_H

#include <stdbool.h>

#include "cm_bounce.h"
#include "cm_mime.h"

enum cm_kind {
	CM_KIND_REPLY = 0,
	CM_KIND_BOUNCE,
	CM_KIND_DELAY,
	CM_KIND_AUTO_REPLY,
	CM_KIND_FEEDBACK,
	CM_KIND_OTHER,
};

/* cm_kind_name - "reply", "bounce", "delay", "auto_reply",
 * "feedback_report" or "other" (static) */
const char *cm_kind_name(enum cm_kind k);

/*
 * cm_classify - the kind of m, given its bounce reading b (may be NULL)
 * and the envelope sender (NULL unknown, "" for the null path).
 * *why_r (may be NULL) gets a short static reason.
 */
enum cm_kind cm_classify(const struct cm_msg *m, const struct cm_bounce *b,
			 const char *env_sender, const char **why_r);

/*
 * cm_classify_auto_reply - true if m carries the signals of an automatic
 * reply (RFC 3834 or vendor forms); *why_r (may be NULL) gets the static
 * reason.
 */
bool cm_classify_auto_reply(const struct cm_msg *m, const char **why_r);

#endif
