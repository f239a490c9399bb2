/*
 * trim.c - separating what the victim wrote from quotes and signatures
 *
 * SYNOPSIS
 *	struct cm_trim t;
 *	cm_trim_text(msg->body, &t);
 *	store(t.body);
 *	cm_trim_clear(&t);
 *
 * DESCRIPTION
 *	A simple first trimmer, linear in the input and without regular
 *	expressions. The text (CRLF or LF) is cut at the first line that
 *	starts quoted or forwarded material:
 *
 *	- a quote header: "On ... wrote:", "Le ... a écrit :",
 *	  "Am ... schrieb ...:", "El ... escribió:", also when the header
 *	  is wrapped over two lines;
 *	- "-----Original Message-----", "---------- Forwarded message",
 *	  "Begin forwarded message:";
 *	- an Outlook block: "From:" followed within four lines by "Sent:"
 *	  or "Date:" and by "Subject:" or "To:";
 *	- a line of at least 20 underscores;
 *
 *	and otherwise at the first '>' line of a trailing block made only
 *	of '>' lines and blank lines, so that an interleaved reply keeps
 *	its answers. A signature is the last "-- " (or "--") line and what
 *	follows when that is at most 10 lines, or a last line such as "Sent
 *	from my iPhone". A reply is never trimmed to nothing: if no text
 *	would be left, body is the whole text.
 *
 * SECURITY
 *	Linear time and memory; output is the input's own bytes with CRLF
 *	turned into LF.
 */
#include <stdlib.h>
#include <string.h>

#include "cm_trim.h"
#include "cm_util.h"

#define SIG_MAX_LINES 10  /* a "-- " signature is at most this long */
#define HEADER_MAX 400    /* longest quote header line considered */
#define OUTLOOK_WINDOW 4  /* lines after "From:" holding Sent:/Subject: */
#define RULE_MIN 20       /* underscores in a separator line */

/* One line of the normalised text: s[off .. off+len). */
struct line {
	size_t off;
	size_t len;
};

/* The text split into lines. */
struct text {
	char *s;          /* normalised copy, LF only */
	struct line *l;
	size_t n;
};

/* Mobile client signatures recognised as the last line. */
static const char *const mobile_sigs[] = {
	"Sent from my iPhone",
	"Sent from my iPad",
	"Sent from my Android",
	"Sent from my Samsung",
	"Sent from Mail for Windows",
	"Get Outlook for iOS",
	"Get Outlook for Android",
	"Sent from Yahoo Mail",
	"Sent from Outlook",
	"Sent from my BlackBerry",
};

/* split - copy text with CRLF and lone CR as LF and index its lines */
static void
split(const char *text, struct text *t)
{
	size_t len = strlen(text), i, j = 0, start = 0, cap = 16;

	t->s = cm_xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (text[i] == '\r') {
			if (i + 1 < len && text[i + 1] == '\n')
				continue;
			t->s[j++] = '\n';
		} else {
			t->s[j++] = text[i];
		}
	}
	t->s[j] = '\0';
	len = j;
	t->l = cm_xmalloc(cap * sizeof(*t->l));
	t->n = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && t->s[i] != '\n')
			continue;
		if (i == len && start == len && len > 0)
			break; /* text ends with a newline */
		if (t->n == cap) {
			cap *= 2;
			t->l = cm_xrealloc(t->l, cap * sizeof(*t->l));
		}
		t->l[t->n].off = start;
		t->l[t->n].len = i - start;
		t->n++;
		start = i + 1;
	}
}

/* strip - the line without leading and trailing blanks */
static const char *
strip(const struct text *t, size_t i, size_t *len_r)
{
	const char *p = t->s + t->l[i].off;
	size_t n = t->l[i].len;

	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*len_r = n;
	return p;
}

/* blank - true if line i holds only white space */
static int
blank(const struct text *t, size_t i)
{
	size_t n;

	(void)strip(t, i, &n);
	return n == 0;
}

/* starts - true if p[0..n) starts with prefix, ASCII case-blind */
static int
starts(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && strncasecmp(p, prefix, k) == 0;
}

/* ends_phrase_colon - true if p[0..n) ends with phrase, optional blanks
 * or no-break spaces, and ':' */
