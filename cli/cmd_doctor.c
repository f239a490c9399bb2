/*
 * cmd_doctor.c - casemail doctor: is the installation wired right
 *
 * SYNOPSIS
 *	casemail doctor [--postfix-dir DIR] [--no-postfix] [--timeout S]
 *
 * DESCRIPTION
 *	One command a postmaster runs after wiring casemail into Postfix.
 *	Every line is "OK", "WARN" or "FAIL", an area, and what was found;
 *	a WARN or FAIL line ends, after a colon, with what fixes it. In
 *	order:
 *
 *	config    the file loads; its doubtful settings (config check's
 *	          warnings); the file and its directory are readable by
 *	          run_user and writable by nobody but root
 *	postfix   read with postconf and postmap (postconf -c DIR with
 *	          --postfix-dir): recipient_delimiter holds "+", mail_domain
 *	          is in relay_domains, the transport map sends mail_domain
 *	          to a service, and that service in master.cf is either a
 *	          pipe(8) running casemail-mda as run_user (unprivileged
 *	          column n, no chroot, recipient limit 1, soft_bounce,
 *	          ${queue_id}) or an lmtp(8) client whose socket
 *	          casemail-lmtpd holds for run_user (XFORWARD, soft_bounce,
 *	          a recipient limit the daemon accepts)
 *	files     as run_user (root becomes it first, as config check
 *	          does): every problem cm_preflight finds with the secret,
 *	          the database, the spool, the outbox, the templates, the
 *	          password files and the portal's addresses
 *	database  PRAGMA quick_check, and the audit log's hash chain
 *	mail-out  with smtp_url, the relay answers EHLO within --timeout
 *	          seconds (default 5; nothing is sent); without it, the
 *	          outbox maildir
 *
 *	The Postfix checks run first, as the user that started doctor
 *	(root can look into Postfix's private directory for the LMTP
 *	socket); the rest runs as run_user.
 *
 * DIAGNOSTICS
 *	A closing line "casemail doctor: N ok, N warnings, N failures".
 *	Exit 0 without a FAIL line (warnings allowed), 1 with one, 2 for a
 *	usage error.
 *
 * SECURITY
 *	postconf and postmap run without a shell, with a fixed argument
 *	list, their output bounded and their time limited. A password in
 *	smtp_url is never printed. The database is opened read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cm_preflight.h"
#include "cm_smtp.h"

#define DOC_OUT_MAX (64 * 1024) /* bytes of one postconf answer kept */
#define DOC_CMD_SECONDS 10      /* seconds postconf or postmap may take */
#define DOC_LMTP_RCPT_MAX 100   /* casemail-lmtpd's default recipients */

enum level { L_OK, L_WARN, L_FAIL };

struct doc {
	const struct cm_config *cfg;
	const char *conf_path;
	const char *pfdir; /* --postfix-dir, or NULL */
	long timeout;
	int n[3];
	/* areas that had a problem line from cm_preflight */
	bool bad_secret, bad_db, bad_files, bad_outbox, bad_portal;
};

/* say - one OK/WARN/FAIL line */
static void CM_ATTR_PRINTF(4, 5)
say(struct doc *d, enum level l, const char *area, const char *fmt, ...)
{
	static const char *const word[] = { "OK", "WARN", "FAIL" };
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	printf("%-4s  %-8s  ", word[l], area);
	out_text(text);
	fputc('\n', stdout);
	d->n[l]++;
}

/* ---- running postconf and postmap ---- */

/*
 * run_tool - run argv (argv[0] from PATH, else from /usr/sbin) without
 * a shell, stdin and stderr on /dev/null, stdout into out (at most
 * DOC_OUT_MAX bytes, trailing white space cut); killed after
 * DOC_CMD_SECONDS. The exit status, or -1 when it could not run or
 * was killed (127: not found).
 */
