/*
 * main.c - casemail-web: the victim's portal
 *
 * SYNOPSIS
 *	casemail-web [-c FILE] [-f] [-v]
 *	casemail-web [-c FILE] -n
 *
 * DESCRIPTION
 *	Serves the portal on portal_listen (default 127.0.0.1:8080) until
 *	SIGTERM or SIGINT, behind a TLS-terminating reverse proxy that
 *	people reach at portal_url. One process, one thread, one store
 *	connection: requests are short (a few indexed reads, a render) and
 *	the view rows of the audit log are group-committed about once a
 *	second (see session.c). -f logs to stderr as well as syslog, -v
 *	logs every request, -n checks the configuration and what the
 *	portal needs (the secret, the database, portal_url reaching
 *	portal_listen; as run_user when root runs it) and exits.
 *	The store must exist (casemail init); it is migrated forward on
 *	open like every other program's.
 *
 * DIAGNOSTICS
 *	Exit 0 after a signal (queued audit rows written first), 1 when
 *	the configuration, the secret, the store or the address is
 *	unusable (with -n: one line per problem, with its fix), 64 for a
 *	bad command line. A portal_url that is not https is warned about
 *	at start. One line at start names the
 *	address and the portal URL; a warning follows when the address is
 *	loopback (where a local TLS proxy connects from) and
 *	portal_trust_proxy is off, since every client would then share
 *	the proxy's address and its limits.
 *
 * SECURITY
 *	The secret file must be mode 0600 (cm_secret_load refuses
 *	otherwise). Listen on loopback and let the proxy do TLS; cookies
 *	carry Secure when portal_url is https. Do not run it as root: it
 *	needs only the store and the secret.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cm_html.h"
#include "cm_log.h"
#include "cm_preflight.h"
#include "web.h"

#define RATE_SLOTS 16384 /* counters in the rate table */
#define TICK_MS 250      /* longest wait in the event loop */

static volatile sig_atomic_t stop_flag;

/* on_signal - stop after the current request */
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
	fprintf(stderr, "usage: casemail-web [-c FILE] [-f] [-v]\n"
			"       casemail-web [-c FILE] -n\n");
	exit(EX_USAGE);
}

/* serve - the event loop; 0 on a signal, -1 on failure */
static int
serve(struct web *w, struct MHD_Daemon *d)
{
	int ret = 0;

	while (!stop_flag) {
		if (http_run(w, d, TICK_MS) < 0) {
			cm_log_err("httpd: the event loop failed");
			ret = -1;
			break;
		}
		(void)audit_flush(w, false, cm_now());
	}
	if (audit_flush(w, true, cm_now()) < 0)
		ret = -1;
	return ret;
}

/* log_warning - the configuration warnings that concern the portal */
static void
log_warning(enum cm_config_warning kind, const char *text, void *ctx)
{
	(void)ctx;
	if (kind == CM_CW_PORTAL_HTTP || kind == CM_CW_PROXY)
		cm_log_warnx("%s", text);
}

/* put_problem - one thing that would stop the portal, on stderr */
static void
put_problem(const char *text, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "casemail-web: %s\n", text);
}

/*
 * check_only - -n: what the portal needs (secret, database, portal_url
 * against portal_listen), as run_user when root runs it; the exit
 * status
 */
static int
check_only(const struct cm_config *cfg, const char *path)
{
	const char *err = NULL;
	int n;

	if (cm_preflight_become(cfg, NULL, &err) < 0) {
		fprintf(stderr, "casemail-web: %s\n", err);
		return 1;
	}
	n = cm_preflight(cfg, CM_PF_WEB, put_problem, NULL);
	if (n > 0) {
		fprintf(stderr, "casemail-web: config %s: %d problem%s above\n",
			path, n, n == 1 ? "" : "s");
		return 1;
	}
	printf("%s: ok (listen %s, portal %s)\n", path, cfg->portal_listen,
	       cfg->portal_url);
	return 0;
}

/* main - options, configuration, store, serve */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CM_CONFIG_PATH, *err = NULL;
	struct cm_config *cfg = NULL;
	struct cm_secret *secret = NULL;
	struct MHD_Daemon *d = NULL;
	struct sigaction sa;
	struct web w;
	int flags = CM_LOG_SYSLOG, opt, ret = 1;
	bool check = false;

	umask(077); /* what it creates (the database) is its owner's only */
	memset(&w, 0, sizeof(w));
	while ((opt = getopt_long(argc, argv, "c:fnvh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			flags |= CM_LOG_STDERR;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			flags |= CM_LOG_VERBOSE;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (isatty(STDERR_FILENO) || check)
		flags |= CM_LOG_STDERR;
	cm_log_open("casemail-web", flags);
	cfg = cm_config_load(path, &err);
	if (cfg == NULL) {
		cm_log_err("config: %s", err);
		goto out;
	}
	cm_config_warnings(cfg, log_warning, NULL);
	if (check) {
		ret = check_only(cfg, path);
		goto out;
	}
	if (cm_token_init() < 0) {
		cm_log_err("libsodium: cannot initialise");
		goto out;
	}
	cm_html_init();
	secret = cm_secret_load(cfg->secret_file, NULL, &err);
	if (secret == NULL) {
		cm_log_err("secret: %s", err);
		goto out;
	}
	if (cm_store_open(cfg->database, secret, cfg->busy_timeout,
			  CM_STORE_RESIDENT, &w.st, &err) < 0) {
		cm_log_err("store: %s", err);
		goto out;
	}
	if (geteuid() == 0)
		cm_log_warnx("running as root: run casemail-web as the "
			     "casemail user");
	w.cfg = cfg;
	w.secret = secret;
	w.rate = rate_new(RATE_SLOTS);
	w.origin = origin_of(cfg->portal_url);
	w.sid_name = cfg->portal_secure ? "__Host-cmsid" : "cmsid";
	w.pre_name = cfg->portal_secure ? "__Host-cmpre" : "cmpre";
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	d = http_start(&w, &err);
	if (d == NULL) {
		cm_log_err("%s", err);
		goto out;
	}
	cm_log_info("listening on %s for %s", cfg->portal_listen,
		    cfg->portal_url);
	if (serve(&w, d) == 0)
		ret = 0;
	cm_log_info("stopped");
out:
	http_stop(&d);
	audit_done(&w);
	cache_free(&w);
	free(w.origin);
	rate_free(&w.rate);
	cm_store_close(&w.st);
	cm_secret_free(&secret);
	cm_config_free(&cfg);
	return ret;
}
