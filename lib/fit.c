/*
 * fit.c - which test corpus each heuristic rule was fitted on
 *
 * SYNOPSIS
 *	cm_fit_holdout(cm_fit_parse("flufl"));
 *	if (cm_fit_on(CM_FIT_FLUFL)) ...
 *
 * DESCRIPTION
 *	One process-wide mask of held-out corpora, zero (every rule on)
 *	unless an evaluation program sets it. See cm_fit.h.
 *
 * SECURITY
 *	No input but the evaluation program's own argument; names are
 *	compared as fixed strings.
 */
#include <string.h>

#include "cm_fit.h"
#include "cm_util.h"

static unsigned held_out;

/* Corpus names and their bits. */
static const struct {
	const char *name;
	unsigned bit;
} names[] = {
	{ "github", CM_FIT_GITHUB },
	{ "willdurand", CM_FIT_WILLDURAND },
	{ "crisp", CM_FIT_CRISP },
	{ "talon", CM_FIT_TALON },
	{ "flufl", CM_FIT_FLUFL },
	{ "bounceparser", CM_FIT_BOUNCEPARSER },
};

/* cm_fit_on - true unless a corpus of fits is held out */
bool
cm_fit_on(unsigned fits)
{
	return (fits & held_out) == 0;
}

/* cm_fit_holdout - switch off the rules fitted on mask */
void
cm_fit_holdout(unsigned mask)
{
	held_out = mask;
}

/* cm_fit_parse - the mask of a comma-separated list of names */
unsigned
cm_fit_parse(const char *list)
{
	const char *p = list, *e;
	unsigned mask = 0;
	size_t i, n;

	while (p != NULL && *p != '\0') {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < CM_ARRAY_SIZE(names); i++)
			if (n == strlen(names[i].name) &&
			    memcmp(p, names[i].name, n) == 0)
				mask |= names[i].bit;
		p = e != NULL ? e + 1 : NULL;
	}
	return mask;
}
