/*
 * bounce.c - delivery status notifications and their failed recipients
 *
 * SYNOPSIS
 *	struct cm_bounce b;
 *	cm_bounce_parse(msg, &b);
 *	cm_bounce_clear(&b);
 *
 * DESCRIPTION
 *	Three readings, the first that finds recipients wins:
 *
 *	1. RFC 3464: the message/delivery-status part (decoded by mime, so
 *	   base64 works), else per-recipient fields found in a text part of
 *	   a malformed report. Field groups are separated by blank lines;
 *	   each group with Final-Recipient (or Original-Recipient) is one
 *	   recipient with Action, Status and Diagnostic-Code; its address
 *	   is the Original-Recipient (what the sender wrote) when readable.
 *	   Delivered, relayed and expanded recipients are no failures;
 *	   "failed" is permanent whatever the status (4.4.7 means the MTA
 *	   gave up), "delayed" never is, otherwise the status class says.
 *	2. X-Failed-Recipients (Exim).
 *	3. The returned message's headers, for a notice: its one addressee
 *	   (To and Cc hold exactly one address, not its own sender, not
 *	   list mail, not an address it was already delivered to by its
 *	   Delivered-To), when the free text names no one else.
 *	4. Free text, before the copy of the returned message (the words
 *	   before a copy mark on the same line still count: HTML notices
 *	   rendered as one line): an address counts as a failed recipient
 *	   when it stands alone on its line, is followed by ':' or " ...",
 *	   sits in a list introduced by a sentence about the failed
 *	   recipients, or shares its line with a failure word or an
 *	   SMTP/enhanced status code (but not right after "from": the
 *	   envelope sender of "... from a@b via ..., to c@d"). A bare
 *	   indented name right after a list sentence ending in ':' is a
 *	   local part of the reporting system's domain (AOL screen names).
 *	   Never recipients: addresses of the returned message's sender,
 *	   the notice's own From and To (the failed message's sender) unless
 *	   the returned message was addressed to them, postmaster and
 *	   mailer-daemon addresses, addresses with an empty atom ("da...@",
 *	   elided), and the indented "To:" that echoes the original's
 *	   header in Exchange notices. A delay warning is told from a
 *	   failure by its sentences ("will continue to try", "not yet been
 *	   delivered") unless a sentence explicitly says the system gave up
 *	   ("given up", "permanent error", "will not be retried").
 *
 *	Whether the message is a failure notice at all needs structure: a
 *	report with failed recipients, X-Failed-Recipients; a
 *	mailer-daemon/postmaster/null sender with a failure or delay
 *	sentence or a bounce subject; a postmaster/mailer-daemon From
 *	with a recipient in a structural place (alone, "<a@b>:"); or a
 *	bounce subject with a failure sentence that is no person's reply
 *	("Re:", "Fwd:"). A reply from a person is never a bounce.
 *
 *	RFC 3461, 3463, 3464, 6522, 6533.
 *
 * SECURITY
 *	Linear time: every keyword search uses memmem on one lower-cased
 *	line; the free-text scan reads at most MAX_SCAN bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm_bounce.h"
#include "cm_fit.h"
#include "cm_util.h"

#define MAX_SCAN (256 * 1024) /* bytes of free text looked at */
#define MAX_LINE 2048         /* bytes of one line looked at */
#define MAX_FIELD 1024        /* bytes of one DSN field value */
#define LIST_LINES 12         /* lines a recipient list may span */
#define MAX_HDR_ADDRS 64      /* addresses taken from returned headers */

/* A line of text: p[0..n). */
struct span {
	const char *p;
	size_t n;
};

/* Sentences that say delivery failed (lower case). */
static const char *const fail_phrases[] = {
	"could not be delivered", "couldn't be delivered",
	"could not deliver", "couldn't deliver", "was not delivered",
	"were not delivered", "not be delivered", "undeliverable",
	"undelivered", "delivery failed", "delivery has failed",
	"delivery to the following", "failed permanently",
	"permanent error", "permanent fatal", "fatal error",
	"fatal delivery", "not able to deliver", "wasn't able to deliver",
	"was not able to deliver", "unable to deliver", "delivery failure",
	"failed to deliver", "delivery problem", "user unknown",
	"unknown user", "no such user", "no such recipient",
	"no such mailbox", "does not exist", "doesn't exist",
	"mailbox unavailable", "mailbox not found", "recipient rejected",
	"did not reach", "could not be reached", "cannot be reached",
	"returned mail", "message was returned", "has been returned",
	"being returned", "mail delivery failed", "non-delivery",
	"nondeliverable", "non remis", "unzustellbar", "nicht zugestellt",
	"konnte nicht", "no se pudo entregar", "non recapitato",
	"impossible de remettre", "pas pu \xc3\xaatre remis",
	"did not receive your message", "not delivered to",
	"following address(es) failed", "addresses failed",
	"returning message to sender", "delivery status notification",
	"has been delayed", "delivery attempts will continue",
	"not yet been delivered", "could not be sent", "message rejected",
	"not accepting mail", "doesn't have a", "not a valid",
	"invalid recipient", "account is disabled",
	"account has been disabled", "over quota", "mailbox is full",
	"mailbox full", "quota exceeded", "relay denied",
	"relaying denied", "message bounced", "bounced", "failure notice",
	"recipient address rejected", "unknown recipient",
	"recipient unknown", "address rejected", "blocked",
	"rejected your message", "rejected by", "was rejected",
	"permanently rejected", "invalid address", "no mailbox",
	"delivery notification", "mail system error",
	"failed addresses", "unknown host", "host unknown",
};

