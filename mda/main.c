/*
 * main.c - casemail-mda: deliver mail into case threads
 *
 * SYNOPSIS
 *	casemail-mda [-c FILE] [-v] [--sender S] [--recipient R]
 *		[--queue-id Q] < message
 *	casemail-mda [-c FILE] [-v] --maildir DIR
 *	casemail-mda [-c FILE] [-v] --imap imaps://USER@HOST[:PORT]/BOX
 *		[--once]
 *	casemail-mda [-c FILE] -n
 *
 * DESCRIPTION
 *	Pipe mode reads one message from standard input, as Postfix
 *	pipe(8), procmail or a .forward hand it over, and places it in its
 *	case thread or in quarantine. --maildir ingests every new message
 *	of a maildir in batches. -n checks the configuration, the secret,
 *	the database and the spool as the mda will find them (as run_user
 *	when root runs it) and exits: 0, or 75 after one line per problem
 *	with its fix.
 *
 * DIAGNOSTICS
 *	Classify first, map once (R9): exit 0 only when the message is
 *	durably stored or quarantined (or was already); 75 (EX_TEMPFAIL)
 *	for anything a retry could fix, including configuration trouble
 *	and bugs; 64 (EX_USAGE) for a bad command line. Never 78
 *	(EX_CONFIG): Postfix bounces it. One reason line on stderr.
 *
 *	After each commit of audit rows (a delivery, a batch) the audit
 *	chain's anchor is logged: "audit anchor count=N head=HEX", for
 *	casemail audit verify --anchor.
 *
 * SECURITY
 *	Refuses to run as root unless the configuration allows it
 *	(mda_allow_root, for test rigs). The config path comes from -c or
 *	the build, never from the environment.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cm_log.h"
#include "cm_mime.h"
#include "cm_preflight.h"
#include "mda.h"

#define READ_CAP (1024UL * 1024 * 1024) /* absolute cap on stdin */

/* usage - print the synopsis and exit EX_USAGE */
static void
usage(void)
{
	fprintf(stderr,
		"usage: casemail-mda [-c FILE] [-v] [--sender S] "
		"[--recipient R] [--queue-id Q] < message\n"
		"       casemail-mda [-c FILE] [-v] --maildir DIR\n"
		"       casemail-mda [-c FILE] [-v] --imap URL [--once]\n"
		"       casemail-mda [-c FILE] -n\n");
	exit(EX_USAGE);
}

/* exit_status - the only mapping from dstatus to sysexits (R9) */
static int
exit_status(enum cm_dstatus s)
{
	switch (s) {
	case CM_DS_OK:
		return EX_OK;
	case CM_DS_PERM:
		return EX_NOPERM;
	case CM_DS_TEMP:
	case CM_DS_BUG:
	default:
		return EX_TEMPFAIL;
	}
}

/* temp_exit - one reason line for the MTA, exit 75 */
static void
temp_exit(const char *what, const char *why)
{
	cm_log_err("status=deferred reason=\"%s: %s\"", what, why);
	if (!(cm_log_flags() & CM_LOG_STDERR))
		fprintf(stderr, "casemail-mda: %s: %s\n", what, why);
	exit(exit_status(CM_DS_TEMP));
}

/* pipe_mode - one message on stdin */
static int
pipe_mode(struct mda *m, const char *sender, const char *recipient,
	  const char *queue_id)
{
	struct mda_job job;
	char *data = NULL;
	size_t len = 0;
	int rc;

	rc = cm_read_fd(0, READ_CAP, &data, &len);
	if (rc == CM_ETEMP)
		temp_exit("reading the message", "read error");
	/* CM_ERR: over the absolute cap; what was read is quarantined */
	memset(&job, 0, sizeof(job));
	job.data = data;
	job.len = len;
	job.env.sender = sender;
	job.env.recipient = recipient;
	job.env.queue_id = queue_id;
	job.env.source = "pipe";
	job.env.origin = "stdin";
	mda_guard_run(m, &job, 1, 1);
	mda_log_result(&job.env, &job.res);
	if (job.res.status != CM_DS_OK) {
		if (!(cm_log_flags() & CM_LOG_STDERR))
			fprintf(stderr, "casemail-mda: %s\n", job.res.reason);
		free(data);
		return exit_status(job.res.status);
	}
	free(data);
	return EX_OK;
}

/* print_counts - the summary line of a batch mode */
static void
print_counts(const struct mda_counts *c)
{
	printf("ingested %ld, duplicates %ld, held %ld, quarantined %ld, "
	       "events %ld, failed %ld\n",
	       c->ingested, c->duplicates, c->held, c->quarantined,
	       c->events, c->failed);
	fflush(stdout);
}

