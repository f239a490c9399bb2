/*
 * test_workday.c - unit tests for workday.c: bank holidays, deadlines
 * across weekends, the moveable holidays of 2026-2028 and the changes
 * between GMT and BST, late days, times typed by people
 *
 * DESCRIPTION
 *	Table-driven: each row is {input, expected}; a failing row is
 *	reported by its index. Instants are written in UTC ("...Z") so
 *	that each row says what the deadline is on the wire.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_workday.h"

/* utc - an instant from "YYYY-MM-DDTHH:MM:SSZ" (the parser's UTC form) */
static int64_t
utc(const struct cm_workday *wd, const char *s)
{
	const char *err = NULL;
	int64_t t = 0;

	if (cm_workday_parse_time(wd, s, &t, &err) < 0)
		fail_msg("cannot parse %s: %s", s, err);
	return t;
}

/* test_bank_holidays - every bank holiday of 2026-2028, and days that
 * are not */
static void
test_bank_holidays(void **state)
{
	static const struct {
		int y, m, d;
		bool holiday;
	} rows[] = {
		/* 2026 */
		{ 2026, 1, 1, true },   /* New Year, Thursday */
		{ 2026, 4, 3, true },   /* Good Friday */
		{ 2026, 4, 6, true },   /* Easter Monday */
		{ 2026, 4, 5, false },  /* Easter Sunday: a weekend day */
		{ 2026, 5, 4, true },   /* early May */
		{ 2026, 5, 25, true },  /* spring */
		{ 2026, 5, 18, false },
		{ 2026, 8, 31, true },  /* summer */
		{ 2026, 8, 24, false },
		{ 2026, 12, 25, true }, /* Christmas, Friday */
		{ 2026, 12, 26, false }, /* Boxing Day is a Saturday... */
		{ 2026, 12, 28, true }, /* ...so Monday is the substitute */
		{ 2026, 12, 29, false },
		/* 2027 */
		{ 2027, 1, 1, true },   /* Friday */
		{ 2027, 3, 26, true },  /* Good Friday */
		{ 2027, 3, 29, true },  /* Easter Monday */
		{ 2027, 5, 3, true },
		{ 2027, 5, 31, true },
		{ 2027, 8, 30, true },
		{ 2027, 12, 27, true }, /* Christmas Saturday: Monday */
		{ 2027, 12, 28, true }, /* Boxing Day Sunday: Tuesday */
		{ 2027, 12, 29, false },
		/* 2028 */
		{ 2028, 1, 1, false },  /* Saturday... */
		{ 2028, 1, 3, true },   /* ...so Monday 3rd */
		{ 2028, 1, 2, false },
		{ 2028, 4, 14, true },  /* Good Friday */
		{ 2028, 4, 17, true },  /* Easter Monday */
		{ 2028, 5, 1, true },
		{ 2028, 5, 29, true },
		{ 2028, 8, 28, true },
		{ 2028, 12, 25, true }, /* Monday */
		{ 2028, 12, 26, true }, /* Tuesday */
		{ 2028, 12, 27, false },
		/* the other substitute patterns */
		{ 2022, 12, 26, true }, /* Christmas Sunday: Boxing Monday */
		{ 2022, 12, 27, true }, /* and Tuesday for Christmas */
		{ 2023, 1, 2, true },   /* New Year Sunday */
		{ 2020, 12, 28, true }, /* Boxing Day Saturday */
		{ 2030, 4, 19, true },  /* Good Friday 2030 */
		{ 2030, 2, 30, false }, /* no such day */
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++)
		if (cm_workday_bank_holiday(rows[i].y, rows[i].m, rows[i].d) !=
		    rows[i].holiday)
			fail_msg("row %zu: %04d-%02d-%02d", i, rows[i].y,
				 rows[i].m, rows[i].d);
}