static int
run_tool(char *const argv[], struct cm_buf *out)
{
	int fd[2] = { -1, -1 }, status = 0, ret = -1;
	time_t end = time(NULL) + DOC_CMD_SECONDS;
	pid_t pid = -1;
	char chunk[4096];
	bool killed = false;

	cm_buf_reset(out);
	if (pipe(fd) < 0)
		goto out;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		char *path;

		if (null >= 0) {
			(void)dup2(null, STDIN_FILENO);
			(void)dup2(null, STDERR_FILENO);
		}
		(void)dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		execvp(argv[0], argv);
		path = cm_xasprintf("/usr/sbin/%s", argv[0]);
		execv(path, argv);
		_exit(127);
	}
	close(fd[1]);
	fd[1] = -1;
	for (;;) {
		struct pollfd p = { .fd = fd[0], .events = POLLIN };
		long left = (long)(end - time(NULL));
		ssize_t n;

		if (left <= 0) {
			(void)kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (poll(&p, 1, (int)(left * 1000)) <= 0)
			continue;
		n = read(fd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len + (size_t)n < DOC_OUT_MAX)
			(void)cm_buf_append(out, chunk, (size_t)n);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (!killed && WIFEXITED(status))
		ret = WEXITSTATUS(status);
	while (out->len > 0 && (out->data[out->len - 1] == '\n' ||
				out->data[out->len - 1] == ' '))
		out->len--;
	(void)cm_buf_putc(out, '\0');
	out->len--;
out:
	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	return ret;
}

/*
 * postconf - the value of parameter name (expanded) into out; 0, or
 * the tool's status (127: no postconf)
 */
static int
postconf(struct doc *d, const char *name, struct cm_buf *out)
{
	char *argv[8];
	int i = 0;

	argv[i++] = "postconf";
	if (d->pfdir != NULL) {
		argv[i++] = "-c";
		argv[i++] = (char *)d->pfdir;
	}
	argv[i++] = "-x";
	argv[i++] = "-h";
	argv[i++] = (char *)name;
	argv[i] = NULL;
	return run_tool(argv, out);
}

/* master_entry - "postconf -M SERVICE/unix" into out (empty: none) */
static int
master_entry(struct doc *d, const char *service, struct cm_buf *out)
{
	char *argv[8], *svc = cm_xasprintf("%s/unix", service);
	int i = 0, ret;

	argv[i++] = "postconf";
	if (d->pfdir != NULL) {
		argv[i++] = "-c";
		argv[i++] = (char *)d->pfdir;
	}
	argv[i++] = "-M";
	argv[i++] = svc;
	argv[i] = NULL;
	ret = run_tool(argv, out);
	free(svc);
	return ret;
}

/* map_lookup - "postmap -q KEY MAP" into out; 0 when found */
static int
map_lookup(struct doc *d, const char *map, const char *key,
	   struct cm_buf *out)
{
	char *argv[8];
	int i = 0;

	argv[i++] = "postmap";
	if (d->pfdir != NULL) {
		argv[i++] = "-c";
		argv[i++] = (char *)d->pfdir;
	}
	argv[i++] = "-q";
	argv[i++] = (char *)key;
	argv[i++] = (char *)map;
	argv[i] = NULL;
	return run_tool(argv, out);
}

/* has_word - is word one of the words of list (separated by white space
 * or commas), ignoring case */
static bool
has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list;

	while (*p != '\0') {
		size_t n;

		p += strspn(p, " \t\n,");
		n = strcspn(p, " \t\n,");
		if (n == wl && strncasecmp(p, word, n) == 0)
			return true;
		p += n;
	}
	return false;
}

/* field - the k-th white-space separated field of s into buf; false
 * when s has fewer */
static bool
field(const char *s, int k, char *buf, size_t size)
{
	const char *p = s;
	size_t n = 0;

	for (int i = 0; i <= k; i++) {
		p += n;
		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n == 0)
			return false;
	}
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* arg_value - the value after "name" (e.g. "user=") among the command
 * arguments args (from the 8th field on) into buf; false if absent */
