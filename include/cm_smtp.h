/*
 * cm_smtp.h - sending mail over SMTP with libcurl
 *
 * SYNOPSIS
 *	struct cm_smtp_opts o = { .url = "smtp://127.0.0.1:25" };
 *	struct cm_smtp *s = cm_smtp_new(&o, &err);
 *	rc = cm_smtp_send(s, "bounce+K@D", "victim@example.net", data, len,
 *			  &reply, &err);
 *	cm_smtp_free(&s);
 *
 * DESCRIPTION
 *	The only module besides http that includes libcurl (R1). One easy
 *	handle is kept for the life of the struct, so libcurl reuses one
 *	connection for many messages. smtp:// and smtps:// URLs (a path
 *	after the host names the HELO/EHLO domain, as libcurl does); with
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

/* cm_smtp_code - the three-digit code of the last reply (0: none) */
long cm_smtp_code(const struct cm_smtp *s);

/* cm_smtp_free - close the connection, free; sets *s NULL; NULL fine */
void cm_smtp_free(struct cm_smtp **s);

#endif