/* test_deadline - N working days after an instant, in Europe/London */
static void
test_deadline(void **state)
{
	static const struct {
		const char *at;
		int days;
		const char *deadline;
	} rows[] = {
		/* weekends */
		{ "2026-03-02T10:00:00Z", 1, "2026-03-03T23:59:59Z" },
		{ "2026-03-02T10:00:00Z", 5, "2026-03-09T23:59:59Z" },
		{ "2026-03-06T15:00:00Z", 1, "2026-03-09T23:59:59Z" },
		{ "2026-03-07T12:00:00Z", 1, "2026-03-09T23:59:59Z" },
		{ "2026-03-08T12:00:00Z", 5, "2026-03-13T23:59:59Z" },
		{ "2026-03-02T00:00:00Z", 1, "2026-03-03T23:59:59Z" },
		{ "2026-03-02T23:59:59Z", 1, "2026-03-03T23:59:59Z" },
		/* Easter 2026, in summer time: 23:59:59 BST is 22:59:59Z */
		{ "2026-04-02T08:00:00Z", 1, "2026-04-07T22:59:59Z" },
		{ "2026-04-02T08:00:00Z", 5, "2026-04-13T22:59:59Z" },
		/* GMT to BST (Sunday 29 March 2026) */
		{ "2026-03-27T12:00:00Z", 1, "2026-03-30T22:59:59Z" },
		{ "2026-03-27T12:00:00Z", 5, "2026-04-07T22:59:59Z" },
		/* BST to GMT (Sunday 25 October 2026) */
		{ "2026-10-23T12:00:00Z", 1, "2026-10-26T23:59:59Z" },
		{ "2026-10-23T12:00:00Z", 5, "2026-10-30T23:59:59Z" },
		/* 23:30Z on 30 June is 00:30 BST on Wednesday 1 July */
		{ "2026-06-30T23:30:00Z", 1, "2026-07-02T22:59:59Z" },
		{ "2026-06-30T22:30:00Z", 1, "2026-07-01T22:59:59Z" },
		/* May and August 2026 */
		{ "2026-05-01T10:00:00Z", 1, "2026-05-05T22:59:59Z" },
		{ "2026-05-22T10:00:00Z", 1, "2026-05-26T22:59:59Z" },
		{ "2026-08-28T10:00:00Z", 1, "2026-09-01T22:59:59Z" },
		/* Christmas 2026 and New Year 2027 */
		{ "2026-12-24T10:00:00Z", 1, "2026-12-29T23:59:59Z" },
		{ "2026-12-24T10:00:00Z", 5, "2027-01-05T23:59:59Z" },
		/* 2027: Easter straddles the change to BST (28 March) */
		{ "2027-03-25T12:00:00Z", 1, "2027-03-30T22:59:59Z" },
		{ "2027-03-25T12:00:00Z", 5, "2027-04-05T22:59:59Z" },
		{ "2027-05-28T10:00:00Z", 1, "2027-06-01T22:59:59Z" },
		{ "2027-08-27T10:00:00Z", 1, "2027-08-31T22:59:59Z" },
		{ "2027-10-29T10:00:00Z", 1, "2027-11-01T23:59:59Z" },
		{ "2027-12-24T10:00:00Z", 1, "2027-12-29T23:59:59Z" },
		{ "2027-12-31T10:00:00Z", 1, "2028-01-04T23:59:59Z" },
		/* 2028 */
		{ "2028-04-13T10:00:00Z", 1, "2028-04-18T22:59:59Z" },
		{ "2028-04-13T10:00:00Z", 5, "2028-04-24T22:59:59Z" },
		{ "2028-04-28T10:00:00Z", 1, "2028-05-02T22:59:59Z" },
		{ "2028-05-26T10:00:00Z", 1, "2028-05-30T22:59:59Z" },
		{ "2028-08-25T10:00:00Z", 1, "2028-08-29T22:59:59Z" },
		{ "2028-10-27T10:00:00Z", 1, "2028-10-30T23:59:59Z" },
		{ "2028-12-22T10:00:00Z", 1, "2028-12-27T23:59:59Z" },
		{ "2028-12-22T10:00:00Z", 5, "2029-01-03T23:59:59Z" },
	};
	struct cm_workday *wd;
	const char *err = NULL;
	char got[32], want[32];

	(void)state;
	wd = cm_workday_new("Europe/London", NULL, &err);
	assert_non_null(wd);
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		int64_t d = 0, w = utc(wd, rows[i].deadline);

		if (cm_workday_deadline(wd, utc(wd, rows[i].at), rows[i].days,
					&d, &err) < 0)
			fail_msg("row %zu: %s", i, err);
		if (d != w)
			fail_msg("row %zu: %s + %d: got %s, want %s", i,
				 rows[i].at, rows[i].days,
				 cm_workday_format(wd, d, got),
				 cm_workday_format(wd, w, want));
	}
	assert_int_equal(cm_workday_deadline(wd, 0, 0, &(int64_t){ 0 }, &err),
			 CM_ERR);
	assert_int_equal(cm_workday_deadline(wd, 0, CM_WORKDAY_MAX_DAYS + 1,
					     &(int64_t){ 0 }, &err),
			 CM_ERR);
	cm_workday_free(&wd);
	assert_null(wd);
}

