/*
 * test_imap.c - unit tests for lib/imap.c against a real Dovecot
 *
 * DESCRIPTION
 *	The group setup starts a private Dovecot on loopback with
 *	tests/e2e/dovecot-ctl.sh (imaps and imap+STARTTLS, a throw-away CA,
 *	a test account); the teardown stops it. Messages are put in with
 *	IMAP APPEND from another process and counted through doveadm, so
 *	what the module claims is checked on the server's side.
 *	If Dovecot cannot be started every test that needs it FAILS with
 *	the reason (never skipped).
 *
 *	Also: a fake server in a child process feeds malformed, truncated
 *	and hostile responses (each must give CM_ETEMP, never a crash or a
 *	hang); a server that accepts but never speaks gives a timeout.
 *
 *	The work directory is <build>/test-work/test_imap-PID (kept for a
 *	look after the run; cleared by the next run), <build> taken from
 *	argv[0] (build/tests/test_imap); TOP (default: the current
 *	directory) is where tests/e2e/dovecot-ctl.sh is found.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_imap.h"
#include "cm_util.h"

/* the rig's coordinates, read from dovecot-ctl.sh start */
static struct {
	bool ok;
	char why[4096];
	char top[1024];
	char *dir;
	unsigned int port;
	unsigned int plain_port;
	char ca[1024];
	char user[128];
	char pass[128];
} rig;

static const char *argv0 = "build/tests/test_imap";

/*
 * Sanitizer builds: libetpan 1.9.4 leaks the parsed greeting when the
 * server greets with BYE (parse_greeting returns early without freeing
 * it), which the "BYE greeting" row provokes on purpose. Full stacks
 * (libetpan has no frame pointers) let LeakSanitizer attribute those
 * allocations to mailimap_connect, and only those are suppressed.
 */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

__attribute__((used)) const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

__attribute__((used)) const char *
__lsan_default_suppressions(void)
{
	return "leak:mailimap_connect\n";
}

/* now_s - monotonic seconds */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* need_rig - fail the current test when Dovecot is not running */
static void
need_rig(void)
{
	if (!rig.ok)
		fail_msg("Dovecot test rig not running: %s", rig.why);
}

/* ctl - run dovecot-ctl.sh with args; its stdout into out (may be NULL);
 * returns the exit status (-1 if it could not run) */
