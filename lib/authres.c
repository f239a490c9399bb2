/*
 * authres.c - reading Authentication-Results (RFC 8601)
 *
 * SYNOPSIS
 *	See cm_authres.h.
 *
 * DESCRIPTION
 *	Which fields count. The border MTA prepends its
 *	Authentication-Results field and its Received header to a message
 *	it takes in, so everything below the Received it wrote on receipt
 *	came from the sender. That Received is the bottom-most one whose
 *	"by" host is a trusted authserv-id (internal hops after the border,
 *	a content filter re-injecting the message, add more above it).
 *	The border's field stands above it, or directly beneath it: Postfix
 *	hides its own Received from milters, so OpenDKIM's and OpenDMARC's
 *	field inserted at the top lands just under that Received. So the
 *	fields above the border's Received and those between it and the
 *	next Received count. When no Received names a trusted host, only
 *	the fields above the topmost Received count, and with no Received
 *	at all none does.
 *	Among the fields that count, the topmost with a trusted
 *	authserv-id decides alone: a forged field further down, even one
 *	standing above a forged Received, is never consulted while the
 *	border's own is there.
 *
 *	The parser is a recursive descent over RFC 8601 section 2.2:
 *
 *	  authserv-id [version] ( "; none" / 1*( ";" resinfo ) )
 *	  resinfo  = method ["/" version] "=" result [reason] *propspec
 *	  propspec = ptype "." property "=" pvalue
 *	  pvalue   = token / quoted-string / [local-part] "@" domain
 *
 *	with CFWS (nested comments with quoted pairs, white space) allowed
 *	between the parts. A quoted string is one value: a ';' or '=' in it
 *	is data. A ';' separates results only outside quotes and comments.
 *	An element that does not parse counts for no pass (its dmarc=fail
 *	still counts); a deciding field whose head does not parse is a
 *	fail.
 *
 *	RFC 8601 (Authentication-Results), RFC 2045 (token, value),
 *	RFC 5322 (CFWS, quoted-string), RFC 7489 (DMARC, header.from),
 *	RFC 6376 (DKIM, header.d and header.i).
 *
 * DIAGNOSTICS
 *	The verdict comes with a short static reason ("dkim pass",
 *	"dmarc fail", "no trusted field above the border", ...).
 *
 * SECURITY
 *	Header text is hostile. Every scan is linear and moves forward;
 *	values longer than MAX_VALUE bytes are consumed but never match.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm_authres.h"
#include "cm_util.h"

#define MAX_VALUE 512  /* bytes of a property value that can match */
#define MAX_KEYWORD 64 /* bytes of a method, result or property name */

/* One property value, unquoted. */
struct pvalue {
	char s[MAX_VALUE];
	size_t len;
	const char *domain; /* after the last '@' outside quotes, or NULL */
	bool bad;           /* too long, or an unterminated quoted string */
};

/* What one resinfo element says about the From domain. */
struct elem {
	char method[MAX_KEYWORD];
	char result[MAX_KEYWORD];
	bool bad;                      /* did not parse to its end */
	bool from_seen, from_other;    /* header.from, one not the domain */
	bool d_seen, d_other;          /* header.d */
	bool i_seen, i_other;          /* header.i */
};

/* is_ws - white space that may fold a header */
static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* skip_cfws - past white space and (nested) comments from p; an
 * unterminated comment runs to the end of the text */
static const char *
skip_cfws(const char *p)
{
	size_t depth = 0;

	for (; *p != '\0'; p++) {
		if (depth > 0) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
		} else if (*p == '(') {
			depth = 1;
		} else if (!is_ws(*p)) {
			break;
		}
	}
	return p;
}

/* skip_element - to the next ';' outside quotes and comments, or the
 * end of the text */
static const char *
skip_element(const char *p)
{
	bool quoted = false;
	size_t depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0' && (quoted || depth > 0)) {
			p++;
		} else if (quoted) {
			if (*p == '"')
				quoted = false;
		} else if (depth > 0) {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == '(') {
			depth = 1;
		} else if (*p == ';') {
			break;
		}
	}
	return p;
}

/* keyword_char - a letter, digit, '-' or '_' (RFC 5321 Keyword, with
 * the '_' that some verifiers write) */
static bool
keyword_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* read_keyword - a keyword at *pp into buf[size]; advances *pp; false
 * if there is none or it does not fit */
