/*
 * test_trim.c - unit tests for lib/trim.c
 *
 * DESCRIPTION
 *	A table of replies as mail clients write them, with the body that
 *	must be kept and whether a quote and a signature must have been
 *	split off: every quote header, separators, Outlook blocks, trailing
 *	and interleaved quotes, signatures, mobile signatures, the
 *	never-empty rule and CRLF input. Then a linear-time check.
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
	/* 7: Gmail forward */
	{"FYI\n\n---------- Forwarded message ---------\nFrom: x\n"
	 "Date: y\n\nforwarded text\n",
	 "FYI", 1, 0},
	/* 8: Apple Mail forward */
	{"Look at this.\n\nBegin forwarded message:\n\nFrom: x\n",
	 "Look at this.", 1, 0},
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
