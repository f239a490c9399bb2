/*
 * smtp.c - sending mail over SMTP with libcurl
 *
 * SYNOPSIS
 *	See cm_smtp.h.
 *
 * DESCRIPTION
 *	One CURL multi handle and o->connections easy handles per struct
 *	cm_smtp, kept between messages so that libcurl keeps the
 *	connections open in the multi handle's cache and reuses them (RSET
 *	is not needed: every transaction starts with MAIL FROM). Each easy
 *	handle carries one message at a time; cm_smtp_send_many starts a
 *	message on every idle handle and waits (curl_multi_poll) for any to
 *	finish, so that the round trips of several sessions overlap in one
 *	process. cm_smtp_send is cm_smtp_send_many with one message.
 *	The server's replies are read through each handle's header
 *	callback (libcurl hands it every SMTP reply line; CURLOPT_VERBOSE
 *	and its formatting stay off), which keeps the last complete reply
 *	line in that handle's message: it is what the
 *	sender records per notice and what decides 4xx from 5xx when a
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

/* struct conn - one easy handle and the message it carries */
struct conn {
	CURL *curl;
	struct curl_slist *rcpt;
	struct cm_smtp_msg *msg; /* NULL: idle */
	char partial[CM_SMTP_REPLY_MAX]; /* a reply line not yet ended */
	size_t plen;
	char curl_err[CURL_ERROR_SIZE];
	size_t pos; /* bytes of msg->data uploaded */
};

struct cm_smtp {
	CURLM *multi;
	struct conn *conn;
	size_t nconn;
	struct cm_smtp_msg one; /* cm_smtp_send's message */
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
end_line(struct conn *c)
{
	struct cm_smtp_msg *m = c->msg;

	c->partial[c->plen] = '\0';
	if (m != NULL && c->plen >= 3 && c->partial[0] >= '1' &&
	    c->partial[0] <= '5' && c->partial[1] >= '0' &&
	    c->partial[1] <= '9' && c->partial[2] >= '0' &&
	    c->partial[2] <= '9' &&
	    !(strncmp(c->partial, "221", 3) == 0 && m->reply[0] != '\0')) {
		/* a 221 answers our QUIT after a failure: keep the
		 * failure */
		cm_strlcpy(m->reply, c->partial, sizeof(m->reply));
		m->code = (c->partial[0] - '0') * 100 +
			  (c->partial[1] - '0') * 10 + (c->partial[2] - '0');
	}
	c->plen = 0;
}

/* on_header - libcurl's header callback, which gets every reply line of
 * an SMTP session: collect them */
static size_t
on_header(char *p, size_t size, size_t nitems, void *ctx)
{
	struct conn *c = ctx;
	size_t n = size * nitems;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			end_line(c);
		} else if (p[i] != '\r' && c->plen < sizeof(c->partial) - 1) {
			c->partial[c->plen++] = p[i];
		}
	}
	return n;
}

/* on_read - libcurl's read callback: the next piece of the message */
static size_t
on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct conn *c = ctx;
	size_t room = size * nitems, n;

	if (c->msg == NULL)
		return 0;
	n = c->msg->len - c->pos;
	if (n > room)
		n = room;
	memcpy(buf, c->msg->data + c->pos, n);
	c->pos += n;
	return n;
}

/* conn_init - the easy handle of c with the options of o; CURLcode */
static CURLcode
conn_init(struct conn *c, const struct cm_smtp_opts *o)
{
	CURLcode rc = CURLE_OK;

	c->curl = curl_easy_init();
	if (c->curl == NULL)
		return CURLE_OUT_OF_MEMORY;
#define SET(opt, val)                                                  \
	do {                                                           \
		if (rc == CURLE_OK)                                    \
			rc = curl_easy_setopt(c->curl, opt, val);      \
	} while (0)
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, c->curl_err);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, c);
	SET(CURLOPT_READFUNCTION, on_read);
	SET(CURLOPT_READDATA, c);
	SET(CURLOPT_PRIVATE, c);
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
	return rc;
}

