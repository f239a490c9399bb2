/*
 * session.c - one LMTP connection: commands, data, per-recipient replies
 *
 * SYNOPSIS
 *	lmtpd_session(&sc, fd);
 *
 * DESCRIPTION
 *	LMTP, RFC 2033, with PIPELINING (RFC 2920), ENHANCEDSTATUSCODES
 *	(RFC 2034, 3463), 8BITMIME (RFC 6152), SIZE (RFC 1870) and
 *	Postfix's XFORWARD (its IDENT attribute is the queue id, which
 *	makes a retried delivery recognisable as in pipe mode).
 *
 *	RCPT accepts every address at mail_domain (a forged or unknown
 *	key is quarantined later, never rejected, so no sender that
 *	could be forged is ever bounced to) and answers 550 5.1.2 for
 *	other domains and 452 4.5.3 beyond the recipient cap. After the
 *	final dot the message goes to the master (commit.c), one job
 *	per accepted recipient, all in one transaction, parsed and
 *	stored by the daemon's resident worker exactly as pipe mode
 *	does (a worker that dies has its message quarantined by the
 *	master; the transaction may hold other sessions' messages).
 *	Then exactly one reply per accepted recipient, in order: 250
 *	only once the delivery is committed (or durably quarantined, or
 *	was stored before), 451 4.3.0 for anything a retry could fix.
 *	The content of a message never causes a 5xx; only a message over
 *	SIZE gets 552 5.3.4, for every recipient.
 *
 *	The data is stored as pipe(8) with flags=R hands it to the mda,
 *	and recorded with the same source ("pipe": mail from the MTA):
 *	a Return-Path header first, LF line ends (CRLF and a bare LF are
 *	both line ends; a bare CR is kept), dot-stuffing removed, NUL
 *	bytes kept.
 *
 * DIAGNOSTICS
 *	One log line per recipient (mda_log_result), with qid, origin
 *	"lmtp:PEER", from, to, case, status and reason. Protocol trouble
 *	(timeouts, lost clients, too many errors) is logged once.
 *
 * SECURITY
 *	This process never parses message content: the worker does,
 *	under the configured memory and time limits. Command lines are
 *	capped at 4096 bytes, messages at max_size, recipients at
 *	max_rcpt; every wait for the client is bounded by the timeout.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cm_log.h"
#include "lmtpd.h"

#define LINE_MAX_BYTES 4096 /* one command line */
#define OUT_MAX (1024 * 1024) /* pending replies */
#define QID_MAX 64

/* The connection: buffered input, pending replies. */
struct conn {
	const struct lmtpd_session_conf *sc;
	int fd;
	char in[16384];
	size_t in_off, in_len; /* unread input is in[in_off..in_len) */
	struct cm_buf out;
	bool gone; /* the client went away or timed out */
};

/* One mail transaction. */
struct txn {
	bool lhlo, mail;
	char *sender;  /* "" for <> */
	char **rcpt;   /* accepted recipients */
	size_t n_rcpt;
	long n_refused; /* recipients refused (for the DATA reply) */
	char qid[QID_MAX + 1]; /* from XFORWARD IDENT, or "" */
};

/* reply - queue one reply line (CRLF added) */
static void CM_ATTR_PRINTF(2, 3)
reply(struct conn *c, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	if (cm_buf_append(&c->out, line, (size_t)n) < 0)
		c->gone = true; /* a client that never reads its replies */
}

/* flush - write the queued replies; -1 when the client is gone */
static int
flush(struct conn *c)
{
	if (c->out.len == 0)
		return c->gone ? -1 : 0;
	if (cm_write_all(c->fd, c->out.data, c->out.len) < 0)
		c->gone = true;
	cm_buf_reset(&c->out);
	return c->gone ? -1 : 0;
}

/*
 * fill - send the pending replies, then wait (at most the timeout) for
 * more input. 1 when bytes came, 0 at EOF, -1 on a timeout or error,
 * -2 when stoppable and a stop was asked for while waiting.
 */
