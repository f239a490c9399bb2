/*
 * commit.c - group commit: one resident worker stores the finished
 * messages of every session in shared transactions
 *
 * SYNOPSIS
 *	c = lmtpd_commit_new(m, batch_max, worker_msgs);
 *	lmtpd_commit_add(c, fd);           (master, per session)
 *	n = lmtpd_commit_pollfds(c, p, max);
 *	ppoll(p, n, ...); lmtpd_commit_events(c, p, n);
 *	lmtpd_commit_request(fd, jobs, n);  (session, per message)
 *
 * DESCRIPTION
 *	A session that has read a message sends it, with its envelope and
 *	accepted recipients, to the master over a socketpair of its own
 *	and waits. The master queues what arrives from every session and
 *	hands the queue, as one batch, to a resident worker process. The
 *	worker delivers every job of the batch (mda_deliver: the same
 *	parse, route and store code as pipe mode) inside one transaction,
 *	commits once and reports. Only then does the master answer the
 *	sessions: a job is committed when the commit that contains it
 *	succeeded. While the worker stores one batch the next one gathers,
 *	so under load one commit (and its fsyncs) serves many messages,
 *	and the worker keeps its connection and prepared statements.
 *
 *	The worker reports on a pipe, one fixed-size record per step:
 *	  S i   job i started
 *	  R i   job i placed in the open transaction (with its result)
 *	  C i   the transaction through job i is committed
 *	  T i   transient trouble at job i: the batch is rolled back
 *	A T fails the batch: every job in it not yet committed is
 *	answered 451, and the worker exits. A worker that dies (crash,
 *	memory limit, the parse timer) has the job it started quarantined
 *	by the master (mda_guard_rescue), exactly as the pipe mode's guard
 *	does, and the rest of its batch goes to a new worker; a worker
 *	that dies twice more before starting a job fails the batch. A
 *	worker exits after worker_msgs messages (and after SIGHUP) and a
 *	new one is started for the next batch.
 *
 * DIAGNOSTICS
 *	Worker deaths and quarantines are logged here; each recipient's
 *	line is logged by its session (mda_log_result).
 *
 * SECURITY
 *	The master never parses message content: the worker does, under
 *	the memory limit (RLIMIT_AS) and, per message, the parse timer.
 *	The channels are socketpairs made by the master: nothing outside
 *	the daemon can reach them. Every length read from a channel is
 *	checked against the largest message the daemon accepts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cm_log.h"
#include "cm_mime.h"
#include "lmtpd.h"

#define FIELD_MAX 4096 /* an envelope field (the data excepted) */
#define BATCH_BYTES (8L * 1024 * 1024) /* data per batch, beyond one */

/* One report record from the worker. */
struct rec {
	uint32_t type; /* 'S', 'R', 'C', 'T' */
	uint32_t idx;
	struct mda_result res;
};

/* One answer to a session, per recipient. */
struct answer {
	struct mda_result res;
	int32_t committed;
};

struct chan;

/* One message from a session: its envelope, data and jobs. */
struct req {
	struct chan *ch;
	char *buf; /* the whole request as read (fields point into it) */
	size_t n;
	struct mda_job *jobs;
	struct req *next; /* the queue */
};

/* The master's end of one session's socketpair. */
struct chan {
	int fd;
	bool eof;        /* the session is gone */
	struct req *req; /* its request in flight, or NULL */
};

/* A job of the batch: which request, which recipient. */
struct slot {
	struct req *r;
	size_t j;
};

struct lmtpd_commit {
	struct mda *m;
	long batch_max, worker_msgs;
	struct chan **chans;
	size_t n_chans, cap_chans;
	struct req *head, *tail; /* requests waiting for a batch */

	pid_t wpid;        /* the worker, or -1 */
	int wfd, rfd;      /* jobs to it, its reports */
	long handled;      /* messages it has taken */
	bool retire;       /* restart it before the next batch */
	char rbuf[sizeof(struct rec) * 16];
	size_t rlen;

