/*
 * test_inspect.c - unit tests for lib/inspect.c (the whole path)
 *
 * DESCRIPTION
 *	Raw messages as they arrive, with what casemail must make of them:
 *	the kind, the trimmed body, the failed recipients. Covers a DSN
 *	whose status part is base64, a free-text bounce, a delay, an
 *	Exchange auto-reply, an ARF report, an HTML reply trimmed on its
 *	gmail_quote, a person's reply that talks about an undeliverable
 *	mail (never a bounce) and a limit that refuses the message. Then
 *	every regression sample in tests/data (inputs that once crashed
 *	the fuzzers) goes through the whole path again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdlib.h>

#include "cm_inspect.h"
#include "cm_util.h"

/* One message and what inspect must say. */
struct icase {
	const char *raw;
	const char *kind;
	const char *body;  /* NULL: not checked */
	const char *rcpts; /* first failed recipient or NULL for none */
	const char *orig_id; /* returned Message-ID or NULL */
};

#define HDR "From: V <v@victim.example>\nTo: reply+k@force.example\n"

static const struct icase cases[] = {
	/* 0: a plain reply */
	{HDR "Subject: Re: case\n\nThanks, see you.\n\nOn Mon, 1 Jan 2024, "
	 "PC <pc@force.example> wrote:\n> notice\n",
	 "reply", "Thanks, see you.", NULL, NULL},
	/* 1: a DSN with a base64 status part */
	{"From: MAILER-DAEMON@mx.example\nTo: bounce+k@force.example\n"
	 "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
	 "Content-Type: multipart/report; report-type=delivery-status; "
	 "boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nFailed.\n--b\n"
	 "Content-Type: message/delivery-status\nContent-Transfer-Encoding: "
	 "base64\n\nUmVwb3J0aW5nLU1UQTogZG5zOyBteAoKRmluYWwtUmVjaXBpZW50OiBy"
	 "ZmM4MjI7IHZAdmljdGltLmV4YW1wbGUKQWN0aW9uOiBmYWlsZWQKU3RhdHVzOiA1"
	 "LjEuMQo=\n--b\nContent-Type: text/rfc822-headers\n\nFrom: "
	 "pc@force.example\nMessage-ID: <n42@force.example>\n--b--\n",
	 "bounce", NULL, "v@victim.example", "n42@force.example"},
	/* 2: a free-text qmail bounce */
	{"From: MAILER-DAEMON@gate.example\nTo: bounce+k@force.example\n"
	 "Subject: failure notice\n\nHi. This is the qmail-send program.\n"
	 "I'm afraid I wasn't able to deliver your message to the following "
	 "addresses.\nThis is a permanent error; I've given up.\n\n"
	 "<v@victim.example>:\nmailbox unknown\n\n--- Below this line is a "
	 "copy of the message.\n\nFrom: pc@force.example\n",
	 "bounce", NULL, "v@victim.example", NULL},
	/* 3: a delay */
	{"From: Mail Delivery System <Mailer-Daemon@mx.example>\n"
	 "Subject: Warning: message delayed 24 hours\n\nA message that you "
	 "sent has not yet been delivered to all its recipients after more "
	 "than 24 hours on the queue.\nThe address to which the message has"
	 " not yet been delivered is:\n\n  v@victim.example\n\nNo action is "
	 "required on your part.\n", "delay", NULL, "v@victim.example",
	 NULL},
	/* 4: an Exchange auto-reply */
	{HDR "Subject: Automatic reply: your case\nAuto-Submitted: "
	 "auto-replied\nX-Auto-Response-Suppress: All\n\nI am away.\n",
	 "auto_reply", "I am away.", NULL, NULL},
	/* 5: an ARF report */
	{"From: abuse@isp.example\nSubject: report\nMIME-Version: 1.0\n"
	 "Content-Type: multipart/report; report-type=feedback-report; "
	 "boundary=\"a\"\n\n--a\nContent-Type: text/plain\n\nSpam.\n--a\n"
	 "Content-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
	 "--a--\n", "feedback_report", NULL, NULL, NULL},
	/* 6: HTML reply cut on its gmail_quote */
	{HDR "Subject: Re: case\nMIME-Version: 1.0\nContent-Type: text/html;"
	 " charset=utf-8\n\n<div>Yes, Tuesday.</div><div class=\"gmail_quote"
	 "\"><div>On Mon, PC wrote:</div><blockquote>old notice</blockquote>"
	 "</div>\n", "reply", "Yes, Tuesday.", NULL, NULL},
	/* 7: a person quoting a bounce is not a bounce */
	{HDR "Subject: Re: Undeliverable: your notice\n\nMy mail to you "
	 "could not be delivered, user unknown at v2@victim.example?\n",
	 "reply", NULL, NULL, NULL},
	/* 8: Outlook HTML reply cut on divRplyFwdMsg */
	{HDR "Subject: RE: case\nContent-Type: text/html\n\n<p>Fine.</p>"
	 "<hr><div id=\"divRplyFwdMsg\"><b>From:</b> PC</div><div>old</div>"
	 "\n", "reply", "Fine.", NULL, NULL},
};

