/*
 * test_classify.c - unit tests for lib/classify.c
 *
 * DESCRIPTION
 *	A table of header facts (struct cm_msg as mime fills it) and bounce
 *	readings with the kind that must come out: RFC 3834, vendor
 *	headers, out-of-office subjects in several languages, absence text
 *	with a weak signal, ARF, read receipts, list mail, and the replies
 *	of people that must stay replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cm_classify.h"
#include "cm_util.h"

/* One message and its kind. */
struct ccase {
	const char *subject, *auto_submitted, *precedence, *report_type;
	const char *body, *env_sender;
	bool x_autoreply, bounce, delay;
	enum cm_kind kind;
};

static const struct ccase cases[] = {
	/* 0: a person */
	{"Re: your case", NULL, NULL, NULL, "Thanks", NULL, false, false,
	 false, CM_KIND_REPLY},
	/* 1: RFC 3834 */
	{"Re: your case", "auto-replied", NULL, NULL, "away", NULL, false,
	 false, false, CM_KIND_AUTO_REPLY},
	/* 2: Auto-Submitted: no is a person */
	{"Re: x", "no", NULL, NULL, "hi", NULL, false, false, false,
	 CM_KIND_REPLY},
	/* 3: vendor header */
	{"Re: x", NULL, NULL, NULL, "hi", NULL, true, false, false,
	 CM_KIND_AUTO_REPLY},
	/* 4: Exchange subject */
	{"Automatic reply: your case", NULL, NULL, NULL, "x", NULL, false,
	 false, false, CM_KIND_AUTO_REPLY},
	/* 5: German, French, Spanish, Dutch subjects */
	{"Abwesenheitsnotiz: Ihr Fall", NULL, NULL, NULL, "x", NULL, false,
	 false, false, CM_KIND_AUTO_REPLY},
	{"R\xc3\xa9ponse automatique : dossier", NULL, NULL, NULL, "x", NULL,
	 false, false, false, CM_KIND_AUTO_REPLY},
	{"Respuesta autom\xc3\xa1tica: caso", NULL, NULL, NULL, "x", NULL,
	 false, false, false, CM_KIND_AUTO_REPLY},
	{"Automatisch antwoord: zaak", NULL, NULL, NULL, "x", NULL, false,
	 false, false, CM_KIND_AUTO_REPLY},
	/* 9: bulk with absence text */
	{"Re: case", NULL, "bulk", NULL, "I am out of the office until May",
	 NULL, false, false, false, CM_KIND_AUTO_REPLY},
	/* 10: bulk without: other */
	{"News", NULL, "bulk", NULL, "Our offers", NULL, false, false, false,
	 CM_KIND_OTHER},
	/* 11: a person writing about an absence stays a reply */
	{"Re: case", NULL, NULL, NULL, "I was out of the office that day",
	 NULL, false, false, false, CM_KIND_REPLY},
	/* 12: bounce and delay readings */
	{"Undeliverable", NULL, NULL, "delivery-status", "", "", false, true,
	 false, CM_KIND_BOUNCE},
	{"Delayed", NULL, NULL, "delivery-status", "", "", false, false,
	 true, CM_KIND_DELAY},
	/* 14: Exim bounces carry Auto-Submitted: still a bounce */
	{"Mail delivery failed", "auto-replied", NULL, NULL, "", "", false,
	 true, false, CM_KIND_BOUNCE},
	/* 15: ARF */
	{"Abuse report", NULL, NULL, "feedback-report", "", NULL, false,
	 false, false, CM_KIND_FEEDBACK},
	/* 16: read receipt */
	{"Read: case", NULL, NULL, "disposition-notification", "", NULL,
	 false, false, false, CM_KIND_OTHER},
	/* 17: a subject merely mentioning vacation stays a reply */
	{"Re: my vacation photos", NULL, NULL, NULL, "see", NULL, false,
	 false, false, CM_KIND_REPLY},
};

/* test_table - every row gives its kind */
static void
test_table(void **state)
{
	struct cm_msg m;
	struct cm_bounce b;
	const char *why;
	enum cm_kind k;
	size_t i;
	int ok = 1;

	(void)state;
	for (i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		memset(&m, 0, sizeof(m));
		memset(&b, 0, sizeof(b));
		m.subject = (char *)cases[i].subject;
		m.auto_submitted = (char *)cases[i].auto_submitted;
		m.precedence = (char *)cases[i].precedence;
		m.report_type = (char *)cases[i].report_type;
		m.body = (char *)cases[i].body;
		m.x_autoreply = cases[i].x_autoreply;
		b.is_bounce = cases[i].bounce;
		b.is_delay = cases[i].delay;
		why = NULL;
		k = cm_classify(&m, &b, cases[i].env_sender, &why);
		if (k != cases[i].kind || why == NULL) {
			print_error("row %zu: kind %s (%s), want %s\n", i,
				    cm_kind_name(k), why ? why : "NULL",
				    cm_kind_name(cases[i].kind));
			ok = 0;
		}
	}
	assert_true(ok);
}

/* test_names - every kind has its name */
static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(cm_kind_name(CM_KIND_REPLY), "reply");
	assert_string_equal(cm_kind_name(CM_KIND_BOUNCE), "bounce");
	assert_string_equal(cm_kind_name(CM_KIND_DELAY), "delay");
	assert_string_equal(cm_kind_name(CM_KIND_AUTO_REPLY), "auto_reply");
	assert_string_equal(cm_kind_name(CM_KIND_FEEDBACK), "feedback_report");
	assert_string_equal(cm_kind_name(CM_KIND_OTHER), "other");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