/* test_extra - days off from the configured list */
static void
test_extra(void **state)
{
	static const char *const bad[] = {
		"2026-6-15", "2026-06-31", "tomorrow", "2026-06-15x",
		"1800-01-01",
	};
	struct cm_workday *wd;
	const char *err = NULL;
	int64_t d = 0;

	(void)state;
	wd = cm_workday_new(NULL, "2026-06-15, 2026-06-16  2023-05-08", &err);
	assert_non_null(wd);
	assert_false(cm_workday_is_working(wd, 2026, 6, 15));
	assert_false(cm_workday_is_working(wd, 2023, 5, 8)); /* coronation */
	assert_true(cm_workday_is_working(wd, 2026, 6, 17));
	assert_false(cm_workday_is_working(wd, 2026, 6, 13)); /* Saturday */
	assert_false(cm_workday_is_working(wd, 2026, 5, 25)); /* spring */
	assert_int_equal(cm_workday_deadline(wd, utc(wd,
						     "2026-06-12T10:00:00Z"),
					     1, &d, &err),
			 0);
	assert_int_equal(d, utc(wd, "2026-06-17T22:59:59Z"));
	cm_workday_free(&wd);
	for (size_t i = 0; i < CM_ARRAY_SIZE(bad); i++) {
		wd = cm_workday_new(NULL, bad[i], &err);
		if (wd != NULL)
			fail_msg("row %zu: %s accepted", i, bad[i]);
		if (strstr(err, "bad date") == NULL)
			fail_msg("row %zu: error %s", i, err);
	}
}

/* test_zone - zones that exist, and names refused */
static void
test_zone(void **state)
{
	static const char *const bad[] = {
		"Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime",
		"Europe/London\n", "Europe/../Europe/London",
	};
	struct cm_workday *wd;
	const char *err = NULL;
	int64_t d = 0;
	int y, m, dd;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(bad); i++) {
		wd = cm_workday_new(bad[i], NULL, &err);
		if (wd != NULL)
			fail_msg("row %zu accepted", i);
		if (strstr(err, "unknown time zone") == NULL)
			fail_msg("row %zu: error %s", i, err);
	}
	/* the same instant is Monday in London and Tuesday in Auckland */
	wd = cm_workday_new("Pacific/Auckland", NULL, &err);
	assert_non_null(wd);
	assert_int_equal(cm_workday_local_date(wd, utc(wd,
						       "2026-03-02T20:00:00Z"),
					       &y, &m, &dd, &err),
			 0);
	assert_int_equal(dd, 3);
	assert_int_equal(cm_workday_deadline(wd, utc(wd,
						     "2026-03-02T20:00:00Z"),
					     1, &d, &err),
			 0);
	/* Wednesday 4 March 23:59:59 NZDT (+13) */
	assert_int_equal(d, utc(wd, "2026-03-04T10:59:59Z"));
	cm_workday_free(&wd);
	/* TZ is left as it was */
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	wd = cm_workday_new(NULL, NULL, &err);
	assert_non_null(wd);
	(void)cm_workday_deadline(wd, 0, 1, &d, &err);
	assert_string_equal(getenv("TZ"), "UTC");
	cm_workday_free(&wd);
	assert_int_equal(unsetenv("TZ"), 0);
	wd = cm_workday_new(NULL, NULL, &err);
	(void)cm_workday_deadline(wd, 0, 1, &d, &err);
	assert_null(getenv("TZ"));
	cm_workday_free(&wd);
}

