/*
 * imap_in.c - casemail-mda --imap: ingest from an IMAP mailbox
 *
 * SYNOPSIS
 *	casemail-mda -c FILE --imap imaps://USER@HOST[:PORT]/MAILBOX [--once]
 *
 * DESCRIPTION
 *	For forces that cannot change their MX: replies land in a mailbox
 *	on an Exchange or Dovecot server and are fetched from there. Every
 *	pass lists the mailbox by UID. A UID already recorded as seen (under
 *	the mailbox's UIDVALIDITY) is only moved on; every other message is
 *	fetched with BODY.PEEK[] and placed through exactly the same guarded
 *	pipeline as pipe mode, the UID committed in the same transaction as
 *	the message. Only after that commit is the message flagged \Seen and
 *	moved to imap_done_folder (quarantined ones to
 *	imap_quarantine_folder). Nothing is expunged before its commit.
 *	A changed UIDVALIDITY makes every message unseen again; the content
 *	key (Message-ID and SHA-256) recognises those already stored, so a
 *	recreated mailbox yields no duplicates.
 *	Without --once the connection is held with IDLE (or polled where
 *	the server has none) and re-established with backoff after any
 *	failure, until SIGTERM or SIGINT, which end the current batch first.
 *	RFC 3501, 2177, 4315, 6851 (through lib/imap.c).
 *
 * DIAGNOSTICS
 *	One log line per message (UID, Message-ID through the origin,
 *	case, outcome) and per connection event. --once returns -1 when it
 *	could not finish; the messages left stay on the server.
 *
 * SECURITY
 *	The password comes from imap_password_file, mode 0600, never from
 *	the command line. TLS certificates are always verified; plain text
 *	only to a loopback address with imap_allow_plain.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cm_imap.h"
#include "cm_log.h"
#include "cm_token.h"
#include "mda.h"

#define BATCH 100           /* messages fetched and committed together */
#define IDLE_SECONDS 600    /* re-issue IDLE at least this often */
#define BACKOFF_MAX 300     /* seconds between reconnection attempts */
#define PASSWORD_MAX 1024

static volatile sig_atomic_t stopping;

/* on_stop - SIGTERM/SIGINT: finish the batch, then leave */
static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* pause_for - sleep seconds, cut short by SIGTERM */
static void
pause_for(unsigned int seconds)
{
	for (unsigned int s = 0; s < seconds && !stopping; s++)
		sleep(1);
}

/* struct target - what --imap names */
struct target {
	char *user;
	char *host;
	unsigned int port;
	char *mailbox;
	bool implicit_tls;
	char *key; /* "user@host/mailbox": the imap_seen key */
};

/* target_free - release a parsed URL */
static void
target_free(struct target *t)
{
	free(t->user);
	free(t->host);
	free(t->mailbox);
	free(t->key);
	memset(t, 0, sizeof(*t));
}

/* parse_url - imaps://USER@HOST[:PORT]/MAILBOX or imap://...; 0 or -1 */
static int
parse_url(const char *url, struct target *t, const char **error_r)
{
	const char *p, *at, *slash, *colon;
	long port = 0;

	memset(t, 0, sizeof(*t));
	if (strncmp(url, "imaps://", 8) == 0) {
		t->implicit_tls = true;
		p = url + 8;
	} else if (strncmp(url, "imap://", 7) == 0) {
		p = url + 7;
	} else {
		*error_r = "the URL must start with imaps:// or imap://";
		return -1;
	}
	at = strchr(p, '@');
	slash = strchr(p, '/');
	if (at == NULL || (slash != NULL && slash < at) || at == p) {
		*error_r = "the URL must name a user: imaps://USER@HOST/BOX";
		return -1;
	}
	t->user = cm_xstrndup(p, (size_t)(at - p));
	p = at + 1;
	slash = strchr(p, '/');
	t->host = slash != NULL ? cm_xstrndup(p, (size_t)(slash - p))
				: cm_xstrdup(p);
	colon = strrchr(t->host, ':');
	if (colon != NULL && strchr(t->host, ']') == NULL) {
		char *c = (char *)colon;

		*c = '\0';
		if (cm_parse_long(c + 1, 1, 65535, &port) < 0) {
			*error_r = "bad port in the URL";
			goto fail;
		}
	}
	t->port = (unsigned int)port;
	t->mailbox = cm_xstrdup(slash != NULL && slash[1] != '\0' ? slash + 1
								  : "INBOX");
	if (*t->host == '\0' || strpbrk(t->user, " \r\n\t") != NULL ||
	    strpbrk(t->host, " \r\n\t/") != NULL ||
	    !cm_imap_folder_valid(t->mailbox)) {
		*error_r = "malformed URL";
		goto fail;
	}
	t->key = cm_xasprintf("%s@%s/%s", t->user, t->host, t->mailbox);
	return 0;
fail:
	target_free(t);
	return -1;
}

