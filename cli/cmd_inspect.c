/*
 * cmd_inspect.c - casemail inspect
 *
 * SYNOPSIS
 *	casemail inspect FILE|- [--json]
 *
 * DESCRIPTION
 *	Reads one message (a file, or standard input for "-") and prints
 *	what casemail makes of it, through the same cm_inspect_parse that
 *	casemail-mda uses, without storing anything: the kind (reply,
 *	bounce, delay, auto_reply, feedback_report, other), the headers,
 *	the trimmed body, the full body, what trimming removed (quoted,
 *	signature), attachments, the failed recipients of a bounce and
 *	the defects found. --json prints one JSON object:
 *	{"kind", "kind_reason", "from", "to", "subject", "message_id",
 *	"in_reply_to", "references": [], "body", "body_full", "quoted",
 *	"signature", "attachments": [{"filename", "content_type", "size"}],
 *	"bounce": {"format", "original_message_id", "recipients":
 *	[{"address", "status", "action", "diagnostic", "permanent"}]},
 *	"defects": []}.
 *
 * DIAGNOSTICS
 *	Exit 0 when the message was read; 1 when it cannot be read or
 *	passes a limit ("casemail: inspect: mime depth exceeds 100").
 *
 * SECURITY
 *	The message is hostile: text output goes through out_clean, JSON
 *	through jansson (valid UTF-8 only, no raw control bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_inspect.h"
#include "cm_inspect.h"

/* jstr - a JSON string, or null for NULL */
static json_t *
jstr(const char *s)
{
	json_t *v;

	if (s == NULL)
		return json_null();
	v = json_string(s);
	if (v == NULL) {
		char *c = out_clean(s, false);

		v = json_string(c);
		free(c);
	}
	return v != NULL ? v : json_null();
}

/* to_json - the inspection as a JSON object (caller decrefs) */
static json_t *
to_json(const struct cm_inspect *in)
{
	const struct cm_msg *m = in->msg;
	json_t *o = json_object(), *l, *b, *r;
	size_t i;

	json_object_set_new(o, "kind", jstr(cm_kind_name(in->kind)));
	json_object_set_new(o, "kind_reason", jstr(in->kind_why));
	json_object_set_new(o, "from", jstr(m->from));
	json_object_set_new(o, "from_name", jstr(m->from_name));
	json_object_set_new(o, "to", jstr(m->to));
	json_object_set_new(o, "subject", jstr(m->subject));
	json_object_set_new(o, "date", jstr(m->date));
	json_object_set_new(o, "message_id", jstr(m->message_id));
	json_object_set_new(o, "in_reply_to", jstr(m->in_reply_to));
	l = json_array();
	for (i = 0; i < m->n_references; i++)
		json_array_append_new(l, jstr(m->references[i]));
	json_object_set_new(o, "references", l);
	json_object_set_new(o, "content_type", jstr(m->content_type));
	json_object_set_new(o, "body_from_html",
			    json_boolean(m->body_from_html));
	json_object_set_new(o, "body", jstr(in->trim.body));
	json_object_set_new(o, "body_full", jstr(m->body));
	json_object_set_new(o, "quoted", jstr(in->trim.quoted));
	json_object_set_new(o, "signature", jstr(in->trim.signature));
	if (in->trim.forwarded) {
		/* a message the writer passes on: kept whole in body,
		 * and read apart here */
		r = json_object();
		json_object_set_new(r, "from", jstr(in->trim.fwd_from));
		json_object_set_new(r, "date", jstr(in->trim.fwd_date));
		json_object_set_new(r, "subject", jstr(in->trim.fwd_subject));
		json_object_set_new(r, "to", jstr(in->trim.fwd_to));
		json_object_set_new(r, "note", jstr(in->trim.fwd_note));
		json_object_set_new(r, "body", jstr(in->trim.fwd_body));
		json_object_set_new(o, "forwarded", r);
	} else {
		json_object_set_new(o, "forwarded", json_null());
	}
	l = json_array();
	for (i = 0; i < m->n_attachments; i++) {
		r = json_object();
		json_object_set_new(r, "filename",
				    jstr(m->attachments[i].filename));
		json_object_set_new(r, "content_type",
				    jstr(m->attachments[i].content_type));
		json_object_set_new(r, "size",
				    json_integer((json_int_t)
						 m->attachments[i].size));
		json_object_set_new(r, "sha256",
				    jstr(m->attachments[i].sha256));
		json_array_append_new(l, r);
	}
	json_object_set_new(o, "attachments", l);
	b = json_object();
	json_object_set_new(b, "format", jstr(in->bounce.format));
	json_object_set_new(b, "original_message_id",
			    jstr(in->bounce.orig_message_id));
	l = json_array();
	for (i = 0; i < in->bounce.n_rcpts; i++) {
		const struct cm_bounce_rcpt *p = &in->bounce.rcpts[i];

		r = json_object();
		json_object_set_new(r, "address", jstr(p->address));
		json_object_set_new(r, "status", jstr(p->status));
		json_object_set_new(r, "action", jstr(p->action));
		json_object_set_new(r, "diagnostic", jstr(p->diagnostic));
		json_object_set_new(r, "permanent",
				    json_boolean(p->permanent));
		json_array_append_new(l, r);
	}
	json_object_set_new(b, "recipients", l);
	json_object_set_new(o, "bounce", b);
	l = json_array();
	for (i = 0; i < m->n_defects; i++)
		json_array_append_new(l, jstr(m->defects[i]));
	json_object_set_new(o, "defects", l);
	return o;
}