/* test_late_by - working days from a deadline to when it was met */
static void
test_late_by(void **state)
{
	static const struct {
		const char *deadline, *at;
		long days;
	} rows[] = {
		/* Friday 13 March 2026 deadline */
		{ "2026-03-13T23:59:59Z", "2026-03-13T20:00:00Z", 0 },
		{ "2026-03-13T23:59:59Z", "2026-03-13T23:59:59Z", 0 },
		{ "2026-03-14T10:00:00Z", "2026-03-14T10:00:00Z", 0 },
		{ "2026-03-13T23:59:59Z", "2026-03-14T09:00:00Z", 1 },
		{ "2026-03-13T23:59:59Z", "2026-03-15T09:00:00Z", 1 },
		{ "2026-03-13T23:59:59Z", "2026-03-16T09:00:00Z", 1 },
		{ "2026-03-13T23:59:59Z", "2026-03-17T09:00:00Z", 2 },
		{ "2026-03-13T23:59:59Z", "2026-03-21T09:00:00Z", 6 },
		/* over Easter 2026: Thursday 2 April deadline */
		{ "2026-04-02T22:59:59Z", "2026-04-07T09:00:00Z", 1 },
		{ "2026-04-02T22:59:59Z", "2026-04-08T09:00:00Z", 2 },
		/* 23:30Z on Monday 30 March is Tuesday in BST */
		{ "2026-03-30T22:59:59Z", "2026-03-30T23:30:00Z", 1 },
	};
	struct cm_workday *wd;
	const char *err = NULL;
	long n;

	(void)state;
	wd = cm_workday_new(NULL, NULL, &err);
	assert_non_null(wd);
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		if (cm_workday_late_by(wd, utc(wd, rows[i].deadline),
				       utc(wd, rows[i].at), &n, &err) < 0)
			fail_msg("row %zu: %s", i, err);
		if (n != rows[i].days)
			fail_msg("row %zu: got %ld, want %ld", i, n,
				 rows[i].days);
	}
	cm_workday_free(&wd);
}

/* test_parse_time - the forms people type, and what is refused */
static void
test_parse_time(void **state)
{
	static const struct {
		const char *in;
		int64_t want; /* -1: refused */
	} rows[] = {
		{ "@0", 0 },
		{ "@1772445600", 1772445600 },
		{ "2026-03-02T10:00:00Z", 1772445600 },
		{ "2026-03-02T10:00Z", 1772445600 },
		{ "2026-03-02T10:00", 1772445600 },    /* GMT in March */
		{ "2026-03-02 10:00:00", 1772445600 },
		{ "2026-03-02", 1772409600 },
		{ "2026-07-01T10:00", 1782896400 },    /* BST: 09:00Z */
		{ "2026-07-01", 1782860400 },          /* 23:00Z on 30 June */
		{ "2026-03-02T24:00", -1 },
		{ "2026-03-02T10", -1 },
		{ "2026-03-02Z", -1 },
		{ "2026-02-29", -1 },
		{ "02/03/2026", -1 },
		{ "", -1 },
		{ "@", -1 },
		{ "@12x", -1 },
		{ "2026-03-02T10:00:00+01:00", -1 },
	};
	struct cm_workday *wd;
	const char *err = NULL;
	char buf[32];
	int64_t t;

	(void)state;
	wd = cm_workday_new(NULL, NULL, &err);
	assert_non_null(wd);
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		int rc = cm_workday_parse_time(wd, rows[i].in, &t, &err);

		if (rows[i].want < 0 && rc == 0)
			fail_msg("row %zu: %s accepted", i, rows[i].in);
		if (rows[i].want >= 0 && (rc < 0 || t != rows[i].want))
			fail_msg("row %zu: %s: rc %d t %lld", i, rows[i].in,
				 rc, (long long)t);
	}
	assert_string_equal(cm_workday_format(wd, 1782896400, buf),
			    "2026-07-01 10:00 BST");
	assert_string_equal(cm_workday_format(wd, 1772445600, buf),
			    "2026-03-02 10:00 GMT");
	cm_workday_free(&wd);
}

/* main - run the tests (a name as argv[1] runs that test alone) */
int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bank_holidays),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_extra),
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_late_by),
		cmocka_unit_test(test_parse_time),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
