/*
 * mime.c - reading a message with GMime into plain UTF-8 facts
 *
 * SYNOPSIS
 *	cm_mime_init();
 *	if (cm_mime_parse(data, len, &limits, &m, &error) < 0)
 *		quarantine(error);
 *	cm_msg_free(&m);
 *	char *subject = cm_mime_header(data, len, "Subject");
 *
 * DESCRIPTION
 *	The only module that includes GMime (R1). cm_mime_parse works in
 *	two passes:
 *
 *	1. A linear pre-scan of the raw bytes, without GMime, enforces
 *	   struct cm_limits: the message size, the header bytes of each
 *	   part, the length of one unfolded header field (CM_MAX_HEADER_LINE),
 *	   the MIME nesting depth and the number of parts. It follows the
 *	   boundaries declared by multipart Content-Type headers on a stack
 *	   (message/rfc822 and the parts of a multipart/digest nest too), so
 *	   the inputs known to crash or stall GMime (100,000-colon headers,
 *	   thousands of nested parts) never reach it. It reads headers as
 *	   GMime 3.2 does (a line that is no valid field does not end the
 *	   block, the last Content-Type counts, the first boundary
 *	   parameter counts, encoded words and RFC 2231 sections in it are
 *	   decoded), so that GMime never nests deeper than the scan saw.
 *	   Each line is looked at a bounded number of times (at most once
 *	   per open boundary).
 *
 *	2. GMime parses the bytes in place (no copy) with RFC 2047
 *	   workarounds and the fallback charsets utf-8, windows-1252 for
 *	   undeclared 8-bit headers. The facts of struct cm_msg are taken
 *	   from the tree: addresses (first mailbox, domain lower-cased;
 *	   every mailbox of To and of Cc), subject, ids, auto-reply
 *	   signals (RFC 3834), the trace (the Authentication-Results
 *	   values with the number of Received headers above each, and the
 *	   "by" host of each Received, so that cm_authres can tell the
 *	   border's fields from the sender's), the body (the first inline
 *	   text/plain that is not blank, else the first inline text/html
 *	   through cm_html_to_text; parts inside a forwarded message/rfc822
 *	   only when there is nothing outside) and the attachments (every
 *	   leaf with a filename or disposition attachment and every non-text
 *	   leaf, a forwarded message as one "message.eml"; decoded size,
 *	   SHA-256, sanitised filename). Text is converted to UTF-8 from its
 *	   declared charset; undeclared, unknown or wrong charsets fall back
 *	   to UTF-8 when the bytes are valid UTF-8, else windows-1252.
 *
 *	cm_mime_header reads one header of the top header block with a raw
 *	linear scan and its own RFC 2047 decoder, without GMime: it serves
 *	messages that cm_mime_parse refused.
 *
 *	RFC 5322, 2045, 2046, 2047, 2231, 3834.
 *
 * DIAGNOSTICS
 *	cm_mime_parse fails (CM_ERR) only when a limit is passed: "message
 *	size N exceeds max_message_size M", "mime depth exceeds N", "more
 *	than N mime parts", "header block exceeds max_header_bytes",
 *	"header field longer than N bytes", "attachment 'x' of N bytes
 *	exceeds max_attachment_size". Everything else is parsed and its
 *	oddities listed in cm_msg.defects ("no headers", "nul bytes",
 *	"missing boundary", "invalid utf-8 in header", "no from", ...).
 *
 * SECURITY
 *	Input is hostile. Every string handed out is valid UTF-8 without
 *	NUL; header values and filenames carry no control bytes. Filenames
 *	are reduced to a base name without leading dots. GMime objects are
 *	created and released here only (R13).
 */
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "cm_html.h"
#include "cm_mime.h"
#include "cm_token.h"
#include "cm_util.h"

#define MAX_DEFECTS 32       /* defects listed per message */
#define MAX_FILENAME 200     /* bytes of a sanitised filename */
#define MAX_WORD 1024        /* bytes of one RFC 2047 encoded word */
#define MAX_CHARSET 64       /* bytes of a charset name */
#define MAX_SECTIONS 64      /* RFC 2231 sections of a boundary */
#define MAX_TEXT_ALL (1024 * 1024) /* bytes of cm_msg.text_all */
#define MAX_RECEIVED 1000    /* Received headers whose by-host is kept */
#define MAX_HOST 255         /* bytes of a Received by-host */
#define MAX_ADDRS 100        /* addresses kept of To, and of Cc */

/* The error text handed out through error_r. */
static _Thread_local char errbuf[512];

/* g_mime_init() done. */
static int mime_ready;

/*
 * Pre-scan
 */

/* One open MIME container: a multipart boundary or an embedded message. */
struct frame {
	char *bnd;   /* boundary without "--"; NULL for message/rfc822 */
	size_t blen;
	int digest;  /* multipart/digest: parts default to message/rfc822 */
};

/* State of the pre-scan. */
struct scan {
	const struct cm_limits *lim;
	struct frame *st;  /* open containers, innermost last */
	size_t depth;
	long parts;
	int in_hdr;       /* inside a header block */
	int first;        /* 1: no line of the top header block seen yet;
			     2: only an mbox From_ line */
	size_t hdr_bytes; /* bytes of the current header block */
	size_t field_len; /* bytes of the current unfolded field */
	int in_ct;        /* the current field is Content-Type */
	int have_ct;
	struct cm_buf ct; /* value of the last Content-Type of the block */
	int bad_utf8;     /* 8-bit header bytes that are not UTF-8 */
};

/* fail - format the error text; returns -1 */
static int
fail(const char **error_r, const char *fmt, ...) CM_ATTR_PRINTF(2, 3);

static int
fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	*error_r = errbuf;
	return -1;
}

/* begin_part - a new header block starts; -1 past max_mime_parts */
static int
begin_part(struct scan *sc, const char **error_r)
{
	sc->in_hdr = 1;
	sc->hdr_bytes = 0;
	sc->field_len = 0;
	sc->in_ct = 0;
	sc->have_ct = 0;
	cm_buf_reset(&sc->ct);
	if (++sc->parts > sc->lim->max_mime_parts)
		return fail(error_r, "more than %ld mime parts",
			    sc->lim->max_mime_parts);
	return 0;
}

/* push - open a container; -1 past max_mime_depth */
static int
push(struct scan *sc, const char *bnd, size_t blen, int digest,
     const char **error_r)
{
	struct frame *f;

	if ((long)sc->depth + 1 > sc->lim->max_mime_depth)
		return fail(error_r, "mime depth exceeds %ld",
			    sc->lim->max_mime_depth);
	f = &sc->st[sc->depth++];
	/* a boundary decoded from %00 or an encoded word may hold a NUL:
	 * the copy ends there, and so must the length compared */
	f->bnd = bnd != NULL ? cm_xstrndup(bnd, blen) : NULL;
	f->blen = f->bnd != NULL ? strlen(f->bnd) : 0;
	f->digest = digest;
	return 0;
}

/* pop_to - close containers until depth is left open */
static void
pop_to(struct scan *sc, size_t depth)
{
	while (sc->depth > depth) {
		sc->depth--;
		free(sc->st[sc->depth].bnd);
		sc->st[sc->depth].bnd = NULL;
	}
}

/* skip_cfws - skip blanks and (nested) comments in p[i..n) */
static size_t
skip_cfws(const char *p, size_t i, size_t n)
{
	int level = 0;

	for (; i < n; i++) {
		if (level > 0) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '(')
				level++;
			else if (p[i] == ')')
				level--;
		} else if (p[i] == '(') {
			level = 1;
		} else if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
			   p[i] != '\n') {
			break;
		}
	}
	return i;
}

/* token_end - end of a MIME token starting at p[i] */
static size_t
token_end(const char *p, size_t i, size_t n)
{
	while (i < n && (unsigned char)p[i] > 32 && p[i] != ';' &&
	       p[i] != '=' && p[i] != '/' && p[i] != '"' && p[i] != '(')
		i++;
	return i;
}