static int
fill(struct conn *c, bool stoppable)
{
	sigset_t open_mask;
	struct timespec deadline, now, left;
	ssize_t n;

	if (flush(c) < 0)
		return -1;
	if (c->in_off == c->in_len) {
		c->in_off = c->in_len = 0;
	} else if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == sizeof(c->in))
		return 1; /* the caller consumes before asking again */
	sigprocmask(SIG_SETMASK, NULL, &open_mask);
	sigdelset(&open_mask, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += c->sc->timeout;
	for (;;) {
		struct pollfd p = { c->fd, POLLIN, 0 };
		int rc;

		if (stoppable && *c->sc->stop)
			return -2;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline.tv_sec - now.tv_sec;
		left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000L;
			left.tv_sec--;
		}
		if (left.tv_sec < 0) {
			cm_log_warnx("lmtp:%s: timeout waiting for the client",
				     c->sc->peer);
			c->gone = true;
			return -1;
		}
		/* SIGTERM gets through only here: a stop between the
		 * check above and the wait cannot be missed */
		rc = ppoll(&p, 1, &left, &open_mask);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			c->gone = true;
			return -1;
		}
		if (rc == 0)
			continue; /* the deadline check above ends it */
		n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->gone = true;
			return n == 0 ? 0 : -1;
		}
		c->in_len += (size_t)n;
		return 1;
	}
}

/*
 * get_line - the next command line, CRLF or LF removed, into buf.
 * 1: a line; 2: too long (read through and dropped); 3: holds a NUL;
 * 0: EOF; -1: timeout or error; -2: a stop was asked for while
 * waiting for a new line and stoppable (between transactions) is set.
 */
static int
get_line(struct conn *c, char *buf, size_t size, bool stoppable)
{
	size_t n = 0;
	bool too_long = false;
	int rc;

	for (;;) {
		char *start = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off;
		char *nl = memchr(start, '\n', avail);
		size_t take = nl != NULL ? (size_t)(nl - start) : avail;

		if (!too_long && n + take < size) {
			memcpy(buf + n, start, take);
			n += take;
		} else {
			too_long = true;
		}
		c->in_off += take;
		if (nl != NULL) {
			c->in_off++;
			break;
		}
		rc = fill(c, stoppable && n == 0 && !too_long);
		if (rc <= 0)
			return rc;
	}
	if (too_long)
		return 2;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return memchr(buf, '\0', n) != NULL ? 3 : 1;
}

/* Data decoder states: at the start of a line, inside one, after a CR
 * inside one, after a dot that starts a line, after ".\r". */
enum dstate { D_BOL, D_MID, D_CR, D_DOT, D_DOTCR };

/* put - keep bytes of the message unless it is already too big */
static void
put(struct cm_buf *b, const char *p, size_t n, bool *over)
{
	if (!*over && cm_buf_append(b, p, n) < 0)
		*over = true;
}

/*
 * read_data - the message after 354, up to the final dot, appended to
 * b (CRLF to LF, dots unstuffed). 1 when complete (*over tells whether
 * it passed b's maximum), 0 when the client left, -1 on a timeout.
 */
static int
read_data(struct conn *c, struct cm_buf *b, bool *over)
{
	enum dstate st = D_BOL;
	int rc;

	*over = false;
	for (;;) {
		while (c->in_off < c->in_len) {
			const char *p = c->in + c->in_off;
			char ch = *p;

			switch (st) {
			case D_BOL:
				if (ch == '.') {
					st = D_DOT;
					c->in_off++;
					continue;
				}
				st = D_MID;
				continue;
			case D_MID: {
				size_t k = 0, avail = c->in_len - c->in_off;

				while (k < avail && p[k] != '\r' &&
				       p[k] != '\n')
					k++;
				put(b, p, k, over);
				c->in_off += k;
				if (k == avail)
					continue;
				c->in_off++;
				if (p[k] == '\r') {
					st = D_CR;
				} else {
					put(b, "\n", 1, over);
					st = D_BOL;
				}
				continue;
			}
			case D_CR:
				if (ch == '\n') {
					put(b, "\n", 1, over);
					c->in_off++;
					st = D_BOL;
				} else {
					put(b, "\r", 1, over); /* bare CR */
					st = D_MID;
				}
				continue;
			case D_DOT:
				if (ch == '\r') {
					st = D_DOTCR;
					c->in_off++;
				} else if (ch == '\n') {
					c->in_off++;
					return 1;
				} else {
					st = D_MID; /* a stuffed dot: dropped */
				}
				continue;
			case D_DOTCR:
				if (ch == '\n') {
					c->in_off++;
					return 1;
				}
				put(b, "\r", 1, over);
				st = D_MID;
				continue;
			}
		}
		rc = fill(c, false);
		if (rc <= 0)
			return rc < 0 ? -1 : 0;
	}
}