static int
ctl(char *out, size_t outsize, const char *args)
{
	char *cmd;
	FILE *f;
	size_t n = 0;
	int st;

	cmd = cm_xasprintf("sh '%s/tests/e2e/dovecot-ctl.sh' %s "
	    "2>>'%s/rig.log'", rig.top, args, rig.dir);
	f = popen(cmd, "r");
	free(cmd);
	if (f == NULL)
		return -1;
	if (out != NULL && outsize > 0) {
		n = fread(out, 1, outsize - 1, f);
		out[n] = '\0';
	} else {
		char sink[512];

		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ctl_number - the number printed by a ctl command, or -1 */
static long
ctl_number(const char *cmd, const char *mailbox)
{
	char out[64];
	char *args = cm_xasprintf("%s '%s' '%s'", cmd, rig.dir, mailbox);
	long v = -1;

	if (ctl(out, sizeof(out), args) != 0 ||
	    cm_parse_long(cm_str_trim(out), 0, 1000000, &v) != 0)
		v = -1;
	free(args);
	return v;
}

/* server_count - messages in mailbox as Dovecot reports them */
static long
server_count(const char *mailbox)
{
	return ctl_number("count", mailbox);
}

/* server_seen - \Seen messages in mailbox as Dovecot reports them */
static long
server_seen(const char *mailbox)
{
	return ctl_number("seen", mailbox);
}

/* server_create - make mailbox on the server; true on success */
static bool
server_create(const char *mailbox)
{
	char *args = cm_xasprintf("create '%s' '%s'", rig.dir, mailbox);
	int r = ctl(NULL, 0, args);

	free(args);
	return r == 0;
}

/* server_append - IMAP APPEND of file path to mailbox; true on OK */
static bool
server_append(const char *mailbox, const char *path)
{
	char *args = cm_xasprintf("append '%s' '%s' '%s'", rig.dir, mailbox,
	    path);
	int r = ctl(NULL, 0, args);

	free(args);
	return r == 0;
}

/* make_message - write test message i into the work directory; returns
 * its path (caller frees) and its bytes in *data_r (caller frees) */
static char *
make_message(int i, size_t pad, char **data_r, size_t *len_r)
{
	struct cm_buf b;
	char *path;
	FILE *f;
	size_t k;

	cm_buf_init(&b, 0);
	cm_buf_printf(&b, "From: Victim %d <victim%d@example.net>\r\n"
	    "To: reply+abc%d@cases.example.org\r\n"
	    "Subject: Update %d caf\xc3\xa9\r\n"
	    "Message-ID: <m%d.%ld@example.net>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "Hello, this is message %d.\r\n.\r\n..two dots\r\n",
	    i, i, i, i, i, (long)getpid(), i);
	for (k = 0; k < pad; k++)
		cm_buf_putc(&b, (char)('a' + k % 26));
	cm_buf_puts(&b, "\r\n\xe2\x82\xac end\r\n");
	path = cm_xasprintf("%s/msg%d-%zu.eml", rig.dir, i, pad);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
	assert_int_equal(fclose(f), 0);
	*len_r = b.len;
	*data_r = cm_buf_steal(&b);
	cm_buf_free(&b);
	return path;
}

/* base_params - TLS to the rig, trusting its CA, on mailbox */
static struct cm_imap_params
base_params(const char *mailbox)
{
	struct cm_imap_params p;

	memset(&p, 0, sizeof(p));
	p.host = "127.0.0.1";
	p.port = rig.port;
	p.user = rig.user;
	p.password = rig.pass;
	p.mailbox = mailbox;
	p.tls = CM_IMAP_TLS;
	p.ca_file = rig.ca;
	p.timeout = 20;
	return p;
}

/* connect_ok - connect with p or fail the test with the reason */
static struct cm_imap *
connect_ok(const struct cm_imap_params *p)
{
	struct cm_imap *imap = NULL;
	const char *error = NULL;
	int r;

	r = cm_imap_connect(p, &imap, &error);
	if (r != 0)
		fail_msg("connect %s:%u: %d %s", p->host, p->port, r,
		    error != NULL ? error : "(no error text)");
	assert_non_null(imap);
	return imap;
}

/* read_env - take NAME=VALUE lines printed by dovecot-ctl.sh start */
static void
read_env(char *out)
{
	char *line;
	char *save = NULL;
	char *v;
	long n;

	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		v = strchr(line, '=');
		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "DV_PORT") == 0 &&
		    cm_parse_long(v, 1, 65535, &n) == 0)
			rig.port = (unsigned int)n;
		else if (strcmp(line, "DV_PLAIN_PORT") == 0 &&
		    cm_parse_long(v, 1, 65535, &n) == 0)
			rig.plain_port = (unsigned int)n;
		else if (strcmp(line, "DV_CA") == 0)
			cm_strlcpy(rig.ca, v, sizeof(rig.ca));
		else if (strcmp(line, "DV_USER") == 0)
			cm_strlcpy(rig.user, v, sizeof(rig.user));
		else if (strcmp(line, "DV_PASS") == 0)
			cm_strlcpy(rig.pass, v, sizeof(rig.pass));
	}
}