static bool
read_keyword(const char **pp, char *buf, size_t size)
{
	const char *p = *pp;
	size_t n = 0;

	while (keyword_char(p[n]))
		n++;
	*pp = p + n;
	if (n == 0 || n >= size)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* value_char - a byte of an unquoted value: anything printable but
 * white space, comments, quotes, quoted pairs and ';' (looser than the
 * RFC 2045 token, so that a base64 header.b or an address stays one
 * value) */
static bool
value_char(char c)
{
	unsigned char u = (unsigned char)c;

	return u > ' ' && u != 0x7f && c != '(' && c != ')' && c != '"' &&
	       c != '\\' && c != ';';
}

/* put - add one byte to v, or mark it too long */
static void
put(struct pvalue *v, char c)
{
	if (v->len + 1 >= sizeof(v->s)) {
		v->bad = true;
		return;
	}
	v->s[v->len++] = c;
	v->s[v->len] = '\0';
}

/* read_value - a value at *pp: adjacent quoted strings and unquoted
 * runs, such as "local"@domain, joined unquoted into *v; advances *pp;
 * false if there is none */
static bool
read_value(const char **pp, struct pvalue *v)
{
	const char *p = *pp;
	size_t at = 0;
	bool any = false, have_at = false;

	v->len = 0;
	v->s[0] = '\0';
	v->bad = false;
	v->domain = NULL;
	for (;;) {
		if (*p == '"') {
			any = true;
			p++;
			while (*p != '\0' && *p != '"') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				put(v, *p++);
			}
			if (*p == '"')
				p++;
			else
				v->bad = true;
		} else if (value_char(*p)) {
			any = true;
			if (*p == '@' && !v->bad) {
				have_at = true;
				at = v->len + 1;
			}
			put(v, *p++);
		} else {
			break;
		}
	}
	if (have_at && !v->bad)
		v->domain = v->s + at;
	*pp = p;
	return any;
}

/* note_property - record what ptype.prop=v says of from_domain */
static void
note_property(struct elem *e, const char *ptype, const char *prop,
	      const struct pvalue *v, const char *from_domain)
{
	bool same = !v->bad && strcasecmp(v->s, from_domain) == 0;

	if (strcasecmp(ptype, "header") != 0)
		return;
	if (strcasecmp(prop, "from") == 0) {
		e->from_seen = true;
		e->from_other |= !same;
	} else if (strcasecmp(prop, "d") == 0) {
		e->d_seen = true;
		e->d_other |= !same;
	} else if (strcasecmp(prop, "i") == 0) {
		e->i_seen = true;
		e->i_other |= v->bad || v->domain == NULL ||
			      strcasecmp(v->domain, from_domain) != 0;
	}
}

/* parse_elem - one resinfo from p (just past its ';') into *e; returns
 * where it ends: at the next ';' or the end of the text */
static const char *
parse_elem(const char *p, const char *from_domain, struct elem *e)
{
	char ptype[MAX_KEYWORD], prop[MAX_KEYWORD], version[MAX_KEYWORD];
	struct pvalue v;

	memset(e, 0, sizeof(*e));
	p = skip_cfws(p);
	if (!read_keyword(&p, e->method, sizeof(e->method)))
		goto bad;
	p = skip_cfws(p);
	if (*p == '/') {
		p = skip_cfws(p + 1);
		if (!read_keyword(&p, version, sizeof(version)))
			goto bad;
		p = skip_cfws(p);
	}
	if (*p != '=')
		goto bad; /* "none" lands here too and says nothing */
	p = skip_cfws(p + 1);
	if (!read_keyword(&p, e->result, sizeof(e->result)))
		goto bad;
	for (;;) {
		p = skip_cfws(p);
		if (*p == ';' || *p == '\0')
			return p;
		if (!read_keyword(&p, ptype, sizeof(ptype)))
			goto bad;
		p = skip_cfws(p);
		if (*p == '=' && strcasecmp(ptype, "reason") == 0) {
			p = skip_cfws(p + 1);
			if (!read_value(&p, &v))
				goto bad;
			continue;
		}
		if (*p != '.')
			goto bad;
		p = skip_cfws(p + 1);
		if (!read_keyword(&p, prop, sizeof(prop)))
			goto bad;
		p = skip_cfws(p);
		if (*p != '=')
			goto bad;
		p = skip_cfws(p + 1);
		if (!read_value(&p, &v))
			goto bad;
		note_property(e, ptype, prop, &v, from_domain);
	}
bad:
	e->bad = true;
	return skip_element(p);
}

