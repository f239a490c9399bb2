/*
 * test_compose.c - unit tests of message building (cm_compose)
 *
 * DESCRIPTION
 *	The exact header set and parts of a victim notice and of an
 *	internal officer notification, read back with GMime; CRLF and LF
 *	forms; refusal of control characters and bad addresses; and 10,000
 *	random strings full of CR, LF, NUL, encoded newlines and line
 *	separators in every template field, rendered through the shipped
 *	templates and built: the message read back has exactly the
 *	template's header set every time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cm_compose.h"
#include "cm_mime.h"
#include "cm_template.h"
#include "cm_token.h"
#include "cm_util.h"

#define FUZZ_ROUNDS 10000

static const char *const victim_headers[] = {
	"Return-Path", "From", "To", "Reply-To", "Subject", "Date",
	"Message-Id", "Auto-Submitted", "List-Unsubscribe",
	"List-Unsubscribe-Post", "MIME-Version",
};

static const char *const officer_headers[] = {
	"From", "To", "Reply-To", "Subject", "Date", "Message-Id",
	"Auto-Submitted", "X-Casemail-Internal", "MIME-Version",
};

/* base - a victim notice with every field set */
static struct cm_compose
base(void)
{
	struct cm_compose c;

	memset(&c, 0, sizeof(c));
	c.return_path = "bounce+abcd@cases.example.org";
	c.from_name = "Example Police";
	c.from_addr = "casemail@cases.example.org";
	c.to_name = "Jane Doe";
	c.to_addr = "jane@example.net";
	c.reply_to = "reply+key@cases.example.org";
	c.subject = "An update on your case HU-1";
	c.date = 1795875248;
	c.message_id = "0123abcd.1795875248@cases.example.org";
	c.unsub_mailto = "mailto:reply+key@cases.example.org?subject=x";
	c.unsub_https = "https://portal.example.org/unsubscribe/key";
	c.text = "Dear Jane,\n\nthere is news.\n.\n";
	c.html = "<p>Dear Jane,</p>\n";
	return c;
}

/* assert_headers - the header names of in are exactly want[0..n) */
static void
assert_headers(const struct cm_inspect *in, const char *const *want,
	       size_t n, long row)
{
	if (in->n_headers != n) {
		for (size_t i = 0; i < in->n_headers; i++)
			fprintf(stderr, "# header %zu: %s: %s\n", i,
				in->names[i], in->values[i]);
		fail_msg("row %ld: %zu headers, want %zu", row, in->n_headers,
			 n);
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(in->names[i], want[i]) != 0)
			fail_msg("row %ld: header %zu is '%s', want '%s'", row,
				 i, in->names[i], want[i]);
}

/* test_victim_notice - headers, values and parts of a victim notice */
static void
test_victim_notice(void **state)
{
	struct cm_compose c = base();
	struct cm_inspect in;
	const char *err = NULL;
	char *data = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(cm_compose_build(&c, &data, &len, &err), 0);
	assert_int_equal(strlen(data), len);
	assert_null(strchr(data, '\r')); /* LF form */
	assert_true(strncmp(data, "Return-Path: <bounce+abcd@", 26) == 0);
	assert_int_equal(cm_compose_inspect(data, len, &in, &err), 0);
	assert_headers(&in, victim_headers, CM_ARRAY_SIZE(victim_headers), -1);
	assert_string_equal(cm_compose_inspect_header(&in, "Reply-To"),
			    "reply+key@cases.example.org");
	assert_string_equal(cm_compose_inspect_header(&in, "Message-Id"),
			    "<0123abcd.1795875248@cases.example.org>");
	assert_string_equal(cm_compose_inspect_header(&in, "Auto-Submitted"),
			    "auto-generated");
	assert_string_equal(
		cm_compose_inspect_header(&in, "List-Unsubscribe"),
		"<mailto:reply+key@cases.example.org?subject=x>, "
		"<https://portal.example.org/unsubscribe/key>");
	assert_string_equal(
		cm_compose_inspect_header(&in, "List-Unsubscribe-Post"),
		"List-Unsubscribe=One-Click");
	assert_string_equal(cm_compose_inspect_header(&in, "Date"),
			    "Sat, 28 Nov 2026 14:14:08 +0000");
	assert_int_equal(in.n_parts, 2);
	assert_string_equal(in.types[0], "text/plain");
	assert_string_equal(in.types[1], "text/html");
	assert_string_equal(in.texts[0], c.text);
	assert_string_equal(in.texts[1], c.html);
	cm_compose_inspect_free(&in);
	free(data);
}