/* read_password - the first line of a 0600 file; caller wipes and frees */
static char *
read_password(const char *path, const char **error_r)
{
	static char msg[512];
	struct stat st;
	char *data = NULL;
	size_t len = 0;

	if (path == NULL || *path == '\0') {
		*error_r = "imap_password_file is not set";
		return NULL;
	}
	if (stat(path, &st) < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		*error_r = msg;
		return NULL;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(msg, sizeof(msg),
			 "%s is mode %04o: it must not be readable by group "
			 "or others (chmod 600)",
			 path, (unsigned)(st.st_mode & 07777));
		*error_r = msg;
		return NULL;
	}
	if (cm_read_file(path, PASSWORD_MAX, &data, &len) < 0) {
		snprintf(msg, sizeof(msg), "%s: cannot read it", path);
		*error_r = msg;
		free(data);
		return NULL;
	}
	data[strcspn(data, "\r\n")] = '\0';
	return data;
}

/* connect_box - one connection with the settings of the config */
static int
connect_box(struct mda *m, const struct target *t, struct cm_imap **imap_r,
	    const char **error_r)
{
	const struct cm_config *cfg = m->cfg;
	struct cm_imap_params p;
	char *pw;
	int rc;

	pw = read_password(cfg->imap_password_file, error_r);
	if (pw == NULL)
		return CM_ETEMP;
	memset(&p, 0, sizeof(p));
	p.host = t->host;
	p.port = t->port;
	p.user = t->user;
	p.password = pw;
	p.mailbox = t->mailbox;
	p.ca_file = cfg->imap_ca_file != NULL && *cfg->imap_ca_file != '\0'
			    ? cfg->imap_ca_file
			    : NULL;
	p.max_message_size = (size_t)cfg->limits.max_message_size;
	if (t->implicit_tls)
		p.tls = CM_IMAP_TLS;
	else if (cfg->imap_starttls)
		p.tls = CM_IMAP_STARTTLS;
	else if (cfg->imap_allow_plain) {
		p.tls = CM_IMAP_PLAIN;
		p.allow_plain = true;
	} else {
		cm_token_wipe(pw, strlen(pw));
		free(pw);
		*error_r = "imap:// needs imap_starttls = yes (or "
			   "imap_allow_plain = yes, loopback only); or use "
			   "imaps://";
		return CM_ERR;
	}
	rc = cm_imap_connect(&p, imap_r, error_r);
	cm_token_wipe(pw, strlen(pw));
	free(pw);
	return rc;
}

/* folder_for - where a processed message goes */
static const char *
folder_for(const struct cm_config *cfg, const char *what)
{
	if (what != NULL && strcmp(what, "quarantine") == 0)
		return cfg->imap_quarantine_folder;
	return cfg->imap_done_folder;
}

/* move_seen - move on a UID already stored (a crash after the commit) */
static int
move_seen(struct mda *m, struct cm_imap *imap, uint32_t uid, const char *what,
	  const char **error_r)
{
	char wbuf[32];

	cm_strlcpy(wbuf, what != NULL ? what : "message", sizeof(wbuf));
	return cm_imap_done(imap, uid, folder_for(m->cfg, wbuf), error_r);
}

/* run_batch - fetch, deliver and move uids[0..n) */
static int
run_batch(struct mda *m, struct cm_imap *imap, const struct target *t,
	  const uint32_t *uids, size_t n, struct mda_counts *c,
	  const char **error_r)
{
	struct mda_job *jobs = cm_xcalloc(n, sizeof(*jobs));
	char **bufs = cm_xcalloc(n, sizeof(*bufs));
	char **origins = cm_xcalloc(n, sizeof(*origins));
	uint32_t uidvalidity = cm_imap_uidvalidity(imap);
	size_t nj = 0, i;
	int ret = 0, rc;

	for (i = 0; i < n && !stopping; i++) {
		size_t len = 0;

		rc = cm_imap_fetch(imap, uids[i], &bufs[nj], &len, error_r);
		if (rc == CM_ENOENT) /* expunged meanwhile */
			continue;
		if (rc == CM_ERR) {
			/* larger than max_message_size: the server keeps it;
			 * a postmaster has to look (logged every pass) */
			cm_log_warnx("imap=%s uid=%u status=skipped "
				     "reason=\"%s\"",
				     t->key, uids[i], *error_r);
			c->failed++;
			continue;
		}
		if (rc < 0) {
			ret = rc;
			break;
		}
		origins[nj] = cm_xasprintf("imap:%s:%u:%u", t->key,
					   uidvalidity, uids[i]);
		jobs[nj].data = bufs[nj];
		jobs[nj].len = len;
		jobs[nj].env.source = "imap";
		jobs[nj].env.origin = origins[nj];
		jobs[nj].env.imap_mailbox = t->key;
		jobs[nj].env.imap_uidvalidity = uidvalidity;
		jobs[nj].env.imap_uid = uids[i];
		nj++;
	}
	if (nj > 0 && mda_guard_run(m, jobs, nj, BATCH) < 0 && ret == 0) {
		ret = CM_ETEMP;
		for (i = 0; i < nj; i++)
			if (!jobs[i].committed) {
				*error_r = "store refused the batch";
				cm_log_err("imap=%s status=deferred "
					   "reason=\"%s\"",
					   t->key, jobs[i].res.reason);
				break;
			}
	}
	for (i = 0; i < nj; i++) {
		const char *what, *err = NULL;

		if (!jobs[i].committed) {
			c->failed++;
			continue;
		}
		mda_count(c, &jobs[i]);
		mda_log_result(&jobs[i].env, &jobs[i].res);
		what = jobs[i].res.outcome == MDA_QUARANTINED ? "quarantine"
							      : "message";
		/* committed: now, and only now, move it */
		rc = cm_imap_done(imap, (uint32_t)jobs[i].env.imap_uid,
				  folder_for(m->cfg, what), &err);
		if (rc < 0) {
			cm_log_warnx("imap=%s uid=%lld status=unmoved "
				     "reason=\"%s\"",
				     t->key, (long long)jobs[i].env.imap_uid,
				     err);
			if (ret == 0 && rc == CM_ETEMP) {
				ret = rc;
				*error_r = err;
			}
		}
	}
	for (i = 0; i < n; i++) {
		free(bufs[i]);
		free(origins[i]);
	}
	free(bufs);
	free(origins);
	free(jobs);
	return ret;
}

