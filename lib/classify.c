/*
 * classify.c - what kind of message this is
 *
 * SYNOPSIS
 *	enum cm_kind k = cm_classify(msg, &bounce, env_sender, &why);
 *
 * DESCRIPTION
 *	In order:
 *	1. feedback_report: report-type feedback-report or a
 *	   message/feedback-report part (RFC 5965, ARF).
 *	2. bounce / delay: what cm_bounce_parse read (a report with failed
 *	   or only delayed recipients, X-Failed-Recipients, or a failure
 *	   notice from a mail system).
 *	3. other: a read receipt (RFC 8098 MDN).
 *	4. auto_reply: Auto-Submitted other than "no" (RFC 3834),
 *	   X-Autoreply, X-Autorespond and the other vendor headers (set by
 *	   mime), or a subject that starts as out-of-office and
 *	   automatic replies do in English, German, French, Spanish,
 *	   Italian, Portuguese, Dutch, the Scandinavian languages, Finnish,
 *	   Polish, Czech and others, or Precedence bulk/junk or
 *	   X-Auto-Response-Suppress or a null sender together with
 *	   out-of-office text in the first lines of the body.
 *	5. other: Precedence bulk/junk/list, List-Id, or a null sender.
 *	6. reply: everything else, that is, a person wrote it.
 *
 * SECURITY
 *	Only fixed-string searches over bounded prefixes; linear.
 */
#include <string.h>
#include <strings.h>

#include "cm_classify.h"
#include "cm_util.h"

#define BODY_LOOK 2048 /* bytes of the body searched for absence text */

/* Subject starts of automatic replies (lower case, UTF-8). */
static const char *const auto_subjects[] = {
	"automatic reply", "auto reply", "autoreply", "auto-reply",
	"auto response", "autoresponse", "auto-response", "auto:",
	"automated reply", "automated response", "out of office",
	"out of the office", "out-of-office", "ooo:", "away from",
	"on vacation", "vacation reply", "abwesenheit",
	"automatische antwort", "automatische antwort",
	"r\xc3\xa9ponse automatique", "reponse automatique",
	"absence du bureau", "absent du bureau",
	"respuesta autom\xc3\xa1tica", "respuesta automatica",
	"fuera de la oficina", "risposta automatica", "fuori ufficio",
	"fuori sede", "resposta autom\xc3\xa1tica", "resposta automatica",
	"ausente do escrit\xc3\xb3rio", "automatisch antwoord",
	"afwezig", "niet aanwezig", "autosvar", "automatisk svar",
	"fr\xc3\xa5nvarande", "frav\xc3\xa6r", "frav\xc3\xa6rende",
	"automaattinen vastaus", "poissa toimistolta",
	"odpowied\xc5\xba automatyczna", "automatyczna odpowied\xc5\xba",
	"nieobecno\xc5\x9b\xc4\x87", "automatick\xc3\xa1 odpov\xc4\x9b\xc4\x8f",
	"nep\xc5\x99\xc3\xadtomnost", "automatikus v\xc3\xa1lasz",
	"\xd0\xb0\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbe\xd1\x82\xd0\xb2\xd0\xb5"
	"\xd1\x82", /* автоответ */
	"otomatik yan\xc4\xb1t", "i am out of", "i'm out of",
	"currently out of", "out of office reply",
	"\xe8\x87\xaa\xe5\x8a\xa8\xe5\x9b\x9e\xe5\xa4\x8d", /* 自动回复 */
};

/* Body sentences of an absence notice (lower case). */
static const char *const auto_bodies[] = {
	"out of the office", "out of office", "on vacation",
	"on holiday", "on annual leave", "on leave until", "away until",
	"away from the office", "away from my desk", "limited access to",
	"will be back", "i will return", "i'll be back", "return on",
	"returning on", "back in the office", "nicht im b\xc3\xbcro",
	"abwesend", "absent", "en vacances", "de vacaciones",
	"fuera de la oficina", "in ferie", "fuori ufficio",
	"nieobecn", "auto-reply", "automatic reply", "autoreply",
	"this is an automated", "this is an automatic",
	"automatically generated", "thank you for your email",
	"thank you for your message", "thanks for your email",
	"i am currently", "i'm currently",
};

/* lower_copy - lower-case ASCII copy of s[0..max) into buf[cap] */
static size_t
lower_copy(const char *s, size_t max, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i < max && i + 1 < cap;
	     i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32)
						      : s[i];
	buf[i] = '\0';
	return i;
}

