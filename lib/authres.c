/*
 * authres.c - reading Authentication-Results (RFC 8601)
 *
 * SYNOPSIS
 *	See cm_authres.h.
 *
 * DESCRIPTION
 *	A small linear parser: comments (nested parentheses) and quoted
 *	strings are dropped, the field is split on ';', the first element
 *	is the authserv-id (with an optional version), each other element
 *	is "method=result" followed by "ptype.property=value" pairs.
 *	RFC 8601, RFC 7489 (DMARC), RFC 6376 (DKIM).
 *
 * SECURITY
 *	Only fields from a trusted authserv-id count; the header is hostile
 *	text otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "cm_authres.h"
#include "cm_util.h"

/* strip_comments - copy of s without (comments) and with quotes removed */
static char *
strip_comments(const char *s)
{
	char *out = cm_xmalloc(strlen(s) + 1);
	size_t o = 0;
	int depth = 0;
	bool quoted = false;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			if (depth == 0)
				out[o++] = p[1];
			p++;
			continue;
		}
		if (quoted) {
			if (*p == '"')
				quoted = false;
			else
				out[o++] = *p;
			continue;
		}
		if (*p == '(') {
			depth++;
			continue;
		}
		if (*p == ')' && depth > 0) {
			depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (*p == '"') {
			quoted = true;
			continue;
		}
		out[o++] = (*p == '\t' || *p == '\r' || *p == '\n') ? ' ' : *p;
	}
	out[o] = '\0';
	return out;
}

/* in_list - is id (case-blind) one of the words of list */
static bool
in_list(const char *id, const char *list)
{
	size_t idlen = strlen(id);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if (n > 0 && n == idlen && strncasecmp(p, id, n) == 0)
			return true;
		p += n;
	}
	return false;
}

/* prop_value - value of "name=" among the words of elem, or NULL;
 * returned pointer is into a static copy valid until the next call */
static const char *
prop_value(const char *elem, const char *name, char *buf, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = elem;

	while (*p != '\0') {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n > nlen && strncasecmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			size_t vlen = n - nlen - 1;

			if (vlen >= size)
				return NULL;
			memcpy(buf, p + nlen + 1, vlen);
			buf[vlen] = '\0';
			return buf;
		}
		p += n;
	}
	return NULL;
}

/* elem_passes - does one resinfo element prove the From domain */
static bool
elem_passes(const char *elem, const char *from_domain)
{
	char buf[512];
	const char *v;

	while (*elem == ' ')
		elem++;
	if (cm_str_has_prefix_ci(elem, "dmarc=pass")) {
		v = prop_value(elem, "header.from", buf, sizeof(buf));
		return v == NULL || strcasecmp(v, from_domain) == 0;
	}
	if (cm_str_has_prefix_ci(elem, "dkim=pass")) {
		v = prop_value(elem, "header.d", buf, sizeof(buf));
		if (v != NULL)
			return strcasecmp(v, from_domain) == 0;
		v = prop_value(elem, "header.i", buf, sizeof(buf));
		if (v != NULL) {
			const char *at = strrchr(v, '@');

			return at != NULL &&
			       strcasecmp(at + 1, from_domain) == 0;
		}
	}
	return false;
}

/* field_passes - one Authentication-Results field */
static bool
field_passes(const char *value, const char *trusted, const char *from_domain)
{
	char *s = strip_comments(value);
	char *save = NULL, *elem, *id;
	bool pass = false;
	size_t n;

	elem = strtok_r(s, ";", &save);
	if (elem == NULL)
		goto out;
	id = cm_str_trim(elem);
	n = strcspn(id, " ");
	id[n] = '\0'; /* drop the optional version */
	if (!in_list(id, trusted))
		goto out;
	while (!pass && (elem = strtok_r(NULL, ";", &save)) != NULL)
		pass = elem_passes(elem, from_domain);
out:
	free(s);
	return pass;
}

/* cm_authres_pass - did a trusted border see DKIM or DMARC pass */
bool
cm_authres_pass(char *const *values, size_t n, const char *trusted,
		const char *from_domain)
{
	if (trusted == NULL || *trusted == '\0' || from_domain == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (values[i] != NULL &&
		    field_passes(values[i], trusted, from_domain))
			return true;
	return false;
}
