/*
 * lmtpd.h - casemail-lmtpd's internal interfaces
 *
 * DESCRIPTION
 *	main.c owns the listening sockets, the signals and the session
 *	processes; session.c speaks LMTP (RFC 2033) on one connection and
 *	sends each message to the master; commit.c, in the master, batches
 *	the messages of every session into the transactions of a resident
 *	worker that runs the mda's delivery path (mda_deliver), so pipe
 *	mode and LMTP store mail the same way.
 */
#ifndef CM_LMTPD_H
#define CM_LMTPD_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>

#include "../mda/mda.h"

/* What a session needs from the daemon. Everything borrowed. */
struct lmtpd_session_conf {
	struct mda *m;        /* config, secret; store opened by workers */
	const char *hostname; /* for the greeting and LHLO */
	const char *peer;     /* "unix" or the client's address, for logs */
	long max_rcpt;        /* recipients per transaction (452 beyond) */
	long max_size;        /* bytes of a message (SIZE, 552 beyond) */
	long timeout;         /* seconds to wait for the client */
	long max_errors;      /* bad commands before 421 and close */
	volatile sig_atomic_t *stop; /* set by SIGTERM: finish and close */
	int chan;             /* the socketpair to the master's committer */
};

/*
 * lmtpd_session - serve one LMTP connection on fd until QUIT, EOF, a
 * timeout or a stop between transactions. SIGTERM must be blocked by
 * the caller (it is let through only while waiting for the client).
 * Closes nothing: the caller closes fd.
 */
void lmtpd_session(const struct lmtpd_session_conf *sc, int fd);

/*
 * lmtpd_child_fds - in a forked child: close every descriptor but 0, 1,
 * 2, keep1 and keep2 (-1: none), and reopen the log
 */
void lmtpd_child_fds(int keep1, int keep2);

/* The master's committer (commit.c). */
struct lmtpd_commit;

/*
 * lmtpd_commit_new - a committer delivering through m (borrowed; its
 * cfg may be replaced between calls, then call lmtpd_commit_retire):
 * at most batch_max jobs per transaction, a new worker after
 * worker_msgs jobs. Caller frees with lmtpd_commit_free.
 */
struct lmtpd_commit *lmtpd_commit_new(struct mda *m, long batch_max,
				      long worker_msgs);
/* lmtpd_commit_add - watch fd, the master's end of a session's
 * socketpair (owned from now on: closed by the committer) */
void lmtpd_commit_add(struct lmtpd_commit *c, int fd);
/* lmtpd_commit_pollfds - fill p[0..max) with what to wait for; the
 * count */
size_t lmtpd_commit_pollfds(struct lmtpd_commit *c, struct pollfd *p,
			    size_t max);
/* lmtpd_commit_events - act on p[0..n) as poll returned it */
void lmtpd_commit_events(struct lmtpd_commit *c, const struct pollfd *p,
			 size_t n);
/* lmtpd_commit_retire - start a new worker for the next batch */
void lmtpd_commit_retire(struct lmtpd_commit *c);
/* lmtpd_commit_free - answer what waits (451), stop the worker, close
 * the channels; sets *c to NULL */
void lmtpd_commit_free(struct lmtpd_commit **c);

/*
 * lmtpd_commit_request - in a session: jobs[0..n) (one message, its
 * accepted recipients; jobs[0]'s envelope and data stand for all) to
 * the master over fd, then wait for the answer: each job's res and
 * committed. 0, or -1 when the channel failed (nothing committed is
 * known: the caller answers 451).
 */
int lmtpd_commit_request(int fd, struct mda_job *jobs, size_t n);

#endif
