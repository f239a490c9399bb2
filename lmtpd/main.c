/*
 * main.c - casemail-lmtpd: a resident LMTP server storing into casemail
 *
 * SYNOPSIS
 *	casemail-lmtpd [-c FILE] [-v] [-f] [--socket PATH]
 *		[--listen ADDR:PORT] [--allow ADDR,...] [--user USER]
 *		[--group GROUP] [--max-sessions N] [--max-recipients N]
 *		[--timeout SECONDS]
 *	casemail-lmtpd [-c FILE] -n
 *
 * DESCRIPTION
 *	Listens on a unix socket (mode 0660; by default Postfix's
 *	private/casemail-lmtp) and, when --listen is given, on a TCP
 *	address whose clients must be on the --allow list (loopback by
 *	default; port 25 is refused). Each connection is served by a
 *	session process (session.c) that hands each message to the same
 *	delivery path as casemail-mda's pipe mode.
 *
 *	Started as root with --user, it binds first, gives the socket to
 *	that user and --group (postfix, for the socket in private/), and
 *	drops to the user before reading the secret or accepting a
 *	connection. It stays in the foreground (for systemd or any
 *	supervisor).
 *
 *	SIGTERM (and SIGINT): stop accepting, let every session finish
 *	the transaction in flight (it answers 421 between transactions),
 *	exit. SIGHUP: reopen the log and read the configuration and the
 *	secret again for the sessions that start afterwards (a file that
 *	no longer loads is logged and the old one kept).
 *
 *	A socket left by a daemon that died is replaced; a second daemon
 *	on the same socket refuses to start (a lock on PATH.lock, held
 *	for the daemon's lifetime, and a socket that still answers).
 *
 * DIAGNOSTICS
 *	Exit 0 after SIGTERM; 64 (EX_USAGE) for a bad command line; 75
 *	(EX_TEMPFAIL) when it cannot start (configuration, secret,
 *	socket in use, running as root without --user), with one reason
 *	line on stderr and in the log. The sessions log one line per
 *	recipient.
 *
 * SECURITY
 *	Never listens on port 25 and accepts TCP clients only from the
 *	allow list. Refuses to run as root (after the drop) unless the
 *	configuration allows it (mda_allow_root, for test rigs). The
 *	config path comes from -c or the build, never from the
 *	environment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cm_log.h"
#include "lmtpd.h"

#ifndef CM_LMTP_SOCKET
#define CM_LMTP_SOCKET "/var/spool/postfix/private/casemail-lmtp"
#endif
#define STOP_WAIT 120 /* seconds sessions get to finish after SIGTERM */
#define MAX_ALLOW 32

/* Options and long-lived state of the daemon. */
struct lmtpd {
	const char *conf_path;
	const char *socket_path; /* NULL: no unix socket */
	const char *listen;      /* "ADDR:PORT" or NULL */
	const char *allow;       /* comma-separated addresses or NULL */
	const char *user, *group;
	long max_sessions, max_rcpt, timeout;
	long batch_max, worker_msgs; /* jobs per transaction, per worker */
	bool verbose, to_stderr, check;

	struct mda m;                 /* the master's: config, secret */
	struct lmtpd_commit *commit;  /* group commit (commit.c) */
	struct pollfd *pfd;           /* listeners and the committer's */
	size_t max_pfd;

	struct cm_config *cfg;
	struct cm_secret *secret;
	int ufd, tfd, lock_fd; /* unix and TCP listeners, the lock */
	dev_t sock_dev;        /* the socket we made, to unlink only it */
	ino_t sock_ino;
	char allowed[MAX_ALLOW][INET6_ADDRSTRLEN + 1]; /* numeric */
	size_t n_allowed;
	pid_t *sessions;
	long n_sessions;
	char hostname[256];
};

static volatile sig_atomic_t got_stop, got_hup, got_chld;
static volatile sig_atomic_t session_stop;

/* on_signal - remember the signal; the loop acts on it */
static void
on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_stop = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

/* on_session_stop - SIGTERM in a session: finish, then close */
static void
on_session_stop(int sig)
{
	(void)sig;
	session_stop = 1;
}

