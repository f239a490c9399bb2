/*
 * html.c - HTML to plain text with libxml2's HTML parser
 *
 * SYNOPSIS
 *	char *text = cm_html_to_text(html, len);
 *	char *safe = cm_html_escape(s);
 *
 * DESCRIPTION
 *	The only module that includes libxml2 (R1). cm_html_to_text parses
 *	with htmlReadMemory (recovering, no network, UTF-8 forced) and
 *	walks the tree iteratively, so a deeply nested document cannot
 *	exhaust the C stack. script, style, head, title, template and
 *	noscript are dropped; block elements start new lines, paragraphs
 *	and headings are separated by a blank line, <br> breaks the line,
 *	list items start with "- ", table cells are separated by a space.
 *	White space outside <pre> collapses as a browser does. A link whose
 *	http, https or mailto target differs from its text is followed by
 *	" <target>". The result has no blank lines at either end and never
 *	two blank lines in a row.
 *
 * DIAGNOSTICS
 *	None: hopeless input gives an empty string.
 *
 * SECURITY
 *	HTML is hostile. HTML_PARSE_NONET: nothing is fetched; no
 *	XML_PARSE_HUGE, so libxml2 keeps its own depth and size limits;
 *	libxml2's error output is silenced. Control bytes other than
 *	newline and tab never reach the output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "cm_html.h"
#include "cm_util.h"

/* The walker's output state. */
struct out {
	struct cm_buf b;
	int pre;         /* depth of <pre> elements entered */
	int line_start;  /* nothing but the indent written on this line */
	int pend_space;  /* white space seen, not yet written */
	/* cm_html_split */
	int split;       /* 1: cut at the first quote; 2: prefix quotes */
	xmlNodePtr cut;  /* the first quote marker, once seen */
	int header_cut;  /* the marker is a header: all after it is old */
	size_t cut_at;   /* bytes of b before the cut */
	int in_marker;   /* depth of marker elements entered after cut */
	size_t after;    /* visible bytes after the cut outside markers */
	int qdepth;      /* blockquotes entered (split == 2) */
};

/* Elements whose content is never shown. */
static const char *const skip_tags[] = {
	"script", "style", "head", "title", "template", "noscript",
	"object", "embed", "iframe", "svg", "math",
};

/* Elements separated from their neighbours by a blank line. */
static const char *const para_tags[] = {
	"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
	"table", "ul", "ol", "dl", "address", "figure", "fieldset",
};

/* Elements that start and end on a line of their own. */
static const char *const line_tags[] = {
	"div", "tr", "li", "dt", "dd", "hr", "section", "article",
	"header", "footer", "nav", "aside", "main", "form", "caption",
	"center", "tbody", "thead", "tfoot", "body", "html", "figcaption",
	"details", "summary", "menu", "option", "legend",
};

