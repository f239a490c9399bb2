/*
 * guard.c - run deliveries in a child; quarantine what kills it
 *
 * SYNOPSIS
 *	mda_guard_run(m, jobs, n, batch);
 *
 * DESCRIPTION
 *	Postfix defers a command killed by a signal and retries it, so a
 *	message that crashes the parser would crash again at every retry
 *	until it bounces. The process Postfix starts therefore keeps the
 *	message and forks a child that parses and stores it under a memory
 *	limit (RLIMIT_AS) and a time limit (SIGALRM around parsing). The
 *	child reports on a pipe, one line per step:
 *	  S i            job i started
 *	  R i o id ref\treason   job i placed (outcome o) in the open batch
 *	  C i            the batch through job i is committed
 *	  T i\treason    transient trouble at job i: stop, retry later
 *	If the child dies, the job it had started is quarantined by the
 *	parent with the reason (unless the child had committed it), the
 *	uncommitted rest of its batch is given to a new child, and nothing
 *	is lost, duplicated or retried into the same crash.
 *
 * DIAGNOSTICS
 *	Returns CM_ETEMP when the store refuses; the jobs not committed
 *	say why in res.reason.
 *
 * SECURITY
 *	The parent never parses message content; it only stores bytes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cm_log.h"
#include "cm_mime.h"
#include "mda.h"

#define CHILD_OK 0
#define CHILD_FATAL 99 /* cm_fatal in the child: out of memory and such */

/* report - one line to the parent; a dead parent ends the child */
static void CM_ATTR_PRINTF(2, 3)
report(int fd, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	if (cm_write_all(fd, line, (size_t)n) < 0)
		_exit(CHILD_FATAL);
}

/* mda_guard_limit - memory limit and the test hook that kills the child */
void
mda_guard_limit(const struct mda *m)
{
#if !defined(__SANITIZE_ADDRESS__)
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = (rlim_t)m->cfg->child_memory;
	if (setrlimit(RLIMIT_AS, &rl) < 0)
		cm_log_warn("setrlimit RLIMIT_AS");
#endif
	if (m->kill_after_us >= 0) {
		struct sigevent sev;
		struct itimerspec its;
		timer_t t;

		memset(&sev, 0, sizeof(sev));
		memset(&its, 0, sizeof(its));
		sev.sigev_notify = SIGEV_SIGNAL;
		sev.sigev_signo = SIGKILL;
		its.it_value.tv_sec = m->kill_after_us / 1000000;
		its.it_value.tv_nsec = (m->kill_after_us % 1000000) * 1000 + 1;
		if (timer_create(CLOCK_MONOTONIC, &sev, &t) == 0)
			timer_settime(t, 0, &its, NULL);
	}
}

/* worker - the child: deliver jobs from first on, in batches */
static void
worker(struct mda *m, struct mda_job *jobs, size_t first, size_t n,
       size_t batch, int fd)
{
	const char *err = NULL;
	size_t i = first;

	signal(SIGPIPE, SIG_IGN);
	mda_guard_limit(m);
	cm_mime_init();
	m->store = NULL; /* never use a connection across fork */
	if (mda_open_store(m, &err) < 0) {
		report(fd, "T %zu\tstore: %s", first, err);
		_exit(CHILD_OK);
	}
	while (i < n) {
		size_t count = 0, last = i;

		if (cm_store_begin(m->store, &err) < 0) {
			report(fd, "T %zu\tstore: %s", i, err);
			_exit(CHILD_OK);
		}
		for (; i < n && count < batch; i++) {
			struct mda_result *res = &jobs[i].res;

			if (jobs[i].done)
				continue;
			report(fd, "S %zu", i);
			if (m->kill_marker != NULL &&
			    memmem(jobs[i].data, jobs[i].len, m->kill_marker,
				   strlen(m->kill_marker)) != NULL)
				raise(SIGKILL); /* a message that kills */
			if (mda_deliver(m, jobs[i].data, jobs[i].len,
					&jobs[i].env, res) < 0) {
				cm_store_rollback(m->store);
				report(fd, "T %zu\t%s", i, res->reason);
				_exit(CHILD_OK);
			}
			report(fd, "R %zu %d %lld %s\t%s", i, (int)res->outcome,
			       (long long)res->id, res->case_ref, res->reason);
			count++;
			last = i;
		}
		if (count == 0)
			break;
		if (cm_store_commit(m->store, &err) < 0) {
			report(fd, "T %zu\tstore: commit: %s", last, err);
			_exit(CHILD_OK);
		}
		report(fd, "C %zu", last);
		mda_log_anchor(m);
	}
	cm_store_close(&m->store);
	_exit(CHILD_OK);
}

