/*
 * imap.c - an IMAP client for ingesting one mailbox (libetpan)
 *
 * SYNOPSIS
 *	#include "cm_imap.h"
 *
 * DESCRIPTION
 *	RFC 3501 (IMAP4rev1), RFC 2177 (IDLE), RFC 4315 (UIDPLUS),
 *	RFC 6851 (MOVE), RFC 2595 and RFC 8314 (STARTTLS, implicit TLS),
 *	RFC 6125 (checking the server's name), through libetpan's low-level
 *	mailimap API; the only file that includes libetpan.
 *
 *	Connecting: our own non-blocking TCP connect (getaddrinfo, every
 *	address in turn, bounded by the timeout), then libetpan's TLS on
 *	that socket (implicit TLS, or STARTTLS after the greeting), then
 *	the certificate chain libetpan received is verified here with
 *	GnuTLS against the system CA store plus ca_file, for the host name
 *	or address asked for and the TLS server purpose. Only then are
 *	LOGIN and SELECT sent. libetpan's own TLS checks nothing.
 *
 *	New mail: libetpan records every untagged EXISTS and RECENT in the
 *	selection info (sel_has_exists, sel_has_recent); the flags are
 *	cleared before each UID SEARCH, so a set flag means "something
 *	arrived since the last search", whichever command saw it. IDLE
 *	waits on the socket with poll(2) (and on bytes already buffered by
 *	the stream), then DONE reads what came.
 *
 * DIAGNOSTICS
 *	libetpan's codes become CM_ERR/CM_ETEMP in fail(): a command's NO
 *	is CM_ETEMP and leaves the connection usable; a stream, parse,
 *	protocol (BAD, tag mismatch) or BYE error marks the connection
 *	broken, and every later call fails at once with CM_ETEMP. LOGIN and
 *	SELECT refusals are CM_ERR unless the server says [UNAVAILABLE].
 *
 * SECURITY
 *	The password is handed to libetpan for LOGIN and not kept. Server
 *	text in error messages is cut to printable ASCII. Sizes, UIDs and
 *	the number of certificates are checked, never trusted. libetpan's
 *	GnuTLS session uses the priority string "NORMAL" (the system's
 *	policy decides the oldest TLS version); it cannot be changed from
 *	here, so the server side should insist on TLS 1.2 or later.
 *	Some libetpan versions misread a BYE that ends a command; such a
 *	server is hostile or broken, and the caller should run IMAP work in
 *	a process that may die without losing mail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "cm_imap.h"
#include "cm_limits.h"
#include "cm_log.h"
#include "cm_util.h"

#define ERR_SIZE 768
#define TEXT_MAX 200        /* bytes of server text quoted in errors */
#define MAX_CHAIN 16        /* certificates looked at */
#define IDLE_SEGMENT (25 * 60) /* re-issue IDLE before 29 minutes */

struct cm_imap {
	mailimap *session;
	char *host;
	char *mailbox;
	char *folder_made; /* last folder known to exist */
	unsigned int timeout;
	size_t max_size;
	unsigned int poll_interval;
	bool no_idle;
	uint32_t uidvalidity;
	uint32_t uidnext;
	bool cap_idle, cap_move, cap_uidplus, cap_starttls, cap_logindisabled;
	bool broken;
	char err[ERR_SIZE];
};

/* error of the last failed cm_imap_connect in this thread */
static _Thread_local char connect_err[ERR_SIZE];

/* seterr - format the handle's error, return code */
static int seterr(struct cm_imap *imap, int code, const char *fmt, ...)
	CM_ATTR_PRINTF(3, 4);
static int
seterr(struct cm_imap *imap, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* an error line cut short is still an error line */
	vsnprintf(imap->err, sizeof(imap->err), fmt, ap);
	va_end(ap);
	return code;
}

/* need - a libetpan constructor's result, or exit on allocation failure */
static void *
need(void *p)
{
	if (p == NULL)
		cm_fatal("imap: out of memory");
	return p;
}

/* clean_text - printable ASCII copy of server text s (NULL: "") */
static const char *
clean_text(char *dst, size_t size, const char *s)
{
	size_t i = 0;

	if (s != NULL) {
		for (; s[i] != '\0' && i + 4 < size && i < TEXT_MAX; i++)
			dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		if (s[i] != '\0' && i + 4 <= size) {
			memcpy(dst + i, "...", 3);
			i += 3;
		}
	}
	dst[i] = '\0';
	return dst;
}

/* server_text - the text of the last tagged response, cleaned */
static const char *
server_text(struct cm_imap *imap, char *buf, size_t size)
{
	const char *s = NULL;

	if (imap->session != NULL)
		s = imap->session->imap_response;
	clean_text(buf, size, s);
	if (buf[0] == '\0')
		cm_strlcpy(buf, "(no text)", size);
	return buf;
}

/* resp_code - the atom of the last response code ("UNAVAILABLE"), or "" */
static const char *
resp_code(struct cm_imap *imap)
{
	struct mailimap_response_info *ri = imap->session->imap_response_info;

	if (ri == NULL || ri->rsp_atom == NULL)
		return "";
	return ri->rsp_atom;
}

/* is_command_no - true if r is libetpan's "the command got NO" code */
static bool
is_command_no(int r)
{
	return (r >= MAILIMAP_ERROR_APPEND && r <= MAILIMAP_ERROR_STARTTLS) ||
	    r == MAILIMAP_ERROR_EXTENSION ||
	    r == MAILIMAP_ERROR_CUSTOM_COMMAND;
}

