/*
 * cm_compose.h - building outgoing messages with GMime
 *
 * SYNOPSIS
 *	struct cm_compose c = { .from_addr = ..., .to_addr = ..., ... };
 *	char *data; size_t len;
 *	if (cm_compose_build(&c, &data, &len, &err) < 0) ...
 *
 * DESCRIPTION
 *	Part of the mime module (the only place GMime objects are made and
 *	freed, R13), in its own file. Every header of outgoing mail is set
 *	through GMime, never pasted (BRIEF "Rules that never bend"). The
 *	header set is fixed, in this order:
 *	  Return-Path     only when return_path is given (outbox copies)
 *	  From, To, Reply-To (when given), Subject, Date, Message-ID,
 *	  In-Reply-To and References (when in_reply_to is given),
 *	  Auto-Submitted: auto-generated (RFC 3834),
 *	  List-Unsubscribe: <mailto:...>, <https://...> and
 *	  List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058,
 *	  when both unsubscribe targets are given), or
 *	  List-Unsubscribe: <mailto:...> alone (no https target),
 *	  X-Casemail-Internal: yes (when internal),
 *	  MIME-Version, Content-Type (multipart/alternative of text/plain
 *	  and text/html, or text/plain alone), quoted-printable UTF-8 parts.
 *	RFC 5322, 2045-2047, 3834, 2369, 8058.
 *
 * DIAGNOSTICS
 *	CM_ERR with *error_r (static, borrowed until the next call) when an
 *	address is not valid (cm_addr_valid) or a header value carries a
 *	control character: never silently "fixed" here, the template module
 *	neutralises values before they arrive.
 *
 * SECURITY
 *	Header values are checked for CR, LF, NUL and other control bytes
 *	before GMime sees them; GMime encodes non-ASCII (RFC 2047). The
 *	bidirectional controls (U+202A..U+202E, U+2066..U+2069, U+200E,
 *	U+200F, U+061C) are removed from from_name, to_name and subject,
 *	so that outside text (a victim's chosen name) cannot reorder what
 *	a subject line shows.
 */
#ifndef CM_COMPOSE_H
#define CM_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct cm_compose - one message to build; every string borrowed */
struct cm_compose {
	const char *return_path; /* NULL, or the envelope sender */
	const char *from_name;   /* display name, may be NULL */
	const char *from_addr;
	const char *to_name;     /* may be NULL */
	const char *to_addr;
	const char *reply_to;    /* may be NULL */
	const char *subject;
	int64_t date;            /* seconds since the epoch */
	const char *message_id;  /* without <> */
	const char *in_reply_to; /* may be NULL; without <> */
	const char *unsub_mailto; /* "mailto:..." or NULL */
	const char *unsub_https;  /* "https://..." or NULL; needs mailto */
	bool internal;           /* X-Casemail-Internal: yes */
	const char *text;        /* the text/plain part, UTF-8 */
	const char *html;        /* the text/html part, or NULL */
	bool crlf;               /* CRLF line ends (SMTP), else LF */
};

/*
 * cm_compose_build - the message as bytes into *data_r (NUL-terminated,
 * caller frees with free()) and *len_r. 0 or CM_ERR with *error_r.
 */
int cm_compose_build(const struct cm_compose *c, char **data_r,
		     size_t *len_r, const char **error_r);

/*
 * struct cm_composer - keeps the last message built so that the next one
 * of the same shape (the same optional fields present) only has its
 * values replaced, which is several times cheaper than building anew;
 * the bytes are the same either way. One thread at a time.
 */
struct cm_composer;

/* cm_composer_new - an empty composer; free with cm_composer_free */
struct cm_composer *cm_composer_new(void);

/* cm_composer_build - cm_compose_build with z's kept message */
int cm_composer_build(struct cm_composer *z, const struct cm_compose *c,
		      char **data_r, size_t *len_r, const char **error_r);

/* cm_composer_free - free; sets *z NULL; NULL fine */
void cm_composer_free(struct cm_composer **z);

/*
 * cm_compose_message_id - a new Message-ID "<time>.<hex>@domain" without
 * the angle brackets: 128 random bits; caller frees with free().
 */
char *cm_compose_message_id(const char *domain, int64_t now);

/* struct cm_inspect - a message read back with GMime (for tests and
 * --dry-run): its top-level headers in order and its leaf parts */
struct cm_inspect {
	size_t n_headers;
	char **names;  /* as written */
	char **values; /* decoded (RFC 2047), unfolded, UTF-8 */
	size_t n_parts;
	char **types;  /* "text/plain" ... */
	char **texts;  /* decoded content, UTF-8 (text parts) or "" */
};

/*
 * cm_compose_inspect - parse data[0..len) with GMime into *in_r (caller
 * frees with cm_compose_inspect_free). 0 or CM_ERR with *error_r.
 */
int cm_compose_inspect(const char *data, size_t len, struct cm_inspect *in_r,
		       const char **error_r);
/* cm_compose_inspect_header - value of the first header named name
 * (case-blind), borrowed from in, or NULL */
const char *cm_compose_inspect_header(const struct cm_inspect *in,
				      const char *name);
/* cm_compose_inspect_free - free the arrays and zero *in */
void cm_compose_inspect_free(struct cm_inspect *in);

#endif
