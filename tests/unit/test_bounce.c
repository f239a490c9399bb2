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
	/* 6: Original-Recipient (what the sender wrote) before the
	 * rewritten Final-Recipient, in either order */
	{"Final-Recipient: rfc822; alias@relay.example\nOriginal-Recipient:"
	 " rfc822; v@e.example\nAction: failed\nStatus: 5.1.1\n",
	 "v@e.example", 1},
	{"Action: failed\nStatus: 5.0.0\nOriginal-recipient: rfc822;v@e.ex"
	 "ample\nFinal-recipient: rfc822;BOX@host.e.example\n",
	 "v@e.example", 1},
	/* 8: "failed" with a 4.x.x status: the MTA gave up (4.4.7) */
	{"Final-Recipient: rfc822;t@e.example\nAction: Failed\n"
	 "Status: 4.4.7 (delivery time expired)\n", "t@e.example", 1},
	/* 9: a status without an action: its class decides */
	{"Final-Recipient: rfc822;s@e.example\nStatus: 4.2.2\n",
	 "s@e.example", 0},
	/* 10: groups of Original-Recipient first, no blank line */
	{"Original-Recipient: rfc822;a@e.example\nFinal-Recipient: rfc822;"
	 "x@h.example\nAction: failed\nOriginal-Recipient: rfc822;"
	 "b@e.example\nFinal-Recipient: rfc822;y@h.example\n"
	 "Action: failed\n", "a@e.example b@e.example", 1},
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
	/* 7: sendmail "addr ... reason" */
	{"|---- Failed addresses follow: ----|\n u@e.example ... unknown "
	 "host\n|---- Message text follows: ----|\nTo: no@e.example\n",
	 "u@e.example", 1},
	/* 8: the envelope sender after "from" is no recipient */
	{"554 Too many hops 26 (25 max): from list-admin@l.example via "
	 "localhost, to z@e.example\n", "z@e.example", 1},
	/* 9: an elided address ("da...@") is no address */
	{"The following address(es) failed:\n\n  da...@e.example\n", "",
	 0},
	/* 10: a notice rendered on one line: the text before the copy
	 * mark counts, the copy does not */
	{"I wasn't able to deliver the following message. This is a "
	 "permanent error. To: y@e.example ---Below this line is a copy of "
	 "the message. To: other@e.example\n", "y@e.example", 1},
	/* 11: a delay warning that says "could not be delivered" yet */
	{"Your message could not be delivered to the following recipients:"
	 "\n\nw@e.example\n\nDelivery attempts will continue to be made "
	 "for 5 day(s).\n", "w@e.example", 0},
	/* 12: a delay warning with a failed connection is still a delay */
	{"The message has not yet been delivered to the following "
	 "addresses:\n\nw@e.example\nconnection to mail exchanger failed"
	 "\nDelivery attempts will continue for some time.\n",
	 "w@e.example", 0},
	/* 13: a delay warning that says the system gave up is a failure */
	{"Delivery attempts will continue for 5 days.\nw@e.example: "
	 "unknown user\nThis is a permanent error; I've given up.\n",
	 "w@e.example", 1},
	/* 14: Postfix 2.x and later, the reply folded over two lines */
	{"This is the mail system at host mx.example.\n\nI'm sorry to have "
	 "to inform you that your message could not\nbe delivered to one or "
	 "more recipients. It's attached below.\n\nFor further assistance, "
	 "please send mail to postmaster.\n\n                   The mail "
	 "system\n\n<v@e.example>: host mx.e.example[192.0.2.1] said: 550 "
	 "5.1.1\n    <v@e.example>: Recipient address rejected: User unknown "
	 "in virtual\n    mailbox table (in reply to RCPT TO command)\n",
	 "v@e.example", 1},
	/* 15: Postfix delay warning */
	{"This is the mail system at host mx.example.\n\n#################"
	 "###\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR "
	 "MESSAGE. #\n####################\n\nYour message could not be "
	 "delivered for more than 4 hour(s).\nIt will be retried until it "
	 "is 5 day(s) old.\n\n<v@e.example>: connect to mx.e.example"
	 "[192.0.2.1]:25: Connection timed out\n", "v@e.example", 0},
	/* 16: Exim 4, the remote reply naming the address again */
	{"This message was created automatically by mail delivery software."
	 "\n\nA message that you sent could not be delivered to one or more "
	 "of its\nrecipients. This is a permanent error. The following "
	 "address(es) failed:\n\n  v@e.example\n    host mx.e.example "
	 "[192.0.2.1]\n    SMTP error from remote mail server after RCPT "
	 "TO:<v@e.example>:\n    550 5.1.1 User unknown\n",
	 "v@e.example", 1},
	/* 17: qmail with the remote host's reply */
	{"Hi. This is the qmail-send program at mx.example.\nI'm afraid I "
	 "wasn't able to deliver your message to the following addresses.\n"
	 "This is a permanent error; I've given up. Sorry it didn't work "
	 "out.\n\n<v@e.example>:\n192.0.2.1 does not like recipient.\n"
	 "Remote host said: 550 5.1.1 <v@e.example>... User unknown\n"
	 "Giving up on 192.0.2.1.\n", "v@e.example", 1},
	/* 18: Sendmail with its session transcript */
	{"The original message was received at Mon, 3 Mar 2025 10:15:00 GMT"
	 "\nfrom host.example [192.0.2.2]\n\n   ----- The following "
	 "addresses had permanent fatal errors -----\n<v@e.example>\n    "
	 "(reason: 550 5.1.1 <v@e.example>... User unknown)\n\n   ----- "
	 "Transcript of session follows -----\n... while talking to "
	 "mx.e.example.:\n>>> RCPT To:<v@e.example>\n<<< 550 5.1.1 "
	 "<v@e.example>... User unknown\n", "v@e.example", 1},
	/* 19: Exchange 2010 and later */
	{"Delivery has failed to these recipients or groups:\n\nVictim "
	 "(v@e.example)\nThe e-mail address you entered couldn't be found. "
	 "Please check the recipient's e-mail address and try to resend the "
	 "message.\n\nDiagnostic information for administrators:\n\n"
	 "Generating server: mx.example\n\nv@e.example\n#550 5.1.1 "
	 "RESOLVER.ADR.RecipNotFound; not found ##\n", "v@e.example", 1},
	/* 20: Office 365 */
	{"Your message to v@e.example couldn't be delivered.\nv wasn't found "
	 "at e.example.\n\nAction Required\nUnknown To address\n",
	 "v@e.example", 1},
	/* 21: Gmail */
	{"** Address not found **\n\nYour message wasn't delivered to "
	 "v@e.example because the address couldn't be found, or is unable "
	 "to receive mail.\n\nLearn more here: https://support.google.com/"
	 "mail/?p=NoSuchUser\n\nThe response was:\n\n550 5.1.1 The email "
	 "account that you tried to reach does not exist.\n",
	 "v@e.example", 1},
	/* 22: Gmail before 2015 */
	{"Delivery to the following recipient failed permanently:\n\n     "
	 "v@e.example\n\nTechnical details of permanent failure:\nGoogle "
	 "tried to deliver your message, but it was rejected by the server "
	 "for the recipient domain e.example by mx.e.example. "
	 "[192.0.2.1].\n", "v@e.example", 1},
	/* 23: Gmail delay */
	{"** Message not delivered yet **\n\nYour message to v@e.example "
	 "hasn't been delivered yet. Gmail will retry for 47 more hours. "
	 "You'll be notified if the delivery fails permanently.\n",
	 "v@e.example", 0},
	/* 24: Yahoo */
	{"Sorry, we were unable to deliver your message to the following "
	 "address.\n\n<v@e.example>:\nRemote host said: 550 5.1.1 "
	 "<v@e.example>... User unknown [RCPT_TO]\n", "v@e.example", 1},
	/* 25: AOL */
	{"Your mail to the following recipients could not be delivered "
	 "because they are not accepting mail from s@l.example:\n\t"
	 "v@e.example\n", "v@e.example", 1},
};