/* txn_reset - forget the transaction (and what XFORWARD said) */
static void
txn_reset(struct txn *t)
{
	for (size_t i = 0; i < t->n_rcpt; i++)
		free(t->rcpt[i]);
	free(t->rcpt);
	free(t->sender);
	t->rcpt = NULL;
	t->sender = NULL;
	t->n_rcpt = 0;
	t->n_refused = 0;
	t->mail = false;
	t->qid[0] = '\0';
}

/* word_is - does the command line start with word (case-blind),
 * followed by the end or a space; *rest_r points after the spaces */
static bool
word_is(const char *line, const char *word, const char **rest_r)
{
	size_t n = strlen(word);

	if (strncasecmp(line, word, n) != 0 ||
	    (line[n] != '\0' && line[n] != ' '))
		return false;
	line += n;
	while (*line == ' ')
		line++;
	*rest_r = line;
	return true;
}

/*
 * parse_path - "FROM:<addr> params" (prefix "FROM:" or "TO:") into
 * addr (a source route dropped) and the parameters; 0 or -1. Control
 * bytes, an unterminated path and overlong addresses are refused.
 */
static int
parse_path(const char *arg, const char *prefix, char *addr, size_t size,
	   const char **params_r)
{
	size_t n = strlen(prefix);
	const char *p, *end;

	if (strncasecmp(arg, prefix, n) != 0)
		return -1;
	p = arg + n;
	while (*p == ' ')
		p++;
	if (*p != '<')
		return -1;
	p++;
	end = strchr(p, '>');
	if (end == NULL || (size_t)(end - p) >= size ||
	    (size_t)(end - p) > CM_MAX_ADDRESS)
		return -1;
	if (*p == '@') { /* "@a,@b:user@c": the route is ignored */
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (colon == NULL)
			return -1;
		p = colon + 1;
	}
	for (const char *q = p; q < end; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return -1;
	memcpy(addr, p, (size_t)(end - p));
	addr[end - p] = '\0';
	p = end + 1;
	if (*p != '\0' && *p != ' ')
		return -1;
	while (*p == ' ')
		p++;
	*params_r = p;
	return 0;
}

/* next_param - the next "KEY[=VALUE]" of a parameter list into buf;
 * false at the end */
static bool
next_param(const char **pp, char *buf, size_t size)
{
	const char *p = *pp;
	size_t n = 0;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return false;
	while (*p != '\0' && *p != ' ') {
		if (n + 1 < size)
			buf[n++] = *p;
		p++;
	}
	buf[n] = '\0';
	*pp = p;
	return true;
}

/* cmd_lhlo - LHLO: the greeting and the extensions */
static void
cmd_lhlo(struct conn *c, struct txn *t, const char *arg)
{
	if (*arg == '\0') {
		reply(c, "501 5.5.4 Syntax: LHLO hostname");
		return;
	}
	txn_reset(t);
	t->lhlo = true;
	reply(c, "250-%s", c->sc->hostname);
	reply(c, "250-PIPELINING");
	reply(c, "250-ENHANCEDSTATUSCODES");
	reply(c, "250-8BITMIME");
	reply(c, "250-SIZE %ld", c->sc->max_size);
	reply(c, "250 XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT");
}

/* xtext_decode - RFC 3461 xtext ("+HH") in place; -1 when malformed */
static int
xtext_decode(char *s)
{
	char *o = s;

	for (char *p = s; *p != '\0'; p++) {
		unsigned int v;

		if (*p != '+') {
			*o++ = *p;
			continue;
		}
		if (sscanf(p + 1, "%2x", &v) != 1 || v == 0 || p[1] == '\0' ||
		    p[2] == '\0')
			return -1;
		*o++ = (char)v;
		p += 2;
	}
	*o = '\0';
	return 0;
}

/* queue_id_ok - a Postfix queue id: letters and digits, short */
static bool
queue_id_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!((s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '.' ||
		      s[n] == '-' || s[n] == '_'))
			return false;
	return n > 0 && n <= QID_MAX;
}

