/*
 * template.c - notice templates: loading and placeholder substitution
 *
 * SYNOPSIS
 *	See cm_template.h.
 *
 * DESCRIPTION
 *	A small, logic-less template language: {{name}} placeholders and
 *	{{#name}}/{{^name}} ... {{/name}} sections, expanded in one pass
 *	(values are never expanded again). Each value is neutralised for
 *	the place it goes (a header, a text body, an HTML body) before it
 *	is inserted. The files are read once, at load.
 *
 * DIAGNOSTICS
 *	Errors go to a static buffer returned through error_r.
 *
 * SECURITY
 *	Values are hostile (names, the victim's own text): they lose every
 *	line break and control character in a header, every control but
 *	TAB and LF in a body, and are HTML-escaped in HTML. Templates come
 *	from the administrator and are trusted, but are checked anyway.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_html.h"
#include "cm_template.h"
#include "cm_util.h"

#define MAX_TEMPLATE (256L * 1024) /* bytes of one template file */
#define MAX_HEADER_VALUE 200       /* bytes of one value in a header */
#define MAX_NAME 64                /* bytes of a placeholder name */
#define MAX_OUT (8L * 1024 * 1024) /* bytes of one expansion */

struct cm_template {
	char *name;
	char *subject;
	char *text;
	char *html; /* NULL if none */
};

static char errbuf[512];

/* set_error - format the module error */
static void CM_ATTR_PRINTF(1, 2)
set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

/* utf8_len - length of the UTF-8 sequence starting with byte c (1 for
 * anything cm_utf8_clean left, which is valid) */
static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	return 4;
}

/* is_c1 - the sequence at p is a C1 control (U+0080..U+009F) */
static int
is_c1(const unsigned char *p)
{
	return p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
}

/* is_sep - the sequence at p is U+2028 or U+2029 */
static int
is_sep(const unsigned char *p)
{
	return p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9);
}

/* neutral_header - one line, blanks collapsed, no encoded words */
static void
neutral_header(const char *s, struct cm_buf *b)
{
	const unsigned char *p = (const unsigned char *)s;
	int space = 1; /* drop leading blanks */

	while (*p != '\0' && b->len < MAX_HEADER_VALUE) {
		size_t n = utf8_len(*p);

		if (*p < 0x20 || *p == 0x7f || *p == ' ' || is_c1(p) ||
		    is_sep(p)) {
			if (!space)
				(void)cm_buf_putc(b, ' ');
			space = 1;
		} else if (*p == '=' && p[1] == '?') {
			(void)cm_buf_puts(b, "= ");
			space = 1;
			n = 1;
		} else {
			if (b->len + n > MAX_HEADER_VALUE)
				break;
			(void)cm_buf_append(b, p, n);
			space = 0;
		}
		p += n;
	}
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->data[--b->len] = '\0';
}

/* neutral_text - LF line ends, no control bytes but TAB and LF */
static void
neutral_text(const char *s, struct cm_buf *b)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = utf8_len(*p);

		if (*p == '\r') {
			(void)cm_buf_putc(b, '\n');
			if (p[1] == '\n')
				n = 2;
		} else if (*p == '\n' || *p == '\t') {
			(void)cm_buf_putc(b, (char)*p);
		} else if (*p < 0x20 || *p == 0x7f || is_c1(p)) {
			(void)cm_buf_putc(b, ' ');
		} else if (is_sep(p)) {
			(void)cm_buf_putc(b, '\n');
		} else {
			(void)cm_buf_append(b, p, n);
		}
		p += n;
	}
}

/* cm_template_neutralise - a value made safe for where it goes */
char *
cm_template_neutralise(const char *s, enum cm_tpl_mode mode)
{
	struct cm_buf b;
	char *clean, *esc, *ret;

	if (s == NULL)
		return cm_xstrdup("");
	clean = cm_utf8_clean(s, strlen(s));
	cm_buf_init(&b, 0);
	if (mode == CM_TPL_HEADER)
		neutral_header(clean, &b);
	else
		neutral_text(clean, &b);
	ret = cm_buf_steal(&b);
	if (mode == CM_TPL_HTML) {
		esc = cm_html_escape(ret);
		free(ret);
		cm_buf_init(&b, 0);
		for (const char *p = esc; *p != '\0'; p++) {
			if (*p == '\n')
				(void)cm_buf_puts(&b, "<br>\n");
			else
				(void)cm_buf_putc(&b, *p);
		}
		free(esc);
		ret = cm_buf_steal(&b);
	}
	cm_buf_free(&b);
	free(clean);
	return ret;
}