static int
ends_phrase_colon(const char *p, size_t n, const char *phrase)
{
	size_t k = strlen(phrase);

	if (n == 0 || p[n - 1] != ':')
		return 0;
	n--;
	for (;;) {
		if (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		else if (n >= 2 && (unsigned char)p[n - 2] == 0xc2 &&
			 (unsigned char)p[n - 1] == 0xa0)
			n -= 2; /* U+00A0 */
		else if (n >= 3 && (unsigned char)p[n - 3] == 0xe2 &&
			 (unsigned char)p[n - 2] == 0x80 &&
			 (unsigned char)p[n - 1] == 0xaf)
			n -= 3; /* U+202F */
		else
			break;
	}
	return n >= k && strncasecmp(p + n - k, phrase, k) == 0;
}

/* contains - true if p[0..n) contains word (case-sensitive) */
static int
contains(const char *p, size_t n, const char *word)
{
	size_t k = strlen(word), i;

	for (i = 0; i + k <= n; i++)
		if (p[i] == word[0] && memcmp(p + i, word, k) == 0)
			return 1;
	return 0;
}

/* header_end - true if p[0..n) is how quote header h ends */
static int
header_end(int h, const char *p, size_t n)
{
	switch (h) {
	case 0:
		return ends_phrase_colon(p, n, "wrote");
	case 1:
		return ends_phrase_colon(p, n, "a \xc3\xa9" "crit");
	case 2:
		return n > 0 && p[n - 1] == ':' && contains(p, n, "schrieb");
	default:
		return ends_phrase_colon(p, n, "escribi\xc3\xb3");
	}
}

/* quote_header - true if line i (maybe with i+1) is a quote header */
static int
quote_header(const struct text *t, size_t i)
{
	static const char *const intro[] = {"On ", "Le ", "Am ", "El "};
	const char *p, *q;
	size_t n, m, h;

	p = strip(t, i, &n);
	if (n > HEADER_MAX)
		return 0;
	for (h = 0; h < CM_ARRAY_SIZE(intro); h++) {
		if (n < 3 || strncmp(p, intro[h], 3) != 0)
			continue;
		if (header_end((int)h, p, n))
			return 1;
		if (i + 1 < t->n) {
			q = strip(t, i + 1, &m);
			if (m > 0 && n + m <= HEADER_MAX &&
			    header_end((int)h, q, m))
				return 1;
		}
	}
	return 0;
}

/* separator - true if line i starts an original or forwarded message */
static int
separator(const struct text *t, size_t i)
{
	const char *p;
	size_t n, k;

	p = strip(t, i, &n);
	if (starts(p, n, "Begin forwarded message"))
		return 1;
	for (k = 0; k < n && p[k] == '_'; k++)
		;
	if (k == n && k >= RULE_MIN)
		return 1;
	for (k = 0; k < n && p[k] == '-'; k++)
		;
	if (k < 2)
		return 0;
	while (k < n && p[k] == ' ')
		k++;
	return starts(p + k, n - k, "Original Message") ||
	       starts(p + k, n - k, "Forwarded message");
}

/* outlook_block - true if line i starts "From:" then Sent:/Date: and
 * Subject:/To: within the next few lines */
static int
outlook_block(const struct text *t, size_t i)
{
	const char *p;
	size_t n, j;
	int date = 0, subj = 0;

	p = strip(t, i, &n);
	if (!starts(p, n, "From:") && !starts(p, n, "*From:*"))
		return 0;
	for (j = i + 1; j < t->n && j <= i + OUTLOOK_WINDOW; j++) {
		p = strip(t, j, &n);
		if (*p == '*' && n > 0) {
			p++;
			n--;
		}
		if (starts(p, n, "Sent:") || starts(p, n, "Date:"))
			date = 1;
		if (starts(p, n, "Subject:") || starts(p, n, "To:"))
			subj = 1;
	}
	return date && subj;
}

/* is_quote - true if line i is a '>' quote line */
static int
is_quote(const struct text *t, size_t i)
{
	size_t n;
	const char *p = strip(t, i, &n);

	return n > 0 && *p == '>';
}

/* find_cut - index of the first line of quoted material, or t->n */
static size_t
find_cut(const struct text *t)
{
	size_t i, cut = t->n;

	for (i = 0; i < t->n; i++)
		if (quote_header(t, i) || separator(t, i) ||
		    outlook_block(t, i))
			return i;
	/* the trailing block of quote and blank lines */
	i = t->n;
	while (i > 0 && (blank(t, i - 1) || is_quote(t, i - 1))) {
		i--;
		if (is_quote(t, i))
			cut = i;
	}
	return cut;
}

/* mobile_sig - true if line i is a mobile client's signature */
static int
mobile_sig(const struct text *t, size_t i)
{
	const char *p;
	size_t n, k;

	p = strip(t, i, &n);
	if (n > 80)
		return 0;
	for (k = 0; k < CM_ARRAY_SIZE(mobile_sigs); k++)
		if (starts(p, n, mobile_sigs[k]))
			return 1;
	return 0;
}

/* find_sig - first line of the signature within lines [0, end), or end */
static size_t
find_sig(const struct text *t, size_t end)
{
	size_t i;
	const char *p;

	while (end > 0 && blank(t, end - 1))
		end--;
	for (i = end; i > 0; i--) {
		p = t->s + t->l[i - 1].off;
		if ((t->l[i - 1].len == 3 && memcmp(p, "-- ", 3) == 0) ||
		    (t->l[i - 1].len == 2 && memcmp(p, "--", 2) == 0)) {
			if (end - (i - 1) <= SIG_MAX_LINES)
				return i - 1;
			break;
		}
	}
	if (end > 0 && mobile_sig(t, end - 1))
		return end - 1;
	return end;
}

/* join - lines [from, to) joined with LF, trailing blank lines dropped;
 * NULL if nothing but white space (caller frees with free()) */
static char *
join(const struct text *t, size_t from, size_t to)
{
	size_t start, end;

	while (to > from && blank(t, to - 1))
		to--;
	if (to == from)
		return NULL;
	start = t->l[from].off;
	end = t->l[to - 1].off + t->l[to - 1].len;
	return cm_xstrndup(t->s + start, end - start);
}

/* cm_trim_text - split text into body, quoted and signature */
int
cm_trim_text(const char *text, struct cm_trim *t)
{
	struct text x;
	size_t cut, sig;

	memset(t, 0, sizeof(*t));
	memset(&x, 0, sizeof(x));
	split(text != NULL ? text : "", &x);
	cut = find_cut(&x);
	sig = find_sig(&x, cut);
	t->body = join(&x, 0, sig);
	if (t->body != NULL) {
		t->quoted = join(&x, cut, x.n);
		t->signature = join(&x, sig, cut);
	} else {
		t->body = join(&x, 0, x.n);
		if (t->body == NULL)
			t->body = cm_xstrdup(x.s);
	}
	free(x.l);
	free(x.s);
	return 0;
}

/* cm_trim_clear - free the strings of t and zero it */
void
cm_trim_clear(struct cm_trim *t)
{
	if (t == NULL)
		return;
	free(t->body);
	free(t->quoted);
	free(t->signature);
	memset(t, 0, sizeof(*t));
}
