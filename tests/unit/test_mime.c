/*
 * test_mime.c - unit tests for lib/mime.c
 *
 * DESCRIPTION
 *	A table of small raw messages with the facts a reader must get out
 *	of them (addresses, decoded subjects, bodies in UTF-8 from every
 *	transfer encoding and charset, attachments with size, SHA-256 and
 *	sanitised names, defects), then the hostile inputs: nesting, parts,
 *	header bombs, oversize messages and attachments, NUL bytes, and the
 *	raw header reader cm_mime_header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cm_limits.h"
#include "cm_mime.h"
#include "cm_util.h"

#define NUL_MSG "From: a@b.example\n\nHel\0lo\n"
#define LATIN_NUL "From: a@b.example\n\nCaf\xe9\0 ok\n"
#define SHA_HELLO \
	"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"

/* One message and what must come out of it; NULL fields are not
 * checked, "" means "must be absent" for the optional strings. */
struct mcase {
	const char *raw;
	size_t len;          /* 0: strlen(raw) */
	const char *from;
	const char *from_name;
	const char *subject;
	const char *body;
	int from_html;       /* -1: not checked */
	int n_att;           /* -1: not checked */
	const char *att_name;
	const char *att_type;
	long att_size;
	const char *att_sha;
	const char *defect;  /* must be among the defects */
	const char *content_type;
};

