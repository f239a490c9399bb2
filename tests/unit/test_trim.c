/*
 * test_trim.c - unit tests for lib/trim.c
 *
 * DESCRIPTION
 *	A table of replies as mail clients write them, with the body that
 *	must be kept and whether a quote and a signature must have been
 *	split off: every quote header, separators, Outlook blocks, trailing
 *	and interleaved quotes, signatures, mobile signatures, the
 *	never-empty rule and CRLF input; header blocks known by their
 *	shape in any language, delimiter lines, forwarded messages read
 *	apart, attributions without a verb, sign-offs, Outlook forwards
 *	known by their subject. Then a linear-time check.
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

#include "cm_trim.h"
#include "cm_util.h"

/* One reply and what trimming must give. */
struct tcase {
	const char *text;
	const char *body;
	int quoted;    /* a quote must have been removed */
	int signature; /* a signature must have been removed */
};

static const struct tcase cases[] = {
	/* 0: nothing to trim */
	{"Thanks, I will call tomorrow.\n",
	 "Thanks, I will call tomorrow.", 0, 0},
	/* 1: Gmail quote header and quoted text */
	{"Yes, that is fine.\n\nOn Mon, 1 Jan 2024 at 10:00, Officer "
	 "<a@force.example> wrote:\n> Can we meet?\n",
	 "Yes, that is fine.", 1, 0},
	/* 2: quote header wrapped over two lines */
	{"Yes.\n\nOn Mon, 1 Jan 2024 at 10:00, Officer Alexandra\n"
	 "Smith-Jones <a@force.example> wrote:\n> Can we meet?\n",
	 "Yes.", 1, 0},
	/* 3: French */
	{"Merci.\n\nLe lun. 1 janv. 2024 \xc3\xa0 10:00, Agent "
	 "<a@force.example> a \xc3\xa9" "crit\xc2\xa0:\n> Bonjour\n",
	 "Merci.", 1, 0},
	/* 4: German */
	{"Danke.\n\nAm Mo., 1. Jan. 2024 um 10:00 Uhr schrieb Beamter "
	 "<a@force.example>:\n> Hallo\n",
	 "Danke.", 1, 0},
	/* 5: Spanish */
	{"Gracias.\n\nEl lun, 1 ene 2024 a las 10:00, Agente "
	 "(<a@force.example>) escribi\xc3\xb3:\n> Hola\n",
	 "Gracias.", 1, 0},
	/* 6: Outlook original message separator */
	{"See below.\n\n-----Original Message-----\nFrom: Officer\n"
	 "Sent: Monday\nTo: me\nSubject: case\n\nold text\n",
	 "See below.", 1, 0},
	/* 7: a forward is what the writer sends: kept whole */
	{"FYI\n\n---------- Forwarded message ---------\nFrom: x\n"
	 "Date: y\n\nforwarded text\n",
	 "FYI\n\n---------- Forwarded message ---------\nFrom: x\n"
	 "Date: y\n\nforwarded text", 0, 0},
	/* 8: Apple Mail forward, kept whole */
	{"Look at this.\n\nBegin forwarded message:\n\nFrom: x\n",
	 "Look at this.\n\nBegin forwarded message:\n\nFrom: x", 0, 0},
	/* 9: Outlook header block without a separator line */
	{"My answer.\n\nFrom: Officer Smith <a@force.example>\n"
	 "Sent: 01 January 2024 10:00\nTo: Victim\nSubject: RE: case\n\n"
	 "Question?\n",
	 "My answer.", 1, 0},
	/* 10: a From: line that is not an Outlook block stays */
	{"From: my neighbour I heard nothing.\nMore text.\n",
	 "From: my neighbour I heard nothing.\nMore text.", 0, 0},
	/* 11: underscore rule (Outlook) */
	{"Reply here.\n________________________________\nFrom: x\nold\n",
	 "Reply here.", 1, 0},
	/* 12: trailing quote block without a header */
	{"I agree.\n\n> you said\n> this\n\n",
	 "I agree.", 1, 0},
	/* 13: interleaved quotes keep the answers */
	{"> Question one?\nAnswer one.\n\n> Question two?\nAnswer two.\n"
	 "\n> trailing quote\n",
	 "> Question one?\nAnswer one.\n\n> Question two?\nAnswer two.", 1,
	 0},
	/* 14: signature after "-- " */
	{"See you then.\n\n-- \nJane Doe\n07700 900000\n",
	 "See you then.", 0, 1},
	/* 15: signature after bare "--" and before a quote */
	{"OK.\n--\nJ\n\nOn Tue, 2 Jan 2024, A <a@b.example> wrote:\n> x\n",
	 "OK.", 1, 1},
	/* 16: "-- " too far from the end is not a signature */
	{"a\n-- \n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n",
	 "a\n-- \n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11", 0, 0},
	/* 17: mobile signature */
	{"On my way.\n\nSent from my iPhone\n", "On my way.", 0, 1},
	/* 18: mobile signature then quote */
	{"Fine.\n\nGet Outlook for Android\n\nOn Wed, 3 Jan 2024, A "
	 "<a@b.example> wrote:\n> ok?\n",
	 "Fine.", 1, 1},
	/* 19: never trim to nothing: only a quote */
	{"On Mon, 1 Jan 2024, A <a@b.example> wrote:\n> hello\n",
	 "On Mon, 1 Jan 2024, A <a@b.example> wrote:\n> hello", 0, 0},
	/* 20: never trim to nothing: only a signature */
	{"-- \nJane\n", "-- \nJane", 0, 0},
	/* 21: never trim to nothing: only quote lines */
	{"> a\n> b\n", "> a\n> b", 0, 0},
	/* 22: CRLF input */
	{"Yes.\r\n\r\nOn Mon, 1 Jan 2024, A <a@b.example> wrote:\r\n"
	 "> q\r\n",
	 "Yes.", 1, 0},
	/* 23: CRLF signature */
	{"Bye.\r\n-- \r\nJ\r\n", "Bye.", 0, 1},
	/* 24: trailing blank lines removed */
	{"Hello\n\n\n   \n", "Hello", 0, 0},
	/* 25: empty input */
	{"", "", 0, 0},
	/* 26: quote header inside the text cuts there */
	{"First line.\nOn Friday he wrote:\n> old\n", "First line.", 1, 0},
	/* 27: a mobile signature alone is kept */
	{"Sent from Yahoo Mail on Android\n", "Sent from Yahoo Mail on "
	 "Android", 0, 0},
	/* 28: bottom post: header and quote go, the answer stays */
	{"On 04/19/2011 07:10 AM, Roman wrote:\n> Test\nHello\n",
	 "Hello", 1, 0},
	/* 29: a reply wrapped around a quote */
	{"Test reply\n\nOn 04/19/2011 07:10 AM, Roman wrote:\n\n>\n> Test\n"
	 "\nRegards, Roman\n", "Test reply\n\nRegards, Roman", 1, 0},
	/* 30: a header whose address wrapped onto the next line */
	{"Hello\n02.04.2012 14:20 \xd0\xbf\xd0\xbe\xd0\xbb\xd1\x8c\xd0\xb7"
	 "\xd0\xbe\xd0\xb2\xd0\xb0\xd1\x82\xd0\xb5\xd0\xbb\xd1\x8c "
	 "\"bob@x.example\" <\nbob@x.example> \xd0\xbd\xd0\xb0\xd0\xbf"
	 "\xd0\xb8\xd1\x81\xd0\xb0\xd0\xbb:\n\n> Hi\n", "Hello", 1, 0},
	/* 31: date and address without a verb (Gmail, some locales) */
	{"Thanks.\n\n2014-03-20 8:48 GMT+01:00 R\xc3\xa9mi <r@d.example>:\n\n"
	 "old\n", "Thanks.", 1, 0},
	/* 32: Polish, Danish, Chinese headers */
	{"Ok.\n\nW dniu 7 stycznia 2015 15:24 u\xc5\xbcytkownik P "
	 "<p@g.example> napisa\xc5\x82:\n\nold\n", "Ok.", 1, 0},
	{"Ok.\n\nDen 08/06/2015 kl. 21.21 skrev T <t@e.example>:\n\nold\n",
	 "Ok.", 1, 0},
	{"Ok.\n\n\xe5\x9c\xa8 2016\xe5\xb9\xb4 T <t@e.example> \xe5\x86"
	 "\x99\xe9\x81\x93\xef\xbc\x9a\n\nold\n", "Ok.", 1, 0},
	/* 35: a French Outlook block */
	{"Oui.\n\nDe : Agent <a@f.example>\nEnvoy\xc3\xa9 : lundi\n"
	 "\xc3\x80 : moi\nObjet : dossier\n\nold\n", "Oui.", 1, 0},
	/* 36: a block that starts with the date */
	{"Blah\n\nDate: Wed, 16 May 2012 00:15:02 -0600\nTo: k@e.example\n"
	 "Subject: x\n\nold\n", "Blah", 1, 0},
	/* 37: a lone From: line with an address starts the quote */
	{"Thanks.\n\nFrom: foo@example.com <foo@example.com>\n\nold\n",
	 "Thanks.", 1, 0},
	/* 38: "-Name" closing line is a signature */
	{"Fine by me.\n\n-Abhishek Kona\n", "Fine by me.", 0, 1},
	/* 39: a sentence starting "Sent from my" is no signature */
	{"Here.\n\nSent from my desk, is much easier then my mobile "
	 "phone.\n", "Here.\n\nSent from my desk, is much easier then my "
	 "mobile phone.", 0, 0},
	/* 40: lines that look like headers but are prose stay */
	{"On the surface, this looks like a quote header.\n\nOn average, "
	 "it works:\nthe data comes From: our database.\n",
	 "On the surface, this looks like a quote header.\n\nOn average, "
	 "it works:\nthe data comes From: our database.", 0, 0},
	/* 41: a dashed title in Danish */
	{"Hej\n\n-------- Oprindelig besked --------\nFra: A <a@b.example>\n"
	 "old\n", "Hej", 1, 0},
	/* 42: a wrapped line inside a quote does not end it */
	{"Blah\n\nOn Monday, 24 September, 2012 at 3:46 PM, bob wrote:\n\n"
	 "> View ticket (http://example.com/action\n_nonce=3dd518)\n> x\n",
	 "Blah", 1, 0},
	/* 43: a French mobile signature before an Outlook rule */
	{"Merci\n\nEnvoy\xc3\xa9 de mon iPhone\n_______________________"
	 "_________\nDe : x\nold\n", "Merci", 1, 1},
	/* 44: "date Name <addr>" without a verb above the trailing quote */
	{"Fine\n2011/4/7 Nathan Smith <s@e.example>\n\n> old\n> text\n",
	 "Fine", 1, 0},
	/* 45: ... but not a line of the writer's that is no attribution */
	{"Fine, write to Nathan <s@e.example>\n\n> old\n",
	 "Fine, write to Nathan <s@e.example>", 1, 0},
	/* 46: a dated Date: line and one more label closing a block */
	{"Blah\n\nDate: Wed, 16 May 2012 00:15:02 -0600\nTo: k@e.example\n"
	 "\nold\n", "Blah", 1, 0},
	/* 47: a Date: line without a time and one label is the writer's */
	{"Plan\nDate: next Monday\nTo: the station\n\nsee you\n",
	 "Plan\nDate: next Monday\nTo: the station\n\nsee you", 0, 0},
	/* 48: "Regards," and a short name and title close the text */
	{"Can you help?\n\nRegards,\n\nJohn Doe\nCEO @ Acme !\n",
	 "Can you help?", 0, 1},
	/* 49: ... not when a long line of text follows the close */
	{"Hi\n\nRegards,\nI also wanted to tell you what happened on the "
	 "night of the burglary\n", "Hi\n\nRegards,\nI also wanted to tell "
	 "you what happened on the night of the burglary", 0, 0},
	/* 50: a close with nothing after it stays */
	{"See you.\n\nKind regards,\n", "See you.\n\nKind regards,", 0, 0},
	/* 51: Outlook in Romanian, labels in no list: a header block by
	 * its shape (field lines, an address, a date and time) */
	{"Da.\n\nDe la: Politia <reply+k@cases.example>\nTrimis: luni, 3 "
	 "martie 2025 10:15\nC\xc4\x83tre: Ion <ion@example.ro>\n"
	 "Subiect: Cazul\n\nStimate domn,\n", "Da.", 1, 0},
	/* 52: Outlook in Croatian under its "Izvorna poruka" title */
	{"Hvala.\n\n-----Izvorna poruka-----\n\xc5\xa0" "alje: Policija "
	 "<reply+k@cases.example>\nPoslano: 3. o\xc5\xbe" "ujka 2025. "
	 "10:15\nPrima: Ivan <ivan@example.hr>\nPredmet: Slu\xc4\x8d" "aj\n"
	 "\nPo\xc5\xa1tovani,\n", "Hvala.", 1, 0},
	/* 53: a delimiter of any punctuation above a header block (Lotus
	 * Notes and web mail draw them with '*', '~', '=' or U+2500) */
	{"Yes please.\n\n*~*~*~*~*~*~*~*\nKimden: Polis <reply+k@cases."
	 "example>\nTarih: 3 Mart 2025 10:15\nKime: Ali <ali@example.com>\n"
	 "Konu: Dava\n\nMerhaba\n", "Yes please.", 1, 0},
	/* 54: a Thunderbird header block (Subject first) of four lines */
	{"OK.\n\nSubject: Your case\nDate: Mon, 3 Mar 2025 10:15:00 +0000\n"
	 "From: PC Jones <reply+k@cases.example>\nTo: me@example.com\n\n"
	 "old\n", "OK.", 1, 0},
	/* 55: the writer's own list of fields is no header block */
	{"Here are the details:\n\nEmail: john@example.com\nTime: 3 March "
	 "14:30\nPlace: High Street\n\nThanks\n",
	 "Here are the details:\n\nEmail: john@example.com\nTime: 3 March "
	 "14:30\nPlace: High Street\n\nThanks", 0, 0},
	/* 56: ... nor in the middle of the writer's paragraph */
	{"Name: John Smith\nEmail: john@example.com\nTime: 3 March 14:30\n"
	 "Place: High Street\n", "Name: John Smith\nEmail: john@example.com\n"
	 "Time: 3 March 14:30\nPlace: High Street", 0, 0},
	/* 57: a plain rule line above the writer's own text stays */
	{"Part one\n\n----------\n\nPart two\n",
	 "Part one\n\n----------\n\nPart two", 0, 0},
	/* 58: Gmail forward: the victim's words and the forwarded message
	 * all kept, even its quote and signature lines */
	{"This is from the seller.\n\n---------- Forwarded message "
	 "---------\nFrom: Bob <bob@scam.example>\nDate: Mon, 3 Mar 2025\n"
	 "Subject: Pay\nTo: <me@example.com>\n\nPay now.\n> earlier\n--\n"
	 "Bob\n", "This is from the seller.\n\n---------- Forwarded message "
	 "---------\nFrom: Bob <bob@scam.example>\nDate: Mon, 3 Mar 2025\n"
	 "Subject: Pay\nTo: <me@example.com>\n\nPay now.\n> earlier\n--\n"
	 "Bob", 0, 0},
	/* 59: the writer's mobile signature above a forward is split off,
	 * the forwarded message kept (Apple Mail, iPhone) */
	{"See below.\n\nSent from my iPhone\n\nBegin forwarded message:\n\n"
	 "From: Bob <bob@scam.example>\nSubject: Pay\n\nPay now.\n",
	 "See below.\n\nBegin forwarded message:\n\nFrom: Bob <bob@scam."
	 "example>\nSubject: Pay\n\nPay now.", 0, 1},
	/* 60: Gmail in Russian writes no verb: date, name, address, ':' */
	{"\xd0\x94\xd0\xb0.\n\n\xd1\x81\xd1\x80, 30 \xd0\xb0\xd0\xbf"
	 "\xd1\x80. 2025 \xd0\xb3. \xd0\xb2 15:19, PC Jones <reply+k@cases."
	 "example>:\n\n> old\n", "\xd0\x94\xd0\xb0.", 1, 0},
	/* 61: Yandex: "date, time, "Name" <a@b>:" above unquoted text */
	{"Yes.\n\n30.09.2017, 18:30, \"PC Jones\" <reply+k@cases.example>:"
	 "\n\nold text\n", "Yes.", 1, 0},
	/* 62: Gmail's older locale form, wrapped right after '<' */
	{"Yes.\n\n2014-10-17 11:28 GMT+03:00 PC Jones <\n"
	 "reply+k@cases.example>:\n\n> old\n", "Yes.", 1, 0},
	/* 63: Apple Mail in Dutch ("het volgende geschreven") */
	{"Ja.\n\nOp 17-feb.-2015, om 13:18 heeft PC Jones <reply+k@cases."
	 "example> het volgende geschreven:\n\nold text\n", "Ja.", 1, 0},
	/* 64: the writer's own line with a time and an address, then
	 * more words before its colon, is no attribution */
	{"Call me after 17:00 at <me@e.example> or on my mobile:\n"
	 "07700 900123\n", "Call me after 17:00 at <me@e.example> or on my "
	 "mobile:\n07700 900123", 0, 0},
	/* 65: ... nor an address without a date or time */
	{"Please send the form to <me@e.example>:\nI will sign it.\n",
	 "Please send the form to <me@e.example>:\nI will sign it.", 0, 0},
	/* 66: a bottom-posted reply whose quote ends above a mailing
	 * list's footer: the rest of the quote goes with the footer */
	{"Hi,\nOn Mon, 3 Mar 2025 at 10:15, A <a@e.example> wrote:\n> q\n\n"
	 "My answer.\n\n> \n> -A\n> ____________________\n> list\n\n\n"
	 "_______________________________________________\nlist mailing "
	 "list\n", "Hi,\nMy answer.", 1, 0},
	/* 67: a sign-off: a close, a name, and nothing else */
	{"I will be in on Monday.\n\nKind regards,\n\nJane Smith\n",
	 "I will be in on Monday.", 0, 1},
	/* 68: ... in German, with a telephone line after the name */
	{"Ich komme am Montag.\n\nMit freundlichen Gr\xc3\xbc\xc3\x9f" "en\n"
	 "Anna M\xc3\xbcller\nTel. 030 1234567\n", "Ich komme am Montag.", 0,
	 1},
	/* 69: a close followed by a sentence is the writer's text */
	{"He left.\n\nRegards,\nthe neighbour saw the car again.\n",
	 "He left.\n\nRegards,\nthe neighbour saw the car again.", 0, 0},
	/* 70: ... and so is a close followed by more than a name block */
	{"He left.\n\nBest,\nJane\nPS one\nPS two\nPS three\n",
	 "He left.\n\nBest,\nJane\nPS one\nPS two\nPS three", 0, 0},
	/* 71: RFC 3676 signature delimiter */
	{"See you then.\n-- \nJane Smith\n07700 900123\n", "See you then.",
	 0, 1},
};