/* cm_smtp_new - a multi handle and its easy handles, options set once */
struct cm_smtp *
cm_smtp_new(const struct cm_smtp_opts *o, const char **error_r)
{
	static bool global;
	struct cm_smtp *s = NULL, *ret = NULL;
	CURLcode rc = CURLE_OK;
	CURLMcode mc = CURLM_OK;
	long n = o->connections > 0 ? o->connections : 1;

	if (o->url == NULL || (!cm_str_has_prefix_ci(o->url, "smtp://") &&
			       !cm_str_has_prefix_ci(o->url, "smtps://"))) {
		set_error("expected an smtp:// or smtps:// URL");
		goto out;
	}
	if (n > 1000) {
		set_error("too many connections: %ld", n);
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
	s->conn = cm_xcalloc((size_t)n, sizeof(*s->conn));
	s->nconn = (size_t)n;
	s->multi = curl_multi_init();
	if (s->multi == NULL) {
		set_error("curl_multi_init failed");
		goto out;
	}
	/* no more sessions than handles, and all of them kept open */
	mc = curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, n);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
				       n);
	if (mc != CURLM_OK) {
		set_error("libcurl: %s", curl_multi_strerror(mc));
		goto out;
	}
	for (size_t i = 0; i < s->nconn && rc == CURLE_OK; i++)
		rc = conn_init(&s->conn[i], o);
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

/* fail_msg - m did not go: rc and a description */
static void CM_ATTR_PRINTF(3, 4)
fail_msg(struct cm_smtp_msg *m, int rc, const char *fmt, ...)
{
	va_list ap;

	m->rc = rc;
	va_start(ap, fmt);
	(void)vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
}

/* start - put m on the idle connection c; 0, or -1 when m is already
 * finished (refused before a byte was sent) */
static int
start(struct cm_smtp *s, struct conn *c, struct cm_smtp_msg *m)
{
	CURLcode rc;
	CURLMcode mc;

	m->tried = true;
	m->rc = CM_ERR;
	m->code = 0;
	m->reply[0] = '\0';
	m->error[0] = '\0';
	if (!cm_addr_valid(m->from) || !cm_addr_valid(m->to)) {
		fail_msg(m, CM_ERR, "invalid envelope address");
		return -1;
	}
	c->rcpt = curl_slist_append(NULL, m->to);
	if (c->rcpt == NULL) {
		fail_msg(m, CM_ETEMP, "out of memory");
		return -1;
	}
	c->msg = m;
	c->pos = 0;
	c->plen = 0;
	c->curl_err[0] = '\0';
	rc = curl_easy_setopt(c->curl, CURLOPT_MAIL_FROM, m->from);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, c->rcpt);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE,
				      (curl_off_t)m->len);
	if (rc != CURLE_OK) {
		fail_msg(m, CM_ETEMP, "libcurl: %s", curl_easy_strerror(rc));
		goto fail;
	}
	mc = curl_multi_add_handle(s->multi, c->curl);
	if (mc != CURLM_OK) {
		fail_msg(m, CM_ETEMP, "libcurl: %s", curl_multi_strerror(mc));
		goto fail;
	}
	return 0;
fail:
	(void)curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(c->rcpt);
	c->rcpt = NULL;
	c->msg = NULL;
	return -1;
}

/* finish - the transfer on c ended with rc: classify, free, idle */
static void
finish(struct cm_smtp *s, struct conn *c, CURLcode rc)
{
	struct cm_smtp_msg *m = c->msg;

	(void)curl_multi_remove_handle(s->multi, c->curl);
	if (c->plen > 0)
		end_line(c);
	(void)curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(c->rcpt);
	c->rcpt = NULL;
	c->msg = NULL;
	if (rc == CURLE_OK) {
		m->rc = 0;
		return;
	}
	switch (rc) {
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_UPLOAD_FAILED:
		/* the server may have said no: its reply decides */
		m->rc = m->code >= 500 && m->code <= 599 ? CM_ERR : CM_ETEMP;
		break;
	default:
		/* connection, TLS, login, timeout: try again later */
		m->rc = CM_ETEMP;
		break;
	}
	fail_msg(m, m->rc, "%s%s%s", curl_easy_strerror(rc),
		 c->curl_err[0] != '\0' ? ": " : "", c->curl_err);
}