static const struct mcase cases[] = {
	/* 0: plain text, display name, domain lower-cased */
	{"From: Jane Doe <Jane.Doe@Example.COM>\n"
	 "To: reply+abc@cases.example\n"
	 "Subject: Hello\n"
	 "Message-ID: <a1@x.example>\n"
	 "\n"
	 "Hi there.\n",
	 0, "Jane.Doe@example.com", "Jane Doe", "Hello", "Hi there.\n", 0,
	 0, NULL, NULL, 0, NULL, NULL, "text/plain"},
	/* 1: quoted-printable ISO-8859-1 */
	{"From: a@b.example\n"
	 "Content-Type: text/plain; charset=ISO-8859-1\n"
	 "Content-Transfer-Encoding: quoted-printable\n"
	 "\n"
	 "Caf=E9 cr=E8me, tr=\n"
	 "=E8s bon\n",
	 0, "a@b.example", NULL, NULL, "Caf\xc3\xa9 cr\xc3\xa8me, "
	 "tr\xc3\xa8s bon\n", 0, 0, NULL, NULL, 0, NULL, NULL, NULL},
	/* 2: base64 UTF-8 */
	{"From: a@b.example\n"
	 "Content-Type: text/plain; charset=utf-8\n"
	 "Content-Transfer-Encoding: base64\n"
	 "\n"
	 "R3LDvMOfZSBhdXMgTcO8bmNoZW4K\n",
	 0, NULL, NULL, NULL, "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen\n",
	 0, 0, NULL, NULL, 0, NULL, NULL, NULL},
	/* 3: RFC 2047 Q ISO-8859-1 subject and display name */
	{"From: =?ISO-8859-1?Q?Ren=E9_Dupont?= <rene@b.example>\n"
	 "Subject: =?ISO-8859-1?Q?Caf=E9_ouvert?=\n"
	 "\n"
	 "x\n",
	 0, "rene@b.example", "Ren\xc3\xa9 Dupont", "Caf\xc3\xa9 ouvert",
	 "x\n", 0, 0, NULL, NULL, 0, NULL, NULL, NULL},
	/* 4: RFC 2047 B UTF-8 subject */
	{"From: a@b.example\n"
	 "Subject: =?UTF-8?B?R3LDvMOfZQ==?= from home\n"
	 "\n"
	 "x\n",
	 0, NULL, NULL, "Gr\xc3\xbc\xc3\x9f" "e from home", "x\n", 0, 0,
	 NULL, NULL, 0, NULL, NULL, NULL},
	/* 5: RFC 2047 Q UTF-8, a character split over two words */
	{"From: a@b.example\n"
	 "Subject: =?UTF-8?Q?Gr=C3=BC=C3?=\n =?UTF-8?Q?=9Fe?=\n"
	 "\n"
	 "x\n",
	 0, NULL, NULL, "Gr\xc3\xbc\xc3\x9f" "e", "x\n", 0, 0, NULL, NULL, 0,
	 NULL, NULL, NULL},
	/* 6: RFC 2231 filename */
	{"From: a@b.example\n"
	 "Content-Type: multipart/mixed; boundary=\"b1\"\n"
	 "\n"
	 "--b1\n"
	 "Content-Type: text/plain\n"
	 "\n"
	 "See attached.\n"
	 "--b1\n"
	 "Content-Type: application/pdf\n"
	 "Content-Disposition: attachment;\n"
	 " filename*=UTF-8''R%C3%A9sum%C3%A9.pdf\n"
	 "Content-Transfer-Encoding: base64\n"
	 "\n"
	 "aGVsbG8gd29ybGQK\n"
	 "--b1--\n",
	 0, NULL, NULL, NULL, "See attached.", 0, 1,
	 "R\xc3\xa9sum\xc3\xa9.pdf", "application/pdf", 12, SHA_HELLO, NULL,
	 "multipart/mixed"},
	/* 7: undeclared 8-bit latin-1 body and header */
	{"From: a@b.example\n"
	 "Subject: Caf\xe9\n"
	 "\n"
	 "Caf\xe9 cr\xe8me \x93quoted\x94\n",
	 0, NULL, NULL, "Caf\xc3\xa9",
	 "Caf\xc3\xa9 cr\xc3\xa8me \xe2\x80\x9cquoted\xe2\x80\x9d\n", 0, 0,
	 NULL, NULL, 0, NULL, "invalid utf-8 in header", NULL},
	/* 8: multipart/alternative picks text/plain */
	{"From: a@b.example\n"
	 "Content-Type: multipart/alternative; boundary=alt\n"
	 "\n"
	 "--alt\n"
	 "Content-Type: text/plain; charset=utf-8\n"
	 "\n"
	 "Plain version\n"
	 "--alt\n"
	 "Content-Type: text/html; charset=utf-8\n"
	 "\n"
	 "<p>HTML version</p>\n"
	 "--alt--\n",
	 0, NULL, NULL, NULL, "Plain version", 0, 0, NULL, NULL, 0, NULL,
	 NULL, "multipart/alternative"},
	/* 9: HTML only is converted */
	{"From: a@b.example\n"
	 "Content-Type: text/html; charset=utf-8\n"
	 "\n"
	 "<html><head><title>T</title></head><body><p>Hello <b>world</b>"
	 "</p><p>Bye&amp;thanks</p></body></html>\n",
	 0, NULL, NULL, NULL, "Hello world\n\nBye&thanks", 1, 0, NULL, NULL,
	 0, NULL, NULL, "text/html"},
	/* 10: filename with a path is reduced to its base name */
	{"From: a@b.example\n"
	 "Content-Type: multipart/mixed; boundary=b2\n"
	 "\n"
	 "--b2\n"
	 "Content-Type: text/plain\n"
	 "\n"
	 "hi\n"
	 "--b2\n"
	 "Content-Type: application/octet-stream; name=\"x\"\n"
	 "Content-Disposition: attachment; filename=\"../../etc/passwd\"\n"
	 "\n"
	 "hello world\n"
	 "\n"
	 "--b2--\n",
	 0, NULL, NULL, NULL, "hi", 0, 1, "passwd",
	 "application/octet-stream", 12, SHA_HELLO, NULL, NULL},
	/* 11: NUL bytes in the body are removed */
	{NUL_MSG, sizeof(NUL_MSG) - 1, NULL, NULL, NULL, "Hello\n", 0, 0,
	 NULL, NULL, 0, NULL,
	 "nul bytes", NULL},
	/* 12: CRLF line ends become LF */
	{"From: a@b.example\r\n"
	 "Subject: crlf\r\n"
	 "\r\n"
	 "Line one\r\nLine two\r\n",
	 0, "a@b.example", NULL, "crlf", "Line one\nLine two\n", 0, 0, NULL,
	 NULL, 0, NULL, NULL, NULL},
	/* 13: multipart without boundary: parsed, noted */
	{"From: a@b.example\n"
	 "Content-Type: multipart/mixed\n"
	 "\n"
	 "--x\n"
	 "Content-Type: text/plain\n"
	 "\n"
	 "hi\n"
	 "--x--\n",
	 0, "a@b.example", NULL, NULL, NULL, -1, -1, NULL, NULL, 0, NULL,
	 "missing boundary", NULL},
	/* 14: unknown charset, UTF-8 bytes kept */
	{"From: a@b.example\n"
	 "Content-Type: text/plain; charset=x-bogus-42\n"
	 "\n"
	 "na\xc3\xafve\n",
	 0, NULL, NULL, NULL, "na\xc3\xafve\n", 0, 0, NULL, NULL, 0, NULL,
	 NULL, NULL},
	/* 15: declared us-ascii but latin-1 bytes */
	{"From: a@b.example\n"
	 "Content-Type: text/plain; charset=us-ascii\n"
	 "\n"
	 "na\xefve\n",
	 0, NULL, NULL, NULL, "na\xc3\xafve\n", 0, 0, NULL, NULL, 0, NULL,
	 NULL, NULL},
	/* 16: a declared charset other than latin-1 (KOI8-R) */
	{"From: a@b.example\n"
	 "Content-Type: text/plain; charset=koi8-r\n"
	 "\n"
	 "\xf0\xd2\xc9\xd7\xc5\xd4\n",
	 0, NULL, NULL, NULL,
	 "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\n", 0, 0, NULL,
	 NULL, 0, NULL, NULL, NULL},
	/* 17: forwarded message/rfc822 is one attachment; outer text wins */
	{"From: officer@force.example\n"
	 "Content-Type: multipart/mixed; boundary=o\n"
	 "\n"
	 "--o\n"
	 "Content-Type: text/plain\n"
	 "\n"
	 "FYI\n"
	 "--o\n"
	 "Content-Type: message/rfc822\n"
	 "\n"
	 "From: victim@home.example\n"
	 "Subject: inner\n"
	 "\n"
	 "inner text\n"
	 "--o--\n",
	 0, NULL, NULL, NULL, "FYI", 0, 1, "message.eml", "message/rfc822",
	 -1, NULL, NULL, NULL},
	/* 18: plain text part empty, HTML alternative used */
	{"From: a@b.example\n"
	 "Content-Type: multipart/alternative; boundary=alt\n"
	 "\n"
	 "--alt\n"
	 "Content-Type: text/plain\n"
	 "\n"
	 "\n"
	 "--alt\n"
	 "Content-Type: text/html\n"
	 "\n"
	 "<div>Only <a href=\"https://x.example/a\">here</a></div>\n"
	 "--alt--\n",
	 0, NULL, NULL, NULL, "Only here <https://x.example/a>", 1, 0, NULL,
	 NULL, 0, NULL, NULL, NULL},
	/* 19: inline image without name is an attachment */
	{"From: a@b.example\n"
	 "Content-Type: multipart/related; boundary=r\n"
	 "\n"
	 "--r\n"
	 "Content-Type: text/plain\n"
	 "\n"
	 "pic\n"
	 "--r\n"
	 "Content-Type: IMAGE/PNG\n"
	 "Content-Transfer-Encoding: base64\n"
	 "\n"
	 "aGVsbG8gd29ybGQK\n"
	 "--r--\n",
	 0, NULL, NULL, NULL, "pic", 0, 1, "attachment", "image/png", 12,
	 SHA_HELLO, NULL, NULL},
	/* 20: hostile filename: controls, leading dots, backslashes */
	{"From: a@b.example\n"
	 "Content-Type: multipart/mixed; boundary=b\n"
	 "\n"
	 "--b\n"
	 "Content-Type: application/octet-stream\n"
	 "Content-Disposition: attachment; filename=\"C:\\\\x\\\\..evil"
	 "\x01.exe\"\n"
	 "\n"
	 "z\n"
	 "--b--\n",
	 0, NULL, NULL, NULL, "", 0, 1, "evil.exe", NULL, -1, NULL, NULL,
	 NULL},
	/* 21: latin-1 with a NUL byte */
	{LATIN_NUL, sizeof(LATIN_NUL) - 1, NULL, NULL, NULL,
	 "Caf\xc3\xa9 ok\n", 0, 0, NULL, NULL, 0, NULL, "nul bytes", NULL},
	/* 22: no From at all */
	{"Subject: anonymous\n\nbody\n",
	 0, NULL, NULL, "anonymous", "body\n", 0, 0, NULL, NULL, 0, NULL,
	 "no from", NULL},
};

