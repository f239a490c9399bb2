/*
 * cmd_thread.c - casemail update and thread
 *
 * SYNOPSIS
 *	casemail update REF --officer EMAIL [--victim ID|--all] [--internal]
 *		[--text T]
 *	casemail thread REF [--json]
 *
 * DESCRIPTION
 *	update posts an officer's message on a case through cm_work_post,
 *	addressed to one victim (--victim ID) or explicitly to every victim
 *	of the case (--all); one of them is required when the case has more
 *	than one victim, and a case with one victim addresses that victim.
 *	One notice is queued per addressed opted-in victim and channel
 *	(none for an internal note, which is addressed to no victim). The
 *	text comes from --text or, without it, from standard input (at most
 *	1 MiB); trailing white space is dropped.
 *
 *	thread prints the messages of a case oldest first, each with whom
 *	it is addressed to and how it was placed: text for people, or the
 *	JSON shape documented in casemail(1).
 *
 * DIAGNOSTICS
 *	"text is not valid UTF-8", "text contains NUL bytes", "text is
 *	empty": nothing is stored. "case REF is closed", "no active officer
 *	E", "case REF has N victims: say --victim ID or --all", "no victim
 *	ID on case REF", "--victim and --all exclude each other".
 *
 * SECURITY
 *	Text printed from the thread is sanitised for the terminal. Audit
 *	rows carry ids and counts, never the text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cm_log.h"
#include "cm_trim.h"

/* cli_msgs_collect - deep copy of one message (callbacks may not
 * re-enter the store) */
int
cli_msgs_collect(const struct cm_message *m, void *ctx)
{
	struct cli_msgs *l = ctx;
	struct cm_message *d;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = cm_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	d = &l->v[l->n++];
	*d = *m;
	d->author = cm_xstrdup(m->author);
	d->visibility = cm_xstrdup(m->visibility);
	d->status = cm_xstrdup(m->status);
	d->kind = cm_xstrdup(m->kind);
	d->body = cm_xstrdup(m->body);
	d->body_full = cm_xstrdup(m->body_full);
	d->quoted = cm_xstrdup(m->quoted);
	d->subject = cm_xstrdup(m->subject);
	d->sender = cm_xstrdup(m->sender);
	d->message_id = cm_xstrdup(m->message_id);
	d->in_reply_to = cm_xstrdup(m->in_reply_to);
	d->source = cm_xstrdup(m->source);
	d->placement = cm_xstrdup(m->placement);
	return 0;
}

/* cli_msgs_free - release collected messages */
void
cli_msgs_free(struct cli_msgs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct cm_message *m = &l->v[i];

		free((char *)m->author);
		free((char *)m->visibility);
		free((char *)m->status);
		free((char *)m->kind);
		free((char *)m->body);
		free((char *)m->body_full);
		free((char *)m->quoted);
		free((char *)m->subject);
		free((char *)m->sender);
		free((char *)m->message_id);
		free((char *)m->in_reply_to);
		free((char *)m->source);
		free((char *)m->placement);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* read_text - the update text from --text or stdin, checked; caller
 * frees; NULL after printing why (status in *status_r) */
static char *
read_text(const char *opt, int *status_r)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (opt != NULL) {
		data = cm_xstrdup(opt);
		len = strlen(data);
	} else {
		if (isatty(STDIN_FILENO))
			fputs("casemail: reading the update from standard "
			      "input; end it with Ctrl-D\n", stderr);
		rc = cm_read_fd(STDIN_FILENO, CLI_MAX_TEXT, &data, &len);
		if (rc == CM_ERR) {
			*status_r = cli_fail(CLI_EXIT_ERR, "text is longer "
					     "than %ld bytes", CLI_MAX_TEXT);
			goto fail;
		}
		if (rc < 0) {
			*status_r = cli_fail(CLI_EXIT_ERR, "cannot read the "
					     "text from standard input: %s",
					     strerror(errno));
			goto fail;
		}
	}
	if (memchr(data, '\0', len) != NULL) {
		*status_r = cli_fail(CLI_EXIT_ERR, "text contains NUL bytes");
		goto fail;
	}
	if (!cm_utf8_valid(data, len)) {
		*status_r = cli_fail(CLI_EXIT_ERR, "text is not valid UTF-8");
		goto fail;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
			   data[len - 1] == ' ' || data[len - 1] == '\t'))
		data[--len] = '\0';
	if (strspn(data, " \t\r\n") == len) {
		*status_r = cli_fail(CLI_EXIT_ERR, "text is empty");
		goto fail;
	}
	return data;
