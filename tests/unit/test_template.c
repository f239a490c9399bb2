/*
 * test_template.c - unit tests of the template module
 *
 * DESCRIPTION
 *	Neutralisation per mode (table), placeholder and section expansion,
 *	one-pass expansion (a value is never expanded), errors for unknown
 *	placeholders and malformed templates, and the shipped templates in
 *	conf/templates rendering with the sender's variables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_template.h"
#include "cm_util.h"

/* struct ncase - one neutralisation: mode, input, expected */
struct ncase {
	enum cm_tpl_mode mode;
	const char *in;
	const char *want;
};

static const struct ncase ncases[] = {
	{ CM_TPL_HEADER, "plain", "plain" },
	{ CM_TPL_HEADER, "a\r\nBcc: x@evil", "a Bcc: x@evil" },
	{ CM_TPL_HEADER, "a\nb\rc", "a b c" },
	{ CM_TPL_HEADER, "  lead and trail \t ", "lead and trail" },
	{ CM_TPL_HEADER, "tab\there", "tab here" },
	{ CM_TPL_HEADER, "=?utf-8?q?a=0D=0Ab?=", "= ?utf-8?q?a=0D=0Ab?=" },
	{ CM_TPL_HEADER, "x=?=?y", "x= ?= ?y" },
	{ CM_TPL_HEADER, "line\xe2\x80\xa8sep\xe2\x80\xa9para",
	  "line sep para" },
	{ CM_TPL_HEADER, "nel\xc2\x85here", "nel here" },
	{ CM_TPL_HEADER, "%0d%0aBcc: x", "%0d%0aBcc: x" },
	{ CM_TPL_HEADER, "bad\xff utf8", "bad\xef\xbf\xbd utf8" },
	{ CM_TPL_HEADER, "del\x7f", "del" },
	{ CM_TPL_HEADER, NULL, "" },
	{ CM_TPL_HEADER, "caf\xc3\xa9", "caf\xc3\xa9" },
	{ CM_TPL_TEXT, "a\r\nb\rc\nd", "a\nb\nc\nd" },
	{ CM_TPL_TEXT, "bell\x07tab\t", "bell tab\t" },
	{ CM_TPL_TEXT, "u\xe2\x80\xa8v", "u\nv" },
	{ CM_TPL_TEXT, "{{link}}", "{{link}}" },
	{ CM_TPL_HTML, "<b>&\"'", "&lt;b&gt;&amp;&quot;&#39;" },
	{ CM_TPL_HTML, "a\nb", "a<br>\nb" },
	{ CM_TPL_HTML, "<script>\r\n", "&lt;script&gt;<br>\n" },
};

/* test_neutralise - the table above */
static void
test_neutralise(void **state)
{
	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(ncases); i++) {
		char *got = cm_template_neutralise(ncases[i].in,
						   ncases[i].mode);

		if (strcmp(got, ncases[i].want) != 0 &&
		    strstr(ncases[i].want, "&#39;") != NULL &&
		    strstr(got, "&#x27;") != NULL) {
			free(got); /* either spelling of ' is fine */
			continue;
		}
		if (strcmp(got, ncases[i].want) != 0)
			fail_msg("row %zu: got '%s', want '%s'", i, got,
				 ncases[i].want);
		free(got);
	}
}

