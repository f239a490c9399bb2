/*
 * preflight.c - what would stop a program at run time, found before
 *
 * SYNOPSIS
 *	n = cm_preflight(cfg, CM_PF_ALL, print_problem, NULL);
 *
 * DESCRIPTION
 *	Looks, as the effective user, at the files and settings a program
 *	will need, in the order a postmaster fixes them: secret, database,
 *	spool, outbox, templates, password and key files, the portal's
 *	addresses. Every problem is one line naming the file or key, what
 *	is wrong with it and, after a colon, the one command or setting
 *	that fixes it. Ownership is checked against the effective user:
 *	root's checks run after cm_preflight_become.
 *
 * DIAGNOSTICS
 *	Nothing is logged: problems are handed to the caller's function.
 *
 * SECURITY
 *	The secret is loaded to prove it usable and freed (wiped) at once.
 *	Files are looked at with lstat: a symbolic link where a private file
 *	belongs is a problem, as the programs refuse to follow one.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm_preflight.h"
#include "cm_store.h"
#include "cm_template.h"
#include "cm_token.h"
#include "cm_util.h"

#define LINE_MAX_PF 1024 /* bytes of one problem line */

/* The templates casemail-send loads (sender/notice.c, tpl_names) */
static const char *const tpl_names[] = {
	"update",	  "update-discreet", "fresh_link",
	"fresh_link-discreet", "officer_notify", "bounce_alert",
	"sms",		  "sms-discreet",
};

struct pf {
	void (*fn)(const char *problem, void *ctx);
	void *ctx;
	int n;
	char user[64]; /* the effective user's name */
};

/* say - one problem line */
static void CM_ATTR_PRINTF(2, 3)
say(struct pf *p, const char *fmt, ...)
{
	char line[LINE_MAX_PF];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	p->fn(line, p->ctx);
	p->n++;
}

/* user_name - the name of uid into buf (the number when unknown) */
static void
user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL && strlen(pw->pw_name) < size)
		(void)snprintf(buf, size, "%s", pw->pw_name);
	else
		(void)snprintf(buf, size, "%lu", (unsigned long)uid);
}

/*
 * private_file - path must be a regular file (not a link), owned by the
 * effective user, with no group or other bits; what names it in the
 * messages. false (after saying why) when it is not, or is missing
 * (missing_fix then says what makes it).
 */
static bool
private_file(struct pf *p, const char *what, const char *path,
	     const char *missing_fix)
{
	struct stat sb;
	char owner[64];
	bool ok = true;

	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT)
			say(p, "%s %s is missing: %s", what, path, missing_fix);
		else
			say(p, "%s %s: %s: the directories above it must "
			    "be searchable by %s", what, path,
			    strerror(errno), p->user);
		return false;
	}
	if (S_ISLNK(sb.st_mode)) {
		say(p, "%s %s is a symbolic link, which casemail does not "
		    "follow: put the file itself there", what, path);
		return false;
	}
	if (!S_ISREG(sb.st_mode)) {
		say(p, "%s %s is not a regular file: put the file there",
		    what, path);
		return false;
	}
	if (sb.st_uid != geteuid()) {
		user_name(sb.st_uid, owner, sizeof(owner));
		say(p, "%s %s belongs to %s, not to %s who runs casemail: "
		    "chown %s: %s", what, path, owner, p->user, p->user,
		    path);
		ok = false;
	}
	if ((sb.st_mode & 077) != 0) {
		say(p, "%s %s is mode %04o, readable by others: chmod 0600 "
		    "%s", what, path, (unsigned)(sb.st_mode & 07777), path);
		ok = false;
	}
	if (ok && access(path, R_OK) < 0) {
		say(p, "%s %s is not readable by %s: chmod 0600 %s", what,
		    path, p->user, path);
		ok = false;
	}
	return ok;
}

/*
 * writable_dir - dir must be a directory the effective user can write
 * and search; missing_fix says what makes it. true when so.
 */
static bool
writable_dir(struct pf *p, const char *what, const char *dir,
	     const char *missing_fix)
{
	struct stat sb;

	if (stat(dir, &sb) < 0) {
		if (errno == ENOENT)
			say(p, "%s %s is missing: %s", what, dir, missing_fix);
		else
			say(p, "%s %s: %s: the directories above it must "
			    "be searchable by %s", what, dir,
			    strerror(errno), p->user);
		return false;
	}
	if (!S_ISDIR(sb.st_mode)) {
		say(p, "%s %s is not a directory: remove it, then %s", what,
		    dir, missing_fix);
		return false;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		say(p, "%s %s is not writable by %s: chown %s: %s", what, dir,
		    p->user, p->user, dir);
		return false;
	}
	return true;
}

/* check_secret - the secret file; the loaded secret (caller frees) or
 * NULL */