/* check_str - compare one optional string field of row i */
static void
check_str(size_t i, const char *field, const char *want, const char *got)
{
	if (want == NULL)
		return;
	if (*want == '\0' && got == NULL)
		return;
	if (got == NULL || strcmp(want, got) != 0) {
		print_error("row %zu %s: want \"%s\" got \"%s\"\n", i, field,
			    want, got != NULL ? got : "(null)");
		fail();
	}
}

/* has_defect - true if m lists defect d */
static int
has_defect(const struct cm_msg *m, const char *d)
{
	size_t i;

	for (i = 0; i < m->n_defects; i++)
		if (strcmp(m->defects[i], d) == 0)
			return 1;
	return 0;
}

/* test_table - every row parses to the expected facts */
static void
test_table(void **state)
{
	size_t i;
	struct cm_msg *m;
	const char *error = NULL;
	const struct mcase *c;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		c = &cases[i];
		m = NULL;
		if (cm_mime_parse(c->raw, c->len ? c->len : strlen(c->raw),
				  NULL, &m, &error) != 0) {
			print_error("row %zu: parse failed: %s\n", i, error);
			fail();
		}
		assert_non_null(m);
		assert_non_null(m->body);
		assert_true(cm_utf8_valid(m->body, strlen(m->body)));
		check_str(i, "from", c->from, m->from);
		check_str(i, "from_name", c->from_name, m->from_name);
		check_str(i, "subject", c->subject, m->subject);
		check_str(i, "body", c->body, m->body);
		check_str(i, "content_type", c->content_type,
			  m->content_type);
		if (c->from_html >= 0 && (int)m->body_from_html !=
					     c->from_html) {
			print_error("row %zu: body_from_html %d\n", i,
				    (int)m->body_from_html);
			fail();
		}
		if (c->n_att >= 0 && (size_t)c->n_att != m->n_attachments) {
			print_error("row %zu: %zu attachments\n", i,
				    m->n_attachments);
			fail();
		}
		if (c->att_name != NULL) {
			check_str(i, "att_name", c->att_name,
				  m->attachments[0].filename);
			check_str(i, "att_type", c->att_type,
				  m->attachments[0].content_type);
			check_str(i, "att_sha", c->att_sha,
				  m->attachments[0].sha256);
			if (c->att_size >= 0 &&
			    m->attachments[0].size != (size_t)c->att_size) {
				print_error("row %zu: size %zu\n", i,
					    m->attachments[0].size);
				fail();
			}
		}
		if (c->defect != NULL && !has_defect(m, c->defect)) {
			print_error("row %zu: defect \"%s\" missing\n", i,
				    c->defect);
			fail();
		}
		cm_msg_free(&m);
		assert_null(m);
	}
}