fail:
	free(data);
	return NULL;
}

/* struct addressees - the victims of a case, for --victim and --all */
struct addressees {
	int64_t want; /* the --victim id, 0 if none */
	bool found;   /* want is a victim of the case */
	size_t n;     /* victims on the case */
	int64_t only; /* the one victim when n == 1 */
};

/* count_victim - store callback: count and look for the wanted id */
static int
count_victim(const struct cm_victim *v, void *ctx)
{
	struct addressees *ad = ctx;

	ad->n++;
	ad->only = v->id;
	if (v->id == ad->want)
		ad->found = true;
	return 0;
}

/* cli_addressee - the victim an officer's message goes to, from
 * --victim and --all (cli.h) */
int
cli_addressee(struct cli *c, struct args *a, const struct cm_case *cs,
	  bool internal, int64_t *victim_r)
{
	const char *vid = arg_opt(a, "victim"), *err = NULL;
	bool all = arg_flag(a, "all");
	struct addressees ad = { 0, false, 0, 0 };
	int rc;

	*victim_r = 0;
	if (vid != NULL && all)
		return cli_fail(CLI_EXIT_ERR, "--victim and --all exclude "
				"each other");
	if (vid != NULL && (rc = cli_id(vid, "victim id", &ad.want)) != 0)
		return rc;
	rc = cm_store_victim_list(c->st, cs->id, count_victim, &ad, &err);
	if (rc < 0)
		return cli_store_fail(c, rc, "cannot list victims", err);
	if (vid != NULL) {
		if (!ad.found)
			return cli_fail(CLI_EXIT_ERR, "no victim %lld on case "
					"%s", (long long)ad.want, cs->ref);
		*victim_r = ad.want;
		return 0;
	}
	if (all || internal)
		return 0;
	if (ad.n > 1)
		return cli_fail(CLI_EXIT_ERR, "case %s has %zu victims: say "
				"--victim ID or --all", cs->ref, ad.n);
	*victim_r = ad.only;
	return 0;
}