/* fail - describe libetpan error r of command what; CM_ETEMP */
static int
fail(struct cm_imap *imap, int r, const char *what)
{
	char text[TEXT_MAX + 8];

	if (is_command_no(r))
		return seterr(imap, CM_ETEMP, "IMAP %s on %s refused: %s",
		    what, imap->host, server_text(imap, text, sizeof(text)));
	imap->broken = true;
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
		return seterr(imap, CM_ETEMP, "IMAP %s: connection to %s "
		    "lost or timed out", what, imap->host);
	case MAILIMAP_ERROR_PARSE:
		return seterr(imap, CM_ETEMP, "IMAP %s: malformed response "
		    "from %s", what, imap->host);
	case MAILIMAP_ERROR_FATAL:
		return seterr(imap, CM_ETEMP, "IMAP %s: %s ended the "
		    "session: %s", what, imap->host,
		    server_text(imap, text, sizeof(text)));
	case MAILIMAP_ERROR_PROTOCOL:
		return seterr(imap, CM_ETEMP, "IMAP %s: protocol error or "
		    "command rejected by %s: %s", what, imap->host,
		    server_text(imap, text, sizeof(text)));
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		return seterr(imap, CM_ETEMP, "IMAP %s: %s refused the "
		    "session: %s", what, imap->host,
		    server_text(imap, text, sizeof(text)));
	case MAILIMAP_ERROR_SSL:
		return seterr(imap, CM_ETEMP, "IMAP %s: TLS handshake with "
		    "%s failed", what, imap->host);
	default:
		return seterr(imap, CM_ETEMP, "IMAP %s on %s failed "
		    "(libetpan error %d)", what, imap->host, r);
	}
}

/* check_open - CM_ETEMP if the connection is already known broken */
static int
check_open(struct cm_imap *imap)
{
	if (imap->broken || imap->session == NULL ||
	    imap->session->imap_stream == NULL)
		return seterr(imap, CM_ETEMP, "IMAP connection to %s is "
		    "broken; reconnect", imap->host);
	return 0;
}

/* cm_imap_host_is_loopback - "localhost", 127.0.0.0/8 or ::1 (literal) */
bool
cm_imap_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (host == NULL)
		return false;
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/* host_is_literal - true if host is an IPv4 or IPv6 address literal */
static bool
host_is_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

/* addr_is_loopback - true if sa is 127.0.0.0/8, ::1 or ::ffff:127.x */
static bool
addr_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
		    s6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

/* name_ok - true if s is a non-empty printable ASCII string, <= max */
static bool
name_ok(const char *s, size_t max, const char *banned)
{
	size_t n;

	if (s == NULL || s[0] == '\0')
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= max || s[n] < 0x20 || s[n] >= 0x7f)
			return false;
		if (strchr(banned, s[n]) != NULL)
			return false;
	}
	return true;
}

/* cm_imap_folder_valid - a folder name safe to CREATE and MOVE into */
bool
cm_imap_folder_valid(const char *name)
{
	size_t n;

	if (!name_ok(name, CM_IMAP_MAX_FOLDER, "*%&\\\""))
		return false;
	n = strlen(name);
	if (strstr(name, "..") != NULL || strstr(name, "//") != NULL)
		return false;
	if (name[0] == '/' || name[0] == '.' || name[0] == ' ')
		return false;
	if (name[n - 1] == '/' || name[n - 1] == '.' || name[n - 1] == ' ')
		return false;
	return true;
}

/* secret_ok - true if s is usable in LOGIN: no NUL, CR or LF, <= 1024 */
static bool
secret_ok(const char *s)
{
	return s != NULL && strlen(s) <= 1024 && strpbrk(s, "\r\n") == NULL;
}

/* ignore_sigpipe - a closed connection must give EPIPE, not a death */
static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
	    !(sa.sa_flags & SA_SIGINFO)) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

/* now_ms - a monotonic clock in milliseconds */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_fd - poll fd for events for at most ms; 1 ready, 0 time up,
 * -1 error (errno) */
static int
wait_fd(int fd, short events, int64_t ms)
{
	struct pollfd pfd;
	int64_t end = now_ms() + ms;
	int64_t left;
	int r;

	for (;;) {
		left = end - now_ms();
		if (left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)(left > 86400000 ? 86400000 : left));
		if (r > 0)
			return 1;
		if (r == 0 && left <= 86400000)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* connect_one - non-blocking connect to ai within timeout; a blocking
 * fd, or -1 with errno */
static int
connect_one(const struct addrinfo *ai, unsigned int timeout)
{
	int fd;
	int r;
	int w;
	int e;
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	int flags;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (r < 0 && errno == EINPROGRESS) {
		w = wait_fd(fd, POLLOUT, (int64_t)timeout * 1000);
		if (w == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &len) == 0) {
			errno = soerr;
			r = soerr == 0 ? 0 : -1;
		} else if (w == 0) {
			errno = ETIMEDOUT;
		}
	}
	/* libetpan wants a blocking descriptor */
	if (r == 0) {
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
			r = -1;
	}
	if (r < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* tcp_connect - connect to host:port; fd, or -1 with imap->err set and
 * *code_r CM_ETEMP (or CM_ERR when plain text would leave loopback) */
static int
tcp_connect(struct cm_imap *imap, unsigned int port, bool loopback_only,
	    int *code_r)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	struct addrinfo *ai;
	char portstr[16];
	int fd = -1;
	int r;
	int saved = ECONNREFUSED;
	bool skipped = false;

	*code_r = CM_ETEMP;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%u", port);
	r = getaddrinfo(imap->host, portstr, &hints, &res);
	if (r != 0) {
		seterr(imap, CM_ETEMP, "IMAP: cannot resolve %s: %s",
		    imap->host, gai_strerror(r));
		goto out;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		if (loopback_only && !addr_is_loopback(ai->ai_addr)) {
			skipped = true;
			continue;
		}
		fd = connect_one(ai, imap->timeout);
		if (fd < 0)
			saved = errno;
	}
	if (fd >= 0)
		goto out;
	if (skipped) {
		*code_r = CM_ERR;
		seterr(imap, CM_ERR, "IMAP: %s resolves to an address that "
		    "is not loopback: plain text refused", imap->host);
	} else {
		seterr(imap, CM_ETEMP, "IMAP: connect to %s port %u: %s",
		    imap->host, port, strerror(saved));
	}
out:
	if (res != NULL)
		freeaddrinfo(res);
	return fd;
}

/* tls_setup - libetpan's TLS callback: send SNI for a host name */
static void
tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
	struct cm_imap *imap = data;

	if (!host_is_literal(imap->host))
		mailstream_ssl_set_server_name(ctx, imap->host);
}

