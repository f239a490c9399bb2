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
#define FETCH_BYTES (32UL * 1024 * 1024) /* most one FETCH may hold */
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

/* read_password - the first line of a 0600 file; caller wipes and frees
 * (cm_wipe_free or cm_token_wipe of the whole string, then free) */
static char *
read_password(const char *path, const char **error_r)
{
	static char msg[600];
	const char *why = NULL;
	char *data = NULL;
	size_t len = 0;

	if (path == NULL || *path == '\0') {
		*error_r = "imap_password_file is not set";
		return NULL;
	}
	/* opened once, checked on the descriptor: no stat-then-open race,
	 * never through a symbolic link */
	if (cm_read_private_file(path, PASSWORD_MAX, &data, &len, &why) < 0) {
		snprintf(msg, sizeof(msg), "imap_password_file %s", why);
		*error_r = msg;
		return NULL;
	}
	data[strcspn(data, "\r\n")] = '\0';
	explicit_bzero(data + strlen(data), len - strlen(data));
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

/* move_many - \Seen and move committed uids[0..n) to the folder for
 * what; a failure is logged (the next pass moves them: they are seen) */
static int
move_many(struct mda *m, struct cm_imap *imap, const struct target *t,
	  const uint32_t *uids, size_t n, const char *what,
	  const char **error_r)
{
	const char *err = NULL;
	int rc;

	if (n == 0)
		return 0;
	rc = cm_imap_done_many(imap, uids, n, folder_for(m->cfg, what), &err);
	if (rc < 0) {
		cm_log_warnx("imap=%s uids=%zu status=unmoved reason=\"%s\"",
			     t->key, n, err);
		if (rc == CM_ETEMP)
			*error_r = err;
	}
	return rc == CM_ETEMP ? rc : 0;
}

/* struct batch - up to BATCH messages on their way from the server */
struct batch {
	const uint32_t *uids;
	size_t n;
	struct mda_job *jobs;
	size_t nj;
	char **bufs;
	char **origins;
	struct mda_guard guard;
	bool started;
};

/* batch_free - release what a batch holds */
static void
batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->bufs[i]);
		free(b->origins[i]);
	}
	free(b->bufs);
	free(b->origins);
	free(b->jobs);
	memset(b, 0, sizeof(*b));
}

/* batch_fetch - fetch uids[0..n) into jobs (sizes first, so that one
 * FETCH never holds more than FETCH_BYTES) */
static int
batch_fetch(struct cm_imap *imap, const struct target *t,
	    const uint32_t *uids, size_t n, struct batch *b,
	    struct mda_counts *c, const char **error_r)
{
	uint32_t *sizes = cm_xcalloc(n, sizeof(*sizes));
	size_t *lens = cm_xcalloc(n, sizeof(*lens));
	int *rcs = cm_xcalloc(n, sizeof(*rcs));
	uint32_t uidvalidity = cm_imap_uidvalidity(imap);
	size_t i;
	int ret;

	memset(b, 0, sizeof(*b));
	b->uids = uids;
	b->n = n;
	b->jobs = cm_xcalloc(n, sizeof(*b->jobs));
	b->bufs = cm_xcalloc(n, sizeof(*b->bufs));
	b->origins = cm_xcalloc(n, sizeof(*b->origins));
	ret = cm_imap_sizes(imap, uids, n, sizes, error_r);
	for (i = 0; ret == 0 && i < n && !stopping;) {
		size_t k = i, bytes = 0;

		while (k < n && (k == i || bytes + sizes[k] <= FETCH_BYTES))
			bytes += sizes[k++];
		ret = cm_imap_fetch_many(imap, uids + i, k - i, b->bufs + i,
					 lens + i, rcs + i, error_r);
		i = k;
	}
	for (i = 0; ret == 0 && i < n; i++) {
		struct mda_job *j = &b->jobs[b->nj];

		if (rcs[i] == CM_ENOENT) /* expunged meanwhile */
			continue;
		if (rcs[i] == CM_ERR) {
			/* larger than max_message_size: the server keeps it;
			 * a postmaster has to look (logged every pass) */
			cm_log_warnx("imap=%s uid=%u status=skipped "
				     "reason=\"larger than max_message_size\"",
				     t->key, uids[i]);
			c->failed++;
			continue;
		}
		b->origins[i] = cm_xasprintf("imap:%s:%u:%u", t->key,
					     uidvalidity, uids[i]);
		j->data = b->bufs[i];
		j->len = lens[i];
		j->env.source = "imap";
		j->env.origin = b->origins[i];
		j->env.imap_mailbox = t->key;
		j->env.imap_uidvalidity = uidvalidity;
		j->env.imap_uid = uids[i];
		b->nj++;
	}
	free(sizes);
	free(lens);
	free(rcs);
	return ret;
}

