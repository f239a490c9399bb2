/*
 * cm_log.h - logging to syslog (facility mail) and stderr
 *
 * SYNOPSIS
 *	cm_log_open("casemail-mda", CM_LOG_SYSLOG | CM_LOG_STDERR);
 *	cm_log_info("qid=%s case=%s status=stored", qid, ref);
 *
 * DESCRIPTION
 *	One line per event, key=value. Programs log; library modules
 *	return errors through error_r and never log them (R6).
 *	cm_log_debug prints only with CM_LOG_VERBOSE. Everything from
 *	outside (headers, addresses, server replies) goes through
 *	cm_log_sanitize() first.
 *
 * DIAGNOSTICS
 *	cm_fatal logs and exits with the fatal status (default 1; the mda
 *	sets 75). cm_panic logs and aborts: it is for bugs only.
 *
 * SECURITY
 *	Never log message bodies, tokens, passwords or keys.
 */
#ifndef CM_LOG_H
#define CM_LOG_H

#include <stddef.h>

#include "cm_util.h"

#define CM_LOG_SYSLOG 0x01  /* openlog(ident, LOG_PID|LOG_NDELAY, LOG_MAIL) */
#define CM_LOG_STDERR 0x02  /* also write "ident: level: line" to stderr */
#define CM_LOG_VERBOSE 0x04 /* emit debug lines */
#define CM_LOG_ERRORS 0x08  /* errors to stderr even without CM_LOG_STDERR:
			       for a program whose errors a postmaster
			       must see while its routine lines stay in
			       syslog */

/* cm_log_open - start logging as ident (borrowed: keep it alive) */
void cm_log_open(const char *ident, int flags);
/* cm_log_flags - current flags */
int cm_log_flags(void);
/* cm_log_set_fatal_status - exit status used by cm_fatal */
void cm_log_set_fatal_status(int status);

void cm_log_debug(const char *fmt, ...) CM_ATTR_PRINTF(1, 2);
void cm_log_info(const char *fmt, ...) CM_ATTR_PRINTF(1, 2);
/* cm_log_warn - warning with ": strerror(errno)" appended; keeps errno */
void cm_log_warn(const char *fmt, ...) CM_ATTR_PRINTF(1, 2);
/* cm_log_warnx - warning without errno */
void cm_log_warnx(const char *fmt, ...) CM_ATTR_PRINTF(1, 2);
/* cm_log_err - error without errno */
void cm_log_err(const char *fmt, ...) CM_ATTR_PRINTF(1, 2);
/* cm_fatal - broken environment: log and exit(fatal status) */
_Noreturn void cm_fatal(const char *fmt, ...) CM_ATTR_PRINTF(1, 2);
/* cm_panic - a bug: log and abort() */
_Noreturn void cm_panic(const char *fmt, ...) CM_ATTR_PRINTF(1, 2);

/*
 * cm_log_sanitize - printable copy of s for a log line: control bytes
 * and '"' become '?', cut at max bytes with "..." appended. NULL gives
 * "-". Writes into buf (size bytes, at least 8) and returns buf.
 */
const char *cm_log_sanitize(char *buf, size_t size, const char *s,
			    size_t max);

#endif