/* test_table - every row trims as expected */
static void
test_table(void **state)
{
	struct cm_trim t;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		assert_int_equal(cm_trim_text(cases[i].text, &t), 0);
		assert_non_null(t.body);
		if (strcmp(t.body, cases[i].body) != 0 ||
		    (t.quoted != NULL) != cases[i].quoted ||
		    (t.signature != NULL) != cases[i].signature) {
			print_error("row %zu: body \"%s\" quoted %s sig %s\n",
				    i, t.body, t.quoted ? t.quoted : "NULL",
				    t.signature ? t.signature : "NULL");
			fail();
		}
		cm_trim_clear(&t);
		assert_null(t.body);
	}
}

/* test_parts - the quoted text and signature hold what was removed */
static void
test_parts(void **state)
{
	struct cm_trim t;

	(void)state;
	cm_trim_text("Hi.\n-- \nJane\n\n-----Original Message-----\nold\n",
		     &t);
	assert_string_equal(t.body, "Hi.");
	assert_string_equal(t.signature, "-- \nJane");
	assert_string_equal(t.quoted, "-----Original Message-----\nold");
	cm_trim_clear(&t);
	cm_trim_clear(&t);
}

/* test_forward - a forwarded message is read apart: sender, date,
 * subject, addressee and text; the writer's words as the note */
