/*
 * main.c - casemail-send: drain the notice queue
 *
 * SYNOPSIS
 *	casemail-send [-c FILE] [-v] [--connections N]
 *		      [--once | --watch | --dry-run]
 *	casemail-send [-c FILE] -n
 *
 * DESCRIPTION
 *	--once (the default) sends what is due and exits: for a timer.
 *	--watch keeps running, looking at the queue every poll_interval
 *	seconds; SIGTERM or SIGINT lets the messages being sent (one per
 *	connection) finish, records the batch and exits 0. --dry-run
 *	prints what would be sent (with a dummy login link) and changes
 *	nothing. -n checks the configuration, the templates and what the
 *	sender needs (secret, database, outbox without smtp_url, password
 *	and key files; as run_user when root runs it) and exits, one line
 *	per problem with its fix.
 *	--connections N
 *	overrides smtp_connections: this one process keeps up to N SMTP
 *	sessions with a message in flight on each, while claiming and
 *	recording the batches alone (one writer in the store).
 *
 *	Transports: smtp_url (smtp:// or smtps://, optional STARTTLS, AUTH
 *	with smtp_user and smtp_password_file) or, when it is empty, the
 *	outbox_dir maildir; SMS through the Notify-shaped gateway at
 *	sms_url when sms_key_file and sms_template_id are set.
 *
 * DIAGNOSTICS
 *	Exit 0 when the queue was worked (whatever each notice's outcome:
 *	those are recorded in the store and logged one line each), 75 on
 *	store trouble (locked past busy_timeout, disk full: run again
 *	later), 1 for anything else (bad configuration, unreadable
 *	templates or secrets), 64 for a bad command line. Routine lines
 *	go to syslog (and stderr with -v or on a terminal); errors, such
 *	as a notice that cannot be built, always to stderr as well. A
 *	portal_url that is not https is warned about at start.
 *
 * SECURITY
 *	The secret, the SMTP password and the SMS key are read from files
 *	that must not be readable by group or others; the password and the
 *	key are wiped after they are handed to libcurl / the http module.
 *	The config path comes from -c or the build, never the environment.
 *	Runs with umask 077: what it creates is for its owner only.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cm_log.h"
#include "cm_maildir.h"
#include "cm_mime.h"
#include "cm_preflight.h"
#include "sender.h"

#define EXIT_STORE 75
#define MAX_KEYFILE 4096

static volatile sig_atomic_t stop_flag;

/* on_signal - finish the current message, then stop */
static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* usage - the synopsis on stderr, exit 64 */
static void
usage(void)
{
	fprintf(stderr,
		"usage: casemail-send [-c FILE] [-v] [--connections N] "
		"[--once | --watch | --dry-run]\n"
		"       casemail-send [-c FILE] -n\n");
	exit(EX_USAGE);
}

/*
 * read_private - the first line of a file that only its owner may read
 * (caller wipes and frees). NULL after logging why.
 */
static char *
read_private(const char *path, const char *what)
{
	const char *err = NULL;
	char *data = NULL;
	size_t len = 0;

	if (cm_read_private_file(path, MAX_KEYFILE, &data, &len, &err) < 0) {
		cm_log_err("%s %s", what, err);
		return NULL;
	}
	/* keep the first line, trimmed; zero what follows it, so that
	 * the caller's wipe of strlen(data) bytes leaves nothing behind */
	data[strcspn(data, "\r\n")] = '\0';
	cm_str_trim(data);
	explicit_bzero(data + strlen(data), len - strlen(data));
	return data;
}

/* log_warning - a doubtful setting that concerns the sender */
static void
log_warning(enum cm_config_warning kind, const char *text, void *ctx)
{
	(void)ctx;
	if (kind == CM_CW_PORTAL_HTTP)
		cm_log_warnx("%s", text);
}

