/*
 * cmd_report.c - casemail report compliance: the Victims' Code figures
 * a force publishes, as text, JSON, CSV or a page with charts
 *
 * SYNOPSIS
 *	casemail report compliance --from DATE --to DATE [--now TIME]
 *		[--json|--csv|--html]
 *
 * DESCRIPTION
 *	For each month of the period (milestones by the date of their
 *	deadline, force_timezone) and each kind: milestones due, met by
 *	the deadline, late (with the median and the worst delay in working
 *	days), still overdue and still pending; the same for the
 *	milestones of victims with enhanced rights; and the agreed update
 *	rhythm kept or not. Lib/report.c counts; this file only renders.
 *
 *	--html writes one self-contained page (inline CSS and SVG, no
 *	script, nothing fetched): headline figures, a stacked bar per
 *	month for all victims and for enhanced rights, the share met in
 *	time per month, and per month a bar per kind with its table.
 *
 *	TIME for --now, or CM_NOW in the environment when --now is not
 *	given, stands in for the clock in tests, as in milestone check.
 *
 * DIAGNOSTICS
 *	"--from F --to T: expected a date YYYY-MM-DD", "...: the period
 *	ends before it starts", "say one of --json, --csv or --html"
 *	(exit 2).
 *
 * SECURITY
 *	Read only. Kind names and the force's name are escaped in HTML and
 *	quoted in CSV; nothing a victim or an officer wrote is shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cm_html.h"
#include "cm_milestone.h"
#include "cm_report.h"

#define CHART_H 220    /* pixels of a chart's plotting area */
#define PAD_TOP 24     /* pixels above it, for the labels on top */
#define BASE_Y (PAD_TOP + CHART_H) /* the bars' foot */
#define LABEL_Y (BASE_Y + 20)      /* the months' names */
#define SVG_H (BASE_Y + 40)        /* pixels of a chart */
#define BAR_W 44       /* pixels of one month's bar */
#define BAR_GAP 26     /* pixels between bars */
#define AXIS_W 48      /* pixels left of the first bar */
#define HBAR_W 420     /* pixels of the longest bar per kind */
#define HBAR_H 22      /* pixels of one kind's row */
#define LABEL_W 150    /* pixels of a kind's label */

/* the four outcomes as drawn: name, colour */
static const char *const outcome_name[4] = { "met in time", "late",
					     "overdue", "not yet due" };
static const char *const outcome_colour[4] = { "#2e7d32", "#f9a825",
					       "#c62828", "#9e9e9e" };

/* outcome - the count of outcome i in c */
static long
outcome(const struct cm_report_cell *c, int i)
{
	switch (i) {
	case 0:
		return c->met;
	case 1:
		return c->late;
	case 2:
		return c->overdue;
	default:
		return c->pending;
	}
}

/* percent - met in time as a whole percentage of those whose deadline
 * has passed or that were answered; -1 when there are none */
static long
percent(const struct cm_report_cell *c)
{
	long judged = c->met + c->late + c->overdue;

	if (judged == 0)
		return -1;
	return (c->met * 100 + judged / 2) / judged;
}

/* ---- JSON ---- */

/* put_cell - the figures of c as members of the open object */
static void
put_cell(struct out *o, const struct cm_report_cell *c)
{
	out_int(o, "due", c->due);
	out_int(o, "met", c->met);
	out_int(o, "late", c->late);
	if (c->late > 0) {
		out_real(o, "late_median_days", c->late_median);
		out_int(o, "late_worst_days", c->late_worst);
	} else {
		out_str(o, "late_median_days", NULL);
		out_str(o, "late_worst_days", NULL);
	}
	out_int(o, "overdue", c->overdue);
	out_int(o, "pending", c->pending);
}

/* put_group - one month's figures for all or enhanced, with its kinds */
static void
put_group(struct out *o, const struct cm_report *r, size_t i,
	  bool enhanced)
{
	size_t k, nk = cm_report_nkinds(r);

	out_begin(o, enhanced ? "enhanced" : "all");
	put_cell(o, cm_report_cell(r, i, enhanced, nk));
	out_list(o, "kinds");
	for (k = 0; k < nk; k++) {
		const struct cm_report_cell *c = cm_report_cell(r, i, enhanced,
								 k);

		if (c->due == 0)
			continue;
		out_begin(o, NULL);
		out_str(o, "kind", cm_report_kind(r, k));
		put_cell(o, c);
		out_end(o);
	}
	out_end(o);
	out_end(o);
}