/* chain_load - the peer's certificates from the stream into crts */
static int
chain_load(struct cm_imap *imap, gnutls_x509_crt_t *crts, unsigned int *n_r)
{
	mailstream *s = imap->session->imap_stream;
	unsigned char *der = NULL;
	carray *chain = NULL;
	MMAPString *str;
	gnutls_datum_t d;
	unsigned int i;
	int ret = -1;

	*n_r = 0;
	/* some libetpan versions return garbage for an empty chain:
	 * ask for the first certificate the safe way first */
	if (mailstream_ssl_get_certificate(s, &der) < 0) {
		seterr(imap, CM_ERR, "certificate for %s not trusted: the "
		    "server sent no certificate", imap->host);
		goto out;
	}
	chain = mailstream_get_certificate_chain(s);
	if (chain == NULL || carray_count(chain) == 0) {
		seterr(imap, CM_ERR, "certificate for %s not trusted: no "
		    "certificate chain", imap->host);
		goto out;
	}
	for (i = 0; i < carray_count(chain) && i < MAX_CHAIN; i++) {
		str = carray_get(chain, i);
		if (str == NULL || str->len == 0 || str->len > 65536)
			break;
		d.data = (unsigned char *)str->str;
		d.size = (unsigned int)str->len;
		if (gnutls_x509_crt_init(&crts[i]) < 0)
			cm_fatal("imap: out of memory");
		*n_r = i + 1;
		if (gnutls_x509_crt_import(crts[i], &d,
		    GNUTLS_X509_FMT_DER) < 0)
			break;
	}
	if (i < carray_count(chain) && i < MAX_CHAIN) {
		seterr(imap, CM_ERR, "certificate for %s not trusted: "
		    "certificate %u does not parse", imap->host, i);
		goto out;
	}
	ret = 0;
out:
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	free(der);
	return ret;
}

/* verify_peer - check the server's chain and name; 0 or CM_ERR */
static int
verify_peer(struct cm_imap *imap, const char *ca_file)
{
	gnutls_x509_crt_t crts[MAX_CHAIN];
	unsigned int n = 0;
	unsigned int i;
	unsigned int status = 0;
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st vd[2];
	gnutls_datum_t out = { NULL, 0 };
	char why[256];
	int r;
	int ret = CM_ERR;

	if (chain_load(imap, crts, &n) < 0)
		goto out;
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		cm_fatal("imap: out of memory");
	r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r < 0 && ca_file == NULL) {
		seterr(imap, CM_ERR, "certificate for %s not trusted: no "
		    "system CA store (%s) and no ca_file", imap->host,
		    gnutls_strerror(r));
		goto out;
	}
	if (ca_file != NULL) {
		r = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
		if (r <= 0) {
			seterr(imap, CM_ERR, "IMAP: ca_file %s: %s", ca_file,
			    r < 0 ? gnutls_strerror(r) :
			    "no certificate in it");
			goto out;
		}
	}
	vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vd[0].data = (unsigned char *)imap->host;
	vd[0].size = 0;
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	vd[1].size = 0;
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, n, vd, 2, 0,
	    &status, NULL);
	if (r < 0) {
		seterr(imap, CM_ERR, "certificate for %s not trusted: %s",
		    imap->host, gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0)
			cm_str_trim((char *)clean_text(why, sizeof(why),
			    (const char *)out.data));
		else
			cm_strlcpy(why, "verification failed", sizeof(why));
		seterr(imap, CM_ERR, "certificate for %s not trusted: %s",
		    imap->host, why);
		goto out;
	}
	ret = 0;
out:
	if (out.data != NULL)
		gnutls_free(out.data);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return ret;
}

/* read_caps - ask for CAPABILITY and note the ones we use */
static int
read_caps(struct cm_imap *imap)
{
	struct mailimap_capability_data *cd = NULL;
	struct mailimap_capability *cap;
	clistiter *it;
	const char *name;
	int r;

	r = mailimap_capability(imap->session, &cd);
	if (r != MAILIMAP_NO_ERROR)
		return fail(imap, r, "CAPABILITY");
	imap->cap_idle = imap->cap_move = imap->cap_uidplus = false;
	imap->cap_starttls = imap->cap_logindisabled = false;
	for (it = clist_begin(cd->cap_list); it != NULL; it = clist_next(it)) {
		cap = clist_content(it);
		if (cap == NULL || cap->cap_type != MAILIMAP_CAPABILITY_NAME ||
		    cap->cap_data.cap_name == NULL)
			continue;
		name = cap->cap_data.cap_name;
		if (strcasecmp(name, "IDLE") == 0)
			imap->cap_idle = true;
		else if (strcasecmp(name, "MOVE") == 0)
			imap->cap_move = true;
		else if (strcasecmp(name, "UIDPLUS") == 0)
			imap->cap_uidplus = true;
		else if (strcasecmp(name, "STARTTLS") == 0)
			imap->cap_starttls = true;
		else if (strcasecmp(name, "LOGINDISABLED") == 0)
			imap->cap_logindisabled = true;
	}
	mailimap_capability_data_free(cd);
	return 0;
}

