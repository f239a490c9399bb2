/*
 * test_authres.c - unit tests for authres.c (Authentication-Results)
 *
 * DESCRIPTION
 *	test_decide: rows of a header stack (Authentication-Results
 *	values with the number of Received headers above each, and the
 *	by-hosts of the Received headers), the trusted ids, the From
 *	domain and the expected verdict; one row for each rule and for
 *	each forgery a sender can try. test_lexer: single fields whose
 *	RFC 8601 syntax is the point. test_verdict: the same decision
 *	from a struct cm_msg. test_message: raw messages through
 *	cm_mime_parse. test_pass: the older boolean call. A failing row
 *	is reported by its index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "cm_authres.h"
#include "cm_util.h"

#define B "mx.police.example" /* the border: the trusted authserv-id */
#define D "police.example"    /* the From domain */
#define MAXF 4                /* fields and Received headers per row */

/* One header stack and its verdict. */
struct row {
	const char *ar[MAXF];   /* Authentication-Results values, top-down */
	size_t above[MAXF];     /* Received headers above each */
	const char *by[MAXF];   /* Received by-hosts, top-down */
	const char *trusted;
	const char *domain;
	enum cm_auth want;
};

/* count - the non-NULL entries of v[MAXF] */
static size_t
count(const char *const *v)
{
	size_t n = 0;

	while (n < MAXF && v[n] != NULL)
		n++;
	return n;
}

/* run_rows - decide each row, report the first wrong one */
static void
run_rows(const struct row *rows, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		const char *why = NULL;
		enum cm_auth got;

		got = cm_authres_decide((char *const *)rows[i].ar,
					rows[i].above, count(rows[i].ar),
					(char *const *)rows[i].by,
					count(rows[i].by), rows[i].trusted,
					rows[i].domain, &why);
		if (got != rows[i].want)
			fail_msg("row %zu: got %d want %d (%s): %s", i,
				 (int)got, (int)rows[i].want,
				 why != NULL ? why : "-",
				 rows[i].ar[0] != NULL ? rows[i].ar[0] : "");
		if (why == NULL)
			fail_msg("row %zu: no reason", i);
	}
}

