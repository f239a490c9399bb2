/*
 * output.c - what casemail prints: JSON with --json, text otherwise
 *
 * SYNOPSIS
 *	struct out *o = out_new(json);
 *	out_list(o, "officers");
 *	out_begin(o, NULL); out_str(o, "email", e); out_end(o);
 *	out_end(o);
 *	return out_flush(&o);
 *
 * DESCRIPTION
 *	The only file of the command line that includes jansson. A command
 *	describes a document (objects, lists of objects, strings, numbers,
 *	booleans, times) and output.c prints it: as JSON (UTF-8, two-space
 *	indent, keys in the order given, absent strings as null), or as
 *	text: a top-level object holding a single list prints as an aligned
 *	table with upper-case column names; anything else prints as
 *	"key: value" lines, nested objects indented, nested lists as
 *	indented tables.
 *
 * DIAGNOSTICS
 *	out_flush returns 1 after printing "casemail: cannot write ..." when
 *	stdout fails (a full disk, a closed pipe).
 *
 * SECURITY
 *	Every text value goes through out_clean: control bytes other than
 *	newline and tab, C1 controls and bidirectional overrides are shown
 *	as '?', so stored message content cannot move the cursor, retitle
 *	the window or hide text on a terminal. Table cells are kept on one
 *	line and cut at CELL_MAX characters. JSON escapes control bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cm_log.h"

#define OUT_DEPTH 16
#define CELL_MAX 60 /* characters of a table cell */

struct out {
	bool json;
	json_t *root;
	json_t *stack[OUT_DEPTH];
	int depth; /* stack[depth] is the open container */
};

/* out_new - a document with an empty top-level object */
struct out *
out_new(bool json)
{
	struct out *o = cm_xcalloc(1, sizeof(*o));

	o->json = json;
	o->root = json_object();
	if (o->root == NULL)
		cm_fatal("out of memory");
	o->stack[0] = o->root;
	return o;
}

/* add - put v (reference stolen) into the open container */
static void
add(struct out *o, const char *key, json_t *v)
{
	json_t *cur = o->stack[o->depth];
	int rc;

	if (v == NULL)
		cm_fatal("out of memory");
	if (json_is_array(cur))
		rc = json_array_append_new(cur, v);
	else
		rc = json_object_set_new(cur, key, v);
	if (rc < 0)
		cm_panic("output: cannot add %s", key != NULL ? key : "item");
}

/* push - add a container and make it the open one */
static void
push(struct out *o, const char *key, json_t *v)
{
	if (o->depth + 1 == OUT_DEPTH)
		cm_panic("output nested too deep");
	add(o, key, v);
	o->stack[++o->depth] = v;
}

/* out_begin - open a nested object */
void
out_begin(struct out *o, const char *key)
{
	push(o, key, json_object());
}

/* out_list - open a list */
void
out_list(struct out *o, const char *key)
{
	push(o, key, json_array());
}

/* out_end - close the innermost container */
void
out_end(struct out *o)
{
	if (o->depth == 0)
		cm_panic("output: out_end without out_begin");
	o->depth--;
}

/* out_str - a string member; null for NULL */
void
out_str(struct out *o, const char *key, const char *v)
{
	json_t *j;
	char *clean;

	if (v == NULL) {
		add(o, key, json_null());
		return;
	}
	j = json_string(v);
	if (j == NULL) {
		/* not UTF-8: the store promises it is, but never trust */
		clean = cm_utf8_clean(v, strlen(v));
		j = json_string(clean);
		free(clean);
	}
	add(o, key, j);
}

/* out_int - an integer member */
void
out_int(struct out *o, const char *key, int64_t v)
{
	add(o, key, json_integer((json_int_t)v));
}

/* out_real - a number that may have a fraction */
void
out_real(struct out *o, const char *key, double v)
{
	add(o, key, json_real(v));
}

/* out_bool - a boolean member */
void
out_bool(struct out *o, const char *key, bool v)
{
	add(o, key, json_boolean(v));
}

/* out_time - an ISO 8601 member, null for 0 */
void
out_time(struct out *o, const char *key, int64_t t)
{
	char buf[32];

	if (t == 0)
		add(o, key, json_null());
	else
		add(o, key, json_string(cm_time_iso(t, buf)));
}

/* c1_or_bidi - length of a C1 control or bidi override at p, else 0 */
static size_t
c1_or_bidi(const unsigned char *p)
{
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3;
	return 0;
}

/* out_clean - printable copy of s for a terminal */
char *
out_clean(const char *s, bool oneline)
{
	char *src, *dst;
	size_t len, i, j = 0;

	if (s == NULL)
		return cm_xstrdup("-");
	len = strlen(s);
	src = cm_utf8_valid(s, len) ? cm_xstrdup(s) : cm_utf8_clean(s, len);
	len = strlen(src);
	dst = cm_xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)src[i];
		size_t skip;

		if (ch == '\n' || ch == '\t') {
			dst[j++] = oneline ? ' ' : (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			dst[j++] = '?';
		} else if ((skip = c1_or_bidi((unsigned char *)src + i)) > 0) {
			dst[j++] = '?';
			i += skip - 1;
		} else {
			dst[j++] = (char)ch;
		}
	}
	dst[j] = '\0';
	free(src);
	return dst;
}

/* out_text - write sanitised text to stdout */
void
out_text(const char *s)
{
	char *c = out_clean(s, false);

	fputs(c, stdout);
	free(c);
}