/* render_json - the report as a JSON document */
static int
render_json(const struct cm_report *r, const struct cm_config *cfg,
	    const char *from, const char *to, int64_t now)
{
	struct out *o = out_new(true);
	size_t i, n = cm_report_nmonths(r);

	out_str(o, "from", from);
	out_str(o, "to", to);
	out_time(o, "now", now);
	out_str(o, "timezone", cfg->force_timezone);
	out_list(o, "months");
	for (i = 0; i < n; i++) {
		out_begin(o, NULL);
		out_str(o, "month", cm_report_month(r, i));
		put_group(o, r, i, false);
		put_group(o, r, i, true);
		out_end(o);
	}
	out_end(o);
	out_begin(o, "total");
	put_group(o, r, n, false);
	put_group(o, r, n, true);
	out_end(o);
	out_list(o, "rhythm");
	for (i = 0; i < CM_REPORT_RHYTHMS; i++) {
		const struct cm_report_rhythm *h = cm_report_rhythm(r, i);

		out_begin(o, NULL);
		out_str(o, "rhythm", cm_report_rhythm_name(i));
		out_int(o, "victims", h->victims);
		out_int(o, "periods", h->periods);
		out_int(o, "kept", h->kept);
		out_end(o);
	}
	out_end(o);
	return out_flush(&o);
}

/* ---- text ---- */

/* text_row - one line of the text table */
static void
text_row(const char *month, const char *kind,
	 const struct cm_report_cell *c)
{
	char med[16] = "-", worst[16] = "-";

	if (c->late > 0) {
		(void)snprintf(med, sizeof(med), "%g", c->late_median);
		(void)snprintf(worst, sizeof(worst), "%ld", c->late_worst);
	}
	printf("%-8s %-18s %5ld %5ld %5ld %7s %6s %8ld %8ld\n", month, kind,
	       c->due, c->met, c->late, med, worst, c->overdue, c->pending);
}

/* text_group - the table of all victims or of enhanced rights */
static void
text_group(const struct cm_report *r, bool enhanced)
{
	size_t i, k, n = cm_report_nmonths(r), nk = cm_report_nkinds(r);

	printf("%s\n", enhanced ? "Victims with enhanced rights"
				: "All victims");
	printf("%-8s %-18s %5s %5s %5s %7s %6s %8s %8s\n", "MONTH", "KIND",
	       "DUE", "MET", "LATE", "MEDIAN", "WORST", "OVERDUE",
	       "PENDING");
	for (i = 0; i <= n; i++) {
		for (k = 0; k < nk; k++) {
			const struct cm_report_cell *c =
				cm_report_cell(r, i, enhanced, k);

			if (c->due > 0)
				text_row(cm_report_month(r, i),
					 cm_report_kind(r, k), c);
		}
		text_row(cm_report_month(r, i), "all",
			 cm_report_cell(r, i, enhanced, nk));
	}
}

/* render_text - the report as two tables and the rhythm lines */
static int
render_text(const struct cm_report *r, const char *from, const char *to)
{
	size_t i;

	printf("Victims' Code compliance, %s to %s (deadlines by month; "
	       "delays in working days)\n\n", from, to);
	text_group(r, false);
	printf("\n");
	text_group(r, true);
	printf("\nAgreed update rhythm\n%-12s %8s %8s %8s\n", "RHYTHM",
	       "VICTIMS", "PERIODS", "KEPT");
	for (i = 0; i < CM_REPORT_RHYTHMS; i++) {
		const struct cm_report_rhythm *h = cm_report_rhythm(r, i);

		printf("%-12s %8ld %8ld %8ld\n", cm_report_rhythm_name(i),
		       h->victims, h->periods, h->kept);
	}
	return out_close_stdout();
}

/* ---- CSV ---- */