static void
test_forward(void **state)
{
	static const char *const html =
		"<div>From the seller.<div class=\"gmail_quote\">"
		"---------- Forwarded message ---------<br>From: <b>Bob</b> "
		"&lt;bob@scam.example&gt;<br>Subject: Pay<br><br>"
		"<div>Pay now.</div></div></div>";
	struct cm_trim t;

	(void)state;
	/* Thunderbird: Subject first, labels in German */
	cm_trim_text("Schauen Sie.\n\n-------- Weitergeleitete Nachricht "
		     "--------\nBetreff: Zahlung\nDatum: Mon, 3 Mar 2025 "
		     "10:15:00 +0100\nVon: Bob <bob@scam.example>\nAn: "
		     "ich@example.de\n\nZahlen Sie.\n", &t);
	assert_true(t.forwarded);
	assert_null(t.quoted);
	assert_string_equal(t.fwd_note, "Schauen Sie.");
	assert_string_equal(t.fwd_from, "Bob <bob@scam.example>");
	assert_string_equal(t.fwd_date, "Mon, 3 Mar 2025 10:15:00 +0100");
	assert_string_equal(t.fwd_subject, "Zahlung");
	assert_string_equal(t.fwd_to, "ich@example.de");
	assert_string_equal(t.fwd_body, "Zahlen Sie.");
	cm_trim_clear(&t);
	assert_false(t.forwarded);
	/* nothing of the writer's own: no note */
	cm_trim_text("Begin forwarded message:\n\n*From:* Bob <b@x.example>"
		     "\n*Date:* 3 March 2025\n\ntext\n", &t);
	assert_true(t.forwarded);
	assert_null(t.fwd_note);
	assert_string_equal(t.fwd_from, "Bob <b@x.example>");
	assert_string_equal(t.fwd_date, "3 March 2025");
	assert_null(t.fwd_subject);
	assert_string_equal(t.fwd_body, "text");
	cm_trim_clear(&t);
	/* Gmail's HTML forward sits in a gmail_quote block: still kept */
	cm_trim_html(html, strlen(html), &t);
	assert_true(t.forwarded);
	assert_null(t.quoted);
	assert_non_null(strstr(t.body, "Pay now."));
	assert_string_equal(t.fwd_subject, "Pay");
	cm_trim_clear(&t);
	/* a reply is no forward */
	cm_trim_text("Yes.\n\nOn Mon, 3 Mar 2025, A <a@b.example> wrote:\n"
		     "> q\n", &t);
	assert_false(t.forwarded);
	assert_null(t.fwd_body);
	cm_trim_clear(&t);
}