/* parse_result - "R i o id ref\treason" into the job */
static void
parse_result(struct mda_job *jobs, size_t n, char *line)
{
	unsigned long long i;
	int outcome;
	long long id;
	char ref[80];
	char *tab = strchr(line, '\t');

	if (tab == NULL ||
	    sscanf(line, "R %llu %d %lld %79s", &i, &outcome, &id, ref) != 4 ||
	    i >= n || outcome < MDA_POSTED || outcome > MDA_EVENT)
		return;
	jobs[i].res.status = CM_DS_OK;
	jobs[i].res.outcome = (enum mda_outcome)outcome;
	jobs[i].res.id = id;
	cm_strlcpy(jobs[i].res.case_ref, ref, sizeof(jobs[i].res.case_ref));
	cm_strlcpy(jobs[i].res.reason, tab + 1, sizeof(jobs[i].res.reason));
	jobs[i].done = true;
}

/* mda_guard_death - why the child ended, for the quarantine reason */
void
mda_guard_death(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		snprintf(buf, size, "parser %s (signal %d)",
			 sig == SIGALRM	  ? "timed out"
			 : sig == SIGKILL ? "was killed"
					  : "crashed",
			 sig);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_FATAL) {
		snprintf(buf, size, "parser ran out of memory or failed");
	} else {
		snprintf(buf, size, "parser exited with status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
}

/* mda_guard_rescue - the parent quarantines a job its child died on */
int
mda_guard_rescue(struct mda *m, struct mda_job *job, const char *why)
{
	const char *err = NULL;
	char errbuf[160];
	int ret = CM_ETEMP;

	if (mda_open_store(m, &err) < 0)
		goto fail;
	if (cm_store_begin(m->store, &err) < 0)
		goto fail;
	if (mda_quarantine(m, job->data, job->len, &job->env, why,
			   &job->res) < 0) {
		cm_store_rollback(m->store);
		err = job->res.reason;
		goto fail;
	}
	if (cm_store_commit(m->store, &err) < 0)
		goto fail;
	mda_log_anchor(m);
	job->done = job->committed = true;
	ret = 0;
	goto out;
fail:
	cm_strlcpy(errbuf, err != NULL ? err : "error", sizeof(errbuf));
	job->res.status = CM_DS_TEMP;
	if (snprintf(job->res.reason, sizeof(job->res.reason),
		     "cannot quarantine after %.80s: %.150s", why,
		     errbuf) < 0)
		job->res.reason[0] = '\0';
out:
	/* never carry an open connection into the next fork */
	cm_store_close(&m->store);
	return ret;
}

/* mark_temp - jobs from i on that are not committed get reason */
static void
mark_temp(struct mda_job *jobs, size_t from, size_t n, const char *reason)
{
	for (size_t i = from; i < n; i++) {
		if (jobs[i].committed)
			continue;
		jobs[i].done = false;
		jobs[i].res.status = CM_DS_TEMP;
		cm_strlcpy(jobs[i].res.reason, reason,
			   sizeof(jobs[i].res.reason));
	}
}

/* spawn - fork a worker for jobs[first..n); 0 or CM_ETEMP */
static int
spawn(struct mda *m, struct mda_guard *g)
{
	int fds[2];

	if (pipe(fds) < 0) {
		mark_temp(g->jobs, g->first, g->n, "pipe failed");
		return CM_ETEMP;
	}
	fflush(NULL);
	g->pid = fork();
	if (g->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		mark_temp(g->jobs, g->first, g->n, "fork failed");
		return CM_ETEMP;
	}
	if (g->pid == 0) {
		close(fds[0]);
		cm_log_set_fatal_status(CHILD_FATAL);
		worker(m, g->jobs, g->first, g->n, g->batch, fds[1]);
	}
	close(fds[1]);
	g->fp = fdopen(fds[0], "r");
	if (g->fp == NULL) {
		close(fds[0]);
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		mark_temp(g->jobs, g->first, g->n, "fdopen failed");
		return CM_ETEMP;
	}
	return 0;
}

/*
 * collect - read the running worker's report and reap it; rescue the
 * job it died on. 0 when every job is committed, 1 when a new worker
 * must take the rest, CM_ETEMP when the store refused.
 */
static int
collect(struct mda *m, struct mda_guard *g)
{
	struct mda_job *jobs = g->jobs;
	size_t n = g->n, i;
	long started = -1, committed_through = -1;
	bool temp = false;
	char temp_reason[300] = "";
	char *line = NULL, why[128];
	size_t cap = 0;
	int status = 0;

	while (getline(&line, &cap, g->fp) > 0) {
		unsigned long long x;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == 'S' && sscanf(line, "S %llu", &x) == 1)
			started = (long)x;
		else if (line[0] == 'R')
			parse_result(jobs, n, line);
		else if (line[0] == 'C' && sscanf(line, "C %llu", &x) == 1 &&
			 x < n) {
			for (i = g->first; i <= x; i++)
				if (jobs[i].done)
					jobs[i].committed = true;
			committed_through = (long)x;
		} else if (line[0] == 'T') {
			char *tab = strchr(line, '\t');

			temp = true;
			cm_strlcpy(temp_reason, tab ? tab + 1 : line,
				   sizeof(temp_reason));
		}
	}
	free(line);
	fclose(g->fp);
	g->fp = NULL;
	while (waitpid(g->pid, &status, 0) < 0 && errno == EINTR)
		;
	g->pid = -1;

	if (temp) {
		mark_temp(jobs, g->first, n, temp_reason);
		return CM_ETEMP;
	}
	/* done but not committed: the next child does them again */
	for (i = g->first; i < n; i++)
		if (jobs[i].done && !jobs[i].committed)
			jobs[i].done = false;
	while (g->first < n && jobs[g->first].committed)
		g->first++;
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK) {
		if (g->first >= n ||
		    (started < 0 && committed_through < 0))
			return 0; /* nothing left for a worker */
		return 1;
	}
	mda_guard_death(status, why, sizeof(why));
	if (started < 0 || jobs[started].committed) {
		/* died outside any message: try again, twice */
		if (++g->deaths_without_start > 2) {
			mark_temp(jobs, g->first, n, why);
			return CM_ETEMP;
		}
		return 1;
	}
	cm_log_warnx("child died on %s: %s; quarantining it",
		     jobs[started].env.origin != NULL
			     ? jobs[started].env.origin
			     : "message",
		     why);
	if (mda_guard_rescue(m, &jobs[started], why) < 0) {
		mark_temp(jobs, g->first, n, jobs[started].res.reason);
		return CM_ETEMP;
	}
	while (g->first < n && jobs[g->first].committed)
		g->first++;
	return g->first < n ? 1 : 0;
}