/* Words that make an address on the same line a failed recipient. */
static const char *const line_hints[] = {
	"unknown", "not exist", "n't exist", "no such", "invalid",
	"disabled", "inactive", "reject", "refused", "fail", "unavailable",
	"not found", "undeliver", "could not", "couldn't", "unable",
	"quota", "full", "denied", "permanent", "bounce", "not deliver",
	"error", "recipient", "mailbox", "user", "account", "not reach",
	"deliver", "blocked", "spam", "expired", "suspended", "rcpt",
	"destinat", "not accept", "not allowed", "no mx", "host",
	"timed out", "problem", "address", "addressee", "nicht",
};

/* Sentences of a delay warning. */
static const char *const delay_phrases[] = {
	"will continue to", "will keep trying", "will retry",
	"will be retried", "still trying", "will try again",
	"not yet been delivered", "has not yet been", "not been delivered yet",
	"delivery attempts will continue", "no action is required",
	"you do not need to take any action", "this is just a warning",
	"this is a warning", "warning: message", "delayed",
	"delivery delayed", "will be attempted again",
	"continue to attempt delivery", "retry delivery",
	"temporarily deferred", "keep trying", "postponed",
	/* Gmail: "** Message not delivered yet **", "hasn't been delivered
	 * yet. Gmail will retry for 47 more hours." */
	"delivered yet", "will retry for",
};

/* Sentences that say the system gave up. */
static const char *const gaveup_phrases[] = {
	"given up", "giving up", "gave up", "not going to try again",
	"permanent error", "permanent failure", "permanently",
	"fatal error", "will not be retried", "too long",
	"has been removed from the mail queue", "no longer",
};

/* gaveup_line - true if lower-case line buf[0..n) says the system
 * gave up, and not only in a condition ("You'll be notified if the
 * delivery fails permanently", as Gmail's delay warning ends) */
static bool
gaveup_line(const char *buf, size_t n)
{
	const char *p, *q;
	size_t i;

	for (i = 0; i < CM_ARRAY_SIZE(gaveup_phrases); i++) {
		p = memmem(buf, n, gaveup_phrases[i],
			   strlen(gaveup_phrases[i]));
		if (p == NULL)
			continue;
		/* the sentence it stands in, up to the phrase */
		for (q = p; q > buf && q[-1] != '.'; q--)
			;
		if (memmem(q, (size_t)(p - q), "if ", 3) == NULL)
			return true;
	}
	return false;
}

/* Lines after which the returned message follows. */
static const char *const copy_marks[] = {
	"original message follows", "below this line is a copy",
	"this is a copy of the message", "returned mail follows",
	"message text follows", "unsent message below",
	"original message headers", "----- original message",
	"original message ---", "message headers follow",
	"headers of the original message", "returned message follows",
	"original message:",
	"copy of the original", "text of the message follows",
	"headers of your message follow", "undelivered message follows",
	"your message reads", "the message follows",
};

/* Local parts that are never a failed recipient. */
static const char *const system_locals[] = {
	"postmaster", "mailer-daemon", "mailerdaemon", "mail-daemon",
	"maildaemon", "mdaemon", "daemon",
};

/* lower_line - lower-cased copy of s into buf (at most MAX_LINE) */
static size_t
lower_line(struct span s, char *buf)
{
	size_t i, n = s.n < MAX_LINE ? s.n : MAX_LINE;

	for (i = 0; i < n; i++)
		buf[i] = (s.p[i] >= 'A' && s.p[i] <= 'Z') ? (char)(s.p[i] + 32)
							  : s.p[i];
	buf[n] = '\0';
	return n;
}

/* next_line - the line at *pos of text[0..len), advancing *pos */
static bool
next_line(const char *text, size_t len, size_t *pos, struct span *s)
{
	const char *nl;
	size_t e;

	if (*pos >= len)
		return false;
	nl = memchr(text + *pos, '\n', len - *pos);
	e = nl != NULL ? (size_t)(nl - text) : len;
	s->p = text + *pos;
	s->n = e - *pos;
	if (s->n > 0 && s->p[s->n - 1] == '\r')
		s->n--;
	*pos = nl != NULL ? e + 1 : len;
	return true;
}

/* is_blank - true if s holds only white space */
static bool
is_blank(struct span s)
{
	size_t i;

	for (i = 0; i < s.n; i++)
		if (s.p[i] != ' ' && s.p[i] != '\t')
			return false;
	return true;
}

/* local_char - true if c may appear in an unquoted local part */
static bool
local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("!#$%&'*+/=?^_`{|}~.-", c)
						!= NULL;
}

/* domain_char - true if c may appear in a domain */
static bool
domain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

/*
 * find_addr - the first address in p[from..n): its start and end in
 * *b_r and *e_r. Linear: the scans stop at '@' and never go back past
 * from. X.400 "SMTP=" and "rfc822;" prefixes are cut off.
 */
static bool
find_addr(const char *p, size_t n, size_t from, size_t *b_r, size_t *e_r)
{
	size_t i, b, e, k;
	bool dot;

	for (i = from; i < n; i++) {
		if (p[i] != '@')
			continue;
		b = i;
		while (b > from && local_char(p[b - 1]) && i - b < 128)
			b--;
		while (b < i && (p[b] == '.' || p[b] == '\'' || p[b] == '='))
			b++;
		for (k = i; k > b; k--)
			if (p[k - 1] == '=')
				break;
		if (k > b && k - b >= 4 &&
		    strncasecmp(p + k - 5 >= p + b ? p + k - 5 : p + b,
				"smtp=", 5) == 0)
			b = k;
		e = i + 1;
		dot = false;
		while (e < n && domain_char(p[e]) && e - i < 256) {
			if (p[e] == '.')
				dot = true;
			e++;
		}
		while (e > i + 1 && (p[e - 1] == '.' || p[e - 1] == '-'))
			e--;
		dot = dot && memchr(p + i + 1, '.', e - i - 1) != NULL;
		if (b < i && e > i + 1 && dot) {
			*b_r = b;
			*e_r = e;
			return true;
		}
	}
	return false;
}