/* maildir_mode - --maildir DIR */
static int
maildir_mode(struct mda *m, const char *dir)
{
	struct mda_counts c = { 0 };
	int rc;

	rc = mda_maildir_ingest(m, dir, &c);
	print_counts(&c);
	return rc < 0 ? exit_status(CM_DS_TEMP) : EX_OK;
}

/* imap_mode - --imap URL [--once] */
static int
imap_mode(struct mda *m, const char *url, bool once)
{
	struct mda_counts c = { 0 };
	int rc;

	rc = mda_imap_run(m, url, once, &c);
	print_counts(&c);
	if (rc < 0 && m->reason[0] != '\0' &&
	    !(cm_log_flags() & CM_LOG_STDERR))
		fprintf(stderr, "casemail-mda: %s\n", m->reason);
	return rc < 0 ? exit_status(CM_DS_TEMP) : EX_OK;
}

/* put_problem - one thing that would defer every delivery */
static void
put_problem(const char *text, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "casemail-mda: %s\n", text);
}

/*
 * check_only - -n: the secret, the database and the spool as the mda
 * will find them (as run_user when root runs it, since pipe(8) runs
 * the mda as that user); EX_OK, or EX_TEMPFAIL after one line per
 * problem
 */
static int
check_only(const struct cm_config *cfg, const char *conf)
{
	const char *err = NULL;
	int n;

	if (cm_preflight_become(cfg, NULL, &err) < 0) {
		fprintf(stderr, "casemail-mda: %s\n", err);
		return exit_status(CM_DS_TEMP);
	}
	n = cm_preflight(cfg, CM_PF_MDA, put_problem, NULL);
	if (n > 0) {
		fprintf(stderr, "casemail-mda: config %s: %d problem%s above: "
				"every delivery would be deferred\n",
			conf, n, n == 1 ? "" : "s");
		return exit_status(CM_DS_TEMP);
	}
	printf("casemail-mda: config %s ok\n", conf);
	return EX_OK;
}

/* main - options, config, secret, then the mode */
int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "sender", required_argument, NULL, 's' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "queue-id", required_argument, NULL, 'q' },
		{ "maildir", required_argument, NULL, 'm' },
		{ "imap", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = CM_CONFIG_PATH, *sender = NULL, *recipient = NULL;
	const char *queue_id = NULL, *maildir = NULL, *err = NULL, *env;
	const char *imap = NULL;
	struct cm_config *cfg = NULL;
	struct cm_secret *secret = NULL;
	struct mda m;
	bool check = false, temp = false, once = false;
	int ch, flags, ret;

	/* the database, its -wal and -shm and the maildir files this
	 * process may create hold victims' mail: owner only */
	umask(077);
	memset(&m, 0, sizeof(m));
	cm_log_set_fatal_status(EX_TEMPFAIL);
	while ((ch = getopt_long(argc, argv, "c:vnh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			sender = optarg;
			break;
		case 'r':
			recipient = optarg;
			break;
		case 'q':
			queue_id = optarg;
			break;
		case 'm':
			maildir = optarg;
			break;
		case 'i':
			imap = optarg;
			break;
		case 'o':
			once = true;
			break;
		case 'v':
			m.verbose = true;
			break;
		case 'n':
			check = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (maildir != NULL && imap != NULL) ||
	    (once && imap == NULL))
		usage();
	flags = CM_LOG_SYSLOG;
	if (m.verbose || isatty(2))
		flags |= CM_LOG_STDERR;
	if (m.verbose)
		flags |= CM_LOG_VERBOSE;
	cm_log_open("casemail-mda", flags);

	cfg = cm_config_load(conf, &err);
	if (cfg == NULL)
		temp_exit("config", err);
	if (check) {
		ret = check_only(cfg, conf);
		cm_config_free(&cfg);
		return ret;
	}
	if (getuid() == 0 && !cfg->mda_allow_root)
		temp_exit("refusing to run as root",
			  "run it as the casemail user (pipe(8) user=)");
	if (cm_token_init() < 0)
		temp_exit("libsodium", "initialisation failed");
	secret = cm_secret_load(cfg->secret_file, &temp, &err);
	if (secret == NULL)
		temp_exit("secret", err);
	m.cfg = cfg;
	m.secret = secret;
	m.kill_after_us = -1;
	env = getenv("CASEMAIL_TEST_CHILD_KILL_AFTER_US");
	if (env != NULL &&
	    cm_parse_long(env, 0, 60000000, &m.kill_after_us) < 0)
		m.kill_after_us = -1;

	if (maildir != NULL)
		ret = maildir_mode(&m, maildir);
	else if (imap != NULL)
		ret = imap_mode(&m, imap, once);
	else
		ret = pipe_mode(&m, sender, recipient, queue_id);
	cm_store_close(&m.store);
	cm_secret_free(&secret);
	cm_config_free(&cfg);
	return ret;
}