static bool
arg_value(const char *args, const char *name, char *buf, size_t size)
{
	size_t nl = strlen(name);

	for (int k = 7; field(args, k, buf, size); k++) {
		if (strncmp(buf, name, nl) == 0) {
			memmove(buf, buf + nl, strlen(buf + nl) + 1);
			return true;
		}
	}
	return false;
}

/* same_file - do paths a and b name the same file */
static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return strcmp(a, b) == 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* limit - the service's per-destination parameter suffix as a number
 * (-1 when unknown) */
static long
limit(struct doc *d, const char *service, const char *suffix,
      struct cm_buf *out)
{
	char *name = cm_xasprintf("%s_%s", service, suffix);
	long v = -1;

	if (postconf(d, name, out) != 0 ||
	    cm_parse_long(out->data, 0, 1000000000L, &v) < 0)
		v = -1;
	free(name);
	return v;
}

/* check_pipe - the pipe(8) service that runs casemail-mda */
static void
check_pipe(struct doc *d, const char *service, const char *entry,
	   struct cm_buf *out)
{
	const struct cm_config *cfg = d->cfg;
	char user[64], unpriv[8], chroot_col[8], maxproc[16], prog[512];
	const char *argv_at = strstr(entry, " argv=");
	struct stat sb;
	long rl, cl;
	bool good = true;

	(void)field(entry, 3, unpriv, sizeof(unpriv));
	(void)field(entry, 4, chroot_col, sizeof(chroot_col));
	(void)field(entry, 6, maxproc, sizeof(maxproc));
	if (!arg_value(entry, "user=", user, sizeof(user))) {
		say(d, L_FAIL, "postfix", "pipe service %s has no user=: add "
		    "user=%s to it in master.cf", service, cfg->run_user);
		good = false;
	} else {
		user[strcspn(user, ":")] = '\0';
		if (strcmp(user, cfg->run_user) != 0) {
			say(d, L_FAIL, "postfix", "pipe service %s runs as "
			    "user=%s, but casemail runs as %s (run_user): "
			    "set user=%s in master.cf, then postfix reload",
			    service, user, cfg->run_user, cfg->run_user);
			good = false;
		}
	}
	if (strcmp(unpriv, "n") != 0) {
		say(d, L_FAIL, "postfix", "pipe service %s has unpriv %s: "
		    "set that column to n (pipe must start as root to become "
		    "user=)", service, unpriv);
		good = false;
	}
	if (strcmp(chroot_col, "y") == 0) {
		say(d, L_FAIL, "postfix", "pipe service %s is chrooted: set "
		    "the chroot column to n (casemail-mda needs the real "
		    "file system)", service);
		good = false;
	}
	if (argv_at == NULL || !field(argv_at + 6, 0, prog, sizeof(prog)) ||
	    strstr(prog, "casemail-mda") == NULL) {
		say(d, L_FAIL, "postfix", "pipe service %s does not run "
		    "casemail-mda: argv=/usr/bin/casemail-mda -c %s ... "
		    "(conf/postfix/master.cf.snippet)", service,
		    d->conf_path);
		good = false;
	} else {
		if (stat(prog, &sb) < 0 || !S_ISREG(sb.st_mode) ||
		    (sb.st_mode & 0111) == 0) {
			say(d, L_FAIL, "postfix", "pipe service %s runs %s, "
			    "which is not an executable file: fix argv= in "
			    "master.cf", service, prog);
			good = false;
		}
		if (strstr(argv_at, " -c ") != NULL) {
			char conf[512];
			const char *c = strstr(argv_at, " -c ") + 4;

			if (field(c, 0, conf, sizeof(conf)) &&
			    !same_file(conf, d->conf_path))
				say(d, L_WARN, "postfix", "pipe service %s "
				    "reads %s, this check read %s: make them "
				    "the same file (casemail -c)", service,
				    conf, d->conf_path);
		}
		if (strstr(argv_at, "${queue_id}") == NULL)
			say(d, L_WARN, "postfix", "pipe service %s passes no "
			    "${queue_id}: add --queue-id ${queue_id} to argv= "
			    "so that a retried delivery is stored once",
			    service);
	}
	if (strstr(entry, "-o soft_bounce=yes") == NULL)
		say(d, L_WARN, "postfix", "pipe service %s has no -o "
		    "soft_bounce=yes: add it (before flags=) so that a "
		    "broken installation defers instead of bouncing",
		    service);
	rl = limit(d, service, "destination_recipient_limit", out);
	if (rl != 1) {
		say(d, L_FAIL, "postfix", "%s_destination_recipient_limit is "
		    "%ld: postconf -e '%s_destination_recipient_limit = 1' "
		    "(one recipient per delivery)", service, rl, service);
		good = false;
	}
	cl = limit(d, service, "destination_concurrency_limit", out);
	if (good)
		say(d, L_OK, "postfix", "pipe service %s runs %s as %s, "
		    "recipient limit 1, concurrency %ld, maxproc %s",
		    service, prog, user, cl, maxproc);
}