/* system_addr - true for postmaster, mailer-daemon and the like */
static bool
system_addr(const char *a)
{
	const char *at = strchr(a, '@');
	size_t i, n = at != NULL ? (size_t)(at - a) : strlen(a);

	for (i = 0; i < CM_ARRAY_SIZE(system_locals); i++)
		if (n == strlen(system_locals[i]) &&
		    strncasecmp(a, system_locals[i], n) == 0)
			return true;
	return false;
}

/* one_line_copy - copy of p[0..n) as one printable line, at most max */
static char *
one_line_copy(const char *p, size_t n, size_t max)
{
	char *s, *c;
	size_t i, k;

	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if (n > max)
		n = max;
	s = cm_xstrndup(p, n);
	for (i = 0, k = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			if (k > 0 && s[k - 1] != ' ')
				s[k++] = ' ';
			continue;
		}
		s[k++] = s[i];
	}
	while (k > 0 && s[k - 1] == ' ')
		k--;
	s[k] = '\0';
	/* a cut may split a UTF-8 sequence: repair it */
	c = cm_utf8_clean(s, k);
	free(s);
	return c;
}

/* dot_atom - true unless the local part of a has an empty atom
 * ("a..b", ".a", "a."): such text is an elided or broken address */
static bool
dot_atom(const char *a)
{
	const char *at = strchr(a, '@');
	size_t i, n = at != NULL ? (size_t)(at - a) : strlen(a);

	if (n == 0 || a[0] == '.' || a[n - 1] == '.')
		return false;
	for (i = 1; i < n; i++)
		if (a[i] == '.' && a[i - 1] == '.')
			return false;
	return true;
}

/* find_rcpt - the recipient entry for address a, or NULL */
static struct cm_bounce_rcpt *
find_rcpt(struct cm_bounce *b, const char *a)
{
	size_t i;

	for (i = 0; i < b->n_rcpts; i++)
		if (strcasecmp(b->rcpts[i].address, a) == 0)
			return &b->rcpts[i];
	return NULL;
}

/* add_rcpt - add address p[0..n) unless present; the entry or NULL */
static struct cm_bounce_rcpt *
add_rcpt(struct cm_bounce *b, const char *p, size_t n)
{
	struct cm_bounce_rcpt *r;
	char *a;

	if (n == 0 || n > CM_MAX_ADDRESS)
		return NULL;
	a = one_line_copy(p, n, CM_MAX_ADDRESS);
	if (*a == '\0' || strchr(a, ' ') != NULL || system_addr(a) ||
	    !dot_atom(a) ||
	    (r = find_rcpt(b, a)) != NULL) {
		free(a);
		return NULL;
	}
	if (b->n_rcpts >= CM_BOUNCE_MAX_RCPTS) {
		free(a);
		return NULL;
	}
	b->rcpts = cm_xrealloc(b->rcpts, (b->n_rcpts + 1) * sizeof(*r));
	r = &b->rcpts[b->n_rcpts++];
	memset(r, 0, sizeof(*r));
	r->address = a;
	return r;
}

/*
 * DSN fields (RFC 3464)
 */

/* One recipient's field group. */
struct group {
	char final[MAX_FIELD], orig[MAX_FIELD], action[64], status[64];
	char diag[MAX_FIELD];
	bool any;
};

/* field_value - store value p[0..n) (appending continuation lines) */
static void
field_value(char *dst, size_t cap, const char *p, size_t n, bool append)
{
	size_t k = append ? strlen(dst) : 0;

	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if (append && k > 0 && k + 1 < cap)
		dst[k++] = ' ';
	if (n > cap - 1 - k)
		n = cap - 1 - k;
	memcpy(dst + k, p, n);
	dst[k + n] = '\0';
}

/* addr_of - the address of a "type; address" value into b, or false */
static bool
addr_of(const char *v, char *out, size_t cap)
{
	const char *semi = strchr(v, ';'), *p;
	size_t b, e;

	p = semi != NULL ? semi + 1 : v;
	if (!find_addr(p, strlen(p), 0, &b, &e) || e - b >= cap)
		return false;
	memcpy(out, p + b, e - b);
	out[e - b] = '\0';
	return true;
}

/* flush_group - turn a finished field group into a recipient */
static size_t
flush_group(struct cm_bounce *b, struct group *g)
{
	struct cm_bounce_rcpt *r;
	char addr[CM_MAX_ADDRESS + 1];
	const char *diag;
	size_t added = 0;

	if (!g->any)
		goto out;
	/* the address the sender gave (ORCPT) before the one the last
	 * MTA rewrote it to: it is the one a sender can match */
	if (!addr_of(g->orig, addr, sizeof(addr)) &&
	    !addr_of(g->final, addr, sizeof(addr)))
		goto out;
	cm_str_lower(g->action);
	cm_str_trim(g->action);
	cm_str_trim(g->status);
	if (strncmp(g->action, "delivered", 9) == 0 ||
	    strncmp(g->action, "relayed", 7) == 0 ||
	    strncmp(g->action, "expanded", 8) == 0)
		goto out;
	if (g->action[0] == '\0' && g->status[0] == '2')
		goto out;
	r = add_rcpt(b, addr, strlen(addr));
	if (r == NULL)
		goto out;
	added = 1;
	if (g->action[0] != '\0')
		r->action = one_line_copy(g->action, strcspn(g->action, " ("),
					  63);
	if (g->status[0] != '\0')
		r->status = one_line_copy(g->status,
					  strcspn(g->status, " ("), 63);
	diag = strchr(g->diag, ';') != NULL ? strchr(g->diag, ';') + 1
					    : g->diag;
	if (*g->diag != '\0')
		r->diagnostic = one_line_copy(diag, strlen(diag), 500);
	if (strncmp(g->action, "delayed", 7) == 0)
		r->permanent = false;
	else if (strncmp(g->action, "failed", 6) == 0)
		r->permanent = true; /* no more attempts, even for 4.x.x */
	else
		r->permanent = g->status[0] == '5';
out:
	memset(g, 0, sizeof(*g));
	return added;
}