/* usage - print the synopsis and exit EX_USAGE */
static void
usage(void)
{
	fprintf(stderr,
		"usage: casemail-lmtpd [-c FILE] [-v] [-f] [--socket PATH] "
		"[--listen ADDR:PORT]\n"
		"\t[--allow ADDR,...] [--user USER] [--group GROUP]\n"
		"\t[--max-sessions N] [--max-recipients N] "
		"[--timeout SECONDS]\n"
		"\t[--batch N] [--worker-messages N]\n"
		"       casemail-lmtpd [-c FILE] -n\n");
	exit(EX_USAGE);
}

/* start_fail - one reason line, exit 75 */
static _Noreturn void
start_fail(const char *what, const char *why)
{
	cm_log_err("cannot start: %s: %s", what, why);
	if (!(cm_log_flags() & CM_LOG_STDERR))
		fprintf(stderr, "casemail-lmtpd: %s: %s\n", what, why);
	exit(EX_TEMPFAIL);
}

/* set_handler - install fn for sig without SA_RESTART */
static void
set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/*
 * listen_unix - the unix socket at path: refuses when another daemon
 * holds PATH.lock or the socket still answers, replaces a stale one;
 * 0 or -1 with *why_r
 */
static int
listen_unix(struct lmtpd *d, uid_t uid, gid_t gid, const char **why_r)
{
	static char why[400];
	struct sockaddr_un sun;
	struct stat st;
	char lock[sizeof(sun.sun_path) + 8];
	int fd = -1, ret = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (cm_strlcpy(sun.sun_path, d->socket_path, sizeof(sun.sun_path)) >=
		    sizeof(sun.sun_path) ||
	    (size_t)snprintf(lock, sizeof(lock), "%s.lock", d->socket_path) >=
		    sizeof(lock)) {
		*why_r = "socket path too long";
		goto out;
	}
	d->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0600);
	if (d->lock_fd < 0) {
		snprintf(why, sizeof(why), "%s: %s", lock, strerror(errno));
		*why_r = why;
		goto out;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(why, sizeof(why), "another casemail-lmtpd serves %s "
			 "(%s is locked)", d->socket_path, lock);
		*why_r = why;
		goto out;
	}
	if (lstat(d->socket_path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			snprintf(why, sizeof(why), "%s exists and is not a "
				 "socket", d->socket_path);
			*why_r = why;
			goto out;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
					  sizeof(sun)) == 0) {
			close(probe);
			snprintf(why, sizeof(why), "%s answers: another "
				 "server uses it", d->socket_path);
			*why_r = why;
			goto out;
		}
		if (probe >= 0)
			close(probe);
		cm_log_info("replacing the stale socket %s", d->socket_path);
		unlink(d->socket_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(d->socket_path, 0660) < 0 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	     chown(d->socket_path, uid, gid) < 0) ||
	    listen(fd, 128) < 0 || stat(d->socket_path, &st) < 0) {
		snprintf(why, sizeof(why), "%s: %s", d->socket_path,
			 strerror(errno));
		*why_r = why;
		goto out;
	}
	d->sock_dev = st.st_dev;
	d->sock_ino = st.st_ino;
	d->ufd = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* listen_tcp - ADDR:PORT (numeric; [v6]:PORT), never port 25 */
static int
listen_tcp(struct lmtpd *d, const char **why_r)
{
	static char why[300];
	struct addrinfo hints, *ai = NULL;
	char host[128];
	const char *colon = strrchr(d->listen, ':');
	long port;
	int fd = -1, one = 1, ret = -1, rc;

	if (colon == NULL || (size_t)(colon - d->listen) >= sizeof(host) ||
	    cm_parse_long(colon + 1, 1, 65535, &port) < 0) {
		*why_r = "--listen wants ADDRESS:PORT";
		goto out;
	}
	if (port == 25) {
		*why_r = "port 25 is for the MTA, not for LMTP";
		goto out;
	}
	memcpy(host, d->listen, (size_t)(colon - d->listen));
	host[colon - d->listen] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0) {
		snprintf(why, sizeof(why), "%s: %s", d->listen,
			 gai_strerror(rc));
		*why_r = why;
		goto out;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		snprintf(why, sizeof(why), "%s: %s", d->listen,
			 strerror(errno));
		*why_r = why;
		goto out;
	}
	d->tfd = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	return ret;
}