/* test_decide - which field counts, and what it says */
static void
test_decide(void **state)
{
	static const struct row rows[] = {
		/* 0: the border's field above its Received: pass */
		{ { B "; dmarc=pass header.from=" D }, { 0 }, { B },
		  B, D, CM_AUTH_PASS },
		/* 1: dkim pass by header.d */
		{ { B "; dkim=pass header.d=" D " header.s=s1" }, { 0 },
		  { B }, B, D, CM_AUTH_PASS },
		/* 2: attack: the sender's forged field (dmarc=pass) stands
		 * below the border's Received; the border's own says fail */
		{ { B "; dmarc=fail header.from=" D,
		    B "; dmarc=pass header.from=" D },
		  { 0, 1 }, { B }, B, D, CM_AUTH_FAIL },
		/* 3: the same forgery with the border's field saying
		 * nothing useful (spf only): still a fail */
		{ { B "; spf=pass smtp.mailfrom=" D,
		    B "; dmarc=pass header.from=" D },
		  { 0, 1 }, { B }, B, D, CM_AUTH_FAIL },
		/* 4: the forged field alone, below the border's Received
		 * and the sender's own relay's: nothing counts */
		{ { B "; dmarc=pass header.from=" D }, { 2 },
		  { B, "relay.evil.example" }, B, D, CM_AUTH_NONE },
		/* 5: attack: the sender also forges a Received "by" the
		 * border, with its field above it; the border's field is
		 * still topmost and decides */
		{ { B "; dmarc=fail header.from=" D,
		    B "; dkim=pass header.d=" D },
		  { 0, 1 }, { B, B }, B, D, CM_AUTH_FAIL },
		/* 6: internal hops after the border add Received above
		 * it; the border's field between them still counts */
		{ { B "; dkim=pass header.d=" D }, { 2 },
		  { "mail.police.example", "filter.local", B },
		  B, D, CM_AUTH_PASS },
		/* 7: a content filter re-injects: two Received by the
		 * border, its field under the upper one */
		{ { B "; dkim=pass header.d=" D }, { 1 }, { B, B },
		  B, D, CM_AUTH_PASS },
		/* 8: no Received names the border: only fields above the
		 * topmost Received count */
		{ { B "; dkim=pass header.d=" D }, { 0 },
		  { "relay.example" }, B, D, CM_AUTH_PASS },
		/* 9: ... and one below it does not */
		{ { B "; dkim=pass header.d=" D }, { 1 },
		  { "relay.example", "other.example" }, B, D,
		  CM_AUTH_NONE },
		/* 10: no Received header at all: nothing counts */
		{ { B "; dkim=pass header.d=" D }, { 0 }, { NULL },
		  B, D, CM_AUTH_NONE },
		/* 11: by-host compared case-blind */
		{ { B "; dkim=pass header.d=" D }, { 1 },
		  { "x.example", "MX.Police.Example" }, B, D,
		  CM_AUTH_PASS },
		/* 12: an untrusted field above the trusted one is
		 * skipped; the first trusted one decides */
		{ { "evil.example; dkim=fail header.d=" D,
		    B "; dkim=pass header.d=" D },
		  { 0, 0 }, { B }, B, D, CM_AUTH_PASS },
		/* 13: an untrusted field alone: none */
		{ { "evil.example; dkim=pass header.d=" D }, { 0 }, { B },
		  B, D, CM_AUTH_NONE },
		/* 14: Postfix hides its Received from milters: OpenDMARC's
		 * field lands directly beneath the border's Received and
		 * counts */
		{ { B "; dmarc=pass header.from=" D }, { 1 },
		  { B, "relay.police.example" }, B, D, CM_AUTH_PASS },
		/* 15: ... and stays the first there, above a forgery the
		 * sender wrote without a Received of its own */
		{ { B "; dmarc=fail header.from=" D,
		    B "; dmarc=pass header.from=" D },
		  { 1, 1 }, { B }, B, D, CM_AUTH_FAIL },
		/* 16: first trusted field decides, later ones unread */
		{ { B "; dkim=fail header.d=" D,
		    B "; dkim=pass header.d=" D },
		  { 0, 0 }, { B }, B, D, CM_AUTH_FAIL },
		/* 17: dmarc=pass without header.from */
		{ { B "; dmarc=pass" }, { 0 }, { B }, B, D, CM_AUTH_FAIL },
		/* 18: dmarc=pass for another domain */
		{ { B "; dmarc=pass header.from=evil.example" }, { 0 },
		  { B }, B, D, CM_AUTH_FAIL },
		/* 19: dkim pass but dmarc fail for the domain: fail */
		{ { B "; dkim=pass header.d=" D
		    "; dmarc=fail header.from=" D },
		  { 0 }, { B }, B, D, CM_AUTH_FAIL },
		/* 20: dmarc fail for another domain does not block */
		{ { B "; dkim=pass header.d=" D
		    "; dmarc=fail header.from=evil.example" },
		  { 0 }, { B }, B, D, CM_AUTH_PASS },
		/* 21: dkim pass for another domain */
		{ { B "; dkim=pass header.d=evil.example" }, { 0 }, { B },
		  B, D, CM_AUTH_FAIL },
		/* 22: header.i with the domain after '@' */
		{ { B "; dkim=pass header.i=@" D }, { 0 }, { B },
		  "a.example, " B, D, CM_AUTH_PASS },
		/* 23: trusted list empty: none */
		{ { B "; dkim=pass header.d=" D }, { 0 }, { B }, "", D,
		  CM_AUTH_NONE },
		/* 24: no From domain: none */
		{ { B "; dkim=pass header.d=" D }, { 0 }, { B }, B, "",
		  CM_AUTH_NONE },
		/* 25: attack: a quoted value with ';' makes no result */
		{ { B "; dkim=fail header.i=\"x;dmarc=pass\"@evil.example" },
		  { 0 }, { B }, B, D, CM_AUTH_FAIL },
		/* 26: ... nor with header.from smuggled in the quote */
		{ { B "; dkim=fail header.i=\"x;dmarc=pass header.from="
		    D "\"@evil.example" },
		  { 0 }, { B }, B, D, CM_AUTH_FAIL },
		/* 27: trusted field with no results: fail */
		{ { B "; none" }, { 0 }, { B }, B, D, CM_AUTH_FAIL },
	};

	(void)state;
	run_rows(rows, CM_ARRAY_SIZE(rows));
}