/* idle_conn - a connection without a message, or NULL */
static struct conn *
idle_conn(struct cm_smtp *s)
{
	for (size_t i = 0; i < s->nconn; i++)
		if (s->conn[i].msg == NULL)
			return &s->conn[i];
	return NULL;
}

/* struct fixed - the ready context of cm_smtp_send_many */
struct fixed {
	size_t n;
};

/* fixed_ready - all n are ready from the start */
static size_t
fixed_ready(void *ctx, size_t have, bool block, bool *done_r)
{
	struct fixed *f = ctx;

	(void)have;
	(void)block;
	*done_r = true;
	return f->n;
}

/* cm_smtp_send_many - up to nconn messages in flight at once */
size_t
cm_smtp_send_many(struct cm_smtp *s, struct cm_smtp_msg *v, size_t n,
		  const volatile sig_atomic_t *stop)
{
	struct fixed f = { n };

	for (size_t i = 0; i < n; i++)
		v[i].tried = false;
	return cm_smtp_send_stream(s, v, fixed_ready, &f, stop);
}

/* cm_smtp_wakeup - interrupt curl_multi_poll */
void
cm_smtp_wakeup(struct cm_smtp *s)
{
	(void)curl_multi_wakeup(s->multi);
}

/* cm_smtp_send_stream - start messages as they become ready */
size_t
cm_smtp_send_stream(struct cm_smtp *s, struct cm_smtp_msg *v,
		    cm_smtp_ready_fn *ready, void *ctx,
		    const volatile sig_atomic_t *stop)
{
	size_t next = 0, active = 0, tried = 0, n;
	struct conn *c;
	CURLMsg *info;
	CURLMcode mc;
	int running = 0, left = 0;
	bool done, all = false;

	n = ready(ctx, 0, false, &all);
	for (;;) {
		bool stopped = stop != NULL && *stop != 0;

		while (next < n && !stopped && (c = idle_conn(s)) != NULL) {
			tried++;
			if (start(s, c, &v[next++]) == 0)
				active++;
		}
		if (active == 0) {
			if (stopped || (all && next >= n))
				break;
			if (next >= n)
				n = ready(ctx, n, true, &all);
			continue;
		}
		mc = curl_multi_perform(s->multi, &running);
		done = false;
		while ((info = curl_multi_info_read(s->multi, &left)) != NULL) {
			char *p = NULL;

			if (info->msg != CURLMSG_DONE)
				continue;
			(void)curl_easy_getinfo(info->easy_handle,
						CURLINFO_PRIVATE, &p);
			c = (struct conn *)(void *)p;
			finish(s, c, mc == CURLM_OK ? info->data.result
						    : CURLE_RECV_ERROR);
			active--;
			done = true;
		}
		if (mc != CURLM_OK) {
			/* the multi handle is broken: what is in flight
			 * may or may not have gone; retry it later */
			for (size_t i = 0; i < s->nconn; i++) {
				struct cm_smtp_msg *m = s->conn[i].msg;

				if (m == NULL)
					continue;
				finish(s, &s->conn[i], CURLE_RECV_ERROR);
				fail_msg(m, CM_ETEMP, "libcurl: %s",
					 curl_multi_strerror(mc));
			}
			active = 0;
			continue;
		}
		if (!all)
			n = ready(ctx, n, false, &all);
		if (!done && running > 0 && (next >= n || idle_conn(s) == NULL))
			(void)curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
	}
	return tried;
}