/* parse_allow - the --allow list (numeric addresses); 0 or -1 */
static int
parse_allow(struct lmtpd *d)
{
	const char *p = d->allow != NULL ? d->allow : "127.0.0.1,::1";

	while (*p != '\0') {
		size_t n = strcspn(p, ", ");
		char a[INET6_ADDRSTRLEN + 1];
		unsigned char bin[sizeof(struct in6_addr)];

		if (n > 0) {
			if (n >= sizeof(a) || d->n_allowed >= MAX_ALLOW)
				return -1;
			memcpy(a, p, n);
			a[n] = '\0';
			if (inet_pton(AF_INET, a, bin) != 1 &&
			    inet_pton(AF_INET6, a, bin) != 1)
				return -1;
			cm_strlcpy(d->allowed[d->n_allowed++], a,
				   sizeof(d->allowed[0]));
		}
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return 0;
}

/* peer_name - the client's numeric address into buf (IPv4-mapped IPv6
 * addresses as IPv4) */
static void
peer_name(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	cm_strlcpy(buf, "?", size);
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			  buf, (socklen_t)size);
	} else if (ss->ss_family == AF_INET6 &&
		   IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf,
			  (socklen_t)size);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)size);
	}
}

/* allowed - is a TCP client on the allow list */
static bool
allowed(const struct lmtpd *d, const char *peer)
{
	for (size_t i = 0; i < d->n_allowed; i++)
		if (strcmp(d->allowed[i], peer) == 0)
			return true;
	return false;
}

/* drop_privileges - become --user (when root); 0 or -1 with *why_r */
static int
drop_privileges(const struct passwd *pw, const char **why_r)
{
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		*why_r = strerror(errno);
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		*why_r = "could regain root after dropping it";
		return -1;
	}
	return 0;
}

/* load - configuration and secret; 0 or -1 with *what_r and *why_r */
static int
load(struct lmtpd *d, struct cm_config **cfg_r, struct cm_secret **sec_r,
     const char **what_r, const char **why_r)
{
	bool temp = false;

	*cfg_r = cm_config_load(d->conf_path, why_r);
	if (*cfg_r == NULL) {
		*what_r = "config";
		return -1;
	}
	*sec_r = cm_secret_load((*cfg_r)->secret_file, &temp, why_r);
	if (*sec_r == NULL) {
		*what_r = "secret";
		cm_config_free(cfg_r);
		return -1;
	}
	return 0;
}

/* reload - SIGHUP: the log, then configuration and secret */
static void
reload(struct lmtpd *d, int log_flags)
{
	struct cm_config *cfg = NULL;
	struct cm_secret *sec = NULL;
	const char *what = NULL, *why = NULL;

	closelog();
	cm_log_open("casemail-lmtpd", log_flags);
	if (load(d, &cfg, &sec, &what, &why) < 0) {
		cm_log_err("reload: %s: %s; keeping the running "
			   "configuration", what, why);
		return;
	}
	cm_secret_free(&d->secret);
	cm_config_free(&d->cfg);
	d->cfg = cfg;
	d->secret = sec;
	d->m.cfg = cfg;
	d->m.secret = sec;
	lmtpd_commit_retire(d->commit); /* the next batch sees it */
	cm_log_info("reloaded %s", d->conf_path);
}

/* reap - collect ended sessions (only those: the committer reaps its
 * worker itself) */
static void
reap(struct lmtpd *d)
{
	for (long i = 0; i < d->n_sessions;) {
		pid_t pid = d->sessions[i];
		int status;

		if (waitpid(pid, &status, WNOHANG) != pid) {
			i++;
			continue;
		}
		d->sessions[i] = d->sessions[--d->n_sessions];
		if (WIFSIGNALED(status))
			cm_log_warnx("session %ld died by signal %d",
				     (long)pid, WTERMSIG(status));
	}
}

/* keep_cmp - qsort order of descriptors */
static int
keep_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* lmtpd_child_fds - close all but 0-2, keep1 and keep2; reopen the log
 * (its socket was one of them) */
void
lmtpd_child_fds(int keep1, int keep2)
{
	int keep[3] = { 2, keep1, keep2 };

	closelog();
	qsort(keep, 3, sizeof(keep[0]), keep_cmp);
	for (int i = 0; i < 3; i++) {
		int lo = keep[i] + 1;
		int hi = i < 2 ? keep[i + 1] - 1 : -1;

		if (keep[i] < 2 || (i < 2 && hi < lo))
			continue;
		close_range((unsigned)lo, hi < 0 ? ~0U : (unsigned)hi, 0);
	}
	cm_log_open("casemail-lmtpd", cm_log_flags());
}