/* open_stream - TCP, TLS or not, greeting, STARTTLS, certificate check */
static int
open_stream(struct cm_imap *imap, const struct cm_imap_params *p)
{
	mailstream *stream = NULL;
	mailstream_low *low;
	unsigned int port = p->port;
	int code = CM_ETEMP;
	int fd;
	int r;
	int ret = CM_ETEMP;

	if (port == 0)
		port = p->tls == CM_IMAP_TLS ? 993 : 143;
	fd = tcp_connect(imap, port, p->tls == CM_IMAP_PLAIN, &code);
	if (fd < 0) {
		ret = code;
		goto out;
	}
	if (p->tls == CM_IMAP_TLS)
		stream = mailstream_ssl_open_with_callback_timeout(fd,
		    imap->timeout, tls_setup, imap);
	else
		stream = mailstream_socket_open_timeout(fd, imap->timeout);
	if (stream == NULL) {
		close(fd);
		seterr(imap, CM_ETEMP, "IMAP: %s with %s port %u failed",
		    p->tls == CM_IMAP_TLS ? "TLS handshake" : "stream setup",
		    imap->host, port);
		goto out;
	}
	/* the session owns the stream from here, also on failure */
	r = mailimap_connect(imap->session, stream);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		ret = fail(imap, r, "greeting");
		goto out;
	}
	/* an untrusted peer is not talked to any more, not even LOGOUT */
	if (p->tls == CM_IMAP_TLS &&
	    (ret = verify_peer(imap, p->ca_file)) != 0) {
		imap->broken = true;
		goto out;
	}
	if (p->tls == CM_IMAP_STARTTLS) {
		if ((ret = read_caps(imap)) != 0)
			goto out;
		if (!imap->cap_starttls) {
			ret = seterr(imap, CM_ERR, "IMAP: %s does not offer "
			    "STARTTLS", imap->host);
			goto out;
		}
		if (r == MAILIMAP_NO_ERROR_AUTHENTICATED) {
			ret = seterr(imap, CM_ERR, "IMAP: %s sent PREAUTH "
			    "on a plain connection: STARTTLS impossible",
			    imap->host);
			goto out;
		}
		r = mailimap_socket_starttls_with_callback(imap->session,
		    tls_setup, imap);
		if (r != MAILIMAP_NO_ERROR) {
			ret = fail(imap, r, "STARTTLS");
			if (is_command_no(r))
				ret = CM_ERR;
			goto out;
		}
		/* anything read before the handshake was sent in clear
		 * text after the STARTTLS response: an injection */
		if (imap->session->imap_stream->read_buffer_len != 0) {
			imap->broken = true;
			ret = seterr(imap, CM_ERR, "IMAP: %s sent data after "
			    "STARTTLS before TLS began (injection?)",
			    imap->host);
			goto out;
		}
		low = mailstream_get_low(imap->session->imap_stream);
		mailstream_low_set_timeout(low, imap->timeout);
		if ((ret = verify_peer(imap, p->ca_file)) != 0) {
			imap->broken = true;
			goto out;
		}
	}
	ret = 0;
out:
	return ret;
}

/* login - LOGIN unless PREAUTH; CM_ERR for refused credentials */
static int
login(struct cm_imap *imap, const struct cm_imap_params *p)
{
	char text[TEXT_MAX + 8];
	char user[TEXT_MAX + 8];
	int r;

	if (imap->session->imap_state != MAILIMAP_STATE_NON_AUTHENTICATED)
		return 0;
	if (imap->cap_logindisabled)
		return seterr(imap, CM_ERR, "IMAP: %s does not allow LOGIN "
		    "here (LOGINDISABLED)", imap->host);
	r = mailimap_login(imap->session, p->user, p->password);
	if (r == MAILIMAP_ERROR_LOGIN) {
		return seterr(imap, strcasecmp(resp_code(imap),
		    "UNAVAILABLE") == 0 ? CM_ETEMP : CM_ERR,
		    "IMAP login as %s on %s refused: %s",
		    clean_text(user, sizeof(user), p->user), imap->host,
		    server_text(imap, text, sizeof(text)));
	}
	if (r != MAILIMAP_NO_ERROR)
		return fail(imap, r, "LOGIN");
	return 0;
}

/* select_box - SELECT the mailbox, keep UIDVALIDITY and UIDNEXT */
static int
select_box(struct cm_imap *imap)
{
	char text[TEXT_MAX + 8];
	const char *code;
	struct mailimap_selection_info *si;
	int r;

	r = mailimap_select(imap->session, imap->mailbox);
	if (r == MAILIMAP_ERROR_SELECT) {
		code = resp_code(imap);
		return seterr(imap, strcasecmp(code, "UNAVAILABLE") == 0 ||
		    strcasecmp(code, "INUSE") == 0 ||
		    strcasecmp(code, "SERVERBUG") == 0 ? CM_ETEMP : CM_ERR,
		    "IMAP mailbox %s on %s cannot be selected: %s",
		    imap->mailbox, imap->host,
		    server_text(imap, text, sizeof(text)));
	}
	if (r != MAILIMAP_NO_ERROR)
		return fail(imap, r, "SELECT");
	si = imap->session->imap_selection_info;
	if (si == NULL || si->sel_uidvalidity == 0)
		return seterr(imap, CM_ETEMP, "IMAP: %s gave no UIDVALIDITY "
		    "for %s", imap->host, imap->mailbox);
	imap->uidvalidity = si->sel_uidvalidity;
	imap->uidnext = si->sel_uidnext;
	return 0;
}