/* test_table - every row inspects as expected */
static void
test_table(void **state)
{
	struct cm_inspect *in;
	const char *err;
	const struct icase *c;
	size_t i;
	int ok = 1;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		c = &cases[i];
		in = NULL;
		err = NULL;
		assert_int_equal(cm_inspect_parse(c->raw, strlen(c->raw), NULL,
						  NULL, &in, &err), 0);
		if (strcmp(cm_kind_name(in->kind), c->kind) != 0 ||
		    (c->body != NULL &&
		     strcmp(in->trim.body, c->body) != 0) ||
		    (c->rcpts == NULL) != (in->bounce.n_rcpts == 0) ||
		    (c->rcpts != NULL &&
		     strcmp(in->bounce.rcpts[0].address, c->rcpts) != 0) ||
		    (c->orig_id != NULL &&
		     (in->bounce.orig_message_id == NULL ||
		      strcmp(in->bounce.orig_message_id, c->orig_id) != 0))) {
			print_error("row %zu: kind %s body \"%s\" rcpts %zu\n",
				    i, cm_kind_name(in->kind), in->trim.body,
				    in->bounce.n_rcpts);
			ok = 0;
		}
		cm_inspect_free(&in);
		assert_null(in);
	}
	assert_true(ok);
}

/* test_limit - a message past a limit is refused with a reason */
static void
test_limit(void **state)
{
	struct cm_limits lim = { 100, 0, 0, 0, 0 };
	struct cm_inspect *in = NULL;
	const char *err = NULL;
	char big[200];

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(cm_inspect_parse(big, sizeof(big), &lim, NULL, &in,
					  &err), CM_ERR);
	assert_null(in);
	assert_non_null(err);
	cm_inspect_free(&in);
}

/* test_regressions - the fuzzers' former crashers parse cleanly */
static void
test_regressions(void **state)
{
	struct cm_inspect *in;
	struct dirent *e;
	const char *err;
	char path[512], *data;
	size_t len, n = 0;
	DIR *d;

	(void)state;
	d = opendir("tests/data");
	if (d == NULL)
		skip();
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tests/data/%s", e->d_name);
		data = NULL;
		if (cm_read_file(path, 1 << 24, &data, &len) != 0) {
			free(data);
			continue;
		}
		in = NULL;
		err = NULL;
		if (cm_inspect_parse(data, len, NULL, NULL, &in, &err) == 0) {
			assert_non_null(in->trim.body);
			assert_true(cm_utf8_valid(in->trim.body,
						  strlen(in->trim.body)));
		} else {
			assert_non_null(err);
		}
		cm_inspect_free(&in);
		free(data);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_regressions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
