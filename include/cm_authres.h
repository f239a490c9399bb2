/*
 * cm_authres.h - reading Authentication-Results (RFC 8601)
 *
 * SYNOPSIS
 *	const char *why;
 *	if (cm_authres_verdict(m, cfg->trusted_authserv_ids, &why) !=
 *	    CM_AUTH_PASS)
 *		refuse(why);
 *
 * DESCRIPTION
 *	Decides whether the border MTA (one of the trusted authserv-ids)
 *	found DKIM or DMARC to pass for the From domain of a message.
 *	Anyone can write an Authentication-Results field into a message,
 *	with any authserv-id, so only the fields the border added count:
 *	those standing above the Received header the border wrote when it
 *	took the message in from outside. Of those, the topmost field
 *	naming a trusted authserv-id alone decides.
 *
 * SECURITY
 *	Header text is hostile; the lexer follows RFC 8601 (comments,
 *	quoted strings, quoted pairs) so that data inside a quoted string
 *	or a comment can never become a result of its own.
 */
#ifndef CM_AUTHRES_H
#define CM_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "cm_mime.h"

/* What the trusted border said about the From domain. */
enum cm_auth {
	CM_AUTH_NONE = 0, /* no counted field from a trusted authserv-id */
	CM_AUTH_PASS,     /* DKIM or DMARC pass for the From domain */
	CM_AUTH_FAIL      /* the deciding field shows no pass, or DMARC fail */
};

/*
 * cm_authres_verdict - what the trusted border said about m's From
 * domain (the part after the last '@' of m->from), from
 * m->auth_results, m->auth_results_above and m->received_by.
 * trusted is a list of authserv-ids separated by spaces or commas,
 * compared case-blind. Returns CM_AUTH_NONE when trusted is NULL or
 * empty, when m has no From domain, or when no counted field has a
 * trusted authserv-id; else CM_AUTH_PASS or CM_AUTH_FAIL from the
 * deciding field. *why_r (why_r may be NULL) is set to a short static
 * reason.
 */
enum cm_auth cm_authres_verdict(const struct cm_msg *m, const char *trusted,
				const char **why_r);

/*
 * cm_authres_decide - the same decision on plain arrays.
 * values[0..n) are the Authentication-Results field values top-down and
 * received_above[i] is the number of Received headers above values[i];
 * received_by[0..n_received) are the by-hosts of the Received headers
 * top-down ("" or NULL when unknown). A field counts only if it stands
 * above the border's first Received: the bottom-most Received whose by
 * host is trusted, else the topmost Received; with no Received at all
 * nothing counts. Among counted fields the first with a trusted
 * authserv-id decides: CM_AUTH_PASS for dmarc=pass with header.from
 * equal to from_domain, or dkim=pass with header.d equal to it (or,
 * without header.d, header.i whose domain is it), unless the same field
 * has dmarc=fail for from_domain; CM_AUTH_FAIL otherwise. All arrays are
 * borrowed; *why_r (why_r may be NULL) is set to a short static reason.
 */
enum cm_auth cm_authres_decide(char *const *values,
			       const size_t *received_above, size_t n,
			       char *const *received_by, size_t n_received,
			       const char *trusted, const char *from_domain,
			       const char **why_r);

#endif