/* cmd_xforward - XFORWARD: only IDENT (the queue id) matters here */
static void
cmd_xforward(struct conn *c, struct txn *t, const char *arg)
{
	char p[LINE_MAX_BYTES];

	if (!t->lhlo || t->mail) {
		reply(c, "503 5.5.1 Error: XFORWARD before MAIL, after LHLO");
		return;
	}
	if (*arg == '\0') {
		reply(c, "501 5.5.4 Syntax: XFORWARD attribute=value...");
		return;
	}
	while (next_param(&arg, p, sizeof(p))) {
		char *eq = strchr(p, '=');

		if (eq == NULL) {
			reply(c, "501 5.5.4 Bad XFORWARD attribute");
			return;
		}
		*eq = '\0';
		if (strcasecmp(p, "IDENT") != 0)
			continue;
		if (xtext_decode(eq + 1) == 0 && queue_id_ok(eq + 1))
			cm_strlcpy(t->qid, eq + 1, sizeof(t->qid));
		else
			t->qid[0] = '\0'; /* [UNAVAILABLE] and the like */
	}
	reply(c, "250 2.0.0 Ok");
}

/* cmd_mail - MAIL FROM:<addr> [SIZE=n] [BODY=7BIT|8BITMIME] */
static void
cmd_mail(struct conn *c, struct txn *t, const char *arg)
{
	char addr[CM_MAX_ADDRESS + 1], p[LINE_MAX_BYTES];
	const char *params;

	if (!t->lhlo) {
		reply(c, "503 5.5.1 Error: send LHLO first");
		return;
	}
	if (t->mail) {
		reply(c, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (parse_path(arg, "FROM:", addr, sizeof(addr), &params) < 0) {
		reply(c, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	while (next_param(&params, p, sizeof(p))) {
		long size;

		if (cm_str_has_prefix_ci(p, "SIZE=")) {
			if (cm_parse_long(p + 5, 0, 0x7fffffffL, &size) < 0) {
				reply(c, "501 5.5.4 Bad SIZE parameter");
				return;
			}
			if (size > c->sc->max_size) {
				reply(c, "552 5.3.4 Message size exceeds "
					 "fixed limit");
				return;
			}
		} else if (strcasecmp(p, "BODY=7BIT") != 0 &&
			   strcasecmp(p, "BODY=8BITMIME") != 0) {
			reply(c, "555 5.5.4 Unsupported MAIL parameter");
			return;
		}
	}
	t->sender = cm_xstrdup(addr);
	t->mail = true;
	reply(c, "250 2.1.0 Ok");
}

/* ours - is addr at mail_domain (case-blind) */
static bool
ours(const struct conn *c, const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *dom = c->sc->m->cfg->mail_domain;

	return at != NULL && at != addr && dom != NULL &&
	       strcasecmp(at + 1, dom) == 0;
}

/* cmd_rcpt - RCPT TO:<addr> [ORCPT=...] */
static void
cmd_rcpt(struct conn *c, struct txn *t, const char *arg)
{
	char addr[CM_MAX_ADDRESS + 1], p[LINE_MAX_BYTES];
	const char *params;

	if (!t->mail) {
		reply(c, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (parse_path(arg, "TO:", addr, sizeof(addr), &params) < 0) {
		reply(c, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	while (next_param(&params, p, sizeof(p)))
		if (!cm_str_has_prefix_ci(p, "ORCPT=")) {
			reply(c, "555 5.5.4 Unsupported RCPT parameter");
			return;
		}
	if (!ours(c, addr)) {
		t->n_refused++;
		reply(c, "550 5.1.2 <%s>: Recipient address rejected: not "
			 "a casemail address", addr);
		return;
	}
	if ((long)t->n_rcpt >= c->sc->max_rcpt) {
		t->n_refused++;
		reply(c, "452 4.5.3 Error: too many recipients");
		return;
	}
	t->rcpt = cm_xrealloc(t->rcpt, (t->n_rcpt + 1) * sizeof(*t->rcpt));
	t->rcpt[t->n_rcpt++] = cm_xstrdup(addr);
	reply(c, "250 2.1.5 Ok");
}

/* reply_for - the reply to one recipient once its job is over */
static void
reply_for(struct conn *c, const struct mda_job *job)
{
	static const char *names[] = {
		"posted", "held", "quarantined", "duplicate", "event",
	};
	char rcpt[200], why[220];

	cm_log_sanitize(rcpt, sizeof(rcpt), job->env.recipient, 150);
	if (job->res.status == CM_DS_OK && job->committed) {
		reply(c, "250 2.0.0 <%s> Ok: %s id=%lld", rcpt,
		      names[job->res.outcome], (long long)job->res.id);
		return;
	}
	/* everything else is worth a retry: never a 5xx for content */
	cm_log_sanitize(why, sizeof(why), job->res.reason[0] != '\0'
			? job->res.reason : "not delivered", 180);
	reply(c, "451 4.3.0 <%s> Temporary failure: %s", rcpt, why);
}

/* deliver - the message to every accepted recipient, stored by the
 * master's worker in one transaction (shared with other sessions'
 * messages), then one reply per recipient; -1 when the master is gone
 * (the replies are 451, and the session should end) */
static int
deliver(struct conn *c, struct txn *t, const char *data, size_t len)
{
	struct mda_job *jobs = cm_xcalloc(t->n_rcpt, sizeof(*jobs));
	char origin[80];
	int ret;

	snprintf(origin, sizeof(origin), "lmtp:%s", c->sc->peer);
	for (size_t i = 0; i < t->n_rcpt; i++) {
		jobs[i].data = data;
		jobs[i].len = len;
		jobs[i].env.sender = t->sender;
		jobs[i].env.recipient = t->rcpt[i];
		jobs[i].env.queue_id = t->qid[0] != '\0' ? t->qid : NULL;
		/* the store knows one source for mail from the MTA */
		jobs[i].env.source = "pipe";
		jobs[i].env.origin = origin;
		jobs[i].env.key_rcpt = true;
	}
	ret = lmtpd_commit_request(c->sc->chan, jobs, t->n_rcpt);
	for (size_t i = 0; i < t->n_rcpt; i++) {
		if (ret < 0) {
			jobs[i].committed = false;
			jobs[i].res.status = CM_DS_TEMP;
			cm_strlcpy(jobs[i].res.case_ref, "-",
				   sizeof(jobs[i].res.case_ref));
			cm_strlcpy(jobs[i].res.reason, "daemon restarting",
				   sizeof(jobs[i].res.reason));
		}
		if (!jobs[i].committed && jobs[i].res.status == CM_DS_OK) {
			jobs[i].res.status = CM_DS_TEMP;
			cm_strlcpy(jobs[i].res.reason, "not committed",
				   sizeof(jobs[i].res.reason));
		}
		mda_log_result(&jobs[i].env, &jobs[i].res);
		reply_for(c, &jobs[i]);
	}
	free(jobs);
	return ret;
}

/* cmd_data - DATA: read the message, deliver, reply per recipient;
 * -1 when the connection is lost */
static int
cmd_data(struct conn *c, struct txn *t)
{
	struct cm_buf b;
	bool over = false;
	int rc, ret = -1;

	if (!t->mail) {
		reply(c, "503 5.5.1 Error: need MAIL command");
		return 0;
	}
	if (t->n_rcpt == 0) {
		reply(c, "503 5.5.1 Error: no valid recipients");
		return 0;
	}
	/* what pipe(8) flags=R prepends, so both paths store the same */
	cm_buf_init(&b, (size_t)c->sc->max_size + CM_MAX_ADDRESS + 32);
	if (cm_buf_printf(&b, "Return-Path: <%s>\n", t->sender) < 0)
		over = true;
	b.max = b.len + (size_t)c->sc->max_size;
	reply(c, "354 End data with <CR><LF>.<CR><LF>");
	if (flush(c) < 0)
		goto out;
	rc = read_data(c, &b, &over);
	if (rc <= 0) {
		cm_log_warnx("lmtp:%s: %s during DATA: nothing stored",
			     c->sc->peer, rc == 0 ? "client left" : "timeout");
		goto out;
	}
	if (over) {
		for (size_t i = 0; i < t->n_rcpt; i++)
			reply(c, "552 5.3.4 Message size exceeds fixed limit");
		cm_log_warnx("lmtp:%s: message over %ld bytes refused",
			     c->sc->peer, c->sc->max_size);
	} else if (deliver(c, t, b.data != NULL ? b.data : "", b.len) < 0) {
		reply(c, "421 4.3.0 Service restarting");
		goto out;
	}
	ret = 0;
out:
	cm_buf_free(&b);
	txn_reset(t);
	return ret;
}

/* dispatch - one command line; -1 ends the session */
static int
dispatch(struct conn *c, struct txn *t, const char *line, long *errors)
{
	const char *arg;

	if (word_is(line, "LHLO", &arg)) {
		cmd_lhlo(c, t, arg);
	} else if (word_is(line, "MAIL", &arg)) {
		cmd_mail(c, t, arg);
	} else if (word_is(line, "RCPT", &arg)) {
		cmd_rcpt(c, t, arg);
	} else if (word_is(line, "DATA", &arg)) {
		if (*arg != '\0') {
			reply(c, "501 5.5.4 Syntax: DATA");
			return 0;
		}
		return cmd_data(c, t);
	} else if (word_is(line, "XFORWARD", &arg)) {
		cmd_xforward(c, t, arg);
	} else if (word_is(line, "RSET", &arg)) {
		txn_reset(t);
		reply(c, "250 2.0.0 Ok");
	} else if (word_is(line, "NOOP", &arg)) {
		reply(c, "250 2.0.0 Ok");
	} else if (word_is(line, "VRFY", &arg)) {
		reply(c, "252 2.5.2 Send some mail, I'll try my best");
	} else if (word_is(line, "QUIT", &arg)) {
		reply(c, "221 2.0.0 Bye");
		return -1;
	} else if (word_is(line, "HELO", &arg) ||
		   word_is(line, "EHLO", &arg)) {
		reply(c, "500 5.5.1 Error: this is LMTP, send LHLO");
		(*errors)++;
	} else {
		reply(c, "500 5.5.2 Error: command not recognized");
		(*errors)++;
	}
	return 0;
}

/* lmtpd_session - serve one connection */
void
lmtpd_session(const struct lmtpd_session_conf *sc, int fd)
{
	struct conn c;
	struct txn t;
	char line[LINE_MAX_BYTES];
	long errors = 0;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	c.sc = sc;
	c.fd = fd;
	cm_buf_init(&c.out, OUT_MAX);
	reply(&c, "220 %s LMTP casemail-lmtpd", sc->hostname);
	for (;;) {
		int rc;

		if (*sc->stop && !t.mail) {
			reply(&c, "421 4.3.2 Service shutting down");
			break;
		}
		if (errors >= sc->max_errors) {
			reply(&c, "421 4.7.0 Error: too many errors");
			cm_log_warnx("lmtp:%s: too many errors, disconnecting",
				     sc->peer);
			break;
		}
		rc = get_line(&c, line, sizeof(line), !t.mail);
		if (rc == -2)
			continue; /* stop asked for: the check above says so */
		if (rc <= 0)
			break;
		if (rc == 2) {
			reply(&c, "500 5.5.2 Error: line too long");
			errors++;
			continue;
		}
		if (rc == 3) {
			reply(&c, "500 5.5.2 Error: NUL byte in command");
			errors++;
			continue;
		}
		if (dispatch(&c, &t, line, &errors) < 0)
			break;
	}
	(void)flush(&c);
	txn_reset(&t);
	cm_buf_free(&c.out);
}