/* check_lmtp - the lmtp(8) service and casemail-lmtpd's socket */
static void
check_lmtp(struct doc *d, const char *service, const char *entry,
	   const char *nexthop, struct cm_buf *out)
{
	const struct cm_config *cfg = d->cfg;
	char *path = NULL, owner[64];
	struct stat sb;
	long rl;
	bool good = true;

	if (strncmp(nexthop, "unix:", 5) == 0) {
		const char *p = nexthop + 5;

		if (p[0] == '/') {
			path = cm_xstrdup(p);
		} else if (postconf(d, "queue_directory", out) == 0) {
			path = cm_xasprintf("%s/%s", out->data, p);
		}
	}
	if (path == NULL) {
		say(d, L_WARN, "postfix", "lmtp service %s goes to %s, not a "
		    "unix socket: casemail-lmtpd listens on one "
		    "(unix:private/casemail-lmtp)", service, nexthop);
	} else if (lstat(path, &sb) < 0) {
		if (errno == EACCES)
			say(d, L_WARN, "postfix", "cannot look at %s as "
			    "this user: run casemail doctor as root", path);
		else
			say(d, L_FAIL, "postfix", "no casemail-lmtpd socket "
			    "at %s: start casemail-lmtpd (systemctl start "
			    "casemail-lmtpd)", path);
		good = false;
	} else if (!S_ISSOCK(sb.st_mode)) {
		say(d, L_FAIL, "postfix", "%s is not a socket: remove it and "
		    "start casemail-lmtpd", path);
		good = false;
	} else {
		uid_t want;
		unsigned int uid, gid;
		const char *err = NULL;

		if (cm_preflight_owner(cfg, &uid, &gid, &err) == 0) {
			want = (uid_t)uid;
			if (sb.st_uid != want) {
				(void)snprintf(owner, sizeof(owner), "%lu",
					       (unsigned long)sb.st_uid);
				say(d, L_FAIL, "postfix", "socket %s belongs "
				    "to uid %s, not to %s: start "
				    "casemail-lmtpd with --user %s", path,
				    owner, cfg->run_user, cfg->run_user);
				good = false;
			}
		}
	}
	if (strstr(entry, "-o lmtp_send_xforward_command=yes") == NULL &&
	    (postconf(d, "lmtp_send_xforward_command", out) != 0 ||
	     strcmp(out->data, "yes") != 0))
		say(d, L_WARN, "postfix", "lmtp service %s sends no XFORWARD: "
		    "add -o lmtp_send_xforward_command=yes so that a retried "
		    "delivery is stored once", service);
	if (strstr(entry, "-o soft_bounce=yes") == NULL)
		say(d, L_WARN, "postfix", "lmtp service %s has no -o "
		    "soft_bounce=yes: add it so that a missing daemon defers "
		    "instead of bouncing", service);
	rl = limit(d, service, "destination_recipient_limit", out);
	if (rl > DOC_LMTP_RCPT_MAX)
		say(d, L_WARN, "postfix", "%s_destination_recipient_limit is "
		    "%ld, casemail-lmtpd takes %d: postconf -e "
		    "'%s_destination_recipient_limit = %d'", service, rl,
		    DOC_LMTP_RCPT_MAX, service, DOC_LMTP_RCPT_MAX);
	if (good)
		say(d, L_OK, "postfix", "lmtp service %s to %s (socket of "
		    "%s), recipient limit %ld", service, path, cfg->run_user,
		    rl);
	free(path);
}