/* noop_generic - swallow libxml2's generic error messages */
static void
noop_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* noop_structured - swallow libxml2's structured errors */
static void
noop_structured(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

/* silence - route libxml2's error output to the no-op handlers */
static void
silence(void)
{
	xmlSetGenericErrorFunc(NULL, noop_generic);
	xmlSetStructuredErrorFunc(NULL, noop_structured);
}

/* cm_html_init - xmlInitParser() and silence libxml2's error output */
void
cm_html_init(void)
{
	xmlInitParser();
	silence();
}

/* in_list - true if name (lower case from libxml2) is in the list */
static int
in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

/* drop_trailing_spaces - remove spaces and tabs ending the buffer */
static void
drop_trailing_spaces(struct out *o)
{
	while (o->b.len > 0 && (o->b.data[o->b.len - 1] == ' ' ||
				o->b.data[o->b.len - 1] == '\t'))
		o->b.data[--o->b.len] = '\0';
}

/* newline - end the current line */
static void
newline(struct out *o)
{
	drop_trailing_spaces(o);
	(void)cm_buf_putc(&o->b, '\n');
	o->line_start = 1;
	o->pend_space = 0;
}

/* line_break - make sure the next text starts a line */
static void
line_break(struct out *o)
{
	if (!o->line_start)
		newline(o);
	o->pend_space = 0;
}

/* para_break - make sure the next text follows a blank line */
static void
para_break(struct out *o)
{
	line_break(o);
	if (o->b.len > 0 && !(o->b.len >= 2 &&
			      o->b.data[o->b.len - 2] == '\n'))
		newline(o);
}

/* put_visible - write bytes that are not white space */
static void
put_visible(struct out *o, const char *p, size_t n)
{
	int k;

	if (o->line_start && o->split == 2)
		for (k = 0; k < o->qdepth; k++)
			(void)cm_buf_puts(&o->b, "> ");
	if (o->cut != NULL && o->in_marker == 0 && !o->header_cut)
		o->after += n;
	if (o->pend_space && !o->line_start)
		(void)cm_buf_putc(&o->b, ' ');
	o->pend_space = 0;
	(void)cm_buf_append(&o->b, p, n);
	o->line_start = 0;
}

/* put_text - write a text node, collapsing white space outside <pre> */
static void
put_text(struct out *o, const unsigned char *s)
{
	const unsigned char *run;

	while (*s != '\0') {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ||
		    *s == '\f' || *s == '\v') {
			if (o->pre && *s == '\n') {
				newline(o);
			} else if (o->pre && (*s == ' ' || *s == '\t')) {
				(void)cm_buf_putc(&o->b, (char)*s);
				o->line_start = 0;
			} else if (!o->pre) {
				o->pend_space = 1;
			}
			s++;
			continue;
		}
		if (*s < 0x20 || *s == 0x7f) {
			s++;
			continue;
		}
		if (s[0] == 0xc2 && s[1] == 0xa0) {
			/* no-break space: a space that does not collapse */
			if (o->line_start && o->split) {
				s += 2;
				continue;
			}
			if (o->pend_space && !o->line_start)
				(void)cm_buf_putc(&o->b, ' ');
			o->pend_space = 0;
			(void)cm_buf_putc(&o->b, ' ');
			o->line_start = 0;
			s += 2;
			continue;
		}
		run = s;
		while (*s > 0x20 && *s != 0x7f && !(s[0] == 0xc2 &&
						    s[1] == 0xa0))
			s++;
		put_visible(o, (const char *)run, (size_t)(s - run));
	}
}

/* link_target - the href of a if it is http, https or mailto (caller
 * frees with xmlFree), else NULL */
static xmlChar *
link_target(xmlNodePtr a)
{
	xmlChar *href;
	char *p;

	href = xmlGetProp(a, (const xmlChar *)"href");
	if (href == NULL)
		return NULL;
	for (p = (char *)href; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	p = cm_str_trim((char *)href);
	if (p != (char *)href)
		memmove(href, p, strlen(p) + 1);
	if (!cm_str_has_prefix_ci((char *)href, "http://") &&
	    !cm_str_has_prefix_ci((char *)href, "https://") &&
	    !cm_str_has_prefix_ci((char *)href, "mailto:")) {
		xmlFree(href);
		return NULL;
	}
	return href;
}

/* same_as_text - true if the link text already shows the target */
static int
same_as_text(const char *text, size_t n, const char *href)
{
	size_t hn;
	const char *h = href;

	while (n > 0 && (*text == ' ' || *text == '\n')) {
		text++;
		n--;
	}
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n'))
		n--;
	if (cm_str_has_prefix_ci(h, "mailto:"))
		h += 7;
	hn = strlen(href);
	if (n == hn && strncmp(text, href, n) == 0)
		return 1;
	hn = strlen(h);
	if (n == hn && strncmp(text, h, n) == 0)
		return 1;
	if (cm_str_has_prefix_ci(h, "https://"))
		h += 8;
	else if (cm_str_has_prefix_ci(h, "http://"))
		h += 7;
	hn = strlen(h);
	if (hn > 0 && h[hn - 1] == '/')
		hn--;
	return n == hn && strncmp(text, h, n) == 0;
}

/* attr_lower - the attribute name of node in lower case into buf, or
 * "" (at most cap - 1 bytes) */
static const char *
attr_lower(xmlNodePtr node, const char *name, char *buf, size_t cap)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
	size_t i;

	buf[0] = '\0';
	if (v == NULL)
		return buf;
	for (i = 0; v[i] != '\0' && i + 1 < cap; i++)
		buf[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
	buf[i] = '\0';
	xmlFree(v);
	return buf;
}

/* class_token - true if the class list cls has a token ending in tok */
static int
class_token(const char *cls, const char *tok)
{
	const char *p = cls, *e;
	size_t k = strlen(tok), n;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p;
		while (*e != '\0' && *e != ' ' && *e != '\t')
			e++;
		n = (size_t)(e - p);
		if (n >= k && memcmp(e - k, tok, k) == 0)
			return 1;
		p = e;
	}
	return 0;
}

