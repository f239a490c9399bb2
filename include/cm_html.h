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

/* cm_html_escape - HTML-escaped copy of s (&, <, >, ", '); caller frees */
char *cm_html_escape(const char *s);

#endif
