/*
 * test_web_form.c - unit tests of casemail-web's pure helpers
 *
 * DESCRIPTION
 *	Form decoding (a table of bodies and the fields they give, or
 *	their refusal: bad escapes, NUL, control bytes, invalid UTF-8, too
 *	many fields), the token segment of a path, the origin of a URL,
 *	listen addresses (and which are loopback), route names (what a
 *	log may say of a hostile path), message clean-up, constant-time
 *	comparison,
 *	rate-limit windows, and CSRF tokens (bound to purpose and value,
 *	different under another secret, refused when missing or altered).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "../../web/web.h"

/* test_form_table - bodies and what they decode to */
static void
test_form_table(void **state)
{
	static const struct {
		const char *body;
		int rc;
		const char *name; /* field looked up */
		const char *want; /* its value; NULL: absent */
	} rows[] = {
		{ "a=1&b=2", 0, "b", "2" },
		{ "text=Hello+world%21", 0, "text", "Hello world!" },
		{ "t=%3Cscript%3E%22%27", 0, "t", "<script>\"'" },
		{ "t=line1%0D%0Aline2", 0, "t", "line1\r\nline2" },
		{ "t=caf%C3%A9", 0, "t", "caf\xc3\xa9" },
		{ "a=1&&a=2", 0, "a", "1" },
		{ "flag", 0, "flag", "" },
		{ "a=", 0, "a", "" },
		{ "", 0, "a", NULL },
		{ "a=%", -1, NULL, NULL },
		{ "a=%4", -1, NULL, NULL },
		{ "a=%zz", -1, NULL, NULL },
		{ "a=%00", -1, NULL, NULL },
		{ "a=%01", -1, NULL, NULL },
		{ "a=%7F", -1, NULL, NULL },
		{ "a=%C3", -1, NULL, NULL },
		{ "a=%FF%FE", -1, NULL, NULL },
		{ "%00=x", -1, NULL, NULL },
	};
	struct form f;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		int rc = form_parse(rows[i].body, strlen(rows[i].body), &f);

		if (rc != rows[i].rc)
			fail_msg("row %zu: rc %d, want %d", i, rc, rows[i].rc);
		if (rc == 0) {
			const char *v = form_get(&f, rows[i].name);

			if ((v == NULL) != (rows[i].want == NULL) ||
			    (v != NULL && strcmp(v, rows[i].want) != 0))
				fail_msg("row %zu: got '%s', want '%s'", i,
					 v ? v : "(null)",
					 rows[i].want ? rows[i].want
						      : "(null)");
		} else if (f.n != 0) {
			fail_msg("row %zu: refused but fields kept", i);
		}
		form_free(&f);
	}
}

/* test_form_limits - too many fields refused, the limit accepted */
static void
test_form_limits(void **state)
{
	struct cm_buf b;
	struct form f;

	(void)state;
	cm_buf_init(&b, 0);
	for (int i = 0; i < WEB_MAX_FIELDS; i++)
		assert_int_equal(cm_buf_printf(&b, "%sf%d=%d", i ? "&" : "",
					       i, i),
				 0);
	assert_int_equal(form_parse(b.data, b.len, &f), 0);
	assert_int_equal(f.n, WEB_MAX_FIELDS);
	assert_string_equal(form_get(&f, "f31"), "31");
	form_free(&f);
	assert_int_equal(cm_buf_puts(&b, "&one=more"), 0);
	assert_int_equal(form_parse(b.data, b.len, &f), -1);
	assert_int_equal(f.n, 0);
	cm_buf_free(&b);
}

/* test_path_token - the segment after a prefix, whitelisted */
static void
test_path_token(void **state)
{
	static const struct {
		const char *path, *prefix, *want; /* NULL: refused */
	} rows[] = {
		{ "/l/abc_DEF-123", "/l/", "abc_DEF-123" },
		{ "/l/", "/l/", NULL },
		{ "/l/abc/def", "/l/", NULL },
		{ "/l/abc%2F", "/l/", NULL },
		{ "/l/a.b", "/l/", NULL },
		{ "/l/a b", "/l/", NULL },
		{ "/x/abc", "/l/", NULL },
		{ "/unsubscribe/abc234", "/unsubscribe/", "abc234" },
	};
	char out[WEB_MAX_PATH_TOKEN + 1], big[WEB_MAX_PATH_TOKEN + 8];

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		bool ok = path_token(rows[i].path, rows[i].prefix, out,
				     sizeof(out));

		if (ok != (rows[i].want != NULL) ||
		    (ok && strcmp(out, rows[i].want) != 0))
			fail_msg("row %zu: %s", i, rows[i].path);
	}
	memcpy(big, "/l/", 3);
	memset(big + 3, 'a', WEB_MAX_PATH_TOKEN + 1);
	big[WEB_MAX_PATH_TOKEN + 4] = '\0';
	assert_false(path_token(big, "/l/", out, sizeof(out)));
	big[WEB_MAX_PATH_TOKEN + 3] = '\0';
	assert_true(path_token(big, "/l/", out, sizeof(out)));
}