/*
 * marker - the kind of quote marker node is: 0 none, 1 a container (the
 * quote is inside: blockquote, gmail_quote, yahoo_quoted), 2 a header
 * (everything after it is the old message: Outlook's divRplyFwdMsg and
 * border-top blocks, Hotmail's stopSpelling, Thunderbird's
 * moz-cite-prefix, OLK_SRC_BODY_SECTION, OutlookMessageHeader)
 */
static int
marker(xmlNodePtr node, const char *name)
{
	char cls[256], id[64], style[512];

	if (strcmp(name, "blockquote") == 0)
		return 1;
	if (strcmp(name, "div") != 0 && strcmp(name, "hr") != 0 &&
	    strcmp(name, "span") != 0 && strcmp(name, "p") != 0)
		return 0;
	attr_lower(node, "class", cls, sizeof(cls));
	attr_lower(node, "id", id, sizeof(id));
	if (class_token(cls, "gmail_quote") || class_token(cls, "yahoo_quoted")
	    || class_token(cls, "protonmail_quote") ||
	    class_token(cls, "zmail_extra"))
		return 1;
	if (class_token(cls, "moz-cite-prefix") ||
	    class_token(cls, "outlookmessageheader") ||
	    class_token(id, "divrplyfwdmsg") || class_token(id, "stopspelling")
	    || class_token(id, "olk_src_body_section"))
		return 2;
	if (strcmp(name, "div") == 0) {
		attr_lower(node, "style", style, sizeof(style));
		if (strstr(style, "border-top:solid") != NULL ||
		    strstr(style, "border-top: solid") != NULL ||
		    strstr(style, "border-top-style: solid") != NULL ||
		    strstr(style, "border-top-style:solid") != NULL)
			return 2;
	}
	return 0;
}

/* split_enter - note quote markers on the way in */
static void
split_enter(struct out *o, xmlNodePtr node, const char *name)
{
	int k;

	if (o->split == 2) {
		if (strcmp(name, "blockquote") == 0)
			o->qdepth++;
		return;
	}
	k = marker(node, name);
	if (k == 0)
		return;
	if (o->cut == NULL) {
		line_break(o);
		o->cut = node;
		o->header_cut = k == 2;
		o->cut_at = o->b.len;
	}
	if (o->cut != NULL)
		o->in_marker++;
}

/* split_leave - note quote markers on the way out */
static void
split_leave(struct out *o, xmlNodePtr node, const char *name)
{
	if (o->split == 2) {
		if (strcmp(name, "blockquote") == 0 && o->qdepth > 0) {
			o->qdepth--;
			line_break(o);
		}
		return;
	}
	if (o->cut != NULL && o->in_marker > 0 && marker(node, name) != 0)
		o->in_marker--;
}

