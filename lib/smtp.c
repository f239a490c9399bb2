/*
 * smtp.c - sending mail over SMTP with libcurl
 *
 * SYNOPSIS
 *	See cm_smtp.h.
 *
 * DESCRIPTION
 *	One CURL easy handle per struct cm_smtp, kept between messages so
 *	that libcurl keeps the connection open and reuses it (RSET is not
 *	needed: every transaction starts with MAIL FROM). The server's
 *	replies are read through the debug callback (CURLINFO_HEADER_IN
 *	carries them), which keeps the last complete reply line: it is what
 *	the sender records per notice and what decides 4xx from 5xx when a
 *	transfer fails. curl slists are made and freed only here (R13).
 *	RFC 5321, 3207, 4954, 8314.
 *
 * DIAGNOSTICS
 *	0 accepted; CM_ERR the server said 5xx; CM_ETEMP 4xx or connection
 *	trouble. A refused login or a TLS failure is CM_ETEMP: it is the
 *	postmaster's to fix, and the notice must wait for that, not fail.
 *
 * SECURITY
 *	Certificate and host checks on (CURLOPT_SSL_VERIFYPEER/HOST are
 *	never turned off); protocols limited to smtp and smtps; no
 *	redirects, no signals (CURLOPT_NOSIGNAL). Envelope addresses are
 *	checked with cm_addr_valid before use.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cm_addr.h"
#include "cm_smtp.h"
#include "cm_util.h"

#define REPLY_MAX 512 /* bytes of a reply line kept */

struct cm_smtp {
	CURL *curl;
	char reply[REPLY_MAX]; /* last complete reply line */
	char partial[REPLY_MAX]; /* a line not yet ended */
	size_t plen;
	long code;
	char curl_err[CURL_ERROR_SIZE];
	/* the upload in progress */
	const char *data;
	size_t len, pos;
};

static char errbuf[CURL_ERROR_SIZE + 128];

/* set_error - format the module error */
static void CM_ATTR_PRINTF(1, 2)
set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

/* end_line - a reply line is complete: keep it if it has a code */
static void
end_line(struct cm_smtp *s)
{
	s->partial[s->plen] = '\0';
	if (s->plen >= 3 && s->partial[0] >= '1' && s->partial[0] <= '5' &&
	    s->partial[1] >= '0' && s->partial[1] <= '9' &&
	    s->partial[2] >= '0' && s->partial[2] <= '9' &&
	    !(strncmp(s->partial, "221", 3) == 0 && s->reply[0] != '\0')) {
		/* a 221 answers our QUIT after a failure: keep the
		 * failure */
		cm_strlcpy(s->reply, s->partial, sizeof(s->reply));
		s->code = (s->partial[0] - '0') * 100 +
			  (s->partial[1] - '0') * 10 + (s->partial[2] - '0');
	}
	s->plen = 0;
}

/* on_debug - libcurl's debug callback: collect server reply lines */
static int
on_debug(CURL *h, curl_infotype type, char *p, size_t n, void *ctx)
{
	struct cm_smtp *s = ctx;

	(void)h;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			end_line(s);
		} else if (p[i] != '\r' && s->plen < sizeof(s->partial) - 1) {
			s->partial[s->plen++] = p[i];
		}
	}
	return 0;
}

/* on_read - libcurl's read callback: the next piece of the message */
static size_t
on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct cm_smtp *s = ctx;
	size_t room = size * nitems, n = s->len - s->pos;

	if (n > room)
		n = room;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return n;
}

/* cm_smtp_new - one handle, options set once */
struct cm_smtp *
cm_smtp_new(const struct cm_smtp_opts *o, const char **error_r)
{
	static bool global;
	struct cm_smtp *s = NULL, *ret = NULL;
	CURLcode rc = CURLE_OK;

	if (o->url == NULL || (!cm_str_has_prefix_ci(o->url, "smtp://") &&
			       !cm_str_has_prefix_ci(o->url, "smtps://"))) {
		set_error("expected an smtp:// or smtps:// URL");
		goto out;
	}
	if (!global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			set_error("curl_global_init failed");
			goto out;
		}
		global = true;
	}
	s = cm_xcalloc(1, sizeof(*s));
	s->curl = curl_easy_init();
	if (s->curl == NULL) {
		set_error("curl_easy_init failed");
		goto out;
	}
#define SET(opt, val)                                                  \
	do {                                                           \
		if (rc == CURLE_OK)                                    \
			rc = curl_easy_setopt(s->curl, opt, val);      \
	} while (0)
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, s->curl_err);
	SET(CURLOPT_VERBOSE, 1L);
	SET(CURLOPT_DEBUGFUNCTION, on_debug);
	SET(CURLOPT_DEBUGDATA, s);
	SET(CURLOPT_READFUNCTION, on_read);
	SET(CURLOPT_READDATA, s);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, 30L);
	SET(CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout : 60L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->require_tls)
		SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (o->ca_file != NULL)
		SET(CURLOPT_CAINFO, o->ca_file);
	if (o->user != NULL && *o->user != '\0') {
		SET(CURLOPT_USERNAME, o->user);
		SET(CURLOPT_PASSWORD, o->password != NULL ? o->password : "");
	}
#undef SET
	if (rc != CURLE_OK) {
		set_error("libcurl: %s", curl_easy_strerror(rc));
		goto out;
	}
	ret = s;
	s = NULL;
out:
	if (ret == NULL)
		*error_r = errbuf;
	cm_smtp_free(&s);
	return ret;
}

/* cm_smtp_send - one message, one recipient */
int
cm_smtp_send(struct cm_smtp *s, const char *from, const char *to,
	     const char *data, size_t len, const char **reply_r,
	     const char **error_r)
{
	struct curl_slist *rcpt = NULL;
	CURLcode rc;
	int ret = CM_ERR;

	s->reply[0] = '\0';
	s->plen = 0;
	s->code = 0;
	s->curl_err[0] = '\0';
	if (!cm_addr_valid(from) || !cm_addr_valid(to)) {
		set_error("invalid envelope address");
		goto out;
	}
	rcpt = curl_slist_append(NULL, to);
	if (rcpt == NULL) {
		set_error("out of memory");
		ret = CM_ETEMP;
		goto out;
	}
	s->data = data;
	s->len = len;
	s->pos = 0;
	rc = curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpt);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE,
				      (curl_off_t)len);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(s->curl);
	(void)curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	if (s->plen > 0)
		end_line(s);
	if (rc == CURLE_OK) {
		ret = 0;
		goto out;
	}
	set_error("%s%s%s", curl_easy_strerror(rc),
		  s->curl_err[0] != '\0' ? ": " : "", s->curl_err);
	switch (rc) {
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_UPLOAD_FAILED:
		/* the server may have said no: its reply decides */
		ret = s->code >= 500 && s->code <= 599 ? CM_ERR : CM_ETEMP;
		break;
	default:
		/* connection, TLS, login, timeout: try again later */
		ret = CM_ETEMP;
		break;
	}
out:
	curl_slist_free_all(rcpt);
	s->data = NULL;
	*reply_r = s->reply;
	if (ret < 0)
		*error_r = errbuf;
	return ret;
}

/* cm_smtp_code - code of the last reply line */
long
cm_smtp_code(const struct cm_smtp *s)
{
	return s->code;
}

/* cm_smtp_free - close and free */
void
cm_smtp_free(struct cm_smtp **s)
{
	if (s == NULL || *s == NULL)
		return;
	if ((*s)->curl != NULL)
		curl_easy_cleanup((*s)->curl);
	free(*s);
	*s = NULL;
}
