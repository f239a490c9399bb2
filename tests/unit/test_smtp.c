/*
 * test_smtp.c - unit tests of the SMTP client against Postfix smtp-sink
 *
 * DESCRIPTION
 *	Each test starts a real smtp-sink(1) on 127.0.0.1 and a free port
 *	(missing smtp-sink is a failure, not a skip) with chosen answers:
 *	plain acceptance (the message is dumped and checked), one session
 *	for many messages (-n 1: a second connection would be refused),
 *	4xx on RCPT (-r), 5xx on "." (-f), 4xx on MAIL, a dropped connection
 *	after "." (-q), a 421 (-Q), and nobody listening. Also: CR/LF in an
 *	envelope address is refused before anything is sent. Several
 *	connections (cm_smtp_send_many): many messages over at most that
 *	many sessions, every one arriving once; each message gets the
 *	4xx/5xx/drop outcome of its own transaction; a bad address fails
 *	alone; a stop request starts nothing. cm_smtp_send_stream with a
 *	producer thread that fills the messages in slowly: every one is
 *	sent once, none before it is ready.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_smtp.h"
#include "cm_token.h"
#include "cm_util.h"

#define SINK "/usr/sbin/smtp-sink"

static const char msg[] =
	"From: casemail@cases.example.org\r\n"
	"To: jane@example.net\r\n"
	"Subject: test_smtp probe\r\n"
	"Message-Id: <probe@cases.example.org>\r\n"
	"\r\n"
	"hello\r\n"
	".\r\n"
	"a dot line above\r\n";

/* struct sink - a running smtp-sink */
struct sink {
	pid_t pid;
	int port;
	char url[64];
};

