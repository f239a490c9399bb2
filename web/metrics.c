/*
 * metrics.c - casemail-web: /metrics for a Prometheus on this host
 *
 * SYNOPSIS
 *	portal_metrics = yes       (casemail.conf)
 *	curl http://127.0.0.1:8080/metrics
 *
 * DESCRIPTION
 *	With portal_metrics on, GET /metrics answers the store's metrics in
 *	the OpenMetrics text format (cm_metrics, the same text as casemail
 *	stats --openmetrics), followed by the portal's own family,
 *	casemail_portal_requests_total{code}: the answers this process has
 *	given since it started, by HTTP status.
 *
 * DIAGNOSTICS
 *	Store trouble is logged once and answered 503.
 *
 * SECURITY
 *	Only counts leave, and only to a client whose TCP peer is a
 *	loopback address and whose request carries no X-Forwarded-For or
 *	Forwarded header, so that a request the proxy forwards from outside
 *	never reaches them; every other request for /metrics, and every
 *	one while portal_metrics is off, gets the 404 of any unknown path.
 */
#include <stdio.h>
#include <string.h>

#include "cm_log.h"
#include "cm_metrics.h"
#include "web.h"

/* metrics_count - count one answer of status */
void
metrics_count(struct web *w, int status)
{
	if (status >= 0 && status < WEB_STATUS_MAX)
		w->answered[status]++;
}

/* metrics_route - /metrics for a loopback client not behind the proxy */
bool
metrics_route(struct web *w, const struct req *q, struct resp *r)
{
	const char *err = NULL;
	char san[300];
	int rc;

	if (strcmp(q->path, "/metrics") != 0 || !w->cfg->portal_metrics ||
	    !q->peer_loopback || q->forwarded)
		return false;
	cm_buf_reset(&r->body);
	rc = cm_metrics_render(w->st, cm_now(), &r->body, &err);
	if (rc < 0) {
		cm_log_err("store: metrics: %s",
			   cm_log_sanitize(san, sizeof(san), err, 250));
		cm_buf_reset(&r->body);
		r->status = 503;
		r->ctype = "text/plain; charset=utf-8";
		(void)cm_buf_puts(&r->body, "metrics unavailable\n");
		r->retry_after = 30;
		return true;
	}
	(void)cm_buf_puts(&r->body, "# TYPE casemail_portal_requests counter\n"
			  "# HELP casemail_portal_requests Answers of this "
			  "casemail-web since it started, by HTTP status.\n");
	for (int s = 0; s < WEB_STATUS_MAX; s++)
		if (w->answered[s] > 0)
			(void)cm_buf_printf(&r->body,
					    "casemail_portal_requests_total"
					    "{code=\"%d\"} %llu\n", s,
					    (unsigned long long)w->answered[s]);
	cm_metrics_eof(&r->body);
	r->status = 200;
	r->ctype = CM_METRICS_CTYPE;
	return true;
}
