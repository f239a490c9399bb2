/*
 * test_html.c - unit tests for lib/html.c
 *
 * DESCRIPTION
 *	A table of HTML inputs and the plain text a reader must see:
 *	paragraphs, line breaks, lists, links, dropped scripts and styles,
 *	entities, white space, tables, <pre>; then hostile nesting and the
 *	escaper.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cm_html.h"
#include "cm_util.h"

/* One input and the text expected from it. */
struct hcase {
	const char *html;
	const char *text;
};

static const struct hcase cases[] = {
	/* 0 */ {"<p>One</p><p>Two</p>", "One\n\nTwo"},
	/* 1 */ {"Line one<br>Line two<br/>Line three", "Line one\nLine two\n"
		 "Line three"},
	/* 2 */ {"<ul><li>apples</li><li>pears</li></ul>",
		 "- apples\n- pears"},
	/* 3 */ {"<ol><li>first<li>second</ol>after", "- first\n- second\n\n"
		 "after"},
	/* 4 */ {"See <a href=\"https://police.example/case\">the case</a>.",
		 "See the case <https://police.example/case>."},
	/* 5 */ {"<a href=\"https://x.example/\">https://x.example/</a>",
		 "https://x.example/"},
	/* 6 */ {"<a href=\"https://x.example/\">x.example</a>", "x.example"},
	/* 7 */ {"<a href=\"mailto:a@b.example\">a@b.example</a>",
		 "a@b.example"},
	/* 8 */ {"<a href=\"javascript:alert(1)\">click</a>", "click"},
	/* 9 */ {"<a href=\"mailto:desk@force.example\">write to us</a>",
		 "write to us <mailto:desk@force.example>"},
	/* 10 */ {"<html><head><title>Title</title><style>p{color:red}"
		  "</style><script>var x = 1;</script></head><body>"
		  "<p>Visible</p><script>alert(2)</script></body></html>",
		  "Visible"},
	/* 11 */ {"Fish &amp; chips &lt;3 &quot;q&quot; caf&eacute; &#8364;5",
		  "Fish & chips <3 \"q\" caf\xc3\xa9 \xe2\x82\xac" "5"},
	/* 12 */ {"<div><div><div>deep</div></div></div><div>next</div>",
		  "deep\nnext"},
	/* 13 */ {"  lots   of\n\n  white \t space  ",
		  "lots of white space"},
	/* 14 */ {"<p>a</p>\n\n<p></p><p></p><br><br><br><p>b</p>",
		  "a\n\nb"},
	/* 15 */ {"<pre>keep   this\n  indented</pre>",
		  "keep   this\n  indented"},
	/* 16 */ {"<table><tr><td>Name</td><td>Ref</td></tr><tr><td>Ann"
		  "</td><td>HU-1</td></tr></table>", "Name Ref\nAnn HU-1"},
	/* 17 */ {"<h1>Update</h1>Text", "Update\n\nText"},
	/* 18 */ {"<blockquote>quoted</blockquote>reply",
		  "quoted\n\nreply"},
	/* 19 */ {"<div>a<hr>b</div>", "a\nb"},
	/* 20 */ {"<b>bold</b> <i>italic</i>", "bold italic"},
	/* 21 */ {"no&nbsp;break", "no break"},
	/* 22 */ {"", ""},
	/* 23 */ {"<p>unclosed <b>tags <i>everywhere", "unclosed tags "
		  "everywhere"},
	/* 24 */ {"<div>Gmail line</div><div><br></div><div>next</div>",
		  "Gmail line\n\nnext"},
	/* 25 */ {"<!-- comment --><p>after comment</p>", "after comment"},
	/* 26 */ {"<p>ctl\x01" "byte</p>", "ctlbyte"},
};

/* test_table - every row converts to the expected text */
static void
test_table(void **state)
{
	size_t i;
	char *t;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		t = cm_html_to_text(cases[i].html, strlen(cases[i].html));
		assert_non_null(t);
		if (strcmp(t, cases[i].text) != 0) {
			print_error("row %zu: want \"%s\" got \"%s\"\n", i,
				    cases[i].text, t);
			fail();
		}
		free(t);
	}
}

/* nest - n opening tags, text, n closing tags */
static char *
nest(size_t n, const char *open, const char *close, size_t *len_r)
{
	struct cm_buf b;
	size_t i;

	cm_buf_init(&b, 0);
	for (i = 0; i < n; i++)
		cm_buf_puts(&b, open);
	cm_buf_puts(&b, "bottom");
	for (i = 0; i < n; i++)
		cm_buf_puts(&b, close);
	*len_r = b.len;
	return cm_buf_steal(&b);
}

/* test_deep - 10,000 nested divs (and others) do not crash */
static void
test_deep(void **state)
{
	static const char *const tags[][2] = {
		{"<div>", "</div>"},
		{"<span>", "</span>"},
		{"<a href=\"http://x.example\">", "</a>"},
		{"<ul><li>", "</li></ul>"},
		{"<b>", ""},
	};
	size_t i, len;
	char *h, *t;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(tags); i++) {
		h = nest(10000, tags[i][0], tags[i][1], &len);
		t = cm_html_to_text(h, len);
		assert_non_null(t);
		assert_true(cm_utf8_valid(t, strlen(t)));
		free(t);
		free(h);
	}
	h = nest(100, "<div>", "</div>", &len);
	t = cm_html_to_text(h, len);
	assert_string_equal(t, "bottom");
	free(t);
	free(h);
}

/* test_hostile - binary junk and NULs give valid UTF-8 */
static void
test_hostile(void **state)
{
	static const char junk[] = "<p>\xff\xfe\x80 bad \0 nul</p><<<>>>&&&;";
	char *t;

	(void)state;
	t = cm_html_to_text(junk, sizeof(junk) - 1);
	assert_non_null(t);
	assert_true(cm_utf8_valid(t, strlen(t)));
	free(t);
	t = cm_html_to_text(NULL, 0);
	assert_string_equal(t, "");
	free(t);
}

/* test_escape - the five characters are escaped, the rest kept */
static void
test_escape(void **state)
{
	static const struct hcase rows[] = {
		{"a & b", "a &amp; b"},
		{"<script>", "&lt;script&gt;"},
		{"\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;"},
		{"caf\xc3\xa9", "caf\xc3\xa9"},
		{"", ""},
	};
	size_t i;
	char *e;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(rows); i++) {
		e = cm_html_escape(rows[i].html);
		if (strcmp(e, rows[i].text) != 0) {
			print_error("row %zu: got \"%s\"\n", i, e);
			fail();
		}
		free(e);
	}
}

/* group_setup - libxml2 once */
static int
group_setup(void **state)
{
	(void)state;
	cm_html_init();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_deep),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