/* port_free - nothing listens on 127.0.0.1:port (bind works) */
static bool
port_free(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	bool ok;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* listening - something accepts on 127.0.0.1:port */
static bool
listening(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/*
 * sink_start - smtp-sink with the extra options (NULL-terminated) on a
 * free port; fails the test when it cannot run
 */
static void
sink_start(struct sink *k, const char *const *extra)
{
	const char *argv[24];
	char addr[32];
	int n = 0;

	if (access(SINK, X_OK) != 0)
		fail_msg("%s is missing: install postfix", SINK);
	do {
		k->port = 20000 + (int)cm_token_uniform(40000);
	} while (!port_free(k->port));
	(void)snprintf(addr, sizeof(addr), "127.0.0.1:%d", k->port);
	(void)snprintf(k->url, sizeof(k->url), "smtp://127.0.0.1:%d/test",
		       k->port);
	argv[n++] = SINK;
	if (getuid() == 0) {
		argv[n++] = "-u";
		argv[n++] = "nobody";
	}
	for (; extra != NULL && *extra != NULL && n < 20; extra++)
		argv[n++] = *extra;
	argv[n++] = addr;
	argv[n++] = "100";
	argv[n] = NULL;
	k->pid = fork();
	assert_true(k->pid >= 0);
	if (k->pid == 0) {
		execv(SINK, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 100 && !listening(k->port); i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (waitpid(k->pid, NULL, WNOHANG) == k->pid)
			fail_msg("smtp-sink exited at start");
		nanosleep(&ts, NULL);
	}
	if (!listening(k->port))
		fail_msg("smtp-sink does not listen on %d", k->port);
}

/* sink_stop - end it */
static void
sink_stop(struct sink *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGTERM);
		(void)waitpid(k->pid, NULL, 0);
	}
	k->pid = 0;
}

/* client_n - a cm_smtp for url with n connections */
static struct cm_smtp *
client_n(const char *url, long n)
{
	struct cm_smtp_opts o;
	const char *err = NULL;
	struct cm_smtp *s;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.timeout = 10;
	o.connections = n;
	s = cm_smtp_new(&o, &err);
	if (s == NULL)
		fail_msg("cm_smtp_new: %s", err);
	return s;
}

/* client - a cm_smtp for url, one connection */
static struct cm_smtp *
client(const char *url)
{
	return client_n(url, 1);
}

/* send1 - one message; returns the rc, reply into *reply_r */
static int
send1(struct cm_smtp *s, const char *to, const char **reply_r)
{
	const char *err = NULL;

	return cm_smtp_send(s, "bounce+k@cases.example.org", to, msg,
			    strlen(msg), reply_r, &err);
}

/* rm_one - nftw callback removing one entry */
static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* dump_has - some file under dir contains needle */
static bool
dump_has(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (d != NULL && !found && (e = readdir(d)) != NULL) {
		char *p, *data = NULL;
		size_t len = 0;

		if (e->d_name[0] == '.')
			continue;
		p = cm_xasprintf("%s/%s", dir, e->d_name);
		if (cm_read_file(p, 1 << 20, &data, &len) == 0 &&
		    strstr(data, needle) != NULL)
			found = true;
		free(data);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

/* test_accept - 250: sent, the reply kept, the bytes arrive */
static void
test_accept(void **state)
{
	char dir[] = "/tmp/cm-test-smtp-XXXXXX", *tmpl;
	struct sink k;
	struct cm_smtp *s;
	const char *reply = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	tmpl = cm_xasprintf("%s/m.", dir);
	sink_start(&k, (const char *const[]){ "-d", tmpl, NULL });
	s = client(k.url);
	assert_int_equal(send1(s, "jane@example.net", &reply), 0);
	assert_true(strncmp(reply, "250", 3) == 0);
	assert_int_equal(cm_smtp_code(s), 250);
	cm_smtp_free(&s);
	assert_null(s);
	sink_stop(&k);
	assert_true(dump_has(dir, "Subject: test_smtp probe"));
	/* dot-stuffed on the wire, so the lone "." did not end it */
	assert_true(dump_has(dir, "hello\n.\na dot line above"));
	free(tmpl);
	assert_int_equal(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* test_one_connection - many messages over one session */
static void
test_one_connection(void **state)
{
	struct sink k;
	struct cm_smtp *s;
	const char *reply = NULL;

	(void)state;
	/* -n 1: the sink exits after one session, so a second connection
	 * would fail */
	sink_start(&k, (const char *const[]){ "-n", "1", NULL });
	s = client(k.url);
	for (int i = 0; i < 50; i++)
		if (send1(s, "jane@example.net", &reply) != 0)
			fail_msg("message %d: %s", i, reply);
	cm_smtp_free(&s);
	sink_stop(&k);
}

/* struct fcase - smtp-sink options and the result wanted */
struct fcase {
	const char *opt, *arg;
	int want;
	const char *code; /* prefix of the reply recorded; NULL: any */
};

static const struct fcase fcases[] = {
	{ "-r", "RCPT", CM_ETEMP, "450" },
	{ "-r", "MAIL", CM_ETEMP, "450" },
	{ "-r", ".", CM_ETEMP, "450" },
	{ "-f", "RCPT", CM_ERR, "500" },
	{ "-f", ".", CM_ERR, "500" },
	{ "-f", "DATA", CM_ERR, "500" },
	{ "-q", ".", CM_ETEMP, NULL },
	{ "-q", "RCPT", CM_ETEMP, NULL },
	{ "-Q", "MAIL", CM_ETEMP, "421" },
};

/* test_failures - 4xx, 5xx and dropped connections */
static void
test_failures(void **state)
{
	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(fcases); i++) {
		struct sink k;
		struct cm_smtp *s;
		const char *reply = NULL;
		int rc;

		sink_start(&k, (const char *const[]){ fcases[i].opt,
						      fcases[i].arg, NULL });
		s = client(k.url);
		for (int round = 0; round < 2; round++) {
			rc = send1(s, "jane@example.net", &reply);
			if (rc != fcases[i].want)
				fail_msg("row %zu round %d: rc %d, want %d "
					 "(reply '%s')",
					 i, round, rc, fcases[i].want, reply);
			if (fcases[i].code != NULL &&
			    strncmp(reply, fcases[i].code, 3) != 0)
				fail_msg("row %zu: reply '%s', want %s", i,
					 reply, fcases[i].code);
		}
		cm_smtp_free(&s);
		sink_stop(&k);
	}
}

/* count_files - entries of dir not starting with a dot */
static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	if (d != NULL)
		closedir(d);
	return n;
}

/* fill - n messages to jane, each with its own Subject line */
static struct cm_smtp_msg *
fill(size_t n, char ***bodies_r)
{
	struct cm_smtp_msg *v = cm_xcalloc(n, sizeof(*v));
	char **b = cm_xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < n; i++) {
		b[i] = cm_xasprintf("Subject: many %zu\r\n\r\nbody %zu\r\n",
				    i, i);
		v[i].from = "bounce+k@cases.example.org";
		v[i].to = "jane@example.net";
		v[i].data = b[i];
		v[i].len = strlen(b[i]);
	}
	*bodies_r = b;
	return v;
}

/* unfill - free what fill made */
static void
unfill(struct cm_smtp_msg *v, char **b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i]);
	free(b);
	free(v);
}

