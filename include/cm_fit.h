/*
 * cm_fit.h - which test corpus each heuristic rule was fitted on
 *
 * SYNOPSIS
 *	if (cm_fit_on(CM_FIT_TALON) && attribution(t, i))
 *		cut = i;
 *
 *	cm_fit_holdout(cm_fit_parse("talon"));   (evaluation only)
 *
 * DESCRIPTION
 *	The rules of trim, bounce and classify that were written or
 *	adjusted while looking at one of the public test corpora carry the
 *	mask of those corpora. An evaluation scores each corpus with the
 *	rules fitted on it switched off (cm_fit_holdout), so a rule is only
 *	ever credited on mail it was not written from: leave-one-corpus-out
 *	cross-validation. Rules taken from a client's documented format or
 *	an RFC carry no mask (CM_FIT_NONE) and are always on.
 *
 *	Nothing but an evaluation program calls cm_fit_holdout: in the
 *	programs every rule is on.
 */
#ifndef CM_FIT_H
#define CM_FIT_H

#include <stdbool.h>

#define CM_FIT_NONE 0u
#define CM_FIT_GITHUB (1u << 0)     /* github and zapier reply parsers */
#define CM_FIT_WILLDURAND (1u << 1) /* willdurand EmailReplyParser */
#define CM_FIT_CRISP (1u << 2)      /* crisp-oss email-reply-parser */
#define CM_FIT_TALON (1u << 3)      /* mailgun talon */
#define CM_FIT_FLUFL (1u << 4)      /* GNU Mailman flufl.bounce */
#define CM_FIT_BOUNCEPARSER (1u << 5) /* Mail::DeliveryStatus::BounceParser */

/* cm_fit_on - true unless every corpus of fits is held out (a rule
 * fitted on several corpora is off when any of them is held out) */
bool cm_fit_on(unsigned fits);

/* cm_fit_holdout - switch off the rules fitted on the corpora of mask
 * (0: every rule on); process-wide, set once before any parsing */
void cm_fit_holdout(unsigned mask);

/*
 * cm_fit_parse - the mask of a comma-separated list of corpus names
 * ("github", "willdurand", "crisp", "talon", "flufl", "bounceparser");
 * unknown names are ignored. names may be NULL.
 */
unsigned cm_fit_parse(const char *names);

#endif