/* test_headers - ids, references, auto-reply and list signals */
static void
test_headers(void **state)
{
	static const char raw[] =
		"Return-Path: <Bounce@Example.ORG>\n"
		"Delivered-To: case+HU-1@mail.example\n"
		"X-Original-To: case+HU-1@Mail.Example\n"
		"Authentication-Results: mx.example; dkim=pass\n"
		"Authentication-Results: other.example; spf=fail\n"
		"From: \"Officer, A\" <a@force.example>\n"
		"To: Victim <v@home.example>, b@c.example\n"
		"Reply-To: desk@force.example\n"
		"Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
		"Message-ID: <m3@force.example>\n"
		"In-Reply-To: <n1@casemail.example> (your note)\n"
		"References: <n0@casemail.example>\n"
		"\t<n1@casemail.example>\n"
		"Auto-Submitted: auto-replied\n"
		"Precedence: bulk\n"
		"X-Autoreply: yes\n"
		"X-Auto-Response-Suppress: All\n"
		"List-Id: <cases.force.example>\n"
		"Subject: out of office\n"
		"\n"
		"away\n";
	struct cm_msg *m = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(cm_mime_parse(raw, strlen(raw), NULL, &m, &error),
			 0);
	assert_string_equal(m->from, "a@force.example");
	assert_string_equal(m->from_name, "Officer, A");
	assert_string_equal(m->to, "v@home.example");
	assert_string_equal(m->reply_to, "desk@force.example");
	assert_string_equal(m->return_path, "Bounce@example.org");
	assert_string_equal(m->delivered_to, "case+HU-1@mail.example");
	assert_string_equal(m->x_original_to, "case+HU-1@mail.example");
	assert_string_equal(m->date, "Mon, 1 Jan 2024 10:00:00 +0000");
	assert_string_equal(m->message_id, "m3@force.example");
	assert_string_equal(m->in_reply_to, "n1@casemail.example");
	assert_int_equal(m->n_references, 2);
	assert_string_equal(m->references[0], "n0@casemail.example");
	assert_string_equal(m->references[1], "n1@casemail.example");
	assert_string_equal(m->auto_submitted, "auto-replied");
	assert_string_equal(m->precedence, "bulk");
	assert_true(m->x_autoreply);
	assert_string_equal(m->x_auto_response_suppress, "All");
	assert_string_equal(m->list_id, "<cases.force.example>");
	assert_int_equal(m->n_auth_results, 2);
	assert_string_equal(m->auth_results[0], "mx.example; dkim=pass");
	assert_string_equal(m->auth_results[1], "other.example; spf=fail");
	assert_int_equal(m->auth_results_above[0], 0);
	assert_int_equal(m->n_received, 0);
	assert_int_equal(m->n_to_all, 2);
	assert_string_equal(m->to_all[1], "b@c.example");
	assert_int_equal(m->n_cc_all, 0);
	cm_msg_free(&m);
}

/* One message and its trace and recipient facts; each list is written
 * as its entries each followed by '|' ("" for none); NULL: not checked. */
struct tcase {
	const char *raw;
	const char *received;     /* received_by */
	const char *above;        /* auth_results_above */
	const char *to_all;
	const char *cc_all;
	const char *delivered_to; /* "" for absent */
};

static const struct tcase tcases[] = {
	/* 0: two Delivered-To (the lower one came with the message),
	 * several Received, A-R above and below Received, To and Cc
	 * with a group */
	{"Delivered-To: case+hu-1@cases.example\n"
	 "Received: from mx.police.example (mx.police.example [192.0.2.1])\n"
	 "\tby mail.cases.example (Postfix) with ESMTPS id 4AB;\n"
	 "\tMon, 1 Jan 2024 10:00:02 +0000\n"
	 "Authentication-Results: mx.police.example;\n"
	 "\tdmarc=fail header.from=police.example\n"
	 "Received: from evil.example (evil.example [198.51.100.9])\n"
	 "\tby MX.Police.Example (Postfix) with ESMTP id 1;\n"
	 "\tMon, 1 Jan 2024 10:00:01 +0000\n"
	 "Authentication-Results: mx.police.example; dmarc=pass "
	 "header.from=police.example\n"
	 "Delivered-To: case+hu-2@cases.example\n"
	 "Received: from x by mx.police.example; Mon, 1 Jan 2024 10:00 "
	 "+0000\n"
	 "From: oic@police.example\n"
	 "To: A <a@cases.example>, b@Other.EXAMPLE\n"
	 "Cc: c@cases.example, Group: d@x.example, E <e@Y.example>;,\n"
	 " f@z.example\n"
	 "\n"
	 "hi\n",
	 "mail.cases.example|mx.police.example|mx.police.example|", "1|2|",
	 "a@cases.example|b@other.example|",
	 "c@cases.example|d@x.example|e@y.example|f@z.example|",
	 "case+hu-1@cases.example"},
	/* 1: no Received: A-R fields with none above them */
	{"Authentication-Results: a.example; none\n"
	 "Authentication-Results: b.example; none\n"
	 "From: a@b.example\n"
	 "\n"
	 "hi\n",
	 "", "0|0|", "", "", ""},
	/* 2: a "from" value "by", and a "by" in a comment, are no clause */
	{"Received: from by (by evil.example) by (Postfix)\n"
	 "\tMX.Example.ORG (x) with ESMTP; Mon, 1 Jan 2024 10:00 +0000\n"
	 "From: a@b.example\n\nhi\n",
	 "mx.example.org|", "", NULL, NULL, NULL},
	/* 3: by only in a comment, or in other clauses' values, or after
	 * the date; an address literal */
	{"Received: (qmail 1234 invoked by uid 0); Mon, 1 Jan 2024\n"
	 "Received: from a with by id by for by; by x.example\n"
	 "Received: by [192.0.2.7] with SMTP; Mon, 1 Jan 2024\n"
	 "Received: from x (unterminated by mx.example\n"
	 "From: a@b.example\n\nhi\n",
	 "||[192.0.2.7]||", "", NULL, NULL, NULL},
	/* 4: hostile by-hosts are "" */
	{"Received: by \"evil host\"@x.example; Mon, 1 Jan 2024\n"
	 "Received: by <script>x</script>; Mon, 1 Jan 2024\n"
	 "Received: by =?utf-8?q?mx.police.example?= ; Mon, 1 Jan 2024\n"
	 "Received: by\n"
	 "Received: by mx.p\xc3\xb6lice.example; Mon, 1 Jan 2024\n"
	 "Received: from x by "
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 ".example; Mon, 1 Jan 2024\n"
	 "From: a@b.example\n\nhi\n",
	 "||||||", "", NULL, NULL, NULL},
	/* 5: an unparsable topmost Delivered-To is not replaced by a
	 * lower one; empty To, Cc of only a group */
	{"Delivered-To: <>\n"
	 "Delivered-To: case+hu-2@cases.example\n"
	 "From: a@b.example\n"
	 "To: undisclosed-recipients:;\n"
	 "Cc: Team: x@Cases.Example;\n"
	 "\n"
	 "hi\n",
	 "", "", "", "x@cases.example|", ""},
};

