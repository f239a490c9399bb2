/*
 * cm_config.h - casemail.conf: one table of known keys, read once
 *
 * SYNOPSIS
 *	struct cm_config *cfg = cm_config_load(path, &error);
 *
 * DESCRIPTION
 *	"key = value" lines, '#' comments, blank lines. Every key is in one
 *	table in config.c with its type, default and bounds (R20). Paths
 *	that are relative are taken relative to the directory of the config
 *	file. After the table, a check function validates values that
 *	depend on each other. The result is read-only.
 *
 * DIAGNOSTICS
 *	An unknown key, a repeated key, a bad value or a missing file gives
 *	NULL and an error that names the file and line ("FILE:LINE: ...").
 */
#ifndef CM_CONFIG_H
#define CM_CONFIG_H

#include <stdbool.h>

#include "cm_limits.h"

#ifndef CM_CONFIG_PATH
#define CM_CONFIG_PATH "/etc/casemail/casemail.conf"
#endif

struct cm_config {
	char *path; /* the file read */

	/* store and files */
	char *database;    /* SQLite file */
	char *spool_dir;   /* working files (temporary copies) */
	char *secret_file; /* server key, mode 0600 */
	char *outbox_dir;  /* maildir for outgoing mail when no smtp_url */
	long busy_timeout; /* ms to wait for a locked database */

	/* addresses and identity */
	char *mail_domain;  /* domain of reply+/case+/note+/bounce+ */
	char *force_name;   /* "Humberside Police" */
	char *from_address; /* From of notices; default casemail@mail_domain */
	char *portal_url;   /* public base URL of the portal, no trailing / */
	char *ref_pattern;  /* POSIX ERE a case reference must match */

	/* outgoing */
	char *smtp_url;       /* empty: write into outbox_dir */
	long token_ttl;       /* seconds a login link stays valid */
	bool notice_include_text; /* case content in victim mail (default no) */
	long bounce_limit;    /* hard bounces before undeliverable */
	bool smtp_starttls;   /* smtp://: refuse to send without STARTTLS */
	char *smtp_user;      /* AUTH user; empty: no AUTH */
	char *smtp_password_file; /* AUTH password, mode 0600; or NULL */
	char *smtp_ca_file;   /* CA bundle for TLS checks; NULL: system */
	long smtp_timeout;    /* seconds for one SMTP transaction */
	long smtp_connections; /* SMTP sessions one sender keeps at once */
	char *sms_url;        /* base URL of a Notify-compatible gateway */
	char *sms_service_id; /* JWT iss; empty: from the key file */
	char *sms_key_file;   /* service (API) key, mode 0600; or NULL */
	char *sms_template_id; /* the gateway's template for notices */
	long sms_timeout;     /* seconds for one SMS request */
	char *template_dir;   /* subject/text/html templates */
	char *discreet_name;  /* From name for discreet victims */
	long retry_base_delay; /* seconds before the first retry */
	long retry_max_attempts; /* attempts before a notice fails */
	long retry_max_age;   /* seconds after which a notice fails */
	long lease_seconds;   /* a claimed notice is ours this long */
	long send_batch;      /* notices claimed and recorded per commit */
	long poll_interval;   /* --watch: seconds between queue scans */

	/* the portal (casemail-web) */
	char *portal_listen;  /* ADDRESS:PORT to listen on */
	char *portal_cookie_secure; /* "auto", "yes", "no" */
	bool portal_secure;   /* computed: cookies carry Secure */
	long portal_session_idle; /* seconds of inactivity ending a session */
	long portal_session_max;  /* seconds a session lasts at most */
	long portal_rate_ip;  /* requests per minute per client address */
	long portal_rate_token; /* sign-in attempts per link per hour */
	long portal_rate_fresh; /* fresh links per victim per day */
	long portal_max_body; /* bytes of a request body */
	long portal_max_message; /* bytes of a message a victim writes */
	long portal_connections; /* connections at once */
	bool portal_show_officer; /* the case page names the officer */
	bool portal_trust_proxy; /* client address from X-Forwarded-For
				    when the peer is loopback */
	bool portal_metrics;  /* GET /metrics (OpenMetrics) for loopback
				 clients not behind the proxy */

	/* incoming */
	char *trusted_authserv_ids; /* space/comma separated list */
	char *imap_password_file; /* --imap password, mode 0600 */
	char *imap_ca_file;   /* extra CAs for the IMAP server; or NULL */
	char *imap_done_folder; /* where stored messages are moved */
	char *imap_quarantine_folder; /* where quarantined ones go */
	bool imap_starttls;   /* imap://: STARTTLS (required) */
	bool imap_allow_plain; /* imap:// without TLS, loopback only */
	bool mda_allow_root;  /* test rigs only: let the mda run as root */
	char *run_user;       /* the account the programs run as: root's
				 init gives it what it makes, root's checks
				 and commands run as it */
	long child_timeout;   /* seconds the parsing child may take */
	long child_memory;    /* bytes of address space for the child */
	struct cm_limits limits;
	char *obsolete; /* retired keys set in the file, as a warning's
			   text ("key (line N): why; ..."), or NULL */

	/* milestones of the Victims' Code */
	char *force_timezone;      /* IANA zone of the force's working days */
	char *bank_holidays_extra; /* extra days off, YYYY-MM-DD list */
	char *milestone_kinds;     /* kind[:days[:enhanced]] list */
	long milestone_days;       /* working days to tell a victim */
	long milestone_days_enhanced; /* the same, enhanced rights */
	long milestone_warning_hours; /* warn the officer this long before */
	char *milestone_supervisor; /* daily digest of overdue; "": none */
};

/* the milestone kinds of the Victims' Code (Right 6) */
#define CM_MILESTONE_KINDS                                              \
	"arrested interviewed released_nfa bailed released_ui bail_changed" \
	" charged ocd not_investigated"

/*
 * cm_config_load - read and validate path. Returns the config (caller
 * frees with cm_config_free), or NULL with *error_r set (borrowed until
 * the next cm_config_* call).
 */
struct cm_config *cm_config_load(const char *path, const char **error_r);

/* cm_config_free - release cfg and set *cfg to NULL; NULL is fine */
void cm_config_free(struct cm_config **cfg);

/* What a warning of cm_config_warnings is about, for a program to pick
 * the ones that concern it. */
enum cm_config_warning {
	CM_CW_PORTAL_HTTP,  /* portal_url is not https */
	CM_CW_NO_AUTHSERV,  /* trusted_authserv_ids is empty */
	CM_CW_OBSOLETE,     /* a retired key was set; it is ignored */
	CM_CW_PROXY,        /* portal on loopback, proxy not trusted */
};

/*
 * cm_config_warnings - call fn(kind, text, ctx) for every setting that
 * loads but is doubtful (text is one line naming the key and what
 * follows from it, borrowed for the duration of the call). The config
 * is valid either way: casemail config check prints these, and each
 * program logs the ones that concern it when it starts.
 */
void cm_config_warnings(const struct cm_config *cfg,
			void (*fn)(enum cm_config_warning kind,
				   const char *text, void *ctx),
			void *ctx);

/*
 * cm_config_dump - call fn(key, value, ctx) for every key with its value
 * in force, in table order (for "casemail config show"). Both strings
 * are borrowed for the duration of the call only. Sizes are shown with
 * the largest exact k/M/G suffix, bools as yes/no, and the password of
 * a smtp_url as "***" (casemail config show prints "****").
 */
void cm_config_dump(const struct cm_config *cfg,
		    void (*fn)(const char *key, const char *value, void *ctx),
		    void *ctx);

#endif
