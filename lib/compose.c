/*
 * compose.c - building outgoing messages with GMime
 *
 * SYNOPSIS
 *	See cm_compose.h.
 *
 * DESCRIPTION
 *	The building half of the mime module: a GMimeMessage is assembled
 *	from checked pieces, written to a memory stream with the requested
 *	line ends and copied out; every GMime object is unreferenced here
 *	before return (R13). cm_compose_inspect reads a message back with
 *	GMime's parser for the tests and for --dry-run.
 *	RFC 5322 (fields), RFC 2045-2047 (MIME, encoded words), RFC 3834
 *	(Auto-Submitted), RFC 2369 and RFC 8058 (List-Unsubscribe, one
 *	click).
 *
 * DIAGNOSTICS
 *	CM_ERR with a static message naming the field at fault.
 *
 * SECURITY
 *	Nothing reaches a header unchecked: addresses pass cm_addr_valid,
 *	every other value must be free of control characters (C0, DEL,
 *	C1, U+2028, U+2029) or the build fails.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "cm_addr.h"
#include "cm_compose.h"
#include "cm_mime.h"
#include "cm_token.h"
#include "cm_util.h"

#define MAX_VALUE 2000 /* bytes of one header value we write */

static char errbuf[256];

/* set_error - format the module error */
static void CM_ATTR_PRINTF(1, 2)
set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

/* value_ok - s is valid UTF-8 without a control character or line
 * separator, at most MAX_VALUE bytes (NULL is fine) */
static bool
value_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len;

	if (s == NULL)
		return true;
	len = strlen(s);
	if (len > MAX_VALUE || !cm_utf8_valid(s, len))
		return false;
	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return false;
		if (p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0xa8 || p[2] == 0xa9))
			return false;
	}
	return true;
}

/* id_ok - a Message-ID without brackets: printable ASCII, one '@' */
static bool
id_ok(const char *id)
{
	const char *at;

	if (id == NULL || *id == '\0' || strlen(id) > 250)
		return false;
	for (const char *p = id; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>()[]\\,;:\"", *p) != NULL)
			return false;
	at = strchr(id, '@');
	return at != NULL && at != id && at[1] != '\0' &&
	       strchr(at + 1, '@') == NULL;
}

/* url_ok - an unsubscribe target: scheme prefix, printable ASCII, no
 * blank, '<', '>' or ',' */
static bool
url_ok(const char *u, const char *scheme)
{
	if (u == NULL || strncmp(u, scheme, strlen(scheme)) != 0 ||
	    strlen(u) > MAX_VALUE)
		return false;
	for (const char *p = u; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>,\"", *p) != NULL)
			return false;
	return true;
}

/* check - every field of c; 0 or CM_ERR with the error set */
static int
check(const struct cm_compose *c)
{
	const struct {
		const char *name;
		const char *value;
	} vals[] = {
		{ "from name", c->from_name }, { "to name", c->to_name },
		{ "subject", c->subject },
	};

	if (!cm_addr_valid(c->from_addr) || !cm_addr_valid(c->to_addr) ||
	    (c->reply_to != NULL && !cm_addr_valid(c->reply_to)) ||
	    (c->return_path != NULL && *c->return_path != '\0' &&
	     !cm_addr_valid(c->return_path))) {
		set_error("invalid address");
		return CM_ERR;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(vals); i++) {
		if (!value_ok(vals[i].value)) {
			set_error("%s: control character or invalid UTF-8",
				  vals[i].name);
			return CM_ERR;
		}
	}
	if (c->subject == NULL || c->text == NULL) {
		set_error("subject and text are required");
		return CM_ERR;
	}
	if (!id_ok(c->message_id) ||
	    (c->in_reply_to != NULL && !id_ok(c->in_reply_to))) {
		set_error("malformed Message-ID");
		return CM_ERR;
	}
	if ((c->unsub_mailto != NULL || c->unsub_https != NULL) &&
	    (!url_ok(c->unsub_mailto, "mailto:") ||
	     !url_ok(c->unsub_https, "https://"))) {
		set_error("List-Unsubscribe needs a mailto: and an https: "
			  "target");
		return CM_ERR;
	}
	if (!cm_utf8_valid(c->text, strlen(c->text)) ||
	    (c->html != NULL && !cm_utf8_valid(c->html, strlen(c->html)))) {
		set_error("body is not valid UTF-8");
		return CM_ERR;
	}
	return 0;
}