/* cm_bounce_dsn - read the fields of a delivery-status body */
size_t
cm_bounce_dsn(const char *status, struct cm_bounce *b)
{
	struct group *g = cm_xcalloc(1, sizeof(*g));
	struct span s;
	size_t pos = 0, len, added = 0, k, j;
	char *dst = NULL;
	size_t cap = 0;

	if (status == NULL)
		goto out;
	len = strlen(status);
	if (len > MAX_SCAN)
		len = MAX_SCAN;
	while (next_line(status, len, &pos, &s)) {
		if (is_blank(s)) {
			added += flush_group(b, g);
			dst = NULL;
			continue;
		}
		if (s.p[0] == ' ' || s.p[0] == '\t') {
			if (dst != NULL)
				field_value(dst, cap, s.p, s.n, true);
			continue;
		}
		for (k = 0; k < s.n && s.p[k] != ':' && s.p[k] != ' '; k++)
			;
		for (j = k; j < s.n && s.p[j] == ' '; j++)
			;
		dst = NULL;
		if (j >= s.n || s.p[j] != ':')
			continue;
		if (k == 15 && strncasecmp(s.p, "final-recipient", k) == 0) {
			if (g->final[0] != '\0')
				added += flush_group(b, g);
			dst = g->final;
			cap = sizeof(g->final);
		} else if (k == 18 &&
			   strncasecmp(s.p, "original-recipient", k) == 0) {
			if (g->orig[0] != '\0')
				added += flush_group(b, g);
			dst = g->orig;
			cap = sizeof(g->orig);
		} else if (k == 6 && strncasecmp(s.p, "action", k) == 0) {
			dst = g->action;
			cap = sizeof(g->action);
		} else if (k == 6 && strncasecmp(s.p, "status", k) == 0) {
			dst = g->status;
			cap = sizeof(g->status);
		} else if (k == 15 &&
			   strncasecmp(s.p, "diagnostic-code", k) == 0) {
			dst = g->diag;
			cap = sizeof(g->diag);
		}
		if (dst != NULL) {
			g->any = true;
			field_value(dst, cap, s.p + j + 1, s.n - j - 1, false);
			b->is_dsn = true;
		}
	}
	added += flush_group(b, g);
out:
	free(g);
	return added;
}

/*
 * Free text
 */

/* copy_mark - true if lower-case line buf starts the returned copy;
 * *at_r is where on the line the mark starts (text before it, as in
 * an HTML notice rendered as one line, is still the notice) */
static bool
copy_mark(const char *buf, size_t n, struct span s, size_t *at_r)
{
	const char *p;
	size_t i;
	bool found = false;

	*at_r = 0;
	/* an inline copy of the returned headers */
	if ((s.n > 9 && strncasecmp(s.p, "Received:", 9) == 0) ||
	    (s.n > 12 && strncasecmp(s.p, "Return-Path:", 12) == 0))
		return true;
	for (i = 0; i < CM_ARRAY_SIZE(copy_marks); i++) {
		p = memmem(buf, n, copy_marks[i], strlen(copy_marks[i]));
		if (p != NULL && (!found || (size_t)(p - buf) < *at_r)) {
			*at_r = (size_t)(p - buf);
			found = true;
		}
	}
	return found;
}

/* sender_line - true if the line names a sender or the original
 * message's header, not a failed recipient */
static bool
sender_line(const char *buf, size_t n)
{
	size_t k = 0;

	while (k < n && (buf[k] == ' ' || buf[k] == '\t'))
		k++;
	if (strncmp(buf + k, "cc:", 3) == 0 ||
	    (k > 0 && strncmp(buf + k, "to:", 3) == 0) ||
	    strncmp(buf + k, "subject:", 8) == 0 ||
	    strncmp(buf + k, "sent:", 5) == 0)
		return true;
	return strncmp(buf, "from:", 5) == 0 ||
	       strncmp(buf, "sender:", 7) == 0 ||
	       strncmp(buf, "reply-to:", 9) == 0 ||
	       strncmp(buf, "return-path:", 12) == 0 ||
	       strncmp(buf, "message-id:", 11) == 0 ||
	       strncmp(buf, "errors-to:", 10) == 0 ||
	       memmem(buf, n, "mail from", 9) != NULL ||
	       memmem(buf, n, "sender ok", 9) != NULL ||
	       memmem(buf, n, "please contact", 14) != NULL ||
	       memmem(buf, n, "please reply to", 15) != NULL ||
	       memmem(buf, n, "send mail to", 12) != NULL ||
	       memmem(buf, n, "http", 4) != NULL;
}

/* list_intro - true if the line introduces a list of recipients */
static bool
list_intro(const char *buf, size_t n)
{
	static const char *const intros[] = {
		"following address", "following recipient",
		"following user", "addresses failed", "address(es) failed",
		"to the following", "following destination",
		"recipients:", "recipient(s):", "address(es):",
		"addresses:", "failed recipient", "delivery to:",
		"your message to:", "has not yet been delivered is",
		"did not reach", "could not be delivered to:",
		"not delivered to:", "following e-mail", "following email",
		"following mailbox", "intended recipient",
	};

	return cm_mem_has_any(buf, n, intros, CM_ARRAY_SIZE(intros));
}

