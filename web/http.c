/*
 * http.c - casemail-web: the libmicrohttpd glue and security headers
 *
 * SYNOPSIS
 *	struct MHD_Daemon *d = http_start(&w, &error);
 *	while (!stop) http_run(&w, d, 250), audit_flush(...);
 *	http_stop(&d);
 *
 * DESCRIPTION
 *	The only file that includes microhttpd.h. One thread, epoll,
 *	driven by main.c's loop. Each request body is collected up to
 *	portal_max_body (a larger Content-Length is answered 413 before
 *	the body is read), turned into a struct req and answered with the
 *	struct resp that route() fills. Every answer carries:
 *	  Content-Security-Policy: default-src 'none'; style-src 'self';
 *	    form-action 'self'; frame-ancestors 'none'; base-uri 'none'
 *	  X-Content-Type-Options: nosniff, X-Frame-Options: DENY,
 *	  Referrer-Policy: same-origin, Cross-Origin-Opener-Policy and
 *	  Cross-Origin-Resource-Policy: same-origin, a Permissions-Policy,
 *	  Cache-Control: no-store (the style sheet: max-age 1 day),
 *	  Strict-Transport-Security when portal_url is https.
 *	HTTP/1.1 (RFC 9110, 9112) is libmicrohttpd's; HEAD gets the
 *	headers of GET without the body.
 *
 * DIAGNOSTICS
 *	libmicrohttpd's own errors go to the log as warnings. With -v each
 *	request is logged (method, path with tokens cut, status, client).
 *
 *	Every connection is tracked from accept to close (on_conn): its
 *	peer, and when its current request began. A request must arrive
 *	whole in time: its head within HEAD_SECONDS of the connection or
 *	of the previous answer, head and body within REQUEST_SECONDS. The
 *	idle timeout alone would not do, since every byte restarts it; a
 *	connection past its deadline is shut down at the next tick of the
 *	event loop (http_run). At most CONN_PER_IP connections come from
 *	one address at once (on_accept), except from loopback when
 *	portal_trust_proxy says the peer is the proxy, which carries
 *	everyone.
 *
 * SECURITY
 *	The connection memory, the number of connections, those from one
 *	address, the idle time of a connection and the time to send a
 *	request are bounded, so a few slow clients (slowloris) cannot hold
 *	every connection. The request log names the route, never the path
 *	as sent: paths are attacker text and may carry tokens.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "cm_log.h"
#include "web.h"

#define CONN_MEMORY (64 * 1024) /* bytes of headers and buffers */
#define CONN_TIMEOUT 30         /* seconds a connection may idle */
#define HEAD_SECONDS 10    /* to send a request's head */
#define REQUEST_SECONDS 30 /* to send a request's head and body */
#define CONN_PER_IP 16     /* connections from one address at once */

/* where a connection's current request is */
enum stage {
	ST_HEAD,     /* waiting for the whole head */
	ST_BODY,     /* head read, reading the body */
	ST_ANSWERED, /* answer queued or being sent */
	ST_CUT,      /* past its deadline, shut down */
};

/* struct hconn - one open connection (the socket context) */
struct hconn {
	struct hconn *prev, *next;
	struct MHD_Connection *c;
	unsigned char addr[16]; /* the peer's address, alen bytes */
	size_t alen;
	int64_t start_ms; /* the current request began (monotonic) */
	enum stage stage;
};

static const char csp[] = "default-src 'none'; style-src 'self'; "
			  "form-action 'self'; frame-ancestors 'none'; "
			  "base-uri 'none'";

/* struct rctx - one request in progress */
struct rctx {
	struct cm_buf body;
	bool too_big;
};

/* resp_init - an empty 200 */
void
resp_init(struct resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	cm_buf_init(&r->body, 0);
}

/* resp_free - release the answer */
void
resp_free(struct resp *r)
{
	cm_buf_free(&r->body);
	free(r->location);
	for (int i = 0; i < r->ncookie; i++)
		free(r->cookie[i]);
	memset(r, 0, sizeof(*r));
}