/* text_part - a quoted-printable UTF-8 text part of subtype sub */
static GMimeObject *
text_part(const char *sub, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(sub);
	GMimeStream *s;
	GMimeDataWrapper *w;

	/* the bytes as given, declared UTF-8 (set_text would pick a
	 * legacy charset when one fits) */
	s = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	w = g_mime_data_wrapper_new_with_stream(s,
					GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(GMIME_PART(tp), w);
	g_object_unref(w);
	g_object_unref(s);
	g_mime_text_part_set_charset(tp, "utf-8");
	g_mime_part_set_content_encoding(
		GMIME_PART(tp), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_OBJECT(tp);
}

/* cm_compose_build - the message as bytes */
int
cm_compose_build(const struct cm_compose *c, char **data_r, size_t *len_r,
		 const char **error_r)
{
	GMimeMessage *msg = NULL;
	GMimeObject *body = NULL, *part = NULL;
	GMimeFormatOptions *fo = NULL;
	GMimeStream *ms = NULL;
	GByteArray *ba;
	GDateTime *dt = NULL;
	char *v = NULL;
	int ret;

	cm_mime_init();
	if ((ret = check(c)) < 0)
		goto out;
	msg = g_mime_message_new(FALSE);
	if (c->return_path != NULL) {
		v = cm_xasprintf("<%s>", c->return_path);
		g_mime_object_append_header(GMIME_OBJECT(msg), "Return-Path",
					    v, NULL);
		free(v);
		v = NULL;
	}
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, c->from_name,
				   c->from_addr);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, c->to_name,
				   c->to_addr);
	if (c->reply_to != NULL)
		g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO,
					   NULL, c->reply_to);
	g_mime_message_set_subject(msg, c->subject, "utf-8");
	dt = g_date_time_new_from_unix_utc(c->date);
	g_mime_message_set_date(msg, dt);
	g_mime_message_set_message_id(msg, c->message_id);
	if (c->in_reply_to != NULL) {
		v = cm_xasprintf("<%s>", c->in_reply_to);
		g_mime_object_append_header(GMIME_OBJECT(msg), "In-Reply-To",
					    v, NULL);
		g_mime_object_append_header(GMIME_OBJECT(msg), "References",
					    v, NULL);
		free(v);
		v = NULL;
	}
	g_mime_object_append_header(GMIME_OBJECT(msg), "Auto-Submitted",
				    "auto-generated", NULL);
	if (c->unsub_mailto != NULL) {
		v = cm_xasprintf("<%s>, <%s>", c->unsub_mailto,
				 c->unsub_https);
		g_mime_object_append_header(GMIME_OBJECT(msg),
					    "List-Unsubscribe", v, NULL);
		/* our own folding: GMime would encode a long URL as words */
		free(v);
		v = cm_xasprintf(" <%s>,\n <%s>\n", c->unsub_mailto,
				 c->unsub_https);
		g_mime_header_set_raw_value(
			g_mime_header_list_get_header(
				g_mime_object_get_header_list(
					GMIME_OBJECT(msg)),
				"List-Unsubscribe"),
			v);
		g_mime_object_append_header(GMIME_OBJECT(msg),
					    "List-Unsubscribe-Post",
					    "List-Unsubscribe=One-Click",
					    NULL);
		free(v);
		v = NULL;
	}
	if (c->internal)
		g_mime_object_append_header(GMIME_OBJECT(msg),
					    "X-Casemail-Internal", "yes",
					    NULL);
	g_mime_object_append_header(GMIME_OBJECT(msg), "MIME-Version", "1.0",
				    NULL);
	if (c->html != NULL) {
		unsigned char rnd[16];
		char hex[2 * sizeof(rnd) + 1], boundary[48];
		GMimeContentType *ct;

		/* g_mime_multipart_new_with_subtype would make a boundary
		 * from /dev/urandom (open, read, close per message) only for
		 * it to be replaced: the same steps, with our own boundary */
		body = GMIME_OBJECT(g_object_new(GMIME_TYPE_MULTIPART, NULL));
		ct = g_mime_content_type_new("multipart", "alternative");
		g_mime_object_set_content_type(body, ct);
		g_object_unref(ct);
		cm_token_random(rnd, sizeof(rnd));
		cm_token_hex(rnd, sizeof(rnd), hex);
		(void)snprintf(boundary, sizeof(boundary), "=-cm-%s", hex);
		g_mime_multipart_set_boundary(GMIME_MULTIPART(body),
					      boundary);
		part = text_part("plain", c->text);
		g_mime_multipart_add(GMIME_MULTIPART(body), part);
		g_object_unref(part);
		part = text_part("html", c->html);
		g_mime_multipart_add(GMIME_MULTIPART(body), part);
		g_object_unref(part);
		part = NULL;
	} else {
		body = text_part("plain", c->text);
	}
	g_mime_message_set_mime_part(msg, body);

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(
		fo, c->crlf ? GMIME_NEWLINE_FORMAT_DOS
			    : GMIME_NEWLINE_FORMAT_UNIX);
	ms = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, ms) < 0) {
		set_error("cannot write the message");
		ret = CM_ERR;
		goto out;
	}
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	*data_r = cm_xmalloc(ba->len + 1);
	memcpy(*data_r, ba->data, ba->len);
	(*data_r)[ba->len] = '\0';
	*len_r = ba->len;
	ret = 0;