/* test_lexer - RFC 8601 syntax of one field above the border */
static void
test_lexer(void **state)
{
	static const struct {
		const char *value;
		enum cm_auth want;
	} rows[] = {
		/* 0: version number after the authserv-id */
		{ B " 1; dkim=pass header.d=" D, CM_AUTH_PASS },
		/* 1: authserv-id case-blind, domains case-blind */
		{ "MX.Police.EXAMPLE; dkim=pass header.d=POLICE.example",
		  CM_AUTH_PASS },
		/* 2: comments are white space, nested, with quoted pair */
		{ B " (mx (a \\) b) c); dkim (x) = (y) pass (good "
		  "signature) header (p) . (q) d (r) = (s) " D,
		  CM_AUTH_PASS },
		/* 3: a comment cannot smuggle a result */
		{ B "; dkim=fail (; dmarc=pass header.from=" D ")",
		  CM_AUTH_FAIL },
		/* 4: nor an unterminated one */
		{ B "; dkim=fail (; dmarc=pass header.from=" D,
		  CM_AUTH_FAIL },
		/* 5: a quoted value containing ';' and '=' is data */
		{ B "; dkim=fail header.i=\"x;dmarc=pass\"@evil.example",
		  CM_AUTH_FAIL },
		/* 6: quoted pair inside a quoted string */
		{ B "; dkim=fail header.i=\"a\\\";dmarc=pass header.from="
		  D "\"@evil.example", CM_AUTH_FAIL },
		/* 7: unterminated quoted string runs to the end */
		{ B "; dkim=fail reason=\"oops; dmarc=pass header.from="
		  D, CM_AUTH_FAIL },
		/* 8: method version */
		{ B "; dkim/1=pass header.d=" D, CM_AUTH_PASS },
		/* 9: quoted header.d */
		{ B "; dkim=pass header.d=\"" D "\"", CM_AUTH_PASS },
		/* 10: header.i whose '@' is only inside quotes */
		{ B "; dkim=pass header.i=\"x@" D "\"", CM_AUTH_FAIL },
		/* 11: header.i with a quoted local part */
		{ B "; dkim=pass header.i=\"a b\"@" D, CM_AUTH_PASS },
		/* 12: header.i whose quoted local part holds "@domain" */
		{ B "; dkim=pass header.i=\"x@" D "\"@evil.example",
		  CM_AUTH_FAIL },
		/* 13: reason before the properties, quoted */
		{ B "; dmarc=pass reason=\"policy; ok\" header.from=" D,
		  CM_AUTH_PASS },
		/* 14: several results, the pass among them */
		{ B "; spf=pass smtp.mailfrom=" D "; dkim=pass header.d="
		  D " header.b=abc/+de=; dmarc=pass (p=reject) "
		  "header.from=" D, CM_AUTH_PASS },
		/* 15: header.d given and wrong: header.i does not save it */
		{ B "; dkim=pass header.d=evil.example header.i=@" D,
		  CM_AUTH_FAIL },
		/* 16: a malformed element gives no pass */
		{ B "; dkim=pass header.d=" D " junk", CM_AUTH_FAIL },
		/* 17: ';' missing after the authserv-id: malformed */
		{ B " dmarc=pass header.from=" D, CM_AUTH_FAIL },
		/* 18: authserv-id only */
		{ B, CM_AUTH_FAIL },
		/* 19: a longer id that starts with the trusted one */
		{ B ".evil.example; dkim=pass header.d=" D, CM_AUTH_NONE },
		/* 20: two header.from, one foreign */
		{ B "; dmarc=pass header.from=" D
		  " header.from=evil.example", CM_AUTH_FAIL },
		/* 21: dmarc=fail without header.from still blocks */
		{ B "; dkim=pass header.d=" D "; dmarc=fail", CM_AUTH_FAIL },
		/* 22: a result in the authserv-id position */
		{ "dmarc=pass header.from=" D, CM_AUTH_NONE },
		/* 23: folded with CRLF and tabs */
		{ B ";\r\n\tdkim=pass\r\n\theader.d=" D, CM_AUTH_PASS },
		/* 24: quoted authserv-id */
		{ "\"" B "\"; dkim=pass header.d=" D, CM_AUTH_PASS },
		/* 25: empty field */
		{ "", CM_AUTH_NONE },
		/* 26: an overlong value never matches */
		{ B "; dkim=pass header.d=\""
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "\"; dmarc=pass header.from=" D, CM_AUTH_PASS },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		char *v[1] = { (char *)rows[i].value };
		char by0[] = B;
		char *by[1] = { by0 };
		size_t above[1] = { 0 };
		const char *why = NULL;
		enum cm_auth got;

		got = cm_authres_decide(v, above, 1, by, 1, B, D, &why);
		if (got != rows[i].want)
			fail_msg("row %zu: got %d want %d (%s): %s", i,
				 (int)got, (int)rows[i].want, why,
				 rows[i].value);
	}
}

