/*
 * test_words.c - unit tests for words.c: "kind = sentence" lines,
 * comments, blanks, a later line winning, malformed lines refused, and
 * the shipped conf/templates/milestones.txt covering every default kind
 * (run from the top of the tree, as tests/run.sh does)
 *
 * DESCRIPTION
 *	Table-driven: each row is {input, key, expected}; a failing row
 *	is reported by its index.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_config.h"
#include "cm_words.h"

/* test_parse - what each file gives for a key (NULL: no entry or, with
 * ok false, the file refused) */
static void
test_parse(void **state)
{
	static const struct {
		const char *in, *key, *want;
		bool ok;
	} rows[] = {
		{ "charged = A suspect has been charged\n", "charged",
		  "A suspect has been charged", true },
		{ "charged=Charged", "charged", "Charged", true },
		{ "  charged \t=   spaced out  \r\n", "charged", "spaced out",
		  true },
		{ "# comment\n\n   \ncharged = x\n", "charged", "x", true },
		{ "charged = first\ncharged = second\n", "charged", "second",
		  true },
		{ "arrested = a\n", "charged", NULL, true },
		{ "", "charged", NULL, true },
		{ "k = has = sign", "k", "has = sign", true },
		{ "Charged = upper case key\n", "charged", NULL, false },
		{ "charged A suspect\n", "charged", NULL, false },
		{ "charged =\n", "charged", NULL, false },
		{ "= words\n", "charged", NULL, false },
		{ "charged = bell\a\n", "charged", NULL, false },
	};
	const char *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cm_words *w = cm_words_parse(
			rows[i].in, strlen(rows[i].in), "test", &err);
		const char *got;

		if (!rows[i].ok) {
			if (w != NULL)
				fail_msg("row %zu: accepted", i);
			if (strstr(err, "test: line ") == NULL)
				fail_msg("row %zu: error %s", i, err);
			continue;
		}
		if (w == NULL)
			fail_msg("row %zu: refused: %s", i, err);
		got = cm_words_get(w, rows[i].key);
		if ((got == NULL) != (rows[i].want == NULL) ||
		    (got != NULL && strcmp(got, rows[i].want) != 0))
			fail_msg("row %zu: got %s", i, got ? got : "NULL");
		cm_words_free(&w);
		assert_null(w);
	}
}

/* test_shipped - the shipped file has words for every default kind */
static void
test_shipped(void **state)
{
	char kinds[] = CM_MILESTONE_KINDS;
	const char *err = NULL;
	struct cm_words *w;
	char *save = NULL, *k;

	(void)state;
	w = cm_words_load("conf/templates", CM_WORDS_FILE, &err);
	if (w == NULL)
		fail_msg("load: %s", err);
	for (k = strtok_r(kinds, " ,", &save); k != NULL;
	     k = strtok_r(NULL, " ,", &save)) {
		k[strcspn(k, ":")] = '\0';
		if (cm_words_get(w, k) == NULL)
			fail_msg("no words for %s", k);
	}
	assert_string_equal(cm_words_get(w, "charged"),
			    "A suspect has been charged");
	cm_words_free(&w);
	w = cm_words_load("/nonexistent", CM_WORDS_FILE, &err);
	assert_null(w);
	assert_non_null(strstr(err, "/nonexistent/milestones.txt"));
}

/* main - run the tests (a name as argv[1] runs that test alone) */
int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_shipped),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
