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
		cmocka_unit_test(test_fatal_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