/* resp_cookie - one more Set-Cookie */
void
resp_cookie(struct resp *r, const char *fmt, ...)
{
	va_list ap;

	if (r->ncookie == RESP_MAX_COOKIES)
		cm_panic("web: more than %d cookies", RESP_MAX_COOKIES);
	va_start(ap, fmt);
	r->cookie[r->ncookie++] = cm_xvasprintf(fmt, ap);
	va_end(ap);
}

/* mono_ms - milliseconds on the monotonic clock */
static int64_t
mono_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * peer_addr - the address bytes of sa into out (16 bytes), their number
 * into *len_r, and whether it is a loopback address
 */
static bool
peer_addr(const struct sockaddr *sa, unsigned char out[16], size_t *len_r)
{
	*len_r = 0;
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa;

		memcpy(out, &a->sin_addr, 4);
		*len_r = 4;
		return out[0] == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;

		memcpy(out, &a->sin6_addr, 16);
		*len_r = 16;
		return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	}
	return false;
}

/* conn_of - our record of connection c, or NULL */
static struct hconn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* set_stage - connection c's request is now at stage st */
static void
set_stage(struct MHD_Connection *c, enum stage st)
{
	struct hconn *h = conn_of(c);

	if (h == NULL || h->stage == ST_CUT)
		return;
	if (st == ST_HEAD)
		h->start_ms = mono_ms();
	h->stage = st;
}

/*
 * on_accept - libmicrohttpd's accept policy: refuse a connection from
 * an address that has CONN_PER_IP open already (the proxy excepted)
 */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct web *w = cls;
	unsigned char a[16];
	size_t alen, n = 0;
	bool loop;

	(void)addrlen;
	loop = peer_addr(addr, a, &alen);
	if (alen == 0 || (loop && w->cfg->portal_trust_proxy))
		return MHD_YES;
	for (const struct hconn *h = w->conns; h != NULL; h = h->next)
		if (h->alen == alen && memcmp(h->addr, a, alen) == 0 &&
		    ++n >= CONN_PER_IP) {
			cm_log_debug("httpd: refused a connection: %d open "
				     "from one address",
				     CONN_PER_IP);
			return MHD_NO;
		}
	return MHD_YES;
}

/* on_conn - track a connection from accept to close */
static void
on_conn(void *cls, struct MHD_Connection *c, void **socket_context,
	enum MHD_ConnectionNotificationCode code)
{
	struct web *w = cls;
	const union MHD_ConnectionInfo *ci;
	struct hconn *h = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		h = cm_xcalloc(1, sizeof(*h));
		h->c = c;
		ci = MHD_get_connection_info(
			c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		(void)peer_addr(ci != NULL ? ci->client_addr : NULL, h->addr,
				&h->alen);
		h->start_ms = mono_ms();
		h->stage = ST_HEAD;
		h->next = w->conns;
		if (w->conns != NULL)
			w->conns->prev = h;
		w->conns = h;
		*socket_context = h;
		return;
	}
	if (h == NULL)
		return;
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		w->conns = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	free(h);
	*socket_context = NULL;
}

/* cut_late - shut down every connection whose request is overdue;
 * libmicrohttpd then sees the end of the stream and closes it */
static void
cut_late(struct web *w)
{
	const union MHD_ConnectionInfo *ci;
	int64_t now = mono_ms(), limit;

	for (struct hconn *h = w->conns; h != NULL; h = h->next) {
		if (h->stage == ST_HEAD)
			limit = HEAD_SECONDS * 1000;
		else if (h->stage == ST_BODY)
			limit = REQUEST_SECONDS * 1000;
		else
			continue;
		if (now - h->start_ms < limit)
			continue;
		ci = MHD_get_connection_info(h->c,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci != NULL)
			(void)shutdown(ci->connect_fd, SHUT_RDWR);
		h->stage = ST_CUT;
		cm_log_debug("httpd: closed a connection that took over "
			     "%ld s to send its request",
			     (long)(limit / 1000));
	}
}

