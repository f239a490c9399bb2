/*
 * mline.c - "Milestone: KIND" lines in an officer's mail
 *
 * SYNOPSIS
 *	See cm_mline.h.
 *
 * DESCRIPTION
 *	The text is walked a line at a time; a line is a milestone line
 *	when match_line says so. Recording goes through
 *	cm_milestone_record with the force's calendar, made only when a
 *	line is found.
 *
 * DIAGNOSTICS
 *	Store and calendar errors are passed up; a kind that is not
 *	configured is an event on the thread, not an error.
 *
 * SECURITY
 *	What the event and the audit row say of a refused line is cut to
 *	CM_MILESTONE_KIND_MAX bytes of a-z, 0-9 and '_'; anything else in
 *	it shows as '?'.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm_milestone.h"
#include "cm_mline.h"

#define WORD "milestone"

/* enum line_kind - what a line is */
enum line_kind { NOT_MILESTONE, VALID, MALFORMED };

/*
 * match_line - is p[0..len) a milestone line; for VALID the kind,
 * lower-cased, in kind (size bytes); for MALFORMED what follows the
 * colon, made printable, there
 */
static enum line_kind
match_line(const char *p, size_t len, char *kind, size_t size)
{
	size_t i = 0, k0, k, j;

	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (len - i < sizeof(WORD) - 1 ||
	    strncasecmp(p + i, WORD, sizeof(WORD) - 1) != 0)
		return NOT_MILESTONE;
	i += sizeof(WORD) - 1;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == len || p[i] != ':')
		return NOT_MILESTONE;
	i++;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	k0 = i;
	while (i < len && (isalnum((unsigned char)p[i]) || p[i] == '_'))
		i++;
	k = i - k0;
	j = i;
	if (j < len && p[j] == '.')
		j++;
	while (j < len && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r'))
		j++;
	if (k > 0 && k < size && j == len) {
		for (size_t n = 0; n < k; n++)
			kind[n] = (char)tolower((unsigned char)p[k0 + n]);
		kind[k] = '\0';
		return VALID;
	}
	/* what the officer wrote, printable and short, for the event */
	for (k = 0; k0 + k < len && k + 1 < size; k++) {
		unsigned char c = (unsigned char)p[k0 + k];

		kind[k] = isalnum(c) || c == '_' ? (char)tolower(c) : '?';
	}
	kind[k] = '\0';
	return MALFORMED;
}

/* cm_mline_strip - text without its milestone lines */
char *
cm_mline_strip(const char *text, size_t *n_r)
{
	struct cm_buf b;
	const char *p = text, *nl;
	char kind[CM_MILESTONE_KIND_MAX + 1];
	size_t len, n = 0;
	char *ret;

	cm_buf_init(&b, 0);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (match_line(p, len, kind, sizeof(kind)) != NOT_MILESTONE)
			n++;
		else
			(void)cm_buf_append(&b, p, len + (nl != NULL ? 1 : 0));
		p += len + (nl != NULL ? 1 : 0);
	}
	*n_r = n;
	if (n == 0) {
		cm_buf_free(&b);
		return cm_xstrdup(text);
	}
	ret = cm_buf_steal(&b);
	cm_buf_free(&b);
	return ret;
}

/* refuse - an internal event on the case and an audit row saying that
 * the line naming what was not recorded */
static int
refuse(struct cm_work *w, const struct cm_mline_rec *rec, const char *ref,
       const char *what, const char *why, const char **error_r)
{
	struct cm_post p;
	char text[400], detail[160];
	int64_t msg = 0;
	int ret;

	(void)snprintf(text, sizeof(text),
		       "Milestone line of message %lld not recorded: \"%s\" "
		       "%s (milestone_kinds: %.200s).",
		       (long long)rec->message_id, what, why,
		       w->cfg->milestone_kinds);
	memset(&p, 0, sizeof(p));
	p.case_id = rec->case_id;
	p.victim_id = rec->victim_id;
	p.author = "system";
	p.visibility = "internal";
	p.status = "posted";
	p.kind = "event";
	p.body = text;
	p.body_full = text;
	p.source = rec->source;
	ret = cm_work_post(w, &p, &msg, NULL, error_r);
	if (ret < 0)
		goto out;
	(void)snprintf(detail, sizeof(detail), "message=%lld kind=%s",
		       (long long)rec->message_id, what);
	ret = cm_store_audit(w->store, w->actor, "milestone.refused", ref,
			     detail, error_r);
out:
	return ret;
}

/* cm_mline_record - record the milestones of text's lines */
int
cm_mline_record(struct cm_work *w, const struct cm_mline_rec *rec,
		const char *text, struct cm_mline_result *res_r,
		const char **error_r)
{
	struct cm_workday *wd = NULL;
	struct cm_milestone_rec r;
	struct cm_case c = { 0 };
	char kind[CM_MILESTONE_KIND_MAX + 1];
	char done[CM_MLINE_MAX][CM_MILESTONE_KIND_MAX + 1];
	const char *p = text, *line, *nl, *kerr = NULL;
	enum line_kind lk;
	size_t len, lines = 0, ndone = 0, i;
	int ret = 0;

	memset(res_r, 0, sizeof(*res_r));
	while (*p != '\0' && lines < CM_MLINE_MAX) {
		line = p;
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		p += len + (nl != NULL ? 1 : 0);
		lk = match_line(line, len, kind, sizeof(kind));
		if (lk == NOT_MILESTONE)
			continue;
		lines++;
		if (c.ref == NULL &&
		    (ret = cm_store_case_get_id(w->store, rec->case_id, &c,
						error_r)) < 0)
			goto out;
		if (lk == VALID &&
		    cm_milestone_kind(w->cfg, kind, NULL, NULL, &kerr) < 0)
			lk = MALFORMED;
		if (lk == MALFORMED) {
			ret = refuse(w, rec, c.ref, kind,
				     kerr != NULL ? "is not a milestone kind"
						  : "is not a kind on its own",
				     error_r);
			if (ret < 0)
				goto out;
			if (res_r->refused++ == 0)
				cm_strlcpy(res_r->first_refused, kind,
					   sizeof(res_r->first_refused));
			kerr = NULL;
			continue;
		}
		for (i = 0; i < ndone && strcmp(done[i], kind) != 0; i++)
			;
		if (i < ndone)
			continue; /* named twice in one message: once */
		cm_strlcpy(done[ndone++], kind, sizeof(done[0]));
		if (wd == NULL &&
		    (wd = cm_milestone_calendar(w->cfg, error_r)) == NULL) {
			ret = CM_ETEMP;
			goto out;
		}
		memset(&r, 0, sizeof(r));
		r.case_id = rec->case_id;
		r.victim_id = rec->victim_id;
		r.kind = kind;
		r.at = rec->at;
		r.officer_id = rec->officer_id;
		ret = cm_milestone_record(w, wd, &r, NULL, NULL, NULL,
					  error_r);
		if (ret < 0)
			goto out;
		if (res_r->recorded++ == 0)
			cm_strlcpy(res_r->first_recorded, kind,
				   sizeof(res_r->first_recorded));
	}
out:
	cm_workday_free(&wd);
	cm_case_clear(&c);
	return ret;
}
