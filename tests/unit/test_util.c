/*
 * test_util.c - unit tests for util.c and log.c
 *
 * DESCRIPTION
 *	Table-driven: each table row is {input, expected}; a failing row is
 *	reported by its index.
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
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cm_log.h"
#include "cm_util.h"

/* test_utf8_valid - valid and invalid sequences */
static void
test_utf8_valid(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		bool valid;
	} rows[] = {
		{ "plain ascii", 11, true },
		{ "caf\xc3\xa9", 5, true },
		{ "\xe2\x82\xac", 3, true },          /* euro */
		{ "\xf0\x9f\x98\x80", 4, true },      /* emoji */
		{ "caf\xe9", 4, false },              /* latin-1 */
		{ "\xc0\xaf", 2, false },             /* overlong */
		{ "\xed\xa0\x80", 3, false },         /* surrogate */
		{ "\xf4\x90\x80\x80", 4, false },     /* > U+10FFFF */
		{ "a\0b", 3, false },                 /* NUL */
		{ "\xe2\x82", 2, false },             /* truncated */
		{ "", 0, true },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++)
		if (cm_utf8_valid(rows[i].in, rows[i].len) != rows[i].valid)
			fail_msg("row %zu: %s", i, rows[i].in);
}

/* test_utf8_clean - cleaning gives valid UTF-8 */
static void
test_utf8_clean(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} rows[] = {
		{ "abc", 3, "abc" },
		{ "a\0b", 3, "ab" },
		{ "caf\xe9", 4, "caf\xef\xbf\xbd" },
		{ "\xc3\xa9t\xc3\xa9", 6, "\xc3\xa9t\xc3\xa9" },
		{ "\xff\xfe", 2, "\xef\xbf\xbd\xef\xbf\xbd" },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		char *s = cm_utf8_clean(rows[i].in, rows[i].len);

		if (strcmp(s, rows[i].out) != 0)
			fail_msg("row %zu: got '%s'", i, s);
		if (!cm_utf8_valid(s, strlen(s)))
			fail_msg("row %zu: result not valid", i);
		free(s);
	}
}

