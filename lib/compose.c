/*
 * compose.c - building outgoing messages with GMime
 *
 * SYNOPSIS
 *	See cm_compose.h.
 *
 * DESCRIPTION
 *	The building half of the mime module: a GMimeMessage is assembled
 *	from checked pieces, written to a memory stream with the requested
 *	line ends and copied out. A struct cm_composer keeps the last
 *	message (its only GMime objects kept between calls, released by
 *	cm_composer_free: R13) so that the next message of the same shape
 *	only has its values replaced; cm_compose_build uses a composer of
 *	its own and frees it before return. cm_compose_inspect reads a
 *	message back with GMime's parser for the tests and for --dry-run.
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
 *	C1, U+2028, U+2029) or the build fails. Bidirectional controls
 *	(U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C) are
 *	removed from the display names and the subject.
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
	     (c->unsub_https != NULL &&
	      !url_ok(c->unsub_https, "https://")))) {
		set_error("List-Unsubscribe needs a mailto: target, and an "
			  "https: one for one-click");
		return CM_ERR;
	}
	if (!cm_utf8_valid(c->text, strlen(c->text)) ||
	    (c->html != NULL && !cm_utf8_valid(c->html, strlen(c->html)))) {
		set_error("body is not valid UTF-8");
		return CM_ERR;
	}
	return 0;
}

/* set_text - the content of text part tp: the bytes as given */
static void
set_text(GMimeObject *tp, const char *text)
{
	GMimeStream *s;
	GMimeDataWrapper *w;

	s = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	w = g_mime_data_wrapper_new_with_stream(s,
					GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(GMIME_PART(tp), w);
	g_object_unref(w);
	g_object_unref(s);
}

/* text_part - a quoted-printable UTF-8 text part of subtype sub */
static GMimeObject *
text_part(const char *sub, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(sub);

	/* the bytes as given, declared UTF-8
	 * (g_mime_text_part_set_text would pick a legacy charset when
	 * one fits) */
	set_text(GMIME_OBJECT(tp), text);
	g_mime_text_part_set_charset(tp, "utf-8");
	g_mime_part_set_content_encoding(
		GMIME_PART(tp), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_OBJECT(tp);
}

/* the fields whose presence makes a message's shape (its headers and
 * parts); only the values differ between messages of one shape */
#define SHAPE_RETURN_PATH 0x01
#define SHAPE_REPLY_TO 0x02
#define SHAPE_IN_REPLY_TO 0x04
#define SHAPE_UNSUB 0x08
#define SHAPE_INTERNAL 0x10
#define SHAPE_HTML 0x20
#define SHAPE_ONE_CLICK 0x40

/*
 * struct cm_composer - the last message built, kept so that the next of
 * the same shape only has its values replaced: GMime makes and destroys
 * some forty objects per message otherwise, most of the cost of
 * building one.
 */
struct cm_composer {
	GMimeMessage *msg; /* NULL: nothing kept */
	GMimeObject *body; /* its MIME part, owned here until set_values */
	GMimeObject *text, *html;
	unsigned shape;
	char *from_name, *from_addr; /* the From of msg */
	GMimeFormatOptions *fo[2];   /* LF, CRLF */
};

/* shape_of - the shape of c */
static unsigned
shape_of(const struct cm_compose *c)
{
	return (c->return_path != NULL ? SHAPE_RETURN_PATH : 0) |
	       (c->reply_to != NULL ? SHAPE_REPLY_TO : 0) |
	       (c->in_reply_to != NULL ? SHAPE_IN_REPLY_TO : 0) |
	       (c->unsub_mailto != NULL ? SHAPE_UNSUB : 0) |
	       (c->unsub_https != NULL ? SHAPE_ONE_CLICK : 0) |
	       (c->internal ? SHAPE_INTERNAL : 0) |
	       (c->html != NULL ? SHAPE_HTML : 0);
}

/* forget - drop the kept message */
static void
forget(struct cm_composer *z)
{
	if (z->body != NULL)
		g_object_unref(z->body);
	if (z->msg != NULL)
		g_object_unref(z->msg);
	z->msg = NULL;
	z->body = z->text = z->html = NULL;
	z->shape = 0;
	free(z->from_name);
	free(z->from_addr);
	z->from_name = z->from_addr = NULL;
}

/* cm_composer_new - an empty composer */
struct cm_composer *
cm_composer_new(void)
{
	struct cm_composer *z;

	cm_mime_init();
	z = cm_xcalloc(1, sizeof(*z));
	for (int i = 0; i < 2; i++) {
		z->fo[i] = g_mime_format_options_new();
		g_mime_format_options_set_newline_format(
			z->fo[i], i ? GMIME_NEWLINE_FORMAT_DOS
				    : GMIME_NEWLINE_FORMAT_UNIX);
	}
	return z;
}

/* cm_composer_free - free; sets *z NULL */
void
cm_composer_free(struct cm_composer **z)
{
	if (z == NULL || *z == NULL)
		return;
	forget(*z);
	for (int i = 0; i < 2; i++)
		g_mime_format_options_free((*z)->fo[i]);
	free(*z);
	*z = NULL;
}

/* set_mailbox - the one address of the list of type t */
static void
set_mailbox(GMimeMessage *msg, GMimeAddressType t, const char *name,
	    const char *addr)
{
	InternetAddressList *l = g_mime_message_get_addresses(msg, t);
	InternetAddress *ia = internet_address_mailbox_new(name, addr);

	/* one change (and one re-encoding of the header), not two */
	if (internet_address_list_length(l) == 1)
		internet_address_list_set_address(l, 0, ia);
	else
		internet_address_list_add(l, ia);
	g_object_unref(ia);
}

/* set_header - header name of msg to value, in place when it exists */
static void
set_header(GMimeMessage *msg, const char *name, const char *value)
{
	g_mime_object_set_header(GMIME_OBJECT(msg), name, value, NULL);
}

/* set_values - every value of c into z's message of c's shape; the
 * headers are made in this order the first time (fresh), when the
 * fixed ones are set too */
static void
set_values(struct cm_composer *z, const struct cm_compose *c, bool fresh)
{
	GMimeMessage *msg = z->msg;
	GDateTime *dt;
	char *v;

	if (c->return_path != NULL) {
		v = cm_xasprintf("<%s>", c->return_path);
		set_header(msg, "Return-Path", v);
		free(v);
	}
	/* the same From for every notice: keep it (and its encoding) */
	if (fresh || g_strcmp0(z->from_name, c->from_name) != 0 ||
	    g_strcmp0(z->from_addr, c->from_addr) != 0) {
		set_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, c->from_name,
			    c->from_addr);
		free(z->from_name);
		free(z->from_addr);
		z->from_name =
			c->from_name != NULL ? cm_xstrdup(c->from_name) : NULL;
		z->from_addr = cm_xstrdup(c->from_addr);
	}
	set_mailbox(msg, GMIME_ADDRESS_TYPE_TO, c->to_name, c->to_addr);
	if (c->reply_to != NULL)
		set_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO, NULL,
			    c->reply_to);
	g_mime_message_set_subject(msg, c->subject, "utf-8");
	dt = g_date_time_new_from_unix_utc(c->date);
	g_mime_message_set_date(msg, dt);
	g_date_time_unref(dt);
	g_mime_message_set_message_id(msg, c->message_id);
	if (c->in_reply_to != NULL) {
		v = cm_xasprintf("<%s>", c->in_reply_to);
		set_header(msg, "In-Reply-To", v);
		set_header(msg, "References", v);
		free(v);
	}
	if (fresh)
		set_header(msg, "Auto-Submitted", "auto-generated");
	if (c->unsub_mailto != NULL) {
		/* the https target (and with it one-click, which RFC 8058
		 * allows over https only) when there is one */
		if (c->unsub_https != NULL)
			v = cm_xasprintf("<%s>, <%s>", c->unsub_mailto,
					 c->unsub_https);
		else
			v = cm_xasprintf("<%s>", c->unsub_mailto);
		set_header(msg, "List-Unsubscribe", v);
		/* our own folding: GMime would encode a long URL as words */
		free(v);
		if (c->unsub_https != NULL)
			v = cm_xasprintf(" <%s>,\n <%s>\n", c->unsub_mailto,
					 c->unsub_https);
		else
			v = cm_xasprintf(" <%s>\n", c->unsub_mailto);
		g_mime_header_set_raw_value(
			g_mime_header_list_get_header(
				g_mime_object_get_header_list(
					GMIME_OBJECT(msg)),
				"List-Unsubscribe"),
			v);
		free(v);
		if (fresh && c->unsub_https != NULL)
			set_header(msg, "List-Unsubscribe-Post",
				   "List-Unsubscribe=One-Click");
	}
	if (fresh && c->internal)
		set_header(msg, "X-Casemail-Internal", "yes");
	if (fresh) {
		/* after the headers: setting the part adds MIME-Version
		 * when it is missing */
		set_header(msg, "MIME-Version", "1.0");
		g_mime_message_set_mime_part(msg, z->body);
		g_object_unref(z->body);
		z->body = NULL;
	}
	set_text(z->text, c->text);
	if (c->html != NULL) {
		unsigned char rnd[16];
		char hex[2 * sizeof(rnd) + 1], boundary[48];

		/* our own boundary, fresh for every message (GMime's
		 * would be read from /dev/urandom) */
		cm_token_random(rnd, sizeof(rnd));
		cm_token_hex(rnd, sizeof(rnd), hex);
		(void)snprintf(boundary, sizeof(boundary), "=-cm-%s", hex);
		g_mime_multipart_set_boundary(
			GMIME_MULTIPART(z->body != NULL
					    ? z->body
					    : g_mime_message_get_mime_part(
						      msg)),
			boundary);
		set_text(z->html, c->html);
	}
}