	struct slot *slots; /* the batch in the worker */
	size_t n_slots;
	bool busy;
	long started; /* slot the worker is on, or -1 */
	int deaths;   /* worker deaths without a started job */
};

/* read_full - exactly len bytes; 1, 0 at EOF before any, -1 */
static int
read_full(int fd, void *p, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

/* put_field - a length-prefixed field into b */
static int
put_field(struct cm_buf *b, const char *s, size_t len)
{
	uint64_t n = len;

	if (cm_buf_append(b, &n, sizeof(n)) < 0 ||
	    cm_buf_append(b, s != NULL ? s : "", len) < 0)
		return -1;
	return 0;
}

/* get_field - the next field of [*p, end): its start and length
 * (not NUL-terminated; dup_field copies it); 0 or -1 */
static int
get_field(char **p, const char *end, uint64_t max, char **s_r,
	  size_t *len_r)
{
	uint64_t n;

	if ((size_t)(end - *p) < sizeof(n))
		return -1;
	memcpy(&n, *p, sizeof(n));
	*p += sizeof(n);
	if (n > max || n > (uint64_t)(end - *p))
		return -1;
	*s_r = *p;
	*len_r = (size_t)n;
	*p += n;
	return 0;
}

/*
 * Wire format of a message (session to master, and master to worker
 * with one recipient per message): uint32 recipients, then the fields
 * sender, queue id, origin, the recipients, the data, each a uint64
 * length and its bytes, the whole preceded by its uint64 length.
 * Strings are made NUL-terminated by unpack, which copies.
 */
static int
pack(struct cm_buf *b, const struct mda_job *jobs, size_t n)
{
	const struct mda_envelope *e = &jobs[0].env;
	uint32_t nr = (uint32_t)n;
	uint64_t total;
	size_t at = b->len;

	total = 0;
	if (cm_buf_append(b, &total, sizeof(total)) < 0 ||
	    cm_buf_append(b, &nr, sizeof(nr)) < 0 ||
	    put_field(b, e->sender, e->sender ? strlen(e->sender) : 0) < 0 ||
	    put_field(b, e->queue_id,
		      e->queue_id ? strlen(e->queue_id) : 0) < 0 ||
	    put_field(b, e->origin, e->origin ? strlen(e->origin) : 0) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (put_field(b, jobs[i].env.recipient,
			      strlen(jobs[i].env.recipient)) < 0)
			return -1;
	if (put_field(b, jobs[0].data, jobs[0].len) < 0)
		return -1;
	total = b->len - at - sizeof(total);
	memcpy(b->data + at, &total, sizeof(total));
	return 0;
}

/* dup_field - a NUL-terminated copy; NULL for an empty queue id */
static char *
dup_field(const char *s, size_t len)
{
	char *r = cm_xmalloc(len + 1);

	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

/*
 * unpack - read one message from fd into a request: jobs with their
 * envelopes (strings owned by the request: freed by req_free). 1, 0
 * at EOF, -1 on a malformed or oversized message.
 */
static int
unpack(int fd, size_t max_data, struct req **r_r)
{
	struct req *r = NULL;
	uint64_t total;
	uint32_t nr;
	char *p, *end, *s, *sender, *qid, *origin;
	size_t len;
	int rc;

	rc = read_full(fd, &total, sizeof(total));
	if (rc <= 0)
		return rc;
	if (total < sizeof(nr) || total > max_data + 1024 * FIELD_MAX)
		return -1;
	r = cm_xcalloc(1, sizeof(*r));
	r->buf = cm_xmalloc((size_t)total + 1);
	if (read_full(fd, r->buf, (size_t)total) <= 0)
		goto bad;
	p = r->buf;
	end = r->buf + total;
	memcpy(&nr, p, sizeof(nr));
	p += sizeof(nr);
	if (nr == 0 || nr > 1000)
		goto bad;
	r->n = nr;
	r->jobs = cm_xcalloc(nr, sizeof(*r->jobs));
	if (get_field(&p, end, FIELD_MAX, &s, &len) < 0)
		goto bad;
	sender = dup_field(s, len);
	r->jobs[0].env.sender = sender;
	if (get_field(&p, end, FIELD_MAX, &s, &len) < 0)
		goto bad;
	qid = len > 0 ? dup_field(s, len) : NULL;
	r->jobs[0].env.queue_id = qid;
	if (get_field(&p, end, FIELD_MAX, &s, &len) < 0)
		goto bad;
	origin = dup_field(s, len);
	r->jobs[0].env.origin = origin;
	for (size_t i = 0; i < nr; i++) {
		if (get_field(&p, end, FIELD_MAX, &s, &len) < 0)
			goto bad;
		r->jobs[i].env.recipient = dup_field(s, len);
		r->jobs[i].env.sender = sender;
		r->jobs[i].env.queue_id = qid;
		r->jobs[i].env.origin = origin;
		r->jobs[i].env.source = "pipe";
		r->jobs[i].env.key_rcpt = true;
	}
	if (get_field(&p, end, max_data, &s, &len) < 0 || p != end)
		goto bad;
	for (size_t i = 0; i < nr; i++) {
		r->jobs[i].data = s;
		r->jobs[i].len = len;
	}
	*r_r = r;
	return 1;
bad:
	*r_r = r;
	return -1;
}

/* req_free - a request and what unpack made for it */
static void
req_free(struct req **rp)
{
	struct req *r = *rp;

	if (r == NULL)
		return;
	if (r->jobs != NULL) {
		free((char *)r->jobs[0].env.sender);
		free((char *)r->jobs[0].env.queue_id);
		free((char *)r->jobs[0].env.origin);
		for (size_t i = 0; i < r->n; i++)
			free((char *)r->jobs[i].env.recipient);
		free(r->jobs);
	}
	free(r->buf);
	free(r);
	*rp = NULL;
}

/* max_data - the largest data a channel may carry */
static size_t
max_data(const struct mda *m)
{
	return (size_t)m->cfg->limits.max_message_size + 4096;
}

/* ---- the worker -------------------------------------------------- */

/* wreport - one record to the master; a dead master ends the worker */
static void
wreport(int fd, char type, size_t i, const struct mda_result *res)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	r.type = (uint32_t)type;
	r.idx = (uint32_t)i;
	if (res != NULL)
		r.res = *res;
	if (cm_write_all(fd, &r, sizeof(r)) < 0)
		_exit(0);
}

/* wtemp - report trouble at job i with reason and end the worker */
static _Noreturn void
wtemp(int fd, size_t i, const char *what, const char *why)
{
	struct mda_result res;

	memset(&res, 0, sizeof(res));
	res.status = CM_DS_TEMP;
	snprintf(res.reason, sizeof(res.reason), "%s%s",
		 what, why != NULL ? why : "error");
	wreport(fd, 'T', i, &res);
	_exit(0);
}

/*
 * worker - the resident worker: read a batch (uint32 messages; for
 * each, uint32 k, k uint32 job indexes and the message packed with k
 * recipients), deliver it in one transaction, commit, report; until
 * EOF, trouble or worker_msgs jobs.
 */
static _Noreturn void
worker(struct mda *m, long worker_msgs, int in, int out)
{
	const char *err = NULL;
	long handled = 0;

	mda_guard_limit(m);
	cm_mime_init();
	m->store = NULL;
	for (;;) {
		uint32_t count, last = 0;
		uint32_t **idx = NULL;
		struct req **rs = NULL;
		int rc = read_full(in, &count, sizeof(count));

		if (rc <= 0 || count == 0 || count > 100000)
			break;
		idx = cm_xcalloc(count, sizeof(*idx));
		rs = cm_xcalloc(count, sizeof(*rs));
		for (uint32_t k = 0; k < count; k++) {
			uint32_t nj;

			if (read_full(in, &nj, sizeof(nj)) <= 0 || nj == 0 ||
			    nj > 1000)
				_exit(0); /* the master went away */
			idx[k] = cm_xcalloc(nj, sizeof(**idx));
			if (read_full(in, idx[k], nj * sizeof(**idx)) <= 0 ||
			    unpack(in, max_data(m), &rs[k]) <= 0 ||
			    rs[k]->n != nj)
				_exit(0);
		}
		if (mda_open_store(m, &err) < 0)
			wtemp(out, idx[0][0], "store: ", err);
		if (cm_store_begin(m->store, &err) < 0)
			wtemp(out, idx[0][0], "store: ", err);
		for (uint32_t k = 0; k < count; k++) {
			for (size_t j = 0; j < rs[k]->n; j++) {
				struct mda_job *job = &rs[k]->jobs[j];

				last = idx[k][j];
				wreport(out, 'S', last, NULL);
				if (m->kill_marker != NULL &&
				    memmem(job->data, job->len,
					   m->kill_marker,
					   strlen(m->kill_marker)) != NULL)
					raise(SIGKILL); /* test: it kills */
				if (mda_deliver(m, job->data, job->len,
						&job->env, &job->res) < 0) {
					cm_store_rollback(m->store);
					wtemp(out, last, "", job->res.reason);
				}
				wreport(out, 'R', last, &job->res);
				handled++;
			}
		}
		if (cm_store_commit(m->store, &err) < 0)
			wtemp(out, last, "store: commit: ", err);
		wreport(out, 'C', last, NULL);
		mda_log_anchor(m);
		for (uint32_t k = 0; k < count; k++) {
			req_free(&rs[k]);
			free(idx[k]);
		}
		free(rs);
		free(idx);
		if (handled >= worker_msgs)
			break;
	}
	cm_store_close(&m->store);
	_exit(0);
}

/* ---- the master -------------------------------------------------- */

/* lmtpd_commit_new - the committer of the master */
struct lmtpd_commit *
lmtpd_commit_new(struct mda *m, long batch_max, long worker_msgs)
{
	struct lmtpd_commit *c = cm_xcalloc(1, sizeof(*c));

	c->m = m;
	c->batch_max = batch_max;
	c->worker_msgs = worker_msgs;
	c->wpid = -1;
	c->wfd = c->rfd = -1;
	c->started = -1;
	return c;
}

/* lmtpd_commit_add - watch the master's end of a session's channel */
void
lmtpd_commit_add(struct lmtpd_commit *c, int fd)
{
	struct chan *ch = cm_xcalloc(1, sizeof(*ch));

	ch->fd = fd;
	if (c->n_chans == c->cap_chans) {
		c->cap_chans = c->cap_chans ? 2 * c->cap_chans : 32;
		c->chans = cm_xrealloc(c->chans,
				       c->cap_chans * sizeof(*c->chans));
	}
	c->chans[c->n_chans++] = ch;
}

/* chan_drop - forget a channel (its request is answered already) */
static void
chan_drop(struct lmtpd_commit *c, size_t i)
{
	close(c->chans[i]->fd);
	free(c->chans[i]);
	c->chans[i] = c->chans[--c->n_chans];
}

/* answer - the request's replies to its session, then free it */
static void
answer(struct lmtpd_commit *c, struct req *r)
{
	struct answer *a = cm_xcalloc(r->n, sizeof(*a));
	struct chan *ch = r->ch;

	for (size_t i = 0; i < r->n; i++) {
		a[i].res = r->jobs[i].res;
		a[i].committed = r->jobs[i].committed;
	}
	if (!ch->eof && cm_write_all(ch->fd, a, r->n * sizeof(*a)) < 0)
		ch->eof = true;
	free(a);
	ch->req = NULL;
	req_free(&r);
	for (size_t i = 0; i < c->n_chans; i++)
		if (c->chans[i] == ch && ch->eof) {
			chan_drop(c, i);
			break;
		}
}

/* worker_stop - close the worker's pipes and reap it; its status */
static int
worker_stop(struct lmtpd_commit *c)
{
	int status = 0;

	if (c->wpid < 0)
		return 0;
	close(c->wfd);
	close(c->rfd);
	c->wfd = c->rfd = -1;
	while (waitpid(c->wpid, &status, 0) < 0 && errno == EINTR)
		;
	c->wpid = -1;
	c->rlen = 0;
	return status;
}

/* worker_start - fork the resident worker; 0 or -1 */
static int
worker_start(struct lmtpd_commit *c)
{
	int jobs[2], reps[2];
	pid_t pid;

	if (pipe2(jobs, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(reps, O_CLOEXEC) < 0) {
		close(jobs[0]);
		close(jobs[1]);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(jobs[0]);
		close(jobs[1]);
		close(reps[0]);
		close(reps[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		lmtpd_child_fds(jobs[0], reps[1]);
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		cm_log_set_fatal_status(99);
		worker(c->m, c->worker_msgs, jobs[0], reps[1]);
	}
	close(jobs[0]);
	close(reps[1]);
	c->wpid = pid;
	c->wfd = jobs[1];
	c->rfd = reps[0];
	c->handled = 0;
	c->rlen = 0;
	return 0;
}

/* fail_rest - every job of the batch not committed gets reason */
static void
fail_rest(struct lmtpd_commit *c, const char *reason)
{
	for (size_t i = 0; i < c->n_slots; i++) {
		struct mda_job *job = &c->slots[i].r->jobs[c->slots[i].j];

		if (job->committed)
			continue;
		job->res.status = CM_DS_TEMP;
		cm_strlcpy(job->res.reason, reason, sizeof(job->res.reason));
	}
}

/* batch_end - answer every request of the batch */
static void
batch_end(struct lmtpd_commit *c)
{
	for (size_t i = 0; i < c->n_slots; i++) {
		struct req *r = c->slots[i].r;

		if (c->slots[i].j == r->n - 1)
			answer(c, r);
	}
	free(c->slots);
	c->slots = NULL;
	c->n_slots = 0;
	c->busy = false;
	c->started = -1;
	c->deaths = 0;
}

/* send_batch - the batch's uncommitted jobs to the worker (starting
 * one when needed), one packed message per request; -1 when that
 * failed (the batch is answered) */
static int
send_batch(struct lmtpd_commit *c)
{
	struct cm_buf b;
	uint32_t count = 0;
	struct mda_job *sub = NULL;
	uint32_t *idx = NULL;
	int ret = -1;

	cm_buf_init(&b, SIZE_MAX / 2);
	if (c->wpid < 0 && worker_start(c) < 0) {
		fail_rest(c, "cannot start a worker");
		batch_end(c);
		return -1;
	}
	sub = cm_xcalloc(c->n_slots, sizeof(*sub));
	idx = cm_xcalloc(c->n_slots, sizeof(*idx));
	(void)cm_buf_append(&b, &count, sizeof(count));
	for (size_t i = 0; i < c->n_slots;) {
		struct req *r = c->slots[i].r;
		uint32_t k = 0;

		for (; i < c->n_slots && c->slots[i].r == r; i++) {
			if (r->jobs[c->slots[i].j].committed)
				continue;
			sub[k] = r->jobs[c->slots[i].j];
			idx[k++] = (uint32_t)i;
		}
		if (k == 0)
			continue;
		if (cm_buf_append(&b, &k, sizeof(k)) < 0 ||
		    cm_buf_append(&b, idx, k * sizeof(*idx)) < 0 ||
		    pack(&b, sub, k) < 0)
			goto out;
		c->handled += k;
		count++;
	}
	memcpy(b.data, &count, sizeof(count));
	c->started = -1;
	c->busy = true;
	/* the worker is idle and reads the whole batch before it writes
	 * anything: this cannot deadlock; if it died, EPIPE, then EOF on
	 * its reports */
	(void)cm_write_all(c->wfd, b.data, b.len);
	ret = 0;
out:
	free(idx);
	free(sub);
	cm_buf_free(&b);
	if (ret < 0) {
		fail_rest(c, "batch too large");
		batch_end(c);
	}
	return ret;
}

/* batch_start - take the queue as the next batch (up to batch_max jobs
 * and BATCH_BYTES of data beyond the first message) */
static void
batch_start(struct lmtpd_commit *c)
{
	size_t n = 0, bytes = 0;

	if (c->busy || c->head == NULL)
		return;
	if (c->retire)
		(void)worker_stop(c);
	c->retire = false;
	for (struct req *r = c->head; r != NULL; r = r->next) {
		if (n > 0 && ((long)(n + r->n) > c->batch_max ||
			      bytes + r->jobs[0].len > BATCH_BYTES))
			break;
		n += r->n;
		bytes += r->jobs[0].len;
	}
	c->slots = cm_xcalloc(n, sizeof(*c->slots));
	while (c->n_slots < n) {
		struct req *r = c->head;

		c->head = r->next;
		if (c->head == NULL)
			c->tail = NULL;
		for (size_t j = 0; j < r->n; j++)
			c->slots[c->n_slots++] = (struct slot){ r, j };
	}
	(void)send_batch(c);
}

/* slot_job - the job of slot i */
static struct mda_job *
slot_job(struct lmtpd_commit *c, size_t i)
{
	return &c->slots[i].r->jobs[c->slots[i].j];
}

/* on_record - one report record of the worker; true when the batch is
 * over (committed, or failed by T) */
static bool
on_record(struct lmtpd_commit *c, const struct rec *r)
{
	if (r->idx >= c->n_slots)
		return false;
	switch (r->type) {
	case 'S':
		c->started = (long)r->idx;
		break;
	case 'R':
		slot_job(c, r->idx)->res = r->res;
		slot_job(c, r->idx)->done = true;
		break;
	case 'C':
		for (size_t i = 0; i <= r->idx; i++)
			if (slot_job(c, i)->done)
				slot_job(c, i)->committed = true;
		for (size_t i = 0; i < c->n_slots; i++)
			if (!slot_job(c, i)->committed)
				return false;
		return true;
	case 'T':
		fail_rest(c, r->res.reason);
		return true;
	}
	return false;
}

/* worker_died - the worker ended in the middle of a batch: quarantine
 * the job it was on, give the rest to a new worker */
static void
worker_died(struct lmtpd_commit *c)
{
	int status = worker_stop(c);
	char why[128];

	for (size_t i = 0; i < c->n_slots; i++)
		slot_job(c, i)->done = slot_job(c, i)->committed;
	mda_guard_death(status, why, sizeof(why));
	if (c->started < 0 || slot_job(c, (size_t)c->started)->committed) {
		/* died outside any message: try again, twice */
		if (++c->deaths > 2) {
			fail_rest(c, why);
			batch_end(c);
			return;
		}
	} else {
		struct mda_job *job = slot_job(c, (size_t)c->started);

		cm_log_warnx("worker died on %s: %s; quarantining it",
			     job->env.origin != NULL ? job->env.origin
						     : "message", why);
		if (mda_guard_rescue(c->m, job, why) < 0) {
			fail_rest(c, job->res.reason);
			batch_end(c);
			return;
		}
	}
	for (size_t i = 0; i < c->n_slots; i++)
		if (!slot_job(c, i)->committed) {
			(void)send_batch(c);
			return;
		}
	batch_end(c);
}

/* on_reports - read what the worker reported */
static void
on_reports(struct lmtpd_commit *c)
{
	ssize_t n;
	size_t off = 0;

	n = read(c->rfd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (c->busy)
			worker_died(c);
		else
			(void)worker_stop(c);
		return;
	}
	c->rlen += (size_t)n;
	while (c->busy && c->rlen - off >= sizeof(struct rec)) {
		struct rec r;

		memcpy(&r, c->rbuf + off, sizeof(r));
		off += sizeof(r);
		if (on_record(c, &r)) {
			bool temp = r.type == 'T';

			batch_end(c);
			if (temp || c->handled >= c->worker_msgs) {
				(void)worker_stop(c); /* it exits */
				return;
			}
		}
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

/* on_chan - a session's channel is readable: a request, or EOF */
static void
on_chan(struct lmtpd_commit *c, size_t i)
{
	struct chan *ch = c->chans[i];
	struct req *r = NULL;
	int rc;

	rc = unpack(ch->fd, max_data(c->m), &r);
	if (rc <= 0 || ch->req != NULL) {
		if (rc < 0)
			cm_log_warnx("lmtp: a malformed request from a "
				     "session: dropping its channel");
		req_free(&r);
		ch->eof = true;
		if (ch->req == NULL)
			chan_drop(c, i);
		return;
	}
	r->ch = ch;
	ch->req = r;
	if (c->tail != NULL)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
}

/* lmtpd_commit_pollfds - what to wait for: the worker's reports and
 * every session channel without a request in flight */
size_t
lmtpd_commit_pollfds(struct lmtpd_commit *c, struct pollfd *p, size_t max)
{
	size_t n = 0;

	if (c->wpid >= 0 && n < max)
		p[n++] = (struct pollfd){ c->rfd, POLLIN, 0 };
	for (size_t i = 0; i < c->n_chans && n < max; i++)
		if (!c->chans[i]->eof && c->chans[i]->req == NULL)
			p[n++] = (struct pollfd){ c->chans[i]->fd, POLLIN,
						  0 };
	return n;
}

/* lmtpd_commit_events - act on what poll returned, then start the next
 * batch if the worker is free */
void
lmtpd_commit_events(struct lmtpd_commit *c, const struct pollfd *p,
		    size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (p[k].revents == 0)
			continue;
		if (c->wpid >= 0 && p[k].fd == c->rfd) {
			on_reports(c);
			continue;
		}
		for (size_t i = 0; i < c->n_chans; i++)
			if (c->chans[i]->fd == p[k].fd &&
			    c->chans[i]->req == NULL && !c->chans[i]->eof) {
				on_chan(c, i);
				break;
			}
	}
	batch_start(c);
}

/* lmtpd_commit_retire - SIGHUP: the next batch gets a new worker (with
 * the configuration as reloaded) */
void
lmtpd_commit_retire(struct lmtpd_commit *c)
{
	c->retire = true;
	if (!c->busy)
		(void)worker_stop(c);
}

/* lmtpd_commit_free - stop the worker, drop every channel */
void
lmtpd_commit_free(struct lmtpd_commit **cp)
{
	struct lmtpd_commit *c = *cp;

	if (c == NULL)
		return;
	if (c->busy) {
		fail_rest(c, "daemon stopping");
		batch_end(c);
	}
	(void)worker_stop(c);
	while (c->head != NULL) {
		struct req *r = c->head;

		c->head = r->next;
		for (size_t j = 0; j < r->n; j++) {
			r->jobs[j].res.status = CM_DS_TEMP;
			cm_strlcpy(r->jobs[j].res.reason, "daemon stopping",
				   sizeof(r->jobs[j].res.reason));
		}
		answer(c, r);
	}
	while (c->n_chans > 0)
		chan_drop(c, c->n_chans - 1);
	free(c->chans);
	free(c);
	*cp = NULL;
}

/* ---- the session's side ----------------------------------------- */

/* lmtpd_commit_request - one message to the master and its answer;
 * 0, or -1 when the channel failed (nothing is known committed) */
int
lmtpd_commit_request(int fd, struct mda_job *jobs, size_t n)
{
	struct cm_buf b;
	struct answer *a = NULL;
	int ret = -1;

	cm_buf_init(&b, SIZE_MAX / 2);
	if (pack(&b, jobs, n) < 0 || cm_write_all(fd, b.data, b.len) < 0)
		goto out;
	a = cm_xcalloc(n, sizeof(*a));
	if (read_full(fd, a, n * sizeof(*a)) <= 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		jobs[i].res = a[i].res;
		jobs[i].res.reason[sizeof(jobs[i].res.reason) - 1] = '\0';
		jobs[i].res.case_ref[sizeof(jobs[i].res.case_ref) - 1] =
			'\0';
		if (jobs[i].res.outcome > MDA_EVENT)
			jobs[i].res.outcome = MDA_QUARANTINED;
		jobs[i].committed = a[i].committed != 0;
	}
	ret = 0;
out:
	free(a);
	cm_buf_free(&b);
	return ret;
}