/* code_on_line - true if the line has an SMTP 5xx/4xx or x.y.z code */
static bool
code_on_line(const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++) {
		if ((buf[i] == '4' || buf[i] == '5') &&
		    (i == 0 || buf[i - 1] < '0' || buf[i - 1] > '9')) {
			if (i + 4 < n && buf[i + 1] == '.' &&
			    buf[i + 2] >= '0' && buf[i + 2] <= '9')
				return true;
			if (buf[i + 1] >= '0' && buf[i + 1] <= '9' &&
			    buf[i + 2] >= '0' && buf[i + 2] <= '9' &&
			    (i + 3 == n || buf[i + 3] == ' ' ||
			     buf[i + 3] == '-'))
				return true;
		}
	}
	return false;
}

/* alone - true if nothing but punctuation, bullets and white space
 * surrounds the address at [ab, ae) on the line, or it is followed by
 * ':' or "..." (qmail, Postfix, sendmail) */
static bool
alone(const char *buf, size_t n, size_t ab, size_t ae)
{
	size_t i, k = ae;

	for (i = 0; i < ab; i++)
		if (strchr(" \t<>\"'*-.:()[]#>|", buf[i]) == NULL)
			break;
	while (k < n && strchr(">\"')]", buf[k]) != NULL)
		k++;
	if (k < n && buf[k] == ':' && i == ab)
		return true;
	/* sendmail "addr ... User unknown" */
	if (k + 4 <= n && buf[k] == ' ' && memcmp(buf + k + 1, "...", 3) == 0
	    && i == ab)
		return true;
	if (k + 2 < n + 1 && memcmp(buf + k, "...", 3 <= n - k ? 3 : 0) == 0
	    && n - k >= 3)
		return true;
	if (i < ab)
		return false;
	for (; k < n; k++)
		if (strchr(" \t<>\"'*-.:,;()[]", buf[k]) == NULL)
			return false;
	return true;
}

/* hdr_addrs - addresses of the header block hdrs, lower case, each
 * followed by ' ': of the sender fields (From, Sender, Return-Path) if
 * senders, else of To and Cc */
static char *
hdr_addrs(const char *hdrs, bool senders)
{
	struct cm_buf out;
	struct span s;
	char *buf = cm_xmalloc(MAX_LINE + 1), *r;
	size_t pos = 0, len, n, ab, ae, taken = 0;
	int take = 0;

	cm_buf_init(&out, 64 * 1024);
	len = hdrs != NULL ? strlen(hdrs) : 0;
	if (len > MAX_SCAN)
		len = MAX_SCAN;
	while (next_line(hdrs, len, &pos, &s)) {
		if (is_blank(s))
			break;
		n = lower_line(s, buf);
		if (buf[0] != ' ' && buf[0] != '\t' && senders)
			take = sender_line(buf, n) &&
			       strncmp(buf, "message-id:", 11) != 0;
		else if (buf[0] != ' ' && buf[0] != '\t')
			take = strncmp(buf, "to:", 3) == 0 ||
			       strncmp(buf, "cc:", 3) == 0;
		if (take && find_addr(buf, n, 0, &ab, &ae) &&
		    ++taken <= MAX_HDR_ADDRS) {
			(void)cm_buf_append(&out, buf + ab, ae - ab);
			(void)cm_buf_putc(&out, ' ');
		}
	}
	free(buf);
	r = cm_buf_steal(&out);
	cm_buf_free(&out);
	return r != NULL ? r : cm_xstrdup("");
}

static bool in_words(const char *list, const char *a, size_t n);

/*
 * returned_rcpt - the one addressee of the returned message: if the To
 * and Cc fields of its headers hdrs (continuation lines included) hold
 * exactly one address, copy it into out[cap] and return true. A message
 * to several people says nothing about which of them failed, and list
 * mail (List-Id, List-Post, X-BeenThere, Precedence list or bulk: RFC
 * 2369, 2919) is addressed to the list, not to the member whose server
 * refused it; that guard was written from the Mailman bounces of
 * flufl.bounce. An addressee the returned message names in its own
 * Delivered-To or X-Original-To was reached already: it passed the
 * message on (a list, an alias, a forward) and is not the failure.
 */
static bool
returned_rcpt(const char *hdrs, char *out, size_t cap)
{
	struct cm_buf dlv;
	struct span s;
	char *buf = cm_xmalloc(MAX_LINE + 1);
	size_t pos = 0, len, n, k, ab, ae, found = 0, nd = 0;
	bool take = false, self, delivered;
	char *snd, *low, *dl;

	cm_buf_init(&dlv, 64 * 1024);
	len = hdrs != NULL ? strlen(hdrs) : 0;
	if (len > MAX_SCAN)
		len = MAX_SCAN;
	while (next_line(hdrs, len, &pos, &s)) {
		if (is_blank(s))
			break;
		n = lower_line(s, buf);
		if (cm_fit_on(CM_FIT_FLUFL) &&
		    (strncmp(buf, "list-id:", 8) == 0 ||
		     strncmp(buf, "list-post:", 10) == 0 ||
		     strncmp(buf, "x-beenthere:", 12) == 0 ||
		     strncmp(buf, "precedence: list", 16) == 0 ||
		     strncmp(buf, "precedence: bulk", 16) == 0)) {
			found = 2;
			break;
		}
		/* Delivered-To and X-Original-To name an address the
		 * message was already delivered to (Postfix, qmail,
		 * Exim): a list or forwarding address that passed it
		 * on, never the one that refused it */
		if ((strncmp(buf, "delivered-to:", 13) == 0 ||
		     strncmp(buf, "x-original-to:", 14) == 0) &&
		    find_addr(buf, n, 0, &ab, &ae) && nd++ < MAX_HDR_ADDRS) {
			(void)cm_buf_append(&dlv, buf + ab, ae - ab);
			(void)cm_buf_putc(&dlv, ' ');
		}
		if (buf[0] != ' ' && buf[0] != '\t')
			take = strncmp(buf, "to:", 3) == 0 ||
			       strncmp(buf, "cc:", 3) == 0;
		for (k = 0; take && find_addr(buf, n, k, &ab, &ae); k = ae) {
			if (found++ == 0 && ae - ab < cap) {
				memcpy(out, s.p + ab, ae - ab);
				out[ae - ab] = '\0';
			}
		}
	}
	free(buf);
	dl = cm_buf_steal(&dlv);
	cm_buf_free(&dlv);
	if (found != 1 || out[0] == '\0') {
		free(dl);
		return false;
	}
	/* a message its sender addressed to himself names no one else */
	snd = hdr_addrs(hdrs, true);
	low = cm_str_lower(cm_xstrdup(out));
	self = in_words(snd, low, strlen(low));
	delivered = dl != NULL && in_words(dl, low, strlen(low));
	free(low);
	free(snd);
	free(dl);
	return !self && !delivered;
}