/* find_var - the variable named name[0..len), or NULL */
static const struct cm_tpl_var *
find_var(const struct cm_tpl_var *vars, size_t n, const char *name,
	 size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

/*
 * parse_tag - at p (just after "{{"), read an optional sigil ('#', '^'
 * or '/') and a name up to "}}". Sets *sigil_r, *name_r, *len_r and
 * returns the position after "}}", or NULL if malformed.
 */
static const char *
parse_tag(const char *p, char *sigil_r, const char **name_r, size_t *len_r)
{
	size_t n;

	*sigil_r = '\0';
	if (*p == '#' || *p == '^' || *p == '/')
		*sigil_r = *p++;
	n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (n == 0 || n > MAX_NAME || strncmp(p + n, "}}", 2) != 0)
		return NULL;
	*name_r = p;
	*len_r = n;
	return p + n + 2;
}

/*
 * expand - expand tpl[0..end) into b; when out is 0 only check the
 * syntax (vars may then be NULL and nothing is written). 0 or -1.
 */
static int
expand(const char *tpl, const char *end, enum cm_tpl_mode mode,
       const struct cm_tpl_var *vars, size_t nvars, int out,
       struct cm_buf *b)
{
	const char *p = tpl, *open;
	int ret = -1;

	while (p < end) {
		const char *name, *after, *close;
		const struct cm_tpl_var *v = NULL;
		char sigil, closing[MAX_NAME + 8];
		size_t len;
		int set;

		open = strstr(p, "{{");
		if (open == NULL || open >= end) {
			if (out && cm_buf_append(b, p, (size_t)(end - p)) < 0)
				goto toolong;
			break;
		}
		if (out && cm_buf_append(b, p, (size_t)(open - p)) < 0)
			goto toolong;
		after = parse_tag(open + 2, &sigil, &name, &len);
		if (after == NULL || after > end) {
			set_error("malformed placeholder near '%.20s'", open);
			goto out;
		}
		if (sigil == '/') {
			set_error("'{{/%.*s}}' without a section", (int)len,
				  name);
			goto out;
		}
		if (out) {
			v = find_var(vars, nvars, name, len);
			if (v == NULL) {
				set_error("unknown placeholder {{%.*s}}",
					  (int)len, name);
				goto out;
			}
		}
		if (sigil == '\0') {
			char *val;

			if (out) {
				val = cm_template_neutralise(v->value, mode);
				if (cm_buf_puts(b, val) < 0) {
					free(val);
					goto toolong;
				}
				free(val);
			}
			p = after;
			continue;
		}
		/* a section: find its end (sections of one name do not
		 * nest) */
		(void)snprintf(closing, sizeof(closing), "{{/%.*s}}", (int)len,
			       name);
		close = strstr(after, closing);
		if (close == NULL || close >= end) {
			set_error("section {{%c%.*s}} is not closed", sigil,
				  (int)len, name);
			goto out;
		}
		set = v != NULL && v->value != NULL && v->value[0] != '\0';
		if (sigil == '^')
			set = !set;
		if (expand(after, close, mode, vars, nvars, out && set, b) < 0)
			goto out;
		p = close + strlen(closing);
	}
	ret = 0;
	goto out;
toolong:
	set_error("expansion longer than %ld bytes", MAX_OUT);
out:
	return ret;
}

/* cm_template_expand - expand one template string */
char *
cm_template_expand(const char *tpl, enum cm_tpl_mode mode,
		   const struct cm_tpl_var *vars, size_t n,
		   const char **error_r)
{
	struct cm_buf b;
	char *ret = NULL;

	cm_buf_init(&b, MAX_OUT);
	if (expand(tpl, tpl + strlen(tpl), mode, vars, n, 1, &b) < 0) {
		*error_r = errbuf;
		goto out;
	}
	ret = cm_buf_steal(&b);
out:
	cm_buf_free(&b);
	return ret;
}

/* read_part - dir/name.ext into *text_r; optional files may be absent
 * (*text_r NULL). 0 or -1 with the error set. */
static int
read_part(const char *dir, const char *name, const char *ext, int optional,
	  char **text_r)
{
	char *path = cm_xasprintf("%s/%s.%s", dir, name, ext);
	char *data = NULL;
	size_t len = 0;
	int rc, ret = -1;

	*text_r = NULL;
	rc = cm_read_file(path, MAX_TEMPLATE, &data, &len);
	if (rc == CM_ENOENT && optional) {
		ret = 0;
		goto out;
	}
	if (rc < 0) {
		set_error("%s: %s", path,
			  rc == CM_ENOENT ? "no such template"
			  : rc == CM_ERR  ? "template too large"
					  : "cannot read");
		goto out;
	}
	if (!cm_utf8_valid(data, len)) {
		set_error("%s: not valid UTF-8", path);
		goto out;
	}
	if (expand(data, data + len, CM_TPL_TEXT, NULL, 0, 0, NULL) < 0) {
		char *why = cm_xstrdup(errbuf);

		set_error("%s: %s", path, why);
		free(why);
		goto out;
	}
	*text_r = data;
	data = NULL;
	ret = 0;
out:
	free(data);
	free(path);
	return ret;
}

/* cm_template_load - read and check the files of one template */
struct cm_template *
cm_template_load(const char *dir, const char *name, const char **error_r)
{
	struct cm_template *t = cm_xcalloc(1, sizeof(*t));
	struct cm_template *ret = NULL;
	size_t n;

	t->name = cm_xstrdup(name);
	if (read_part(dir, name, "subject", 1, &t->subject) < 0 ||
	    read_part(dir, name, "txt", 0, &t->text) < 0 ||
	    read_part(dir, name, "html", 1, &t->html) < 0)
		goto out;
	n = t->subject != NULL ? strlen(t->subject) : 0;
	while (n > 0 && (t->subject[n - 1] == '\n' ||
			 t->subject[n - 1] == '\r'))
		t->subject[--n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)t->subject[i] < 0x20) {
			set_error("%s/%s.subject: more than one line or a "
				  "control character",
				  dir, name);
			goto out;
		}
	}
	ret = t;
	t = NULL;