/* Outlook's forward: the same separator and block as its reply */
static const char *const outlook_fwd =
	"See what he sent.\n\n-----Original Message-----\nFrom: Bob "
	"<bob@scam.example>\nSent: Monday, 3 March 2025 10:15\nTo: "
	"me@example.com\nSubject: Pay\n\nPay now.\n";

/* test_forward_subject - Outlook forwards are known by their subject:
 * kept whole and read apart; a reply with the same block is cut */
static void
test_forward_subject(void **state)
{
	static const char *const subjects[] = {
		"FW: Pay", "Fwd: Pay", "WG: Pay", "TR : Pay", "RV: Pay",
	};
	static const char *const block =
		"See below.\n\nFrom: Bob <bob@scam.example>\nSent: 3 March "
		"2025 10:15\nTo: me@example.com\nSubject: Pay\n\nPay now.\n";
	static const char *const html =
		"<div>See what he sent.</div><div id=\"divRplyFwdMsg\">"
		"<b>From:</b> Bob &lt;bob@scam.example&gt;<br><b>Sent:</b> "
		"Monday, 3 March 2025 10:15<br><b>To:</b> me@example.com<br>"
		"<b>Subject:</b> Pay</div><div>Pay now.</div>";
	struct cm_trim t;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(subjects); i++) {
		cm_trim_text_subject(outlook_fwd, subjects[i], &t);
		if (!t.forwarded || t.quoted != NULL) {
			print_error("subject %zu: not read as a forward\n", i);
			fail();
		}
		assert_string_equal(t.fwd_note, "See what he sent.");
		assert_string_equal(t.fwd_from, "Bob <bob@scam.example>");
		assert_string_equal(t.fwd_date, "Monday, 3 March 2025 10:15");
		assert_string_equal(t.fwd_subject, "Pay");
		assert_string_equal(t.fwd_body, "Pay now.");
		assert_non_null(strstr(t.body, "Pay now."));
		cm_trim_clear(&t);
	}
	/* the block without a separator: its From line is read too */
	cm_trim_text_subject(block, "FW: Pay", &t);
	assert_true(t.forwarded);
	assert_string_equal(t.fwd_from, "Bob <bob@scam.example>");
	assert_string_equal(t.fwd_to, "me@example.com");
	cm_trim_clear(&t);
	/* a reply (even to a forward), or no subject: cut as a quote */
	cm_trim_text_subject(outlook_fwd, "RE: FW: Pay", &t);
	assert_false(t.forwarded);
	assert_string_equal(t.body, "See what he sent.");
	cm_trim_clear(&t);
	cm_trim_text_subject(outlook_fwd, NULL, &t);
	assert_false(t.forwarded);
	assert_non_null(t.quoted);
	cm_trim_clear(&t);
	/* "Fwd" inside a word or later in the subject is no prefix */
	cm_trim_text_subject(outlook_fwd, "Iris: Pay", &t);
	assert_false(t.forwarded);
	cm_trim_clear(&t);
	/* Outlook on the web's HTML forward */
	cm_trim_html_subject(html, strlen(html), "FW: Pay", &t);
	assert_true(t.forwarded);
	assert_null(t.quoted);
	assert_non_null(strstr(t.body, "Pay now."));
	assert_string_equal(t.fwd_subject, "Pay");
	cm_trim_clear(&t);
	cm_trim_html_subject(html, strlen(html), "RE: Pay", &t);
	assert_false(t.forwarded);
	assert_string_equal(t.body, "See what he sent.");
	cm_trim_clear(&t);
}