/* run_session - in the forked child: serve fd and exit */
static _Noreturn void
run_session(struct lmtpd *d, int fd, int chan, const char *peer)
{
	struct lmtpd_session_conf sc;
	sigset_t mask;

	/* the listeners, the lock, the worker's pipes and the other
	 * sessions' channels: a session holding the master's end of a
	 * channel would keep its session from seeing the master die */
	lmtpd_child_fds(fd, chan);
	set_handler(SIGTERM, on_session_stop);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if (got_stop)
		session_stop = 1;

	memset(&sc, 0, sizeof(sc));
	sc.m = &d->m;
	sc.chan = chan;
	sc.hostname = d->hostname;
	sc.peer = peer;
	sc.max_rcpt = d->max_rcpt;
	sc.max_size = d->cfg->limits.max_message_size;
	sc.timeout = d->timeout;
	sc.max_errors = 10;
	sc.stop = &session_stop;
	lmtpd_session(&sc, fd);
	close(fd);
	close(chan);
	_exit(0);
}

/* turn_away - refuse a connection with one reply */
static void
turn_away(int fd, const char *line)
{
	(void)!write(fd, line, strlen(line));
	close(fd);
}

/* accept_one - accept on lfd and fork a session for it */
static void
accept_one(struct lmtpd *d, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char peer[INET6_ADDRSTRLEN + 1];
	pid_t pid;
	int fd, sv[2];

	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN &&
		    errno != ECONNABORTED)
			cm_log_warn("accept");
		return;
	}
	if (lfd == d->tfd) {
		peer_name(&ss, peer, sizeof(peer));
		if (!allowed(d, peer)) {
			cm_log_warnx("lmtp: refused a client at %s: not "
				     "on the allow list", peer);
			turn_away(fd, "421 4.7.0 Not allowed\r\n");
			return;
		}
	} else {
		cm_strlcpy(peer, "unix", sizeof(peer));
	}
	if (d->n_sessions >= d->max_sessions) {
		cm_log_warnx("lmtp: %ld sessions already: turning away %s",
			     d->n_sessions, peer);
		turn_away(fd, "421 4.3.2 Too many sessions, try again "
			      "later\r\n");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		cm_log_warn("socketpair");
		turn_away(fd, "421 4.3.0 Cannot serve, try again later\r\n");
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cm_log_warn("fork");
		close(sv[0]);
		close(sv[1]);
		turn_away(fd, "421 4.3.0 Cannot fork, try again later\r\n");
		return;
	}
	if (pid == 0)
		run_session(d, fd, sv[1], peer);
	close(fd);
	close(sv[1]);
	lmtpd_commit_add(d->commit, sv[0]);
	d->sessions[d->n_sessions++] = pid;
}

/*
 * wait_once - one wait for a connection, a request, a worker's report
 * or a signal (at most timeout_ms, -1: no limit), then act on it;
 * listeners only while accepting
 */
static void
wait_once(struct lmtpd *d, const sigset_t *open_mask, bool accepting,
	  long timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000,
			       (timeout_ms % 1000) * 1000000L };
	size_t n = 0, nl;
	int rc;

	if (accepting && d->ufd >= 0)
		d->pfd[n++] = (struct pollfd){ d->ufd, POLLIN, 0 };
	if (accepting && d->tfd >= 0)
		d->pfd[n++] = (struct pollfd){ d->tfd, POLLIN, 0 };
	nl = n;
	n += lmtpd_commit_pollfds(d->commit, d->pfd + n, d->max_pfd - n);
	rc = ppoll(d->pfd, (nfds_t)n, timeout_ms < 0 ? NULL : &ts,
		   open_mask);
	if (rc < 0) {
		if (errno != EINTR)
			cm_log_warn("poll");
		return;
	}
	lmtpd_commit_events(d->commit, d->pfd + nl, n - nl);
	for (size_t i = 0; i < nl; i++)
		if (d->pfd[i].revents & POLLIN)
			accept_one(d, d->pfd[i].fd);
}

/* shutdown_sessions - SIGTERM every session; keep committing for them
 * while they finish (bounded), then stop the worker */