/* check_postfix - the Postfix side, read with postconf and postmap */
static void
check_postfix(struct doc *d)
{
	const struct cm_config *cfg = d->cfg;
	struct cm_buf out, maps;
	char service[64], map[512], cmd[32];
	const char *dom = cfg->mail_domain;
	char *nexthop = NULL;
	bool found = false;
	int rc;

	cm_buf_init(&out, DOC_OUT_MAX + 1);
	cm_buf_init(&maps, DOC_OUT_MAX + 1);
	rc = postconf(d, "recipient_delimiter", &out);
	if (rc == 127 || rc < 0) {
		say(d, L_WARN, "postfix", "postconf cannot run here: the "
		    "Postfix checks are skipped (install postfix, or give "
		    "--no-postfix when mail arrives by IMAP)");
		goto out;
	}
	if (rc != 0) {
		say(d, L_FAIL, "postfix", "postconf%s%s fails: check the "
		    "Postfix configuration (postfix check)",
		    d->pfdir != NULL ? " -c " : "",
		    d->pfdir != NULL ? d->pfdir : "");
		goto out;
	}
	if (out.data[0] == '\0')
		say(d, L_FAIL, "postfix", "recipient_delimiter is not set: "
		    "postconf -e 'recipient_delimiter = +' (reply+KEY@%s "
		    "must reach casemail with its KEY)", dom);
	else if (strchr(out.data, '+') == NULL)
		say(d, L_FAIL, "postfix", "recipient_delimiter is \"%s\", "
		    "without +: postconf -e 'recipient_delimiter = %s+'",
		    out.data, out.data);
	else
		say(d, L_OK, "postfix", "recipient_delimiter = %s", out.data);
	if (postconf(d, "relay_domains", &out) == 0 && has_word(out.data, dom))
		say(d, L_OK, "postfix", "%s is in relay_domains", dom);
	else
		say(d, L_WARN, "postfix", "%s is not in relay_domains: add it "
		    "(postconf -e 'relay_domains = %s'), so that its "
		    "addresses are relayed to casemail, not looked up as "
		    "local users", dom, dom);

	if (postconf(d, "transport_maps", &maps) != 0 ||
	    maps.data[0] == '\0') {
		say(d, L_FAIL, "postfix", "transport_maps is empty: "
		    "postconf -e 'transport_maps = hash:/etc/postfix/"
		    "transport' and put \"%s casemail:\" in that map "
		    "(postmap it)", dom);
		goto out;
	}
	for (int k = 0; !found && k < 16; k++) {
		const char *p = maps.data;
		size_t n = 0;
		int i;

		for (i = 0; i <= k; i++) {
			p += n;
			p += strspn(p, " \t\n,");
			n = strcspn(p, " \t\n,");
			if (n == 0)
				break;
		}
		if (n == 0 || n >= sizeof(map))
			break;
		memcpy(map, p, n);
		map[n] = '\0';
		if (map_lookup(d, map, dom, &out) == 0 && out.data[0] != '\0')
			found = true;
	}
	if (!found) {
		say(d, L_FAIL, "postfix", "no transport for %s in "
		    "transport_maps (%s): add \"%s casemail:\" (or "
		    "cmlmtp:unix:private/casemail-lmtp) to the map, "
		    "then postmap it", dom, maps.data, dom);
		goto out;
	}
	{
		size_t n = strcspn(out.data, ":");

		if (out.data[n] != ':' || n == 0 || n >= sizeof(service)) {
			say(d, L_FAIL, "postfix", "%s maps %s to \"%s\", not "
			    "to a service: write \"%s casemail:\"", map, dom,
			    out.data, dom);
			goto out;
		}
		memcpy(service, out.data, n);
		service[n] = '\0';
		say(d, L_OK, "postfix", "%s sends %s to %s", map, dom,
		    out.data);
		nexthop = cm_xstrdup(out.data + n + 1);
	}
	if (master_entry(d, service, &out) != 0 || out.data[0] == '\0') {
		say(d, L_FAIL, "postfix", "master.cf has no service %s: "
		    "append conf/postfix/master.cf.snippet (pipe) or "
		    "master.cf.lmtp, then postfix reload", service);
		goto out;
	}
	if (!field(out.data, 7, cmd, sizeof(cmd))) {
		say(d, L_FAIL, "postfix", "master.cf entry of %s cannot be "
		    "read: postconf -M %s/unix", service, service);
		goto out;
	}
	if (strcmp(cmd, "pipe") == 0) {
		char *entry = cm_xstrdup(out.data);

		check_pipe(d, service, entry, &out);
		free(entry);
	} else if (strcmp(cmd, "lmtp") == 0) {
		char *entry = cm_xstrdup(out.data);

		check_lmtp(d, service, entry, nexthop, &out);
		free(entry);
	} else {
		say(d, L_FAIL, "postfix", "service %s runs %s, not pipe or "
		    "lmtp: see docs/postfix.md", service, cmd);
	}
out:
	free(nexthop);
	cm_buf_free(&maps);
	cm_buf_free(&out);
}