/* joined - the strings v[0..n) each followed by '|'; caller frees */
static char *
joined(char *const *v, size_t n)
{
	struct cm_buf b;

	cm_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		cm_buf_puts(&b, v[i]);
		cm_buf_putc(&b, '|');
	}
	return cm_buf_steal(&b);
}

/* joined_sizes - the numbers v[0..n) each followed by '|' */
static char *
joined_sizes(const size_t *v, size_t n)
{
	struct cm_buf b;

	cm_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		cm_buf_printf(&b, "%zu|", v[i]);
	return cm_buf_steal(&b);
}

/* check_list - got against want (NULL: not checked) for row i */
static void
check_list(size_t i, const char *what, char *got, const char *want)
{
	if (want != NULL && strcmp(got, want) != 0) {
		print_error("row %zu: %s \"%s\", want \"%s\"\n", i, what, got,
			    want);
		free(got);
		fail();
	}
	free(got);
}

/* test_trace - Received by-hosts, A-R positions, To/Cc, Delivered-To */
static void
test_trace(void **state)
{
	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(tcases); i++) {
		const struct tcase *c = &tcases[i];
		struct cm_msg *m = NULL;
		const char *error = NULL;

		if (cm_mime_parse(c->raw, strlen(c->raw), NULL, &m,
				  &error) != 0)
			fail_msg("row %zu: parse: %s", i, error);
		check_list(i, "received_by",
			   joined(m->received_by, m->n_received),
			   c->received);
		check_list(i, "auth_results_above",
			   joined_sizes(m->auth_results_above,
					m->n_auth_results),
			   c->above);
		check_list(i, "to_all", joined(m->to_all, m->n_to_all),
			   c->to_all);
		check_list(i, "cc_all", joined(m->cc_all, m->n_cc_all),
			   c->cc_all);
		if (c->delivered_to != NULL &&
		    strcmp(m->delivered_to != NULL ? m->delivered_to : "",
			   c->delivered_to) != 0)
			fail_msg("row %zu: delivered_to %s", i,
				 m->delivered_to);
		cm_msg_free(&m);
	}
}

/* test_trace_limits - at most 1000 Received by-hosts and 100 To and
 * 100 Cc addresses are kept; A-R positions still count every
 * Received */
static void
test_trace_limits(void **state)
{
	struct cm_msg *m = NULL;
	const char *error = NULL;
	struct cm_buf b;
	size_t i;

	(void)state;
	cm_buf_init(&b, 0);
	for (i = 0; i < 1005; i++)
		cm_buf_printf(&b, "Received: from a by h%zu.example; x\n", i);
	cm_buf_puts(&b, "Authentication-Results: mx.example; none\n"
			"From: a@b.example\nTo: u0@x.example");
	for (i = 1; i < 150; i++)
		cm_buf_printf(&b, ",\n u%zu@x.example", i);
	cm_buf_puts(&b, "\nCc: c0@x.example");
	for (i = 1; i < 150; i++)
		cm_buf_printf(&b, ",\n c%zu@x.example", i);
	cm_buf_puts(&b, "\n\nhi\n");
	assert_int_equal(cm_mime_parse(b.data, b.len, NULL, &m, &error), 0);
	assert_int_equal(m->n_received, 1000);
	assert_string_equal(m->received_by[0], "h0.example");
	assert_string_equal(m->received_by[999], "h999.example");
	assert_int_equal(m->n_auth_results, 1);
	assert_int_equal(m->auth_results_above[0], 1005);
	assert_int_equal(m->n_to_all, 100);
	assert_string_equal(m->to_all[99], "u99@x.example");
	assert_int_equal(m->n_cc_all, 100);
	assert_string_equal(m->cc_all[99], "c99@x.example");
	cm_msg_free(&m);
	cm_buf_free(&b);
}