/* test_officer_crlf - an internal notification in SMTP form */
static void
test_officer_crlf(void **state)
{
	struct cm_compose c = base();
	struct cm_inspect in;
	const char *err = NULL;
	char *data = NULL;
	size_t len = 0;

	(void)state;
	c.return_path = NULL;
	c.unsub_mailto = c.unsub_https = NULL;
	c.internal = true;
	c.reply_to = "case+HU-1@cases.example.org";
	c.html = NULL;
	c.crlf = true;
	c.text = "caf\xc3\xa9 \xe2\x82\xac\n";
	assert_int_equal(cm_compose_build(&c, &data, &len, &err), 0);
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			fail_msg("bare LF at byte %zu", i);
	assert_int_equal(cm_compose_inspect(data, len, &in, &err), 0);
	assert_headers(&in, officer_headers, CM_ARRAY_SIZE(officer_headers),
		       -1);
	assert_int_equal(in.n_parts, 1);
	assert_string_equal(in.types[0], "text/plain");
	assert_string_equal(in.texts[0], "caf\xc3\xa9 \xe2\x82\xac\r\n");
	cm_compose_inspect_free(&in);
	free(data);
}

/* test_unsub_mailto_only - without an https target (a portal_url on
 * http://), the mailto: target alone and no one-click header; an https
 * target without a mailto: one is refused */
static void
test_unsub_mailto_only(void **state)
{
	static const char *const want[] = {
		"Return-Path", "From", "To", "Reply-To", "Subject", "Date",
		"Message-Id", "Auto-Submitted", "List-Unsubscribe",
		"MIME-Version",
	};
	struct cm_compose c = base();
	struct cm_composer *z = cm_composer_new();
	struct cm_inspect in;
	const char *err = NULL;
	char *data = NULL;
	size_t len = 0;

	(void)state;
	c.unsub_https = NULL;
	for (int round = 0; round < 2; round++) {
		/* the second round: the composer's kept message */
		assert_int_equal(cm_composer_build(z, &c, &data, &len, &err),
				 0);
		assert_int_equal(cm_compose_inspect(data, len, &in, &err), 0);
		assert_headers(&in, want, CM_ARRAY_SIZE(want), round);
		assert_string_equal(
			cm_compose_inspect_header(&in, "List-Unsubscribe"),
			"<mailto:reply+key@cases.example.org?subject=x>");
		cm_compose_inspect_free(&in);
		free(data);
	}
	/* back to both targets on the same composer: one-click again */
	c.unsub_https = "https://portal.example.org/unsubscribe/key";
	assert_int_equal(cm_composer_build(z, &c, &data, &len, &err), 0);
	assert_int_equal(cm_compose_inspect(data, len, &in, &err), 0);
	assert_headers(&in, victim_headers, CM_ARRAY_SIZE(victim_headers), 2);
	cm_compose_inspect_free(&in);
	free(data);
	c.unsub_mailto = NULL;
	assert_int_equal(cm_composer_build(z, &c, &data, &len, &err), CM_ERR);
	assert_non_null(strstr(err, "mailto"));
	cm_composer_free(&z);
}

/* test_bidi - bidirectional controls in names and the subject (a
 * victim's chosen name in an officer's subject) are removed */
static void
test_bidi(void **state)
{
	static const struct {
		int field; /* 0 subject, 1 to_name, 2 from_name */
		const char *in, *want;
	} rows[] = {
		{ 0, "Message from \xe2\x80\xae" "gnp.exe\xe2\x80\xac on HU-1",
		  "Message from gnp.exe on HU-1" },
		{ 0, "\xe2\x81\xa6" "Alex\xe2\x81\xa9 wrote",
		  "Alex wrote" },
		{ 0, "x\xe2\x80\x8f" "y\xe2\x80\x8e" "z", "xyz" },
		{ 0, "caf\xc3\xa9 \xe2\x80\x94 ok", "caf\xc3\xa9 \xe2\x80\x94 ok" },
		{ 1, "Jane \xe2\x80\xad" "Doe", "Jane Doe <jane@example.net>" },
		{ 2, "\xe2\x80\xab" "Police", "Police <casemail@cases.example.org>" },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		struct cm_compose c = base();
		struct cm_inspect in;
		const char *err = NULL, *got;
		char *data = NULL;
		size_t len = 0;

		switch (rows[i].field) {
		case 0: c.subject = rows[i].in; break;
		case 1: c.to_name = rows[i].in; break;
		default: c.from_name = rows[i].in; break;
		}
		if (cm_compose_build(&c, &data, &len, &err) < 0)
			fail_msg("row %zu: %s", i, err);
		assert_int_equal(cm_compose_inspect(data, len, &in, &err), 0);
		got = cm_compose_inspect_header(
			&in, rows[i].field == 0   ? "Subject"
			     : rows[i].field == 1 ? "To"
						  : "From");
		if (got == NULL || strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: got \"%s\"", i, got ? got : "-");
		cm_compose_inspect_free(&in);
		free(data);
	}
}