/* make - a new message of c's shape in z, its parts empty */
static void
make(struct cm_composer *z, const struct cm_compose *c)
{
	GMimeObject *body;
	GMimeContentType *ct;

	forget(z);
	z->msg = g_mime_message_new(FALSE);
	z->shape = shape_of(c);
	z->text = text_part("plain", "");
	if (c->html == NULL) {
		z->body = z->text;
		return;
	}
	/* g_mime_multipart_new_with_subtype would make a boundary from
	 * /dev/urandom (open, read, close) only for it to be replaced */
	body = GMIME_OBJECT(g_object_new(GMIME_TYPE_MULTIPART, NULL));
	ct = g_mime_content_type_new("multipart", "alternative");
	g_mime_object_set_content_type(body, ct);
	g_object_unref(ct);
	z->html = text_part("html", "");
	g_mime_multipart_add(GMIME_MULTIPART(body), z->text);
	g_mime_multipart_add(GMIME_MULTIPART(body), z->html);
	g_object_unref(z->text);
	g_object_unref(z->html);
	z->body = body;
}

/*
 * no_bidi - s, or a copy without bidirectional controls in *copy_r
 * (caller frees) when it may hold one. A victim's chosen name goes into
 * the officer's subject: an override there could show its words in an
 * order that hides what they say.
 */
