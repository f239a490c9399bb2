/*
 * test_mline.c - unit tests for mline.c: which lines are milestone
 * lines and what is left of the text without them
 *
 * DESCRIPTION
 *	Table-driven: each row is {text, lines found, text left}; a
 *	failing row is reported by its index. Recording is tested end to
 *	end (tests/e2e/T250-mail-milestones.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_mline.h"

/* test_strip - the lines taken out and the text left */
static void
test_strip(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *left;
	} rows[] = {
		{ "Hello\nMilestone: charged\nBye\n", 1, "Hello\nBye\n" },
		{ "milestone:charged", 1, "" },
		{ "  MILESTONE : Charged.  \r\nrest", 1, "rest" },
		{ "Milestone: charged with theft\n", 1, "" },
		{ "Milestone:\n", 1, "" },
		{ "Milestones: charged\n", 0, "Milestones: charged\n" },
		{ "The milestone: charged\n", 0, "The milestone: charged\n" },
		{ "> Milestone: charged\n", 0, "> Milestone: charged\n" },
		{ "Milestone charged\n", 0, "Milestone charged\n" },
		{ "Milestone: a\nMilestone: b\n", 2, "" },
		{ "", 0, "" },
		{ "no newline at the end", 0, "no newline at the end" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = 99;
		char *got = cm_mline_strip(rows[i].in, &n);

		if (n != rows[i].n || strcmp(got, rows[i].left) != 0)
			fail_msg("row %zu: %zu lines, left \"%s\"", i, n,
				 got);
		free(got);
	}
}

/* main - run the tests (a name as argv[1] runs that test alone) */
int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
