/*
 * lmtpd.h - casemail-lmtpd's internal interfaces
 *
 * DESCRIPTION
 *	main.c owns the listening sockets, the signals and the session
 *	processes; session.c speaks LMTP (RFC 2033) on one connection and
 *	hands each message to the mda's delivery path (mda_guard_run,
 *	mda_deliver), so pipe mode and LMTP store mail the same way.
 */
#ifndef CM_LMTPD_H
#define CM_LMTPD_H

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
};

/*
 * lmtpd_session - serve one LMTP connection on fd until QUIT, EOF, a
 * timeout or a stop between transactions. SIGTERM must be blocked by
 * the caller (it is let through only while waiting for the client).
 * Closes nothing: the caller closes fd.
 */
void lmtpd_session(const struct lmtpd_session_conf *sc, int fd);

#endif