/* csv_field - s as a CSV field (quoted when it needs to be) */
static void
csv_field(const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	fputc('"', stdout);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', stdout);
		fputc(*s, stdout);
	}
	fputc('"', stdout);
}

/* csv_row - one line of the CSV */
static void
csv_row(const char *month, bool enhanced, const char *kind,
	const struct cm_report_cell *c)
{
	printf("%s,%s,", month, enhanced ? "enhanced" : "all");
	csv_field(kind);
	printf(",%ld,%ld,%ld,", c->due, c->met, c->late);
	if (c->late > 0)
		printf("%g,%ld", c->late_median, c->late_worst);
	else
		printf(",");
	printf(",%ld,%ld\n", c->overdue, c->pending);
}

/* render_csv - one line per month, group and kind with milestones due,
 * and a line for every kind together in each month and group */
static int
render_csv(const struct cm_report *r)
{
	size_t i, k, n = cm_report_nmonths(r), nk = cm_report_nkinds(r);
	int g;

	printf("month,victims,kind,due,met,late,late_median_days,"
	       "late_worst_days,overdue,pending\n");
	for (i = 0; i <= n; i++) {
		for (g = 0; g < 2; g++) {
			for (k = 0; k < nk; k++) {
				const struct cm_report_cell *c =
					cm_report_cell(r, i, g == 1, k);

				if (c->due > 0)
					csv_row(cm_report_month(r, i), g == 1,
						cm_report_kind(r, k), c);
			}
			csv_row(cm_report_month(r, i), g == 1, "all",
				cm_report_cell(r, i, g == 1, nk));
		}
	}
	for (i = 0; i < CM_REPORT_RHYTHMS; i++) {
		const struct cm_report_rhythm *h = cm_report_rhythm(r, i);

		printf("rhythm,%s,%ld,%ld,%ld\n", cm_report_rhythm_name(i),
		       h->victims, h->periods, h->kept);
	}
	return out_close_stdout();
}

/* ---- HTML ---- */

/* esc - print s HTML-escaped */
static void
esc(const char *s)
{
	char *e = cm_html_escape(s);

	fputs(e, stdout);
	free(e);
}

/* month_words - "March 2026" for "2026-03" into buf */
static const char *
month_words(const char *ym, char *buf, size_t size)
{
	static const char *const names[12] = {
		"January", "February", "March",     "April",
		"May",     "June",     "July",      "August",
		"September", "October", "November", "December"
	};
	long m = strtol(ym + 5, NULL, 10);

	if (strlen(ym) != 7 || m < 1 || m > 12)
		(void)snprintf(buf, size, "%s", ym);
	else
		(void)snprintf(buf, size, "%s %.4s", names[m - 1], ym);
	return buf;
}

/* nice_step - a round step for about five gridlines up to max */
static long
nice_step(long max)
{
	static const long steps[] = { 1, 2, 5, 10, 20, 25, 50, 100, 200,
				      250, 500, 1000, 2000, 5000, 10000 };
	size_t i;

	for (i = 0; i < CM_ARRAY_SIZE(steps); i++)
		if (max / steps[i] <= 5)
			return steps[i];
	return max / 5 + 1;
}

/* legend - the colour key as HTML */
static void
legend(void)
{
	int i;

	printf("<p class=\"legend\">");
	for (i = 0; i < 4; i++)
		printf("<span><i style=\"background:%s\"></i>%s</span>",
		       outcome_colour[i], outcome_name[i]);
	printf("</p>\n");
}

