/*
 * config.c - casemail.conf: one table of known keys, read once
 *
 * SYNOPSIS
 *	struct cm_config *cfg = cm_config_load(path, &error);
 *	cm_config_dump(cfg, print_pair, NULL);
 *	cm_config_free(&cfg);
 *
 * DESCRIPTION
 *	Every key lives in one static table (R20): its name, type, default
 *	(written as it would be in the file), where it goes in struct
 *	cm_config, and its bounds. Loading applies every default through
 *	the same code that parses the file, then reads the file, then runs
 *	check_config() for the values that depend on each other (mail_domain
 *	required, from_address computed). Retired keys (the obsolete table)
 *	are still accepted, so that an existing file keeps loading, and
 *	ignored; cm_config_warnings names them.
 *
 *	Syntax: "key = value" lines. White space (blanks and tabs) around
 *	'=' and at both ends of a line is ignored. '#' starts a comment only
 *	as the first non-blank character of a line, so values may hold '#'.
 *	A value wholly inside double quotes loses the quotes (and keeps the
 *	blanks inside them). Blank lines are ignored. Keys are case
 *	sensitive.
 *
 *	Types: string; path (a relative value is taken relative to the
 *	directory of the config file, made absolute; "~" is not special;
 *	empty only for a path without a default, where it means none);
 *	long (decimal digits only, within bounds); size (decimal bytes with
 *	an optional k, M or G suffix, either case, powers of 1024, within
 *	bounds); bool (yes/no, true/false, on/off, 1/0, either case). Rows
 *	flagged F_ZERO_DEFAULT take 0 as "the default" (the limits of
 *	cm_limits.h): never as "unlimited" (R16).
 *
 * DIAGNOSTICS
 *	Every error names the file, and the line where there is one:
 *	  FILE: cannot open: No such file or directory
 *	  FILE: file larger than 1048576 bytes
 *	  FILE:LINE: line longer than 4096 bytes
 *	  FILE:LINE: missing '='
 *	  FILE:LINE: unknown key 'foo'
 *	  FILE:LINE: duplicate key 'database'
 *	  FILE:LINE: bad value for busy_timeout: 'abc' (expected a number
 *	  0..600000)
 *	  FILE: missing required key 'mail_domain'
 *	The message lives in a static buffer, valid until the next
 *	cm_config_* call. Values quoted in messages are cut to 64 bytes and
 *	their control bytes shown as '?'.
 *
 * SECURITY
 *	The file is bounded (1 MiB, 4096-byte lines) and must be a regular
 *	file. Values with control bytes (CR, LF, NUL, tab, DEL...) or
 *	invalid UTF-8 are refused, so nothing from here can split a header
 *	or a log line. cm_config_dump hides the password of a smtp_url
 *	("smtps://user:***@host").
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm_config.h"
#include "cm_log.h"
#include "cm_util.h"

#ifndef CM_DATADIR
#define CM_DATADIR "/usr/local/share/casemail"
#endif

#define MAX_FILE (1024L * 1024) /* bytes in the whole file */
#define MAX_LINE 4096           /* bytes in one line, newline excluded */
#define SHOW_MAX 64             /* bytes of a value quoted in an error */

#define KIB 1024L
#define MIB (1024L * 1024)
#define GIB (1024L * 1024 * 1024)

enum ctype { CT_STRING, CT_PATH, CT_LONG, CT_SIZE, CT_BOOL };

#define F_ZERO_DEFAULT 0x01 /* a configured 0 means dnum */
#define F_HIDE_PASS 0x02    /* URL: hide the password in dumps */

/*
 * struct row - one key. check (strings only) may rewrite *value and
 * returns NULL when it is fine, else what was expected.
 */
struct row {
	const char *name;
	enum ctype type;
	const char *def; /* as written in the file; NULL: none */
	size_t offset;   /* into struct cm_config */
	long min;        /* bounds of long and size */
	long max;
	long dnum;       /* F_ZERO_DEFAULT: the value 0 stands for */
	int flags;
	const char *(*check)(char **value);
};

static const char *check_nonempty(char **value);
static const char *check_domain(char **value);
static const char *check_from(char **value);
static const char *check_portal(char **value);
static const char *check_ref_pattern(char **value);
static const char *check_smtp(char **value);
static const char *check_listen(char **value);
static const char *check_auto(char **value);
static const char *check_milestone_kinds(char **value);

#define OFF(field) offsetof(struct cm_config, field)