/* in_list - true if lower-case address a[0..n) is a word of list */
static bool
in_words(const char *list, const char *a, size_t n)
{
	const char *p = list;

	while ((p = memmem(p, strlen(p), a, n)) != NULL) {
		if ((p == list || p[-1] == ' ') && p[n] == ' ')
			return true;
		p += n;
	}
	return false;
}

/* add_word - append lower-case address a to the word list *out unless
 * it is one of the words of keep */
static void
add_word(struct cm_buf *out, const char *a, const char *keep)
{
	char *l;

	if (a == NULL || *a == '\0' || strlen(a) > CM_MAX_ADDRESS)
		return;
	l = cm_str_lower(cm_xstrdup(a));
	if (!in_words(keep, l, strlen(l))) {
		(void)cm_buf_puts(out, l);
		(void)cm_buf_putc(out, ' ');
	}
	free(l);
}

/*
 * not_rcpts - addresses that are never failed recipients, as words:
 * the returned message's sender and the notice's own addressees (the
 * sender of the failed message), except where the returned message
 * was addressed to them (a message sent to oneself)
 */
static char *
not_rcpts(const struct cm_msg *m)
{
	struct cm_buf out;
	char *snd = hdr_addrs(m->returned_headers, true);
	char *rcp = hdr_addrs(m->returned_headers, false), *r, *w, *sp;

	cm_buf_init(&out, 64 * 1024);
	for (w = snd; (sp = strchr(w, ' ')) != NULL; w = sp + 1) {
		*sp = '\0';
		add_word(&out, w, rcp);
	}
	add_word(&out, m->to, rcp);
	add_word(&out, m->from, rcp);
	add_word(&out, m->delivered_to, rcp);
	r = cm_buf_steal(&out);
	cm_buf_free(&out);
	free(rcp);
	free(snd);
	return r != NULL ? r : cm_xstrdup("");
}

/* Free-text scan state. */
struct ftext {
	bool fail;    /* a failure sentence was seen */
	bool delay;   /* a delay sentence was seen */
	bool gaveup;  /* a give-up sentence was seen */
	bool strong;  /* a recipient stood in a structural place */
	const char *domain; /* reporting domain, for bare local parts */
};

/* from_before - true if the address at ab of buf follows "from" (the
 * envelope sender in "... from a@b via ..., to c@d") */
static bool
from_before(const char *buf, size_t ab)
{
	size_t i = ab;

	while (i > 0 && (buf[i - 1] == '<' || buf[i - 1] == ' '))
		i--;
	return i >= 4 && memcmp(buf + i - 4, "from", 4) == 0 &&
	       (i == 4 || buf[i - 5] == ' ' || buf[i - 5] == '(');
}

/* bare_local - the bare local part on line s (indented, one token of
 * letters, digits, '.', '-', '_'), as AOL and sendmail list refused
 * screen names; its length or 0 */
static size_t
bare_local(struct span s, size_t *off)
{
	size_t i = 0, b;

	while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t'))
		i++;
	if (i == 0)
		return 0;
	for (b = i; i < s.n && i - b < 64; i++)
		if (!((s.p[i] >= 'a' && s.p[i] <= 'z') ||
		      (s.p[i] >= 'A' && s.p[i] <= 'Z') ||
		      (s.p[i] >= '0' && s.p[i] <= '9') ||
		      s.p[i] == '.' || s.p[i] == '-' || s.p[i] == '_'))
			break;
	if (i == b || s.p[b] == '.' || s.p[i - 1] == '.')
		return 0;
	while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t'))
		i++;
	if (i != s.n)
		return 0;
	*off = b;
	for (i = b; i < s.n && s.p[i] != ' ' && s.p[i] != '\t'; i++)
		;
	return i - b;
}

/* scan_text - the free-text reading of text into b; recipients added */
static size_t
scan_text(const char *text, const char *senders, struct cm_bounce *b,
	  struct ftext *ft)
{
	struct span s;
	struct cm_bounce_rcpt *r;
	char *buf = cm_xmalloc(MAX_LINE + 1);
	size_t pos = 0, len, n, ab, ae, k, added = 0;
	int list = 0;
	bool take, hint, colon = false, al, last = false;
	size_t bo, bl;
	char *q;