static struct cm_secret *
check_secret(struct pf *p, const struct cm_config *cfg)
{
	struct cm_secret *s = NULL;
	const char *err = NULL;

	if (!private_file(p, "secret file", cfg->secret_file,
			  "run casemail init"))
		return NULL;
	if (cm_token_init() < 0) {
		say(p, "libsodium cannot start: check the installation");
		return NULL;
	}
	s = cm_secret_load(cfg->secret_file, NULL, &err);
	if (s == NULL)
		say(p, "secret file %s: %s: restore it from the backup",
		    cfg->secret_file, err != NULL ? err : "unusable");
	return s;
}

/* check_database - the database file, its directory, its -wal and
 * -shm, and that it opens with the secret (when there is one) */
static void
check_database(struct pf *p, const struct cm_config *cfg,
	       const struct cm_secret *secret)
{
	struct cm_store *st = NULL;
	const char *err = NULL;
	char *copy = cm_xstrdup(cfg->database), *dir, *side = NULL;
	bool ok;

	dir = strrchr(copy, '/');
	if (dir == copy)
		dir[1] = '\0';
	else if (dir != NULL)
		*dir = '\0';
	ok = writable_dir(p, "database directory",
			  dir != NULL ? copy : ".",
			  "run casemail init (SQLite writes its -wal and "
			  "-shm files beside the database)");
	if (!ok) {
		/* the directory's line says it all */
	} else if (!private_file(p, "database", cfg->database,
				 "run casemail init"))
		ok = false;
	else if (access(cfg->database, W_OK) < 0) {
		say(p, "database %s is not writable by %s: chmod 0600 %s",
		    cfg->database, p->user, cfg->database);
		ok = false;
	}
	for (int i = 0; i < 2; i++) {
		struct stat sb;

		free(side);
		side = cm_xasprintf("%s-%s", cfg->database,
				    i == 0 ? "wal" : "shm");
		if (lstat(side, &sb) == 0 && sb.st_uid != geteuid()) {
			char owner[64];

			user_name(sb.st_uid, owner, sizeof(owner));
			say(p, "%s belongs to %s, not to %s: stop every "
			    "casemail program, then chown %s: %s", side,
			    owner, p->user, p->user, side);
			ok = false;
		}
	}
	if (ok && secret != NULL) {
		if (cm_store_open(cfg->database, secret, cfg->busy_timeout,
				  CM_STORE_READONLY, &st, &err) < 0)
			say(p, "database %s does not open: %s: see "
			    "casemail(1), DIAGNOSTICS", cfg->database,
			    err != NULL ? err : "failed");
		cm_store_close(&st);
	}
	free(side);
	free(copy);
}

/* check_outbox - the outbox maildir, when mail is not sent by SMTP */
static void
check_outbox(struct pf *p, const struct cm_config *cfg)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char *d;

	if (cfg->smtp_url[0] != '\0')
		return;
	for (size_t i = 0; i < CM_ARRAY_SIZE(sub); i++) {
		d = cm_xasprintf("%s/%s", cfg->outbox_dir, sub[i]);
		if (!writable_dir(p, "outbox maildir", d,
				  "run casemail init (or set smtp_url)")) {
			free(d);
			return;
		}
		free(d);
	}
}

/* check_templates - every template casemail-send loads */
static void
check_templates(struct pf *p, const struct cm_config *cfg)
{
	struct cm_template *t;
	const char *err = NULL;

	for (size_t i = 0; i < CM_ARRAY_SIZE(tpl_names); i++) {
		t = cm_template_load(cfg->template_dir, tpl_names[i], &err);
		if (t == NULL) {
			say(p, "templates: %s: install them (make install) "
			    "or set template_dir",
			    err != NULL ? err : cfg->template_dir);
			return;
		}
		cm_template_free(&t);
	}
}

/* check_files - the password and key files that are set */
static void
check_files(struct pf *p, const struct cm_config *cfg)
{
	const char *const f[][2] = {
		{ "smtp_password_file", cfg->smtp_password_file },
		{ "sms_key_file", cfg->sms_key_file },
		{ "imap_password_file", cfg->imap_password_file },
	};

	for (size_t i = 0; i < CM_ARRAY_SIZE(f); i++)
		if (f[i][1] != NULL && f[i][1][0] != '\0')
			(void)private_file(p, f[i][0], f[i][1],
					   "write it, mode 0600");
}

/*
 * host_port - split "HOST:PORT" or "[V6]:PORT" (s, n bytes) into host
 * (brackets dropped, lower-cased) and *port (def when absent); false
 * when it does not parse
 */
static bool
host_port(const char *s, size_t n, char host[128], long def, long *port)
{
	const char *colon = NULL, *h = s;
	size_t hl;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL)
			return false;
		h = s + 1;
		hl = (size_t)(close - h);
		if ((size_t)(close + 1 - s) < n) {
			if (close[1] != ':')
				return false;
			colon = close + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		hl = colon != NULL ? (size_t)(colon - s) : n;
	}
	if (hl == 0 || hl >= 128)
		return false;
	for (size_t i = 0; i < hl; i++)
		host[i] = (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32
							       : h[i]);
	host[hl] = '\0';
	*port = def;
	if (colon != NULL) {
		char num[8];
		size_t nl = n - (size_t)(colon + 1 - s);

		if (nl == 0 || nl >= sizeof(num))
			return false;
		memcpy(num, colon + 1, nl);
		num[nl] = '\0';
		if (cm_parse_long(num, 1, 65535, port) < 0)
			return false;
	}
	return true;
}