/* client_ip - the peer's address, or the last X-Forwarded-For entry
 * when the peer is loopback and portal_trust_proxy is on; true when
 * the peer itself is loopback */
static bool
client_ip(struct web *w, struct MHD_Connection *c, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	const char *xff, *last;
	char tmp[64];
	unsigned char bin[16];
	bool loop = false;
	size_t n;

	cm_strlcpy(buf, "-", size);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return false;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa;

		(void)inet_ntop(AF_INET, &a->sin_addr, buf, (socklen_t)size);
		loop = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;

		(void)inet_ntop(AF_INET6, &a->sin6_addr, buf,
				(socklen_t)size);
		loop = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	}
	if (!loop || !w->cfg->portal_trust_proxy)
		return loop;
	xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					  "X-Forwarded-For");
	if (xff == NULL)
		return loop;
	last = strrchr(xff, ',');
	last = last != NULL ? last + 1 : xff;
	last += strspn(last, " \t");
	n = strcspn(last, " \t");
	if (n == 0 || n >= sizeof(tmp))
		return loop;
	memcpy(tmp, last, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, bin) == 1 ||
	    inet_pton(AF_INET6, tmp, bin) == 1)
		cm_strlcpy(buf, tmp, size);
	return loop;
}

/* send_resp - queue resp on c with every header */
static enum MHD_Result
send_resp(struct web *w, struct MHD_Connection *c, struct resp *r)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;
	size_t len = r->body.len;
	char *data = cm_buf_steal(&r->body), num[32];

	mr = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (mr == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(mr, "Content-Type",
				r->ctype != NULL ? r->ctype
						 : "text/html; charset=utf-8");
	MHD_add_response_header(mr, "Content-Security-Policy", csp);
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(mr, "X-Frame-Options", "DENY");
	MHD_add_response_header(mr, "Referrer-Policy", "same-origin");
	MHD_add_response_header(mr, "Cross-Origin-Opener-Policy",
				"same-origin");
	MHD_add_response_header(mr, "Cross-Origin-Resource-Policy",
				"same-origin");
	MHD_add_response_header(mr, "Permissions-Policy",
				"camera=(), microphone=(), geolocation=()");
	MHD_add_response_header(mr, "Cache-Control",
				r->cacheable ? "public, max-age=86400"
					     : "no-store");
	if (w->cfg->portal_secure)
		MHD_add_response_header(mr, "Strict-Transport-Security",
					"max-age=31536000");
	if (r->location != NULL)
		MHD_add_response_header(mr, "Location", r->location);
	for (int i = 0; i < r->ncookie; i++)
		MHD_add_response_header(mr, "Set-Cookie", r->cookie[i]);
	if (r->retry_after > 0) {
		(void)snprintf(num, sizeof(num), "%ld", r->retry_after);
		MHD_add_response_header(mr, "Retry-After", num);
	}
	if (r->status == 405)
		MHD_add_response_header(mr, "Allow", "GET, HEAD, POST");
	ret = MHD_queue_response(c, (unsigned int)r->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

/* answer - build the request, route it, send the answer */
static enum MHD_Result
answer(struct web *w, struct MHD_Connection *c, const char *url,
       const char *method, struct rctx *x)
{
	struct req q;
	struct resp r;
	char ip[64];
	const char *done;
	enum MHD_Result ret;

	memset(&q, 0, sizeof(q));
	resp_init(&r);
	q.peer_loopback = client_ip(w, c, ip, sizeof(ip));
	q.forwarded = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						  "X-Forwarded-For") != NULL ||
		      MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						  "Forwarded") != NULL;
	q.method = method;
	q.path = url;
	q.ip = ip;
	q.sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, w->sid_name);
	q.pre = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, w->pre_name);
	q.origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	q.ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					      "Content-Type");
	done = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "done");
	q.done = done != NULL && strcmp(done, "1") == 0;
	q.too_big = x->too_big;
	q.body = x->body.data;
	q.body_len = x->body.len;
	route(w, &q, &r);
	metrics_count(w, r.status);
	if (cm_log_flags() & CM_LOG_VERBOSE) {
		char san[40];

		cm_log_debug("method=%s route=%s status=%d ip=%s",
			     cm_log_sanitize(san, sizeof(san), method, 16),
			     route_name(url), r.status, ip);
	}
	set_stage(c, ST_ANSWERED);
	ret = send_resp(w, c, &r);
	form_free(&q.form);
	resp_free(&r);
	return ret;
}