/* open_smtp - the SMTP transport when smtp_url is set; 0 or -1 */
static int
open_smtp(struct sender *s)
{
	const struct cm_config *cfg = s->cfg;
	struct cm_smtp_opts o;
	const char *err = NULL;
	char *pass = NULL;
	int ret = -1;

	if (cfg->smtp_url == NULL || *cfg->smtp_url == '\0')
		return cm_maildir_create(cfg->outbox_dir, &err) == 0
			       ? 0
			       : (cm_log_err("outbox %s: %s", cfg->outbox_dir,
					     err),
				  -1);
	memset(&o, 0, sizeof(o));
	o.url = cfg->smtp_url;
	o.require_tls = cfg->smtp_starttls;
	o.ca_file = cfg->smtp_ca_file;
	o.timeout = cfg->smtp_timeout;
	o.connections = s->connections > 0 ? s->connections
					   : cfg->smtp_connections;
	if (*cfg->smtp_user != '\0') {
		if (cfg->smtp_password_file == NULL) {
			cm_log_err("smtp_user is set but smtp_password_file "
				   "is not");
			goto out;
		}
		pass = read_private(cfg->smtp_password_file,
				    "smtp_password_file");
		if (pass == NULL)
			goto out;
		o.user = cfg->smtp_user;
		o.password = pass;
	}
	s->smtp = cm_smtp_new(&o, &err);
	if (s->smtp == NULL) {
		cm_log_err("smtp: %s", err);
		goto out;
	}
	ret = 0;
out:
	if (pass != NULL) {
		cm_token_wipe(pass, strlen(pass));
		free(pass);
	}
	return ret;
}

/* open_sms - the SMS gateway when configured; else sms_why says why */
static int
open_sms(struct sender *s)
{
	const struct cm_config *cfg = s->cfg;
	struct cm_http_opts o;
	char *key = NULL, *svc = NULL, *secret = NULL;
	const char *err = NULL;
	int ret = -1;

	if (cfg->sms_key_file == NULL || *cfg->sms_template_id == '\0') {
		s->sms_why = cm_xstrdup("sms_key_file and sms_template_id "
					"are needed");
		return 0;
	}
	key = read_private(cfg->sms_key_file, "sms_key_file");
	if (key == NULL)
		goto out;
	if (cm_http_split_key(key, &svc, &secret) < 0)
		secret = cm_xstrdup(key);
	memset(&o, 0, sizeof(o));
	o.base_url = cfg->sms_url;
	o.service_id = *cfg->sms_service_id != '\0' ? cfg->sms_service_id
						     : svc;
	o.key = (const unsigned char *)secret;
	o.keylen = strlen(secret);
	o.template_id = cfg->sms_template_id;
	o.ca_file = cfg->smtp_ca_file;
	o.timeout = cfg->sms_timeout;
	if (o.service_id == NULL) {
		cm_log_err("sms_service_id is empty and %s is not a whole "
			   "Notify API key",
			   cfg->sms_key_file);
		goto out;
	}
	s->http = cm_http_new(&o, &err);
	if (s->http == NULL) {
		cm_log_err("sms: %s", err);
		goto out;
	}
	ret = 0;
out:
	if (key != NULL)
		cm_token_wipe(key, strlen(key));
	if (secret != NULL)
		cm_token_wipe(secret, strlen(secret));
	free(key);
	free(secret);
	free(svc);
	return ret;
}

/* nap - sleep up to seconds, waking early on a stop request */
static void
nap(long seconds)
{
	for (long i = 0; i < seconds * 10 && !stop_flag; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		(void)nanosleep(&ts, NULL);
	}
}

/* put_problem - one thing that would stop the sender, on stderr */
static void
put_problem(const char *text, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "casemail-send: %s\n", text);
}

/*
 * check_only - -n after the templates loaded: the secret, the
 * database, the outbox (without smtp_url), the password and key files;
 * the exit status
 */
static int
check_only(const struct cm_config *cfg, const char *conf)
{
	int n;

	n = cm_preflight(cfg, CM_PF_SEND & ~CM_PF_TEMPLATES, put_problem,
			 NULL);
	if (n > 0) {
		fprintf(stderr, "casemail-send: config %s: %d problem%s "
				"above\n",
			conf, n, n == 1 ? "" : "s");
		return 1;
	}
	printf("casemail-send: config %s and templates in %s ok\n", conf,
	       cfg->template_dir);
	return 0;
}