/* One whole message (the fields mime fills) and its reading. */
struct mcase {
	const char *from, *from_name, *to, *return_path, *subject;
	const char *text, *returned_headers;
	int bounce, delay;
	const char *addrs;
};

static const struct mcase msg_cases[] = {
	/* 0: mailer daemon with a failure subject and a terse line */
	{"postmaster@mx.example", "Postmaster", "list-bounces@l.example",
	 NULL, "Undeliverable Mail",
	 "Invalid final delivery userid: u@e.example\n", NULL, 1, 0,
	 "u@e.example"},
	/* 1: the notice's own addressee (the original sender) is no
	 * recipient */
	{"mailer-daemon@mx.example", NULL, "me@l.example", NULL,
	 "Email Delivery Failure",
	 "A failure notice: an email me@l.example addressed to:\n"
	 "-- u@e.example\ncould not be delivered.\n", NULL, 1, 0,
	 "u@e.example"},
	/* 2: ... unless the returned message was sent to it (a message
	 * to oneself) */
	{"MAILER-DAEMON@mx.example", NULL, "me@l.example", "",
	 "Undelivered Mail Returned to Sender",
	 "could not be delivered to one or more destinations.\n\n"
	 "<me@l.example>: Name service error\n",
	 "From: me@l.example\nTo: me@l.example\n", 1, 0, "me@l.example"},
	/* 3: qmail-like "<addr>:" lines from a mailer daemon, no sentence */
	{"MAILER-DAEMON@mx.example", NULL, "l@l.example", NULL, NULL,
	 "mx.example.\n\n<a@e.example>:\n\n<b@e.example>:\n", NULL, 1, 0,
	 "a@e.example b@e.example"},
	/* 4: a bare screen name after the list line, in the daemon's
	 * domain */
	{"MAILER-DAEMON@AOL.example", "Mail Delivery Subsystem",
	 "me@l.example", NULL, "Mail Delivery Problem",
	 "Sorry me@l.example. Your mail to the following recipients could "
	 "not be delivered because they are not accepting mail:\n"
	 "\tscreenname\n", NULL, 1, 0, "screenname@aol.example"},
	/* 5: an auto-reply with a null return path and the person's
	 * address alone on a line is no bounce */
	{"john@a.example", "John Smith", "me@l.example", "",
	 "Thank you for your e-mail",
	 "Thank you. I will reply as soon as possible.\n\nJohn\n"
	 "john@a.example\n", NULL, 0, 0, ""},
	/* 6: a delay warning from a postmaster */
	{"Postmaster@mx.example", NULL, "me@l.example", NULL,
	 "Mail Delivery Warning",
	 "Delivery of email to this address\n\"c@e.example\"\nhas been "
	 "postponed. We will continue to try.\n", NULL, 0, 1,
	 "c@e.example"},
	/* 7: a person's reply about a failed delivery is no bounce */
	{"bob@e.example", "Bob", "me@l.example", NULL,
	 "Re: message could not be delivered",
	 "It could not be delivered to\nalice@e.example\n", NULL, 0, 0,
	 ""},
	/* 8: an Exchange notice: the echoed To of the original is not the
	 * failed recipient */
	{"postmaster@ex.example", "System Administrator", "l@l.example",
	 NULL, "Undeliverable: hello",
	 "Your message\n\n  To:      list@l.example\n  Subject: hello\n\n"
	 "did not reach the following recipient(s):\n\nu@e.example on Fri"
	 "\n    The recipient name is not recognized\n", NULL, 1, 0,
	 "u@e.example"},
	/* 9: no report fields and no address in the text: the returned
	 * message's one addressee (its headers come before free text) */
	{"MAILER-DAEMON@mx.example", "Mail Delivery System", "me@l.example",
	 "", "Undelivered Mail Returned to Sender",
	 "This is the mail system. Your message could not be delivered.\n",
	 "From: me@l.example\nTo: Victim <v@e.example>\nSubject: case\n", 1,
	 0, "v@e.example"},
	/* 10: ... not when it went to several people */
	{"MAILER-DAEMON@mx.example", "Mail Delivery System", "me@l.example",
	 "", "Undelivered Mail Returned to Sender",
	 "This is the mail system. Your message could not be delivered.\n",
	 "From: me@l.example\nTo: v@e.example, w@e.example\n", 1, 0, ""},
	/* 11: ... nor for list mail, addressed to the list (RFC 2919) */
	{"MAILER-DAEMON@mx.example", "Mail Delivery System", "me@l.example",
	 "", "Undelivered Mail Returned to Sender",
	 "This is the mail system. Your message could not be delivered.\n",
	 "From: a@l.example\nTo: list@l.example\nList-Id: <list.l.example>\n",
	 1, 0, ""},
	/* 12: ... nor an address the returned message was delivered to
	 * already (its Delivered-To: a list or forward passed it on) */
	{"MAILER-DAEMON@mx.example", "Mail Delivery System",
	 "list-bounces@l.example", "", "Undelivered Mail Returned to Sender",
	 "This is the mail system. Your message could not be delivered.\n",
	 "Delivered-To: list@l.example\nFrom: a@l.example\n"
	 "To: list@l.example\n", 1, 0, ""},
	/* 13: a Gmail notice as a whole message */
	{"mailer-daemon@googlemail.com", "Mail Delivery Subsystem",
	 "me@l.example", "", "Delivery Status Notification (Failure)",
	 "** Address not found **\n\nYour message wasn't delivered to "
	 "v@e.example because the address couldn't be found, or is unable "
	 "to receive mail.\n", NULL, 1, 0, "v@e.example"},
	/* 14: a Gmail delay warning */
	{"mailer-daemon@googlemail.com", "Mail Delivery Subsystem",
	 "me@l.example", "", "Delivery Status Notification (Delay)",
	 "** Message not delivered yet **\n\nYour message to v@e.example "
	 "hasn't been delivered yet. Gmail will retry for 47 more hours. "
	 "You'll be notified if the delivery fails permanently.\n", NULL, 0,
	 1, "v@e.example"},
	/* 15: an Exchange NDR as a whole message */
	{"postmaster@ex.example", "Microsoft Outlook", "me@l.example", "",
	 "Undeliverable: case update",
	 "Delivery has failed to these recipients or groups:\n\nVictim "
	 "(v@e.example)\nThe e-mail address you entered couldn't be found."
	 "\n\nDiagnostic information for administrators:\n\nv@e.example\n"
	 "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n", NULL, 1, 0,
	 "v@e.example"},
	/* 16: a victim who writes that a message could not be delivered
	 * and names an address is still a person's reply */
	{"victim@e.example", "A Victim", "reply+k@cases.example", NULL,
	 "Re: your case",
	 "Your email to my husband could not be delivered, his address is "
	 "now\nhusband@e.example\nUser unknown, it said.\n", NULL, 0, 0,
	 ""},
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

/* test_parse - whole notices: bounce or delay, and the recipients */
static void
test_parse(void **state)
{
	const struct mcase *c;
	struct bcase bc;
	struct cm_msg m;
	struct cm_bounce b;
	size_t i;
	int ok = 1;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(msg_cases); i++) {
		c = &msg_cases[i];
		memset(&m, 0, sizeof(m));
		m.from = (char *)c->from;
		m.from_name = (char *)c->from_name;
		m.to = (char *)c->to;
		m.return_path = (char *)c->return_path;
		m.subject = (char *)c->subject;
		m.body = (char *)c->text;
		m.text_all = (char *)c->text;
		m.returned_headers = (char *)c->returned_headers;
		assert_int_equal(cm_bounce_parse(&m, &b), 0);
		bc.text = c->text;
		bc.addrs = c->addrs;
		bc.permanent = c->bounce;
		if (b.is_bounce != (c->bounce != 0) ||
		    b.is_delay != (c->delay != 0)) {
			print_error("msg row %zu: bounce %d delay %d\n", i,
				    b.is_bounce, b.is_delay);
			ok = 0;
		}
		ok &= check(&b, &bc, i, "msg");
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
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