/* month_chart - one stacked bar per month for all or enhanced */
static void
month_chart(const struct cm_report *r, bool enhanced)
{
	size_t i, n = cm_report_nmonths(r), nk = cm_report_nkinds(r);
	long max = 1, step, v, y0, h, tick;
	int w = AXIS_W + (int)n * (BAR_W + BAR_GAP) + BAR_GAP, j;
	char label[32];

	for (i = 0; i < n; i++) {
		v = cm_report_cell(r, i, enhanced, nk)->due;
		if (v > max)
			max = v;
	}
	step = nice_step(max);
	max = (max + step - 1) / step * step;
	printf("<svg role=\"img\" aria-label=\"%s milestones each month\" "
	       "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
	       enhanced ? "enhanced-rights" : "all", w, SVG_H, w,
	       SVG_H);
	for (tick = 0; tick <= max; tick += step) {
		y0 = BASE_Y - tick * CHART_H / max;
		printf("<line x1=\"%d\" x2=\"%d\" y1=\"%ld\" y2=\"%ld\" "
		       "class=\"grid\"/><text x=\"%d\" y=\"%ld\" "
		       "class=\"tick\">%ld</text>\n",
		       AXIS_W - 4, w, y0, y0, AXIS_W - 8, y0 + 4, tick);
	}
	for (i = 0; i < n; i++) {
		const struct cm_report_cell *c = cm_report_cell(r, i, enhanced,
								 nk);
		int x = AXIS_W + BAR_GAP + (int)i * (BAR_W + BAR_GAP);

		y0 = BASE_Y;
		for (j = 0; j < 4; j++) {
			v = outcome(c, j);
			if (v == 0)
				continue;
			h = v * CHART_H / max;
			y0 -= h;
			printf("<rect x=\"%d\" y=\"%ld\" width=\"%d\" "
			       "height=\"%ld\" fill=\"%s\"><title>%s: %ld"
			       "</title></rect>\n",
			       x, y0, BAR_W, h, outcome_colour[j],
			       outcome_name[j], v);
			if (h >= 14)
				printf("<text x=\"%d\" y=\"%ld\" "
				       "class=\"in\">%ld</text>\n",
				       x + BAR_W / 2, y0 + h / 2 + 4, v);
		}
		if (c->due > 0)
			printf("<text x=\"%d\" y=\"%ld\" class=\"top\">%ld"
			       "</text>\n", x + BAR_W / 2, y0 - 4, c->due);
		(void)month_words(cm_report_month(r, i), label,
				  sizeof(label));
		printf("<text x=\"%d\" y=\"%d\" class=\"mon\">%.3s %.4s"
		       "</text>\n", x + BAR_W / 2, LABEL_Y, label,
		       cm_report_month(r, i));
	}
	printf("</svg>\n");
}

/* share_chart - the share met in time each month, all and enhanced */
static void
share_chart(const struct cm_report *r)
{
	size_t i, n = cm_report_nmonths(r), nk = cm_report_nkinds(r);
	int w = AXIS_W + (int)n * (BAR_W + BAR_GAP) + BAR_GAP, g, p;
	long y0;
	char label[32];

	printf("<svg role=\"img\" aria-label=\"share met in time\" "
	       "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", w,
	       SVG_H, w, SVG_H);
	for (p = 0; p <= 100; p += 25) {
		y0 = BASE_Y - p * CHART_H / 100;
		printf("<line x1=\"%d\" x2=\"%d\" y1=\"%ld\" y2=\"%ld\" "
		       "class=\"grid\"/><text x=\"%d\" y=\"%ld\" "
		       "class=\"tick\">%d%%</text>\n",
		       AXIS_W - 4, w, y0, y0, AXIS_W - 8, y0 + 4, p);
	}
	for (i = 0; i < n; i++) {
		int x = AXIS_W + BAR_GAP + (int)i * (BAR_W + BAR_GAP);

		for (g = 0; g < 2; g++) {
			long pc = percent(cm_report_cell(r, i, g == 1, nk));
			int bx = x + g * (BAR_W / 2);

			if (pc < 0)
				continue;
			y0 = BASE_Y - pc * CHART_H / 100;
			printf("<rect x=\"%d\" y=\"%ld\" width=\"%d\" "
			       "height=\"%ld\" fill=\"%s\"><title>%s: %ld%%"
			       "</title></rect><text x=\"%d\" y=\"%ld\" "
			       "class=\"top small\">%ld</text>\n",
			       bx, y0, BAR_W / 2 - 2, BASE_Y - y0,
			       g == 0 ? "#1565c0" : "#6a1b9a",
			       g == 0 ? "all victims" : "enhanced rights", pc,
			       bx + BAR_W / 4 - 1, y0 - 4, pc);
		}
		(void)month_words(cm_report_month(r, i), label,
				  sizeof(label));
		printf("<text x=\"%d\" y=\"%d\" class=\"mon\">%.3s %.4s"
		       "</text>\n", x + BAR_W / 2, LABEL_Y, label,
		       cm_report_month(r, i));
	}
	printf("</svg>\n<p class=\"legend\"><span><i style=\"background:"
	       "#1565c0\"></i>all victims</span><span><i style=\"background:"
	       "#6a1b9a\"></i>enhanced rights</span></p>\n");
}