/* test_header_length - a header value is cut, on a character boundary */
static void
test_header_length(void **state)
{
	struct cm_buf b;
	char *got;

	(void)state;
	cm_buf_init(&b, 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(cm_buf_puts(&b, "\xc3\xa9"), 0);
	got = cm_template_neutralise(b.data, CM_TPL_HEADER);
	assert_true(strlen(got) <= 200);
	assert_true(cm_utf8_valid(got, strlen(got)));
	free(got);
	cm_buf_free(&b);
}

/* struct ecase - one expansion: template, mode, expected (NULL: error
 * containing want_err) */
struct ecase {
	const char *tpl;
	enum cm_tpl_mode mode;
	const char *want;
	const char *want_err;
};

static const struct cm_tpl_var vars[] = {
	{ "name", "Jane <Doe>" },
	{ "empty", "" },
	{ "null", NULL },
	{ "trick", "{{name}}" },
	{ "nl", "a\r\nb" },
};

static const struct ecase ecases[] = {
	{ "Hello {{name}}!", CM_TPL_TEXT, "Hello Jane <Doe>!", NULL },
	{ "Hello {{name}}!", CM_TPL_HTML, "Hello Jane &lt;Doe&gt;!", NULL },
	{ "S: {{nl}}", CM_TPL_HEADER, "S: a b", NULL },
	{ "T: {{nl}}", CM_TPL_TEXT, "T: a\nb", NULL },
	{ "{{trick}}", CM_TPL_TEXT, "{{name}}", NULL },
	{ "[{{#name}}has {{name}}{{/name}}]", CM_TPL_TEXT,
	  "[has Jane <Doe>]", NULL },
	{ "[{{#empty}}x{{/empty}}]", CM_TPL_TEXT, "[]", NULL },
	{ "[{{#null}}x{{/null}}]", CM_TPL_TEXT, "[]", NULL },
	{ "[{{^empty}}none{{/empty}}]", CM_TPL_TEXT, "[none]", NULL },
	{ "[{{^name}}none{{/name}}]", CM_TPL_TEXT, "[]", NULL },
	{ "{{#name}}{{#empty}}x{{/empty}}y{{/name}}", CM_TPL_TEXT, "y",
	  NULL },
	{ "no tags at all", CM_TPL_TEXT, "no tags at all", NULL },
	{ "single { brace }", CM_TPL_TEXT, "single { brace }", NULL },
	{ "{{unknown}}", CM_TPL_TEXT, NULL, "unknown placeholder" },
	{ "{{#unknown}}x{{/unknown}}", CM_TPL_TEXT, NULL,
	  "unknown placeholder" },
	{ "{{#name}}x", CM_TPL_TEXT, NULL, "not closed" },
	{ "x{{/name}}", CM_TPL_TEXT, NULL, "without a section" },
	{ "{{Name}}", CM_TPL_TEXT, NULL, "malformed" },
	{ "{{name", CM_TPL_TEXT, NULL, "malformed" },
	{ "{{ name }}", CM_TPL_TEXT, NULL, "malformed" },
};

/* test_expand - the table above */
static void
test_expand(void **state)
{
	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(ecases); i++) {
		const char *err = NULL;
		char *got = cm_template_expand(ecases[i].tpl, ecases[i].mode,
					       vars, CM_ARRAY_SIZE(vars),
					       &err);

		if (ecases[i].want != NULL) {
			if (got == NULL)
				fail_msg("row %zu: error %s", i, err);
			if (strcmp(got, ecases[i].want) != 0)
				fail_msg("row %zu: got '%s', want '%s'", i,
					 got, ecases[i].want);
		} else {
			if (got != NULL)
				fail_msg("row %zu: expanded to '%s'", i, got);
			if (err == NULL ||
			    strstr(err, ecases[i].want_err) == NULL)
				fail_msg("row %zu: error '%s', want '%s'", i,
					 err ? err : "(null)",
					 ecases[i].want_err);
		}
		free(got);
	}
}

/* write_file - put text into dir/name */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char *path = cm_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(path);
}