/* cm_smtp_send - one message, one recipient */
int
cm_smtp_send(struct cm_smtp *s, const char *from, const char *to,
	     const char *data, size_t len, const char **reply_r,
	     const char **error_r)
{
	struct cm_smtp_msg *m = &s->one;

	memset(m, 0, sizeof(*m));
	m->from = from;
	m->to = to;
	m->data = data;
	m->len = len;
	(void)cm_smtp_send_many(s, m, 1, NULL);
	*reply_r = m->reply;
	if (m->rc < 0) {
		set_error("%s", m->error);
		*error_r = errbuf;
	}
	return m->rc;
}

/* cm_smtp_code - code of the last reply line of cm_smtp_send */
long
cm_smtp_code(const struct cm_smtp *s)
{
	return s->one.code;
}

/* cm_smtp_free - close the connections and free */
void
cm_smtp_free(struct cm_smtp **s)
{
	struct cm_smtp *p;

	if (s == NULL || *s == NULL)
		return;
	p = *s;
	for (size_t i = 0; i < p->nconn; i++) {
		struct conn *c = &p->conn[i];

		if (c->curl == NULL)
			continue;
		if (c->msg != NULL && p->multi != NULL)
			(void)curl_multi_remove_handle(p->multi, c->curl);
		curl_easy_cleanup(c->curl);
		curl_slist_free_all(c->rcpt);
	}
	if (p->multi != NULL)
		curl_multi_cleanup(p->multi);
	free(p->conn);
	free(p);
	*s = NULL;
}

/* ---- additions: the reachability probe of casemail doctor ---- */

/* probe_line - header callback of the probe: keep the first line */
static size_t
probe_line(char *p, size_t size, size_t nitems, void *ctx)
{
	char *first = ctx;
	size_t n = size * nitems, k = 0;

	if (first[0] != '\0')
		return n;
	while (k < n && k < CM_SMTP_REPLY_MAX - 1 && p[k] != '\r' &&
	       p[k] != '\n') {
		first[k] = p[k];
		k++;
	}
	first[k] = '\0';
	return n;
}

/* cm_smtp_probe - connect, greeting, EHLO (and STARTTLS, AUTH as
 * configured), QUIT: no MAIL FROM */
int
cm_smtp_probe(const struct cm_smtp_opts *o, char *greeting, size_t size,
	      const char **error_r)
{
	static char first[CM_SMTP_REPLY_MAX];
	char cerr[CURL_ERROR_SIZE];
	CURL *h = NULL;
	CURLcode rc = CURLE_OK;
	long code = 0, t = o->timeout > 0 ? o->timeout : 10L;
	int ret = CM_ETEMP;

	first[0] = '\0';
	cerr[0] = '\0';
	if (size > 0)
		greeting[0] = '\0';
	if (o->url == NULL || (!cm_str_has_prefix_ci(o->url, "smtp://") &&
			       !cm_str_has_prefix_ci(o->url, "smtps://"))) {
		set_error("expected an smtp:// or smtps:// URL");
		ret = CM_ERR;
		goto out;
	}
	h = curl_easy_init();
	if (h == NULL) {
		set_error("curl_easy_init failed");
		goto out;
	}
#define SET(opt, val)                                                  \
	do {                                                           \
		if (rc == CURLE_OK)                                    \
			rc = curl_easy_setopt(h, opt, val);            \
	} while (0)
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, cerr);
	SET(CURLOPT_HEADERFUNCTION, probe_line);
	SET(CURLOPT_HEADERDATA, first);
	SET(CURLOPT_CONNECT_ONLY, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, t);
	SET(CURLOPT_TIMEOUT, t);
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
		set_error("%s", curl_easy_strerror(rc));
		goto out;
	}
	rc = curl_easy_perform(h);
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		set_error("%s", cerr[0] != '\0' ? cerr
					       : curl_easy_strerror(rc));
		goto out;
	}
	if (code != 0 && (code < 200 || code > 299)) {
		set_error("the server answered %ld", code);
		ret = CM_ERR;
		goto out;
	}
	if (size > 0)
		cm_strlcpy(greeting, first, size);
	ret = 0;
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	if (ret != 0)
		*error_r = errbuf;
	return ret;
}