/* test_absent - absent headers are NULL, the null path is "" */
static void
test_absent(void **state)
{
	static const char raw[] =
		"Return-Path: <>\n"
		"From: mailer-daemon@mx.example\n"
		"Content-Type: multipart/report; report-type=Delivery-Status;"
		" boundary=r\n"
		"\n"
		"--r\n"
		"Content-Type: text/plain\n"
		"\n"
		"Delivery failed.\n"
		"--r\n"
		"Content-Type: message/delivery-status\n"
		"\n"
		"Final-Recipient: rfc822; v@home.example\n"
		"Status: 5.1.1\n"
		"--r--\n";
	struct cm_msg *m = NULL;
	const char *error = NULL;

	(void)state;
	assert_int_equal(cm_mime_parse(raw, strlen(raw), NULL, &m, &error),
			 0);
	assert_string_equal(m->return_path, "");
	assert_null(m->subject);
	assert_null(m->message_id);
	assert_null(m->in_reply_to);
	assert_int_equal(m->n_references, 0);
	assert_null(m->auto_submitted);
	assert_false(m->x_autoreply);
	assert_string_equal(m->content_type, "multipart/report");
	assert_string_equal(m->report_type, "delivery-status");
	assert_string_equal(m->body, "Delivery failed.");
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0].content_type,
			    "message/delivery-status");
	cm_msg_free(&m);
}

/* parse_ok - parse data[0..len) expecting success; returns the msg */
static struct cm_msg *
parse_ok(const char *data, size_t len, const struct cm_limits *lim)
{
	struct cm_msg *m = NULL;
	const char *error = NULL;

	if (cm_mime_parse(data, len, lim, &m, &error) != 0) {
		print_error("parse failed: %s\n", error);
		fail();
	}
	assert_non_null(m);
	return m;
}

/* parse_err - parse expecting CM_ERR with error text want */
static void
parse_err(const char *data, size_t len, const struct cm_limits *lim,
	  const char *want)
{
	struct cm_msg *m = NULL;
	const char *error = NULL;

	assert_int_equal(cm_mime_parse(data, len, lim, &m, &error), CM_ERR);
	assert_null(m);
	assert_non_null(error);
	assert_string_equal(error, want);
}

/* test_no_headers - input without headers, and empty input, is kept */
static void
test_no_headers(void **state)
{
	static const char *const inputs[] = {
		"just some text\nand more\n",
		"",
		"\n\nblank lines first\n",
		"\xff\xfe binary \x01 junk",
	};
	struct cm_msg *m;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(inputs); i++) {
		m = parse_ok(inputs[i], strlen(inputs[i]), NULL);
		assert_true(cm_utf8_valid(m->body, strlen(m->body)));
		if (!has_defect(m, "no headers")) {
			print_error("row %zu: no \"no headers\"\n", i);
			fail();
		}
		cm_msg_free(&m);
	}
	m = parse_ok(inputs[0], strlen(inputs[0]), NULL);
	assert_non_null(strstr(m->body, "just some text"));
	cm_msg_free(&m);
}

/* test_long_line - a 10,000-character body line passes whole */
static void
test_long_line(void **state)
{
	struct cm_buf b;
	struct cm_msg *m;
	size_t i;

	(void)state;
	cm_buf_init(&b, 0);
	cm_buf_puts(&b, "From: a@b.example\nSubject: long\n\n");
	for (i = 0; i < 10000; i++)
		cm_buf_putc(&b, (char)('a' + i % 26));
	cm_buf_puts(&b, "\n");
	m = parse_ok(b.data, b.len, NULL);
	assert_int_equal(strlen(m->body), 10001);
	cm_msg_free(&m);
	cm_buf_free(&b);
}

/* nested - n nested multiparts, each with its own boundary */
static char *
nested(size_t n, size_t *len_r)
{
	struct cm_buf b;
	size_t i;

	cm_buf_init(&b, 0);
	cm_buf_puts(&b, "From: a@b.example\n");
	for (i = 0; i < n; i++)
		cm_buf_printf(&b, "Content-Type: multipart/mixed; "
			      "boundary=\"b%zu\"\n\n--b%zu\n", i, i);
	cm_buf_puts(&b, "Content-Type: text/plain\n\ndeep\n");
	for (i = n; i > 0; i--)
		cm_buf_printf(&b, "--b%zu--\n", i - 1);
	*len_r = b.len;
	return cm_buf_steal(&b);
}

/* test_depth - 1,000 nested multiparts fail; 100 are fine; CRLF too */
static void
test_depth(void **state)
{
	char *s, *crlf;
	size_t len, i, j;
	struct cm_msg *m;

	(void)state;
	s = nested(1000, &len);
	parse_err(s, len, NULL, "mime depth exceeds 100");
	crlf = cm_xmalloc(2 * len + 1);
	for (i = j = 0; i < len; i++) {
		if (s[i] == '\n')
			crlf[j++] = '\r';
		crlf[j++] = s[i];
	}
	parse_err(crlf, j, NULL, "mime depth exceeds 100");
	free(crlf);
	free(s);
	s = nested(99, &len);
	m = parse_ok(s, len, NULL);
	assert_string_equal(m->body, "deep");
	cm_msg_free(&m);
	free(s);
}

/* Ways of declaring one level of nesting (%zu is the level) that GMime
 * follows and the pre-scan must follow too. */
