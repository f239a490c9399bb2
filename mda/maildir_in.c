/*
 * maildir_in.c - casemail-mda --maildir: ingest a whole maildir
 *
 * SYNOPSIS
 *	mda_maildir_ingest(m, "/srv/mail/cases", &counts);
 *
 * DESCRIPTION
 *	Every message in new/ and every one in cur/ without the S flag is
 *	read, placed through the same pipeline as pipe mode (in a guarded
 *	child, committed in batches), and only after its batch is durable
 *	moved into cur/ with the S flag, or into .Quarantine when it was
 *	quarantined. Interrupted and run again, it neither loses nor
 *	duplicates anything: an uncommitted message is still unseen, and a
 *	committed one that was not moved yet is recognised as a duplicate.
 *	Only regular files are read: a symbolic link, FIFO, socket or
 *	device in new/ or cur/ is skipped with a log line and left in
 *	place (a link could name the server secret; a FIFO would block).
 *	Progress is shown on a terminal.
 *
 * DIAGNOSTICS
 *	Returns -1 when the store refused (the rest stays for the next
 *	run) or a file could not be moved; counts say what happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm_log.h"
#include "cm_maildir.h"
#include "mda.h"

#define CHUNK_FILES 500
#define CHUNK_BYTES (64UL * 1024 * 1024)
#define BATCH 100
#define READ_LIMIT (1024UL * 1024 * 1024)
#define SKIPPED 1 /* read_message: not a regular file, left alone */

struct paths {
	char **p;
	size_t n;
	size_t cap;
};

/* collect - remember one path from the scan */
static int
collect(const char *path, void *ctx)
{
	struct paths *ps = ctx;

	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 256;
		ps->p = cm_xrealloc(ps->p, ps->cap * sizeof(*ps->p));
	}
	ps->p[ps->n++] = cm_xstrdup(path);
	return 0;
}

/* file_size - size of path itself (a link is not followed), 0 if
 * unknown */
static off_t
file_size(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_size : 0;
}

/*
 * read_message - the bytes of one maildir file into *data_r (caller
 * frees). Only a regular file is read: a symbolic link (which could
 * name the server secret) is not followed and a FIFO is not waited on;
 * those are skipped and logged, and left where they are. 0 (CM_ERR from
 * cm_read_fd: over READ_LIMIT, the first bytes kept, to be
 * quarantined), SKIPPED, CM_ENOENT or CM_ETEMP (logged).
 */
static int
read_message(const char *path, char **data_r, size_t *len_r)
{
	const char *err = NULL;
	char s1[128], s2[300];
	int fd = -1, rc;

	*data_r = NULL;
	*len_r = 0;
	rc = cm_open_regular(path, &fd, NULL, &err);
	if (rc == CM_ERR || rc == CM_ETEMP)
		cm_log_warnx("origin=%s status=%s reason=\"%s%s\"",
			     cm_log_sanitize(s1, sizeof(s1), path, 100),
			     rc == CM_ERR ? "skipped" : "failed",
			     cm_log_sanitize(s2, sizeof(s2), err, 250),
			     rc == CM_ERR ? " (left in place)" : "");
	if (rc == CM_ERR)
		return SKIPPED;
	if (rc < 0)
		return rc;
	rc = cm_read_fd(fd, READ_LIMIT, data_r, len_r);
	if (rc == CM_ETEMP)
		cm_log_warn("cannot read %s", path);
	(void)close(fd);
	return rc == CM_ERR ? 0 : rc;
}

/* mda_count - add a committed job's outcome to the counters */
void
mda_count(struct mda_counts *c, const struct mda_job *job)
{
	switch (job->res.outcome) {
	case MDA_POSTED:
		c->ingested++;
		break;
	case MDA_HELD:
		c->held++;
		break;
	case MDA_QUARANTINED:
		c->quarantined++;
		break;
	case MDA_DUPLICATE:
		c->duplicates++;
		break;
	case MDA_EVENT:
		c->events++;
		break;
	}
}