static int hexval(char c);
static char *decode_2047(const char *p, size_t n);

/* plain_value - append a parameter value; encoded words in it are
 * decoded as GMime's lenient parameter parser does */
static void
plain_value(struct cm_buf *b, const char *p, size_t n)
{
	char *d;

	if (n == 0 || memmem(p, n, "=?", 2) == NULL) {
		(void)cm_buf_append(b, p, n);
		return;
	}
	d = decode_2047(p, n);
	(void)cm_buf_puts(b, d);
	free(d);
}

/* pct_append - append p[0..n) to b with %XX escapes decoded */
static void
pct_append(struct cm_buf *b, const char *p, size_t n)
{
	size_t i;
	int h, l;

	for (i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && (h = hexval(p[i + 1])) >= 0 &&
		    (l = hexval(p[i + 2])) >= 0) {
			(void)cm_buf_putc(b, (char)(h * 16 + l));
			i += 2;
		} else {
			(void)cm_buf_putc(b, p[i]);
		}
	}
}

/* ext_append - append an RFC 2231 extended value (charset'lang'%XX),
 * skipping the charset and language when first */
static void
ext_append(struct cm_buf *b, const char *p, size_t n, int first)
{
	const char *q1, *q2;

	if (first && (q1 = memchr(p, '\'', n)) != NULL &&
	    (q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - p))) != NULL) {
		n -= (size_t)(q2 + 1 - p);
		p = q2 + 1;
	}
	pct_append(b, p, n);
}

/* param_value - the value at p[*i..n) (quoted string unescaped, or a
 * token) into v; advances *i */
static void
param_value(const char *p, size_t *i, size_t n, struct cm_buf *v)
{
	size_t k = *i, e;

	cm_buf_reset(v);
	if (k < n && p[k] == '"') {
		for (k++; k < n && p[k] != '"'; k++) {
			if (p[k] == '\\' && k + 1 < n)
				k++;
			if (p[k] != '\r' && p[k] != '\n')
				(void)cm_buf_putc(v, p[k]);
		}
		if (k < n)
			k++;
	} else {
		for (e = k; e < n && p[e] != ';' && (unsigned char)p[e] > 32;
		     e++)
			;
		(void)cm_buf_append(v, p + k, e - k);
		k = e;
	}
	*i = k;
}

/*
 * ct_parse - media type of a Content-Type value (into type/subtype, at
 * most 31 bytes each, lower case) and its boundary parameter into bnd.
 * As in GMime, the first boundary parameter decides: a plain
 * "boundary=", an RFC 2231 "boundary*=" or the "boundary*N[*]="
 * sections (joined in order). Returns true if there is a boundary
 * parameter, even an empty one.
 */
static int
ct_parse(const char *p, size_t n, char *type, char *subtype,
	 struct cm_buf *bnd)
{
	enum { NONE, PLAIN, EXT, SECTIONS } mode = NONE;
	struct cm_buf v, sec[MAX_SECTIONS];
	size_t i, e, ne, k;
	long idx;
	int ext, nsec = 0;

	type[0] = subtype[0] = '\0';
	cm_buf_init(&v, CM_MAX_HEADER_LINE);
	i = skip_cfws(p, 0, n);
	e = token_end(p, i, n);
	if (e - i < 32) {
		memcpy(type, p + i, e - i);
		type[e - i] = '\0';
	}
	i = skip_cfws(p, e, n);
	if (i < n && p[i] == '/') {
		i = skip_cfws(p, i + 1, n);
		e = token_end(p, i, n);
		if (e - i < 32) {
			memcpy(subtype, p + i, e - i);
			subtype[e - i] = '\0';
		}
		i = e;
	}
	cm_str_lower(type);
	cm_str_lower(subtype);
	while (i < n) {
		while (i < n && p[i] != ';')
			i++;
		if (i >= n)
			break;
		i = skip_cfws(p, i + 1, n);
		ne = token_end(p, i, n);
		k = i;
		i = skip_cfws(p, ne, n);
		if (i >= n || p[i] != '=')
			continue;
		i = skip_cfws(p, i + 1, n);
		param_value(p, &i, n, &v);
		if (ne - k < 8 || strncasecmp(p + k, "boundary", 8) != 0)
			continue;
		k += 8;
		if (k == ne) {
			if (mode == NONE) {
				mode = PLAIN;
				plain_value(bnd, v.data, v.len);
			}
			continue;
		}
		if (p[k] != '*')
			continue;
		if (k + 1 == ne) {
			if (mode == NONE) {
				mode = EXT;
				ext_append(bnd, v.data, v.len, 1);
			}
			continue;
		}
		for (idx = 0, k++; k < ne && p[k] >= '0' && p[k] <= '9' &&
				   idx < MAX_SECTIONS; k++)
			idx = idx * 10 + (p[k] - '0');
		ext = k < ne && p[k] == '*';
		if (k + (size_t)ext != ne || idx >= MAX_SECTIONS ||
		    (mode != NONE && mode != SECTIONS))
			continue;
		mode = SECTIONS;
		while (nsec <= idx)
			cm_buf_init(&sec[nsec++], CM_MAX_HEADER_LINE);
		cm_buf_reset(&sec[idx]);
		if (ext)
			ext_append(&sec[idx], v.data, v.len, idx == 0);
		else
			(void)cm_buf_append(&sec[idx], v.data, v.len);
	}
	for (idx = 0; idx < nsec; idx++) {
		(void)cm_buf_append(bnd, sec[idx].data, sec[idx].len);
		cm_buf_free(&sec[idx]);
	}
	cm_buf_free(&v);
	return mode != NONE;
}

/*
 * end_headers - the header block of a part ended: open the container it
 * declares. 0 or -1 past a limit.
 */
static int
end_headers(struct scan *sc, const char **error_r)
{
	char type[32], subtype[32];
	struct cm_buf bnd;
	int ret = -1, has_bnd = 0;

	cm_buf_init(&bnd, CM_MAX_HEADER_LINE);
	sc->in_hdr = 0;
	sc->in_ct = 0;
	sc->first = 0;
	if (sc->have_ct) {
		has_bnd = ct_parse(sc->ct.data, sc->ct.len, type, subtype,
				   &bnd);
	} else if (sc->depth > 0 && sc->st[sc->depth - 1].digest) {
		cm_strlcpy(type, "message", sizeof(type));
		cm_strlcpy(subtype, "rfc822", sizeof(subtype));
	} else {
		cm_strlcpy(type, "text", sizeof(type));
		cm_strlcpy(subtype, "plain", sizeof(subtype));
	}
	if (strcmp(type, "multipart") == 0 && has_bnd) {
		if (push(sc, bnd.data, bnd.len,
			 strcmp(subtype, "digest") == 0, error_r) < 0)
			goto out;
	} else if (strcmp(type, "message") == 0 &&
		   (strcmp(subtype, "rfc822") == 0 ||
		    strcmp(subtype, "global") == 0 ||
		    strcmp(subtype, "news") == 0 ||
		    strcmp(subtype, "rfc2822") == 0)) {
		if (push(sc, NULL, 0, 0, error_r) < 0 ||
		    begin_part(sc, error_r) < 0)
			goto out;
	}
	ret = 0;
out:
	cm_buf_free(&bnd);
	return ret;
}

/* boundary_at - index of the open boundary that line p[0..n) is, or -1;
 * *close_r set for a closing delimiter */
static long
boundary_at(const struct scan *sc, const char *p, size_t n, int *close_r)
{
	size_t k, j;
	const struct frame *f;

	if (n < 2 || p[0] != '-' || p[1] != '-')
		return -1;
	for (k = sc->depth; k > 0; k--) {
		f = &sc->st[k - 1];
		if (f->bnd == NULL || n < 2 + f->blen ||
		    memcmp(p + 2, f->bnd, f->blen) != 0)
			continue;
		j = 2 + f->blen;
		*close_r = 0;
		if (n - j >= 2 && p[j] == '-' &&
		    p[j + 1] == '-') {
			*close_r = 1;
			j += 2;
		}
		while (j < n && (p[j] == ' ' || p[j] == '\t'))
			j++;
		if (j == n)
			return (long)(k - 1);
	}
	return -1;
}