out:
	if (ret < 0)
		*error_r = errbuf;
	if (ms != NULL)
		g_object_unref(ms);
	if (fo != NULL)
		g_mime_format_options_free(fo);
	if (body != NULL)
		g_object_unref(body);
	if (dt != NULL)
		g_date_time_unref(dt);
	if (msg != NULL)
		g_object_unref(msg);
	return ret;
}

/* cm_compose_message_id - a fresh Message-ID: the time first (fixed
 * width, so that IDs sort by time and the store's index on them grows
 * at one end instead of taking a random page per notice), then 128
 * random bits */
char *
cm_compose_message_id(const char *domain, int64_t now)
{
	unsigned char raw[16];
	char hex[33];

	cm_token_random(raw, sizeof(raw));
	cm_token_hex(raw, sizeof(raw), hex);
	return cm_xasprintf("%012lld.%s@%s", (long long)(now > 0 ? now : 0),
			    hex, domain);
}

/* struct strv - a growing array of owned strings */
struct strv {
	char **v;
	size_t n, cap;
};

/* strv_add - append a copy of s */
static void
strv_add(struct strv *a, const char *s)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->v = cm_xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = cm_xstrdup(s != NULL ? s : "");
}

/* walk - collect the leaf parts of obj */
static void
walk(GMimeObject *obj, struct strv *types, struct strv *texts, int depth)
{
	GMimeContentType *ct;
	char *t;

	if (depth > CM_MAX_MIME_DEPTH)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n; i++)
			walk(g_mime_multipart_get_part(mp, i), types, texts,
			     depth + 1);
		return;
	}
	ct = g_mime_object_get_content_type(obj);
	t = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;
	strv_add(types, t != NULL ? t : "");
	g_free(t);
	if (GMIME_IS_TEXT_PART(obj)) {
		t = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
		strv_add(texts, t);
		g_free(t);
	} else {
		strv_add(texts, "");
	}
}

/* cm_compose_inspect - parse a message back with GMime */
int
cm_compose_inspect(const char *data, size_t len, struct cm_inspect *in_r,
		   const char **error_r)
{
	struct strv names = { 0 }, values = { 0 }, types = { 0 },
		    texts = { 0 };
	GMimeStream *ms = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	GMimeHeaderList *hl;
	int ret = CM_ERR, n;

	cm_mime_init();
	memset(in_r, 0, sizeof(*in_r));
	ms = g_mime_stream_mem_new_with_buffer(data, len);
	parser = g_mime_parser_new_with_stream(ms);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL) {
		set_error("not a message");
		*error_r = errbuf;
		goto out;
	}
	hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	n = g_mime_header_list_get_count(hl);
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);

		strv_add(&names, g_mime_header_get_name(h));
		strv_add(&values, g_mime_header_get_value(h));
	}
	if (g_mime_message_get_mime_part(msg) != NULL)
		walk(g_mime_message_get_mime_part(msg), &types, &texts, 0);
	in_r->n_headers = names.n;
	in_r->names = names.v;
	in_r->values = values.v;
	in_r->n_parts = types.n;
	in_r->types = types.v;
	in_r->texts = texts.v;
	ret = 0;
out:
	if (msg != NULL)
		g_object_unref(msg);
	if (parser != NULL)
		g_object_unref(parser);
	if (ms != NULL)
		g_object_unref(ms);
	return ret;
}

/* cm_compose_inspect_header - first header named name */
const char *
cm_compose_inspect_header(const struct cm_inspect *in, const char *name)
{
	for (size_t i = 0; i < in->n_headers; i++)
		if (strcasecmp(in->names[i], name) == 0)
			return in->values[i];
	return NULL;
}

/* free_strv - free n strings and the array */
static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* cm_compose_inspect_free - free what cm_compose_inspect made */
void
cm_compose_inspect_free(struct cm_inspect *in)
{
	free_strv(in->names, in->n_headers);
	free_strv(in->values, in->n_headers);
	free_strv(in->types, in->n_parts);
	free_strv(in->texts, in->n_parts);
	memset(in, 0, sizeof(*in));
}