/* ---- the configuration ---- */

/* put_warning - a doubtful setting as a WARN line */
static void
put_warning(enum cm_config_warning kind, const char *text, void *ctx)
{
	(void)kind;
	say(ctx, L_WARN, "config", "%s", text);
}

/* check_conf_file - the config file and its directory: readable by
 * run_user, writable by nobody but root */
static void
check_conf_file(struct doc *d)
{
	const struct cm_config *cfg = d->cfg;
	char *copy = cm_xstrdup(d->conf_path), *slash;
	const char *what[2];
	unsigned int uid = 0, gid = 0;
	const char *err = NULL;
	bool good = true;

	slash = strrchr(copy, '/');
	if (slash != NULL && slash != copy)
		*slash = '\0';
	else if (slash == copy)
		copy[1] = '\0';
	what[0] = d->conf_path;
	what[1] = slash != NULL ? copy : ".";
	/* test rigs (mda_allow_root) may have no run_user at all */
	if (!cfg->mda_allow_root &&
	    cm_preflight_owner(cfg, &uid, &gid, &err) < 0) {
		say(d, L_FAIL, "config", "%s", err);
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		struct stat sb;

		if (stat(what[i], &sb) < 0) {
			say(d, L_FAIL, "config", "%s: %s", what[i],
			    strerror(errno));
			good = false;
			continue;
		}
		if ((sb.st_mode & 002) ||
		    ((sb.st_mode & 020) && sb.st_gid != 0)) {
			say(d, L_FAIL, "config", "%s (mode %04o) may be "
			    "changed by others: chmod go-w %s", what[i],
			    (unsigned)(sb.st_mode & 07777), what[i]);
			good = false;
		} else if (sb.st_uid == (uid_t)uid && uid != 0 &&
			   !cfg->mda_allow_root) {
			say(d, L_WARN, "config", "%s belongs to %s, who could "
			    "rewrite it: chown root:%s %s", what[i],
			    cfg->run_user, cfg->run_user, what[i]);
			good = false;
		}
		if (i == 0 && (sb.st_mode & 004)) {
			say(d, L_WARN, "config", "%s (mode %04o) is readable "
			    "by every user: chgrp %s %s; chmod 0640 %s",
			    what[i], (unsigned)(sb.st_mode & 07777),
			    cfg->run_user, what[i], what[i]);
			good = false;
		}
	}
	if (good)
		say(d, L_OK, "config", "%s loads; only root may change it",
		    d->conf_path);
out:
	free(copy);
}