/* struct bad - a field set to a value the builder must refuse */
struct bad {
	int field; /* 0 subject, 1 to_name, 2 to_addr, 3 reply_to,
		      4 message_id, 5 unsub_https, 6 from_name */
	const char *value;
};

static const struct bad bads[] = {
	{ 0, "a\r\nBcc: x@evil.example" }, { 0, "a\nb" }, { 0, "a\rb" },
	{ 0, "tab\there" },                { 0, "sep\xe2\x80\xa8" },
	{ 0, "nel\xc2\x85" },              { 0, "bad\xff" },
	{ 1, "Jane\r\nBcc: x" },           { 2, "jane@example.net\r\n" },
	{ 2, "jane@example.net>\r\nRCPT TO:<x@y.z" },
	{ 2, "not an address" },           { 3, "reply\n@x.y" },
	{ 4, "id with space@x" },          { 4, "no-at-sign" },
	{ 4, "a@b>\r\nBcc: x" },           { 5, "http://not-https" },
	{ 5, "https://x/>, <mailto:y" },   { 6, "Police\nX: y" },
};

/* test_refuses - control characters and bad addresses are refused */
static void
test_refuses(void **state)
{
	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(bads); i++) {
		struct cm_compose c = base();
		const char *err = NULL;
		char *data = NULL;
		size_t len = 0;

		switch (bads[i].field) {
		case 0: c.subject = bads[i].value; break;
		case 1: c.to_name = bads[i].value; break;
		case 2: c.to_addr = bads[i].value; break;
		case 3: c.reply_to = bads[i].value; break;
		case 4: c.message_id = bads[i].value; break;
		case 5: c.unsub_https = bads[i].value; break;
		default: c.from_name = bads[i].value; break;
		}
		if (cm_compose_build(&c, &data, &len, &err) != CM_ERR)
			fail_msg("row %zu: built", i);
		if (err == NULL || *err == '\0')
			fail_msg("row %zu: no error text", i);
	}
}

/* test_message_id - fresh, distinct, well-formed */
static void
test_message_id(void **state)
{
	char *a = cm_compose_message_id("cases.example.org", 1795875248);
	char *b = cm_compose_message_id("cases.example.org", 1795875248);

	(void)state;
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), 12 + 1 + 32 + 1 + 17);
	/* time first, fixed width: later IDs sort after earlier ones */
	assert_true(strncmp(a, "001795875248.", 13) == 0);
	assert_non_null(strstr(a, "@cases.example.org"));
	free(b);
	b = cm_compose_message_id("cases.example.org", 1795875249);
	assert_true(strcmp(a, b) < 0);
	free(a);
	free(b);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* rnd - xorshift64*: reproducible pseudo-random numbers */
static uint32_t
rnd(uint32_t upper)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 2685821657736338717ULL) >> 32) % upper;
}

/* nasty - a random string of hostile pieces and random bytes
 * (caller frees); a NUL piece ends the C string there, as it would
 * any value read from C */
static char *
nasty(void)
{
	static const char *const pieces[] = {
		"\r", "\n", "\r\n", "\n\r", "\r\n\r\n", "",
		"=?utf-8?q?a=0D=0Ab?=", "=?utf-8?b?DQpCY2M6IHg=?=", "%0d%0a",
		"%0D%0ABcc:%20x", "\\r\\n", "\xe2\x80\xa8", "\xe2\x80\xa9",
		"\xc2\x85", "\x0b", "\x0c", "\t", "Bcc: evil@example.com",
		"\nBcc: evil@example.com", "\r\nSubject: forged", ":", "<",
		">", "\"", "\\", ",", ";", "@", "caf\xc3\xa9", "\xf0\x9f\x92\xa3",
		"{{link}}", "{{#held}}", "<script>alert(1)</script>", "&amp;",
		" ", "  ", "\xff\xfe", "\xc3", "\x7f", "\x1b[31m",
	};
	struct cm_buf b;
	uint32_t n = rnd(12);

	cm_buf_init(&b, 0);
	for (uint32_t i = 0; i < n; i++) {
		if (rnd(4) == 0) {
			char c = (char)(1 + rnd(255));

			(void)cm_buf_putc(&b, c);
		} else if (rnd(40) == 0) {
			break; /* a NUL byte */
		} else {
			(void)cm_buf_puts(&b,
					  pieces[rnd(CM_ARRAY_SIZE(pieces))]);
		}
	}
	if (rnd(50) == 0)
		for (int i = 0; i < 300; i++)
			(void)cm_buf_puts(&b, "\r\nX-Long: y");
	return cm_buf_steal(&b);
}

static const char *const fuzz_vars[] = {
	"force_name", "case_ref", "first_name", "victim_name", "link",
	"link_expiry", "portal_url", "unsubscribe_url", "update_text",
	"officer_name", "victim_text", "held", "victim_email", "victim_phone",
	"message_id", "reason", "sender", "placed_by", "forwarded",
	"forwarded_from", "forwarded_date", "forwarded_subject",
};