/* test_origin_listen - origins of URLs, listen addresses */
static void
test_origin_listen(void **state)
{
	static const struct {
		const char *url, *want;
	} o[] = {
		{ "https://Portal.Example.org/x/y",
		  "https://portal.example.org" },
		{ "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
		{ "https://h.example:444?q#f", "https://h.example:444" },
	};
	struct sockaddr_storage ss;
	socklen_t len = 0;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(o); i++) {
		char *got = origin_of(o[i].url);

		if (strcmp(got, o[i].want) != 0)
			fail_msg("row %zu: %s", i, got);
		free(got);
	}
	assert_int_equal(listen_parse("127.0.0.1:8080", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
	assert_int_equal(listen_parse("[::1]:9", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(listen_parse("localhost:80", &ss, &len), -1);
	assert_int_equal(listen_parse("127.0.0.1:0", &ss, &len), -1);
	assert_int_equal(listen_parse("127.0.0.1:65536", &ss, &len), -1);
	assert_int_equal(listen_parse("127.0.0.1", &ss, &len), -1);
	assert_int_equal(listen_parse("[::1:80", &ss, &len), -1);
}

/* test_route_name - what logs may say of a path: fixed names only */
static void
test_route_name(void **state)
{
	static const struct {
		const char *path, *want;
	} rows[] = {
		{ "/", "/" },
		{ "/case", "/case" },
		{ "/case/message", "/case/message" },
		{ "/register", "/register" },
		{ "/settings", "/settings" },
		{ "/logout", "/logout" },
		{ "/fresh", "/fresh" },
		{ "/static/casemail.css", "/static/casemail.css" },
		{ "/l/abcDEF_-", "/l/-" },
		{ "/l/\nip=1.2.3.4", "/l/-" },
		{ "/unsubscribe/abc", "/unsubscribe/-" },
		{ "/\nip=1.2.3.4\x1b[31m", "other" },
		{ "/case ip=1.2.3.4", "other" },
		{ "/case/", "other" },
		{ "/CASE", "other" },
		{ "", "other" },
		{ NULL, "other" },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++)
		if (strcmp(route_name(rows[i].path), rows[i].want) != 0)
			fail_msg("row %zu: %s", i, route_name(rows[i].path));
}

/* test_text_equal - message clean-up and constant-time equality */
static void
test_text_equal(void **state)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "  hello  ", "hello" },
		{ "a\r\nb\rc\nd", "a\nb\nc\nd" },
		{ "\r\n\t \n", "" },
		{ "x", "x" },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		char *got = text_clean(rows[i].in);

		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: '%s'", i, got);
		free(got);
	}
	assert_true(ct_equal("abc", "abc"));
	assert_false(ct_equal("abc", "abd"));
	assert_false(ct_equal("abc", "abcd"));
	assert_true(ct_equal("", ""));
}

/* test_rate - windows, keys, kinds, and a full table */
static void
test_rate(void **state)
{
	struct rate *r = rate_new(64);
	char key[32];

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(rate_hit(r, "ip", "1.2.3.4", 3, 60, 1000));
	assert_false(rate_hit(r, "ip", "1.2.3.4", 3, 60, 1010));
	assert_false(rate_hit(r, "ip", "1.2.3.4", 3, 60, 1059));
	/* another key, another kind: their own counters */
	assert_true(rate_hit(r, "ip", "1.2.3.5", 3, 60, 1010));
	assert_true(rate_hit(r, "token", "1.2.3.4", 3, 60, 1010));
	/* the window passes */
	assert_true(rate_hit(r, "ip", "1.2.3.4", 3, 60, 1060));
	/* thousands of keys never break the table */
	for (int i = 0; i < 5000; i++) {
		(void)snprintf(key, sizeof(key), "k%d", i);
		assert_true(rate_hit(r, "ip", key, 1, 60, 2000));
	}
	rate_free(&r);
	assert_null(r);
}

/* test_csrf - bound to secret, purpose and value */
static void
test_csrf(void **state)
{
	char dir[] = "/tmp/cm-test-web-XXXXXX", *p1, *p2;
	struct cm_secret *a, *b;
	const char *err = NULL;
	char t[WEB_CSRF_LEN + 1], u[WEB_CSRF_LEN + 1];

	(void)state;
	assert_int_equal(cm_token_init(), 0);
	assert_non_null(mkdtemp(dir));
	p1 = cm_xasprintf("%s/a", dir);
	p2 = cm_xasprintf("%s/b", dir);
	assert_int_equal(cm_secret_create(p1, &err), 0);
	assert_int_equal(cm_secret_create(p2, &err), 0);
	a = cm_secret_load(p1, NULL, &err);
	b = cm_secret_load(p2, NULL, &err);
	assert_non_null(a);
	assert_non_null(b);
	csrf_make(a, "s", "value", 5, t);
	assert_int_equal(strlen(t), WEB_CSRF_LEN);
	assert_true(csrf_ok(a, "s", "value", 5, t));
	assert_false(csrf_ok(a, "p", "value", 5, t));
	assert_false(csrf_ok(a, "s", "valuf", 5, t));
	assert_false(csrf_ok(b, "s", "value", 5, t));
	assert_false(csrf_ok(a, "s", "value", 5, NULL));
	assert_false(csrf_ok(a, "s", "value", 5, ""));
	assert_false(csrf_ok(a, "s", NULL, 0, t));
	csrf_make(a, "s", "value", 5, u);
	assert_string_equal(t, u);
	u[0] = u[0] == 'A' ? 'B' : 'A';
	assert_false(csrf_ok(a, "s", "value", 5, u));
	cm_secret_free(&a);
	cm_secret_free(&b);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
	free(p1);
	free(p2);
}

/* main - run every test (or those named in argv) */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_table),
		cmocka_unit_test(test_form_limits),
		cmocka_unit_test(test_path_token),
		cmocka_unit_test(test_origin_listen),
		cmocka_unit_test(test_route_name),
		cmocka_unit_test(test_text_equal),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_csrf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