/* group_setup - start Dovecot; on failure note why (tests then fail) */
static int
group_setup(void **state)
{
	char out[4096];
	char *build;
	char *slash;
	char *cmd;
	const char *top = getenv("TOP");
	int r;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	cm_strlcpy(rig.top, top != NULL && top[0] != '\0' ? top : ".",
	    sizeof(rig.top));
	/* build/tests/test_imap -> build/test-work/test_imap */
	build = cm_xstrdup(argv0);
	slash = strrchr(build, '/');
	if (slash != NULL)
		*slash = '\0';
	slash = strrchr(build, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		cm_strlcpy(build, ".", strlen(build) + 1);
	/* one directory per run, so that runs at the same time do not
	 * stop each other's Dovecot; those of runs that are gone (and
	 * their Dovecot, if a crash left it) are cleared away */
	rig.dir = cm_xasprintf("%s/test-work/test_imap-%ld", build,
	    (long)getpid());
	cmd = cm_xasprintf("for d in '%s'/test-work/test_imap*; do "
	    "[ -d \"$d\" ] || continue; kill -0 \"${d##*-}\" 2>/dev/null "
	    "&& continue; sh '%s/tests/e2e/dovecot-ctl.sh' stop \"$d\" "
	    ">/dev/null 2>&1; rm -rf \"$d\"; done", build, rig.top);
	r = system(cmd);
	free(cmd);
	free(build);
	cmd = cm_xasprintf("rm -rf '%s' && mkdir -p '%s'", rig.dir, rig.dir);
	r = system(cmd);
	free(cmd);
	if (r != 0) {
		snprintf(rig.why, sizeof(rig.why), "cannot make %s", rig.dir);
		return 0;
	}
	cmd = cm_xasprintf("start '%s'", rig.dir);
	r = ctl(out, sizeof(out), cmd);
	free(cmd);
	if (r == 0)
		read_env(out);
	if (r != 0 || rig.port == 0 || rig.plain_port == 0 ||
	    rig.ca[0] == '\0' || rig.user[0] == '\0') {
		snprintf(rig.why, sizeof(rig.why), "tests/e2e/dovecot-ctl.sh "
		    "start exited %d; see %s/rig.log (root, dovecot, doveadm, "
		    "openssl and curl are needed)", r, rig.dir);
		fprintf(stderr, "# %s\n", rig.why);
		return 0;
	}
	rig.ok = true;
	return 0;
}

/* group_teardown - stop Dovecot */
static int
group_teardown(void **state)
{
	char *cmd;

	(void)state;
	if (rig.dir == NULL)
		return 0;
	cmd = cm_xasprintf("stop '%s'", rig.dir);
	ctl(NULL, 0, cmd);
	free(cmd);
	free(rig.dir);
	rig.dir = NULL;
	return 0;
}

/* test_connect_tls - implicit TLS with the CA: selected, capabilities */
static void
test_connect_tls(void **state)
{
	struct cm_imap_params p;
	struct cm_imap *imap;

	(void)state;
	need_rig();
	p = base_params(NULL);
	imap = connect_ok(&p);
	assert_string_equal(cm_imap_mailbox(imap), "INBOX");
	assert_true(cm_imap_uidvalidity(imap) != 0);
	assert_true(cm_imap_uidnext(imap) >= 1);
	assert_true(cm_imap_has_idle(imap));
	assert_true(cm_imap_has_move(imap));
	assert_true(cm_imap_has_uidplus(imap));
	cm_imap_close(&imap);
	assert_null(imap);
	cm_imap_close(&imap);
	cm_imap_close(NULL);
}

/* one row of the connection policy table */
struct conn_row {
	const char *name;
	const char *host;
	int port; /* 0 imaps, 1 plain/STARTTLS port, else literal */
	enum cm_imap_tls tls;
	bool allow_plain;
	bool ca;
	int want;
	const char *want_text; /* substring of the error, NULL for success */
};

/* test_connect_table - certificates, names, plain-text policy */
static void
test_connect_table(void **state)
{
	static const struct conn_row rows[] = {
		{ "untrusted CA", "127.0.0.1", 0, CM_IMAP_TLS, false, false,
		    CM_ERR, "certificate for 127.0.0.1 not trusted" },
		{ "name not in cert", "127.0.0.2", 0, CM_IMAP_TLS, false,
		    true, CM_ERR, "certificate for 127.0.0.2 not trusted" },
		{ "DNS name in cert", "localhost", 0, CM_IMAP_TLS, false,
		    true, 0, NULL },
		{ "STARTTLS", "127.0.0.1", 1, CM_IMAP_STARTTLS, false, true,
		    0, NULL },
		{ "STARTTLS untrusted", "127.0.0.1", 1, CM_IMAP_STARTTLS,
		    false, false, CM_ERR,
		    "certificate for 127.0.0.1 not trusted" },
		{ "plain allowed", "127.0.0.1", 1, CM_IMAP_PLAIN, true, false,
		    0, NULL },
		{ "plain localhost", "localhost", 1, CM_IMAP_PLAIN, true,
		    false, 0, NULL },
		{ "plain not allowed", "127.0.0.1", 1, CM_IMAP_PLAIN, false,
		    false, CM_ERR, "plain text" },
		{ "plain off loopback", "192.0.2.1", 1, CM_IMAP_PLAIN, true,
		    false, CM_ERR, "plain text" },
		{ "plain to a name", "example.org", 1, CM_IMAP_PLAIN, true,
		    false, CM_ERR, "plain text" },
		{ "TLS on the plain port", "127.0.0.1", 1, CM_IMAP_TLS,
		    false, true, CM_ETEMP, "127.0.0.1" },
		{ "connection refused", "127.0.0.1", 9, CM_IMAP_TLS, false,
		    true, CM_ETEMP, "connect to 127.0.0.1" },
		{ "no host", "", 0, CM_IMAP_TLS, false, true, CM_ERR,
		    "host" },
	};
	struct cm_imap_params p;
	struct cm_imap *imap;
	const char *error;
	size_t i;
	int r;

	(void)state;
	need_rig();
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		p = base_params(NULL);
		p.host = rows[i].host;
		p.port = rows[i].port == 0 ? rig.port : rows[i].port == 1 ?
		    rig.plain_port : (unsigned int)rows[i].port;
		p.tls = rows[i].tls;
		p.allow_plain = rows[i].allow_plain;
		p.ca_file = rows[i].ca ? rig.ca : NULL;
		p.timeout = 10;
		imap = NULL;
		error = NULL;
		r = cm_imap_connect(&p, &imap, &error);
		if (r != rows[i].want)
			fail_msg("row %zu (%s): got %d want %d: %s", i,
			    rows[i].name, r, rows[i].want,
			    error != NULL ? error : "-");
		if (rows[i].want == 0) {
			assert_non_null(imap);
			assert_true(cm_imap_uidvalidity(imap) != 0);
		} else {
			assert_null(imap);
			assert_non_null(error);
			if (strstr(error, rows[i].want_text) == NULL)
				fail_msg("row %zu (%s): error \"%s\" lacks "
				    "\"%s\"", i, rows[i].name, error,
				    rows[i].want_text);
			if (strstr(error, rig.pass) != NULL)
				fail_msg("row %zu: password in error", i);
		}
		cm_imap_close(&imap);
	}
}