/* batch_finish - wait for the child storing the batch, then move what
 * it committed, a folder at a time */
static int
batch_finish(struct mda *m, struct cm_imap *imap, const struct target *t,
	     struct batch *b, struct mda_counts *c, const char **error_r)
{
	uint32_t *done = cm_xcalloc(b->nj + 1, sizeof(*done));
	uint32_t *quar = cm_xcalloc(b->nj + 1, sizeof(*quar));
	size_t nd = 0, nq = 0, i;
	int ret = 0, rc;

	if (b->started && mda_guard_wait(m, &b->guard) < 0) {
		ret = CM_ETEMP;
		*error_r = "store refused the batch";
		for (i = 0; i < b->nj; i++)
			if (!b->jobs[i].committed) {
				cm_log_err("imap=%s status=deferred "
					   "reason=\"%s\"",
					   t->key, b->jobs[i].res.reason);
				break;
			}
	}
	for (i = 0; i < b->nj; i++) {
		const struct mda_job *j = &b->jobs[i];

		if (!j->committed) {
			c->failed++;
			continue;
		}
		mda_count(c, j);
		mda_log_result(&j->env, &j->res);
		if (j->res.outcome == MDA_QUARANTINED)
			quar[nq++] = (uint32_t)j->env.imap_uid;
		else
			done[nd++] = (uint32_t)j->env.imap_uid;
	}
	rc = move_many(m, imap, t, done, nd, "message", error_r);
	if (rc < 0 && ret == 0)
		ret = rc;
	rc = move_many(m, imap, t, quar, nq, "quarantine", error_r);
	if (rc < 0 && ret == 0)
		ret = rc;
	free(done);
	free(quar);
	return ret;
}

/* pass - one pass over the mailbox: move the seen, ingest the new; the
 * next batch is fetched while a child stores the current one */
static int
pass(struct mda *m, struct cm_imap *imap, const struct target *t,
     struct mda_counts *c, const char **error_r)
{
	struct batch cur, next;
	uint32_t *uids = NULL, *unseen = NULL;
	uint32_t uidvalidity = cm_imap_uidvalidity(imap);
	size_t n = 0, nt = 0, done = 0;
	bool tty = isatty(2), have = false;
	int ret, rc;

	memset(&cur, 0, sizeof(cur));
	ret = cm_imap_uids_since(imap, 0, &uids, &n, error_r);
	if (ret < 0 || n == 0)
		goto out;
	if ((ret = mda_open_store(m, error_r)) < 0)
		goto out;
	unseen = cm_xcalloc(n, sizeof(*unseen));
	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *what = NULL;

		rc = cm_store_imap_seen_find(m->store, t->key, uidvalidity,
					     uids[i], &what, NULL, error_r);
		if (rc == CM_ENOENT)
			unseen[nt++] = uids[i];
		else if (rc == 0)
			ret = move_seen(m, imap, uids[i], what, error_r);
		else
			ret = CM_ETEMP;
	}
	/* the parent keeps no connection across the children's forks */
	cm_store_close(&m->store);
	for (size_t i = 0; i < nt && ret == 0 && !stopping; i += BATCH) {
		size_t k = nt - i < BATCH ? nt - i : BATCH;

		ret = batch_fetch(imap, t, unseen + i, k, &next, c, error_r);
		if (have) {
			rc = batch_finish(m, imap, t, &cur, c, error_r);
			batch_free(&cur);
			have = false;
			if (rc < 0 && ret == 0)
				ret = rc;
		}
		if (ret < 0) {
			batch_free(&next);
			break;
		}
		cur = next;
		have = true;
		if (cur.nj > 0 && mda_guard_start(m, cur.jobs, cur.nj, BATCH,
						  &cur.guard) == 0)
			cur.started = true;
		else if (cur.nj > 0)
			ret = CM_ETEMP;
		done += k;
		if (tty && nt > BATCH)
			fprintf(stderr, "\rcasemail-mda: %zu/%zu messages",
				done, nt);
	}
	if (have) {
		rc = batch_finish(m, imap, t, &cur, c, error_r);
		batch_free(&cur);
		if (rc < 0 && ret == 0)
			ret = rc;
	}
	if (tty && nt > BATCH)
		fputc('\n', stderr);
out:
	free(unseen);
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