/* test_many_accept - 40 messages over 4 sessions, each arrives once */
static void
test_many_accept(void **state)
{
	char dir[] = "/tmp/cm-test-smtp-XXXXXX", *tmpl, **b = NULL;
	struct cm_smtp_msg *v;
	struct sink k;
	struct cm_smtp *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	tmpl = cm_xasprintf("%s/m.", dir);
	/* -n 4: the sink exits after four sessions, so a fifth connection
	 * would fail */
	sink_start(&k, (const char *const[]){ "-n", "4", "-d", tmpl, NULL });
	s = client_n(k.url, 4);
	v = fill(40, &b);
	assert_int_equal(cm_smtp_send_many(s, v, 40, NULL), 40);
	for (size_t i = 0; i < 40; i++) {
		if (!v[i].tried || v[i].rc != 0 ||
		    strncmp(v[i].reply, "250", 3) != 0 || v[i].code != 250)
			fail_msg("message %zu: rc %d reply '%s' error '%s'", i,
				 v[i].rc, v[i].reply, v[i].error);
	}
	/* and again over the same sessions */
	assert_int_equal(cm_smtp_send_many(s, v, 40, NULL), 40);
	for (size_t i = 0; i < 40; i++)
		if (v[i].rc != 0)
			fail_msg("second round, message %zu: rc %d '%s'", i,
				 v[i].rc, v[i].error);
	cm_smtp_free(&s);
	sink_stop(&k);
	assert_int_equal(count_files(dir), 80);
	for (size_t i = 0; i < 40; i++) {
		char needle[40];

		(void)snprintf(needle, sizeof(needle), "Subject: many %zu\n",
			       i);
		if (!dump_has(dir, needle))
			fail_msg("message %zu did not arrive", i);
	}
	unfill(v, b, 40);
	free(tmpl);
	assert_int_equal(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* test_many_failures - every message gets its own 4xx/5xx/drop */
static void
test_many_failures(void **state)
{
	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(fcases); i++) {
		struct cm_smtp_msg *v;
		struct sink k;
		struct cm_smtp *s;
		char **b = NULL;

		sink_start(&k, (const char *const[]){ fcases[i].opt,
						      fcases[i].arg, NULL });
		s = client_n(k.url, 3);
		v = fill(7, &b);
		assert_int_equal(cm_smtp_send_many(s, v, 7, NULL), 7);
		for (size_t m = 0; m < 7; m++) {
			if (v[m].rc != fcases[i].want)
				fail_msg("row %zu message %zu: rc %d, want %d "
					 "(reply '%s')",
					 i, m, v[m].rc, fcases[i].want,
					 v[m].reply);
			if (fcases[i].code != NULL &&
			    strncmp(v[m].reply, fcases[i].code, 3) != 0)
				fail_msg("row %zu message %zu: reply '%s', "
					 "want %s",
					 i, m, v[m].reply, fcases[i].code);
			if (v[m].error[0] == '\0')
				fail_msg("row %zu message %zu: no error", i,
					 m);
		}
		unfill(v, b, 7);
		cm_smtp_free(&s);
		sink_stop(&k);
	}
}

/* test_many_mixed - a bad address fails alone; stop starts nothing */
static void
test_many_mixed(void **state)
{
	volatile sig_atomic_t stop = 0;
	struct cm_smtp_msg *v;
	struct sink k;
	struct cm_smtp *s;
	char **b = NULL;

	(void)state;
	sink_start(&k, NULL);
	s = client_n(k.url, 2);
	v = fill(5, &b);
	v[2].to = "jane@example.net\r\nRCPT TO:<x@evil.example>";
	assert_int_equal(cm_smtp_send_many(s, v, 5, &stop), 5);
	for (size_t i = 0; i < 5; i++) {
		int want = i == 2 ? CM_ERR : 0;

		if (!v[i].tried || v[i].rc != want)
			fail_msg("message %zu: rc %d, want %d ('%s')", i,
				 v[i].rc, want, v[i].error);
	}
	assert_string_equal(v[2].reply, "");
	stop = 1;
	assert_int_equal(cm_smtp_send_many(s, v, 5, &stop), 0);
	for (size_t i = 0; i < 5; i++)
		assert_false(v[i].tried);
	unfill(v, b, 5);
	cm_smtp_free(&s);
	sink_stop(&k);
}

/* struct producer - fills v[] one at a time on its own thread */
struct producer {
	struct cm_smtp *s;
	struct cm_smtp_msg *v, *src;
	size_t n, k;
	bool done;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* produce - the producer thread: one message every 5 ms */
static void *
produce(void *arg)
{
	struct producer *p = arg;

	for (size_t i = 0; i < p->n; i++) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		p->v[i] = p->src[i];
		pthread_mutex_lock(&p->mu);
		p->k = i + 1;
		p->done = p->k == p->n;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		cm_smtp_wakeup(p->s);
	}
	return NULL;
}

/* produced - cm_smtp_ready_fn of the producer */
static size_t
produced(void *ctx, size_t have, bool block, bool *done_r)
{
	struct producer *p = ctx;
	size_t k;

	pthread_mutex_lock(&p->mu);
	while (block && p->k <= have && !p->done)
		pthread_cond_wait(&p->cv, &p->mu);
	k = p->k;
	*done_r = p->done;
	pthread_mutex_unlock(&p->mu);
	return k;
}

/* test_stream - messages sent as a producer thread makes them */
static void
test_stream(void **state)
{
	char dir[] = "/tmp/cm-test-smtp-XXXXXX", *tmpl, **b = NULL;
	struct producer p;
	struct sink k;
	pthread_t t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	tmpl = cm_xasprintf("%s/m.", dir);
	sink_start(&k, (const char *const[]){ "-n", "3", "-d", tmpl, NULL });
	memset(&p, 0, sizeof(p));
	p.s = client_n(k.url, 3);
	p.n = 30;
	p.src = fill(p.n, &b);
	p.v = cm_xcalloc(p.n, sizeof(*p.v));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
	assert_int_equal(cm_smtp_send_stream(p.s, p.v, produced, &p, NULL),
			 30);
	assert_int_equal(pthread_join(t, NULL), 0);
	for (size_t i = 0; i < p.n; i++)
		if (!p.v[i].tried || p.v[i].rc != 0)
			fail_msg("message %zu: rc %d '%s'", i, p.v[i].rc,
				 p.v[i].error);
	cm_smtp_free(&p.s);
	sink_stop(&k);
	assert_int_equal(count_files(dir), 30);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	free(p.v);
	unfill(p.src, b, p.n);
	free(tmpl);
	assert_int_equal(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* test_refused - nobody listening: temporary */
static void
test_refused(void **state)
{
	struct cm_smtp *s;
	const char *reply = NULL;
	char url[64];
	int port;

	(void)state;
	do {
		port = 20000 + (int)cm_token_uniform(40000);
	} while (!port_free(port));
	(void)snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	s = client(url);
	assert_int_equal(send1(s, "jane@example.net", &reply), CM_ETEMP);
	assert_string_equal(reply, "");
	cm_smtp_free(&s);
}

/* test_envelope - CR/LF and junk in envelope addresses never go out */
static void
test_envelope(void **state)
{
	static const char *const bad[] = {
		"jane@example.net\r\nRCPT TO:<x@evil.example>",
		"jane@example.net\n", "jane@exa mple.net", "<jane@example.net>",
		"", "jane", "a,b@example.net",
	};
	struct sink k;
	struct cm_smtp *s;
	const char *reply = NULL, *err = NULL;

	(void)state;
	sink_start(&k, (const char *const[]){ "-n", "1", NULL });
	s = client(k.url);
	for (size_t i = 0; i < CM_ARRAY_SIZE(bad); i++) {
		if (send1(s, bad[i], &reply) != CM_ERR)
			fail_msg("row %zu: sent", i);
		if (cm_smtp_send(s, bad[i], "jane@example.net", msg,
				 strlen(msg), &reply, &err) != CM_ERR)
			fail_msg("row %zu: sent as sender", i);
	}
	/* the session is still good: nothing reached the server */
	assert_int_equal(send1(s, "jane@example.net", &reply), 0);
	cm_smtp_free(&s);
	sink_stop(&k);
}

/* test_bad_url - only smtp:// and smtps:// */
static void
test_bad_url(void **state)
{
	struct cm_smtp_opts o;
	const char *err = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.url = "http://127.0.0.1:25";
	assert_null(cm_smtp_new(&o, &err));
	assert_non_null(err);
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_one_connection),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_many_accept),
		cmocka_unit_test(test_many_failures),
		cmocka_unit_test(test_many_mixed),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_bad_url),
	};

	if (cm_token_init() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