/* rows - every key, in the order of cm_config_dump and the docs */
static const struct row rows[] = {
	/* store and files */
	{ "database", CT_PATH, "/var/lib/casemail/casemail.db",
	  OFF(database), 0, 0, 0, 0, NULL },
	{ "spool_dir", CT_PATH, "/var/spool/casemail", OFF(spool_dir), 0, 0,
	  0, 0, NULL },
	{ "secret_file", CT_PATH, "/etc/casemail/secret", OFF(secret_file),
	  0, 0, 0, 0, NULL },
	{ "outbox_dir", CT_PATH, "/var/lib/casemail/outbox",
	  OFF(outbox_dir), 0, 0, 0, 0, NULL },
	{ "busy_timeout", CT_LONG, "5000", OFF(busy_timeout), 0, 600000, 0,
	  0, NULL },

	/* addresses and identity */
	{ "mail_domain", CT_STRING, NULL, OFF(mail_domain), 0, 0, 0, 0,
	  check_domain },
	{ "force_name", CT_STRING, "Police", OFF(force_name), 0, 0, 0, 0,
	  check_nonempty },
	{ "from_address", CT_STRING, NULL, OFF(from_address), 0, 0, 0, 0,
	  check_from },
	{ "portal_url", CT_STRING, "https://localhost:8080", OFF(portal_url),
	  0, 0, 0, 0, check_portal },
	{ "ref_pattern", CT_STRING, "^[A-Za-z0-9/-]{1,64}$",
	  OFF(ref_pattern), 0, 0, 0, 0, check_ref_pattern },

	/* outgoing */
	{ "smtp_url", CT_STRING, "", OFF(smtp_url), 0, 0, 0, F_HIDE_PASS,
	  check_smtp },
	{ "token_ttl", CT_LONG, "259200", OFF(token_ttl), 300, 2592000, 0,
	  0, NULL },
	{ "notice_include_text", CT_BOOL, "no", OFF(notice_include_text), 0,
	  0, 0, 0, NULL },
	{ "bounce_limit", CT_LONG, "3", OFF(bounce_limit), 1, 100, 0, 0,
	  NULL },
	{ "smtp_starttls", CT_BOOL, "no", OFF(smtp_starttls), 0, 0, 0, 0,
	  NULL },
	{ "smtp_user", CT_STRING, "", OFF(smtp_user), 0, 0, 0, 0, NULL },
	{ "smtp_password_file", CT_PATH, NULL, OFF(smtp_password_file), 0,
	  0, 0, 0, NULL },
	{ "smtp_ca_file", CT_PATH, NULL, OFF(smtp_ca_file), 0, 0, 0, 0,
	  NULL },
	{ "smtp_timeout", CT_LONG, "60", OFF(smtp_timeout), 1, 3600, 0, 0,
	  NULL },
	{ "smtp_connections", CT_LONG, "1", OFF(smtp_connections), 1, 64, 0,
	  0, NULL },
	{ "sms_url", CT_STRING, "https://api.notifications.service.gov.uk",
	  OFF(sms_url), 0, 0, 0, 0, check_portal },
	{ "sms_service_id", CT_STRING, "", OFF(sms_service_id), 0, 0, 0, 0,
	  NULL },
	{ "sms_key_file", CT_PATH, NULL, OFF(sms_key_file), 0, 0, 0, 0,
	  NULL },
	{ "sms_template_id", CT_STRING, "", OFF(sms_template_id), 0, 0, 0,
	  0, NULL },
	{ "sms_timeout", CT_LONG, "30", OFF(sms_timeout), 1, 600, 0, 0,
	  NULL },
	{ "template_dir", CT_PATH, CM_DATADIR "/templates", OFF(template_dir),
	  0, 0, 0, 0, NULL },
	{ "discreet_name", CT_STRING, "Secure messages", OFF(discreet_name),
	  0, 0, 0, 0, check_nonempty },
	{ "retry_base_delay", CT_LONG, "60", OFF(retry_base_delay), 1,
	  86400, 0, 0, NULL },
	{ "retry_max_attempts", CT_LONG, "10", OFF(retry_max_attempts), 1,
	  1000, 0, 0, NULL },
	{ "retry_max_age", CT_LONG, "432000", OFF(retry_max_age), 60,
	  2592000, 0, 0, NULL },
	{ "lease_seconds", CT_LONG, "300", OFF(lease_seconds), 2, 86400, 0,
	  0, NULL },
	{ "send_batch", CT_LONG, "50", OFF(send_batch), 1, 1000, 0, 0,
	  NULL },
	{ "poll_interval", CT_LONG, "10", OFF(poll_interval), 1, 3600, 0, 0,
	  NULL },

	/* the portal (casemail-web) */
	{ "portal_listen", CT_STRING, "127.0.0.1:8080", OFF(portal_listen),
	  0, 0, 0, 0, check_listen },
	{ "portal_cookie_secure", CT_STRING, "auto",
	  OFF(portal_cookie_secure), 0, 0, 0, 0, check_auto },
	{ "portal_session_idle", CT_LONG, "1800", OFF(portal_session_idle),
	  60, 86400, 0, 0, NULL },
	{ "portal_session_max", CT_LONG, "28800", OFF(portal_session_max),
	  300, 2592000, 0, 0, NULL },
	{ "portal_rate_ip", CT_LONG, "300", OFF(portal_rate_ip), 1,
	  100000000, 0, 0, NULL },
	{ "portal_rate_token", CT_LONG, "10", OFF(portal_rate_token), 1,
	  10000, 0, 0, NULL },
	{ "portal_rate_fresh", CT_LONG, "3", OFF(portal_rate_fresh), 1, 100,
	  0, 0, NULL },
	{ "portal_max_body", CT_SIZE, "64k", OFF(portal_max_body), KIB, MIB,
	  0, 0, NULL },
	{ "portal_max_message", CT_LONG, "10000", OFF(portal_max_message),
	  100, 1000000, 0, 0, NULL },
	{ "portal_connections", CT_LONG, "256", OFF(portal_connections), 4,
	  100000, 0, 0, NULL },
	{ "portal_show_officer", CT_BOOL, "yes", OFF(portal_show_officer), 0,
	  0, 0, 0, NULL },
	{ "portal_trust_proxy", CT_BOOL, "no", OFF(portal_trust_proxy), 0, 0,
	  0, 0, NULL },
	{ "portal_metrics", CT_BOOL, "no", OFF(portal_metrics), 0, 0, 0, 0,
	  NULL },

	/* incoming */
	{ "trusted_authserv_ids", CT_STRING, "", OFF(trusted_authserv_ids),
	  0, 0, 0, 0, NULL },
	{ "imap_password_file", CT_PATH, NULL, OFF(imap_password_file), 0,
	  0, 0, 0, NULL },
	{ "imap_ca_file", CT_PATH, NULL, OFF(imap_ca_file), 0, 0, 0, 0,
	  NULL },
	{ "imap_done_folder", CT_STRING, "Processed", OFF(imap_done_folder),
	  0, 0, 0, 0, check_nonempty },
	{ "imap_quarantine_folder", CT_STRING, "Quarantine",
	  OFF(imap_quarantine_folder), 0, 0, 0, 0, check_nonempty },
	{ "imap_starttls", CT_BOOL, "no", OFF(imap_starttls), 0, 0, 0, 0,
	  NULL },
	{ "imap_allow_plain", CT_BOOL, "no", OFF(imap_allow_plain), 0, 0, 0,
	  0, NULL },
	{ "mda_allow_root", CT_BOOL, "no", OFF(mda_allow_root), 0, 0, 0, 0,
	  NULL },
	{ "run_user", CT_STRING, "casemail", OFF(run_user), 0, 0, 0, 0,
	  check_nonempty },
	{ "child_timeout", CT_LONG, "60", OFF(child_timeout), 1, 3600, 0, 0,
	  NULL },
	{ "child_memory", CT_SIZE, "1G", OFF(child_memory), 64 * MIB,
	  64 * GIB, 0, 0, NULL },
	{ "max_message_size", CT_SIZE, "0", OFF(limits.max_message_size),
	  KIB, GIB, CM_MAX_MESSAGE_SIZE, F_ZERO_DEFAULT, NULL },
	{ "max_attachment_size", CT_SIZE, "0",
	  OFF(limits.max_attachment_size), KIB, GIB, CM_MAX_ATTACHMENT_SIZE,
	  F_ZERO_DEFAULT, NULL },
	{ "max_header_bytes", CT_SIZE, "0", OFF(limits.max_header_bytes),
	  KIB, 16 * MIB, CM_MAX_HEADER_BYTES, F_ZERO_DEFAULT, NULL },
	{ "max_mime_depth", CT_LONG, "0", OFF(limits.max_mime_depth), 1,
	  1000, CM_MAX_MIME_DEPTH, F_ZERO_DEFAULT, NULL },
	{ "max_mime_parts", CT_LONG, "0", OFF(limits.max_mime_parts), 1,
	  100000, CM_MAX_MIME_PARTS, F_ZERO_DEFAULT, NULL },

	/* milestones of the Victims' Code and their working-day deadlines */
	{ "force_timezone", CT_STRING, "Europe/London", OFF(force_timezone),
	  0, 0, 0, 0, check_nonempty },
	{ "bank_holidays_extra", CT_STRING, "", OFF(bank_holidays_extra), 0,
	  0, 0, 0, NULL },
	{ "milestone_kinds", CT_STRING, CM_MILESTONE_KINDS,
	  OFF(milestone_kinds), 0, 0, 0, 0, check_milestone_kinds },
	{ "milestone_days", CT_LONG, "5", OFF(milestone_days), 1, 60, 0, 0,
	  NULL },
	{ "milestone_days_enhanced", CT_LONG, "1",
	  OFF(milestone_days_enhanced), 1, 60, 0, 0, NULL },
	{ "milestone_warning_hours", CT_LONG, "24",
	  OFF(milestone_warning_hours), 0, 720, 0, 0, NULL },
	{ "milestone_supervisor", CT_STRING, "", OFF(milestone_supervisor),
	  0, 0, 0, 0, NULL },
};