/* on_request - libmicrohttpd's access handler: collect, then answer */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
	   const char *method, const char *version, const char *data,
	   size_t *size, void **ctx)
{
	struct web *w = cls;
	struct rctx *x = *ctx;
	const char *cl;
	long n;

	(void)version;
	if (x == NULL) {
		set_stage(c, ST_BODY);
		x = cm_xcalloc(1, sizeof(*x));
		cm_buf_init(&x->body, (size_t)w->cfg->portal_max_body);
		*ctx = x;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						 "Content-Length");
		if (cl != NULL &&
		    (cm_parse_long(cl, 0, LONG_MAX, &n) < 0 ||
		     n > w->cfg->portal_max_body)) {
			/* answer now: the body is never read */
			x->too_big = true;
			return answer(w, c, url, method, x);
		}
		return MHD_YES;
	}
	if (*size > 0) {
		if (!x->too_big && cm_buf_append(&x->body, data, *size) < 0)
			x->too_big = true;
		*size = 0;
		return MHD_YES;
	}
	return answer(w, c, url, method, x);
}

/* on_done - free the request state */
static void
on_done(void *cls, struct MHD_Connection *c, void **ctx,
	enum MHD_RequestTerminationCode toe)
{
	struct rctx *x = *ctx;

	(void)cls;
	(void)toe;
	set_stage(c, ST_HEAD); /* the next request on this connection */
	if (x == NULL)
		return;
	cm_buf_free(&x->body);
	free(x);
	*ctx = NULL;
}

/* on_log - libmicrohttpd's messages as warnings */
static void
on_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512], san[520];
	size_t n;

	(void)cls;
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	cm_log_warnx("httpd: %s", cm_log_sanitize(san, sizeof(san), buf,
						   400));
}

/* http_start - listen on portal_listen */
struct MHD_Daemon *
http_start(struct web *w, const char **error_r)
{
	static char err[256];
	struct sockaddr_storage ss;
	socklen_t len = 0;
	struct MHD_Daemon *d;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (listen_parse(w->cfg->portal_listen, &ss, &len) < 0) {
		(void)snprintf(err, sizeof(err), "portal_listen %s: bad "
						 "address",
			       w->cfg->portal_listen);
		*error_r = err;
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the logger first: libmicrohttpd warns about any option before it */
	d = MHD_start_daemon(
		flags, 0, on_accept, w, on_request, w,
		MHD_OPTION_EXTERNAL_LOGGER, on_log, w, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)w->cfg->portal_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, w,
		MHD_OPTION_NOTIFY_CONNECTION, on_conn, w, MHD_OPTION_END);
	if (d == NULL) {
		(void)snprintf(err, sizeof(err), "cannot listen on %s",
			       w->cfg->portal_listen);
		*error_r = err;
	}
	return d;
}

/* http_run - serve for at most ms milliseconds, then cut overdue
 * requests; -1 on failure */
int
http_run(struct web *w, struct MHD_Daemon *d, long ms)
{
	if (MHD_run_wait(d, (int32_t)ms) != MHD_YES)
		return -1;
	cut_late(w);
	return 0;
}

/* http_stop - close the socket and every connection */
void
http_stop(struct MHD_Daemon **d)
{
	if (d == NULL || *d == NULL)
		return;
	MHD_stop_daemon(*d);
	*d = NULL;
}
