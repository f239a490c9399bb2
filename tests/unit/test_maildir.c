/*
 * test_maildir.c - unit tests for lib/maildir.c
 *
 * DESCRIPTION
 *	Creation, delivery (content, mode, name, tmp/ left empty, failure),
 *	scanning order and the S flag, marking seen, moving into a
 *	subfolder, syncing.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_maildir.h"
#include "cm_util.h"

static char tmpdir[] = "/tmp/cm-test-maildir-XXXXXX";

/* rm_one - nftw callback removing one entry */
static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* group_setup - a scratch directory */
static int
group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

/* group_teardown - remove the scratch directory */
static int
group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* new_maildir - a fresh maildir named name under tmpdir; caller frees */
static char *
new_maildir(const char *name)
{
	char *dir = cm_xasprintf("%s/%s", tmpdir, name);
	const char *error = NULL;

	if (cm_maildir_create(dir, &error) != 0)
		fail_msg("create %s: %s", dir, error);
	return dir;
}

/* count_entries - entries of dir other than . and .. (-1: no dir) */
static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

/* put_file - write content to dir/sub/name directly */
static void
put_file(const char *dir, const char *sub, const char *name,
	 const char *content)
{
	char *path = cm_xasprintf("%s/%s/%s", dir, sub, name);
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);

	assert_true(fd >= 0);
	assert_int_equal(cm_write_all(fd, content, strlen(content)), 0);
	assert_int_equal(close(fd), 0);
	free(path);
}

/* file_is - true if path holds exactly len bytes of data */
static bool
file_is(const char *path, const void *data, size_t len)
{
	char *got = NULL;
	size_t gotlen = 0;
	bool ok;

	if (cm_read_file(path, 64 * 1024 * 1024, &got, &gotlen) != 0)
		return false;
	ok = gotlen == len && memcmp(got, data, len) == 0;
	free(got);
	return ok;
}