/* main - options, configuration, transports, the queue */
int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "watch", no_argument, NULL, 'w' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "connections", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = CM_CONFIG_PATH, *err = NULL;
	struct cm_config *cfg = NULL;
	struct cm_secret *secret = NULL;
	struct sender s;
	struct sigaction sa;
	bool verbose = false, check = false, watch = false, temp = false;
	int ch, flags, rc, modes = 0, ret = 1;

	memset(&s, 0, sizeof(s));
	s.once = true;
	s.stop = &stop_flag;
	/* every notice builds and frees a message: keep the freed heap
	 * instead of returning it to the kernel and faulting it in again */
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	/* the database, its -wal and -shm and the outbox files this
	 * process may create hold victims' details: owner only */
	umask(077);
	mallopt(M_MMAP_THRESHOLD, 16 * 1024 * 1024);
	cm_log_set_fatal_status(EXIT_STORE);
	while ((ch = getopt_long(argc, argv, "c:vnh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'n':
			check = true;
			break;
		case 'o':
			modes++;
			break;
		case 'w':
			watch = true;
			s.once = false;
			modes++;
			break;
		case 'd':
			s.dry_run = true;
			modes++;
			break;
		case 'C':
			if (cm_parse_long(optarg, 1, 64, &s.connections) < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || modes > 1)
		usage();
	flags = CM_LOG_SYSLOG;
	if (verbose || isatty(2))
		flags |= CM_LOG_STDERR;
	if (verbose)
		flags |= CM_LOG_VERBOSE;
	/* until the queue runs, errors go to stderr too: they stop the
	 * program and whoever started it must see why */
	cm_log_open("casemail-send", flags | CM_LOG_STDERR);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	cfg = cm_config_load(conf, &err);
	if (cfg == NULL) {
		cm_log_err("config: %s", err);
		goto out;
	}
	s.cfg = cfg;
	cm_config_warnings(cfg, log_warning, NULL);
	if (check && cm_preflight_become(cfg, NULL, &err) < 0) {
		cm_log_err("%s", err);
		goto out;
	}
	cm_mime_init();
	if (notice_load_templates(&s) < 0)
		goto out;
	s.composer = cm_composer_new();
	if (check) {
		ret = check_only(cfg, conf);
		goto out;
	}
	if (cm_token_init() < 0) {
		cm_log_err("libsodium: initialisation failed");
		goto out;
	}
	secret = cm_secret_load(cfg->secret_file, &temp, &err);
	if (secret == NULL) {
		cm_log_err("secret: %s", err);
		ret = temp ? EXIT_STORE : 1;
		goto out;
	}
	s.secret = secret;
	rc = cm_store_open(cfg->database, secret, cfg->busy_timeout,
			   CM_STORE_RESIDENT |
				   (s.dry_run ? CM_STORE_READONLY : 0),
			   &s.st, &err);
	if (rc < 0) {
		cm_log_err("store %s: %s", cfg->database, err);
		ret = rc == CM_ETEMP ? EXIT_STORE : 1;
		goto out;
	}
	if (!s.dry_run && open_smtp(&s) < 0)
		goto out;
	if (s.dry_run && cfg->smtp_url[0] != '\0')
		s.smtp = NULL; /* nothing is sent: no connection */
	if (open_sms(&s) < 0)
		goto out;

	/* the routine lines go to syslog (and to a terminal); errors,
	 * such as a notice that cannot be built, to stderr as well, for
	 * whoever runs the sender from a timer */
	cm_log_open("casemail-send", flags | CM_LOG_ERRORS);
	for (;;) {
		rc = queue_run(&s);
		if (rc < 0) {
			ret = rc == CM_ETEMP ? EXIT_STORE : 1;
			goto out;
		}
		if (!watch || stop_flag)
			break;
		nap(cfg->poll_interval);
		if (stop_flag)
			break;
	}
	if (!s.dry_run)
		cm_log_info("done sent=%ld deferred=%ld failed=%ld "
			    "suppressed=%ld released=%ld%s",
			    s.n_sent, s.n_deferred, s.n_failed,
			    s.n_suppressed, s.n_released,
			    stop_flag ? " stopped=signal" : "");
	ret = 0;
out:
	cm_http_free(&s.http);
	cm_smtp_free(&s.smtp);
	free(s.sms_why);
	cm_store_close(&s.st);
	notice_free_templates(&s);
	cm_composer_free(&s.composer);
	cm_secret_free(&secret);
	cm_config_free(&cfg);
	return ret;
}