/* test_login_refused - a wrong password is permanent, clearly said */
static void
test_login_refused(void **state)
{
	struct cm_imap_params p;
	struct cm_imap *imap = NULL;
	const char *error = NULL;

	(void)state;
	need_rig();
	p = base_params(NULL);
	p.password = "not-the-password";
	assert_int_equal(cm_imap_connect(&p, &imap, &error), CM_ERR);
	assert_null(imap);
	assert_non_null(strstr(error, "login as"));
	assert_non_null(strstr(error, "refused"));
	assert_null(strstr(error, "not-the-password"));
	p.user = "nobody-here";
	p.password = rig.pass;
	assert_int_equal(cm_imap_connect(&p, &imap, &error), CM_ERR);
}

/* test_missing_mailbox - SELECT of a mailbox that does not exist */
static void
test_missing_mailbox(void **state)
{
	struct cm_imap_params p;
	struct cm_imap *imap = NULL;
	const char *error = NULL;

	(void)state;
	need_rig();
	p = base_params("No-Such-Box");
	assert_int_equal(cm_imap_connect(&p, &imap, &error), CM_ERR);
	assert_null(imap);
	assert_non_null(strstr(error, "No-Such-Box"));
	p = base_params("bad\"name");
	assert_int_equal(cm_imap_connect(&p, &imap, &error), CM_ERR);
}