/* check_params - reject what must never reach the server; 0 or CM_ERR */
static int
check_params(const struct cm_imap_params *p, const char **why_r)
{
	*why_r = NULL;
	if (!name_ok(p->host, 253, " "))
		*why_r = "IMAP: missing or invalid host name";
	else if (p->user == NULL || p->user[0] == '\0' ||
	    !secret_ok(p->user))
		*why_r = "IMAP: missing or invalid user name";
	else if (!secret_ok(p->password))
		*why_r = "IMAP: missing or invalid password";
	else if (p->mailbox != NULL && !cm_imap_folder_valid(p->mailbox))
		*why_r = "IMAP: invalid mailbox name";
	else if (p->tls != CM_IMAP_TLS && p->tls != CM_IMAP_STARTTLS &&
	    p->tls != CM_IMAP_PLAIN)
		*why_r = "IMAP: invalid TLS mode";
	else if (p->port > 65535)
		*why_r = "IMAP: invalid port";
	return *why_r == NULL ? 0 : CM_ERR;
}

/* cm_imap_connect - connect, verify, log in, select */
int
cm_imap_connect(const struct cm_imap_params *p, struct cm_imap **imap_r,
		const char **error_r)
{
	struct cm_imap *imap = NULL;
	const char *why;
	int ret = CM_ERR;

	*imap_r = NULL;
	if (check_params(p, &why) != 0) {
		cm_strlcpy(connect_err, why, sizeof(connect_err));
		goto out;
	}
	if (p->tls == CM_IMAP_PLAIN && (!p->allow_plain ||
	    !cm_imap_host_is_loopback(p->host))) {
		snprintf(connect_err, sizeof(connect_err), "IMAP: plain text "
		    "to %s refused: only to a loopback address, and only "
		    "when allowed", p->host);
		goto out;
	}
	ignore_sigpipe();
	imap = cm_xcalloc(1, sizeof(*imap));
	imap->host = cm_xstrdup(p->host);
	imap->mailbox = cm_xstrdup(p->mailbox != NULL ? p->mailbox : "INBOX");
	imap->timeout = p->timeout != 0 ? p->timeout :
	    CM_IMAP_DEFAULT_TIMEOUT;
	imap->max_size = p->max_message_size != 0 ? p->max_message_size :
	    (size_t)CM_MAX_MESSAGE_SIZE;
	if (imap->max_size >= UINT32_MAX)
		imap->max_size = UINT32_MAX - 1;
	imap->poll_interval = p->poll_interval != 0 ? p->poll_interval :
	    CM_IMAP_DEFAULT_POLL;
	if (imap->poll_interval > 3600)
		imap->poll_interval = 3600;
	imap->no_idle = p->no_idle;
	imap->session = need(mailimap_new(0, NULL));
	mailimap_set_timeout(imap->session, imap->timeout);
	if ((ret = open_stream(imap, p)) != 0)
		goto out;
	if ((ret = read_caps(imap)) != 0)
		goto out;
	if ((ret = login(imap, p)) != 0)
		goto out;
	if ((ret = read_caps(imap)) != 0)
		goto out;
	if ((ret = select_box(imap)) != 0)
		goto out;
	*imap_r = imap;
	imap = NULL;
	ret = 0;
out:
	if (imap != NULL) {
		cm_strlcpy(connect_err, imap->err, sizeof(connect_err));
		cm_imap_close(&imap);
	}
	if (ret != 0 && error_r != NULL)
		*error_r = connect_err;
	return ret;
}

/* cm_imap_uidvalidity - UIDVALIDITY of the selected mailbox */
uint32_t
cm_imap_uidvalidity(const struct cm_imap *imap)
{
	return imap->uidvalidity;
}

/* cm_imap_uidnext - UIDNEXT at SELECT time */
uint32_t
cm_imap_uidnext(const struct cm_imap *imap)
{
	return imap->uidnext;
}

/* cm_imap_mailbox - the selected mailbox's name */
const char *
cm_imap_mailbox(const struct cm_imap *imap)
{
	return imap->mailbox;
}

/* cm_imap_has_idle - the server offers IDLE */
bool
cm_imap_has_idle(const struct cm_imap *imap)
{
	return imap->cap_idle;
}

/* cm_imap_has_move - the server offers MOVE */
bool
cm_imap_has_move(const struct cm_imap *imap)
{
	return imap->cap_move;
}

/* cm_imap_has_uidplus - the server offers UIDPLUS */
bool
cm_imap_has_uidplus(const struct cm_imap *imap)
{
	return imap->cap_uidplus;
}

/* pending_clear - forget EXISTS/RECENT seen so far */
static void
pending_clear(struct cm_imap *imap)
{
	struct mailimap_selection_info *si =
	    imap->session->imap_selection_info;

	if (si != NULL) {
		si->sel_has_exists = 0;
		si->sel_has_recent = 0;
	}
}

/* pending - true if EXISTS or RECENT came since pending_clear */
static bool
pending(struct cm_imap *imap)
{
	struct mailimap_selection_info *si =
	    imap->session->imap_selection_info;

	return si != NULL && (si->sel_has_exists || si->sel_has_recent);
}

/* cmp_uid - qsort order of uint32_t */
static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* cm_imap_uids_since - UIDs above last_uid, ascending */
int
cm_imap_uids_since(struct cm_imap *imap, uint32_t last_uid,
		   uint32_t **uids_r, size_t *n_r, const char **error_r)
{
	struct mailimap_search_key *key = NULL;
	clist *result = NULL;
	clistiter *it;
	uint32_t *uids = NULL;
	uint32_t *u;
	size_t n = 0;
	size_t i;
	size_t k;
	int r;
	int ret;

	*uids_r = NULL;
	*n_r = 0;
	if ((ret = check_open(imap)) != 0)
		goto out;
	if (last_uid == UINT32_MAX)
		goto out;
	key = need(mailimap_search_key_new_uid(need(
	    mailimap_set_new_interval(last_uid + 1, 0))));
	pending_clear(imap);
	r = mailimap_uid_search(imap->session, NULL, key, &result);
	if (r != MAILIMAP_NO_ERROR) {
		ret = fail(imap, r, "UID SEARCH");
		goto out;
	}
	uids = cm_xcalloc((size_t)clist_count(result) + 1, sizeof(*uids));
	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		u = clist_content(it);
		/* "last+1:*" also matches the highest UID, even if lower */
		if (u != NULL && *u > last_uid)
			uids[n++] = *u;
	}
	qsort(uids, n, sizeof(*uids), cmp_uid);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || uids[k - 1] != uids[i])
			uids[k++] = uids[i];
	n = k;
	if (n > 0) {
		*uids_r = uids;
		*n_r = n;
		uids = NULL;
	}