#define N_ROWS CM_ARRAY_SIZE(rows)

/*
 * Retired keys: accepted with any value, so that a configuration
 * written for an older casemail still loads, and ignored, with the
 * reason cm_config_warnings gives.
 */
static const struct {
	const char *name;
	const char *why;
} obsolete[] = {
	{ "officer_require_auth",
	  "officer mail to case+/note+ without an officer key always needs "
	  "a DMARC or DKIM pass from a trusted_authserv_ids border" },
};

/* struct load - the state of one cm_config_load */
struct load {
	const char *path;      /* as given, for messages */
	char *dir;             /* absolute directory of the file */
	int line[N_ROWS];      /* where each key was set; 0: default */
	int retired_line[CM_ARRAY_SIZE(obsolete)]; /* where set; 0: not */
	struct cm_config *cfg;
};

static char errbuf[1024];

/*
 * set_error - format the module error message. Truncation is accepted:
 * it only shortens a message that already names file and line.
 */
static void CM_ATTR_PRINTF(1, 2)
set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

/*
 * show - printable excerpt of s for a message: at most SHOW_MAX bytes
 * (cut at a character boundary, "..." added), control bytes and DEL as
 * '?'. Writes into buf and returns it.
 */
static const char *
show(char buf[SHOW_MAX + 4], const char *s)
{
	size_t n = strlen(s), i;
	bool cut = n > SHOW_MAX;

	if (cut) {
		n = SHOW_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	buf[n] = '\0';
	if (cut)
		memcpy(buf + n, "...", 4);
	return buf;
}

/* has_control - true if s holds a control byte (tab included) or DEL */
static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* is_blank - space or tab, the only white space of the syntax */
static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* trim - strip blanks from both ends of s in place; returns the start */
static char *
trim(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * valid_domain - letters, digits, '-' and '.'; labels 1..63 bytes not
 * starting or ending with '-'; no leading, trailing or double dot;
 * 1..253 bytes.
 */
static bool
valid_domain(const char *d)
{
	size_t len = strlen(d), label = 0, i;

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && d[len - 1] != '-';
}

/* check_nonempty - a value that must say something */
static const char *
check_nonempty(char **value)
{
	return **value == '\0' ? "expected a non-empty value" : NULL;
}

/* check_domain - mail_domain: a domain name, lower-cased */
static const char *
check_domain(char **value)
{
	if (!valid_domain(*value))
		return "expected a domain name such as "
		       "cases.example.police.uk";
	cm_str_lower(*value);
	return NULL;
}

/*
 * check_from - from_address: local@domain, the local part printable
 * ASCII without blanks or the specials that need quoting
 */
static const char *
check_from(char **value)
{
	const char *why = "expected an address such as "
			  "casemail@cases.example.police.uk";
	char *at = strrchr(*value, '@');
	const char *p;

	if (at == NULL || at == *value || !valid_domain(at + 1))
		return why;
	for (p = *value; p < at; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"@", c))
			return why;
	}
	cm_str_lower(at + 1);
	return NULL;
}