/* test_ingest - APPEND 5, find, fetch exact bytes unseen, move out */
static void
test_ingest(void **state)
{
	enum { N = 5 };
	char *paths[N];
	char *want[N];
	size_t want_len[N];
	struct cm_imap_params p;
	struct cm_imap *imap;
	const char *error = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;
	char *data;
	size_t len;
	int i;

	(void)state;
	need_rig();
	assert_true(server_create("Ingest"));
	for (i = 0; i < N; i++) {
		paths[i] = make_message(i, (size_t)i * 3000, &want[i],
		    &want_len[i]);
		if (!server_append("Ingest", paths[i]))
			fail_msg("APPEND of message %d failed (rig.log)", i);
	}
	assert_int_equal(server_count("Ingest"), N);
	p = base_params("Ingest");
	imap = connect_ok(&p);

	assert_int_equal(cm_imap_uids_since(imap, 0, &uids, &n, &error), 0);
	assert_int_equal(n, N);
	for (i = 1; i < N; i++)
		assert_true(uids[i - 1] < uids[i]);
	/* "last+1:*" matches the highest UID too: must not come back */
	{
		uint32_t *u2 = NULL;
		size_t n2 = 7;

		assert_int_equal(cm_imap_uids_since(imap, uids[N - 1], &u2,
		    &n2, &error), 0);
		assert_int_equal(n2, 0);
		assert_null(u2);
		assert_int_equal(cm_imap_uids_since(imap, uids[1], &u2, &n2,
		    &error), 0);
		assert_int_equal(n2, N - 2);
		assert_int_equal(u2[0], uids[2]);
		free(u2);
		assert_int_equal(cm_imap_uids_since(imap, UINT32_MAX, &u2,
		    &n2, &error), 0);
		assert_int_equal(n2, 0);
	}

	for (i = 0; i < N; i++) {
		data = NULL;
		if (cm_imap_fetch(imap, uids[i], &data, &len, &error) != 0)
			fail_msg("fetch %d: %s", i, error);
		assert_int_equal(len, want_len[i]);
		assert_memory_equal(data, want[i], len);
		assert_int_equal(data[len], '\0');
		free(data);
	}
	/* BODY.PEEK: nothing became \Seen, as the server sees it */
	assert_int_equal(server_seen("Ingest"), 0);
	assert_int_equal(cm_imap_fetch(imap, uids[N - 1] + 100, &data, &len,
	    &error), CM_ENOENT);
	assert_null(data);

	assert_int_equal(cm_imap_done(imap, uids[0], "../etc", &error),
	    CM_ERR);
	assert_int_equal(cm_imap_done(imap, uids[0], "Ingest", &error),
	    CM_ERR);
	for (i = 0; i < N; i++)
		if (cm_imap_done(imap, uids[i], "Processed", &error) != 0)
			fail_msg("done %d: %s", i, error);
	assert_int_equal(server_count("Ingest"), 0);
	assert_int_equal(server_count("Processed"), N);
	assert_int_equal(server_seen("Processed"), N);
	/* gone from the source */
	assert_int_equal(cm_imap_fetch(imap, uids[0], &data, &len, &error),
	    CM_ENOENT);
	free(uids);
	assert_int_equal(cm_imap_uids_since(imap, 0, &uids, &n, &error), 0);
	assert_int_equal(n, 0);
	assert_null(uids);
	cm_imap_close(&imap);
	for (i = 0; i < N; i++) {
		free(paths[i]);
		free(want[i]);
	}
}

/* test_fetch_limit - a message over max_message_size is CM_ERR */
static void
test_fetch_limit(void **state)
{
	struct cm_imap_params p;
	struct cm_imap *imap;
	const char *error = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;
	char *path;
	char *want;
	size_t want_len;
	char *data = NULL;
	size_t len;

	(void)state;
	need_rig();
	assert_true(server_create("Limit"));
	path = make_message(77, 5000, &want, &want_len);
	assert_true(server_append("Limit", path));
	p = base_params("Limit");
	p.max_message_size = want_len - 1;
	imap = connect_ok(&p);
	assert_int_equal(cm_imap_uids_since(imap, 0, &uids, &n, &error), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cm_imap_fetch(imap, uids[0], &data, &len, &error),
	    CM_ERR);
	assert_null(data);
	assert_non_null(strstr(error, "larger than"));
	cm_imap_close(&imap);
	/* exactly the maximum is fine */
	p.max_message_size = want_len;
	imap = connect_ok(&p);
	assert_int_equal(cm_imap_fetch(imap, uids[0], &data, &len, &error),
	    0);
	assert_int_equal(len, want_len);
	assert_memory_equal(data, want, len);
	free(data);
	/* done without a folder only flags \Seen */
	assert_int_equal(cm_imap_done(imap, uids[0], NULL, &error), 0);
	assert_int_equal(server_seen("Limit"), 1);
	assert_int_equal(server_count("Limit"), 1);
	cm_imap_close(&imap);
	free(uids);
	free(path);
	free(want);
}

