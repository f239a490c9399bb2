/*
 * log.c - logging to syslog (facility mail) and stderr
 *
 * SYNOPSIS
 *	See cm_log.h.
 *
 * DESCRIPTION
 *	One module owns openlog/syslog (R10). Lines are key=value events;
 *	on stderr they are prefixed with the program name and severity.
 *	cm_fatal exits with a status the program chooses (the mda makes it
 *	75 so that Postfix retries); cm_panic aborts.
 *	When nothing listens on /dev/log, syslog(3) would try (socket,
 *	connect, close) again on every line; instead the socket is probed
 *	here at most once a minute and lines go to stderr only (when that
 *	is on) until a syslog daemon answers.
 *
 * SECURITY
 *	cm_log_sanitize makes outside text printable and bounded (R11).
 */
#include <errno.h>
#include <paths.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cm_log.h"

#define SYSLOG_PROBE_SECONDS 60

static const char *log_ident = "casemail";
static int log_flags = CM_LOG_STDERR;
static int fatal_status = 1;
static atomic_bool syslog_up;          /* the last probe connected */
static atomic_llong syslog_next_probe; /* when to probe again if down */

/* syslog_listens - does a syslog daemon accept on _PATH_LOG */
static bool
syslog_listens(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sun;
	bool ok = false;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	cm_strlcpy(sun.sun_path, _PATH_LOG, sizeof(sun.sun_path));
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && !ok;
	     i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		(void)close(fd);
	}
	return ok;
}

/* syslog_usable - is syslog worth calling (probing when it is due) */
static bool
syslog_usable(void)
{
	long long now;

	if (atomic_load(&syslog_up))
		return true;
	now = (long long)time(NULL);
	if (now < atomic_load(&syslog_next_probe))
		return false;
	atomic_store(&syslog_next_probe, now + SYSLOG_PROBE_SECONDS);
	if (!syslog_listens())
		return false;
	atomic_store(&syslog_up, true);
	return true;
}

/* cm_log_open - choose the ident and the destinations */
void
cm_log_open(const char *ident, int flags)
{
	log_ident = ident;
	log_flags = flags;
	if (flags & CM_LOG_SYSLOG) {
		atomic_store(&syslog_next_probe, 0);
		atomic_store(&syslog_up, false);
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
}

/* cm_log_flags - the flags in force */
int
cm_log_flags(void)
{
	return log_flags;
}

/* cm_log_set_fatal_status - exit status of cm_fatal */
void
cm_log_set_fatal_status(int status)
{
	fatal_status = status;
}

/* vlog - write one line at priority pri, optionally with strerror(err) */
static void
vlog(int pri, const char *label, int err, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		cm_strlcpy(line, "(unformattable log line)", sizeof(line));
	if (err != 0) {
		size_t len = strlen(line);

		snprintf(line + len, sizeof(line) - len, ": %s",
			 strerror(err));
	}
	if ((log_flags & CM_LOG_SYSLOG) && syslog_usable())
		syslog(pri, "%s", line);
	if ((log_flags & CM_LOG_STDERR) ||
	    ((log_flags & CM_LOG_ERRORS) && pri <= LOG_ERR))
		fprintf(stderr, "%s: %s%s\n", log_ident, label, line);
}

/* cm_log_debug - debug line, only when verbose */
void
cm_log_debug(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (!(log_flags & CM_LOG_VERBOSE))
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, "debug: ", 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* cm_log_info - informational event */
void
cm_log_info(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_INFO, "", 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* cm_log_warn - warning with strerror(errno), errno kept */
void
cm_log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* cm_log_warnx - warning */
void
cm_log_warnx(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* cm_log_err - error */
void
cm_log_err(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_ERR, "error: ", 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* cm_fatal - log and exit with the fatal status */
void
cm_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", 0, fmt, ap);
	va_end(ap);
	exit(fatal_status);
}

/* cm_panic - log a bug and abort */
void
cm_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, "panic: ", 0, fmt, ap);
	va_end(ap);
	abort();
}

/* cm_log_sanitize - printable, bounded copy for a log line */
const char *
cm_log_sanitize(char *buf, size_t size, const char *s, size_t max)
{
	size_t o = 0, i;

	if (size < 8)
		cm_panic("cm_log_sanitize: buffer of %zu bytes", size);
	if (s == NULL) {
		cm_strlcpy(buf, "-", size);
		return buf;
	}
	if (max == 0 || max > size - 4)
		max = size - 4;
	for (i = 0; s[i] != '\0' && o < max; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[o++] = (c < 0x20 || c == 0x7f || c == '"') ? '?'
							       : (char)c;
	}
	if (s[i] != '\0') {
		/* do not cut inside a UTF-8 sequence */
		while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
			o--;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