/* unbound - data with every boundary "=-cm-" + 32 hex digits made
 * "=-cm-X" (they are random), in place; returns the new length */
static size_t
unbound(char *data, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		if (len - i >= 5 + 32 && memcmp(data + i, "=-cm-", 5) == 0) {
			memcpy(data + o, "=-cm-X", 6);
			o += 6;
			i += 5 + 32;
			continue;
		}
		data[o++] = data[i++];
	}
	data[o] = '\0';
	return o;
}

/* fuzz_one - render template t with random values and build; the
 * headers read back must be exactly want, and the composer z, which
 * reuses the message of the row before when the shape is the same,
 * must give the very bytes of a fresh build */
static void
fuzz_one(struct cm_composer *z, struct cm_template *t, bool victim,
	 const char *const *want, size_t nwant, long row)
{
	struct cm_tpl_var v[CM_ARRAY_SIZE(fuzz_vars)];
	char *val[CM_ARRAY_SIZE(fuzz_vars)];
	char *subj = NULL, *text = NULL, *html = NULL, *name, *data = NULL;
	char *again = NULL;
	struct cm_compose c = base();
	struct cm_inspect in;
	const char *err = NULL, *s;
	size_t len = 0, alen = 0;

	for (size_t i = 0; i < CM_ARRAY_SIZE(fuzz_vars); i++) {
		val[i] = nasty();
		v[i].name = fuzz_vars[i];
		v[i].value = val[i];
	}
	if (cm_template_render(t, v, CM_ARRAY_SIZE(v), &subj, &text, &html,
			       &err) < 0)
		fail_msg("row %ld: render: %s", row, err);
	name = cm_template_neutralise(val[3], CM_TPL_HEADER);
	c.subject = subj;
	c.text = text;
	c.html = html;
	c.to_name = name;
	if (!victim) {
		c.return_path = NULL;
		c.unsub_mailto = c.unsub_https = NULL;
		c.internal = true;
	}
	c.crlf = rnd(2) == 0;
	c.date += row;
	if (rnd(4) == 0) /* the discreet From, or none */
		c.from_name = rnd(2) == 0 ? "Support Service" : NULL;
	if (cm_compose_build(&c, &data, &len, &err) < 0)
		fail_msg("row %ld: build: %s", row, err);
	if (cm_composer_build(z, &c, &again, &alen, &err) < 0)
		fail_msg("row %ld: composer: %s", row, err);
	if (unbound(again, alen) != unbound(data, len) ||
	    memcmp(again, data, strlen(data)) != 0)
		fail_msg("row %ld: the composer's bytes differ:\n%s\n---\n%s",
			 row, again, data);
	free(again);
	if (cm_compose_inspect(data, len, &in, &err) < 0)
		fail_msg("row %ld: inspect: %s", row, err);
	assert_headers(&in, want, nwant, row);
	s = cm_compose_inspect_header(&in, "Subject");
	if (s == NULL || strpbrk(s, "\r\n") != NULL)
		fail_msg("row %ld: subject has a line break", row);
	if (in.n_parts != (html != NULL ? 2u : 1u))
		fail_msg("row %ld: %zu parts", row, in.n_parts);
	cm_compose_inspect_free(&in);
	free(data);
	free(name);
	free(subj);
	free(text);
	free(html);
	for (size_t i = 0; i < CM_ARRAY_SIZE(fuzz_vars); i++)
		free(val[i]);
}

/* test_fuzz - 10,000 hostile value sets through the shipped templates */
static void
test_fuzz(void **state)
{
	const char *err = NULL;
	struct cm_template *upd, *off;
	struct cm_composer *z = cm_composer_new();

	(void)state;
	upd = cm_template_load("conf/templates", "update", &err);
	if (upd == NULL)
		fail_msg("%s", err);
	off = cm_template_load("conf/templates", "officer_notify", &err);
	if (off == NULL)
		fail_msg("%s", err);
	/* runs of either kind, so that the composer both reuses and
	 * changes shape */
	for (long i = 0; i < FUZZ_ROUNDS; i++) {
		if (i % 7 < 4)
			fuzz_one(z, upd, true, victim_headers,
				 CM_ARRAY_SIZE(victim_headers), i);
		else
			fuzz_one(z, off, false, officer_headers,
				 CM_ARRAY_SIZE(officer_headers), i);
	}
	cm_composer_free(&z);
	cm_template_free(&off);
	cm_template_free(&upd);
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_victim_notice),
		cmocka_unit_test(test_officer_crlf),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_unsub_mailto_only),
		cmocka_unit_test(test_bidi),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_fuzz),
	};

	if (cm_token_init() < 0)
		return 1;
	cm_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