/* check_8bit - note 8-bit header bytes that are not UTF-8 */
static void
check_8bit(struct scan *sc, const char *p, size_t n)
{
	size_t i;

	if (sc->bad_utf8)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			break;
	if (i < n && !cm_utf8_valid(p, n))
		sc->bad_utf8 = 1;
}

/*
 * hdr_line - one line p[0..n) (total bytes with its end) of a header
 * block: 0 consumed, 1 the block ended before it (scan it as body), 2
 * GMime will refuse the message (the first line is no header), -1 past
 * a limit. Like GMime, a line that is not a valid field does not end
 * the block: it is an ignored field.
 */
static int
hdr_line(struct scan *sc, const char *p, size_t n, size_t total,
	 const char **error_r)
{
	size_t k, j;
	int close;

	sc->hdr_bytes += total;
	if ((long)sc->hdr_bytes > sc->lim->max_header_bytes)
		return fail(error_r, "header block exceeds max_header_bytes");
	if (n == 0)
		return end_headers(sc, error_r);
	if (sc->depth > 0 && boundary_at(sc, p, n, &close) >= 0)
		return end_headers(sc, error_r) < 0 ? -1 : 1;
	if (sc->first) {
		if (n >= 5 && memcmp(p, "From ", 5) == 0 && sc->first == 1) {
			sc->first = 2; /* an mbox From_ line */
			return 0;
		}
		sc->first = 0;
		if (p[0] != ' ' && p[0] != '\t' && memchr(p, ':', n) == NULL)
			return 2;
	}
	if (p[0] == ' ' || p[0] == '\t') {
		sc->field_len += n;
		if (sc->field_len > CM_MAX_HEADER_LINE)
			goto too_long;
		if (sc->in_ct)
			(void)cm_buf_append(&sc->ct, p, n);
		check_8bit(sc, p, n);
		return 0;
	}
	sc->field_len = n;
	if (sc->field_len > CM_MAX_HEADER_LINE)
		goto too_long;
	for (k = 0; k < n && (unsigned char)p[k] > 32 && p[k] != ':'; k++)
		;
	for (j = k; j < n && (p[j] == ' ' || p[j] == '\t'); j++)
		;
	sc->in_ct = k == 12 && j < n && p[j] == ':' &&
		    strncasecmp(p, "content-type", 12) == 0;
	if (sc->in_ct) {
		cm_buf_reset(&sc->ct);
		(void)cm_buf_append(&sc->ct, p + j + 1, n - j - 1);
		sc->have_ct = 1;
	}
	check_8bit(sc, p, n);
	return 0;
too_long:
	return fail(error_r, "header field longer than %ld bytes",
		    (long)CM_MAX_HEADER_LINE);
}

/* body_line - one body line: a boundary closes or starts parts */
static int
body_line(struct scan *sc, const char *p, size_t n, const char **error_r)
{
	long k;
	int close = 0;

	if (sc->depth == 0 || (k = boundary_at(sc, p, n, &close)) < 0)
		return 0;
	if (close) {
		pop_to(sc, (size_t)k);
		return 0;
	}
	pop_to(sc, (size_t)k + 1);
	return begin_part(sc, error_r);
}

/*
 * prescan - enforce the limits on data[0..len) in one pass; 0 or -1 with
 * *error_r. *bad_utf8_r tells of 8-bit header bytes that are not UTF-8.
 */
static int
prescan(const char *data, size_t len, const struct cm_limits *lim,
	int *bad_utf8_r, const char **error_r)
{
	struct scan sc;
	const char *nl;
	size_t i = 0, e, next, n;
	int r, ret = -1;

	memset(&sc, 0, sizeof(sc));
	sc.lim = lim;
	sc.st = cm_xcalloc((size_t)lim->max_mime_depth + 1, sizeof(*sc.st));
	sc.first = 1;
	cm_buf_init(&sc.ct, CM_MAX_HEADER_LINE + 1);
	if (len > (size_t)lim->max_message_size) {
		fail(error_r, "message size %zu exceeds max_message_size %ld",
		     len, lim->max_message_size);
		goto out;
	}
	if (begin_part(&sc, error_r) < 0)
		goto out;
	while (i < len) {
		nl = memchr(data + i, '\n', len - i);
		e = nl != NULL ? (size_t)(nl - data) : len;
		next = nl != NULL ? e + 1 : len;
		n = e - i;
		if (n > 0 && data[e - 1] == '\r')
			n--;
		for (;;) {
			if (sc.in_hdr) {
				r = hdr_line(&sc, data + i, n, next - i,
					     error_r);
				if (r < 0)
					goto out;
				if (r == 0)
					break;
				if (r == 2)
					goto done;
				if (sc.in_hdr)
					continue;
			}
			if (body_line(&sc, data + i, n, error_r) < 0)
				goto out;
			break;
		}
		i = next;
	}
done:
	*bad_utf8_r = sc.bad_utf8;
	ret = 0;
out:
	pop_to(&sc, 0);
	cm_buf_free(&sc.ct);
	free(sc.st);
	return ret;
}

/*
 * Charsets
 */

/* Windows-1252 0x80..0x9f; 0 marks the five unassigned bytes. */
static const uint16_t cp1252_c1[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

/* put_cp - append code point c as UTF-8 */
static void
put_cp(struct cm_buf *b, uint32_t c)
{
	char u[4];

	if (c < 0x80) {
		(void)cm_buf_putc(b, (char)c);
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		(void)cm_buf_append(b, u, 2);
	} else {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		(void)cm_buf_append(b, u, 3);
	}
}

/* from_cp1252 - append p[0..n) read as windows-1252, NUL dropped */
static void
from_cp1252(struct cm_buf *b, const char *p, size_t n)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == 0)
			continue;
		if (c >= 0x80 && c < 0xa0)
			put_cp(b, cp1252_c1[c - 0x80] != 0 ?
				  cp1252_c1[c - 0x80] : 0xfffd);
		else
			put_cp(b, c);
	}
}

/* utf8_seq - length of the valid UTF-8 sequence at p[0..n), 0 if none */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t k, i;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (n < k)
		return 0;
	c = p[0] & (0x7f >> k);
	for (i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (k == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return k;
}

/* utf8_count - count multibyte and invalid sequences of p[0..n) */
static void
utf8_count(const char *p, size_t n, size_t *multi_r, size_t *bad_r)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, k;

	*multi_r = *bad_r = 0;
	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (k == 0) {
			(*bad_r)++;
			k = 1;
		} else if (k > 1) {
			(*multi_r)++;
		}
		i += k;
	}
}

/* guess - append p[0..n) whose charset is unknown or wrong: UTF-8 if it
 * is (mostly) UTF-8, else windows-1252 */
static void
guess(struct cm_buf *b, const char *p, size_t n)
{
	size_t multi, bad;
	char *s;

	utf8_count(p, n, &multi, &bad);
	if (bad == 0 || multi > bad) {
		s = cm_utf8_clean(p, n);
		(void)cm_buf_puts(b, s);
		free(s);
	} else {
		from_cp1252(b, p, n);
	}
}

/* is_utf8_name - true for the names of UTF-8 and its ASCII subset */
static int
is_utf8_name(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	       strcasecmp(cs, "us-ascii") == 0 ||
	       strcasecmp(cs, "ascii") == 0 ||
	       strcasecmp(cs, "unknown-8bit") == 0 ||
	       strcasecmp(cs, "x-unknown") == 0;
}

/* is_latin1_name - true for ISO-8859-1, read as windows-1252 as mail
 * clients do */