static void
shutdown_sessions(struct lmtpd *d, const sigset_t *open_mask)
{
	time_t end = time(NULL) + STOP_WAIT;

	for (long i = 0; i < d->n_sessions; i++)
		kill(d->sessions[i], SIGTERM);
	while (d->n_sessions > 0 && time(NULL) < end) {
		wait_once(d, open_mask, false, 50);
		reap(d);
	}
	for (long i = 0; i < d->n_sessions; i++) {
		cm_log_warnx("session %ld did not finish: killed",
			     (long)d->sessions[i]);
		kill(d->sessions[i], SIGKILL);
	}
	/* after SIGKILL each remaining session ends at once */
	while (d->n_sessions > 0 &&
	       (waitpid(d->sessions[d->n_sessions - 1], NULL, 0) > 0 ||
		errno != EINTR))
		d->n_sessions--;
	lmtpd_commit_free(&d->commit);
}

/* serve - the accept and commit loop until SIGTERM */
static void
serve(struct lmtpd *d, int log_flags, sigset_t *open_mask)
{
	sigprocmask(SIG_SETMASK, NULL, open_mask);
	sigdelset(open_mask, SIGTERM);
	sigdelset(open_mask, SIGINT);
	sigdelset(open_mask, SIGHUP);
	sigdelset(open_mask, SIGCHLD);
	cm_log_info("ready: socket=%s listen=%s sessions=%ld",
		    d->socket_path != NULL ? d->socket_path : "-",
		    d->listen != NULL ? d->listen : "-", d->max_sessions);
	while (!got_stop) {
		if (got_chld) {
			got_chld = 0;
			reap(d);
		}
		if (got_hup) {
			got_hup = 0;
			reload(d, log_flags);
		}
		wait_once(d, open_mask, true, -1);
	}
}

/* close_listeners - stop accepting; remove our socket (only ours) */
static void
close_listeners(struct lmtpd *d)
{
	struct stat st;

	if (d->ufd >= 0) {
		close(d->ufd);
		d->ufd = -1;
		if (lstat(d->socket_path, &st) == 0 &&
		    st.st_dev == d->sock_dev && st.st_ino == d->sock_ino)
			unlink(d->socket_path);
	}
	if (d->tfd >= 0) {
		close(d->tfd);
		d->tfd = -1;
	}
}

/* parse_options - the command line into d */
static void
parse_options(struct lmtpd *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 'S' },
		{ "listen", required_argument, NULL, 'L' },
		{ "allow", required_argument, NULL, 'A' },
		{ "user", required_argument, NULL, 'U' },
		{ "group", required_argument, NULL, 'G' },
		{ "max-sessions", required_argument, NULL, 'M' },
		{ "max-recipients", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "batch", required_argument, NULL, 'B' },
		{ "worker-messages", required_argument, NULL, 'W' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "foreground-log", no_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:vfnh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d->conf_path = optarg;
			break;
		case 'S':
			d->socket_path = *optarg != '\0' ? optarg : NULL;
			break;
		case 'L':
			d->listen = optarg;
			break;
		case 'A':
			d->allow = optarg;
			break;
		case 'U':
			d->user = optarg;
			break;
		case 'G':
			d->group = optarg;
			break;
		case 'M':
			if (cm_parse_long(optarg, 1, 1000, &d->max_sessions) <
			    0)
				usage();
			break;
		case 'R':
			if (cm_parse_long(optarg, 1, 1000, &d->max_rcpt) < 0)
				usage();
			break;
		case 'T':
			if (cm_parse_long(optarg, 1, 3600, &d->timeout) < 0)
				usage();
			break;
		case 'B':
			if (cm_parse_long(optarg, 1, 10000, &d->batch_max) <
			    0)
				usage();
			break;
		case 'W':
			if (cm_parse_long(optarg, 1, 1000000,
					  &d->worker_msgs) < 0)
				usage();
			break;
		case 'v':
			d->verbose = true;
			break;
		case 'f':
			d->to_stderr = true;
			break;
		case 'n':
			d->check = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (d->socket_path == NULL && d->listen == NULL))
		usage();
}