out:
	if (ret == NULL)
		*error_r = errbuf;
	cm_template_free(&t);
	return ret;
}

/* cm_template_free - release a template */
void
cm_template_free(struct cm_template **t)
{
	if (t == NULL || *t == NULL)
		return;
	free((*t)->name);
	free((*t)->subject);
	free((*t)->text);
	free((*t)->html);
	free(*t);
	*t = NULL;
}

/* cm_template_has_html - does it have an HTML part */
int
cm_template_has_html(const struct cm_template *t)
{
	return t->html != NULL;
}

/* prefix_error - "WHAT: " before the current error (which may be errbuf) */
static void
prefix_error(const char *name, const char *ext, const char *err)
{
	char why[sizeof(errbuf)];

	cm_strlcpy(why, err, sizeof(why));
	set_error("%s.%s: %s", name, ext, why);
}

/* cm_template_has_subject - does it have a subject */
int
cm_template_has_subject(const struct cm_template *t)
{
	return t->subject != NULL;
}

/* cm_template_render - subject, text and HTML of one notice */
int
cm_template_render(const struct cm_template *t,
		   const struct cm_tpl_var *vars, size_t n,
		   char **subject_r, char **text_r, char **html_r,
		   const char **error_r)
{
	char *subject = NULL, *text = NULL, *html = NULL;
	const char *err = NULL;
	int ret = -1;

	if (t->subject != NULL)
		subject = cm_template_expand(t->subject, CM_TPL_HEADER, vars,
					     n, &err);
	if (t->subject != NULL && subject == NULL) {
		prefix_error(t->name, "subject", err);
		goto out;
	}
	text = cm_template_expand(t->text, CM_TPL_TEXT, vars, n, &err);
	if (text == NULL) {
		prefix_error(t->name, "txt", err);
		goto out;
	}
	if (t->html != NULL) {
		html = cm_template_expand(t->html, CM_TPL_HTML, vars, n, &err);
		if (html == NULL) {
			prefix_error(t->name, "html", err);
			goto out;
		}
	}
	*subject_r = subject;
	*text_r = text;
	*html_r = html;
	subject = text = html = NULL;
	ret = 0;
out:
	if (ret < 0)
		*error_r = errbuf;
	free(html);
	free(text);
	free(subject);
	return ret;
}