static int
is_latin1_name(const char *cs)
{
	return strcasecmp(cs, "iso-8859-1") == 0 ||
	       strcasecmp(cs, "iso8859-1") == 0 ||
	       strcasecmp(cs, "iso_8859-1") == 0 ||
	       strcasecmp(cs, "latin1") == 0 ||
	       strcasecmp(cs, "windows-1252") == 0 ||
	       strcasecmp(cs, "cp1252") == 0;
}

/* convert - append p[0..n) in charset cs as UTF-8; falls back to guess()
 * for a missing, unknown or wrong charset */
static void
convert(struct cm_buf *b, const char *cs, const char *p, size_t n)
{
	iconv_t cd = (iconv_t)-1;
	struct cm_buf tmp;
	char out[4096], *in = (char *)p, *o;
	size_t inleft = n, oleft, r;
	int ok = 1;

	cm_buf_init(&tmp, 0);
	if (n == 0)
		goto out;
	if (cs == NULL || *cs == '\0' || is_utf8_name(cs)) {
		guess(b, p, n);
		goto out;
	}
	if (is_latin1_name(cs)) {
		from_cp1252(b, p, n);
		goto out;
	}
	if (mime_ready)
		cd = iconv_open("UTF-8", g_mime_charset_iconv_name(cs));
	if (cd == (iconv_t)-1)
		cd = iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1) {
		guess(b, p, n);
		goto out;
	}
	while (ok) {
		o = out;
		oleft = sizeof(out);
		r = iconv(cd, inleft > 0 ? &in : NULL, &inleft, &o, &oleft);
		(void)cm_buf_append(&tmp, out, sizeof(out) - oleft);
		if (r != (size_t)-1 && inleft == 0) {
			o = out;
			oleft = sizeof(out);
			(void)iconv(cd, NULL, NULL, &o, &oleft);
			(void)cm_buf_append(&tmp, out, sizeof(out) - oleft);
			break;
		}
		if (r == (size_t)-1 && errno != E2BIG)
			ok = 0;
	}
	if (ok) {
		in = cm_utf8_clean(tmp.data != NULL ? tmp.data : "", tmp.len);
		(void)cm_buf_puts(b, in);
		free(in);
	} else {
		guess(b, p, n);
	}
out:
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	cm_buf_free(&tmp);
}

/* to_utf8 - p[0..n) in charset cs as a UTF-8 string without NUL;
 * caller frees */
static char *
to_utf8(const char *cs, const char *p, size_t n)
{
	struct cm_buf b;
	char *s;

	cm_buf_init(&b, 0);
	convert(&b, cs, p, n);
	s = cm_buf_steal(&b);
	cm_buf_free(&b);
	return s != NULL ? s : cm_xstrdup("");
}

/* one_line - in place: control bytes to spaces, trimmed; returns s */
static char *
one_line(char *s)
{
	char *p, *t;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	t = cm_str_trim(s);
	if (t != s)
		memmove(s, t, strlen(t) + 1);
	return s;
}