out:
	free(uids);
	if (result != NULL)
		mailimap_search_result_free(result);
	if (key != NULL)
		mailimap_search_key_free(key);
	if (ret != 0 && error_r != NULL)
		*error_r = imap->err;
	return ret;
}

/* fetch_type - UID RFC822.SIZE BODY.PEEK[]<0.limit> */
static struct mailimap_fetch_type *
fetch_type(uint32_t limit)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_fetch_att *att[3];
	size_t i;

	ft = need(mailimap_fetch_type_new_fetch_att_list_empty());
	att[0] = need(mailimap_fetch_att_new_uid());
	att[1] = need(mailimap_fetch_att_new_rfc822_size());
	att[2] = need(mailimap_fetch_att_new_body_peek_section_partial(
	    need(mailimap_section_new(NULL)), 0, limit));
	for (i = 0; i < CM_ARRAY_SIZE(att); i++)
		if (mailimap_fetch_type_new_fetch_att_list_add(ft, att[i]))
			cm_fatal("imap: out of memory");
	return ft;
}

/* find_body - the body section and size of uid in a FETCH result */
static bool
find_body(clist *list, uint32_t uid,
	  struct mailimap_msg_att_body_section **body_r, uint32_t *size_r)
{
	struct mailimap_msg_att *ma;
	struct mailimap_msg_att_item *item;
	struct mailimap_msg_att_static *st;
	struct mailimap_msg_att_body_section *body;
	clistiter *it;
	clistiter *jt;
	uint32_t got;
	uint32_t size;
	bool found = false;

	*body_r = NULL;
	*size_r = 0;
	for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
		ma = clist_content(it);
		if (ma == NULL || ma->att_list == NULL)
			continue;
		got = 0;
		size = 0;
		body = NULL;
		for (jt = clist_begin(ma->att_list); jt != NULL;
		    jt = clist_next(jt)) {
			item = clist_content(jt);
			if (item == NULL ||
			    item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
			    (st = item->att_data.att_static) == NULL)
				continue;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				got = st->att_data.att_uid;
			else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
				size = st->att_data.att_rfc822_size;
			else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION)
				body = st->att_data.att_body_section;
		}
		if (got != uid)
			continue;
		found = true;
		if (size != 0)
			*size_r = size;
		if (body != NULL)
			*body_r = body;
	}
	return found;
}

/* cm_imap_fetch - the whole message, flags untouched */
int
cm_imap_fetch(struct cm_imap *imap, uint32_t uid, char **data_r,
	      size_t *len_r, const char **error_r)
{
	struct mailimap_set *set = NULL;
	struct mailimap_fetch_type *ft = NULL;
	struct mailimap_msg_att_body_section *body;
	clist *list = NULL;
	uint32_t size;
	char *data;
	int r;
	int ret;

	*data_r = NULL;
	*len_r = 0;
	if ((ret = check_open(imap)) != 0)
		goto out;
	if (uid == 0) {
		ret = seterr(imap, CM_ERR, "IMAP: UID 0 does not exist");
		goto out;
	}
	set = need(mailimap_set_new_single(uid));
	ft = fetch_type((uint32_t)imap->max_size + 1);
	r = mailimap_uid_fetch(imap->session, set, ft, &list);
	if (r != MAILIMAP_NO_ERROR) {
		ret = fail(imap, r, "UID FETCH");
		goto out;
	}
	if (!find_body(list, uid, &body, &size)) {
		ret = seterr(imap, CM_ENOENT, "IMAP: no message UID %u in %s "
		    "on %s", uid, imap->mailbox, imap->host);
		goto out;
	}
	if (size > imap->max_size || (body != NULL &&
	    body->sec_length > imap->max_size)) {
		ret = seterr(imap, CM_ERR, "IMAP: message UID %u is larger "
		    "than the maximum of %zu bytes (%u)", uid,
		    imap->max_size, size);
		goto out;
	}
	if (body == NULL || (body->sec_body_part == NULL &&
	    body->sec_length != 0) || body->sec_origin_octet != 0) {
		ret = seterr(imap, CM_ETEMP, "IMAP: %s sent no body for UID "
		    "%u", imap->host, uid);
		goto out;
	}
	data = cm_xmalloc(body->sec_length + 1);
	if (body->sec_length != 0)
		memcpy(data, body->sec_body_part, body->sec_length);
	data[body->sec_length] = '\0';
	*data_r = data;
	*len_r = body->sec_length;
	ret = 0;
out:
	if (list != NULL)
		mailimap_fetch_list_free(list);
	if (ft != NULL)
		mailimap_fetch_type_free(ft);
	if (set != NULL)
		mailimap_set_free(set);
	if (ret != 0 && error_r != NULL)
		*error_r = imap->err;
	return ret;
}

/* uid_set - a set of UID ranges for uids[0..n) (ascending) */
static struct mailimap_set *
uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = need(mailimap_set_new_empty());
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (mailimap_set_add_interval(set, uids[i], uids[j]) != 0)
			cm_fatal("imap: out of memory");
		i = j + 1;
	}
	return set;
}

