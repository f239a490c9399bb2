/*
 * pages.c - casemail-web: the HTML frame, escaping and the style sheet
 *
 * SYNOPSIS
 *	page_begin(&r->body, w, "Your case", true);
 *	put_esc(&r->body, officer_name);
 *	page_end(&r->body, w);
 *
 * DESCRIPTION
 *	Server-rendered HTML 5 that works without JavaScript: one column,
 *	a viewport meta for phones, one <h1> per page, a skip link, labels
 *	on every control, and a style sheet served from /static/ (the
 *	Content-Security-Policy allows styles from 'self' only, so there
 *	is no inline style anywhere). Colours pass WCAG AA contrast (text
 *	#1b1b1b on white, 16.6:1; white on #1d3557, 12.2:1; links
 *	#1a4f8b, 8.6:1); focus is shown with a thick outline.
 *
 *	A discreet victim (one who asked for notices that do not say who
 *	sends them or why) gets the same discretion here: discreet_name
 *	instead of the force's name in titles and the header, and a
 *	footer that mentions neither the police nor a crime.
 *
 * SECURITY
 *	Every piece of data goes through put_esc (cm_html_escape: & < > "
 *	'), in text and in attribute values alike; the only raw strings
 *	are the literals of this program.
 */
#include <stdlib.h>
#include <string.h>

#include "cm_html.h"
#include "web.h"

static const char css[] =
	"*,*::before,*::after{box-sizing:border-box}\n"
	"html{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,"
	"\"DejaVu Sans\",sans-serif;font-size:112.5%;line-height:1.5;"
	"color:#1b1b1b;background:#fff}\n"
	"body{margin:0}\n"
	".skip{position:absolute;left:-999px}\n"
	".skip:focus{left:1rem;top:1rem;background:#ffdd00;"
	"color:#1b1b1b;padding:.5rem}\n"
	"header{background:#1d3557;color:#fff;padding:.75rem 1rem}\n"
	"header p{margin:0;font-weight:700}\n"
	"header form{margin:0}\n"
	"header a{color:#fff;margin-left:1rem;font-weight:700}\n"
	"main{max-width:40rem;margin:0 auto;padding:1rem}\n"
	"h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}\n"
	"h2{font-size:1.25rem;margin:1.5rem 0 .5rem}\n"
	"a{color:#1a4f8b}\n"
	"a:focus,button:focus,input:focus,textarea:focus{"
	"outline:3px solid #ffdd00;outline-offset:0;"
	"box-shadow:0 0 0 5px #1b1b1b}\n"
	"dl.facts{display:grid;grid-template-columns:auto 1fr;"
	"gap:.25rem 1rem;margin:0 0 1rem}\n"
	"dl.facts dt{font-weight:700}\n"
	"dl.facts dd{margin:0}\n"
	"ol.thread{list-style:none;padding:0;margin:0}\n"
	"ol.thread li{border-left:5px solid #1d3557;background:#f3f2f1;"
	"padding:.75rem 1rem;margin:0 0 1rem}\n"
	"ol.thread li.mine{border-left-color:#00703c;background:#eef7f1}\n"
	".meta{font-size:.9rem;margin:0 0 .25rem;color:#3b3b3b}\n"
	".text{white-space:pre-wrap;overflow-wrap:anywhere;margin:0}\n"
	"label,legend{display:block;font-weight:700;margin:.75rem 0 .25rem}\n"
	"fieldset{border:0;padding:0;margin:0 0 1rem}\n"
	"fieldset label{font-weight:400;display:flex;gap:.5rem;"
	"align-items:center;margin:.25rem 0}\n"
	".hint{color:#3b3b3b;margin:.25rem 0}\n"
	"input[type=text],textarea{width:100%;font:inherit;padding:.5rem;"
	"border:2px solid #1b1b1b;border-radius:0}\n"
	"textarea{min-height:8rem}\n"
	"input[type=radio],input[type=checkbox]{width:1.5rem;"
	"height:1.5rem;margin:0}\n"
	"button{font:inherit;font-weight:700;min-height:2.75rem;"
	"padding:.5rem 1.25rem;border:0;border-radius:0;"
	"background:#00703c;color:#fff;cursor:pointer;margin:.5rem 0}\n"
	"button.secondary{background:#f3f2f1;color:#1b1b1b;"
	"border:2px solid #1b1b1b}\n"
	"header button{background:transparent;color:#fff;"
	"border:2px solid #fff;min-height:2.25rem;padding:.25rem .75rem;"
	"margin:0}\n"
	".bar{display:flex;justify-content:space-between;"
	"align-items:center;gap:1rem;flex-wrap:wrap}\n"
	".notice{border:4px solid #00703c;padding:.75rem 1rem;"
	"margin:0 0 1rem}\n"
	".notice p,.error p{margin:0}\n"
	".error{border:4px solid #d4351c;padding:.75rem 1rem;"
	"margin:0 0 1rem}\n"
	"footer{max-width:40rem;margin:2rem auto;padding:0 1rem;"
	"font-size:.9rem;color:#3b3b3b}\n";