/* test_verdict - the decision from a parsed message's facts */
static void
test_verdict(void **state)
{
	char from[] = "oic@" D, bad_from[] = "nodomain";
	char ar0[] = B "; dmarc=fail header.from=" D;
	char ar1[] = B "; dmarc=pass header.from=" D;
	char by0[] = B, by1[] = "";
	char *ar[2] = { ar0, ar1 }, *by[2] = { by0, by1 };
	size_t above[2] = { 0, 1 };
	struct cm_msg m;
	const char *why = NULL;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.from = from;
	m.auth_results = ar;
	m.auth_results_above = above;
	m.n_auth_results = 2;
	m.received_by = by;
	m.n_received = 2;
	assert_int_equal(cm_authres_verdict(&m, B, &why), CM_AUTH_FAIL);
	assert_string_equal(why, "dmarc fail");
	/* only the forged one left, below the sender's relay: none */
	m.auth_results = ar + 1;
	m.auth_results_above = above + 1;
	m.n_auth_results = 1;
	above[1] = 2;
	assert_int_equal(cm_authres_verdict(&m, B, &why), CM_AUTH_NONE);
	/* the border's pass */
	m.auth_results = ar + 1;
	above[1] = 0;
	assert_int_equal(cm_authres_verdict(&m, B, NULL), CM_AUTH_PASS);
	assert_int_equal(cm_authres_verdict(&m, NULL, NULL), CM_AUTH_NONE);
	m.from = bad_from;
	assert_int_equal(cm_authres_verdict(&m, B, &why), CM_AUTH_NONE);
	m.from = NULL;
	assert_int_equal(cm_authres_verdict(&m, B, &why), CM_AUTH_NONE);
	assert_int_equal(cm_authres_verdict(NULL, B, &why), CM_AUTH_NONE);
}

/* test_message - raw messages through cm_mime_parse and the verdict */
static void
test_message(void **state)
{
#define RCV_BORDER "Received: from evil.example (evil.example " \
	"[198.51.100.9])\n\tby mx.police.example (Postfix) with ESMTPS " \
	"id 1; Mon, 1 Jan 2024 10:00:00 +0000\n"
#define RCV_INNER "Received: from mx.police.example by " \
	"mail.cases.example; Mon, 1 Jan 2024 10:00:01 +0000\n"
#define FORGED "Authentication-Results: mx.police.example; dmarc=pass " \
	"header.from=police.example\n"
#define RCV_SENDER "Received: from [10.9.9.9] by relay.evil.example; " \
	"Mon, 1 Jan 2024 09:59:59 +0000\n"
#define TAIL "From: PC One <oic@police.example>\nTo: case+hu-7@" \
	"cases.example\nSubject: update\n\nbody\n"
	static const struct {
		const char *raw;
		enum cm_auth want;
	} rows[] = {
		/* 0: the sender's forged field below the border's
		 * Received, the border's own says fail */
		{ RCV_INNER "Authentication-Results: mx.police.example; "
		  "dmarc=fail header.from=police.example\n" RCV_BORDER
		  FORGED TAIL, CM_AUTH_FAIL },
		/* 1: the forged field alone below the sender's relay */
		{ RCV_INNER RCV_BORDER RCV_SENDER FORGED TAIL, CM_AUTH_NONE },
		/* 5: Postfix and OpenDMARC: the border's field directly
		 * beneath the border's Received, a forgery under it */
		{ RCV_BORDER "Authentication-Results: mx.police.example; "
		  "dmarc=fail header.from=police.example\n" FORGED TAIL,
		  CM_AUTH_FAIL },
		/* 2: the border's genuine pass */
		{ RCV_INNER "Authentication-Results: mx.police.example;\n"
		  "\tdkim=pass (2048-bit key) header.d=police.example\n"
		  "\theader.i=@police.example header.s=s1;\n"
		  "\tdmarc=pass (p=reject dis=none) header.from="
		  "police.example\n" RCV_BORDER TAIL, CM_AUTH_PASS },
		/* 3: the quoted ';' forgery in the border's field */
		{ RCV_INNER "Authentication-Results: mx.police.example; "
		  "dkim=fail header.i=\"x;dmarc=pass\"@evil.example\n"
		  RCV_BORDER TAIL, CM_AUTH_FAIL },
		/* 4: no Received at all */
		{ FORGED TAIL, CM_AUTH_NONE },
	};

	(void)state;
	cm_mime_init();
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		struct cm_msg *m = NULL;
		const char *error = NULL, *why = NULL;
		enum cm_auth got;

		if (cm_mime_parse(rows[i].raw, strlen(rows[i].raw), NULL, &m,
				  &error) != 0)
			fail_msg("row %zu: parse: %s", i, error);
		got = cm_authres_verdict(m, "mx.police.example", &why);
		cm_msg_free(&m);
		if (got != rows[i].want)
			fail_msg("row %zu: got %d want %d (%s)", i, (int)got,
				 (int)rows[i].want, why);
	}
#undef RCV_BORDER
#undef RCV_INNER
#undef FORGED
#undef TAIL
#undef RCV_SENDER
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_lexer),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
