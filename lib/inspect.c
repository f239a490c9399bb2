/*
 * inspect.c - everything casemail makes of one message
 *
 * SYNOPSIS
 *	cm_inspect_parse(data, len, &limits, env_sender, &in, &err);
 *	cm_inspect_free(&in);
 *
 * DESCRIPTION
 *	The one path from raw bytes to facts, shared by casemail-mda and
 *	`casemail inspect`: cm_mime_parse (limits enforced before GMime),
 *	trimming (cm_trim_html_subject on the HTML structure when the body
 *	came from an HTML part, else cm_trim_text_subject; the subject
 *	tells an Outlook forward from a reply), cm_bounce_parse and
 *	cm_classify.
 *
 * DIAGNOSTICS
 *	CM_ERR with the reason from cm_mime_parse when a limit is passed.
 *
 * SECURITY
 *	Every stage is linear in its input; nothing is stored or fetched.
 */
#include <stdlib.h>
#include <string.h>

#include "cm_inspect.h"
#include "cm_util.h"

/* cm_inspect_parse - parse, trim, read bounces, classify */
int
cm_inspect_parse(const char *data, size_t len,
		 const struct cm_limits *limits, const char *env_sender,
		 struct cm_inspect **in_r, const char **error_r)
{
	struct cm_inspect *in;
	struct cm_msg *m = NULL;
	int ret = -1;

	*in_r = NULL;
	if (cm_mime_parse(data, len, limits, &m, error_r) < 0)
		goto out;
	in = cm_xcalloc(1, sizeof(*in));
	in->msg = m;
	m = NULL;
	/* the subject says whether an Outlook block is a forward */
	if (in->msg->body_from_html && in->msg->body_html != NULL)
		(void)cm_trim_html_subject(in->msg->body_html,
					   strlen(in->msg->body_html),
					   in->msg->subject, &in->trim);
	else
		(void)cm_trim_text_subject(in->msg->body, in->msg->subject,
					   &in->trim);
	(void)cm_bounce_parse(in->msg, &in->bounce);
	in->kind = cm_classify(in->msg, &in->bounce, env_sender,
			       &in->kind_why);
	*in_r = in;
	ret = 0;
out:
	cm_msg_free(&m);
	return ret;
}

/* cm_inspect_free - free everything */
void
cm_inspect_free(struct cm_inspect **inp)
{
	struct cm_inspect *in;

	if (inp == NULL || *inp == NULL)
		return;
	in = *inp;
	cm_trim_clear(&in->trim);
	cm_bounce_clear(&in->bounce);
	cm_msg_free(&in->msg);
	free(in);
	*inp = NULL;
}