/* elem_passes - a dmarc or dkim pass for the From domain */
static bool
elem_passes(const struct elem *e, const char **why_r)
{
	if (e->bad || strcasecmp(e->result, "pass") != 0)
		return false;
	if (strcasecmp(e->method, "dmarc") == 0 && e->from_seen &&
	    !e->from_other) {
		*why_r = "dmarc pass";
		return true;
	}
	if (strcasecmp(e->method, "dkim") != 0)
		return false;
	if (e->d_seen ? !e->d_other : (e->i_seen && !e->i_other)) {
		*why_r = "dkim pass";
		return true;
	}
	return false;
}

/* elem_dmarc_fails - dmarc=fail for the From domain (or for no named
 * domain, which can only be the From domain) */
static bool
elem_dmarc_fails(const struct elem *e)
{
	return strcasecmp(e->method, "dmarc") == 0 &&
	       strcasecmp(e->result, "fail") == 0 &&
	       (!e->from_seen || !e->from_other);
}

/* in_list - is id (case-blind) one of the words of list */
static bool
in_list(const char *id, const char *list)
{
	size_t idlen = strlen(id);
	const char *p = list;

	if (idlen == 0)
		return false;
	while (*p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if (n == idlen && strncasecmp(p, id, n) == 0)
			return true;
		p += n;
	}
	return false;
}

/* field_verdict - CM_AUTH_NONE if value's authserv-id is not trusted,
 * else what the field says of from_domain, the reason in *why_r */
static enum cm_auth
field_verdict(const char *value, const char *trusted,
	      const char *from_domain, const char **why_r)
{
	char version[MAX_KEYWORD];
	struct pvalue id;
	struct elem e;
	const char *p, *pass_why = NULL;
	enum cm_auth ret = CM_AUTH_NONE;

	p = skip_cfws(value);
	if (!read_value(&p, &id) || id.bad || !in_list(id.s, trusted))
		goto out;
	ret = CM_AUTH_FAIL;
	*why_r = "malformed field";
	p = skip_cfws(p);
	if (*p >= '0' && *p <= '9') {
		if (!read_keyword(&p, version, sizeof(version)))
			goto out;
		p = skip_cfws(p);
	}
	if (*p != ';' && *p != '\0')
		goto out;
	while (*p == ';') {
		p = parse_elem(p + 1, from_domain, &e);
		if (elem_dmarc_fails(&e)) {
			*why_r = "dmarc fail";
			goto out;
		}
		if (pass_why == NULL)
			(void)elem_passes(&e, &pass_why);
	}
	if (pass_why != NULL) {
		ret = CM_AUTH_PASS;
		*why_r = pass_why;
	} else {
		*why_r = "no dkim or dmarc pass for the from domain";
	}
out:
	return ret;
}

/* cm_authres_decide - the verdict of the border's topmost trusted field */
enum cm_auth
cm_authres_decide(char *const *values, const size_t *received_above,
		  size_t n, char *const *received_by, size_t n_received,
		  const char *trusted, const char *from_domain,
		  const char **why_r)
{
	enum cm_auth ret = CM_AUTH_NONE;
	const char *why = "no trusted field above the border";
	size_t limit = 0, i;

	if (trusted == NULL || *trusted == '\0') {
		why = "no trusted authserv-id";
		goto out;
	}
	if (from_domain == NULL || *from_domain == '\0') {
		why = "no from domain";
		goto out;
	}
	if (n_received == 0) {
		why = "no received header";
		goto out;
	}
	/* limit: how many Received may stand above a field that counts */
	for (i = 0; i < n_received; i++)
		if (received_by[i] != NULL && in_list(received_by[i], trusted))
			limit = i + 1;
	for (i = 0; i < n && ret == CM_AUTH_NONE; i++)
		if (values[i] != NULL && received_above[i] <= limit)
			ret = field_verdict(values[i], trusted, from_domain,
					    &why);
out:
	if (why_r != NULL)
		*why_r = why;
	return ret;
}

/* cm_authres_verdict - the decision for a parsed message */
enum cm_auth
cm_authres_verdict(const struct cm_msg *m, const char *trusted,
		   const char **why_r)
{
	const char *at = m != NULL && m->from != NULL ?
				 strrchr(m->from, '@') : NULL;

	if (at == NULL) {
		if (why_r != NULL)
			*why_r = "no from domain";
		return CM_AUTH_NONE;
	}
	return cm_authres_decide(m->auth_results, m->auth_results_above,
				 m->n_auth_results, m->received_by,
				 m->n_received, trusted, at + 1, why_r);
}