/* loopback - a host name or address of this machine's loopback */
static bool
loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 ||
	       strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

/*
 * check_portal - can a browser following portal_url reach the portal
 * listening on portal_listen? Only decidable when portal_url names this
 * machine's loopback or the listening address itself (no proxy between
 * them): then the portal must be what answers, in plain http on the
 * same port. A name of the force's (behind a proxy) is not checked.
 */
static void
check_portal(struct pf *p, const struct cm_config *cfg)
{
	const char *u = cfg->portal_url, *a, *end;
	char uhost[128], lhost[128];
	long uport = 0, lport = 0;
	bool https = cm_str_has_prefix_ci(u, "https://");

	a = strstr(u, "://");
	if (a == NULL)
		return;
	a += 3;
	end = a + strcspn(a, "/?#");
	if (!host_port(a, (size_t)(end - a), uhost, https ? 443 : 80,
		       &uport) ||
	    !host_port(cfg->portal_listen, strlen(cfg->portal_listen), lhost,
		       0, &lport))
		return;
	if (!loopback(uhost) && strcmp(uhost, lhost) != 0)
		return; /* a name or address of the proxy's */
	if (https && uport == lport) {
		say(p, "portal_url %s leads to portal_listen %s, which "
		    "speaks plain http, not https: set portal_url to the "
		    "address of the TLS proxy (or http://%s:%ld for a "
		    "trial on this machine)", u, cfg->portal_listen,
		    loopback(lhost) ? lhost : uhost, lport);
		return;
	}
	if (https)
		return; /* a TLS proxy on this machine, on its own port */
	if (uport != lport || (loopback(uhost) && !loopback(lhost) &&
			       strcmp(lhost, "0.0.0.0") != 0)) {
		say(p, "portal_url %s does not reach portal_listen %s: "
		    "the links would lead nowhere and forms would be refused "
		    "as sent from another site; make them name the same "
		    "address and port (or put the proxy's address in "
		    "portal_url)", u, cfg->portal_listen);
	}
}

/* cm_preflight - everything need names, as the effective user */
int
cm_preflight(const struct cm_config *cfg, unsigned int need,
	     void (*fn)(const char *problem, void *ctx), void *ctx)
{
	struct pf p;
	struct cm_secret *secret = NULL;

	memset(&p, 0, sizeof(p));
	p.fn = fn;
	p.ctx = ctx;
	user_name(geteuid(), p.user, sizeof(p.user));
	if (need & (CM_PF_SECRET | CM_PF_DATABASE))
		secret = check_secret(&p, cfg);
	if (need & CM_PF_DATABASE)
		check_database(&p, cfg, secret);
	if ((need & CM_PF_SPOOL) && cfg->spool_dir != NULL &&
	    cfg->spool_dir[0] != '\0')
		(void)writable_dir(&p, "spool directory", cfg->spool_dir,
				   "run casemail init");
	if (need & CM_PF_OUTBOX)
		check_outbox(&p, cfg);
	if (need & CM_PF_TEMPLATES)
		check_templates(&p, cfg);
	if (need & CM_PF_FILES)
		check_files(&p, cfg);
	if (need & CM_PF_PORTAL)
		check_portal(&p, cfg);
	cm_secret_free(&secret);
	return p.n;
}

/* cm_preflight_owner - uid and gid of run_user */
int
cm_preflight_owner(const struct cm_config *cfg, unsigned int *uid_r,
		   unsigned int *gid_r, const char **error_r)
{
	static char err[256];
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(cfg->run_user);
	if (pw == NULL) {
		(void)snprintf(err, sizeof(err),
			       "no user %s (run_user): create it first "
			       "(useradd --system --user-group casemail)",
			       cfg->run_user);
		*error_r = err;
		return -1;
	}
	*uid_r = (unsigned int)pw->pw_uid;
	*gid_r = (unsigned int)pw->pw_gid;
	return 0;
}

/* cm_preflight_become - root takes run_user's identity */
int
cm_preflight_become(const struct cm_config *cfg, bool *became_r,
		    const char **error_r)
{
	static char err[256];
	unsigned int uid, gid;
	gid_t g;

	if (became_r != NULL)
		*became_r = false;
	if (geteuid() != 0 || cfg->mda_allow_root)
		return 0;
	if (cm_preflight_owner(cfg, &uid, &gid, error_r) < 0)
		return -1;
	if (uid == 0)
		return 0;
	g = (gid_t)gid;
	if (setgroups(1, &g) < 0 || setgid(g) < 0 || setuid((uid_t)uid) < 0) {
		(void)snprintf(err, sizeof(err), "cannot become %s: %s",
			       cfg->run_user, strerror(errno));
		*error_r = err;
		return -1;
	}
	if (became_r != NULL)
		*became_r = true;
	return 0;
}
