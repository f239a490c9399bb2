/*
 * cm_inspect.h - everything casemail makes of one message
 *
 * SYNOPSIS
 *	struct cm_inspect *in;
 *	if (cm_inspect_parse(data, len, &limits, env_sender, &in, &err) < 0)
 *		quarantine(err);
 *	show(cm_kind_name(in->kind), in->trim.body);
 *	cm_inspect_free(&in);
 *
 * DESCRIPTION
 *	The single code path from raw bytes to what the mda stores and what
 *	`casemail inspect` prints: cm_mime_parse, then trimming (on the
 *	HTML structure when the body came from HTML, else on the text),
 *	cm_bounce_parse and cm_classify. Nothing is stored.
 *
 * DIAGNOSTICS
 *	Fails only where cm_mime_parse fails (a limit was passed).
 */
#ifndef CM_INSPECT_H
#define CM_INSPECT_H

#include <stddef.h>

#include "cm_bounce.h"
#include "cm_classify.h"
#include "cm_limits.h"
#include "cm_mime.h"
#include "cm_trim.h"

struct cm_inspect {
	struct cm_msg *msg;     /* the parse (body is body_full) */
	enum cm_kind kind;
	const char *kind_why;   /* static */
	struct cm_trim trim;    /* body, quoted, signature */
	struct cm_bounce bounce;
};

/*
 * cm_inspect_parse - inspect data[0..len) under limits (NULL: defaults);
 * env_sender as for cm_classify. On 0, *in_r is set (caller frees with
 * cm_inspect_free); on CM_ERR *error_r is set, borrowed until the next
 * call.
 */
int cm_inspect_parse(const char *data, size_t len,
		     const struct cm_limits *limits, const char *env_sender,
		     struct cm_inspect **in_r, const char **error_r);

/* cm_inspect_free - free everything; sets *in to NULL; NULL is fine */
void cm_inspect_free(struct cm_inspect **in);

#endif
