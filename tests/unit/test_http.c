/*
 * test_http.c - unit tests of the SMS client against a fake Notify
 *
 * DESCRIPTION
 *	Starts tests/e2e/fake-notify.py (python3) on loopback, which checks
 *	the JWT (header, iss, iat, HS256 signature) and the JSON body the
 *	way GOV.UK Notify documents them, then answers by the phone
 *	number: 201 (sent, with the id), 400 and 403 (failed: a retry
 *	cannot help), 429 and 500 (retried), no answer (timeout: retried).
 *	A wrong key gets 403 from the checks themselves. Also the JWT
 *	itself against a known vector, and splitting a whole API key.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_http.h"
#include "cm_token.h"
#include "cm_util.h"

#define SERVICE "26785a09-ab16-4eb0-8407-a37497a57506"
#define SECRET "3d844edf-8d35-48ac-975b-e847b4f122b0"
#define TEMPLATE "f33517ff-2a88-4f6e-b855-c550268ce08a"

static char dir[] = "/tmp/cm-test-http-XXXXXX";
static pid_t fake_pid;
static char base_url[64];

/* write_text - text into dir/name */
static char *
write_text(const char *name, const char *text)
{
	char *path = cm_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		return NULL;
	return path;
}

/* group_setup - start the fake gateway, wait for its port */
static int
group_setup(void **state)
{
	char *key, *pf, *log, *data = NULL;
	size_t len = 0;
	long port = 0;

	(void)state;
	if (cm_token_init() < 0 || mkdtemp(dir) == NULL)
		return -1;
	key = write_text("key", "casemail-test-" SERVICE "-" SECRET "\n");
	pf = cm_xasprintf("%s/port", dir);
	log = cm_xasprintf("%s/log", dir);
	fake_pid = fork();
	if (fake_pid == 0) {
		execlp("python3", "python3", "tests/e2e/fake-notify.py",
		       "--port-file", pf, "--service-id", SERVICE,
		       "--key-file", key, "--template-id", TEMPLATE, "--log",
		       log, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && port == 0; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (cm_read_file(pf, 64, &data, &len) == 0) {
			data[strcspn(data, "\n")] = '\0';
			(void)cm_parse_long(data, 1, 65535, &port);
		}
		free(data);
		data = NULL;
		if (port == 0)
			nanosleep(&ts, NULL);
	}
	(void)snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%ld/",
		       port);
	free(key);
	free(pf);
	free(log);
	if (port == 0)
		fprintf(stderr, "fake-notify.py did not start\n");
	return port == 0 ? -1 : 0;
}

/* rm - remove dir/name */
static void
rm(const char *name)
{
	char *p = cm_xasprintf("%s/%s", dir, name);

	unlink(p);
	free(p);
}

/* group_teardown - stop the fake */
static int
group_teardown(void **state)
{
	(void)state;
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		(void)waitpid(fake_pid, NULL, 0);
	}
	rm("key");
	rm("port");
	rm("log");
	return rmdir(dir);
}

/* client - a client with key and timeout */
static struct cm_http *
client(const char *key, const char *template_id, long timeout)
{
	struct cm_http_opts o;
	const char *err = NULL;
	struct cm_http *h;

	memset(&o, 0, sizeof(o));
	o.base_url = base_url;
	o.service_id = SERVICE;
	o.key = (const unsigned char *)key;
	o.keylen = strlen(key);
	o.template_id = template_id;
	o.timeout = timeout;
	h = cm_http_new(&o, &err);
	if (h == NULL)
		fail_msg("cm_http_new: %s", err);
	return h;
}

/* struct scase - a phone number and the outcome wanted */
struct scase {
	const char *phone;
	int want;
	long status;
};

static const struct scase scases[] = {
	{ "+447700900123", 0, 201 },
	{ "+447700900400", CM_ERR, 400 },
	{ "+447700900429", CM_ETEMP, 429 },
	{ "+447700900500", CM_ETEMP, 500 },
	{ "+447700900999", CM_ETEMP, 0 }, /* timeout */
	{ "07700 900 123 \xc3\xa9 \"quoted\"", 0, 201 },
};