/* append_later - a child process that APPENDs path after delay_ms */
static pid_t
append_later(const char *mailbox, const char *path, int delay_ms)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		poll(NULL, 0, delay_ms);
		_exit(server_append(mailbox, path) ? 0 : 1);
	}
	return pid;
}

/* wait_child - reap pid; true if it exited 0 */
static bool
wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* idle_case - wait for an APPEND from another process, with IDLE or
 * with NOOP polling */
static void
idle_case(const char *mailbox, bool no_idle)
{
	struct cm_imap_params p;
	struct cm_imap *imap;
	const char *error = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;
	bool changed = true;
	char *path;
	char *want;
	size_t want_len;
	double t0;
	double dt;
	pid_t pid;
	int rounds;

	assert_true(server_create(mailbox));
	p = base_params(mailbox);
	p.no_idle = no_idle;
	p.poll_interval = 1;
	imap = connect_ok(&p);
	assert_int_equal(cm_imap_uids_since(imap, 0, &uids, &n, &error), 0);
	assert_int_equal(n, 0);

	/* nothing arrives: the timeout ends the wait */
	t0 = now_s();
	assert_int_equal(cm_imap_idle(imap, 2, &changed, &error), 0);
	dt = now_s() - t0;
	assert_false(changed);
	if (dt < 1.5 || dt > 6)
		fail_msg("idle(2) took %.1f s", dt);

	/* a message from another process ends it early */
	path = make_message(no_idle ? 91 : 90, 10, &want, &want_len);
	pid = append_later(mailbox, path, 1000);
	t0 = now_s();
	assert_int_equal(cm_imap_idle(imap, 30, &changed, &error), 0);
	dt = now_s() - t0;
	assert_true(wait_child(pid));
	assert_true(changed);
	if (dt > 15)
		fail_msg("idle noticed the new mail only after %.1f s", dt);
	assert_int_equal(cm_imap_uids_since(imap, 0, &uids, &n, &error), 0);
	assert_int_equal(n, 1);
	free(uids);
	uids = NULL;

	/* mail that came between the search and the wait is not missed:
	 * the server may report it only after the next search, so the
	 * wait says "changed" again until the search has seen it */
	assert_true(server_append(mailbox, path));
	assert_int_equal(cm_imap_uids_since(imap, 0, &uids, &n, &error), 0);
	free(uids);
	uids = NULL;
	assert_true(server_append(mailbox, path));
	t0 = now_s();
	for (rounds = 0; rounds < 4; rounds++) {
		assert_int_equal(cm_imap_idle(imap, 20, &changed, &error), 0);
		assert_true(changed);
		assert_int_equal(cm_imap_uids_since(imap, 0, &uids, &n,
		    &error), 0);
		free(uids);
		uids = NULL;
		if (n == 3)
			break;
	}
	assert_int_equal(n, 3);
	assert_true(now_s() - t0 < 15);
	/* and once seen, the wait is quiet again (after at most one
	 * spurious "changed" left by the search that saw it) */
	for (rounds = 0; rounds < 3; rounds++) {
		assert_int_equal(cm_imap_idle(imap, 1, &changed, &error), 0);
		if (!changed)
			break;
		assert_int_equal(cm_imap_uids_since(imap, 0, &uids, &n,
		    &error), 0);
		assert_int_equal(n, 3);
		free(uids);
		uids = NULL;
	}
	assert_false(changed);
	assert_true(rounds <= 1);
	cm_imap_close(&imap);
	free(path);
	free(want);
}