/* kind_chart - one month: a stacked bar per kind with milestones due */
static void
kind_chart(const struct cm_report *r, size_t i)
{
	size_t k, nk = cm_report_nkinds(r), rows = 0, row = 0;
	long max = 1, v, x, wv;
	int j;

	for (k = 0; k < nk; k++) {
		v = cm_report_cell(r, i, false, k)->due;
		if (v > 0)
			rows++;
		if (v > max)
			max = v;
	}
	if (rows == 0)
		return;
	printf("<svg role=\"img\" aria-label=\"milestones by kind\" "
	       "width=\"%d\" height=\"%zu\" viewBox=\"0 0 %d %zu\">\n",
	       LABEL_W + HBAR_W + 60, rows * HBAR_H + 6,
	       LABEL_W + HBAR_W + 60, rows * HBAR_H + 6);
	for (k = 0; k < nk; k++) {
		const struct cm_report_cell *c = cm_report_cell(r, i, false,
								 k);
		long y = 3 + (long)row * HBAR_H;

		if (c->due == 0)
			continue;
		row++;
		printf("<text x=\"%d\" y=\"%ld\" class=\"kind\">", LABEL_W - 8,
		       y + HBAR_H / 2 + 4);
		esc(cm_report_kind(r, k));
		printf("</text>\n");
		x = LABEL_W;
		for (j = 0; j < 4; j++) {
			v = outcome(c, j);
			if (v == 0)
				continue;
			wv = v * HBAR_W / max;
			printf("<rect x=\"%ld\" y=\"%ld\" width=\"%ld\" "
			       "height=\"%d\" fill=\"%s\"><title>%s: %ld"
			       "</title></rect>\n",
			       x, y, wv, HBAR_H - 4, outcome_colour[j],
			       outcome_name[j], v);
			x += wv;
		}
		printf("<text x=\"%ld\" y=\"%ld\" class=\"end\">%ld</text>\n",
		       x + 6, y + HBAR_H / 2 + 3, c->due);
	}
	printf("</svg>\n");
}

/* html_cells - the figures of c as table cells */
static void
html_cells(const struct cm_report_cell *c)
{
	long pc = percent(c);

	printf("<td>%ld</td><td>%ld</td>", c->due, c->met);
	if (pc >= 0)
		printf("<td>%ld%%</td>", pc);
	else
		printf("<td>-</td>");
	printf("<td>%ld</td>", c->late);
	if (c->late > 0)
		printf("<td>%g</td><td>%ld</td>", c->late_median,
		       c->late_worst);
	else
		printf("<td>-</td><td>-</td>");
	printf("<td class=\"%s\">%ld</td><td>%ld</td>",
	       c->overdue > 0 ? "bad" : "", c->overdue, c->pending);
}

/* html_table - the table of month i: a row per kind due, all, enhanced */
static void
html_table(const struct cm_report *r, size_t i)
{
	size_t k, nk = cm_report_nkinds(r);

	printf("<table><tr><th>Milestone</th><th>Due</th><th>Met in time"
	       "</th><th>Share</th><th>Late</th><th>Median days late</th>"
	       "<th>Worst</th><th>Still overdue</th><th>Not yet due</th>"
	       "</tr>\n");
	for (k = 0; k < nk; k++) {
		const struct cm_report_cell *c = cm_report_cell(r, i, false,
								 k);

		if (c->due == 0)
			continue;
		printf("<tr><td>");
		esc(cm_report_kind(r, k));
		printf("</td>");
		html_cells(c);
		printf("</tr>\n");
	}
	printf("<tr class=\"sum\"><td>All kinds</td>");
	html_cells(cm_report_cell(r, i, false, nk));
	printf("</tr>\n<tr class=\"enh\"><td>Enhanced rights</td>");
	html_cells(cm_report_cell(r, i, true, nk));
	printf("</tr>\n</table>\n");
}

