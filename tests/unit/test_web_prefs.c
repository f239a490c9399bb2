/*
 * test_web_prefs.c - unit tests of cm_store_victim_set_prefs, the
 *	portal's write of a victim's preferences
 *
 * SYNOPSIS
 *	build/tests/test_web_prefs
 *
 * DESCRIPTION
 *	A table of preference writes, each from the same starting row
 *	(which another writer has marked undeliverable with a bounce
 *	score), and the row that must follow: only the columns set are
 *	written, every other column keeps what is in the store. An unknown
 *	victim is CM_ENOENT.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cm_store.h"
#include "cm_token.h"
#include "cm_util.h"
#include "store_test.h"

static char tmpdir[] = "/tmp/cm-test-web-prefs-XXXXXX";
static struct cm_secret *secret;

/* rm_one - nftw callback removing one entry */
static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* group_setup - sodium, a scratch directory and a secret */
static int
group_setup(void **state)
{
	const char *error = NULL;
	char *path;
	int ret = -1;

	(void)state;
	if (cm_token_init() != 0 || mkdtemp(tmpdir) == NULL)
		return -1;
	path = cm_xasprintf("%s/secret", tmpdir);
	if (cm_secret_create(path, &error) == 0 &&
	    (secret = cm_secret_load(path, NULL, &error)) != NULL)
		ret = 0;
	else
		fprintf(stderr, "secret: %s\n", error);
	free(path);
	return ret;
}

/* group_teardown - drop the secret and the scratch directory */
static int
group_teardown(void **state)
{
	(void)state;
	cm_secret_free(&secret);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* check - rc must be 0, else fail with the store's error */
static void
check(int rc, const char *what, const char *error)
{
	if (rc != 0)
		fail_msg("%s: %d %s", what, rc, error ? error : "");
}

/* test_set_prefs - each write changes its columns and nothing else */
static void
test_set_prefs(void **state)
{
	static const struct {
		struct cm_victim_prefs p;
		/* the row after: name channel opted_in discreet registered
		 * email_status bounce_score */
		const char *want;
	} rows[] = {
		{ { NULL, NULL, -1, -1, -1 },
		  "Jane Doe email 1 0 0 undeliverable 3" },
		{ { NULL, "both", 1, 1, -1 },
		  "Jane Doe both 1 1 0 undeliverable 3" },
		{ { NULL, NULL, 0, -1, -1 },
		  "Jane Doe email 0 0 0 undeliverable 3" },
		{ { "J. Doe", "sms", -1, 0, 1 },
		  "J. Doe sms 1 0 1 undeliverable 3" },
		{ { NULL, NULL, -1, 1, -1 },
		  "Jane Doe email 1 1 0 undeliverable 3" },
	};
	struct cm_victim_prefs none = { NULL, NULL, -1, -1, -1 };
	struct cm_store *st = NULL;
	struct cm_victim v;
	const char *error = NULL;
	char *path = cm_xasprintf("%s/store.db", tmpdir), got[200];
	int64_t case_id = 0, vid = 0;

	(void)state;
	check(cm_store_open(path, secret, 5000, CM_STORE_CREATE, &st, &error),
	      "open", error);
	check(cm_store_begin(st, &error), "begin", error);
	check(cm_store_case_add(st, "HU-20261128-0042", NULL, 0, &case_id,
				&error),
	      "case", error);
	check(cm_store_victim_add(st, case_id, "Jane Doe", "jane@example.net",
				  "+447700900123", "email", true, &vid,
				  &error),
	      "victim", error);
	check(cm_store_commit(st, &error), "commit", error);
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		check(cm_store_exec_for_test(
			      st,
			      "UPDATE victims SET name = 'Jane Doe', channel ="
			      " 'email', opted_in = 1, discreet = 0,"
			      " registered = 0, email_status ="
			      " 'undeliverable', bounce_score = 3",
			      &error),
		      "reset", error);
		check(cm_store_begin(st, &error), "begin", error);
		check(cm_store_victim_set_prefs(st, vid, &rows[i].p, &error),
		      "set_prefs", error);
		check(cm_store_commit(st, &error), "commit", error);
		memset(&v, 0, sizeof(v));
		check(cm_store_victim_get(st, vid, &v, &error), "get", error);
		(void)snprintf(got, sizeof(got), "%s %s %d %d %d %s %ld",
			       v.name, v.channel, v.opted_in, v.discreet,
			       v.registered, v.email_status, v.bounce_score);
		cm_victim_clear(&v);
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: got '%s', want '%s'", i, got,
				 rows[i].want);
	}
	check(cm_store_begin(st, &error), "begin", error);
	assert_int_equal(cm_store_victim_set_prefs(st, vid + 100, &none,
						   &error),
			 CM_ENOENT);
	cm_store_rollback(st);
	cm_store_close(&st);
	free(path);
}

/* main - run the tests (TAP with CMOCKA_MESSAGE_OUTPUT=TAP) */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_prefs),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