/*
 * url_ok - s starts with one of the schemes (case-blind), has something
 * after "://" and holds no blank
 */
static bool
url_ok(const char *s, const char *scheme1, const char *scheme2)
{
	const char *rest;

	if (cm_str_has_prefix_ci(s, scheme1))
		rest = s + strlen(scheme1);
	else if (cm_str_has_prefix_ci(s, scheme2))
		rest = s + strlen(scheme2);
	else
		return false;
	return *rest != '\0' && *rest != '/' && strchr(s, ' ') == NULL;
}

/* check_portal - portal_url: http(s) URL, trailing '/' stripped */
static const char *
check_portal(char **value)
{
	size_t n = strlen(*value);

	while (n > 0 && (*value)[n - 1] == '/')
		(*value)[--n] = '\0';
	if (!url_ok(*value, "http://", "https://"))
		return "expected an http:// or https:// URL";
	return NULL;
}

/*
 * check_listen - portal_listen: IPv4 address or [IPv6] address, ':' and
 * a port 1..65535
 */
static const char *
check_listen(char **value)
{
	const char *v = *value, *colon = strrchr(v, ':');
	const char *want = "expected ADDRESS:PORT (127.0.0.1:8080, "
			   "[::1]:8080)";
	char host[64];
	size_t n;
	long port;
	unsigned char buf[16];

	if (colon == NULL || cm_parse_long(colon + 1, 1, 65535, &port) < 0)
		return want;
	n = (size_t)(colon - v);
	if (n >= sizeof(host) || n == 0)
		return want;
	memcpy(host, v, n);
	host[n] = '\0';
	if (host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, buf) != 1)
			return want;
	} else if (inet_pton(AF_INET, host, buf) != 1) {
		return want;
	}
	return NULL;
}

/* check_auto - "auto", "yes" or "no" (lower-cased) */
static const char *
check_auto(char **value)
{
	cm_str_lower(*value);
	if (strcmp(*value, "auto") == 0 || strcmp(*value, "yes") == 0 ||
	    strcmp(*value, "no") == 0)
		return NULL;
	return "expected auto, yes or no";
}

/* check_milestone_kinds - milestone_kinds: "kind[:days[:enhanced]]"
 * items separated by blanks or commas; kinds of a-z and '_' (1..32),
 * days 1..60 */