/* headline - the period's figures in a few large numbers */
static void
headline(const struct cm_report *r)
{
	size_t n = cm_report_nmonths(r), nk = cm_report_nkinds(r);
	const struct cm_report_cell *a = cm_report_cell(r, n, false, nk);
	const struct cm_report_cell *e = cm_report_cell(r, n, true, nk);
	long pa = percent(a), pe = percent(e);

	printf("<div class=\"heads\">\n<div><b>%ld</b>milestones due</div>\n",
	       a->due);
	if (pa >= 0)
		printf("<div><b>%ld%%</b>told in time</div>\n", pa);
	if (pe >= 0)
		printf("<div><b>%ld%%</b>told in time, enhanced rights</div>\n",
		       pe);
	printf("<div><b>%ld</b>told late", a->late);
	if (a->late > 0)
		printf(" (median %g, worst %ld working days)", a->late_median,
		       a->late_worst);
	printf("</div>\n<div class=\"%s\"><b>%ld</b>still overdue</div>\n"
	       "</div>\n", a->overdue > 0 ? "bad" : "", a->overdue);
}

/* render_html - the page */
static int
render_html(const struct cm_report *r, const struct cm_config *cfg,
	    const struct cm_workday *wd, const char *from, const char *to,
	    int64_t now)
{
	size_t i, n = cm_report_nmonths(r);
	char label[32], asof[32];
	bool any_rhythm = false;

	printf("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset="
	       "\"utf-8\">\n<title>Victims' Code compliance, ");
	esc(cfg->force_name);
	printf("</title>\n<style>\n"
	       "body{font:16px/1.45 system-ui,sans-serif;color:#1b1b1b;"
	       "margin:24px auto;max-width:1000px;padding:0 16px}\n"
	       "h1{font-size:26px;margin:0}"
	       "h2{font-size:20px;margin:28px 0 6px;"
	       "border-bottom:2px solid #ddd}"
	       "h3{font-size:17px;margin:18px 0 4px}"
	       "\n.sub{color:#555;margin:2px 0 16px}\n"
	       ".heads{display:flex;flex-wrap:wrap;gap:12px}\n"
	       ".heads div{background:#f3f5f7;border-radius:6px;"
	       "padding:10px 14px;"
	       "min-width:150px;color:#444}\n.heads b{display:block;font-size:"
	       "30px;color:#1b1b1b}\n.heads .bad b,td.bad{color:#c62828;"
	       "font-weight:bold}\n"
	       "table{border-collapse:collapse;margin:6px 0 10px;"
	       "font-size:14px}"
	       "\nth,td{border:1px solid #ccc;padding:3px 8px;text-align:right}"
	       "\nth{background:#f3f5f7}td:first-child{text-align:left}\n"
	       "tr.sum td{font-weight:bold}tr.enh td{color:#6a1b9a}\n"
	       ".legend span{margin-right:16px;font-size:14px}\n"
	       ".legend i{display:inline-block;width:12px;height:12px;"
	       "margin-right:5px;vertical-align:-1px}\n"
	       "svg text{font:12px system-ui,sans-serif;fill:#333}\n"
	       "svg .tick{text-anchor:end}svg .mon,svg .top,svg .in{"
	       "text-anchor:middle}\nsvg .in{fill:#fff;font-weight:bold}"
	       "svg .kind{text-anchor:end}svg .small{font-size:10px}\n"
	       "svg .grid{stroke:#e3e3e3}\n"
	       "</style></head><body>\n<h1>Victims' Code compliance: ");
	esc(cfg->force_name);
	printf("</h1>\n<p class=\"sub\">Updates to victims after each "
	       "milestone, deadlines falling from %s to %s; figures as of "
	       "%s. Deadlines are %ld working days, %ld for victims with "
	       "enhanced rights; delays are in working days.</p>\n",
	       from, to, cm_workday_format(wd, now, asof),
	       cfg->milestone_days, cfg->milestone_days_enhanced);
	headline(r);
	printf("<h2>Milestones due each month: all victims</h2>\n");
	legend();
	month_chart(r, false);
	printf("<h2>Milestones due each month: victims with enhanced "
	       "rights</h2>\n");
	legend();
	month_chart(r, true);
	printf("<h2>Share told in time each month</h2>\n<p class=\"sub\">"
	       "Of the milestones whose deadline has passed or whose update "
	       "was sent.</p>\n");
	share_chart(r);
	for (i = 0; i < n; i++) {
		printf("<h3>%s</h3>\n", month_words(cm_report_month(r, i),
						     label, sizeof(label)));
		if (cm_report_cell(r, i, false, cm_report_nkinds(r))->due ==
		    0) {
			printf("<p>No milestone fell due.</p>\n");
			continue;
		}
		kind_chart(r, i);
		html_table(r, i);
	}
	printf("<h2>The whole period</h2>\n");
	html_table(r, n);
	for (i = 0; i < CM_REPORT_RHYTHMS; i++)
		if (cm_report_rhythm(r, i)->victims > 0)
			any_rhythm = true;
	if (any_rhythm) {
		printf("<h2>Update rhythm agreed with the victim</h2>\n"
		       "<table><tr><th>Rhythm</th><th>Victims</th><th>"
		       "Periods</th><th>Kept</th><th>Share</th></tr>\n");
		for (i = 0; i < CM_REPORT_RHYTHMS; i++) {
			const struct cm_report_rhythm *h =
				cm_report_rhythm(r, i);

			if (h->victims == 0)
				continue;
			printf("<tr><td>%s</td><td>%ld</td><td>%ld</td><td>"
			       "%ld</td>", cm_report_rhythm_name(i),
			       h->victims, h->periods, h->kept);
			if (h->periods > 0)
				printf("<td>%ld%%</td></tr>\n",
				       (h->kept * 100 + h->periods / 2) /
					       h->periods);
			else
				printf("<td>-</td></tr>\n");
		}
		printf("</table>\n");
	}
	printf("</body></html>\n");
	return out_close_stdout();
}

