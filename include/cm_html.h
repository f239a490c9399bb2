/*
 * cm_html.h - HTML to plain text with libxml2's HTML parser
 *
 * DESCRIPTION
 *	The only module that includes libxml2 (R1). Parses with
 *	htmlReadMemory (recovering, no network, no entities from outside),
 *	drops script/style/head, turns block elements and <br> into line
 *	breaks, list items into "- ", links into "text <url>" when the URL
 *	differs from the text, collapses white space as a browser does.
 *
 * SECURITY
 *	HTML is hostile; nothing is fetched; depth is bounded by the parser
 *	(HTML_PARSE_NONET, no XML_PARSE_HUGE).
 */
#ifndef CM_HTML_H
#define CM_HTML_H

#include <stddef.h>

/* cm_html_init - xmlInitParser(); call once per process */
void cm_html_init(void);

/* cm_html_to_text - UTF-8 text of html[0..len) (UTF-8 input); caller
 * frees with free(); never NULL (empty string on hopeless input) */
char *cm_html_to_text(const char *html, size_t len);

/*
 * cm_html_split - the text of html[0..len) split on its quote structure:
 * *reply_r is the text before the first quote (blockquote, gmail_quote,
 * Yahoo's and Thunderbird's quote blocks, Apple Mail's type=cite,
 * Outlook's divRplyFwdMsg and border-top header blocks, Hotmail's
 * stopSpelling rule, Outlook for Mac's OLK_SRC_BODY_SECTION), *quoted_r
 * the text from there on (NULL if none). An interleaved reply (text of
 * the writer after a quote block) is not cut: its quote blocks come out
 * as "> " lines for the text trimmer. <hr> becomes a line of dashes.
 * Both caller frees with free(); *reply_r is never NULL.
 */
void cm_html_split(const char *html, size_t len, char **reply_r,
		   char **quoted_r);

/* cm_html_escape - HTML-escaped copy of s (&, <, >, ", '); caller frees */
char *cm_html_escape(const char *s);

#endif
