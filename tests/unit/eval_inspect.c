/*
 * eval_inspect.c - cm_inspect_parse with held-out rules, for make eval
 *
 * SYNOPSIS
 *	eval_inspect [--holdout NAME[,NAME...]] < message
 *
 * DESCRIPTION
 *	Not a unit test (tests/run.sh runs only test_*): the driver that
 *	scripts/eval.py builds (make BUILD=DIR DIR/tests/eval_inspect) to
 *	score each corpus with the rules fitted on it switched off
 *	(cm_fit_holdout, see cm_fit.h). Reads one message from standard
 *	input and prints one JSON object: {"kind", "body", "quoted",
 *	"signature", "forward": null or {"from", "date", "subject", "to",
 *	"body"}, "bounce": {"format", "recipients": [{"address",
 *	"permanent"}]}}, the same names casemail inspect --json uses.
 *
 * DIAGNOSTICS
 *	Exit 0 when the message was read, 1 when it passes a limit, 2 on a
 *	usage error.
 *
 * SECURITY
 *	The message is hostile: JSON goes through jansson, and text that
 *	is not valid UTF-8 is cleaned first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cm_fit.h"
#include "cm_inspect.h"
#include "cm_util.h"

#define EVAL_MAX (64u * 1024 * 1024) /* bytes of one message */

/* jstr - a JSON string (UTF-8 cleaned), or null for NULL */
static json_t *
jstr(const char *s)
{
	json_t *v;
	char *c;

	if (s == NULL)
		return json_null();
	c = cm_utf8_clean(s, strlen(s));
	v = json_string(c);
	free(c);
	return v != NULL ? v : json_null();
}

/* forward_json - the forwarded message of t, or null */
static json_t *
forward_json(const struct cm_trim *t)
{
	json_t *o;

	if (!t->forwarded)
		return json_null();
	o = json_object();
	json_object_set_new(o, "from", jstr(t->fwd_from));
	json_object_set_new(o, "date", jstr(t->fwd_date));
	json_object_set_new(o, "subject", jstr(t->fwd_subject));
	json_object_set_new(o, "to", jstr(t->fwd_to));
	json_object_set_new(o, "body", jstr(t->fwd_body));
	return o;
}

/* main - inspect standard input and print the JSON object */
int
main(int argc, char **argv)
{
	struct cm_inspect *in = NULL;
	json_t *o = NULL, *b, *l, *r;
	const char *err = NULL;
	char *data = NULL, *s;
	size_t len = 0, i;
	int ret = 2;

	if (argc == 3 && strcmp(argv[1], "--holdout") == 0)
		cm_fit_holdout(cm_fit_parse(argv[2]));
	else if (argc != 1)
		goto out;
	ret = 1;
	if (cm_read_fd(STDIN_FILENO, EVAL_MAX, &data, &len) < 0)
		goto out;
	if (cm_inspect_parse(data, len, NULL, NULL, &in, &err) < 0) {
		fprintf(stderr, "eval_inspect: %s\n", err);
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "kind", jstr(cm_kind_name(in->kind)));
	json_object_set_new(o, "body", jstr(in->trim.body));
	json_object_set_new(o, "quoted", jstr(in->trim.quoted));
	json_object_set_new(o, "signature", jstr(in->trim.signature));
	json_object_set_new(o, "forward", forward_json(&in->trim));
	b = json_object();
	json_object_set_new(b, "format", jstr(in->bounce.format));
	l = json_array();
	for (i = 0; i < in->bounce.n_rcpts; i++) {
		r = json_object();
		json_object_set_new(r, "address",
				    jstr(in->bounce.rcpts[i].address));
		json_object_set_new(
			r, "permanent",
			json_boolean(in->bounce.rcpts[i].permanent));
		json_array_append_new(l, r);
	}
	json_object_set_new(b, "recipients", l);
	json_object_set_new(o, "bounce", b);
	s = json_dumps(o, JSON_COMPACT);
	if (s != NULL) {
		puts(s);
		free(s);
	}
	ret = 0;
out:
	if (ret == 2)
		fprintf(stderr, "usage: eval_inspect [--holdout NAMES]\n");
	json_decref(o);
	cm_inspect_free(&in);
	free(data);
	return ret;
}