static const char *
check_milestone_kinds(char **value)
{
	static const char want[] = "expected kind[:days[:enhanced_days]] "
				   "items (a-z and _, days 1..60)";
	const char *p = *value;
	size_t n, k, items = 0;
	long d;

	for (;;) {
		p += strspn(p, " ,");
		if (*p == '\0')
			break;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
		if (n == 0 || n > 32)
			return want;
		p += n;
		for (k = 0; k < 2 && *p == ':'; k++) {
			p++;
			n = strspn(p, "0123456789");
			if (n == 0 || n > 2)
				return want;
			d = (p[0] - '0') * (n == 2 ? 10 : 1) +
			    (n == 2 ? p[1] - '0' : 0);
			if (d < 1 || d > 60)
				return want;
			p += n;
		}
		if (*p != '\0' && *p != ' ' && *p != ',')
			return want;
		items++;
	}
	return items > 0 ? NULL : want;
}

/* check_smtp - smtp_url: empty (write to outbox_dir) or smtp(s) URL */
static const char *
check_smtp(char **value)
{
	if (**value == '\0' || url_ok(*value, "smtp://", "smtps://"))
		return NULL;
	return "expected nothing, or an smtp:// or smtps:// URL";
}

/* check_ref_pattern - ref_pattern: compiles as a POSIX ERE */
static const char *
check_ref_pattern(char **value)
{
	static char why[256];
	regex_t re;
	char msg[160];
	int rc;

	if (**value == '\0')
		return "expected a POSIX extended regular expression";
	rc = regcomp(&re, *value, REG_EXTENDED | REG_NOSUB);
	if (rc == 0) {
		regfree(&re);
		return NULL;
	}
	(void)regerror(rc, &re, msg, sizeof(msg));
	/* truncation only shortens the explanation */
	(void)snprintf(why, sizeof(why),
		       "expected a POSIX extended regular expression: %s", msg);
	return why;
}

/* fmt_size - v with the largest exact k/M/G suffix into buf[32] */
static const char *
fmt_size(long v, char buf[32])
{
	if (v != 0 && v % GIB == 0)
		(void)snprintf(buf, 32, "%ldG", v / GIB);
	else if (v != 0 && v % MIB == 0)
		(void)snprintf(buf, 32, "%ldM", v / MIB);
	else if (v != 0 && v % KIB == 0)
		(void)snprintf(buf, 32, "%ldk", v / KIB);
	else
		(void)snprintf(buf, 32, "%ld", v);
	return buf;
}

/*
 * parse_number - decimal digits, then for a size an optional k/M/G
 * (either case, powers of 1024). 0, or -1 if malformed or too large.
 */
static int
parse_number(const char *s, bool size, long *value_r)
{
	size_t n = strspn(s, "0123456789");
	long mult = 1, v = 0;
	char digits[20];

	if (n == 0 || n >= sizeof(digits))
		return -1;
	if (s[n] != '\0') {
		if (!size || s[n + 1] != '\0')
			return -1;
		switch (s[n]) {
		case 'k':
		case 'K':
			mult = KIB;
			break;
		case 'm':
		case 'M':
			mult = MIB;
			break;
		case 'g':
		case 'G':
			mult = GIB;
			break;
		default:
			return -1;
		}
	}
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (cm_parse_long(digits, 0, LONG_MAX, &v) < 0 || v > LONG_MAX / mult)
		return -1;
	*value_r = v * mult;
	return 0;
}

/* parse_bool - yes/no, true/false, on/off, 1/0, case-blind; 0 or -1 */
static int
parse_bool(const char *s, bool *value_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < CM_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*value_r = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*value_r = false;
			return 0;
		}
	}
	return -1;
}

/* where - "FILE:LINE" or, for line 0, "FILE" into buf */
static const char *
where(const struct load *st, int lineno, char *buf, size_t size)
{
	if (lineno > 0)
		(void)snprintf(buf, size, "%s:%d", st->path, lineno);
	else
		(void)snprintf(buf, size, "%s", st->path);
	return buf;
}

/* bad_value - the "bad value for KEY: 'VALUE' (WHY)" error; returns -1 */
static int
bad_value(const struct load *st, int lineno, const struct row *r,
	  const char *value, const char *why)
{
	char at[PATH_MAX + 16], v[SHOW_MAX + 4];

	set_error("%s: bad value for %s: '%s' (%s)",
		  where(st, lineno, at, sizeof(at)), r->name, show(v, value),
		  why);
	return -1;
}

/* expected_number - "expected a number 0..600000" for row r into buf */
static const char *
expected_number(const struct row *r, char *buf, size_t size)
{
	char lo[32], hi[32];

	if (r->type == CT_SIZE)
		(void)snprintf(buf, size, "expected a size %s..%s",
			       fmt_size(r->min, lo), fmt_size(r->max, hi));
	else
		(void)snprintf(buf, size, "expected a number %ld..%ld",
			       r->min, r->max);
	if (r->flags & F_ZERO_DEFAULT) {
		size_t n = strlen(buf);

		(void)snprintf(buf + n, size - n, ", or 0 for the default");
	}
	return buf;
}