/* enter - handle the start of node; returns 1 to walk its children */
static int
enter(struct out *o, xmlNodePtr node)
{
	const char *name;

	if (node->type == XML_TEXT_NODE ||
	    node->type == XML_CDATA_SECTION_NODE) {
		if (node->content != NULL)
			put_text(o, node->content);
		return 0;
	}
	if (node->type != XML_ELEMENT_NODE || node->name == NULL)
		return 0;
	name = (const char *)node->name;
	if (in_list(name, skip_tags, CM_ARRAY_SIZE(skip_tags)))
		return 0;
	if (o->split)
		split_enter(o, node, name);
	if (strcmp(name, "br") == 0) {
		newline(o);
		return 0;
	}
	if (o->split && strcmp(name, "hr") == 0) {
		line_break(o);
		put_visible(o, "----------", 10);
		line_break(o);
		return 0;
	}
	if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
		o->pend_space = 1;
	} else if (in_list(name, para_tags, CM_ARRAY_SIZE(para_tags))) {
		para_break(o);
	} else if (in_list(name, line_tags, CM_ARRAY_SIZE(line_tags))) {
		line_break(o);
	}
	if (strcmp(name, "pre") == 0)
		o->pre++;
	if (strcmp(name, "li") == 0)
		put_visible(o, "- ", 2);
	if (strcmp(name, "a") == 0)
		node->_private = (void *)(uintptr_t)o->b.len;
	return 1;
}

/* leave - handle the end of an element whose children were walked */
static void
leave(struct out *o, xmlNodePtr node)
{
	const char *name;
	xmlChar *href;
	size_t start;

	if (node->type != XML_ELEMENT_NODE || node->name == NULL)
		return;
	name = (const char *)node->name;
	if (o->split)
		split_leave(o, node, name);
	if (strcmp(name, "pre") == 0 && o->pre > 0)
		o->pre--;
	if (strcmp(name, "a") == 0) {
		href = link_target(node);
		start = (size_t)(uintptr_t)node->_private;
		if (start > o->b.len)
			start = o->b.len;
		if (href != NULL && !same_as_text(o->b.data != NULL ?
						  o->b.data + start : "",
						  o->b.len - start,
						  (const char *)href)) {
			put_visible(o, " <", 2);
			(void)cm_buf_puts(&o->b, (const char *)href);
			(void)cm_buf_putc(&o->b, '>');
		}
		if (href != NULL)
			xmlFree(href);
		node->_private = NULL;
	}
	if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
		o->pend_space = 1;
	if (in_list(name, para_tags, CM_ARRAY_SIZE(para_tags)))
		para_break(o);
	else if (in_list(name, line_tags, CM_ARRAY_SIZE(line_tags)))
		line_break(o);
}

/* walk - depth-first walk of the tree under doc without recursion */
static void
walk(struct out *o, xmlDocPtr doc)
{
	xmlNodePtr node = doc->children;
	xmlNodePtr top = (xmlNodePtr)doc;
	int desc;

	while (node != NULL && node != top) {
		desc = enter(o, node);
		if (desc && node->children != NULL) {
			node = node->children;
			continue;
		}
		if (desc)
			leave(o, node);
		for (;;) {
			if (node->next != NULL) {
				node = node->next;
				break;
			}
			node = node->parent;
			if (node == NULL || node == top)
				return;
			leave(o, node);
		}
	}
}

/* steal - the buffer's contents as a string, "" when empty */
static char *
steal(struct cm_buf *b)
{
	char *s = cm_buf_steal(b);

	cm_buf_free(b);
	return s != NULL ? s : cm_xstrdup("");
}

/* tidy - trailing spaces off every line, no blank lines at either end,
 * at most one blank line in a row; returns a new string */