/* test_idle - IDLE returns "changed" on an APPEND from elsewhere */
static void
test_idle(void **state)
{
	(void)state;
	need_rig();
	idle_case("Idle", false);
}

/* test_idle_noop - the same with NOOP polling (no IDLE) */
static void
test_idle_noop(void **state)
{
	(void)state;
	need_rig();
	idle_case("Poll", true);
}

/* test_dropped - the server drops the session: CM_ETEMP, then fast
 * CM_ETEMP on every call, and close neither hangs nor crashes */
static void
test_dropped(void **state)
{
	struct cm_imap_params p;
	struct cm_imap *imap;
	const char *error = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;
	char *data = NULL;
	size_t len;
	bool changed = true;
	char *args;
	double t0;

	(void)state;
	need_rig();
	p = base_params(NULL);
	imap = connect_ok(&p);
	args = cm_xasprintf("kick '%s'", rig.dir);
	assert_int_equal(ctl(NULL, 0, args), 0);
	free(args);
	poll(NULL, 0, 300);
	t0 = now_s();
	assert_int_equal(cm_imap_uids_since(imap, 0, &uids, &n, &error),
	    CM_ETEMP);
	assert_null(uids);
	assert_non_null(strstr(error, "127.0.0.1"));
	assert_int_equal(cm_imap_fetch(imap, 1, &data, &len, &error),
	    CM_ETEMP);
	assert_non_null(strstr(error, "reconnect"));
	assert_int_equal(cm_imap_done(imap, 1, "Processed", &error),
	    CM_ETEMP);
	assert_int_equal(cm_imap_idle(imap, 5, &changed, &error), CM_ETEMP);
	assert_false(changed);
	cm_imap_close(&imap);
	if (now_s() - t0 > 10)
		fail_msg("a dropped connection took %.1f s", now_s() - t0);
}

/* fake_server - listen on 127.0.0.1:0; a child accepts one connection,
 * sends greeting, then one reply per line received; *port_r */
static pid_t
fake_server(const char *greeting, const char *const *replies,
	    unsigned int *port_r)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int ls;
	int c;
	pid_t pid;
	char ch;
	size_t i;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &len), 0);
	*port_r = ntohs(sa.sin_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		close(ls);
		return pid;
	}
	c = accept(ls, NULL, NULL);
	if (c < 0)
		_exit(1);
	if (greeting != NULL && write(c, greeting, strlen(greeting)) < 0)
		_exit(1);
	for (i = 0; replies != NULL && replies[i] != NULL; i++) {
		/* one command line in, one scripted reply out */
		while (read(c, &ch, 1) == 1 && ch != '\n')
			;
		if (replies[i][0] != '\0' &&
		    write(c, replies[i], strlen(replies[i])) < 0)
			_exit(1);
	}
	if (greeting == NULL)
		poll(NULL, 0, 5000); /* say nothing: the client times out */
	_exit(0);
}

/* one hostile-server script */
struct fake_row {
	const char *name;
	const char *greeting;
	const char *replies[6];
	int want;
};