/* cmd_update - an officer posts on a case */
int
cmd_update(struct cli *c, struct args *a)
{
	const char *email = arg_opt(a, "officer"), *err = NULL;
	bool internal = arg_flag(a, "internal");
	struct cm_officer o = { 0 };
	struct cm_case cs = { 0 };
	struct cm_post p;
	char *text = NULL;
	int64_t id = 0, to = 0;
	int rc, n = 0, ret = CLI_EXIT_ERR;

	if (email == NULL) {
		ret = cli_usage(c);
		goto out;
	}
	if ((text = read_text(arg_opt(a, "text"), &ret)) == NULL)
		goto out;
	if ((ret = cli_begin(c)) != 0)
		goto out;
	if ((ret = cli_case(c, a->pos[0], &cs)) != 0 ||
	    (ret = cli_active_officer(c, email, &o)) != 0) {
		cm_store_rollback(c->st);
		goto out;
	}
	if (strcmp(cs.status, "open") != 0) {
		cm_store_rollback(c->st);
		ret = cli_fail(CLI_EXIT_ERR, "case %s is closed (casemail case "
			       "reopen %s)", cs.ref, cs.ref);
		goto out;
	}
	if ((ret = cli_addressee(c, a, &cs, internal, &to)) != 0) {
		cm_store_rollback(c->st);
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.case_id = cs.id;
	p.victim_id = to;
	p.officer_id = o.id;
	p.author = "officer";
	p.visibility = internal ? "internal" : "victim";
	p.status = "posted";
	p.kind = "message";
	p.body = text;
	p.body_full = text;
	p.sender = o.email;
	p.source = "cli";
	p.placement = "cli";
	rc = cm_work_post(&c->work, &p, &id, &n, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot post the update", err);
		goto out;
	}
	/* cm_work_post wrote the audit rows */
	if ((ret = cli_finish(c, NULL, cs.ref, NULL)) != 0)
		goto out;
	cm_log_info("actor=%s action=message.add case=%s message=%lld "
		    "visibility=%s notices=%d", c->actor, cs.ref,
		    (long long)id, p.visibility, n);
	if (to != 0)
		printf("posted message %lld on %s to victim %lld, %d notices "
		       "queued\n", (long long)id, cs.ref, (long long)to, n);
	else
		printf("posted message %lld on %s%s, %d notices queued\n",
		       (long long)id, cs.ref, internal ? "" : " to all victims",
		       n);
out:
	free(text);
	cm_case_clear(&cs);
	cm_officer_clear(&o);
	return ret;
}

/* put_attachment - one attachment object */
static int
put_attachment(const struct cm_attachment_row *at, void *ctx)
{
	struct out *o = ctx;

	out_begin(o, NULL);
	out_str(o, "filename", at->filename);
	out_str(o, "content_type", at->content_type);
	out_int(o, "size", at->size);
	out_str(o, "sha256", at->sha256);
	out_end(o);
	return 0;
}

/* print_att - one attachment line of the text listing */
static int
print_att(const struct cm_attachment_row *at, void *ctx)
{
	char *f = out_clean(at->filename, true);
	char *t = out_clean(at->content_type, true);

	(void)ctx;
	printf("    [attachment: %s, %s, %lld bytes]\n", f, t,
	       (long long)at->size);
	free(t);
	free(f);
	return 0;
}

/* print_indented - text with every line indented four spaces */
static void
print_indented(const char *s)
{
	char *clean = out_clean(s, false), *p, *nl;

	for (p = clean; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		printf("    %.*s\n", (int)(nl - p), p);
	printf("    %s\n", p);
	free(clean);
}

/* count_lines - lines in s */
static long
count_lines(const char *s)
{
	long n = 1;

	for (; *s != '\0'; s++)
		if (*s == '\n' && s[1] != '\0')
			n++;
	return n;
}

/* placed_words - how a message found its case, in words (static) */
static const char *
placed_words(const char *placement)
{
	static const struct {
		const char *name, *words;
	} w[] = {
		{ "reply_key", "the victim's reply address" },
		{ "officer_key", "the officer's reply address" },
		{ "case_address", "the case address, sender proven" },
		{ "thread", "threading headers only, sender not proven" },
		{ "subject_tag", "a subject tag only, sender not proven" },
		{ "released", "released from quarantine" },
		{ "portal", "the portal" },
		{ "cli", "the command line" },
	};

	if (placement == NULL)
		return NULL;
	for (size_t i = 0; i < CM_ARRAY_SIZE(w); i++)
		if (strcmp(placement, w[i].name) == 0)
			return w[i].words;
	return placement;
}

/* addressed_to - "to victim N", "to all victims" or "" for the text
 * listing, into buf */
static const char *
addressed_to(const struct cm_message *m, char *buf, size_t size)
{
	if (strcmp(m->author, "officer") != 0 ||
	    strcmp(m->visibility, "victim") != 0)
		return "";
	if (m->victim_id == 0)
		return " to all victims";
	snprintf(buf, size, " to victim %lld", (long long)m->victim_id);
	return buf;
}

/*
 * forwarded - does victim message m pass on a forwarded message; its
 * trim (caller clears with cm_trim_clear) reads the forwarded part apart
 * from the body, where it is kept whole
 */
static bool
forwarded(const struct cm_message *m, struct cm_trim *t)
{
	memset(t, 0, sizeof(*t));
	if (strcmp(m->author, "victim") != 0 || m->body == NULL)
		return false;
	/* the subject tells an Outlook forward (FW:) from a reply */
	if (cm_trim_text_subject(m->body, m->subject, t) < 0)
		return false;
	return t->forwarded;
}

/* thread_text - the readable listing */
static int
thread_text(struct cli *c, const struct cm_case *cs, struct cli_msgs *l)
{
	const char *err = NULL, *placed;
	char at[32], to[48], *who;
	struct cm_trim t;
	int rc;

	printf("case %s (%s): %zu message%s\n", cs->ref, cs->status, l->n,
	       l->n == 1 ? "" : "s");
	for (size_t i = 0; i < l->n; i++) {
		const struct cm_message *m = &l->v[i];

		who = out_clean(m->sender, true);
		placed = placed_words(m->placement);
		printf("\n#%lld %s %s <%s>%s%s%s%s%s via %s%s%s\n",
		       (long long)m->id, cm_time_iso(m->at, at), m->author,
		       who, addressed_to(m, to, sizeof(to)),
		       strcmp(m->visibility, "internal") == 0 ?
			       " INTERNAL" : "",
		       strcmp(m->status, "posted") != 0 ? " " : "",
		       strcmp(m->status, "posted") != 0 ? m->status : "",
		       strcmp(m->kind, "message") != 0 ? " (auto)" : "",
		       m->source, placed != NULL ? ", placed by " : "",
		       placed != NULL ? placed : "");
		free(who);
		if (m->subject != NULL) {
			fputs("    Subject: ", stdout);
			out_text(m->subject);
			fputc('\n', stdout);
		}
		print_indented(m->body);
		if (forwarded(m, &t)) {
			fputs("    [forwarded message from ", stdout);
			out_text(t.fwd_from != NULL ? t.fwd_from : "?");
			fputs(", date ", stdout);
			out_text(t.fwd_date != NULL ? t.fwd_date : "?");
			fputs(", subject ", stdout);
			out_text(t.fwd_subject != NULL ? t.fwd_subject : "?");
			fputs("]\n", stdout);
		}
		cm_trim_clear(&t);
		if (m->quoted != NULL && m->quoted[0] != '\0')
			printf("    [%ld quoted line%s hidden]\n",
			       count_lines(m->quoted),
			       count_lines(m->quoted) == 1 ? "" : "s");
		rc = cm_store_attachment_list(c->st, m->id, print_att, NULL,
					      &err);
		if (rc < 0)
			return cli_store_fail(c, rc, "cannot list attachments",
					      err);
	}
	return 0;
}

/* thread_json - the documented JSON shape */
static int
thread_json(struct cli *c, const struct cm_case *cs, struct cli_msgs *l,
	    struct out *o)
{
	const char *err = NULL;
	struct cm_trim t;
	int rc;

	out_str(o, "case", cs->ref);
	out_list(o, "messages");
	for (size_t i = 0; i < l->n; i++) {
		const struct cm_message *m = &l->v[i];

		out_begin(o, NULL);
		out_int(o, "id", m->id);
		out_time(o, "at", m->at);
		out_str(o, "author", m->author);
		out_str(o, "visibility", m->visibility);
		out_str(o, "status", m->status);
		out_str(o, "kind", m->kind);
		out_str(o, "body", m->body);
		out_str(o, "body_full", m->body_full);
		out_str(o, "quoted", m->quoted);
		out_str(o, "subject", m->subject);
		out_str(o, "sender", m->sender);
		out_str(o, "message_id", m->message_id);
		out_str(o, "in_reply_to", m->in_reply_to);
		out_str(o, "source", m->source);
		out_str(o, "placement", m->placement);
		if (m->victim_id != 0)
			out_int(o, "victim_id", m->victim_id);
		else
			out_str(o, "victim_id", NULL);
		if (forwarded(m, &t)) {
			out_begin(o, "forwarded");
			out_str(o, "from", t.fwd_from);
			out_str(o, "date", t.fwd_date);
			out_str(o, "subject", t.fwd_subject);
			out_str(o, "to", t.fwd_to);
			out_end(o);
		} else {
			out_str(o, "forwarded", NULL);
		}
		cm_trim_clear(&t);
		out_list(o, "attachments");
		rc = cm_store_attachment_list(c->st, m->id, put_attachment, o,
					      &err);
		if (rc < 0)
			return cli_store_fail(c, rc, "cannot list attachments",
					      err);
		out_end(o);
		out_end(o);
	}
	out_end(o);
	return 0;
}

/* cmd_thread - the messages of a case, oldest first */
int
cmd_thread(struct cli *c, struct args *a)
{
	struct cli_msgs l = { NULL, 0, 0 };
	struct cm_case cs = { 0 };
	struct out *o = NULL;
	const char *err = NULL;
	int rc, ret;

	if ((ret = cli_case(c, a->pos[0], &cs)) != 0)
		goto out;
	rc = cm_store_thread(c->st, cs.id, cli_msgs_collect, &l, &err);
	if (rc < 0) {
		ret = cli_store_fail(c, rc, "cannot read the thread", err);
		goto out;
	}
	if (arg_flag(a, "json")) {
		o = out_new(true);
		ret = thread_json(c, &cs, &l, o);
		if (ret == 0)
			ret = out_flush(&o);
	} else {
		ret = thread_text(c, &cs, &l);
	}
out:
	out_free(&o);
	cli_msgs_free(&l);
	cm_case_clear(&cs);
	return ret;
}
