/*
 * cm_metrics.h - the store's counts in the OpenMetrics text format
 *
 * SYNOPSIS
 *	struct cm_buf b;
 *	cm_buf_init(&b, CM_METRICS_MAX);
 *	if (cm_metrics_render(st, cm_now(), &b, &err) < 0) ...
 *	cm_metrics_eof(&b);
 *
 * DESCRIPTION
 *	One rendering for casemail stats --openmetrics (node_exporter's
 *	textfile collector reads it from a timer) and for casemail-web's
 *	/metrics: every family with its TYPE, UNIT and HELP lines, counters
 *	as NAME_total, label values escaped, in the order of the
 *	OpenMetrics 1.0 text format. A labelled family comes with every
 *	label value the schema allows (0 when the store has none), so that
 *	a series does not vanish when its count drops to nothing. The
 *	families:
 *
 *	casemail_notices{status,channel}            gauge
 *	casemail_notice_oldest_due_age_seconds      gauge
 *	casemail_deliveries_total{outcome}          counter
 *	casemail_messages{status,author}            gauge (held: waiting)
 *	casemail_quarantine{status}                 gauge
 *	casemail_bounces_total                      counter
 *	casemail_addresses_undeliverable            gauge
 *	casemail_login_links_issued_total           counter
 *	casemail_login_links_redeemed_total         counter
 *	casemail_milestones_overdue                 gauge (with milestones)
 *
 *	A caller may add families of its own between cm_metrics_render and
 *	cm_metrics_eof, which ends the exposition.
 *
 * DIAGNOSTICS
 *	Store errors are returned with *error_r; nothing is logged.
 *
 * SECURITY
 *	Only counts leave: no case reference, name, address or text.
 */
#ifndef CM_METRICS_H
#define CM_METRICS_H

#include <stdint.h>

#include "cm_store.h"
#include "cm_util.h"

#define CM_METRICS_MAX (256 * 1024) /* bytes of one exposition */
#define CM_METRICS_CTYPE \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"

/*
 * cm_metrics_render - the store's families at now, appended to out.
 * 0, or a store error code with *error_r (borrowed until the next call
 * on st); CM_ERR too when out would pass its maximum.
 */
int cm_metrics_render(struct cm_store *st, int64_t now, struct cm_buf *out,
		      const char **error_r);

/* cm_metrics_label - append s as a label value, escaped (\\ \" \n) */
void cm_metrics_label(struct cm_buf *out, const char *s);

/* cm_metrics_eof - end the exposition ("# EOF") */
void cm_metrics_eof(struct cm_buf *out);

#endif