/* test_linear - a large hostile text trims quickly */
static void
test_linear(void **state)
{
	static const char *const lines[] = {
		"On and on\n", "> q\n", "From: x\n", "-- \n", "\n",
		"Am schrieb\n",
	};
	struct cm_buf b;
	struct cm_trim t;
	clock_t t0;
	size_t i, k;

	(void)state;
	for (k = 0; k < CM_ARRAY_SIZE(lines); k++) {
		cm_buf_init(&b, 0);
		cm_buf_puts(&b, "text\n");
		for (i = 0; i < 200000; i++)
			cm_buf_puts(&b, lines[k]);
		t0 = clock();
		cm_trim_text(b.data, &t);
		assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
		assert_non_null(t.body);
		cm_trim_clear(&t);
		cm_buf_free(&b);
	}
}

/* test_long_quote - a 750 KB quote trims in well under a second */
static void
test_long_quote(void **state)
{
	struct cm_buf b;
	struct cm_trim t;
	clock_t t0;

	(void)state;
	cm_buf_init(&b, 0);
	cm_buf_puts(&b, "Short answer.\n\nOn Mon, 1 Jan 2024, A <a@b.example> "
		    "wrote:\n");
	while (b.len < 750 * 1024)
		cm_buf_puts(&b, "> a long quoted line of an old message, "
			    "again and again: 12:30 wrote\n");
	t0 = clock();
	cm_trim_text(b.data, &t);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 0.25);
	assert_string_equal(t.body, "Short answer.");
	assert_non_null(t.quoted);
	cm_trim_clear(&t);
	cm_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_forward_subject),
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_long_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
