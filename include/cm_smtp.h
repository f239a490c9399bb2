/*
 * cm_smtp.h - sending mail over SMTP with libcurl
 *
 * SYNOPSIS
 *	struct cm_smtp_opts o = { .url = "smtp://127.0.0.1:25" };
 *	struct cm_smtp *s = cm_smtp_new(&o, &err);
 *	rc = cm_smtp_send(s, "bounce+K@D", "victim@example.net", data, len,
 *			  &reply, &err);
 *	n = cm_smtp_send_many(s, msgs, nmsgs, &stop_flag);
 *	cm_smtp_free(&s);
 *
 * DESCRIPTION
 *	The only module besides http that includes libcurl (R1). One curl
 *	multi handle and o->connections easy handles (default 1) are kept
 *	for the life of the struct, so libcurl reuses the same connections
 *	for many messages; cm_smtp_send_many keeps up to that many
 *	messages in flight at once, one per connection. smtp:// and
 *	smtps:// URLs (a path after the host names the HELO/EHLO domain,
 *	as libcurl does); with
 *	require_tls an smtp:// session must STARTTLS (CURLUSESSL_ALL).
 *	AUTH with user and password when a user is given. Certificate and
 *	host name checks stay on; ca_file replaces the system CA store.
 *	The data must have CRLF line ends; libcurl dot-stuffs it.
 *	RFC 5321, 3207 (STARTTLS), 4954 (AUTH), 8314 (smtps).
 *
 * DIAGNOSTICS
 *	cm_smtp_send returns 0 when the server accepted the message (its
 *	final reply in *reply_r), CM_ERR when the server answered 5xx (a
 *	retry cannot help), CM_ETEMP for 4xx and for connection trouble
 *	(refused, dropped, timed out, TLS failure, AUTH failure). *reply_r
 *	is the server's last reply line (borrowed until the next call on
 *	s; "" when there was none), *error_r a description of a failure.
 *	cm_smtp_send_many gives each message the same outcome in its
 *	struct cm_smtp_msg and returns how many were tried; the others
 *	were not started because *stop became non-zero.
 *
 * SECURITY
 *	Envelope addresses with CR, LF or anything cm_addr_valid refuses
 *	are rejected (CM_ERR) before a byte is sent. The password is kept
 *	only inside libcurl's handle and wiped from the options by the
 *	caller. Server replies are hostile: the caller sanitises them
 *	before logging.
 */
#ifndef CM_SMTP_H
#define CM_SMTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* struct cm_smtp_opts - strings borrowed for the cm_smtp_new call */
struct cm_smtp_opts {
	const char *url;      /* smtp://host:port[/helo] or smtps:// */
	bool require_tls;     /* smtp://: STARTTLS or nothing */
	const char *user;     /* NULL or "": no AUTH */
	const char *password; /* with user */
	const char *ca_file;  /* NULL: the system store */
	long timeout;         /* seconds per message (0: 60) */
	long connections;     /* at most this many at once (0: 1) */
};

#define CM_SMTP_REPLY_MAX 512  /* bytes of a reply line kept */
#define CM_SMTP_ERROR_MAX 400  /* bytes of an error kept */

/*
 * struct cm_smtp_msg - one message for cm_smtp_send_many: the caller
 * fills the first four fields (borrowed for the call); the call fills
 * the rest.
 */
struct cm_smtp_msg {
	const char *from, *to, *data;
	size_t len;
	bool tried;          /* false: not started (stop) */
	int rc;              /* 0, CM_ERR or CM_ETEMP as cm_smtp_send */
	long code;           /* code of the last reply (0: none) */
	char reply[CM_SMTP_REPLY_MAX]; /* the server's last reply line */
	char error[CM_SMTP_ERROR_MAX]; /* with rc < 0: what went wrong */
};

struct cm_smtp;

/* cm_smtp_new - a sender for o (caller frees with cm_smtp_free), or NULL
 * with *error_r */
struct cm_smtp *cm_smtp_new(const struct cm_smtp_opts *o,
			    const char **error_r);

/* cm_smtp_send - one message to one recipient; see DIAGNOSTICS */
int cm_smtp_send(struct cm_smtp *s, const char *from, const char *to,
		 const char *data, size_t len, const char **reply_r,
		 const char **error_r);

/*
 * cm_smtp_send_many - send v[0..n), each to its one recipient, keeping
 * up to o->connections of them in flight over as many connections;
 * messages in flight always finish, but none is started once stop is
 * non-NULL and *stop non-zero. Returns the number tried (v[i].tried).
 */
size_t cm_smtp_send_many(struct cm_smtp *s, struct cm_smtp_msg *v, size_t n,
			 const volatile sig_atomic_t *stop);

/*
 * cm_smtp_ready_fn - how many messages at the start of v are filled in
 * and may be sent (never fewer than before); *done_r true when no more
 * will come. With block, wait until more than have are ready or none
 * will come. Called on the thread of cm_smtp_send_stream.
 */
typedef size_t cm_smtp_ready_fn(void *ctx, size_t have, bool block,
				bool *done_r);

/*
 * cm_smtp_send_stream - cm_smtp_send_many for messages made while it
 * runs (by another thread): v has room for the messages; ready says how
 * many are filled in, and the producer calls cm_smtp_wakeup when it
 * adds one after a non-blocking ready call found nothing new (the
 * stream may be waiting on the network then) and when it is done.
 * Returns the number tried.
 */
size_t cm_smtp_send_stream(struct cm_smtp *s, struct cm_smtp_msg *v,
			   cm_smtp_ready_fn *ready, void *ctx,
			   const volatile sig_atomic_t *stop);

/* cm_smtp_wakeup - make a cm_smtp_send_stream waiting on the network
 * ask ready again; safe from any thread */
void cm_smtp_wakeup(struct cm_smtp *s);

/* cm_smtp_code - the three-digit code of the last reply (0: none) */
long cm_smtp_code(const struct cm_smtp *s);

/* cm_smtp_free - close the connection, free; sets *s NULL; NULL fine */
void cm_smtp_free(struct cm_smtp **s);

/*
 * cm_smtp_probe - is the server of o reachable: connect, read the
 * greeting, EHLO (STARTTLS and AUTH too when o asks for them), QUIT;
 * no MAIL FROM, nothing sent. o->timeout bounds the whole (0: 10 s).
 * 0 with the greeting's first line in greeting (size bytes, cut);
 * CM_ETEMP (connection, TLS, AUTH trouble) or CM_ERR (a 5xx, a bad
 * URL) with *error_r (static, until the next call).
 */
int cm_smtp_probe(const struct cm_smtp_opts *o, char *greeting, size_t size,
		  const char **error_r);

#endif