/* to_lf - in place: CRLF and lone CR become LF; returns s */
static char *
to_lf(char *s)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (*r == '\r') {
			*w++ = '\n';
			r += r[1] == '\n' ? 2 : 1;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/*
 * RFC 2047 without GMime (for cm_mime_header)
 */

/* One parsed encoded word. */
struct eword {
	char cs[MAX_CHARSET];
	char enc;         /* 'Q' or 'B' */
	const char *text;
	size_t tlen;
	size_t len;       /* bytes of the whole word */
};

/* parse_word - parse "=?cs?e?text?=" at p[0..n); 1 or 0 */
static int
parse_word(const char *p, size_t n, struct eword *w)
{
	size_t i = 2, c;

	if (n > MAX_WORD)
		n = MAX_WORD;
	for (c = 0; i < n && p[i] != '?'; i++, c++)
		if (c + 1 >= sizeof(w->cs) || (unsigned char)p[i] <= 32)
			return 0;
	if (i + 2 >= n || c == 0 || p[i + 2] != '?')
		return 0;
	memcpy(w->cs, p + 2, c);
	w->cs[c] = '\0';
	if (strchr(w->cs, '*') != NULL)
		*strchr(w->cs, '*') = '\0'; /* RFC 2231 language */
	w->enc = (char)(p[i + 1] & ~0x20);
	if (w->enc != 'Q' && w->enc != 'B')
		return 0;
	w->text = p + i + 3;
	for (i += 3; i + 1 < n; i++) {
		if ((unsigned char)p[i] <= 32)
			return 0;
		if (p[i] == '?' && p[i + 1] == '=') {
			w->tlen = (size_t)(p + i - w->text);
			w->len = i + 2;
			return 1;
		}
	}
	return 0;
}

/* hexval - value of a hex digit or -1 */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* b64val - value of a base64 digit or -1 */
static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* decode_word - append the bytes of encoded word w to b */
static void
decode_word(const struct eword *w, struct cm_buf *b)
{
	size_t i;
	int v, h, l, bits = 0;
	uint32_t acc = 0;

	for (i = 0; i < w->tlen; i++) {
		if (w->enc == 'Q') {
			if (w->text[i] == '_') {
				(void)cm_buf_putc(b, ' ');
			} else if (w->text[i] == '=' && i + 2 < w->tlen &&
				   (h = hexval(w->text[i + 1])) >= 0 &&
				   (l = hexval(w->text[i + 2])) >= 0) {
				(void)cm_buf_putc(b, (char)(h * 16 + l));
				i += 2;
			} else {
				(void)cm_buf_putc(b, w->text[i]);
			}
			continue;
		}
		if (w->text[i] == '=')
			break;
		if ((v = b64val(w->text[i])) < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			(void)cm_buf_putc(b, (char)((acc >> bits) & 0xff));
		}
	}
}

/* all_blank - true if p[0..n) is only spaces and tabs */
static int
all_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/*
 * decode_2047 - header value p[0..n) with encoded words decoded, raw
 * 8-bit text read as UTF-8 or windows-1252, on one line; caller frees.
 * Adjacent words in one charset are joined before conversion, so a
 * character split across words survives.
 */
static char *
decode_2047(const char *p, size_t n)
{
	struct cm_buf out, pend;
	struct eword w;
	char pcs[MAX_CHARSET] = "";
	size_t i = 0, raw = 0;
	int had_word = 0;
	char *s;

	cm_buf_init(&out, 0);
	cm_buf_init(&pend, 0);
	while (i < n) {
		if (p[i] != '=' || i + 1 >= n || p[i + 1] != '?' ||
		    !parse_word(p + i, n - i, &w)) {
			i++;
			continue;
		}
		if (!(had_word && all_blank(p + raw, i - raw)) ||
		    strcasecmp(pcs, w.cs) != 0) {
			convert(&out, pcs, pend.data, pend.len);
			cm_buf_reset(&pend);
			if (!(had_word && all_blank(p + raw, i - raw)))
				convert(&out, NULL, p + raw, i - raw);
		}
		cm_strlcpy(pcs, w.cs, sizeof(pcs));
		decode_word(&w, &pend);
		had_word = 1;
		i += w.len;
		raw = i;
	}
	convert(&out, pcs, pend.data, pend.len);
	convert(&out, NULL, p + raw, n - raw);
	s = cm_buf_steal(&out);
	cm_buf_free(&out);
	cm_buf_free(&pend);
	return one_line(s != NULL ? s : cm_xstrdup(""));
}

/* cm_mime_header - the first top-level header named name, decoded */
char *
cm_mime_header(const char *data, size_t len, const char *name)
{
	struct cm_buf v;
	const char *nl, *p;
	size_t i = 0, e, n, k, j, nlen = strlen(name);
	int got = 0, first = 1;
	char *ret = NULL;

	cm_buf_init(&v, CM_MAX_HEADER_LINE);
	if (data == NULL || nlen == 0)
		goto out;
	if (len > (size_t)CM_MAX_HEADER_BYTES)
		len = CM_MAX_HEADER_BYTES;
	while (i < len) {
		nl = memchr(data + i, '\n', len - i);
		e = nl != NULL ? (size_t)(nl - data) : len;
		p = data + i;
		n = e - i;
		i = nl != NULL ? e + 1 : len;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (p[0] == ' ' || p[0] == '\t') {
			if (got)
				(void)cm_buf_append(&v, p, n);
			continue;
		}
		if (got)
			break;
		for (k = 0; k < n && (unsigned char)p[k] > 32 &&
			    (unsigned char)p[k] < 127 && p[k] != ':'; k++)
			;
		for (j = k; j < n && (p[j] == ' ' || p[j] == '\t'); j++)
			;
		if (k == 0 || j >= n || p[j] != ':') {
			/* GMime ignores such a line, or the whole block if
			 * it comes first (an mbox From_ line excepted) */
			if (first && n >= 5 && memcmp(p, "From ", 5) == 0)
				first = 2;
			else if (first == 1 && memchr(p, ':', n) == NULL)
				break;
			else
				first = 0;
			continue;
		}
		first = 0;
		if (k == nlen && strncasecmp(p, name, k) == 0) {
			got = 1;
			(void)cm_buf_append(&v, p + j + 1, n - j - 1);
		}
	}
	if (got)
		ret = decode_2047(v.data != NULL ? v.data : "", v.len);
out:
	cm_buf_free(&v);
	return ret;
}

/*
 * Building struct cm_msg
 */

/* add_defect - note an oddity once */
static void
add_defect(struct cm_msg *m, const char *what)
{
	size_t i;

	for (i = 0; i < m->n_defects; i++)
		if (strcmp(m->defects[i], what) == 0)
			return;
	if (m->n_defects >= MAX_DEFECTS)
		return;
	m->defects = cm_xrealloc(m->defects,
				 (m->n_defects + 1) * sizeof(*m->defects));
	m->defects[m->n_defects++] = cm_xstrdup(what);
}

/* add_str - append a copy of s to the list *v of *n strings */
static void
add_str(char ***v, size_t *n, char *s)
{
	*v = cm_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* on_warning - GMime parser warnings become defects */
static void
on_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
	   gpointer user_data)
{
	struct cm_msg *m = user_data;
	const char *what;

	(void)offset;
	(void)item;
	switch (code) {
	case GMIME_WARN_DUPLICATED_HEADER:
		what = "duplicated header";
		break;
	case GMIME_WARN_DUPLICATED_PARAMETER:
		what = "duplicated parameter";
		break;
	case GMIME_WARN_UNENCODED_8BIT_HEADER:
		what = "unencoded 8-bit header";
		break;
	case GMIME_WARN_INVALID_CONTENT_TYPE:
		what = "invalid content type";
		break;
	case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
		what = "invalid rfc2047 header";
		break;
	case GMIME_WARN_MALFORMED_MULTIPART:
		what = "malformed multipart";
		break;
	case GMIME_WARN_TRUNCATED_MESSAGE:
		what = "truncated message";
		break;
	case GMIME_WARN_MALFORMED_MESSAGE:
		what = "malformed message";
		break;
	case GMIME_CRIT_INVALID_HEADER_NAME:
		what = "invalid header name";
		break;
	case GMIME_CRIT_CONFLICTING_HEADER:
		what = "conflicting header";
		break;
	case GMIME_CRIT_CONFLICTING_PARAMETER:
		what = "conflicting parameter";
		break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
		what = "missing boundary";
		break;
	case GMIME_WARN_INVALID_PARAMETER:
		what = "invalid parameter";
		break;
	case GMIME_WARN_INVALID_ADDRESS_LIST:
		what = "invalid address list";
		break;
	case GMIME_CRIT_NESTING_OVERFLOW:
		what = "nesting overflow";
		break;
	case GMIME_WARN_PART_WITHOUT_CONTENT:
		what = "part without content";
		break;
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		what = "part without headers or content";
		break;
	default:
		what = "mime warning";
		break;
	}
	add_defect(m, what);
}

/* clean_value - a header value as one clean UTF-8 line, or NULL;
 * caller frees */
static char *
clean_value(const char *s)
{
	if (s == NULL)
		return NULL;
	return one_line(cm_utf8_clean(s, strlen(s)));
}

/* get_header - the first header called name of obj, cleaned, or NULL */
static char *
get_header(GMimeObject *obj, const char *name)
{
	return clean_value(g_mime_object_get_header(obj, name));
}

/* first_mailbox - the first mailbox of list (looking into groups) */
static InternetAddressMailbox *
first_mailbox(InternetAddressList *list, int depth)
{
	InternetAddress *ia;
	InternetAddressMailbox *mb;
	int i, n;

	if (list == NULL || depth > 2)
		return NULL;
	n = internet_address_list_length(list);
	for (i = 0; i < n; i++) {
		ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return INTERNET_ADDRESS_MAILBOX(ia);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			mb = first_mailbox(internet_address_group_get_members(
						   INTERNET_ADDRESS_GROUP(ia)),
					   depth + 1);
			if (mb != NULL)
				return mb;
		}
	}
	return NULL;
}

/* addr_spec - the mailbox's address, domain lower-cased, or NULL;
 * caller frees */
static char *
addr_spec(InternetAddressMailbox *mb)
{
	char *a, *at;

	if (mb == NULL)
		return NULL;
	a = clean_value(internet_address_mailbox_get_addr(mb));
	if (a != NULL && *a == '\0') {
		free(a);
		return NULL;
	}
	if (a != NULL && (at = strrchr(a, '@')) != NULL)
		cm_str_lower(at);
	return a;
}

/* header_addr - first address of a header parsed as an address list;
 * "" for the null path "<>"; caller frees */
static char *
header_addr(GMimeObject *obj, GMimeParserOptions *opts, const char *name)
{
	InternetAddressList *list;
	const char *v = g_mime_object_get_header(obj, name);
	char *a, *t;

	if (v == NULL)
		return NULL;
	t = clean_value(v);
	if (strcmp(t, "<>") == 0 || *t == '\0') {
		t[0] = '\0';
		return t;
	}
	list = internet_address_list_parse(opts, t);
	free(t);
	a = addr_spec(first_mailbox(list, 0));
	if (list != NULL)
		g_object_unref(list);
	return a;
}

/* all_mailboxes - append the addr-spec of each mailbox of list (looking
 * into groups) to the *n strings of *v, until there are max */
static void
all_mailboxes(InternetAddressList *list, int depth, char ***v, size_t *n,
	      size_t max)
{
	InternetAddress *ia;
	char *a;
	int i, k;

	if (list == NULL || depth > 2)
		return;
	k = internet_address_list_length(list);
	for (i = 0; i < k && *n < max; i++) {
		ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			a = addr_spec(INTERNET_ADDRESS_MAILBOX(ia));
			if (a != NULL)
				add_str(v, n, a);
		} else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			all_mailboxes(internet_address_group_get_members(
					      INTERNET_ADDRESS_GROUP(ia)),
				      depth + 1, v, n, max);
		}
	}
}

/* rcv_word_end - end of the Received word at p[i]: up to white space, a
 * comment or ';', a quoted string inside it taken whole */
static size_t
rcv_word_end(const char *p, size_t i, size_t n)
{
	while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
	       p[i] != '\n' && p[i] != '(' && p[i] != ';') {
		if (p[i] == '"') {
			for (i++; i < n && p[i] != '"'; i++)
				if (p[i] == '\\' && i + 1 < n)
					i++;
		}
		if (i < n)
			i++;
	}
	return i;
}

/* rcv_host - p[0..len) lower-cased if it is a plausible host name or
 * address literal, else ""; caller frees */
static char *
rcv_host(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > MAX_HOST)
		return cm_xstrdup("");
	for (i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '.' ||
		      p[i] == '-' || p[i] == '_' || p[i] == '[' ||
		      p[i] == ']' || p[i] == ':'))
			return cm_xstrdup("");
	return cm_str_lower(cm_xstrndup(p, len));
}

