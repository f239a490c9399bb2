/*
 * test_bounce.c - unit tests for lib/bounce.c
 *
 * DESCRIPTION
 *	Tables of delivery-status bodies and free-text failure notices
 *	(the forms of Postfix, Exim, qmail, Sendmail, Exchange, Yahoo),
 *	each with the failed recipients and their permanence that must
 *	be read, and whole messages through cm_mime_parse for the
 *	decision bounce / delay / neither.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cm_bounce.h"
#include "cm_util.h"

/* One text and what must be read from it. */
struct bcase {
	const char *text;
	const char *addrs; /* space-separated, in order; "" for none */
	int permanent;     /* of the first recipient */
};

static const struct bcase dsn_cases[] = {
	/* 0: RFC 3464 failure */
	{"Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; "
	 "v@victim.example\nAction: failed\nStatus: 5.1.1\n"
	 "Diagnostic-Code: smtp; 550 5.1.1 no such user\n",
	 "v@victim.example", 1},
	/* 1: delayed */
	{"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;d@e.example\n"
	 "Action: delayed\nStatus: 4.4.7\n", "d@e.example", 0},
	/* 2: delivered recipients are no failures */
	{"Final-Recipient: rfc822; ok@e.example\nAction: delivered\n"
	 "Status: 2.0.0\n\nFinal-Recipient: rfc822; bad@e.example\n"
	 "Action: failed\nStatus: 5.0.0\n", "bad@e.example", 1},
	/* 3: two groups without a blank line between them */
	{"Final-Recipient: rfc822; a@e.example\nAction: failed\n"
	 "Status: 5.1.1\nFinal-Recipient: rfc822; b@e.example\n"
	 "Action: failed\nStatus: 5.1.1\n", "a@e.example b@e.example", 1},
	/* 4: address only in Original-Recipient, folded diagnostic */
	{"Final-Recipient: x-local; box\nOriginal-Recipient: rfc822;"
	 "<o@e.example>\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: "
	 "smtp; 552 mailbox\n full\n", "o@e.example", 1},
	/* 5: nothing */
	{"Reporting-MTA: dns; mx\n", "", 0},
};

static const struct bcase text_cases[] = {
	/* 0: Postfix */
	{"I'm sorry to have to inform you that the message returned\n"
	 "below could not be delivered to one or more destinations.\n"
	 "For further assistance, please contact <postmaster@a.example>\n\n"
	 "<u@local.example>: host mx said: 550 5.1.1 User unknown\n",
	 "u@local.example", 1},
	/* 1: Exim */
	{"A message that you sent could not be delivered to all of its "
	 "recipients.\nThe following address(es) failed:\n\n  "
	 "x@its.example:\n    SMTP error from remote mailer\n"
	 "------ This is a copy of the message, including all the headers."
	 "\nFrom: sender@list.example\nTo: x@its.example\n",
	 "x@its.example", 1},
	/* 2: qmail */
	{"Hi. This is the qmail-send program at gate.example.\nI'm afraid "
	 "I wasn't able to deliver your message to the following addresses."
	 "\nThis is a permanent error; I've given up.\n\n<q@e.example>:\n\n"
	 "--- Below this line is a copy of the message.\n\nFrom: <s@e.example>"
	 "\n", "q@e.example", 1},
	/* 3: Exchange free text */
	{"Your message\n  To: list@e.example\n  Subject: x\ndid not reach "
	 "the following recipient(s):\nuserx@e.example on Fri, 20 Jul 2001\n"
	 "    The recipient name is not recognized\n", "userx@e.example", 1},
	/* 4: Exim delay warning */
	{"A message that you sent has not yet been delivered to all its "
	 "recipients\nafter more than 24 hours on the queue.\nThe address "
	 "to which the message has not yet been delivered is:\n\n  "
	 "w@e.example\n\nNo action is required on your part.\n",
	 "w@e.example", 0},
	/* 5: sendmail */
	{"----- The following addresses had permanent fatal errors -----\n"
	 "<z@nfg.example>\n    (reason: 550 5.1.1 User unknown)\n",
	 "z@nfg.example", 1},
	/* 6: a human note names no recipient */
	{"Hi, please write to me at home@e.example from now on.\n", "", 0},
};

/* check - the recipients of b are addrs, first permanence as given */
static int
check(const struct cm_bounce *b, const struct bcase *c, size_t row,
      const char *table)
{
	char got[512] = "";
	size_t i;

	for (i = 0; i < b->n_rcpts; i++) {
		if (i > 0)
			cm_strlcpy(got + strlen(got), " ",
				   sizeof(got) - strlen(got));
		cm_strlcpy(got + strlen(got), b->rcpts[i].address,
			   sizeof(got) - strlen(got));
	}
	if (strcmp(got, c->addrs) != 0 ||
	    (b->n_rcpts > 0 && b->rcpts[0].permanent != c->permanent)) {
		print_error("%s row %zu: got \"%s\" permanent %d\n", table,
			    row, got, b->n_rcpts > 0 ? b->rcpts[0].permanent
						     : -1);
		return 0;
	}
	return 1;
}

/* test_dsn - RFC 3464 fields */
static void
test_dsn(void **state)
{
	struct cm_bounce b;
	size_t i;
	int ok = 1;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(dsn_cases); i++) {
		memset(&b, 0, sizeof(b));
		(void)cm_bounce_dsn(dsn_cases[i].text, &b);
		ok &= check(&b, &dsn_cases[i], i, "dsn");
		cm_bounce_clear(&b);
	}
	assert_true(ok);
}

/* test_text - free-text notices */
static void
test_text(void **state)
{
	struct cm_bounce b;
	size_t i;
	int ok = 1;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(text_cases); i++) {
		memset(&b, 0, sizeof(b));
		(void)cm_bounce_text(text_cases[i].text, &b);
		ok &= check(&b, &text_cases[i], i, "text");
		cm_bounce_clear(&b);
	}
	assert_true(ok);
}

/* test_hostile - long and odd input is bounded */
static void
test_hostile(void **state)
{
	struct cm_bounce b;
	struct cm_buf s;
	size_t i;

	(void)state;
	cm_buf_init(&s, 0);
	for (i = 0; i < 20000; i++)
		cm_buf_puts(&s, "a@b.c@d.e@ user unknown x@y.example\n");
	memset(&b, 0, sizeof(b));
	(void)cm_bounce_text(s.data, &b);
	assert_true(b.n_rcpts <= CM_BOUNCE_MAX_RCPTS);
	cm_bounce_clear(&b);
	cm_bounce_clear(&b);
	cm_bounce_clear(NULL);
	cm_buf_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsn),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