/* test_create - tmp, new, cur mode 0700, parents too; idempotent */
static void
test_create(void **state)
{
	static const char *const subs[] = { "", "/tmp", "/new", "/cur" };
	char *dir = new_maildir("c1/deep/Maildir");
	char *parent = cm_xasprintf("%s/c1", tmpdir);
	char *file = cm_xasprintf("%s/c1/plain", tmpdir);
	char *under = cm_xasprintf("%s/c1/plain/Maildir", tmpdir);
	const char *error = NULL;
	struct stat st;
	size_t i;
	char *p;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(subs); i++) {
		p = cm_xasprintf("%s%s", dir, subs[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		if ((st.st_mode & 07777) != 0700)
			fail_msg("row %zu: %s mode %o", i, p,
				 (unsigned int)(st.st_mode & 07777));
		free(p);
	}
	assert_int_equal(stat(parent, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(cm_maildir_create(dir, &error), 0);
	/* a plain file in the way */
	put_file(tmpdir, "c1", "plain", "x");
	assert_true(cm_maildir_create(file, &error) < 0);
	assert_non_null(strstr(error, file));
	error = NULL;
	assert_true(cm_maildir_create(under, &error) < 0);
	assert_non_null(error);
	assert_true(cm_maildir_create("", &error) < 0);
	free(under);
	free(file);
	free(parent);
	free(dir);
}

/* test_deliver - exact bytes in new/, mode 0600, tmp/ empty after */
static void
test_deliver(void **state)
{
	static const struct {
		const char *data;
		size_t len;
	} rows[] = {
		{ "Subject: hi\n\nhello\n", 19 },
		{ "", 0 },
		{ "NUL\0in the\0middle\r\n", 20 },
	};
	char *dir = new_maildir("d1");
	char *tmp = cm_xasprintf("%s/tmp", dir);
	char *newdir = cm_xasprintf("%s/new", dir);
	const char *error = NULL;
	char *big = cm_xmalloc(3 * 1024 * 1024);
	char *path = NULL;
	const char *name;
	struct stat st;
	regex_t re;
	size_t i;

	(void)state;
	assert_int_equal(regcomp(&re, "^[0-9]+\\.M[0-9]+P[0-9]+Q[0-9]+\\..+$",
				 REG_EXTENDED | REG_NOSUB), 0);
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		if (cm_maildir_deliver(dir, rows[i].data, rows[i].len, &path,
				       &error) != 0)
			fail_msg("row %zu: %s", i, error);
		if (strncmp(path, newdir, strlen(newdir)) != 0 ||
		    path[strlen(newdir)] != '/')
			fail_msg("row %zu: not in new/: %s", i, path);
		name = path + strlen(newdir) + 1;
		if (regexec(&re, name, 0, NULL, 0) != 0 ||
		    strchr(name, ':') != NULL || strchr(name, '/') != NULL)
			fail_msg("row %zu: bad name %s", i, name);
		if (!file_is(path, rows[i].data, rows[i].len))
			fail_msg("row %zu: content differs", i);
		assert_int_equal(stat(path, &st), 0);
		if ((st.st_mode & 07777) != 0600)
			fail_msg("row %zu: mode %o", i,
				 (unsigned int)(st.st_mode & 07777));
		assert_int_equal(count_entries(tmp), 0);
		free(path);
		path = NULL;
	}
	memset(big, 'x', 3 * 1024 * 1024);
	assert_int_equal(cm_maildir_deliver(dir, big, 3 * 1024 * 1024, &path,
					    &error), 0);
	assert_true(file_is(path, big, 3 * 1024 * 1024));
	free(path);
	/* path_r may be NULL */
	assert_int_equal(cm_maildir_deliver(dir, "x", 1, NULL, &error), 0);
	assert_int_equal(count_entries(newdir), 5);
	assert_int_equal(count_entries(tmp), 0);
	regfree(&re);
	free(big);
	free(newdir);
	free(tmp);
	free(dir);
}

/* test_deliver_unique - many deliveries, as many distinct files */
static void
test_deliver_unique(void **state)
{
	char *dir = new_maildir("d2");
	char *newdir = cm_xasprintf("%s/new", dir);
	const char *error = NULL;
	int i;

	(void)state;
	for (i = 0; i < 500; i++) {
		if (cm_maildir_deliver(dir, "m", 1, NULL, &error) != 0)
			fail_msg("delivery %d: %s", i, error);
	}
	assert_int_equal(count_entries(newdir), 500);
	free(newdir);
	free(dir);
}

/* test_deliver_fail - failures are reported and leave tmp/ empty */
static void
test_deliver_fail(void **state)
{
	char *dir = cm_xasprintf("%s/broken", tmpdir);
	char *sub;
	char *tmp = cm_xasprintf("%s/tmp", dir);
	char *path = (char *)"unchanged";
	const char *error = NULL;
	int rc;

	(void)state;
	/* a maildir whose new/ is a regular file */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(tmp, 0700), 0);
	sub = cm_xasprintf("%s/cur", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	free(sub);
	put_file(dir, ".", "new", "not a directory");
	rc = cm_maildir_deliver(dir, "data", 4, &path, &error);
	assert_true(rc == CM_ERR || rc == CM_ETEMP);
	assert_null(path);
	assert_non_null(error);
	assert_non_null(strstr(error, dir));
	assert_non_null(strstr(error, "new/"));
	assert_int_equal(count_entries(tmp), 0);
	/* no maildir at all */
	free(dir);
	dir = cm_xasprintf("%s/no-such-maildir", tmpdir);
	error = NULL;
	rc = cm_maildir_deliver(dir, "data", 4, NULL, &error);
	assert_true(rc == CM_ERR || rc == CM_ETEMP);
	assert_non_null(strstr(error, "tmp/"));
	error = NULL;
	assert_true(cm_maildir_deliver("", "data", 4, NULL, &error) < 0);
	assert_non_null(error);
	free(tmp);
	free(dir);
}

struct seen_list {
	char *names[32];
	int n;
	int stop_after; /* 0: never */
};

/* record - scan callback: note the file name */
static int
record(const char *path, void *ctx)
{
	struct seen_list *l = ctx;
	const char *slash = strrchr(path, '/');

	assert_true(l->n < 32);
	l->names[l->n++] = cm_xstrdup(slash != NULL ? slash + 1 : path);
	if (l->stop_after != 0 && l->n >= l->stop_after)
		return -1;
	return 0;
}

/* seen_free - free the recorded names */
static void
seen_free(struct seen_list *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free(l->names[i]);
	l->n = 0;
}

/* test_scan - new/ and unseen cur/, sorted by name */
static void
test_scan(void **state)
{
	static const struct {
		const char *sub;
		const char *name;
	} files[] = {
		{ "new", "1700000003.M1P1Q1.host" },
		{ "new", "1700000001.M1P1Q1.host" },
		{ "cur", "1700000002.M1P1Q1.host:2," },
		{ "cur", "1700000000.M1P1Q1.host:2,S" },
		{ "cur", "1700000004.M1P1Q1.host:2,FS" },
		{ "cur", "1700000005.M1P1Q1.host:2,RF" },
		{ "cur", "1700000006.M1P1Q1.host" },
		{ "cur", "1699999999.M1P1Q1.host:2,ST" },
		{ "new", ".hidden" },
		{ "cur", ".hidden:2," },
		{ "tmp", "1600000000.M1P1Q1.host" },
	};
	static const char *const want[] = {
		"1700000001.M1P1Q1.host",
		"1700000002.M1P1Q1.host:2,",
		"1700000003.M1P1Q1.host",
		"1700000005.M1P1Q1.host:2,RF",
		"1700000006.M1P1Q1.host",
	};
	char *dir = new_maildir("s1");
	char *missing = cm_xasprintf("%s/none", tmpdir);
	struct seen_list l = { .n = 0 };
	const char *error = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(files); i++)
		put_file(dir, files[i].sub, files[i].name, "m");
	assert_int_equal(cm_maildir_scan(dir, record, &l, &error), 0);
	if (l.n != (int)CM_ARRAY_SIZE(want))
		fail_msg("got %d messages", l.n);
	for (i = 0; i < CM_ARRAY_SIZE(want); i++) {
		if (strcmp(l.names[i], want[i]) != 0)
			fail_msg("row %zu: got %s", i, l.names[i]);
	}
	seen_free(&l);
	/* the callback stops the scan */
	l.stop_after = 2;
	assert_int_equal(cm_maildir_scan(dir, record, &l, &error), -1);
	assert_int_equal(l.n, 2);
	seen_free(&l);
	l.stop_after = 0;
	error = NULL;
	assert_true(cm_maildir_scan(missing, record, &l, &error) < 0);
	assert_non_null(strstr(error, missing));
	assert_int_equal(l.n, 0);
	free(missing);
	free(dir);
}

/* test_mark_seen - S merged into the flags, in ASCII order */
static void
test_mark_seen(void **state)
{
	static const struct {
		const char *sub;
		const char *name;
		const char *want; /* in cur/ */
	} rows[] = {
		{ "new", "1.a", "1.a:2,S" },
		{ "cur", "2.b:2,", "2.b:2,S" },
		{ "cur", "3.c:2,RF", "3.c:2,FRS" },
		{ "cur", "4.d:2,T", "4.d:2,ST" },
		{ "cur", "5.e:2,S", "5.e:2,S" },
		{ "cur", "6.f:2,FS", "6.f:2,FS" },
		{ "new", "7.g:2,F", "7.g:2,FS" },
		{ "cur", "8.h", "8.h:2,S" },
		{ "cur", "9.i:2,DFPRT", "9.i:2,DFPRST" },
		{ "cur", "10.j:2,a", "10.j:2,Sa" },
	};
	char *dir = new_maildir("m1");
	struct seen_list l = { .n = 0 };
	const char *error = NULL;
	char *from, *to, *content;
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		content = cm_xasprintf("message %zu", i);
		put_file(dir, rows[i].sub, rows[i].name, content);
		from = cm_xasprintf("%s/%s/%s", dir, rows[i].sub,
				    rows[i].name);
		to = cm_xasprintf("%s/cur/%s", dir, rows[i].want);
		if (cm_maildir_mark_seen(dir, from, &error) != 0)
			fail_msg("row %zu: %s", i, error);
		if (!file_is(to, content, strlen(content)))
			fail_msg("row %zu: %s missing", i, to);
		if (strcmp(from, to) != 0 && access(from, F_OK) == 0)
			fail_msg("row %zu: %s still there", i, from);
		free(to);
		free(from);
		free(content);
	}
	assert_int_equal(cm_maildir_sync(dir, NULL, &error), 0);
	assert_int_equal(cm_maildir_scan(dir, record, &l, &error), 0);
	assert_int_equal(l.n, 0);
	from = cm_xasprintf("%s/new/gone", dir);
	error = NULL;
	assert_true(cm_maildir_mark_seen(dir, from, &error) < 0);
	assert_non_null(strstr(error, "gone"));
	free(from);
	free(dir);
}