/* test_answers - each answer of the gateway and what it means */
static void
test_answers(void **state)
{
	static const char *const keys[] = { "body", "link", "force" };
	static const char *const vals[] = {
		"Example Police: there is an update. \xe2\x82\xac",
		"https://portal.example.org/l/TOKEN", "Example Police",
	};
	struct cm_http *h = client(SECRET, TEMPLATE, 2);
	char *data = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(scases); i++) {
		const char *err = NULL;
		char *id = NULL;
		long status = -1;
		int rc = cm_http_sms(h, scases[i].phone, "notice-7", keys, vals,
				     3, cm_now(), &status, &id, &err);

		if (rc != scases[i].want || status != scases[i].status)
			fail_msg("row %zu: rc %d status %ld, want %d %ld (%s)",
				 i, rc, status, scases[i].want,
				 scases[i].status, rc < 0 ? err : "");
		if (rc == 0 && (id == NULL || strlen(id) != 36))
			fail_msg("row %zu: no id", i);
		if (rc < 0 && (err == NULL || *err == '\0'))
			fail_msg("row %zu: no error text", i);
		if (scases[i].status == 400 &&
		    strstr(err, "Not a UK mobile") == NULL)
			fail_msg("row %zu: gateway message lost: %s", i, err);
		free(id);
	}
	cm_http_free(&h);
	assert_null(h);
	/* the fake logged what it accepted: the body exactly */
	{
		char *p = cm_xasprintf("%s/log", dir);

		assert_int_equal(cm_read_file(p, 1 << 20, &data, &len), 0);
		free(p);
	}
	assert_non_null(strstr(data, "\"phone_number\": \"+447700900123\""));
	assert_non_null(strstr(data, "\"reference\": \"notice-7\""));
	assert_non_null(strstr(data, "\"link\": "
				     "\"https://portal.example.org/l/TOKEN\""));
	free(data);
}

/* test_auth - a wrong key, an old iat or a wrong template: refused */
static void
test_auth(void **state)
{
	static const char *const keys[] = { "body" };
	static const char *const vals[] = { "x" };
	struct cm_http *h = client("not-the-key", TEMPLATE, 5);
	const char *err = NULL;
	char *id = NULL;
	long status = 0;

	(void)state;
	assert_int_equal(cm_http_sms(h, "+447700900123", "r", keys, vals, 1,
				     cm_now(), &status, &id, &err),
			 CM_ERR);
	assert_int_equal(status, 403);
	assert_non_null(strstr(err, "signature"));
	cm_http_free(&h);

	h = client(SECRET, TEMPLATE, 5);
	assert_int_equal(cm_http_sms(h, "+447700900123", "r", keys, vals, 1,
				     cm_now() - 120, &status, &id, &err),
			 CM_ERR);
	assert_int_equal(status, 403);
	cm_http_free(&h);

	h = client(SECRET, "00000000-0000-0000-0000-000000000000", 5);
	assert_int_equal(cm_http_sms(h, "+447700900123", "r", keys, vals, 1,
				     cm_now(), &status, &id, &err),
			 CM_ERR);
	assert_int_equal(status, 400);
	cm_http_free(&h);
	assert_null(id);
}

/* test_jwt - RFC 7519 shape, HS256 over "header.claims" */
static void
test_jwt(void **state)
{
	char *jwt = cm_http_jwt("iss-1", 1700000000,
				(const unsigned char *)"k", 1);
	unsigned char mac[32];
	char *dot, *sig, *input;

	(void)state;
	/* {"alg":"HS256","typ":"JWT"} and {"iss":"iss-1","iat":1700000000} */
	assert_true(strncmp(jwt,
			    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
			    "eyJpc3MiOiJpc3MtMSIsImlhdCI6MTcwMDAwMDAwMH0.",
			    80) == 0);
	dot = strrchr(jwt, '.');
	input = cm_xstrndup(jwt, (size_t)(dot - jwt));
	cm_token_hmac_sha256("k", 1, input, strlen(input), mac);
	sig = cm_token_base64url(mac, sizeof(mac));
	assert_string_equal(dot + 1, sig);
	free(sig);
	free(input);
	free(jwt);
}

/* test_split_key - name-SERVICE-SECRET */
static void
test_split_key(void **state)
{
	char *svc = NULL, *sec = NULL;

	(void)state;
	assert_int_equal(cm_http_split_key("my_key-" SERVICE "-" SECRET, &svc,
					   &sec),
			 0);
	assert_string_equal(svc, SERVICE);
	assert_string_equal(sec, SECRET);
	free(svc);
	free(sec);
	assert_int_equal(cm_http_split_key(SECRET, &svc, &sec), -1);
	assert_int_equal(cm_http_split_key("x-" SERVICE "x" SECRET, &svc,
					   &sec),
			 -1);
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_split_key),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