static const char *const tricks[] = {
	"Content-Type: multipart/mixed;\n boundary=b%zu\n\n--b%zu\n",
	"Content-type : Multipart/Mixed; BOUNDARY=b%zu\n\n--b%zu   \n",
	"X Bad line\nContent-Type: multipart/mixed; boundary=b%zu\n\n"
	"--b%zu\n",
	"Content-Type: text/plain\nContent-Type: multipart/mixed; "
	"boundary=b%zu\n\n--b%zu\n",
	"Content-Type: multipart/mixed; boundary=b%zu; boundary=c\n\n"
	"--b%zu\n",
	"Content-Type: multipart/mixed; boundary*0=b; boundary*1=%zu\n\n"
	"--b%zu\n",
	"Content-Type: multipart/mixed; boundary*=utf-8''%%62%zu\n\n"
	"--b%zu\n",
	"Content-Type: multipart/mixed; boundary=\"=?utf-8?q?b%zu?=\"\n\n"
	"--b%zu\n",
	"Content-Type: message/rfc822\n\nX Bad\nContent-Type: "
	"multipart/mixed; boundary=b%zu\n\n--b%zu\n",
	"Content-Type: multipart/mixed (c); boundary = \"b%zu\"\r\n\r\n"
	"--b%zu\r\n",
};

/* test_depth_tricks - every way of nesting is counted */
static void
test_depth_tricks(void **state)
{
	struct cm_buf b;
	size_t i, k;
	struct cm_msg *m = NULL;
	const char *error = NULL;

	(void)state;
	for (k = 0; k < CM_ARRAY_SIZE(tricks); k++) {
		cm_buf_init(&b, 0);
		cm_buf_puts(&b, "From: a@b.example\n");
		for (i = 0; i < 150; i++)
			cm_buf_printf(&b, tricks[k], i, i);
		cm_buf_puts(&b, "Content-Type: text/plain\n\ndeep\n");
		if (cm_mime_parse(b.data, b.len, NULL, &m, &error) !=
		    CM_ERR) {
			print_error("trick %zu: parsed, depth %zu\n", k,
				    m->depth);
			cm_msg_free(&m);
			fail();
		}
		assert_string_equal(error, "mime depth exceeds 100");
		cm_buf_free(&b);
	}
}

/* test_digest_depth - digests nest messages without Content-Type */
static void
test_digest_depth(void **state)
{
	struct cm_buf b;
	size_t i;

	(void)state;
	cm_buf_init(&b, 0);
	for (i = 0; i < 500; i++)
		cm_buf_printf(&b, "Content-Type: multipart/digest; "
			      "boundary=d%zu\n\n--d%zu\n\n", i, i);
	cm_buf_puts(&b, "x\n");
	parse_err(b.data, b.len, NULL, "mime depth exceeds 100");
	cm_buf_free(&b);
}

/* test_parts - more than max_mime_parts parts fail */
static void
test_parts(void **state)
{
	struct cm_buf b;
	struct cm_limits lim = {0, 0, 0, 0, 50};
	struct cm_msg *m;
	size_t i;

	(void)state;
	cm_buf_init(&b, 0);
	cm_buf_puts(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < 60; i++)
		cm_buf_puts(&b, "--p\nContent-Type: text/plain\n\nx\n");
	cm_buf_puts(&b, "--p--\n");
	parse_err(b.data, b.len, &lim, "more than 50 mime parts");
	lim.max_mime_parts = 0; /* the default, 10000 */
	m = parse_ok(b.data, b.len, &lim);
	assert_int_equal(m->n_parts, 61);
	cm_msg_free(&m);
	cm_buf_reset(&b);
	cm_buf_puts(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < 10001; i++)
		cm_buf_puts(&b, "--p\n\nx\n");
	parse_err(b.data, b.len, NULL, "more than 10000 mime parts");
	cm_buf_free(&b);
}

/* test_colons - a From of 100,000 colons is refused quickly; 60,000
 * (under the field limit) is parsed without crashing */
static void
test_colons(void **state)
{
	static const size_t counts[] = {100000, 60000};
	struct cm_buf b;
	struct cm_msg *m = NULL;
	const char *error = NULL;
	clock_t t0;
	size_t i, k;
	int r;

	(void)state;
	for (k = 0; k < CM_ARRAY_SIZE(counts); k++) {
		cm_buf_init(&b, 0);
		cm_buf_puts(&b, "From: ");
		for (i = 0; i < counts[k]; i++)
			cm_buf_putc(&b, ':');
		cm_buf_puts(&b, "\nSubject: colons\n\nbody\n");
		t0 = clock();
		r = cm_mime_parse(b.data, b.len, NULL, &m, &error);
		if (k == 0) {
			assert_int_equal(r, CM_ERR);
			assert_string_equal(error,
				"header field longer than 65536 bytes");
		} else {
			assert_int_equal(r, 0);
			assert_string_equal(m->body, "body\n");
			assert_null(m->from);
			cm_msg_free(&m);
		}
		assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
		cm_buf_free(&b);
	}
}

/* test_limits - message size and header block limits */
static void
test_limits(void **state)
{
	struct cm_limits lim = {1000, 0, 0, 0, 0};
	struct cm_buf b;
	size_t i;
	char *big;

	(void)state;
	big = cm_xmalloc(1001);
	memset(big, 'a', 1001);
	parse_err(big, 1001, &lim, "message size 1001 exceeds "
		  "max_message_size 1000");
	free(big);
	lim.max_message_size = 0;
	lim.max_header_bytes = 500;
	cm_buf_init(&b, 0);
	for (i = 0; i < 30; i++)
		cm_buf_printf(&b, "X-Filler-%zu: 0123456789abcdef\n", i);
	cm_buf_puts(&b, "\nbody\n");
	parse_err(b.data, b.len, &lim,
		  "header block exceeds max_header_bytes");
	cm_buf_free(&b);
}

