/*
 * cm_rhythm.h - the update rhythm agreed with a victim (weekly,
 * fortnightly, monthly, or only when a milestone falls) and the
 * reminder to the officer in charge when no update went out in time
 *
 * SYNOPSIS
 *	if (!cm_rhythm_valid(s)) refuse();
 *	cm_rhythm_check(&w, wd, now, &reminders, &err);
 *
 * DESCRIPTION
 *	A period is 7, 14 or 30 days. For a victim on an open case with a
 *	rhythm, the clock starts at the last update sent to them (an
 *	officer's posted, victim-visible message to them or to all whose
 *	notice to them was sent), or when they were added if none was.
 *	Once a whole period has passed since then with nothing sent, the
 *	officer in charge gets one reminder for that period: an internal
 *	event on the case, "Update rhythm: ...", and a milestone_warning
 *	notice pointing at it, as for a milestone due soon. Another
 *	period without an update, another reminder.
 *
 * DIAGNOSTICS
 *	0, or the store's CM_ERR/CM_ETEMP with *error_r.
 */
#ifndef CM_RHYTHM_H
#define CM_RHYTHM_H

#include <stdbool.h>
#include <stdint.h>

#include "cm_work.h"
#include "cm_workday.h"

/* cm_rhythm_valid - is s one of weekly, fortnightly, monthly,
 * milestones */
bool cm_rhythm_valid(const char *s);
/* cm_rhythm_period - seconds in a period of rhythm s; 0 for
 * "milestones" or anything else */
int64_t cm_rhythm_period(const char *s);

/* cm_rhythm_check - remind as above, as of now; *reminders_r (may be
 * NULL) gets how many. Runs in the caller's transaction. */
int cm_rhythm_check(struct cm_work *w, const struct cm_workday *wd,
		    int64_t now, long *reminders_r, const char **error_r);

#endif