static const char *
no_bidi(const char *s, char **copy_r)
{
	*copy_r = NULL;
	/* every bidi control begins with one of these two bytes */
	if (s == NULL || strpbrk(s, "\xe2\xd8") == NULL)
		return s;
	*copy_r = cm_str_strip_bidi(cm_xstrdup(s));
	return *copy_r;
}

/* cm_composer_build - the message as bytes (see cm_compose.h) */
int
cm_composer_build(struct cm_composer *z, const struct cm_compose *orig,
		  char **data_r, size_t *len_r, const char **error_r)
{
	GMimeStream *ms = NULL;
	GByteArray *ba;
	struct cm_compose cc = *orig;
	const struct cm_compose *c = &cc;
	char *from_name = NULL, *to_name = NULL, *subject = NULL;
	bool fresh = false;
	int ret;

	cc.from_name = no_bidi(orig->from_name, &from_name);
	cc.to_name = no_bidi(orig->to_name, &to_name);
	cc.subject = no_bidi(orig->subject, &subject);
	if ((ret = check(c)) < 0)
		goto out;
	if (z->msg == NULL || z->shape != shape_of(c)) {
		make(z, c);
		fresh = true;
	}
	set_values(z, c, fresh);
	ms = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(GMIME_OBJECT(z->msg),
					  z->fo[c->crlf ? 1 : 0], ms) < 0) {
		set_error("cannot write the message");
		forget(z);
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
	free(subject);
	free(to_name);
	free(from_name);
	return ret;
}

/* cm_compose_build - the message as bytes, with a composer of its own */
int
cm_compose_build(const struct cm_compose *c, char **data_r, size_t *len_r,
		 const char **error_r)
{
	struct cm_composer *z = cm_composer_new();
	int ret;

	ret = cm_composer_build(z, c, data_r, len_r, error_r);
	cm_composer_free(&z);
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
