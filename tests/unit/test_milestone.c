/*
 * test_milestone.c - unit tests of schema version 5: the migration from
 * version 4 keeps every notice with its id, its tokens' references and
 * the queue's indexes while the notices table is rebuilt for the
 * milestone kinds
 *
 * DESCRIPTION
 *	A version 4 file is made with cm_store_open_at_version and filled
 *	with raw SQL as version 4 wrote it, then opened with today's code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_store.h"
#include "cm_token.h"
#include "store_test.h"

#define BUSY_MS 2000

/* qint - one integer from sql, failing the test on an error */
static int64_t
qint(struct cm_store *st, const char *sql)
{
	const char *err = NULL;
	int64_t v = 0;

	if (cm_store_query_int_for_test(st, sql, &v, &err) < 0)
		fail_msg("%s: %s", sql, err);
	return v;
}

/* run - raw sql, failing the test on an error */
static void
run(struct cm_store *st, const char *sql)
{
	const char *err = NULL;

	if (cm_store_exec_for_test(st, sql, &err) < 0)
		fail_msg("%s: %s", sql, err);
}

/* test_migrate_v5 - notices rebuilt, ids, tokens and indexes kept */
static void
test_migrate_v5(void **state)
{
	char dir[] = "/tmp/test_milestone.XXXXXX", *path, *spath, *cmd;
	struct cm_secret *secret = NULL;
	struct cm_store *st = NULL;
	const char *err = NULL;
	int64_t id = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(cm_token_init(), 0);
	spath = cm_xasprintf("%s/secret", dir);
	path = cm_xasprintf("%s/v4.db", dir);
	assert_int_equal(cm_secret_create(spath, &err), 0);
	secret = cm_secret_load(spath, NULL, &err);
	assert_non_null(secret);
	assert_int_equal(cm_store_open_at_version(path, secret, BUSY_MS,
						  CM_STORE_CREATE, 4, &st,
						  &err),
			 0);
	run(st, "INSERT INTO officers VALUES (1, 'o@x.org', 'O', NULL, 1, 1);"
		"INSERT INTO cases (id, ref, oic_id, created_at)"
		" VALUES (1, 'HU-1', 1, 1);"
		"INSERT INTO victims (id, case_id, name, email, channel,"
		" created_at) VALUES (1, 1, 'V', 'v@x.org', 'email', 1);"
		"INSERT INTO notices (id, case_id, victim_id, officer_id,"
		" kind, channel, status, next_attempt_at, created_at,"
		" updated_at) VALUES"
		" (7, 1, 1, NULL, 'update', 'email', 'sent', 1, 1, 1),"
		" (9, 1, NULL, 1, 'officer_notify', 'email', 'queued', 1, 1,"
		" 1);"
		"INSERT INTO tokens (hash, kind, notice_id, victim_id, case_id,"
		" created_at, expires_at) VALUES (zeroblob(32), 'login', 7,"
		" 1, 1, 1, 2);");
	cm_store_close(&st);

	assert_int_equal(cm_store_open(path, secret, BUSY_MS, 0, &st, &err),
			 0);
	assert_int_equal(cm_store_version(st), 5);
	assert_int_equal(qint(st, "SELECT count(*) FROM notices"), 2);
	assert_int_equal(qint(st, "SELECT sum(id) FROM notices"), 16);
	assert_int_equal(qint(st, "SELECT officer_id FROM notices"
				  " WHERE id = 9"),
			 1);
	assert_int_equal(qint(st, "SELECT notice_id FROM tokens"), 7);
	assert_int_equal(qint(st, "SELECT count(*) FROM"
				  " pragma_foreign_key_check"),
			 0);
	assert_int_equal(qint(st, "SELECT count(*) FROM sqlite_master"
				  " WHERE type = 'index'"
				  " AND tbl_name = 'notices'"
				  " AND name IN ('notices_case',"
				  " 'notices_sent_message_id', 'notices_due',"
				  " 'notices_pending_notify',"
				  " 'notices_message')"),
			 5);
	assert_int_equal(qint(st, "SELECT count(*) FROM sqlite_master"
				  " WHERE name LIKE 'notices_v%'"),
			 0);
	/* the new kinds go in; the old rules hold for the others */
	assert_int_equal(cm_store_begin(st, &err), 0);
	assert_int_equal(cm_store_notice_add_digest(st, &id, &err), 0);
	assert_true(id > 9);
	assert_int_equal(cm_store_exec_for_test(st, "INSERT INTO notices"
				  " (case_id, kind, channel,"
				  " next_attempt_at, created_at, updated_at)"
				  " VALUES (1, 'update', 'email', 1, 1, 1)",
				  &err),
			 CM_ERR);
	assert_int_equal(cm_store_exec_for_test(st, "INSERT INTO notices"
				  " (case_id, officer_id, kind, channel,"
				  " next_attempt_at, created_at, updated_at)"
				  " VALUES (1, 1, 'milestone_overdue', 'email',"
				  " 1, 1, 1)",
				  &err),
			 0);
	assert_int_equal(cm_store_exec_for_test(st, "DELETE FROM notices"
				  " WHERE id = 7", &err),
			 CM_ERR); /* a token still points at it */
	assert_int_equal(cm_store_commit(st, &err), 0);
	assert_int_equal(qint(st, "SELECT enhanced FROM victims"), 0);
	assert_int_equal(qint(st, "SELECT update_rhythm = 'milestones'"
				  " FROM victims"),
			 1);
	cm_store_close(&st);
	cm_secret_free(&secret);
	cmd = cm_xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
	free(spath);
}

/* main - run the tests (a name as argv[1] runs that test alone) */
int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_v5),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