	len = text != NULL ? strlen(text) : 0;
	if (len > MAX_SCAN)
		len = MAX_SCAN;
	while (next_line(text, len, &pos, &s)) {
		n = lower_line(s, buf);
		if (copy_mark(buf, n, s, &k)) {
			/* the words before the mark still count */
			if (k < 16)
				break;
			n = k;
			buf[n] = '\0';
			s.n = n;
			last = true;
		}
		if (cm_mem_has_any(buf, n, fail_phrases,
				   CM_ARRAY_SIZE(fail_phrases)))
			ft->fail = true;
		if (cm_mem_has_any(buf, n, delay_phrases,
				   CM_ARRAY_SIZE(delay_phrases)))
			ft->delay = true;
		if (gaveup_line(buf, n))
			ft->gaveup = true;
		if (colon && ft->domain != NULL && !is_blank(s) &&
		    (bl = bare_local(s, &bo)) > 0 &&
		    memchr(buf, '@', n) == NULL) {
			q = cm_xasprintf("%.*s@%s", (int)bl, s.p + bo,
					 ft->domain);
			(void)cm_str_lower(strchr(q, '@'));
			if (add_rcpt(b, q, strlen(q)) != NULL) {
				added++;
				ft->strong = true;
			}
			free(q);
		}
		if (!is_blank(s))
			colon = false;
		if (list_intro(buf, n)) {
			list = LIST_LINES;
			while (n > 0 && buf[n - 1] == ' ')
				n--;
			colon = n > 0 && buf[n - 1] == ':';
		} else if (list > 0 && is_blank(s) && added > 0) {
			list = 0;
		} else if (list > 0) {
			list--;
		}
		if (sender_line(buf, n))
			continue;
		hint = cm_mem_has_any(buf, n, line_hints,
				      CM_ARRAY_SIZE(line_hints)) ||
		       code_on_line(buf, n);
		k = 0;
		while (k < n && find_addr(buf, n, k, &ab, &ae)) {
			k = ae;
			al = alone(buf, n, ab, ae);
			take = al || list > 0 ||
			       (hint && !from_before(buf, ab));
			if (!take || in_words(senders, buf + ab, ae - ab))
				continue;
			r = add_rcpt(b, s.p + ab, ae - ab);
			if (r == NULL)
				continue;
			added++;
			if (al)
				ft->strong = true;
			if (r->diagnostic == NULL && n > ae - ab + 8)
				r->diagnostic = one_line_copy(s.p, s.n, 500);
		}
		if (last)
			break;
	}
	free(buf);
	return added;
}

/* cm_bounce_text - free-text failed recipients of text */
size_t
cm_bounce_text(const char *text, struct cm_bounce *b)
{
	struct ftext ft = { false, false, false, false, NULL };
	size_t i, added;

	added = scan_text(text, "", b, &ft);
	for (i = b->n_rcpts - added; i < b->n_rcpts; i++)
		b->rcpts[i].permanent = !(ft.delay && !ft.gaveup);
	return added;
}