/* test_load_errors - missing and malformed files are named */
static void
test_load_errors(void **state)
{
	char dir[] = "/tmp/cm-test-template-XXXXXX";
	const char *err = NULL;
	struct cm_template *t;
	char *subj = NULL, *text = NULL, *html = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	t = cm_template_load(dir, "none", &err);
	assert_null(t);
	assert_non_null(strstr(err, "none.txt"));

	write_file(dir, "two.subject", "line one\nline two\n");
	write_file(dir, "two.txt", "body\n");
	t = cm_template_load(dir, "two", &err);
	assert_null(t);
	assert_non_null(strstr(err, "more than one line"));

	write_file(dir, "bad.txt", "oops {{#x}} never closed\n");
	t = cm_template_load(dir, "bad", &err);
	assert_null(t);
	assert_non_null(strstr(err, "bad.txt"));

	write_file(dir, "ok.subject", "Hi {{name}}\n");
	write_file(dir, "ok.txt", "Dear {{name}}\n");
	write_file(dir, "ok.html", "<p>{{name}}</p>\n");
	t = cm_template_load(dir, "ok", &err);
	assert_non_null(t);
	assert_true(cm_template_has_html(t));
	assert_true(cm_template_has_subject(t));
	assert_int_equal(cm_template_render(t, vars, CM_ARRAY_SIZE(vars),
					    &subj, &text, &html, &err),
			 0);
	assert_string_equal(subj, "Hi Jane <Doe>");
	assert_string_equal(text, "Dear Jane <Doe>\n");
	assert_string_equal(html, "<p>Jane &lt;Doe&gt;</p>\n");
	free(subj);
	free(text);
	free(html);
	/* a placeholder the caller does not know is an error */
	assert_int_equal(cm_template_render(t, vars, 1, &subj, &text, &html,
					    &err),
			 0);
	free(subj);
	free(text);
	free(html);
	assert_int_equal(cm_template_render(t, vars + 1, 1, &subj, &text,
					    &html, &err),
			 -1);
	assert_non_null(strstr(err, "ok.subject"));
	cm_template_free(&t);
	cm_template_free(&t); /* NULL is fine */

	for (const char *const *n = (const char *const[]){ "two.subject",
		     "two.txt", "bad.txt", "ok.subject", "ok.txt", "ok.html",
		     NULL };
	     *n != NULL; n++) {
		char *p = cm_xasprintf("%s/%s", dir, *n);

		unlink(p);
		free(p);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* the variables casemail-send gives every template */
static const char *const sender_vars[] = {
	"force_name", "case_ref", "first_name", "victim_name", "link",
	"link_expiry", "portal_url", "unsubscribe_url", "update_text",
	"officer_name", "victim_text", "held", "victim_email", "victim_phone",
	"message_id", "reason", "sender", "placed_by", "forwarded",
	"forwarded_from", "forwarded_date", "forwarded_subject",
};

/* test_shipped - conf/templates: every one loads and renders, and the
 * discreet ones name no force and no crime */
static void
test_shipped(void **state)
{
	static const char *const names[] = {
		"update", "update-discreet", "fresh_link",
		"fresh_link-discreet", "officer_notify", "officer_held",
		"bounce_alert", "sms", "sms-discreet",
	};
	struct cm_tpl_var v[CM_ARRAY_SIZE(sender_vars)];

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(sender_vars); i++) {
		v[i].name = sender_vars[i];
		v[i].value = strcmp(sender_vars[i], "force_name") == 0
				     ? "Example Police"
				     : "v";
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(names); i++) {
		const char *err = NULL;
		char *subj = NULL, *text = NULL, *html = NULL;
		struct cm_template *t = cm_template_load("conf/templates",
							 names[i], &err);

		if (t == NULL)
			fail_msg("row %zu: %s", i, err);
		if (cm_template_render(t, v, CM_ARRAY_SIZE(v), &subj, &text,
				       &html, &err) < 0)
			fail_msg("row %zu: %s", i, err);
		if (strstr(names[i], "discreet") != NULL) {
			const char *all[] = { subj, text, html };

			for (size_t k = 0; k < 3; k++) {
				if (all[k] == NULL)
					continue;
				if (strcasestr(all[k], "police") ||
				    strcasestr(all[k], "crime") ||
				    strcasestr(all[k], "case"))
					fail_msg("row %zu: %s is not neutral",
						 i, names[i]);
			}
		}
		if (strstr(names[i], "sms") == NULL && subj == NULL)
			fail_msg("row %zu: no subject", i);
		free(subj);
		free(text);
		free(html);
		cm_template_free(&t);
	}
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neutralise),
		cmocka_unit_test(test_header_length),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_shipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