/* test_parse_long - strict decimal parsing */
static void
test_parse_long(void **state)
{
	static const struct {
		const char *in;
		int ret;
		long value;
	} rows[] = {
		{ "0", 0, 0 },      { "42", 0, 42 },   { "-5", 0, -5 },
		{ "", -1, 0 },      { " 1", -1, 0 },   { "1 ", -1, 0 },
		{ "12x", -1, 0 },   { "1001", -1, 0 }, { "-11", -1, 0 },
		{ "99999999999999999999", -1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		long v = 12345;
		int r = cm_parse_long(rows[i].in, -10, 1000, &v);

		if (r != rows[i].ret || (r == 0 && v != rows[i].value))
			fail_msg("row %zu: '%s' gave %d/%ld", i, rows[i].in, r,
				 v);
	}
}

/* test_buf_max - a buffer refuses to grow past its maximum */
static void
test_buf_max(void **state)
{
	struct cm_buf b;
	char *s;

	(void)state;
	cm_buf_init(&b, 10);
	assert_int_equal(cm_buf_puts(&b, "hello"), 0);
	assert_int_equal(cm_buf_printf(&b, "%d", 12345), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(cm_buf_putc(&b, 'x'), -1);
	assert_string_equal(b.data, "hello12345");
	s = cm_buf_steal(&b);
	assert_string_equal(s, "hello12345");
	assert_int_equal(b.len, 0);
	free(s);
	cm_buf_free(&b);
}

/* test_sanitize - log text is printable and bounded */
static void
test_sanitize(void **state)
{
	static const struct {
		const char *in;
		size_t max;
		const char *out;
	} rows[] = {
		{ "plain", 0, "plain" },
		{ "a\r\nb", 0, "a??b" },
		{ "say \"hi\"", 0, "say ?hi?" },
		{ "abcdefghij", 4, "abcd..." },
		{ NULL, 0, "-" },
		{ "caf\xc3\xa9s", 4, "caf..." }, /* no cut inside UTF-8 */
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		cm_log_sanitize(buf, sizeof(buf), rows[i].in, rows[i].max);
		if (strcmp(buf, rows[i].out) != 0)
			fail_msg("row %zu: got '%s'", i, buf);
	}
}

/* test_read_fd_limit - reading stops at the maximum and says so */
static void
test_read_fd_limit(void **state)
{
	char path[] = "/tmp/cm_util_XXXXXX";
	int fd = mkstemp(path);
	char *data = NULL;
	size_t len = 0;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(cm_write_all(fd, "0123456789", 10), 0);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(cm_read_fd(fd, 10, &data, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(data, "0123456789");
	free(data);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(cm_read_fd(fd, 5, &data, &len), CM_ERR);
	assert_int_equal(len, 5);
	free(data);
	close(fd);
	unlink(path);
	assert_int_equal(cm_read_file(path, 10, &data, &len), CM_ENOENT);
}

/* test_strip_bidi - bidi controls go, everything else stays */
static void
test_strip_bidi(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "Alex Smith", "Alex Smith" },
		{ "\xe2\x80\xae" "evil\xe2\x80\xac", "evil" },   /* RLO..PDF */
		{ "a\xe2\x80\xaa" "b\xe2\x80\xab" "c\xe2\x80\xad" "d", "abcd" },
		{ "\xe2\x81\xa6x\xe2\x81\xa7y\xe2\x81\xa8z\xe2\x81\xa9", "xyz" },
		{ "l\xe2\x80\x8er\xe2\x80\x8f.", "lr." },      /* LRM, RLM */
		{ "\xd8\x9c\xd8\xa7", "\xd8\xa7" },            /* ALM, alef */
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
		{ "\xe2\x80\x94 dash", "\xe2\x80\x94 dash" },   /* em dash */
		{ "\xe2\x81\xa5", "\xe2\x81\xa5" },             /* U+2065 */
		{ "cut \xe2\x80", "cut \xe2\x80" },               /* truncated */
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		char *s = cm_xstrdup(rows[i].in);

		if (strcmp(cm_str_strip_bidi(s), rows[i].out) != 0)
			fail_msg("row %zu: got \"%s\"", i, s);
		free(s);
	}
}

/* test_open_regular - links, FIFOs and directories are refused at once */
static void
test_open_regular(void **state)
{
	char dir[] = "/tmp/cm_util_dirXXXXXX";
	char reg[300], lnk[300], fifo[300], gone[300];
	const char *err = NULL;
	struct stat sb;
	int fd = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(reg, sizeof(reg), "%s/reg", dir);
	snprintf(lnk, sizeof(lnk), "%s/lnk", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(gone, sizeof(gone), "%s/gone", dir);
	fd = open(reg, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(cm_write_all(fd, "abc", 3), 0);
	close(fd);
	assert_int_equal(symlink(reg, lnk), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);

	assert_int_equal(cm_open_regular(reg, &fd, &sb, &err), 0);
	assert_true(fd >= 0);
	assert_int_equal(sb.st_size, 3);
	close(fd);
	assert_int_equal(cm_open_regular(lnk, &fd, NULL, &err), CM_ERR);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err, "symbolic link"));
	assert_non_null(strstr(err, lnk));
	/* a FIFO without a writer: refused, not waited on */
	assert_int_equal(cm_open_regular(fifo, &fd, NULL, &err), CM_ERR);
	assert_non_null(strstr(err, "FIFO"));
	assert_int_equal(cm_open_regular(dir, &fd, NULL, &err), CM_ERR);
	assert_non_null(strstr(err, "directory"));
	assert_int_equal(cm_open_regular(gone, &fd, NULL, &err), CM_ENOENT);
	unlink(reg);
	unlink(lnk);
	unlink(fifo);
	rmdir(dir);
}

/* test_read_private - owner-only regular files, bounded */
static void
test_read_private(void **state)
{
	static const struct {
		mode_t mode;
		int rc;
		const char *shown;
	} rows[] = {
		{ 0600, 0, NULL },       { 0400, 0, NULL },
		{ 0644, CM_ERR, "0644" }, { 0640, CM_ERR, "0640" },
		{ 0604, CM_ERR, "0604" }, { 0620, CM_ERR, "0620" },
		{ 0602, CM_ERR, "0602" }, { 0666, CM_ERR, "0666" },
	};
	char dir[] = "/tmp/cm_util_privXXXXXX";
	char path[300], lnk[300], fifo[300];
	const char *err = NULL;
	char *data = NULL;
	size_t len = 0;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pw", dir);
	snprintf(lnk, sizeof(lnk), "%s/lnk", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(cm_write_all(fd, "hunter2\n", 8), 0);
	close(fd);
	for (size_t i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		int rc;

		assert_int_equal(chmod(path, rows[i].mode), 0);
		err = NULL;
		rc = cm_read_private_file(path, 100, &data, &len, &err);
		if (rc != rows[i].rc)
			fail_msg("row %zu: mode %04o: rc %d (%s)", i,
				 (unsigned)rows[i].mode, rc,
				 err ? err : "-");
		if (rc == 0) {
			assert_int_equal(len, 8);
			assert_string_equal(data, "hunter2\n");
		} else {
			assert_null(data);
			if (strstr(err, rows[i].shown) == NULL ||
			    strstr(err, path) == NULL ||
			    strstr(err, "chmod 600") == NULL)
				fail_msg("row %zu: unhelpful error: %s", i,
					 err);
		}
		cm_wipe_free(data, len);
		data = NULL;
	}
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(cm_read_private_file(path, 7, &data, &len, &err),
			 CM_ERR);
	assert_null(data);
	assert_non_null(strstr(err, "larger than 7 bytes"));
	assert_int_equal(cm_read_private_file(path, 8, &data, &len, &err), 0);
	cm_wipe_free(data, len);
	assert_int_equal(symlink(path, lnk), 0);
	assert_int_equal(cm_read_private_file(lnk, 100, &data, &len, &err),
			 CM_ERR);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(cm_read_private_file(fifo, 100, &data, &len, &err),
			 CM_ERR);
	unlink(path);
	assert_int_equal(cm_read_private_file(path, 100, &data, &len, &err),
			 CM_ENOENT);
	unlink(lnk);
	unlink(fifo);
	rmdir(dir);
}

/* test_fatal_status - cm_fatal exits with the chosen status */
static void
test_fatal_status(void **state)
{
	pid_t pid;
	int status = 0;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		cm_log_open("test", 0);
		cm_log_set_fatal_status(75);
		cm_fatal("broken environment");
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 75);
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_buf_max),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_read_fd_limit),
		cmocka_unit_test(test_strip_bidi),
		cmocka_unit_test(test_open_regular),
		cmocka_unit_test(test_read_private),
		cmocka_unit_test(test_fatal_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