/* cm_imap_sizes - RFC822.SIZE of each of uids[0..n) in one command */
int
cm_imap_sizes(struct cm_imap *imap, const uint32_t *uids, size_t n,
	      uint32_t *sizes_r, const char **error_r)
{
	struct mailimap_set *set = NULL;
	struct mailimap_fetch_type *ft = NULL;
	struct mailimap_msg_att_body_section *body;
	clist *list = NULL;
	int r, ret;

	memset(sizes_r, 0, n * sizeof(*sizes_r));
	if ((ret = check_open(imap)) != 0 || n == 0)
		goto out;
	set = uid_set(uids, n);
	ft = need(mailimap_fetch_type_new_fetch_att_list_empty());
	if (mailimap_fetch_type_new_fetch_att_list_add(ft,
	    need(mailimap_fetch_att_new_uid())) ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft,
	    need(mailimap_fetch_att_new_rfc822_size())))
		cm_fatal("imap: out of memory");
	r = mailimap_uid_fetch(imap->session, set, ft, &list);
	if (r != MAILIMAP_NO_ERROR) {
		ret = fail(imap, r, "UID FETCH RFC822.SIZE");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		find_body(list, uids[i], &body, &sizes_r[i]);
out:
	if (list != NULL)
		mailimap_fetch_list_free(list);
	if (ft != NULL)
		mailimap_fetch_type_free(ft);
	if (set != NULL)
		mailimap_set_free(set);
	if (ret != 0 && error_r != NULL)
		*error_r = imap->err;
	return ret;
}

/* cm_imap_fetch_many - cm_imap_fetch for uids[0..n) in one command */
int
cm_imap_fetch_many(struct cm_imap *imap, const uint32_t *uids, size_t n,
		   char **data_r, size_t *len_r, int *rc_r,
		   const char **error_r)
{
	struct mailimap_set *set = NULL;
	struct mailimap_fetch_type *ft = NULL;
	struct mailimap_msg_att_body_section *body;
	clist *list = NULL;
	uint32_t size;
	int r, ret;

	for (size_t i = 0; i < n; i++) {
		data_r[i] = NULL;
		len_r[i] = 0;
		rc_r[i] = CM_ENOENT;
	}
	if ((ret = check_open(imap)) != 0 || n == 0)
		goto out;
	set = uid_set(uids, n);
	ft = fetch_type((uint32_t)imap->max_size + 1);
	r = mailimap_uid_fetch(imap->session, set, ft, &list);
	if (r != MAILIMAP_NO_ERROR) {
		ret = fail(imap, r, "UID FETCH");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (uids[i] == 0 || !find_body(list, uids[i], &body, &size))
			continue; /* CM_ENOENT: expunged meanwhile */
		if (size > imap->max_size || (body != NULL &&
		    body->sec_length > imap->max_size)) {
			rc_r[i] = CM_ERR;
			continue;
		}
		if (body == NULL || (body->sec_body_part == NULL &&
		    body->sec_length != 0) || body->sec_origin_octet != 0) {
			ret = seterr(imap, CM_ETEMP, "IMAP: %s sent no body "
			    "for UID %u", imap->host, uids[i]);
			goto out;
		}
		data_r[i] = cm_xmalloc(body->sec_length + 1);
		if (body->sec_length != 0)
			memcpy(data_r[i], body->sec_body_part,
			    body->sec_length);
		data_r[i][body->sec_length] = '\0';
		len_r[i] = body->sec_length;
		rc_r[i] = 0;
	}
out:
	if (ret != 0)
		for (size_t i = 0; i < n; i++) {
			free(data_r[i]);
			data_r[i] = NULL;
			len_r[i] = 0;
		}
	if (list != NULL)
		mailimap_fetch_list_free(list);
	if (ft != NULL)
		mailimap_fetch_type_free(ft);
	if (set != NULL)
		mailimap_set_free(set);
	if (ret != 0 && error_r != NULL)
		*error_r = imap->err;
	return ret;
}

/* add_flag - UID STORE uid +FLAGS.SILENT (\Seen or \Deleted) */
static int
add_flag(struct cm_imap *imap, struct mailimap_set *set, bool deleted)
{
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *sf;
	struct mailimap_flag *f;
	int r;
	int ret = 0;

	fl = need(mailimap_flag_list_new_empty());
	f = need(deleted ? mailimap_flag_new_deleted() :
	    mailimap_flag_new_seen());
	if (mailimap_flag_list_add(fl, f) != 0)
		cm_fatal("imap: out of memory");
	sf = need(mailimap_store_att_flags_new_add_flags_silent(fl));
	r = mailimap_uid_store(imap->session, set, sf);
	if (r != MAILIMAP_NO_ERROR)
		ret = fail(imap, r, deleted ? "UID STORE \\Deleted" :
		    "UID STORE \\Seen");
	mailimap_store_att_flags_free(sf);
	return ret;
}

/* make_folder - CREATE folder once per handle; a NO (ALREADYEXISTS or
 * a race with another client) is fine: MOVE or COPY will tell */
static int
make_folder(struct cm_imap *imap, const char *folder)
{
	int r;

	if (imap->folder_made != NULL && strcmp(imap->folder_made,
	    folder) == 0)
		return 0;
	r = mailimap_create(imap->session, folder);
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_ERROR_CREATE)
		return fail(imap, r, "CREATE");
	free(imap->folder_made);
	imap->folder_made = cm_xstrdup(folder);
	return 0;
}