/*
 * received_by - the host of the "by" clause of a Received value, lower
 * case, or "" when there is none before the ';' of the date; caller
 * frees. Comments are skipped and the value of every other clause
 * (from, via, with, id, for) is stepped over, so that "from by" or a
 * "by" in a comment is not taken for the clause (RFC 5322 section
 * 3.6.7, RFC 5321 section 4.4).
 */
static char *
received_by(const char *v)
{
	static const char *const clauses[] = {"from", "via", "with", "id",
					      "for"};
	size_t n = strlen(v), i = 0, start, k;
	char *host = NULL;

	while (host == NULL) {
		i = skip_cfws(v, i, n);
		if (i >= n || v[i] == ';') {
			host = cm_xstrdup("");
			break;
		}
		start = i;
		i = rcv_word_end(v, i, n);
		if (i == start) {
			i++; /* a stray ')' */
			continue;
		}
		if (i - start == 2 && strncasecmp(v + start, "by", 2) == 0) {
			i = skip_cfws(v, i, n);
			start = i;
			i = rcv_word_end(v, i, n);
			host = rcv_host(v + start, i - start);
			break;
		}
		for (k = 0; k < CM_ARRAY_SIZE(clauses); k++)
			if (strlen(clauses[k]) == i - start &&
			    strncasecmp(v + start, clauses[k], i - start) == 0)
				break;
		if (k < CM_ARRAY_SIZE(clauses)) {
			i = skip_cfws(v, i, n);
			if (i < n && v[i] != ';')
				i = rcv_word_end(v, i, n);
		}
	}
	return host;
}

/* ids - message ids of a References/In-Reply-To value (at most max) */
static void
ids(GMimeParserOptions *opts, const char *v, size_t max, char ***out,
    size_t *n)
{
	GMimeReferences *refs;
	int i, k;
	char *s;

	if (v == NULL)
		return;
	refs = g_mime_references_parse(opts, v);
	if (refs == NULL)
		return;
	k = g_mime_references_length(refs);
	for (i = 0; i < k && (size_t)i < max; i++) {
		s = clean_value(g_mime_references_get_message_id(refs, i));
		if (s == NULL || *s == '\0')
			free(s);
		else
			add_str(out, n, s);
	}
	g_mime_references_free(refs);
}

/* vendor_autoreply - true for the vendor headers of automatic replies */
static int
vendor_autoreply(const char *name)
{
	static const char *const names[] = {
		"X-Autoreply", "X-Autorespond", "X-Autoresponder",
		"X-Autogenerated", "X-AutoReply-From", "X-Mail-Autoreply",
		"X-Vacation", "X-FC-MachineGenerated", "X-Autoresponse",
	};
	size_t i;

	for (i = 0; i < CM_ARRAY_SIZE(names); i++)
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* fill_headers - the header facts of message into m */
static void
fill_headers(struct cm_msg *m, GMimeMessage *message,
	     GMimeParserOptions *opts)
{
	GMimeObject *obj = GMIME_OBJECT(message);
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *h;
	InternetAddressMailbox *mb;
	char **irt = NULL;
	size_t n_irt = 0, n_rcv = 0;
	int k, count;
	const char *name, *raw;

	mb = first_mailbox(g_mime_message_get_from(message), 0);
	m->from = addr_spec(mb);
	if (mb != NULL)
		m->from_name = clean_value(internet_address_get_name(
			INTERNET_ADDRESS(mb)));
	if (m->from_name != NULL && *m->from_name == '\0') {
		free(m->from_name);
		m->from_name = NULL;
	}
	m->to = addr_spec(first_mailbox(g_mime_message_get_to(message), 0));
	all_mailboxes(g_mime_message_get_to(message), 0, &m->to_all,
		      &m->n_to_all, MAX_ADDRS);
	all_mailboxes(g_mime_message_get_cc(message), 0, &m->cc_all,
		      &m->n_cc_all, MAX_ADDRS);
	m->reply_to = addr_spec(first_mailbox(
		g_mime_message_get_reply_to(message), 0));
	m->return_path = header_addr(obj, opts, "Return-Path");
	m->x_original_to = header_addr(obj, opts, "X-Original-To");
	/* GMime hands out the first field of a name: the topmost, which
	 * the receiving server prepended; lower ones came with the message */
	m->delivered_to = header_addr(obj, opts, "Delivered-To");
	m->subject = clean_value(g_mime_message_get_subject(message));
	m->date = get_header(obj, "Date");
	m->message_id = clean_value(g_mime_message_get_message_id(message));
	ids(opts, g_mime_object_get_header(obj, "In-Reply-To"), 1, &irt,
	    &n_irt);
	if (n_irt > 0)
		m->in_reply_to = irt[0];
	free(irt);
	ids(opts, g_mime_object_get_header(obj, "References"), 1000,
	    &m->references, &m->n_references);
	m->auto_submitted = get_header(obj, "Auto-Submitted");
	m->precedence = get_header(obj, "Precedence");
	m->x_auto_response_suppress = get_header(obj,
						 "X-Auto-Response-Suppress");
	m->list_id = get_header(obj, "List-Id");
	m->x_failed_recipients = get_header(obj, "X-Failed-Recipients");
	count = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	for (k = 0; k < count; k++) {
		h = g_mime_header_list_get_header_at(hl, k);
		name = h != NULL ? g_mime_header_get_name(h) : NULL;
		if (name == NULL)
			continue;
		if (vendor_autoreply(name))
			m->x_autoreply = true;
		if (strcasecmp(name, "Authentication-Results") == 0) {
			m->auth_results_above = cm_xrealloc(
				m->auth_results_above,
				(m->n_auth_results + 1) *
					sizeof(*m->auth_results_above));
			m->auth_results_above[m->n_auth_results] = n_rcv;
			add_str(&m->auth_results, &m->n_auth_results,
				clean_value(g_mime_header_get_value(h) != NULL ?
					    g_mime_header_get_value(h) : ""));
		}
		if (strcasecmp(name, "Received") == 0) {
			raw = g_mime_header_get_raw_value(h);
			if (raw == NULL)
				raw = g_mime_header_get_value(h);
			if (m->n_received < MAX_RECEIVED)
				add_str(&m->received_by, &m->n_received,
					received_by(raw != NULL ? raw : ""));
			n_rcv++;
		}
	}
	if (count == 0 && (g_mime_message_get_mime_part(message) == NULL ||
			   g_mime_header_list_get_count(
				   g_mime_object_get_header_list(
					   g_mime_message_get_mime_part(
						   message))) == 0))
		add_defect(m, "no headers");
	if (m->from == NULL)
		add_defect(m, "no from");
}

/* The state of the walk over the MIME tree. */
struct walk {
	struct cm_msg *m;
	const struct cm_limits *lim;
	GMimePart *plain, *html;   /* candidates outside embedded messages */
	GMimePart *iplain, *ihtml; /* inside an embedded message */
	int plain_blank;           /* plain is only white space */
	struct cm_buf text_all;    /* inline text/plain parts, joined */
	int err;
	const char **error_r;
};

/* mime_type - "type/subtype" of obj in lower case; caller frees */
static char *
mime_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *t = NULL, *s = NULL;
	char *r, *c;

	if (ct != NULL) {
		t = g_mime_content_type_get_media_type(ct);
		s = g_mime_content_type_get_media_subtype(ct);
	}
	r = cm_xasprintf("%s/%s", t != NULL && *t != '\0' ? t : "text",
			 s != NULL && *s != '\0' ? s : "plain");
	c = clean_value(r);
	free(r);
	return cm_str_lower(c);
}

/* decoded - the decoded content of part in a memory stream (caller
 * unrefs), or NULL for a part without content */