/* move_done - move the committed files of a chunk, then sync */
static int
move_done(const char *dir, struct mda_job *jobs, size_t n,
	  struct mda_counts *c)
{
	const char *err = NULL;
	bool quarantined = false;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		int rc;

		if (!jobs[i].committed)
			continue;
		if (jobs[i].res.outcome == MDA_QUARANTINED) {
			rc = cm_maildir_move_to(dir, jobs[i].env.origin,
						".Quarantine", &err);
			quarantined = true;
		} else {
			rc = cm_maildir_mark_seen(dir, jobs[i].env.origin,
						  &err);
		}
		if (rc < 0) {
			cm_log_warnx("cannot move %s: %s", jobs[i].env.origin,
				     err);
			c->failed++;
			ret = -1;
		}
	}
	if (cm_maildir_sync(dir, quarantined ? ".Quarantine" : NULL, &err) <
	    0) {
		cm_log_warnx("cannot sync %s: %s", dir, err);
		ret = -1;
	}
	return ret;
}

/* ingest_chunk - read, deliver and move files [from, to); 0, -1 when a
 * file could not be moved, -2 when the store refused */
static int
ingest_chunk(struct mda *m, const char *dir, char **paths, size_t from,
	     size_t to, struct mda_counts *c)
{
	struct mda_job *jobs = cm_xcalloc(to - from, sizeof(*jobs));
	char **bufs = cm_xcalloc(to - from, sizeof(*bufs));
	size_t n = 0;
	int ret = 0, rc;

	for (size_t i = from; i < to; i++) {
		size_t len = 0;

		rc = read_message(paths[i], &bufs[n], &len);
		if (rc == CM_ENOENT || rc == SKIPPED) {
			/* moved by a concurrent run, or not a message */
			free(bufs[n]);
			bufs[n] = NULL;
			continue;
		}
		if (rc == CM_ETEMP) {
			free(bufs[n]);
			bufs[n] = NULL;
			c->failed++;
			continue;
		}
		jobs[n].data = bufs[n];
		jobs[n].len = len;
		jobs[n].env.source = "maildir";
		jobs[n].env.origin = paths[i];
		n++;
	}
	rc = mda_guard_run(m, jobs, n, BATCH);
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].committed) {
			mda_count(c, &jobs[i]);
			mda_log_result(&jobs[i].env, &jobs[i].res);
		} else {
			c->failed++;
		}
	}
	if (move_done(dir, jobs, n, c) < 0)
		ret = -1;
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			if (!jobs[i].committed) {
				cm_log_err("status=deferred reason=\"%s\"",
					   jobs[i].res.reason);
				break;
			}
		ret = -2; /* the store refused: stop, the rest waits */
	}
	for (size_t i = 0; i < to - from; i++)
		free(bufs[i]);
	free(bufs);
	free(jobs);
	return ret;
}

/* mda_maildir_ingest - the whole maildir, chunk by chunk */
int
mda_maildir_ingest(struct mda *m, const char *dir, struct mda_counts *c)
{
	struct paths ps = { NULL, 0, 0 };
	const char *err = NULL;
	bool tty = isatty(2);
	size_t i = 0;
	int ret = 0, rc;

	if (cm_maildir_scan(dir, collect, &ps, &err) < 0) {
		cm_log_err("maildir %s: %s", dir, err);
		return -1;
	}
	while (i < ps.n) {
		size_t to = i, bytes = 0;

		while (to < ps.n && to - i < CHUNK_FILES && bytes < CHUNK_BYTES)
			bytes += (size_t)file_size(ps.p[to++]);
		rc = ingest_chunk(m, dir, ps.p, i, to, c);
		if (rc < 0)
			ret = -1;
		if (rc == -2) {
			c->failed += (long)(ps.n - to);
			break;
		}
		i = to;
		if (tty)
			fprintf(stderr, "\rcasemail-mda: %zu/%zu messages", i,
				ps.n);
	}
	if (tty && ps.n > 0)
		fputc('\n', stderr);
	for (size_t k = 0; k < ps.n; k++)
		free(ps.p[k]);
	free(ps.p);
	return ret;
}