/*
 * set_value - parse value for row i (set at lineno; 0 for a default)
 * and store it in st->cfg. 0, or -1 with the error set.
 */
static int
set_value(struct load *st, size_t i, const char *value, int lineno)
{
	const struct row *r = &rows[i];
	char *field = (char *)st->cfg + r->offset;
	char *copy = NULL, why[128];
	const char *whyp;
	long num = 0;
	bool flag = false;
	int ret = -1;

	if (has_control(value)) {
		bad_value(st, lineno, r, value,
			  "control characters are not allowed");
		goto out;
	}
	if (!cm_utf8_valid(value, strlen(value))) {
		bad_value(st, lineno, r, value, "not valid UTF-8");
		goto out;
	}
	switch (r->type) {
	case CT_STRING:
		copy = cm_xstrdup(value);
		if (r->check != NULL && (whyp = r->check(&copy)) != NULL) {
			bad_value(st, lineno, r, value, whyp);
			goto out;
		}
		free(*(char **)(void *)field);
		*(char **)(void *)field = copy;
		copy = NULL;
		break;
	case CT_PATH:
		if (*value == '\0' && r->def == NULL) {
			/* an optional file: empty means none */
			free(*(char **)(void *)field);
			*(char **)(void *)field = NULL;
			break;
		}
		if (*value == '\0') {
			bad_value(st, lineno, r, value, "expected a path");
			goto out;
		}
		if (*value == '/')
			copy = cm_xstrdup(value);
		else if (st->dir[strlen(st->dir) - 1] == '/')
			copy = cm_xasprintf("%s%s", st->dir, value);
		else
			copy = cm_xasprintf("%s/%s", st->dir, value);
		free(*(char **)(void *)field);
		*(char **)(void *)field = copy;
		copy = NULL;
		break;
	case CT_LONG:
	case CT_SIZE:
		if (parse_number(value, r->type == CT_SIZE, &num) < 0) {
			bad_value(st, lineno, r, value,
				  expected_number(r, why, sizeof(why)));
			goto out;
		}
		if (num == 0 && (r->flags & F_ZERO_DEFAULT))
			num = r->dnum;
		if (num < r->min || num > r->max) {
			bad_value(st, lineno, r, value,
				  expected_number(r, why, sizeof(why)));
			goto out;
		}
		*(long *)(void *)field = num;
		break;
	case CT_BOOL:
		if (parse_bool(value, &flag) < 0) {
			bad_value(st, lineno, r, value, "expected yes or no");
			goto out;
		}
		*(bool *)(void *)field = flag;
		break;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* find_row - index of the key named name, or -1 */
static long
find_row(const char *name)
{
	size_t i;

	for (i = 0; i < N_ROWS; i++)
		if (strcmp(rows[i].name, name) == 0)
			return (long)i;
	return -1;
}

/*
 * retired - is key an obsolete one: 1 when it is (its name and line are
 * added to the warning text in st->cfg->obsolete), 0 when it is not,
 * -1 with the error set when it was set before
 */
static int
retired(struct load *st, const char *key, int lineno)
{
	char at[PATH_MAX + 16], *text;

	for (size_t i = 0; i < CM_ARRAY_SIZE(obsolete); i++) {
		if (strcmp(obsolete[i].name, key) != 0)
			continue;
		if (st->retired_line[i] != 0) {
			set_error("%s: duplicate key '%s'",
				  where(st, lineno, at, sizeof(at)), key);
			return -1;
		}
		st->retired_line[i] = lineno;
		text = cm_xasprintf("%s%s%s (line %d) is obsolete, ignored: "
				    "%s",
				    st->cfg->obsolete != NULL
					    ? st->cfg->obsolete
					    : "",
				    st->cfg->obsolete != NULL ? "; " : "",
				    key, lineno, obsolete[i].why);
		free(st->cfg->obsolete);
		st->cfg->obsolete = text;
		return 1;
	}
	return 0;
}

/*
 * parse_line - one line (NUL-terminated, no newline, modified in
 * place). 0, or -1 with the error set.
 */
static int
parse_line(struct load *st, char *line, int lineno)
{
	char at[PATH_MAX + 16], k[SHOW_MAX + 4];
	char *key, *value, *eq;
	size_t vlen;
	long i;
	int ret = -1, rc;

	key = trim(line);
	if (*key == '\0' || *key == '#') {
		ret = 0;
		goto out;
	}
	eq = strchr(key, '=');
	if (eq == NULL) {
		set_error("%s: missing '='", where(st, lineno, at, sizeof(at)));
		goto out;
	}
	*eq = '\0';
	key = trim(key);
	value = trim(eq + 1);
	if (*key == '\0') {
		set_error("%s: missing key before '='",
			  where(st, lineno, at, sizeof(at)));
		goto out;
	}
	i = find_row(key);
	if (i < 0 && (rc = retired(st, key, lineno)) != 0) {
		ret = rc > 0 ? 0 : -1;
		goto out;
	}
	if (i < 0) {
		set_error("%s: unknown key '%s'",
			  where(st, lineno, at, sizeof(at)), show(k, key));
		goto out;
	}
	if (st->line[i] != 0) {
		set_error("%s: duplicate key '%s'",
			  where(st, lineno, at, sizeof(at)), key);
		goto out;
	}
	st->line[i] = lineno;
	vlen = strlen(value);
	if (value[0] == '"') {
		if (vlen < 2 || value[vlen - 1] != '"') {
			bad_value(st, lineno, &rows[i], value,
				  "unbalanced double quote");
			goto out;
		}
		value[vlen - 1] = '\0';
		value++;
	}
	ret = set_value(st, (size_t)i, value, lineno);
out:
	return ret;
}

/*
 * config_dir - absolute directory holding path, for relative paths in
 * it; caller frees. NULL with the error set if the working directory
 * is unknown.
 */
static char *
config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *rel;
	char *dir = NULL, *cwd = NULL, *ret = NULL;

	if (slash == path) {
		ret = cm_xstrdup("/");
		goto out;
	}
	dir = slash != NULL ? cm_xstrndup(path, (size_t)(slash - path))
			    : cm_xstrdup(".");
	if (dir[0] == '/') {
		ret = dir;
		dir = NULL;
		goto out;
	}
	cwd = getcwd(NULL, 0);
	if (cwd == NULL) {
		set_error("%s: cannot find the current directory: %s", path,
			  strerror(errno));
		goto out;
	}
	rel = dir;
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (strcmp(rel, ".") == 0 || *rel == '\0')
		ret = cm_xstrdup(cwd);
	else if (strcmp(cwd, "/") == 0)
		ret = cm_xasprintf("/%s", rel);
	else
		ret = cm_xasprintf("%s/%s", cwd, rel);
out:
	free(cwd);
	free(dir);
	return ret;
}

/* read_config - the bytes of path, bounded; 0 or -1 with the error set */
static int
read_config(const char *path, char **data_r, size_t *len_r)
{
	struct stat sb;
	int fd, rc, ret = -1;

	*data_r = NULL;
	*len_r = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_error("%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) < 0) {
		set_error("%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		set_error("%s: not a regular file", path);
		goto out;
	}
	rc = cm_read_fd(fd, (size_t)MAX_FILE, data_r, len_r);
	if (rc == CM_ERR) {
		set_error("%s: file larger than %ld bytes", path, MAX_FILE);
		goto out;
	}
	if (rc < 0) {
		set_error("%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		free(*data_r);
		*data_r = NULL;
	}
	if (fd >= 0)
		(void)close(fd);
	return ret;
}

/* parse_file - every line of data; 0 or -1 with the error set */
static int
parse_file(struct load *st, const char *data, size_t len)
{
	char line[MAX_LINE + 1], at[PATH_MAX + 16];
	const char *p = data, *end = data + len, *nl;
	size_t n;
	int lineno = 0, ret = -1;

	/* a UTF-8 byte order mark from a Windows editor */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > MAX_LINE) {
			set_error("%s: line longer than %d bytes",
				  where(st, lineno, at, sizeof(at)), MAX_LINE);
			goto out;
		}
		if (memchr(p, '\0', n) != NULL) {
			set_error("%s: NUL byte in line",
				  where(st, lineno, at, sizeof(at)));
			goto out;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl != NULL ? nl + 1 : end;
		if (parse_line(st, line, lineno) < 0)
			goto out;
	}
	ret = 0;
out:
	return ret;
}

/* has_ids - true if list names at least one id (blank/comma list) */
static bool
has_ids(const char *list)
{
	return list[strspn(list, " \t,")] != '\0';
}

/*
 * check_config - values that depend on each other; 0 or -1 with the
 * error set
 */
static int
check_config(struct load *st)
{
	struct cm_config *cfg = st->cfg;
	int ret = -1;

	if (cfg->mail_domain == NULL) {
		set_error("%s: missing required key 'mail_domain'", st->path);
		goto out;
	}
	if (cfg->from_address == NULL)
		cfg->from_address = cm_xasprintf("casemail@%s",
						 cfg->mail_domain);
	cfg->portal_secure =
		strcmp(cfg->portal_cookie_secure, "yes") == 0 ||
		(strcmp(cfg->portal_cookie_secure, "auto") == 0 &&
		 cm_str_has_prefix_ci(cfg->portal_url, "https://"));
	ret = 0;
out:
	return ret;
}

/* cm_config_load - read, parse and check path */
struct cm_config *
cm_config_load(const char *path, const char **error_r)
{
	struct load st;
	struct cm_config *ret = NULL;
	char *data = NULL;
	size_t len = 0, i;

	errbuf[0] = '\0';
	memset(&st, 0, sizeof(st));
	st.path = path;
	st.cfg = cm_xcalloc(1, sizeof(*st.cfg));
	st.cfg->path = cm_xstrdup(path);
	st.dir = config_dir(path);
	if (st.dir == NULL)
		goto out;
	for (i = 0; i < N_ROWS; i++) {
		if (rows[i].def == NULL)
			continue;
		if (set_value(&st, i, rows[i].def, 0) < 0)
			cm_panic("config: default of %s: %s", rows[i].name,
				 errbuf);
	}
	if (read_config(path, &data, &len) < 0)
		goto out;
	if (parse_file(&st, data, len) < 0)
		goto out;
	if (check_config(&st) < 0)
		goto out;
	ret = st.cfg;
	st.cfg = NULL;
out:
	if (ret == NULL && error_r != NULL)
		*error_r = errbuf;
	cm_config_free(&st.cfg);
	free(data);
	free(st.dir);
	return ret;
}

/* cm_config_free - free every string of the table and the struct */
void
cm_config_free(struct cm_config **cfg)
{
	size_t i;

	if (cfg == NULL || *cfg == NULL)
		return;
	for (i = 0; i < N_ROWS; i++) {
		if (rows[i].type == CT_STRING || rows[i].type == CT_PATH)
			free(*(char **)(void *)((char *)*cfg +
						 rows[i].offset));
	}
	free((*cfg)->obsolete);
	free((*cfg)->path);
	free(*cfg);
	*cfg = NULL;
}

/* loopback_listen - portal_listen names a loopback address, where a
 * TLS proxy on the same host connects from */
static bool
loopback_listen(const char *s)
{
	return s != NULL && (strncmp(s, "127.", 4) == 0 ||
			     strncmp(s, "[::1]:", 6) == 0);
}

/* cm_config_warnings - the settings that load but are doubtful */
void
cm_config_warnings(const struct cm_config *cfg,
		   void (*fn)(enum cm_config_warning kind, const char *text,
			      void *ctx),
		   void *ctx)
{
	char *t;

	if (!cm_str_has_prefix_ci(cfg->portal_url, "https://")) {
		t = cm_xasprintf("portal_url %s is not https: login links "
				 "travel unencrypted and notices go out "
				 "without one-click unsubscribe (fine for a "
				 "trial on loopback, not in production)",
				 cfg->portal_url);
		fn(CM_CW_PORTAL_HTTP, t, ctx);
		free(t);
	}
	if (!has_ids(cfg->trusted_authserv_ids))
		fn(CM_CW_NO_AUTHSERV,
		   "no trusted_authserv_ids: every officer mail to case+/note+ "
		   "without an officer key will be held",
		   ctx);
	if (cfg->obsolete != NULL)
		fn(CM_CW_OBSOLETE, cfg->obsolete, ctx);
	if (!cfg->portal_trust_proxy && loopback_listen(cfg->portal_listen)) {
		t = cm_xasprintf("portal_listen %s is a loopback address but "
				 "portal_trust_proxy = no: behind a proxy on "
				 "this host every client has the proxy's "
				 "address, one portal_rate_ip counter and one "
				 "per-address connection limit for all; set "
				 "portal_trust_proxy = yes when a local proxy "
				 "forwards to the portal",
				 cfg->portal_listen);
		fn(CM_CW_PROXY, t, ctx);
		free(t);
	}
}

/*
 * hide_pass - copy of url with the password of its userinfo replaced
 * by "***" (user:pass@host -> user:***@host); caller frees
 */
static char *
hide_pass(const char *url)
{
	const char *auth = strstr(url, "://"), *at, *colon, *slash;

	if (auth == NULL)
		return cm_xstrdup(url);
	auth += 3;
	slash = strchr(auth, '/');
	at = strrchr(auth, '@');
	if (at == NULL || (slash != NULL && at > slash))
		return cm_xstrdup(url);
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL)
		return cm_xstrdup(url);
	return cm_xasprintf("%.*s***%s", (int)(colon + 1 - url), url, at);
}

/* cm_config_dump - every key and its value in force, in table order */
void
cm_config_dump(const struct cm_config *cfg,
	       void (*fn)(const char *key, const char *value, void *ctx),
	       void *ctx)
{
	size_t i;

	for (i = 0; i < N_ROWS; i++) {
		const struct row *r = &rows[i];
		const char *field = (const char *)cfg + r->offset;
		const char *s;
		char buf[32], *hidden = NULL;

		switch (r->type) {
		case CT_STRING:
		case CT_PATH:
			s = *(char *const *)(const void *)field;
			if (s == NULL)
				s = "";
			if (r->flags & F_HIDE_PASS)
				s = hidden = hide_pass(s);
			break;
		case CT_LONG:
			(void)snprintf(buf, sizeof(buf), "%ld",
				       *(const long *)(const void *)field);
			s = buf;
			break;
		case CT_SIZE:
			s = fmt_size(*(const long *)(const void *)field, buf);
			break;
		case CT_BOOL:
		default:
			s = *(const bool *)(const void *)field ? "yes" : "no";
			break;
		}
		fn(r->name, s, ctx);
		free(hidden);
	}
}