/* main - options, config, sockets, privileges, secret, then serve */
int
main(int argc, char **argv)
{
	struct lmtpd d;
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	const char *what = NULL, *why = NULL;
	sigset_t mask, open_mask;
	int flags;

	/* the database and its -wal and -shm this daemon may create hold
	 * victims' mail: owner only (the socket is opened up below) */
	umask(077);
	memset(&d, 0, sizeof(d));
	d.conf_path = CM_CONFIG_PATH;
	d.socket_path = CM_LMTP_SOCKET;
	d.max_sessions = 20;
	d.max_rcpt = 100;
	d.timeout = 300;
	d.batch_max = 100;
	d.worker_msgs = 1000;
	d.ufd = d.tfd = d.lock_fd = -1;
	cm_log_set_fatal_status(EX_TEMPFAIL);
	parse_options(&d, argc, argv);
	flags = CM_LOG_SYSLOG;
	if (d.verbose || d.to_stderr || isatty(2))
		flags |= CM_LOG_STDERR;
	if (d.verbose)
		flags |= CM_LOG_VERBOSE;
	cm_log_open("casemail-lmtpd", flags);

	d.cfg = cm_config_load(d.conf_path, &why);
	if (d.cfg == NULL)
		start_fail("config", why);
	if (parse_allow(&d) < 0)
		start_fail("--allow", "wants numeric addresses, at most 32");
	if (d.user != NULL && (pw = getpwnam(d.user)) == NULL)
		start_fail("--user", "no such user");
	if (d.group != NULL && (gr = getgrnam(d.group)) == NULL)
		start_fail("--group", "no such group");
	if (d.check) {
		printf("casemail-lmtpd: config %s ok\n", d.conf_path);
		cm_config_free(&d.cfg);
		return EX_OK;
	}
	if (getuid() != 0 && d.user != NULL && pw->pw_uid != getuid())
		start_fail("--user", "only root can switch users");

	/* signals stay blocked except while waiting (ppoll) */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	set_handler(SIGTERM, on_signal);
	set_handler(SIGINT, on_signal);
	set_handler(SIGHUP, on_signal);
	set_handler(SIGCHLD, on_signal);
	signal(SIGPIPE, SIG_IGN);

	if (d.socket_path != NULL &&
	    listen_unix(&d, pw != NULL ? pw->pw_uid : (uid_t)-1,
			gr != NULL ? gr->gr_gid : (gid_t)-1, &why) < 0)
		start_fail("socket", why);
	if (d.listen != NULL && listen_tcp(&d, &why) < 0)
		start_fail("listen", why);
	if (getuid() == 0 && pw != NULL && drop_privileges(pw, &why) < 0)
		start_fail("dropping privileges", why);
	if (getuid() == 0 && !d.cfg->mda_allow_root)
		start_fail("refusing to run as root",
			   "start it with --user casemail");
	if (cm_token_init() < 0)
		start_fail("libsodium", "initialisation failed");
	cm_config_free(&d.cfg);
	if (load(&d, &d.cfg, &d.secret, &what, &why) < 0)
		start_fail(what, why);
	if (gethostname(d.hostname, sizeof(d.hostname) - 1) < 0 ||
	    d.hostname[0] == '\0')
		cm_strlcpy(d.hostname, "localhost", sizeof(d.hostname));
	d.sessions = cm_xcalloc((size_t)d.max_sessions, sizeof(pid_t));
	d.max_pfd = 2 * (size_t)d.max_sessions + 8;
	d.pfd = cm_xcalloc(d.max_pfd, sizeof(*d.pfd));
	d.m.cfg = d.cfg;
	d.m.secret = d.secret;
	d.m.verbose = d.verbose;
	d.m.kill_after_us = -1;
	{
		const char *env = getenv("CASEMAIL_TEST_CHILD_KILL_AFTER_US");

		if (env != NULL &&
		    cm_parse_long(env, 0, 60000000, &d.m.kill_after_us) < 0)
			d.m.kill_after_us = -1;
		env = getenv("CASEMAIL_TEST_CHILD_KILL_ON");
		if (env != NULL && *env != '\0')
			d.m.kill_marker = env;
	}
	d.commit = lmtpd_commit_new(&d.m, d.batch_max, d.worker_msgs);

	serve(&d, flags, &open_mask);
	cm_log_info("stopping: %ld sessions to finish", d.n_sessions);
	close_listeners(&d);
	shutdown_sessions(&d, &open_mask);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	cm_log_info("stopped");
	free(d.sessions);
	free(d.pfd);
	cm_store_close(&d.m.store);
	cm_secret_free(&d.secret);
	cm_config_free(&d.cfg);
	return EX_OK;
}