/* move_out - UID MOVE, or UID COPY + \Deleted (+ UID EXPUNGE) */
static int
move_out(struct cm_imap *imap, struct mailimap_set *set, const char *folder)
{
	int r;
	int ret = 0;

	if (imap->cap_move) {
		r = mailimap_uid_move(imap->session, set, folder);
		if (r != MAILIMAP_NO_ERROR)
			ret = fail(imap, r, "UID MOVE");
		return ret;
	}
	r = mailimap_uid_copy(imap->session, set, folder);
	if (r != MAILIMAP_NO_ERROR)
		return fail(imap, r, "UID COPY");
	if ((ret = add_flag(imap, set, true)) != 0)
		return ret;
	/* without UIDPLUS an EXPUNGE could remove other clients'
	 * \Deleted messages: leave ours flagged for them */
	if (imap->cap_uidplus) {
		r = mailimap_uid_expunge(imap->session, set);
		if (r != MAILIMAP_NO_ERROR)
			ret = fail(imap, r, "UID EXPUNGE");
	}
	return ret;
}

/* done_set - \Seen, then move the messages of set to folder */
static int
done_set(struct cm_imap *imap, struct mailimap_set *set, const char *folder)
{
	int ret;

	if (folder != NULL && (!cm_imap_folder_valid(folder) ||
	    strcmp(folder, imap->mailbox) == 0))
		return seterr(imap, CM_ERR, "IMAP: invalid folder name for "
		    "processed mail");
	if ((ret = add_flag(imap, set, false)) != 0)
		return ret;
	if (folder == NULL)
		return 0;
	if ((ret = make_folder(imap, folder)) != 0)
		return ret;
	return move_out(imap, set, folder);
}

/* cm_imap_done - \Seen, then move to folder */
int
cm_imap_done(struct cm_imap *imap, uint32_t uid, const char *folder,
	     const char **error_r)
{
	struct mailimap_set *set;
	int ret;

	if ((ret = check_open(imap)) != 0)
		goto out;
	if (uid == 0) {
		ret = seterr(imap, CM_ERR, "IMAP: UID 0 does not exist");
		goto out;
	}
	set = need(mailimap_set_new_single(uid));
	ret = done_set(imap, set, folder);
	mailimap_set_free(set);
out:
	if (ret != 0 && error_r != NULL)
		*error_r = imap->err;
	return ret;
}

/* cm_imap_done_many - cm_imap_done for uids[0..n) in one STORE and one
 * MOVE (UID ranges), so the server commits once per batch */
int
cm_imap_done_many(struct cm_imap *imap, const uint32_t *uids, size_t n,
		  const char *folder, const char **error_r)
{
	struct mailimap_set *set;
	size_t i = 0;
	int ret;

	if ((ret = check_open(imap)) != 0 || n == 0)
		goto out;
	for (i = 0; i < n; i++)
		if (uids[i] == 0) {
			ret = seterr(imap, CM_ERR,
			    "IMAP: UID 0 does not exist");
			goto out;
		}
	set = uid_set(uids, n);
	ret = done_set(imap, set, folder);
	mailimap_set_free(set);
out:
	if (ret != 0 && error_r != NULL)
		*error_r = imap->err;
	return ret;
}

/* idle_once - one IDLE ... DONE of at most ms; 0 or CM_ETEMP */
static int
idle_once(struct cm_imap *imap, int64_t ms)
{
	mailstream *s = imap->session->imap_stream;
	int fd;
	int r;

	r = mailimap_idle(imap->session);
	if (r != MAILIMAP_NO_ERROR)
		return fail(imap, r, "IDLE");
	/* bytes may already wait in the stream's buffer */
	if (s->read_buffer_len == 0) {
		fd = mailimap_idle_get_fd(imap->session);
		if (fd < 0 || wait_fd(fd, POLLIN, ms) < 0) {
			imap->broken = true;
			return seterr(imap, CM_ETEMP, "IMAP IDLE on %s: "
			    "cannot wait on the connection: %s", imap->host,
			    strerror(errno));
		}
	}
	r = mailimap_idle_done(imap->session);
	if (r != MAILIMAP_NO_ERROR)
		return fail(imap, r, "IDLE DONE");
	return 0;
}

/* cm_imap_idle - wait for new mail (IDLE or NOOP polling) */
int
cm_imap_idle(struct cm_imap *imap, unsigned int timeout, bool *changed_r,
	     const char **error_r)
{
	int64_t end;
	int64_t left;
	int64_t step;
	int r;
	int ret;

	*changed_r = false;
	if ((ret = check_open(imap)) != 0)
		goto out;
	end = now_ms() + (int64_t)timeout * 1000;
	if (imap->cap_idle && !imap->no_idle) {
		while (!pending(imap) && (left = end - now_ms()) > 0) {
			step = left < IDLE_SEGMENT * 1000 ? left :
			    (int64_t)IDLE_SEGMENT * 1000;
			if ((ret = idle_once(imap, step)) != 0)
				goto out;
		}
	} else {
		for (;;) {
			r = mailimap_noop(imap->session);
			if (r != MAILIMAP_NO_ERROR) {
				ret = fail(imap, r, "NOOP");
				goto out;
			}
			left = end - now_ms();
			if (pending(imap) || left <= 0)
				break;
			step = (int64_t)imap->poll_interval * 1000;
			poll(NULL, 0, (int)(step < left ? step : left));
		}
	}
	*changed_r = pending(imap);
out:
	if (ret != 0 && error_r != NULL)
		*error_r = imap->err;
	return ret;
}

/* cm_imap_close - LOGOUT and free */
void
cm_imap_close(struct cm_imap **imapp)
{
	struct cm_imap *imap;

	if (imapp == NULL || *imapp == NULL)
		return;
	imap = *imapp;
	*imapp = NULL;
	if (imap->session != NULL) {
		if (imap->session->imap_stream != NULL && imap->broken) {
			mailstream_close(imap->session->imap_stream);
			imap->session->imap_stream = NULL;
		}
		/* mailimap_free sends LOGOUT on a live stream */
		mailimap_free(imap->session);
	}
	free(imap->folder_made);
	free(imap->mailbox);
	free(imap->host);
	free(imap);
}