/* test_big_message - over the default 50 MiB fails before parsing */
static void
test_big_message(void **state)
{
	size_t len = 60000000;
	char *big = cm_xmalloc(len);

	(void)state;
	memset(big, 'x', len);
	parse_err(big, len, NULL,
		  "message size 60000000 exceeds max_message_size 52428800");
	free(big);
}

/* test_attachment_limit - a decoded attachment over the limit fails */
static void
test_attachment_limit(void **state)
{
	static const char raw[] =
		"Content-Type: multipart/mixed; boundary=b\n"
		"\n"
		"--b\n"
		"Content-Type: application/pdf; name=big.pdf\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"aGVsbG8gd29ybGQK\n"
		"--b--\n";
	struct cm_limits lim = {0, 10, 0, 0, 0};

	(void)state;
	parse_err(raw, strlen(raw), &lim, "attachment 'big.pdf' of 12 bytes "
		  "exceeds max_attachment_size");
}

/* test_long_filename - cut at 200 bytes on a character boundary */
static void
test_long_filename(void **state)
{
	struct cm_buf b;
	struct cm_msg *m;
	size_t i, n;

	(void)state;
	cm_buf_init(&b, 0);
	cm_buf_puts(&b, "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
		    "Content-Type: application/pdf\n"
		    "Content-Disposition: attachment; filename*=UTF-8''a");
	for (i = 0; i < 150; i++)
		cm_buf_puts(&b, "%C3%A9");
	cm_buf_puts(&b, "\n\nx\n--b--\n");
	m = parse_ok(b.data, b.len, NULL);
	assert_int_equal(m->n_attachments, 1);
	n = strlen(m->attachments[0].filename);
	assert_true(n <= 200 && n >= 198);
	assert_true(cm_utf8_valid(m->attachments[0].filename, n));
	cm_msg_free(&m);
	cm_buf_free(&b);
}

/* One cm_mime_header row. */
struct hcase {
	const char *raw;
	const char *name;
	const char *want; /* NULL: absent */
};

static const struct hcase hcases[] = {
	{"Subject: plain\n\n", "subject", "plain"},
	{"Subject: folded\n  over lines\n\n", "Subject",
	 "folded  over lines"},
	{"X-A: 1\r\nSubject: =?ISO-8859-1?Q?Caf=E9?=\r\n\r\n", "Subject",
	 "Caf\xc3\xa9"},
	{"Subject: =?UTF-8?B?R3LDvMOfZQ==?= =?UTF-8?Q?_x?=\n\n", "Subject",
	 "Gr\xc3\xbc\xc3\x9f" "e x"},
	{"Subject: =?UTF-8?Q?a?= b =?UTF-8?Q?c?=\n\n", "Subject", "a b c"},
	{"Subject: Caf\xe9\n\n", "Subject", "Caf\xc3\xa9"},
	{"Subject: one\nSubject: two\n\n", "Subject", "one"},
	{"From: a\n\nSubject: in body\n", "Subject", NULL},
	{"From: a\n", "Subject", NULL},
	{"", "Subject", NULL},
	{"Subject: =?bogus?Q?x=41?=\n\n", "Subject", "xA"},
	{"Subject: =?UTF-8?Q?broken\n\n", "Subject", "=?UTF-8?Q?broken"},
	{"Subject: tab\there\n\n", "Subject", "tab here"},
	{"From mbox line\nSubject: after from_\n\n", "Subject",
	 "after from_"},
	{"Subject : spaced\n\n", "Subject", "spaced"},
};

/* test_header - cm_mime_header on a table */
static void
test_header(void **state)
{
	size_t i;
	char *v;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(hcases); i++) {
		v = cm_mime_header(hcases[i].raw, strlen(hcases[i].raw),
				   hcases[i].name);
		if (hcases[i].want == NULL && v == NULL)
			continue;
		if (v == NULL || hcases[i].want == NULL ||
		    strcmp(v, hcases[i].want) != 0) {
			print_error("row %zu: want \"%s\" got \"%s\"\n", i,
				    hcases[i].want ? hcases[i].want : "NULL",
				    v ? v : "NULL");
			fail();
		}
		free(v);
	}
}

/* test_header_bomb - cm_mime_header is linear on hostile input */
static void
test_header_bomb(void **state)
{
	struct cm_buf b;
	clock_t t0;
	size_t i;
	char *v;

	(void)state;
	cm_buf_init(&b, 0);
	cm_buf_puts(&b, "Subject: ");
	for (i = 0; i < 60000; i++)
		cm_buf_puts(&b, "=?");
	cm_buf_puts(&b, "\nFrom: ");
	for (i = 0; i < 100000; i++)
		cm_buf_putc(&b, ':');
	cm_buf_puts(&b, "\n\n");
	t0 = clock();
	v = cm_mime_header(b.data, b.len, "subject");
	assert_non_null(v);
	free(v);
	v = cm_mime_header(b.data, b.len, "X-Absent");
	assert_null(v);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
	cm_buf_free(&b);
}

/* group_setup - GMime once */
static int
group_setup(void **state)
{
	(void)state;
	cm_mime_init();
	cm_mime_init();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_trace_limits),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_no_headers),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_depth_tricks),
		cmocka_unit_test(test_digest_depth),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_colons),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_big_message),
		cmocka_unit_test(test_attachment_limit),
		cmocka_unit_test(test_long_filename),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_bomb),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