/* page_css - the style sheet */
const char *
page_css(size_t *len_r)
{
	*len_r = sizeof(css) - 1;
	return css;
}

/* put_esc - append escaped text */
void
put_esc(struct cm_buf *b, const char *s)
{
	char *e;

	if (s == NULL)
		return;
	e = cm_html_escape(s);
	(void)cm_buf_puts(b, e);
	free(e);
}

/* put_hidden - a hidden field */
void
put_hidden(struct cm_buf *b, const char *name, const char *value)
{
	(void)cm_buf_puts(b, "<input type=\"hidden\" name=\"");
	put_esc(b, name);
	(void)cm_buf_puts(b, "\" value=\"");
	put_esc(b, value);
	(void)cm_buf_puts(b, "\">\n");
}

/* page_begin - head, header bar and the start of main */
void
page_begin(struct cm_buf *b, const struct web *w, const char *title,
	   bool signed_in)
{
	const char *name = w->discreet ? w->cfg->discreet_name
				       : w->cfg->force_name;

	(void)cm_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
			     "<meta charset=\"utf-8\">\n"
			     "<meta name=\"viewport\" content=\"width="
			     "device-width, initial-scale=1\">\n"
			     "<meta name=\"referrer\" content=\"same-origin\">"
			     "\n<title>");
	put_esc(b, title);
	(void)cm_buf_puts(b, " - ");
	put_esc(b, name);
	(void)cm_buf_puts(b, "</title>\n<link rel=\"stylesheet\" "
			     "href=\"/static/casemail.css\">\n</head>\n"
			     "<body>\n<a class=\"skip\" href=\"#main\">Skip "
			     "to the content</a>\n<header><div class=\"bar\">"
			     "<p>");
	put_esc(b, name);
	(void)cm_buf_puts(b, "</p>");
	if (signed_in)
		(void)cm_buf_printf(b, "<nav aria-label=\"Account\"><a "
				       "href=\"/case\">%s</a><a "
				       "href=\"/settings\">Settings</a></nav>",
				    w->discreet ? "Messages" : "Your case");
	(void)cm_buf_puts(b, "</div></header>\n<main id=\"main\">\n");
}

/* page_end - close main, the footer (plain words when discreet), the
 * document */
void
page_end(struct cm_buf *b, const struct web *w)
{
	(void)cm_buf_printf(b, "</main>\n<footer><p>%s</p></footer>\n"
			       "</body>\n</html>\n",
			    w->discreet
				    ? "In an emergency, call 999."
				    : "This service is for people who "
				      "reported a crime. If you are in "
				      "danger, call 999.");
}

/* page_error - a complete error page */
void
page_error(struct resp *r, const struct web *w, int status,
	   const char *title, const char *text)
{
	cm_buf_reset(&r->body);
	r->status = status;
	page_begin(&r->body, w, title, false);
	(void)cm_buf_puts(&r->body, "<h1>");
	put_esc(&r->body, title);
	(void)cm_buf_puts(&r->body, "</h1>\n<p>");
	put_esc(&r->body, text);
	(void)cm_buf_puts(&r->body, "</p>\n");
	page_end(&r->body, w);
}