/* auto_subject - true if the subject starts as an automatic reply */
static bool
auto_subject(const char *subject)
{
	char buf[512];
	const char *p;
	size_t i, n;

	n = lower_copy(subject, sizeof(buf) - 1, buf, sizeof(buf));
	p = buf;
	while (*p == ' ' || *p == '[' || *p == '*')
		p++;
	for (i = 0; i < CM_ARRAY_SIZE(auto_subjects); i++)
		if (strncmp(p, auto_subjects[i],
			    strlen(auto_subjects[i])) == 0)
			return true;
	(void)n;
	return false;
}

/* auto_body - true if the start of body reads as an absence notice */
static bool
auto_body(const char *body)
{
	char buf[BODY_LOOK + 1];
	size_t i, n;

	n = lower_copy(body, BODY_LOOK, buf, sizeof(buf));
	for (i = 0; i < CM_ARRAY_SIZE(auto_bodies); i++)
		if (memmem(buf, n, auto_bodies[i], strlen(auto_bodies[i])) !=
		    NULL)
			return true;
	return false;
}

/* null_sender - true for the null envelope or Return-Path "<>" */
static bool
null_sender(const struct cm_msg *m, const char *env_sender)
{
	if (env_sender != NULL &&
	    (*env_sender == '\0' || strcmp(env_sender, "<>") == 0))
		return true;
	return m->return_path != NULL && *m->return_path == '\0';
}

/* precedence_bulk - Precedence: bulk, junk or list */
static bool
precedence_bulk(const struct cm_msg *m)
{
	return m->precedence != NULL &&
	       (cm_str_has_prefix_ci(m->precedence, "bulk") ||
		cm_str_has_prefix_ci(m->precedence, "junk") ||
		cm_str_has_prefix_ci(m->precedence, "list"));
}

/* cm_classify_auto_reply - the signals of an automatic reply */
bool
cm_classify_auto_reply(const struct cm_msg *m, const char **why_r)
{
	const char *why = NULL;
	bool weak;

	if (m->auto_submitted != NULL &&
	    !cm_str_has_prefix_ci(m->auto_submitted, "no"))
		why = "auto-submitted";
	else if (m->x_autoreply)
		why = "x-autoreply";
	else if (m->subject != NULL && auto_subject(m->subject))
		why = "subject";
	else {
		weak = precedence_bulk(m) ||
		       m->x_auto_response_suppress != NULL ||
		       (m->return_path != NULL && *m->return_path == '\0');
		if (weak && auto_body(m->body))
			why = "absence text";
	}
	if (why_r != NULL)
		*why_r = why;
	return why != NULL;
}

/* cm_classify - the kind of m */
enum cm_kind
cm_classify(const struct cm_msg *m, const struct cm_bounce *b,
	    const char *env_sender, const char **why_r)
{
	enum cm_kind k = CM_KIND_REPLY;
	const char *why = "written by a person", *aw = NULL;

	if ((m->report_type != NULL &&
	     strcmp(m->report_type, "feedback-report") == 0) ||
	    m->report_feedback != NULL) {
		k = CM_KIND_FEEDBACK;
		why = "feedback report";
	} else if (b != NULL && b->is_bounce) {
		k = CM_KIND_BOUNCE;
		why = b->is_dsn ? "delivery status report" : "failure notice";
	} else if (b != NULL && b->is_delay) {
		k = CM_KIND_DELAY;
		why = "delivery delayed";
	} else if (m->has_mdn || (m->report_type != NULL &&
				  strcmp(m->report_type,
					 "disposition-notification") == 0)) {
		k = CM_KIND_OTHER;
		why = "read receipt";
	} else if (m->report_type != NULL &&
		   strcmp(m->report_type, "delivery-status") == 0) {
		k = CM_KIND_OTHER;
		why = "delivery report without failures";
	} else if (cm_classify_auto_reply(m, &aw)) {
		k = CM_KIND_AUTO_REPLY;
		why = aw;
	} else if (precedence_bulk(m)) {
		k = CM_KIND_OTHER;
		why = "precedence";
	} else if (m->list_id != NULL) {
		k = CM_KIND_OTHER;
		why = "mailing list";
	} else if (null_sender(m, env_sender)) {
		k = CM_KIND_OTHER;
		why = "null sender";
	}
	if (why_r != NULL)
		*why_r = why;
	return k;
}

/* cm_kind_name - the name of a kind */
const char *
cm_kind_name(enum cm_kind k)
{
	switch (k) {
	case CM_KIND_REPLY:
		return "reply";
	case CM_KIND_BOUNCE:
		return "bounce";
	case CM_KIND_DELAY:
		return "delay";
	case CM_KIND_AUTO_REPLY:
		return "auto_reply";
	case CM_KIND_FEEDBACK:
		return "feedback_report";
	default:
		return "other";
	}
}