/* test_malformed - hostile or broken servers give CM_ETEMP, no crash */
static void
test_malformed(void **state)
{
	static const struct fake_row rows[] = {
		{ "garbage greeting", "HELLO THERE\r\n", { NULL }, CM_ETEMP },
		{ "BYE greeting", "* BYE go away\r\n", { NULL }, CM_ETEMP },
		{ "closed after greeting", "* OK hi\r\n", { NULL }, CM_ETEMP },
		{ "garbage tagged", "* OK hi\r\n", { "1 XYZZY\r\n", NULL },
		    CM_ETEMP },
		{ "wrong tag", "* OK hi\r\n", { "* CAPABILITY IMAP4rev1\r\n"
		    "77 OK done\r\n", NULL }, CM_ETEMP },
		{ "binary junk", "* OK hi\r\n", { "\x01\x02\xff\xfe\r\n",
		    NULL }, CM_ETEMP },
		{ "literal cut short", "* OK hi\r\n",
		    { "* CAPABILITY {4000}\r\nIMAP", NULL }, CM_ETEMP },
		{ "no UIDVALIDITY", "* OK hi\r\n", { "* CAPABILITY "
		    "IMAP4rev1\r\n1 OK\r\n", "2 OK logged in\r\n",
		    "* CAPABILITY IMAP4rev1\r\n3 OK\r\n",
		    "* 0 EXISTS\r\n4 OK [READ-WRITE] selected\r\n", NULL },
		    CM_ETEMP },
		{ "BYE during LOGIN", "* OK hi\r\n", { "* CAPABILITY "
		    "IMAP4rev1\r\n1 OK\r\n", "* BYE shutting down\r\n",
		    NULL }, CM_ETEMP },
		{ "silent server", NULL, { NULL }, CM_ETEMP },
	};
	struct cm_imap_params p;
	struct cm_imap *imap;
	const char *error;
	unsigned int port;
	pid_t pid;
	size_t i;
	double t0;
	int r;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		pid = fake_server(rows[i].greeting, rows[i].replies, &port);
		memset(&p, 0, sizeof(p));
		p.host = "127.0.0.1";
		p.port = port;
		p.user = "u";
		p.password = "p";
		p.tls = CM_IMAP_PLAIN;
		p.allow_plain = true;
		p.timeout = 2;
		imap = NULL;
		error = NULL;
		t0 = now_s();
		r = cm_imap_connect(&p, &imap, &error);
		if (r != rows[i].want)
			fail_msg("row %zu (%s): got %d want %d: %s", i,
			    rows[i].name, r, rows[i].want,
			    error != NULL ? error : "-");
		assert_null(imap);
		assert_non_null(error);
		if (now_s() - t0 > 8)
			fail_msg("row %zu (%s): took %.1f s", i, rows[i].name,
			    now_s() - t0);
		kill(pid, SIGTERM);
		wait_child(pid);
	}
}

/* test_names - loopback hosts and folder names (no server needed) */
static void
test_names(void **state)
{
	static const struct {
		const char *s;
		bool loopback;
	} hosts[] = {
		{ "127.0.0.1", true }, { "127.255.0.9", true },
		{ "localhost", true }, { "LOCALHOST", true }, { "::1", true },
		{ "128.0.0.1", false }, { "10.0.0.1", false },
		{ "localhost.example.org", false }, { "::2", false },
		{ "", false }, { "127.0.0.1.nip.io", false },
	};
	static const struct {
		const char *s;
		bool valid;
	} folders[] = {
		{ "Processed", true }, { "Archive/casemail", true },
		{ "INBOX.done", true }, { "Done 2026", true },
		{ "", false }, { "..", false }, { "a/../b", false },
		{ "/abs", false }, { "trail/", false }, { "a//b", false },
		{ "tab\there", false }, { "new\r\nline", false },
		{ "star*", false }, { "pct%", false }, { "amp&", false },
		{ "quote\"", false }, { "back\\slash", false },
		{ "caf\xc3\xa9", false }, { " lead", false },
	};
	char longname[CM_IMAP_MAX_FOLDER + 2];
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(hosts); i++)
		if (cm_imap_host_is_loopback(hosts[i].s) != hosts[i].loopback)
			fail_msg("host row %zu (%s)", i, hosts[i].s);
	assert_false(cm_imap_host_is_loopback(NULL));
	for (i = 0; i < CM_ARRAY_SIZE(folders); i++)
		if (cm_imap_folder_valid(folders[i].s) != folders[i].valid)
			fail_msg("folder row %zu (%s)", i, folders[i].s);
	assert_false(cm_imap_folder_valid(NULL));
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(cm_imap_folder_valid(longname));
	longname[CM_IMAP_MAX_FOLDER] = '\0';
	assert_true(cm_imap_folder_valid(longname));
}

/* main - run the tests */
int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_connect_tls),
		cmocka_unit_test(test_connect_table),
		cmocka_unit_test(test_login_refused),
		cmocka_unit_test(test_missing_mailbox),
		cmocka_unit_test(test_ingest),
		cmocka_unit_test(test_fetch_limit),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_idle_noop),
		cmocka_unit_test(test_dropped),
	};

	if (argc > 0 && argv[0] != NULL)
		argv0 = argv[0];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