/* pass - one pass over the mailbox: move the seen, ingest the new */
static int
pass(struct mda *m, struct cm_imap *imap, const struct target *t,
     struct mda_counts *c, const char **error_r)
{
	uint32_t *uids = NULL, *todo;
	uint32_t uidvalidity = cm_imap_uidvalidity(imap);
	size_t n = 0, nt = 0, done = 0;
	bool tty = isatty(2);
	int ret;

	ret = cm_imap_uids_since(imap, 0, &uids, &n, error_r);
	if (ret < 0 || n == 0)
		goto out;
	if ((ret = mda_open_store(m, error_r)) < 0)
		goto out;
	todo = cm_xcalloc(n, sizeof(*todo));
	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *what = NULL;
		int rc;

		rc = cm_store_imap_seen_find(m->store, t->key, uidvalidity,
					     uids[i], &what, NULL, error_r);
		if (rc == CM_ENOENT)
			todo[nt++] = uids[i];
		else if (rc == 0)
			ret = move_seen(m, imap, uids[i], what, error_r);
		else
			ret = CM_ETEMP;
	}
	/* the parent keeps no connection across the children's forks */
	cm_store_close(&m->store);
	for (size_t i = 0; i < nt && ret == 0 && !stopping; i += BATCH) {
		size_t k = nt - i < BATCH ? nt - i : BATCH;

		ret = run_batch(m, imap, t, todo + i, k, c, error_r);
		done += k;
		if (tty && nt > BATCH)
			fprintf(stderr, "\rcasemail-mda: %zu/%zu messages",
				done, nt);
	}
	if (tty && nt > BATCH)
		fputc('\n', stderr);
	free(todo);
out:
	free(uids);
	return ret;
}

/* mda_imap_run - the --imap mode */
int
mda_imap_run(struct mda *m, const char *url, bool once,
	     struct mda_counts *c)
{
	struct sigaction sa;
	struct target t;
	struct cm_imap *imap = NULL;
	const char *err = NULL;
	unsigned int backoff = 1;
	int ret = -1, rc;

	if (parse_url(url, &t, &err) < 0) {
		cm_log_err("imap: %s", err);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: wake IDLE up */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	while (!stopping) {
		bool changed = false;

		if (imap == NULL) {
			rc = connect_box(m, &t, &imap, &err);
			if (rc < 0) {
				cm_log_err("imap=%s status=disconnected "
					   "reason=\"%s\"",
					   t.key, err);
				snprintf(m->reason, sizeof(m->reason), "%s",
					 err);
				if (once)
					break;
				/* permanent errors too: a postmaster fixes
				 * the password or the certificate */
				pause_for(backoff);
				backoff = backoff * 2 > BACKOFF_MAX
						  ? BACKOFF_MAX
						  : backoff * 2;
				continue;
			}
			cm_log_info("imap=%s status=connected uidvalidity=%u "
				    "idle=%s",
				    t.key, cm_imap_uidvalidity(imap),
				    cm_imap_has_idle(imap) ? "yes" : "no");
		}
		rc = pass(m, imap, &t, c, &err);
		if (rc == 0 && once) {
			ret = 0;
			break;
		}
		if (rc == 0 && !stopping) {
			/* wait for news; a pass (one UID SEARCH) follows
			 * either way, so nothing that slipped in is missed */
			rc = cm_imap_idle(imap, IDLE_SECONDS, &changed, &err);
			if (rc == 0) {
				backoff = 1;
				continue;
			}
		}
		if (rc < 0 && !stopping) {
			cm_log_err("imap=%s status=error reason=\"%s\"", t.key,
				   err != NULL ? err : "error");
			snprintf(m->reason, sizeof(m->reason), "%s",
				 err != NULL ? err : "error");
			cm_imap_close(&imap);
			if (once)
				break;
			pause_for(backoff);
			backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX
							    : backoff * 2;
		}
	}
	if (stopping)
		ret = 0;
	cm_imap_close(&imap);
	target_free(&t);
	return ret;
}
