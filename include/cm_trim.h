/*
 * cm_trim.h - separating what the victim wrote from quotes and signatures
 *
 * DESCRIPTION
 *	cm_trim_text splits a plain-text reply into the new text, the quoted
 *	text removed and the signature. It never trims a reply to nothing:
 *	if nothing would be left, body is the full text. Linear time in the
 *	input, no regular expressions. A forwarded message is kept whole
 *	and also read apart into the fwd_ fields.
 */
#ifndef CM_TRIM_H
#define CM_TRIM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A forwarded message (the writer passes on mail they received, with or
 * without words of their own above it) is never trimmed as a quote:
 * body holds the writer's words and the whole forwarded message, as it
 * always did, and the fwd_ fields hold the forwarded message read
 * apart, for a caller that shows it as evidence. The header values are
 * as written (one line, at most a few hundred bytes); any may be NULL.
 */
struct cm_trim {
	char *body;      /* the reply, trimmed of trailing blank lines */
	char *quoted;    /* what was removed as quote; NULL if nothing */
	char *signature; /* what was removed as signature; NULL if none */
	bool forwarded;  /* body carries a forwarded message */
	char *fwd_note;  /* the writer's words above it, or NULL */
	char *fwd_from;  /* its From value ("Name <a@b>"), or NULL */
	char *fwd_date;  /* its Date or Sent value, or NULL */
	char *fwd_subject; /* its Subject value, or NULL */
	char *fwd_to;    /* its To value, or NULL */
	char *fwd_body;  /* its text below its header lines, or NULL */
};

/* cm_trim_text - split text (UTF-8, NUL-terminated) into *t (caller
 * frees with cm_trim_clear). Returns 0. */
int cm_trim_text(const char *text, struct cm_trim *t);

/*
 * cm_trim_html - the same for an HTML body html[0..len) (UTF-8): the
 * quoted structure (blockquote, gmail_quote, Outlook's reply separators,
 * Apple Mail's type=cite, Yahoo and Thunderbird quote blocks) is cut
 * before the rest is turned into text and trimmed as cm_trim_text does.
 * quoted holds the text of what was cut. Returns 0.
 */
int cm_trim_html(const char *html, size_t len, struct cm_trim *t);

/*
 * cm_trim_text_subject, cm_trim_html_subject - the same, given the
 * message's subject (may be NULL): Outlook writes a forwarded message
 * exactly as it quotes one in a reply ("-----Original Message-----",
 * or a From/Sent/To/Subject block), and only the subject ("FW:",
 * "Fwd:", "WG:", "TR:"...) says it is a forward. With such a subject
 * that block is kept and read apart as a forward, never cut as a
 * quote. Return 0.
 */
int cm_trim_text_subject(const char *text, const char *subject,
			 struct cm_trim *t);
int cm_trim_html_subject(const char *html, size_t len, const char *subject,
			 struct cm_trim *t);

/* cm_trim_clear - free the strings of t and zero it */
void cm_trim_clear(struct cm_trim *t);

#endif