/* line - print "key: value" with the value sanitised, if not NULL */
static void
line(const char *key, const char *v)
{
	char *c;

	if (v == NULL)
		return;
	c = out_clean(v, true);
	printf("%s: %s\n", key, c);
	free(c);
}

/* block - print a titled block of text, if not NULL */
static void
block(const char *title, const char *v)
{
	if (v == NULL)
		return;
	printf("\n--- %s ---\n", title);
	out_text(v);
	printf("\n");
}

/* to_text - the inspection for people */
static void
to_text(const struct cm_inspect *in)
{
	const struct cm_msg *m = in->msg;
	size_t i;

	line("kind", cm_kind_name(in->kind));
	line("reason", in->kind_why);
	line("from", m->from);
	line("to", m->to);
	line("subject", m->subject);
	line("message-id", m->message_id);
	line("in-reply-to", m->in_reply_to);
	for (i = 0; i < m->n_attachments; i++)
		printf("attachment: %s (%s, %zu bytes)\n",
		       m->attachments[i].filename,
		       m->attachments[i].content_type,
		       m->attachments[i].size);
	for (i = 0; i < in->bounce.n_rcpts; i++) {
		const struct cm_bounce_rcpt *p = &in->bounce.rcpts[i];

		printf("failed: ");
		line(p->address, p->permanent ? "permanent" : "temporary");
		line("  status", p->status);
		line("  diagnostic", p->diagnostic);
	}
	for (i = 0; i < m->n_defects; i++)
		line("defect", m->defects[i]);
	if (in->trim.forwarded) {
		line("forwarded from", in->trim.fwd_from);
		line("forwarded date", in->trim.fwd_date);
		line("forwarded subject", in->trim.fwd_subject);
	}
	block("body", in->trim.body);
	block("signature", in->trim.signature);
	block("quoted", in->trim.quoted);
}

/* cmd_inspect - casemail inspect FILE|- [--json] */
int
cmd_inspect(struct cli *c, struct args *a)
{
	struct cm_inspect *in = NULL;
	const char *path = a->pos[0], *err = NULL;
	char *data = NULL, *s;
	size_t len = 0;
	json_t *o;
	int rc, ret = CLI_EXIT_ERR;

	(void)c;
	if (strcmp(path, "-") == 0)
		rc = cm_read_fd(0, (size_t)CM_MAX_MESSAGE_SIZE, &data, &len);
	else
		rc = cm_read_file(path, (size_t)CM_MAX_MESSAGE_SIZE, &data,
				  &len);
	if (rc == CM_ERR) {
		ret = cli_fail(CLI_EXIT_ERR, "inspect: message larger than "
			       "%ld bytes", (long)CM_MAX_MESSAGE_SIZE);
		goto out;
	}
	if (rc < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "inspect: cannot read %s",
			       cli_san(path));
		goto out;
	}
	if (cm_inspect_parse(data, len, c->cfg != NULL ? &c->cfg->limits :
			     NULL, NULL, &in, &err) < 0) {
		ret = cli_fail(CLI_EXIT_ERR, "inspect: %s", err);
		goto out;
	}
	if (arg_flag(a, "json")) {
		o = to_json(in);
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else {
		to_text(in);
	}
	ret = out_close_stdout() == 0 ? CLI_EXIT_OK : CLI_EXIT_ERR;
out:
	cm_inspect_free(&in);
	free(data);
	return ret;
}