/* cmd_report_compliance - the compliance report */
int
cmd_report_compliance(struct cli *c, struct args *a)
{
	const char *from = arg_opt(a, "from"), *to = arg_opt(a, "to");
	const char *now_s = arg_opt(a, "now"), *err = NULL;
	bool json = arg_flag(a, "json"), csv = arg_flag(a, "csv");
	bool html = arg_flag(a, "html");
	struct cm_workday *wd = NULL;
	struct cm_report *r = NULL;
	int64_t now = cm_now();
	int rc, ret = CLI_EXIT_ERR;

	if ((json ? 1 : 0) + (csv ? 1 : 0) + (html ? 1 : 0) > 1) {
		ret = cli_fail(CLI_EXIT_USAGE,
			       "say one of --json, --csv or --html");
		goto out;
	}
	wd = cm_milestone_calendar(c->cfg, &err);
	if (wd == NULL) {
		ret = cli_fail(CLI_EXIT_ERR, "force_timezone or "
			       "bank_holidays_extra: %s", err);
		goto out;
	}
	/* a test clock: the environment only when no --now is given */
	if (now_s == NULL)
		now_s = getenv("CM_NOW");
	if (now_s != NULL && now_s[0] != '\0' &&
	    cm_workday_parse_time(wd, now_s, &now, &err) < 0) {
		ret = cli_fail(CLI_EXIT_USAGE, "--now: %s", cli_san(err));
		goto out;
	}
	if (cm_report_period_check(wd, from, to, &err) < 0) {
		ret = cli_fail(CLI_EXIT_USAGE, "--from %s --to %s: %s",
			       cli_san(from), cli_san(to), err);
		goto out;
	}
	rc = cm_report_compliance(c->st, c->cfg, wd, from, to, now, &r, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "compliance report", err);
		goto out;
	}
	if (csv)
		ret = render_csv(r);
	else if (html)
		ret = render_html(r, c->cfg, wd, from, to, now);
	else if (json)
		ret = render_json(r, c->cfg, from, to, now);
	else
		ret = render_text(r, from, to);
out:
	cm_report_free(&r);
	cm_workday_free(&wd);
	return ret;
}