/* test_move_to - into .Quarantine/cur with S, folder made on demand */
static void
test_move_to(void **state)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char *dir = new_maildir("q1");
	struct seen_list l = { .n = 0 };
	const char *error = NULL;
	char *path = NULL;
	char *name, *want, *p;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(cm_maildir_deliver(dir, "bad mail", 8, &path,
						    &error), 0);
		if (cm_maildir_move_to(dir, path, ".Quarantine", &error) != 0)
			fail_msg("move %zu: %s", i, error);
		name = strrchr(path, '/') + 1;
		want = cm_xasprintf("%s/.Quarantine/cur/%s:2,S", dir, name);
		assert_true(file_is(want, "bad mail", 8));
		assert_int_equal(access(path, F_OK), -1);
		free(want);
		free(path);
		path = NULL;
	}
	for (i = 0; i < CM_ARRAY_SIZE(subs); i++) {
		p = cm_xasprintf("%s/.Quarantine/%s", dir, subs[i]);
		assert_int_equal(count_entries(p), i == 2 ? 2 : 0);
		free(p);
	}
	assert_int_equal(cm_maildir_sync(dir, ".Quarantine", &error), 0);
	/* neither the maildir nor the folder lists them as unseen */
	assert_int_equal(cm_maildir_scan(dir, record, &l, &error), 0);
	assert_int_equal(l.n, 0);
	p = cm_xasprintf("%s/.Quarantine", dir);
	assert_int_equal(cm_maildir_scan(p, record, &l, &error), 0);
	assert_int_equal(l.n, 0);
	free(p);
	free(dir);
}

