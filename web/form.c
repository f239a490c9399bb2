/*
 * form.c - casemail-web: form decoding, paths, addresses, text
 *
 * SYNOPSIS
 *	struct form f;
 *	if (form_parse(body, len, &f) < 0) ...bad request...
 *	text = form_get(&f, "text");
 *
 * DESCRIPTION
 *	Pure functions with no server state, tested by
 *	tests/unit/test_web_form.c: application/x-www-form-urlencoded
 *	decoding (HTML 5's rules: '+' is a space, %XX a byte), the token
 *	segment of a path, the fixed name of a path's route (what logs and
 *	the audit log may say of it), the origin of a URL, the listen
 *	address and whether it is loopback, the clean-up of a typed
 *	message and a constant-time comparison.
 *
 * SECURITY
 *	Everything here reads hostile input: decoded values must be valid
 *	UTF-8 without NUL or control bytes (TAB, CR, LF allowed); a path
 *	token is a whitelist of base64url characters.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

/* hexval - value of a hex digit, or -1 */
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

/* decode - percent-decode p[0..n) into a new string, or NULL when it is
 * malformed or not clean UTF-8 text */
static char *
decode(const char *p, size_t n)
{
	char *out = cm_xmalloc(n + 1); /* UNSAFE: decoding never grows */
	size_t i, k = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				goto bad;
			hi = hexval(p[i + 1]);
			lo = hexval(p[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7f)
			goto bad;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	if (!cm_utf8_valid(out, k))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

/* form_parse - decode an urlencoded body */
int
form_parse(const char *body, size_t len, struct form *f)
{
	size_t i = 0, end, eq;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	while (i < len) {
		end = i;
		while (end < len && body[end] != '&')
			end++;
		if (end > i) {
			if (f->n == WEB_MAX_FIELDS)
				goto out;
			eq = i;
			while (eq < end && body[eq] != '=')
				eq++;
			f->name[f->n] = decode(body + i, eq - i);
			f->value[f->n] = eq < end
						 ? decode(body + eq + 1,
							  end - eq - 1)
						 : cm_xstrdup("");
			f->n++;
			if (f->name[f->n - 1] == NULL ||
			    f->value[f->n - 1] == NULL)
				goto out;
		}
		i = end + 1;
	}
	ret = 0;
out:
	if (ret < 0)
		form_free(f);
	return ret;
}

/* form_get - the first value of name */
const char *
form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return f->value[i];
	return NULL;
}

/* form_free - release every field */
void
form_free(struct form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->name[i]);
		free(f->value[i]);
	}
	memset(f, 0, sizeof(*f));
}

/* path_token - the one segment after prefix */
bool
path_token(const char *path, const char *prefix, char *out, size_t outsize)
{
	size_t plen = strlen(prefix), n;
	const char *t;

	if (strncmp(path, prefix, plen) != 0)
		return false;
	t = path + plen;
	n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789_-");
	if (n == 0 || n > WEB_MAX_PATH_TOKEN || t[n] != '\0' || n >= outsize)
		return false;
	memcpy(out, t, n);
	out[n] = '\0';
	return true;
}

/* origin_of - scheme and authority of url */
char *
origin_of(const char *url)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (p == NULL)
		return cm_xstrdup("");
	p += 3;
	n = strcspn(p, "/?#");
	return cm_str_lower(cm_xstrndup(url, (size_t)(p - url) + n));
}

/* listen_parse - ADDRESS:PORT into a socket address */
int
listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len_r)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	long port;
	size_t n;
	int ret = -1;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || cm_parse_long(colon + 1, 1, 65535, &port) < 0)
		goto out;
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof(host))
		goto out;
	memcpy(host, s, n);
	host[n] = '\0';
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			goto out;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len_r = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			goto out;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len_r = sizeof(*a4);
	}
	ret = 0;
out:
	return ret;
}

/* text_clean - normalise line ends and trim */
char *
text_clean(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *out = cm_xmalloc(n + 1); /* UNSAFE: never grows */

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			out[k++] = '\n';
			if (s[i + 1] == '\n')
				i++;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = '\0';
	n = strspn(out, " \t\n");
	memmove(out, out + n, k - n + 1);
	k -= n;
	while (k > 0 && strchr(" \t\n", out[k - 1]) != NULL)
		out[--k] = '\0';
	return out;
}

/* ct_equal - compare without an early exit */
bool
ct_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	volatile unsigned char d = 0;

	if (n != strlen(b))
		return false;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* route_name - the fixed name of path's route, or "other" */
const char *
route_name(const char *path)
{
	static const char *const fixed[] = {
		"/", "/case", "/case/message", "/register", "/settings",
		"/logout", "/fresh", "/static/casemail.css",
	};

	if (path == NULL)
		return "other";
	for (size_t i = 0; i < CM_ARRAY_SIZE(fixed); i++)
		if (strcmp(path, fixed[i]) == 0)
			return fixed[i];
	if (strncmp(path, "/l/", 3) == 0)
		return "/l/-";
	if (strncmp(path, "/unsubscribe/", 13) == 0)
		return "/unsubscribe/-";
	return "other";
}