static char *
tidy(const char *s, size_t len)
{
	struct cm_buf b;
	size_t i = 0, end, e;
	int blanks = 0, any = 0;

	cm_buf_init(&b, 0);
	while (i < len) {
		end = i;
		while (end < len && s[end] != '\n')
			end++;
		e = end;
		while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t'))
			e--;
		if (e == i) {
			blanks++;
		} else {
			if (any && blanks > 0)
				(void)cm_buf_puts(&b, "\n\n");
			else if (any)
				(void)cm_buf_putc(&b, '\n');
			(void)cm_buf_append(&b, s + i, e - i);
			any = 1;
			blanks = 0;
		}
		i = end + 1;
	}
	return steal(&b);
}

/* cm_html_to_text - UTF-8 text of html[0..len); caller frees */
char *
cm_html_to_text(const char *html, size_t len)
{
	struct out o;
	htmlDocPtr doc = NULL;
	char *ret, *text;
	int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
		   HTML_PARSE_NOWARNING | HTML_PARSE_NONET;

	memset(&o, 0, sizeof(o));
	cm_buf_init(&o.b, 0);
	o.line_start = 1;
	if (html == NULL || len == 0 || len > (size_t)INT32_MAX)
		goto out;
	silence();
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8", opts);
	if (doc == NULL)
		goto out;
	walk(&o, doc);
out:
	text = tidy(o.b.data != NULL ? o.b.data : "", o.b.len);
	ret = cm_utf8_clean(text, strlen(text));
	free(text);
	if (doc != NULL)
		xmlFreeDoc(doc);
	cm_buf_free(&o.b);
	return ret;
}

/* cm_html_split - the text before the first quote and from there on */
void
cm_html_split(const char *html, size_t len, char **reply_r,
	      char **quoted_r)
{
	struct out o;
	htmlDocPtr doc = NULL;
	char *t;
	int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
		   HTML_PARSE_NOWARNING | HTML_PARSE_NONET;

	*reply_r = NULL;
	*quoted_r = NULL;
	memset(&o, 0, sizeof(o));
	cm_buf_init(&o.b, 0);
	o.line_start = 1;
	o.split = 1;
	if (html == NULL || len == 0 || len > (size_t)INT32_MAX)
		goto out;
	silence();
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8", opts);
	if (doc == NULL)
		goto out;
	walk(&o, doc);
	if (o.cut != NULL && !o.header_cut && o.after > 0) {
		/* an interleaved reply: quotes as "> " lines, no cut */
		cm_buf_free(&o.b);
		memset(&o, 0, sizeof(o));
		cm_buf_init(&o.b, 0);
		o.line_start = 1;
		o.split = 2;
		walk(&o, doc);
	}
	if (o.cut != NULL && o.split == 1) {
		t = tidy(o.b.data != NULL ? o.b.data + o.cut_at : "",
			 o.b.len - o.cut_at);
		*quoted_r = cm_utf8_clean(t, strlen(t));
		free(t);
		o.b.len = o.cut_at;
		if (o.b.data != NULL)
			o.b.data[o.b.len] = '\0';
	}
out:
	t = tidy(o.b.data != NULL ? o.b.data : "", o.b.len);
	*reply_r = cm_utf8_clean(t, strlen(t));
	free(t);
	if (*quoted_r != NULL && **quoted_r == '\0') {
		free(*quoted_r);
		*quoted_r = NULL;
	}
	if (doc != NULL)
		xmlFreeDoc(doc);
	cm_buf_free(&o.b);
}

/* cm_html_escape - HTML-escaped copy of s; caller frees */
char *
cm_html_escape(const char *s)
{
	struct cm_buf b;

	cm_buf_init(&b, 0);
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			(void)cm_buf_puts(&b, "&amp;");
			break;
		case '<':
			(void)cm_buf_puts(&b, "&lt;");
			break;
		case '>':
			(void)cm_buf_puts(&b, "&gt;");
			break;
		case '"':
			(void)cm_buf_puts(&b, "&quot;");
			break;
		case '\'':
			(void)cm_buf_puts(&b, "&#39;");
			break;
		default:
			(void)cm_buf_putc(&b, *s);
			break;
		}
	}
	return steal(&b);
}
