/*
 * cm_addr.h - casemail addresses: reply+KEY, officer+KEY, case+REF,
 *	note+REF, bounce+KEY, and the unsubscribe KEY
 *
 * SYNOPSIS
 *	char *key = cm_addr_reply_key(secret, victim_id, case_id);
 *	cm_addr_classify("reply+KEY@D", "D", &kind, &ext);
 *
 * DESCRIPTION
 *	A reply KEY is base32 (lower case, read case-blind) of
 *	  "r" | varint(victim_id) | varint(case_id) | MAC[16]
 *	an officer KEY of "o" | varint(officer_id) | varint(case_id) |
 *	varint(victim_id) | MAC[16] (the Reply-To of an officer
 *	notification: the answer goes to that one victim), an unsubscribe
 *	KEY of "u" | varint(victim_id) | varint(case_id) | MAC[16] (in the
 *	one-click unsubscribe URL, so the URL never carries the reply KEY
 *	that lets mail be posted as the victim),
 *	and a bounce KEY of "b" | varint(notice_id) | MAC[16], the MAC being
 *	crypto_auth under the address subkey over everything before it, so
 *	a KEY cannot be forged, altered, truncated or moved to another kind.
 *	Case references are checked against the configured pattern and
 *	stored upper case.
 *
 * DIAGNOSTICS
 *	Decoders return -1 for anything that does not verify; they never
 *	say which part was wrong.
 *
 * SECURITY
 *	Addresses from data are checked by cm_addr_valid before they reach
 *	SMTP or a header: no CR, LF, NUL, control bytes or spaces.
 */
#ifndef CM_ADDR_H
#define CM_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "cm_token.h"

enum cm_addr_kind {
	CM_ADDR_OTHER = 0, /* not one of ours */
	CM_ADDR_REPLY,
	CM_ADDR_CASE,
	CM_ADDR_NOTE,
	CM_ADDR_BOUNCE,
	CM_ADDR_OFFICER,
};

/*
 * cm_addr_classify - split a recipient "local+ext@domain". When domain
 * equals mail_domain (case-blind) and local is reply/case/note/bounce/officer
 * (case-blind), sets *kind_r and *ext_r (caller frees; NULL for OTHER).
 * Returns 0, or -1 if recipient is not a valid address.
 */
int cm_addr_classify(const char *recipient, const char *mail_domain,
		     enum cm_addr_kind *kind_r, char **ext_r);

/* cm_addr_reply_key - KEY for a victim on a case; caller frees */
char *cm_addr_reply_key(const struct cm_secret *s, int64_t victim_id,
			int64_t case_id);
/* cm_addr_reply_decode - 0 and the ids, or -1 if forged or malformed */
int cm_addr_reply_decode(const struct cm_secret *s, const char *key,
			 int64_t *victim_id_r, int64_t *case_id_r);
/* cm_addr_bounce_key - KEY for a notice; caller frees */
char *cm_addr_bounce_key(const struct cm_secret *s, int64_t notice_id);
/* cm_addr_bounce_decode - 0 and the id, or -1 if forged or malformed */
int cm_addr_bounce_decode(const struct cm_secret *s, const char *key,
			  int64_t *notice_id_r);

/* cm_addr_officer_key - KEY for officer answering victim on case;
 * caller frees */
char *cm_addr_officer_key(const struct cm_secret *s, int64_t officer_id,
			  int64_t case_id, int64_t victim_id);
/* cm_addr_officer_decode - 0 and the ids, or -1 if forged or malformed */
int cm_addr_officer_decode(const struct cm_secret *s, const char *key,
			   int64_t *officer_id_r, int64_t *case_id_r,
			   int64_t *victim_id_r);
/* cm_addr_unsub_key - KEY for a victim's unsubscribe URL; caller frees */
char *cm_addr_unsub_key(const struct cm_secret *s, int64_t victim_id,
			int64_t case_id);
/* cm_addr_unsub_decode - 0 and the ids, or -1 if forged or malformed */
int cm_addr_unsub_decode(const struct cm_secret *s, const char *key,
			 int64_t *victim_id_r, int64_t *case_id_r);

/* cm_addr_make - "local+ext@domain" (ext may be NULL); caller frees */
char *cm_addr_make(const char *local, const char *ext, const char *domain);

/* cm_addr_valid - one addr-spec: local@domain, printable ASCII or UTF-8,
 * no space, control byte, CR, LF, '<', '>', ',' or more than 998 bytes */
bool cm_addr_valid(const char *addr);
/* cm_addr_equal - same address: local part case-blind too (as Postfix
 * and every mailbox provider treat it), domain case-blind */
bool cm_addr_equal(const char *a, const char *b);
/* cm_addr_normalize - lower-cased copy of a valid address, or NULL;
 * caller frees */
char *cm_addr_normalize(const char *addr);

/*
 * cm_addr_ref_canon - check a case reference against the POSIX ERE
 * pattern (anchored by the caller's pattern) and the built-in rules
 * (1..64 bytes, no white space, quotes or control bytes). Returns the
 * upper-cased reference (caller frees) or NULL with *error_r (borrowed
 * until the next call). The pattern is matched case-blind and must
 * cover the whole reference; a NULL or empty pattern checks the
 * built-in rules only.
 */
char *cm_addr_ref_canon(const char *ref, const char *pattern,
			const char **error_r);

/*
 * cm_addr_subject_ref - find a "[REF]" tag in a subject. Returns the
 * upper-cased candidate inside the first pair of brackets that matches
 * pattern (caller frees), or NULL.
 */
char *cm_addr_subject_ref(const char *subject, const char *pattern);

#endif