/* mda_guard_start - start delivering jobs in a child, return at once */
int
mda_guard_start(struct mda *m, struct mda_job *jobs, size_t n,
		size_t batch, struct mda_guard *g)
{
	memset(g, 0, sizeof(*g));
	g->jobs = jobs;
	g->n = n;
	g->batch = batch;
	g->pid = -1;
	if (n == 0)
		return 0;
	if (spawn(m, g) < 0) {
		g->failed = true;
		return CM_ETEMP;
	}
	return 0;
}

/* mda_guard_wait - finish what mda_guard_start began */
int
mda_guard_wait(struct mda *m, struct mda_guard *g)
{
	int rc = 0;

	if (g->failed)
		return CM_ETEMP;
	while (g->pid > 0) {
		rc = collect(m, g);
		if (rc != 1)
			break;
		if (spawn(m, g) < 0)
			return CM_ETEMP;
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < g->n; i++)
		if (!g->jobs[i].committed) {
			mark_temp(g->jobs, i, g->n, "not delivered");
			return CM_ETEMP;
		}
	return 0;
}

/* mda_guard_run - deliver jobs in children, rescue crashes */
int
mda_guard_run(struct mda *m, struct mda_job *jobs, size_t n, size_t batch)
{
	struct mda_guard g;

	if (mda_guard_start(m, jobs, n, batch, &g) < 0)
		return CM_ETEMP;
	return mda_guard_wait(m, &g);
}