/* ---- as run_user: files, database, mail out ---- */

/* put_problem - a cm_preflight problem as a FAIL line, by area */
static void
put_problem(const char *text, void *ctx)
{
	struct doc *d = ctx;
	const char *area = "files";

	if (strncmp(text, "secret", 6) == 0) {
		area = "secret";
		d->bad_secret = true;
	} else if (strncmp(text, "database", 8) == 0 ||
		   strstr(text, "-wal") != NULL ||
		   strstr(text, "-shm") != NULL) {
		area = "database";
		d->bad_db = true;
	} else if (strncmp(text, "outbox", 6) == 0) {
		area = "mail-out";
		d->bad_outbox = true;
	} else if (strncmp(text, "portal", 6) == 0) {
		area = "portal";
		d->bad_portal = true;
	} else {
		d->bad_files = true;
	}
	say(d, L_FAIL, area, "%s", text);
}

/* check_store - quick_check and the audit chain */
static void
check_store(struct doc *d)
{
	const struct cm_config *cfg = d->cfg;
	struct cm_secret *secret = NULL;
	struct cm_store *st = NULL;
	const char *err = NULL;
	int64_t rows = 0, bad = 0;
	int rc;

	if (d->bad_secret) {
		say(d, L_WARN, "database", "integrity and audit chain not "
		    "checked: fix the secret first");
		return;
	}
	secret = cm_secret_load(cfg->secret_file, NULL, &err);
	if (secret == NULL) {
		say(d, L_FAIL, "secret", "%s", err != NULL ? err : "unusable");
		goto out;
	}
	say(d, L_OK, "secret", "%s is private and loads", cfg->secret_file);
	if (d->bad_db) {
		say(d, L_WARN, "database", "integrity and audit chain not "
		    "checked: fix the database lines above first");
		goto out;
	}
	rc = cm_store_open(cfg->database, secret, cfg->busy_timeout,
			   CM_STORE_READONLY, &st, &err);
	if (rc < 0) {
		say(d, L_FAIL, "database", "%s does not open: %s: see "
		    "casemail(1), DIAGNOSTICS", cfg->database,
		    err != NULL ? err : "failed");
		goto out;
	}
	rc = cm_store_quick_check(st, &err);
	if (rc < 0)
		say(d, L_FAIL, "database", "%s fails SQLite's quick_check: "
		    "%s: stop the casemail programs and restore the last "
		    "good backup", cfg->database, err != NULL ? err : "?");
	else
		say(d, L_OK, "database", "%s (schema %d) passes quick_check",
		    cfg->database, cm_store_version(st));
	rc = cm_store_audit_verify(st, &rows, &bad, &err);
	if (rc < 0 && bad > 0)
		say(d, L_FAIL, "audit", "the audit log is broken at row %lld: "
		    "%s: keep the file for investigation, compare with the "
		    "anchors in syslog (casemail audit verify --anchor)",
		    (long long)bad, err != NULL ? err : "hash mismatch");
	else if (rc < 0)
		say(d, L_FAIL, "audit", "the audit log cannot be verified: %s: "
		    "casemail audit verify", err != NULL ? err : "failed");
	else
		say(d, L_OK, "audit", "the audit log's hash chain is intact "
		    "(%lld rows)", (long long)rows);
out:
	cm_store_close(&st);
	cm_secret_free(&secret);
}

/* shown_url - url with the password of user:password@ hidden (caller
 * frees) */