/* starts_ci - true if s starts with prefix, ASCII case-blind */
static bool
starts_ci(const char *s, const char *prefix)
{
	return s != NULL && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* daemon_sender - true if m comes from a mail system, not a person;
 * by its From only if named (a null return path is not enough) */
static bool
daemon_sender(const struct cm_msg *m, bool named)
{
	static const char *const names[] = {
		"mail delivery", "mailer-daemon", "mailer daemon",
		"postmaster", "mail system", "mail administrator",
		"system administrator", "delivery subsystem",
		"mail transport", "mailerdaemon",
	};
	char buf[256];
	size_t n;

	if (!named && m->return_path != NULL && *m->return_path == '\0')
		return true;
	if (m->from != NULL && system_addr(m->from))
		return true;
	if (m->from != NULL && starts_ci(m->from, "mailer-daemon"))
		return true;
	if (m->from_name == NULL)
		return false;
	n = lower_line((struct span){ m->from_name,
				      strnlen(m->from_name, 255) }, buf);
	return cm_mem_has_any(buf, n, names, CM_ARRAY_SIZE(names));
}

/* bounce_subject - true if the subject reads as a failure notice */
static bool
bounce_subject(const struct cm_msg *m)
{
	static const char *const marks[] = {
		"undeliver", "delivery status notification",
		"mail delivery failed", "failure notice", "returned mail",
		"delivery failure", "mail system error", "delivery has failed",
		"non remis", "unzustellbar", "could not be delivered",
		"nondeliverable", "non-deliverable", "delivery notification",
		"mail failed", "failed mail", "failure delivery",
		"delivery problem", "returned to sender", "undelivered",
		"rejected", "not delivered", "delivery error",
		"bounce", "permanent delivery", "processing error",
		"warning: message", "delayed", "delivery delay",
		"unable to deliver", "error sending", "mail error",
		"nicht zustellbar", "no se puede entregar",
		"failed delivery", "delivery report", "delivery failed",
		"non-delivery", "delivery warning",
	};
	char buf[MAX_LINE + 1];
	size_t n;

	if (m->subject == NULL)
		return false;
	n = lower_line((struct span){ m->subject,
				      strnlen(m->subject, MAX_LINE) }, buf);
	return cm_mem_has_any(buf, n, marks, CM_ARRAY_SIZE(marks));
}

/* reply_subject - true if the subject is a person's reply or forward */
static bool
reply_subject(const struct cm_msg *m)
{
	static const char *const pre[] = {
		"re:", "re :", "aw:", "sv:", "vs:", "fw:", "fwd:", "tr:",
		"wg:", "r:", "rif:", "antw:", "odp:", "res:",
	};
	const char *s = m->subject;
	size_t i;

	if (s == NULL)
		return false;
	while (*s == ' ')
		s++;
	for (i = 0; i < CM_ARRAY_SIZE(pre); i++)
		if (starts_ci(s, pre[i]))
			return true;
	return false;
}

/* find_msgid - the Message-ID of the returned headers, else of a
 * "Message-ID:" line of the text; caller frees */
static char *
find_msgid(const char *hdrs, const char *text)
{
	const char *srcs[2] = { hdrs, text };
	struct span s;
	const char *lt, *gt;
	size_t pos, len, i;

	for (i = 0; i < 2; i++) {
		if (srcs[i] == NULL)
			continue;
		len = strlen(srcs[i]);
		if (len > MAX_SCAN * 4)
			len = MAX_SCAN * 4;
		pos = 0;
		while (next_line(srcs[i], len, &pos, &s)) {
			if (s.n < 12 || strncasecmp(s.p, "message-id:", 11))
				continue;
			lt = memchr(s.p, '<', s.n);
			gt = lt != NULL ? memchr(lt, '>', s.n -
						 (size_t)(lt - s.p)) : NULL;
			if (lt != NULL && gt != NULL && gt - lt > 1 &&
			    gt - lt < 990)
				return one_line_copy(lt + 1,
						     (size_t)(gt - lt - 1),
						     990);
		}
	}
	return NULL;
}

/* header_rcpts - the addresses of an X-Failed-Recipients value */
static size_t
header_rcpts(const char *v, struct cm_bounce *b)
{
	size_t k = 0, ab, ae, n = strlen(v), added = 0;
	struct cm_bounce_rcpt *r;

	while (find_addr(v, n, k, &ab, &ae)) {
		k = ae;
		r = add_rcpt(b, v + ab, ae - ab);
		if (r != NULL) {
			r->permanent = true;
			r->action = cm_xstrdup("failed");
			added++;
		}
	}
	return added;
}

/* cm_bounce_parse - read m as a delivery report */
int
cm_bounce_parse(const struct cm_msg *m, struct cm_bounce *b)
{
	struct ftext ft = { false, false, false, false, NULL };
	struct cm_bounce tb;
	const char *text, *rformat = "text";
	char *senders, addr[CM_MAX_ADDRESS + 1];
	bool daemon, subj, report, notice, any_perm = false;
	size_t i;

	memset(b, 0, sizeof(*b));
	memset(&tb, 0, sizeof(tb));
	b->format = "none";
	text = m->text_all != NULL && *m->text_all != '\0' ? m->text_all
							    : m->body;
	report = m->report_type != NULL &&
		 strcmp(m->report_type, "delivery-status") == 0;
	if (m->report_status != NULL)
		(void)cm_bounce_dsn(m->report_status, b);
	if (b->n_rcpts == 0 && text != NULL &&
	    (report || daemon_sender(m, false)))
		(void)cm_bounce_dsn(text, b);
	if (b->n_rcpts > 0)
		b->format = "dsn";
	if (b->n_rcpts == 0 && m->x_failed_recipients != NULL &&
	    header_rcpts(m->x_failed_recipients, b) > 0)
		b->format = "x-failed-recipients";
	daemon = daemon_sender(m, false);
	subj = bounce_subject(m);
	/* the free-text scan only decides for a report, a DSN, or a notice
	 * from a mailer daemon or with a failure subject: a human reply
	 * (nearly every message) is not scanned line by line */
	if (report || b->is_dsn || daemon || subj) {
		senders = not_rcpts(m);
		if (daemon && m->from != NULL && strchr(m->from, '@') != NULL)
			ft.domain = strchr(m->from, '@') + 1;
		(void)scan_text(text, senders, &tb, &ft);
		free(senders);
	}
	/* a notice: from a mail system that says something failed or was
	 * delayed, has a failure subject, or lists a recipient in a
	 * structural place; else a failure subject (not a person's
	 * reply) with a failure sentence */
	notice = (daemon && (subj || ft.fail || ft.delay)) ||
		 (ft.strong && daemon_sender(m, true)) ||
		 (subj && !reply_subject(m) &&
		  (ft.fail || (ft.delay && ft.strong)));
	/* then the returned message's one addressee, before free text: a
	 * header field is structure, a sentence is a guess */
	addr[0] = '\0';
	if (b->n_rcpts == 0 && (report || b->is_dsn || notice) &&
	    returned_rcpt(m->returned_headers, addr, sizeof(addr)) &&
	    (m->to == NULL || strcasecmp(addr, m->to) != 0) &&
	    (m->from == NULL || strcasecmp(addr, m->from) != 0) &&
	    (tb.n_rcpts == 0 || find_rcpt(&tb, addr) != NULL ||
	     tb.n_rcpts > 1)) {
		cm_bounce_clear(&tb);
		(void)add_rcpt(&tb, addr, strlen(addr));
		rformat = "returned-headers";
	}
	if (b->n_rcpts == 0 && (report || b->is_dsn || notice)) {
		cm_bounce_clear(b);
		*b = tb;
		memset(&tb, 0, sizeof(tb));
		b->format = b->n_rcpts == 0 ? "none" : rformat;
		for (i = 0; i < b->n_rcpts; i++)
			b->rcpts[i].permanent = !(ft.delay && !ft.gaveup);
		b->is_dsn = report;
	}
	cm_bounce_clear(&tb);
	for (i = 0; i < b->n_rcpts; i++)
		if (b->rcpts[i].permanent)
			any_perm = true;
	if (b->n_rcpts > 0) {
		b->is_bounce = any_perm;
		b->is_delay = !any_perm;
	} else if (report || notice) {
		/* a notice without a readable recipient */
		b->is_delay = ft.delay && !ft.gaveup;
		b->is_bounce = !b->is_delay;
	}
	b->orig_message_id = find_msgid(m->returned_headers,
					b->is_bounce || b->is_delay ?
					m->text_all : NULL);
	return 0;
}

/* cm_bounce_clear - free everything in b and zero it */
void
cm_bounce_clear(struct cm_bounce *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n_rcpts; i++) {
		free(b->rcpts[i].address);
		free(b->rcpts[i].status);
		free(b->rcpts[i].action);
		free(b->rcpts[i].diagnostic);
	}
	free(b->rcpts);
	free(b->orig_message_id);
	memset(b, 0, sizeof(*b));
	b->format = "none";
}