static GMimeStream *
decoded(GMimeObject *obj)
{
	GMimeStream *s;
	GMimeDataWrapper *dw;

	s = g_mime_stream_mem_new();
	if (GMIME_IS_PART(obj)) {
		dw = g_mime_part_get_content(GMIME_PART(obj));
		if (dw != NULL)
			(void)g_mime_data_wrapper_write_to_stream(dw, s);
	} else {
		(void)g_mime_object_write_content_to_stream(obj, NULL, s);
	}
	return s;
}

/* skip_bidi - length of a bidi control at p (U+202A..E, U+2066..9) */
static size_t
skip_bidi(const unsigned char *p)
{
	if (p[0] != 0xe2)
		return 0;
	if (p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return 3;
	if (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3;
	return 0;
}

/* sanitize_filename - a safe base name for name (may be NULL); caller
 * frees */
static char *
sanitize_filename(const char *name, const char *dflt)
{
	char *s, *w, *r, *base;
	const unsigned char *u;
	size_t n, k;

	s = cm_utf8_clean(name != NULL ? name : "",
			  name != NULL ? strlen(name) : 0);
	base = s;
	for (r = s; *r != '\0'; r++)
		if (*r == '/' || *r == '\\')
			base = r + 1;
	w = s;
	for (r = base; *r != '\0';) {
		u = (const unsigned char *)r;
		if (*u < 0x20 || *u == 0x7f) {
			r++;
			continue;
		}
		if ((k = skip_bidi(u)) > 0) {
			r += k;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	for (r = s; *r == '.' || *r == ' '; r++)
		;
	memmove(s, r, strlen(r) + 1);
	n = strlen(s);
	if (n > MAX_FILENAME) {
		n = MAX_FILENAME;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		s[n] = '\0';
	}
	cm_str_trim(s);
	if (*s == '\0') {
		free(s);
		s = cm_xstrdup(dflt);
	}
	return s;
}

/* add_attachment - list obj as an attachment; -1 if it is too large */
static int
add_attachment(struct walk *w, GMimeObject *obj, const char *filename,
	       const char *dflt)
{
	struct cm_msg *m = w->m;
	struct cm_msg_attachment *a;
	GMimeStream *s;
	GByteArray *arr;
	int ret = -1;

	s = decoded(obj);
	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	m->attachments = cm_xrealloc(m->attachments, (m->n_attachments + 1) *
				     sizeof(*m->attachments));
	a = &m->attachments[m->n_attachments++];
	memset(a, 0, sizeof(*a));
	a->filename = sanitize_filename(filename, dflt);
	a->content_type = mime_type(obj);
	a->size = arr != NULL ? arr->len : 0;
	cm_token_sha256_hex(arr != NULL && arr->len > 0 ? arr->data :
			    (const guint8 *)"", a->size, a->sha256);
	if ((long)a->size > w->lim->max_attachment_size) {
		fail(w->error_r, "attachment '%s' of %zu bytes exceeds "
		     "max_attachment_size", a->filename, a->size);
		goto out;
	}
	ret = 0;
out:
	g_object_unref(s);
	return ret;
}

/* part_blank - true if the decoded content of part is only white space
 * and control bytes */
static int
part_blank(GMimePart *part)
{
	GMimeStream *s = decoded(GMIME_OBJECT(part));
	GByteArray *arr;
	guint i;
	int blank = 1;

	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	for (i = 0; arr != NULL && i < arr->len && blank; i++)
		if (arr->data[i] > 0x20 && arr->data[i] != 0x7f)
			blank = 0;
	g_object_unref(s);
	return blank;
}

static char *part_text(struct cm_msg *m, GMimePart *part);

/* add_text - join the text of an inline text/plain part to text_all */
static void
add_text(struct walk *w, GMimePart *part)
{
	char *t;

	if (w->text_all.len >= MAX_TEXT_ALL)
		return;
	t = part_text(w->m, part);
	if (w->text_all.len > 0)
		(void)cm_buf_puts(&w->text_all, "\n\n");
	if (cm_buf_puts(&w->text_all, t) < 0)
		(void)cm_buf_append(&w->text_all, t,
				    MAX_TEXT_ALL - w->text_all.len);
	free(t);
}

/* keep_text - *dst = the text of part unless already set */
static void
keep_text(struct walk *w, char **dst, GMimePart *part)
{
	if (*dst == NULL)
		*dst = part_text(w->m, part);
}

/* report_part - remember the parts of a report (RFC 6522) */
static void
report_part(struct walk *w, GMimePart *part, GMimeContentType *ct)
{
	struct cm_msg *m = w->m;

	if (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
	    g_mime_content_type_is_type(ct, "message",
					"global-delivery-status"))
		keep_text(w, &m->report_status, part);
	else if (g_mime_content_type_is_type(ct, "message",
					     "feedback-report"))
		keep_text(w, &m->report_feedback, part);
	else if (g_mime_content_type_is_type(ct, "text", "rfc822-headers") ||
		 g_mime_content_type_is_type(ct, "message",
					     "rfc822-headers") ||
		 g_mime_content_type_is_type(ct, "message",
					     "global-headers"))
		keep_text(w, &m->returned_headers, part);
	else if (g_mime_content_type_is_type(ct, "message",
					     "disposition-notification") ||
		 g_mime_content_type_is_type(
			 ct, "message", "global-disposition-notification"))
		m->has_mdn = true;
}

/* leaf - a leaf part: body candidate or attachment */
static void
leaf(struct walk *w, GMimePart *part, int inner)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *fn = g_mime_part_get_filename(part);
	int att = g_mime_part_is_attachment(part) || (fn != NULL && *fn);
	int is_text = ct == NULL ||
		      g_mime_content_type_is_type(ct, "text", "*");

	if (!inner && ct != NULL)
		report_part(w, part, ct);
	if (!att && (ct == NULL ||
		     g_mime_content_type_is_type(ct, "text", "plain"))) {
		if (!inner)
			add_text(w, part);
		if (!inner && (w->plain == NULL || w->plain_blank)) {
			w->plain = part;
			w->plain_blank = part_blank(part);
		}
		if (inner && w->iplain == NULL)
			w->iplain = part;
		return;
	}
	if (!att && g_mime_content_type_is_type(ct, "text", "html")) {
		if (!inner && w->html == NULL)
			w->html = part;
		if (inner && w->ihtml == NULL)
			w->ihtml = part;
		return;
	}
	if (inner || (!att && is_text))
		return;
	if (add_attachment(w, obj, fn, "attachment") < 0)
		w->err = 1;
}

/* message_headers - the header block of an embedded message as clean
 * UTF-8 with LF line ends; caller frees */
static char *
message_headers(GMimeMessage *sub)
{
	char *h, *r;

	h = g_mime_object_get_headers(GMIME_OBJECT(sub), NULL);
	r = cm_utf8_clean(h != NULL ? h : "", h != NULL ? strlen(h) : 0);
	g_free(h);
	return to_lf(r);
}

/* walk - visit obj and its children, depth-guarded */
static void
walk(struct walk *w, GMimeObject *obj, size_t depth, int inner)
{
	GMimeMultipart *mp;
	GMimeMessage *sub;
	const char *fn;
	int i, n;

	if (obj == NULL || w->err)
		return;
	w->m->n_parts++;
	if (depth > w->m->depth)
		w->m->depth = depth;
	if ((long)depth > w->lim->max_mime_depth + 1) {
		add_defect(w->m, "nesting overflow");
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		if (!inner) {
			fn = g_mime_object_get_content_disposition_parameter(
				obj, "filename");
			if (fn == NULL)
				fn = g_mime_object_get_content_type_parameter(
					obj, "name");
			if (add_attachment(w, obj, fn, "message.eml") < 0) {
				w->err = 1;
				return;
			}
		}
		sub = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (sub != NULL && !inner && w->m->returned_headers == NULL)
			w->m->returned_headers = message_headers(sub);
		if (sub != NULL)
			walk(w, g_mime_message_get_mime_part(sub), depth + 1,
			     1);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		mp = GMIME_MULTIPART(obj);
		if (g_mime_multipart_get_boundary(mp) == NULL)
			add_defect(w->m, "missing boundary");
		n = g_mime_multipart_get_count(mp);
		if (n == 0)
			add_defect(w->m, "empty multipart");
		for (i = 0; i < n && !w->err; i++)
			walk(w, g_mime_multipart_get_part(mp, i), depth + 1,
			     inner);
		return;
	}
	if (GMIME_IS_PART(obj))
		leaf(w, GMIME_PART(obj), inner);
}

/* part_text - the decoded text of a text part as clean UTF-8 with LF
 * line ends; caller frees */
static char *
part_text(struct cm_msg *m, GMimePart *part)
{
	GMimeStream *s = decoded(GMIME_OBJECT(part));
	GByteArray *arr;
	const char *cs;
	char *t;

	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
						      "charset");
	if (arr != NULL && arr->len > 0 &&
	    memchr(arr->data, '\0', arr->len) != NULL)
		add_defect(m, "nul bytes");
	t = to_utf8(cs, arr != NULL ? (const char *)arr->data : "",
		    arr != NULL ? arr->len : 0);
	g_object_unref(s);
	return to_lf(t);
}

/* blank_text - true if s is only white space */
static int
blank_text(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return 0;
	return 1;
}

/* pick_body - the body from the best candidate part */
static void
pick_body(struct walk *w)
{
	struct cm_msg *m = w->m;
	GMimePart *plain = w->plain, *html = w->html;
	char *t = NULL;

	if (plain == NULL && html == NULL) {
		plain = w->iplain;
		html = w->ihtml;
	}
	if (plain != NULL) {
		t = part_text(m, plain);
		if (html != NULL && blank_text(t)) {
			free(t);
			t = NULL;
		}
	}
	if (t == NULL && html != NULL) {
		m->body_html = part_text(m, html);
		m->body_from_html = true;
		t = cm_html_to_text(m->body_html, strlen(m->body_html));
	}
	m->body = t != NULL ? t : cm_xstrdup("");
}

/* raw_body - the whole input as the body of a message GMime refused */
static void
raw_body(struct cm_msg *m, const char *data, size_t len)
{
	free(m->body);
	m->body = to_lf(to_utf8(NULL, data != NULL ? data : "", len));
	add_defect(m, "no headers");
	m->content_type = cm_xstrdup("text/plain");
}

/* effective - the limits with 0 (or no limits) meaning the default */
static void
effective(const struct cm_limits *in, struct cm_limits *out)
{
	out->max_message_size = in != NULL && in->max_message_size > 0 ?
				in->max_message_size : CM_MAX_MESSAGE_SIZE;
	out->max_attachment_size =
		in != NULL && in->max_attachment_size > 0 ?
		in->max_attachment_size : CM_MAX_ATTACHMENT_SIZE;
	out->max_header_bytes = in != NULL && in->max_header_bytes > 0 ?
				in->max_header_bytes : CM_MAX_HEADER_BYTES;
	out->max_mime_depth = in != NULL && in->max_mime_depth > 0 ?
			      in->max_mime_depth : CM_MAX_MIME_DEPTH;
	out->max_mime_parts = in != NULL && in->max_mime_parts > 0 ?
			      in->max_mime_parts : CM_MAX_MIME_PARTS;
}

/* cm_mime_init - g_mime_init() once */
void
cm_mime_init(void)
{
	if (mime_ready)
		return;
	g_mime_init();
	cm_html_init();
	mime_ready = 1;
}

/* cm_mime_parse - pre-scan, parse and describe data[0..len) */
int
cm_mime_parse(const char *data, size_t len, const struct cm_limits *limits,
	      struct cm_msg **msg_r, const char **error_r)
{
	static const char *fallback[] = {"utf-8", "windows-1252", NULL};
	struct cm_limits lim;
	struct cm_msg *m = NULL;
	struct walk w = { 0 };
	GMimeParserOptions *opts = NULL;
	GByteArray *arr = NULL;
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *message = NULL;
	GMimeObject *top;
	const char *rt;
	int bad_utf8 = 0, ret = -1;

	*msg_r = NULL;
	cm_mime_init();
	effective(limits, &lim);
	if (data == NULL)
		len = 0;
	if (prescan(data, len, &lim, &bad_utf8, error_r) < 0)
		goto out;
	if (len > G_MAXUINT) {
		fail(error_r, "message size %zu exceeds max_message_size %ld",
		     len, lim.max_message_size);
		goto out;
	}
	m = cm_xcalloc(1, sizeof(*m));
	if (len > 0 && memchr(data, '\0', len) != NULL)
		add_defect(m, "nul bytes");
	if (bad_utf8)
		add_defect(m, "invalid utf-8 in header");
	if (len == 0) {
		raw_body(m, "", 0);
		ret = 0;
		goto out;
	}
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	g_mime_parser_options_set_warning_callback(opts, on_warning, m);
	/* GMime only reads the buffer: wrap it without copying */
	arr = g_byte_array_new_take((guint8 *)(uintptr_t)data, len);
	stream = g_mime_stream_mem_new_with_byte_array(arr);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	message = g_mime_parser_construct_message(parser, opts);
	if (message == NULL) {
		raw_body(m, data, len);
		ret = 0;
		goto out;
	}
	fill_headers(m, message, opts);
	top = g_mime_message_get_mime_part(message);
	m->content_type = top != NULL ? mime_type(top) :
					cm_xstrdup("text/plain");
	rt = top != NULL ? g_mime_object_get_content_type_parameter(
				   top, "report-type") : NULL;
	if (rt != NULL)
		m->report_type = cm_str_lower(clean_value(rt));
	memset(&w, 0, sizeof(w));
	w.m = m;
	w.lim = &lim;
	w.error_r = error_r;
	cm_buf_init(&w.text_all, MAX_TEXT_ALL);
	walk(&w, top, 0, 0);
	if (w.err)
		goto out;
	pick_body(&w);
	m->text_all = cm_buf_steal(&w.text_all);
	ret = 0;
out:
	cm_buf_free(&w.text_all);
	if (message != NULL)
		g_object_unref(message);
	if (parser != NULL)
		g_object_unref(parser);
	if (stream != NULL)
		g_object_unref(stream);
	if (arr != NULL)
		(void)g_byte_array_free(arr, FALSE);
	if (opts != NULL)
		g_mime_parser_options_free(opts);
	if (ret == 0)
		*msg_r = m;
	else
		cm_msg_free(&m);
	return ret;
}

/* free_strv - free n strings of v and v */
static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* cm_msg_free - free everything; sets *mp to NULL */
void
cm_msg_free(struct cm_msg **mp)
{
	struct cm_msg *m;
	size_t i;

	if (mp == NULL || *mp == NULL)
		return;
	m = *mp;
	free(m->from);
	free(m->from_name);
	free(m->to);
	free_strv(m->to_all, m->n_to_all);
	free_strv(m->cc_all, m->n_cc_all);
	free(m->reply_to);
	free(m->return_path);
	free(m->x_original_to);
	free(m->delivered_to);
	free(m->subject);
	free(m->date);
	free(m->message_id);
	free(m->in_reply_to);
	free_strv(m->references, m->n_references);
	free(m->body);
	free(m->body_html);
	for (i = 0; i < m->n_attachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].content_type);
	}
	free(m->attachments);
	free(m->auto_submitted);
	free(m->precedence);
	free(m->x_auto_response_suppress);
	free(m->list_id);
	free_strv(m->auth_results, m->n_auth_results);
	free(m->auth_results_above);
	free_strv(m->received_by, m->n_received);
	free(m->content_type);
	free(m->report_type);
	free_strv(m->defects, m->n_defects);
	free(m->report_status);
	free(m->report_feedback);
	free(m->returned_headers);
	free(m->text_all);
	free(m->x_failed_recipients);
	free(m);
	*mp = NULL;
}