/* out_close_stdout - flush stdout and report a write error */
int
out_close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_fail(CLI_EXIT_ERR, "cannot write to standard "
				"output: %s", strerror(errno));
	return 0;
}

/* width - characters (code points) in UTF-8 s */
static size_t
width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* scalar - text for a scalar value (caller frees); oneline for cells */
static char *
scalar(json_t *v, bool oneline)
{
	char *s, *cut;
	size_t n = 0, i;

	if (json_is_string(v))
		s = out_clean(json_string_value(v), oneline);
	else if (json_is_integer(v))
		s = cm_xasprintf("%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		s = cm_xasprintf("%g", json_real_value(v));
	else if (json_is_true(v))
		s = cm_xstrdup("yes");
	else if (json_is_false(v))
		s = cm_xstrdup("no");
	else if (json_is_array(v))
		s = cm_xasprintf("[%zu]", json_array_size(v));
	else if (json_is_object(v))
		s = cm_xstrdup("{...}");
	else
		s = cm_xstrdup("-");
	if (!oneline || width(s) <= CELL_MAX)
		return s;
	/* cut at CELL_MAX - 3 characters and add "..." */
	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == CELL_MAX - 3)
			break;
	}
	cut = cm_xasprintf("%.*s...", (int)i, s);
	free(s);
	return cut;
}

/* print_cell - one cell padded to w characters (not the last) */
static void
print_cell(const char *s, size_t w, bool last)
{
	fputs(s, stdout);
	if (last)
		return;
	for (size_t n = width(s); n < w + 2; n++)
		fputc(' ', stdout);
}

/* print_table - a list of objects as aligned columns */
static void
print_table(json_t *arr, int indent)
{
	json_t *first = json_array_get(arr, 0), *row, *v;
	const char *key;
	size_t ncol, nrow = json_array_size(arr), r, k;
	size_t *w;
	char ***cells;

	if (!json_is_object(first) || json_object_size(first) == 0)
		return;
	ncol = json_object_size(first);
	w = cm_xcalloc(ncol, sizeof(*w));
	cells = cm_xcalloc(nrow + 1, sizeof(*cells));
	/* row 0: column names, upper case */
	cells[0] = cm_xcalloc(ncol, sizeof(char *));
	k = 0;
	json_object_foreach(first, key, v) {
		cells[0][k] = cm_str_upper(cm_xstrdup(key));
		k++;
	}
	json_array_foreach(arr, r, row) {
		cells[r + 1] = cm_xcalloc(ncol, sizeof(char *));
		k = 0;
		json_object_foreach(first, key, v) {
			cells[r + 1][k++] = scalar(json_object_get(row, key),
						   true);
		}
	}
	for (r = 0; r <= nrow; r++)
		for (k = 0; k < ncol; k++)
			if (width(cells[r][k]) > w[k])
				w[k] = width(cells[r][k]);
	for (r = 0; r <= nrow; r++) {
		printf("%*s", indent, "");
		for (k = 0; k < ncol; k++)
			print_cell(cells[r][k], w[k], k + 1 == ncol);
		fputc('\n', stdout);
	}
	for (r = 0; r <= nrow; r++) {
		for (k = 0; k < ncol; k++)
			free(cells[r][k]);
		free(cells[r]);
	}
	free(cells);
	free(w);
}

/* print_value - a scalar after "key: ", continuation lines indented */
static void
print_value(json_t *v, int col)
{
	char *s = scalar(v, false), *p, *nl;

	for (p = s; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		printf("%.*s\n%*s", (int)(nl - p), p, col, "");
	printf("%s\n", p);
	free(s);
}

/* print_object - "key: value" lines */
static void
print_object(json_t *obj, int indent)
{
	const char *key;
	json_t *v;
	size_t kw = 0;

	json_object_foreach(obj, key, v) {
		if (!json_is_object(v) && !json_is_array(v) &&
		    strlen(key) > kw)
			kw = strlen(key);
	}
	json_object_foreach(obj, key, v) {
		if (json_is_object(v)) {
			printf("%*s%s:\n", indent, "", key);
			print_object(v, indent + 2);
		} else if (json_is_array(v) && json_array_size(v) == 0) {
			printf("%*s%s: (none)\n", indent, "", key);
		} else if (json_is_array(v)) {
			printf("%*s%s:\n", indent, "", key);
			print_table(v, indent + 2);
		} else {
			printf("%*s%s:%*s", indent, "", key,
			       (int)(kw - strlen(key) + 1), "");
			print_value(v, indent + (int)kw + 2);
		}
	}
}

/* out_free - drop a document without printing it; NULL is fine */
void
out_free(struct out **op)
{
	if (*op == NULL)
		return;
	json_decref((*op)->root);
	free(*op);
	*op = NULL;
}

/* out_flush - print the document and free it */
int
out_flush(struct out **op)
{
	struct out *o = *op;
	json_t *only = NULL;
	const char *key;
	int ret = 0;

	if (o == NULL)
		return 0;
	if (o->json) {
		if (json_dumpf(o->root, stdout,
			       JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
			ret = cli_fail(CLI_EXIT_ERR, "cannot write JSON");
		else
			fputc('\n', stdout);
	} else {
		if (json_object_size(o->root) == 1) {
			json_object_foreach(o->root, key, only)
				break;
		}
		if (only != NULL && json_is_array(only)) {
			if (json_array_size(only) == 0)
				printf("(no %s)\n", key);
			else
				print_table(only, 0);
		} else {
			print_object(o->root, 0);
		}
	}
	out_free(op);
	if (ret == 0)
		ret = out_close_stdout();
	return ret;
}
