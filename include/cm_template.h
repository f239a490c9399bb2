/*
 * cm_template.h - notice templates: loading and placeholder substitution
 *
 * SYNOPSIS
 *	struct cm_template *t = cm_template_load(dir, "update", &err);
 *	struct cm_tpl_var v[] = { { "force_name", cfg->force_name }, ... };
 *	cm_template_render(t, v, n, &subject, &text, &html, &err);
 *	cm_template_free(&t);
 *
 * DESCRIPTION
 *	A template NAME is up to three files in the template directory:
 *	NAME.subject (one line; optional here, an email needs it), NAME.txt
 *	(the text/plain part, or an SMS text; required) and NAME.html (the
 *	text/html part, optional).
 *
 *	Placeholders are {{name}} (lower-case letters, digits and '_').
 *	Sections {{#name}}...{{/name}} are kept only when name is set and
 *	not empty, {{^name}}...{{/name}} only when it is empty. Expansion is
 *	one pass: a value is never expanded again. A placeholder that is not
 *	among the variables given is an error, so a typo in a template is
 *	found at the first notice, not sent to a victim.
 *
 *	Values are data and are neutralised for where they go:
 *	  CM_TPL_HEADER  one line: every control byte (CR, LF, NUL, TAB...),
 *			 C1 control, U+2028/U+2029 and run of blanks becomes
 *			 one space, and "=?" (the start of an RFC 2047 encoded
 *			 word) becomes "= ?"; cut at 200 bytes
 *	  CM_TPL_TEXT    CR LF and lone CR become LF; other control bytes
 *			 but TAB and LF, C1 controls and U+2028/U+2029
 *			 become a space or LF
 *	  CM_TPL_HTML    as text, then HTML-escaped (& < > " '), LF as <br>
 *	Invalid UTF-8 becomes U+FFFD and NUL is dropped first.
 *
 * DIAGNOSTICS
 *	Errors name the file (or the template) and the problem: a missing
 *	file, a subject of more than one line, an unknown placeholder, an
 *	unclosed section or "{{". *error_r is borrowed until the next call.
 *
 * SECURITY
 *	No value can add a header line or HTML markup: the composed message
 *	is built with GMime from the rendered pieces, and those carry no
 *	line break in a header and no unescaped markup.
 */
#ifndef CM_TEMPLATE_H
#define CM_TEMPLATE_H

#include <stddef.h>

enum cm_tpl_mode { CM_TPL_HEADER, CM_TPL_TEXT, CM_TPL_HTML };

/* struct cm_tpl_var - one placeholder and its value (NULL: empty) */
struct cm_tpl_var {
	const char *name;
	const char *value;
};

struct cm_template;

/*
 * cm_template_load - read dir/name.subject, .txt and (if present) .html
 * and check their syntax. Returns the template (caller frees with
 * cm_template_free) or NULL with *error_r.
 */
struct cm_template *cm_template_load(const char *dir, const char *name,
				     const char **error_r);

/* cm_template_free - release t and set *t to NULL; NULL is fine */
void cm_template_free(struct cm_template **t);

/* cm_template_has_html - true if the template has an HTML part */
int cm_template_has_html(const struct cm_template *t);
/* cm_template_has_subject - true if the template has a subject */
int cm_template_has_subject(const struct cm_template *t);

/*
 * cm_template_render - expand the subject (CM_TPL_HEADER), the text
 * (CM_TPL_TEXT) and the HTML (CM_TPL_HTML) with vars[0..n). 0 with
 * *subject_r and *html_r (NULL when the template has none) and *text_r
 * (all caller frees with free()), or -1 with *error_r.
 */
int cm_template_render(const struct cm_template *t,
		       const struct cm_tpl_var *vars, size_t n,
		       char **subject_r, char **text_r, char **html_r,
		       const char **error_r);

/*
 * cm_template_expand - expand one template string tpl in mode. Returns
 * the result (caller frees with free()) or NULL with *error_r.
 */
char *cm_template_expand(const char *tpl, enum cm_tpl_mode mode,
			 const struct cm_tpl_var *vars, size_t n,
			 const char **error_r);

/*
 * cm_template_neutralise - the value s made safe for mode, as described
 * above; caller frees with free(). NULL gives "".
 */
char *cm_template_neutralise(const char *s, enum cm_tpl_mode mode);

#endif