static char *
shown_url(const char *url)
{
	const char *s = strstr(url, "://"), *at, *colon;

	if (s != NULL && (at = strchr(s + 3, '@')) != NULL &&
	    (colon = memchr(s + 3, ':', (size_t)(at - s - 3))) != NULL)
		return cm_xasprintf("%.*s:****%s", (int)(colon - url), url,
				    at);
	return cm_xstrdup(url);
}

/* check_mail_out - the relay answers EHLO, or the outbox is there */
static void
check_mail_out(struct doc *d)
{
	const struct cm_config *cfg = d->cfg;
	struct cm_smtp_opts o;
	char greeting[CM_SMTP_REPLY_MAX], *url;
	const char *err = NULL;

	if (cfg->smtp_url[0] == '\0') {
		if (!d->bad_outbox)
			say(d, L_OK, "mail-out", "no smtp_url: notices go into "
			    "the outbox maildir %s", cfg->outbox_dir);
		return;
	}
	url = shown_url(cfg->smtp_url);
	memset(&o, 0, sizeof(o));
	o.url = cfg->smtp_url;
	o.require_tls = cfg->smtp_starttls;
	o.ca_file = cfg->smtp_ca_file;
	o.timeout = d->timeout;
	if (cm_smtp_probe(&o, greeting, sizeof(greeting), &err) < 0)
		say(d, L_FAIL, "mail-out", "smtp_url %s does not answer EHLO "
		    "within %ld s: %s: check that the relay runs and lets "
		    "this host in (or fix smtp_url)", url, d->timeout,
		    cli_san(err != NULL ? err : "failed"));
	else
		say(d, L_OK, "mail-out", "smtp_url %s answers EHLO (%s)", url,
		    cli_san(greeting));
	free(url);
}

/* cmd_doctor - every check, one line each */
int
cmd_doctor(struct cli *c, struct args *a)
{
	struct doc d;
	struct cm_config *cfg = NULL;
	const char *err = NULL, *t = arg_opt(a, "timeout");
	int ret = CLI_EXIT_ERR;

	memset(&d, 0, sizeof(d));
	d.conf_path = c->conf_path;
	d.pfdir = arg_opt(a, "postfix-dir");
	d.timeout = 5;
	if (t != NULL && cm_parse_long(t, 1, 120, &d.timeout) < 0)
		return cli_fail(CLI_EXIT_USAGE, "--timeout wants 1 to 120 "
				"seconds, not \"%s\"", cli_san(t));
	cfg = cm_config_load(c->conf_path, &err);
	if (cfg == NULL) {
		say(&d, L_FAIL, "config", "%s: casemail config check shows "
		    "where", err != NULL ? err : "does not load");
		goto done;
	}
	d.cfg = cfg;
	check_conf_file(&d);
	cm_config_warnings(cfg, put_warning, &d);
	if (arg_flag(a, "no-postfix"))
		say(&d, L_OK, "postfix", "not checked (--no-postfix)");
	else
		check_postfix(&d);
	if (cm_preflight_become(cfg, NULL, &err) < 0) {
		say(&d, L_FAIL, "files", "%s", err);
		goto done;
	}
	(void)cm_preflight(cfg, CM_PF_ALL, put_problem, &d);
	if (!d.bad_files) {
		struct passwd *pw = getpwuid(geteuid());

		say(&d, L_OK, "files", "spool, templates and password files "
		    "usable by %s", pw != NULL ? pw->pw_name : "this user");
	}
	check_store(&d);
	check_mail_out(&d);
done:
	printf("casemail doctor: %d ok, %d warning%s, %d failure%s\n",
	       d.n[L_OK], d.n[L_WARN], d.n[L_WARN] == 1 ? "" : "s",
	       d.n[L_FAIL], d.n[L_FAIL] == 1 ? "" : "s");
	ret = d.n[L_FAIL] > 0 ? CLI_EXIT_ERR : CLI_EXIT_OK;
	cm_config_free(&cfg);
	return ret;
}