/* test_bad_folder - folder names that would leave the maildir */
static void
test_bad_folder(void **state)
{
	static const char *const rows[] = {
		"", ".", "..", "../x", ".a/b", "/etc", "new", "cur", "tmp",
		".Q\x01", "..Quarantine", NULL,
	};
	char *dir = new_maildir("b1");
	const char *error;
	char *path = NULL;
	size_t i;
	int rc;

	(void)state;
	assert_int_equal(cm_maildir_deliver(dir, "m", 1, &path, &error), 0);
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		error = NULL;
		rc = cm_maildir_move_to(dir, path, rows[i], &error);
		if (rc != CM_ERR || error == NULL)
			fail_msg("row %zu: rc %d", i, rc);
		if (access(path, F_OK) != 0)
			fail_msg("row %zu: message moved", i);
		error = NULL;
		if (rows[i] != NULL &&
		    cm_maildir_sync(dir, rows[i], &error) != CM_ERR)
			fail_msg("row %zu: sync accepted it", i);
	}
	free(path);
	free(dir);
}

/* test_sync - sync of a missing maildir fails */
static void
test_sync(void **state)
{
	char *dir = new_maildir("y1");
	char *missing = cm_xasprintf("%s/none", tmpdir);
	const char *error = NULL;

	(void)state;
	assert_int_equal(cm_maildir_sync(dir, NULL, &error), 0);
	assert_true(cm_maildir_sync(dir, ".NoSuch", &error) < 0);
	assert_non_null(strstr(error, ".NoSuch"));
	assert_true(cm_maildir_sync(missing, NULL, &error) < 0);
	free(missing);
	free(dir);
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_deliver),
		cmocka_unit_test(test_deliver_unique),
		cmocka_unit_test(test_deliver_fail),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_mark_seen),
		cmocka_unit_test(test_move_to),
		cmocka_unit_test(test_bad_folder),
		cmocka_unit_test(test_sync),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
